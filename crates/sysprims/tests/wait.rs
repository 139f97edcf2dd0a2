//! `wait_pid` against real processes: our children (exit codes, signals, zombies), processes
//! that are not our children, timeouts, bad PIDs, and the fallback without pidfds.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Group, run_ignored_scenario, wait_exit_keep_zombie};
use sysprims::{ErrorCode, Signal, wait_pid};

const LONG: Option<Duration> = Some(Duration::from_secs(30));

/// A parent that never reaps: python starts `argv` as its child, prints the child's PID, and
/// blocks reading its input. (A shell that starts a background job and then execs can reap
/// the job before the exec, if it has already exited.)
fn non_reaping_parent(argv: &[&str]) -> (Group, u32) {
    let mut cmd = vec![
        "python3",
        "-c",
        "import subprocess, sys; p = subprocess.Popen(sys.argv[1:]); print(p.pid, flush=True); sys.stdin.read()",
    ];
    cmd.extend_from_slice(argv);
    let mut g = Group::spawn(&cmd);
    let pid = g.read_line().parse().unwrap();
    (g, pid)
}

/// A FIFO in a fresh directory, removed on drop.
struct Fifo(std::path::PathBuf);

impl Fifo {
    fn new() -> Fifo {
        let dir = std::env::temp_dir().join(common::marker("fifo"));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("fifo");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        Fifo(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// Open for writing (blocks until the reader has opened it) and write a line.
    fn release(&self) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.0)
            .unwrap();
        f.write_all(b"go\n").unwrap();
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn our_child_is_reaped_with_its_exit_code() {
    let mut g = Group::spawn(&["sh", "-c", "read line; exit 7"]);
    drop(g.child.stdin.take()); // end of input: the shell exits
    let r = wait_pid(g.pid, LONG).unwrap();
    assert!(r.exited && !r.timed_out, "{r:?}");
    assert_eq!((r.exit_code, r.signal), (Some(7), None));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.pid, g.pid);
    assert_eq!(r.schema_id, sysprims::WAIT_PID_RESULT_SCHEMA_ID);
    // Reaped: the PID is free, and std's wait finds no child left.
    assert_eq!(
        g.child.wait().unwrap_err().raw_os_error(),
        Some(libc::ECHILD)
    );
}

#[test]
fn our_child_killed_by_a_signal_reports_the_signal() {
    let g = Group::spawn(&["sleep", "1000"]);
    // Waiting in another thread: the exit arrives while wait_pid is blocked in poll.
    let pid = g.pid;
    let waiter = std::thread::spawn(move || wait_pid(pid, LONG).unwrap());
    sysprims::kill(g.pid, Signal::USR1).unwrap();
    let r = waiter.join().unwrap();
    assert!(r.exited, "{r:?}");
    assert_eq!((r.exit_code, r.signal), (None, Some(libc::SIGUSR1)));
}

#[test]
fn a_zombie_child_counts_as_exited_at_once() {
    let mut g = Group::spawn(&["sh", "-c", "exit 3"]);
    wait_exit_keep_zombie(g.pid);
    let r = wait_pid(g.pid, Some(Duration::from_secs(5))).unwrap();
    assert!(r.exited && !r.timed_out, "{r:?}");
    assert_eq!(r.exit_code, Some(3));
    assert!(g.child.try_wait().is_err(), "wait_pid reaped it");
}

#[test]
fn a_timeout_is_a_result_and_the_process_runs_on() {
    let mut g = Group::spawn(&["sleep", "1000"]);
    let started = Instant::now();
    let r = wait_pid(g.pid, Some(Duration::from_millis(50))).unwrap();
    let took = started.elapsed();
    assert!(!r.exited && r.timed_out, "{r:?}");
    assert_eq!((r.exit_code, r.signal), (None, None));
    assert!(took >= Duration::from_millis(50), "{took:?}");
    assert!(g.child.try_wait().unwrap().is_none(), "still running");
    // A zero timeout is a probe.
    let r = wait_pid(g.pid, Some(Duration::ZERO)).unwrap();
    assert!(r.timed_out && !r.exited);
}

#[test]
fn a_grandchild_left_as_a_zombie_gives_its_status_from_proc() {
    // The grandchild waits on a FIFO, then exits 6; its parent never reaps it, so it stays a
    // zombie whose status /proc shows.
    let fifo = Fifo::new();
    let script = format!("read x < {}; exit 6", fifo.path());
    let (mut g, grandchild) = non_reaping_parent(&["sh", "-c", &script]);
    let waiter = std::thread::spawn(move || wait_pid(grandchild, LONG).unwrap());
    fifo.release();
    let r = waiter.join().unwrap();
    assert!(r.exited && !r.timed_out, "{r:?}");
    assert_eq!((r.exit_code, r.signal), (Some(6), None), "{r:?}");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // Not reaped by us: still a zombie, its parent's to reap.
    let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap();
    assert!(stat.contains(") Z "), "{stat}");

    // Killed by a signal, same shape.
    let (mut g2, grandchild) = non_reaping_parent(&["sleep", "1000"]);
    sysprims::kill(grandchild, Signal::USR1).unwrap();
    let r = wait_pid(grandchild, LONG).unwrap();
    assert!(r.exited);
    assert_eq!(
        (r.exit_code, r.signal),
        (None, Some(libc::SIGUSR1)),
        "{r:?}"
    );
    g.kill();
    g2.kill();
}

#[test]
fn a_grandchild_whose_parent_reaps_it_is_exited_with_status_or_a_warning() {
    let mut g = Group::spawn(&[
        "sh",
        "-c",
        "sleep 1000 & echo $!; wait; echo reaped; read x",
    ]);
    let grandchild: u32 = g.read_line().parse().unwrap();
    // Kill only once the waiter is blocked in poll: otherwise the parent may reap the
    // grandchild before wait_pid even opens it.
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() }).unwrap();
        wait_pid(grandchild, LONG).unwrap()
    });
    wait_until_in_poll(rx.recv().unwrap());
    sysprims::kill(grandchild, Signal::TERM).unwrap();
    let r = waiter.join().unwrap();
    assert!(r.exited && !r.timed_out, "{r:?}");
    // Either we read the zombie's status before its parent reaped it, or the result says why
    // the status is unknown.
    match r.signal {
        Some(sig) => assert_eq!(sig, libc::SIGTERM),
        None => {
            assert_eq!(r.exit_code, None);
            assert!(
                r.warnings
                    .iter()
                    .any(|w| w.contains("not the caller's child")),
                "{:?}",
                r.warnings
            );
        }
    }
    assert_eq!(g.read_line(), "reaped");
}

