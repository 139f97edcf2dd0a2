//! The C ABI called from Rust: NULL pointers, bad UTF-8 and JSON, and the thread-local last
//! error under many threads at once. (tests/c/ drives the same functions from C, against
//! real jobs.)

use std::ffi::{CStr, CString, c_char};
use std::ptr;
use std::sync::{Arc, Barrier};

use sysprims_ffi::*;

/// Take a string the library returned, as Rust text, and free it.
fn take(s: *mut c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from the library, not freed yet.
    let text = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_string();
    // SAFETY: returned by the library, freed once.
    unsafe { sysprims_free_string(s) };
    Some(text)
}

fn last_message() -> Option<String> {
    take(sysprims_last_error_message())
}

/// A pointer value no call may leave in `*out_json`.
fn poison() -> *mut c_char {
    ptr::dangling_mut()
}

/// `rc` is InvalidArgument, `out` was set to NULL, and the last error says so, naming `what`.
fn assert_invalid(rc: i32, out: *mut c_char, what: &str) {
    assert_eq!(rc, SYSPRIMS_ERR_INVALID_ARGUMENT, "{what}");
    assert!(out.is_null(), "{what}: *out_json was not set to NULL");
    assert_eq!(sysprims_last_error_code(), SYSPRIMS_ERR_INVALID_ARGUMENT);
    let message = last_message().expect("a message");
    assert!(message.contains(what), "{message:?} does not name {what}");
    let json: serde_json::Value =
        serde_json::from_str(&take(sysprims_last_error_json()).unwrap()).unwrap();
    assert_eq!(json["code"], "invalid_argument");
    assert_eq!(json["message"], message.as_str());
}

/// Call `f` with a fresh poisoned out pointer and check the result is InvalidArgument.
fn check_invalid(what: &str, f: impl FnOnce(*mut *mut c_char) -> i32) {
    let mut out = poison();
    let rc = f(&mut out);
    assert_invalid(rc, out, what);
}

/// Call `f`, require success, and return the JSON it wrote.
fn ok_json(f: impl FnOnce(*mut *mut c_char) -> i32) -> serde_json::Value {
    let mut out = poison();
    let rc = f(&mut out);
    assert_eq!(rc, SYSPRIMS_OK, "{:?}", last_message());
    assert_eq!(sysprims_last_error_code(), 0);
    assert!(sysprims_last_error_message().is_null());
    serde_json::from_str(&take(out).unwrap()).unwrap()
}

