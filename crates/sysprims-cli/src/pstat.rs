//! `sysprims pstat`: list processes.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sysprims::{Pid, ProcessFilter, ProcessOptions, ProcessState, SnapshotOptions, SortKey};

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

    /// Name contains TEXT (the name is the kernel's, at most 15 bytes; longer program
    /// names are matched through the command line and the executable too).
    #[arg(long, value_name = "TEXT")]
    name: Option<String>,

    /// With --name: the name must be exactly TEXT.
    #[arg(long, requires = "name")]
    exact: bool,

    /// Effective user, by name or UID.
    #[arg(long)]
    user: Option<String>,

    /// Parent PID.
    #[arg(long, value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    ppid: Option<Pid>,

    /// Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead,
    /// idle, parked (or the ps letter).
    #[arg(long, value_parser = parse_state)]
    state: Option<ProcessState>,

    /// CPU use above PERCENT (of one CPU).
    #[arg(long, value_name = "PERCENT", value_parser = args::percent, allow_negative_numbers = true)]
    cpu_above: Option<f64>,

    /// Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G).
    #[arg(long, value_name = "SIZE", value_parser = args::size_kb, allow_negative_numbers = true)]
    memory_above: Option<u64>,

    /// Running for at least DURATION (e.g. 90s, 10m, 2h, 1d).
    #[arg(long, value_name = "DURATION", value_parser = args::duration, allow_negative_numbers = true)]
    running_for: Option<Duration>,

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

    /// Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages.
    #[arg(long, value_name = "DURATION", value_parser = parse_sample, allow_negative_numbers = true)]
    sample: Option<Duration>,

    /// Include each process's environment (JSON only; often holds secrets).
    #[arg(long)]
    env: bool,

    /// Print a JSON document (schema: schemas/process-snapshot.v1.schema.json).
    #[arg(long)]
    json: bool,
}

fn parse_state(text: &str) -> Result<ProcessState, String> {
    text.parse::<ProcessState>().map_err(reason)
}

fn parse_sort(text: &str) -> Result<SortKey, String> {
    text.parse::<SortKey>().map_err(reason)
}

fn parse_sample(text: &str) -> Result<Duration, String> {
    let d = args::duration(text)?;
    if d < Duration::from_millis(1) {
        return Err("the sampling interval must be at least 1ms".into());
    }
    if d > Duration::from_secs(3600) {
        return Err("the sampling interval can be at most 1h".into());
    }
    Ok(d)
}

fn reason(e: sysprims::SysprimsError) -> String {
    match e {
        sysprims::SysprimsError::InvalidArgument { reason, .. } => reason,
        other => other.to_string(),
    }
}

pub fn run(a: PstatArgs, out: &mut impl Write) -> Result<(), Failure> {
    let mut pids: Vec<Pid> = a.pid.into_iter().flatten().collect();
    pids.sort_unstable();
    pids.dedup();
    let (name_contains, name_equals) = match (a.name, a.exact) {
        (Some(name), true) => (None, Some(name)),
        (name, _) => (name, None),
    };
    let options = SnapshotOptions {
        filter: ProcessFilter {
            name_contains,
            name_equals,
            user: a.user,
            ppid: a.ppid,
            pids: (!pids.is_empty()).then(|| pids.clone()),
            state: a.state,
            cpu_above: a.cpu_above,
            memory_above_kb: a.memory_above,
            running_for_ms: a
                .running_for
                .map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64),
        },
        sort: a.sort,
        reverse: a.reverse,
        limit: a.top,
        cpu_sample_ms: a.sample.map(|d| d.as_millis().max(1) as u64),
        process: ProcessOptions { include_env: a.env },
    };

    let progress = a.sample.filter(|_| crate::stderr_is_terminal()).map(|d| {
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
