//! Jobs on Linux: start a child in a process group and a cgroup of its own, find a job from
//! one of its PIDs, and end a job through its cgroup.

use std::collections::HashSet;
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
    for (key, value) in &config.env {
        let key = OsString::from(key);
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = OsString::from(value),
            None => env.push((key, OsString::from(value))),
        }
    }
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
    let programs = if program.contains('/') {
        vec![cstring("program", program.as_bytes().to_vec())?]
    } else {
        path_var
            .split(|&b| b == b':')
            .map(|dir| {
                let mut p = if dir.is_empty() {
                    b".".to_vec()
                } else {
                    dir.to_vec()
                };
                p.push(b'/');
                p.extend_from_slice(program.as_bytes());
                cstring("program", p)
            })
            .collect::<Result<Vec<_>>>()?
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
        programs,
        cwd,
        stdio: [
            open_stdio(program, 0, &config.stdin)?,
            open_stdio(program, 1, &config.stdout)?,
            open_stdio(program, 2, &config.stderr)?,
        ],
        kill_on_parent_death: config.kill_on_parent_death,
        new_process_group,
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
        Containment::Auto | Containment::Cgroup => match JobCgroup::create(parent.as_deref()) {
            Ok(cg) => Some(cg),
            Err(u) if config.containment == Containment::Cgroup => {
                return Err(unavailable_error(&u));
            }
            Err(u) => {
                warnings.push(degraded(&u.reason));
                None
            }
        },
    };
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
            }
            Err(SpawnError::Create(errno)) => {
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
                return Err(child_error(config, stage, errno));
            }
        }
    };
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
    })
}

/// The job cgroup `pid` tops: `pid` is in a cgroup `spawn_in_group` made, and its parent is
/// not (the job's first process, or a process that left the job's tree and was reparented).
pub(crate) fn job_cgroup_of(pid: Pid) -> Option<PathBuf> {
    let text = cgroup::cgroup_file_of(pid.get())?;
    let (dir, job_path) = cgroup::job_of(&text)?;
    let ppid = super::process::summaries_of(&[pid.get()])
        .ok()?
        .first()
        .map(|s| s.ppid)?;
    if ppid != 0
        && let Some(parent_path) = cgroup::path_of(ppid)
        && (parent_path == job_path || parent_path.starts_with(&format!("{job_path}/")))
    {
        return None;
    }
    Some(dir)
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

/// Job cgroups a [`terminate_cgroup`] of this process is ending: a concurrent `wait_pid` that
/// reaps the last process leaves their removal to it, instead of pulling the cgroup out from
/// under its wait on `cgroup.events` (where a removal wakes nobody).
static ENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Marks a job cgroup as being ended for as long as it lives.
struct Ending(PathBuf);

impl Ending {
    fn new(dir: &Path) -> Ending {
        ENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.to_path_buf());
        Ending(dir.to_path_buf())
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        let mut ending = ENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = ending.iter().position(|d| *d == self.0) {
            ending.swap_remove(i);
        }
    }
}

/// Remove a job cgroup if nothing is left in it (and no termination of ours is at work on it).
pub(crate) fn remove_if_empty(dir: &Path) {
    if ENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|d| d == dir)
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

/// How long to wait for a freeze to settle before signalling without one.
const FREEZE_WAIT: Duration = Duration::from_millis(500);

/// Thaws the cgroup when dropped, on every path.
struct Frozen<'a>(&'a Path);

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        let _ = cgroup::set_frozen(self.0, false);
    }
}

