//! Race-free signalling: a handle that holds a pidfd, and `signal_if`, which signals only the
//! process an identity names.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{ErrorCode, Result, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::process::{IdentityCheck, ProcessIdentity, ReuseReason};
use crate::signal::send::check_process;
use crate::signal::{Signal, SignalOptions};

/// What [`signal_if`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GuardedSignal {
    /// The identified process was signalled.
    Signalled {
        /// Set when the kernel has no pidfds (before Linux 5.3, or forbidden by a seccomp
        /// filter) and `kill(2)` sent the signal after the identity check: then a PID reused
        /// between the check and the signal would have been hit.
        warnings: Vec<String>,
    },
    /// The PID now names another process: nothing was sent.
    Reused {
        /// The evidence.
        reason: ReuseReason,
    },
    /// The identified process has exited (and been reaped): nothing was sent.
    Gone,
}

const NO_PIDFD_WARNING: &str = "no pidfd (pidfd_open needs Linux 5.3+ and may be forbidden by \
    seccomp): the identity was checked, then kill(2) sent the signal, so a PID reused in \
    between would have been hit";

/// Send `signal` to the process `identity` names, and to no other.
///
/// The process is opened as a pidfd first; its identity is checked through that pidfd; the
/// signal is sent through the same pidfd. A pidfd names one process for as long as it is open,
/// so a PID that is reused at any moment during the call cannot receive the signal: it is
/// [`GuardedSignal::Reused`] if the newcomer was there before the check, and
/// [`GuardedSignal::Gone`] if the old process vanished after it.
///
/// The check compares what the stored identity has, as [`verify_identity`] does, with one
/// difference that makes it fast: when the identity holds a pidfs inode from this boot (Linux
/// 6.9+, as [`ProcessIdentity::of`] captures), the inode alone decides, because the kernel
/// never gives another process the same one; `/proc` is not read.
///
/// Protected targets (PID 1, the caller) are refused for destructive signals, as by
/// [`kill`](crate::kill).
///
/// ```no_run
/// use sysprims::{signal_if, GuardedSignal, ProcessIdentity, Signal};
///
/// # fn main() -> sysprims::Result<()> {
/// let job = ProcessIdentity::of(1234)?; // stored when the job started
/// // ... later:
/// match signal_if(&job, Signal::TERM)? {
///     GuardedSignal::Signalled { .. } => println!("asked job to stop"),
///     GuardedSignal::Reused { reason } => println!("PID 1234 is someone else now: {reason}"),
///     GuardedSignal::Gone => println!("job already gone"),
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): an invalid PID, a protected
///   target, an identity with nothing to compare (only a PID), or a thread ID that is not a
///   process's (the message names the process).
/// - [`PermissionDenied`](crate::ErrorCode::PermissionDenied): we may not read or signal it.
///
/// [`verify_identity`]: crate::verify_identity
pub fn signal_if(identity: &ProcessIdentity, signal: Signal) -> Result<GuardedSignal> {
    signal_if_with(identity, signal, SignalOptions::default())
}

/// [`signal_if`] with options.
///
/// # Errors
/// As [`signal_if`].
pub fn signal_if_with(
    identity: &ProcessIdentity,
    signal: Signal,
    options: SignalOptions,
) -> Result<GuardedSignal> {
    let pid = Pid::new(identity.pid)?;
    check_process(pid, signal, options)?;
    identity.require_evidence()?;
    // A thread ID is an error, not "gone": ProcessHandle::open says which process it is in.
    let handle = match ProcessHandle::open(pid) {
        Ok(h) => h,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(GuardedSignal::Gone),
        Err(e) => return Err(e),
    };
    handle.verify_and_send(identity, signal)
}

/// One process, held open: on Linux 5.3+ by a pidfd, which keeps naming that process even
/// after it exits and its PID is reused. Signals sent through the handle reach that process or
/// nothing.
///
/// ```
/// use sysprims::{ProcessHandle, ProcessIdentity, IdentityCheck, Signal};
///
/// let child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let handle = ProcessHandle::open(child.id()).unwrap();
/// let identity = handle.identity().unwrap();
/// assert_eq!(handle.verify(&identity).unwrap(), IdentityCheck::Same);
/// handle.signal(Signal::KILL).unwrap();
/// # let mut child = child; child.wait().unwrap();
/// ```
pub struct ProcessHandle {
    inner: crate::sys::signal::Handle,
}

impl ProcessHandle {
    /// Open the process that has `pid` now.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID, or for the
    /// ID of a thread that is not its process's main thread (the message names the process);
    /// [`NotFound`](crate::ErrorCode::NotFound) when no process has it.
    pub fn open(pid: impl IntoPid) -> Result<ProcessHandle> {
        let pid = pid.into_pid()?;
        Ok(ProcessHandle {
            inner: crate::sys::signal::Handle::open(pid)?,
        })
    }

    /// Wrap a backend handle.
    pub(crate) fn from_sys(inner: crate::sys::signal::Handle) -> ProcessHandle {
        ProcessHandle { inner }
    }

    /// The PID the handle was opened with.
    pub fn pid(&self) -> Pid {
        self.inner.pid()
    }

    /// The backend's handle, for the waits that take many at once.
    pub(crate) fn sys(&self) -> &crate::sys::signal::Handle {
        &self.inner
    }

    /// True when the handle holds a pidfd; false where the kernel has none, and then it is a
    /// PID like any other, open to reuse.
    pub fn has_pidfd(&self) -> bool {
        self.inner.has_pidfd()
    }

