//! Waiting for any process to end: [`wait_pid`].

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SysprimsError};
use crate::pid::IntoPid;

/// `schema_id` of [`WaitPidResult`].
pub const WAIT_PID_RESULT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/wait-pid-result/v1.json";

/// How a wait ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitPidResult {
    /// Always [`WAIT_PID_RESULT_SCHEMA_ID`].
    pub schema_id: String,
    /// The PID waited for.
    pub pid: u32,
    /// The process has ended (a zombie counts).
    pub exited: bool,
    /// The timeout passed first; the process is still running.
    pub timed_out: bool,
    /// The exit code, when the process exited normally and its status could be read (it was
    /// the caller's child, or a zombie whose status `/proc` still shows).
    pub exit_code: Option<i32>,
    /// The signal that ended the process, when it was killed and its status could be read.
    pub signal: Option<i32>,
    /// Anything worth logging (e.g. why the status is unknown).
    pub warnings: Vec<String>,
}

/// Wait until `pid` ends, or until `timeout` passes (`None`: no limit).
///
/// Any process can be waited for, the caller's child or not. On Linux the wait is a pidfd
/// and `poll(2)`: no polling loop, and the return comes as soon as the process exits. When
/// `pid` is the caller's child it is reaped and its exit status returned. When `pid` leads a
/// job that [`spawn_in_group`](crate::spawn_in_group) put in a cgroup, the cgroup is removed
/// once the job is empty.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID;
/// [`NotFound`](crate::ErrorCode::NotFound) when no process has it.
pub fn wait_pid(pid: impl IntoPid, timeout: Option<Duration>) -> Result<WaitPidResult> {
    let _pid = pid.into_pid()?;
    let _ = timeout;
    Err(SysprimsError::NotSupported {
        feature: "wait_pid",
        reason: "not built yet".into(),
    })
}
