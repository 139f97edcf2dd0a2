//! Signals against real processes: delivery seen by the target, protected targets, batches,
//! handles and identity guards.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

use common::{Group, wait_exit_keep_zombie};
use sysprims::{
    ErrorCode, GuardedSignal, IdentityCheck, ProcessHandle, ProcessIdentity, ReuseReason, Signal,
    SignalOptions, TargetOutcome,
};

/// The signal that ended `group`'s leader (waits for it).
fn death_signal(group: &mut Group) -> Option<i32> {
    group.child.wait().unwrap().signal()
}

#[test]
fn the_target_dies_of_the_signal_sent() {
    for signal in [
        Signal::HUP,
        Signal::INT,
        Signal::USR1,
        Signal::TERM,
        Signal::KILL,
        Signal::ALRM,
        Signal::RTMIN,
        Signal::parse("RTMIN+1").unwrap(),
        Signal::parse("SIGRTMAX-2").unwrap(),
        Signal::RTMAX,
    ] {
        let mut g = Group::spawn(&["sleep", "1000"]);
        sysprims::kill(g.pid, signal).unwrap();
        assert_eq!(death_signal(&mut g), Some(signal.number()), "{signal}");
    }
    let mut g = Group::spawn(&["sleep", "1000"]);
    sysprims::terminate(g.pid).unwrap();
    assert_eq!(death_signal(&mut g), Some(15));
    let mut g = Group::spawn(&["sleep", "1000"]);
    sysprims::force_kill(g.pid).unwrap();
    assert_eq!(death_signal(&mut g), Some(9));
}

#[test]
fn a_trap_in_the_target_sees_the_signal() {
    let mut g = Group::spawn(&[
        "sh",
        "-c",
        "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 1 & wait $!; done",
    ]);
    assert_eq!(g.read_line(), "ready");
    sysprims::kill(g.pid, Signal::USR1).unwrap();
    assert_eq!(g.read_line(), "got-usr1");
    // End the shell's background sleep too, while the exited shell still holds the group.
    wait_exit_keep_zombie(g.pid);
    g.kill();
    assert_eq!(g.child.wait().unwrap().code(), Some(7));
}

#[test]
fn the_probe_signals_nothing_and_reports_existence() {
    let mut g = Group::spawn(&["sleep", "1000"]);
    sysprims::kill(g.pid, Signal::PROBE).unwrap();
    assert_eq!(
        g.child.try_wait().unwrap(),
        None,
        "signal 0 delivers nothing"
    );
    let gone = sysprims::kill(common::unused_pid(), Signal::PROBE).unwrap_err();
    assert_eq!(gone.code(), ErrorCode::NotFound);
    assert_eq!(gone.pid(), Some(common::unused_pid()));
    // The probe may go to the protected targets.
    sysprims::kill(1u32, Signal::PROBE).unwrap();
    sysprims::kill(std::process::id(), Signal::PROBE).unwrap();
}

#[test]
fn killpg_reaches_every_member_of_the_group() {
    let mut g = Group::spawn(&["sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait"]);
    assert_eq!(g.read_line(), "ready");
    sysprims::killpg(g.pid, Signal::TERM).unwrap();
    assert_eq!(death_signal(&mut g), Some(15));
    // Every member held the stdout pipe: end of file means every one of them has exited.
    let mut rest = String::new();
    g.lines_mut().read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
    // (The members may linger as zombies until init reaps them, and a group of zombies still
    // takes signals; a group that never existed does not.)
    let e = sysprims::killpg(common::unused_pid(), Signal::TERM).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(e.to_string().contains("process group"), "{e}");
}

