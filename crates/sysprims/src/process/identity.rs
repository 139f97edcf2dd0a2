//! Process identity that survives PID reuse.
//!
//! A PID names a process only until that process is reaped; then the kernel hands the number
//! to the next process it starts. A supervisor that stores a PID and signals it later can hit a
//! stranger. [`ProcessIdentity`] stores what tells processes apart, and [`verify_identity`]
//! says whether the PID still names the same process: the seed guide's `VerifyIdentity`, as a
//! library primitive.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SysprimsError};
use crate::pid::{IntoPid, Pid};

/// What identifies one process across time, to be stored (it serialises to JSON) and checked
/// later with [`verify_identity`].
///
/// Capture one with [`ProcessIdentity::of`]. The fields, strongest first:
/// - `pidfs_inode`: on Linux 6.9+, the inode of a pidfd on the pidfs filesystem. Never reused
///   within a boot: a different inode is a different process, whatever else matches, and the
///   same inode (with the same `boot_id`) is the same process, whatever else has changed.
/// - `start_time_boot_ticks` with `boot_id`: start as clock ticks after boot (10 ms), unaffected
///   by changes to the wall clock. Two processes with the same PID started in different ticks
///   are told apart.
/// - `start_time_unix_ms`: the same start as Unix milliseconds, as [`ProcessInfo`] reports it;
///   used when the tick count is absent (an identity built from a seed-style job record).
/// - `exe_path`: the executable, which also changes when the process calls `execve`; compared
///   only when no pidfs inode decides.
///
/// ```
/// use sysprims::{ProcessIdentity, verify_identity, IdentityCheck};
///
/// let me = ProcessIdentity::of(std::process::id()).unwrap();
/// let stored = serde_json::to_string(&me).unwrap();
/// let loaded: ProcessIdentity = serde_json::from_str(&stored).unwrap();
/// assert_eq!(verify_identity(&loaded).unwrap(), IdentityCheck::Same);
/// ```
///
/// [`ProcessInfo`]: crate::ProcessInfo
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessIdentity {
    /// The PID.
    pub pid: u32,
    /// Start time, Unix milliseconds, as in [`ProcessInfo::start_time_unix_ms`].
    ///
    /// [`ProcessInfo::start_time_unix_ms`]: crate::ProcessInfo::start_time_unix_ms
    #[serde(default)]
    pub start_time_unix_ms: Option<u64>,
    /// Start time, clock ticks after boot (Linux `/proc/<pid>/stat` field 22).
    #[serde(default)]
    pub start_time_boot_ticks: Option<u64>,
    /// The kernel's boot ID (`/proc/sys/kernel/random/boot_id`): tick counts and pidfs inodes
    /// only mean something within one boot.
    #[serde(default)]
    pub boot_id: Option<String>,
    /// Path of the executable.
    #[serde(default)]
    pub exe_path: Option<String>,
    /// Inode number of the process's pidfd on pidfs (Linux 6.9+).
    #[serde(default)]
    pub pidfs_inode: Option<u64>,
}

impl ProcessIdentity {
    /// Capture the identity of a running (or zombie) process.
    ///
    /// On Linux this opens a pidfd first, reads `/proc`, then confirms through the pidfd that
    /// the process was still there, so the fields cannot come from a process that took the
    /// PID over in between.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID,
    /// [`NotFound`](crate::ErrorCode::NotFound) when no process has it.
    pub fn of(pid: impl IntoPid) -> Result<ProcessIdentity> {
        let pid = pid.into_pid()?;
        crate::sys::process::capture_identity(pid)
    }

    /// An identity from the fields a seed-style job record keeps (`pid`, `start_time_unix_ms`,
    /// `exe_path`), for records written before sysprims identities existed. It is weaker than
    /// one from [`ProcessIdentity::of`]: without the pidfs inode and the tick count, a PID reused
    /// within the same 10 ms by the same executable looks the same.
    pub fn from_parts(pid: u32, start_time_unix_ms: Option<u64>, exe_path: Option<String>) -> Self {
        ProcessIdentity {
            pid,
            start_time_unix_ms,
            start_time_boot_ticks: None,
            boot_id: None,
            exe_path,
            pidfs_inode: None,
        }
    }

    /// An error unless the identity has something to compare besides the PID.
    pub(crate) fn require_evidence(&self) -> Result<()> {
        if self.start_time_unix_ms.is_some()
            || self.start_time_boot_ticks.is_some()
            || self.pidfs_inode.is_some()
            || self.exe_path.is_some()
        {
            return Ok(());
        }
        Err(SysprimsError::invalid(
            "process identity",
            format!("{{pid: {}}}", self.pid),
            "it has no start time, exe path or pidfs inode, so there is nothing to verify",
        ))
    }
}

/// The answer of [`verify_identity`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IdentityCheck {
    /// The PID still names the process the identity was taken from.
    Same,
    /// A process has the PID, but not the one the identity was taken from (or it has since run
    /// another program): do not signal it.
    Reused {
        /// The evidence.
        reason: ReuseReason,
    },
    /// No process has the PID: the identified process has exited and been reaped.
    Gone,
}

