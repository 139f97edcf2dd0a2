//! Same-tick PID reuse against guards built from [`sysprims::get_process`]: what a C or Go
//! caller stores is a `ProcessInfo`, so the identity it can build from one must tell the
//! process apart from a newcomer of the same program that took its PID within the same clock
//! tick (10 ms). Run in a fresh PID namespace, where writing `/proc/sys/kernel/ns_last_pid`
//! decides the next PID.
//!
//! Before the fix a `ProcessInfo` held only `start_time_unix_ms` and `exe_path`, and the guard
//! built from them signalled the newcomer in nearly every same-tick round.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use common::{have, is_root, require, run_in_pid_namespace, spawn_term_blocked, term_pending};
use sysprims::{GuardedSignal, IdentityCheck, ProcessIdentity, Signal, TerminateTreeConfig};

/// Same-tick rounds wanted.
const ROUNDS: usize = 10;
/// Tries per round to get a newcomer into the old process's clock tick.
const TRIES: usize = 500;

#[test]
#[ignore = "runs inside a PID namespace; started by guards_from_process_info_survive_same_tick_reuse"]
fn info_reuse_scenario() {
    assert_eq!(
        std::process::id(),
        1,
        "must run as PID 1 of its own PID namespace"
    );
    let (mut rounds, mut weak_hits, mut strong_hits, mut tries) = (0, 0, 0, 0);
    while rounds < ROUNDS && tries < ROUNDS * TRIES {
        tries += 1;
        let mut old = spawn_term_blocked();
        let info = sysprims::get_process(old.pid).unwrap();
        assert!(
            info.pidfs_inode.is_some(),
            "get_process fills pidfs_inode on 6.9+"
        );
        assert!(info.boot_id.is_some() && info.start_time_boot_ticks.is_some());
        let strong = info.identity();
        let weak =
            ProcessIdentity::from_parts(info.pid, info.start_time_unix_ms, info.exe_path.clone());
        old.kill();
        std::fs::write("/proc/sys/kernel/ns_last_pid", (info.pid - 1).to_string()).unwrap();
        let mut newcomer = spawn_term_blocked();
        assert_eq!(newcomer.pid, info.pid, "ns_last_pid did not force reuse");
        let now = sysprims::get_process(newcomer.pid).unwrap();
        if now.start_time_boot_ticks != info.start_time_boot_ticks {
            continue; // another tick: not the case under test
        }
        rounds += 1;
        // Everything the weak form compares is equal.
        assert_eq!(now.start_time_unix_ms, info.start_time_unix_ms);
        assert_eq!(now.exe_path, info.exe_path);
        assert_ne!(now.pidfs_inode, info.pidfs_inode);

        // The strong identity, as get_process returned it: every guard refuses.
        assert!(matches!(
            sysprims::verify_identity(&strong).unwrap(),
            IdentityCheck::Reused { .. }
        ));
        assert!(matches!(
            sysprims::signal_if(&strong, Signal::TERM).unwrap(),
            GuardedSignal::Reused { .. }
        ));
        let config = TerminateTreeConfig {
            grace_timeout_ms: 0,
            kill_timeout_ms: 1000,
            signal: Signal::TERM,
            kill_signal: Signal::TERM,
            require_identity: Some(strong.clone()),
            ..TerminateTreeConfig::default()
        };
        let err = sysprims::terminate_tree(newcomer.pid, &config).unwrap_err();
        assert_eq!(err.code(), sysprims::ErrorCode::NotFound, "{err}");
        if term_pending(newcomer.pid) {
            strong_hits += 1;
        }
        // The weak form (start ms + exe) cannot tell them apart: it signals the newcomer.
        if sysprims::signal_if(&weak, Signal::TERM).unwrap()
            == (GuardedSignal::Signalled { warnings: vec![] })
        {
            weak_hits += 1;
        }
        newcomer.kill();
    }
    println!(
        "INFO-REUSE rounds={rounds} tries={tries} strong_hits={strong_hits} weak_hits={weak_hits}"
    );
}

#[test]
fn guards_from_process_info_survive_same_tick_reuse() {
    if !require(
        "root (to create a PID namespace and write ns_last_pid)",
        is_root(),
    ) || !require("unshare(1)", have("unshare"))
        || !require(
            "pidfs (Linux 6.9+), the only thing that tells same-tick processes apart",
            sysprims::get_process(std::process::id())
                .unwrap()
                .pidfs_inode
                .is_some(),
        )
    {
        return;
    }
    let stdout = run_in_pid_namespace("info_reuse_scenario");
    let line = stdout
        .lines()
        .find_map(|l| l.find("INFO-REUSE").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    println!("{line}");
    let field = |name: &str| -> usize {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(field("rounds") >= 1, "no same-tick reuse happened: {line}");
    assert_eq!(field("strong_hits"), 0, "{line}");
    // Shown, not required: the weak form is hit whenever the tick matches.
    assert_eq!(field("weak_hits"), field("rounds"), "{line}");
}