    /// Whether the process is still there, running or a zombie not yet reaped.
    ///
    /// # Errors
    /// [`System`](crate::ErrorCode::System) when the kernel gives an unexpected answer.
    pub fn is_present(&self) -> Result<bool> {
        self.inner.is_present()
    }

    /// The held process's identity, to store and check later.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) once the process has exited and been reaped.
    pub fn identity(&self) -> Result<ProcessIdentity> {
        self.inner.identity()
    }

    /// Whether the held process is the one `stored` identifies: as
    /// [`verify_identity`](crate::verify_identity), but about the held process rather than
    /// whatever has the PID now, and decided by the pidfs inode alone when `stored` has one
    /// from this boot.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) when `stored` is for another PID
    /// or has nothing to compare.
    pub fn verify(&self, stored: &ProcessIdentity) -> Result<IdentityCheck> {
        if stored.pid != self.pid().get() {
            return Err(SysprimsError::invalid(
                "process identity",
                format!("{{pid: {}}}", stored.pid),
                format!("the handle holds PID {}", self.pid()),
            ));
        }
        stored.require_evidence()?;
        if let (Some(stored_inode), Some(boot)) = (stored.pidfs_inode, &stored.boot_id)
            && crate::sys::process::boot_id_str() == Some(boot.as_str())
            && let Some(inode) = self.inner.pidfs_inode()
        {
            return Ok(if inode == stored_inode {
                IdentityCheck::Same
            } else {
                IdentityCheck::Reused {
                    reason: ReuseReason::PidfsInodeMismatch {
                        stored: stored_inode,
                        current: inode,
                    },
                }
            });
        }
        match self.inner.identity() {
            Ok(current) => Ok(crate::process::identity::compare(stored, &current)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(IdentityCheck::Gone),
            Err(e) => Err(e),
        }
    }

    /// Wait for the held process to end (`None`: no limit), as [`wait_pid`](crate::wait_pid)
    /// does, but through the handle's own pidfd: a PID reused after the process was reaped
    /// elsewhere is never waited for, and the caller's child is reaped with its exit status.
    /// A zombie counts as ended. A timeout is not an error: the result says `timed_out`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sysprims::ProcessHandle;
    ///
    /// let child = std::process::Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
    /// let handle = ProcessHandle::open(child.id()).unwrap();
    /// let done = handle.wait(Some(Duration::from_secs(30))).unwrap();
    /// assert!(done.exited);
    /// assert_eq!(done.exit_code, Some(7));
    /// ```
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for a handle on the caller
    /// itself (which would never end); [`NotFound`](crate::ErrorCode::NotFound) when the
    /// handle has no pidfd and no process has the PID any more.
    pub fn wait(&self, timeout: Option<std::time::Duration>) -> Result<crate::WaitPidResult> {
        if self.pid() == Pid::current() {
            return Err(SysprimsError::invalid(
                "PID",
                self.pid().get().to_string(),
                "it is the calling process itself, which cannot wait for its own exit",
            ));
        }
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        crate::sys::jobs::wait_first(&self.inner, deadline)
    }

    /// Send `signal` to the held process. Protected targets are refused for destructive
    /// signals, as by [`kill`](crate::kill).
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) when the process has exited and been reaped;
    /// [`PermissionDenied`](crate::ErrorCode::PermissionDenied); `InvalidArgument` for a
    /// protected target.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        self.signal_with(signal, SignalOptions::default())
    }

    /// [`ProcessHandle::signal`] with options.
    ///
    /// # Errors
    /// As [`ProcessHandle::signal`].
    pub fn signal_with(&self, signal: Signal, options: SignalOptions) -> Result<()> {
        check_process(self.pid(), signal, options)?;
        self.inner.send(signal)
    }

    /// Check the held process against `stored`, then signal it: [`signal_if`] on a handle
    /// already open.
    ///
    /// # Errors
    /// As [`signal_if`].
    pub fn signal_if(&self, stored: &ProcessIdentity, signal: Signal) -> Result<GuardedSignal> {
        self.signal_if_with(stored, signal, SignalOptions::default())
    }

    /// [`ProcessHandle::signal_if`] with options.
    ///
    /// # Errors
    /// As [`signal_if`].
    pub fn signal_if_with(
        &self,
        stored: &ProcessIdentity,
        signal: Signal,
        options: SignalOptions,
    ) -> Result<GuardedSignal> {
        check_process(self.pid(), signal, options)?;
        self.verify_and_send(stored, signal)
    }

    /// The guarded send, once the target has passed the protection check.
    fn verify_and_send(&self, stored: &ProcessIdentity, signal: Signal) -> Result<GuardedSignal> {
        match self.verify(stored)? {
            IdentityCheck::Same => {}
            IdentityCheck::Reused { reason } => return Ok(GuardedSignal::Reused { reason }),
            IdentityCheck::Gone => return Ok(GuardedSignal::Gone),
        }
        match self.inner.send(signal) {
            Ok(()) => Ok(GuardedSignal::Signalled {
                warnings: if self.has_pidfd() {
                    Vec::new()
                } else {
                    vec![NO_PIDFD_WARNING.to_string()]
                },
            }),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(GuardedSignal::Gone),
            Err(e) => Err(e),
        }
    }
}

impl std::fmt::Debug for ProcessHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessHandle")
            .field("pid", &self.pid())
            .field("has_pidfd", &self.has_pidfd())
            .finish()
    }
}
