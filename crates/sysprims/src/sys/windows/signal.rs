//! Signals on Windows, which has none: `TERM` and `KILL` end a process with
//! [`TerminateProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-terminateprocess)
//! and the exit code 128 + N (143, 137), the probe (0) checks that it runs, everything else
//! is `NotSupported` naming the signal.
//!
//! A [`Handle`] is a process handle opened once: while it is open the PID cannot be reused,
//! so what is sent through it reaches the process that was opened or nothing.

use windows_sys::Win32::System::Threading::{PROCESS_TERMINATE, TerminateProcess};

use super::handle::{BASE_ACCESS, ProcHandle};
use super::last_error;
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::ProcessIdentity;
use crate::signal::Signal;

/// Send `signal` to whatever process has `pid` now (unguarded, as `kill(2)`).
pub(crate) fn kill(pid: Pid, signal: Signal) -> Result<()> {
    Handle::open(pid)?.send(signal)
}

/// Windows has no process groups that signals reach.
pub(crate) fn killpg(_pgid: Pid, signal: Signal) -> Result<()> {
    Err(SysprimsError::NotSupported {
        feature: "signalling a process group",
        reason: format!(
            "Windows has no process groups that {} can be sent to; end a job started with \
             spawn_in_group (a Job Object) or use terminate_tree",
            signal.name()
        ),
    })
}

/// No process groups: 0, which no group ID equals (a [`Pid`] is never 0).
pub(crate) fn own_process_group() -> u32 {
    0
}

/// A process held open.
pub(crate) struct Handle {
    inner: ProcHandle,
    /// Whether the handle may terminate the process (opened with `PROCESS_TERMINATE`).
    can_terminate: bool,
}

impl Handle {
    /// Open `pid`, with the right to terminate it where granted (without it the handle still
    /// identifies and waits; terminating is then `PermissionDenied`).
    pub(crate) fn open(pid: Pid) -> Result<Handle> {
        match ProcHandle::open(pid, BASE_ACCESS | PROCESS_TERMINATE) {
            Ok(inner) => Ok(Handle {
                inner,
                can_terminate: true,
            }),
            Err(e) if e.code() == ErrorCode::PermissionDenied => Ok(Handle {
                inner: ProcHandle::open(pid, BASE_ACCESS)?,
                can_terminate: false,
            }),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn pid(&self) -> Pid {
        self.inner.pid()
    }

    /// The backend's process handle.
    pub(crate) fn process(&self) -> &ProcHandle {
        &self.inner
    }

    /// A process handle pins the PID as a pidfd does: true.
    pub(crate) fn has_pidfd(&self) -> bool {
        true
    }

    /// Send through the handle. An exited process is `NotFound` (checked first: Wine's
    /// `TerminateProcess` succeeds on one).
    pub(crate) fn send(&self, signal: Signal) -> Result<()> {
        let pid = self.pid().get();
        if signal == Signal::PROBE {
            return self.inner.require_running("signal");
        }
        if signal != Signal::TERM && signal != Signal::KILL {
            return Err(SysprimsError::NotSupported {
                feature: "signal",
                reason: format!(
                    "SIG{} has no Windows equivalent: only TERM and KILL (TerminateProcess) \
                     and the probe 0 can be sent to a process (CTRL_C and CTRL_BREAK reach \
                     whole consoles or console process groups, not one process)",
                    signal.name()
                ),
            });
        }
        if !self.can_terminate {
            return Err(SysprimsError::PermissionDenied {
                operation: "TerminateProcess",
                subject: Subject::Process(pid),
            });
        }
        self.inner.require_running("signal")?;
        // Windows has no "killed by signal N" status: the exit code says it instead, 128 + N
        // as a shell shows a death by that signal (143 for TERM, 137 for KILL), the same code
        // a job's processes get from TerminateJobObject, so a waiter can tell a termination
        // from the program's own exit 1 and TERM from KILL.
        let code = super::jobs::exit_code_for(signal);
        // SAFETY: the handle is open with PROCESS_TERMINATE.
        if unsafe { TerminateProcess(self.inner.raw(), code) } == 0 {
            let err = last_error("TerminateProcess", Subject::Process(pid));
            // Access denied once it has exited: it is gone.
            if self.inner.has_exited().unwrap_or(false) {
                return Err(SysprimsError::process_not_found("signal", pid));
            }
            return Err(err);
        }
        Ok(())
    }

    /// Still running (an exited process whose handle is held is not).
    pub(crate) fn is_present(&self) -> Result<bool> {
        Ok(!self.inner.has_exited()?)
    }

    pub(crate) fn pidfs_inode(&self) -> Option<u64> {
        None
    }

    /// The held process's identity.
    pub(crate) fn identity(&self) -> Result<ProcessIdentity> {
        super::process::identity_of(&self.inner)
    }
}
