//! Jobs on Linux: start a child in a process group and a cgroup of its own, find a job from
//! one of its PIDs, and end a job through its cgroup.

use std::collections::{HashMap, HashSet};
use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

use super::cancel::{self, CancelFd};
use super::cgroup::{self, JobCgroup, Unavailable};
use super::pidfd::PidFd;
use super::signal::Handle;
use super::spawn::{self, Plan, SpawnError, Stage};
use super::watchdog::{Mode as WatchMode, Watchdog};
use crate::error::{Result, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;
use crate::spawn::{Containment, SpawnInGroupConfig, StdioConfig};
use crate::tree::{TerminateTreeConfig, TerminateTreeResult};

/// A child just started, and what holds it.
pub(crate) struct Started {
    pub handle: Handle,
    pub cgroup: Option<PathBuf>,
    pub warnings: Vec<String>,
    /// The job's watchdog, when one was asked for and the job has a cgroup.
    pub watchdog: JobWatchdog,
    /// Where the job's memory and pids counters are (for its usage).
    pub placement: super::limits::Placement,
}

/// A job's watchdog ([`super::watchdog`]), or none: ends the job if its owner dies.
#[derive(Default)]
pub(crate) struct JobWatchdog(Option<Watchdog>);

impl JobWatchdog {
    /// A watchdog that kills the job cgroup `dir` when this process dies (none when the
    /// cgroup cannot be opened or no watchdog can be started).
    pub(crate) fn arm(dir: &Path) -> JobWatchdog {
        let Ok(fd) = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return JobWatchdog(None);
        };
        JobWatchdog(Watchdog::start(
            dir,
            std::os::fd::AsFd::as_fd(&fd),
            WatchMode::Kill,
        ))
    }

    /// Whether a watchdog is at work.
    pub(crate) fn is_armed(&self) -> bool {
        self.0.is_some()
    }

    /// Leave a watchdog behind that removes the job cgroup `dir` once it is empty, and kills
    /// nothing: for leftovers of a job whose owner is done with it (or about to exit).
    pub(crate) fn linger(dir: &Path) {
        let Ok(fd) = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        if let Some(w) = Watchdog::start(dir, std::os::fd::AsFd::as_fd(&fd), WatchMode::Linger) {
            w.retire(WatchMode::Linger);
        }
    }

    /// End the watchdog now (`SIGKILL`), without waiting for it to go: it is reaped at a later
    /// spawn, or by init once this process has exited. Waiting costs a scheduling round on a
    /// busy machine, on the path every `sysprims timeout` takes.
    pub(crate) fn dismiss(&mut self) {
        if let Some(w) = self.0.take() {
            w.retire(WatchMode::Done);
        }
    }

    /// End the watchdog now, and reap it.
    pub(crate) fn end(&mut self) {
        drop(self.0.take());
    }

    /// Let the watchdog go: with `linger` (and a cgroup `dir`), a watchdog of its own
    /// removes the cgroup once the job's leftovers have exited (and kills nothing).
    pub(crate) fn retire(&mut self, linger: Option<&Path>) {
        self.end();
        if let Some(dir) = linger {
            JobWatchdog::linger(dir);
        }
    }
}

impl Drop for JobWatchdog {
    /// The watchdog is ended and reaped now (nothing of it is left behind).
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

/// The `PATH` execvp uses when the environment has none.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// The longest file name (one path component) Linux opens, in bytes.
const NAME_MAX: usize = 255;

fn cstring(what: &'static str, bytes: Vec<u8>) -> Result<CString> {
    CString::new(bytes).map_err(|e| {
        let shown = String::from_utf8_lossy(&e.into_vec()).into_owned();
        SysprimsError::invalid(what, shown, "contains a NUL byte")
    })
}

fn spawn_failed(program: &str, reason: String, errno: Option<i32>) -> SysprimsError {
    SysprimsError::SpawnFailed {
        program: program.to_string(),
        reason,
        errno,
    }
}

fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// Open one standard stream's target in the parent, so a bad path is reported by name.
fn open_stdio(program: &str, index: usize, config: &StdioConfig) -> Result<Option<OwnedFd>> {
    let name = ["stdin", "stdout", "stderr"][index];
    let (path, flags) = match config {
        StdioConfig::Inherit => return Ok(None),
        StdioConfig::Null => (Path::new("/dev/null"), OFlags::RDWR),
        StdioConfig::File { path, append } => {
            let flags = if index == 0 {
                OFlags::RDONLY
            } else if *append {
                OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND
            } else {
                OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC
            };
            (path.as_path(), flags)
        }
    };
    let fd = rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::from_raw_mode(0o666)).map_err(
        |e| {
            spawn_failed(
                program,
                format!(
                    "cannot open {name} file {:?}: {}",
                    path,
                    errno_text(e.raw_os_error())
                ),
                Some(e.raw_os_error()),
            )
        },
    )?;
    spawn::above_stdio(fd).map(Some).map_err(|e| {
        spawn_failed(
            program,
            format!("cannot place {name}: {e}"),
            e.raw_os_error(),
        )
    })
}

