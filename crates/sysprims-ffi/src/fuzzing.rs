//! Entry points for the C ABI fuzz targets under `fuzz/` and for the corpus replay test.
//!
//! Each function takes arbitrary bytes as the JSON argument of one exported function, passes
//! them as C would (NUL-terminated: cut at the first NUL), and asserts what the ABI promises
//! for any input:
//!
//! - the return code is `SYSPRIMS_OK` or a documented `SYSPRIMS_ERR_*`, never
//!   `SYSPRIMS_ERR_INTERNAL` (a panic or a bug);
//! - on success `*out_json` is a JSON object with a `schema_id` (or, for the status documents,
//!   a `status`), and the last error is clear;
//! - on error `*out_json` is NULL, `sysprims_last_error_code` is the code returned, and
//!   `sysprims_last_error_json` is valid JSON with exactly the documented fields `code` (the
//!   code's name) and `message` (the text of `sysprims_last_error_message`), of bounded size.
//!
//! Random input never starts, signals or waits for a real process: functions that act are
//! called so that they cannot (signal 0, which only probes; a PID no process can have, above
//! the kernel's `PID_MAX_LIMIT`), and those that start processes or block (spawn, timeout,
//! listings with CPU sampling) are fuzzed up to the point where they would act: the same
//! parsing and validation, through the same error boundary.
//!
//! Not part of the API: compiled only for this crate's tests and with the `fuzzing` feature.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use sysprims::{
    ErrorCode, PortFilter, SnapshotOptions, SpawnInGroupConfig, SysprimsError, TimeoutRequest,
};

use crate::boundary::{call, read_json, read_json_or_default};
use crate::*;

/// A PID no process can have: above `PID_MAX_LIMIT` (2^22), yet a valid `pid_t`.
const NO_SUCH_PID: u32 = i32::MAX as u32;

/// The longest error message any input may produce, in bytes. Messages quote the bad value,
/// cut to a few hundred characters: they never grow with the input.
const MAX_MESSAGE_LEN: usize = 4096;

/// The bytes as a C caller can pass them: up to the first NUL.
fn c_text(data: &[u8]) -> CString {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    CString::new(&data[..end]).expect("cut at the first NUL")
}

/// Take and free a string the library returned.
fn take(s: *mut c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from this library, not freed yet.
    let text = unsafe { CStr::from_ptr(s) }
        .to_str()
        .expect("the library returned a string that is not UTF-8")
        .to_string();
    // SAFETY: returned by this library, freed once.
    unsafe { sysprims_free_string(s) };
    Some(text)
}

/// Check what every call promises about its return code, its `*out_json` and the thread's
/// last error.
fn check(function: &str, rc: i32, out: *mut c_char) {
    if rc == SYSPRIMS_OK {
        let text = take(out).unwrap_or_else(|| panic!("{function}: OK with a NULL *out_json"));
        let value: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{function}: the result is not JSON ({e}): {text}"));
        // Every result document has a schema_id, except the two small status documents
        // (IdentityCheck, GuardedSignal: `{"status": "gone"}`), as the header documents them.
        let has = |key: &str| value.get(key).is_some_and(|s| s.is_string());
        assert!(
            has("schema_id") || has("status"),
            "{function}: the result has neither a schema_id nor a status: {text}"
        );
        assert_eq!(
            sysprims_last_error_code(),
            0,
            "{function}: OK, yet an error"
        );
        assert!(sysprims_last_error_json().is_null());
        assert!(sysprims_last_error_message().is_null());
        return;
    }
    let code = ErrorCode::from_i32(rc).unwrap_or_else(|| panic!("{function}: unknown code {rc}"));
    assert!(
        out.is_null(),
        "{function}: error {rc}, yet *out_json was written"
    );
    assert_eq!(
        sysprims_last_error_code(),
        rc,
        "{function}: last error code"
    );
    let message = take(sysprims_last_error_message())
        .unwrap_or_else(|| panic!("{function}: error {rc} without a message"));
    let json = take(sysprims_last_error_json())
        .unwrap_or_else(|| panic!("{function}: error {rc} without its JSON"));
    let report: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{function}: the error JSON is not JSON ({e}): {json}"));
    let fields = report
        .as_object()
        .unwrap_or_else(|| panic!("{function}: the error JSON is not an object: {json}"));
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["code", "message"],
        "{function}: error JSON fields: {json}"
    );
    assert_eq!(
        report["code"],
        serde_json::to_value(code).expect("a code serialises"),
        "{function}: the error JSON's code is not the code returned"
    );
    let json_message = report["message"].as_str().expect("message is a string");
    assert_eq!(
        json_message.replace('\0', "\\0"),
        message,
        "{function}: the error JSON's message is not the message"
    );
    assert!(!message.is_empty(), "{function}: an empty message");
    assert!(
        message.len() <= MAX_MESSAGE_LEN,
        "{function}: a message of {} bytes: {}...",
        message.len(),
        message.chars().take(300).collect::<String>()
    );
    assert_ne!(
        rc, SYSPRIMS_ERR_INTERNAL,
        "{function}: an internal error (a bug): {message}"
    );
}

