//! The kernel object behind [`CancelToken`](crate::CancelToken) on macOS: a pipe (macOS has
//! no eventfd). Triggering writes one byte; nothing reads it back, so the read end stays
//! readable for good and every kqueue wait that watches it (`EVFILT_READ`) wakes at once:
//! level-triggered and sticky, as on Linux.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Result, Subject, SysprimsError};

/// A pipe whose read end becomes (and stays) readable when triggered.
#[derive(Debug)]
pub(crate) struct CancelFd {
    read: OwnedFd,
    write: OwnedFd,
}

/// Set `FD_CLOEXEC` and `O_NONBLOCK` on `fd` (macOS has no `pipe2`).
fn cloexec_nonblock(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    unsafe {
        if libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == -1 {
            return Err(std::io::Error::last_os_error());
        }
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags == -1 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == -1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A pipe, both ends close-on-exec and non-blocking.
pub(crate) fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two fds pipe(2) writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    cloexec_nonblock(read.as_raw_fd())?;
    cloexec_nonblock(write.as_raw_fd())?;
    Ok((read, write))
}

impl CancelFd {
    /// A fresh pipe.
    ///
    /// # Errors
    /// [`System`](crate::ErrorCode::System) with `EMFILE`/`ENFILE` when the process or the
    /// system is out of file descriptors.
    pub(crate) fn new() -> Result<CancelFd> {
        let (read, write) = pipe().map_err(|e| {
            SysprimsError::from_errno("pipe", Subject::None, e.raw_os_error().unwrap_or(0))
        })?;
        Ok(CancelFd { read, write })
    }

    /// Make the read end readable: one `write(2)` of one byte. Idempotent (a full pipe is
    /// readable already), and safe from any thread or a signal handler.
    pub(crate) fn trigger(&self) {
        loop {
            // SAFETY: one byte from a local to an fd we own.
            let n = unsafe { libc::write(self.write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
            if n == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            // Written, or EAGAIN (full: readable already), or nothing to report to.
            return;
        }
    }

    /// Whether [`trigger`](Self::trigger) has been called: a `poll(2)` with a zero timeout.
    pub(crate) fn is_triggered(&self) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.read.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        loop {
            // SAFETY: one pollfd we own.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
            if n == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return n > 0;
        }
    }

    /// The read end, for a kqueue to watch.
    pub(crate) fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
}

/// Whether `cancel` is given and triggered.
pub(crate) fn triggered(cancel: Option<&CancelFd>) -> bool {
    cancel.is_some_and(CancelFd::is_triggered)
}
