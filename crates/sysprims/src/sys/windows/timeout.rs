//! [`run_with_timeout`](crate::run_with_timeout) on Windows: the command in a Job Object of
//! its own, one `WaitForMultipleObjects` over its process handle and the control's event,
//! with the next deadline as its timeout. The command's exit wakes it at once.
//!
//! Windows has no signals. A signal "sent" to the job is, in order: the graceful step where
//! one reaches anything (`WM_CLOSE` to the job's windows, `CTRL_BREAK_EVENT` to its console
//! process group), else `TerminateJobObject` at once, every process getting the exit code
//! 128 + N (143 for TERM). `KILL` is always `TerminateJobObject` (137). So the exit statuses
//! are GNU's: 124 on a timeout, 128 + N with `--preserve-status`, 137 when KILL was needed.

#![allow(unsafe_code)]

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::Threading::{
    CreateEventW, SetEvent, TerminateProcess, WaitForMultipleObjects,
};

use super::cancel::CancelFd;
use super::job_object::remaining_ms;
use super::jobs::{self, JobEntry, exit_code, exit_code_for};
use crate::error::{Result, SysprimsError};
use crate::signal::Signal;
use crate::spawn::SpawnInGroupConfig;
use crate::timeout::{
    CommandStatus, LoopState, RunDetails, TimeoutConfig, TimeoutControl, TimeoutEvent,
    TimeoutOutcome, after, outcome,
};
use crate::tree::DEFAULT_KILL_TIMEOUT_MS;

/// Wakes a run from another thread: an auto-reset event.
pub(crate) struct Waker {
    event: OwnedHandle,
}

// SAFETY: an event handle may be signalled and waited on from any thread.
unsafe impl Send for Waker {}
// SAFETY: as above.
unsafe impl Sync for Waker {}

impl Waker {
    pub(crate) fn new() -> Result<Waker> {
        // SAFETY: default security, auto-reset, unsignalled, unnamed.
        let h = unsafe { CreateEventW(ptr::null(), 0, 0, ptr::null()) };
        if h.is_null() {
            let e = std::io::Error::last_os_error();
            return Err(SysprimsError::System {
                operation: "CreateEventW",
                subject: crate::error::Subject::None,
                errno: e.raw_os_error().unwrap_or(0),
            });
        }
        Ok(Waker {
            // SAFETY: a fresh handle we own.
            event: unsafe { OwnedHandle::from_raw_handle(h as RawHandle) },
        })
    }

    pub(crate) fn wake(&self) {
        // SAFETY: a valid event handle.
        unsafe { SetEvent(self.event.as_raw_handle() as HANDLE) };
    }

    /// Nothing to drain: the event resets itself when a wait returns on it.
    pub(crate) fn drain(&self) {}

    fn raw(&self) -> HANDLE {
        self.event.as_raw_handle() as HANDLE
    }
}

/// The command and what holds it.
struct Run<'a> {
    pid: u32,
    process: OwnedHandle,
    job: Option<Arc<JobEntry>>,
    control: Option<&'a TimeoutControl>,
    /// The command leads a console process group of its own.
    own_group: bool,
    warnings: Vec<String>,
    /// The signal whose exit code the job was terminated with, if it was.
    terminated_with: Option<Signal>,
}

impl Run<'_> {
    fn notify(&self, event: TimeoutEvent) {
        if let Some(c) = self.control {
            c.notify(&event);
        }
    }

    fn members(&self) -> Vec<u32> {
        match &self.job {
            Some(e) => e.job.pids().unwrap_or_default(),
            None => exit_code(self.process.as_raw_handle())
                .is_none()
                .then_some(self.pid)
                .into_iter()
                .collect(),
        }
    }

    /// End the whole job now, every process with 128 + `signal`'s number.
    fn terminate(&mut self, signal: Signal) {
        let code = exit_code_for(signal);
        if self.terminated_with.is_none() {
            self.terminated_with = Some(signal);
        }
        match &self.job {
            Some(e) => {
                if let Err(err) = e.job.terminate(code) {
                    self.warnings
                        .push(format!("TerminateJobObject failed: {err}"));
                }
            }
            None => {
                // SAFETY: our child's handle, with all access.
                unsafe { TerminateProcess(self.process.as_raw_handle() as HANDLE, code) };
            }
        }
    }

    /// "Send" `signal` to the job (module docs). Returns whether the job was terminated
    /// (false: the graceful step reached something, and the job has time to act on it).
    fn deliver(&mut self, signal: Signal) -> bool {
        if signal != Signal::KILL && jobs::graceful(self.pid, self.own_group, &self.members()) > 0 {
            return false;
        }
        self.terminate(signal);
        true
    }

    /// Wait for the command's exit, a control request, or `deadline`; true once it exited.
    fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut handles = vec![self.process.as_raw_handle() as HANDLE];
        if let Some(c) = self.control {
            handles.push(c.inner.waker.raw());
        }
        // SAFETY: one or two valid handles.
        let r = unsafe {
            WaitForMultipleObjects(
                handles.len() as u32,
                handles.as_ptr(),
                0,
                remaining_ms(deadline),
            )
        };
        r == 0 || exit_code(self.process.as_raw_handle()).is_some()
    }

    /// Wait until the job is empty, or `deadline`.
    fn wait_empty(&self, deadline: Option<Instant>) {
        if let Some(e) = &self.job {
            let _ = e.job.wait_empty(deadline);
        }
    }
}

