//! The CLI on Windows (under Wine in CI): `pstat` and `descendants` find this test process and
//! a child, `kill` ends a child through a held handle (exit code 128 + 15), and bad PIDs or
//! unsupported signals are usage errors that send nothing.
//!
//! The child is this test binary again with `SYSPRIMS_WIN_CLI_CHILD=block`: it prints `ready`
//! and waits for its stdin to close.
#![cfg(windows)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};

const CHILD_VAR: &str = "SYSPRIMS_WIN_CLI_CHILD";

/// The children's body; nothing without the variable.
#[test]
fn child_entry() {
    if std::env::var(CHILD_VAR).as_deref() != Ok("block") {
        return;
    }
    println!("ready");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0);
}

struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn blocking_child() -> Kid {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, "block")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let kid = Kid(child);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
        // libtest prints "test child_entry ... " before it, without a newline.
        if line.trim_end().ends_with("ready") {
            break;
        }
    }
    kid
}

fn sysprims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysprims"))
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = sysprims(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pstat_and_descendants_see_a_child() {
    let kid = blocking_child();
    let pid = kid.0.id().to_string();
    let doc = json(&["pstat", "--pid", &pid, "--json"]);
    let p = &doc["processes"][0];
    assert_eq!(p["pid"].as_u64(), Some(u64::from(kid.0.id())), "{doc}");
    assert_eq!(p["ppid"].as_u64(), Some(u64::from(std::process::id())));
    assert!(p["start_time_unix_ms"].as_u64().is_some(), "{doc}");
    let me = std::process::id().to_string();
    let tree = json(&["descendants", &me, "--json"]);
    let pids: Vec<u64> = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["pid"].as_u64())
        .collect();
    assert!(pids.contains(&u64::from(kid.0.id())), "{tree}");
    // The table form prints too.
    let out = sysprims(&["pstat", "--pid", &pid]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&pid));
}

#[test]
fn kill_ends_a_child_and_refuses_bad_input() {
    let mut kid = blocking_child();
    let pid = kid.0.id().to_string();
    for args in [
        &["kill", "0"][..],
        &["kill", "4294967295"],
        &["kill", "-s", "HUP", &pid],
        &["kill", "-s", "INT", &pid],
    ] {
        let out = sysprims(args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: says why");
    }
    assert!(kid.0.try_wait().unwrap().is_none(), "nothing reached it");
    let out = sysprims(&["kill", "-s", "TERM", &pid]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = kid.0.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(143),
        "TerminateProcess with exit code 128 + 15, as a shell shows a death by SIGTERM"
    );
}
