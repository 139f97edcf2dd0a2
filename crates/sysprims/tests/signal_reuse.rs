//! Forced PID reuse: a guarded signal aimed at a process that has gone must never reach the
//! newcomer that took its PID. Run in a fresh PID namespace, where writing
//! `/proc/sys/kernel/ns_last_pid` decides the next PID.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use common::{
    Group, have, is_root, require, run_in_pid_namespace, spawn_term_blocked, term_pending,
};
use sysprims::{GuardedSignal, ProcessIdentity, Signal};

const ROUNDS: usize = 100;

/// Make the next process get `pid`.
fn next_pid_is(pid: u32) {
    std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).unwrap();
}

/// Start the old process, store its identity (shaped by `keep`), end it, and start a newcomer
/// with its PID. With `different_tick`, retry until the newcomer started in a later clock
/// tick, since without a pidfs inode nothing can tell two processes of the same program
/// started in the same 10 ms apart.
fn reuse(
    keep: impl Fn(ProcessIdentity) -> ProcessIdentity,
    different_tick: bool,
) -> (ProcessIdentity, Group) {
    let mut old = spawn_term_blocked();
    let stored = keep(ProcessIdentity::of(old.pid).unwrap());
    old.kill();
    for _ in 0..10_000 {
        next_pid_is(stored.pid);
        let mut newcomer = spawn_term_blocked();
        assert_eq!(newcomer.pid, stored.pid, "ns_last_pid did not force reuse");
        let ticks = ProcessIdentity::of(newcomer.pid)
            .unwrap()
            .start_time_boot_ticks;
        if !different_tick || ticks != stored.start_time_boot_ticks {
            return (stored, newcomer);
        }
        newcomer.kill();
    }
    panic!("the clock did not tick");
}

/// The scenario, run as PID 1 of a fresh PID namespace by the test below.
#[test]
#[ignore = "runs inside a PID namespace; started by guarded_signals_never_hit_a_reused_pid"]
fn signal_reuse_scenario() {
    assert_eq!(
        std::process::id(),
        1,
        "must run as PID 1 of its own PID namespace"
    );
    let mut refused = [0; 2];
    let mut wrong = 0;
    let mut control = 0;
    for (kind, keep_inode) in [(0, true), (1, false)] {
        for round in 0..ROUNDS {
            let (stored, newcomer) = reuse(
                |mut id| {
                    if !keep_inode {
                        id.pidfs_inode = None;
                    }
                    id
                },
                !keep_inode,
            );
            if kind == 0 && stored.pidfs_inode.is_none() {
                println!("SIGNAL-REUSE no pidfs on this kernel");
            }
            match sysprims::signal_if(&stored, Signal::TERM).unwrap() {
                GuardedSignal::Reused { .. } => refused[kind] += 1,
                other => println!("round {kind}/{round}: {other:?}"),
            }
            if term_pending(newcomer.pid) {
                wrong += 1;
            }
            // Positive control: the newcomer's own identity lets the signal through.
            let own = ProcessIdentity::of(newcomer.pid).unwrap();
            if sysprims::signal_if(&own, Signal::TERM).unwrap()
                == (GuardedSignal::Signalled { warnings: vec![] })
                && term_pending(newcomer.pid)
            {
                control += 1;
            }
        }
    }
    println!(
        "SIGNAL-REUSE full={} ticks={} wrong={wrong} control={control} rounds={ROUNDS}",
        refused[0], refused[1]
    );
}

#[test]
fn guarded_signals_never_hit_a_reused_pid() {
    if !require(
        "root (to create a PID namespace and write ns_last_pid)",
        is_root(),
    ) || !require("unshare(1)", have("unshare"))
    {
        return;
    }
    let stdout = run_in_pid_namespace("signal_reuse_scenario");
    let expected = format!(
        "SIGNAL-REUSE full={ROUNDS} ticks={ROUNDS} wrong=0 control={} rounds={ROUNDS}",
        2 * ROUNDS
    );
    assert!(stdout.contains(&expected), "want {expected:?}:\n{stdout}");
    println!(
        "{}",
        stdout
            .lines()
            .filter(|l| l.starts_with("SIGNAL-REUSE"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
