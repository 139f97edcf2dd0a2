//! [`Job`]: a spawned job that the caller owns.

use std::time::Duration;

use crate::error::{Result, SysprimsError};
use crate::spawn::{SpawnInGroupConfig, SpawnInGroupResult};
use crate::tree::{TerminateTreeConfig, TerminateTreeResult};
use crate::wait::WaitPidResult;

/// A job started by [`Job::spawn`]: its child, its process group, and its cgroup when it has
/// one.
pub struct Job {
    result: SpawnInGroupResult,
}

impl Job {
    /// Start a job, as [`spawn_in_group`](crate::spawn_in_group) does, and own it.
    ///
    /// # Errors
    /// As [`spawn_in_group`](crate::spawn_in_group).
    pub fn spawn(config: &SpawnInGroupConfig) -> Result<Job> {
        let _ = config;
        Err(SysprimsError::NotSupported {
            feature: "spawn_in_group",
            reason: "not built yet".into(),
        })
    }

    /// The spawn result: PID, group, identity, reliability, cgroup, warnings.
    pub fn result(&self) -> &SpawnInGroupResult {
        &self.result
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.result.pid
    }

    /// Give up ownership: the job runs on, and the caller reaps it with
    /// [`wait_pid`](crate::wait_pid).
    pub fn detach(self) -> SpawnInGroupResult {
        self.result
    }

    /// Wait for the child to exit.
    ///
    /// # Errors
    /// As [`wait_pid`](crate::wait_pid).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<WaitPidResult> {
        crate::wait::wait_pid(self.result.pid, timeout)
    }

    /// End the whole job.
    ///
    /// # Errors
    /// As [`terminate_tree`](crate::terminate_tree).
    pub fn terminate(&mut self, config: &TerminateTreeConfig) -> Result<TerminateTreeResult> {
        crate::tree::terminate_tree(self.result.pid, config)
    }
}

/// The cgroup of a job that `spawn_in_group` made, seen from one of its processes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
#[derive(Clone, Debug)]
pub(crate) struct JobCgroupRef {
    #[allow(dead_code)]
    path: std::path::PathBuf,
}

/// The job cgroup `pid` tops: `pid` is in a cgroup that `spawn_in_group` made, and its parent
/// is not. `None` for any other process (read it while the process is alive: a reaped
/// process has no `/proc` entry).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn job_cgroup_of(pid: crate::pid::Pid) -> Option<JobCgroupRef> {
    let _ = pid;
    None
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl JobCgroupRef {
    /// Remove the cgroup if no process is left in it; quietly keep it otherwise.
    pub(crate) fn remove_if_empty(&self) {}
}
