//! # sysprims-ffi
//!
//! The C ABI of [`sysprims`]: every primitive as an `extern "C"` function that takes
//! plain numbers and JSON strings and returns an error code, with results as JSON. The header
//! `include/sysprims.h` is generated from this crate by cbindgen, and a test fails when the
//! committed header is stale.
//!
//! ## Conventions
//!
//! - Every fallible function returns `int32_t`: [`SYSPRIMS_OK`] (0) or one of the library's
//!   stable error codes (`SYSPRIMS_ERR_*`).
//! - Results are JSON documents (the library's own serde output, with their `schema_id`)
//!   written to `char **out_json`. The caller owns the string and frees it with
//!   [`sysprims_free_string`]. On error `*out_json` is NULL. A NULL `out_json` is
//!   InvalidArgument.
//! - On error the calling thread's last error is set ([`sysprims_last_error_code`],
//!   [`sysprims_last_error_message`], [`sysprims_last_error_json`]); on success it is
//!   cleared.
//! - Input JSON is NUL-terminated UTF-8. For optional configs NULL means the defaults.
//!   Invalid UTF-8, malformed JSON, unknown keys and wrong types are InvalidArgument, with a
//!   message naming the argument and the problem.
//! - PIDs are `uint32_t`, validated before any system call: 0 and values above `INT32_MAX`
//!   are InvalidArgument. Timeouts are `int64_t` milliseconds; negative means no timeout.
//! - Signals are `int32_t` numbers, and every signal number that crosses this ABI, in an
//!   argument or in a JSON document either way, is the platform's native number, the one the
//!   caller's `<signal.h>` defines (`SIGUSR1` is 10 on Linux and 30 on macOS; `SIGSTOP` 19
//!   and 17). Names (`"TERM"`, `"SIGUSR1"`) in JSON input are portable. A signal the platform
//!   lacks (on macOS `PWR`, `STKFLT` and the real-time signals) cannot be given by number, and
//!   a result that names one writes its name instead of a number.
//! - Every entry point runs under `catch_unwind`: a panic becomes
//!   [`SYSPRIMS_ERR_INTERNAL`], never an unwind into C or an abort.
//! - All functions may be called from any number of threads at once.
#![warn(missing_docs)]

mod boundary;
#[cfg(all(target_os = "linux", any(test, feature = "fuzzing")))]
#[doc(hidden)]
pub mod fuzzing;

use std::ffi::{CStr, c_char};
use std::time::Duration;

use boundary::{
    OutJson, call, call_infallible, null_argument, read_json, read_json_array, read_json_or_default,
};
use sysprims::{
    CancelToken, FdFilter, KillDescendantsOptions, PortFilter, ProcessIdentity, Signal,
    SnapshotOptions, SpawnInGroupConfig, TerminateTreeConfig, TimeoutRequest,
};

/// The version of this ABI. It changes only when an existing function's signature or
/// meaning changes incompatibly (adding functions does not change it). Compare it with
/// [`sysprims_abi_version`] at start-up to detect a header/library mismatch.
pub const SYSPRIMS_ABI_VERSION: u32 = 1;

/// Success.
pub const SYSPRIMS_OK: i32 = 0;
/// A value passed in cannot be used (PID 0, a PID above `INT32_MAX`, a NULL pointer, invalid
/// UTF-8, malformed JSON, an unknown key, a protected target). Nothing was done.
pub const SYSPRIMS_ERR_INVALID_ARGUMENT: i32 = 1;
/// A child process could not be started.
pub const SYSPRIMS_ERR_SPAWN_FAILED: i32 = 2;
/// An operation did not finish within its deadline.
pub const SYSPRIMS_ERR_TIMEOUT: i32 = 3;
/// The caller may not inspect or signal the target.
pub const SYSPRIMS_ERR_PERMISSION_DENIED: i32 = 4;
/// The process (or path) does not exist.
pub const SYSPRIMS_ERR_NOT_FOUND: i32 = 5;
/// The platform or kernel lacks what the operation needs.
pub const SYSPRIMS_ERR_NOT_SUPPORTED: i32 = 6;
/// An operating-system call failed for another reason (the message has the errno).
pub const SYSPRIMS_ERR_SYSTEM: i32 = 8;
/// A bug in sysprims (including a caught panic): please report it.
pub const SYSPRIMS_ERR_INTERNAL: i32 = 99;

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the crate version has a NUL byte"),
    };