impl IdentityCheck {
    /// True for [`IdentityCheck::Same`].
    pub fn is_same(&self) -> bool {
        matches!(self, IdentityCheck::Same)
    }
}

/// Why [`verify_identity`] said [`IdentityCheck::Reused`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReuseReason {
    /// The machine has rebooted since the identity was taken.
    BootChanged {
        /// Boot ID in the stored identity.
        stored: String,
        /// Boot ID now.
        current: String,
    },
    /// The PID's pidfs inode differs: a different process, certainly.
    PidfsInodeMismatch {
        /// Stored inode.
        stored: u64,
        /// Inode now.
        current: u64,
    },
    /// The process now holding the PID started at another time.
    StartTimeMismatch {
        /// Stored start, Unix milliseconds (if stored).
        stored_unix_ms: Option<u64>,
        /// Start now, Unix milliseconds.
        current_unix_ms: Option<u64>,
    },
    /// The start time matches (or could not be compared) and no pidfs inode decides, but the
    /// executable differs: the process called `execve`, or the PID was reused by another
    /// program.
    ExePathChanged {
        /// Stored path.
        stored: String,
        /// Path now.
        current: String,
    },
}

impl fmt::Display for ReuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReuseReason::BootChanged { stored, current } => {
                write!(f, "the system rebooted (boot ID {stored} is now {current})")
            }
            ReuseReason::PidfsInodeMismatch { stored, current } => {
                write!(f, "pidfs inode {stored} is now {current}: another process")
            }
            ReuseReason::StartTimeMismatch {
                stored_unix_ms,
                current_unix_ms,
            } => write!(
                f,
                "start time mismatch (stored {}, now {})",
                opt(stored_unix_ms),
                opt(current_unix_ms)
            ),
            ReuseReason::ExePathChanged { stored, current } => {
                write!(f, "exe path mismatch (stored {stored:?}, now {current:?})")
            }
        }
    }
}

fn opt(ms: &Option<u64>) -> String {
    ms.map_or_else(|| "unknown".to_string(), |v| format!("{v} ms"))
}

/// Check whether `stored.pid` still names the process `stored` was taken from.
///
/// Every field present on both sides is compared (boot, pidfs inode, start time, executable);
/// any difference is [`IdentityCheck::Reused`] with the evidence, except that a pidfs inode
/// equal within the same boot settles it: that is the same process, even if it has since called
/// `execve`. No process with the PID is [`IdentityCheck::Gone`]. This replaces the seed guide's hand-written `VerifyIdentity`.
///
/// A check is a snapshot: the process can exit right after it. To signal only the identified
/// process, signal through a pidfd opened before the check (the signals API does this).
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID, or an identity
///   with nothing to compare (only a PID).
/// - [`PermissionDenied`](crate::ErrorCode::PermissionDenied) or
///   [`System`](crate::ErrorCode::System) when the current process cannot be read.
pub fn verify_identity(stored: &ProcessIdentity) -> Result<IdentityCheck> {
    let pid = Pid::new(stored.pid)?;
    stored.require_evidence()?;
    match crate::sys::process::capture_identity(pid) {
        Ok(current) => Ok(compare(stored, &current)),
        Err(e) if e.code() == crate::ErrorCode::NotFound => Ok(IdentityCheck::Gone),
        Err(e) => Err(e),
    }
}

