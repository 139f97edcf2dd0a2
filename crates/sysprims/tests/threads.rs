//! Thread IDs are not processes. `kill(2)` given the ID of a thread signals the whole process
//! the thread belongs to, and `/proc/<tid>` answers for it though `/proc` does not list it, so
//! every entry point must refuse a thread ID with an error that names its process, and send
//! nothing.
//!
//! Before the fix `kill(<a thread of this test process>, SIGTERM)` ended this test binary.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{Group, require, run_ignored_scenario, term_pending};
use sysprims::{
    ErrorCode, KillDescendantsOptions, ProcessHandle, ProcessIdentity, Signal, SignalOptions,
    SysprimsError, TerminateTreeConfig,
};

/// A thread of this process, alive until the value is dropped; `tid` is its kernel ID.
struct OwnThread {
    tid: u32,
    stop: Option<mpsc::Sender<()>>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl OwnThread {
    fn start() -> OwnThread {
        let (tid_tx, tid_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let join = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() } as u32;
            tid_tx.send(tid).unwrap();
            let _ = stop_rx.recv();
        });
        let tid = tid_rx.recv().unwrap();
        assert_ne!(tid, std::process::id());
        OwnThread {
            tid,
            stop: Some(stop_tx),
            join: Some(join),
        }
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

/// The error every entry point must give for thread `tid` of process `tgid`.
fn assert_thread_error(
    what: &str,
    result: Result<impl std::fmt::Debug, SysprimsError>,
    tid: u32,
    tgid: u32,
) {
    let err = match result {
        Ok(v) => panic!("{what}({tid}) accepted a thread ID: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{what}: {err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{tid} is a thread of process {tgid}")),
        "{what}: {msg}"
    );
    assert!(
        msg.contains(&format!("\"{tid}\"")),
        "{what} names the value: {msg}"
    );
}

/// Every entry point that takes a PID, given `tid` (a thread of process `tgid`), refuses it
/// with the thread error.
fn every_entry_point_refuses(tid: u32, tgid: u32) {
    assert_thread_error("kill", sysprims::kill(tid, Signal::TERM), tid, tgid);
    assert_thread_error("kill(probe)", sysprims::kill(tid, Signal::PROBE), tid, tgid);
    assert_thread_error(
        "kill_with(allow_protected)",
        sysprims::kill_with(tid, Signal::TERM, SignalOptions::allowing_protected()),
        tid,
        tgid,
    );
    assert_thread_error("terminate", sysprims::terminate(tid), tid, tgid);
    assert_thread_error(
        "can_signal",
        sysprims::can_signal(tid, Signal::TERM, SignalOptions::default()),
        tid,
        tgid,
    );
    assert_thread_error(
        "kill_many",
        sysprims::kill_many([tid], Signal::TERM),
        tid,
        tgid,
    );
    assert_thread_error("ProcessHandle::open", ProcessHandle::open(tid), tid, tgid);
    assert_thread_error("ProcessIdentity::of", ProcessIdentity::of(tid), tid, tgid);
    let guard = ProcessIdentity::from_parts(tid, Some(1), None);
    assert_thread_error(
        "signal_if",
        sysprims::signal_if(&guard, Signal::TERM),
        tid,
        tgid,
    );
    assert_thread_error(
        "verify_identity",
        sysprims::verify_identity(&guard),
        tid,
        tgid,
    );
    assert_thread_error("get_process", sysprims::get_process(tid), tid, tgid);
    assert_thread_error("descendants", sysprims::descendants(tid, None), tid, tgid);
    let config = TerminateTreeConfig {
        grace_timeout_ms: 0,
        kill_timeout_ms: 1000,
        ..TerminateTreeConfig::default()
    };
    assert_thread_error(
        "terminate_tree",
        sysprims::terminate_tree(tid, &config),
        tid,
        tgid,
    );
    assert_thread_error(
        "kill_descendants",
        sysprims::kill_descendants(tid, Signal::TERM, &KillDescendantsOptions::default()),
        tid,
        tgid,
    );
    assert_thread_error(
        "wait_pid",
        sysprims::wait_pid(tid, Some(Duration::from_secs(5))),
        tid,
        tgid,
    );
    assert_thread_error(
        "require_process",
        sysprims::pid::require_process(tid),
        tid,
        tgid,
    );
}

#[test]
fn a_thread_of_the_caller_is_not_a_process() {
    let me = std::process::id();
    let thread = OwnThread::start();
    every_entry_point_refuses(thread.tid, me);
    // Still here, and nothing pending: no signal reached this process.
    assert!(!term_pending(me));
    // The leader's own PID is a process.
    assert_eq!(sysprims::pid::require_process(me).unwrap().get(), me);
    sysprims::kill(me, Signal::PROBE).unwrap();
}

