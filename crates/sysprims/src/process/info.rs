//! [`ProcessInfo`]: what sysprims knows about one process.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::pid::IntoPid;

/// One process, as read at one instant.
///
/// Optional fields are `None` when the value cannot be known (permission hides it, the kernel
/// does not have it); they are never guessed. Read one with [`get_process`], many with
/// [`snapshot`](crate::snapshot).
///
/// ```
/// let me = sysprims::get_process(std::process::id()).unwrap();
/// assert_eq!(me.pid, std::process::id());
/// assert!(me.start_time_unix_ms.is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessInfo {
    /// Process ID.
    pub pid: u32,
    /// Parent's PID; 0 when the process has none (the init process, kernel thread roots).
    pub ppid: u32,
    /// Process group ID.
    pub pgid: u32,
    /// Session ID.
    pub sid: u32,
    /// The kernel's name for the process (`comm`): the executable's base name, at most 15
    /// bytes on Linux, changed by `prctl(PR_SET_NAME)`. Non-UTF-8 bytes are replaced by U+FFFD.
    pub name: String,
    /// Effective user ID.
    pub uid: u32,
    /// Name of the effective user; `None` when the user database has no entry for `uid`.
    pub user: Option<String>,
    /// Scheduling state.
    pub state: ProcessState,
    /// True for kernel threads (no executable, no command line, no memory of their own).
    pub kernel_thread: bool,
    /// CPU use in percent of one CPU: the lifetime average (CPU time / elapsed time, as
    /// `ps -o pcpu`), or the rate over the sampling interval when the listing was sampled
    /// (as `top`). Can exceed 100 for a process busy on several CPUs.
    pub cpu_percent: f64,
    /// Resident set size, KiB.
    pub memory_kb: u64,
    /// Number of threads.
    pub thread_count: u32,
    /// Milliseconds since the process started.
    pub elapsed_ms: u64,
    /// Start time, Unix milliseconds, at clock-tick resolution (10 ms). Exactly the same value
    /// on every read, from any process, for as long as the process lives (until the system
    /// clock is stepped), so it can be compared with `!=` to detect PID reuse. Absolute
    /// accuracy is within 1 s of the wall clock (see the crate docs).
    pub start_time_unix_ms: Option<u64>,
    /// Start time in clock ticks after boot (`/proc/<pid>/stat` field 22), as
    /// [`ProcessIdentity::start_time_boot_ticks`](crate::ProcessIdentity::start_time_boot_ticks):
    /// immune to wall-clock steps, comparable within one boot (see `boot_id`).
    pub start_time_boot_ticks: Option<u64>,
    /// The kernel's boot ID (`/proc/sys/kernel/random/boot_id`), which scopes
    /// `start_time_boot_ticks` and `pidfs_inode`.
    pub boot_id: Option<String>,
    /// The inode of the process's pidfd on pidfs (Linux 6.9+): never given to another process
    /// within one boot, so it tells apart even two processes of the same program that had the
    /// same PID within the same clock tick, which nothing else here can. Filled by
    /// [`get_process`] (read through a pidfd opened first, so it is this process's); `None`
    /// in listings ([`snapshot`](crate::snapshot), [`descendants`](crate::descendants)),
    /// where opening a pidfd per process would cost, and on older kernels.
    pub pidfs_inode: Option<u64>,
    /// Absolute path of the executable; `None` when it cannot be read (permission, kernel
    /// thread, zombie) or is not UTF-8. Never a guess.
    pub exe_path: Option<String>,
    /// True when the executable file has been deleted (or replaced, as by a package upgrade)
    /// since the process started. `exe_path` is then the path it had, without the kernel's
    /// `" (deleted)"` suffix.
    pub exe_deleted: bool,
    /// Command-line arguments, `argv[0]` first. Empty for kernel threads and zombies, and
    /// when permission hides them. Each argument is decoded as UTF-8 with invalid bytes
    /// replaced by U+FFFD; when that happens `cmdline_base64` holds the exact bytes.
    pub cmdline: Vec<String>,
    /// Present only when some argument is not valid UTF-8: every argument's exact bytes,
    /// standard base64 with padding, in the same order as `cmdline`. Use
    /// [`ProcessInfo::cmdline_bytes`] rather than decoding by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline_base64: Option<Vec<String>>,
    /// Environment variables, only when asked for (see [`ProcessOptions::include_env`]) and
    /// permitted. Non-UTF-8 bytes are replaced by U+FFFD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
}

