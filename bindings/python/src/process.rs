//! `Process`: one process, held by its identity (PID, start time, executable and, where the
//! kernel has one, its pidfs inode), so that a PID reused by a newcomer is never read as the
//! process, signalled or waited for.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use sysprims::{
    ErrorCode, FdFilter, FdKind, GuardedSignal, IdentityCheck, ProcessHandle, ProcessIdentity,
    ProcessInfo, ProcessState, Signal,
};

use crate::convert::{error, gone, pid_arg, raise, seconds_arg, signal_arg, to_py};
use crate::procfs::{ProcDir, ReadError, Start};

/// psutil's status strings (`psutil.STATUS_*`) for a state.
pub fn status_name(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "running",
        ProcessState::Sleeping => "sleeping",
        ProcessState::DiskSleep => "disk-sleep",
        ProcessState::Stopped => "stopped",
        ProcessState::TracingStop => "tracing-stop",
        ProcessState::Zombie => "zombie",
        ProcessState::Dead => "dead",
        ProcessState::Idle => "idle",
        ProcessState::Parked => "parked",
        _ => "unknown",
    }
}

/// The name as psutil gives it: the kernel's `comm`, which Linux cuts at 15 bytes, extended
/// from `argv[0]` (or the executable) when it was cut.
pub fn full_name(info: &ProcessInfo) -> String {
    name_from(&info.name, &info.cmdline, info.exe_path.as_deref())
}

/// [`full_name`] from its parts.
pub fn name_from(comm: &str, cmdline: &[String], exe: Option<&str>) -> String {
    if comm.len() >= 15 {
        let base = |s: &str| s.rsplit('/').next().unwrap_or("").to_string();
        for candidate in [
            cmdline
                .first()
                .map(|a| base(a.split(' ').next().unwrap_or(""))),
            exe.map(base),
        ]
        .into_iter()
        .flatten()
        {
            if candidate.starts_with(comm) && candidate.len() > comm.len() {
                return candidate;
            }
        }
    }
    comm.to_string()
}

/// A process, checked against PID reuse on every call.
///
/// `Process(pid)` captures the identity of the process that has `pid` now (`NoSuchProcess` if
/// none does; `ValueError` for a PID outside 1..2147483647). Every method afterwards acts on
/// that process only: once it has exited and its PID names a newcomer, reads raise
/// `NoSuchProcess`, `is_running()` is False, and signals are not sent.
#[pyclass(module = "sysprims._sysprims", subclass, frozen)]
pub struct Process {
    pid: u32,
    /// What tells the process from a later one with its PID. For a `Process(pid)` holding a
    /// pidfd: the start (ticks, ms, boot ID) as captured; the executable and the pidfs inode
    /// are added on first need, in `full` (see `full_identity`). Otherwise complete.
    identity: ProcessIdentity,
    /// `identity` with the executable and pidfs inode, once a `Process(pid)` needed them.
    full: std::sync::OnceLock<ProcessIdentity>,
    start: Start,
    /// A pidfd on the process, held by a `Process(pid)` (not by listed ones, so a listing of
    /// thousands holds no fds): reads then only need to check it is still there.
    handle: Option<ProcessHandle>,
    /// Serialises waits, and keeps the exit status once one has been seen.
    exit: Mutex<Option<Option<i64>>>,
    /// The executable once read, as psutil caches it: it cannot change without an `execve`,
    /// and the identity it is checked against holds the one read first.
    exe: std::sync::OnceLock<String>,
}

impl Process {
    /// A process from a listing: its PID, start and executable as the listing read them.
    pub fn listed(pid: u32, start_ms: Option<u64>, exe: Option<String>) -> Process {
        Process {
            pid,
            start: Start::UnixMs(start_ms.unwrap_or(0)),
            identity: ProcessIdentity::from_parts(pid, start_ms, exe),
            full: std::sync::OnceLock::new(),
            handle: None,
            exit: Mutex::new(None),
            exe: std::sync::OnceLock::new(),
        }
    }

