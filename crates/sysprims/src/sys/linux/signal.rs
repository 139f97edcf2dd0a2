//! Sending signals: `kill(2)`, `killpg(3)`, and handles that signal through a pidfd.
//!
//! The raw calls go through libc rather than rustix: rustix's `Signal` cannot express signal 0,
//! and its safety contract forbids using it to send real-time signals, both of which sysprims
//! must send. The [`Signal`] and [`Pid`] types make the arguments safe instead.

#![allow(unsafe_code)]

use super::pidfd::{self, Opened, PidFd};
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::ProcessIdentity;
use crate::signal::Signal;

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// [`kill(2)`](https://man7.org/linux/man-pages/man2/kill.2.html) of one process.
pub(crate) fn kill(pid: Pid, signal: Signal) -> Result<()> {
    // SAFETY: kill with a positive PID (the `Pid` invariant: 1..=i32::MAX, so never 0, -1 or a
    // group) and a valid signal number touches no memory.
    if unsafe { libc::kill(pid.as_raw(), signal.number()) } == 0 {
        Ok(())
    } else {
        Err(SysprimsError::from_errno(
            "kill",
            Subject::Process(pid.get()),
            last_errno(),
        ))
    }
}

/// [`killpg(3)`](https://man7.org/linux/man-pages/man3/killpg.3.html) of one process group.
pub(crate) fn killpg(pgid: Pid, signal: Signal) -> Result<()> {
    // SAFETY: killpg with a positive group ID (the `Pid` invariant) and a valid signal number
    // touches no memory. A positive ID names exactly one group.
    if unsafe { libc::killpg(pgid.as_raw(), signal.number()) } == 0 {
        Ok(())
    } else {
        Err(SysprimsError::from_errno(
            "killpg",
            Subject::ProcessGroup(pgid.get()),
            last_errno(),
        ))
    }
}

/// The caller's process group ([`getpgrp(2)`](https://man7.org/linux/man-pages/man2/getpgrp.2.html)).
pub(crate) fn own_process_group() -> u32 {
    rustix::process::getpgrp()
        .as_raw_nonzero()
        .get()
        .unsigned_abs()
}

/// One process, held by a pidfd where the kernel has them.
pub(crate) struct Handle {
    pid: Pid,
    fd: Option<PidFd>,
}

impl Handle {
    /// Open a handle on `pid`.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) when no process has the PID (or it names a
    /// thread that is not a process).
    pub(crate) fn open(pid: Pid) -> Result<Handle> {
        match pidfd::open(pid)? {
            Opened::Fd(fd) => Ok(Handle { pid, fd: Some(fd) }),
            Opened::Unsupported => {
                super::process::require_process(pid)?;
                // Without a pidfd, ask kill(2) whether the PID is there (EPERM means it is).
                match kill(pid, Signal::PROBE) {
                    Ok(()) => {}
                    Err(e) if e.code() == crate::ErrorCode::PermissionDenied => {}
                    Err(_) => return Err(SysprimsError::process_not_found("open", pid.get())),
                }
                Ok(Handle { pid, fd: None })
            }
        }
    }

    /// A handle on a process we already hold (a child we just started).
    pub(crate) fn from_pidfd(pid: Pid, fd: Option<PidFd>) -> Handle {
        Handle { pid, fd }
    }

    /// The pidfd, where the kernel has them.
    pub(crate) fn pidfd(&self) -> Option<&PidFd> {
        self.fd.as_ref()
    }

    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    pub(crate) fn has_pidfd(&self) -> bool {
        self.fd.is_some()
    }

    /// Signal the process: through the pidfd, or with `kill(2)` without one.
    pub(crate) fn send(&self, signal: Signal) -> Result<()> {
        match &self.fd {
            Some(fd) => fd.send(signal),
            None => kill(self.pid, signal),
        }
    }

    /// Whether the process is still present (alive or zombie). Without a pidfd this asks about
    /// the PID, which may have been reused.
    pub(crate) fn is_present(&self) -> Result<bool> {
        match &self.fd {
            Some(fd) => fd.is_present(),
            None => match kill(self.pid, Signal::PROBE) {
                Ok(()) => Ok(true),
                Err(e) if e.code() == crate::ErrorCode::PermissionDenied => Ok(true),
                Err(e) if e.code() == crate::ErrorCode::NotFound => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// The pidfs inode of the held process (Linux 6.9+).
    pub(crate) fn pidfs_inode(&self) -> Option<u64> {
        self.fd.as_ref().and_then(PidFd::pidfs_inode)
    }

    /// The held process's identity, read now.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) once the process has been reaped.
    pub(crate) fn identity(&self) -> Result<ProcessIdentity> {
        super::process::capture_identity_through(self.pid, self.fd.as_ref())
    }
}
