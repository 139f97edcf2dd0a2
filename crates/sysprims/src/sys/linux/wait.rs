//! Waiting for processes to end.
//!
//! - With pidfds (Linux 5.3+): [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html)
//!   on the pidfd, which becomes readable when the process exits (a zombie counts), then
//!   [`waitid(P_PIDFD)`](https://man7.org/linux/man-pages/man2/waitid.2.html) to reap it when
//!   it is the caller's child. No polling loop: the kernel wakes us at the exit.
//! - Without (older kernels, `pidfd_open` forbidden by seccomp): a loop of
//!   `waitpid(WNOHANG)` (the caller's children) or `kill(pid, 0)` plus the `/proc` state
//!   (anyone else's), sleeping 1 ms, doubling up to [`MAX_BACKOFF`] between rounds. The result
//!   says so in its warnings.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{WaitId, WaitIdOptions, WaitOptions};

use super::cancel::{self, CancelFd};
use super::pidfd::{self, Opened, PidFd};
use super::procfs::read::ProcReader;
use super::signal::Handle;
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;
pub(crate) use crate::sys::unix::decode_wait_status;
use crate::wait::{WAIT_PID_RESULT_SCHEMA_ID, WaitPidResult};

/// Longest sleep between two rounds of the fallback loop.
const MAX_BACKOFF: Duration = Duration::from_millis(20);
/// First sleep of the fallback loop.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);

const NO_PIDFD_WARNING: &str = "no pidfd (pidfd_open needs Linux 5.3+ and may be forbidden by \
    seccomp): the exit was detected by polling waitpid/kill every 1-20 ms, and a PID reused \
    by a newcomer in between would be mistaken for the process";

fn errno_error(operation: &'static str, pid: Pid, e: Errno) -> SysprimsError {
    SysprimsError::from_errno(operation, Subject::Process(pid.get()), e.raw_os_error())
}

fn new_result(pid: Pid) -> WaitPidResult {
    WaitPidResult {
        schema_id: WAIT_PID_RESULT_SCHEMA_ID.to_string(),
        pid: pid.get(),
        exited: false,
        timed_out: false,
        exit_code: None,
        signal: None,
        ended_by: None,
        usage: None,
        warnings: Vec::new(),
    }
}

/// The usage of the job `cgroup` (read before it is removed) and the verdict on how the
/// process ended; then the cgroup goes if it is empty.
fn finish_job(result: &mut WaitPidResult, cgroup: Option<crate::job::JobCgroupRef>) {
    if let Some(cgroup) = cgroup {
        result.usage = Some(cgroup.usage());
        cgroup.remove_if_empty();
    }
    result.ended_by =
        crate::limits::EndedBy::of(result.exit_code, result.signal, result.usage.as_ref());
}

/// Wait for `pid` to exit (see [`crate::wait_pid`]), until `deadline` (`None`: no limit)
/// or until `cancel` is triggered.
pub(crate) fn wait_pid(
    pid: Pid,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    match pidfd::open(pid)? {
        Opened::Fd(fd) => wait_pidfd(&fd, deadline, cancel),
        Opened::Unsupported => wait_without_pidfd(pid, deadline, cancel),
    }
}

/// Mark a result that ended before the exit: a timeout, or a cancel (with its warning).
fn not_exited(mut result: WaitPidResult, cancel: Option<&CancelFd>) -> WaitPidResult {
    result.timed_out = true;
    if cancel::triggered(cancel) {
        result
            .warnings
            .push(crate::cancel::CANCELLED_WARNING.to_string());
    }
    result
}

/// Wait for the process `fd` holds to exit, until `deadline`: reap it if it is the caller's
/// child, and remove its job cgroup once it has exited. For owned handles that keep their own
/// pidfd. A triggered `cancel` ends the wait as a timeout does, with its warning.
pub(crate) fn wait_pidfd(
    fd: &PidFd,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let pid = fd.pid();
    let mut result = new_result(pid);
    // Read while the process is there (alive or zombie): after the reap /proc forgets it.
    let cgroup = crate::job::job_cgroup_of(pid);
    if !wait_exit(fd, deadline, cancel)? {
        return Ok(not_exited(result, cancel));
    }
    result.exited = true;
    collect_status(fd, deadline, cancel, &mut result)?;
    finish_job(&mut result, cgroup);
    Ok(result)
}

