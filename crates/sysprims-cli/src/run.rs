//! `sysprims run`: `/usr/bin/time -v` for a whole job, with limits. The command runs in the
//! foreground (stdio inherited, signals passed on as `sysprims timeout` does: the same
//! machinery, [`crate::timeout::run_job`]) in a cgroup of its own; when it exits, whatever it
//! left running is ended, and a short report of what the whole tree used goes to stderr (or
//! the `run-report` JSON document to a file). The exit status is the command's.

// Elsewhere `run` only says it is not supported: the report and its parts go unused.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{ArgMatches, Args, FromArgMatches, ValueEnum};
use schemars::JsonSchema;
use serde::Serialize;
use sysprims::{
    Containment, EndedBy, JobLimits, JobUsage, Signal, TimeoutConfig, TimeoutOutcome,
    TreeKillReliability,
};

use crate::args;
#[cfg(unix)]
use crate::timeout::{quote, say_as, strerror};

/// `schema_id` of [`RunReport`].
pub const RUN_REPORT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/run-report/v1.json";
/// Its file under `schemas/`.
#[cfg(test)]
pub const RUN_REPORT_SCHEMA_FILE: &str = "run-report.v1.schema.json";

const WHO: &str = "sysprims run";
/// The exit status on `--timeout`, as GNU timeout's.
const EXIT_TIMEDOUT: i32 = 124;
/// The exit status when `sysprims run` itself fails, as GNU timeout's.
const EXIT_CANCELED: i32 = 125;

const EXAMPLES: &str = "\
Examples:
  sysprims run -- make test                    run it, then report what the whole tree used
  sysprims run --memory-max 2G --pids-max 512 -- ./build.sh
                                               at most 2 GiB and 512 processes, for all of it
  sysprims run --cpu-max 0.5 -- ./crunch       half of one CPU
  sysprims run --timeout 10m --json run.json -- pytest
                                               a deadline; the report as JSON in run.json

The report (stderr), e.g.:
  sysprims run: make exited with code 0
    wall time    12.345 s
    cpu          user 20.120 s, system 3.210 s
    peak memory  1.2 GiB (limit 2.0 GiB)
    processes    peak 37 (limit 512), threads included
    oom kills    0
    leftovers    1 ended after the command exited
    containment  cgroup_v2 (guaranteed)

Usage is read from the job's cgroup before it is removed, so it counts every process the
job started, grandchildren and setsid escapees included (GNU time -v reports the largest
single child). A job killed by the kernel's OOM killer is reported as such, not as
\"signal 9\". Without a writable cgroup v2 there is no usage, and a warning says so.

SIZE is a number of bytes with an optional unit K, M, G or T, powers of 1024 (KiB, MiB, KB,
MB are read the same); 1.5G is allowed. DURATION: 500ms, 30s, 10m, 1h.

Exit status:
  the command's own: its exit code, or 128+N if signal N killed it (137 for an OOM kill)
  124  the --timeout passed (the job was signalled)
  125  sysprims run itself failed: a bad option or limit, no cgroup for a limit with
       --containment cgroup, the --json file cannot be created
  126  the command was found but cannot be invoked
  127  the command was not found";

