//! Sending signals: `kill(2)` and `killpg(3)` (shared with macOS, in `sys/unix`), and handles
//! that signal through a pidfd.

pub(crate) use crate::sys::unix::{kill, killpg, own_process_group};

use super::pidfd::{self, Opened, PidFd};
use crate::error::{Result, SysprimsError};
use crate::pid::Pid;
use crate::process::ProcessIdentity;
use crate::signal::Signal;

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
