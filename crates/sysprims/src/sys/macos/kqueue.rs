//! Waiting for processes to exit with a kqueue: `EVFILT_PROC` with `NOTE_EXIT` for each
//! process, `EVFILT_READ` on the cancel pipe. The kernel wakes the wait at the exit; nothing
//! polls.
//!
//! `NOTE_EXIT` is edge-triggered: a process that exited before its registration never fires.
//! So each process is registered first and then looked at once: already a zombie, gone, or
//! with another start time under its PID (exited, reaped and the PID reused) counts as exited.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use super::cancel::CancelFd;
use super::signal::Handle;
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::process::ProcessState;

/// The `udata` of the cancel pipe's event (process events carry their index).
const CANCEL_TAG: usize = usize::MAX;

/// An open kqueue.
pub(crate) struct Kqueue(OwnedFd);

fn kq_error(operation: &'static str, subject: Subject) -> SysprimsError {
    SysprimsError::from_errno(operation, subject, super::last_errno())
}

fn event(ident: usize, filter: i16, flags: u16, fflags: u32, tag: usize) -> libc::kevent {
    libc::kevent {
        ident,
        filter,
        flags,
        fflags,
        data: 0,
        udata: tag as *mut libc::c_void,
    }
}

impl Kqueue {
    /// `kqueue()`, close-on-exec.
    pub(crate) fn new() -> Result<Kqueue> {
        // SAFETY: no arguments; the fd returned is owned below.
        let fd = unsafe { libc::kqueue() };
        if fd == -1 {
            return Err(kq_error("kqueue", Subject::None));
        }
        // SAFETY: a fresh fd owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: fcntl on an fd we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        Ok(Kqueue(fd))
    }

    /// Apply one change; the error is the registration's own (`EV_RECEIPT`).
    fn change(&self, ev: libc::kevent) -> std::result::Result<(), i32> {
        let changes = [libc::kevent {
            flags: ev.flags | libc::EV_RECEIPT,
            ..ev
        }];
        let mut out = [event(0, 0, 0, 0, 0)];
        // SAFETY: one change in, room for one receipt out, no timeout needed (receipts
        // return at once).
        let n = unsafe {
            libc::kevent(
                self.0.as_raw_fd(),
                changes.as_ptr(),
                1,
                out.as_mut_ptr(),
                1,
                std::ptr::null(),
            )
        };
        if n == -1 {
            return Err(super::last_errno());
        }
        if n == 1 && out[0].flags & libc::EV_ERROR != 0 && out[0].data != 0 {
            return Err(out[0].data as i32);
        }
        Ok(())
    }

    /// Watch `pid` for `NOTE_EXIT`, tagged `tag`. `Ok(false)`: no such process (`ESRCH`).
    pub(crate) fn watch_exit(&self, pid: u32, tag: usize) -> Result<bool> {
        let ev = event(
            pid as usize,
            libc::EVFILT_PROC,
            libc::EV_ADD | libc::EV_ONESHOT,
            libc::NOTE_EXIT,
            tag,
        );
        match self.change(ev) {
            Ok(()) => Ok(true),
            Err(libc::ESRCH) => Ok(false),
            Err(errno) => Err(SysprimsError::from_errno(
                "kevent(EVFILT_PROC)",
                Subject::Process(pid),
                errno,
            )),
        }
    }

    /// Watch `fd` for readability, tagged `tag`; `once`: the event fires once, then is
    /// removed (for a pipe that stays readable for good, as the cancel token's).
    pub(crate) fn watch_read(&self, fd: i32, tag: usize, once: bool) -> Result<()> {
        let flags = if once {
            libc::EV_ADD | libc::EV_ONESHOT
        } else {
            libc::EV_ADD
        };
        let ev = event(fd as usize, libc::EVFILT_READ, flags, 0, tag);
        self.change(ev)
            .map_err(|errno| SysprimsError::from_errno("kevent(EVFILT_READ)", Subject::None, errno))
    }

    /// Wait for events until `deadline` (`None`: no limit); the tags of those that fired
    /// (none: the deadline passed). `EINTR` waits again with the time left.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Result<Vec<usize>> {
        let mut out = [event(0, 0, 0, 0, 0); 16];
        loop {
            let timeout = deadline.map(|d| {
                let left = d.saturating_duration_since(Instant::now());
                libc::timespec {
                    tv_sec: left.as_secs().min(i64::MAX as u64) as libc::time_t,
                    tv_nsec: left.subsec_nanos() as libc::c_long,
                }
            });
            let timeout_ptr = timeout
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: no changes; `out` has room for its length of events; the timeout is a
            // local or null.
            let n = unsafe {
                libc::kevent(
                    self.0.as_raw_fd(),
                    std::ptr::null(),
                    0,
                    out.as_mut_ptr(),
                    out.len() as libc::c_int,
                    timeout_ptr,
                )
            };
            if n == -1 {
                if super::last_errno() == libc::EINTR {
                    continue;
                }
                return Err(kq_error("kevent", Subject::None));
            }
            return Ok(out[..n as usize]
                .iter()
                .map(|ev| ev.udata as usize)
                .collect());
        }
    }
}

/// Whether the process `handle` holds has exited: its PID is free, names another process, or
/// names it as a zombie or dying.
pub(crate) fn has_exited(handle: &Handle) -> Result<bool> {
    match super::process::bsd_info(handle.pid().get()) {
        Ok(info) => Ok(info.start_time_us != handle.start()
            || matches!(
                super::parse::process_state(&info),
                ProcessState::Zombie | ProcessState::Dead
            )),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Wait until every process in `handles` has exited (zombies count), `deadline` passes or
/// `cancel` is triggered. Returns, for each, whether it exited.
pub(crate) fn wait_all_exit(
    handles: &[&Handle],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<Vec<bool>> {
    let kq = Kqueue::new()?;
    if let Some(cancel) = cancel {
        kq.watch_read(cancel.read_fd(), CANCEL_TAG, true)?;
    }
    let mut exited = vec![false; handles.len()];
    for (i, h) in handles.iter().enumerate() {
        // Registered first, then looked at: an exit before the registration is seen by the
        // look, one after it fires the event.
        if !kq.watch_exit(h.pid().get(), i)? || has_exited(h)? {
            exited[i] = true;
        }
    }
    let mut pending = exited.iter().filter(|&&e| !e).count();
    while pending > 0 {
        if super::cancel::triggered(cancel) {
            break;
        }
        let fired = kq.wait(deadline)?;
        if fired.is_empty() {
            break;
        }
        let mut cancelled = false;
        for tag in fired {
            if tag == CANCEL_TAG {
                cancelled = true;
            } else if let Some(e) = exited.get_mut(tag)
                && !*e
            {
                *e = true;
                pending -= 1;
            }
        }
        // Exits seen in the same wake-up as the cancel still count.
        if cancelled {
            break;
        }
    }
    Ok(exited)
}