    /// Run `read` on the stored process's PID while a pidfd holds the process: the pidfd is
    /// checked against the stored identity first (by pidfs inode where there is one), and
    /// after the read the process must still be there (unreaped, so its PID cannot have
    /// been reused during the read).
    fn pinned<T: Send>(
        &self,
        py: Python<'_>,
        read: impl FnOnce(u32) -> Result<T, PyErrLater> + Send,
    ) -> PyResult<T> {
        let (pid, identity) = (self.pid, &self.identity);
        let outcome = py.detach(|| -> Result<T, PyErrLater> {
            if let Some(held) = &self.handle {
                let value = read(pid)?;
                if !held.is_present().map_err(PyErrLater::Lib)? {
                    return Err(PyErrLater::Gone("it has exited"));
                }
                return Ok(value);
            }
            let handle = ProcessHandle::open(pid).map_err(PyErrLater::Lib)?;
            match handle.verify(identity).map_err(PyErrLater::Lib)? {
                IdentityCheck::Same => {}
                IdentityCheck::Gone => return Err(PyErrLater::Gone("it has exited")),
                _ => return Err(PyErrLater::Gone("its PID now names another process")),
            }
            let value = read(pid)?;
            if !handle.is_present().map_err(PyErrLater::Lib)? {
                return Err(PyErrLater::Gone("it has exited"));
            }
            Ok(value)
        });
        outcome.map_err(|e| e.into_py(py, pid))
    }

    /// Read the process, checked to be the stored one.
    fn read(&self, py: Python<'_>) -> PyResult<ProcessInfo> {
        let start = self.identity.start_time_unix_ms;
        self.pinned(py, |pid| {
            let info = sysprims::get_process(pid).map_err(PyErrLater::Lib)?;
            if info.start_time_unix_ms != start {
                return Err(PyErrLater::Gone("its PID now names another process"));
            }
            Ok(info)
        })
    }

    /// The executable, read now (see `exe`).
    fn read_exe(&self, py: Python<'_>) -> PyResult<String> {
        let fast = self.pinned(py, |pid| Ok(crate::procfs::read_exe(pid)))?;
        if let Some(path) = fast {
            return Ok(path);
        }
        let info = self.read(py)?;
        match info.exe_path {
            Some(path) => Ok(path),
            None if info.state == ProcessState::Zombie => Err(raise(
                py,
                "ZombieProcess",
                Some(self.pid),
                ErrorCode::NotFound.name(),
                &format!("process {} is a zombie: its executable is gone", self.pid),
            )),
            None => Ok(String::new()),
        }
    }

    /// `/proc/<pid>/<name>` of the stored process, read whole: by path, pinned by the held
    /// pidfd (checked after the read), or else through a `/proc/<pid>` directory opened now
    /// whose start time matches the stored one.
    fn read_file(&self, py: Python<'_>, name: &'static str) -> PyResult<Vec<u8>> {
        let start = self.start;
        let held = self.handle.is_some();
        self.pinned(py, |pid| {
            if held {
                return crate::procfs::read_proc_file(pid, name)
                    .map_err(|e| PyErrLater::Read(ReadError::from(e)));
            }
            let (dir, _) = ProcDir::open_checked(pid, start).map_err(PyErrLater::Read)?;
            dir.read(name).map_err(PyErrLater::Read)
        })
    }

    /// The identity with everything it can hold: for a `Process(pid)`, the capture's start
    /// plus the executable (`exe()`'s answer if there was one, else read now and kept only if
    /// the held pidfd's process was still there after the read) and the pidfs inode (from the
    /// held pidfd, which names the same process whenever it is asked, even after its exit).
    /// Taken once; signals and `identity()` use it.
    fn full_identity(&self, py: Python<'_>) -> &ProcessIdentity {
        let Some(handle) = self.handle.as_ref().filter(|h| h.has_pidfd()) else {
            return &self.identity;
        };
        if let Some(full) = self.full.get() {
            return full;
        }
        // exe() answers "" for a process without an executable: the identity has none.
        let exe = self.exe.get().filter(|e| !e.is_empty()).cloned();
        let (pid, base) = (self.pid, &self.identity);
        let full = py.detach(|| crate::procfs::complete(handle, pid, base, exe));
        self.full.get_or_init(|| full)
    }

