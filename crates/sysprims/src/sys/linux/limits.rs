//! Job limits and usage through cgroups: `memory.max`, `memory.swap.max`, `pids.max`,
//! `cpu.max` written to the job's cgroup before the child runs, and `cpu.stat`,
//! `memory.peak`, `memory.events`, `pids.peak` read when it has ended.
//!
//! cgroup v2 first: a controller listed in the parent's `cgroup.controllers` is enabled in
//! the parent's `cgroup.subtree_control` (the kernel refuses that for a non-root parent
//! holding processes of its own, the no-internal-process rule: then the controller is
//! unavailable, and the message says to give `cgroup_parent` an empty cgroup).
//!
//! Hybrid hosts (cgroup v2 beside v1 hierarchies, as on the machines this was built on) have
//! the `memory`, `pids` and `cpu` controllers bound to v1, where v2 cannot have them. There a
//! controller's v1 hierarchy gets a job cgroup of the same name, under the caller's own v1
//! cgroup, and the child joins it (a write of `0` to its `cgroup.procs`, from the child, before
//! `execve`). The v2 cgroup still holds the job (kill, events); the v1 ones hold the limits.
//! They are removed with the v2 cgroup ([`remove_siblings`]), and a sweep removes those whose
//! v2 cgroup has gone (removed by a watchdog, which knows only v2).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fs::{Mode, OFlags};

use super::cgroup::{self, Mount};
use crate::limits::{JobLimits, JobUsage};

/// A controller a limit needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Controller {
    Memory,
    Pids,
    Cpu,
}

impl Controller {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }
}

const ALL: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::Cpu];

fn read_text(path: &Path) -> io::Result<String> {
    let mut text = String::with_capacity(1024);
    File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

fn write_text(path: &Path, value: &str) -> io::Result<()> {
    File::options()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// `MemTotal` + `SwapTotal` of `/proc/meminfo`, bytes.
pub(crate) fn memory_and_swap_bytes() -> Option<u64> {
    let text = read_text(Path::new("/proc/meminfo")).ok()?;
    parse_meminfo_total(&text)
}

/// `MemTotal` + `SwapTotal` (kB) of a meminfo text, bytes.
pub(crate) fn parse_meminfo_total(text: &str) -> Option<u64> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    let mem = field("MemTotal:")?;
    let swap = field("SwapTotal:").unwrap_or(0);
    Some(mem.saturating_add(swap).saturating_mul(1024))
}

/// The kernel's `pid_max`.
pub(crate) fn pid_max() -> Option<u64> {
    read_text(Path::new("/proc/sys/kernel/pid_max"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The controllers `limits` needs.
pub(crate) fn needed(limits: &JobLimits) -> Vec<Controller> {
    let mut out = Vec::new();
    if limits.memory_max_bytes.is_some()
        || limits.memory_swap_max_bytes.is_some()
        || limits.accounting
    {
        out.push(Controller::Memory);
    }
    if limits.pids_max.is_some() || limits.accounting {
        out.push(Controller::Pids);
    }
    if limits.cpu_max.is_some() {
        out.push(Controller::Cpu);
    }
    out
}

/// A v1 hierarchy of one controller: its mount, and the caller's own cgroup in it.
struct V1Hierarchy {
    controller: Controller,
    /// The caller's own cgroup directory in this hierarchy.
    own: PathBuf,
}

/// Parse `/proc/self/mountinfo` for the v1 hierarchy mount holding `controller`.
pub(crate) fn find_v1_mount(mountinfo: &str, controller: &str) -> Option<Mount> {
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mut r = right.split(' ');
        if r.next() != Some("cgroup") {
            continue;
        }
        let options = r.nth(1).unwrap_or("");
        if !options.split(',').any(|o| o == controller) {
            continue;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        if fields.len() < 5 {
            continue;
        }
        return Some(Mount {
            root: cgroup::unescape_mountinfo(fields[3]),
            point: PathBuf::from(cgroup::unescape_mountinfo(fields[4])),
        });
    }
    None
}

/// The caller's path in the v1 hierarchy of `controller`, from a `/proc/<pid>/cgroup` text.
pub(crate) fn v1_path<'a>(cgroup_file: &'a str, controller: &str) -> Option<&'a str> {
    cgroup_file.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        (id != "0" && controllers.split(',').any(|c| c == controller)).then_some(path.trim_end())
    })
}

/// The v1 hierarchies of the caller, read once (a process's own cgroups are where its jobs
/// are made, as for v2).
fn v1_hierarchies() -> &'static [V1Hierarchy] {
    static V1: OnceLock<Vec<V1Hierarchy>> = OnceLock::new();
    V1.get_or_init(|| {
        let (Ok(info), Ok(own)) = (
            read_text(Path::new("/proc/self/mountinfo")),
            read_text(Path::new("/proc/self/cgroup")),
        ) else {
            return Vec::new();
        };
        ALL.iter()
            .filter_map(|&c| {
                let mount = find_v1_mount(&info, c.name())?;
                let path = v1_path(&own, c.name())?;
                let own = cgroup::directory_of(&mount, path)?;
                Some(V1Hierarchy { controller: c, own })
            })
            .collect()
    })
}