#[test]
fn versions() {
    assert_eq!(sysprims_abi_version(), SYSPRIMS_ABI_VERSION);
    // SAFETY: a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(sysprims_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn null_pointers_are_invalid_arguments() {
    let me = std::process::id();
    let identity = CString::new(format!(r#"{{"pid":{me},"start_time_unix_ms":1}}"#)).unwrap();
    let config = CString::new(r#"{"argv":["true"]}"#).unwrap();
    let pids = CString::new("[1]").unwrap();
    let cancel = sysprims_cancel_new();
    assert!(!cancel.is_null());
    let null = ptr::null_mut();
    // SAFETY (all calls below): every pointer is NULL, a live CString or a live token.
    unsafe {
        assert_invalid(sysprims_process_get(me, null), ptr::null_mut(), "out_json");
        assert_invalid(
            sysprims_process_list(ptr::null(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_descendants(me, -1, null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_identity_verify(identity.as_ptr(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_signal_batch(pids.as_ptr(), 0, null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_signal_guarded(identity.as_ptr(), 0, null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_spawn_in_group(config.as_ptr(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(sysprims_wait_pid(me, 0, null), ptr::null_mut(), "out_json");
        assert_invalid(
            sysprims_terminate_tree(me, ptr::null(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_kill_descendants(me, 0, ptr::null(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_fds(me, ptr::null(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_ports(ptr::null(), null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_wait_pid_cancellable(me, 0, cancel, null),
            ptr::null_mut(),
            "out_json",
        );
        assert_invalid(
            sysprims_terminate_tree_cancellable(me, ptr::null(), cancel, null),
            ptr::null_mut(),
            "out_json",
        );

        check_invalid("identity_json", |o| {
            sysprims_identity_verify(ptr::null(), o)
        });
        check_invalid("pids_json", |o| sysprims_signal_batch(ptr::null(), 0, o));
        check_invalid("identity_json", |o| {
            sysprims_signal_guarded(ptr::null(), 0, o)
        });
        check_invalid("config_json", |o| sysprims_spawn_in_group(ptr::null(), o));
        check_invalid("cancel", |o| {
            sysprims_wait_pid_cancellable(me, 0, ptr::null(), o)
        });
        check_invalid("cancel", |o| {
            sysprims_terminate_tree_cancellable(me, ptr::null(), ptr::null(), o)
        });

        sysprims_cancel_trigger(ptr::null());
        assert_eq!(sysprims_last_error_code(), SYSPRIMS_ERR_INVALID_ARGUMENT);
        assert!(last_message().unwrap().contains("cancel"));
        // NULL is fine for the frees.
        sysprims_free_string(ptr::null_mut());
        sysprims_cancel_free(ptr::null_mut());
        sysprims_cancel_free(cancel);
    }
}

#[test]
fn bad_utf8_malformed_json_and_unknown_keys_are_invalid_arguments() {
    let me = std::process::id();
    let inputs = [
        (
            CString::new(b"{\"filter\":\"\xff\"}".to_vec()).unwrap(),
            "UTF-8",
        ),
        (CString::new("{").unwrap(), "EOF"),
        (CString::new(r#"{"no_such_key":1}"#).unwrap(), "no_such_key"),
        (CString::new("[]").unwrap(), "not an array"),
        (CString::new("7").unwrap(), "invalid type"),
    ];
    for (input, problem) in &inputs {
        let s = input.as_ptr();
        let check = |what: &str, f: &dyn Fn(*mut *mut c_char) -> i32| {
            let mut out = poison();
            let rc = f(&mut out);
            assert_invalid(rc, out, what);
            let message = last_message().unwrap();
            assert!(
                message.contains(problem),
                "{message:?} does not say {problem:?}"
            );
        };
        // SAFETY (all calls below): `s` is a live NUL-terminated string.
        unsafe {
            check("options_json", &|o| sysprims_process_list(s, o));
            check("config_json", &|o| sysprims_spawn_in_group(s, o));
            check("config_json", &|o| sysprims_terminate_tree(me, s, o));
            check("options_json", &|o| sysprims_kill_descendants(me, 0, s, o));
            check("filter_json", &|o| sysprims_fds(me, s, o));
            check("filter_json", &|o| sysprims_ports(s, o));
            check("identity_json", &|o| sysprims_identity_verify(s, o));
            check("identity_json", &|o| sysprims_signal_guarded(s, 0, o));
        }
    }
    // SAFETY: live C strings.
    unsafe {
        let bad = CString::new(b"[\xc3]".to_vec()).unwrap();
        check_invalid("pids_json", |o| sysprims_signal_batch(bad.as_ptr(), 0, o));
        let words = CString::new(r#"["1"]"#).unwrap();
        check_invalid("pids_json", |o| sysprims_signal_batch(words.as_ptr(), 0, o));
        let negative = CString::new("[-1]").unwrap();
        check_invalid("PID", |o| sysprims_signal_batch(negative.as_ptr(), 0, o));
    }
}

#[test]
fn an_unknown_key_deep_inside_a_config_is_refused_and_nothing_runs() {
    let dir = std::env::temp_dir().join(format!("sysprims-ffi-apend-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out");
    std::fs::write(&file, "kept\n").unwrap();
    let stdio = format!(
        r#"{{"file":{{"path":{:?},"apend":true}}}}"#,
        file.to_str().unwrap()
    );
    let marker = dir.join("ran");
    let argv = format!(r#"["sh","-c","echo ran > {}"]"#, marker.display());
    let spawn = CString::new(format!(r#"{{"argv":{argv},"stdout":{stdio}}}"#)).unwrap();
    let timeout = CString::new(format!(
        r#"{{"argv":{argv},"timeout_ms":1000,"config":{{"stderr":{stdio}}}}}"#
    ))
    .unwrap();
    let beside = CString::new(format!(
        r#"{{"argv":{argv},"stdout":{{"file":{{"path":{:?}}},"append":true}}}}"#,
        file.to_str().unwrap()
    ))
    .unwrap();
    let cases: [(&CString, &str, &str); 3] = [
        (
            &spawn,
            "config_json",
            r#"unknown key "apend" at stdout.file.apend"#,
        ),
        (
            &timeout,
            "request_json",
            r#"unknown key "apend" at config.stderr.file.apend"#,
        ),
        (
            &beside,
            "config_json",
            r#"unknown key "append" at stdout.append"#,
        ),
    ];
    for (json, what, says) in cases {
        let mut out = poison();
        // SAFETY: live C strings and a valid out pointer.
        let rc = unsafe {
            if what == "request_json" {
                sysprims_timeout_run(json.as_ptr(), &mut out)
            } else {
                sysprims_spawn_in_group(json.as_ptr(), &mut out)
            }
        };
        assert_invalid(rc, out, what);
        let message = last_message().unwrap();
        assert!(message.contains(says), "{message:?} does not say {says:?}");
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "kept\n",
        "the file was truncated"
    );
    assert!(!marker.exists(), "the command ran");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cpu_sampling_interval_of_u64_max_is_refused_not_slept() {
    let list = CString::new(r#"{"cpu_sample_ms":18446744073709551615}"#).unwrap();
    let options = CString::new(r#"{"cpu_sample_ms":18446744073709551615,"dry_run":true}"#).unwrap();
    // SAFETY: live C strings, valid out pointers.
    unsafe {
        check_invalid("18446744073709551615 ms", |o| {
            sysprims_process_list(list.as_ptr(), o)
        });
        check_invalid("18446744073709551615 ms", |o| {
            sysprims_kill_descendants(std::process::id(), 0, options.as_ptr(), o)
        });
    }
}

#[test]
fn invalid_pids_are_refused_before_any_system_call() {
    for pid in [0u32, 2_147_483_648, u32::MAX] {
        // SAFETY: out pointers are live locals.
        unsafe {
            check_invalid("PID", |o| sysprims_process_get(pid, o));
            check_invalid("PID", |o| sysprims_descendants(pid, -1, o));
            check_invalid("PID", |o| sysprims_wait_pid(pid, 0, o));
            check_invalid("PID", |o| sysprims_terminate_tree(pid, ptr::null(), o));
            check_invalid("PID", |o| sysprims_kill_descendants(pid, 0, ptr::null(), o));
            check_invalid("PID", |o| sysprims_fds(pid, ptr::null(), o));
        }
        assert_eq!(sysprims_signal_send(pid, 0), SYSPRIMS_ERR_INVALID_ARGUMENT);
        assert!(last_message().unwrap().contains("PID"));
        assert_eq!(sysprims_signal_group(pid, 0), SYSPRIMS_ERR_INVALID_ARGUMENT);
    }
}

#[test]
fn a_success_returns_the_library_document_and_clears_the_last_error() {
    let me = std::process::id();
    // SAFETY: a live out pointer.
    let info = ok_json(|o| unsafe { sysprims_process_get(me, o) });
    assert_eq!(info["pid"], me);
    assert!(info["start_time_unix_ms"].is_u64());
    // SAFETY: a live out pointer.
    let tree = ok_json(|o| unsafe { sysprims_descendants(me, -1, o) });
    assert_eq!(tree["schema_id"], sysprims::PROCESS_TREE_SCHEMA_ID);
}

#[test]
fn the_last_error_is_per_thread() {
    const THREADS: usize = 32;
    const ROUNDS: usize = 200;
    let start = Arc::new(Barrier::new(THREADS));
    let me = std::process::id();
    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                // A PID above any pid_max, unique to this thread: NotFound naming it.
                let missing = 2_000_000_000 + i as u32;
                start.wait();
                for round in 0..ROUNDS {
                    let mut out = poison();
                    // SAFETY: a live out pointer.
                    let rc = unsafe { sysprims_process_get(missing, &mut out) };
                    assert_eq!(rc, SYSPRIMS_ERR_NOT_FOUND);
                    assert!(out.is_null());
                    assert_eq!(sysprims_last_error_code(), SYSPRIMS_ERR_NOT_FOUND);
                    let message = last_message().unwrap();
                    assert!(
                        message.contains(&missing.to_string()),
                        "thread {i} round {round} sees another thread's error: {message}"
                    );
                    if round % 2 == 0 {
                        // A success on this thread clears only this thread's error.
                        assert_eq!(sysprims_signal_send(me, 0), SYSPRIMS_OK);
                        assert_eq!(sysprims_last_error_code(), 0);
                        assert!(sysprims_last_error_json().is_null());
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn cancel_tokens_are_thread_safe() {
    let cancel = sysprims_cancel_new();
    assert!(!cancel.is_null());
    assert_eq!(sysprims_last_error_code(), 0);
    let address = cancel as usize;
    let mut child = KillOnDrop(
        std::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut out = poison();
                // SAFETY: the token outlives every waiter (freed after the joins).
                let rc = unsafe {
                    sysprims_wait_pid_cancellable(
                        pid,
                        -1,
                        address as *const SysprimsCancel,
                        &mut out,
                    )
                };
                assert_eq!(rc, SYSPRIMS_OK);
                take(out).unwrap()
            })
        })
        .collect();
    // SAFETY: a live token; triggered from several threads at once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| unsafe { sysprims_cancel_trigger(address as *const SysprimsCancel) });
        }
    });
    for w in waiters {
        let json: serde_json::Value = serde_json::from_str(&w.join().unwrap()).unwrap();
        assert_eq!(json["exited"], false);
        assert_eq!(json["timed_out"], true);
        assert!(
            json["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w == "cancelled"),
            "{json}"
        );
    }
    // SAFETY: every call that used it has returned.
    unsafe { sysprims_cancel_free(cancel) };
    // Untouched by the cancelled waits.
    assert!(child.0.try_wait().unwrap().is_none());
}

/// Kills and reaps the child when dropped, also when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Limits go in through the JSON configs and usage comes back in the JSON results: a job
/// spawned with `limits` over the C ABI, waited for, reports `ended_by` and `usage`; the
/// timeout report does too; out-of-range limits are InvalidArgument naming the value.
#[test]
fn limits_in_and_usage_out_through_json() {
    let config = CString::new(
        r#"{"argv":["sh","-c","exit 4"],"stdin":"null","containment":"cgroup",
            "limits":{"pids_max":16,"cpu_max":1.0,"accounting":true}}"#,
    )
    .unwrap();
    let mut out = poison();
    // SAFETY: a live C string and a valid out pointer.
    let rc = unsafe { sysprims_spawn_in_group(config.as_ptr(), &mut out) };
    if rc != SYSPRIMS_OK {
        let message = last_message().unwrap_or_default();
        assert!(
            std::env::var("SYSPRIMS_REQUIRE_ALL").as_deref() != Ok("1"),
            "limits over the C ABI: {message}"
        );
        eprintln!("skipped: no cgroup controllers for limits here: {message}");
        return;
    }
    let spawned: serde_json::Value = serde_json::from_str(&take(out).unwrap()).unwrap();
    let pid = spawned["pid"].as_u64().unwrap() as u32;
    // SAFETY: a valid out pointer.
    let done = ok_json(|o| unsafe { sysprims_wait_pid(pid, 60_000, o) });
    assert_eq!(done["exit_code"], 4, "{done}");
    assert_eq!(done["ended_by"], "exit", "{done}");
    assert!(done["usage"]["cpu_user_us"].is_u64(), "{done}");
    assert!(done["usage"]["pids_peak"].is_u64() || done["usage"]["pids_peak"].is_null());

    let request = CString::new(
        r#"{"argv":["true"],"timeout_ms":60000,
            "config":{"stdin":"null","limits":{"accounting":true}}}"#,
    )
    .unwrap();
    // SAFETY: a live C string and a valid out pointer.
    let report = ok_json(|o| unsafe { sysprims_timeout_run(request.as_ptr(), o) });
    assert_eq!(report["ended_by"], "exit", "{report}");
    assert!(report["usage"].is_object(), "{report}");

    for (json, says) in [
        (r#"{"argv":["true"],"limits":{"pids_max":0}}"#, "pids_max"),
        (r#"{"argv":["true"],"limits":{"cpu_max":-1}}"#, "-1"),
        (
            r#"{"argv":["true"],"limits":{"memory_max_bytes":-5}}"#,
            "-5",
        ),
    ] {
        let json = CString::new(json).unwrap();
        // SAFETY: a live C string and a valid out pointer.
        check_invalid(says, |o| unsafe {
            sysprims_spawn_in_group(json.as_ptr(), o)
        });
    }
}