/// After `fd`'s process has exited: reap it (our child) or read its status from `/proc`
/// while it is a zombie (anyone else's).
fn collect_status(
    fd: &PidFd,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
    result: &mut WaitPidResult,
) -> Result<()> {
    let pid = fd.pid();
    let mut backoff = Duration::from_micros(50);
    loop {
        match rustix::process::waitid(
            WaitId::PidFd(fd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        ) {
            Ok(Some(status)) => {
                result.exit_code = status.exit_status();
                result.signal = status.terminating_signal();
                return Ok(());
            }
            // Our child, exited, but not reapable yet: a tracer sees its exit first. Wait
            // for that (briefly, within the deadline).
            Ok(None) => {
                if deadline.is_some_and(|d| Instant::now() >= d) || cancel::triggered(cancel) {
                    result.warnings.push(format!(
                        "PID {pid} has exited but could not be reaped before the deadline \
                         or the cancel (a tracer holds it?): its exit status is unknown"
                    ));
                    return Ok(());
                }
                cancel::pause(cancel, backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(Errno::INTR) => {}
            Err(Errno::CHILD) => {
                status_from_proc(fd, result);
                return Ok(());
            }
            Err(e) => return Err(errno_error("waitid(P_PIDFD)", pid, e)),
        }
    }
}

/// The exit status of a process that is not the caller's child, from `/proc/<pid>/stat`
/// field 52, while it is a zombie its parent has not reaped; otherwise a warning.
fn status_from_proc(fd: &PidFd, result: &mut WaitPidResult) {
    let pid = fd.pid();
    let mut reader = ProcReader::default();
    let read = (|| -> Result<Option<u32>> {
        let dir = reader.open(pid.get())?;
        // The directory was opened while the pidfd's process still held the PID (a zombie
        // holds it), so it is that process's; reads through it fail once it is reaped.
        if !fd.is_present()? {
            return Ok(None);
        }
        let (state, status) = reader.read_exit_status(&dir)?;
        Ok(status.filter(|_| state == b'Z'))
    })();
    match read {
        Ok(Some(status)) => (result.exit_code, result.signal) = decode_wait_status(status),
        _ => result.warnings.push(format!(
            "the exit status of PID {pid} is unknown: it is not the caller's child, so it \
             cannot be reaped here, and /proc no longer showed it as a zombie (its parent \
             reaped it) or may not show its status"
        )),
    }
}

/// Wait until `fd`'s process has exited (a zombie counts), `deadline` passes or `cancel` is
/// triggered. True when it exited.
pub(crate) fn wait_exit(
    fd: &PidFd,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<bool> {
    Ok(wait_all_exit(&[fd], deadline, cancel)?[0])
}

/// Wait until every process in `fds` has exited (zombies count), `deadline` passes or
/// `cancel` is triggered, with one `poll(2)` over all of them (and the cancel eventfd) per
/// wake-up; the ready ones are dropped from the set. Returns, for each, whether it exited.
/// `EINTR` restarts the wait with the time left.
pub(crate) fn wait_all_exit(
    fds: &[&PidFd],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<Vec<bool>> {
    let mut exited = vec![false; fds.len()];
    let mut pending: Vec<usize> = (0..fds.len()).collect();
    while !pending.is_empty() {
        // A time left too large for a timespec waits without limit.
        let timeout = deadline
            .and_then(|d| Timespec::try_from(d.saturating_duration_since(Instant::now())).ok());
        let mut polled: Vec<PollFd<'_>> = pending
            .iter()
            .map(|&i| PollFd::new(fds[i], PollFlags::IN))
            .collect();
        // The cancel eventfd, when given, is polled last; it stays readable once triggered.
        if let Some(cancel) = cancel {
            polled.push(PollFd::new(cancel, PollFlags::IN));
        }
        match rustix::event::poll(&mut polled, timeout.as_ref()) {
            Ok(0) => break,
            Ok(_) => {
                let mut ready: Vec<bool> = polled.iter().map(|p| !p.revents().is_empty()).collect();
                drop(polled);
                // Exits seen in the same wake-up as the cancel still count.
                let cancelled = cancel.is_some() && ready.pop() == Some(true);
                let mut k = 0;
                pending.retain(|&i| {
                    let done = ready[k];
                    k += 1;
                    if done {
                        exited[i] = true;
                    }
                    !done
                });
                if cancelled {
                    break;
                }
            }
            Err(Errno::INTR) => {}
            Err(e) => {
                let pid = fds[pending[0]].pid();
                return Err(errno_error("poll(pidfd)", pid, e));
            }
        }
    }
    Ok(exited)
}

/// Whether a process held without a pidfd has exited: no process has the PID, or it is a
/// zombie. (The PID may have been reused: that is what having no pidfd costs.)
fn exited_without_pidfd(pid: Pid) -> Result<bool> {
    match super::signal::kill(pid, Signal::PROBE) {
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(true),
        Err(e) if e.code() != ErrorCode::PermissionDenied => return Err(e),
        _ => {}
    }
    match ProcReader::default().read_summary(pid.get()) {
        Ok(s) => Ok(matches!(s.state, b'Z' | b'X' | b'x')),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// [`wait_all_exit`] over handles, some of which may have no pidfd: those are probed between
/// bounded waits on the others, with a backoff of 1 to 20 ms.
pub(crate) fn wait_handles_exit(
    handles: &[&Handle],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<Vec<bool>> {
    if handles.iter().all(|h| h.has_pidfd()) {
        let fds: Vec<&PidFd> = handles.iter().filter_map(|h| h.pidfd()).collect();
        return wait_all_exit(&fds, deadline, cancel);
    }
    let mut exited = vec![false; handles.len()];
    let mut backoff = FIRST_BACKOFF;
    loop {
        for (i, h) in handles.iter().enumerate() {
            if !exited[i] && !h.has_pidfd() {
                exited[i] = exited_without_pidfd(h.pid())?;
            }
        }
        let with_fd: Vec<usize> = (0..handles.len())
            .filter(|&i| !exited[i] && handles[i].has_pidfd())
            .collect();
        let probing = (0..handles.len()).any(|i| !exited[i] && !handles[i].has_pidfd());
        if with_fd.is_empty() && !probing {
            return Ok(exited);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || cancel::triggered(cancel) {
            // One last look at the pidfds, without waiting.
            let fds: Vec<&PidFd> = with_fd.iter().filter_map(|&i| handles[i].pidfd()).collect();
            for (k, done) in wait_all_exit(&fds, Some(now), None)?
                .into_iter()
                .enumerate()
            {
                exited[with_fd[k]] |= done;
            }
            return Ok(exited);
        }
        let slice_end = match (probing, deadline) {
            (false, d) => d,
            (true, None) => Some(now + backoff),
            (true, Some(d)) => Some(d.min(now + backoff)),
        };
        let fds: Vec<&PidFd> = with_fd.iter().filter_map(|&i| handles[i].pidfd()).collect();
        if fds.is_empty() {
            cancel::pause(
                cancel,
                slice_end.map_or(backoff, |e| e.saturating_duration_since(now)),
            );
        } else {
            for (k, done) in wait_all_exit(&fds, slice_end, cancel)?
                .into_iter()
                .enumerate()
            {
                exited[with_fd[k]] |= done;
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The fallback without pidfds: `waitpid(WNOHANG)` for the caller's children, `kill(pid, 0)`
/// and the `/proc` state for others, with a backoff of 1 to 20 ms between rounds.
fn wait_without_pidfd(
    pid: Pid,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let mut result = new_result(pid);
    result.warnings.push(NO_PIDFD_WARNING.to_string());
    match super::signal::kill(pid, Signal::PROBE) {
        Ok(()) => {}
        Err(e) if e.code() == ErrorCode::PermissionDenied => {}
        Err(_) => return Err(SysprimsError::process_not_found("wait_pid", pid.get())),
    }
    let cgroup = crate::job::job_cgroup_of(pid);
    let raw = rustix::process::Pid::from_raw(pid.as_raw()).expect("Pid is positive");
    let mut backoff = FIRST_BACKOFF;
    loop {
        match rustix::process::waitpid(Some(raw), WaitOptions::NOHANG) {
            Ok(Some((_, status))) => {
                result.exited = true;
                result.exit_code = status.exit_status();
                result.signal = status.terminating_signal();
                break;
            }
            Ok(None) => {}
            Err(Errno::INTR) => continue,
            Err(Errno::CHILD) => {
                if let Some(done) = non_child_exit(pid)? {
                    result.exited = true;
                    match done {
                        Some(status) => {
                            (result.exit_code, result.signal) = decode_wait_status(status)
                        }
                        None => result.warnings.push(format!(
                            "the exit status of PID {pid} is unknown: it is not the caller's \
                             child, and it was reaped by its parent before it could be read"
                        )),
                    }
                    break;
                }
            }
            Err(e) => return Err(errno_error("waitpid", pid, e)),
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || cancel::triggered(cancel) {
            return Ok(not_exited(result, cancel));
        }
        match deadline {
            Some(d) => cancel::pause(cancel, backoff.min(d - now)),
            None => cancel::pause(cancel, backoff),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    finish_job(&mut result, cgroup);
    Ok(result)
}

/// For a process that is not our child: `None` while it runs, `Some(status)` once it has
/// exited (the status while it is a readable zombie).
fn non_child_exit(pid: Pid) -> Result<Option<Option<u32>>> {
    let mut reader = ProcReader::default();
    let dir = match reader.open(pid.get()) {
        Ok(dir) => dir,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(Some(None)),
        Err(e) => return Err(e),
    };
    match reader.read_exit_status(&dir) {
        Ok((b'Z', status)) => Ok(Some(status)),
        Ok((b'X' | b'x', _)) => Ok(Some(None)),
        Ok(_) => Ok(None),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(Some(None)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_words() {
        assert_eq!(decode_wait_status(0), (Some(0), None));
        assert_eq!(decode_wait_status(3 << 8), (Some(3), None));
        assert_eq!(decode_wait_status(255 << 8), (Some(255), None));
        assert_eq!(decode_wait_status(9), (None, Some(9)));
        assert_eq!(decode_wait_status(0x80 | 11), (None, Some(11))); // core dumped
    }

    #[test]
    fn an_empty_set_is_done_at_once() {
        assert!(wait_all_exit(&[], None, None).unwrap().is_empty());
    }
}
