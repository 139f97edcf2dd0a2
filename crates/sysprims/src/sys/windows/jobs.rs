//! Jobs on Windows: start a child in a Job Object of its own before it runs, find a job from
//! its first process's PID, and end a job whole.
//!
//! **Where a job is found.** Each job is registered in this process (a table keyed by the
//! first process's PID and creation time) for as long as it has processes, so
//! [`terminate_tree`](crate::terminate_tree) and [`Job`](crate::Job) reach it by PID. The job
//! is also named after its first process ([`job_name`]), so another process (a second
//! `sysprims terminate-tree`) can open it by name while any handle to it is open: a detached
//! job lends its first process a handle to its own job for that (it never learns of it).
//!
//! **Kill on close.** Every job is made with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, so a spawn
//! that fails half-way leaves nothing behind. Once the child runs, the limit stays on only
//! where the caller's death should end the job (`kill_on_parent_death`, and
//! [`Job::kill_on_drop`](crate::Job::kill_on_drop)): the kernel then ends the whole job when
//! the caller's last handle closes, however the caller died. That is the Windows job
//! watchdog. Elsewhere it is turned off and the job runs on without its spawner, as on Linux.

#![allow(unsafe_code)]

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    HANDLE, HWND, LPARAM, WAIT_FAILED, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetExitCodeProcess, OpenProcess, PROCESS_QUERY_INFORMATION,
    PROCESS_SYNCHRONIZE, WaitForMultipleObjects, WaitForSingleObject,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    EnumWindows, GetWindowThreadProcessId, PostMessageW, WM_CLOSE,
};

use super::job_object::{JOB_OBJECT_QUERY, JobObject, job_name};
use super::signal::Handle;
use super::spawn;
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;
use crate::spawn::{Containment, ContainmentKind, SpawnInGroupConfig, TreeKillReliability};
pub(crate) use crate::sys::unsupported::jobs::{Placement, usage, usage_placed};
use crate::tree::{TerminateTreeConfig, TerminateTreeResult};

/// The exit code every process of a job ended by sysprims gets: 128 + the signal number, as
/// a shell reports a death by that signal (143 for TERM, 137 for KILL).
pub(crate) fn exit_code_for(signal: Signal) -> u32 {
    128 + signal.number() as u32
}

/// One job this process made, while it may still have processes.
#[derive(Debug)]
pub(crate) struct JobEntry {
    /// The first process's PID.
    pub pid: u32,
    /// The first process's creation time (100 ns since 1601).
    pub creation_100ns: u64,
    /// The job.
    pub job: JobObject,
    /// Our own handle on the first process (to lend it a job handle).
    process: OwnedHandle,
    /// `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` is on now.
    kill_on_close: AtomicBool,
    /// The spawn asked for `kill_on_parent_death`: kill-on-close never goes off.
    tied: bool,
    /// The first process leads a console process group of its own.
    own_group: bool,
    /// The first process holds a handle to the job (lent once).
    lent: AtomicBool,
}

impl JobEntry {
    fn set_kill_on_close(&self, on: bool) {
        if self.kill_on_close.load(Ordering::SeqCst) != on && self.job.set_kill_on_close(on).is_ok()
        {
            self.kill_on_close.store(on, Ordering::SeqCst);
        }
    }

    /// Let the first process hold a handle to its job, so the job (and its name) outlives
    /// this process. Never while kill-on-close is on: that handle would keep the job alive
    /// after the caller's death, which kill-on-close is there to end it at.
    fn lend(&self) {
        if self.kill_on_close.load(Ordering::SeqCst) || self.lent.swap(true, Ordering::SeqCst) {
            return;
        }
        if self
            .job
            .duplicate_into(self.process.as_raw_handle(), JOB_OBJECT_QUERY)
            .is_err()
        {
            self.lent.store(false, Ordering::SeqCst);
        }
    }
}

/// The jobs this process made that may still have processes.
static REGISTRY: Mutex<Vec<Arc<JobEntry>>> = Mutex::new(Vec::new());

fn registry() -> std::sync::MutexGuard<'static, Vec<Arc<JobEntry>>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forget jobs with no process left (their handles close; nothing is killed: they are empty).
fn sweep() {
    registry().retain(|e| e.job.pids().map(|p| !p.is_empty()).unwrap_or(false));
}

fn forget(entry: &Arc<JobEntry>) {
    registry().retain(|e| !Arc::ptr_eq(e, entry));
}