/// A timeout in milliseconds as the ABI passes it: negative is no timeout.
fn timeout_from_ms(timeout_ms: i64) -> Option<Duration> {
    u64::try_from(timeout_ms).ok().map(Duration::from_millis)
}

/// A signal number as the ABI passes it, validated: the platform's native number (what the
/// caller's `<signal.h>` says, e.g. `SIGUSR1` is 30 on macOS), converted to sysprims's.
fn signal_from(native: i32) -> sysprims::Result<Signal> {
    Signal::from_native(native)
}

// ---------------------------------------------------------------------------------------
// Version, memory, last error
// ---------------------------------------------------------------------------------------

/// The ABI version of the linked library: [`SYSPRIMS_ABI_VERSION`] of the header it was
/// built with. A program should refuse to run when it differs from the header's.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_abi_version() -> u32 {
    SYSPRIMS_ABI_VERSION
}

/// The library's version (semver), a static NUL-terminated string: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_version() -> *const c_char {
    VERSION.as_ptr()
}

/// Free a string this library returned (`*out_json`, a last-error message or JSON). NULL is
/// fine and does nothing.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not freed yet. Strings from anywhere
/// else (including `malloc`) must not be passed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_free_string(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    call_infallible("sysprims_free_string", || {
        // SAFETY: the caller promises `s` came from CString::into_raw in this library and
        // has not been freed.
        drop(unsafe { std::ffi::CString::from_raw(s) });
    });
}

/// The code of the last call on this thread that can fail: 0 when it succeeded, otherwise
/// the code it returned. (This and the other last-error functions, the version functions and
/// the free functions do not change it.)
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_last_error_code() -> i32 {
    std::panic::catch_unwind(boundary::last_error_code).unwrap_or(SYSPRIMS_ERR_INTERNAL)
}

/// The message of the last error on this thread: a new string the caller frees with
/// [`sysprims_free_string`], or NULL when the last call succeeded. It names the operation
/// and the PID, path or argument involved.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_last_error_message() -> *mut c_char {
    std::panic::catch_unwind(boundary::last_error_message).unwrap_or(std::ptr::null_mut())
}

/// The last error on this thread as JSON (`{"code": "not_found", "message": "..."}`): a new
/// string the caller frees with [`sysprims_free_string`], or NULL when the last call
/// succeeded.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_last_error_json() -> *mut c_char {
    std::panic::catch_unwind(boundary::last_error_json).unwrap_or(std::ptr::null_mut())
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// One process: `*out_json` is a ProcessInfo document (pid, ppid, name, start_time_unix_ms,
/// exe_path, cmdline, ...). Its `pid`, `start_time_unix_ms`, `start_time_boot_ticks`,
/// `boot_id`, `exe_path` and `pidfs_inode` are a ProcessIdentity document's fields, under the
/// same names: store them as the identity to pass to [`sysprims_signal_guarded`],
/// [`sysprims_identity_verify`] or TerminateTreeConfig's `require_identity`, and even a PID
/// reused within the same clock tick is told apart (by `pidfs_inode`, Linux 6.9+).
///
/// Errors: InvalidArgument (PID 0 or above `INT32_MAX`, NULL `out_json`, a thread ID that is
/// not a process's: the message names the process), NotFound,
/// PermissionDenied.
///
/// # Safety
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_process_get(pid: u32, out_json: *mut *mut c_char) -> i32 {
    call("sysprims_process_get", || {
        // SAFETY: the caller's contract for out_json.
        let out = unsafe { OutJson::new(out_json)? };
        out.write(&sysprims::get_process(pid)?)
    })
}

