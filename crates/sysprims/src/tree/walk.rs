//! Trees not held by a cgroup: walk `/proc`, stop, signal, continue, wait.

use super::{KillDescendantsOptions, TerminateTreeConfig, TerminateTreeResult};
use crate::error::{Result, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::signal::{KillReport, Signal};

/// End `pid` and its descendants by walking `/proc` (see [`terminate_tree`](super::terminate_tree)).
pub(crate) fn terminate_walk(
    pid: Pid,
    config: &TerminateTreeConfig,
) -> Result<TerminateTreeResult> {
    let _ = (pid, config);
    Err(SysprimsError::NotSupported {
        feature: "terminate_tree",
        reason: "not built yet".into(),
    })
}

/// Signal the descendants of `pid` that match `options.filter`; `pid` itself is never
/// signalled.
///
/// Each target is signalled through a pidfd, checked against the identity the listing saw,
/// so a PID reused in between is not hit.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID or filter;
/// [`NotFound`](crate::ErrorCode::NotFound) when no process has the PID.
pub fn kill_descendants(
    pid: impl IntoPid,
    signal: Signal,
    options: &KillDescendantsOptions,
) -> Result<KillReport> {
    let _ = (pid.into_pid()?, signal, options);
    Err(SysprimsError::NotSupported {
        feature: "kill_descendants",
        reason: "not built yet".into(),
    })
}
