//! `sysprims run` against real processes and real cgroups: the command's status passes
//! through (128+N for a signal), the report says what the whole tree used (validated against
//! `schemas/run-report.v1.schema.json`), a grandchild's 200 MiB is in the peak, an OOM kill
//! is reported as one, a fork loop stops at `--pids-max` and the job still ends whole, what
//! the command left running is ended, and bad limits are refused before anything runs.
//! Processes are found by a marker in their command line (a `sleep` linked under the test's
//! marked directory), never by name.
#![cfg(unix)]

mod support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::*;

const MIB: f64 = 1024.0 * 1024.0;

fn run(args: &[&str]) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    sysprims(&all)
}

/// A `sleep` whose command line carries the test's marker (a link in its marked directory).
fn marked_sleep(m: &Marked) -> String {
    let link = m.path("sleep");
    if !link.exists() {
        std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
    }
    link.to_str().unwrap().to_string()
}

/// `sysprims run --json FILE ARGS...`: the process's output and the report.
fn run_json(m: &Marked, args: &[&str]) -> (Output, Value) {
    let file = m.path("report.json");
    let _ = std::fs::remove_file(&file);
    let mut all = vec!["--json", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no report ({e}); stderr: {}", stderr(&out)));
    let report: Value = serde_json::from_str(&text).unwrap();
    validate("run-report.v1.schema.json", &report);
    assert_eq!(
        report["exit_status"].as_i64(),
        out.status.code().map(i64::from),
        "the report's exit_status is the status run exits with"
    );
    (out, report)
}

fn python_alloc(mib: u32) -> String {
    // Written, not just reserved: the pages count.
    format!("import sys; b = b'x' * ({mib} << 20); sys.stdout.write('allocated\\n')")
}

fn cgroups() -> bool {
    require("a writable cgroup v2 (root)", cgroup_writable())
}

#[test]
fn the_commands_status_passes_through() {
    for (script, code) in [("exit 0", 0), ("exit 3", 3), ("exit 130", 130)] {
        let out = run(&["--", "sh", "-c", script]);
        assert_eq!(out.status.code(), Some(code), "{script}: {}", stderr(&out));
    }
    // stdout is the command's; the report is on stderr.
    let out = run(&["sh", "-c", "echo hello; echo world"]);
    assert_eq!(stdout(&out), "hello\nworld\n");
    let err = stderr(&out);
    assert!(
        err.starts_with("sysprims run: sh exited with code 0\n"),
        "{err}"
    );
    assert!(err.contains("wall time"), "{err}");
}

#[test]
fn a_signal_is_128_plus_n_and_run_itself_exits() {
    for (signal, number) in [("TERM", 15), ("KILL", 9), ("INT", 2)] {
        let out = run(&["--", "sh", "-c", &format!("kill -{signal} $$")]);
        // An exit status, GNU style: sysprims run does not die of the signal itself.
        assert_eq!(out.status.signal(), None, "{signal}");
        assert_eq!(
            out.status.code(),
            Some(128 + number),
            "{signal}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(&format!("was killed by SIG{signal} ({number})")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn the_report_counts_a_grandchilds_200_mib() {
    if !cgroups() || !require("python3", have("python3")) {
        return;
    }
    let m = Marked::new("run-peak");
    // sh -> sh -> python3: the allocation is in a grandchild.
    let script = format!("sh -c \"python3 -c \\\"{}\\\"\"", python_alloc(200));
    let (out, report) = run_json(&m, &["--", "sh", "-c", &script]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "allocated\n");
    assert_eq!(stderr(&out), "", "with --json nothing goes to stderr");
    assert_eq!(report["outcome"], "completed");
    assert_eq!(report["ended_by"], "exit");
    assert_eq!(report["containment"], "cgroup_v2");
    let usage = &report["usage"];
    let peak = usage["memory_peak_bytes"].as_f64().expect("memory.peak") / MIB;
    assert!(
        (200.0..=220.0).contains(&peak),
        "peak {peak:.1} MiB, expected 200 MiB within 10%: {usage}"
    );
    assert!(usage["pids_peak"].as_u64().unwrap() >= 3, "{usage}");
    assert!(usage["cpu_user_us"].as_u64().is_some(), "{usage}");
    assert!(usage["cpu_system_us"].as_u64().is_some(), "{usage}");
    assert_eq!(usage["oom_kills"], 0);
    assert!(report["wall_time_us"].as_u64().unwrap() > 0);
    assert_eq!(report["argv"][0], "sh");
    assert_eq!(report["limits"]["accounting"], true);
}

/// Two grandchildren of 100 MiB each, alive at the same time: the job's peak is their sum;
/// GNU `time -v` reports the largest single one.
#[test]
fn the_peak_is_the_trees_where_gnu_time_sees_one_child() {
    if !cgroups()
        || !require("python3", have("python3"))
        || !require(
            "GNU time at /usr/bin/time",
            PathBuf::from("/usr/bin/time").exists(),
        )
    {
        return;
    }
    let m = Marked::new("run-vs-time");
    let ready = Fifo::new(m.path("ready"));
    let go = m.path("go");
    let c = std::ffi::CString::new(go.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Each child allocates, says so, and waits for one byte on `go` before exiting.
    let child = format!(
        "import os; b = b'x' * (100 << 20); \
         os.write(os.open('{}', os.O_WRONLY), b'up\\n'); \
         os.read(os.open('{}', os.O_RDONLY), 1)",
        ready.path(),
        go.display()
    );
    let script = format!("python3 -c \"{child}\" & python3 -c \"{child}\" & wait");
    // Held open for reading and writing: the children's opens never wait for a writer, and
    // each takes one byte of the two written once both have allocated.
    let mut go_file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&go)
        .unwrap();
    let mut release = |ready: &Fifo| {
        ready.expect(2);
        go_file.write_all(b"gg").unwrap();
    };
    let report_file = m.path("report.json");
    let mut ours = Command::new(env!("CARGO_BIN_EXE_sysprims"))
        .args([
            "run",
            "--json",
            report_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    release(&ready);
    assert!(ours.wait().unwrap().success());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    validate("run-report.v1.schema.json", &report);
    let ours_mib = report["usage"]["memory_peak_bytes"].as_f64().unwrap() / MIB;

    let time = Command::new("/usr/bin/time")
        .args(["-v", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    release(&ready);
    let time = time.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&time.stderr);
    let max_rss_kb: f64 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum RSS in time -v's output: {text}"));
    let time_mib = max_rss_kb / 1024.0;
    eprintln!("peak: sysprims run {ours_mib:.1} MiB, GNU time -v {time_mib:.1} MiB");
    // Each child is 100 MiB and an interpreter (about 10 MiB).
    assert!(
        (200.0..=240.0).contains(&ours_mib),
        "sysprims run: {ours_mib:.1} MiB"
    );
    assert!(
        (100.0..=120.0).contains(&time_mib),
        "GNU time -v: {time_mib:.1} MiB (one child)"
    );
    assert!(
        ours_mib > 1.7 * time_mib,
        "the tree's peak is both children's"
    );
}

#[test]
fn an_oom_kill_is_reported_as_one() {
    if !cgroups() || !require("python3", have("python3")) {
        return;
    }
    let m = Marked::new("run-oom");
    let (out, report) = run_json(
        &m,
        &[
            "--memory-max",
            "64M",
            "--memory-swap-max",
            "0",
            "--",
            "python3",
            "-c",
            &python_alloc(256),
        ],
    );
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert_eq!(report["ended_by"], "oom_kill", "{report}");
    assert_eq!(report["signal"], 9);
    assert!(report["usage"]["oom_kills"].as_u64().unwrap() >= 1);
    assert_eq!(report["limits"]["memory_max_bytes"], 64 << 20);
    let peak = report["usage"]["memory_peak_bytes"].as_u64().unwrap();
    assert!(peak <= 64 << 20, "peak {peak} above the limit");
    // The text report says it too.
    let out = run(&[
        "--memory-max",
        "64M",
        "--memory-swap-max",
        "0",
        "--",
        "python3",
        "-c",
        &python_alloc(256),
    ]);
    assert_eq!(out.status.code(), Some(137));
    let err = stderr(&out);
    assert!(err.contains("killed by the kernel's OOM killer"), "{err}");
    assert!(err.contains("(limit 64.0 MiB)"), "{err}");
}

#[test]
fn a_fork_loop_stops_at_pids_max_and_the_job_still_ends_whole() {
    if !cgroups() {
        return;
    }
    let m = Marked::new("run-pids");
    let sleep = marked_sleep(&m);
    // dash gives up at the first fork that fails (exit 2); the sleeps it started are left.
    let script = format!("i=0; while [ $i -lt 100 ]; do {sleep} 1000 & i=$((i+1)); done; wait");
    let (out, report) = run_json(&m, &["--pids-max", "8", "--", "sh", "-c", &script]);
    assert_ne!(out.status.code(), Some(0), "the loop cannot have finished");
    assert_eq!(report["limits"]["pids_max"], 8);
    assert_eq!(report["usage"]["pids_peak"], 8, "{report}");
    assert!(report["leftovers_ended"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["survivors"], serde_json::json!([]));
    let left = m.survivors();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn what_the_command_left_running_is_ended_and_run_returns() {
    // Without a cgroup the setsid one is out of reach (best effort).
    if !cgroups() {
        return;
    }
    let m = Marked::new("run-leftover");
    let sleep = marked_sleep(&m);
    // A background grandchild, and one that left the session: both outlive the command.
    let script = format!(
        "{sleep} 1000 >/dev/null 2>&1 & setsid {sleep} 1000 >/dev/null 2>&1 & echo started"
    );
    let (out, report) = run_json(&m, &["--", "sh", "-c", &script]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "started\n");
    let left = m.survivors();
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(report["survivors"], serde_json::json!([]));
    assert_eq!(report["leftovers_ended"], 2, "{report}");
}

#[test]
fn a_deadline_ends_the_job_with_124() {
    let m = Marked::new("run-timeout");
    let sleep = marked_sleep(&m);
    let (out, report) = run_json(&m, &["--timeout", "200ms", "--", &sleep, "1000"]);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    assert_eq!(report["outcome"], "timed_out");
    assert_eq!(report["signal_sent"], 15);
    assert_eq!(report["signal"], 15);
    assert_eq!(report["timeout_ms"], 200);
    assert!(m.pids().is_empty());
}

#[test]
fn a_signal_to_run_reaches_the_whole_job() {
    let m = Marked::new("run-forward");
    let ready = Fifo::new(m.path("ready"));
    let sleep = marked_sleep(&m);
    // The grandchild reports, then sleeps; TERM to sysprims run must reach it.
    let script = format!(
        "sh -c 'echo up > {}; exec {sleep} 1000' & wait",
        ready.path()
    );
    let child = Command::new(env!("CARGO_BIN_EXE_sysprims"))
        .args(["run", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut kid = Kid::adopt(child);
    ready.expect(1);
    // SAFETY: kill of our unreaped child.
    unsafe { libc::kill(kid.pid() as libc::pid_t, libc::SIGTERM) };
    let status = kid.0.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(kid.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    // sh's `wait` is interrupted by the TERM it got too: sh dies of TERM.
    assert_eq!(status.code(), Some(143), "{err}");
    let left = m.survivors();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn bad_limits_are_refused_before_anything_runs() {
    let m = Marked::new("run-bad");
    let ran = m.path("ran");
    let touch = format!("touch {}", ran.display());
    for (option, value, says) in [
        ("--memory-max", "0", "\"0\" is 0 bytes"),
        ("--memory-max", "0K", "\"0K\" is 0 bytes"),
        ("--memory-max", "-1", "negative"),
        ("--memory-max", "12X", "unknown unit"),
        ("--memory-max", "", "empty"),
        ("--memory-max", "lots", "starts with a number"),
        ("--memory-max", "1000T", "above this machine"),
        ("--memory-max", "100", "below one page"),
        ("--memory-swap-max", "-1", "negative"),
        ("--pids-max", "0", "at least 1"),
        ("--pids-max", "-3", "negative"),
        ("--pids-max", "1.5", "not a whole number"),
        ("--pids-max", "99999999999", "pid_max"),
        ("--cpu-max", "0", "more than 0"),
        ("--cpu-max", "-1", "more than 0"),
        ("--cpu-max", "nan", "not a finite number"),
        ("--cpu-max", "half", "not a number of CPUs"),
        ("--cpu-max", "100000", "CPU(s)"),
        ("--timeout", "5x", "unknown unit"),
        ("--containment", "process_group", "invalid value"),
    ] {
        let out = run(&[option, value, "--", "sh", "-c", &touch]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{option} {value:?}: {err}");
        assert!(err.contains(says), "{option} {value:?}: {err}");
        if !value.is_empty() {
            assert!(
                err.contains(value),
                "{option} {value:?}: the error names the value: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(!ran.exists(), "{option} {value:?}: the command ran");
    }
    // No command, an unknown option: usage errors too.
    for args in [&[][..], &["--bogus", "true"][..]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
    }
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("--memory-max <SIZE>"),
        "{}",
        stdout(&out)
    );
    // A program that is not there, or cannot be run: 127 and 126, as timeout's.
    assert_eq!(
        run(&["--", "/nonexistent/program"]).status.code(),
        Some(127)
    );
    assert_eq!(run(&["--", "/etc"]).status.code(), Some(126));
}

#[test]
fn a_cpu_limit_of_half_a_cpu_holds_a_busy_job_to_about_half() {
    if !cgroups() || !require("python3", have("python3")) {
        return;
    }
    let m = Marked::new("run-cpu");
    // Busy until the process has used 0.3 s of CPU, however long that takes.
    let busy = "import time\nwhile time.process_time() < 0.3: pass";
    let (out, report) = run_json(&m, &["--cpu-max", "0.5", "--", "python3", "-c", busy]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let usage = &report["usage"];
    let cpu_us = usage["cpu_user_us"].as_u64().unwrap() + usage["cpu_system_us"].as_u64().unwrap();
    let wall_us = report["wall_time_us"].as_u64().unwrap();
    let share = cpu_us as f64 / wall_us as f64;
    eprintln!("cpu {cpu_us} µs over {wall_us} µs of wall time: {share:.2} CPU");
    // A generous bound: unlimited, the job would take one whole CPU.
    assert!(share < 0.75, "{share:.2} CPU under --cpu-max 0.5: {report}");
    assert!(cpu_us >= 300_000, "{usage}");
}