impl ProcessInfo {
    /// `pid` with every other field empty (zero, `None`, `Unknown`): what a backend fills in.
    #[cfg_attr(all(target_os = "linux", not(test)), allow(dead_code))]
    pub(crate) fn empty(pid: u32) -> Self {
        ProcessInfo {
            pid,
            ppid: 0,
            pgid: 0,
            sid: 0,
            name: String::new(),
            uid: 0,
            user: None,
            state: ProcessState::Unknown,
            kernel_thread: false,
            cpu_percent: 0.0,
            memory_kb: 0,
            thread_count: 0,
            elapsed_ms: 0,
            start_time_unix_ms: None,
            start_time_boot_ticks: None,
            boot_id: None,
            pidfs_inode: None,
            exe_path: None,
            exe_deleted: false,
            cmdline: Vec::new(),
            cmdline_base64: None,
            env: None,
        }
    }

    /// The identity to store for this process and hand to the guards later
    /// ([`signal_if`](crate::signal_if), [`verify_identity`](crate::verify_identity),
    /// [`TerminateTreeConfig::require_identity`](crate::TerminateTreeConfig::require_identity)):
    /// the PID, both start times, the boot ID, the executable and, from [`get_process`], the
    /// pidfs inode. The same fields as [`ProcessIdentity::of`](crate::ProcessIdentity::of)
    /// captures, so a guard built from what [`get_process`] returned is as strong as one
    /// captured directly.
    ///
    /// ```
    /// let info = sysprims::get_process(std::process::id()).unwrap();
    /// let stored = info.identity();
    /// assert!(sysprims::verify_identity(&stored).unwrap().is_same());
    /// ```
    pub fn identity(&self) -> crate::ProcessIdentity {
        crate::ProcessIdentity {
            pid: self.pid,
            start_time_unix_ms: self.start_time_unix_ms,
            start_time_boot_ticks: self.start_time_boot_ticks,
            boot_id: self.boot_id.clone(),
            exe_path: self.exe_path.clone(),
            pidfs_inode: self.pidfs_inode,
        }
    }

    /// The exact bytes of each command-line argument, whether or not they are UTF-8.
    pub fn cmdline_bytes(&self) -> Vec<Vec<u8>> {
        match &self.cmdline_base64 {
            Some(encoded) => encoded
                .iter()
                .zip(&self.cmdline)
                .map(|(b64, lossy)| {
                    BASE64
                        .decode(b64)
                        .unwrap_or_else(|_| lossy.clone().into_bytes())
                })
                .collect(),
            None => self
                .cmdline
                .iter()
                .map(|a| a.clone().into_bytes())
                .collect(),
        }
    }

    /// Fill `cmdline` and, when needed, `cmdline_base64` from raw arguments.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn set_cmdline<'a>(&mut self, args: impl Iterator<Item = &'a [u8]> + Clone) {
        self.cmdline = args
            .clone()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let lossless = args.clone().all(|a| std::str::from_utf8(a).is_ok());
        self.cmdline_base64 = if lossless {
            None
        } else {
            Some(args.map(|a| BASE64.encode(a)).collect())
        };
    }
}

/// Scheduling state, from the state letter of `/proc/<pid>/stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProcessState {
    /// `R`: running or runnable.
    Running,
    /// `S`: interruptible sleep.
    Sleeping,
    /// `D`: uninterruptible sleep, usually I/O.
    DiskSleep,
    /// `T`: stopped by a signal.
    Stopped,
    /// `t`: stopped by a debugger.
    TracingStop,
    /// `Z`: exited, not yet reaped by its parent.
    Zombie,
    /// `X`: dead (seen only in passing).
    Dead,
    /// `I`: idle kernel thread.
    Idle,
    /// `P`: parked kernel thread.
    Parked,
    /// Any other letter.
    Unknown,
}

impl ProcessState {
    /// The state for a `/proc` state letter.
    pub fn from_letter(letter: u8) -> ProcessState {
        match letter {
            b'R' => ProcessState::Running,
            b'S' => ProcessState::Sleeping,
            b'D' => ProcessState::DiskSleep,
            b'T' => ProcessState::Stopped,
            b't' => ProcessState::TracingStop,
            b'Z' => ProcessState::Zombie,
            b'X' | b'x' => ProcessState::Dead,
            b'I' => ProcessState::Idle,
            b'P' => ProcessState::Parked,
            _ => ProcessState::Unknown,
        }
    }

    /// The `ps`-style letter for this state.
    pub fn letter(self) -> char {
        match self {
            ProcessState::Running => 'R',
            ProcessState::Sleeping => 'S',
            ProcessState::DiskSleep => 'D',
            ProcessState::Stopped => 'T',
            ProcessState::TracingStop => 't',
            ProcessState::Zombie => 'Z',
            ProcessState::Dead => 'X',
            ProcessState::Idle => 'I',
            ProcessState::Parked => 'P',
            ProcessState::Unknown => '?',
        }
    }