    /// Signal the stored process only: through the held pidfd where there is one (which
    /// names exactly this process: once it is reaped the send fails, whatever has the PID),
    /// else through a pidfd opened now and checked against the identity.
    fn signal(&self, py: Python<'_>, signal: Signal) -> PyResult<()> {
        let identity = self.full_identity(py);
        let held = self.handle.as_ref().filter(|h| h.has_pidfd());
        let outcome = py
            .detach(|| match held {
                Some(handle) => handle.signal_if(identity, signal),
                None => sysprims::signal_if(identity, signal),
            })
            .map_err(|e| error(py, e))?;
        match outcome {
            GuardedSignal::Signalled { .. } => Ok(()),
            GuardedSignal::Reused { .. } => {
                Err(gone(py, self.pid, "its PID now names another process"))
            }
            _ => Err(gone(py, self.pid, "it has exited")),
        }
    }
}

/// An error met without the GIL, turned into an exception once it is held again.
enum PyErrLater {
    Lib(sysprims::SysprimsError),
    Gone(&'static str),
    Read(ReadError),
}

impl PyErrLater {
    fn into_py(self, py: Python<'_>, pid: u32) -> PyErr {
        match self {
            PyErrLater::Lib(e) => error(py, e),
            PyErrLater::Gone(why) => gone(py, pid, why),
            PyErrLater::Read(e) => read_error(py, pid, e),
        }
    }
}

pub fn read_error(py: Python<'_>, pid: u32, e: ReadError) -> PyErr {
    match e {
        ReadError::Gone(why) => gone(py, pid, why),
        ReadError::Denied => raise(
            py,
            "AccessDenied",
            Some(pid),
            ErrorCode::PermissionDenied.name(),
            &format!("permission denied reading /proc/{pid}"),
        ),
        ReadError::Other(msg) => raise(py, "Error", Some(pid), ErrorCode::System.name(), &msg),
    }
}

#[pymethods]
impl Process {
    #[new]
    #[pyo3(signature = (pid, _listed = None))]
    fn new(
        py: Python<'_>,
        pid: i64,
        _listed: Option<(Option<u64>, Option<String>)>,
    ) -> PyResult<Self> {
        let pid = pid_arg(pid)?;
        if let Some((start_ms, exe)) = _listed {
            return Ok(Process::listed(pid, start_ms, exe));
        }
        let (handle, identity) = py
            .detach(|| -> Result<_, PyErrLater> {
                let handle = ProcessHandle::open(pid).map_err(PyErrLater::Lib)?;
                let identity = if handle.has_pidfd() {
                    crate::procfs::capture(&handle, pid).map_err(PyErrLater::Read)?
                } else {
                    handle.identity().map_err(PyErrLater::Lib)?
                };
                Ok((handle, identity))
            })
            .map_err(|e| e.into_py(py, pid))?;
        let start = match (identity.start_time_boot_ticks, identity.start_time_unix_ms) {
            (Some(t), _) => Start::Ticks(t),
            (None, ms) => Start::UnixMs(ms.unwrap_or(0)),
        };
        Ok(Process {
            pid,
            identity,
            full: std::sync::OnceLock::new(),
            start,
            handle: Some(handle),
            exit: Mutex::new(None),
            exe: std::sync::OnceLock::new(),
        })
    }

    /// The PID.
    #[getter]
    fn pid(&self) -> u32 {
        self.pid
    }

    /// The stored identity, as a dict (`pid`, `start_time_unix_ms`, `start_time_boot_ticks`,
    /// `boot_id`, `exe_path`, `pidfs_inode`): what tells this process from a later one with
    /// the same PID. A `Process(pid)` takes the start when made and the executable and pidfs
    /// inode when first needed (this call or a signal): `exe_path` is `exe()`'s
    /// answer, or the one read then (`None` once the process has exited).
    fn identity(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, self.full_identity(py))
    }

