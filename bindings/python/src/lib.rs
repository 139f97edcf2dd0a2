//! Python binding of sysprims: the `sysprims._sysprims` extension module, which the
//! `sysprims` Python package re-exports (with the psutil-style wrappers written in Python).
//!
//! Every call that blocks or reads `/proc` releases the GIL; every class is `frozen` (no
//! mutable state outside mutexes), so calls are safe from many threads.
#![deny(unsafe_code)]

mod convert;
mod job;
mod process;
mod procfs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use sysprims::{ErrorCode, PortFilter, Protocol, TimeoutConfig};

use convert::{error, millis_arg, pid_arg, seconds_arg, signal_arg, to_py};

/// Every PID, ascending.
#[pyfunction]
fn pids(py: Python<'_>) -> PyResult<Vec<u32>> {
    py.detach(procfs::pids).map_err(|e| {
        convert::raise(
            py,
            "Error",
            None,
            ErrorCode::System.name(),
            &format!("cannot list /proc: {e}"),
        )
    })
}

/// Whether a process has this PID now (a zombie counts). `ValueError` for a PID outside
/// 1..2147483647.
#[pyfunction]
fn pid_exists(py: Python<'_>, pid: i64) -> PyResult<bool> {
    let pid = pid_arg(pid)?;
    match py.detach(|| sysprims::ProcessHandle::open(pid)) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
        Err(e) => Err(error(py, e)),
    }
}

/// Listening TCP sockets and bound UDP sockets, each a dict (`protocol`, `family`,
/// `local_address`, `local_port`, `state`, `inode`, `uid`, and `processes`: every process
/// that holds it, with `pid`, `name`, `uid`, `user`, `fds`). `protocol` is `"tcp"` or
/// `"udp"` (`None`: both); `port` and `pid` narrow the list.
#[pyfunction]
#[pyo3(signature = (protocol = None, port = None, pid = None))]
fn listening_ports(
    py: Python<'_>,
    protocol: Option<&str>,
    port: Option<i64>,
    pid: Option<i64>,
) -> PyResult<Py<PyAny>> {
    let protocol = match protocol {
        None => None,
        Some("tcp") => Some(Protocol::Tcp),
        Some("udp") => Some(Protocol::Udp),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "invalid protocol {other:?}: expected \"tcp\", \"udp\" or None"
            )));
        }
    };
    let port = match port {
        None => None,
        Some(p) if (1..=65535).contains(&p) => Some(p as u16),
        Some(p) => {
            return Err(PyValueError::new_err(format!(
                "invalid port {p}: a port is from 1 to 65535"
            )));
        }
    };
    let pid = pid
        .map(pid_arg)
        .transpose()?
        .map(sysprims::Pid::new)
        .transpose()
        .map_err(|e| error(py, e))?;
    let filter = PortFilter {
        protocol,
        port,
        pid,
    };
    let found = py
        .detach(|| sysprims::listening_ports(&filter))
        .map_err(|e| error(py, e))?;
    to_py(py, &found.bindings)
}

/// End `pid` and every process it started: `signal` (default `SIGTERM`) to the tree, `grace`
/// seconds (default 5) to exit, then `kill_signal` (default `SIGKILL`) and up to `kill_after`
/// seconds (default 2). Returns the result as a dict (`exited`, `escalated`, `survivors`,
/// `signalled`, `tree_kill_reliability`, `warnings`, ...). With `create_time` (seconds, as
/// `Process.create_time()`), nothing is signalled unless the process at `pid` started then.
#[pyfunction]
#[pyo3(signature = (pid, *, grace = None, kill_after = None, signal = None, kill_signal = None,
    create_time = None))]
fn terminate_tree(
    py: Python<'_>,
    pid: i64,
    grace: Option<f64>,
    kill_after: Option<f64>,
    signal: Option<&Bound<'_, PyAny>>,
    kill_signal: Option<&Bound<'_, PyAny>>,
    create_time: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let pid = pid_arg(pid)?;
    let mut config = job::terminate_config(signal, grace, kill_signal, kill_after)?;
    config.require_start_time_ms = match create_time {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some((t * 1000.0).round() as u64),
        Some(t) => {
            return Err(PyValueError::new_err(format!(
                "invalid create_time {t}: expected seconds since the epoch"
            )));
        }
    };
    let result = py
        .detach(|| sysprims::terminate_tree(pid, &config))
        .map_err(|e| error(py, e))?;
    to_py(py, &result)
}

/// Run `argv` as a job of its own and wait for it, for at most `timeout` seconds; then send
/// `signal` (default `SIGTERM`) to the whole job and, after `kill_after` seconds if given,
/// `SIGKILL`. Returns a dict: `outcome` (`"completed"` or `"timed_out"`), `exit_code`,
/// `signal`, `escalated`, `pid`, `containment`, `leftovers_ended`, `survivors`,
/// `elapsed_ms`, `warnings`, ... With `cleanup`, processes the command left running are
/// ended after it exits.
#[pyfunction]
#[pyo3(signature = (argv, timeout, *, signal = None, kill_after = None, cwd = None, env = None,
    env_clear = false, stdin = None, stdout = None, stderr = None, containment = "auto",
    cleanup = false, preserve_status = false))]
#[allow(clippy::too_many_arguments)]
fn run_with_timeout(
    py: Python<'_>,
    argv: &Bound<'_, PyAny>,
    timeout: f64,
    signal: Option<&Bound<'_, PyAny>>,
    kill_after: Option<f64>,
    cwd: Option<PathBuf>,
    env: Option<BTreeMap<String, String>>,
    env_clear: bool,
    stdin: Option<&Bound<'_, PyAny>>,
    stdout: Option<&Bound<'_, PyAny>>,
    stderr: Option<&Bound<'_, PyAny>>,
    containment: &str,
    cleanup: bool,
    preserve_status: bool,
) -> PyResult<Py<PyAny>> {
    let argv = job::argv_arg(argv)?;
    let limit = seconds_arg("timeout", Some(timeout))?.unwrap_or(Duration::ZERO);
    let config = TimeoutConfig {
        signal: signal
            .map(signal_arg)
            .transpose()?
            .unwrap_or(sysprims::Signal::TERM),
        kill_after_ms: match kill_after {
            None => None,
            some => Some(millis_arg("kill_after", some, 0)?),
        },
        containment: job::containment_arg(containment)?,
        cwd,
        env: env.unwrap_or_default(),
        env_clear,
        stdin: job::stdio_arg("stdin", stdin)?,
        stdout: job::stdio_arg("stdout", stdout)?,
        stderr: job::stdio_arg("stderr", stderr)?,
        cleanup,
        preserve_status,
        ..TimeoutConfig::default()
    };
    let outcome = py
        .detach(|| sysprims::run_with_timeout(&argv[0], &argv[1..], limit, &config))
        .map_err(|e| error(py, e))?;
    to_py(py, &outcome)
}

/// The extension module.
#[pymodule]
fn _sysprims(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<process::Process>()?;
    m.add_class::<job::Job>()?;
    m.add_function(wrap_pyfunction!(process::_list, m)?)?;
    m.add_function(wrap_pyfunction!(pids, m)?)?;
    m.add_function(wrap_pyfunction!(pid_exists, m)?)?;
    m.add_function(wrap_pyfunction!(listening_ports, m)?)?;
    m.add_function(wrap_pyfunction!(terminate_tree, m)?)?;
    m.add_function(wrap_pyfunction!(run_with_timeout, m)?)?;
    m.add_function(wrap_pyfunction!(job::spawn_in_group, m)?)?;
    Ok(())
}
