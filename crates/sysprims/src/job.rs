//! [`Job`]: a spawned job that the caller owns.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Result, SysprimsError};
use crate::pid::Pid;
use crate::signal::{ProcessHandle, Signal};
#[cfg(not(windows))]
use crate::spawn::{ContainmentKind, TreeKillReliability};
use crate::spawn::{SPAWN_IN_GROUP_RESULT_SCHEMA_ID, SpawnInGroupConfig, SpawnInGroupResult};
use crate::sys::jobs as sys;
use crate::tree::{TerminateTreeConfig, TerminateTreeResult};
use crate::wait::WaitPidResult;

/// A job started by [`Job::spawn`]: its first process (held by a pidfd, so it cannot be
/// mistaken for a newcomer that reuses its PID), its process group, and its cgroup when it
/// has one.
///
/// Dropping a `Job` leaves the job running unless [`Job::kill_on_drop`] was asked for.
///
/// ```
/// use sysprims::{Job, SpawnInGroupConfig, TerminateTreeConfig};
///
/// let mut job = Job::spawn(&SpawnInGroupConfig {
///     argv: vec!["sh".into(), "-c".into(), "sleep 60 & sleep 60".into()],
///     ..Default::default()
/// })
/// .unwrap()
/// .kill_on_drop(true);
/// let outcome = job.terminate(&TerminateTreeConfig::default()).unwrap();
/// assert!(outcome.exited);
/// ```
pub struct Job {
    result: SpawnInGroupResult,
    handle: ProcessHandle,
    kill_on_drop: bool,
    /// The first process has been reaped: its PID may belong to someone else now.
    reaped: bool,
    /// With `kill_on_drop`: ends the job if this process dies without dropping the `Job`.
    watchdog: sys::JobWatchdog,
    /// Where the job's memory and pids counters are.
    placement: sys::Placement,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("result", &self.result)
            .field("kill_on_drop", &self.kill_on_drop)
            .field("reaped", &self.reaped)
            .finish()
    }
}

pub(crate) fn validate(config: &SpawnInGroupConfig) -> Result<()> {
    let Some(program) = config.argv.first() else {
        return Err(SysprimsError::invalid(
            "argv",
            "[]",
            "is empty: it must name the program to run",
        ));
    };
    if program.is_empty() {
        return Err(SysprimsError::invalid(
            "program",
            "",
            "is empty: argv[0] must name the program to run",
        ));
    }
    config.limits.validate()?;
    if !config.limits.is_empty() && config.containment == crate::spawn::Containment::ProcessGroup {
        return Err(SysprimsError::invalid(
            "limits",
            serde_json::to_string(&config.limits).unwrap_or_default(),
            "need a cgroup, and containment process_group has none: use auto or cgroup",
        ));
    }
    for key in config.env.keys() {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(SysprimsError::invalid(
                "environment variable name",
                key.as_str(),
                "must be non-empty and contain no '=' or NUL",
            ));
        }
    }
    Ok(())
}

impl Job {
    /// Start a job, as [`spawn_in_group`](crate::spawn_in_group) does, and own it.
    ///
    /// # Errors
    /// As [`spawn_in_group`](crate::spawn_in_group).
    pub fn spawn(config: &SpawnInGroupConfig) -> Result<Job> {
        validate(config)?;
        let started = sys::start(config, true, true, false)?;
        // Windows: a Job Object or nothing, and no process groups (pgid null).
        #[cfg(windows)]
        let (containment, tree_kill_reliability, has_group) = {
            let (c, r) = started.containment();
            (c, r, false)
        };
        #[cfg(not(windows))]
        let (containment, tree_kill_reliability, has_group) = if started.cgroup.is_some() {
            (
                ContainmentKind::CgroupV2,
                TreeKillReliability::Guaranteed,
                true,
            )
        } else {
            (
                ContainmentKind::ProcessGroup,
                TreeKillReliability::BestEffort,
                true,
            )
        };
        let handle = ProcessHandle::from_sys(started.handle);
        let pid = handle.pid().get();
        let mut job = Job {
            result: SpawnInGroupResult {
                schema_id: SPAWN_IN_GROUP_RESULT_SCHEMA_ID.to_string(),
                pid,
                pgid: has_group.then_some(pid),
                // Filled in below, once the job value exists to carry a warning.
                identity: crate::process::ProcessIdentity::from_parts(pid, None, None),
                tree_kill_reliability,
                containment,
                cgroup: started.cgroup,
                warnings: started.warnings,
            },
            handle,
            kill_on_drop: false,
            reaped: false,
            watchdog: started.watchdog,
            placement: started.placement,
        };
        // The child is ours and unreaped, so this is its identity even if it has exited.
        match job.handle.identity() {
            Ok(identity) => job.result.identity = identity,
            Err(e) => job
                .result
                .warnings
                .push(format!("could not read the child's identity: {e}")),
        }
        Ok(job)
    }

