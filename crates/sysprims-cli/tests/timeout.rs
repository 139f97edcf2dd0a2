//! `sysprims timeout` side by side with GNU `timeout` (`/usr/bin/timeout`): the same arguments
//! must give the same exit status (an exit code, or death by the same signal) and the same
//! stdout. Then the cases where sysprims must do better: escapees, leftovers, the timeout
//! process itself being killed.
//!
//! Deadlines in the table are either long (the command finishes first by far) or short
//! against a `sleep` that cannot finish first: no case depends on which of two close events
//! wins. The tree tests make the deadline pass with SIGALRM once every process has reported
//! on a FIFO, so they do not depend on timing at all.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};

use serde_json::Value;
use support::*;

const GNU_TIMEOUT: &str = "/usr/bin/timeout";

fn have_gnu() -> bool {
    Command::new(GNU_TIMEOUT)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU coreutils"))
}

/// An exit status as a shell tells it apart: `exit N` or `signal N`.
fn shown(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown".to_string(),
    }
}

/// Run a timeout command line (`program` then `args`) with stdin from /dev/null. Its stdout
/// goes to a file, not a pipe: a process GNU leaves behind would hold a pipe open.
fn run_timeout(program: &[&str], args: &[&str], out: &std::path::Path) -> (ExitStatus, Vec<u8>) {
    let file = std::fs::File::create(out).unwrap();
    let status = Command::new(program[0])
        .args(&program[1..])
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::null())
        .status()
        .expect("run timeout");
    (status, std::fs::read(out).unwrap())
}

