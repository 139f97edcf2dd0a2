//! Listing processes: [`snapshot`] with filters, sorting and CPU sampling.

use std::collections::HashMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::info::{ProcessInfo, ProcessOptions, ProcessState};
use crate::error::{Result, SysprimsError};
use crate::pid::Pid;
use crate::sys::process as sys;

/// Selects processes. Every criterion that is set must hold; an empty filter selects all.
///
/// ```
/// use sysprims::ProcessFilter;
///
/// let filter = ProcessFilter { name_equals: Some("sshd".into()), cpu_above: Some(5.0), ..Default::default() };
/// let json = serde_json::to_string(&filter).unwrap();
/// assert!(serde_json::from_str::<ProcessFilter>(r#"{"name": "x"}"#).is_err()); // unknown key
/// # let _ = json;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessFilter {
    /// The name contains this text (case-sensitive). Linux truncates `comm` to 15 bytes; when
    /// a name is truncated, the base name of `argv[0]` or of the executable (whichever extends
    /// it) is matched as well.
    pub name_contains: Option<String>,
    /// The name is exactly this, with the same allowance for truncated names.
    pub name_equals: Option<String>,
    /// The effective user, by name or by numeric UID.
    pub user: Option<String>,
    /// The parent PID.
    pub ppid: Option<Pid>,
    /// Only these PIDs.
    pub pids: Option<Vec<Pid>>,
    /// The scheduling state.
    pub state: Option<ProcessState>,
    /// CPU use above this percentage (lifetime average, or the sampled rate when sampling).
    pub cpu_above: Option<f64>,
    /// Resident memory above this many KiB.
    pub memory_above_kb: Option<u64>,
    /// Running for at least this many milliseconds.
    pub running_for_ms: Option<u64>,
}

/// A filter with its values checked and the user resolved to a UID.
#[derive(Clone, Debug)]
pub(crate) struct CompiledFilter {
    filter: ProcessFilter,
    uid: Option<u32>,
    pids: Option<Vec<u32>>,
}

impl ProcessFilter {
    /// Check every value, as [`snapshot`] does before reading anything.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the bad value: a negative
    /// or non-finite CPU percentage, an unknown user. (PIDs are [`Pid`]s, valid by
    /// construction; JSON input with an invalid PID fails to deserialize.)
    pub fn validate(&self) -> Result<()> {
        self.compile().map(|_| ())
    }

    pub(crate) fn compile(&self) -> Result<CompiledFilter> {
        let pids = self.pids.as_ref().map(|list| {
            let mut raw: Vec<u32> = list.iter().map(|p| p.get()).collect();
            raw.sort_unstable();
            raw.dedup();
            raw
        });
        if let Some(cpu) = self.cpu_above
            && (!cpu.is_finite() || cpu < 0.0)
        {
            return Err(SysprimsError::invalid(
                "CPU percentage",
                cpu.to_string(),
                "must be a finite number, 0 or more",
            ));
        }
        let uid = match &self.user {
            None => None,
            Some(user) => Some(resolve_user(user)?),
        };
        Ok(CompiledFilter {
            filter: self.clone(),
            uid,
            pids,
        })
    }
}

fn resolve_user(user: &str) -> Result<u32> {
    if user.is_empty() {
        return Err(SysprimsError::invalid(
            "user",
            user,
            "a user name cannot be empty",
        ));
    }
    if user.bytes().all(|b| b.is_ascii_digit()) {
        return user
            .parse::<u32>()
            .map_err(|_| SysprimsError::invalid("user", user, "UID out of range"));
    }
    sys::uid_for_name(user)
        .ok_or_else(|| SysprimsError::invalid("user", user, "no such user in the user database"))
}

impl CompiledFilter {
    /// The PIDs to read, when the filter names them.
    pub(crate) fn pids(&self) -> Option<&[u32]> {
        self.pids.as_deref()
    }

    /// Whether a process passes. `cpu_percent` must already be the rate to judge by.
    pub(crate) fn matches(&self, p: &ProcessInfo) -> bool {
        let f = &self.filter;
        if let Some(pids) = &self.pids
            && pids.binary_search(&p.pid).is_err()
        {
            return false;
        }
        if f.ppid.is_some_and(|ppid| p.ppid != ppid.get())
            || self.uid.is_some_and(|uid| p.uid != uid)
            || f.state.is_some_and(|state| p.state != state)
            || f.cpu_above.is_some_and(|cpu| p.cpu_percent <= cpu)
            || f.memory_above_kb.is_some_and(|kb| p.memory_kb <= kb)
            || f.running_for_ms.is_some_and(|ms| p.elapsed_ms < ms)
        {
            return false;
        }
        if let Some(needle) = &f.name_equals
            && !names(p).any(|name| name == needle)
        {
            return false;
        }
        if let Some(needle) = &f.name_contains
            && !names(p).any(|name| name.contains(needle.as_str()))
        {
            return false;
        }
        true
    }
}

