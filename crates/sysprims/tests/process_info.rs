//! `get_process` against real processes: ourselves, children in odd states, kernel threads.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use common::{Group, wait_exit_keep_zombie, wait_stopped};
use sysprims::{ErrorCode, ProcessOptions, ProcessState, get_process, get_process_with};

#[test]
fn reads_this_process() {
    let me = get_process(std::process::id()).unwrap();
    assert_eq!(me.pid, std::process::id());
    assert_eq!(me.ppid, std::os::unix::process::parent_id());
    assert_eq!(
        me.exe_path.as_deref(),
        Some(std::env::current_exe().unwrap().to_str().unwrap())
    );
    assert!(!me.exe_deleted);
    let args: Vec<String> = std::env::args().collect();
    assert_eq!(me.cmdline, args);
    assert!(me.thread_count >= 1);
    assert!(me.memory_kb > 0);
    assert!(!me.kernel_thread);
    // SAFETY: geteuid has no preconditions.
    assert_eq!(me.uid, unsafe { libc::geteuid() });
    assert!(me.user.is_some());
    assert_eq!(me.env, None, "the environment is opt-in");
}

#[test]
fn start_time_is_stable_and_close_to_the_wall_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let child = Group::spawn(&["sleep", "1000"]);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let a = get_process(child.pid).unwrap().start_time_unix_ms.unwrap();
    let b = get_process(child.pid).unwrap().start_time_unix_ms.unwrap();
    assert_eq!(a, b);
    // Anchored on whole-second btime (+ up to one tick): never later than the truth, at most
    // one second earlier.
    assert!(a <= after, "start {a} after spawn returned at {after}");
    assert!(
        a + 1_010 >= before,
        "start {a} more than 1 s before spawn at {before}"
    );
    // Clock-tick resolution, not whole seconds.
    assert_eq!(a % 10, 0);
}

#[test]
fn environment_is_read_when_asked() {
    let child = Group::spawn_with(
        Command::new("sleep")
            .arg("1000")
            .env("SYSPRIMS_TEST_MARKER", "marker-value"),
    );
    let info = get_process_with(child.pid, ProcessOptions { include_env: true }).unwrap();
    let env = info.env.expect("env was asked for");
    assert_eq!(
        env.get("SYSPRIMS_TEST_MARKER").map(String::as_str),
        Some("marker-value")
    );
    assert_eq!(get_process(child.pid).unwrap().env, None);
}

#[test]
fn non_utf8_arguments_are_lossless() {
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9\xff");
    // `sh -c 'read x'` waits on stdin, which the guard holds open.
    let child = Group::spawn_with(
        Command::new("sh")
            .args(["-c", "read x", "argv0"])
            .arg(odd)
            .arg(""),
    );
    let info = get_process(child.pid).unwrap();
    assert_eq!(
        info.cmdline,
        ["sh", "-c", "read x", "argv0", "caf\u{fffd}\u{fffd}", ""]
    );
    let bytes = info.cmdline_bytes();
    assert_eq!(bytes[4], b"caf\xe9\xff");
    assert_eq!(bytes[5], b"");
    assert_eq!(bytes[2], b"read x");
    let raw = info
        .cmdline_base64
        .as_ref()
        .expect("non-UTF-8 arguments keep their bytes");
    assert_eq!(raw.len(), info.cmdline.len());
    // And through JSON, the way scripts and other languages see it.
    let json = serde_json::to_string(&info).unwrap();
    let back: sysprims::ProcessInfo = serde_json::from_str(&json).unwrap();
    assert_eq!(back.cmdline_bytes(), bytes);
}

#[test]
fn a_large_argument_is_read_whole() {
    // One argument may be up to 128 KiB (MAX_ARG_STRLEN); the read buffer starts at 4 KiB.
    let big = "y".repeat(100_000);
    let child = Group::spawn_with(Command::new("sh").args(["-c", "read x", "argv0", &big]));
    let info = get_process(child.pid).unwrap();
    let lens: Vec<usize> = info.cmdline.iter().map(String::len).collect();
    assert_eq!(
        lens,
        [2, 2, 6, 5, big.len()],
        "{:?}",
        &info.cmdline[..info.cmdline.len().min(4)]
    );
    assert_eq!(info.cmdline[4], big);
    assert_eq!(info.cmdline_base64, None);
}

