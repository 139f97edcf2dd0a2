//! `sysprims pstat`: list processes.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sysprims::{Pid, ProcessOptions, SnapshotOptions, SortKey};

use crate::filter::FilterArgs;
use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims pstat                               every process
  sysprims pstat --pid 1,2 --json              two processes, as JSON
  sysprims pstat --name python --user alice    alice's python processes
  sysprims pstat --sort memory --top 10        the 10 largest by resident memory
  sysprims pstat --sample 2s --cpu-above 50    busy over the next 2 seconds
  sysprims pstat --running-for 1h --state zombie

Exit codes: 0 success (an empty result included), 1 when a PID given with --pid does
not exist (the others are still listed), 2 usage error.";

/// List processes, with filters, sorting and CPU sampling.
///
/// CPU is the lifetime average (as ps) unless --sample is given, which measures it over an
/// interval (as top); it can exceed 100 on several cores.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct PstatArgs {
    /// Only these PIDs (repeat the option or separate with commas).
    #[arg(long, value_name = "PID", value_parser = args::pid_list, allow_negative_numbers = true, action = clap::ArgAction::Append)]
    pid: Vec<Vec<Pid>>,

    #[command(flatten)]
    filter: FilterArgs,

    /// Sort by pid, name, cpu, memory or start_time (cpu and memory busiest first; start_time
    /// oldest first).
    #[arg(long, value_name = "KEY", default_value = "pid", value_parser = parse_sort)]
    sort: SortKey,

    /// Reverse the sort order.
    #[arg(long)]
    reverse: bool,

    /// Show only the first N after sorting.
    #[arg(long, value_name = "N", value_parser = args::positive, allow_negative_numbers = true)]
    top: Option<usize>,

    /// Include each process's environment (JSON only; often holds secrets).
    #[arg(long)]
    env: bool,

    /// Print a JSON document (schema: schemas/process-snapshot.v1.schema.json).
    #[arg(long)]
    json: bool,
}

fn parse_sort(text: &str) -> Result<SortKey, String> {
    text.parse::<SortKey>().map_err(args::reason)
}

pub fn run(a: PstatArgs, out: &mut impl Write) -> Result<(), Failure> {
    let mut pids: Vec<Pid> = a.pid.into_iter().flatten().collect();
    pids.sort_unstable();
    pids.dedup();
    let sample = a.filter.sample;
    let options = SnapshotOptions {
        cpu_sample_ms: a.filter.sample_ms(),
        filter: a.filter.into_filter(&pids),
        sort: a.sort,
        reverse: a.reverse,
        limit: a.top,
        process: ProcessOptions { include_env: a.env },
    };

    let progress = sample.filter(|_| crate::stderr_is_terminal()).map(|d| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("sampling CPU for {:.1}s", d.as_secs_f64()));
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let snapshot = sysprims::snapshot(&options);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let snapshot = snapshot?;

    if a.json {
        output::json(out, &snapshot)?;
    } else {
        output::process_table(out, snapshot.processes.iter().map(|p| (String::new(), p)))?;
    }

    // Like `ps -p`: asking for a PID that does not exist is a failure, reported after the
    // output of those that do. (One that exists but was filtered out is not missing.)
    let missing: Vec<Pid> = pids
        .into_iter()
        .filter(|pid| !snapshot.processes.iter().any(|p| p.pid == pid.get()))
        .filter(|&pid| {
            matches!(sysprims::get_process(pid), Err(ref e) if e.code() == sysprims::ErrorCode::NotFound)
        })
        .collect();
    for pid in &missing {
        crate::warn(format_args!("pstat: process {pid} not found"));
    }
    if !missing.is_empty() {
        return Err(Failure::Partial);
    }
    Ok(())
}
