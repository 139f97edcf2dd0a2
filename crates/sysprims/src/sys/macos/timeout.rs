//! [`run_with_timeout`](crate::run_with_timeout) on macOS: the command in a process group of
//! its own (`posix_spawn`, `POSIX_SPAWN_SETPGROUP`), one kqueue over its exit
//! (`EVFILT_PROC`, `NOTE_EXIT`), the control's wake-up pipe and the cancel pipe, waited on
//! with the next deadline as its timeout: the command's exit wakes it at once, nothing polls.
//!
//! Signals go to the whole group with `killpg(3)` (then `SIGCONT`, so stopped members see
//! them). The group is all there is to contain the job (`best_effort`): a process that left
//! it (`setsid`, `setpgid`) is not signalled, and the run's warnings say so.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::cancel::{CancelFd, pipe};
use super::kqueue::{Kqueue, has_exited, wait_all_exit};
use super::signal::Handle;
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;
use crate::spawn::{ContainmentKind, SpawnInGroupConfig, TreeKillReliability};
use crate::sys::unix::{decode_wait_status, killpg};
use crate::timeout::{
    CommandStatus, LoopState, RunDetails, TimeoutConfig, TimeoutControl, TimeoutEvent,
    TimeoutOutcome, after, outcome,
};
use crate::tree::DEFAULT_KILL_TIMEOUT_MS;

/// Wakes a run from another thread: a pipe the run's kqueue watches.
pub(crate) struct Waker {
    read: OwnedFd,
    write: OwnedFd,
}

impl Waker {
    /// A fresh pipe.
    pub(crate) fn new() -> Result<Waker> {
        let (read, write) = pipe().map_err(|e| {
            SysprimsError::from_errno("pipe", Subject::None, e.raw_os_error().unwrap_or(0))
        })?;
        Ok(Waker { read, write })
    }

    /// Write one byte (a full pipe is awake already).
    pub(crate) fn wake(&self) {
        // SAFETY: one byte from a local to an fd we own.
        unsafe { libc::write(self.write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }

    /// Read every byte written so far (the pipe is non-blocking).
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: `buf` has the length passed.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {
        }
    }

    fn read_fd(&self) -> i32 {
        self.read.as_raw_fd()
    }
}

/// The kqueue tags of a run.
const TAG_EXIT: usize = 0;
const TAG_CONTROL: usize = 1;
const TAG_CANCEL: usize = 2;

/// The command and how to reach it.
struct Run<'a> {
    handle: Handle,
    /// The command leads a process group of its own.
    group: bool,
    control: Option<&'a TimeoutControl>,
    warnings: Vec<String>,
}

impl Run<'_> {
    fn pid(&self) -> Pid {
        self.handle.pid()
    }

    fn notify(&self, event: TimeoutEvent) {
        if let Some(c) = self.control {
            c.notify(&event);
        }
    }

    /// `signal` to the group (or the command alone, in the foreground), then `SIGCONT`.
    fn deliver(&mut self, signal: Signal) {
        let sent = if self.group {
            killpg(self.pid(), signal)
        } else {
            self.handle.send(signal)
        };
        match sent {
            Ok(()) => {}
            Err(e) if e.code() == crate::ErrorCode::NotFound => {}
            Err(e) => self
                .warnings
                .push(format!("{} not sent: {e}", signal.name())),
        }
        if signal != Signal::KILL && signal != Signal::CONT {
            let _ = if self.group {
                killpg(self.pid(), Signal::CONT)
            } else {
                self.handle.send(Signal::CONT)
            };
        }
    }

    /// The group's other members still running (none in the foreground: no group to ask).
    fn leftovers(&self) -> Vec<u32> {
        if !self.group {
            return Vec::new();
        }
        let pgid = self.pid().get();
        super::process::table()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.pgid == pgid && s.pid != pgid && !s.is_gone())
            .map(|s| s.pid)
            .collect()
    }
}

