//! Process file descriptors (`pidfd_open(2)`), Linux 5.3+.
//!
//! A pidfd names one process for as long as the fd is open, whatever happens to its PID
//! number. On Linux 6.9+ pidfds live on the `pidfs` filesystem, where each process has its own
//! inode number that is never reused within a boot: the strongest identity the kernel offers.

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;

use rustix::io::Errno;
use rustix::process::{PidfdFlags, pidfd_open};

use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;

/// `PIDFS_MAGIC` from `include/uapi/linux/magic.h`.
const PIDFS_MAGIC: i64 = 0x5049_4446;

/// An open pidfd.
pub(crate) struct PidFd {
    fd: OwnedFd,
    pid: Pid,
}

/// What opening a pidfd found.
pub(crate) enum Opened {
    /// The process exists; here is its pidfd.
    Fd(PidFd),
    /// The kernel has no `pidfd_open` (before 5.3) or forbids it (seccomp): carry on without.
    Unsupported,
}

/// [`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html).
///
/// # Errors
/// [`NotFound`](crate::ErrorCode::NotFound) when no process has this PID;
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the process when the PID is
/// a thread that is not its process's main thread (`EINVAL`).
pub(crate) fn open(pid: Pid) -> Result<Opened> {
    let raw = rustix::process::Pid::from_raw(pid.as_raw()).expect("Pid is positive");
    match pidfd_open(raw, PidfdFlags::empty()) {
        Ok(fd) => Ok(Opened::Fd(PidFd { fd, pid })),
        Err(Errno::SRCH) => Err(SysprimsError::process_not_found("pidfd_open", pid.get())),
        // A thread that is not its process's leader: EINVAL before Linux 6.9, ENOENT since
        // (when pidfd_open learnt PIDFD_THREAD). ENOENT also means nothing has the ID.
        Err(Errno::INVAL) | Err(Errno::NOENT) => {
            match super::procfs::read::thread_group_of(pid.get()) {
                Some(tgid) if tgid != pid.get() => {
                    Err(SysprimsError::thread_not_process(pid.get(), tgid))
                }
                _ => Err(SysprimsError::process_not_found("pidfd_open", pid.get())),
            }
        }
        Err(Errno::NOSYS) | Err(Errno::PERM) | Err(Errno::ACCESS) => Ok(Opened::Unsupported),
        Err(e) => Err(SysprimsError::from_errno(
            "pidfd_open",
            Subject::Process(pid.get()),
            e.raw_os_error(),
        )),
    }
}

impl std::os::fd::AsFd for PidFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl PidFd {
    /// Take ownership of a pidfd the kernel gave us some other way (`CLONE_PIDFD`).
    pub(crate) fn from_owned(fd: OwnedFd, pid: Pid) -> PidFd {
        PidFd { fd, pid }
    }

    /// The PID the pidfd was opened for.
    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    /// The pidfs inode number, on kernels where pidfds live on pidfs (6.9+). Older kernels
    /// give every pidfd the same anonymous inode, which identifies nothing: `None` there.
    pub(crate) fn pidfs_inode(&self) -> Option<u64> {
        // Which filesystem pidfds live on is fixed for the running kernel: ask once.
        static ON_PIDFS: OnceLock<bool> = OnceLock::new();
        let on_pidfs = match ON_PIDFS.get() {
            Some(&known) => known,
            None => {
                let fs = rustix::fs::fstatfs(&self.fd).ok()?;
                #[allow(clippy::unnecessary_cast)]
                let known = fs.f_type as i64 == PIDFS_MAGIC;
                *ON_PIDFS.get_or_init(|| known)
            }
        };
        if !on_pidfs {
            return None;
        }
        rustix::fs::fstat(&self.fd).ok().map(|st| st.st_ino)
    }

    /// Whether the process is still present, alive or zombie: `pidfd_send_signal(fd, 0)`.
    ///
    /// A zombie still holds its PID, so while this says yes the PID cannot have been reused.
    /// `EPERM` (someone else's process) also proves it exists.
    pub(crate) fn is_present(&self) -> Result<bool> {
        match self.send_raw(0) {
            Ok(()) => Ok(true),
            Err(Errno::SRCH) => Ok(false),
            Err(Errno::PERM) => Ok(true),
            Err(e) => Err(SysprimsError::from_errno(
                "pidfd_send_signal(0)",
                Subject::Process(self.pid.get()),
                e.raw_os_error(),
            )),
        }
    }

    /// [`pidfd_send_signal(2)`](https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html):
    /// signal exactly the process this pidfd was opened for, whatever has happened to its PID
    /// since.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorCode::NotFound) when the process has exited and been reaped,
    /// [`PermissionDenied`](crate::ErrorCode::PermissionDenied) when we may not signal it.
    pub(crate) fn send(&self, signal: Signal) -> Result<()> {
        self.send_raw(signal.number()).map_err(|e| {
            SysprimsError::from_errno(
                "pidfd_send_signal",
                Subject::Process(self.pid.get()),
                e.raw_os_error(),
            )
        })
    }

    fn send_raw(&self, signal: i32) -> std::result::Result<(), Errno> {
        // SAFETY: pidfd_send_signal with a pidfd we own, a signal number in 0..=64 that is not
        // 32 or 33 (`Signal` cannot hold those; the C library reserves them), no siginfo and no
        // flags: it touches no memory of ours. rustix's wrapper is not used because its
        // `Signal` cannot express 0 and its safety contract forbids sending real-time signals.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(Errno::from_raw_os_error(
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            ))
        }
    }
}