/// Linux's `comm` holds at most 15 bytes.
const COMM_MAX: usize = 15;

/// The names a process answers to: its `comm`, and when that is truncated, the base names of
/// `argv[0]` and of the executable that it is a prefix of.
fn names(p: &ProcessInfo) -> impl Iterator<Item = &str> {
    let comm = p.name.as_str();
    let truncated = comm.len() == COMM_MAX;
    let extends = move |path: &&String| -> bool {
        let base = basename(path);
        truncated && base.len() > COMM_MAX && base.starts_with(comm)
    };
    std::iter::once(comm)
        .chain(p.cmdline.first().filter(extends).map(|a| basename(a)))
        .chain(p.exe_path.as_ref().filter(extends).map(|a| basename(a)))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What to sort a listing by. The default direction is the useful one: ascending for
/// [`Pid`](SortKey::Pid), [`Name`](SortKey::Name) and [`StartTime`](SortKey::StartTime) (oldest
/// first, as `ps --sort start_time`), descending for [`Cpu`](SortKey::Cpu) and
/// [`Memory`](SortKey::Memory) (busiest first, as `top`). Ties are broken by PID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// By PID.
    #[default]
    Pid,
    /// By name.
    Name,
    /// By CPU use, busiest first.
    Cpu,
    /// By resident memory, largest first.
    Memory,
    /// By start time, oldest first.
    StartTime,
}

impl std::str::FromStr for SortKey {
    type Err = SysprimsError;

    fn from_str(text: &str) -> Result<SortKey> {
        Ok(
            match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "pid" => SortKey::Pid,
                "name" => SortKey::Name,
                "cpu" => SortKey::Cpu,
                "memory" | "mem" | "rss" => SortKey::Memory,
                "start_time" | "start" => SortKey::StartTime,
                _ => {
                    return Err(SysprimsError::invalid(
                        "sort key",
                        text,
                        "expected pid, name, cpu, memory or start_time",
                    ));
                }
            },
        )
    }
}

/// How to take a [`snapshot`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotOptions {
    /// Which processes.
    pub filter: ProcessFilter,
    /// Sort order.
    pub sort: SortKey,
    /// Reverse the sort key's default direction.
    pub reverse: bool,
    /// Keep only the first N after sorting (`top`-style).
    pub limit: Option<usize>,
    /// Measure CPU over this many milliseconds instead of using lifetime averages: two
    /// readings this far apart, as `top` does. The call blocks for the interval, which must
    /// be 1 ms to [`CPU_SAMPLE_MS_MAX`] (one hour).
    #[schemars(range(min = 1, max = 3_600_000))]
    pub cpu_sample_ms: Option<u64>,
    /// What to read besides the usual fields.
    pub process: ProcessOptions,
}

/// The schema ID of [`ProcessSnapshot`] documents.
pub const PROCESS_SNAPSHOT_SCHEMA_ID: &str =
    "https://sysprims.dev/schemas/process-snapshot/v1.json";

/// A listing of processes, read at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessSnapshot {
    /// Always [`PROCESS_SNAPSHOT_SCHEMA_ID`].
    pub schema_id: String,
    /// When the listing was read, Unix milliseconds.
    pub timestamp_unix_ms: u64,
    /// The CPU sampling interval actually measured, in milliseconds, when CPU was sampled;
    /// `None` when `cpu_percent` is the lifetime average.
    pub cpu_sample_ms: Option<u64>,
    /// The processes, filtered, sorted and limited as asked.
    pub processes: Vec<ProcessInfo>,
}

/// The longest CPU sampling interval accepted, in milliseconds: one hour. A call that samples
/// blocks for the interval, so a larger value (`u64::MAX`) would block forever.
pub const CPU_SAMPLE_MS_MAX: u64 = 3_600_000;

/// A CPU sampling interval is 1 ms to [`CPU_SAMPLE_MS_MAX`], or `None`.
pub(crate) fn check_cpu_sample_ms(ms: Option<u64>) -> Result<()> {
    match ms {
        Some(0) => Err(SysprimsError::invalid(
            "CPU sampling interval",
            "0",
            "must be at least 1 ms",
        )),
        Some(ms) if ms > CPU_SAMPLE_MS_MAX => Err(SysprimsError::invalid(
            "CPU sampling interval",
            format!("{ms} ms"),
            format!("must be at most {CPU_SAMPLE_MS_MAX} ms (one hour): the call blocks for it"),
        )),
        _ => Ok(()),
    }
}

