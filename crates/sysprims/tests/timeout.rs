//! run_with_timeout against real processes and real cgroups. A deadline that must pass is made
//! to pass with `TimeoutControl::expire` once the job has reported that it is ready (on a
//! pipe), so no test depends on timing; processes are counted by a marker in
//! `/proc/*/cmdline`.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{MarkerGuard, Reports, cgroup_writable, marked_pids, new_marker, require};
use sysprims::{
    CommandStatus, Containment, ContainmentKind, ErrorCode, Signal, SysprimsError, TimeoutConfig,
    TimeoutControl, TimeoutEvent, TimeoutOutcome, TreeKillReliability, run_with_timeout,
    run_with_timeout_controlled,
};

const LONG: Duration = Duration::from_secs(1000);

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Run `sh -c script marker` with its stdout on `reports`; once `ready` lines have been
/// read, make the deadline pass. Returns the outcome.
fn expire_when_ready(
    script: &str,
    marker: &str,
    ready: usize,
    mut config: TimeoutConfig,
) -> TimeoutOutcome {
    let mut reports = Reports::new();
    config.stdout = reports.stdio();
    let control = TimeoutControl::new().unwrap();
    let remote = control.clone();
    std::thread::scope(|s| {
        let run = s.spawn(|| {
            run_with_timeout_controlled(
                "sh",
                &args(&["-c", script, marker]),
                LONG,
                &config,
                &control,
            )
        });
        // The job has its copy of the pipe once it has written to it.
        let first = reports.line();
        reports.close_ours();
        assert_eq!(first, "up");
        for _ in 1..ready {
            assert_eq!(reports.line(), "up");
        }
        remote.expire();
        let outcome = run.join().unwrap().unwrap();
        // Every process that held the pipe is gone: end of file.
        let _ = reports.rest();
        outcome
    })
}

#[test]
fn a_command_that_finishes_reports_its_status() {
    let config = TimeoutConfig::default();
    let outcome = run_with_timeout("sh", &args(&["-c", "exit 3"]), LONG, &config).unwrap();
    assert!(!outcome.timed_out());
    assert_eq!(
        outcome.status(),
        CommandStatus {
            exit_code: Some(3),
            signal: None,
            ended_by: Some(sysprims::EndedBy::Exit),
        }
    );
    assert_eq!(outcome.exit_status(false), 3);
    assert!(outcome.run().survivors.is_empty());

    let killed = run_with_timeout("sh", &args(&["-c", "kill -USR1 $$"]), LONG, &config).unwrap();
    assert_eq!(killed.status().signal, Some(libc::SIGUSR1));
    assert_eq!(killed.exit_status(false), 128 + libc::SIGUSR1);

    // Zero means no deadline.
    let none = run_with_timeout("true", &[], Duration::ZERO, &config).unwrap();
    assert_eq!(none.status().exit_code, Some(0));
}

#[test]
fn a_deadline_signals_the_job_and_removes_its_cgroup() {
    if !require("a writable cgroup v2", cgroup_writable()) {
        return;
    }
    let outcome = run_with_timeout(
        "sleep",
        &args(&["1000"]),
        Duration::from_millis(50),
        &TimeoutConfig::default(),
    )
    .unwrap();
    let TimeoutOutcome::TimedOut {
        signal_sent,
        escalated,
        status,
        run,
    } = &outcome
    else {
        panic!("expected a timeout: {outcome:?}");
    };
    assert_eq!(*signal_sent, Signal::TERM);
    assert!(!escalated);
    assert_eq!(status.signal, Some(libc::SIGTERM));
    assert_eq!(run.tree_kill_reliability, TreeKillReliability::Guaranteed);
    assert_eq!(run.containment, ContainmentKind::CgroupV2);
    let cgroup = run.cgroup.as_deref().expect("a cgroup");
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
    assert_eq!(outcome.exit_status(false), 124);
    assert_eq!(outcome.exit_status(true), 128 + libc::SIGTERM);
}

#[test]
fn kill_after_escalates_for_a_term_ignoring_command() {
    let m = MarkerGuard(format!("0.{}", new_marker()));
    let outcome = expire_when_ready(
        "trap '' TERM; echo up; exec sleep 1000 \"$0\"",
        &m.0,
        1,
        TimeoutConfig {
            kill_after_ms: Some(100),
            ..TimeoutConfig::default()
        },
    );
    let TimeoutOutcome::TimedOut {
        escalated, status, ..
    } = &outcome
    else {
        panic!("expected a timeout: {outcome:?}");
    };
    assert!(escalated);
    assert_eq!(status.signal, Some(libc::SIGKILL));
    assert_eq!(outcome.exit_status(false), 137);
    assert!(marked_pids(&m.0).is_empty());
}

