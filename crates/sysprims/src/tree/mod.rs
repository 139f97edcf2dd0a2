//! Ending a process and everything it started: [`terminate_tree`] and [`kill_descendants`].
//!
//! Two ways, chosen by what holds the tree:
//!
//! - **A job [`spawn_in_group`](crate::spawn_in_group) put in a cgroup** (by any process: the
//!   kernel's cgroup membership is the registry). When the PID is the top of such a job (it is
//!   in the outermost job cgroup on its path that its parent is not in), every process in the
//!   cgroup is signalled (never frozen) and continued, then killed with `cgroup.kill` if any
//!   survive the grace period, and the cgroup is removed once empty. Nothing that stays in the
//!   cgroup can escape: [`TreeKillReliability::Guaranteed`]. Processes that left the cgroup
//!   (moved by root, or by the owner of a delegated subtree above it) but are still
//!   descendants of its members are ended too, and reported: the result is then
//!   [`TreeKillReliability::BestEffort`] (the README's threat model).
//! - **Any other PID**: the PID and its descendants, found by walking `/proc`, stopped
//!   top-down (re-walking until no new process appears, so a forking tree cannot outrun the
//!   walk), signalled, continued, and waited for through pidfds.
//!   [`TreeKillReliability::BestEffort`]: processes that already left the tree are out of
//!   reach, and the warnings say so.

mod walk;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::process::{IdentityCheck, ProcessFilter, ProcessIdentity, ReuseReason};
use crate::signal::{ProcessHandle, Signal, SignalOptions};
use crate::spawn::TreeKillReliability;
use crate::sys::cancel::CancelFd;

pub use walk::kill_descendants;

/// `schema_id` of [`TerminateTreeResult`].
pub const TERMINATE_TREE_RESULT_SCHEMA_ID: &str =
    "https://sysprims.dev/schemas/terminate-tree-result/v1.json";

/// Default grace period: 5 s.
pub const DEFAULT_GRACE_TIMEOUT_MS: u64 = 5_000;
/// Default wait after the kill signal: 2 s.
pub const DEFAULT_KILL_TIMEOUT_MS: u64 = 2_000;

/// How to end a tree.
///
/// ```
/// use sysprims::{Signal, TerminateTreeConfig};
///
/// let config: TerminateTreeConfig =
///     serde_json::from_str(r#"{"signal": "INT", "grace_timeout_ms": 100}"#).unwrap();
/// assert_eq!(config.signal, Signal::INT);
/// assert_eq!(config.kill_signal, Signal::KILL);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TerminateTreeConfig {
    /// The graceful signal (default `SIGTERM`).
    pub signal: Signal,
    /// How long to wait after `signal` before escalating, in milliseconds (default 5000).
    pub grace_timeout_ms: u64,
    /// The signal to escalate with (default `SIGKILL`).
    pub kill_signal: Signal,
    /// How long to wait after `kill_signal`, in milliseconds (default 2000).
    pub kill_timeout_ms: u64,
    /// Act only if the process at the PID started at this time (Unix ms, as in
    /// [`ProcessInfo::start_time_unix_ms`](crate::ProcessInfo::start_time_unix_ms)).
    pub require_start_time_ms: Option<u64>,
    /// Act only if the process at the PID runs this executable.
    pub require_exe_path: Option<String>,
    /// Act only if the process at the PID is the one this identity names: checked as
    /// [`signal_if`](crate::signal_if) checks, through a pidfd opened on the root before
    /// anything is sent. Give what [`ProcessIdentity::of`] or
    /// [`ProcessInfo::identity`](crate::ProcessInfo::identity) returned when the process was
    /// recorded: with its pidfs inode, a PID reused even within the same clock tick is told
    /// apart, which `require_start_time_ms` and `require_exe_path` cannot do. Its `pid` must be
    /// the PID terminated.
    pub require_identity: Option<ProcessIdentity>,
    /// Allow PID 1 and the caller itself as the root.
    pub allow_protected: bool,
}

impl Default for TerminateTreeConfig {
    fn default() -> TerminateTreeConfig {
        TerminateTreeConfig {
            signal: Signal::TERM,
            grace_timeout_ms: DEFAULT_GRACE_TIMEOUT_MS,
            kill_signal: Signal::KILL,
            kill_timeout_ms: DEFAULT_KILL_TIMEOUT_MS,
            require_start_time_ms: None,
            require_exe_path: None,
            require_identity: None,
            allow_protected: false,
        }
    }
}