/// List processes.
///
/// Processes that exit while the listing is read are left out, not errors. On Linux a large
/// listing is read by a few threads at once (each process through its own `/proc/<pid>`
/// directory fd); the result does not depend on it.
///
/// ```
/// use sysprims::{snapshot, SnapshotOptions, SortKey};
///
/// let top = snapshot(&SnapshotOptions { sort: SortKey::Memory, limit: Some(5), ..Default::default() }).unwrap();
/// assert!(top.processes.len() <= 5);
/// assert!(top.processes.windows(2).all(|w| w[0].memory_kb >= w[1].memory_kb));
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for a bad filter value or a zero
/// sampling interval; [`System`](crate::ErrorCode::System) if `/proc` cannot be listed.
pub fn snapshot(options: &SnapshotOptions) -> Result<ProcessSnapshot> {
    let filter = options.filter.compile()?;
    check_cpu_sample_ms(options.cpu_sample_ms)?;
    let listed;
    let pids: &[u32] = match filter.pids() {
        Some(pids) => pids,
        None => {
            listed = sys::all_pids()?;
            &listed
        }
    };

    // First reading for CPU sampling: ticks per (pid, start) so a PID reused during the
    // interval is not credited with its predecessor's time.
    let first = match options.cpu_sample_ms {
        Some(ms) => {
            let before = sys::Clock::now();
            let cpu_ns: HashMap<(u32, u64), u64> = sys::table_of(pids)?
                .into_iter()
                .map(|s| ((s.pid, s.start), s.cpu_time_ns))
                .collect();
            std::thread::sleep(Duration::from_millis(ms));
            Some((before, cpu_ns))
        }
        None => None,
    };

    let clock = sys::Clock::now();
    let raw = sys::read_many(pids, options.process, &clock)?;
    let sample_ms = first.as_ref().map(|(before, _)| {
        (clock
            .monotonic_now_ns()
            .saturating_sub(before.monotonic_now_ns()))
            / 1_000_000
    });

    let mut users = sys::UserCache::default();
    // An iterator chain from `raw` into the result lets the standard library reuse `raw`'s
    // allocation (in-place collect) instead of holding two copies of the listing at once.
    let mut processes: Vec<ProcessInfo> = raw
        .into_iter()
        .filter_map(|mut p| {
            if let (Some((_, cpu_ns)), Some(window_ms)) = (&first, sample_ms) {
                let (used_ns, window) = match cpu_ns.get(&(p.info.pid, p.start)) {
                    Some(&before) => (p.cpu_time_ns.saturating_sub(before), window_ms),
                    // Started during the interval: all its CPU time is inside it.
                    None => (p.cpu_time_ns, window_ms.min(p.info.elapsed_ms)),
                };
                p.info.cpu_percent = if window == 0 {
                    0.0
                } else {
                    (used_ns / 1_000_000) as f64 * 100.0 / window as f64
                };
            }
            filter.matches(&p.info).then(|| {
                if p.info.user.is_none() {
                    p.info.user = users.name(p.info.uid);
                }
                p.info
            })
        })
        .collect();
    sort(&mut processes, options.sort, options.reverse);
    if let Some(limit) = options.limit {
        processes.truncate(limit);
    }
    Ok(ProcessSnapshot {
        schema_id: PROCESS_SNAPSHOT_SCHEMA_ID.to_string(),
        timestamp_unix_ms: clock.realtime_now_ms(),
        cpu_sample_ms: sample_ms,
        processes,
    })
}