/// Run the command under the deadline (module docs).
pub(crate) fn run(
    spawn: &SpawnInGroupConfig,
    timeout: Duration,
    config: &TimeoutConfig,
    control: Option<&TimeoutControl>,
    cancel: Option<&CancelFd>,
) -> Result<TimeoutOutcome> {
    let start = Instant::now();
    let started = jobs::start(spawn, !config.foreground, true, true)?;
    let (containment, reliability) = started.containment();
    let mut watchdog = started.watchdog;
    let _ = &mut watchdog;
    let mut run = Run {
        pid: started.handle.pid().get(),
        process: started.process,
        job: started.job,
        control,
        own_group: !config.foreground,
        warnings: started.warnings,
        terminated_with: None,
    };
    // With kill_on_parent_death (the default) kill-on-close is on: this process's death,
    // even by TerminateProcess, ends the whole job.
    run.notify(TimeoutEvent::Started { pid: run.pid });

    let mut st = LoopState::new(timeout, config);
    let mut cancel = cancel;

    loop {
        let now = Instant::now();
        for signal in st.due(control, now) {
            run.notify(TimeoutEvent::Signalling { signal });
            if run.terminated_with.is_none() {
                run.deliver(signal);
            }
        }
        if super::cancel::triggered(cancel) {
            cancel = None;
            st.cancelled();
            run.warnings
                .push(crate::cancel::CANCELLED_WARNING.to_string());
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.terminate(Signal::KILL);
        }
        if st.kill_due(now) && exit_code(run.process.as_raw_handle()).is_none() {
            st.escalated = true;
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.terminated_with = None;
            run.terminate(Signal::KILL);
        }
        if run.wait(st.next()) {
            break;
        }
    }
    let LoopState {
        timed_out,
        escalated,
        forwarded,
        ..
    } = st;
    let code = exit_code(run.process.as_raw_handle()).unwrap_or(0);
    let status = match run.terminated_with {
        Some(signal) if code == exit_code_for(signal) => CommandStatus {
            exit_code: None,
            signal: Some(signal.number()),
            ended_by: Some(crate::limits::EndedBy::Signal),
        },
        _ => CommandStatus {
            exit_code: Some(code as i32),
            signal: None,
            ended_by: Some(crate::limits::EndedBy::Exit),
        },
    };

    // What the command left running.
    let mut leftovers_ended = 0;
    let remaining: Vec<u32> = run
        .members()
        .into_iter()
        .filter(|&p| p != run.pid)
        .collect();
    if !remaining.is_empty() && (timed_out || config.cleanup) {
        leftovers_ended = remaining.len() as u32;
        let signal = if timed_out {
            Signal::KILL
        } else {
            config.signal
        };
        run.notify(TimeoutEvent::EndingLeftovers {
            signal,
            count: remaining.len(),
        });
        if let Some(e) = &run.job {
            let _ = e.job.terminate(exit_code_for(signal));
        }
        run.wait_empty(after(Duration::from_millis(DEFAULT_KILL_TIMEOUT_MS)));
    }
    let left: Vec<u32> = run
        .members()
        .into_iter()
        .filter(|&p| p != run.pid)
        .collect();
    let survivors = if timed_out || config.cleanup {
        left.clone()
    } else {
        Vec::new()
    };
    if !(left.is_empty() || timed_out || config.cleanup) {
        // Leftovers of a command that completed run on, as GNU leaves them: the job must
        // not die with this process.
        watchdog.release();
    }
    if !survivors.is_empty() {
        run.warnings.push(format!(
            "{} process(es) of the job could not be ended: {:?}",
            survivors.len(),
            survivors
        ));
    }
    if run.job.is_none() && (timed_out || config.cleanup) {
        run.warnings.push(
            "without a job object only the command itself was ended: processes it started \
             may still run"
                .to_string(),
        );
    }
    // Done with the job: kill-on-close (if on) fires on an empty job, or, after `end`, not.
    drop(watchdog);
    let details = RunDetails {
        usage: None,
        pid: run.pid,
        pgid: None,
        containment,
        tree_kill_reliability: reliability,
        cgroup: None,
        forwarded_signals: forwarded,
        leftovers_ended,
        survivors,
        elapsed_ms: start.elapsed().as_millis() as u64,
        warnings: std::mem::take(&mut run.warnings),
    };
    Ok(outcome(
        timed_out,
        escalated,
        config.signal,
        status,
        details,
    ))
}
