//! The `sysprims` binary, run as users run it.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use serde_json::Value;

use support::*;

#[test]
fn pstat_json_validates_and_lists_us() {
    let doc = json(&["pstat", "--json"]);
    validate("process-snapshot.v1.schema.json", &doc);
    let me = std::process::id();
    let procs = doc["processes"].as_array().unwrap();
    assert!(procs.iter().any(|p| p["pid"] == me));
    assert!(procs.len() > 3);
}

#[test]
fn pstat_filters_from_the_command_line() {
    let kid = Kid::spawn(&["sleep", "1000"]);
    let pid = kid.pid().to_string();
    let me = std::process::id().to_string();
    let doc = json(&[
        "pstat", "--ppid", &me, "--name", "sleep", "--exact", "--json",
    ]);
    let pids: Vec<u64> = doc["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids, [u64::from(kid.pid())]);

    let doc = json(&["pstat", "--pid", &pid, "--sample", "100ms", "--json"]);
    validate("process-snapshot.v1.schema.json", &doc);
    assert!(doc["cpu_sample_ms"].as_u64().unwrap() >= 100);
    assert_eq!(doc["processes"][0]["pid"], kid.pid());
    assert_eq!(
        doc["processes"][0]["cmdline"],
        serde_json::json!(["sleep", "1000"])
    );

    let doc = json(&["pstat", "--sort", "memory", "--top", "2", "--json"]);
    let procs = doc["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 2);
    assert!(procs[0]["memory_kb"].as_u64() >= procs[1]["memory_kb"].as_u64());

    let out = sysprims(&["pstat", "--pid", &pid]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].contains("PID") && lines[0].contains("COMMAND"),
        "{table}"
    );
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[1].trim_start().starts_with(&pid) && lines[1].ends_with("sleep 1000"),
        "{table}"
    );
}