/// A child just started, and what holds it.
pub(crate) struct Started {
    pub handle: Handle,
    /// Always `None`: cgroups are Linux's.
    pub cgroup: Option<PathBuf>,
    pub warnings: Vec<String>,
    pub watchdog: JobWatchdog,
    /// The job, when the child is in one.
    pub job: Option<Arc<JobEntry>>,
    /// Where usage counters live: nowhere yet on Windows (job accounting is not reported).
    pub placement: Placement,
    /// Our own handle on the child.
    pub process: OwnedHandle,
}

impl Started {
    /// What holds the job, and how surely it can be ended whole.
    pub(crate) fn containment(&self) -> (ContainmentKind, TreeKillReliability) {
        match self.job {
            Some(_) => (ContainmentKind::JobObject, TreeKillReliability::Guaranteed),
            None => (
                ContainmentKind::ProcessGroup,
                TreeKillReliability::BestEffort,
            ),
        }
    }
}

/// The Windows job watchdog is the kernel: `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` ends the job
/// when this process's handle closes, however it dies. Armed (by
/// [`Job::kill_on_drop`](crate::Job::kill_on_drop)): that limit is on, and dropping the
/// watchdog ends the job.
#[derive(Default, Debug)]
pub(crate) struct JobWatchdog {
    entry: Option<Arc<JobEntry>>,
    armed: bool,
}

impl JobWatchdog {
    fn of(entry: Option<Arc<JobEntry>>) -> JobWatchdog {
        JobWatchdog {
            entry,
            armed: false,
        }
    }

    /// Cgroup watchdogs do not exist here.
    pub(crate) fn arm(_dir: &Path) -> JobWatchdog {
        JobWatchdog::default()
    }

    /// Turn kill-on-close on: the job dies with this process, or when this is dropped.
    pub(crate) fn arm_job(&mut self) {
        if let Some(e) = &self.entry {
            e.set_kill_on_close(true);
            self.armed = true;
        }
    }

    /// Whether [`JobWatchdog::arm_job`] is in force.
    pub(crate) fn is_armed(&self) -> bool {
        self.armed
    }

    /// The job this watches.
    pub(crate) fn job(&self) -> Option<&Arc<JobEntry>> {
        self.entry.as_ref()
    }

    #[allow(dead_code)]
    pub(crate) fn retire(&mut self, _linger: Option<&Path>) {
        self.end();
    }

    pub(crate) fn linger(_dir: &Path) {}

    /// Let the job run on without this process: disarmed, kill-on-close off (unless the
    /// spawn asked for `kill_on_parent_death`), and a job handle lent to its first process
    /// so that other processes can still find it by name.
    pub(crate) fn end(&mut self) {
        self.armed = false;
        if let Some(e) = &self.entry
            && !e.tied
        {
            e.set_kill_on_close(false);
            e.lend();
        }
    }

    /// As [`JobWatchdog::end`], even for a `kill_on_parent_death` job: for leftovers that
    /// are to outlive their spawner (a timed command that completed, without `cleanup`).
    pub(crate) fn release(&mut self) {
        self.armed = false;
        if let Some(e) = &self.entry {
            e.set_kill_on_close(false);
            e.lend();
        }
    }

    #[allow(dead_code)]
    pub(crate) fn dismiss(&mut self) {
        self.end();
    }
}

impl Drop for JobWatchdog {
    /// Armed (a `kill_on_drop` job): end the job now, as closing its last handle would.
    fn drop(&mut self) {
        if let Some(e) = self.entry.take()
            && self.armed
        {
            let _ = e.job.terminate(exit_code_for(Signal::KILL));
            let _ = e
                .job
                .wait_empty(Instant::now().checked_add(Duration::from_millis(2_000)));
            forget(&e);
        }
    }
}

fn degraded(reason: &str) -> String {
    format!(
        "tree kill is best-effort: no job object for this job ({reason}); its processes are \
         found by walking parent links, which a process whose parent has exited leaves"
    )
}

fn job_error(e: &std::io::Error, step: &'static str) -> SysprimsError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        SysprimsError::PermissionDenied {
            operation: step,
            subject: Subject::None,
        }
    } else {
        SysprimsError::NotSupported {
            feature: "job_object containment",
            reason: format!("{step} failed: {e}"),
        }
    }
}