/// Run a command in the foreground as a job, with limits on its whole tree, and report what
/// it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time.
///
/// The command inherits stdin, stdout and stderr, and the signals this command receives
/// (TERM, INT, HUP, QUIT, USR1, USR2) are passed on to every process of the job. When the
/// command exits, whatever it left running is ended (SIGTERM, then SIGKILL after
/// --kill-after, at once without it), so the report covers the whole job and nothing of it
/// outlives this command.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct RunArgs {
    /// The most memory the whole job may use (cgroup memory.max); past it the kernel's OOM
    /// killer ends a process of the job.
    #[arg(long, value_name = "SIZE", value_parser = given(args::size_bytes), allow_hyphen_values = true)]
    memory_max: Option<Given<u64>>,

    /// The most swap the whole job may use (memory.swap.max); 0 is none.
    #[arg(long, value_name = "SIZE", value_parser = given(args::size_bytes_or_zero), allow_hyphen_values = true)]
    memory_swap_max: Option<Given<u64>>,

    /// The most processes and threads the job may have at once (pids.max): a fork past it
    /// fails.
    #[arg(long, value_name = "N", value_parser = given(args::count), allow_hyphen_values = true)]
    pids_max: Option<Given<u64>>,

    /// The CPU the whole job may use, in CPUs: 0.5 is half of one, 2 is two (cpu.max).
    #[arg(long, value_name = "N", value_parser = given(args::cpus), allow_hyphen_values = true)]
    cpu_max: Option<Given<f64>>,

    /// End the job if it is still running after DURATION (--signal, then SIGKILL after
    /// --kill-after); exit 124. Default: no deadline.
    #[arg(long, value_name = "DURATION", value_parser = args::duration, allow_hyphen_values = true)]
    timeout: Option<Duration>,

    /// The signal that ends the job at the deadline, and what the command left running
    /// after it exited (default TERM).
    #[arg(short, long, value_name = "SIGNAL", value_parser = args::signal)]
    signal: Option<Signal>,

    /// SIGKILL the job if it is still running this long after --signal. Default: at once
    /// for leftovers, never for a command past its --timeout (as GNU timeout without -k).
    #[arg(short = 'k', long, value_name = "DURATION", value_parser = args::duration, allow_hyphen_values = true)]
    kill_after: Option<Duration>,

    /// What holds the job: a cgroup if one can be made, else a process group with no usage
    /// and no limits, each said in a warning (auto); a cgroup or fail with exit 125
    /// (cgroup).
    #[arg(long, value_enum, default_value_t = RunContainment::Auto)]
    containment: RunContainment,

    /// Leave this command's process group as it is (the command joins it, and can read the
    /// terminal from a script), instead of making one of its own as GNU timeout does.
    #[arg(long)]
    foreground: bool,

    /// Write the report as a JSON document to FILE instead of the text report on stderr
    /// (schema: schemas/run-report.v1.schema.json).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    json: Option<PathBuf>,

    /// Say on stderr each signal sent to the job.
    #[arg(short, long)]
    verbose: bool,

    /// The program and its arguments (after `--` when an argument starts with `-`).
    #[arg(value_name = "COMMAND", required = true, num_args = 1.., trailing_var_arg = true, value_hint = clap::ValueHint::CommandWithArguments)]
    command: Vec<OsString>,
}

/// A limit as parsed, and as typed on the command line, so that a limit the library refuses
/// (above the machine) is named as the user wrote it.
#[derive(Clone, Debug)]
struct Given<T> {
    value: T,
    text: String,
}

/// `parse`, keeping the text.
fn given<T: 'static>(
    parse: fn(&str) -> Result<T, String>,
) -> impl Fn(&str) -> Result<Given<T>, String> + Clone + Send + Sync + 'static {
    move |text| {
        parse(text).map(|value| Given {
            value,
            text: text.to_string(),
        })
    }
}

/// Check each limit on its own against the machine, and name a refused one as the user
/// wrote it (`--memory-max 1000T is above this machine's memory ...`).
fn check_limits(a: &RunArgs) -> Result<JobLimits, String> {
    let one = |option: &str, text: &str, limits: JobLimits| {
        limits
            .validate()
            .map_err(|e| format!("{option} {text} {}", args::reason(e)))
    };
    let none = JobLimits::default();
    if let Some(g) = &a.memory_max {
        one(
            "--memory-max",
            &g.text,
            JobLimits {
                memory_max_bytes: Some(g.value),
                ..none
            },
        )?;
    }
    if let Some(g) = &a.memory_swap_max {
        one(
            "--memory-swap-max",
            &g.text,
            JobLimits {
                memory_swap_max_bytes: Some(g.value),
                ..none
            },
        )?;
    }
    if let Some(g) = &a.pids_max {
        one(
            "--pids-max",
            &g.text,
            JobLimits {
                pids_max: Some(g.value),
                ..none
            },
        )?;
    }
    if let Some(g) = &a.cpu_max {
        one(
            "--cpu-max",
            &g.text,
            JobLimits {
                cpu_max: Some(g.value),
                ..none
            },
        )?;
    }
    Ok(JobLimits {
        memory_max_bytes: a.memory_max.as_ref().map(|g| g.value),
        memory_swap_max_bytes: a.memory_swap_max.as_ref().map(|g| g.value),
        pids_max: a.pids_max.as_ref().map(|g| g.value),
        cpu_max: a.cpu_max.as_ref().map(|g| g.value),
        accounting: true,
    })
}

/// `--containment`: a process group alone cannot hold limits or give usage, so it is not
/// offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RunContainment {
    Auto,
    Cgroup,
}