fn v1_of(controller: Controller) -> Option<&'static V1Hierarchy> {
    v1_hierarchies().iter().find(|h| h.controller == controller)
}

/// Where one controller of a job lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the job's v2 cgroup.
    V2,
    /// In a v1 cgroup of that name.
    V1(PathBuf),
}

/// Where a job's memory and pids counters are, as its spawn set them up: the usage read
/// then opens only those files (each path lookup in cgroupfs costs several µs), where
/// [`usage`] has to probe for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Placement {
    pub memory: Option<Place>,
    pub pids: Option<Place>,
}

/// The limits of a job, set up in its cgroups before the child starts.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// `cgroup.procs` of each v1 cgroup the child must join before `execve`.
    pub procs: Vec<OwnedFd>,
    /// The v1 cgroups made (removed again if the spawn fails).
    pub v1_dirs: Vec<PathBuf>,
    /// Where the counters are.
    pub placement: Placement,
}

impl Applied {
    /// Remove the v1 cgroups again (a spawn that failed).
    pub(crate) fn undo(self) {
        drop(self.procs);
        for d in self.v1_dirs {
            let _ = cgroup::remove_dirs(&d);
        }
    }
}

/// Why one controller could not be had.
#[derive(Debug)]
pub(crate) struct Missing {
    pub controller: Controller,
    pub reason: String,
}

impl Missing {
    pub(crate) fn message(&self) -> String {
        format!(
            "the {} controller is not available for the job: {}",
            self.controller.name(),
            self.reason
        )
    }
}

/// Enable `controller` for children of the v2 cgroup `parent`.
fn enable_v2(parent: &Path, controller: Controller) -> Result<(), String> {
    let name = controller.name();
    let available = read_text(&parent.join("cgroup.controllers"))
        .map_err(|e| format!("cannot read {}/cgroup.controllers: {e}", parent.display()))?;
    if !available.split_whitespace().any(|c| c == name) {
        return Err(format!(
            "{} does not offer it in cgroup v2 (cgroup.controllers: \"{}\"; the parent cgroup \
             has not enabled it, or it is bound to a v1 hierarchy)",
            parent.display(),
            available.trim()
        ));
    }
    let enabled = read_text(&parent.join("cgroup.subtree_control")).unwrap_or_default();
    if enabled.split_whitespace().any(|c| c == name) {
        return Ok(());
    }
    write_text(&parent.join("cgroup.subtree_control"), &format!("+{name}")).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) {
            format!(
                "cannot enable it in {}/cgroup.subtree_control: that cgroup holds processes of \
                 its own (cgroup v2's no-internal-process rule); give cgroup_parent an empty \
                 cgroup",
                parent.display()
            )
        } else {
            format!(
                "cannot enable it in {}/cgroup.subtree_control: {e}",
                parent.display()
            )
        }
    })
}

/// Find a place for `controller` for the job cgroup `job` (v2): v2 where the parent offers
/// it, else a v1 hierarchy that has it.
fn place(job: &Path, controller: Controller) -> Result<Place, String> {
    let parent = job.parent().unwrap_or(Path::new("/"));
    let v2 = match enable_v2(parent, controller) {
        Ok(()) => return Ok(Place::V2),
        Err(e) => e,
    };
    let Some(h) = v1_of(controller) else {
        return Err(v2);
    };
    let name = job.file_name().unwrap_or_default();
    let dir = h.own.join(name);
    match rustix::fs::mkdir(&dir, Mode::from_raw_mode(0o755)) {
        Ok(()) => Ok(Place::V1(dir)),
        Err(e) => Err(format!(
            "{v2}; and no cgroup can be made in its v1 hierarchy under {}: {}",
            h.own.display(),
            io::Error::from(e)
        )),
    }
}

fn write_limit(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    write_text(&dir.join(file), value)
        .map_err(|e| format!("cannot write {value:?} to {}/{file}: {e}", dir.display()))
}