    /// The name used in JSON and on the command line (`"disk_sleep"`).
    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Running => "running",
            ProcessState::Sleeping => "sleeping",
            ProcessState::DiskSleep => "disk_sleep",
            ProcessState::Stopped => "stopped",
            ProcessState::TracingStop => "tracing_stop",
            ProcessState::Zombie => "zombie",
            ProcessState::Dead => "dead",
            ProcessState::Idle => "idle",
            ProcessState::Parked => "parked",
            ProcessState::Unknown => "unknown",
        }
    }

    /// Every state, in declaration order.
    pub const ALL: [ProcessState; 10] = [
        ProcessState::Running,
        ProcessState::Sleeping,
        ProcessState::DiskSleep,
        ProcessState::Stopped,
        ProcessState::TracingStop,
        ProcessState::Zombie,
        ProcessState::Dead,
        ProcessState::Idle,
        ProcessState::Parked,
        ProcessState::Unknown,
    ];
}

impl std::str::FromStr for ProcessState {
    type Err = crate::SysprimsError;

    /// Parse a state by name (`"zombie"`) or by letter (`"Z"`).
    fn from_str(text: &str) -> Result<ProcessState> {
        let lower = text.trim().to_ascii_lowercase();
        if let Some(state) = ProcessState::ALL.iter().find(|s| s.name() == lower) {
            return Ok(*state);
        }
        if let [letter] = text.trim().as_bytes() {
            let state = ProcessState::from_letter(*letter);
            if state != ProcessState::Unknown {
                return Ok(state);
            }
        }
        let names: Vec<&str> = ProcessState::ALL.iter().map(|s| s.name()).collect();
        Err(crate::SysprimsError::invalid(
            "process state",
            text,
            format!(
                "expected one of {} or a ps letter (R, S, D, T, t, Z, X, I, P)",
                names.join(", ")
            ),
        ))
    }
}

/// What [`get_process_with`] and [`snapshot`](crate::snapshot) read besides the always-present
/// fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessOptions {
    /// Read each process's environment into [`ProcessInfo::env`]. Off by default: environments
    /// are large and often hold secrets.
    pub include_env: bool,
}

/// Read one process.
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for PID 0 or above `i32::MAX`.
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for the ID of a thread that is
///   not its process's main thread: the message says which process it is a thread of.
/// - [`NotFound`](crate::ErrorCode::NotFound) when no process has this PID.
///
/// Fields that permission hides are `None` or empty, not errors.
///
/// ```
/// let info = sysprims::get_process(1u32).unwrap();
/// assert_eq!(info.pid, 1);
/// ```
pub fn get_process(pid: impl IntoPid) -> Result<ProcessInfo> {
    get_process_with(pid, ProcessOptions::default())
}

/// [`get_process`] with options, e.g. to read the environment.
///
/// # Errors
/// As [`get_process`].
pub fn get_process_with(pid: impl IntoPid, options: ProcessOptions) -> Result<ProcessInfo> {
    let pid = pid.into_pid()?;
    crate::sys::process::read_one(pid, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_is_lossless_for_non_utf8() {
        let mut info = ProcessInfo::empty(1);
        let raw: [&[u8]; 3] = [b"prog", b"caf\xe9", b"ok"];
        info.set_cmdline(raw.iter().copied());
        assert_eq!(info.cmdline, vec!["prog", "caf\u{fffd}", "ok"]);
        assert_eq!(
            info.cmdline_bytes(),
            raw.iter().map(|a| a.to_vec()).collect::<Vec<_>>()
        );
        let encoded = info.cmdline_base64.as_ref().unwrap();
        assert_eq!(encoded[1], "Y2Fm6Q==");

        let raw: [&[u8]; 2] = [b"prog", "caf\u{e9}".as_bytes()];
        info.set_cmdline(raw.iter().copied());
        assert_eq!(info.cmdline_base64, None);
        assert_eq!(info.cmdline_bytes()[1], "caf\u{e9}".as_bytes());
    }

    #[test]
    fn state_names_and_letters() {
        for state in ProcessState::ALL {
            assert_eq!(state.name().parse::<ProcessState>().unwrap(), state);
            assert_eq!(ProcessState::from_letter(state.letter() as u8), state);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
        assert_eq!("Z".parse::<ProcessState>().unwrap(), ProcessState::Zombie);
        assert_eq!(
            "Zombie".parse::<ProcessState>().unwrap(),
            ProcessState::Zombie
        );
        let err = "zomby".parse::<ProcessState>().unwrap_err().to_string();
        assert!(
            err.contains("\"zomby\"") && err.contains("disk_sleep"),
            "{err}"
        );
    }
}