#[test]
fn protected_targets_are_refused_and_not_signalled() {
    let me = std::process::id();
    for (what, result) in [
        ("PID 1", sysprims::kill(1u32, Signal::TERM)),
        ("PID 1", sysprims::force_kill(1u32)),
        ("self", sysprims::kill(me, Signal::KILL)),
        ("self", sysprims::terminate(me)),
        ("group 1", sysprims::killpg(1u32, Signal::TERM)),
    ] {
        let e = result.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{what}: {e}");
        assert!(e.to_string().contains("refused"), "{what}: {e}");
    }
    // Our own process group (the test harness's).
    let own = rustix_pgrp();
    let e = sysprims::killpg(own, Signal::KILL).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.to_string().contains("own process group"), "{e}");
    // A handle and a guarded signal refuse the caller too.
    let handle = ProcessHandle::open(me).unwrap();
    assert_eq!(
        handle.signal(Signal::TERM).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    let identity = ProcessIdentity::of(me).unwrap();
    assert_eq!(
        sysprims::signal_if(&identity, Signal::TERM)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    // We are still here, and so is init: nothing was sent.
    sysprims::kill(1u32, Signal::PROBE).unwrap();
}

fn rustix_pgrp() -> u32 {
    // SAFETY: getpgrp has no preconditions.
    (unsafe { libc::getpgrp() }) as u32
}

#[test]
fn the_override_allows_a_protected_target() {
    // A child that is its own process group leader signals its own group with the override:
    // the library refuses without it. Run in a child so the test harness survives.
    let me = std::env::current_exe().unwrap();
    let run = |allow: &str| {
        Command::new(&me)
            .args([
                "own_group_scenario",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SCENARIO_ALLOW", allow)
            .process_group(0)
            .output()
            .unwrap()
    };
    let refused = run("0");
    assert!(
        refused.status.success(),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stdout).contains("REFUSED"));
    let allowed = run("1");
    assert_eq!(
        allowed.status.signal(),
        Some(libc::SIGUSR1),
        "with the override the group (and so the scenario) got SIGUSR1"
    );
}

#[test]
#[ignore = "started by the_override_allows_a_protected_target, in a process group of its own"]
fn own_group_scenario() {
    let own = rustix_pgrp();
    assert_eq!(own, std::process::id(), "must lead its own process group");
    if std::env::var("SCENARIO_ALLOW").as_deref() == Ok("1") {
        sysprims::killpg_with(own, Signal::USR1, SignalOptions::allowing_protected()).unwrap();
        // SIGUSR1 is on its way; wait for it.
        loop {
            std::thread::park();
        }
    }
    let e = sysprims::killpg(own, Signal::USR1).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    println!("REFUSED");
}

#[test]
fn kill_many_reports_each_target() {
    let mut a = Group::spawn(&["sleep", "1000"]);
    let mut b = Group::spawn(&["sleep", "1000"]);
    let gone = common::unused_pid();
    let report = sysprims::kill_many([a.pid, gone, b.pid, a.pid, 1], Signal::TERM).unwrap();
    let outcomes: Vec<(u32, TargetOutcome)> =
        report.targets.iter().map(|t| (t.pid, t.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (a.pid, TargetOutcome::Signalled),
            (gone, TargetOutcome::Gone),
            (b.pid, TargetOutcome::Signalled),
            (1, TargetOutcome::Refused),
        ],
        "one entry per PID, in order, duplicates once"
    );
    assert_eq!(
        report.targets[1].error.as_ref().unwrap().code,
        ErrorCode::NotFound
    );
    assert!(!report.all_signalled());
    assert_eq!(report.signal_name, "SIGTERM");
    assert_eq!(death_signal(&mut a), Some(15));
    assert_eq!(death_signal(&mut b), Some(15));
}

#[test]
fn kill_many_sends_nothing_when_any_pid_is_invalid() {
    let mut a = Group::spawn(&["sleep", "1000"]);
    for bad in [0i64, -1, 2_147_483_648, 4_294_967_295] {
        let e = sysprims::kill_many([i64::from(a.pid), bad], Signal::KILL).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad}");
        assert!(e.to_string().contains(&bad.to_string()), "{e}");
    }
    assert_eq!(
        a.child.try_wait().unwrap(),
        None,
        "the valid PID was not signalled"
    );
    sysprims::kill(a.pid, Signal::PROBE).unwrap();
}

#[test]
fn a_handle_keeps_naming_its_process_after_it_exits() {
    let mut g = Group::spawn(&["sleep", "1000"]);
    let handle = ProcessHandle::open(g.pid).unwrap();
    assert!(handle.has_pidfd(), "this kernel has pidfds");
    let identity = handle.identity().unwrap();
    assert_eq!(identity, ProcessIdentity::of(g.pid).unwrap());
    assert_eq!(handle.verify(&identity).unwrap(), IdentityCheck::Same);

    handle.signal(Signal::STOP).unwrap();
    common::wait_stopped(g.pid);
    handle.signal(Signal::KILL).unwrap();
    wait_exit_keep_zombie(g.pid);
    // A zombie is still present, and signalling it is harmless.
    assert!(handle.is_present().unwrap());
    g.child.wait().unwrap();
    assert!(!handle.is_present().unwrap());
    assert_eq!(
        handle.signal(Signal::TERM).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        handle.signal_if(&identity, Signal::TERM).unwrap(),
        GuardedSignal::Gone
    );
    assert_eq!(
        sysprims::signal_if(&identity, Signal::TERM).unwrap(),
        GuardedSignal::Gone
    );
}

#[test]
fn signal_if_signals_the_identified_process_and_refuses_another() {
    let mut g = Group::spawn(&["sleep", "1000"]);
    let real = ProcessIdentity::of(g.pid).unwrap();

    // Identities that do not match: nothing is sent.
    let mut other_start = real.clone();
    other_start.pidfs_inode = None;
    other_start.start_time_boot_ticks = real.start_time_boot_ticks.map(|t| t + 1);
    let wrong_exe = ProcessIdentity::from_parts(g.pid, None, Some("/usr/bin/false".into()));
    let mut other_inode = real.clone();
    other_inode.pidfs_inode = real.pidfs_inode.map(|i| i + 1);
    let seed_style = ProcessIdentity::from_parts(g.pid, Some(1_000), None);
    for (identity, expect) in [
        (&other_start, "start"),
        (&wrong_exe, "exe"),
        (&other_inode, "inode"),
        (&seed_style, "start"),
    ] {
        if identity.pidfs_inode.is_none() && expect == "inode" {
            continue;
        }
        match sysprims::signal_if(identity, Signal::KILL).unwrap() {
            GuardedSignal::Reused { reason } => match (expect, reason) {
                ("start", ReuseReason::StartTimeMismatch { .. })
                | ("exe", ReuseReason::ExePathChanged { .. })
                | ("inode", ReuseReason::PidfsInodeMismatch { .. }) => {}
                (_, reason) => panic!("{expect}: wrong evidence {reason:?}"),
            },
            other => panic!("{expect}: {other:?}"),
        }
    }
    assert_eq!(g.child.try_wait().unwrap(), None, "nothing was sent");

    // The right identity: signalled, through the pidfd, without warnings.
    assert_eq!(
        sysprims::signal_if(&real, Signal::TERM).unwrap(),
        GuardedSignal::Signalled { warnings: vec![] }
    );
    assert_eq!(death_signal(&mut g), Some(15));

    let e = sysprims::signal_if(
        &ProcessIdentity::from_parts(g.pid, None, None),
        Signal::TERM,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "nothing to verify");
}

#[test]
fn a_process_that_calls_execve_keeps_its_identity_by_pidfs_inode() {
    // sh records its identity, then becomes sleep: the same process, another executable.
    let mut g = Group::spawn(&["sh", "-c", "read x; exec sleep 1000"]);
    let before = ProcessIdentity::of(g.pid).unwrap();
    if before.pidfs_inode.is_none() {
        eprintln!("SKIPPED: no pidfs on this kernel; the exe path decides there");
        return;
    }
    g.child.stdin.take(); // EOF: sh execs sleep
    wait_for_exe(g.pid, "sleep");
    assert_eq!(
        sysprims::signal_if(&before, Signal::TERM).unwrap(),
        GuardedSignal::Signalled { warnings: vec![] }
    );
    assert_eq!(death_signal(&mut g), Some(15));
}

/// Until `pid` runs an executable whose name ends with `name`: follows the exec through
/// `/proc/PID/exe`, which changes exactly when execve commits.
fn wait_for_exe(pid: u32, name: &str) {
    let path = format!("/proc/{pid}/exe");
    for _ in 0..1_000_000 {
        if std::fs::read_link(&path).is_ok_and(|p| p.ends_with(name)) {
            return;
        }
        std::thread::yield_now();
    }
    panic!("{pid} never ran {name}");
}

#[test]
fn a_thread_id_is_not_a_process_handle() {
    // kill(2) takes a thread ID and signals its whole process; a pidfd cannot be opened on
    // one. If that guard failed, SIGKILL would end this test binary.
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() } as u32).unwrap();
        let _ = done_rx.recv();
    });
    let tid = rx.recv().unwrap();
    assert_ne!(tid, std::process::id());
    // Refused, with the process named (not "not found", which would hide the mistake).
    let me = std::process::id();
    let err = ProcessHandle::open(tid).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(
        err.to_string().contains(&format!("thread of process {me}")),
        "{err}"
    );
    let identity = ProcessIdentity::from_parts(tid, Some(1), None);
    let err = sysprims::signal_if(&identity, Signal::KILL).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    done_tx.send(()).unwrap();
    thread.join().unwrap();
}