#[test]
fn deleted_executables_are_reported_as_such() {
    let dir = std::env::temp_dir().join(format!("sysprims-test-exe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("sleepy");
    std::fs::copy("/bin/sleep", &copy).unwrap();
    let child = common::spawn_fresh_copy(&[copy.to_str().unwrap(), "1000"]);
    assert_eq!(
        get_process(child.pid).unwrap().exe_path.as_deref(),
        copy.to_str()
    );
    std::fs::remove_file(&copy).unwrap();
    let info = get_process(child.pid).unwrap();
    assert_eq!(
        info.exe_path.as_deref(),
        copy.to_str(),
        "the path it had, no suffix"
    );
    assert!(info.exe_deleted);
    drop(child);

    // A file whose name really ends in " (deleted)" is not deleted.
    let odd = dir.join("odd (deleted)");
    std::fs::copy("/bin/sleep", &odd).unwrap();
    let child = common::spawn_fresh_copy(&[odd.to_str().unwrap(), "1000"]);
    let info = get_process(child.pid).unwrap();
    assert_eq!(info.exe_path.as_deref(), odd.to_str());
    assert!(!info.exe_deleted);
    drop(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zombies_are_read() {
    let mut child = Group::spawn(&["true"]);
    wait_exit_keep_zombie(child.pid);
    let info = get_process(child.pid).unwrap();
    assert_eq!(info.state, ProcessState::Zombie);
    assert!(info.cmdline.is_empty());
    assert_eq!(info.exe_path, None);
    assert_eq!(info.memory_kb, 0);
    assert_eq!(info.ppid, std::process::id());
    assert!(info.start_time_unix_ms.is_some());
    child.kill();
    assert_eq!(
        get_process(child.pid).unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[test]
fn stopped_processes_are_read() {
    let child = Group::spawn(&["sleep", "1000"]);
    // SAFETY: kill on our own child.
    unsafe { libc::kill(child.pid as libc::pid_t, libc::SIGSTOP) };
    wait_stopped(child.pid);
    assert_eq!(get_process(child.pid).unwrap().state, ProcessState::Stopped);
}

#[test]
fn kernel_threads_are_read() {
    // kthreadd is PID 2 on Linux, unless we are in a PID namespace of our own.
    let Ok(info) = get_process(2u32) else { return };
    if info.name != "kthreadd" {
        return;
    }
    assert!(info.kernel_thread);
    assert!(info.cmdline.is_empty());
    assert_eq!(info.exe_path, None);
    assert_eq!(info.memory_kb, 0);
    assert_eq!(info.uid, 0);
    assert_eq!(info.ppid, 0);
}

#[test]
fn missing_pids_are_not_found_and_threads_are_not_processes() {
    let err = get_process(i32::MAX).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(err.pid(), Some(i32::MAX as u32));

    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() }).unwrap();
        let _ = done_rx.recv();
    });
    let tid = rx.recv().unwrap() as u32;
    assert!(std::path::Path::new(&format!("/proc/{tid}/stat")).exists());
    let err = get_process(tid).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let me = std::process::id();
    assert!(
        err.to_string()
            .contains(&format!("{tid} is a thread of process {me}")),
        "{err}"
    );
    done_tx.send(()).unwrap();
    thread.join().unwrap();
}

#[test]
fn invalid_pids_are_refused_before_any_system_call() {
    for raw in [0u32, u32::MAX, i32::MAX as u32 + 1] {
        let err = get_process(raw).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{raw}");
        assert!(err.to_string().contains(&raw.to_string()), "{err}");
    }
    assert_eq!(
        get_process(-1i32).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn comm_with_spaces_and_parentheses() {
    // comm is the base name of the path given to execve: a symlink with an awkward name.
    let dir = std::env::temp_dir().join(format!("sysprims-test-comm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("a) b (c");
    std::os::unix::fs::symlink("/bin/sleep", &exe).unwrap();
    let mut child = Group::spawn(&[exe.to_str().unwrap(), "1000"]);
    let info = get_process(child.pid).unwrap();
    assert_eq!(info.name, "a) b (c");
    assert_eq!(info.ppid, std::process::id());
    child.kill();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_effective_uid_of_a_non_dumpable_process_is_read_right() {
    // The kernel gives a non-dumpable process's /proc files to root, but not its /proc/<pid>
    // directory: that keeps the effective UID, and is what sysprims reads.
    if !common::require("root (to change a child's UID)", common::is_root()) {
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: pipe fills two fds we own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child makes only async-signal-safe system calls (setresuid, prctl, write,
    // pause, _exit) before it is killed.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        unsafe {
            libc::setresgid(65534, 65534, 65534);
            libc::setresuid(65534, 65534, 65534);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            libc::write(fds[1], b"x".as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut byte = 0u8;
    // SAFETY: reading one byte into a local from our pipe.
    unsafe {
        libc::close(fds[1]);
        assert_eq!(libc::read(fds[0], (&mut byte as *mut u8).cast(), 1), 1);
        libc::close(fds[0]);
    }
    let pid = pid as u32;
    let status_owner = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(format!("/proc/{pid}/status")).unwrap(),
    );
    let info = get_process(pid);
    let listed = sysprims::snapshot(&sysprims::SnapshotOptions::default())
        .unwrap()
        .processes
        .into_iter()
        .find(|p| p.pid == pid);
    // SAFETY: kill and reap our own child.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
        libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
    }
    assert_eq!(status_owner, 0, "the trap: its files look root-owned");
    let info = info.unwrap();
    assert_eq!(info.uid, 65534);
    assert_eq!(info.user.as_deref(), Some("nobody"));
    assert_eq!(listed.expect("listed").uid, 65534);
}