/// Build the child's plan: C strings, the environment, the `PATH` candidates, stdio.
fn plan(config: &SpawnInGroupConfig, new_process_group: bool) -> Result<Plan> {
    let program = config.argv[0].as_str();
    let argv = config
        .argv
        .iter()
        .map(|a| cstring("argument", a.clone().into_bytes()))
        .collect::<Result<Vec<_>>>()?;
    let mut env: Vec<(OsString, OsString)> = if config.env_clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    // The overrides by key in one pass: a map from each key to its first entry (a search
    // of the whole list per override was quadratic: 18.7 s for 100,000 entries).
    let mut index: HashMap<OsString, usize> = HashMap::with_capacity(env.len());
    for (i, (k, _)) in env.iter().enumerate() {
        index.entry(k.clone()).or_insert(i);
    }
    for (key, value) in &config.env {
        let key = OsString::from(key);
        match index.get(&key) {
            Some(&i) => env[i].1 = OsString::from(value),
            None => {
                index.insert(key.clone(), env.len());
                env.push((key, OsString::from(value)));
            }
        }
    }
    drop(index);
    let path_var: Vec<u8> = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_bytes().to_vec())
        .unwrap_or_else(|| DEFAULT_PATH.to_vec());
    let env = env
        .into_iter()
        .map(|(k, v)| {
            let mut entry = k.into_vec();
            entry.push(b'=');
            entry.extend(v.into_vec());
            cstring("environment entry", entry)
        })
        .collect::<Result<Vec<_>>>()?;
    // The PATH search is done by the child, one candidate at a time in a buffer of PATH_MAX
    // bytes on its stack: candidates built up front cost (entries x name) bytes, 2.5 GB for
    // a long PATH and a long name. A name longer than any the kernel can open is refused.
    let (program_c, search_path) = if program.contains('/') {
        if program.len() >= spawn::PATH_MAX {
            return Err(SysprimsError::invalid(
                "program",
                program,
                format!(
                    "a path of {} bytes is longer than the kernel opens (PATH_MAX, {} bytes)",
                    program.len(),
                    spawn::PATH_MAX
                ),
            ));
        }
        (cstring("program", program.as_bytes().to_vec())?, None)
    } else {
        if program.len() > NAME_MAX {
            return Err(SysprimsError::invalid(
                "program",
                program,
                format!(
                    "a file name of {} bytes is longer than the kernel allows (NAME_MAX, {NAME_MAX} bytes)",
                    program.len()
                ),
            ));
        }
        (
            cstring("program", program.as_bytes().to_vec())?,
            Some(cstring("PATH", path_var)?),
        )
    };
    let cwd = match &config.cwd {
        Some(dir) if !dir.as_os_str().is_empty() => Some(cstring(
            "working directory",
            dir.as_os_str().as_bytes().to_vec(),
        )?),
        _ => None,
    };
    Ok(Plan {
        argv,
        env,
        program: program_c,
        search_path,
        cwd,
        stdio: [
            open_stdio(program, 0, &config.stdin)?,
            open_stdio(program, 1, &config.stdout)?,
            open_stdio(program, 2, &config.stderr)?,
        ],
        kill_on_parent_death: config.kill_on_parent_death,
        new_process_group,
        v1_procs: [-1; 3],
    })
}

fn child_error(config: &SpawnInGroupConfig, stage: Stage, errno: i32) -> SysprimsError {
    let program = config.argv[0].as_str();
    let text = errno_text(errno);
    let reason = match stage {
        Stage::Exec if errno == libc::ENOENT && !program.contains('/') => {
            "program not found in PATH".to_string()
        }
        Stage::Exec if errno == libc::ENOENT => "no such file".to_string(),
        Stage::Exec if errno == libc::EACCES => {
            "permission denied (not executable, or a directory on its path is not searchable)"
                .to_string()
        }
        Stage::Exec => format!("execve failed: {text}"),
        Stage::Chdir => format!(
            "cannot change to working directory {:?}: {text}",
            config.cwd.as_deref().unwrap_or(Path::new(""))
        ),
        Stage::Stdio => format!("cannot set up standard streams: {text}"),
        Stage::ProcessGroup => format!("setpgid failed: {text}"),
        Stage::ParentDeathSignal => format!("prctl(PR_SET_PDEATHSIG) failed: {text}"),
        Stage::Cgroup => format!("cannot join the job's cgroup: {text}"),
    };
    spawn_failed(program, reason, Some(errno))
}