/// Make the job for a suspended child and put the child in it.
fn contain(
    child: &spawn::Suspended,
    own_group: bool,
) -> std::result::Result<JobObject, (String, SysprimsError)> {
    let name = job_name(child.pid, child.creation_100ns, own_group);
    let job = JobObject::create(Some(&name)).map_err(|e| {
        (
            format!("CreateJobObjectW failed: {e}"),
            job_error(&e, "CreateJobObjectW"),
        )
    })?;
    job.assign(child.process.as_raw_handle()).map_err(|e| {
        (
            format!(
                "AssignProcessToJobObject failed: {e} (the caller's own job may forbid \
                 nesting or breakaway)"
            ),
            job_error(&e, "AssignProcessToJobObject"),
        )
    })?;
    Ok(job)
}

/// Start `config`'s child in a job of its own: created suspended, put in the job, resumed.
/// `new_process_group`: a console process group of the child's own (not with `timeout
/// --foreground`, whose command shares the caller's console group and so its `CTRL_C`).
///
/// # Errors
/// As [`spawn_in_group`](crate::spawn_in_group); `containment: job_object` without a job is
/// `NotSupported` (or `PermissionDenied`) saying why, and `cgroup` is `NotSupported`.
pub(crate) fn start(
    config: &SpawnInGroupConfig,
    new_process_group: bool,
    do_sweep: bool,
    _watchdog: bool,
) -> Result<Started> {
    if config.containment == Containment::Cgroup {
        return Err(SysprimsError::NotSupported {
            feature: "cgroup containment",
            reason: "cgroups are Linux's; on Windows use containment job_object (or auto)".into(),
        });
    }
    if config.cgroup_parent.is_some() {
        return Err(SysprimsError::invalid(
            "cgroup_parent",
            config
                .cgroup_parent
                .as_deref()
                .unwrap_or(Path::new(""))
                .display()
                .to_string(),
            "cgroups are Linux's: there is no cgroup hierarchy on Windows",
        ));
    }
    if do_sweep {
        sweep();
    }
    let child = spawn::create_suspended(config, new_process_group)?;
    let mut warnings = Vec::new();
    let job = match config.containment {
        Containment::ProcessGroup => {
            warnings.push(degraded("containment process_group was asked for"));
            None
        }
        _ => match contain(&child, new_process_group) {
            Ok(job) => Some(job),
            Err((_, e)) if config.containment == Containment::JobObject => {
                // `child` is dropped unresumed: terminated, having run nothing.
                return Err(e);
            }
            Err((why, _)) => {
                warnings.push(degraded(&why));
                None
            }
        },
    };
    let pid = child.pid;
    let creation_100ns = child.creation_100ns;
    let process = child.resume().map_err(|e| SysprimsError::SpawnFailed {
        program: config.argv[0].clone(),
        reason: format!("ResumeThread failed: {e}"),
        errno: e.raw_os_error(),
    })?;
    let entry = job.map(|job| {
        let e = Arc::new(JobEntry {
            pid,
            creation_100ns,
            job,
            process: process
                .try_clone()
                .expect("DuplicateHandle of our own child"),
            kill_on_close: AtomicBool::new(true),
            tied: config.kill_on_parent_death,
            own_group: new_process_group,
            lent: AtomicBool::new(false),
        });
        // Running now: the job outlives this process unless asked otherwise.
        if !config.kill_on_parent_death {
            e.set_kill_on_close(false);
        }
        registry().push(Arc::clone(&e));
        e
    });
    // Our own handle on the child pins its PID, so this opens the same process.
    let handle = Handle::open(Pid::new(pid)?)?;
    Ok(Started {
        handle,
        cgroup: None,
        warnings,
        watchdog: JobWatchdog::of(entry.clone()),
        job: entry,
        process,
        placement: Placement,
    })
}

/// Cgroups are Linux's.
pub(crate) fn job_cgroup_of(_pid: Pid) -> Option<PathBuf> {
    None
}

/// Cgroups are Linux's.
pub(crate) fn remove_if_empty(_dir: &Path) {}

/// Cgroups are Linux's.
pub(crate) fn caller_inside(_dir: &Path) -> bool {
    false
}

/// Cgroups are Linux's.
pub(crate) fn terminate_cgroup(
    _dir: &Path,
    _config: &TerminateTreeConfig,
    _result: TerminateTreeResult,
    _cancel: Option<&super::cancel::CancelFd>,
) -> Result<TerminateTreeResult> {
    Err(SysprimsError::NotSupported {
        feature: "cgroup containment",
        reason: "cgroups are Linux's".into(),
    })
}

