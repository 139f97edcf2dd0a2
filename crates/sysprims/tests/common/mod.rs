//! Test support: children that are always cleaned up, event-based waits, capability gates.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A child started in a process group of its own. Dropping it kills the whole group with
/// SIGKILL and reaps the child, so nothing a test starts outlives it, even on failure.
pub struct Group {
    pub child: Child,
    pub pid: u32,
    lines: Option<BufReader<ChildStdout>>,
    /// The leader, held from spawn: once it has been reaped its PID (and so the group ID) may
    /// belong to a newcomer, and the group must not be signalled again.
    leader: sysprims::ProcessHandle,
}

impl Group {
    /// Start `argv` as the leader of a new process group, stdin piped (closing it is an
    /// event the child can wait for), stdout piped (a channel the child reports on).
    pub fn spawn(argv: &[&str]) -> Group {
        Self::spawn_with(Command::new(argv[0]).args(&argv[1..]))
    }

    pub fn spawn_with(cmd: &mut Command) -> Group {
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn test child");
        Group::adopt(child)
    }

    fn adopt(mut child: Child) -> Group {
        let pid = child.id();
        let lines = child.stdout.take().map(BufReader::new);
        // Our unreaped child: the PID cannot have been reused yet.
        let leader = sysprims::ProcessHandle::open(pid).expect("open the new child");
        Group {
            child,
            pid,
            lines,
            leader,
        }
    }

    /// The next line the group writes on stdout (blocks until it arrives).
    pub fn read_line(&mut self) -> String {
        let mut line = String::new();
        let n = self
            .lines
            .as_mut()
            .expect("stdout is piped")
            .read_line(&mut line)
            .expect("read from child");
        assert!(n > 0, "child closed stdout before writing a line");
        line.trim_end().to_string()
    }

    /// The reader of the group's stdout, e.g. to read to end of file: every process in the
    /// group holds the pipe, so end of file means all of them have exited.
    pub fn lines_mut(&mut self) -> &mut BufReader<ChildStdout> {
        self.lines.as_mut().expect("stdout is piped")
    }

    /// Kill the group now and reap the leader. Once the leader has been reaped (here, or by
    /// the test through `child`), the group is not signalled again: its ID may name a
    /// newcomer's group by then. A test that reaps the leader itself ends the rest of the group.
    pub fn kill(&mut self) {
        if self.leader.is_present().unwrap_or(false) {
            // SAFETY: killpg on our own child's group; the unreaped leader holds the ID.
            unsafe { libc::killpg(self.pid as libc::pid_t, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Start a program that was just written. Another test thread forking at the moment the copy's
/// file was open for writing holds that fd until it execs, and execve fails with ETXTBSY for as
/// long as it does: retry that error only.
pub fn spawn_fresh_copy(argv: &[&str]) -> Group {
    for _ in 0..1000 {
        match Command::new(argv[0])
            .args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
        {
            Ok(child) => return Group::adopt(child),
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
            Err(e) => panic!("spawn {argv:?}: {e}"),
        }
    }
    panic!("spawn {argv:?}: still ETXTBSY after 1000 attempts");
}

/// Block until `pid` (our child) has exited, without reaping it: it stays a zombie.
pub fn wait_exit_keep_zombie(pid: u32) {
    wait_state(pid, libc::WEXITED);
}

/// Block until `pid` (our child) is stopped, without consuming the event.
pub fn wait_stopped(pid: u32) {
    wait_state(pid, libc::WSTOPPED);
}

fn wait_state(pid: u32, which: libc::c_int) {
    loop {
        // SAFETY: waitid fills a zeroed siginfo_t we own.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                which | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.raw_os_error(), Some(libc::EINTR), "waitid: {err}");
    }
}

/// Whether we run as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Gate a test on a capability. When it is missing the test is skipped with a message, unless
/// `SYSPRIMS_REQUIRE_ALL=1` (as CI sets), where a missing capability fails the test.
pub fn require(capability: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if std::env::var("SYSPRIMS_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("required capability missing: {capability} (SYSPRIMS_REQUIRE_ALL=1)");
    }
    eprintln!("SKIPPED: {capability} is not available here");
    false
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Run the ignored test `scenario` of this test binary as PID 1 of a fresh PID namespace
/// (`unshare --pid --fork --mount-proc`, which needs root), require that it passed, and return
/// what it printed.
pub fn run_in_pid_namespace(scenario: &str) -> String {
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .args([
            scenario,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{scenario} failed:\n{stdout}\n{stderr}"
    );
    stdout
}
