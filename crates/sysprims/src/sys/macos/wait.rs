//! Waiting for processes to end on macOS: a kqueue (`EVFILT_PROC`, `NOTE_EXIT`; see
//! [`super::kqueue`]), then `waitpid(2)` to reap the caller's child with its status, or the
//! zombie's `pbi_xstatus` for anyone else's while its parent has not reaped it.

use std::time::Instant;

use super::cancel::CancelFd;
use super::kqueue::wait_all_exit;
use super::signal::Handle;
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::ProcessState;
use crate::sys::unix::decode_wait_status;
use crate::wait::{WAIT_PID_RESULT_SCHEMA_ID, WaitPidResult};

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

/// Wait for `pid` to exit (see [`crate::wait_pid`]), until `deadline` (`None`: no limit)
/// or until `cancel` is triggered.
pub(crate) fn wait_pid(
    pid: Pid,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let handle = Handle::open(pid)?;
    wait_handle(&handle, deadline, cancel)
}

/// Wait for the process `handle` holds: reap it when it is the caller's child.
pub(crate) fn wait_handle(
    handle: &Handle,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let pid = handle.pid();
    let mut result = new_result(pid);
    // Whose child it is, read while the PID is still the process's.
    let ours = super::process::bsd_info(pid.get())
        .ok()
        .filter(|b| b.start_time_us == handle.start())
        .is_some_and(|b| b.ppid == std::process::id());
    if !wait_all_exit(&[handle], deadline, cancel)?[0] {
        result.timed_out = true;
        if super::cancel::triggered(cancel) {
            result
                .warnings
                .push(crate::cancel::CANCELLED_WARNING.to_string());
        }
        return Ok(result);
    }
    result.exited = true;
    if ours {
        reap(handle, &mut result)?;
    } else {
        status_of_zombie(handle, &mut result);
    }
    result.ended_by = crate::limits::EndedBy::of(result.exit_code, result.signal, None);
    Ok(result)
}

/// `waitpid(2)` of the caller's exited child. `ECHILD`: someone else in this process reaped
/// it first, and its status is theirs.
fn reap(handle: &Handle, result: &mut WaitPidResult) -> Result<()> {
    let pid = handle.pid();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: a positive PID and a status word we own. The child has exited (its exit
        // was seen), so this returns at once.
        let r = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r == pid.as_raw() {
            (result.exit_code, result.signal) = decode_wait_status(status as u32);
            return Ok(());
        }
        match super::last_errno() {
            libc::EINTR => continue,
            libc::ECHILD => {
                result.warnings.push(format!(
                    "PID {pid} was reaped by someone else in this process before this wait \
                     could: its exit status is unknown"
                ));
                return Ok(());
            }
            errno => {
                return Err(SysprimsError::from_errno(
                    "waitpid",
                    Subject::Process(pid.get()),
                    errno,
                ));
            }
        }
    }
}

/// The exit status of a process that is not the caller's child: `pbi_xstatus` while it is a
/// zombie its parent has not reaped; otherwise a warning.
fn status_of_zombie(handle: &Handle, result: &mut WaitPidResult) {
    let pid = handle.pid();
    match super::process::bsd_info(pid.get()) {
        Ok(info)
            if info.start_time_us == handle.start()
                && super::parse::process_state(&info) == ProcessState::Zombie =>
        {
            (result.exit_code, result.signal) = decode_wait_status(info.exit_status);
        }
        _ => result.warnings.push(format!(
            "the exit status of PID {pid} is unknown: it is not the caller's child, so it \
             cannot be reaped here, and it was no longer a zombie (its parent reaped it)"
        )),
    }
}

/// Wait until every process in `handles` has exited, the deadline passes or `cancel` is set;
/// for each, whether it exited.
pub(crate) fn wait_handles_exit(
    handles: &[&Handle],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<Vec<bool>> {
    wait_all_exit(handles, deadline, cancel)
}