/// Every process, filtered and sorted: `options_json` is a SnapshotOptions document (NULL:
/// all processes, no CPU sampling); `*out_json` is a ProcessSnapshot document.
///
/// Errors: InvalidArgument (bad options JSON or filter, NULL `out_json`), System.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_process_list(
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_process_list", || {
        // SAFETY: the caller's contract for out_json and options_json.
        let out = unsafe { OutJson::new(out_json)? };
        let options: SnapshotOptions =
            unsafe { read_json_or_default("options_json", options_json)? };
        out.write(&sysprims::snapshot(&options)?)
    })
}

/// A process and its descendants, at most `max_levels` below it (1: its children only;
/// negative: all levels): `*out_json` is a ProcessTree document.
///
/// Errors: InvalidArgument (invalid PID, `max_levels` 0, NULL `out_json`), NotFound.
///
/// # Safety
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_descendants(
    pid: u32,
    max_levels: i32,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_descendants", || {
        // SAFETY: the caller's contract for out_json.
        let out = unsafe { OutJson::new(out_json)? };
        let levels = u32::try_from(max_levels).ok();
        out.write(&sysprims::descendants(pid, levels)?)
    })
}

/// Whether a stored identity still names the same process: `identity_json` is a
/// ProcessIdentity document (as `identity` in a SpawnInGroupResult, or `{"pid": ...,
/// "start_time_unix_ms": ..., "exe_path": ...}`); `*out_json` is an IdentityCheck document
/// (`{"status": "same"}`, `{"status": "reused", "reason": {...}}` or `{"status": "gone"}`).
///
/// Errors: InvalidArgument (bad JSON, invalid PID, an identity with nothing but a PID),
/// PermissionDenied.
///
/// # Safety
/// `identity_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_identity_verify(
    identity_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_identity_verify", || {
        // SAFETY: the caller's contract for out_json and identity_json.
        let out = unsafe { OutJson::new(out_json)? };
        let identity: ProcessIdentity = unsafe { read_json("identity_json", identity_json)? };
        out.write(&sysprims::verify_identity(&identity)?)
    })
}

// ---------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------

/// Send `signal` (the platform's native number, as `<signal.h>` defines it) to one process
/// (`kill(2)`; 0 probes for existence). PID 1, the caller and the caller's own process group
/// are refused for any signal but 0.
///
/// Errors: InvalidArgument (invalid PID or signal, protected target, a thread ID that is not
/// a process's: kill(2) would signal its whole process, so nothing is sent), NotFound,
/// PermissionDenied.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_signal_send(pid: u32, signal: i32) -> i32 {
    call("sysprims_signal_send", || {
        sysprims::kill(pid, signal_from(signal)?)
    })
}

/// Send `signal` to a process group (`killpg(2)`). Group 1 and the caller's own group are
/// refused for any signal but 0.
///
/// Errors: InvalidArgument (invalid group ID or signal, protected group), NotFound,
/// PermissionDenied.
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_signal_group(pgid: u32, signal: i32) -> i32 {
    call("sysprims_signal_group", || {
        sysprims::killpg(pgid, signal_from(signal)?)
    })
}

/// Send `signal` to each PID of `pids_json` (a JSON array of numbers): `*out_json` is a
/// KillReport document with one outcome per PID. Every PID is validated first: one invalid
/// PID is InvalidArgument and nothing is sent to any.
///
/// Errors: InvalidArgument (bad JSON, an invalid PID, invalid signal, NULL argument).
///
/// # Safety
/// `pids_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_signal_batch(
    pids_json: *const c_char,
    signal: i32,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_signal_batch", || {
        // SAFETY: the caller's contract for out_json and pids_json.
        let out = unsafe { OutJson::new(out_json)? };
        let pids: Vec<i64> = unsafe { read_json_array("pids_json", pids_json)? };
        let signal = signal_from(signal)?;
        out.write(&sysprims::kill_many(pids, signal)?)
    })
}