/// Send `signal` to every process in the cgroup `dir`, frozen while listed and signalled so
/// that none can fork past the listing. Adds each PID signalled to `seen`.
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
    let frozen = cgroup::set_frozen(dir, true).map_err(io)?;
    let _thaw = frozen.then(|| Frozen(dir));
    if frozen {
        let deadline = Instant::now() + FREEZE_WAIT;
        let (_, settled) =
            cgroup::wait_events(dir, Some(deadline), None, |e| e.frozen || !e.populated)
                .map_err(io)?;
        if !settled {
            warnings.push(format!(
                "the job's cgroup did not freeze within {} ms (a process in uninterruptible \
                 sleep?): signalled without freezing",
                FREEZE_WAIT.as_millis()
            ));
        }
    } else {
        warnings.push(
            "the kernel has no cgroup.freeze: the job was signalled without freezing it"
                .to_string(),
        );
    }
    for pid in cgroup::procs(dir).map_err(io)? {
        let Ok(pid) = Pid::new(pid) else { continue };
        // A pidfd per member: a member that exits and is reaped meanwhile is not confused
        // with a newcomer that takes its PID.
        match Handle::open(pid).and_then(|h| h.send(signal)) {
            Ok(()) => {
                seen.insert(pid.get());
            }
            Err(e) if e.code() == crate::ErrorCode::NotFound => {}
            Err(e) => warnings.push(format!("could not signal PID {}: {e}", pid.get())),
        }
    }
    Ok(())
}

/// End the job in cgroup `dir`: `config.signal` to every member, the grace
/// period, then `cgroup.kill` (or `config.kill_signal` to every member), then remove the
/// cgroup once empty. A triggered `cancel` ends the grace period at once, and cuts the wait
/// after the kill to [`CANCELLED_KILL_WAIT`](crate::tree::CANCELLED_KILL_WAIT).
pub(crate) fn terminate_cgroup(
    dir: &Path,
    config: &TerminateTreeConfig,
    result: TerminateTreeResult,
    cancel: Option<&CancelFd>,
) -> Result<TerminateTreeResult> {
    let unfinished = result.clone();
    let _ending = Ending::new(dir);
    match end_cgroup(dir, config, result, cancel) {
        // Another process's `wait_pid` reaped the job's last process and removed its cgroup
        // under us (the cgroup files then fail with ENODEV or ENOENT). A cgroup can only be
        // removed once empty: the job is over.
        Err(_) if !dir.exists() => {
            let mut done = unfinished;
            done.exited = true;
            done.warnings.push(format!(
                "the job ended and its cgroup {} was removed (by another process's wait) \
                 while it was being ended",
                dir.display()
            ));
            Ok(done)
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
    if config.signal == Signal::KILL {
        for p in cgroup::procs(dir).map_err(io)? {
            seen.insert(p);
        }
        if !cgroup::kill_all(dir).map_err(io)? {
            signal_members(dir, config.signal, &mut seen, &mut result.warnings)?;
        }
    } else {
        signal_members(dir, config.signal, &mut seen, &mut result.warnings)?;
    }
    let grace = start.checked_add(Duration::from_millis(config.grace_timeout_ms));
    let (_, mut empty) = cgroup::wait_events(dir, grace, cancel, |e| !e.populated).map_err(io)?;
    let mut cancelled = !empty && cancel::triggered(cancel);
    if !empty {
        result.escalated = true;
        let killed = if config.kill_signal == Signal::KILL {
            // Count what is about to die, then kill it all at once, new forks included.
            for p in cgroup::procs(dir).map_err(io)? {
                seen.insert(p);
            }
            cgroup::kill_all(dir).map_err(io)?
        } else {
            false
        };
        if !killed {
            signal_members(dir, config.kill_signal, &mut seen, &mut result.warnings)?;
        }
        let waited =
            crate::tree::wait_after_kill(config.kill_timeout_ms, cancelled, cancel, |d, c| {
                Ok(cgroup::wait_events(dir, d, c, |e| !e.populated)
                    .map_err(io)?
                    .1)
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
    if empty {
        result.exited = true;
        if let Err(e) = cgroup::remove_tree(dir) {
            result.warnings.push(format!(
                "the job is gone but its cgroup {} could not be removed: {e}",
                dir.display()
            ));
        }
    } else {
        result.timed_out = true;
        result.survivors = cgroup::procs(dir).map_err(io)?;
    }
    Ok(result)
}