fn unavailable_error(u: &Unavailable) -> SysprimsError {
    if u.is_permission() {
        SysprimsError::PermissionDenied {
            operation: "make a job cgroup",
            subject: crate::error::Subject::None,
        }
    } else {
        SysprimsError::NotSupported {
            feature: "cgroup containment",
            reason: u.reason.clone(),
        }
    }
}

fn degraded(reason: &str) -> String {
    format!(
        "tree kill is best-effort: no cgroup for this job ({reason}); it is held by its \
         process group only, which setsid and double-fork children can leave"
    )
}

/// When the last sweep of stale job cgroups ran (ms since the Unix epoch).
static LAST_SWEEP_MS: AtomicU64 = AtomicU64::new(0);
const SWEEP_EVERY_MS: u64 = 10_000;

pub(crate) fn maybe_sweep(parent: &Path) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let last = LAST_SWEEP_MS.load(Ordering::Relaxed);
    if (last == 0 || now.saturating_sub(last) >= SWEEP_EVERY_MS)
        && LAST_SWEEP_MS
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        cgroup::sweep(parent);
    }
}

/// Start the job `config` describes (already validated), in a process group of its own
/// unless `new_process_group` is false (then in the caller's). With `sweep`, this may also
/// remove stale job cgroups beside the new one ([`maybe_sweep`]). With `watchdog`, a job that
/// gets a cgroup gets a watchdog too, started before the child so that no moment exists in
/// which this process could die and leave the job running.
pub(crate) fn start(
    config: &SpawnInGroupConfig,
    new_process_group: bool,
    sweep: bool,
    watchdog: bool,
) -> Result<Started> {
    if config.containment == Containment::JobObject {
        return Err(SysprimsError::NotSupported {
            feature: "job_object containment",
            reason: "Job Objects are Windows'; on Linux ask for containment cgroup (or auto)"
                .into(),
        });
    }
    // A parent the caller named is input: outside the hierarchy it is refused, in every
    // mode, rather than degraded around; and before any stdio file is opened (truncated).
    let parent = match (&config.cgroup_parent, config.containment) {
        (Some(p), Containment::Auto | Containment::Cgroup) => Some(cgroup::check_parent(p)?),
        _ => None,
    };
    let plan = plan(config, new_process_group)?;
    let mut warnings = Vec::new();
    let mut job_cgroup = match config.containment {
        Containment::ProcessGroup => {
            warnings.push(degraded("containment process_group was asked for"));
            None
        }
        // JobObject was refused above.
        Containment::Auto | Containment::Cgroup | Containment::JobObject => {
            match JobCgroup::create(parent.as_deref()) {
                Ok(cg) => Some(cg),
                Err(u) if config.containment == Containment::Cgroup => {
                    return Err(unavailable_error(&u));
                }
                Err(u) => {
                    warnings.push(degraded(&u.reason));
                    None
                }
            }
        }
    };
    // The limits, in the job's cgroup (and, on a hybrid host, its v1 siblings) before the
    // child exists: it runs none of its own code outside them.
    let mut applied = super::limits::Applied::default();
    if !config.limits.is_empty() {
        match &job_cgroup {
            Some(cg) => {
                let (done, missing) = super::limits::apply(cg.path(), &config.limits);
                applied = done;
                if let Some(first) = missing.first()
                    && config.containment == Containment::Cgroup
                {
                    applied.undo();
                    if let Some(cg) = job_cgroup.take() {
                        cg.remove();
                    }
                    return Err(SysprimsError::NotSupported {
                        feature: "job limits",
                        reason: first.message(),
                    });
                }
                for m in &missing {
                    warnings.push(format!("limit not applied: {}", m.message()));
                }
            }
            None => {
                warnings.push("limits not applied: the job has no cgroup to hold them".to_string())
            }
        }
    }
    let mut plan = plan;
    for (slot, fd) in plan.v1_procs.iter_mut().zip(&applied.procs) {
        *slot = std::os::fd::AsRawFd::as_raw_fd(fd);
    }
    let mut guard = JobWatchdog(None);
    if watchdog && let Some(cg) = &job_cgroup {
        guard = JobWatchdog(Watchdog::start(cg.path(), cg.fd(), WatchMode::Kill));
    }
    let spawned = loop {
        match spawn::spawn(&plan, job_cgroup.as_ref()) {
            Ok(s) => break s,
            Err(SpawnError::Create(errno)) if job_cgroup.is_some() => {
                // The kernel would not start the child in the cgroup (EBUSY: the parent
                // cgroup has controllers and so cannot hold processes; EACCES: not
                // delegated). Auto mode carries on without one.
                let cg = job_cgroup.take().expect("checked");
                let path = cg.path().to_path_buf();
                guard.end();
                cg.remove();
                std::mem::take(&mut applied).undo();
                plan.v1_procs = [-1; 3];
                let reason = format!(
                    "the kernel would not start a process in {}: {}",
                    path.display(),
                    errno_text(errno)
                );
                if config.containment == Containment::Cgroup {
                    return Err(unavailable_error(&Unavailable {
                        reason,
                        errno: Some(errno),
                    }));
                }
                warnings.push(degraded(&reason));
                if !config.limits.is_empty() {
                    warnings
                        .push("limits not applied: the job has no cgroup to hold them".to_string());
                }
            }
            Err(SpawnError::Create(errno)) => {
                std::mem::take(&mut applied).undo();
                return Err(spawn_failed(
                    &config.argv[0],
                    format!(
                        "the kernel would not create a process: {}",
                        errno_text(errno)
                    ),
                    Some(errno),
                ));
            }
            Err(SpawnError::Child { stage, errno }) => {
                guard.end();
                if let Some(cg) = job_cgroup.take() {
                    cg.remove();
                }
                std::mem::take(&mut applied).undo();
                return Err(child_error(config, stage, errno));
            }
        }
    };
    // The child has joined its v1 cgroups (or failed above): their cgroup.procs can go.
    let placement = std::mem::take(&mut applied.placement);
    drop(applied);
    let pidfd = spawned.pidfd.map(|fd| PidFd::from_owned(fd, spawned.pid));
    if pidfd.is_none() {
        warnings.push(
            "the kernel has no pidfds: the job is waited for and signalled by PID".to_string(),
        );
    }
    let cgroup = job_cgroup.map(|cg| {
        if sweep && let Some(parent) = cg.path().parent() {
            maybe_sweep(parent);
        }
        cg.path().to_path_buf()
    });
    Ok(Started {
        handle: Handle::from_pidfd(spawned.pid, pidfd),
        cgroup,
        warnings,
        watchdog: guard,
        placement,
    })
}

