//! Job limits ([`JobLimits`]), what a job used ([`JobUsage`]), and how it ended
//! ([`EndedBy`]).
//!
//! A job that [`spawn_in_group`](crate::spawn_in_group) (or
//! [`run_with_timeout`](crate::run_with_timeout)) puts in a cgroup of its own can be given
//! limits that the kernel enforces on the whole tree: memory (`memory.max`), swap
//! (`memory.swap.max`), processes (`pids.max`) and CPU (`cpu.max`). They are written to the
//! job's cgroup before the child runs any code of its own. When the job ends, the same cgroup
//! says what the whole tree used: CPU time, peak memory, peak process count, and how many
//! times the kernel's OOM killer struck, read before the cgroup is removed.
//!
//! The limits are grouped in one value, `limits` in JSON, so that a config without them is
//! the JSON it always was, both configs share one definition (and one validation), and an
//! unknown key inside `limits` is refused as it is at the top level.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SysprimsError};

/// The `cpu.max` period, microseconds: the kernel's default (100 ms). A `cpu_max` of 0.5 is
/// a quota of 50,000 µs in each such period.
pub const CPU_MAX_PERIOD_US: u64 = 100_000;

/// The smallest `cpu_max`: the kernel refuses a `cpu.max` quota below 1 ms per period.
pub const CPU_MAX_MIN: f64 = 0.01;

/// The smallest `memory_max_bytes`: one page. A smaller limit could hold no process at all.
pub const MEMORY_MAX_MIN_BYTES: u64 = 4096;

/// Limits the kernel enforces on a job's whole tree, through its cgroup.
///
/// Every limit is optional; without any, a job is started as it always was. A limit needs
/// the job to have a cgroup with the matching controller enabled (`memory`, `pids`, `cpu`):
/// with [`Containment::Auto`](crate::Containment::Auto) a limit that cannot be applied is
/// reported in the result's `warnings` (naming the controller) and the job runs without it;
/// with [`Containment::Cgroup`](crate::Containment::Cgroup) the spawn fails with
/// [`NotSupported`](crate::ErrorCode::NotSupported) naming the controller; with
/// [`Containment::ProcessGroup`](crate::Containment::ProcessGroup) any limit is an
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) (there is no cgroup to hold it).
///
/// ```
/// use sysprims::{JobLimits, SpawnInGroupConfig};
///
/// let config: SpawnInGroupConfig = serde_json::from_str(
///     r#"{"argv": ["make"], "limits": {"memory_max_bytes": 1073741824, "cpu_max": 1.5}}"#,
/// )
/// .unwrap();
/// assert_eq!(config.limits.memory_max_bytes, Some(1 << 30));
/// assert_eq!(config.limits.cpu_max, Some(1.5));
/// // Unknown keys are refused inside `limits` too.
/// assert!(serde_json::from_str::<JobLimits>(r#"{"memory_max": 1}"#).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JobLimits {
    /// The most memory the whole job may use, bytes (`memory.max`): anonymous memory, page
    /// cache and kernel memory charged to it. Past it the kernel reclaims, and when nothing
    /// can be reclaimed its OOM killer kills a process of the job (and [`EndedBy::OomKill`]
    /// says so). At least [`MEMORY_MAX_MIN_BYTES`], and at most the machine's memory and
    /// swap together (`MemTotal` + `SwapTotal`): a larger limit could never bind, and is
    /// taken for a mistake of units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_max_bytes: Option<u64>,
    /// The most swap the whole job may use, bytes (`memory.swap.max`). 0 is allowed: no
    /// swap at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swap_max_bytes: Option<u64>,
    /// The most processes (and threads) the job may have at once (`pids.max`): a `fork` or
    /// `clone` past it fails with `EAGAIN`. At least 1, at most the kernel's `pid_max`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_max: Option<u64>,
    /// The CPU the whole job may use, as a number of CPUs: 0.5 is half of one CPU, 2.0 two
    /// whole CPUs (`cpu.max`, a quota of `cpu_max` x [`CPU_MAX_PERIOD_US`] per period). At
    /// least [`CPU_MAX_MIN`], at most the CPUs this process may run on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_max: Option<f64>,
    /// Account the job's memory and processes even without a limit on them: enable the
    /// `memory` and `pids` controllers for its cgroup, so that [`JobUsage`] reports peak
    /// memory, OOM kills and peak processes. A limit on memory or processes does this
    /// already. Off by default: on a host whose controllers are not already enabled for the
    /// job's parent it costs a few cgroup writes per spawn.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accounting: bool,
}