#[test]
#[ignore = "installs a seccomp filter; started by without_pidfds_kill_2_is_used_and_said"]
fn no_pidfd_scenario() {
    common::forbid_pidfd_open();
    let mut g = Group::spawn(&["sleep", "1000"]);
    let handle = ProcessHandle::open(g.pid).unwrap();
    assert!(!handle.has_pidfd());
    let identity = ProcessIdentity::of(g.pid).unwrap();
    assert_eq!(identity.pidfs_inode, None);
    assert_eq!(handle.verify(&identity).unwrap(), IdentityCheck::Same);
    let mut wrong = identity.clone();
    wrong.start_time_boot_ticks = identity.start_time_boot_ticks.map(|t| t + 1);
    assert!(matches!(
        sysprims::signal_if(&wrong, Signal::TERM).unwrap(),
        GuardedSignal::Reused { .. }
    ));
    match sysprims::signal_if(&identity, Signal::TERM).unwrap() {
        GuardedSignal::Signalled { warnings } => {
            assert_eq!(warnings.len(), 1);
            assert!(warnings[0].contains("kill(2)"), "{warnings:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(death_signal(&mut g), Some(15));
    println!("NO-PIDFD-OK");
}

#[test]
fn without_pidfds_kill_2_is_used_and_said() {
    common::run_ignored_scenario("no_pidfd_scenario", "NO-PIDFD-OK");
}