fn sort(processes: &mut [ProcessInfo], key: SortKey, reverse: bool) {
    use std::cmp::Ordering;
    let by = |a: &ProcessInfo, b: &ProcessInfo| -> Ordering {
        match key {
            SortKey::Pid => Ordering::Equal,
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::Cpu => b.cpu_percent.total_cmp(&a.cpu_percent),
            SortKey::Memory => b.memory_kb.cmp(&a.memory_kb),
            SortKey::StartTime => a.start_time_unix_ms.cmp(&b.start_time_unix_ms),
        }
    };
    processes.sort_by(|a, b| {
        let order = by(a, b).then(a.pid.cmp(&b.pid));
        if reverse { order.reverse() } else { order }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, name: &str) -> ProcessInfo {
        let mut p = crate::process::ProcessInfo::empty(pid);
        p.name = name.into();
        p
    }

    fn pid(raw: u32) -> Pid {
        Pid::new(raw).unwrap()
    }

    fn compiled(f: ProcessFilter) -> CompiledFilter {
        f.compile().unwrap()
    }

    #[test]
    fn name_filters_see_past_comm_truncation() {
        let mut p = proc(10, "very-long-daemo");
        p.cmdline = vec!["/usr/sbin/very-long-daemon-name".into(), "--x".into()];
        let eq = |n: &str| {
            compiled(ProcessFilter {
                name_equals: Some(n.into()),
                ..Default::default()
            })
            .matches(&p)
        };
        assert!(eq("very-long-daemo"));
        assert!(eq("very-long-daemon-name"));
        assert!(!eq("very-long-daemon"));
        let has = |n: &str| {
            compiled(ProcessFilter {
                name_contains: Some(n.into()),
                ..Default::default()
            })
            .matches(&p)
        };
        assert!(has("daemon-name"));
        assert!(!has("sbin"));

        // A short name is never extended.
        let mut q = proc(11, "sh");
        q.cmdline = vec!["/bin/shell-wrapper".into()];
        let f = compiled(ProcessFilter {
            name_equals: Some("shell-wrapper".into()),
            ..Default::default()
        });
        assert!(!f.matches(&q));
    }

    #[test]
    fn numeric_filters() {
        let mut p = proc(10, "x");
        p.cpu_percent = 12.5;
        p.memory_kb = 2048;
        p.elapsed_ms = 60_000;
        p.ppid = 7;
        p.uid = 1000;
        let m = |f: ProcessFilter| compiled(f).matches(&p);
        assert!(m(ProcessFilter {
            cpu_above: Some(12.0),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            cpu_above: Some(12.5),
            ..Default::default()
        }));
        assert!(m(ProcessFilter {
            memory_above_kb: Some(2047),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            memory_above_kb: Some(2048),
            ..Default::default()
        }));
        assert!(m(ProcessFilter {
            running_for_ms: Some(60_000),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            running_for_ms: Some(60_001),
            ..Default::default()
        }));
        assert!(m(ProcessFilter {
            ppid: Some(pid(7)),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            ppid: Some(pid(8)),
            ..Default::default()
        }));
        assert!(m(ProcessFilter {
            user: Some("1000".into()),
            ..Default::default()
        }));
        // A user name: Unix has "root" in its user database, Windows no such name.
        #[cfg(unix)]
        assert!(!m(ProcessFilter {
            user: Some("root".into()),
            ..Default::default()
        }));
        assert!(m(ProcessFilter {
            pids: Some(vec![pid(3), pid(10)]),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            pids: Some(vec![pid(3)]),
            ..Default::default()
        }));
        assert!(!m(ProcessFilter {
            state: Some(ProcessState::Zombie),
            ..Default::default()
        }));
    }

    #[test]
    fn bad_filter_values_are_named() {
        let err = |f: ProcessFilter| f.validate().unwrap_err().to_string();
        let json = |text: &str| {
            serde_json::from_str::<ProcessFilter>(text)
                .unwrap_err()
                .to_string()
        };
        assert!(json(r#"{"pids": [1, 0]}"#).contains("PID 0"));
        assert!(json(r#"{"pids": [4294967295]}"#).contains("kill(-1"));
        assert!(json(r#"{"ppid": -1}"#).contains("every process"));
        assert!(
            err(ProcessFilter {
                cpu_above: Some(-1.0),
                ..Default::default()
            })
            .contains("-1")
        );
        assert!(
            err(ProcessFilter {
                cpu_above: Some(f64::NAN),
                ..Default::default()
            })
            .contains("NaN")
        );
        assert!(
            err(ProcessFilter {
                user: Some("no-such-user-xyz".into()),
                ..Default::default()
            })
            .contains("no-such-user-xyz")
        );
        assert!(
            err(ProcessFilter {
                user: Some("".into()),
                ..Default::default()
            })
            .contains("empty")
        );
    }

    #[test]
    fn sort_directions() {
        let mut ps = vec![proc(3, "b"), proc(1, "c"), proc(2, "a")];
        ps[0].memory_kb = 5;
        ps[1].memory_kb = 9;
        ps[2].memory_kb = 5;
        let pids = |ps: &[ProcessInfo]| ps.iter().map(|p| p.pid).collect::<Vec<_>>();
        sort(&mut ps, SortKey::Pid, false);
        assert_eq!(pids(&ps), [1, 2, 3]);
        sort(&mut ps, SortKey::Name, false);
        assert_eq!(pids(&ps), [2, 3, 1]);
        sort(&mut ps, SortKey::Memory, false);
        assert_eq!(pids(&ps), [1, 2, 3]);
        sort(&mut ps, SortKey::Memory, true);
        assert_eq!(pids(&ps), [3, 2, 1]);
        assert_eq!("start-time".parse::<SortKey>().unwrap(), SortKey::StartTime);
        assert!(
            "size"
                .parse::<SortKey>()
                .unwrap_err()
                .to_string()
                .contains("\"size\"")
        );
    }
}
