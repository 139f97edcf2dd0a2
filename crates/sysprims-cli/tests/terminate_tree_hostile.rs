//! `sysprims terminate-tree` on hostile paths (issue 13): the shell that runs it as the root,
//! and the CLI SIGKILLed while it ends a cgroup job. Real processes and cgroups; the job's
//! processes carry a marker in their command line and are ended by it, never by name.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use support::*;

/// Item 5: `sysprims terminate-tree $$` run by a shell is refused (exit 2, naming the PID as
/// the caller's parent), and the shell lives on.
#[test]
fn the_shell_running_terminate_tree_is_refused_as_its_root() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#""$1" terminate-tree --grace 0 $$; echo "rc=$? shell=$$""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_sysprims"))
        .output()
        .unwrap();
    let text = stdout(&out);
    let err = stderr(&out);
    let shell = text
        .trim()
        .rsplit_once("shell=")
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    assert!(text.contains("rc=2 "), "stdout {text}, stderr {err}");
    assert!(
        err.contains(&shell) && err.contains("parent"),
        "stderr {err}"
    );
}

/// A pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds that we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Item 9: the CLI is SIGKILLed in the middle of `terminate-tree` of a cgroup job (at the
/// moment the job is seen frozen, if it ever is, else once the graceful signal has reached
/// it): the job is not left frozen, and the next `terminate-tree` ends it.
#[test]
fn a_sigkilled_terminate_tree_never_leaves_the_job_frozen() {
    // A numeric marker: the job's sleeps carry it as a fraction of a second.
    let mut marker = Marked::new("frozen-forever");
    marker.marker = format!(
        "7{}{:09}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (report_read, report_write) = pipe();
    let script = r#"m=$1
i=0; while [ $i -lt 100 ]; do sleep 1000 0.$m & i=$((i+1)); done
sh -c 'trap "echo got-term" TERM; echo trapping; while :; do sleep 1 0.$1; done' "trapper-$m" "$m" &
trap "" TERM
echo up
wait"#;
    let job = sysprims::Job::spawn(&sysprims::SpawnInGroupConfig {
        argv: vec![
            "sh".into(),
            "-c".into(),
            script.into(),
            "sh".into(),
            marker.marker.clone(),
        ],
        stdout: sysprims::StdioConfig::File {
            path: format!("/proc/self/fd/{}", report_write.as_raw_fd()).into(),
            append: true,
        },
        ..Default::default()
    });
    drop(report_write);
    let job = match job {
        Ok(j) => j.kill_on_drop(true),
        Err(e) => panic!("spawn: {e}"),
    };
    let Some(dir) = job.cgroup().map(|d| d.to_path_buf()) else {
        require("a writable cgroup v2", false);
        return;
    };
    marker.cgroups.push(dir.clone());
    let mut reports = std::fs::File::from(report_read);
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    // Both shells ready: the outer one ignores TERM, the trapper has its trap (a TERM before
    // it would end the trapper, the outer shell's wait would return, and the job with it).
    while !(seen.contains("up") && seen.contains("trapping")) {
        let n = reports.read(&mut buf).unwrap();
        assert!(n > 0, "the job closed its stdout: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let events = std::fs::File::open(dir.join("cgroup.events")).unwrap();
    let mut cli = Command::new(env!("CARGO_BIN_EXE_sysprims"))
        .args(["terminate-tree", "--grace", "1h", &job.pid().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Watch cgroup.events (a change wakes POLLPRI) and the job's reports.
    let why = loop {
        let mut text = [0u8; 128];
        // SAFETY: pread into a buffer we own, on a file we hold.
        let n = unsafe { libc::pread(events.as_raw_fd(), text.as_mut_ptr().cast(), 128, 0) };
        assert!(n > 0, "cgroup.events unreadable");
        if String::from_utf8_lossy(&text[..n as usize]).contains("frozen 1") {
            break "frozen";
        }
        if seen.contains("got-term") {
            break "signalled";
        }
        let mut fds = [
            libc::pollfd {
                fd: events.as_raw_fd(),
                events: libc::POLLPRI,
                revents: 0,
            },
            libc::pollfd {
                fd: reports.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two pollfds we own.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, 60_000) };
        assert!(
            rc > 0,
            "neither a freeze nor the graceful signal within a minute"
        );
        if fds[1].revents != 0 {
            let n = reports.read(&mut buf).unwrap();
            assert!(n > 0, "the job closed its stdout: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    cli.kill().unwrap();
    cli.wait().unwrap();
    let freeze = std::fs::read_to_string(dir.join("cgroup.freeze")).unwrap();
    let state = std::fs::read_to_string(dir.join("cgroup.events")).unwrap();
    assert_eq!(
        freeze.trim(),
        "0",
        "the CLI was killed ({why}) and left the job frozen: {state}"
    );
    assert!(state.contains("frozen 0"), "{state}");
    // The next call ends the job.
    let out = sysprims(&[
        "terminate-tree",
        "--grace",
        "0",
        "--json",
        &job.pid().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(marker.pids().is_empty(), "{:?}", marker.pids());
    drop(job);
}
