//! `sysprims wait`: wait for any process to end, and say how it ended.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sysprims::{Pid, Signal, WaitPidResult};

use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims wait 1234                        until PID 1234 ends
  sysprims wait 1234 --timeout 30s          at most 30 seconds
  sysprims wait 1234 --timeout 0            has it ended? (no waiting)
  sysprims wait 1234 --json | jq .exit_code

Output: `PID 1234 exited with code 3`, `PID 1234 was killed by SIGKILL (9)`, `PID 1234
has ended (exit status unknown: ...)` or `PID 1234 is still running after 30s (timed
out)`. The exit status is known when this command can read it: the process is still a
zombie (its parent has not reaped it yet), or the library could reap it. A job started by
`sysprims spawn` is reaped by init (or a subreaper) once the spawn command has exited, so
its status is often unknown.

Exit codes:
  0  the process has ended (whatever its own exit status)
  1  it has not: the timeout passed (timed out); or no process has the PID
  2  usage error: a bad PID or duration";

/// Wait for a process to end: any process, not only a child of this command.
///
/// The wait is event-driven (a pidfd and poll(2) on Linux): it returns as soon as the
/// process exits, with no polling interval. A zombie counts as ended.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct WaitArgs {
    /// The process to wait for.
    #[arg(value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pid: Pid,

    /// Give up after DURATION (e.g. 500ms, 30s, 5m); 0 checks without waiting. Default: no
    /// limit.
    #[arg(long, value_name = "DURATION", value_parser = args::duration, allow_hyphen_values = true)]
    timeout: Option<Duration>,

    /// Print a JSON document (schema: schemas/wait-pid-result.v1.schema.json).
    #[arg(long)]
    json: bool,
}

pub fn run(a: WaitArgs, out: &mut impl Write) -> Result<(), Failure> {
    let result = sysprims::wait_pid(a.pid, a.timeout)?;
    if a.json {
        output::json(out, &result)?;
    } else {
        // A wait that timed out is said once, on stderr (below), not also on stdout.
        if result.exited {
            writeln!(out, "{}", describe(&result, a.timeout))?;
        }
        for w in &result.warnings {
            writeln!(out, "warning: {}", output::printable(w))?;
        }
    }
    if result.exited {
        Ok(())
    } else {
        crate::warn(format_args!("wait: {}", describe(&result, a.timeout)));
        Err(Failure::Partial)
    }
}

fn after(timeout: Option<Duration>) -> String {
    timeout.map_or_else(String::new, |t| format!(" after {}", human_duration(t)))
}

/// One line: how the wait ended.
pub fn describe(r: &WaitPidResult, timeout: Option<Duration>) -> String {
    let pid = r.pid;
    if !r.exited {
        return format!("PID {pid} is still running{} (timed out)", after(timeout));
    }
    match (r.exit_code, r.signal) {
        (Some(code), _) => format!("PID {pid} exited with code {code}"),
        (None, Some(number)) => {
            let name = Signal::new(number).map_or_else(
                |_| format!("signal {number}"),
                |s| format!("SIG{}", s.name()),
            );
            let number = crate::args::native_number(number);
            format!("PID {pid} was killed by {name} ({number})")
        }
        (None, None) => {
            let why = r
                .warnings
                .first()
                .map(|w| output::printable(w))
                .unwrap_or_else(|| "it was not this command's child".into());
            format!("PID {pid} has ended (exit status unknown: {why})")
        }
    }
}

/// `1.5s`, `250ms`, `2m`: as short as exact.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 && !d.is_zero() {
        format!("{}us", d.as_micros())
    } else if ms % 60_000 == 0 && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms > 1000 {
        format!("{}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(exited: bool, exit_code: Option<i32>, signal: Option<i32>) -> WaitPidResult {
        WaitPidResult {
            schema_id: sysprims::WAIT_PID_RESULT_SCHEMA_ID.into(),
            pid: 42,
            exited,
            timed_out: !exited,
            exit_code,
            signal,
            ended_by: None,
            usage: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe(&result(true, Some(3), None), None),
            "PID 42 exited with code 3"
        );
        assert_eq!(
            describe(&result(true, None, Some(9)), None),
            "PID 42 was killed by SIGKILL (9)"
        );
        assert!(describe(&result(true, None, None), None).contains("exit status unknown"));
        assert_eq!(
            describe(
                &result(false, None, None),
                Some(Duration::from_millis(1500))
            ),
            "PID 42 is still running after 1.5s (timed out)"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_secs(30)), "30s");
        assert_eq!(human_duration(Duration::from_secs(120)), "2m");
        assert_eq!(human_duration(Duration::ZERO), "0s");
        assert_eq!(human_duration(Duration::from_micros(5)), "5us");
    }
}
