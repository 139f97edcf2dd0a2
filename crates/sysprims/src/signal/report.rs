//! What a batch of signals did, per target: the `kill-report` JSON document.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{ErrorCode, ErrorReport, Result, SysprimsError};
use crate::process::ReuseReason;
use crate::signal::{GuardedSignal, Signal};

/// `schema_id` of [`KillReport`].
pub const KILL_REPORT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/kill-report/v1.json";

/// What sending one signal to several processes did (or, as a preview, would do).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct KillReport {
    /// Always [`KILL_REPORT_SCHEMA_ID`].
    pub schema_id: String,
    /// The signal's number. In JSON the platform's native number (macOS numbers `USR1` 30);
    /// in Rust sysprims's (Linux) number, [`Signal::number`].
    #[serde(serialize_with = "crate::signal::native_serde::plain::serialize")]
    pub signal: i32,
    /// The signal's name (`"SIGTERM"`).
    pub signal_name: String,
    /// True when this is a preview: nothing was sent.
    pub preview: bool,
    /// One entry per target, in the order given.
    pub targets: Vec<TargetResult>,
}

impl KillReport {
    /// An empty report for `signal`.
    pub fn new(signal: Signal) -> KillReport {
        KillReport {
            schema_id: KILL_REPORT_SCHEMA_ID.to_string(),
            signal: signal.number(),
            signal_name: signal.to_string(),
            preview: false,
            targets: Vec::new(),
        }
    }

    /// True when every target was signalled (or, in a preview, would be) and there was at
    /// least one.
    pub fn all_signalled(&self) -> bool {
        !self.targets.is_empty()
            && self.targets.iter().all(|t| {
                matches!(
                    t.outcome,
                    TargetOutcome::Signalled | TargetOutcome::WouldSignal
                )
            })
    }
}

/// What happened to one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetOutcome {
    /// The signal was sent.
    Signalled,
    /// Preview: the signal would be sent.
    WouldSignal,
    /// Not sent: the target is protected (PID 1, the caller, the caller's group), or the
    /// request was invalid for it.
    Refused,
    /// Not sent: the PID now names another process than the one identified.
    Reused,
    /// Not sent: no process has the PID (it exited and was reaped).
    Gone,
    /// Not sent: the system refused (permission) or failed.
    Failed,
}

/// One target of a [`KillReport`].
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TargetResult {
    /// The PID.
    pub pid: u32,
    /// What happened.
    pub outcome: TargetOutcome,
    /// The process's name, when the target was chosen by a filter.
    pub name: Option<String>,
    /// Why it was not signalled (for `refused`, `gone` and `failed`).
    pub error: Option<ErrorReport>,
    /// The evidence, for `reused`.
    pub reuse_reason: Option<ReuseReason>,
    /// Anything the caller should know, e.g. that the kernel had no pidfds and `kill(2)` was
    /// used.
    pub warnings: Vec<String>,
}

impl TargetResult {
    fn new(pid: u32, outcome: TargetOutcome) -> TargetResult {
        TargetResult {
            pid,
            outcome,
            name: None,
            error: None,
            reuse_reason: None,
            warnings: Vec::new(),
        }
    }

    /// A preview entry: the signal would be sent to `pid`.
    pub fn would_signal(pid: u32) -> TargetResult {
        TargetResult::new(pid, TargetOutcome::WouldSignal)
    }

    /// The entry for the result of [`kill`](crate::kill) on `pid`.
    pub fn from_result(pid: u32, result: Result<()>) -> TargetResult {
        match result {
            Ok(()) => TargetResult::new(pid, TargetOutcome::Signalled),
            Err(e) => TargetResult::from_error(pid, &e),
        }
    }

    /// The entry for the result of [`signal_if`](crate::signal_if) on `pid`.
    pub fn from_guarded(pid: u32, result: Result<GuardedSignal>) -> TargetResult {
        match result {
            Ok(GuardedSignal::Signalled { warnings }) => TargetResult {
                warnings,
                ..TargetResult::new(pid, TargetOutcome::Signalled)
            },
            Ok(GuardedSignal::Reused { reason }) => TargetResult {
                reuse_reason: Some(reason),
                ..TargetResult::new(pid, TargetOutcome::Reused)
            },
            Ok(GuardedSignal::Gone) => TargetResult::new(pid, TargetOutcome::Gone),
            Err(e) => TargetResult::from_error(pid, &e),
        }
    }

    /// The entry for an error on `pid`.
    pub fn from_error(pid: u32, e: &SysprimsError) -> TargetResult {
        let outcome = match e.code() {
            ErrorCode::InvalidArgument => TargetOutcome::Refused,
            ErrorCode::NotFound => TargetOutcome::Gone,
            _ => TargetOutcome::Failed,
        };
        TargetResult {
            error: Some(ErrorReport::from(e)),
            ..TargetResult::new(pid, outcome)
        }
    }
}
