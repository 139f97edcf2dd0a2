//! Signals on macOS: `kill(2)` and `killpg(3)` (the code Linux uses, in `sys/unix`), and
//! handles that check the held process's start time before each signal.
//!
//! macOS has no pidfd, so a [`Handle`] is the PID plus the start time (µs) read when it was
//! opened. [`Handle::send`] reads the start time again and signals only if it is unchanged:
//! check, then signal. Between the two calls the process can exit, be reaped by its parent,
//! and its PID be handed to a newcomer, which would then get the signal. macOS hands out PIDs
//! in increasing order up to 99,999 before wrapping, so that takes some 100,000 process
//! creations inside the few microseconds between the check and the `kill`; it is not zero, and
//! Linux's pidfds close it entirely (the README says so).

pub(crate) use crate::sys::unix::{kill, killpg, own_process_group};

use super::process::{bsd_info, capture_identity};
use crate::error::{ErrorCode, Result, SysprimsError};
use crate::pid::Pid;
use crate::process::ProcessIdentity;
use crate::signal::Signal;
use crate::sys::StartStamp;

/// One process: its PID and the start time it had when the handle was opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handle {
    pid: Pid,
    start: StartStamp,
}

impl Handle {
    /// Open a handle on the process that has `pid` now.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) when no process has the PID.
    pub(crate) fn open(pid: Pid) -> Result<Handle> {
        let info = bsd_info(pid.get())?;
        Ok(Handle {
            pid,
            start: info.start_time_us,
        })
    }

    /// A handle on a process whose start time is known (a child just started).
    pub(crate) fn from_parts(pid: Pid, start: StartStamp) -> Handle {
        Handle { pid, start }
    }

    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    /// The start time (µs since the Unix epoch) of the held process.
    pub(crate) fn start(&self) -> StartStamp {
        self.start
    }

    /// No pidfd on macOS.
    pub(crate) fn has_pidfd(&self) -> bool {
        false
    }

    /// Whether the PID still names the held process (alive or a zombie): its start time is
    /// unchanged.
    pub(crate) fn holds_pid(&self) -> Result<bool> {
        match bsd_info(self.pid.get()) {
            Ok(info) => Ok(info.start_time_us == self.start),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Signal the held process: the start time is checked, then `kill(2)` is sent (see the
    /// module docs for the race this leaves).
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) when the PID no longer names the process.
    pub(crate) fn send(&self, signal: Signal) -> Result<()> {
        if !self.holds_pid()? {
            return Err(SysprimsError::process_not_found("signal", self.pid.get()));
        }
        kill(self.pid, signal)
    }

    /// Whether the process is still present (alive or zombie).
    pub(crate) fn is_present(&self) -> Result<bool> {
        self.holds_pid()
    }

    /// No pidfs on macOS.
    pub(crate) fn pidfs_inode(&self) -> Option<u64> {
        None
    }

    /// The held process's identity, read now.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) once the process has been reaped (its PID is
    /// free or another process's).
    pub(crate) fn identity(&self) -> Result<ProcessIdentity> {
        let identity = capture_identity(self.pid)?;
        if identity.start_time_boot_ticks != Some(self.start) {
            return Err(SysprimsError::process_not_found(
                "capture identity",
                self.pid.get(),
            ));
        }
        Ok(identity)
    }
}
