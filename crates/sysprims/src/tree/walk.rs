//! Trees not held by a cgroup: walk `/proc`, stop, signal, continue, wait.
//!
//! The walk follows parent links over one pass of `/proc/<pid>/stat` at a time. Every process
//! it takes is opened as a pidfd first and checked against what the pass saw (same PID, same
//! start tick, still there after the check), and every signal goes through that pidfd, so a
//! PID reused during the call is never hit. The tree is frozen with `SIGSTOP` top-down and
//! re-walked until a pass finds nothing new after a pass that saw every process stopped: a
//! stopped process cannot fork, so that last pass saw the whole tree.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::{KillDescendantsOptions, TerminateTreeConfig, TerminateTreeResult, empty_result};
use crate::error::{ErrorCode, Result, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::process::{ProcessFilter, SnapshotOptions};
use crate::signal::{
    KillReport, ProcessHandle, Signal, SignalOptions, TargetResult, signal_if_with,
};
use crate::spawn::TreeKillReliability;
use crate::sys::ProcSummary;
use crate::sys::cancel::CancelFd;
use crate::sys::process as sys;

/// How long the stop phase may take before it gives up on processes that will not stop (in
/// uninterruptible sleep, or waiting for a vfork child) and goes on without them frozen.
const STOP_BUDGET: Duration = Duration::from_millis(100);

/// Always in the warnings of a walk: what a walk cannot see.
const BEST_EFFORT_WARNING: &str = "best effort: the tree was found by walking parent links in \
    /proc, so processes that left it before the call (setsid or double-fork daemons, children \
    reparented to init or a subreaper) cannot be reached; only a cgroup (spawn_in_group) holds \
    a whole job";

/// One process of the tree, held by a pidfd.
struct Target {
    handle: ProcessHandle,
    start: u64,
    /// Parent and process group, as the latest pass saw them.
    ppid: u32,
    pgid: u32,
    /// Never signalled: the caller, its ancestors, PID 1. Walked through all the same.
    protected: bool,
    /// Exited (zombie) or reaped.
    gone: bool,
    /// Seen stopped in the latest pass.
    stopped: bool,
    /// We sent it `SIGSTOP` and owe it a `SIGCONT`.
    owes_cont: bool,
    /// A terminating signal reached it.
    signalled: bool,
    /// We may not signal it (`EPERM`).
    denied: bool,
}

impl Target {
    fn pid(&self) -> u32 {
        self.handle.pid().get()
    }

    /// Still to be stopped or killed.
    fn actionable(&self) -> bool {
        !self.gone && !self.protected && !self.denied
    }
}

/// The state of one call: the targets found so far, in the order found (parents first).
struct Walk {
    targets: Vec<Target>,
    /// PID of each target that is not gone, to its index.
    live: HashMap<u32, usize>,
    /// The root's process group, when the root leads one that is not the caller's: its other
    /// members belong to the tree too.
    group: Option<u32>,
    /// The caller and its ancestors.
    protected: HashSet<u32>,
    /// Whether new targets are stopped as they are found.
    stopping: bool,
    warnings: Vec<String>,
}

impl Drop for Walk {
    /// Every process stopped is continued, on every path, errors and panics included.
    fn drop(&mut self) {
        self.continue_all();
    }
}

fn list(pids: &[u32]) -> String {
    let mut s: Vec<String> = pids.iter().map(u32::to_string).collect();
    if s.len() > 20 {
        let more = s.len() - 20;
        s.truncate(20);
        s.push(format!("and {more} more"));
    }
    s.join(", ")
}

impl Walk {
    fn new(root: ProcessHandle, root_summary: &ProcSummary, table: &[ProcSummary]) -> Walk {
        let me = Pid::current().get();
        // The caller and its ancestors, up the parent links of this pass.
        let parents: HashMap<u32, u32> = table.iter().map(|s| (s.pid, s.ppid)).collect();
        let mut protected = HashSet::from([me, 1]);
        let mut at = me;
        while let Some(&parent) = parents.get(&at) {
            if parent == 0 || !protected.insert(parent) {
                break;
            }
            at = parent;
        }
        let root_pid = root.pid().get();
        let group = table
            .iter()
            .find(|s| s.pid == root_pid)
            .map(|s| s.pgid)
            .filter(|&pgid| pgid == root_pid && pgid != crate::sys::signal::own_process_group());
        let mut walk = Walk {
            targets: Vec::new(),
            live: HashMap::new(),
            group,
            protected,
            stopping: false,
            warnings: Vec::new(),
        };
        let protected = walk.protected.contains(&root_pid);
        walk.add(root, root_summary, protected);
        walk
    }

    fn add(&mut self, handle: ProcessHandle, s: &ProcSummary, protected: bool) -> usize {
        let index = self.targets.len();
        self.live.insert(handle.pid().get(), index);
        self.targets.push(Target {
            handle,
            start: s.start,
            ppid: s.ppid,
            pgid: s.pgid,
            protected,
            gone: false,
            stopped: false,
            owes_cont: false,
            signalled: false,
            denied: false,
        });
        index
    }

    fn mark_gone(&mut self, index: usize) {
        let t = &mut self.targets[index];
        t.gone = true;
        t.owes_cont = false;
        let pid = t.pid();
        if self.live.get(&pid) == Some(&index) {
            self.live.remove(&pid);
        }
    }

    /// Send a signal that stops, continues or ends, through the target's pidfd.
    fn send(&mut self, index: usize, signal: Signal) -> bool {
        let t = &mut self.targets[index];
        match t
            .handle
            .signal_with(signal, SignalOptions::allowing_protected())
        {
            Ok(()) => true,
            Err(e) if e.code() == ErrorCode::NotFound => {
                self.mark_gone(index);
                false
            }
            Err(e) => {
                if e.code() == ErrorCode::PermissionDenied {
                    t.denied = true;
                } else {
                    let pid = t.pid();
                    self.warnings
                        .push(format!("could not send {signal} to PID {pid}: {e}"));
                }
                false
            }
        }
    }

    fn stop(&mut self, index: usize) {
        if self.send(index, Signal::STOP) {
            self.targets[index].owes_cont = true;
        }
    }

    fn continue_one(&mut self, index: usize) {
        let t = &mut self.targets[index];
        if t.owes_cont {
            t.owes_cont = false;
            let _ = t
                .handle
                .signal_with(Signal::CONT, SignalOptions::allowing_protected());
        }
    }

    fn continue_all(&mut self) {
        for i in 0..self.targets.len() {
            self.continue_one(i);
        }
    }

    /// One pass over the process table: update what the known targets are doing, and take
    /// in (and stop, when stopping) the processes that newly belong to the tree. Returns how
    /// many were taken in.
    fn pass(&mut self, table: &[ProcSummary]) -> Result<usize> {
        let by_pid: HashMap<u32, &ProcSummary> = table.iter().map(|s| (s.pid, s)).collect();
        for i in 0..self.targets.len() {
            if self.targets[i].gone {
                continue;
            }
            match by_pid.get(&self.targets[i].pid()) {
                Some(s) if s.start == self.targets[i].start => {
                    if s.is_gone() {
                        self.mark_gone(i);
                    } else {
                        let t = &mut self.targets[i];
                        t.stopped = s.is_stopped();
                        (t.ppid, t.pgid) = (s.ppid, s.pgid);
                    }
                }
                // Reaped (and maybe its PID taken by a newcomer).
                _ => self.mark_gone(i),
            }
        }
        let root_present = !self.targets[0].gone;
        let mut children: HashMap<u32, Vec<&ProcSummary>> = HashMap::new();
        let mut queue: VecDeque<&ProcSummary> = VecDeque::new();
        for s in table {
            if s.pid != s.ppid {
                children.entry(s.ppid).or_default().push(s);
            }
            // Members of the root's group: the group ID is the root's PID, which nobody else
            // can hold while the root is there (a zombie holds it too).
            if root_present && self.group == Some(s.pgid) && !self.live.contains_key(&s.pid) {
                queue.push_back(s);
            }
        }
        let mut found: Vec<&ProcSummary> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        for &pid in self.live.keys() {
            if let Some(kids) = children.get(&pid) {
                queue.extend(kids.iter().copied());
            }
        }
        while let Some(s) = queue.pop_front() {
            if self.live.contains_key(&s.pid) || !seen.insert(s.pid) {
                continue;
            }
            if s.kernel_thread || s.is_gone() {
                continue;
            }
            found.push(s);
            if let Some(kids) = children.get(&s.pid) {
                queue.extend(kids.iter().copied());
            }
        }
        let mut taken = 0;
        for s in found {
            let Some(handle) = self.open_checked(s)? else {
                continue;
            };
            let protected = self.protected.contains(&s.pid);
            let index = self.add(handle, s, protected);
            self.targets[index].stopped = s.is_stopped();
            taken += 1;
            if self.stopping && self.targets[index].actionable() {
                self.stop(index);
            }
        }
        Ok(taken)
    }

    /// Open the process a pass saw, and make sure the pidfd holds that process: its start
    /// tick read after the open matches the pass, and it is still there after the read.
    /// `None` when it has gone (or its PID names a newcomer).
    fn open_checked(&self, s: &ProcSummary) -> Result<Option<ProcessHandle>> {
        let handle = match ProcessHandle::open(s.pid) {
            Ok(h) => h,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = sys::table_of(&[s.pid])?;
        let same = now
            .first()
            .is_some_and(|n| n.start == s.start && !n.is_gone());
        if !same || !handle.is_present()? {
            return Ok(None);
        }
        Ok(Some(handle))
    }

    /// Freeze the tree: stop every live target, then re-walk until a pass finds nothing new
    /// after a pass that saw every target stopped or gone. Gives up after [`STOP_BUDGET`] on
    /// processes that will not stop, with a warning.
    fn stop_tree(&mut self) -> Result<()> {
        self.stopping = true;
        for i in 0..self.targets.len() {
            if self.targets[i].actionable() {
                self.stop(i);
            }
        }
        let started = Instant::now();
        let mut settled_before = false;
        loop {
            let table = sys::table()?;
            let taken = self.pass(&table)?;
            if taken == 0 && settled_before {
                return Ok(());
            }
            settled_before =
                taken == 0 && self.targets.iter().all(|t| !t.actionable() || t.stopped);
            if started.elapsed() > STOP_BUDGET {
                let running: Vec<u32> = self
                    .targets
                    .iter()
                    .filter(|t| t.actionable() && !t.stopped)
                    .map(Target::pid)
                    .collect();
                if !running.is_empty() {
                    self.warnings.push(format!(
                        "PIDs {} did not stop within {} ms (uninterruptible sleep, or waiting \
                         for a vfork child): processes they started meanwhile may be missed",
                        list(&running),
                        STOP_BUDGET.as_millis()
                    ));
                }
                return Ok(());
            }
            std::thread::yield_now();
        }
    }

    /// The targets whose death can orphan a process group (the root, every target whose
    /// parent is in another group, and that parent): when a group is orphaned while a member
    /// is stopped, the kernel sends the whole group `SIGHUP` (then `SIGCONT`), which would
    /// reach processes before the signal asked for, and kill graceful `TERM` handlers
    /// before they run.
    fn group_links(&self) -> Vec<bool> {
        let mut links = vec![false; self.targets.len()];
        links[0] = true;
        for (i, t) in self.targets.iter().enumerate() {
            if let Some(&p) = self.live.get(&t.ppid)
                && self.targets[p].pgid != t.pgid
            {
                links[i] = true;
                links[p] = true;
            }
        }
        links
    }

    /// Send `signal` to every live target, all of them stopped, and continue them, in an
    /// order that orphans no group while a member is stopped: first every target that is not
    /// a group link, which are then continued (a pending signal is handled before any code
    /// of theirs runs, so they cannot fork first); then the links, children before parents,
    /// each continued at once.
    fn signal_and_continue(&mut self, signal: Signal) {
        let links = self.group_links();
        for (i, &link) in links.iter().enumerate() {
            if !link && self.targets[i].actionable() && self.send(i, signal) {
                self.targets[i].signalled = true;
            }
        }
        for (i, &link) in links.iter().enumerate() {
            if !link {
                self.continue_one(i);
            }
        }
        for (i, &link) in links.iter().enumerate().rev() {
            if link {
                if self.targets[i].actionable() && self.send(i, signal) {
                    self.targets[i].signalled = true;
                }
                self.continue_one(i);
            }
        }
    }

    /// Wait until every live target has exited (zombies count), `deadline` passes or `cancel`
    /// is triggered. True when every one has.
    fn wait_all(&mut self, deadline: Option<Instant>, cancel: Option<&CancelFd>) -> Result<bool> {
        let waiting: Vec<usize> = (0..self.targets.len())
            .filter(|&i| !self.targets[i].gone && !self.targets[i].protected)
            .collect();
        let handles: Vec<&crate::sys::signal::Handle> = waiting
            .iter()
            .map(|&i| self.targets[i].handle.sys())
            .collect();
        let exited = crate::sys::wait::wait_handles_exit(&handles, deadline, cancel)?;
        for (k, done) in exited.into_iter().enumerate() {
            if done {
                self.mark_gone(waiting[k]);
            }
        }
        Ok(self.survivors().is_empty())
    }

    /// The targets still alive that we signal (the protected ones are never waited for).
    fn survivors(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .targets
            .iter()
            .filter(|t| !t.gone && !t.protected)
            .map(Target::pid)
            .collect();
        pids.sort_unstable();
        pids
    }

    /// Every target of the tree still alive at the end, the protected ones included: a tree
    /// with the caller or one of its ancestors in it has not ended.
    fn all_survivors(&mut self) -> Result<Vec<u32>> {
        for i in 0..self.targets.len() {
            if self.targets[i].protected
                && !self.targets[i].gone
                && !self.targets[i].handle.is_present()?
            {
                self.mark_gone(i);
            }
        }
        let mut pids: Vec<u32> = self
            .targets
            .iter()
            .filter(|t| !t.gone)
            .map(Target::pid)
            .collect();
        pids.sort_unstable();
        Ok(pids)
    }

    /// The warnings the walk owes: always the best-effort one, then what was skipped.
    fn finish_warnings(&mut self) -> Vec<String> {
        let mut out = vec![BEST_EFFORT_WARNING.to_string()];
        let skipped: Vec<u32> = self
            .targets
            .iter()
            .filter(|t| t.protected)
            .map(Target::pid)
            .collect();
        if !skipped.is_empty() {
            out.push(format!(
                "PIDs {} are in the tree but were not signalled: they are the caller, its \
                 ancestors or PID 1",
                list(&skipped)
            ));
        }
        let denied: Vec<u32> = self
            .targets
            .iter()
            .filter(|t| t.denied)
            .map(Target::pid)
            .collect();
        if !denied.is_empty() {
            out.push(format!(
                "PIDs {} could not be signalled: permission denied",
                list(&denied)
            ));
        }
        out.append(&mut self.warnings);
        out
    }
}

/// `ms` from now; `None` (no limit) when that is too far to represent.
fn deadline_after(ms: u64) -> Option<Instant> {
    Instant::now().checked_add(Duration::from_millis(ms))
}

/// End `pid` and its descendants by walking `/proc` (see [`terminate_tree`](super::terminate_tree)).
/// A triggered `cancel` ends the grace period at once, and cuts the wait after the kill
/// signal to [`CANCELLED_KILL_WAIT`](super::CANCELLED_KILL_WAIT).
pub(crate) fn terminate_walk(
    pid: Pid,
    config: &TerminateTreeConfig,
    cancel: Option<&CancelFd>,
) -> Result<TerminateTreeResult> {
    let started = Instant::now();
    let root = super::open_checked(pid, config)?;
    let table = sys::table()?;
    let Some(root_summary) = table.iter().find(|s| s.pid == pid.get()).copied() else {
        return Err(SysprimsError::process_not_found(
            "terminate_tree",
            pid.get(),
        ));
    };
    // The pass read the root after the pidfd was opened: if the pidfd's process is still
    // there, the pass saw it.
    if !root.is_present()? {
        return Err(SysprimsError::process_not_found(
            "terminate_tree",
            pid.get(),
        ));
    }
    let mut walk = Walk::new(root, &root_summary, &table);
    if root_summary.is_gone() {
        walk.mark_gone(0);
    }
    walk.pass(&table)?;

    let mut result = empty_result(pid.get(), config, TreeKillReliability::BestEffort);
    walk.stop_tree()?;
    walk.signal_and_continue(config.signal);
    let gone = walk.wait_all(deadline_after(config.grace_timeout_ms), cancel)?;
    let mut cancelled = !gone && crate::sys::cancel::triggered(cancel);

    if !gone {
        result.escalated = true;
        walk.stop_tree()?;
        walk.signal_and_continue(config.kill_signal);
        let (_, cut) =
            super::wait_after_kill(config.kill_timeout_ms, cancelled, cancel, |d, c| {
                walk.wait_all(d, c)
            })?;
        cancelled |= cut;
    }
    result.survivors = walk.all_survivors()?;
    result.exited = result.survivors.is_empty();
    result.timed_out = !result.exited;
    result.signalled = walk.targets.iter().filter(|t| t.signalled).count() as u32;
    result.warnings = walk.finish_warnings();
    if cancelled {
        result
            .warnings
            .push(crate::cancel::CANCELLED_WARNING.to_string());
    }
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(result)
}

/// Signal the descendants of `pid` that match `options.filter`; `pid` itself is never
/// signalled, and neither is any kernel thread (`PF_KTHREAD`: kthreadd's children), whatever
/// the filter.
///
/// The descendants are found as [`descendants`](crate::descendants) finds them, then read and
/// filtered as [`snapshot`](crate::snapshot) does (CPU sampled over
/// `options.cpu_sample_ms` when set). Each target is signalled through a pidfd, checked
/// against the identity (start time, executable) the listing saw, so a PID reused in between
/// is not hit: it comes back [`Reused`](crate::TargetOutcome::Reused) or
/// [`Gone`](crate::TargetOutcome::Gone). The caller itself is left out unless
/// `options.allow_protected`. With `options.dry_run` nothing is sent and every target is
/// [`WouldSignal`](crate::TargetOutcome::WouldSignal) in a report marked `preview`.
///
/// ```
/// use sysprims::{kill_descendants, KillDescendantsOptions, ProcessFilter, Signal};
///
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let options = KillDescendantsOptions {
///     filter: ProcessFilter { name_equals: Some("sleep".into()), ..Default::default() },
///     dry_run: true,
///     ..Default::default()
/// };
/// let preview = kill_descendants(std::process::id(), Signal::TERM, &options).unwrap();
/// assert!(preview.preview);
/// assert!(preview.targets.iter().any(|t| t.pid == child.id()));
/// # child.kill().unwrap(); child.wait().unwrap();
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID, a thread ID
/// that is not a process's, a bad filter or sampling interval; [`NotFound`](crate::ErrorCode::NotFound) when no process has the PID.
pub fn kill_descendants(
    pid: impl IntoPid,
    signal: Signal,
    options: &KillDescendantsOptions,
) -> Result<KillReport> {
    let pid = pid.into_pid()?;
    options.filter.validate()?;
    crate::process::snapshot::check_cpu_sample_ms(options.cpu_sample_ms)?;
    let tree = crate::process::descendants(pid, None)?;
    let me = Pid::current().get();
    // What the walk saw of each descendant: the listing below must see the same process.
    // Kernel threads (the children of kthreadd) are never targets: no signal of ours should
    // reach them, and a name filter such as "worker" would otherwise match every kworker.
    let walked: HashMap<u32, Option<u64>> = tree
        .descendants()
        .filter(|n| !n.process.kernel_thread)
        .filter(|n| options.allow_protected || n.process.pid != me)
        .map(|n| (n.process.pid, n.process.start_time_unix_ms))
        .collect();
    let mut report = KillReport::new(signal);
    report.preview = options.dry_run;
    let mut pids: Vec<Pid> = walked.keys().filter_map(|&p| Pid::new(p).ok()).collect();
    if let Some(only) = &options.filter.pids {
        pids.retain(|p| only.contains(p));
    }
    if pids.is_empty() {
        return Ok(report);
    }
    let listing = crate::process::snapshot(&SnapshotOptions {
        filter: ProcessFilter {
            pids: Some(pids),
            ..options.filter.clone()
        },
        cpu_sample_ms: options.cpu_sample_ms,
        ..Default::default()
    })?;
    // Top-down, as the tree lists them.
    let order: HashMap<u32, usize> = tree
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.process.pid, i))
        .collect();
    let mut matched: Vec<_> = listing
        .processes
        .into_iter()
        .filter(|p| walked.get(&p.pid) == Some(&p.start_time_unix_ms))
        .collect();
    matched.sort_by_key(|p| order.get(&p.pid).copied().unwrap_or(usize::MAX));
    let signal_options = SignalOptions {
        allow_protected: options.allow_protected,
    };
    for p in matched {
        let mut entry = if options.dry_run {
            TargetResult::would_signal(p.pid)
        } else {
            // Start ticks and boot ID as well as start ms and executable: immune to clock steps.
            let identity = p.identity();
            TargetResult::from_guarded(p.pid, signal_if_with(&identity, signal, signal_options))
        };
        entry.name = Some(p.name);
        report.targets.push(entry);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_pid_lists_are_cut() {
        assert_eq!(list(&[1, 2, 3]), "1, 2, 3");
        let many: Vec<u32> = (1..=25).collect();
        assert!(list(&many).ends_with("20, and 5 more"));
    }
}
