//! `sysprims kill`: send a signal to processes, by PID or by filter, never to the wrong one.

use std::io::Write;

use clap::Args;
use sysprims::{
    ErrorCode, KillReport, Pid, ProcessIdentity, ProcessOptions, Signal, SignalOptions,
    SnapshotOptions, TargetOutcome, TargetResult,
};

use crate::filter::FilterArgs;
use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims kill 1234                        send SIGTERM to PID 1234
  sysprims kill -s KILL 1234 1235           send SIGKILL to two processes
  sysprims kill -9 1234                     the same, the short way
  sysprims kill --require-start-time-ms 1764158400120 1234
                                            only if PID 1234 is still the process that
                                            started then (see `sysprims pstat --json`)
  sysprims kill --name worker --user ci     preview: which processes would get SIGTERM
  sysprims kill --name worker --user ci --yes
                                            send it
  sysprims kill -l                          list signal names
  sysprims kill -l 15                       TERM
  sysprims kill -l RTMIN+1                  35

Exit codes:
  0  every target was signalled (or, in a preview, would be)
  1  a target was not signalled: it was gone, refused as protected, no longer the
     process identified, or the system refused (permission); or no process matched
  2  usage error: a bad PID (or a thread ID, which is not a PID), signal or option;
     nothing was sent";

/// Send a signal to processes.
///
/// Targets are the PIDs given, or the processes that match the filter options (--name,
/// --user, ...). Kernel threads are never selected by a filter. A filter selection is only
/// previewed unless --yes is given; --dry-run previews any selection. A thread ID is not a
/// PID: it is refused (exit 2) with the process it belongs to named, and nothing is sent. Signals go to processes chosen by a filter only if they are still
/// the process the filter saw (same start time and executable), so a PID reused in between is
/// never hit.
///
/// PID 1, sysprims itself and its own process group are refused unless --force is given.
/// Signals are named as `kill -l` lists them, with or without SIG, in any case, or numbered;
/// real-time signals are RTMIN, RTMIN+n, RTMAX-n, RTMAX (34 to 64, on Linux). Numbers, given
/// and shown, are this platform's (USR1 is 10 on Linux, 30 on macOS); names are portable.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct KillArgs {
    /// The processes to signal (with filter options: only those of them that match).
    #[arg(value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pids: Vec<Pid>,

    /// The signal to send, by name or number (this platform's number, as `kill -l` lists).
    #[arg(short, long, value_name = "SIGNAL", default_value = "TERM", value_parser = args::signal)]
    signal: Signal,

    /// List signal names; with SIGNAL, convert a name to its number or a number (or an exit
    /// status above 128) to its name.
    #[arg(short = 'l', long = "list", value_name = "SIGNAL", num_args = 0..=1, conflicts_with_all = ["pids", "table"])]
    list: Option<Option<String>>,

    /// List signal numbers and names as a table.
    #[arg(short = 'L', long = "table", conflicts_with = "pids")]
    table: bool,

    /// Signal only if the process started at this time (Unix milliseconds, as `pstat
    /// --json` reports start_time_unix_ms).
    #[arg(long, value_name = "MS")]
    require_start_time_ms: Option<u64>,

    /// Signal only if the process runs this executable.
    #[arg(long, value_name = "PATH")]
    require_exe_path: Option<String>,

    #[command(flatten)]
    filter: FilterArgs,

    /// Send to the processes a filter selected (without it, they are only listed).
    #[arg(long, conflicts_with = "dry_run")]
    yes: bool,

    /// Only show what would be signalled.
    #[arg(long)]
    dry_run: bool,

    /// Allow signalling PID 1, sysprims itself and its own process group.
    #[arg(long)]
    force: bool,

    /// Print a JSON document (schema: schemas/kill-report.v1.schema.json).
    #[arg(long)]
    json: bool,
}

/// `kill -9 PID`, `kill -TERM PID`: rewrite a leading `-SIGNAL` to `-s SIGNAL` so clap can
/// parse it, as procps `kill` accepts it. Only the first argument after `kill`, and only when
/// it is a signal and not one of our own short options.
pub fn rewrite_signal_shorthand(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let is_kill = argv.get(1).is_some_and(|a| a == "kill");
    let shorthand = argv
        .get(2)
        .and_then(|a| a.to_str())
        .and_then(|a| a.strip_prefix('-'))
        .filter(|rest| !rest.is_empty() && !rest.starts_with('-'))
        .filter(|rest| !matches!(*rest, "s" | "l" | "L" | "h"))
        .filter(|rest| Signal::parse_native(rest).is_ok())
        .map(str::to_string);
    match shorthand {
        Some(signal) if is_kill => {
            let mut out = argv;
            out.splice(2..3, ["-s".into(), signal.into()]);
            out
        }
        _ => argv,
    }
}

