//! CancelToken: wait_pid_cancellable and terminate_tree_cancellable stopped from another
//! thread, against real processes (and a real cgroup where one is writable).
//!
//! A test cancels once the waiting thread is blocked in `poll(2)` (read from
//! `/proc/self/task/<tid>/syscall`), so the cancel is seen by a wait in progress rather than
//! at its start. Processes are found by a marker in their command line and always killed by
//! it, never by name.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc;
use std::thread::JoinHandle;

use common::{Group, MarkerGuard, require};
use sysprims::{
    CANCELLED_WARNING, CancelToken, Containment, ProcessHandle, SpawnInGroupConfig, StdioConfig,
    TerminateTreeConfig, TreeKillReliability, spawn_in_group, terminate_tree_cancellable, wait_pid,
    wait_pid_cancellable,
};

/// `poll` and `ppoll`, the calls a sysprims wait blocks in.
#[cfg(target_arch = "x86_64")]
const POLL_SYSCALLS: &[&str] = &["7", "271"];
#[cfg(target_arch = "aarch64")]
const POLL_SYSCALLS: &[&str] = &["73"];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const POLL_SYSCALLS: &[&str] = &[];

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Block until the thread `tid` of this process sits in `poll(2)`, or `worker` has finished
/// (then the cancel comes after the call; the test's assertions say whether that was fine).
fn wait_until_polling<T>(tid: i32, worker: &JoinHandle<T>) {
    let path = format!("/proc/self/task/{tid}/syscall");
    while !worker.is_finished() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let nr = text.split_whitespace().next().unwrap_or("");
        if POLL_SYSCALLS.contains(&nr) || POLL_SYSCALLS.is_empty() {
            return;
        }
        std::thread::yield_now();
    }
}

/// Run `call` on a new thread; once that thread blocks in `poll`, cancel `token`; return what
/// `call` returned.
fn cancel_while_waiting<T: Send + 'static>(
    token: std::sync::Arc<CancelToken>,
    call: impl FnOnce(&CancelToken) -> T + Send + 'static,
) -> T {
    let (tid_tx, tid_rx) = mpsc::channel();
    let waiter_token = token.clone();
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        call(&waiter_token)
    });
    let tid = tid_rx.recv().unwrap();
    wait_until_polling(tid, &worker);
    token.cancel();
    worker.join().unwrap()
}

