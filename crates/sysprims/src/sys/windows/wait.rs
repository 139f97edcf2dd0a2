//! Waiting for processes: `WaitForMultipleObjects` over process handles (and the cancel
//! event), then `GetExitCodeProcess`.

use std::time::Instant;

use windows_sys::Win32::Foundation::{HANDLE, WAIT_FAILED, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{INFINITE, WaitForMultipleObjects};

use super::cancel::CancelFd;
use super::handle::{BASE_ACCESS, ProcHandle};
use super::signal::Handle;
use crate::error::{Result, Subject};
use crate::pid::Pid;
use crate::wait::{WAIT_PID_RESULT_SCHEMA_ID, WaitPidResult};

/// `WaitForMultipleObjects` takes at most this many handles.
const MAX_WAIT: usize = 64;

/// Milliseconds until `deadline` for a Win32 wait (`INFINITE` for none), rounded up so a wait
/// never ends before the deadline.
fn wait_ms(deadline: Option<Instant>) -> u32 {
    match deadline {
        None => INFINITE,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            let ms = left.as_nanos().div_ceil(1_000_000);
            u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
        }
    }
}

/// Wait until one of `handles` is signalled, the deadline passes or `cancel` is set. Returns
/// the index of a signalled handle, or `None`.
fn wait_any(
    handles: &[HANDLE],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
    pid: u32,
) -> Result<Option<usize>> {
    let mut all: Vec<HANDLE> = handles.to_vec();
    if let Some(c) = cancel {
        all.push(c.raw());
    }
    // SAFETY: `all` holds open handles; its length is passed.
    let r = unsafe { WaitForMultipleObjects(all.len() as u32, all.as_ptr(), 0, wait_ms(deadline)) };
    if r == WAIT_TIMEOUT {
        return Ok(None);
    }
    if r == WAIT_FAILED {
        return Err(super::last_error(
            "WaitForMultipleObjects",
            Subject::Process(pid),
        ));
    }
    let index = (r - WAIT_OBJECT_0) as usize;
    Ok((index < handles.len()).then_some(index))
}

/// Wait for `pid` to end and report its exit code.
pub(crate) fn wait_pid(
    pid: Pid,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let handle = ProcHandle::open(pid, BASE_ACCESS)?;
    wait_process(&handle, deadline, cancel)
}

/// Wait for the process `handle` holds.
pub(crate) fn wait_process(
    handle: &ProcHandle,
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<WaitPidResult> {
    let pid = handle.pid().get();
    let mut result = WaitPidResult {
        schema_id: WAIT_PID_RESULT_SCHEMA_ID.to_string(),
        pid,
        exited: false,
        timed_out: false,
        exit_code: None,
        signal: None,
        ended_by: None,
        usage: None,
        warnings: Vec::new(),
    };
    match wait_any(&[handle.raw()], deadline, cancel, pid)? {
        Some(_) => {
            result.exited = true;
            result.exit_code = handle.exit_code()?.map(|c| c as i32);
            result.ended_by = result.exit_code.map(|_| crate::limits::EndedBy::Exit);
        }
        None if super::cancel::triggered(cancel) => {
            result
                .warnings
                .push(crate::cancel::CANCELLED_WARNING.to_string());
        }
        None => result.timed_out = true,
    }
    Ok(result)
}

/// Wait until every process in `handles` has exited, the deadline passes or `cancel` is set;
/// for each, whether it exited. At most 63 handles are waited on at once (with the cancel
/// event); the rest are checked as the first ones end.
pub(crate) fn wait_handles_exit(
    handles: &[&Handle],
    deadline: Option<Instant>,
    cancel: Option<&CancelFd>,
) -> Result<Vec<bool>> {
    let mut exited = vec![false; handles.len()];
    loop {
        for (i, h) in handles.iter().enumerate() {
            if !exited[i] {
                exited[i] = h.process().has_exited()?;
            }
        }
        let pending: Vec<usize> = (0..handles.len()).filter(|&i| !exited[i]).collect();
        if pending.is_empty()
            || super::cancel::triggered(cancel)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Ok(exited);
        }
        let batch: Vec<usize> = pending.into_iter().take(MAX_WAIT - 1).collect();
        let raws: Vec<HANDLE> = batch.iter().map(|&i| handles[i].process().raw()).collect();
        let pid = handles[batch[0]].pid().get();
        match wait_any(&raws, deadline, cancel, pid)? {
            Some(k) => exited[batch[k]] = true,
            None => {
                // Timed out or cancelled: one last look, then report.
                continue;
            }
        }
    }
}