/// Wait for the process `handle` holds to exit, and say how it ended: `WaitForSingleObject`
/// on that very handle (which pins the process, so no PID is looked up again), then
/// `GetExitCodeProcess`. Used by `ProcessHandle::wait` and for a job's first process. Windows
/// has no reaping: "exited" is the end, and a second wait reports the same exit code.
pub(crate) fn wait_first(
    handle: &Handle,
    deadline: Option<Instant>,
) -> Result<crate::wait::WaitPidResult> {
    let result = super::wait::wait_process(handle.process(), deadline, None)?;
    if result.exited {
        sweep();
    }
    Ok(result)
}

/// A job found from a PID: ours (registered) or another process's (opened by name).
pub(crate) enum FoundJob {
    Ours(Arc<JobEntry>),
    /// Opened by name; whether its first process leads a console process group.
    Named(JobObject, bool),
}

impl FoundJob {
    fn job(&self) -> &JobObject {
        match self {
            FoundJob::Ours(e) => &e.job,
            FoundJob::Named(j, _) => j,
        }
    }

    fn own_group(&self) -> bool {
        match self {
            FoundJob::Ours(e) => e.own_group,
            FoundJob::Named(_, g) => *g,
        }
    }
}

fn open_process(pid: u32, access: u32) -> Option<OwnedHandle> {
    // SAFETY: plain OpenProcess; the handle is owned below.
    let h = unsafe { OpenProcess(access, 0, pid) };
    if h.is_null() {
        None
    } else {
        // SAFETY: a fresh handle we own.
        Some(unsafe { OwnedHandle::from_raw_handle(h as RawHandle) })
    }
}

/// The job `pid` is the first process of, if sysprims made one for it and it is still in
/// it, and the caller is not inside it (a job cannot end itself safely: the caller would go
/// with it, so such a tree is walked instead).
pub(crate) fn job_of(pid: Pid) -> Option<FoundJob> {
    // Wine's IsProcessInJob needs PROCESS_QUERY_INFORMATION (Windows: the limited right).
    let process = open_process(pid.get(), PROCESS_QUERY_INFORMATION | PROCESS_SYNCHRONIZE)?;
    let created = spawn::creation_time(process.as_raw_handle()).ok()?;
    let ours = registry()
        .iter()
        .find(|e| e.pid == pid.get() && e.creation_100ns == created)
        .cloned();
    let found = match ours {
        Some(e) => FoundJob::Ours(e),
        None => [true, false].into_iter().find_map(|group| {
            JobObject::open_named(&job_name(pid.get(), created, group))
                .map(|j| FoundJob::Named(j, group))
        })?,
    };
    if !found.job().contains(process.as_raw_handle()) {
        return None;
    }
    // SAFETY: the pseudo-handle of this process.
    let me = unsafe { GetCurrentProcess() };
    if found.job().contains(me as RawHandle) {
        return None;
    }
    Some(found)
}

/// Wait up to `ms` for any of `pids` to exit, or `cancel` to be set; true if one did, the
/// token was set or none could be opened (so the caller should check both and list again).
pub(crate) fn wait_any_exit(
    pids: &[u32],
    ms: u32,
    cancel: Option<&super::cancel::CancelFd>,
) -> bool {
    let handles: Vec<OwnedHandle> = pids
        .iter()
        .take(63)
        .filter_map(|&p| open_process(p, PROCESS_SYNCHRONIZE))
        .collect();
    if handles.is_empty() {
        return true;
    }
    let mut raw: Vec<HANDLE> = handles
        .iter()
        .map(|h| h.as_raw_handle() as HANDLE)
        .collect();
    raw.extend(cancel.map(super::cancel::CancelFd::raw));
    // SAFETY: up to 64 valid handles.
    let r = unsafe { WaitForMultipleObjects(raw.len() as u32, raw.as_ptr(), 0, ms) };
    r != WAIT_TIMEOUT && r != WAIT_FAILED
}

struct WindowSearch {
    pids: Vec<u32>,
    posted: u32,
}

unsafe extern "system" fn close_window(hwnd: HWND, param: LPARAM) -> i32 {
    // SAFETY: `param` is the &mut WindowSearch passed to EnumWindows, alive for its call.
    let search = unsafe { &mut *(param as *mut WindowSearch) };
    let mut owner = 0u32;
    // SAFETY: a window handle EnumWindows gave us and an out-pointer.
    unsafe { GetWindowThreadProcessId(hwnd, &mut owner) };
    // SAFETY: posting to a window handle is safe even if it has just gone.
    if search.pids.contains(&owner) && unsafe { PostMessageW(hwnd, WM_CLOSE, 0, 0) } != 0 {
        search.posted += 1;
    }
    1
}

