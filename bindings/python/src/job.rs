//! `Job`: a job started by `spawn_in_group`, ended whole when its `with` block is left.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sysprims::{
    Containment, ErrorCode, Signal, SpawnInGroupConfig, SpawnInGroupResult, StdioConfig,
    TerminateTreeConfig,
};

use crate::convert::{error, millis_arg, seconds_arg, signal_arg, to_py};

/// Where a standard stream goes: `None` or `"inherit"`, `"null"` (or `subprocess.DEVNULL`),
/// or a path (`str` or `os.PathLike`) to a file, truncated.
pub fn stdio_arg(what: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<StdioConfig> {
    let Some(value) = value else {
        return Ok(StdioConfig::Inherit);
    };
    if value.is_none() {
        return Ok(StdioConfig::Inherit);
    }
    if let Ok(n) = value.extract::<i64>() {
        // subprocess.DEVNULL is -3.
        if n == -3 {
            return Ok(StdioConfig::Null);
        }
        return Err(PyValueError::new_err(format!(
            "invalid {what} {n}: expected None, \"inherit\", \"null\", subprocess.DEVNULL or a path"
        )));
    }
    if let Ok(s) = value.extract::<String>() {
        return Ok(match s.as_str() {
            "inherit" => StdioConfig::Inherit,
            "null" => StdioConfig::Null,
            "" => {
                return Err(PyValueError::new_err(format!(
                    "invalid {what} \"\": expected None, \"inherit\", \"null\" or a path"
                )));
            }
            _ => StdioConfig::File {
                path: PathBuf::from(s),
                append: false,
            },
        });
    }
    if let Ok(path) = value.extract::<PathBuf>() {
        return Ok(StdioConfig::File {
            path,
            append: false,
        });
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be None, a str or a path, not {}",
        value.get_type().name()?
    )))
}

/// `containment`: `"auto"`, `"cgroup"` or `"process_group"`.
pub fn containment_arg(value: &str) -> PyResult<Containment> {
    match value {
        "auto" => Ok(Containment::Auto),
        "cgroup" => Ok(Containment::Cgroup),
        "process_group" => Ok(Containment::ProcessGroup),
        other => Err(PyValueError::new_err(format!(
            "invalid containment {other:?}: expected \"auto\", \"cgroup\" or \"process_group\""
        ))),
    }
}

/// `argv`: a non-empty list of strings.
pub fn argv_arg(argv: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if argv.extract::<String>().is_ok() {
        return Err(PyTypeError::new_err(
            "argv must be a list of strings (the program first), not a str",
        ));
    }
    let argv: Vec<String> = argv
        .extract()
        .map_err(|_| PyTypeError::new_err("argv must be a list of strings"))?;
    if argv.is_empty() {
        return Err(PyValueError::new_err(
            "invalid argv []: it must name the program to run",
        ));
    }
    Ok(argv)
}

/// A terminate config from the keyword arguments.
pub fn terminate_config(
    signal: Option<&Bound<'_, PyAny>>,
    grace: Option<f64>,
    kill_signal: Option<&Bound<'_, PyAny>>,
    kill_after: Option<f64>,
) -> PyResult<TerminateTreeConfig> {
    let defaults = TerminateTreeConfig::default();
    Ok(TerminateTreeConfig {
        signal: signal.map(signal_arg).transpose()?.unwrap_or(Signal::TERM),
        grace_timeout_ms: millis_arg("grace", grace, defaults.grace_timeout_ms)?,
        kill_signal: kill_signal
            .map(signal_arg)
            .transpose()?
            .unwrap_or(Signal::KILL),
        kill_timeout_ms: millis_arg("kill_after", kill_after, defaults.kill_timeout_ms)?,
        ..defaults
    })
}

