//! # sysprims
//!
//! Process primitives for supervisors, job runners, CI runners and test harnesses: know exactly
//! who a PID is, and never mistake a newcomer that reused a PID for the process you meant.
//!
//! - [`get_process`]: one process, with a start time at clock-tick resolution and the
//!   executable path, which together with the PID identify it.
//! - [`ProcessIdentity`] and [`verify_identity`]: store who a PID was, ask later whether it
//!   still is ([`IdentityCheck::Same`], [`IdentityCheck::Reused`] with the evidence, or
//!   [`IdentityCheck::Gone`]).
//! - [`snapshot`]: every process, filtered ([`ProcessFilter`]), sorted ([`SortKey`]), with CPU
//!   rates sampled over an interval when asked.
//! - [`descendants`]: a process's subtree.
//! - [`Signal`], [`kill`], [`killpg`], [`kill_many`]: signals by name or number, to one process,
//!   one group or a batch, with PID 1, the caller and its group protected.
//! - [`signal_if`] and [`ProcessHandle`]: signals through a pidfd, checked against a stored
//!   identity, that reach the process you mean or nothing.
//! - [`wait_pid`], [`spawn_in_group`], [`terminate_tree`]: jobs, their ends, and whole-tree
//!   termination; [`CancelToken`] stops the waits of [`wait_pid_cancellable`] and
//!   [`terminate_tree_cancellable`] from another thread.
//! - [`list_fds`]: a process's open file descriptors, with sockets resolved.
//! - [`listening_ports`]: listening TCP and UDP sockets with every process that holds each;
//!   [`port_owners`] and [`ports_of`] for the reverse lookups.
//!
//! Every entry point validates PIDs first ([`Pid`]): 0, and anything above `i32::MAX` (which
//! `kill(2)` would read as a process group, or as "every process"), are
//! [`InvalidArgument`](ErrorCode::InvalidArgument) errors before any system call.
//!
//! ## Start times
//!
//! On Linux, `start_time_unix_ms` is the kernel's boot time (`btime`, whole seconds, the same
//! anchor `ps` uses) plus the process's start in clock ticks after boot (10 ms). It is the
//! same value on every read, from every process, so it can be compared with `!=`; it
//! resolves processes started 10 ms apart; and it is within one second of the wall clock
//! (the anchor drops the fraction of a second at which the machine booted).
//!
//! ## Platforms
//!
//! Linux is implemented (kernel 5.3+ for pidfds, 6.9+ for pidfs inodes; older kernels work
//! with weaker identities). On other platforms every call returns
//! [`NotSupported`](ErrorCode::NotSupported) for now.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cancel;
pub mod error;
pub mod fds;
#[cfg(all(target_os = "linux", any(test, feature = "fuzzing")))]
#[doc(hidden)]
pub mod fuzzing;
mod job;
pub mod json;
pub mod limits;
pub mod pid;
pub mod ports;
pub mod process;
pub mod schema;
pub mod signal;
pub mod spawn;
mod sys;
pub mod timeout;
pub mod tree;
pub mod wait;

pub use cancel::{CANCELLED_WARNING, CancelToken};
pub use error::{ErrorCode, ErrorReport, Result, Subject, SysprimsError};
pub use fds::{
    AccessMode, FD_SNAPSHOT_SCHEMA_ID, FdFilter, FdInfo, FdKind, FdSnapshot, SocketFamily,
    SocketInfo, SocketProtocol, SocketState, list_fds,
};
pub use job::Job;
pub use limits::{EndedBy, JobLimits, JobUsage};
pub use pid::{IntoPid, Pid};
pub use ports::{
    PORT_BINDINGS_SCHEMA_ID, PortBinding, PortBindings, PortFilter, PortProcess, Protocol,
    listening_ports, port_owners, ports_of,
};
pub use process::{
    CPU_SAMPLE_MS_MAX, IdentityCheck, PROCESS_SNAPSHOT_SCHEMA_ID, PROCESS_TREE_SCHEMA_ID,
    ProcessFilter, ProcessIdentity, ProcessInfo, ProcessOptions, ProcessSnapshot, ProcessState,
    ProcessTree, ReuseReason, SnapshotOptions, SortKey, TreeNode, descendants, get_process,
    get_process_with, snapshot, verify_identity,
};
pub use signal::{
    GuardedSignal, KILL_REPORT_SCHEMA_ID, KillReport, ProcessHandle, Signal, SignalOptions,
    TargetOutcome, TargetResult, can_signal, force_kill, kill, kill_many, kill_many_with,
    kill_with, killpg, killpg_with, signal_if, signal_if_with, terminate,
};
pub use spawn::{
    Containment, ContainmentKind, SPAWN_IN_GROUP_RESULT_SCHEMA_ID, SpawnInGroupConfig,
    SpawnInGroupResult, StdioConfig, TreeKillReliability, spawn_in_group,
};
pub use timeout::{
    CommandStatus, RunDetails, TIMEOUT_REPORT_SCHEMA_ID, TimeoutConfig, TimeoutControl,
    TimeoutEvent, TimeoutOutcome, TimeoutReport, TimeoutRequest, run_with_timeout,
    run_with_timeout_cancellable, run_with_timeout_controlled,
};
pub use tree::{
    KillDescendantsOptions, TERMINATE_TREE_RESULT_SCHEMA_ID, TerminateTreeConfig,
    TerminateTreeResult, kill_descendants, terminate_tree, terminate_tree_cancellable,
};
pub use wait::{WAIT_PID_RESULT_SCHEMA_ID, WaitPidResult, wait_pid, wait_pid_cancellable};