/// Send `signal` to the process `identity_json` (a ProcessIdentity document) names, and to no
/// other: through a pidfd, after checking the identity. `*out_json` is a GuardedSignal
/// document (`{"status": "signalled", "warnings": [...]}`, `{"status": "reused", ...}` or
/// `{"status": "gone"}`); only "signalled" sent anything.
///
/// Errors: InvalidArgument (bad JSON, invalid PID or signal, protected target, an identity
/// with nothing but a PID), PermissionDenied.
///
/// # Safety
/// `identity_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_signal_guarded(
    identity_json: *const c_char,
    signal: i32,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_signal_guarded", || {
        // SAFETY: the caller's contract for out_json and identity_json.
        let out = unsafe { OutJson::new(out_json)? };
        let identity: ProcessIdentity = unsafe { read_json("identity_json", identity_json)? };
        let signal = signal_from(signal)?;
        out.write(&sysprims::signal_if(&identity, signal)?)
    })
}

// ---------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------

/// Start a job in a process group (and, where a cgroup v2 subtree is writable, a cgroup) of
/// its own and return at once: `config_json` is a SpawnInGroupConfig document (`{"argv":
/// [...], "cwd": ..., "env": {...}, ...}`); `*out_json` is a SpawnInGroupResult document
/// (pid, pgid, identity, tree_kill_reliability, containment, cgroup, warnings).
///
/// The job is the caller's child: reap it with [`sysprims_wait_pid`] or end it with
/// [`sysprims_terminate_tree`].
///
/// Errors: InvalidArgument (bad JSON, empty argv), SpawnFailed, NotSupported or
/// PermissionDenied (cgroup containment demanded and unavailable).
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_spawn_in_group(
    config_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_spawn_in_group", || {
        // SAFETY: the caller's contract for out_json and config_json.
        let out = unsafe { OutJson::new(out_json)? };
        let config: SpawnInGroupConfig = unsafe { read_json("config_json", config_json)? };
        out.write(&sysprims::spawn_in_group(&config)?)
    })
}

/// Wait until `pid` ends or `timeout_ms` passes (negative: no limit): `*out_json` is a
/// WaitPidResult document (exited, timed_out, exit_code, signal, warnings). A timeout is not
/// an error. The caller's children are reaped.
///
/// Errors: InvalidArgument (invalid PID, the caller itself), NotFound.
///
/// # Safety
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_wait_pid(
    pid: u32,
    timeout_ms: i64,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_wait_pid", || {
        // SAFETY: the caller's contract for out_json.
        let out = unsafe { OutJson::new(out_json)? };
        out.write(&sysprims::wait_pid(pid, timeout_from_ms(timeout_ms))?)
    })
}

/// End `pid` and every process it started: the graceful signal, a grace period, then the
/// kill signal for anything left. `config_json` is a TerminateTreeConfig document (NULL:
/// TERM, 5000 ms grace, KILL, 2000 ms); `*out_json` is a TerminateTreeResult document
/// (escalated, exited, survivors, tree_kill_reliability, warnings, ...).
///
/// Errors: InvalidArgument (invalid PID, bad JSON, PID 1 or the caller without
/// `allow_protected`), NotFound (no such process, or it fails the config's identity guard:
/// nothing was signalled).
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_terminate_tree(
    pid: u32,
    config_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_terminate_tree", || {
        // SAFETY: the caller's contract for out_json and config_json.
        let out = unsafe { OutJson::new(out_json)? };
        let config: TerminateTreeConfig =
            unsafe { read_json_or_default("config_json", config_json)? };
        out.write(&sysprims::terminate_tree(pid, &config)?)
    })
}