pub fn run(a: KillArgs, out: &mut impl Write) -> Result<(), Failure> {
    if let Some(list) = &a.list {
        return list_signals(list.as_deref(), out);
    }
    if a.table {
        return signal_table(out);
    }
    let options = if a.force {
        SignalOptions::allowing_protected()
    } else {
        SignalOptions::default()
    };
    let selecting = a.filter.selects();
    if !selecting && a.pids.is_empty() {
        return Err(Failure::Usage(
            "no target: give PIDs, or filter options such as --name".into(),
        ));
    }

    // A thread ID is a bad PID, whichever way the PIDs are used: a usage error, nothing sent.
    for &pid in &a.pids {
        sysprims::pid::require_process(pid)?;
    }
    let mut report = KillReport::new(a.signal);
    if selecting {
        select_and_signal(&a, options, &mut report)?;
    } else if a.dry_run {
        report.preview = true;
        for &pid in &a.pids {
            report
                .targets
                .push(match sysprims::can_signal(pid, a.signal, options) {
                    Ok(()) => TargetResult::would_signal(pid.get()),
                    Err(e) => TargetResult::from_error(pid.get(), &e),
                });
        }
    } else if a.require_start_time_ms.is_some() || a.require_exe_path.is_some() {
        let mut seen = std::collections::HashSet::new();
        for &pid in a.pids.iter().filter(|p| seen.insert(**p)) {
            let identity = ProcessIdentity::from_parts(
                pid.get(),
                a.require_start_time_ms,
                a.require_exe_path.clone(),
            );
            let result = sysprims::signal_if_with(&identity, a.signal, options);
            report
                .targets
                .push(TargetResult::from_guarded(pid.get(), result));
        }
    } else {
        report = sysprims::kill_many_with(a.pids.iter().copied(), a.signal, options)?;
    }
    finish(&a, &report, out)
}

/// Pick targets with the filter, then preview them or signal each one still the process the
/// listing saw.
fn select_and_signal(
    a: &KillArgs,
    options: SignalOptions,
    report: &mut KillReport,
) -> Result<(), Failure> {
    let snapshot = sysprims::snapshot(&SnapshotOptions {
        cpu_sample_ms: a.filter.sample_ms(),
        filter: a.filter.clone().into_filter(&a.pids),
        process: ProcessOptions::default(),
        ..SnapshotOptions::default()
    })?;
    let me = std::process::id();
    // Kernel threads are never targets: `--name worker` must not select the kworkers.
    let targets: Vec<_> = snapshot
        .processes
        .iter()
        .filter(|p| p.pid != me && !p.kernel_thread)
        .collect();
    report.preview = !a.yes;
    for p in targets {
        let mut entry = if a.yes {
            let identity = ProcessIdentity::from_parts(
                p.pid,
                a.require_start_time_ms.or(p.start_time_unix_ms),
                a.require_exe_path.clone().or_else(|| p.exe_path.clone()),
            );
            TargetResult::from_guarded(
                p.pid,
                sysprims::signal_if_with(&identity, a.signal, options),
            )
        } else {
            match sysprims::can_signal(p.pid, a.signal, options) {
                Ok(()) => TargetResult::would_signal(p.pid),
                Err(e) => TargetResult::from_error(p.pid, &e),
            }
        };
        entry.name = Some(p.name.clone());
        report.targets.push(entry);
    }
    Ok(())
}

fn finish(a: &KillArgs, report: &KillReport, out: &mut impl Write) -> Result<(), Failure> {
    finish_report("kill", "no process matches", a.json, report, out)
}

/// Print a kill report (JSON, or a preview table; nothing after sending), and turn what went
/// wrong into diagnostics on stderr, each prefixed with `command`, and exit status 1. An
/// empty report is a failure too, said as `no_match`.
pub fn finish_report(
    command: &str,
    no_match: &str,
    json: bool,
    report: &KillReport,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if json {
        output::json(out, report)?;
    } else if report.preview && !report.targets.is_empty() {
        preview_table(report, out)?;
    }
    if report.targets.is_empty() {
        crate::warn(format_args!("{command}: {no_match}"));
        return Err(Failure::Partial);
    }
    let mut failed = false;
    for t in &report.targets {
        let problem = match (&t.outcome, &t.error, &t.reuse_reason) {
            (TargetOutcome::Signalled | TargetOutcome::WouldSignal, _, _) => None,
            (TargetOutcome::Reused, _, Some(reason)) => Some(format!(
                "not signalled: PID {} is now another process ({reason})",
                t.pid
            )),
            (_, Some(error), _) => Some(error.message.clone()),
            (outcome, _, _) => Some(format!("process {}: {outcome:?}", t.pid)),
        };
        if let Some(problem) = problem {
            failed = true;
            crate::warn(format_args!("{command}: {problem}"));
        }
        for w in &t.warnings {
            crate::warn(format_args!("{command}: process {}: {w}", t.pid));
        }
    }
    if failed {
        Err(Failure::Partial)
    } else {
        Ok(())
    }
}