/// The job cgroup `pid` tops: the outermost job cgroup (one `spawn_in_group` made, by its
/// name) that `pid` is in and its parent is not (the job's first process, or a process that
/// left the job's tree and was reparented). The outermost: a job that makes a cgroup with the
/// job prefix inside its own and moves its first process there is still one job. A job
/// started by a process of another job is inside that job's cgroup, and so is its creator:
/// the other job is skipped, and the inner one is the job `pid` tops.
pub(crate) fn job_cgroup_of(pid: Pid) -> Option<PathBuf> {
    let text = cgroup::cgroup_file_of(pid.get())?;
    let jobs = cgroup::jobs_of(&text);
    if jobs.is_empty() {
        return None;
    }
    let ppid = super::process::summaries_of(&[pid.get()])
        .ok()?
        .first()
        .map(|s| s.ppid)?;
    let parent_path = if ppid == 0 {
        None
    } else {
        cgroup::path_of(ppid)
    };
    jobs.into_iter()
        .find(|(_, job_path)| {
            !parent_path
                .as_ref()
                .is_some_and(|p| p == job_path || p.starts_with(&format!("{job_path}/")))
        })
        .map(|(dir, _)| dir)
}

/// Wait for the job's first process through the handle's own pidfd (see
/// [`wait_pid`](crate::wait_pid)).
pub(crate) fn wait_first(
    handle: &Handle,
    deadline: Option<Instant>,
) -> Result<crate::wait::WaitPidResult> {
    match handle.pidfd() {
        Some(fd) => super::wait::wait_pidfd(fd, deadline, None),
        None => super::wait::wait_pid(handle.pid(), deadline, None),
    }
}