/// The JSON document `sysprims run --json FILE` writes.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RunReport {
    /// Always `https://sysprims.dev/schemas/run-report/v1.json`.
    pub schema_id: String,
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// The limits asked for (`accounting` is always on: usage is what `run` is for).
    pub limits: JobLimits,
    /// The deadline, milliseconds, if one was given.
    pub timeout_ms: Option<u64>,
    /// The status `sysprims run` exits with: the command's exit code, 128+N when signal N
    /// killed it, 124 when the deadline passed.
    pub exit_status: i32,
    /// Wall time from just before the command was started to the end of the whole job,
    /// microseconds, as `sysprims run` measured it.
    pub wall_time_us: u64,
    /// How the command ended and what the job used: `outcome` (`completed` or `timed_out`),
    /// `exit_code`, `signal`, `ended_by` (`exit`, `signal`, `oom_kill`), `usage` (the
    /// cgroup's counts: CPU, peak memory, OOM kills, peak processes), `leftovers_ended`,
    /// `survivors`, containment, reliability and warnings.
    #[serde(flatten)]
    pub outcome: TimeoutOutcome,
}

/// The JSON Schema of [`RunReport`], as `schemas/run-report.v1.schema.json` holds it.
#[cfg(test)]
pub fn report_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RunReport>()
        .to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), RUN_REPORT_SCHEMA_ID.into());
        if let Some(prop) = object
            .get_mut("properties")
            .and_then(|p| p.get_mut("schema_id"))
            .and_then(serde_json::Value::as_object_mut)
        {
            prop.insert("const".into(), RUN_REPORT_SCHEMA_ID.into());
        }
    }
    schema
}

/// Parse `args` (everything after `run`) and run; returns the exit status. Usage errors exit
/// 125, as `sysprims timeout`'s do, so that they cannot be taken for the command's status.
#[cfg_attr(test, allow(dead_code))]
pub fn main(args: &[OsString]) -> i32 {
    let command = RunArgs::augment_args(
        clap::Command::new("run")
            .bin_name(WHO)
            .version(env!("CARGO_PKG_VERSION")),
    );
    let parsed = command
        .try_get_matches_from(std::iter::once(OsString::from("run")).chain(args.iter().cloned()))
        .and_then(|m: ArgMatches| RunArgs::from_arg_matches(&m));
    match parsed {
        Ok(a) => run(a),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() { EXIT_CANCELED } else { 0 }
        }
    }
}

/// `sysprims run` needs Unix signals and process groups.
#[cfg(not(unix))]
pub fn run(_a: RunArgs) -> i32 {
    eprintln!("{WHO}: not supported on this platform yet");
    EXIT_CANCELED
}

/// Run a parsed `sysprims run`.
#[cfg(unix)]
pub fn run(a: RunArgs) -> i32 {
    // As `sysprims timeout` does: an ignored SIGCHLD inherited across exec would make the
    // kernel reap the command by itself, and its status would be lost.
    // SAFETY: signal(2) with a constant disposition, before any thread is started.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    let command: Vec<String> = a
        .command
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let limits = match check_limits(&a) {
        Ok(l) => l,
        Err(message) => {
            say_as(WHO, format_args!("{message}"));
            return EXIT_CANCELED;
        }
    };
    let config = TimeoutConfig {
        signal: a.signal.unwrap_or(Signal::TERM),
        kill_after_ms: a
            .kill_after
            .filter(|d| !d.is_zero())
            .map(|d| u64::try_from(d.as_millis().max(1)).unwrap_or(u64::MAX)),
        containment: match a.containment {
            RunContainment::Auto => Containment::Auto,
            RunContainment::Cgroup => Containment::Cgroup,
        },
        // The command joins our process group (our own unless --foreground).
        foreground: true,
        // The report is about the whole job: what the command left running is ended.
        cleanup: true,
        limits,
        ..TimeoutConfig::default()
    };
    let mut json_file = match &a.json {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(f),
            Err(e) => {
                say_as(
                    WHO,
                    format_args!(
                        "cannot create {}: {}",
                        quote(&path.to_string_lossy()),
                        strerror(e.raw_os_error().unwrap_or(0))
                    ),
                );
                return EXIT_CANCELED;
            }
        },
        None => None,
    };
    let deadline = a.timeout.unwrap_or(Duration::ZERO);
    let started = Instant::now();
    let outcome =
        match crate::timeout::run_job(WHO, &command, deadline, &config, a.verbose, !a.foreground) {
            Ok(o) => o,
            Err(status) => return status,
        };
    let wall = started.elapsed();
    let report = RunReport {
        schema_id: RUN_REPORT_SCHEMA_ID.to_string(),
        argv: command,
        limits,
        timeout_ms: a
            .timeout
            .filter(|d| !d.is_zero())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        exit_status: exit_status(&outcome),
        wall_time_us: u64::try_from(wall.as_micros()).unwrap_or(u64::MAX),
        outcome,
    };
    match json_file.as_mut() {
        Some(file) => {
            // Buffered: serde writes a pretty document in hundreds of small pieces.
            let mut buffered = std::io::BufWriter::new(&mut *file);
            let written = serde_json::to_writer_pretty(&mut buffered, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| buffered.write_all(b"\n"))
                .and_then(|()| buffered.flush());
            if let Err(e) = written {
                say_as(WHO, format_args!("cannot write the JSON report: {e}"));
                return EXIT_CANCELED;
            }
        }
        None => {
            let _ = std::io::stderr()
                .lock()
                .write_all(describe(&report).as_bytes());
        }
    }
    report.exit_status
}

