//! Conversions between Python values and the library's types: errors to the psutil-named
//! exceptions, results (serde types) to plain dicts and lists, and checked arguments.

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use sysprims::{ErrorCode, Signal, SysprimsError};

/// The exception for a library error: `ValueError` for bad input, the psutil-named classes of
/// `sysprims._errors` for the rest, each with `pid`, `code` and `msg`.
pub fn error(py: Python<'_>, e: SysprimsError) -> PyErr {
    let message = e.to_string();
    let class = match e.code() {
        ErrorCode::InvalidArgument => return PyValueError::new_err(message),
        ErrorCode::NotFound => "NoSuchProcess",
        ErrorCode::PermissionDenied => "AccessDenied",
        ErrorCode::Timeout => "TimeoutExpired",
        _ => "Error",
    };
    raise(py, class, e.pid(), e.code().name(), &message)
}

/// An exception of class `class` of `sysprims._errors`, built with keyword arguments.
pub fn raise(py: Python<'_>, class: &str, pid: Option<u32>, code: &str, msg: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("sysprims._errors")?.getattr(class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("pid", pid)?;
        kwargs.set_item("code", code)?;
        kwargs.set_item("msg", msg)?;
        let exc = cls.call((), Some(&kwargs))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `NoSuchProcess` for a stored process that has exited or whose PID another process now has.
pub fn gone(py: Python<'_>, pid: u32, why: &str) -> PyErr {
    raise(
        py,
        "NoSuchProcess",
        Some(pid),
        ErrorCode::NotFound.name(),
        &format!("process {pid} no longer exists ({why})"),
    )
}

/// A serde value as Python objects: maps are dicts, sequences lists, numbers int or float.
pub fn to_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| PyValueError::new_err(format!("cannot convert a result: {e}")))?;
    json_to_py(py, &json)
}

fn json_to_py(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// A PID argument: `ValueError` naming it unless it is 1..=2147483647.
pub fn pid_arg(pid: i64) -> PyResult<u32> {
    if (1..=i64::from(i32::MAX)).contains(&pid) {
        Ok(pid as u32)
    } else {
        Err(PyValueError::new_err(format!(
            "invalid PID {pid}: a PID is an integer from 1 to 2147483647"
        )))
    }
}

/// A duration in seconds (`None` passes through): `ValueError` naming a negative, NaN or
/// infinite value.
pub fn seconds_arg(what: &str, seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if (0.0..1e12).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(PyValueError::new_err(format!(
            "invalid {what} {s}: it must be a non-negative, finite number of seconds"
        ))),
    }
}

/// The number Python sees for sysprims's signal number `number`: the platform's own, as the
/// `signal` module has it (unchanged for a number that is no signal, or one the platform
/// lacks). Results that are serde documents convert in the library's serde already.
pub fn native_signal(number: i32) -> i32 {
    Signal::new(number)
        .ok()
        .and_then(Signal::native_number)
        .unwrap_or(number)
}

/// Milliseconds of a duration argument in seconds, with a default.
pub fn millis_arg(what: &str, seconds: Option<f64>, default_ms: u64) -> PyResult<u64> {
    Ok(seconds_arg(what, seconds)?.map_or(default_ms, |d| d.as_millis() as u64))
}

/// A signal given as a number, the platform's own (`15`, `signal.SIGUSR1`: 10 on Linux, 30
/// on macOS), or a portable name (`"TERM"`, `"SIGTERM"`).
pub fn signal_arg(value: &Bound<'_, PyAny>) -> PyResult<Signal> {
    let parsed = if let Ok(number) = value.extract::<i64>() {
        let number = i32::try_from(number).map_err(|_| {
            PyValueError::new_err(format!("invalid signal {number}: not a signal number"))
        })?;
        Signal::from_native(number)
    } else if let Ok(name) = value.extract::<String>() {
        Signal::parse(&name)
    } else {
        return Err(PyTypeError::new_err(format!(
            "a signal is an int or a str, not {}",
            value.get_type().name()?
        )));
    };
    parsed.map_err(|e| PyValueError::new_err(e.to_string()))
}