/// A job: its first process, its process group and, where a cgroup v2 subtree is writable,
/// its cgroup. Use it as a context manager: leaving the `with` block ends the whole tree
/// (`terminate()`), whatever the processes did with `setsid` or double forks when the job
/// has a cgroup. A job that is garbage-collected without having been ended is killed.
#[pyclass(module = "sysprims._sysprims", frozen)]
pub struct Job {
    inner: Mutex<sysprims::Job>,
    result: SpawnInGroupResult,
    /// A pidfd of our own on the first process, to wait for its exit without holding
    /// `inner` (so another thread can end the job meanwhile).
    pidfd: Option<OwnedFd>,
    exit_grace_ms: u64,
    exit: Mutex<Option<Option<i64>>>,
}

impl Job {
    /// Wait for the first process's exit, up to `limit`, without reaping it.
    fn wait_exit(&self, limit: Option<Duration>) -> bool {
        let Some(fd) = &self.pidfd else {
            return false;
        };
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let deadline = limit.and_then(|l| Instant::now().checked_add(l));
        loop {
            let timeout = deadline.map(|d| {
                let left = d.saturating_duration_since(Instant::now());
                Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                }
            });
            let mut fds = [PollFd::new(fd, PollFlags::IN)];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(n) if n > 0 => return true,
                Ok(_) => return false,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return false,
            }
        }
    }
}

#[pymethods]
impl Job {
    /// The first process's PID.
    #[getter]
    fn pid(&self) -> u32 {
        self.result.pid
    }

    /// The job's process group ID.
    #[getter]
    fn pgid(&self) -> Option<u32> {
        self.result.pgid
    }

    /// The job's cgroup directory, or `None` when it is held by its process group only.
    #[getter]
    fn cgroup(&self) -> Option<String> {
        self.result
            .cgroup
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// `"cgroup_v2"` or `"process_group"`.
    #[getter]
    fn containment(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.result.containment)
    }

    /// `"guaranteed"` (a cgroup holds every process of the job) or `"best_effort"`.
    #[getter]
    fn tree_kill_reliability(&self) -> &'static str {
        self.result.tree_kill_reliability.as_str()
    }

    /// Why the job is held less strongly than asked, and anything else worth logging.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.result.warnings.clone()
    }

    /// The first process's identity, as a dict (see `Process.identity`).
    fn identity(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.result.identity)
    }

    /// The spawn result as a dict (`pid`, `pgid`, `identity`, `containment`, `cgroup`,
    /// `tree_kill_reliability`, `warnings`).
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.result)
    }

    /// Wait for the first process to exit (`timeout` in seconds, `None`: no limit) and reap
    /// it. Returns its exit code, or minus the signal that killed it. Raises
    /// `TimeoutExpired` when the timeout passes first. Other threads may end the job
    /// meanwhile.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<i64>> {
        let limit = seconds_arg("timeout", timeout)?;
        if let Some(code) = *self.exit.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(code);
        }
        let outcome = py.detach(|| -> sysprims::Result<Option<Option<i64>>> {
            let exited = self.pidfd.is_none() || self.wait_exit(limit);
            if !exited {
                return Ok(None);
            }
            let mut known = self.exit.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(code) = *known {
                return Ok(Some(code));
            }
            let mut job = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            let wait_for = if self.pidfd.is_none() {
                limit
            } else {
                Some(Duration::ZERO)
            };
            let r = match job.wait(wait_for) {
                Ok(r) => r,
                // Reaped by a terminate() in another thread: its status went with it.
                Err(e) if e.code() == ErrorCode::NotFound => {
                    *known = Some(None);
                    return Ok(Some(None));
                }
                Err(e) => return Err(e),
            };
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
                kwargs.set_item("pid", self.result.pid)?;
                Err(PyErr::from_value(cls.call((timeout,), Some(&kwargs))?))
            }
        }
    }

    /// Whether the first process has not exited yet.
    fn is_running(&self, py: Python<'_>) -> bool {
        if self
            .exit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return false;
        }
        !py.detach(|| self.wait_exit(Some(Duration::ZERO)))
    }

    /// End the whole job: `signal` (default `SIGTERM`) to every process of it, `grace`
    /// seconds (default 5) for them to exit, then `kill_signal` (default `SIGKILL`) and up to
    /// `kill_after` seconds (default 2). Returns the result as a dict (`exited`,
    /// `escalated`, `survivors`, `signalled`, `tree_kill_reliability`, `warnings`, ...).
    #[pyo3(signature = (*, signal = None, grace = None, kill_signal = None, kill_after = None))]
    fn terminate(
        &self,
        py: Python<'_>,
        signal: Option<&Bound<'_, PyAny>>,
        grace: Option<f64>,
        kill_signal: Option<&Bound<'_, PyAny>>,
        kill_after: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let config = terminate_config(signal, grace, kill_signal, kill_after)?;
        let result = py
            .detach(|| {
                let mut job = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                job.terminate(&config)
            })
            .map_err(|e| error(py, e))?;
        to_py(py, &result)
    }

    /// End the whole job at once with `SIGKILL`. Returns the result as `terminate()` does.
    fn kill(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let result = py
            .detach(|| {
                let mut job = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                job.kill()
            })
            .map_err(|e| error(py, e))?;
        to_py(py, &result)
    }

    /// The job itself: `with spawn_in_group([...]) as job:`.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Leaving the `with` block ends the whole job (`terminate()` with the `grace` given to
    /// `spawn_in_group`). A job whose first process was already reaped and that has no
    /// cgroup cannot be reached safely any more, and is left alone.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        let config = TerminateTreeConfig {
            grace_timeout_ms: self.exit_grace_ms,
            ..TerminateTreeConfig::default()
        };
        match py.detach(|| {
            let mut job = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            job.terminate(&config)
        }) {
            Ok(_) => Ok(false),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
            Err(e) => Err(error(py, e)),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "sysprims.Job(pid={}, containment={:?}, tree_kill_reliability={:?})",
            self.result.pid,
            match self.result.containment {
                sysprims::ContainmentKind::CgroupV2 => "cgroup_v2",
                _ => "process_group",
            },
            self.result.tree_kill_reliability.as_str()
        )
    }
}