    /// The parent's PID (0 for none).
    fn ppid(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.read(py)?.ppid)
    }

    /// The process name: the kernel's (15 bytes at most on Linux), completed from the command
    /// line when it was cut, as psutil does.
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        Ok(full_name(&self.read(py)?))
    }

    /// The absolute path of the executable; `""` when it cannot be known (a kernel thread).
    /// Raises `ZombieProcess` for a zombie, whose executable the kernel no longer shows.
    /// Cached from the first call that gives a path, as psutil caches it (so a process that
    /// has become a zombie since still gives it; one first asked as a zombie raises).
    fn exe(&self, py: Python<'_>) -> PyResult<String> {
        if let Some(path) = self.exe.get() {
            return Ok(path.clone());
        }
        let path = self.read_exe(py)?;
        Ok(self.exe.get_or_init(|| path).clone())
    }

    /// The command line, `argv[0]` first (empty for kernel threads and zombies).
    fn cmdline(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.pinned(py, |pid| {
            let bytes = crate::procfs::read_proc_file(pid, "cmdline")
                .map_err(|e| PyErrLater::Read(ReadError::from(e)))?;
            Ok(crate::procfs::split_cmdline(&bytes))
        })
    }

    /// The start time, seconds since the epoch (as `time.time()`), at clock-tick resolution.
    fn create_time(&self) -> f64 {
        self.identity.start_time_unix_ms.unwrap_or(0) as f64 / 1000.0
    }

    /// The scheduling state, as psutil's `STATUS_*` strings (`"running"`, `"sleeping"`,
    /// `"disk-sleep"`, `"stopped"`, `"tracing-stop"`, `"zombie"`, `"dead"`, `"idle"`,
    /// `"parked"`).
    fn status(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(status_name(self.read(py)?.state))
    }

    /// The name of the effective user (its UID as text when the user database has none).
    fn username(&self, py: Python<'_>) -> PyResult<String> {
        let info = self.read(py)?;
        Ok(info.user.unwrap_or_else(|| info.uid.to_string()))
    }

    /// The effective UID.
    fn _uid(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.read(py)?.uid)
    }

    /// The number of threads.
    fn num_threads(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.read(py)?.thread_count)
    }

    /// `(rss, vms, shared, text, lib, data, dirty)` in bytes.
    fn _memory_info(&self, py: Python<'_>) -> PyResult<[u64; 7]> {
        Ok(crate::procfs::memory_info(&self.read_file(py, "statm")?))
    }

    /// `(user, system, children_user, children_system, iowait)` in seconds.
    fn _cpu_times(&self, py: Python<'_>) -> PyResult<(f64, f64, f64, f64, f64)> {
        let bytes = self.read_file(py, "stat")?;
        match crate::procfs::parse_stat(&bytes) {
            Some(stat) => Ok(stat.cpu_times()),
            None => Err(read_error(
                py,
                self.pid,
                ReadError::Other(format!("cannot parse /proc/{}/stat", self.pid)),
            )),
        }
    }

    /// The children as `(pid, start_ms, exe)` tuples; every descendant when `recursive`.
    #[pyo3(signature = (recursive = false))]
    fn _children<'py>(&self, py: Python<'py>, recursive: bool) -> PyResult<Bound<'py, PyList>> {
        let pid = self.pid;
        let tree = py
            .detach(|| sysprims::descendants(pid, if recursive { None } else { Some(1) }))
            .map_err(|e| error(py, e))?;
        if tree.root().start_time_unix_ms != self.identity.start_time_unix_ms {
            return Err(gone(py, pid, "its PID now names another process"));
        }
        let list = PyList::empty(py);
        for node in tree.descendants() {
            let p = &node.process;
            list.append((p.pid, p.start_time_unix_ms, p.exe_path.clone()))?;
        }
        Ok(list)
    }

    /// True while the process runs or is a zombie not yet reaped; False once it has exited,
    /// and also when its PID now names another process.
    fn is_running(&self, py: Python<'_>) -> PyResult<bool> {
        if let Some(held) = self.handle.as_ref().filter(|h| h.has_pidfd()) {
            // The held pidfd answers for the process itself: present until reaped.
            return match py.detach(|| held.is_present()) {
                Ok(present) => Ok(present),
                Err(e) => Err(error(py, e)),
            };
        }
        let identity = &self.identity;
        match py.detach(|| sysprims::verify_identity(identity)) {
            Ok(check) => Ok(check == IdentityCheck::Same),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
            Err(e) => Err(error(py, e)),
        }
    }

    /// Send a signal (a number such as `signal.SIGUSR1`, or a name such as `"USR1"`) through a
    /// pidfd checked against the stored identity: a newcomer with the PID is never hit
    /// (`NoSuchProcess` instead). PID 1, the caller and its process group are refused
    /// (`ValueError`).
    fn send_signal(&self, py: Python<'_>, sig: &Bound<'_, PyAny>) -> PyResult<()> {
        let signal = signal_arg(sig)?;
        self.signal(py, signal)
    }

    /// `SIGTERM`, as `send_signal`.
    fn terminate(&self, py: Python<'_>) -> PyResult<()> {
        self.signal(py, Signal::TERM)
    }

    /// `SIGKILL`, as `send_signal`.
    fn kill(&self, py: Python<'_>) -> PyResult<()> {
        self.signal(py, Signal::KILL)
    }

    /// Wait for the process to end (`timeout` in seconds; `None`: no limit). Returns the exit
    /// code, or minus the signal that killed it; `None` when the status cannot be known (the
    /// process is not the caller's child and its parent has reaped it, or it was gone
    /// already). The caller's child is reaped. Raises `TimeoutExpired` when the timeout
    /// passes first (the process runs on). A PID reused by a newcomer is never waited for.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<i64>> {
        let limit = seconds_arg("timeout", timeout)?;
        let (pid, exit) = (self.pid, &self.exit);
        // The held pidfd, where there is one, names only this process: waited for through
        // it. Otherwise a pidfd opened now, checked against the identity.
        let held = self.handle.as_ref().filter(|h| h.has_pidfd());
        // Without a held pidfd the identity is complete already.
        let identity = &self.identity;
        let outcome = py.detach(|| -> sysprims::Result<Option<Option<i64>>> {
            let mut known = exit.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(code) = *known {
                return Ok(Some(code));
            }
            let opened;
            let handle = match held {
                Some(handle) => {
                    if !handle.is_present()? {
                        *known = Some(None);
                        return Ok(Some(None));
                    }
                    handle
                }
                None => {
                    opened = match ProcessHandle::open(pid) {
                        Ok(h) => h,
                        Err(e) if e.code() == ErrorCode::NotFound => {
                            *known = Some(None);
                            return Ok(Some(None));
                        }
                        Err(e) => return Err(e),
                    };
                    if opened.verify(identity)? != IdentityCheck::Same {
                        *known = Some(None);
                        return Ok(Some(None));
                    }
                    &opened
                }
            };
            let r = handle.wait(limit)?;
            if !r.exited {
                return Ok(None);
            }
            let code = match (r.exit_code, r.signal) {
                (Some(c), _) => Some(i64::from(c)),
                (None, Some(s)) => Some(-i64::from(crate::convert::native_signal(s))),
                _ => None,
            };
            *known = Some(code);
            Ok(Some(code))
        });
        match outcome.map_err(|e| error(py, e))? {
            Some(code) => Ok(code),
            None => {
                let cls = py.import("sysprims._errors")?.getattr("TimeoutExpired")?;
                let kwargs = PyDict::new(py);
                kwargs.set_item("pid", pid)?;
                Err(PyErr::from_value(cls.call((timeout,), Some(&kwargs))?))
            }
        }
    }

    /// The open fds as dicts (`fd`, `kind`, `path`, `offset`, `flags`, `access`, `socket`,
    /// ...), of the kinds named (`"file"`, `"socket"`, ...; `None`: all).
    #[pyo3(signature = (kinds = None))]
    fn _fds(&self, py: Python<'_>, kinds: Option<Vec<String>>) -> PyResult<Py<PyAny>> {
        let kinds = match kinds {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        serde_json::from_value::<FdKind>(serde_json::Value::String(n.clone()))
                            .map_err(|_| {
                                pyo3::exceptions::PyValueError::new_err(format!(
                                    "invalid fd kind {n:?}: expected file, directory, socket, \
                                     pipe, anon_inode, char_device, block_device or unknown"
                                ))
                            })
                    })
                    .collect::<PyResult<Vec<_>>>()?,
            ),
        };
        let snapshot = self.pinned(py, |pid| {
            sysprims::list_fds(pid, &FdFilter { kinds }).map_err(PyErrLater::Lib)
        })?;
        to_py(py, &snapshot.fds)
    }

    fn __repr__(&self) -> String {
        format!("sysprims.Process(pid={})", self.pid)
    }
}

