//! Everything that talks to the operating system. All `unsafe` in sysprims lives below here,
//! in modules that say `#![allow(unsafe_code)]` and justify each block.
//!
//! The rest of the crate sees one backend through the `process` facade, whose functions have
//! the same signatures on every platform.

#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::cancel;
#[cfg(target_os = "linux")]
pub(crate) use linux::jobs;
#[cfg(target_os = "linux")]
pub(crate) use linux::process;
#[cfg(target_os = "linux")]
pub(crate) use linux::signal;
#[cfg(target_os = "linux")]
pub(crate) use linux::timeout;
#[cfg(target_os = "linux")]
pub(crate) use linux::wait;
#[cfg(target_os = "linux")]
pub(crate) use linux::{fds, sockets as ports};

#[cfg(not(target_os = "linux"))]
pub(crate) mod unsupported;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::cancel;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::jobs;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::process;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::signal;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::timeout;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::wait;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::{fds, ports};

use crate::process::ProcessInfo;

/// A process as a backend read it, with the raw counters the portable layer needs for CPU
/// sampling and for telling a process from a successor with the same PID.
#[derive(Clone, Debug)]
pub(crate) struct RawProcess {
    pub info: ProcessInfo,
    /// CPU time used (user + system), clock ticks.
    pub cpu_ticks: u64,
    /// Start, clock ticks after boot.
    pub start_ticks: u64,
}

/// The cheap part of a process: what its `stat` line says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatSummary {
    pub pid: u32,
    pub ppid: u32,
    /// Process group (0 for a task already dead, whose group the kernel no longer shows).
    pub pgid: u32,
    /// The state letter (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, ...).
    pub state: u8,
    /// A kernel thread: not a process that signals can end.
    pub kernel_thread: bool,
    pub cpu_ticks: u64,
    pub start_ticks: u64,
}