/// The graceful step, where Windows has one: `WM_CLOSE` to every top-level window of the
/// job's processes, and, when the first process leads a console process group
/// (`own_group`), `CTRL_BREAK_EVENT` to it (it reaches only processes attached to the
/// caller's console; Wine does not implement it). Never `CTRL_BREAK_EVENT` to a PID that
/// leads no group: Windows may deliver that to the whole console, the caller included.
/// Returns how many targets it reached (0: nothing graceful is possible).
pub(crate) fn graceful(root: u32, own_group: bool, pids: &[u32]) -> u32 {
    let mut search = WindowSearch {
        pids: pids.to_vec(),
        posted: 0,
    };
    // SAFETY: the callback only touches `search`, which outlives the call.
    unsafe { EnumWindows(Some(close_window), (&raw mut search) as LPARAM) };
    // SAFETY: plain call; it fails (Wine, another console) without side effects.
    let ctrl = own_group && unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, root) } != 0;
    search.posted + u32::from(ctrl)
}

/// The exit code of a process handle, `None` while it runs.
pub(crate) fn exit_code(process: RawHandle) -> Option<u32> {
    // SAFETY: a zero-timeout wait on a valid handle. (`STILL_ACTIVE` can be a real exit
    // code, so the handle's state, not the code, says whether the process has ended.)
    if unsafe { WaitForSingleObject(process as HANDLE, 0) } != WAIT_OBJECT_0 {
        return None;
    }
    let mut code = 0u32;
    // SAFETY: a valid process handle and an out-pointer.
    let ok = unsafe { GetExitCodeProcess(process as HANDLE, &mut code) };
    (ok != 0).then_some(code)
}

/// End the job `found`, whose first process is `pid`: the graceful step where one exists
/// (then up to `grace_timeout_ms`), then `TerminateJobObject`, then the wait for
/// `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO` (up to `kill_timeout_ms`).
///
/// Windows has no signals: `config.signal` other than KILL asks for the graceful step, and
/// if nothing graceful reaches the job (no windows, another console, Wine), the job is
/// terminated at once, with a warning that says so. `TerminateJobObject` gives every
/// process the exit code 128 + the signal's number.
pub(crate) fn terminate_job(
    pid: Pid,
    found: &FoundJob,
    config: &TerminateTreeConfig,
    cancel: Option<&super::cancel::CancelFd>,
) -> Result<TerminateTreeResult> {
    let start = Instant::now();
    let job = found.job();
    let mut result = crate::tree::empty_result(pid.get(), config, TreeKillReliability::Guaranteed);
    let io = |e: std::io::Error, op: &'static str| {
        SysprimsError::from_errno(
            op,
            Subject::Process(pid.get()),
            e.raw_os_error().unwrap_or(0),
        )
    };
    let members = job.pids().map_err(|e| io(e, "QueryInformationJobObject"))?;
    result.signalled = members.len() as u32;
    let mut gone = false;
    if config.signal != Signal::KILL && !super::cancel::triggered(cancel) {
        let reached = graceful(pid.get(), found.own_group(), &members);
        if reached > 0 {
            let deadline =
                Instant::now().checked_add(Duration::from_millis(config.grace_timeout_ms));
            // A cancel ends the grace period: escalated, as on Linux.
            gone = job
                .wait_empty_or_cancel(deadline, cancel)
                .map_err(|e| io(e, "wait for the job"))?;
            if !gone {
                result.escalated = true;
            }
        } else {
            result.warnings.push(format!(
                "Windows has no {}: nothing graceful reached the job (no windows to send \
                 WM_CLOSE, and CTRL_BREAK_EVENT did not reach its console process group), so \
                 it was terminated at once (TerminateJobObject)",
                config.signal
            ));
        }
    }
    if !gone {
        let code = if result.escalated {
            exit_code_for(config.kill_signal)
        } else {
            exit_code_for(config.signal)
        };
        job.terminate(code)
            .map_err(|e| io(e, "TerminateJobObject"))?;
        let (empty, cancelled) =
            crate::tree::wait_after_kill(config.kill_timeout_ms, false, cancel, |deadline, c| {
                job.wait_empty_or_cancel(deadline, c)
                    .map_err(|e| io(e, "wait for the job"))
            })?;
        if cancelled {
            result.warnings.push(crate::CANCELLED_WARNING.to_string());
        }
        gone = empty;
    }
    result.exited = gone;
    if !gone {
        result.timed_out = true;
        result.survivors = job.pids().unwrap_or_default();
    } else if let FoundJob::Ours(e) = found {
        forget(e);
    }
    result.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(result)
}