/// What [`terminate_tree`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TerminateTreeResult {
    /// Always [`TERMINATE_TREE_RESULT_SCHEMA_ID`].
    pub schema_id: String,
    /// The root PID.
    pub pid: u32,
    /// The graceful signal sent.
    pub signal_sent: Signal,
    /// The escalation signal (sent only if `escalated`).
    pub kill_signal: Signal,
    /// Something survived the grace period, so `kill_signal` was sent.
    pub escalated: bool,
    /// Every process of the tree has ended.
    pub exited: bool,
    /// Something survived `kill_signal` too (see `survivors`).
    pub timed_out: bool,
    /// PIDs of the tree still alive at return: empty when `exited`.
    pub survivors: Vec<u32>,
    /// How many processes were signalled.
    pub signalled: u32,
    /// Whether the whole tree was in reach.
    pub tree_kill_reliability: TreeKillReliability,
    /// What could not be reached or done, and anything else worth logging.
    pub warnings: Vec<String>,
    /// Wall time of the call, milliseconds.
    pub elapsed_ms: u64,
    /// What the job's whole tree used, when the tree was a job with a cgroup of its own
    /// (read once it had ended, before its cgroup was removed). `oom_kills` says whether the
    /// kernel's OOM killer had struck. `None` for a tree without one.
    pub usage: Option<crate::limits::JobUsage>,
}

/// What [`kill_descendants`] selects and how.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct KillDescendantsOptions {
    /// Only descendants that match (as in `pstat`).
    pub filter: ProcessFilter,
    /// Measure CPU over this many milliseconds for `filter.cpu_above` (the call blocks for
    /// it; 1 ms to [`CPU_SAMPLE_MS_MAX`](crate::process::CPU_SAMPLE_MS_MAX), one hour);
    /// `None` uses lifetime averages.
    #[schemars(range(min = 1, max = 3_600_000))]
    pub cpu_sample_ms: Option<u64>,
    /// Preview: report what would be signalled, send nothing.
    pub dry_run: bool,
    /// Allow the caller itself among the targets (it is otherwise left out).
    pub allow_protected: bool,
}

/// End `pid` and every process it started: `config.signal`, a grace period, then
/// `config.kill_signal` if anything survived.
///
/// Returns as soon as everything is gone, with no fixed sleeps.
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): an invalid PID; a thread ID
///   that is not a process's (the message says which process it is a thread of); PID 1, the
///   caller or an ancestor of the caller (its parent, the shell that runs it) without
///   `allow_protected`. With it, such a root is walked but never signalled, and it is among
///   the `survivors` (`exited: false`).
/// - [`NotFound`](crate::ErrorCode::NotFound): no process has the PID, or the one that has
///   it does not match `require_identity`/`require_start_time_ms`/`require_exe_path` (the process meant is
///   gone, its PID reused). Nothing is signalled.
pub fn terminate_tree(
    pid: impl IntoPid,
    config: &TerminateTreeConfig,
) -> Result<TerminateTreeResult> {
    terminate_tree_inner(pid, config, None)
}

/// [`terminate_tree`] that another thread can hurry with [`CancelToken::cancel`].
///
/// Cancelling never leaves a half-terminated tree: a cancel during the grace period
/// escalates to `config.kill_signal` at once, and a cancel after the kill signal stops the
/// wait for the kill to take effect (the result then lists the survivors, if the kernel had
/// not finished yet). In both cases [`CANCELLED_WARNING`](crate::CANCELLED_WARNING) is among
/// the `warnings`.
///
/// # Errors
/// As [`terminate_tree`].
pub fn terminate_tree_cancellable(
    pid: impl IntoPid,
    config: &TerminateTreeConfig,
    cancel: &CancelToken,
) -> Result<TerminateTreeResult> {
    terminate_tree_inner(pid, config, Some(cancel))
}