/// The status to exit with: the command's exit code, 128+N for signal N (GNU style: this
/// process does not kill itself), 124 after a timeout.
pub fn exit_status(outcome: &TimeoutOutcome) -> i32 {
    let status = outcome.status();
    if outcome.timed_out() {
        return EXIT_TIMEDOUT;
    }
    match (status.exit_code, status.signal) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + crate::args::native_number(signal),
        (None, None) => EXIT_CANCELED,
    }
}

fn signal_name(number: i32) -> String {
    Signal::new(number).map_or_else(
        |_| format!("signal {number}"),
        |s| format!("SIG{}", s.name()),
    )
}

/// `1.5 KiB`, `200.0 MiB`: binary units, one decimal.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn seconds(us: u64) -> String {
    format!("{:.3} s", us as f64 / 1e6)
}

/// The text report: a first line saying how the command ended, then what the job used.
pub fn describe(r: &RunReport) -> String {
    let status = r.outcome.status();
    let details = r.outcome.run();
    let name = r.argv.first().map_or("command", String::as_str);
    let mut text = String::new();
    let how = match (status.exit_code, status.signal, status.ended_by) {
        (_, Some(_), Some(EndedBy::OomKill)) => {
            "was killed by the kernel's OOM killer (SIGKILL)".to_string()
        }
        (Some(code), _, _) => format!("exited with code {code}"),
        (None, Some(signal), _) => format!(
            "was killed by {} ({})",
            signal_name(signal),
            crate::args::native_number(signal)
        ),
        (None, None, _) => "ended (status unknown)".to_string(),
    };
    match &r.outcome {
        TimeoutOutcome::TimedOut {
            signal_sent,
            escalated,
            ..
        } => {
            let then = if *escalated { ", then SIGKILL" } else { "" };
            text += &format!(
                "{WHO}: {name} timed out after {} (sent SIG{}{then}) and {how}\n",
                crate::wait::human_duration(Duration::from_millis(r.timeout_ms.unwrap_or(0))),
                signal_sent.name()
            );
        }
        TimeoutOutcome::Completed { .. } => text += &format!("{WHO}: {name} {how}\n"),
    }
    let mut line = |label: &str, value: String| text += &format!("  {label:<12} {value}\n");
    line("wall time", seconds(r.wall_time_us));
    let limit = |what: Option<String>| what.map_or_else(String::new, |l| format!(" (limit {l})"));
    if let Some(u) = &details.usage {
        let JobUsage {
            cpu_user_us,
            cpu_system_us,
            memory_peak_bytes,
            oom_events: _,
            oom_kills,
            pids_peak,
        } = *u;
        if cpu_user_us.is_some() || cpu_system_us.is_some() {
            let part = |v: Option<u64>| v.map_or_else(|| "unknown".to_string(), seconds);
            let cpu_limit = limit(r.limits.cpu_max.map(|c| format!("{c} CPU")));
            line(
                "cpu",
                format!(
                    "user {}, system {}{cpu_limit}",
                    part(cpu_user_us),
                    part(cpu_system_us)
                ),
            );
        }
        if let Some(peak) = memory_peak_bytes {
            let memory_limit = limit(r.limits.memory_max_bytes.map(human_bytes));
            line(
                "peak memory",
                format!("{}{memory_limit}", human_bytes(peak)),
            );
        }
        if let Some(peak) = pids_peak {
            let pids_limit = limit(r.limits.pids_max.map(|n| n.to_string()));
            line(
                "processes",
                format!("peak {peak}{pids_limit}, threads included"),
            );
        }
        if let Some(kills) = oom_kills {
            line("oom kills", kills.to_string());
        }
    }
    if details.leftovers_ended > 0 {
        line(
            "leftovers",
            format!("{} ended after the command exited", details.leftovers_ended),
        );
    }
    if !details.survivors.is_empty() {
        let pids: Vec<String> = details.survivors.iter().map(u32::to_string).collect();
        line("survivors", pids.join(" "));
    }
    let reliability = match details.tree_kill_reliability {
        TreeKillReliability::Guaranteed => "guaranteed",
        TreeKillReliability::BestEffort => "best_effort",
    };
    line(
        "containment",
        format!(
            "{} ({reliability})",
            serde_json::to_value(details.containment)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
    );
    for w in &details.warnings {
        text += &format!("  warning: {}\n", crate::output::printable(w));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysprims::{CommandStatus, ContainmentKind, RunDetails};

    fn report(status: CommandStatus, usage: Option<JobUsage>, timed_out: bool) -> RunReport {
        let run = RunDetails {
            pid: 42,
            pgid: None,
            containment: ContainmentKind::CgroupV2,
            tree_kill_reliability: TreeKillReliability::Guaranteed,
            cgroup: None,
            forwarded_signals: vec![],
            leftovers_ended: 1,
            survivors: vec![],
            elapsed_ms: 1234,
            warnings: vec![],
            usage,
        };
        let outcome = if timed_out {
            TimeoutOutcome::TimedOut {
                signal_sent: Signal::TERM,
                escalated: false,
                status,
                run,
            }
        } else {
            TimeoutOutcome::Completed { status, run }
        };
        RunReport {
            schema_id: RUN_REPORT_SCHEMA_ID.into(),
            argv: vec!["make".into(), "test".into()],
            limits: JobLimits {
                memory_max_bytes: Some(2 << 30),
                pids_max: Some(512),
                accounting: true,
                ..Default::default()
            },
            timeout_ms: timed_out.then_some(10_000),
            exit_status: exit_status(&outcome),
            wall_time_us: 1_234_567,
            outcome,
        }
    }

    #[test]
    fn reports_say_how_it_ended_and_what_it_used() {
        let usage = JobUsage {
            cpu_user_us: Some(20_120_000),
            cpu_system_us: Some(3_210_000),
            memory_peak_bytes: Some(1288490189),
            oom_events: Some(0),
            oom_kills: Some(0),
            pids_peak: Some(37),
        };
        let exited = CommandStatus {
            exit_code: Some(0),
            signal: None,
            ended_by: Some(EndedBy::Exit),
        };
        let r = report(exited, Some(usage), false);
        assert_eq!(r.exit_status, 0);
        assert_eq!(
            describe(&r),
            "sysprims run: make exited with code 0\n\
             \x20 wall time    1.235 s\n\
             \x20 cpu          user 20.120 s, system 3.210 s\n\
             \x20 peak memory  1.2 GiB (limit 2.0 GiB)\n\
             \x20 processes    peak 37 (limit 512), threads included\n\
             \x20 oom kills    0\n\
             \x20 leftovers    1 ended after the command exited\n\
             \x20 containment  cgroup_v2 (guaranteed)\n"
        );
        let oom = CommandStatus {
            exit_code: None,
            signal: Some(9),
            ended_by: Some(EndedBy::OomKill),
        };
        let r = report(
            oom,
            Some(JobUsage {
                oom_kills: Some(1),
                ..usage
            }),
            false,
        );
        assert_eq!(r.exit_status, 137);
        let text = describe(&r);
        assert!(text.starts_with("sysprims run: make was killed by the kernel's OOM killer"));
        assert!(text.contains("oom kills    1"), "{text}");
        let term = CommandStatus {
            exit_code: None,
            signal: Some(15),
            ended_by: Some(EndedBy::Signal),
        };
        let r = report(term, None, true);
        assert_eq!(r.exit_status, 124);
        assert!(
            describe(&r).starts_with(
                "sysprims run: make timed out after 10s (sent SIGTERM) and was killed by SIGTERM (15)\n"
            ),
            "{}",
            describe(&r)
        );
        assert_eq!(exit_status(&report(term, None, false).outcome), 143);
    }

    #[test]
    fn sizes_read_as_people_do() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(200 << 20), "200.0 MiB");
    }

    /// `schemas/run-report.v1.schema.json` is the schema generated from [`RunReport`];
    /// `SYSPRIMS_UPDATE_SCHEMAS=1` rewrites it, as it does the library's schemas.
    #[test]
    fn schema_file_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(RUN_REPORT_SCHEMA_FILE);
        let text = serde_json::to_string_pretty(&report_schema()).unwrap() + "\n";
        if std::env::var("SYSPRIMS_UPDATE_SCHEMAS").as_deref() == Ok("1") {
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "schemas/{RUN_REPORT_SCHEMA_FILE} is stale: run SYSPRIMS_UPDATE_SCHEMAS=1 cargo \
             test -p sysprims-cli run::"
        );
    }
}