/// Start `argv` as a job of its own (process group, and cgroup where one can be made).
#[pyfunction]
#[pyo3(signature = (argv, *, cwd = None, env = None, env_clear = false, stdin = None,
    stdout = None, stderr = None, containment = "auto", kill_on_parent_death = false,
    grace = 5.0))]
#[allow(clippy::too_many_arguments)]
pub fn spawn_in_group(
    py: Python<'_>,
    argv: &Bound<'_, PyAny>,
    cwd: Option<PathBuf>,
    env: Option<BTreeMap<String, String>>,
    env_clear: bool,
    stdin: Option<&Bound<'_, PyAny>>,
    stdout: Option<&Bound<'_, PyAny>>,
    stderr: Option<&Bound<'_, PyAny>>,
    containment: &str,
    kill_on_parent_death: bool,
    grace: f64,
) -> PyResult<Job> {
    let config = SpawnInGroupConfig {
        argv: argv_arg(argv)?,
        cwd,
        env: env.unwrap_or_default(),
        env_clear,
        stdin: stdio_arg("stdin", stdin)?,
        stdout: stdio_arg("stdout", stdout)?,
        stderr: stdio_arg("stderr", stderr)?,
        containment: containment_arg(containment)?,
        kill_on_parent_death,
        ..SpawnInGroupConfig::default()
    };
    let exit_grace_ms = millis_arg("grace", Some(grace), 5_000)?;
    let (job, pidfd) = py
        .detach(|| -> sysprims::Result<_> {
            let job = sysprims::Job::spawn(&config)?.kill_on_drop(true);
            // Our unreaped child: the PID is still its own.
            let pidfd = rustix::process::Pid::from_raw(job.pid() as i32).and_then(|pid| {
                rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
            });
            Ok((job, pidfd))
        })
        .map_err(|e| error(py, e))?;
    Ok(Job {
        result: job.result().clone(),
        inner: Mutex::new(job),
        pidfd,
        exit_grace_ms,
        exit: Mutex::new(None),
    })
}