#[test]
fn a_cancelled_wait_returns_not_exited_and_leaves_the_process_running() {
    let mut group = Group::spawn(&["sleep", "1000"]);
    let pid = group.pid;
    let token = std::sync::Arc::new(CancelToken::new().unwrap());
    assert!(!token.is_cancelled());

    let result =
        cancel_while_waiting(token.clone(), move |t| wait_pid_cancellable(pid, None, t)).unwrap();
    assert!(token.is_cancelled());
    assert_eq!(result.pid, pid);
    assert!(!result.exited, "{result:?}");
    assert!(result.timed_out, "{result:?}");
    assert!(
        result.warnings.iter().any(|w| w == CANCELLED_WARNING),
        "{result:?}"
    );
    assert_eq!(result.exit_code, None);
    // Not touched: still running, not a zombie, and not reaped.
    let info = sysprims::get_process(pid).unwrap();
    assert_ne!(info.state, sysprims::ProcessState::Zombie, "{info:?}");
    assert!(matches!(group.child.try_wait(), Ok(None)));

    // The token stays cancelled: a later wait returns at once, from several threads.
    let results: Vec<_> = std::thread::scope(|s| {
        let waits: Vec<_> = (0..4)
            .map(|_| s.spawn(|| wait_pid_cancellable(pid, None, &token).unwrap()))
            .collect();
        waits.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for r in results {
        assert!(!r.exited && r.warnings.iter().any(|w| w == CANCELLED_WARNING));
    }

    group.kill();
}

#[test]
fn an_untriggered_token_changes_nothing() {
    let mut group = Group::spawn(&["sh", "-c", "read line; exit 7"]);
    let pid = group.pid;
    let token = CancelToken::new().unwrap();
    // Closing stdin is the event that ends the child.
    drop(group.child.stdin.take());
    let result = wait_pid_cancellable(pid, None, &token).unwrap();
    assert!(result.exited);
    assert_eq!(result.exit_code, Some(7));
    assert!(!result.warnings.iter().any(|w| w == CANCELLED_WARNING));
    assert!(!token.is_cancelled());
}

#[test]
fn a_cancelled_wait_without_pidfds_returns_too() {
    common::run_ignored_scenario("no_pidfd_cancel_scenario", "NO-PIDFD-CANCEL-OK");
}

#[test]
#[ignore = "installs a seccomp filter; started by a_cancelled_wait_without_pidfds_returns_too"]
fn no_pidfd_cancel_scenario() {
    common::forbid_pidfd_open();
    let mut group = Group::spawn(&["sleep", "1000"]);
    let pid = group.pid;
    let token = std::sync::Arc::new(CancelToken::new().unwrap());
    let result = cancel_while_waiting(token, move |t| wait_pid_cancellable(pid, None, t)).unwrap();
    assert!(!result.exited, "{result:?}");
    assert!(
        result.warnings.iter().any(|w| w == CANCELLED_WARNING),
        "{result:?}"
    );
    assert!(
        result.warnings.iter().any(|w| w.contains("no pidfd")),
        "{result:?}"
    );
    assert!(matches!(group.child.try_wait(), Ok(None)));
    group.kill();
    println!("NO-PIDFD-CANCEL-OK");
}

/// A marker of digits only (it rides in `sleep`'s arguments as a fraction of a second), with
/// a guard that kills every process carrying it.
fn numeric_marker() -> MarkerGuard {
    MarkerGuard(common::new_marker())
}

/// `terminate_tree_cancellable(pid)` with a grace period far longer than any test, cancelled
/// while it waits in it: the tree must be escalated at once, with the warning.
fn terminate_cancelled_in_grace(pid: u32) -> sysprims::TerminateTreeResult {
    let token = std::sync::Arc::new(CancelToken::new().unwrap());
    let config = TerminateTreeConfig {
        grace_timeout_ms: 3_600_000,
        ..Default::default()
    };
    let result =
        cancel_while_waiting(token, move |t| terminate_tree_cancellable(pid, &config, t)).unwrap();
    assert!(result.escalated, "{result:?}");
    assert!(
        result.warnings.iter().any(|w| w == CANCELLED_WARNING),
        "{result:?}"
    );
    result
}

/// A leader that ignores TERM with two children that ignore it too, each `sleep` carrying
/// the marker; the leader reports "up" once all three are running.
fn term_ignoring_tree(marker: &str) -> Vec<String> {
    let script = r#"
m=$1
trap "" TERM
sh -c 'trap "" TERM; while :; do sleep 1000 0.$0; done' "$m" &
sh -c 'trap "" TERM; while :; do sleep 1000 0.$0; done' "$m" &
echo up
wait
"#;
    common::sh(script, marker)
}

/// Handles on every process of `root`'s tree, opened now, to wait on after the tree is
/// ended: each is waited for through its own pidfd, whatever its PID becomes.
fn hold_tree(root: u32) -> Vec<ProcessHandle> {
    sysprims::descendants(root, None)
        .unwrap()
        .nodes
        .iter()
        .filter_map(|n| ProcessHandle::open(n.process.pid).ok())
        .collect()
}

/// Block until every held process has exited.
fn wait_all_gone(held: &[ProcessHandle]) {
    for h in held {
        match wait_pid(h.pid(), None) {
            Ok(r) => assert!(r.exited, "{r:?}"),
            // Already exited and reaped by its parent.
            Err(e) => assert_eq!(e.code(), sysprims::ErrorCode::NotFound, "{e}"),
        }
    }
}

#[test]
fn a_cancel_during_the_grace_period_escalates_a_walked_tree_at_once() {
    let guard = numeric_marker();
    let argv = term_ignoring_tree(&guard.0);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let mut group = Group::spawn(&argv);
    assert_eq!(group.read_line(), "up");
    let pid = group.pid;
    // The children are running once "up" is written; their sleeps may still be starting.
    let held = hold_tree(pid);
    assert!(held.len() >= 3, "expected the leader and two children");

    let result = terminate_cancelled_in_grace(pid);
    assert_eq!(
        result.tree_kill_reliability,
        TreeKillReliability::BestEffort
    );
    assert!(result.signalled >= 3, "{result:?}");

    // Everything dies, and the leader by the kill signal.
    let status = group.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    wait_all_gone(&held);
    assert_eq!(common::marked_pids(&guard.0), Vec::<u32>::new());
}

#[test]
fn a_token_left_alone_does_not_hurry_a_graceful_tree() {
    let guard = numeric_marker();
    let marker = guard.0.clone();
    let mut group = Group::spawn(&["sh", "-c", "sleep 1000 0.$1 & echo up; wait", "sh", &marker]);
    assert_eq!(group.read_line(), "up");
    let held = hold_tree(group.pid);
    let token = CancelToken::new().unwrap();
    let result =
        terminate_tree_cancellable(group.pid, &TerminateTreeConfig::default(), &token).unwrap();
    assert!(result.exited, "{result:?}");
    assert!(!result.escalated, "{result:?}");
    assert!(!result.warnings.iter().any(|w| w == CANCELLED_WARNING));
    let status = group.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    wait_all_gone(&held);
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds that we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: just created, owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

#[test]
fn a_cancel_during_the_grace_period_kills_a_cgroup_job_whole() {
    let probe = sysprims::Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::Cgroup,
        ..Default::default()
    });
    let writable = match probe {
        Ok(mut job) => job.wait(None).is_ok(),
        Err(_) => false,
    };
    if !require("a writable cgroup v2", writable) {
        return;
    }
    let guard = numeric_marker();
    let marker = guard.0.clone();
    let (read, write) = pipe();
    let mut argv = term_ignoring_tree(&marker);
    // One escapee that leaves the tree: only the cgroup still holds it.
    argv[2] = argv[2].replace(
        "echo up",
        "setsid sh -c 'trap \"\" TERM; while :; do sleep 1000 0.$0; done' \"$m\" &\necho up",
    );
    let job = spawn_in_group(&SpawnInGroupConfig {
        argv,
        stdout: StdioConfig::File {
            path: format!("/proc/self/fd/{}", write.as_raw_fd()).into(),
            append: true,
        },
        containment: Containment::Cgroup,
        ..Default::default()
    })
    .unwrap();
    let _cleanup = common::Cleanup {
        marker: marker.clone(),
        cgroup: job.cgroup.clone(),
    };
    drop(write);
    let mut lines = BufReader::new(std::fs::File::from(read));
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "up");
    let dir = job.cgroup.clone().unwrap();
    let members: Vec<ProcessHandle> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap()
        .lines()
        .filter_map(|l| ProcessHandle::open(l.parse::<u32>().ok()?).ok())
        .collect();
    assert!(members.len() >= 4, "leader, two children, one escapee");

    let result = terminate_cancelled_in_grace(job.pid);
    assert_eq!(
        result.tree_kill_reliability,
        TreeKillReliability::Guaranteed
    );

    // The leader is our child: reap it; it died of the kill.
    let done = wait_pid(job.pid, None).unwrap();
    assert!(done.exited);
    assert_eq!(done.signal, Some(libc::SIGKILL), "{done:?}");
    wait_all_gone(&members);
    assert_eq!(common::marked_pids(&marker), Vec::<u32>::new());
    // Every holder of the pipe is gone.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    assert_eq!(rest, "");
}
