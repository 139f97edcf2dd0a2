//! [`run_with_timeout`](crate::run_with_timeout) on Linux: one `ppoll(2)` over the
//! command's pidfd and the control's eventfd, with the next deadline as its timeout. The
//! command's exit wakes it at once; nothing polls on a timer.
//!
//! The command is held by its job cgroup (or, without one, by its process group and a walk of
//! its descendants). Its exit status is read with `waitid(WNOWAIT)` and it is reaped only at
//! the end, so that while the leftovers are being ended its PID, and so its process group,
//! cannot be reused.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{WaitId, WaitIdOptions, WaitIdStatus};

use super::cancel::CancelFd;
use super::cgroup;
use super::jobs;
use super::signal::Handle;
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;
use crate::spawn::{ContainmentKind, SpawnInGroupConfig, TreeKillReliability};
use crate::timeout::{
    CommandStatus, LoopState, RunDetails, TimeoutConfig, TimeoutControl, TimeoutEvent,
    TimeoutOutcome, after, outcome,
};
use crate::tree::DEFAULT_KILL_TIMEOUT_MS;

/// Wakes a run from another thread: an eventfd.
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub(crate) fn new() -> Result<Waker> {
        let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| SysprimsError::from_errno("eventfd", Subject::None, e.raw_os_error()))?;
        Ok(Waker { fd })
    }

    pub(crate) fn wake(&self) {
        // Only EAGAIN (the counter is full, so a wake-up is pending anyway) can fail here.
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut buf);
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The command and what holds it.
struct Run<'a> {
    handle: Handle,
    pid: Pid,
    cgroup: Option<PathBuf>,
    own_group: bool,
    control: Option<&'a TimeoutControl>,
    /// A cancel token still to watch (dropped once it has fired: it stays readable).
    cancel: Option<&'a CancelFd>,
    warnings: Vec<String>,
    /// The command has exited (and is a zombie until [`Run::reap`]).
    exited: bool,
    /// The command has been reaped: its PID and group may be someone else's now.
    reaped: bool,
    /// Ends the job if this process dies before the run is over.
    watchdog: jobs::JobWatchdog,
    /// Where the job's memory and pids counters are.
    placement: super::limits::Placement,
}

