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
pub(crate) use linux::limits;
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

// Code the Unix backends share.
#[cfg(any(target_os = "linux", target_os = "macos"))]
pub(crate) mod unix;

// The macOS backend; its pure parts (record parsers, signal table, spawn plan) are compiled
// on Linux too, so their tests and fuzz targets run here.
#[cfg(any(target_os = "macos", test, feature = "fuzzing"))]
pub(crate) mod macos;

// The stubs serve every platform without a backend, the Windows backend for the parts it
// has not implemented yet, and macOS for the cgroup-only parts of jobs (watchdogs, usage)
// and for job limits, which it cannot apply.
#[cfg(not(target_os = "linux"))]
#[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
pub(crate) mod unsupported;

#[cfg(windows)]
pub(crate) mod windows;
#[cfg(windows)]
pub(crate) use windows::{cancel, fds, jobs, ports, process, signal, timeout, wait};

#[cfg(target_os = "macos")]
pub(crate) use macos::cancel;
#[cfg(target_os = "macos")]
pub(crate) use macos::jobs;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::cancel;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::jobs;
// No backend but Linux's applies job limits yet: Windows's stubs are the unsupported ones.
#[cfg(target_os = "macos")]
pub(crate) use macos::process;
#[cfg(target_os = "macos")]
pub(crate) use macos::signal;
#[cfg(target_os = "macos")]
pub(crate) use macos::timeout;
#[cfg(target_os = "macos")]
pub(crate) use macos::wait;
#[cfg(target_os = "macos")]
pub(crate) use macos::{fds, ports};
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::limits;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::process;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::signal;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::timeout;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::wait;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) use unsupported::{fds, ports};

use crate::process::{ProcessInfo, ProcessState};

/// When a process started, in the platform's own exact units: an opaque stamp that is equal
/// for the same process on every read and (with the PID) tells it from a successor. Linux:
/// clock ticks after boot (`/proc/<pid>/stat` field 22). Windows: the creation time,
/// 100 ns units since 1601-01-01 UTC (`GetProcessTimes`). macOS: microseconds since the Unix
/// epoch (`proc_bsdinfo`'s `pbi_start_tvsec`/`pbi_start_tvusec`).
pub(crate) type StartStamp = u64;

/// A process as a backend read it, with the raw counters the portable layer needs for CPU
/// sampling and for telling a process from a successor with the same PID.
#[derive(Clone, Debug)]
pub(crate) struct RawProcess {
    pub info: ProcessInfo,
    /// CPU time used (user + system), nanoseconds.
    pub cpu_time_ns: u64,
    /// When it started.
    pub start: StartStamp,
}

/// The cheap part of a process, what one pass over the process table says: the portable
/// layer's tree walks, descendant lists and CPU sampling need nothing more.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProcSummary {
    pub pid: u32,
    pub ppid: u32,
    /// Process group; 0 where the platform has none (Windows) or no longer shows it (a dead
    /// Linux task).
    pub pgid: u32,
    pub state: ProcessState,
    /// A kernel thread: not a process that signals can end.
    pub kernel_thread: bool,
    /// CPU time used (user + system), nanoseconds.
    pub cpu_time_ns: u64,
    pub start: StartStamp,
}

impl ProcSummary {
    /// Exited: a zombie, or dead and seen in passing.
    pub(crate) fn is_gone(&self) -> bool {
        matches!(self.state, ProcessState::Zombie | ProcessState::Dead)
    }

    /// Stopped by a signal or a debugger.
    pub(crate) fn is_stopped(&self) -> bool {
        matches!(
            self.state,
            ProcessState::Stopped | ProcessState::TracingStop
        )
    }
}

/// The Linux backend's own summary (state letters, ticks), which its jobs and timeouts use.
#[cfg(target_os = "linux")]
pub(crate) use linux::StatSummary;
