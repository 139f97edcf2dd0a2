//! `kill`, `killpg` and batches, with the guards every destructive signal passes.

use crate::error::{Result, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::signal::{KillReport, Signal, TargetResult};

/// Options for sending a signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignalOptions {
    /// Allow a destructive signal to PID 1, to the calling process, or to the caller's own
    /// process group, which are refused otherwise (the CLI's `--force`).
    pub allow_protected: bool,
}

impl SignalOptions {
    /// Options that allow signalling the protected targets.
    pub fn allowing_protected() -> SignalOptions {
        SignalOptions {
            allow_protected: true,
        }
    }
}

fn refused(what: &'static str, value: u32, why: &str) -> SysprimsError {
    SysprimsError::invalid(
        what,
        value.to_string(),
        format!(
            "{why}; a destructive signal to it is refused unless protected targets are allowed \
             (SignalOptions::allow_protected, --force in the CLI)"
        ),
    )
}

/// Refuse a destructive signal to PID 1 or to the caller.
pub(crate) fn check_process(pid: Pid, signal: Signal, options: SignalOptions) -> Result<()> {
    if !signal.is_destructive() || options.allow_protected {
        return Ok(());
    }
    #[cfg(not(windows))]
    if pid.get() == 1 {
        return Err(refused(
            "target PID",
            1,
            "PID 1 is init: when it dies the kernel panics (or the container stops)",
        ));
    }
    // Windows: 0 (the System Idle Process) is no valid Pid; 4 is the System process, the
    // kernel's. PID 1 is an ordinary process there.
    #[cfg(windows)]
    if pid.get() == 4 {
        return Err(refused(
            "target PID",
            4,
            "PID 4 is the System process (the Windows kernel's)",
        ));
    }
    if pid == Pid::current() {
        return Err(refused(
            "target PID",
            pid.get(),
            "it is the calling process itself",
        ));
    }
    Ok(())
}

/// Refuse a destructive signal to init's process group or to the caller's own.
fn check_group(pgid: Pid, signal: Signal, options: SignalOptions) -> Result<()> {
    if !signal.is_destructive() || options.allow_protected {
        return Ok(());
    }
    if pgid.get() == 1 {
        return Err(refused(
            "target process group",
            1,
            "process group 1 holds init",
        ));
    }
    if pgid.get() == crate::sys::signal::own_process_group() {
        return Err(refused(
            "target process group",
            pgid.get(),
            "it is the caller's own process group, which would signal the caller too",
        ));
    }
    Ok(())
}

/// Send `signal` to one process with
/// [`kill(2)`](https://man7.org/linux/man-pages/man2/kill.2.html).
///
/// The PID is validated first: 0 and anything above `i32::MAX`, which `kill(2)` would read as
/// a process group or as "every process", are refused before any system call. PID 1 and the
/// caller itself are refused for destructive signals (see [`kill_with`] to override).
///
/// A PID names a process only until it is reaped; to be sure the signal reaches the process
/// you mean, use [`signal_if`](crate::signal_if) with its stored identity.
///
/// ```
/// use sysprims::{kill, Signal, ErrorCode};
///
/// // Signal 0 probes: does PID exist, may we signal it?
/// kill(std::process::id(), Signal::PROBE).unwrap();
/// assert_eq!(kill(0u32, Signal::TERM).unwrap_err().code(), ErrorCode::InvalidArgument);
/// assert_eq!(kill(u32::MAX, Signal::KILL).unwrap_err().code(), ErrorCode::InvalidArgument);
/// // Refused: the caller itself.
/// assert_eq!(kill(std::process::id(), Signal::TERM).unwrap_err().code(), ErrorCode::InvalidArgument);
/// ```
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): an invalid PID, a protected
///   target, or the ID of a thread that is not its process's main thread (named in the
///   message: `kill(2)` would signal the whole process).
/// - [`NotFound`](crate::ErrorCode::NotFound): no such process.
/// - [`PermissionDenied`](crate::ErrorCode::PermissionDenied): we may not signal it.
pub fn kill(pid: impl IntoPid, signal: Signal) -> Result<()> {
    kill_with(pid, signal, SignalOptions::default())
}