fn terminate_tree_inner(
    pid: impl IntoPid,
    config: &TerminateTreeConfig,
    cancel: Option<&CancelToken>,
) -> Result<TerminateTreeResult> {
    let cancel = cancel.map(CancelToken::sys);
    let pid = pid.into_pid()?;
    let options = SignalOptions {
        allow_protected: config.allow_protected,
    };
    // Whatever the signals, PID 1 and the caller are refused as roots without the override.
    crate::signal::check_process(pid, Signal::KILL, options)?;
    crate::sys::process::require_process(pid)?;
    // Windows: the job object sysprims made for this PID, found by name or in this process.
    #[cfg(windows)]
    if let Some(found) = crate::sys::jobs::job_of(pid) {
        if config.require_identity.is_some()
            || config.require_start_time_ms.is_some()
            || config.require_exe_path.is_some()
        {
            open_checked(pid, config)?;
        }
        return crate::sys::jobs::terminate_job(pid, &found, config, cancel);
    }
    if let Some(dir) = crate::sys::jobs::job_cgroup_of(pid)
        && !crate::sys::jobs::caller_inside(&dir)
    {
        open_checked(pid, config)?;
        return terminate_job_cgroup(pid, &dir, config, cancel);
    }
    // A root we may not signal is an error, before anything is sent and without waiting out
    // the timeouts: callers fall back on PermissionDenied (the integration guide's rule).
    crate::sys::signal::kill(pid, Signal::PROBE)?;
    if !config.allow_protected {
        refuse_ancestor(pid)?;
    }
    walk::terminate_walk(pid, config, cancel)
}

/// Refuse an ancestor of the caller as a root: the caller and its ancestors are never
/// signalled as part of a tree, so such a tree could never be ended (and ending it would end
/// the caller).
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the PID and what it is to
/// the caller.
fn refuse_ancestor(pid: Pid) -> Result<()> {
    let me = Pid::current().get();
    let mut at = me;
    let mut generation = 0u32;
    // A parent link loop cannot happen, but the walk is bounded all the same.
    while generation < 4096 {
        let Some(parent) = crate::sys::process::table_of(&[at])
            .ok()
            .and_then(|v| v.first().map(|s| s.ppid))
            .filter(|&p| p != 0 && p != at)
        else {
            return Ok(());
        };
        generation += 1;
        if parent == pid.get() {
            let what = if generation == 1 {
                "is the caller's parent".to_string()
            } else {
                format!("is an ancestor of the caller ({generation} generations up)")
            };
            return Err(SysprimsError::invalid(
                "terminate_tree root PID",
                pid.get().to_string(),
                format!(
                    "{what}: the caller and its ancestors are never signalled as part of a \
                     tree, so it could not be ended (and ending it would end the caller); \
                     allow_protected walks it anyway, and reports it as not ended"
                ),
            ));
        }
        at = parent;
    }
    Ok(())
}

/// Open `pid` and check it against the config's identity guard; a guard that fails is
/// [`NotFound`](crate::ErrorCode::NotFound): nothing is signalled.
///
/// # Errors
/// [`NotFound`](crate::ErrorCode::NotFound) when the process is gone or is not the one the
/// guard describes.
pub(crate) fn open_checked(pid: Pid, config: &TerminateTreeConfig) -> Result<ProcessHandle> {
    if let Some(identity) = &config.require_identity
        && identity.pid != pid.get()
    {
        return Err(SysprimsError::invalid(
            "require_identity",
            format!("{{pid: {}}}", identity.pid),
            format!("it names another PID than the one to terminate ({pid})"),
        ));
    }
    let root = ProcessHandle::open(pid)?;
    if let Some(identity) = &config.require_identity {
        match root.verify(identity)? {
            IdentityCheck::Same => {}
            other => return Err(guard_failed(pid, other)),
        }
    }
    if config.require_start_time_ms.is_some() || config.require_exe_path.is_some() {
        let stored = ProcessIdentity::from_parts(
            pid.get(),
            config.require_start_time_ms,
            config.require_exe_path.clone(),
        );
        match root.verify(&stored)? {
            IdentityCheck::Same => {}
            other => return Err(guard_failed(pid, other)),
        }
    }
    Ok(root)
}

