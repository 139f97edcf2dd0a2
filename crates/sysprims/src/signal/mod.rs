//! Signals that reach the process you mean, and only that process.
//!
//! - [`Signal`]: every Linux signal, by number or name (`"TERM"`, `"SIGTERM"`, `"15"`,
//!   `"RTMIN+1"`).
//! - [`kill`], [`killpg`], [`terminate`], [`force_kill`]: one process, or one process group,
//!   through separate functions: no PID whose sign changes its meaning.
//! - [`kill_many`]: a batch with a result per PID; every PID is validated before anything is
//!   sent.
//! - [`signal_if`] and [`ProcessHandle`]: race-free signalling. The handle holds a pidfd, so
//!   the process it names cannot be swapped for a newcomer that reused the PID; the identity is
//!   checked through it, then the signal is sent through it.
//!
//! ## Protected targets
//!
//! A destructive signal (anything but the probe, 0) to PID 1, to the caller itself, or to the
//! caller's own process group is refused with
//! [`InvalidArgument`](crate::ErrorCode::InvalidArgument) unless
//! [`SignalOptions::allow_protected`] is set. The probe is always allowed.

mod guarded;
mod number;
mod report;
mod send;

pub use guarded::{GuardedSignal, ProcessHandle, signal_if, signal_if_with};
pub use number::Signal;
pub(crate) use number::native_serde;
pub use report::{KILL_REPORT_SCHEMA_ID, KillReport, TargetOutcome, TargetResult};
pub(crate) use send::check_process;
pub use send::{
    SignalOptions, can_signal, force_kill, kill, kill_many, kill_many_with, kill_with, killpg,
    killpg_with, terminate,
};