impl Run<'_> {
    fn notify(&self, event: TimeoutEvent) {
        if let Some(c) = self.control {
            c.notify(&event);
        }
    }

    /// The processes of the job other than the command, found without a cgroup: members of
    /// its process group (while it has one) and its descendants (while it is alive).
    fn walk_members(&self) -> Vec<u32> {
        let Ok(all) = super::process::summaries() else {
            return Vec::new();
        };
        let own = std::process::id();
        let pid = self.pid.get();
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for s in &all {
            children.entry(s.ppid).or_default().push(s.pid);
        }
        let mut found: HashSet<u32> = HashSet::new();
        let mut stack = vec![pid];
        while let Some(p) = stack.pop() {
            for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
                if found.insert(c) {
                    stack.push(c);
                }
            }
        }
        if self.own_group {
            for s in &all {
                if s.pgid == pid && s.pid != pid {
                    found.insert(s.pid);
                }
            }
        }
        let alive: HashSet<u32> = all
            .iter()
            .filter(|s| !matches!(s.state, b'Z' | b'X' | b'x') && !s.kernel_thread)
            .map(|s| s.pid)
            .collect();
        let mut v: Vec<u32> = found
            .into_iter()
            .filter(|p| *p != own && *p != 1 && alive.contains(p))
            .collect();
        v.sort_unstable();
        v
    }

    /// The job's processes other than the command, alive now.
    fn leftovers(&self) -> Vec<u32> {
        let pid = self.pid.get();
        match &self.cgroup {
            // One read of cgroup.events answers the common case: nothing left.
            Some(dir) if !cgroup::is_populated(dir).unwrap_or(true) => Vec::new(),
            Some(dir) => cgroup::procs(dir)
                .unwrap_or_default()
                .into_iter()
                .filter(|&p| p != pid)
                .collect(),
            None => self.walk_members(),
        }
    }

    /// Send `signal` to every process of the job.
    fn signal_job(&mut self, signal: Signal) {
        if signal.number() == 0 {
            return;
        }
        if let Some(dir) = self.cgroup.clone() {
            let killed = signal == Signal::KILL && cgroup::kill_all(&dir).unwrap_or(false);
            if !killed {
                let mut seen = HashSet::new();
                if let Err(e) = jobs::signal_members(&dir, signal, &mut seen, &mut self.warnings) {
                    self.warnings
                        .push(format!("could not signal the job's cgroup: {e}"));
                }
            }
            // The command itself may be a zombie already: nothing to do for it.
            return;
        }
        if !self.exited {
            let _ = self.handle.send(signal);
        }
        if self.own_group && !self.reaped {
            // The command, alive or a zombie, keeps its group ID from being reused.
            let _ = super::signal::killpg(self.pid, signal);
        }
        for p in self.walk_members() {
            if let Ok(p) = Pid::new(p) {
                let _ = Handle::open(p).and_then(|h| h.send(signal));
            }
        }
    }

    /// `signal`, then `SIGCONT` so that stopped processes act on it (as GNU `timeout` does).
    fn signal_and_continue(&mut self, signal: Signal) {
        self.signal_job(signal);
        if signal != Signal::KILL && signal != Signal::CONT && signal.number() != 0 {
            self.signal_job(Signal::CONT);
        }
    }

    /// The command's status once it has exited, read without reaping it.
    fn peek_status(&self, reap: bool) -> Result<Option<CommandStatus>> {
        let mut options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        if !reap {
            options |= WaitIdOptions::NOWAIT;
        }
        let result = match self.handle.pidfd() {
            Some(fd) => rustix::process::waitid(WaitId::PidFd(fd.as_fd()), options),
            None => rustix::process::waitid(
                WaitId::Pid(rustix::process::Pid::from_raw(self.pid.get() as i32).expect("pid")),
                options,
            ),
        };
        match result {
            Ok(Some(status)) => Ok(Some(decode(&status))),
            Ok(None) => Ok(None),
            Err(Errno::INTR) => Ok(None),
            Err(e) => Err(SysprimsError::from_errno(
                "waitid",
                Subject::Process(self.pid.get()),
                e.raw_os_error(),
            )),
        }
    }

    /// Wait for the next event: the command's exit, a control request, or `deadline`.
    /// Returns whether the command has exited.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let timeout = deadline.map(|d| {
            Timespec::try_from(d.saturating_duration_since(Instant::now())).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        // Without a pidfd the exit is found by asking waitid every 5 ms.
        let fallback = if self.handle.pidfd().is_none() {
            let t = Timespec {
                tv_sec: 0,
                tv_nsec: 5_000_000,
            };
            Some(match timeout {
                Some(d) if (d.tv_sec, d.tv_nsec) < (t.tv_sec, t.tv_nsec) => d,
                _ => t,
            })
        } else {
            None
        };
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(2);
        if let Some(fd) = self.handle.pidfd() {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        if let Some(c) = self.control {
            fds.push(PollFd::from_borrowed_fd(c.inner.waker.fd(), PollFlags::IN));
        }
        if let Some(c) = self.cancel {
            fds.push(PollFd::new(c, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, fallback.as_ref().or(timeout.as_ref())) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => {
                return Err(SysprimsError::from_errno(
                    "poll",
                    Subject::Process(self.pid.get()),
                    e.raw_os_error(),
                ));
            }
        }
        if self.handle.pidfd().is_some() {
            // The pidfd is the first entry; readable means exited.
            return Ok(!fds[0].revents().is_empty());
        }
        drop(fds);
        Ok(self.peek_status(false)?.is_some())
    }

    /// Reap the command (its status was already read) and remove the job's cgroup if empty.
    fn finish(&mut self) {
        if !self.reaped {
            let _ = self.peek_status(true);
            self.reaped = true;
        }
    }
}

fn decode(status: &WaitIdStatus) -> CommandStatus {
    CommandStatus {
        exit_code: status.exit_status(),
        signal: status.terminating_signal(),
        ended_by: None,
    }
}