/// Job cgroups a [`terminate_cgroup`] of this process is ending, one entry per call at work,
/// each with whether the cgroup is to be removed once that call is done. A concurrent
/// `wait_pid` that reaps the last process leaves the removal to them, and of concurrent
/// terminations only the last to finish removes it: none pulls the cgroup out from under
/// another's wait on `cgroup.events` or its `cgroup.kill`.
static ENDING: std::sync::Mutex<Vec<(PathBuf, bool)>> = std::sync::Mutex::new(Vec::new());

/// Marks a job cgroup as being ended for as long as it lives.
struct Ending(PathBuf);

impl Ending {
    fn new(dir: &Path) -> Ending {
        ENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((dir.to_path_buf(), false));
        Ending(dir.to_path_buf())
    }

    /// This call is done; `empty` says it saw the job end. The last call at work on the
    /// cgroup removes it if any of them saw it end; the others hand that on.
    fn finish(self, empty: bool) -> std::io::Result<()> {
        let mut ending = ENDING.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = ending.iter().position(|(d, _)| *d == self.0) else {
            return Ok(());
        };
        let (_, owed) = ending.swap_remove(i);
        let remove = empty || owed;
        let result = match ending.iter_mut().find(|(d, _)| *d == self.0) {
            Some(other) => {
                other.1 |= remove;
                Ok(())
            }
            None if remove => cgroup::remove_tree(&self.0),
            None => Ok(()),
        };
        drop(ending);
        std::mem::forget(self);
        result
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        let mut ending = ENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = ending.iter().position(|(d, _)| *d == self.0) {
            let (_, owed) = ending.swap_remove(i);
            if owed && let Some(other) = ending.iter_mut().find(|(d, _)| *d == self.0) {
                other.1 = true;
            }
        }
    }
}

/// What the job in cgroup `dir` has used ([`super::limits::usage`]).
pub(crate) fn usage(dir: &Path) -> crate::limits::JobUsage {
    super::limits::usage(dir)
}

/// Where a job's counters are, as its spawn set them up.
pub(crate) type Placement = super::limits::Placement;

/// What the job in cgroup `dir` has used, reading where `placement` says.
pub(crate) fn usage_placed(dir: &Path, placement: &Placement) -> crate::limits::JobUsage {
    super::limits::usage_placed(dir, placement)
}

/// Remove a job cgroup if nothing is left in it (and no termination of ours is at work on it).
pub(crate) fn remove_if_empty(dir: &Path) {
    if ENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|(d, _)| d == dir)
    {
        return;
    }
    if cgroup::procs(dir).map(|p| p.is_empty()).unwrap_or(false) {
        let _ = cgroup::remove_tree(dir);
    }
}

/// Whether the caller itself is inside the job cgroup `dir`.
pub(crate) fn caller_inside(dir: &Path) -> bool {
    let Some(text) = cgroup::cgroup_file_of(std::process::id()) else {
        return false;
    };
    matches!(cgroup::job_of(&text), Some((own, _)) if own.starts_with(dir))
}

/// How many times [`signal_members`] lists the cgroup again for members it has not signalled
/// yet (children forked meanwhile) before it stops with a warning. A forking loop that ignores
/// the signal keeps adding members; the kill step (`cgroup.kill`) ends those all at once.
const SIGNAL_ROUNDS: usize = 64;

/// Thaw the job's cgroup if it is frozen (`cgroup.freeze` set): by an older sysprims killed
/// while it held the freeze, or by anyone else. A frozen job could not act on a graceful
/// signal. Returns the warning to report, if it was frozen.
pub(crate) fn thaw_if_frozen(dir: &Path) -> Option<String> {
    match cgroup::freeze_requested(dir) {
        Ok(true) => Some({
            // Each member's count while frozen: it moves once the member has left the freezer.
            let frozen: Vec<(u32, u64)> = cgroup::procs(dir)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|pid| Some((pid, run_count(pid)?)))
                .collect();
            match cgroup::set_frozen(dir, false) {
                Ok(_) => {
                    settle_after_thaw(frozen);
                    format!(
                        "the job's cgroup {} was frozen (by a process that died while it held the \
                     freeze, or by another tool): thawed it",
                        dir.display()
                    )
                }
                Err(e) => format!(
                    "the job's cgroup {} is frozen and could not be thawed: {e}",
                    dir.display()
                ),
            }
        }),
        _ => None,
    }
}

/// The longest wait, after a thaw, for the job's members to leave the freezer before they are
/// signalled.
const THAW_SETTLE: Duration = Duration::from_millis(50);

