//! Waiting for any process to end: [`wait_pid`].

use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cancel::CancelToken;
use crate::error::{Result, SysprimsError};
use crate::limits::{EndedBy, JobUsage};
use crate::pid::{IntoPid, Pid};

/// `schema_id` of [`WaitPidResult`].
pub const WAIT_PID_RESULT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/wait-pid-result/v1.json";

/// How a wait ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitPidResult {
    /// Always [`WAIT_PID_RESULT_SCHEMA_ID`].
    pub schema_id: String,
    /// The PID waited for.
    pub pid: u32,
    /// The process has ended (a zombie counts).
    pub exited: bool,
    /// The timeout passed first; the process is still running.
    pub timed_out: bool,
    /// The exit code, when the process exited normally and its status could be read (it was
    /// the caller's child, or a zombie whose status `/proc` still shows).
    pub exit_code: Option<i32>,
    /// The signal that ended the process, when it was killed and its status could be read.
    /// In JSON the platform's native number (macOS numbers `USR1` 30); in Rust sysprims's
    /// (Linux) number, [`Signal::number`](crate::Signal::number).
    #[serde(
        default,
        serialize_with = "crate::signal::native_serde::option::serialize",
        deserialize_with = "crate::signal::native_serde::option::deserialize"
    )]
    pub signal: Option<i32>,
    /// How the process ended, when its status is known: `"exit"`, `"signal"`, or
    /// `"oom_kill"` for a job's first process killed by `SIGKILL` when the job's cgroup
    /// counted an OOM kill ([`EndedBy`]).
    pub ended_by: Option<EndedBy>,
    /// What the job's whole tree used, when the process led a job with a cgroup of its own
    /// (read before the cgroup was removed; a job whose leftovers still run is read as it
    /// was when its first process exited). `None` for any other process.
    pub usage: Option<JobUsage>,
    /// Anything worth logging (e.g. why the status is unknown).
    pub warnings: Vec<String>,
}

/// Wait until `pid` ends, or until `timeout` passes (`None`: no limit).
///
/// Any process can be waited for, the caller's child or not. On Linux the wait is a pidfd
/// and `poll(2)`: no polling loop, and the return comes as soon as the process exits. A
/// zombie counts as exited. When `pid` is the caller's child it is reaped (with
/// `waitid(P_PIDFD)`) and its exit status returned; for any other process the status is read
/// from `/proc` while the process is still a zombie its parent has not reaped, and otherwise
/// it is `None` with a warning that says why. When `pid` leads a job that
/// [`spawn_in_group`](crate::spawn_in_group) put in a cgroup, the cgroup is removed once the
/// job is empty.
///
/// A timeout is not an error: the result says `timed_out` and the process runs on. Without
/// pidfds (Linux before 5.3, or `pidfd_open` forbidden by seccomp) the exit is detected by a
/// loop of `waitpid(WNOHANG)` or `kill(pid, 0)` that sleeps 1 ms, doubling up to 20 ms,
/// between rounds, and the warnings say so.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let child = std::process::Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
/// let done = sysprims::wait_pid(child.id(), Some(Duration::from_secs(10))).unwrap();
/// assert!(done.exited);
/// assert_eq!(done.exit_code, Some(3));
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID, the
/// caller's own (which would never end), or a thread ID that is not a process's; [`NotFound`](crate::ErrorCode::NotFound) when no
/// process has it.
pub fn wait_pid(pid: impl IntoPid, timeout: Option<Duration>) -> Result<WaitPidResult> {
    wait_pid_inner(pid, timeout, None)
}

/// [`wait_pid`] that another thread can stop with [`CancelToken::cancel`].
///
/// When the token is cancelled first (or already was), the call returns at once with
/// `exited` false, `timed_out` true and [`CANCELLED_WARNING`](crate::CANCELLED_WARNING)
/// among the `warnings`; the process is not touched.
///
/// # Errors
/// As [`wait_pid`].
pub fn wait_pid_cancellable(
    pid: impl IntoPid,
    timeout: Option<Duration>,
    cancel: &CancelToken,
) -> Result<WaitPidResult> {
    wait_pid_inner(pid, timeout, Some(cancel))
}

fn wait_pid_inner(
    pid: impl IntoPid,
    timeout: Option<Duration>,
    cancel: Option<&CancelToken>,
) -> Result<WaitPidResult> {
    let pid = pid.into_pid()?;
    if pid == Pid::current() {
        return Err(SysprimsError::invalid(
            "PID",
            pid.get().to_string(),
            "it is the calling process itself, which cannot wait for its own exit",
        ));
    }
    crate::sys::process::require_process(pid)?;
    // A deadline too far away to represent is no deadline.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    crate::sys::wait::wait_pid(pid, deadline, cancel.map(CancelToken::sys))
}