/// The table: each row is run through both and must agree; the expected status is checked
/// too, so that a row cannot pass by both being wrong the same way.
#[test]
fn exit_statuses_and_stdout_match_gnu_timeout() {
    if !require("GNU timeout at /usr/bin/timeout", have_gnu()) {
        return;
    }
    let m = Marked::new("table");
    // A TERM-ignoring shell whose grandchild, a TERM-ignoring sleep, carries the marker, so
    // that GNU's `--foreground` survivor is found and killed.
    let ignore_term = format!(
        "trap '' TERM; bash {} {} /dev/null ignore-term; :",
        m.leaf().display(),
        m.marker
    );
    // A script without `#!`: execvp (and so GNU) runs it with /bin/sh.
    let no_shebang = m.path("no-shebang");
    std::fs::write(&no_shebang, "echo no shebang \"$@\"\nexit 6\n").unwrap();
    std::fs::set_permissions(
        &no_shebang,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let no_shebang = no_shebang.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (v(&["5", &no_shebang, "a", "b c"]), "exit 6"),
        (v(&["10", "true"]), "exit 0"),
        (v(&["10", "false"]), "exit 1"),
        (v(&["10", "sh", "-c", "exit 3"]), "exit 3"),
        (v(&["10", "sh", "-c", "exit 130"]), "exit 130"),
        (v(&["10", "sh", "-c", "echo hello; echo world"]), "exit 0"),
        (v(&["0.1", "sleep", "100"]), "exit 124"),
        (v(&["--preserve-status", "0.1", "sleep", "100"]), "exit 143"),
        (v(&["-s", "KILL", "0.1", "sleep", "100"]), "signal 9"),
        (v(&["-s", "INT", "0.1", "sleep", "100"]), "exit 124"),
        (
            v(&["--preserve-status", "-s", "INT", "0.1", "sleep", "100"]),
            "exit 130",
        ),
        (v(&["-s", "9", "0.1", "sleep", "100"]), "signal 9"),
        (v(&["-s", "sigkill", "0.1", "sleep", "100"]), "signal 9"),
        (v(&["-s", "137", "0.1", "sleep", "100"]), "signal 9"),
        (v(&["-vs", "HUP", "0.1", "sleep", "100"]), "exit 124"),
        (
            v(&["-k", "0.2", "0.1", "sh", "-c", &ignore_term]),
            "signal 9",
        ),
        (
            v(&["--foreground", "-k", "0.2", "0.1", "sh", "-c", &ignore_term]),
            "exit 137",
        ),
        (v(&["--foreground", "0.1", "sleep", "100"]), "exit 124"),
        (
            v(&["--foreground", "-s", "KILL", "0.1", "sleep", "100"]),
            "exit 137",
        ),
        (v(&["0", "sh", "-c", "echo no limit; exit 5"]), "exit 5"),
        (v(&["0.05s", "sleep", "100"]), "exit 124"),
        (v(&["1e-1", "sleep", "100"]), "exit 124"),
        (v(&["1d", "echo", "a day"]), "exit 0"),
        (v(&["0.001h", "true"]), "exit 0"),
        (v(&["1e400", "true"]), "exit 0"),
        (v(&["0x10", "true"]), "exit 0"),
        (v(&["abc", "true"]), "exit 125"),
        (v(&["--", "-1", "true"]), "exit 125"),
        (v(&["1x", "true"]), "exit 125"),
        (v(&["nan", "true"]), "exit 125"),
        (v(&["-s", "FOO", "1", "true"]), "exit 125"),
        (v(&["-s", "65", "1", "true"]), "exit 125"),
        (v(&["-k", "x", "1", "true"]), "exit 125"),
        (v(&["--kill-after=", "1", "true"]), "exit 125"),
        (v(&[]), "exit 125"),
        (v(&["5"]), "exit 125"),
        (v(&["-s", "KILL"]), "exit 125"),
        (v(&["-s"]), "exit 125"),
        (v(&["--bogus", "5", "true"]), "exit 125"),
        (v(&["-x", "5", "true"]), "exit 125"),
        (v(&["--verbose=yes", "5", "true"]), "exit 125"),
        (v(&["5", "/nonexistent/sysprims-test"]), "exit 127"),
        (v(&["5", "sysprims-test-no-such-command"]), "exit 127"),
        (v(&["5", "/etc/passwd"]), "exit 126"),
        (v(&["5", "/"]), "exit 126"),
        (v(&["5", "sh", "-c", "kill -USR1 $$"]), "signal 10"),
        (v(&["5", "sh", "-c", "kill -TERM $$"]), "signal 15"),
        (
            v(&["5", "echo", "-s", "KILL", "--foreground", "-v", "-k", "1"]),
            "exit 0",
        ),
        (
            v(&[
                "5",
                "sh",
                "-c",
                "echo \"$@\"",
                "sh",
                "--preserve-status",
                "-k",
            ]),
            "exit 0",
        ),
        (v(&["-v", "5", "echo", "verbose"]), "exit 0"),
        (
            v(&["--kill-after=1", "--signal=TERM", "5", "echo", "x"]),
            "exit 0",
        ),
        (
            v(&["--pres", "--fore", "5", "echo", "abbreviated"]),
            "exit 0",
        ),
        (v(&["--", "5", "echo", "after --"]), "exit 0"),
        (
            v(&["-s", "0", "0.1", "sh", "-c", "sleep 0.3; exit 4"]),
            "exit 124",
        ),
    ];
    assert!(cases.len() >= 30);
    let ours = [env!("CARGO_BIN_EXE_sysprims"), "timeout"];
    let mut failures = Vec::new();
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (gnu_status, gnu_out) = run_timeout(&[GNU_TIMEOUT], &args, &m.path("out"));
        let (our_status, our_out) = run_timeout(&ours, &args, &m.path("out"));
        let (gnu, our) = (shown(gnu_status), shown(our_status));
        if gnu != *expected || our != *expected || gnu_out != our_out {
            failures.push(format!(
                "timeout {args:?}: expected {expected}; GNU {gnu} {:?}; sysprims {our} {:?}",
                String::from_utf8_lossy(&gnu_out),
                String::from_utf8_lossy(&our_out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `sysprims timeout` (or GNU's) started as a child of this test, its stdout piped.
fn start(program: &[&str], args: &[&str]) -> Child {
    Command::new(program[0])
        .args(&program[1..])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start timeout")
}

fn ours() -> [&'static str; 2] {
    [env!("CARGO_BIN_EXE_sysprims"), "timeout"]
}

fn send(pid: u32, signal: i32) {
    // SAFETY: kill of our own unreaped child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

/// Wait for `child` to exit, failing the test (and killing it) after PATIENCE.
fn wait_child(child: &mut Child) -> ExitStatus {
    assert!(
        wait_gone(child.id(), PATIENCE),
        "timeout did not exit within {PATIENCE:?}"
    );
    child.wait().unwrap()
}

/// A signal sent to `sysprims timeout` reaches the command and the rest of its job.
#[test]
fn signals_sent_to_timeout_are_forwarded_to_the_job() {
    for (signal, name) in [
        (libc::SIGTERM, "TERM"),
        (libc::SIGINT, "INT"),
        (libc::SIGHUP, "HUP"),
        (libc::SIGUSR1, "USR1"),
        (libc::SIGUSR2, "USR2"),
        (libc::SIGQUIT, "QUIT"),
    ] {
        let m = Marked::new("forward");
        let fifo = Fifo::new(m.path("ready"));
        // The handler runs once `wait` is interrupted. The background leaf is in the job
        // too; a non-interactive shell starts it with INT and QUIT ignored, so only the
        // other signals can end it.
        let script = format!(
            r#"trap 'echo got {name}; exit 7' {name}; bash "$LEAF" "$0" "$FIFO" & wait $!"#
        );
        let program = ours();
        let mut child = Command::new(program[0])
            .args(&program[1..])
            .args(["100", "sh", "-c", &script, &m.marker])
            .env("LEAF", m.leaf())
            .env("FIFO", fifo.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        fifo.expect(1);
        send(child.id(), signal);
        let status = wait_child(&mut child);
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line, format!("got {name}\n"), "{name}");
        assert_eq!(shown(status), "exit 7", "{name}");
        if signal != libc::SIGINT && signal != libc::SIGQUIT {
            for pid in m.pids() {
                assert!(wait_gone(pid, PATIENCE), "{name}: the leaf {pid} lives on");
            }
        }
    }
}

/// SIGALRM makes the deadline pass now, as in GNU.
#[test]
fn alarm_times_out_now() {
    let m = Marked::new("alarm");
    let fifo = Fifo::new(m.path("ready"));
    let script = format!("echo up > {}; exec sleep 1000", fifo.path());
    let program = ours();
    let mut child = start(&program, &["1000", "sh", "-c", &script, &m.marker]);
    fifo.expect(1);
    send(child.id(), libc::SIGALRM);
    assert_eq!(shown(wait_child(&mut child)), "exit 124");
}

/// Every way out of a process tree: a `setsid` child, a double-forked daemon that also calls
/// `setsid`, a grandchild that ignores SIGTERM. Each reports on $FIFO, then becomes a
/// `sleep` carrying the marker.
const ESCAPEES: &str = r#"
    setsid bash "$LEAF" "$0" "$FIFO" &
    (setsid bash "$LEAF" "$0" "$FIFO" &) &
    sh -c 'bash "$LEAF" "$0" "$FIFO" ignore-term & wait' "$0" &
    echo up > "$FIFO"
    wait
"#;

/// Run ESCAPEES under `program` with `-k 0.5`, make the deadline pass once all four have
/// reported, and return the exit status and what carries the marker afterwards.
fn escapees_under(program: &[&str], m: &Marked) -> (ExitStatus, Vec<u32>) {
    let fifo = Fifo::new(m.path(&format!("fifo-{}", program.len())));
    let mut child = Command::new(program[0])
        .args(&program[1..])
        .args(["-k", "0.5", "1000", "sh", "-c", ESCAPEES, &m.marker])
        .env("LEAF", m.leaf())
        .env("FIFO", fifo.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    fifo.expect(4);
    send(child.id(), libc::SIGALRM);
    let status = wait_child(&mut child);
    (status, m.pids().into_iter().collect())
}

#[test]
fn a_timed_out_tree_dies_whole_where_gnu_leaves_escapees() {
    if !require("root and a writable cgroup v2", cgroup_writable())
        || !require("setsid(1)", have("setsid"))
        || !require("GNU timeout at /usr/bin/timeout", have_gnu())
    {
        return;
    }
    let gnu = Marked::new("escapees-gnu");
    let (gnu_status, gnu_left) = escapees_under(&[GNU_TIMEOUT], &gnu);
    // The peer: the command's own group dies, the escapees live on.
    assert_eq!(shown(gnu_status), "exit 124");
    assert!(
        gnu_left.len() >= 2,
        "GNU timeout was expected to leave the setsid escapees: {gnu_left:?}"
    );
    drop(gnu);

    let m = Marked::new("escapees");
    let (status, left) = escapees_under(&ours(), &m);
    assert_eq!(shown(status), "exit 124");
    assert!(left.is_empty(), "survivors: {left:?}");
}

/// Under `--foreground` GNU signals the command alone; sysprims ends its children too.
#[test]
fn foreground_still_ends_the_children() {
    if !require("root and a writable cgroup v2", cgroup_writable()) {
        return;
    }
    let m = Marked::new("foreground");
    let fifo = Fifo::new(m.path("ready"));
    let script = r#"bash "$LEAF" "$0" "$FIFO" & echo up > "$FIFO"; wait"#;
    let program = ours();
    let mut child = Command::new(program[0])
        .args(&program[1..])
        .args(["--foreground", "1000", "sh", "-c", script, &m.marker])
        .env("LEAF", m.leaf())
        .env("FIFO", fifo.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    fifo.expect(2);
    send(child.id(), libc::SIGALRM);
    assert_eq!(shown(wait_child(&mut child)), "exit 124");
    let left = m.survivors();
    assert!(left.is_empty(), "survivors: {left:?}");
}

/// `--cleanup` ends what the command left running when it exits before the deadline;
/// without it, the leftovers live on, as with GNU.
#[test]
fn cleanup_ends_leftovers_of_a_command_that_finished() {
    if !require("root and a writable cgroup v2", cgroup_writable())
        || !require("setsid(1)", have("setsid"))
    {
        return;
    }
    for cleanup in [true, false] {
        let m = Marked::new("cleanup");
        let fifo = m.path("ready");
        // The command exits once both leaves have reported to it (on a FIFO it holds open
        // for reading and writing, so that it never sees end-of-file early).
        let script = r#"mkfifo "$FIFO"; exec 3<>"$FIFO"
            setsid bash "$LEAF" "$0" "$FIFO" & bash "$LEAF" "$0" "$FIFO" &
            read a <&3; read b <&3; exit 0"#;
        let program = ours();
        let mut args = vec!["1000", "sh", "-c", script, &m.marker];
        if cleanup {
            args.insert(0, "--cleanup");
        }
        let mut child = Command::new(program[0])
            .args(&program[1..])
            .args(&args)
            .env("LEAF", m.leaf())
            .env("FIFO", &fifo)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let status = wait_child(&mut child);
        assert_eq!(shown(status), "exit 0");
        // The leaves carry the marker from their start (it is an argument of theirs
        // before and after their exec), and both have reported.
        if cleanup {
            let left = m.survivors();
            assert!(left.is_empty(), "survivors: {left:?}");
        } else {
            assert_eq!(m.pids().len(), 2, "without --cleanup the leftovers live on");
        }
    }
}

/// `sysprims timeout` killed with SIGKILL takes the command with it.
#[test]
fn the_command_dies_with_timeout() {
    let m = Marked::new("pdeathsig");
    let fifo = Fifo::new(m.path("ready"));
    let script = format!("echo $$ > {}; exec sleep 1000", fifo.path());
    let program = ours();
    let mut child = start(&program, &["1000", "sh", "-c", &script, &m.marker]);
    let pid: u32 = fifo
        .lines
        .recv_timeout(PATIENCE)
        .expect("the command reports its PID")
        .trim()
        .parse()
        .unwrap();
    send(child.id(), libc::SIGKILL);
    let _ = child.wait();
    assert!(
        wait_gone(pid, PATIENCE),
        "the command outlived its timeout process"
    );
}

/// A pidfd on a process that is not necessarily our child, opened while it is known alive.
struct Pidfd(std::os::fd::OwnedFd);

impl Pidfd {
    fn open(pid: u32) -> Pidfd {
        // SAFETY: pidfd_open has no memory arguments.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        assert!(
            fd >= 0,
            "pidfd_open({pid}): {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: a new fd we own.
        Pidfd(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) })
    }

    /// Wait until the process has exited; false after PATIENCE.
    fn wait_exit(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.0),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, PATIENCE.as_millis() as i32) };
        r > 0
    }
}

/// The cgroup v2 path of `pid` (the `0::` line of /proc/PID/cgroup).
fn cgroup_path_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap()
        .to_string()
}

/// The children of `pid`, every thread's.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// `sysprims timeout` killed with SIGKILL takes its whole job with it, not just the command:
/// a background child, a `setsid` child and the command's foreground child all die (learnt
/// by PID through a FIFO, waited for through pidfds), with and without `--foreground`; the
/// job's cgroup is removed, and the watchdog that did it exits.
#[test]
fn the_whole_job_dies_with_a_sigkilled_timeout() {
    if !require("root and a writable cgroup v2", cgroup_writable())
        || !require("setsid(1)", have("setsid"))
    {
        return;
    }
    for foreground in [false, true] {
        let m = Marked::new("sigkill-job");
        let fifo = Fifo::new(m.path("pids"));
        // Every process of the job reports its own PID.
        let script = r#"
            sh -c 'echo $$ > "$FIFO"; exec sleep 100' "$0" &
            setsid sh -c 'echo $$ > "$FIFO"; exec sleep 100' "$0" &
            echo $$ > "$FIFO"
            sleep 100 & echo $! > "$FIFO"
            wait
        "#;
        let program = ours();
        let mut args = vec!["30", "sh", "-c", script, &m.marker];
        if foreground {
            args.insert(0, "--foreground");
        }
        let mut child = Command::new(program[0])
            .args(&program[1..])
            .args(&args)
            .env("FIFO", fifo.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut job = Vec::new();
        for _ in 0..4 {
            let pid: u32 = fifo
                .lines
                .recv_timeout(PATIENCE)
                .expect("every job process reports its PID")
                .trim()
                .parse()
                .unwrap();
            // Opened while the process is alive and blocked in sleep: it is the one that
            // reported (a reported PID cannot have been reused before it exits).
            job.push((pid, Pidfd::open(pid)));
        }
        let cgroup = cgroup_path_of(job[0].0);
        assert!(cgroup.contains("sysprims-job-"), "{cgroup}");
        for (pid, _) in &job {
            assert_eq!(cgroup_path_of(*pid), cgroup, "{pid} is in the job's cgroup");
        }
        let dir = cgroup_dir(&cgroup);
        assert!(dir.is_dir(), "{dir:?}");
        // The watchdog: the child of timeout that is not in the job.
        let watchdogs: Vec<u32> = children_of(child.id())
            .into_iter()
            .filter(|&p| cgroup_path_of(p) != cgroup)
            .collect();
        assert_eq!(watchdogs.len(), 1, "one watchdog: {watchdogs:?}");
        let watchdog = Pidfd::open(watchdogs[0]);

        send(child.id(), libc::SIGKILL);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        for (pid, fd) in &job {
            assert!(
                fd.wait_exit(),
                "foreground {foreground}: job process {pid} outlived its timeout process"
            );
        }
        assert!(watchdog.wait_exit(), "the watchdog outlived its work");
        assert!(
            !dir.exists(),
            "foreground {foreground}: {dir:?} is still there"
        );
    }
}

/// A command that exits leaving a background child (kept running, as GNU `timeout` keeps
/// it): once that child ends, its cgroup is removed by then, with no later sysprims call, by
/// a watchdog that does nothing else and then exits. Before, the cgroup stayed until some
/// later spawn swept it.
#[test]
fn the_cgroup_of_leftovers_goes_when_they_end() {
    if !require("root and a writable cgroup v2", cgroup_writable())
        || !require("bash", have("bash"))
    {
        return;
    }
    let m = Marked::new("leftover-cgroup");
    let fifo = Fifo::new(m.path("pids"));
    let script = r#"bash -c 'echo $$ > "$FIFO"; exec -a "$0" sleep 1000' "$0" & wait_for=$!; read _ < /dev/null; exit 0"#;
    let program = ours();
    let mut child = Command::new(program[0])
        .args(&program[1..])
        .args(["1000", "sh", "-c", script, &m.marker])
        .env("FIFO", fifo.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid: u32 = fifo
        .lines
        .recv_timeout(PATIENCE)
        .expect("the leftover reports its PID")
        .trim()
        .parse()
        .unwrap();
    let leftover = Pidfd::open(pid);
    let cgroup = cgroup_path_of(pid);
    assert!(cgroup.contains("sysprims-job-"), "{cgroup}");
    let dir = cgroup_dir(&cgroup);
    assert_eq!(shown(wait_child(&mut child)), "exit 0");
    assert!(dir.is_dir(), "the leftover still runs in {dir:?}");
    let watchdogs = watchdogs_of(&dir);
    assert_eq!(
        watchdogs.len(),
        1,
        "one watchdog for {dir:?}: {watchdogs:?}"
    );
    let watchdog = Pidfd::open(watchdogs[0]);
    // SAFETY: pidfd_send_signal on a pidfd we own, no siginfo.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            std::os::fd::AsRawFd::as_raw_fd(&leftover.0),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    assert_eq!(rc, 0);
    assert!(leftover.wait_exit());
    assert!(watchdog.wait_exit(), "the watchdog outlived its work");
    assert!(!dir.exists(), "{dir:?} is still there");
}

/// The directory of a cgroup v2 path, under the cgroup2 mount found in mountinfo.
fn cgroup_dir(path: &str) -> std::path::PathBuf {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = mountinfo
        .lines()
        .find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            (right.split_whitespace().next() == Some("cgroup2"))
                .then(|| left.split_whitespace().nth(4).map(str::to_string))?
        })
        .unwrap();
    std::path::Path::new(&mount).join(path.trim_start_matches('/'))
}

/// `--json FILE` writes the schema'd report.
#[test]
fn json_report_validates_and_says_what_happened() {
    let m = Marked::new("json");
    let report = m.path("report.json");
    let program = ours();
    let out = Command::new(program[0])
        .args(&program[1..])
        .args([
            "--json",
            report.to_str().unwrap(),
            "-s",
            "INT",
            "0.1",
            "sleep",
            "100",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(shown(out.status), "exit 124");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    validate("timeout-report.v1.schema.json", &doc);
    assert_eq!(doc["outcome"], "timed_out");
    assert_eq!(doc["exit_status"], 124);
    assert_eq!(doc["signal_sent"], libc::SIGINT);
    assert_eq!(doc["signal"], libc::SIGINT);
    assert_eq!(doc["escalated"], false);
    assert_eq!(doc["argv"], serde_json::json!(["sleep", "100"]));
    assert_eq!(doc["timeout_ms"], 100);
    assert_eq!(doc["survivors"], serde_json::json!([]));

    let out = Command::new(program[0])
        .args(&program[1..])
        .args([
            "--json",
            report.to_str().unwrap(),
            "10",
            "sh",
            "-c",
            "exit 3",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(shown(out.status), "exit 3");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    validate("timeout-report.v1.schema.json", &doc);
    assert_eq!(doc["outcome"], "completed");
    assert_eq!(doc["exit_code"], 3);
    assert_eq!(doc["exit_status"], 3);

    // A report that cannot be written is refused before the command runs.
    let out = Command::new(program[0])
        .args(&program[1..])
        .args([
            "--json",
            "/nonexistent/dir/r.json",
            "10",
            "sh",
            "-c",
            "echo ran",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(shown(out.status), "exit 125");
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("/nonexistent/dir/r.json"));
}

/// `-v` says what it sends, in GNU's words.
#[test]
fn verbose_messages_have_gnu_form() {
    let program = ours();
    let out = Command::new(program[0])
        .args(&program[1..])
        .args(["-v", "-s", "INT", "0.1", "sleep", "100"])
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        "timeout: sending signal INT to command 'sleep'\n"
    );
}

/// With fd 2 closed (`2>&-`), `--json FILE` must not become fd 2: the `-v` diagnostic would
/// be written into the report. A closed fd is given /dev/null before anything is opened.
#[test]
fn a_closed_stderr_does_not_become_the_json_report() {
    let m = Marked::new("closed-stderr");
    let report = m.path("report.json");
    let status = Command::new("sh")
        .args([
            "-c",
            r#"exec 2>&-; exec "$0" timeout -v --json "$1" 0.01 sleep 100"#,
            env!("CARGO_BIN_EXE_sysprims"),
            report.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(124));
    let text = std::fs::read_to_string(&report).unwrap();
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}): {text:?}"));
    assert_eq!(doc["outcome"], "timed_out");
}

/// With fds 0 and 1 closed, the command gets /dev/null for both, not the report file.
#[test]
fn closed_stdin_and_stdout_become_dev_null() {
    let m = Marked::new("closed-stdin-stdout");
    let report = m.path("report.json");
    let seen = m.path("seen");
    let status = Command::new("sh")
        .args([
            "-c",
            r#"exec 0<&- 1>&-; exec "$0" timeout --json "$1" 60 sh -c 'x=$(readlink /proc/$$/fd/0 /proc/$$/fd/1); echo "$x" > "$0"' "$2""#,
            env!("CARGO_BIN_EXE_sysprims"),
            report.to_str().unwrap(),
            seen.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "/dev/null\n/dev/null\n"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(doc["outcome"], "completed");
}

/// An ignored SIGCHLD inherited from the shell (`trap '' CHLD; exec timeout ...`, GNU's
/// tests/misc/timeout.sh) does not lose the command's status. (bash passes the ignored
/// SIGCHLD on; dash resets it.)
#[test]
fn an_inherited_ignored_sigchld_keeps_the_status() {
    let out = Command::new("bash")
        .args([
            "-c",
            r#"trap '' CHLD; exec "$0" timeout 10 sh -c 'exit 3'"#,
            env!("CARGO_BIN_EXE_sysprims"),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
