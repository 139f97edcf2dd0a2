//! Test support: children that are always cleaned up, event-based waits, capability gates.
#![allow(dead_code)]

mod cmdline;
pub use cmdline::settled_cmdline;

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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

/// A PID no process can have: above the kernel's pid_max, yet a valid `Pid`.
pub fn unused_pid() -> u32 {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    max + 1
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

/// The test-harness arguments that run exactly the ignored test `scenario`, alone.
fn scenario_args(scenario: &str) -> [&str; 5] {
    [
        scenario,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// Run the ignored test `scenario` of this test binary as PID 1 of a fresh PID namespace
/// (`unshare --pid --fork --mount-proc`, which needs root), require that it passed, and return
/// what it printed.
pub fn run_in_pid_namespace(scenario: &str) -> String {
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .args(scenario_args(scenario))
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

/// Make `pidfd_open` fail with ENOSYS in this process from now on, as on a kernel before 5.3
/// or under a seccomp policy that forbids it. Run it in a scenario of its own
/// ([`run_ignored_scenario`]): the filter cannot be removed.
pub fn forbid_pidfd_open() {
    forbid_syscall(libc::SYS_pidfd_open);
}

/// Make the system call `nr` fail with ENOSYS in this process from now on (a seccomp filter),
/// as container runtimes' default profiles do for `clone3`. Run it in a scenario of its own.
pub fn forbid_syscall(nr: libc::c_long) {
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    let filter = [
        // A = seccomp_data.nr
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        // if A == nr: return ERRNO(ENOSYS), else: allow
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: nr as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prctl with a filter program that outlives the call (the kernel copies it).
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        assert_eq!(
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &program as *const libc::sock_fprog,
            ),
            0,
            "seccomp: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Run the ignored test `scenario` of this test binary in a child process of its own (for
/// process-wide changes such as a seccomp filter), require that it passed and printed
/// `expect`, and return what it printed.
pub fn run_ignored_scenario(scenario: &str, expect: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(scenario_args(scenario))
        .output()
        .expect("run the scenario");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains(expect),
        "{scenario} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A marker unique to this call, to put in the command line of every process a test starts
/// (as an argument), so the test can find exactly its own processes.
pub fn marker(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "sysprims-test-{tag}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether `/proc/<pid>/cmdline` has an argument that contains `marker`. Zombies have no
/// command line: they do not count. A process caught inside `execve` is read again.
fn has_marker(pid: u32, marker: &str) -> bool {
    settled_cmdline(std::path::Path::new(&format!("/proc/{pid}")))
        .map(|cmdline| {
            cmdline
                .split(|&b| b == 0)
                .any(|arg| String::from_utf8_lossy(arg).contains(marker))
        })
        .unwrap_or(false)
}

/// The live processes (not zombies) whose command line carries `marker`, by PID.
pub fn marked_pids(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && has_marker(pid, marker))
        .collect();
    pids.sort_unstable();
    pids
}

/// Kill every process that carries `marker`, each through a pidfd opened before its command
/// line is checked (so a reused PID is never hit); repeat until none is left, for processes
/// that were forking.
pub fn kill_marked(marker: &str) {
    for _ in 0..1000 {
        let pids = marked_pids(marker);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let Ok(handle) = sysprims::ProcessHandle::open(pid) else {
                continue;
            };
            if has_marker(pid, marker) && handle.is_present().unwrap_or(false) {
                let _ = handle.signal_with(
                    sysprims::Signal::KILL,
                    sysprims::SignalOptions::allowing_protected(),
                );
            }
        }
        std::thread::yield_now();
    }
    // Not a panic: this runs in Drop, maybe while a failed test unwinds.
    eprintln!("processes marked {marker} keep appearing");
}

/// Kills every process carrying its marker when dropped: even ones that left the test's
/// process group (`setsid`, double fork).
pub struct MarkerGuard(pub String);

impl MarkerGuard {
    /// A guard for a new marker.
    pub fn new(tag: &str) -> MarkerGuard {
        MarkerGuard(marker(tag))
    }
}

impl Drop for MarkerGuard {
    fn drop(&mut self) {
        kill_marked(&self.0);
    }
}

/// A number no other process on the machine has in its command line.
pub fn new_marker() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "7{}{:09}{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A pipe whose write end a job gets as stdout (through `/proc/self/fd/N`), so the test can
/// read what the job's processes report and block on it.
pub struct Reports {
    lines: BufReader<std::fs::File>,
    write: Option<OwnedFd>,
}

impl Reports {
    pub fn new() -> Reports {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds we then own.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Reports {
            lines: BufReader::new(std::fs::File::from(read)),
            write: Some(write),
        }
    }

    pub fn stdio(&self) -> sysprims::StdioConfig {
        let fd = self.write.as_ref().unwrap().as_raw_fd();
        sysprims::StdioConfig::File {
            path: format!("/proc/self/fd/{fd}").into(),
            append: true,
        }
    }

    /// Once the job has its copy, drop ours, so end of file means every job process closed it.
    pub fn close_ours(&mut self) {
        self.write = None;
    }

    pub fn line(&mut self) -> String {
        let mut line = String::new();
        assert!(
            self.lines.read_line(&mut line).unwrap() > 0,
            "the job closed its stdout before reporting"
        );
        line.trim_end().to_string()
    }

    pub fn rest(&mut self) -> String {
        let mut rest = String::new();
        self.lines.read_to_string(&mut rest).unwrap();
        rest
    }
}

pub fn cgroup_writable() -> bool {
    match sysprims::Job::spawn(&sysprims::SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: sysprims::Containment::Cgroup,
        ..Default::default()
    }) {
        Ok(mut job) => {
            job.wait(None).unwrap();
            true
        }
        Err(_) => false,
    }
}

pub fn sh(script: &str, marker: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        format!("sh-{marker}"),
        marker.into(),
    ]
}

/// Ends, on drop, every process carrying the marker and the job's cgroup: nothing a test
/// starts outlives it, even when an assertion fails first.
pub struct Cleanup {
    pub marker: String,
    pub cgroup: Option<std::path::PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(dir) = &self.cgroup {
            let _ = std::fs::write(dir.join("cgroup.kill"), "1");
        }
        kill_marked(&self.marker);
        if let Some(dir) = &self.cgroup {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// `sleep 1000` with SIGTERM blocked: a TERM sent to it stays pending, visible in
/// `/proc/PID/status`, so a wrong signal is seen for certain instead of racing the exit.
pub fn spawn_term_blocked() -> Group {
    let mut cmd = Command::new("sleep");
    cmd.arg("1000");
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
    Group::spawn_with(&mut cmd)
}

/// Whether SIGTERM is pending for the whole process `pid` (its shared pending set, where
/// kill(2) and pidfd_send_signal put it).
pub fn term_pending(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("ShdPnd:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap() & (1 << (libc::SIGTERM - 1)) != 0
}