/// Call `f` with the bytes as its JSON argument and a fresh `*out_json`, and check the result.
fn fuzz_call(function: &str, data: &[u8], f: impl FnOnce(*const c_char, *mut *mut c_char) -> i32) {
    let text = c_text(data);
    // A value no call may leave in *out_json.
    let mut out: *mut c_char = ptr::dangling_mut();
    let rc = f(text.as_ptr(), &mut out);
    check(function, rc, out);
}

/// Run a parse-only stand-in for an exported function through the same error boundary.
fn parse_only(
    function: &'static str,
    data: &[u8],
    body: impl FnOnce(*const c_char) -> sysprims::Result<()>,
) {
    fuzz_call(function, data, |json, out| {
        call(function, || {
            // SAFETY: out is a valid pointer from fuzz_call.
            let out = unsafe { boundary::OutJson::new(out)? };
            body(json)?;
            // What a success would write: a document with a schema_id.
            out.write(&serde_json::json!({ "schema_id": "parse-only" }))
        })
    });
}

/// `sysprims_process_list(options_json)`. Called for real (it only reads `/proc`) when the
/// options name at most 64 PIDs and sample CPU for at most 5 ms; otherwise parsed and validated
/// as it does before reading anything.
pub fn process_list(data: &[u8]) {
    let cheap = std::str::from_utf8(c_text(data).as_bytes())
        .ok()
        .and_then(|text| serde_json::from_str::<SnapshotOptions>(text).ok())
        .is_none_or(|o| {
            o.filter.pids.is_some_and(|p| p.len() <= 64) && o.cpu_sample_ms.is_none_or(|ms| ms <= 5)
        });
    if cheap {
        // SAFETY: valid pointers from fuzz_call.
        fuzz_call("sysprims_process_list", data, |json, out| unsafe {
            sysprims_process_list(json, out)
        });
    } else {
        parse_only("sysprims_process_list", data, |json| {
            // SAFETY: a NUL-terminated string from fuzz_call.
            let options: SnapshotOptions = unsafe { read_json_or_default("options_json", json)? };
            options.filter.validate()?;
            if options.cpu_sample_ms == Some(0) {
                return Err(SysprimsError::invalid(
                    "CPU sampling interval",
                    "0",
                    "must be at least 1 ms",
                ));
            }
            Ok(())
        });
    }
}

/// `sysprims_identity_verify(identity_json)`: read-only, called for real.
pub fn identity_verify(data: &[u8]) {
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_identity_verify", data, |json, out| unsafe {
        sysprims_identity_verify(json, out)
    });
}

/// `sysprims_signal_guarded(identity_json, 0)`: signal 0 only checks, so it is called for real.
pub fn signal_guarded(data: &[u8]) {
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_signal_guarded", data, |json, out| unsafe {
        sysprims_signal_guarded(json, 0, out)
    });
}