/// Send `signal` to the descendants of `pid` (not `pid` itself) that match `options_json`, a
/// KillDescendantsOptions document (NULL: all descendants); `*out_json` is a KillReport
/// document. Each target is signalled through a pidfd after checking it is the process the
/// listing saw.
///
/// Errors: InvalidArgument (invalid PID or signal, bad JSON or filter), NotFound.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_kill_descendants(
    pid: u32,
    signal: i32,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_kill_descendants", || {
        // SAFETY: the caller's contract for out_json and options_json.
        let out = unsafe { OutJson::new(out_json)? };
        let options: KillDescendantsOptions =
            unsafe { read_json_or_default("options_json", options_json)? };
        let signal = signal_from(signal)?;
        out.write(&sysprims::kill_descendants(pid, signal, &options)?)
    })
}

// ---------------------------------------------------------------------------------------
// File descriptors and ports
// ---------------------------------------------------------------------------------------

/// The open file descriptors of `pid`, sockets resolved: `filter_json` is an FdFilter
/// document (NULL: all); `*out_json` is an FdSnapshot document.
///
/// Errors: InvalidArgument (invalid PID, bad JSON), NotFound, PermissionDenied.
///
/// # Safety
/// `filter_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_fds(
    pid: u32,
    filter_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_fds", || {
        // SAFETY: the caller's contract for out_json and filter_json.
        let out = unsafe { OutJson::new(out_json)? };
        let filter: FdFilter = unsafe { read_json_or_default("filter_json", filter_json)? };
        out.write(&sysprims::list_fds(pid, &filter)?)
    })
}

/// Listening TCP and UDP sockets with the processes that hold them: `filter_json` is a
/// PortFilter document (NULL: all); `*out_json` is a PortBindings document.
///
/// Errors: InvalidArgument (bad JSON or filter), System.
///
/// # Safety
/// `filter_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_ports(
    filter_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_ports", || {
        // SAFETY: the caller's contract for out_json and filter_json.
        let out = unsafe { OutJson::new(out_json)? };
        let filter: PortFilter = unsafe { read_json_or_default("filter_json", filter_json)? };
        out.write(&sysprims::listening_ports(&filter)?)
    })
}

// ---------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------

/// A cancellation token for the `_cancellable` calls (opaque to C). One token may serve any
/// number of calls on any number of threads; once triggered it stays triggered.
pub struct SysprimsCancel {
    token: CancelToken,
}

/// A new, untriggered token; free it with [`sysprims_cancel_free`]. NULL only when no file
/// descriptor is left for it (the last error says so).
#[unsafe(no_mangle)]
pub extern "C" fn sysprims_cancel_new() -> *mut SysprimsCancel {
    let mut token = None;
    call("sysprims_cancel_new", || {
        token = Some(CancelToken::new()?);
        Ok(())
    });
    match token {
        Some(token) => Box::into_raw(Box::new(SysprimsCancel { token })),
        None => std::ptr::null_mut(),
    }
}

/// Trigger `cancel`: every call waiting on it returns promptly (see the `_cancellable`
/// functions for what each does), and every later call given it returns at once. Idempotent
/// and thread-safe; one `write(2)`, no lock and no allocation, so it may be called from a
/// signal handler. A NULL `cancel` does nothing but set this thread's last error to
/// InvalidArgument.
///
/// # Safety
/// `cancel` is NULL or a token from [`sysprims_cancel_new`] not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_cancel_trigger(cancel: *const SysprimsCancel) {
    if cancel.is_null() {
        boundary::set_last_error(&null_argument("cancel"));
        return;
    }
    call_infallible("sysprims_cancel_trigger", || {
        // SAFETY: non-NULL, and the caller promises a live token.
        let cancel = unsafe { &*cancel };
        cancel.token.cancel();
    });
}

/// Free a token. NULL is fine. No call may be using the token when it is freed: free it
/// after every call given it has returned.
///
/// # Safety
/// `cancel` is NULL or a token from [`sysprims_cancel_new`] not yet freed, used by no call
/// in progress.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_cancel_free(cancel: *mut SysprimsCancel) {
    if cancel.is_null() {
        return;
    }
    call_infallible("sysprims_cancel_free", || {
        // SAFETY: the caller promises it came from Box::into_raw in sysprims_cancel_new and
        // is freed once.
        drop(unsafe { Box::from_raw(cancel) });
    });
}

