//! `sysprims timeout` on Windows (run under Wine in CI): GNU's exit statuses, as close as
//! Windows allows. The sleeper is `sysprims wait <this test's PID>`, which waits for as long
//! as this test runs, and so only ends when timeout ends it.
#![cfg(windows)]

use std::process::Command;
use std::time::{Duration, Instant};

fn sysprims() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sysprims"))
}

fn status(args: &[&str]) -> i32 {
    sysprims()
        .args(args)
        .status()
        .expect("run sysprims")
        .code()
        .expect("an exit code")
}

fn sleeper() -> Vec<String> {
    vec![
        env!("CARGO_BIN_EXE_sysprims").to_string(),
        "wait".into(),
        std::process::id().to_string(),
        "--timeout".into(),
        "120s".into(),
    ]
}

fn timeout_status(options: &[&str], duration: &str) -> (i32, Duration) {
    let mut args: Vec<String> = vec!["timeout".into()];
    args.extend(options.iter().map(|s| s.to_string()));
    args.push(duration.into());
    args.extend(sleeper());
    let t = Instant::now();
    let code = sysprims()
        .args(&args)
        .status()
        .expect("run sysprims timeout")
        .code()
        .expect("an exit code");
    (code, t.elapsed())
}

#[test]
fn a_timeout_is_124_and_ends_the_command_at_once() {
    let (code, took) = timeout_status(&[], "0.5");
    assert_eq!(code, 124);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn preserve_status_is_128_plus_the_signal() {
    assert_eq!(timeout_status(&["--preserve-status"], "0.5").0, 143);
}

#[test]
fn kill_is_137() {
    assert_eq!(timeout_status(&["-s", "KILL"], "0.5").0, 137);
}

#[test]
fn the_commands_own_status_passes_through() {
    assert_eq!(status(&["timeout", "30", "cmd", "/c", "exit 3"]), 3);
    assert_eq!(status(&["timeout", "30", "cmd", "/c", "exit 0"]), 0);
}

#[test]
fn a_missing_command_is_127_and_bad_usage_125() {
    assert_eq!(status(&["timeout", "30", "sysprims-no-such-program"]), 127);
    assert_eq!(status(&["timeout", "nonsense", "cmd"]), 125);
}