/// Block until thread `tid` of this process is inside `ppoll` (which `poll` with a timeout
/// becomes), as `/proc/self/task/<tid>/syscall` shows.
fn wait_until_in_poll(tid: i32) {
    let path = format!("/proc/self/task/{tid}/syscall");
    loop {
        let text = std::fs::read_to_string(&path).unwrap();
        let nr = text.split_whitespace().next().unwrap_or("");
        if nr == libc::SYS_ppoll.to_string() || nr == libc::SYS_poll.to_string() {
            return;
        }
        std::thread::yield_now();
    }
}

#[test]
fn bad_and_missing_pids() {
    for bad in [0u32, u32::MAX, i32::MAX as u32 + 1] {
        let e = wait_pid(bad, Some(Duration::ZERO)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad}: {e}");
    }
    let e = wait_pid(common::unused_pid(), LONG).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert_eq!(e.pid(), Some(common::unused_pid()));
    let e = wait_pid(std::process::id(), Some(Duration::ZERO)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
}

#[test]
#[ignore = "installs a seccomp filter; started by without_pidfds_the_wait_falls_back_and_says_so"]
fn no_pidfd_wait_scenario() {
    common::forbid_pidfd_open();
    // Our child, exit code.
    let mut g = Group::spawn(&["sh", "-c", "read x; exit 5"]);
    drop(g.child.stdin.take());
    let r = wait_pid(g.pid, LONG).unwrap();
    assert!(r.exited, "{r:?}");
    assert_eq!(r.exit_code, Some(5));
    assert!(r.warnings.iter().any(|w| w.contains("no pidfd")), "{r:?}");
    // Timeout.
    let g = Group::spawn(&["sleep", "1000"]);
    let r = wait_pid(g.pid, Some(Duration::from_millis(30))).unwrap();
    assert!(r.timed_out && !r.exited, "{r:?}");
    // A non-child zombie.
    let (mut g, grandchild) = non_reaping_parent(&["sleep", "1000"]);
    sysprims::kill(grandchild, Signal::TERM).unwrap();
    let r = wait_pid(grandchild, LONG).unwrap();
    assert!(r.exited, "{r:?}");
    assert_eq!(r.signal, Some(libc::SIGTERM), "{r:?}");
    assert_eq!(
        wait_pid(common::unused_pid(), LONG).unwrap_err().code(),
        ErrorCode::NotFound
    );
    g.kill();
    println!("NO-PIDFD-WAIT-OK");
}

#[test]
fn without_pidfds_the_wait_falls_back_and_says_so() {
    run_ignored_scenario("no_pidfd_wait_scenario", "NO-PIDFD-WAIT-OK");
}

#[test]
fn a_process_handle_waits_for_the_process_it_holds() {
    let mut g = Group::spawn(&["sh", "-c", "read line; exit 9"]);
    let handle = sysprims::ProcessHandle::open(g.pid).unwrap();
    // Still running: a zero timeout is a probe.
    let r = handle.wait(Some(Duration::ZERO)).unwrap();
    assert!(r.timed_out && !r.exited, "{r:?}");
    drop(g.child.stdin.take()); // end of input: the shell exits
    let r = handle.wait(LONG).unwrap();
    assert!(r.exited && !r.timed_out, "{r:?}");
    assert_eq!((r.exit_code, r.signal), (Some(9), None), "{r:?}");
    // Reaped through the handle: std's wait finds no child left.
    assert_eq!(
        g.child.wait().unwrap_err().raw_os_error(),
        Some(libc::ECHILD)
    );

    // Killed by a signal, in another thread while the wait blocks.
    let g = Group::spawn(&["sleep", "1000"]);
    let handle = sysprims::ProcessHandle::open(g.pid).unwrap();
    let waiter = std::thread::spawn(move || handle.wait(LONG).unwrap());
    sysprims::kill(g.pid, Signal::USR1).unwrap();
    let r = waiter.join().unwrap();
    assert_eq!(
        (r.exit_code, r.signal),
        (None, Some(libc::SIGUSR1)),
        "{r:?}"
    );

    // The caller itself would never end.
    let me = sysprims::ProcessHandle::open(std::process::id()).unwrap();
    let err = me.wait(Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