/// Write the limits for one controller in its place.
fn write_limits(place: &Place, job: &Path, c: Controller, l: &JobLimits) -> Result<(), String> {
    match (place, c) {
        (Place::V2, Controller::Memory) => {
            if let Some(b) = l.memory_max_bytes {
                write_limit(job, "memory.max", &b.to_string())?;
            }
            if let Some(b) = l.memory_swap_max_bytes {
                write_limit(job, "memory.swap.max", &b.to_string())?;
            }
            Ok(())
        }
        (Place::V1(dir), Controller::Memory) => {
            // v1 limits memory+swap together (memsw), which must be at least the memory
            // limit: the swap allowance is added to it.
            let mem = l.memory_max_bytes;
            if let Some(b) = mem {
                write_limit(dir, "memory.limit_in_bytes", &b.to_string())?;
            }
            if let Some(s) = l.memory_swap_max_bytes {
                if !dir.join("memory.memsw.limit_in_bytes").exists() {
                    return Err(
                        "memory.swap.max has no v1 counterpart here (swap accounting is off: \
                         no memory.memsw.limit_in_bytes)"
                            .to_string(),
                    );
                }
                let base = match mem {
                    Some(b) => b,
                    None => {
                        return Err("memory_swap_max_bytes needs memory_max_bytes on a v1 \
                                        memory hierarchy (it limits memory and swap together)"
                            .to_string());
                    }
                };
                write_limit(
                    dir,
                    "memory.memsw.limit_in_bytes",
                    &base.saturating_add(s).to_string(),
                )?;
            }
            Ok(())
        }
        (Place::V2, Controller::Pids) | (Place::V1(_), Controller::Pids) => {
            let dir = match place {
                Place::V1(dir) => dir.as_path(),
                Place::V2 => job,
            };
            match l.pids_max {
                Some(n) => write_limit(dir, "pids.max", &n.to_string()),
                None => Ok(()),
            }
        }
        (Place::V2, Controller::Cpu) => write_limit(
            job,
            "cpu.max",
            &JobLimits::cpu_max_line(l.cpu_max.unwrap_or(1.0)),
        ),
        (Place::V1(dir), Controller::Cpu) => {
            let line = JobLimits::cpu_max_line(l.cpu_max.unwrap_or(1.0));
            let (quota, period) = line.split_once(' ').unwrap_or(("", ""));
            write_limit(dir, "cpu.cfs_period_us", period)?;
            write_limit(dir, "cpu.cfs_quota_us", quota)
        }
    }
}

/// Set up `limits` for the job cgroup `job` (just made, empty). Each controller that cannot
/// be had is returned as [`Missing`] (the caller warns, or fails in strict mode); the ones
/// that could are written and kept.
pub(crate) fn apply(job: &Path, limits: &JobLimits) -> (Applied, Vec<Missing>) {
    let mut applied = Applied::default();
    let mut missing = Vec::new();
    for c in needed(limits) {
        let placed = place(job, c);
        let result = placed.and_then(|p| {
            let written = write_limits(&p, job, c, limits);
            if written.is_ok() {
                match c {
                    Controller::Memory => applied.placement.memory = Some(p.clone()),
                    Controller::Pids => applied.placement.pids = Some(p.clone()),
                    Controller::Cpu => {}
                }
            }
            match (&p, written) {
                (Place::V1(dir), Ok(())) => {
                    match rustix::fs::open(
                        dir.join("cgroup.procs"),
                        OFlags::WRONLY | OFlags::CLOEXEC,
                        Mode::empty(),
                    ) {
                        Ok(fd) => {
                            applied.procs.push(fd);
                            applied.v1_dirs.push(dir.clone());
                            Ok(())
                        }
                        Err(e) => {
                            let _ = std::fs::remove_dir(dir);
                            Err(format!(
                                "cannot open {}/cgroup.procs: {}",
                                dir.display(),
                                io::Error::from(e)
                            ))
                        }
                    }
                }
                (Place::V1(dir), Err(e)) => {
                    let _ = std::fs::remove_dir(dir);
                    Err(e)
                }
                (Place::V2, r) => r,
            }
        });
        if let Err(reason) = result {
            missing.push(Missing {
                controller: c,
                reason,
            });
        }
    }
    (applied, missing)
}

/// The v1 cgroups of the job cgroup `job` (v2) that exist.
fn siblings(job: &Path) -> Vec<(Controller, PathBuf)> {
    let Some(name) = job.file_name() else {
        return Vec::new();
    };
    v1_hierarchies()
        .iter()
        .map(|h| (h.controller, h.own.join(name)))
        .filter(|(_, d)| d.join("cgroup.procs").exists())
        .collect()
}

/// Remove the v1 cgroups of the job cgroup `job` (called once `job` itself is removed).
pub(crate) fn remove_siblings(job: &Path) {
    if !job
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(cgroup::JOB_PREFIX))
    {
        return;
    }
    for (_, d) in siblings(job) {
        let _ = cgroup::remove_dirs(&d);
    }
}

/// Remove v1 job cgroups whose v2 cgroup (same name, under `v2_parent`) is gone and that
/// hold no process.
pub(crate) fn sweep_v1(v2_parent: &Path) {
    for h in v1_hierarchies() {
        let Ok(entries) = std::fs::read_dir(&h.own) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name();
            if !name.to_string_lossy().starts_with(cgroup::JOB_PREFIX) {
                continue;
            }
            if v2_parent.join(&name).exists() {
                continue;
            }
            // rmdir refuses while a process is in it.
            let _ = cgroup::remove_dirs(&e.path());
        }
    }
}