/// Ends the job if the run fails half-way, so an error never leaves it running.
struct KillOnError<'r, 'a> {
    run: &'r mut Run<'a>,
    armed: bool,
}

impl Drop for KillOnError<'_, '_> {
    fn drop(&mut self) {
        if self.armed {
            self.run.signal_job(Signal::KILL);
            if !self.run.reaped {
                if let Some(fd) = self.run.handle.pidfd() {
                    let _ = super::wait::wait_exit(fd, after(Duration::from_secs(2)), None);
                }
                self.run.finish();
            }
            if let Some(dir) = &self.run.cgroup {
                jobs::remove_if_empty(dir);
            }
            // Whatever could not be ended yet: the cgroup goes once it is empty.
            let dir = self.run.cgroup.clone();
            self.run.watchdog.retire(dir.as_deref());
        }
    }
}

/// Run the command `spawn` describes until it exits, under `timeout` (zero: none).
pub(crate) fn run(
    spawn: &SpawnInGroupConfig,
    timeout: Duration,
    config: &TimeoutConfig,
    control: Option<&TimeoutControl>,
    cancel: Option<&CancelFd>,
) -> Result<TimeoutOutcome> {
    let start = Instant::now();
    let own_group = !config.foreground;
    // No sweep of stale job cgroups on this path, which `timeout 10 true` makes hot: it runs
    // at the end instead, when this run leaves a cgroup behind.
    // The watchdog does for the whole job what PR_SET_PDEATHSIG does for the command.
    let started = jobs::start(spawn, own_group, false, spawn.kill_on_parent_death)?;
    let pid = started.handle.pid();
    let mut run = Run {
        handle: started.handle,
        pid,
        cgroup: started.cgroup,
        own_group,
        control,
        cancel,
        warnings: started.warnings,
        exited: false,
        reaped: false,
        watchdog: started.watchdog,
        placement: started.placement,
    };
    if run.cgroup.is_none() {
        run.warnings.push(
            "without a cgroup the job is reached through its process group and its \
             descendants: processes that left both (setsid, double fork) are out of reach"
                .to_string(),
        );
    }
    run.notify(TimeoutEvent::Started { pid: pid.get() });
    let mut guard = KillOnError {
        run: &mut run,
        armed: true,
    };
    let outcome = drive(&mut guard, timeout, config, start)?;
    guard.armed = false;
    Ok(outcome)
}