/// A `setsid` child, a double-forked daemon and a TERM-ignoring grandchild: none survives a
/// timeout, and none is left once the call returns.
#[test]
fn escapees_die_with_a_timed_out_job() {
    if !require("a writable cgroup v2", cgroup_writable()) {
        return;
    }
    let m = MarkerGuard(format!("0.{}", new_marker()));
    let script = r#"
        setsid sh -c 'echo up; exec sleep 1000 "$0"' "$0" &
        (setsid sh -c 'echo up; exec sleep 1000 "$0"' "$0" &) &
        sh -c 'trap "" TERM; echo up; exec sleep 1000 "$0"' "$0" &
        echo up
        wait
    "#;
    let outcome = expire_when_ready(
        script,
        &m.0,
        4,
        TimeoutConfig {
            kill_after_ms: Some(200),
            ..TimeoutConfig::default()
        },
    );
    assert!(outcome.timed_out());
    // The command itself honoured TERM: what was left was ended after it.
    assert!(outcome.run().leftovers_ended >= 1, "{outcome:?}");
    assert!(outcome.run().survivors.is_empty(), "{outcome:?}");
    assert!(marked_pids(&m.0).is_empty());
}

#[test]
fn cleanup_ends_what_a_finished_command_left() {
    if !require("a writable cgroup v2", cgroup_writable()) {
        return;
    }
    for cleanup in [true, false] {
        let marker = format!("0.{}", new_marker());
        let _guard = MarkerGuard(marker.clone());
        let mut reports = Reports::new();
        let config = TimeoutConfig {
            cleanup,
            stdout: reports.stdio(),
            ..TimeoutConfig::default()
        };
        // The command exits once its leftover has reported to it, on a FIFO it holds open for
        // reading and writing.
        let script = r#"
            mkfifo "$1"; exec 3<>"$1"
            setsid sh -c 'echo up >&3; exec sleep 1000 "$0"' "$0" &
            read a <&3
            exit 0
        "#;
        let dir = std::env::temp_dir().join(format!("sysprims-test-cleanup-{marker}"));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let outcome = run_with_timeout(
            "sh",
            &args(&["-c", script, &marker, fifo.to_str().unwrap()]),
            LONG,
            &config,
        )
        .unwrap();
        reports.close_ours();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!outcome.timed_out());
        assert_eq!(outcome.status().exit_code, Some(0));
        if cleanup {
            assert_eq!(outcome.run().leftovers_ended, 1, "{outcome:?}");
            assert!(marked_pids(&marker).is_empty());
            let cgroup = outcome.run().cgroup.clone().unwrap();
            assert!(!cgroup.exists());
        } else {
            assert_eq!(outcome.run().leftovers_ended, 0);
            let left = marked_pids(&marker);
            assert_eq!(left.len(), 1, "the leftover lives on");
            // It tops the job now (its parent is outside): ending it ends the job.
            let ended = sysprims::terminate_tree(left[0], &Default::default()).unwrap();
            assert!(ended.exited);
            assert!(!outcome.run().cgroup.clone().unwrap().exists());
        }
    }
}

#[test]
fn a_cancel_kills_the_whole_job_at_once() {
    let m = MarkerGuard(format!("0.{}", new_marker()));
    let mut reports = Reports::new();
    let config = TimeoutConfig {
        stdout: reports.stdio(),
        ..TimeoutConfig::default()
    };
    let cancel = sysprims::CancelToken::new().unwrap();
    let outcome = std::thread::scope(|s| {
        let run = s.spawn(|| {
            // No deadline, and TERM ignored: only the cancel can end it.
            sysprims::run_with_timeout_cancellable(
                "sh",
                &args(&[
                    "-c",
                    "trap '' TERM; sleep 1000 \"$0\" & echo up; wait",
                    &m.0,
                ]),
                Duration::ZERO,
                &config,
                &cancel,
            )
        });
        assert_eq!(reports.line(), "up");
        reports.close_ours();
        cancel.cancel();
        run.join().unwrap().unwrap()
    });
    let TimeoutOutcome::TimedOut {
        escalated,
        status,
        run,
        ..
    } = &outcome
    else {
        panic!("expected the cancel to end it as a timeout: {outcome:?}");
    };
    assert!(escalated);
    assert_eq!(status.signal, Some(libc::SIGKILL));
    assert!(
        run.warnings
            .iter()
            .any(|w| w == sysprims::CANCELLED_WARNING)
    );
    // Every process that held the pipe is gone.
    assert_eq!(reports.rest(), "");
    assert!(marked_pids(&m.0).is_empty());
}