/// [`sysprims_wait_pid`] that [`sysprims_cancel_trigger`] can stop. When `cancel` is (or
/// becomes) triggered before the process ends, the call returns 0 at once with a
/// WaitPidResult whose `exited` is false, `timed_out` is true and `warnings` include
/// `"cancelled"`. The process is not touched.
///
/// Errors: as [`sysprims_wait_pid`]; a NULL `cancel` is InvalidArgument.
///
/// # Safety
/// `cancel` is NULL or a live token; `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_wait_pid_cancellable(
    pid: u32,
    timeout_ms: i64,
    cancel: *const SysprimsCancel,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_wait_pid_cancellable", || {
        // SAFETY: the caller's contract for out_json.
        let out = unsafe { OutJson::new(out_json)? };
        // SAFETY: NULL or a live token, by the caller's contract.
        let cancel = unsafe { cancel.as_ref() }.ok_or_else(|| null_argument("cancel"))?;
        let result =
            sysprims::wait_pid_cancellable(pid, timeout_from_ms(timeout_ms), &cancel.token)?;
        out.write(&result)
    })
}

/// [`sysprims_terminate_tree`] that [`sysprims_cancel_trigger`] can hurry. It never leaves a
/// half-terminated tree: a trigger during the grace period sends the kill signal at once;
/// a trigger after it stops the wait for the kill to take effect. The result's `warnings`
/// include `"cancelled"`.
///
/// Errors: as [`sysprims_terminate_tree`]; a NULL `cancel` is InvalidArgument.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `cancel` is NULL or a live token;
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_terminate_tree_cancellable(
    pid: u32,
    config_json: *const c_char,
    cancel: *const SysprimsCancel,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_terminate_tree_cancellable", || {
        // SAFETY: the caller's contract for out_json and config_json.
        let out = unsafe { OutJson::new(out_json)? };
        // SAFETY: NULL or a live token, by the caller's contract.
        let cancel = unsafe { cancel.as_ref() }.ok_or_else(|| null_argument("cancel"))?;
        let config: TerminateTreeConfig =
            unsafe { read_json_or_default("config_json", config_json)? };
        out.write(&sysprims::terminate_tree_cancellable(
            pid,
            &config,
            &cancel.token,
        )?)
    })
}

/// Run a command under a deadline and wait for it: `request_json` is a TimeoutRequest
/// document (`{"argv": ["make", "test"], "timeout_ms": 60000, "config": {"kill_after_ms":
/// 5000, "cleanup": true, ...}}`; `timeout_ms` 0 means no deadline); `*out_json` is a
/// TimeoutReport document (`outcome` `"completed"` or `"timed_out"`, `exit_code`, `signal`,
/// `escalated`, `exit_status` as GNU timeout would exit, `survivors`,
/// `tree_kill_reliability`, `warnings`, ...). At the deadline the whole job gets the
/// config's signal (TERM), and SIGKILL after `kill_after_ms`; what the command left running
/// after a timeout is ended too. The call blocks until the command has exited.
///
/// Errors: InvalidArgument (bad JSON, empty argv), SpawnFailed (not found, not executable;
/// the last error names the errno), NotSupported or PermissionDenied (cgroup containment
/// demanded and unavailable).
///
/// # Safety
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_timeout_run(
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_timeout_run", || {
        // SAFETY: the caller's contract for out_json and request_json.
        let out = unsafe { OutJson::new(out_json)? };
        let request: TimeoutRequest = unsafe { read_json("request_json", request_json)? };
        out.write(&request.run(None)?)
    })
}