/// [`kill`] with options, e.g. to allow the protected targets.
///
/// # Errors
/// As [`kill`].
pub fn kill_with(pid: impl IntoPid, signal: Signal, options: SignalOptions) -> Result<()> {
    let pid = pid.into_pid()?;
    check_process(pid, signal, options)?;
    crate::sys::process::require_process(pid)?;
    crate::sys::signal::kill(pid, signal)
}

/// What [`kill_with`] would refuse, checked without sending anything: the PID, the protected
/// targets, and with signal 0 whether the process exists and may be signalled. For previews
/// ("dry runs").
///
/// # Errors
/// As [`kill`].
pub fn can_signal(pid: impl IntoPid, signal: Signal, options: SignalOptions) -> Result<()> {
    let pid = pid.into_pid()?;
    check_process(pid, signal, options)?;
    crate::sys::process::require_process(pid)?;
    crate::sys::signal::kill(pid, Signal::PROBE)
}

/// Send `signal` to every process in process group `pgid` with
/// [`killpg(3)`](https://man7.org/linux/man-pages/man3/killpg.3.html).
///
/// The group ID is validated like a PID. Group 1 (init's) and the caller's own group are
/// refused for destructive signals (see [`killpg_with`] to override).
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): an invalid ID, or a protected
///   group.
/// - [`NotFound`](crate::ErrorCode::NotFound): no such group.
/// - [`PermissionDenied`](crate::ErrorCode::PermissionDenied): we may signal none of its
///   members.
pub fn killpg(pgid: impl IntoPid, signal: Signal) -> Result<()> {
    killpg_with(pgid, signal, SignalOptions::default())
}

/// [`killpg`] with options.
///
/// # Errors
/// As [`killpg`].
pub fn killpg_with(pgid: impl IntoPid, signal: Signal, options: SignalOptions) -> Result<()> {
    let pgid = pgid.into_pid()?;
    check_group(pgid, signal, options)?;
    crate::sys::signal::killpg(pgid, signal)
}

/// Ask a process to terminate: [`kill`] with `SIGTERM`.
///
/// # Errors
/// As [`kill`].
pub fn terminate(pid: impl IntoPid) -> Result<()> {
    kill(pid, Signal::TERM)
}

/// End a process at once: [`kill`] with `SIGKILL`, which cannot be caught or ignored.
///
/// # Errors
/// As [`kill`].
pub fn force_kill(pid: impl IntoPid) -> Result<()> {
    kill(pid, Signal::KILL)
}

/// Send `signal` to each of `pids`, and say for each what happened.
///
/// Every PID is validated before anything is sent: one invalid PID, or one that is a thread
/// ID rather than a process's (see [`require_process`](crate::pid::require_process)), is an
/// error and no process is signalled. A PID given twice is signalled once. Protected targets (PID 1, the
/// caller) are refused one by one, in the report, while the others are signalled.
///
/// ```
/// use sysprims::{kill_many, Signal, TargetOutcome};
///
/// let report = kill_many([std::process::id()], Signal::PROBE).unwrap();
/// assert_eq!(report.targets[0].outcome, TargetOutcome::Signalled);
/// assert!(kill_many([std::process::id(), 0], Signal::PROBE).is_err());
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the first invalid PID or
/// thread ID; then nothing has been sent.
pub fn kill_many<P: IntoPid>(
    pids: impl IntoIterator<Item = P>,
    signal: Signal,
) -> Result<KillReport> {
    kill_many_with(pids, signal, SignalOptions::default())
}

/// [`kill_many`] with options.
///
/// # Errors
/// As [`kill_many`].
pub fn kill_many_with<P: IntoPid>(
    pids: impl IntoIterator<Item = P>,
    signal: Signal,
    options: SignalOptions,
) -> Result<KillReport> {
    let mut valid: Vec<Pid> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for pid in pids {
        let pid = pid.into_pid()?;
        if seen.insert(pid) {
            valid.push(pid);
        }
    }
    // A thread ID is as wrong as PID 0: kill(2) would signal the process it belongs to.
    for &pid in &valid {
        crate::sys::process::require_process(pid)?;
    }
    let mut report = KillReport::new(signal);
    for pid in valid {
        let result = kill_with(pid, signal, options);
        report
            .targets
            .push(TargetResult::from_result(pid.get(), result));
    }
    Ok(report)
}