#[test]
fn forwarded_signals_reach_the_command_and_are_reported() {
    let m = MarkerGuard(format!("0.{}", new_marker()));
    let mut reports = Reports::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let control = TimeoutControl::new()
        .unwrap()
        .with_observer(move |e| seen.lock().unwrap().push(e.clone()));
    let config = TimeoutConfig {
        stdout: reports.stdio(),
        // The shell reports the background sleep's death by USR1 on stderr.
        stderr: sysprims::StdioConfig::Null,
        ..TimeoutConfig::default()
    };
    let remote = control.clone();
    let outcome = std::thread::scope(|s| {
        let run = s.spawn(|| {
            run_with_timeout_controlled(
                "sh",
                &args(&[
                    "-c",
                    // "up" once the background sleep exists, so the USR1 reaches it too.
                    "trap 'exit 9' USR1; sleep 1000 \"$0\" & echo up; wait $!",
                    &m.0,
                ]),
                LONG,
                &config,
                &control,
            )
        });
        assert_eq!(reports.line(), "up");
        reports.close_ours();
        remote.forward(Signal::USR1);
        run.join().unwrap().unwrap()
    });
    // The background sleep got the USR1 too, but may still be on its way out when the
    // command has exited: without `cleanup` its cgroup stays until it is gone.
    let _cleanup = common::Cleanup {
        marker: m.0.clone(),
        cgroup: outcome.run().cgroup.clone(),
    };
    assert!(!outcome.timed_out());
    assert_eq!(outcome.status().exit_code, Some(9));
    assert_eq!(outcome.run().forwarded_signals, vec![Signal::USR1]);
    assert!(
        events.lock().unwrap().contains(&TimeoutEvent::Signalling {
            signal: Signal::USR1
        }),
        "{:?}",
        events.lock().unwrap()
    );
}

#[test]
fn process_group_containment_is_best_effort_and_still_ends_descendants() {
    let m = MarkerGuard(format!("0.{}", new_marker()));
    let outcome = expire_when_ready(
        "sleep 1000 \"$0\" & echo up; wait",
        &m.0,
        1,
        TimeoutConfig {
            containment: Containment::ProcessGroup,
            ..TimeoutConfig::default()
        },
    );
    assert!(outcome.timed_out());
    assert_eq!(
        outcome.run().tree_kill_reliability,
        TreeKillReliability::BestEffort
    );
    assert!(
        outcome
            .run()
            .warnings
            .iter()
            .any(|w| w.contains("best-effort")),
        "{:?}",
        outcome.run().warnings
    );
    assert!(marked_pids(&m.0).is_empty());
}

#[test]
fn foreground_keeps_the_callers_process_group() {
    let config = TimeoutConfig {
        foreground: true,
        ..TimeoutConfig::default()
    };
    // The command prints its process group; ours must match.
    let mut reports = Reports::new();
    let config = TimeoutConfig {
        stdout: reports.stdio(),
        ..config
    };
    let outcome = run_with_timeout(
        "sh",
        &args(&["-c", "cut -d' ' -f5 /proc/$$/stat"]),
        LONG,
        &config,
    )
    .unwrap();
    reports.close_ours();
    // SAFETY: getpgrp has no preconditions.
    let ours = unsafe { libc::getpgrp() };
    assert_eq!(reports.line().trim(), ours.to_string());
    assert_eq!(outcome.run().pgid, None);
}

#[test]
fn bad_commands_are_refused_by_name() {
    let config = TimeoutConfig::default();
    let err = run_with_timeout("", &[], LONG, &config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let err = run_with_timeout("sysprims-test-no-such-command", &[], LONG, &config).unwrap_err();
    assert!(
        matches!(
            err,
            SysprimsError::SpawnFailed {
                errno: Some(libc::ENOENT),
                ..
            }
        ),
        "{err:?}"
    );
    let err = run_with_timeout("/etc/passwd", &[], LONG, &config).unwrap_err();
    assert!(
        matches!(
            err,
            SysprimsError::SpawnFailed {
                errno: Some(libc::EACCES),
                ..
            }
        ),
        "{err:?}"
    );
    let bad_env = TimeoutConfig {
        env: [("A=B".to_string(), "x".to_string())].into(),
        ..TimeoutConfig::default()
    };
    let err = run_with_timeout("true", &[], LONG, &bad_env).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let err = run_with_timeout("true", &args(&["a\0b"]), LONG, &config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