/// Compare a stored identity with the current one for the same PID. Pure: the heart of
/// [`verify_identity`], tested on its own.
pub(crate) fn compare(stored: &ProcessIdentity, current: &ProcessIdentity) -> IdentityCheck {
    let reused = |reason| IdentityCheck::Reused { reason };
    let same_boot = match (&stored.boot_id, &current.boot_id) {
        (Some(s), Some(c)) if s != c => {
            return reused(ReuseReason::BootChanged {
                stored: s.clone(),
                current: c.clone(),
            });
        }
        (Some(_), Some(_)) => true,
        _ => false,
    };
    if let (Some(s), Some(c)) = (stored.pidfs_inode, current.pidfs_inode)
        && s != c
    {
        return reused(ReuseReason::PidfsInodeMismatch {
            stored: s,
            current: c,
        });
    }
    // Within one boot the kernel never gives two processes the same pidfs inode: this is the
    // process, even if it has since called execve, so the executable is not compared.
    let inode_decides = same_boot && stored.pidfs_inode.is_some() && current.pidfs_inode.is_some();
    // Ticks after boot are immune to wall-clock steps; they are only comparable within one
    // boot. Otherwise fall back to the Unix-milliseconds start time.
    // (On Windows the exact stamp is the creation time at 100 ns on the wall clock, fixed when
    // the process is created: comparable without a boot ID.)
    let comparable = same_boot || crate::sys::process::START_STAMPS_ARE_ABSOLUTE;
    let start_differs = match (stored.start_time_boot_ticks, current.start_time_boot_ticks) {
        (Some(s), Some(c)) if comparable => Some(s != c),
        _ => match (stored.start_time_unix_ms, current.start_time_unix_ms) {
            (Some(s), Some(c)) => Some(s != c),
            _ => None,
        },
    };
    if start_differs == Some(true) {
        return reused(ReuseReason::StartTimeMismatch {
            stored_unix_ms: stored.start_time_unix_ms,
            current_unix_ms: current.start_time_unix_ms,
        });
    }
    if let (Some(s), Some(c)) = (&stored.exe_path, &current.exe_path)
        && !inode_decides
        && s != c
    {
        return reused(ReuseReason::ExePathChanged {
            stored: s.clone(),
            current: c.clone(),
        });
    }
    IdentityCheck::Same
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(ticks: u64, inode: u64, exe: &str) -> ProcessIdentity {
        ProcessIdentity {
            pid: 100,
            start_time_unix_ms: Some(1_700_000_000_000 + ticks * 10),
            start_time_boot_ticks: Some(ticks),
            boot_id: Some("boot-a".into()),
            exe_path: Some(exe.into()),
            pidfs_inode: Some(inode),
        }
    }

    #[test]
    fn identical_is_same() {
        let a = full(5, 9, "/bin/x");
        assert_eq!(compare(&a, &a.clone()), IdentityCheck::Same);
    }

    #[test]
    fn each_field_detects_reuse() {
        let stored = full(5, 9, "/bin/x");
        let check = |current: ProcessIdentity| match compare(&stored, &current) {
            IdentityCheck::Reused { reason } => reason,
            other => panic!("expected reused, got {other:?}"),
        };
        assert!(matches!(
            check(full(5, 10, "/bin/x")),
            ReuseReason::PidfsInodeMismatch {
                stored: 9,
                current: 10
            }
        ));
        assert!(matches!(
            check(full(6, 9, "/bin/x")),
            ReuseReason::StartTimeMismatch { .. }
        ));
        let mut execed = full(5, 9, "/bin/y");
        execed.pidfs_inode = None;
        assert!(matches!(check(execed), ReuseReason::ExePathChanged { .. }));
        let mut rebooted = full(5, 9, "/bin/x");
        rebooted.boot_id = Some("boot-b".into());
        assert!(matches!(check(rebooted), ReuseReason::BootChanged { .. }));
    }

    #[test]
    fn a_matching_pidfs_inode_is_the_same_process_even_after_execve() {
        let stored = full(5, 9, "/bin/sh");
        assert_eq!(
            compare(&stored, &full(5, 9, "/usr/bin/job")),
            IdentityCheck::Same
        );
        // Without a boot ID the inode cannot be trusted alone: the rest is compared.
        let mut no_boot = stored.clone();
        no_boot.boot_id = None;
        assert!(matches!(
            compare(&no_boot, &full(5, 9, "/usr/bin/job")),
            IdentityCheck::Reused {
                reason: ReuseReason::ExePathChanged { .. }
            }
        ));
    }

    #[test]
    fn ticks_win_over_a_stepped_wall_clock() {
        let stored = full(5, 9, "/bin/x");
        let mut current = stored.clone();
        // The wall clock was stepped: Unix ms moved, ticks after boot did not.
        current.start_time_unix_ms = Some(stored.start_time_unix_ms.unwrap() + 3_000);
        assert_eq!(compare(&stored, &current), IdentityCheck::Same);
    }

    #[test]
    fn seed_style_identity_compares_what_it_has() {
        let current = full(5, 9, "/bin/x");
        let stored =
            ProcessIdentity::from_parts(100, current.start_time_unix_ms, Some("/bin/x".into()));
        assert_eq!(compare(&stored, &current), IdentityCheck::Same);
        let stored = ProcessIdentity::from_parts(100, Some(1), None);
        assert!(matches!(
            compare(&stored, &current),
            IdentityCheck::Reused { .. }
        ));
        let stored = ProcessIdentity::from_parts(100, None, Some("/bin/x".into()));
        assert_eq!(compare(&stored, &current), IdentityCheck::Same);
    }

    #[test]
    fn nothing_to_compare_is_an_error() {
        let err = verify_identity(&ProcessIdentity::from_parts(100, None, None)).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
        let err = verify_identity(&ProcessIdentity::from_parts(0, Some(1), None)).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
    }

    #[test]
    fn json_round_trip_and_unknown_keys() {
        let a = full(5, 9, "/bin/x");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ProcessIdentity>(&json).unwrap(), a);
        let minimal: ProcessIdentity =
            serde_json::from_str(r#"{"pid": 5, "start_time_unix_ms": 7}"#).unwrap();
        assert_eq!(minimal, ProcessIdentity::from_parts(5, Some(7), None));
        assert!(serde_json::from_str::<ProcessIdentity>(r#"{"pid": 5, "start_ms": 7}"#).is_err());
        let reused = IdentityCheck::Reused {
            reason: ReuseReason::PidfsInodeMismatch {
                stored: 1,
                current: 2,
            },
        };
        let json = serde_json::to_value(&reused).unwrap();
        assert_eq!(json["status"], "reused");
        assert_eq!(json["reason"]["kind"], "pidfs_inode_mismatch");
    }
}