/// `sysprims_signal_batch(pids_json, 0)`: signal 0 only checks, so it is called for real.
pub fn signal_batch(data: &[u8]) {
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_signal_batch", data, |json, out| unsafe {
        sysprims_signal_batch(json, 0, out)
    });
}

/// `sysprims_terminate_tree(NO_SUCH_PID, config_json)`: called for real, on a PID no process
/// can have (the config is read and checked first; then NotFound).
pub fn terminate_tree(data: &[u8]) {
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_terminate_tree", data, |json, out| unsafe {
        sysprims_terminate_tree(NO_SUCH_PID, json, out)
    });
}

/// `sysprims_kill_descendants(NO_SUCH_PID, SIGTERM, options_json)`: called for real, on a PID
/// no process can have (the options and filter are checked first; then NotFound).
pub fn kill_descendants(data: &[u8]) {
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_kill_descendants", data, |json, out| unsafe {
        sysprims_kill_descendants(NO_SUCH_PID, 15, json, out)
    });
}

/// `sysprims_fds(<this process>, filter_json)`: read-only, called for real on the fuzzer's own
/// process.
pub fn fds(data: &[u8]) {
    let me = std::process::id();
    // SAFETY: valid pointers from fuzz_call.
    fuzz_call("sysprims_fds", data, |json, out| unsafe {
        sysprims_fds(me, json, out)
    });
}

/// `sysprims_ports(filter_json)`: parsed and validated as it does before reading every socket
/// and process of the machine (too slow to call per input).
pub fn ports(data: &[u8]) {
    parse_only("sysprims_ports", data, |json| {
        // SAFETY: a NUL-terminated string from fuzz_call.
        let filter: PortFilter = unsafe { read_json_or_default("filter_json", json)? };
        filter.validate()
    });
}

/// `sysprims_spawn_in_group(config_json)`: parsed and validated as it does before starting
/// anything.
pub fn spawn_in_group(data: &[u8]) {
    parse_only("sysprims_spawn_in_group", data, |json| {
        // SAFETY: a NUL-terminated string from fuzz_call.
        let config: SpawnInGroupConfig = unsafe { read_json("config_json", json)? };
        sysprims::fuzzing::validate_spawn(&config)
    });
}

/// `sysprims_timeout_run(request_json)`: parsed and validated as it does before starting
/// anything.
pub fn timeout_run(data: &[u8]) {
    parse_only("sysprims_timeout_run", data, |json| {
        // SAFETY: a NUL-terminated string from fuzz_call.
        let request: TimeoutRequest = unsafe { read_json("request_json", json)? };
        sysprims::fuzzing::validate_timeout(&request)
    });
}

#[cfg(test)]
mod tests {
    //! The corpus replay: every seed and regression file under `fuzz/corpus/<target>/` fed to
    //! its target, so that `cargo test` catches a regression the fuzzer once found.

    use sysprims::fuzzing::replay;

    #[test]
    fn corpus_ffi_process_list() {
        replay("ffi_process_list", super::process_list);
    }

    #[test]
    fn corpus_ffi_identity_verify() {
        replay("ffi_identity_verify", super::identity_verify);
    }

    #[test]
    fn corpus_ffi_signal_guarded() {
        replay("ffi_signal_guarded", super::signal_guarded);
    }

    #[test]
    fn corpus_ffi_signal_batch() {
        replay("ffi_signal_batch", super::signal_batch);
    }

    #[test]
    fn corpus_ffi_terminate_tree() {
        replay("ffi_terminate_tree", super::terminate_tree);
    }

    #[test]
    fn corpus_ffi_kill_descendants() {
        replay("ffi_kill_descendants", super::kill_descendants);
    }

    #[test]
    fn corpus_ffi_fds() {
        replay("ffi_fds", super::fds);
    }

    #[test]
    fn corpus_ffi_ports() {
        replay("ffi_ports", super::ports);
    }

    #[test]
    fn corpus_ffi_spawn_in_group() {
        replay("ffi_spawn_in_group", super::spawn_in_group);
    }

    #[test]
    fn corpus_ffi_timeout_run() {
        replay("ffi_timeout_run", super::timeout_run);
    }
}