fn drive(
    guard: &mut KillOnError<'_, '_>,
    timeout: Duration,
    config: &TimeoutConfig,
    start: Instant,
) -> Result<TimeoutOutcome> {
    let run = &mut *guard.run;
    let kill_after = config.kill_after();
    let mut st = LoopState::new(timeout, config);

    // Until the command exits.
    loop {
        let now = Instant::now();
        for signal in st.due(run.control, now) {
            run.notify(TimeoutEvent::Signalling { signal });
            run.signal_and_continue(signal);
        }
        if super::cancel::triggered(run.cancel) {
            // Cancelled: end the job now, whole, and stop watching the token.
            run.cancel = None;
            st.cancelled();
            run.warnings
                .push(crate::cancel::CANCELLED_WARNING.to_string());
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.signal_job(Signal::KILL);
        }
        if st.kill_due(now) {
            st.escalated = true;
            run.notify(TimeoutEvent::Signalling {
                signal: Signal::KILL,
            });
            run.signal_job(Signal::KILL);
        }
        if run.wait(st.next())? {
            break;
        }
    }
    let LoopState {
        timed_out,
        escalated,
        mut kill_at,
        forwarded,
        ..
    } = st;
    run.exited = true;
    let status = loop {
        match run.peek_status(false)? {
            Some(status) => break status,
            // A tracer sees the exit first; wait for it to let go.
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };

    // What the command left running.
    let mut leftovers_ended = 0;
    let mut remaining = run.leftovers();
    if !remaining.is_empty() && (timed_out || config.cleanup) {
        if !timed_out {
            if let Some(k) = kill_after {
                run.notify(TimeoutEvent::EndingLeftovers {
                    signal: config.signal,
                    count: remaining.len(),
                });
                run.signal_and_continue(config.signal);
                if kill_at.is_none() {
                    kill_at = after(k);
                }
            }
        }
        leftovers_ended = remaining.len() as u32;
        // They have had the signal: give them until the KILL time, if there is one.
        if kill_at.is_some() {
            wait_empty(run, kill_at)?;
            remaining = run.leftovers();
        }
        if !remaining.is_empty() {
            run.notify(TimeoutEvent::EndingLeftovers {
                signal: Signal::KILL,
                count: remaining.len(),
            });
            run.signal_job(Signal::KILL);
            wait_empty(run, after(Duration::from_millis(DEFAULT_KILL_TIMEOUT_MS)))?;
        }
    }
    let left = if remaining.is_empty() {
        remaining
    } else {
        run.leftovers()
    };
    let survivors = if timed_out || config.cleanup {
        left.clone()
    } else {
        Vec::new()
    };
    // What the whole job used, before its cgroup goes (with leftovers running: so far).
    let usage = run
        .cgroup
        .as_deref()
        .map(|dir| super::limits::usage_placed(dir, &run.placement));
    if usage.is_none() {
        run.warnings
            .push(crate::limits::NO_USAGE_WARNING.to_string());
    }
    let mut status = status;
    status.ended_by = crate::limits::EndedBy::of(status.exit_code, status.signal, usage.as_ref());
    run.finish();
    // With leftovers running (the command exited, no cleanup asked for), the watchdog stays
    // to remove the cgroup once they have exited: nobody else may be there to do it.
    // Otherwise it is ended now (and reaped later: see `dismiss`).
    if left.is_empty() {
        run.watchdog.dismiss();
    } else {
        let dir = run.cgroup.clone();
        run.watchdog.retire(dir.as_deref());
    }
    if let Some(dir) = &run.cgroup {
        if left.is_empty() {
            if let Err(e) = cgroup::remove_tree(dir) {
                run.warnings.push(format!(
                    "the job is over but its cgroup {} could not be removed: {e}",
                    dir.display()
                ));
            }
        } else if let Some(parent) = dir.parent() {
            // The leftovers keep the cgroup; a later spawn removes it once they are gone.
            jobs::maybe_sweep(parent);
        }
    }
    if !survivors.is_empty() {
        run.warnings.push(format!(
            "{} process(es) of the job could not be ended: {:?}",
            survivors.len(),
            survivors
        ));
    }
    let details = RunDetails {
        pid: run.pid.get(),
        pgid: run.own_group.then_some(run.pid.get()),
        containment: if run.cgroup.is_some() {
            ContainmentKind::CgroupV2
        } else {
            ContainmentKind::ProcessGroup
        },
        tree_kill_reliability: if run.cgroup.is_some() {
            TreeKillReliability::Guaranteed
        } else {
            TreeKillReliability::BestEffort
        },
        cgroup: run.cgroup.clone(),
        forwarded_signals: forwarded,
        leftovers_ended,
        survivors,
        elapsed_ms: start.elapsed().as_millis() as u64,
        warnings: std::mem::take(&mut run.warnings),
        usage,
    };
    Ok(outcome(
        timed_out,
        escalated,
        config.signal,
        status,
        details,
    ))
}

/// Wait until the job has no process left but the command (a zombie), or `deadline`.
fn wait_empty(run: &Run<'_>, deadline: Option<Instant>) -> Result<()> {
    match &run.cgroup {
        Some(dir) => wait_cgroup_empty(dir, deadline),
        None => {
            let handles: Vec<Handle> = run
                .walk_members()
                .into_iter()
                .filter_map(|p| Pid::new(p).ok())
                .filter_map(|p| Handle::open(p).ok())
                .collect();
            let refs: Vec<&Handle> = handles.iter().collect();
            super::wait::wait_handles_exit(&refs, deadline, None).map(|_| ())
        }
    }
}

fn wait_cgroup_empty(dir: &Path, deadline: Option<Instant>) -> Result<()> {
    cgroup::wait_events(dir, deadline, None, |e| !e.populated)
        .map(|_| ())
        .map_err(|e| {
            SysprimsError::from_errno(
                "wait for a job cgroup to empty",
                Subject::Path(dir.to_path_buf()),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })
}