// By bits: lawful `Eq` (a NaN equals itself), so configs holding limits stay `Eq`. A NaN is
// refused by [`JobLimits::validate`] anyway.
impl PartialEq for JobLimits {
    fn eq(&self, other: &JobLimits) -> bool {
        self.memory_max_bytes == other.memory_max_bytes
            && self.memory_swap_max_bytes == other.memory_swap_max_bytes
            && self.pids_max == other.pids_max
            && self.cpu_max.map(f64::to_bits) == other.cpu_max.map(f64::to_bits)
            && self.accounting == other.accounting
    }
}

impl Eq for JobLimits {}

impl JobLimits {
    /// Whether no limit is set (and no `accounting` asked for).
    pub fn is_empty(&self) -> bool {
        self.memory_max_bytes.is_none()
            && self.memory_swap_max_bytes.is_none()
            && self.pids_max.is_none()
            && self.cpu_max.is_none()
            && !self.accounting
    }

    /// Check every limit against what the machine can hold.
    ///
    /// ```
    /// use sysprims::{ErrorCode, JobLimits};
    ///
    /// assert!(JobLimits { cpu_max: Some(0.5), ..Default::default() }.validate().is_ok());
    /// let e = JobLimits { pids_max: Some(0), ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(e.code(), ErrorCode::InvalidArgument);
    /// assert!(e.to_string().contains("pids_max"));
    /// ```
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the limit and its value:
    /// a memory limit below one page or above the machine's memory and swap, a `pids_max` of
    /// 0 or above `pid_max`, a `cpu_max` that is not a finite number between [`CPU_MAX_MIN`]
    /// and the number of CPUs this process may use.
    pub fn validate(&self) -> Result<()> {
        if let Some(bytes) = self.memory_max_bytes {
            if bytes < MEMORY_MAX_MIN_BYTES {
                return Err(SysprimsError::invalid(
                    "memory_max_bytes",
                    bytes.to_string(),
                    format!(
                        "is below one page ({MEMORY_MAX_MIN_BYTES} bytes): no process fits in it"
                    ),
                ));
            }
            if let Some(machine) = crate::sys::limits::memory_and_swap_bytes()
                && bytes > machine
            {
                return Err(SysprimsError::invalid(
                    "memory_max_bytes",
                    bytes.to_string(),
                    format!(
                        "is above this machine's memory and swap together ({machine} bytes), \
                         so it could never bind (a mistake of units?)"
                    ),
                ));
            }
        }
        if let Some(n) = self.pids_max {
            if n == 0 {
                return Err(SysprimsError::invalid(
                    "pids_max",
                    "0",
                    "must be at least 1: the job's first process counts",
                ));
            }
            if let Some(max) = crate::sys::limits::pid_max()
                && n > max
            {
                return Err(SysprimsError::invalid(
                    "pids_max",
                    n.to_string(),
                    format!("is above the kernel's pid_max ({max})"),
                ));
            }
        }
        if let Some(cpus) = self.cpu_max {
            if !cpus.is_finite() || cpus < CPU_MAX_MIN {
                return Err(SysprimsError::invalid(
                    "cpu_max",
                    cpus.to_string(),
                    format!(
                        "must be a number of CPUs of at least {CPU_MAX_MIN} (the kernel's \
                         smallest quota, 1 ms per {} ms)",
                        CPU_MAX_PERIOD_US / 1000
                    ),
                ));
            }
            let machine = std::thread::available_parallelism().map_or(1, |n| n.get());
            if cpus > machine as f64 {
                return Err(SysprimsError::invalid(
                    "cpu_max",
                    cpus.to_string(),
                    format!("is above the {machine} CPU(s) this process may run on"),
                ));
            }
        }
        Ok(())
    }

    /// The `cpu.max` line for `cpu_max`: `"<quota µs> <period µs>"`.
    pub fn cpu_max_line(cpus: f64) -> String {
        let quota = (cpus * CPU_MAX_PERIOD_US as f64).round() as u64;
        format!("{} {CPU_MAX_PERIOD_US}", quota.max(1000))
    }
}

/// What a job's whole tree used, read from its cgroup when the job ended (before the cgroup
/// was removed): every process the job ever started counts, grandchildren and processes
/// that left the process group included.
///
/// A field is `None` where the kernel does not report it: the `memory` or `pids` controller
/// is not enabled for the job, or the kernel is too old (`memory.peak` needs Linux 5.19,
/// `pids.peak` 6.13 in cgroup v2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct JobUsage {
    /// CPU time spent in user mode, microseconds (`cpu.stat` `user_usec`).
    pub cpu_user_us: Option<u64>,
    /// CPU time spent in the kernel, microseconds (`cpu.stat` `system_usec`).
    pub cpu_system_us: Option<u64>,
    /// The most memory the job used at once, bytes (`memory.peak`): the tree's total, not
    /// its largest process.
    pub memory_peak_bytes: Option<u64>,
    /// How many times the job reached its memory limit and the kernel had to act
    /// (`memory.events` `oom`).
    pub oom_events: Option<u64>,
    /// How many processes of the job the kernel's OOM killer killed (`memory.events`
    /// `oom_kill`).
    pub oom_kills: Option<u64>,
    /// The most processes the job had at once (`pids.peak`).
    pub pids_peak: Option<u64>,
}