/// `key value` lines of a cgroup file: the value of `key`.
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn read_u64(path: &Path) -> Option<u64> {
    read_text(path).ok()?.trim().parse().ok()
}

/// What the job in cgroup `job` used, reading only where `placement` says the counters
/// are (CPU is always in the v2 cgroup's `cpu.stat`).
pub(crate) fn usage_placed(job: &Path, placement: &Placement) -> JobUsage {
    let mut u = JobUsage::default();
    if let Ok(stat) = read_text(&job.join("cpu.stat")) {
        u.cpu_user_us = keyed(&stat, "user_usec");
        u.cpu_system_us = keyed(&stat, "system_usec");
    }
    match &placement.memory {
        Some(Place::V2) => {
            if let Ok(events) = read_text(&job.join("memory.events")) {
                u.oom_events = keyed(&events, "oom");
                u.oom_kills = keyed(&events, "oom_kill");
            }
            u.memory_peak_bytes = read_u64(&job.join("memory.peak"));
        }
        Some(Place::V1(dir)) => read_v1_memory(dir, &mut u),
        None => {}
    }
    match &placement.pids {
        Some(Place::V2) => u.pids_peak = read_u64(&job.join("pids.peak")),
        Some(Place::V1(dir)) => u.pids_peak = read_u64(&dir.join("pids.peak")),
        None => {}
    }
    u
}

fn read_v1_memory(dir: &Path, u: &mut JobUsage) {
    u.memory_peak_bytes = read_u64(&dir.join("memory.max_usage_in_bytes"));
    if let Ok(oom) = read_text(&dir.join("memory.oom_control")) {
        u.oom_kills = keyed(&oom, "oom_kill");
    }
}

/// What the job in cgroup `job` (v2) and its v1 siblings used, wherever the counters are
/// (for a job this process did not spawn).
pub(crate) fn usage(job: &Path) -> JobUsage {
    let mut u = JobUsage::default();
    if let Ok(stat) = read_text(&job.join("cpu.stat")) {
        u.cpu_user_us = keyed(&stat, "user_usec");
        u.cpu_system_us = keyed(&stat, "system_usec");
    }
    let mut memory_v2 = false;
    if let Ok(events) = read_text(&job.join("memory.events")) {
        memory_v2 = true;
        u.oom_events = keyed(&events, "oom");
        u.oom_kills = keyed(&events, "oom_kill");
        u.memory_peak_bytes = read_u64(&job.join("memory.peak"));
    }
    let mut pids_v2 = false;
    if job.join("pids.max").exists() {
        pids_v2 = true;
        u.pids_peak = read_u64(&job.join("pids.peak"));
    }
    if memory_v2 && pids_v2 {
        return u;
    }
    for (c, dir) in siblings(job) {
        match c {
            Controller::Memory if !memory_v2 => read_v1_memory(&dir, &mut u),
            Controller::Pids if !pids_v2 => {
                u.pids_peak = read_u64(&dir.join("pids.peak"));
            }
            _ => {}
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_layout() {
        let info = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                    33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n\
                    35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let m = find_v1_mount(info, "cpu").unwrap();
        assert_eq!(m.point, PathBuf::from("/sys/fs/cgroup/cpu"));
        assert_eq!(
            find_v1_mount(info, "memory").unwrap().point,
            PathBuf::from("/sys/fs/cgroup/memory")
        );
        assert!(find_v1_mount(info, "pids").is_none());
        let own = "8:pids:/\n4:memory:/a/b\n2:cpu,cpuacct:/c\n0::/\n";
        assert_eq!(v1_path(own, "memory"), Some("/a/b"));
        assert_eq!(v1_path(own, "cpu"), Some("/c"));
        assert_eq!(v1_path(own, "cpuacct"), Some("/c"));
        assert_eq!(v1_path("0::/x\n", "memory"), None);
    }

    #[test]
    fn parses_counters() {
        let stat = "usage_usec 10\nuser_usec 7\nsystem_usec 3\n";
        assert_eq!(keyed(stat, "user_usec"), Some(7));
        assert_eq!(keyed(stat, "usage_usec"), Some(10));
        assert_eq!(keyed(stat, "nice_usec"), None);
        let events = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed(events, "oom"), Some(2));
        assert_eq!(keyed(events, "oom_kill"), Some(1));
        let meminfo = "MemTotal:        2000 kB\nMemFree: 1 kB\nSwapTotal:       48 kB\n";
        assert_eq!(parse_meminfo_total(meminfo), Some(2048 * 1024));
    }
}
