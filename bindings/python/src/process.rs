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
    if info.name.len() >= 15 {
        let base = |s: &str| s.rsplit('/').next().unwrap_or("").to_string();
        for candidate in [
            info.cmdline
                .first()
                .map(|a| base(a.split(' ').next().unwrap_or(""))),
            info.exe_path.as_deref().map(base),
        ]
        .into_iter()
        .flatten()
        {
            if candidate.starts_with(&info.name) && candidate.len() > info.name.len() {
                return candidate;
            }
        }
    }
    info.name.clone()
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
    identity: ProcessIdentity,
    start: Start,
    /// Serialises waits, and keeps the exit status once one has been seen.
    exit: Mutex<Option<Option<i64>>>,
}

impl Process {
    /// A process from a listing: its PID, start and executable as the listing read them.
    pub fn listed(pid: u32, start_ms: Option<u64>, exe: Option<String>) -> Process {
        Process {
            pid,
            start: Start::UnixMs(start_ms.unwrap_or(0)),
            identity: ProcessIdentity::from_parts(pid, start_ms, exe),
            exit: Mutex::new(None),
        }
    }

    /// Read the process, and check that it is still the stored one.
    fn read(&self, py: Python<'_>) -> PyResult<ProcessInfo> {
        let pid = self.pid;
        let info = py
            .detach(|| sysprims::get_process(pid))
            .map_err(|e| error(py, e))?;
        if info.start_time_unix_ms != self.identity.start_time_unix_ms {
            return Err(gone(py, pid, "its PID now names another process"));
        }
        Ok(info)
    }

    fn proc_dir(&self, py: Python<'_>) -> PyResult<ProcDir> {
        let (pid, start) = (self.pid, self.start);
        py.detach(|| ProcDir::open(pid, start))
            .map_err(|e| read_error(py, pid, e))
    }

    /// Signal the stored process only.
    fn signal(&self, py: Python<'_>, signal: Signal) -> PyResult<()> {
        let identity = &self.identity;
        let outcome = py
            .detach(|| sysprims::signal_if(identity, signal))
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
    #[pyo3(signature = (pid, *, _listed = None))]
    fn new(
        py: Python<'_>,
        pid: i64,
        _listed: Option<(Option<u64>, Option<String>)>,
    ) -> PyResult<Self> {
        let pid = pid_arg(pid)?;
        if let Some((start_ms, exe)) = _listed {
            return Ok(Process::listed(pid, start_ms, exe));
        }
        let identity = py
            .detach(|| ProcessIdentity::of(pid))
            .map_err(|e| error(py, e))?;
        let start = match (identity.start_time_boot_ticks, identity.start_time_unix_ms) {
            (Some(t), _) => Start::Ticks(t),
            (None, ms) => Start::UnixMs(ms.unwrap_or(0)),
        };
        Ok(Process {
            pid,
            identity,
            start,
            exit: Mutex::new(None),
        })
    }

    /// The PID.
    #[getter]
    fn pid(&self) -> u32 {
        self.pid
    }

    /// The stored identity, as a dict (`pid`, `start_time_unix_ms`, `start_time_boot_ticks`,
    /// `boot_id`, `exe_path`, `pidfs_inode`): what tells this process from a later one with
    /// the same PID.
    fn identity(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.identity)
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
    fn exe(&self, py: Python<'_>) -> PyResult<String> {
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

    /// The command line, `argv[0]` first (empty for kernel threads and zombies).
    fn cmdline(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.read(py)?.cmdline)
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
        let dir = self.proc_dir(py)?;
        dir.memory_info().map_err(|e| read_error(py, self.pid, e))
    }

    /// `(user, system, children_user, children_system, iowait)` in seconds.
    fn _cpu_times(&self, py: Python<'_>) -> PyResult<(f64, f64, f64, f64, f64)> {
        Ok(self.proc_dir(py)?.cpu_times())
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
        let (pid, identity, exit) = (self.pid, &self.identity, &self.exit);
        let outcome = py.detach(|| -> sysprims::Result<Option<Option<i64>>> {
            let mut known = exit.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(code) = *known {
                return Ok(Some(code));
            }
            let handle = match ProcessHandle::open(pid) {
                Ok(h) => h,
                Err(e) if e.code() == ErrorCode::NotFound => {
                    *known = Some(None);
                    return Ok(Some(None));
                }
                Err(e) => return Err(e),
            };
            if handle.verify(identity)? != IdentityCheck::Same {
                *known = Some(None);
                return Ok(Some(None));
            }
            let r = handle.wait(limit)?;
            if !r.exited {
                return Ok(None);
            }
            let code = match (r.exit_code, r.signal) {
                (Some(c), _) => Some(i64::from(c)),
                (None, Some(s)) => Some(-i64::from(s)),
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
        // Pin the process while its fds are read, then check it is still the stored one.
        let dir = self.proc_dir(py)?;
        let pid = self.pid;
        let snapshot = py
            .detach(|| sysprims::list_fds(pid, &FdFilter { kinds }))
            .map_err(|e| error(py, e))?;
        drop(dir);
        self.proc_dir(py)?;
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
