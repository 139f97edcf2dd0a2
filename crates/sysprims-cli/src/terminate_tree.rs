//! `sysprims terminate-tree`: end a process and everything it started, gracefully, then by
//! force.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sysprims::{Pid, Signal, TerminateTreeConfig, TerminateTreeResult};

use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims terminate-tree 1234              SIGTERM to the tree, 5s grace, then SIGKILL
  sysprims terminate-tree 1234 --grace 500ms --kill-after 1s
  sysprims terminate-tree 1234 --signal INT --json
  sysprims terminate-tree 1234 --require-start-time-ms 1764158400120
                                            only if PID 1234 is still the process that
                                            started then (as `sysprims spawn` printed it)

Which processes: when PID tops a job that `sysprims spawn` (or the library) put in a
cgroup, every process in that cgroup, wherever it moved in the tree (setsid, double
forks): reliability `guaranteed`, and the cgroup is removed afterwards. Any other PID:
the PID and its descendants, found by walking /proc, stopped while they are signalled
so that forks cannot outrun it: `best_effort`, since processes that already left the
tree are out of reach.

Exit codes:
  0  every process of the tree has ended
  1  some survived the kill signal (listed), or no process has the PID, or it is no
     longer the process identified by --require-*
  2  usage error: a bad PID, signal or duration; PID 1 or sysprims itself without
     --force; nothing was sent";

/// End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill
/// signal (SIGKILL) for whatever is left.
///
/// Returns as soon as every process has ended. Escalates only if something outlived the
/// grace period.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct TerminateTreeArgs {
    /// The root of the tree.
    #[arg(value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pid: Pid,

    /// The graceful signal, by name or number.
    #[arg(short, long, value_name = "SIGNAL", default_value = "TERM", value_parser = parse_signal)]
    signal: Signal,

    /// How long to wait for the tree to end after the signal before escalating.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = args::duration, allow_hyphen_values = true)]
    grace: Duration,

    /// The signal to escalate with.
    #[arg(long, value_name = "SIGNAL", default_value = "KILL", value_parser = parse_signal)]
    kill_signal: Signal,

    /// How long to wait after the kill signal before giving up and reporting survivors.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = args::duration, allow_hyphen_values = true)]
    kill_after: Duration,

    /// Act only if PID started at this time (Unix milliseconds, as `sysprims spawn` and
    /// `pstat --json` report start_time_unix_ms).
    #[arg(long, value_name = "MS")]
    require_start_time_ms: Option<u64>,

    /// Act only if PID runs this executable.
    #[arg(long, value_name = "PATH")]
    require_exe_path: Option<String>,

    /// Allow PID 1 and sysprims itself as the root.
    #[arg(long)]
    force: bool,

    /// Print a JSON document (schema: schemas/terminate-tree-result.v1.schema.json).
    #[arg(long)]
    json: bool,
}

/// A signal that can end something: not 0, the probe.
fn parse_signal(text: &str) -> Result<Signal, String> {
    match args::signal(text)? {
        Signal::PROBE => Err("signal 0 only probes; it ends nothing".into()),
        signal => Ok(signal),
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

impl TerminateTreeArgs {
    fn config(&self) -> TerminateTreeConfig {
        TerminateTreeConfig {
            signal: self.signal,
            grace_timeout_ms: millis(self.grace),
            kill_signal: self.kill_signal,
            kill_timeout_ms: millis(self.kill_after),
            require_start_time_ms: self.require_start_time_ms,
            require_exe_path: self.require_exe_path.clone(),
            require_identity: None,
            allow_protected: self.force,
        }
    }
}

pub fn run(a: TerminateTreeArgs, out: &mut impl Write) -> Result<(), Failure> {
    let result = sysprims::terminate_tree(a.pid, &a.config())?;
    if a.json {
        output::json(out, &result)?;
    } else {
        summary(&result, out)?;
    }
    if result.exited && result.survivors.is_empty() {
        Ok(())
    } else {
        crate::warn(format_args!(
            "terminate-tree: {} of the tree of PID {} still running: {}",
            plural(result.survivors.len(), "process", "processes"),
            result.pid,
            pid_list(&result.survivors)
        ));
        Err(Failure::Partial)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn pid_list(pids: &[u32]) -> String {
    if pids.is_empty() {
        return "none".into();
    }
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The human form: one `name  value` line per field, then the warnings.
pub fn summary(r: &TerminateTreeResult, out: &mut impl Write) -> std::io::Result<()> {
    let escalated = if r.escalated {
        format!("yes, {} after the grace period", r.kill_signal)
    } else {
        "no".into()
    };
    let rows = [
        ("pid", r.pid.to_string()),
        (
            "signalled",
            format!(
                "{} with {}",
                plural(r.signalled as usize, "process", "processes"),
                r.signal_sent
            ),
        ),
        ("escalated", escalated),
        (
            "ended",
            if r.exited {
                "all".to_string()
            } else {
                "no".to_string()
            },
        ),
        ("survivors", pid_list(&r.survivors)),
        ("reliability", r.tree_kill_reliability.to_string()),
        ("elapsed", format!("{} ms", r.elapsed_ms)),
    ];
    for (name, value) in rows {
        writeln!(out, "{name:<12} {value}")?;
    }
    for w in &r.warnings {
        writeln!(out, "warning: {}", output::printable(w))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TerminateTreeArgs,
    }

    fn parse(args: &[&str]) -> Result<TerminateTreeArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("terminate-tree").chain(args.iter().copied()))
            .map(|c| c.args)
    }

    #[test]
    fn options_become_the_config() {
        let c = parse(&["42"]).unwrap().config();
        assert_eq!(c, TerminateTreeConfig::default());
        let c = parse(&[
            "42",
            "-s",
            "INT",
            "--grace",
            "250ms",
            "--kill-after",
            "1.5s",
            "--kill-signal",
            "QUIT",
            "--force",
            "--require-start-time-ms",
            "123",
        ])
        .unwrap()
        .config();
        assert_eq!(c.signal, Signal::INT);
        assert_eq!(c.grace_timeout_ms, 250);
        assert_eq!(c.kill_timeout_ms, 1500);
        assert_eq!(c.kill_signal, Signal::QUIT);
        assert!(c.allow_protected);
        assert_eq!(c.require_start_time_ms, Some(123));
        for bad in [
            vec!["0"],
            vec!["-1"],
            vec!["2147483648"],
            vec!["42", "-s", "FOO"],
            vec!["42", "-s", "0"],
            vec!["42", "--grace", "5x"],
            vec!["42", "--kill-after", "-1s"],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn summary_lines() {
        let r = TerminateTreeResult {
            schema_id: sysprims::TERMINATE_TREE_RESULT_SCHEMA_ID.into(),
            pid: 42,
            signal_sent: Signal::TERM,
            kill_signal: Signal::KILL,
            escalated: true,
            exited: false,
            timed_out: true,
            survivors: vec![43, 44],
            signalled: 3,
            tree_kill_reliability: sysprims::TreeKillReliability::BestEffort,
            warnings: vec!["a\nb".into()],
            elapsed_ms: 7,
            usage: None,
        };
        let mut out = Vec::new();
        summary(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("signalled    3 processes with SIGTERM"),
            "{text}"
        );
        assert!(text.contains("escalated    yes, SIGKILL"), "{text}");
        assert!(text.contains("survivors    43 44"), "{text}");
        assert!(text.contains("reliability  best_effort"), "{text}");
        assert!(text.contains("warning: a?b"), "{text}");
    }
}