#[test]
fn descendants_json_and_tree() {
    // sh -> (sleep, sh -> sleep), each announcing itself once started.
    let mut kid = Kid::adopt(
        Command::new("sh")
            .args([
                "-c",
                "sleep 1000 & echo $!; sh -c 'sleep 1000 & echo $!; wait' & echo $!; wait",
            ])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let mut reader = std::io::BufReader::new(kid.0.stdout.take().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    }
    let root = kid.pid().to_string();
    let doc = json(&["descendants", &root, "--json"]);
    validate("process-tree.v1.schema.json", &doc);
    let depths: Vec<u64> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["depth"].as_u64().unwrap())
        .collect();
    let mut sorted = depths.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 1, 2]);
    assert_eq!(doc["nodes"][0]["pid"], kid.pid());

    let out = sysprims(&["descendants", &root, "--tree"]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "header + 4 processes:\n{text}");
    assert!(text.contains("├─ ") && text.contains("└─ "), "{text}");

    let doc = json(&["descendants", &root, "--max-levels", "1", "--json"]);
    assert_eq!(doc["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(doc["max_levels"], 1);
}

#[test]
fn bad_values_are_usage_errors_that_name_the_value() {
    let cases: &[(&[&str], &str)] = &[
        (&["pstat", "--pid", "abc"], "abc"),
        (&["pstat", "--pid", "-1"], "-1"),
        (&["pstat", "--pid", "0"], "0"),
        (&["pstat", "--pid", "4294967295"], "4294967295"),
        (&["pstat", "--pid", "2147483648"], "2147483648"),
        (&["pstat", "--pid", ""], "''"),
        (&["pstat", "--ppid", "-1"], "-1"),
        (&["descendants", "abc"], "abc"),
        (&["descendants", "-1"], "-1"),
        (&["descendants", "0"], "0"),
        (&["descendants", "4294967295"], "4294967295"),
        (&["descendants", "2147483648"], "2147483648"),
        (&["descendants", ""], "''"),
        (&["descendants", "1", "--max-levels", "0"], "0"),
        (&["pstat", "--running-for", "5x"], "5x"),
        (&["pstat", "--sample", "5x"], "5x"),
        (&["pstat", "--sample", "0"], "0"),
        (&["pstat", "--cpu-above", "-5"], "-5"),
        (&["pstat", "--memory-above", "-1"], "-1"),
        (&["pstat", "--top", "0"], "0"),
        (&["pstat", "--sort", "bogus"], "bogus"),
        (&["pstat", "--state", "bogus"], "bogus"),
        (
            &["pstat", "--user", "no-such-user-sysprims"],
            "no-such-user-sysprims",
        ),
        (&["pstat", "--bogus-flag"], "--bogus-flag"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, value) in cases {
        let out = sysprims(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(value),
            "{args:?}: the error should name {value}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn missing_processes_are_failures_with_exit_code_1() {
    let out = sysprims(&["pstat", "--pid", "2147483647", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("2147483647"), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["processes"],
        serde_json::json!([]),
        "the document is still printed"
    );

    let out = sysprims(&["descendants", "2147483647"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));

    // A filter that matches nothing is an empty result, not a failure.
    let doc = json(&["pstat", "--name", "no-process-has-this-name", "--json"]);
    assert_eq!(doc["processes"], serde_json::json!([]));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        &["pstat"][..],
        &["pstat", "--json"],
        &["descendants", "1", "--tree"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sysprims"))
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the listing is written: every write gets EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
    let out = Command::new("bash")
        .args([
            "-c",
            "set -o pipefail; \"$0\" pstat | head -n 1",
            env!("CARGO_BIN_EXE_sysprims"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn help_shows_examples() {
    for args in [
        &["--help"][..],
        &["pstat", "--help"],
        &["descendants", "--help"],
    ] {
        let out = sysprims(args);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains("Examples:"), "{args:?}:\n{text}");
        assert!(text.contains("Exit codes"), "{args:?}:\n{text}");
    }
}

#[test]
fn sampling_shows_progress_only_on_a_terminal() {
    // script(1) gives the command a pseudo-terminal for stdout and stderr.
    if !require("script(1)", have("script")) {
        return;
    }
    let me = std::process::id().to_string();
    let line = format!(
        "{} pstat --pid {me} --sample 300ms",
        env!("CARGO_BIN_EXE_sysprims")
    );
    let out = Command::new("script")
        .args(["-qc", &line, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("sampling CPU"),
        "no progress on a terminal: {text:?}"
    );
    assert!(text.contains("COMMAND"), "{text:?}");

    let out = sysprims(&["pstat", "--pid", &me, "--sample", "100ms"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "",
        "no progress when stderr is not a terminal"
    );
}

#[test]
fn fields_hidden_by_permission_are_null_not_errors() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !require("root, to run a child as root and read it as nobody", root)
        || !require("setpriv(1)", have("setpriv"))
    {
        return;
    }
    // A root-owned child, read by `nobody`: its executable link and environment are private
    // to its owner; its command line and status are not.
    let kid = Kid::spawn(&["sleep", "1000"]);
    let pid = kid.pid().to_string();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_sysprims"))
        .args(["pstat", "--pid", &pid, "--env", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &doc["processes"][0];
    assert_eq!(p["pid"], kid.pid());
    assert_eq!(p["exe_path"], Value::Null, "exe is hidden from other users");
    assert!(p.get("env").is_none(), "environ is hidden from other users");
    assert_eq!(p["cmdline"], serde_json::json!(["sleep", "1000"]));
    assert_eq!(p["uid"], 0);
    assert_eq!(p["user"], "root");
    validate("process-snapshot.v1.schema.json", &doc);
}

/// Messages are said once, with one prefix, and a negative duration is an invalid value
/// naming it (issue 13, item 20).
#[test]
fn errors_have_one_prefix_and_name_the_bad_value() {
    // A PID no process has: far above any pid_max.
    let out = sysprims(&["kill", "-s", "TERM", "2147483000"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "sysprims: kill: process 2147483000 not found\n",
        "doubled prefix?"
    );
    for args in [
        &["pstat", "--sample", "-1s"][..],
        &["pstat", "--running-for", "-5s"],
        &["kill-descendants", "1", "--sample", "-5s"],
        &["terminate-tree", "2147483000", "--grace", "-5s"],
        &["terminate-tree", "2147483000", "--kill-after", "-5s"],
        &["wait", "2147483000", "--timeout", "-5s"],
    ] {
        let out = sysprims(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("invalid value '-") && err.contains("negative"),
            "{args:?}: {err}"
        );
    }
}