/// How many times `pid` has been put on a CPU (`/proc/<pid>/schedstat`, third field).
fn run_count(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    text.split_whitespace().nth(2)?.parse().ok()
}

/// Wait until every member of a just-thawed cgroup has run since the thaw (left the freezer),
/// or has gone, for at most [`THAW_SETTLE`]; `frozen` holds each member's [`run_count`] read
/// while it was frozen. A signal sent to a task while it is leaving the cgroup freezer can be
/// lost: observed on Linux 6.18, where a TERM sent within a millisecond of the thaw left a
/// `sleep` alive with nothing pending in 8 of 15 tries on a loaded machine, and in none once
/// each task had been scheduled again.
fn settle_after_thaw(mut waiting: Vec<(u32, u64)>) {
    let deadline = Instant::now() + THAW_SETTLE;
    loop {
        waiting.retain(|&(pid, count)| run_count(pid) == Some(count));
        if waiting.is_empty() || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Send `signal` to every process in the cgroup `dir` and below, each through a pidfd, listing
/// the cgroup again until a listing shows no member that is not in `seen` (children forked
/// while the signals went out). The cgroup is never frozen: no moment exists at which the
/// death of this process would leave the job frozen. Adds each PID signalled to `seen`.
pub(crate) fn signal_members(
    dir: &Path,
    signal: Signal,
    seen: &mut HashSet<u32>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let io = |e: std::io::Error| {
        SysprimsError::from_errno(
            "signal a job cgroup",
            crate::error::Subject::Path(dir.to_path_buf()),
            e.raw_os_error().unwrap_or(libc::EIO),
        )
    };
    if let Some(w) = thaw_if_frozen(dir) {
        warnings.push(w);
    }
    for _ in 0..SIGNAL_ROUNDS {
        let fresh: Vec<u32> = cgroup::procs(dir)
            .map_err(io)?
            .into_iter()
            .filter(|p| !seen.contains(p))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        for pid in fresh {
            // Listed once: a member that has gone is not asked again.
            seen.insert(pid);
            let Ok(pid) = Pid::new(pid) else { continue };
            // A pidfd per member: a member that exits and is reaped meanwhile is not confused
            // with a newcomer that takes its PID.
            match Handle::open(pid).and_then(|h| h.send(signal)) {
                Ok(()) => {}
                Err(e) if e.code() == crate::ErrorCode::NotFound => {}
                Err(e) => warnings.push(format!("could not signal PID {}: {e}", pid.get())),
            }
        }
    }
    warnings.push(format!(
        "the job kept forking while {signal} was sent: members started after {SIGNAL_ROUNDS} \
         listings of its cgroup may not have received it"
    ));
    Ok(())
}

/// Processes of the job that are no longer in its cgroup: moved out by root, or by the owner
/// of a delegated subtree (see the README's threat model). Found as descendants, by parent
/// link, of the cgroup's members and of the strays found before, and held by pidfds checked
/// against the process table, so that a PID reused meanwhile is never signalled.
#[derive(Default)]
struct Strays {
    found: Vec<(Handle, u64)>,
    pids: HashSet<u32>,
}

impl Strays {
    /// Look for strays again; returns how many new ones were found.
    fn scan(&mut self, dir: &Path) -> Result<usize> {
        let table = super::process::summaries()?;
        let members: HashSet<u32> = cgroup::procs(dir).unwrap_or_default().into_iter().collect();
        let me = std::process::id();
        // The caller and its ancestors are never signalled.
        let parents: std::collections::HashMap<u32, u32> =
            table.iter().map(|s| (s.pid, s.ppid)).collect();
        let mut protected = HashSet::from([me, 1]);
        let mut at = me;
        while let Some(&p) = parents.get(&at) {
            if p == 0 || !protected.insert(p) {
                break;
            }
            at = p;
        }
        let mut children: std::collections::HashMap<u32, Vec<&crate::sys::StatSummary>> =
            std::collections::HashMap::new();
        for s in &table {
            if s.pid != s.ppid {
                children.entry(s.ppid).or_default().push(s);
            }
        }
        let mut queue: Vec<u32> = members.iter().chain(self.pids.iter()).copied().collect();
        let mut visited: HashSet<u32> = queue.iter().copied().collect();
        let mut candidates = Vec::new();
        while let Some(pid) = queue.pop() {
            for s in children.get(&pid).into_iter().flatten() {
                if !visited.insert(s.pid) {
                    continue;
                }
                queue.push(s.pid);
                if !members.contains(&s.pid)
                    && !self.pids.contains(&s.pid)
                    && !protected.contains(&s.pid)
                    && !s.kernel_thread
                    && !matches!(s.state, b'Z' | b'X' | b'x')
                {
                    candidates.push(**s);
                }
            }
        }
        let mut taken = 0;
        for s in candidates {
            let Ok(pid) = Pid::new(s.pid) else { continue };
            let Ok(handle) = Handle::open(pid) else {
                continue;
            };
            // The pidfd holds the process the table saw (same start tick, still there), and
            // it is really outside the job's cgroup (it may have been forked into it after
            // the listing above).
            let same = super::process::summaries_of(&[s.pid])
                .ok()
                .and_then(|v| v.first().copied())
                .is_some_and(|n| n.start_ticks == s.start_ticks);
            if !same || !handle.is_present().unwrap_or(false) {
                continue;
            }
            if cgroup::directory_of_pid(s.pid).is_some_and(|d| d.starts_with(dir)) {
                continue;
            }
            self.pids.insert(s.pid);
            self.found.push((handle, s.start_ticks));
            taken += 1;
        }
        Ok(taken)
    }

    /// Signal every stray (found so far and any found while signalling), each through its
    /// pidfd; adds each one signalled to `seen`.
    fn signal(
        &mut self,
        dir: &Path,
        signal: Signal,
        seen: &mut HashSet<u32>,
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        let mut done = 0;
        for _ in 0..SIGNAL_ROUNDS {
            for (handle, _) in &self.found[done..] {
                match handle.send(signal) {
                    Ok(()) => {
                        seen.insert(handle.pid().get());
                    }
                    Err(e) if e.code() == crate::ErrorCode::NotFound => {}
                    Err(e) => {
                        warnings.push(format!("could not signal PID {}: {e}", handle.pid().get()))
                    }
                }
            }
            done = self.found.len();
            if self.scan(dir)? == 0 {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Wait until every stray has exited, `deadline` passes or `cancel` is triggered.
    fn wait(&self, deadline: Option<Instant>, cancel: Option<&CancelFd>) -> Result<bool> {
        if self.found.is_empty() {
            return Ok(true);
        }
        let handles: Vec<&Handle> = self.found.iter().map(|(h, _)| h).collect();
        let exited = super::wait::wait_handles_exit(&handles, deadline, cancel)?;
        Ok(exited.into_iter().all(|e| e))
    }

    /// The strays still alive.
    fn alive(&self) -> Vec<u32> {
        let handles: Vec<&Handle> = self.found.iter().map(|(h, _)| h).collect();
        let exited = super::wait::wait_handles_exit(&handles, Some(Instant::now()), None)
            .unwrap_or_else(|_| vec![false; handles.len()]);
        handles
            .iter()
            .zip(exited)
            .filter(|(_, e)| !e)
            .map(|(h, _)| h.pid().get())
            .collect()
    }
}

/// End the job in cgroup `dir`: `config.signal` to every member (and `SIGCONT`, so that
/// stopped members act on it), the grace period, then `cgroup.kill` (or `config.kill_signal`
/// to every member), then remove the cgroup once empty. Members that left the cgroup but are
/// still descendants of its members are found and ended through pidfds too, and reported.
/// A triggered `cancel` ends the grace period at once, and cuts the wait after the kill to
/// [`CANCELLED_KILL_WAIT`](crate::tree::CANCELLED_KILL_WAIT).
pub(crate) fn terminate_cgroup(
    dir: &Path,
    config: &TerminateTreeConfig,
    result: TerminateTreeResult,
    cancel: Option<&CancelFd>,
) -> Result<TerminateTreeResult> {
    let unfinished = result.clone();
    let ending = Ending::new(dir);
    let outcome = end_cgroup(dir, config, result, cancel).map(|mut r| {
        // Before the cgroup goes: once the job is empty, all it ever used.
        r.usage = Some(super::limits::usage(dir));
        r
    });
    let removed = ending.finish(outcome.as_ref().is_ok_and(|r| r.exited));
    match outcome {
        // The job's cgroup was removed under us (by another process's `wait_pid` or
        // termination, once it was empty): the cgroup files then fail with ENODEV or ENOENT.
        // A cgroup can only be removed once empty: the job is over.
        Err(e) if !dir.exists() || e.errno() == Some(libc::ENODEV) => {
            let mut done = unfinished;
            done.exited = true;
            done.warnings.push(format!(
                "the job ended and its cgroup {} was removed (by another process's wait or \
                 termination) while it was being ended",
                dir.display()
            ));
            Ok(done)
        }
        Ok(mut r) => {
            if let Err(e) = removed {
                r.warnings.push(format!(
                    "the job is gone but its cgroup {} could not be removed: {e}",
                    dir.display()
                ));
            }
            Ok(r)
        }
        other => other,
    }
}

fn end_cgroup(
    dir: &Path,
    config: &TerminateTreeConfig,
    mut result: TerminateTreeResult,
    cancel: Option<&CancelFd>,
) -> Result<TerminateTreeResult> {
    let start = Instant::now();
    let io = |e: std::io::Error| {
        SysprimsError::from_errno(
            "end a job cgroup",
            crate::error::Subject::Path(dir.to_path_buf()),
            e.raw_os_error().unwrap_or(libc::EIO),
        )
    };
    let mut seen = HashSet::new();
    let mut strays = Strays::default();
    strays.scan(dir)?;
    if config.signal == Signal::KILL {
        for p in cgroup::procs(dir).map_err(io)? {
            seen.insert(p);
        }
        if let Some(w) = thaw_if_frozen(dir) {
            result.warnings.push(w);
        }
        if !cgroup::kill_all(dir).map_err(io)? {
            signal_members(dir, config.signal, &mut seen, &mut result.warnings)?;
        }
    } else {
        signal_members(dir, config.signal, &mut seen, &mut result.warnings)?;
    }
    strays.signal(dir, config.signal, &mut seen, &mut result.warnings)?;
    if config.signal != Signal::KILL && config.signal != Signal::CONT {
        // As GNU timeout does: a stopped member acts on the signal only once continued.
        let mut continued = HashSet::new();
        let mut ignored = Vec::new();
        signal_members(dir, Signal::CONT, &mut continued, &mut ignored)?;
        strays.signal(dir, Signal::CONT, &mut continued, &mut ignored)?;
    }
    let grace = start.checked_add(Duration::from_millis(config.grace_timeout_ms));
    let (_, mut empty) = cgroup::wait_events(dir, grace, cancel, |e| !e.populated).map_err(io)?;
    empty = empty && strays.wait(grace, cancel)?;
    let mut cancelled = !empty && cancel::triggered(cancel);
    if !empty {
        result.escalated = true;
        let killed = if config.kill_signal == Signal::KILL {
            // Count what is about to die, then kill it all at once, new forks included.
            for p in cgroup::procs(dir).map_err(io)? {
                seen.insert(p);
            }
            if let Some(w) = thaw_if_frozen(dir) {
                result.warnings.push(w);
            }
            cgroup::kill_all(dir).map_err(io)?
        } else {
            false
        };
        if !killed {
            signal_members(dir, config.kill_signal, &mut seen, &mut result.warnings)?;
        }
        strays.scan(dir)?;
        strays.signal(dir, config.kill_signal, &mut seen, &mut result.warnings)?;
        let waited =
            crate::tree::wait_after_kill(config.kill_timeout_ms, cancelled, cancel, |d, c| {
                let (_, gone) = cgroup::wait_events(dir, d, c, |e| !e.populated).map_err(io)?;
                Ok(gone && strays.wait(d, c)?)
            })?;
        empty = waited.0;
        cancelled |= waited.1;
    }
    if cancelled {
        result
            .warnings
            .push(crate::cancel::CANCELLED_WARNING.to_string());
    }
    result.signalled = seen.len() as u32;
    if !strays.found.is_empty() {
        let mut pids: Vec<u32> = strays.pids.iter().copied().collect();
        pids.sort_unstable();
        result.tree_kill_reliability = crate::spawn::TreeKillReliability::BestEffort;
        result.warnings.push(format!(
            "{} process(es) of the job had left its cgroup {} (moved to another cgroup by root \
             or by the owner of a delegated subtree): PIDs {:?}, found as descendants of its \
             members and signalled through pidfds; a process that left both the cgroup and the \
             tree cannot be found, so the job is only best-effort ended",
            pids.len(),
            dir.display(),
            pids
        ));
    }
    let populated = cgroup::is_populated(dir).map_err(io)?;
    let mut survivors = if populated {
        cgroup::procs(dir).map_err(io)?
    } else {
        Vec::new()
    };
    survivors.extend(strays.alive());
    survivors.sort_unstable();
    survivors.dedup();
    if empty || survivors.is_empty() {
        // The cgroup is removed by [`terminate_cgroup`], once no other call is at work on it.
        result.exited = true;
    } else {
        result.timed_out = true;
        result.survivors = survivors;
    }
    Ok(result)
}