/// A kill batch with one thread ID in it sends nothing, not even to the valid targets.
#[test]
fn a_batch_with_a_thread_id_sends_nothing() {
    let thread = OwnThread::start();
    let mut child = blocked_term_child();
    let err = sysprims::kill_many([child.pid, thread.tid], Signal::TERM).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(
        !term_pending(child.pid),
        "the valid target was signalled too"
    );
    child.kill();
}

/// `sleep` with SIGTERM blocked, so a TERM sent to it stays pending and is seen for certain.
fn blocked_term_child() -> Group {
    let mut cmd = Command::new("sleep");
    cmd.arg("1000");
    block_term(&mut cmd);
    Group::spawn_with(&mut cmd)
}

fn block_term(cmd: &mut Command) {
    // SAFETY: sigprocmask on the child's own mask between fork and exec; async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// The helper child of [`a_thread_of_a_child_is_not_a_process`]: with SIGTERM blocked (in
/// every thread: the mask is inherited), start a thread, print `<pid> <tid>`, and live until
/// stdin closes.
#[test]
#[ignore = "a helper process; started by a_thread_of_a_child_is_not_a_process"]
fn thread_holder() {
    let thread = OwnThread::start();
    println!("THREAD {} {}", std::process::id(), thread.tid);
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
}

/// Start [`thread_holder`] as a child; its PID and its thread's ID.
fn thread_holder_child() -> (Group, u32) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "thread_holder",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    block_term(&mut cmd);
    let mut child = Group::spawn_with(&mut cmd);
    let (pid, tid) = loop {
        let line = child.read_line();
        // The harness may have started the line with "test thread_holder ... ".
        if let Some((_, rest)) = line.split_once("THREAD ") {
            let (pid, tid) = rest.split_once(' ').unwrap();
            break (pid.parse::<u32>().unwrap(), tid.parse::<u32>().unwrap());
        }
    };
    assert_eq!(pid, child.pid);
    (child, tid)
}

#[test]
fn a_thread_of_a_child_is_not_a_process() {
    let (mut child, tid) = thread_holder_child();
    every_entry_point_refuses(tid, child.pid);
    assert!(!term_pending(child.pid), "a signal reached the child");
    assert_eq!(child.child.try_wait().unwrap(), None);
    // Its PID is a process, and a signal to that PID arrives.
    sysprims::kill(child.pid, Signal::TERM).unwrap();
    assert!(term_pending(child.pid));
    child.kill();
}

/// Where `pidfd_open` is missing or forbidden, the thread is recognised through `/proc`.
#[test]
#[ignore = "installs a seccomp filter; started by threads_are_refused_without_pidfds"]
fn threads_without_pidfds_scenario() {
    common::forbid_pidfd_open();
    let thread = OwnThread::start();
    every_entry_point_refuses(thread.tid, std::process::id());
    assert!(!term_pending(std::process::id()));
    println!("NO-PIDFD-THREADS ok");
}

#[test]
fn threads_are_refused_without_pidfds() {
    if !require("seccomp (for a process without pidfd_open)", true) {
        return;
    }
    run_ignored_scenario("threads_without_pidfds_scenario", "NO-PIDFD-THREADS ok");
}

/// Kernel threads are never targets: kthreadd's children (every `kworker/...`) all match
/// `name_contains: "worker"`, and before the fix `kill_descendants(2, ...)` listed them.
#[test]
fn kill_descendants_never_targets_kernel_threads() {
    let kthreadd = sysprims::get_process(2u32);
    if !require(
        "kthreadd as PID 2 (not inside a PID namespace)",
        kthreadd.as_ref().is_ok_and(|p| p.kernel_thread),
    ) {
        return;
    }
    let children = sysprims::descendants(2u32, Some(1)).unwrap();
    assert!(
        children.descendants().any(|n| n.process.kernel_thread),
        "kthreadd has kernel-thread children"
    );
    for filter in [
        sysprims::ProcessFilter::default(),
        sysprims::ProcessFilter {
            name_contains: Some("worker".into()),
            ..Default::default()
        },
    ] {
        let options = KillDescendantsOptions {
            filter,
            dry_run: true,
            ..Default::default()
        };
        let report = sysprims::kill_descendants(2u32, Signal::TERM, &options).unwrap();
        assert!(report.targets.is_empty(), "{:?}", report.targets);
    }
}