fn preview_table(report: &KillReport, out: &mut impl Write) -> std::io::Result<()> {
    let mut would = 0;
    writeln!(out, "{:>8}  {:<15}  WOULD", "PID", "NAME")?;
    for t in &report.targets {
        let verdict = match (&t.outcome, &t.error) {
            (TargetOutcome::WouldSignal, _) => {
                would += 1;
                format!("get {}", report.signal_name)
            }
            (_, Some(e)) if e.code == ErrorCode::InvalidArgument => "be refused: protected".into(),
            (_, Some(e)) => format!("fail: {}", e.message),
            (outcome, None) => format!("{outcome:?}"),
        };
        let name = t.name.as_deref().map(output::printable).unwrap_or_default();
        writeln!(out, "{:>8}  {:<15}  {verdict}", t.pid, name)?;
    }
    writeln!(
        out,
        "{would} of {} would get {}; nothing was sent{}.",
        report.targets.len(),
        report.signal_name,
        if report.targets.iter().any(|t| t.name.is_some()) {
            " (add --yes to send it)"
        } else {
            ""
        }
    )
}

/// `kill -l` and `kill -l SIGNAL`.
fn list_signals(which: Option<&str>, out: &mut impl Write) -> Result<(), Failure> {
    let Some(text) = which else {
        let mut line = String::new();
        for s in native_order() {
            let name = s.name();
            if !line.is_empty() && line.len() + 1 + name.len() > 80 {
                writeln!(out, "{line}")?;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&name);
        }
        writeln!(out, "{line}")?;
        return Ok(());
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // A number: print its name. Above 128 it is read as an exit status, 128 + signal,
        // as shells report a process killed by a signal.
        let number: i64 = text.parse().unwrap_or(i64::MAX);
        let number = if (129..=192).contains(&number) {
            number - 128
        } else {
            number
        };
        let signal = match i32::try_from(number) {
            Ok(n) if n != 0 => Signal::from_native(n).ok(),
            _ => None,
        }
        .ok_or_else(|| bad_number(text))?;
        writeln!(out, "{}", signal.name())?;
    } else {
        let signal = Signal::parse(text)?;
        let number = signal.native_number().ok_or_else(|| {
            sysprims::SysprimsError::invalid(
                "signal",
                text,
                format!(
                    "SIG{} does not exist on {}",
                    signal.name(),
                    std::env::consts::OS
                ),
            )
        })?;
        writeln!(out, "{number}")?;
    }
    Ok(())
}

/// The signals this platform has, in the order of its own numbers (Linux's are sysprims's;
/// macOS has no STKFLT, PWR or real-time signals and numbers a third of the rest otherwise).
fn native_order() -> Vec<Signal> {
    let mut signals: Vec<(i32, Signal)> = Signal::all()
        .filter_map(|s| s.native_number().map(|n| (n, s)))
        .collect();
    signals.sort_unstable();
    signals.into_iter().map(|(_, s)| s).collect()
}

fn bad_number(text: &str) -> sysprims::SysprimsError {
    sysprims::SysprimsError::invalid(
        "signal",
        text,
        "no signal of this platform has this number (`sysprims kill -L` lists them; on Linux \
         1 to 31 and 34 to 64; 129 to 192 are read as exit statuses)",
    )
}

/// `kill -L`: numbers and names, seven to a line. Signals 1 to 31 as procps prints them; the
/// real-time signals, which procps leaves out, follow in wider columns for their longer names.
fn signal_table(out: &mut impl Write) -> Result<(), Failure> {
    let (standard, realtime): (Vec<Signal>, Vec<Signal>) = native_order()
        .into_iter()
        .partition(|s| s.number() < Signal::RTMIN.number());
    for (signals, width) in [(standard, 8), (realtime, 9)] {
        let cells: Vec<String> = signals
            .iter()
            .map(|s| {
                format!(
                    "{:>2} {:<width$}",
                    args::native_number(s.number()),
                    s.name()
                )
            })
            .collect();
        for row in cells.chunks(7) {
            writeln!(out, "{}", row.concat().trim_end())?;
        }
    }
    Ok(())
}