    /// End the whole job when this `Job` is dropped without having been waited for to the
    /// end ([`Job::kill`]). Off by default.
    ///
    /// A process killed with `SIGKILL` drops nothing. For a job in a cgroup, `kill_on_drop`
    /// therefore also starts a watchdog: a small process outside the job that waits on this
    /// process's pidfd and, if this process dies with the `Job` still owned, kills the whole
    /// job through `cgroup.kill` and removes its cgroup. It costs one `clone3` here and a
    /// process that sleeps in `poll(2)`; it goes when the `Job` is dropped, detached or given
    /// `kill_on_drop(false)`. A job without a cgroup has only `kill_on_parent_death`
    /// (`PR_SET_PDEATHSIG`) for its first process.
    pub fn kill_on_drop(mut self, yes: bool) -> Job {
        self.kill_on_drop = yes;
        if !yes {
            self.watchdog.end();
        } else if cfg!(windows) {
            // Kill-on-close: the kernel ends the job when this process's handle closes.
            #[cfg(windows)]
            self.watchdog.arm_job();
        } else if !self.watchdog.is_armed()
            && let Some(dir) = &self.result.cgroup
        {
            self.watchdog = sys::JobWatchdog::arm(dir);
        }
        self
    }

    /// The spawn result: PID, group, identity, reliability, cgroup, warnings.
    pub fn result(&self) -> &SpawnInGroupResult {
        &self.result
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.result.pid
    }

    /// The job's cgroup, when it has one.
    pub fn cgroup(&self) -> Option<&std::path::Path> {
        self.result.cgroup.as_deref()
    }

    /// What the job's whole tree has used so far, read from its cgroup now (all of it, once
    /// the job has ended): for a supervisor that watches a running job. `None` for a job
    /// without a cgroup, or once its cgroup has been removed.
    ///
    /// ```
    /// use sysprims::{Job, SpawnInGroupConfig};
    ///
    /// let job = Job::spawn(&SpawnInGroupConfig {
    ///     argv: vec!["sleep".into(), "60".into()],
    ///     ..Default::default()
    /// })
    /// .unwrap()
    /// .kill_on_drop(true);
    /// if job.cgroup().is_some() {
    ///     assert!(job.usage().unwrap().cpu_user_us.is_some());
    /// }
    /// ```
    pub fn usage(&self) -> Option<crate::limits::JobUsage> {
        let dir = self.result.cgroup.as_deref()?;
        dir.exists()
            .then(|| sys::usage_placed(dir, &self.placement))
    }

    /// A handle on the job's first process, for signals that cannot hit a newcomer.
    pub fn handle(&self) -> &ProcessHandle {
        &self.handle
    }

    /// Give up ownership: the job runs on (even with [`Job::kill_on_drop`]), and the caller
    /// reaps it with [`wait_pid`](crate::wait_pid).
    pub fn detach(mut self) -> SpawnInGroupResult {
        self.kill_on_drop = false;
        self.watchdog.end();
        self.result.clone()
    }

    /// Give up ownership, as [`Job::detach`] does, for a caller that will not be there when
    /// the job ends (a CLI that starts a job and exits): a small watchdog process is left
    /// behind that removes the job's cgroup once nothing is left in it, however its processes
    /// left or ended (its first process may even have moved itself to another cgroup), and
    /// then exits. It kills nothing. Without a cgroup this is [`Job::detach`].
    pub fn detach_with_cleanup(self) -> SpawnInGroupResult {
        if let Some(dir) = &self.result.cgroup {
            sys::JobWatchdog::linger(dir);
        }
        self.detach()
    }

    /// Wait for the job's first process to exit (`None`: no limit), and reap it. The job's
    /// cgroup is removed when nothing else of the job is left running; processes the job
    /// left behind are ended with [`Job::terminate`].
    ///
    /// # Errors
    /// As [`wait_pid`](crate::wait_pid).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<WaitPidResult> {
        if self.reaped {
            // The next call on the job checks its cgroup too.
            if let Some(dir) = &self.result.cgroup {
                sys::remove_if_empty(dir);
            }
            return Err(SysprimsError::process_not_found(
                "wait (already reaped)",
                self.result.pid,
            ));
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut result = sys::wait_first(self.handle.sys(), deadline)?;
        if result.exited {
            self.reaped = true;
            match &self.result.cgroup {
                // The first process had left the job's cgroup: read it here.
                Some(dir) if result.usage.is_none() && dir.exists() => {
                    result.usage = Some(sys::usage(dir));
                    result.ended_by = crate::limits::EndedBy::of(
                        result.exit_code,
                        result.signal,
                        result.usage.as_ref(),
                    );
                }
                Some(_) => {}
                None => result
                    .warnings
                    .push(crate::limits::NO_USAGE_WARNING.to_string()),
            }
            if let Some(dir) = &self.result.cgroup {
                sys::remove_if_empty(dir);
                // Processes the first one left are still running: their cgroup goes when
                // the last of them exits (a lingering watchdog sees it), not at some later
                // call. A kill_on_drop job is ended, and its cgroup removed, on drop.
                if dir.exists() && !self.kill_on_drop {
                    sys::JobWatchdog::linger(dir);
                }
            }
        }
        Ok(result)
    }

