//! The kernel object behind [`CancelToken`](crate::CancelToken): an
//! [`eventfd(2)`](https://man7.org/linux/man-pages/man2/eventfd.2.html).
//!
//! Triggering writes 1 to the counter; nothing ever reads it back, so once triggered the fd
//! stays readable for good and every `poll(2)` that includes it wakes at once. That makes
//! the token level-triggered and sticky: a wait that starts after the trigger returns at
//! once, and any number of waits on any number of threads see the same trigger.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec, eventfd};
use rustix::io::Errno;

use crate::error::{Result, Subject, SysprimsError};

/// An eventfd that becomes (and stays) readable when triggered.
#[derive(Debug)]
pub(crate) struct CancelFd {
    fd: OwnedFd,
}

impl CancelFd {
    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`.
    ///
    /// # Errors
    /// [`System`](crate::ErrorCode::System) with `EMFILE`/`ENFILE` when the process or the
    /// system is out of file descriptors.
    pub(crate) fn new() -> Result<CancelFd> {
        eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map(|fd| CancelFd { fd })
            .map_err(|e| SysprimsError::from_errno("eventfd", Subject::None, e.raw_os_error()))
    }

    /// Make the fd readable: `write(2)` of 1 to the counter. Idempotent, and safe from any
    /// thread or a signal handler (one `write`, no allocation, no lock).
    pub(crate) fn trigger(&self) {
        loop {
            match rustix::io::write(&self.fd, &1u64.to_ne_bytes()) {
                // EAGAIN: the counter is at its maximum, which is readable already.
                Ok(_) | Err(Errno::AGAIN) => return,
                Err(Errno::INTR) => continue,
                // EBADF and the like cannot happen with an fd we own; nothing to report to.
                Err(_) => return,
            }
        }
    }

    /// Whether [`trigger`](Self::trigger) has been called: a `poll(2)` with a zero timeout.
    pub(crate) fn is_triggered(&self) -> bool {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        loop {
            match rustix::event::poll(
                &mut fds,
                Some(&Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                }),
            ) {
                Ok(n) => return n > 0,
                Err(Errno::INTR) => continue,
                Err(_) => return false,
            }
        }
    }
}

impl AsFd for CancelFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Whether `cancel` is given and triggered.
pub(crate) fn triggered(cancel: Option<&CancelFd>) -> bool {
    cancel.is_some_and(CancelFd::is_triggered)
}

/// Sleep for `duration`, or less if `cancel` is triggered meanwhile: the back-off of the
/// loops that run without pidfds, which a cancel must cut short too.
pub(crate) fn pause(cancel: Option<&CancelFd>, duration: std::time::Duration) {
    let Some(cancel) = cancel else {
        std::thread::sleep(duration);
        return;
    };
    let timeout = Timespec::try_from(duration).ok();
    let mut fds = [PollFd::new(&cancel.fd, PollFlags::IN)];
    // EINTR (or any error) ends the pause early; every caller re-checks its condition.
    let _ = rustix::event::poll(&mut fds, timeout.as_ref());
}
