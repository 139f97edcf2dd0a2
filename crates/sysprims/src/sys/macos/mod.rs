//! The macOS backend: libproc (`proc_listallpids`, `proc_pidinfo`, `proc_pidpath`) and
//! `sysctl(KERN_PROCARGS2)` for processes; `kill(2)`/`killpg(3)` for signals (shared with
//! Linux in `sys/unix`); kqueue for waits and timeouts; `posix_spawn` and process groups for
//! jobs; `proc_pidfdinfo` for fds and listening ports.
//!
//! No Mac runs on the machines this is built on: the backend is compiled, linted and linked
//! for both Mac targets (`scripts/check-macos`), and its pure parts ([`parse`]) are tested on
//! every platform; see the README's Platforms section.
//!
//! macOS has no pidfd. A process is named by its PID alone, so every guarded operation reads
//! the start time (with the PID, the identity), then acts: a PID reused between the check and
//! the act is the race that Linux's pidfds close (the README says how small it is).

// The record parsers are compiled on every platform (their tests and fuzz targets run on
// Linux); only the macOS build calls all of them.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) mod parse;

#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod cancel;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod fds;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod jobs;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod kqueue;
// Signal numbers, macOS's against sysprims's (Linux's): a table, tested on Linux too.
#[cfg(any(target_os = "macos", all(test, target_os = "linux")))]
pub(crate) mod signo;

// The spawn's plain-Rust parts, tested on Linux too.
#[cfg(any(target_os = "macos", all(test, target_os = "linux")))]
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
#[allow(unsafe_code)]
pub(crate) mod plan;

#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod process;
#[cfg(target_os = "macos")]
pub(crate) mod signal;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod timeout;

#[cfg(target_os = "macos")]
pub(crate) mod ports;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub(crate) mod wait;

#[cfg(target_os = "macos")]
use crate::error::{Subject, SysprimsError};

/// The calling thread's `errno` after a failed call.
#[cfg(target_os = "macos")]
pub(crate) fn last_errno() -> i32 {
    crate::sys::unix::last_errno()
}

/// An errno as an error from `operation` on `subject`.
#[cfg(target_os = "macos")]
pub(crate) fn errno_error(operation: &'static str, subject: Subject, errno: i32) -> SysprimsError {
    SysprimsError::from_errno(operation, subject, errno)
}