/// Every process as a tuple `(pid, ppid, name, exe, cmdline, start_ms, status, username,
/// num_threads, uid, rss_bytes)`, for `process_iter`.
#[pyfunction]
pub fn _list(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let snap = py
        .detach(|| sysprims::snapshot(&sysprims::SnapshotOptions::default()))
        .map_err(|e| error(py, e))?;
    let list = PyList::empty(py);
    for p in &snap.processes {
        let name = full_name(p);
        let user = p.user.clone().unwrap_or_else(|| p.uid.to_string());
        let row = PyTuple::new(
            py,
            [
                p.pid.into_pyobject(py)?.into_any(),
                p.ppid.into_pyobject(py)?.into_any(),
                name.into_pyobject(py)?.into_any(),
                p.exe_path.as_deref().into_pyobject(py)?.into_any(),
                PyList::new(py, &p.cmdline)?.into_any(),
                p.start_time_unix_ms.into_pyobject(py)?.into_any(),
                status_name(p.state).into_pyobject(py)?.into_any(),
                user.into_pyobject(py)?.into_any(),
                p.thread_count.into_pyobject(py)?.into_any(),
                p.uid.into_pyobject(py)?.into_any(),
                (p.memory_kb * 1024).into_pyobject(py)?.into_any(),
            ],
        )?;
        list.append(row)?;
    }
    Ok(list)
}