/// Reap the command (our child, exited) and decode its status.
fn reap(pid: Pid, warnings: &mut Vec<String>) -> CommandStatus {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: a positive PID and a status word we own; the child has exited.
        let r = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r == pid.as_raw() {
            let (exit_code, signal) = decode_wait_status(status as u32);
            return CommandStatus {
                exit_code,
                signal,
                ended_by: crate::limits::EndedBy::of(exit_code, signal, None),
            };
        }
        if super::last_errno() == libc::EINTR {
            continue;
        }
        warnings.push(format!(
            "the command (PID {pid}) was reaped elsewhere in this process: its exit status is \
             unknown"
        ));
        return CommandStatus {
            exit_code: None,
            signal: None,
            ended_by: None,
        };
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
    let started = super::jobs::start(spawn, !config.foreground, true, true)?;
    let kq = Kqueue::new()?;
    let mut run = Run {
        handle: started.handle,
        group: !config.foreground,
        control,
        warnings: started.warnings,
    };
    if let Some(c) = control {
        kq.watch_read(c.inner.waker.read_fd(), TAG_CONTROL, false)?;
    }
    if let Some(c) = cancel {
        // Once: the pipe stays readable after the trigger.
        kq.watch_read(c.read_fd(), TAG_CANCEL, true)?;
    }
    // Registered, then looked at: an exit before the registration is seen by the look.
    let mut exited = !kq.watch_exit(run.pid().get(), TAG_EXIT)? || has_exited(&run.handle)?;
    run.notify(TimeoutEvent::Started {
        pid: run.pid().get(),
    });

    let mut st = LoopState::new(timeout, config);
    let mut cancel = cancel;

    while !exited {
        let now = Instant::now();
        for signal in st.due(control, now) {
            run.notify(TimeoutEvent::Signalling { signal });
            run.deliver(signal);
        }
        if super::cancel::triggered(cancel) {
            // Acted on once (its kqueue event was one-shot too).
            cancel = None;
            st.cancelled();
            run.warnings
                .push(crate::cancel::CANCELLED_WARNING.to_string());
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.deliver(Signal::KILL);
        }
        if st.kill_due(now) {
            st.escalated = true;
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.deliver(Signal::KILL);
        }
        let fired = kq.wait(st.next())?;
        exited = fired.contains(&TAG_EXIT) || has_exited(&run.handle)?;
    }
    let LoopState {
        timed_out,
        escalated,
        forwarded,
        ..
    } = st;
    let status = reap(run.pid(), &mut run.warnings);

    // What the command left running in its group.
    let mut leftovers_ended = 0;
    let remaining = run.leftovers();
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
        run.deliver(signal);
        let handles: Vec<Handle> = remaining
            .iter()
            .filter_map(|&p| Pid::new(p).ok().and_then(|p| Handle::open(p).ok()))
            .collect();
        let refs: Vec<&Handle> = handles.iter().collect();
        let _ = wait_all_exit(
            &refs,
            after(Duration::from_millis(DEFAULT_KILL_TIMEOUT_MS)),
            None,
        );
    }
    let survivors = if timed_out || config.cleanup {
        run.leftovers()
    } else {
        Vec::new()
    };
    if !survivors.is_empty() {
        run.warnings.push(format!(
            "{} process(es) of the job could not be ended: {:?}",
            survivors.len(),
            survivors
        ));
    }
    if !run.group && (timed_out || config.cleanup) {
        run.warnings.push(
            "in the foreground the command has no process group of its own: only the command \
             itself was signalled, and processes it started may still run"
                .to_string(),
        );
    }
    let details = RunDetails {
        usage: None,
        pid: run.pid().get(),
        pgid: run.group.then_some(run.pid().get()),
        containment: ContainmentKind::ProcessGroup,
        tree_kill_reliability: TreeKillReliability::BestEffort,
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