/// [`sysprims_timeout_run`] that [`sysprims_cancel_trigger`] can cut short: on a trigger the
/// whole job is SIGKILLed at once, and the report says `timed_out`, `escalated`, with
/// `"cancelled"` among its warnings. Nothing of the job is left running.
///
/// Errors: as [`sysprims_timeout_run`]; a NULL `cancel` is InvalidArgument.
///
/// # Safety
/// `request_json` is NULL or a NUL-terminated string; `cancel` is NULL or a live token;
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysprims_timeout_run_cancellable(
    request_json: *const c_char,
    cancel: *const SysprimsCancel,
    out_json: *mut *mut c_char,
) -> i32 {
    call("sysprims_timeout_run_cancellable", || {
        // SAFETY: the caller's contract for out_json and request_json.
        let out = unsafe { OutJson::new(out_json)? };
        // SAFETY: NULL or a live token, by the caller's contract.
        let cancel = unsafe { cancel.as_ref() }.ok_or_else(|| null_argument("cancel"))?;
        let request: TimeoutRequest = unsafe { read_json("request_json", request_json)? };
        out.write(&request.run_cancellable(None, &cancel.token)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysprims::ErrorCode;

    #[test]
    fn header_constants_are_the_library_codes() {
        assert_eq!(
            SYSPRIMS_ERR_INVALID_ARGUMENT,
            ErrorCode::InvalidArgument.as_i32()
        );
        assert_eq!(SYSPRIMS_ERR_SPAWN_FAILED, ErrorCode::SpawnFailed.as_i32());
        assert_eq!(SYSPRIMS_ERR_TIMEOUT, ErrorCode::Timeout.as_i32());
        assert_eq!(
            SYSPRIMS_ERR_PERMISSION_DENIED,
            ErrorCode::PermissionDenied.as_i32()
        );
        assert_eq!(SYSPRIMS_ERR_NOT_FOUND, ErrorCode::NotFound.as_i32());
        assert_eq!(SYSPRIMS_ERR_NOT_SUPPORTED, ErrorCode::NotSupported.as_i32());
        assert_eq!(SYSPRIMS_ERR_SYSTEM, ErrorCode::System.as_i32());
        assert_eq!(SYSPRIMS_ERR_INTERNAL, ErrorCode::Internal.as_i32());
    }

    #[test]
    fn timeouts_and_signals() {
        assert_eq!(timeout_from_ms(-1), None);
        assert_eq!(timeout_from_ms(i64::MIN), None);
        assert_eq!(timeout_from_ms(0), Some(Duration::ZERO));
        assert_eq!(timeout_from_ms(1500), Some(Duration::from_millis(1500)));
        assert!(signal_from(-1).is_err());
        assert!(signal_from(65).is_err());
        assert_eq!(signal_from(15).unwrap(), Signal::TERM);
    }

    // A C caller passes its own <signal.h> numbers and reads them back in the JSON. Linux's
    // numbers are sysprims's, so these compare with libc's constants, which is what the
    // boundary must take and give on macOS too (SIGUSR1 30, SIGSTOP 17 there).
    #[cfg(unix)]
    #[test]
    fn signals_cross_the_abi_as_native_numbers() {
        for (native, signal) in [
            (libc::SIGUSR1, Signal::USR1),
            (libc::SIGUSR2, Signal::USR2),
            (libc::SIGCHLD, Signal::CHLD),
            (libc::SIGCONT, Signal::CONT),
            (libc::SIGSTOP, Signal::STOP),
            (libc::SIGTSTP, Signal::TSTP),
            (libc::SIGKILL, Signal::KILL),
        ] {
            assert_eq!(signal_from(native).unwrap(), signal, "{native}");
            let report = serde_json::to_value(sysprims::KillReport::new(signal)).unwrap();
            assert_eq!(report["signal"], native, "{signal}");
            let config: sysprims::TerminateTreeConfig =
                serde_json::from_value(serde_json::json!({ "signal": native })).unwrap();
            assert_eq!(config.signal, signal, "{native}");
        }
    }
}