fn guard_failed(pid: Pid, check: IdentityCheck) -> SysprimsError {
    let operation = match check {
        IdentityCheck::Reused {
            reason: ReuseReason::ExePathChanged { .. },
        } => {
            "terminate_tree (nothing signalled: the PID now runs another executable than \
             require_exe_path, so it was reused or ran another program); the process meant, \
             identified by that guard"
        }
        IdentityCheck::Reused {
            reason: ReuseReason::StartTimeMismatch { .. },
        } => {
            "terminate_tree (nothing signalled: the PID was reused, its process started at \
             another time than require_start_time_ms); the process meant, identified by that \
             guard"
        }
        IdentityCheck::Reused { .. } => {
            "terminate_tree (nothing signalled: the PID was reused); the process meant"
        }
        IdentityCheck::Same | IdentityCheck::Gone => "terminate_tree",
    };
    SysprimsError::NotFound {
        operation,
        subject: Subject::Process(pid.get()),
    }
}

/// End the job in the cgroup `dir`, whose top is `pid`.
pub(crate) fn terminate_job_cgroup(
    pid: Pid,
    dir: &std::path::Path,
    config: &TerminateTreeConfig,
    cancel: Option<&CancelFd>,
) -> Result<TerminateTreeResult> {
    let start = Instant::now();
    let result = empty_result(pid.get(), config, TreeKillReliability::Guaranteed);
    let mut result = crate::sys::jobs::terminate_cgroup(dir, config, result, cancel)?;
    result.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(result)
}

/// How long a cancelled [`terminate_tree_cancellable`] still waits, after the kill signal,
/// for it to take effect (at most the configured kill timeout): `SIGKILL` ends a process in
/// well under a millisecond unless it is in uninterruptible sleep, so this is long enough
/// for an accurate `exited` and `survivors` and short enough to honour the cancel promptly.
pub const CANCELLED_KILL_WAIT: Duration = Duration::from_millis(100);

/// The wait after the kill signal, for both paths. `wait(deadline, cancel)` waits for the
/// tree to be gone and says whether it is. Without a cancel it lasts up to
/// `kill_timeout_ms`; once the token is triggered (before, with `cancelled_before`, or
/// during it), at most [`CANCELLED_KILL_WAIT`] more. Returns whether the tree is gone and
/// whether the cancel cut the wait short.
pub(crate) fn wait_after_kill(
    kill_timeout_ms: u64,
    cancelled_before: bool,
    cancel: Option<&CancelFd>,
    mut wait: impl FnMut(Option<Instant>, Option<&CancelFd>) -> Result<bool>,
) -> Result<(bool, bool)> {
    let full = Instant::now().checked_add(Duration::from_millis(kill_timeout_ms));
    let capped = || {
        let cap = Instant::now() + CANCELLED_KILL_WAIT;
        Some(full.map_or(cap, |d| d.min(cap)))
    };
    if cancelled_before {
        return Ok((wait(capped(), None)?, true));
    }
    if wait(full, cancel)? {
        return Ok((true, false));
    }
    if crate::sys::cancel::triggered(cancel) {
        return Ok((wait(capped(), None)?, true));
    }
    Ok((false, false))
}

/// Shorthand used by both paths: an empty result for `pid`.
pub(crate) fn empty_result(
    pid: u32,
    config: &TerminateTreeConfig,
    reliability: TreeKillReliability,
) -> TerminateTreeResult {
    TerminateTreeResult {
        schema_id: TERMINATE_TREE_RESULT_SCHEMA_ID.to_string(),
        pid,
        signal_sent: config.signal,
        kill_signal: config.kill_signal,
        escalated: false,
        exited: false,
        timed_out: false,
        survivors: Vec::new(),
        signalled: 0,
        tree_kill_reliability: reliability,
        warnings: Vec::new(),
        elapsed_ms: 0,
        usage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn guard_errors_say_what_differed() {
        let pid = Pid::new(42).unwrap();
        let e = guard_failed(
            pid,
            IdentityCheck::Reused {
                reason: ReuseReason::StartTimeMismatch {
                    stored_unix_ms: Some(1),
                    current_unix_ms: Some(2),
                },
            },
        );
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert_eq!(e.pid(), Some(42));
        assert!(e.to_string().contains("reused"), "{e}");
        assert!(e.to_string().contains("nothing signalled"), "{e}");
        let e = guard_failed(
            pid,
            IdentityCheck::Reused {
                reason: ReuseReason::ExePathChanged {
                    stored: "/a".into(),
                    current: "/b".into(),
                },
            },
        );
        assert!(e.to_string().contains("another executable"), "{e}");
    }
}