/// How a process (a job's first process) ended.
///
/// [`EndedBy::OomKill`] is the verdict for a process killed by `SIGKILL` when its job's
/// cgroup counted an OOM kill (`memory.events` `oom_kill` > 0): the kernel's OOM killer
/// ended it (or ended the process it waited for), not a person or a supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// It exited, with an exit code.
    Exit,
    /// A signal killed it.
    Signal,
    /// The kernel's OOM killer: `SIGKILL`, with an OOM kill counted in the job's cgroup.
    OomKill,
}

impl EndedBy {
    /// The verdict for an exit status (`exit_code` or `signal`) and the job's usage, if
    /// known: `None` when neither status is known.
    pub fn of(
        exit_code: Option<i32>,
        signal: Option<i32>,
        usage: Option<&JobUsage>,
    ) -> Option<EndedBy> {
        match (exit_code, signal) {
            (Some(_), _) => Some(EndedBy::Exit),
            (None, Some(9)) if usage.and_then(|u| u.oom_kills).is_some_and(|n| n > 0) => {
                Some(EndedBy::OomKill)
            }
            (None, Some(_)) => Some(EndedBy::Signal),
            (None, None) => None,
        }
    }

    /// `"exit"`, `"signal"` or `"oom_kill"`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Exit => "exit",
            EndedBy::Signal => "signal",
            EndedBy::OomKill => "oom_kill",
        }
    }
}

impl std::fmt::Display for EndedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The warning a job without a cgroup carries instead of usage.
pub(crate) const NO_USAGE_WARNING: &str =
    "no usage: the job had no cgroup of its own, so what its tree used is not known";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn refuses_limits_naming_the_value() {
        let cases = [
            JobLimits {
                memory_max_bytes: Some(0),
                ..Default::default()
            },
            JobLimits {
                pids_max: Some(0),
                ..Default::default()
            },
            JobLimits {
                cpu_max: Some(f64::NAN),
                ..Default::default()
            },
            JobLimits {
                cpu_max: Some(-1.0),
                ..Default::default()
            },
            JobLimits {
                cpu_max: Some(0.0),
                ..Default::default()
            },
            JobLimits {
                cpu_max: Some(f64::INFINITY),
                ..Default::default()
            },
            JobLimits {
                cpu_max: Some(10_000.0),
                ..Default::default()
            },
        ];
        // Above the machine's memory and swap: refused only where the backend knows them.
        let huge = JobLimits {
            memory_max_bytes: Some(u64::MAX),
            ..Default::default()
        };
        let machine_known = crate::sys::limits::memory_and_swap_bytes().is_some();
        assert_eq!(huge.validate().is_err(), machine_known, "{huge:?}");
        for limits in cases {
            let e = limits.validate().unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{limits:?}");
            let text = e.to_string();
            let (name, value) = if let Some(v) = limits.memory_max_bytes {
                ("memory_max_bytes", v.to_string())
            } else if let Some(v) = limits.pids_max {
                ("pids_max", v.to_string())
            } else {
                ("cpu_max", limits.cpu_max.unwrap().to_string())
            };
            assert!(text.contains(name) && text.contains(&value), "{text}");
        }
        assert!(
            JobLimits {
                memory_swap_max_bytes: Some(0),
                memory_max_bytes: Some(1 << 20),
                pids_max: Some(10),
                cpu_max: Some(CPU_MAX_MIN),
                accounting: true,
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn cpu_max_line_and_verdicts() {
        assert_eq!(JobLimits::cpu_max_line(0.5), "50000 100000");
        assert_eq!(JobLimits::cpu_max_line(2.0), "200000 100000");
        let oom = JobUsage {
            oom_kills: Some(1),
            ..Default::default()
        };
        assert_eq!(
            EndedBy::of(None, Some(9), Some(&oom)),
            Some(EndedBy::OomKill)
        );
        assert_eq!(EndedBy::of(None, Some(9), None), Some(EndedBy::Signal));
        assert_eq!(
            EndedBy::of(None, Some(15), Some(&oom)),
            Some(EndedBy::Signal)
        );
        assert_eq!(EndedBy::of(Some(0), None, Some(&oom)), Some(EndedBy::Exit));
        assert_eq!(EndedBy::of(None, None, None), None);
        let json = serde_json::to_string(&EndedBy::OomKill).unwrap();
        assert_eq!(json, "\"oom_kill\"");
    }
}