    /// Wait without blocking: `timed_out` is true while the first process runs.
    ///
    /// # Errors
    /// As [`wait_pid`](crate::wait_pid).
    pub fn try_wait(&mut self) -> Result<WaitPidResult> {
        self.wait(Some(Duration::ZERO))
    }

    /// End the whole job: `config.signal` to every process of it, the grace period, then
    /// `config.kill_signal`; then reap the first process. In a cgroup, every process the job
    /// ever started is reached, even after the first process has exited.
    ///
    /// # Errors
    /// As [`terminate_tree`](crate::terminate_tree); [`NotFound`](crate::ErrorCode::NotFound)
    /// for a job without a cgroup whose first process has already been reaped (its PID no
    /// longer names it).
    pub fn terminate(&mut self, config: &TerminateTreeConfig) -> Result<TerminateTreeResult> {
        let pid = Pid::new(self.result.pid)?;
        // Windows: the job object holds the job whether or not its first process has exited.
        #[cfg(windows)]
        if let Some(entry) = self.watchdog.job() {
            let found = sys::FoundJob::Ours(std::sync::Arc::clone(entry));
            let result = sys::terminate_job(pid, &found, config, None)?;
            if !self.reaped && result.exited {
                let done = sys::wait_first(self.handle.sys(), Some(Instant::now()))?;
                self.reaped = done.exited;
            }
            return Ok(result);
        }
        let result = match (&self.result.cgroup, self.reaped) {
            (Some(dir), true) if !dir.exists() => {
                // Removed once its last process had exited: the job is over.
                return Err(SysprimsError::process_not_found(
                    "terminate (the job has ended and its cgroup is gone)",
                    pid.get(),
                ));
            }
            (Some(dir), _) => crate::tree::terminate_job_cgroup(pid, dir, config, None)?,
            (None, true) => {
                return Err(SysprimsError::process_not_found(
                    "terminate (first process already reaped)",
                    pid.get(),
                ));
            }
            (None, false) => {
                // Unreaped, the PID is still our child's: the start time pins it anyway.
                let mut guarded = config.clone();
                if guarded.require_start_time_ms.is_none() {
                    guarded.require_start_time_ms = self.result.identity.start_time_unix_ms;
                }
                crate::tree::terminate_tree(pid, &guarded)?
            }
        };
        if !self.reaped && result.exited {
            // The first process has exited (a zombie): reap it.
            let done = sys::wait_first(self.handle.sys(), Some(Instant::now()))?;
            self.reaped = done.exited;
        }
        Ok(result)
    }

    /// End the whole job at once with `SIGKILL` (no grace period), and reap the first
    /// process.
    ///
    /// # Errors
    /// As [`Job::terminate`].
    pub fn kill(&mut self) -> Result<TerminateTreeResult> {
        self.terminate(&TerminateTreeConfig {
            signal: Signal::KILL,
            grace_timeout_ms: crate::tree::DEFAULT_KILL_TIMEOUT_MS,
            ..TerminateTreeConfig::default()
        })
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // A job whose first process we reaped: its cgroup goes if nothing is left in it.
        if !self.kill_on_drop
            && self.reaped
            && let Some(dir) = &self.result.cgroup
        {
            sys::remove_if_empty(dir);
        }
        if !self.kill_on_drop || (self.reaped && self.result.cgroup.is_none()) {
            return;
        }
        if self.kill().is_ok() || self.reaped {
            return;
        }
        // The tree could not be ended as a whole: at least the first process, through its
        // pidfd, and its group (which it leads, and whose ID cannot have been reused while
        // it is unreaped); then reap it.
        let kill = crate::signal::SignalOptions::allowing_protected();
        let _ = self.handle.signal_with(Signal::KILL, kill);
        if let Ok(pgid) = Pid::new(self.result.pid)
            && self.handle.is_present().unwrap_or(false)
        {
            let _ = crate::signal::killpg_with(pgid, Signal::KILL, kill);
        }
        let deadline = Instant::now() + Duration::from_millis(crate::tree::DEFAULT_KILL_TIMEOUT_MS);
        let _ = sys::wait_first(self.handle.sys(), Some(deadline));
    }
}

/// The cgroup of a job that `spawn_in_group` made, seen from one of its processes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
#[derive(Clone, Debug)]
pub(crate) struct JobCgroupRef {
    path: PathBuf,
}

/// The job cgroup `pid` tops: `pid` is in a cgroup that `spawn_in_group` made, and its parent
/// is not. `None` for any other process (read it while the process is alive: a reaped
/// process has no `/proc` entry).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn job_cgroup_of(pid: Pid) -> Option<JobCgroupRef> {
    sys::job_cgroup_of(pid).map(|path| JobCgroupRef { path })
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl JobCgroupRef {
    /// Remove the cgroup if no process is left in it; quietly keep it otherwise.
    pub(crate) fn remove_if_empty(&self) {
        sys::remove_if_empty(&self.path);
    }

    /// What the job has used so far (all of it, once it is empty).
    pub(crate) fn usage(&self) -> crate::limits::JobUsage {
        sys::usage(&self.path)
    }
}