/// Every process as an instance of `cls` (a subclass of `Process`), for `process_iter` when
/// every name in `attrs` is `pid`, `ppid`, `name`, `exe`, `cmdline` or `create_time` (or
/// `attrs` is `None`): the listing reads
/// only `stat`, the executable link and, when asked for, the command line, and each object
/// gets its `info` dict (when `attrs` is given) built here, without a Python-level call per
/// process. Each object's identity is its PID, start time and executable, as for any listed
/// process: signals go through a pidfd checked against it.
#[pyfunction]
#[pyo3(signature = (cls, attrs = None, ad_value = None))]
pub fn _iter<'py>(
    py: Python<'py>,
    cls: &Bound<'py, PyAny>,
    attrs: Option<Vec<String>>,
    ad_value: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    #[derive(Clone, Copy, PartialEq)]
    enum A {
        Pid,
        Ppid,
        Name,
        Exe,
        Cmdline,
        CreateTime,
    }
    let names: Option<Vec<(Bound<'py, pyo3::types::PyString>, A)>> = match &attrs {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|n| {
                    let a = match n.as_str() {
                        "pid" => A::Pid,
                        "ppid" => A::Ppid,
                        "name" => A::Name,
                        "exe" => A::Exe,
                        "cmdline" => A::Cmdline,
                        "create_time" => A::CreateTime,
                        other => {
                            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                                "invalid attr name {other:?} for the lean listing"
                            )));
                        }
                    };
                    Ok((pyo3::types::PyString::intern(py, n).clone(), a))
                })
                .collect::<PyResult<_>>()?,
        ),
    };
    let wanted = crate::procfs::Wanted {
        cmdline: names
            .as_ref()
            .is_some_and(|n| n.iter().any(|(_, a)| matches!(a, A::Cmdline | A::Name))),
    };
    let mut listing = py
        .detach(|| crate::procfs::LeanListing::start(wanted))
        .map_err(|e| {
            raise(
                py,
                "Error",
                None,
                ErrorCode::System.name(),
                &format!("cannot list /proc: {e}"),
            )
        })?;
    let info_key = pyo3::intern!(py, "info");
    let list = PyList::empty(py);
    // Each block is turned into objects here, with the GIL, while the workers read on.
    while let Some(rows) = py.detach(|| listing.next_block()) {
        for row in rows {
            let obj = cls.call1((row.pid, (row.start_ms, row.exe.as_deref())))?;
            if let Some(names) = &names {
                let info = PyDict::new(py);
                for (key, a) in names {
                    match a {
                        A::Pid => info.set_item(key, row.pid)?,
                        A::Ppid => info.set_item(key, row.ppid)?,
                        A::Name => info.set_item(
                            key,
                            name_from(&row.comm, &row.cmdline, row.exe.as_deref()),
                        )?,
                        A::Exe => info.set_item(key, row.exe.as_deref().unwrap_or(""))?,
                        A::Cmdline => info.set_item(key, PyList::new(py, &row.cmdline)?)?,
                        A::CreateTime => match row.start_ms {
                            Some(ms) => info.set_item(key, ms as f64 / 1000.0)?,
                            None => info.set_item(key, ad_value.as_ref())?,
                        },
                    }
                }
                obj.setattr(info_key, info)?;
            }
            list.append(obj)?;
        }
    }
    Ok(list)
}
