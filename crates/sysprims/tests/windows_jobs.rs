//! Windows Job Objects, against real processes (run under Wine in CI):
//!
//! ```sh
//! eval "$(scripts/wine/prefix /tmp/wine-prefix)"
//! cargo test --target x86_64-pc-windows-gnu -p sysprims --test windows_jobs
//! ```
//!
//! The children are this test binary itself, re-invoked with `SYSPRIMS_WJ_ROLE` set (the
//! `helper` test below plays the role and exits), so what they do is deterministic. They
//! report through named events (`Local\...`), waited on, never slept for, and files written
//! before the event is set. Every test ends the processes it started by their own handles.
#![cfg(windows)]
#![allow(unsafe_code)]

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sysprims::{
    Containment, ContainmentKind, ErrorCode, Job, SpawnInGroupConfig, StdioConfig,
    TerminateTreeConfig, TimeoutConfig, TimeoutOutcome, TreeKillReliability, run_with_timeout,
    spawn_in_group, terminate_tree,
};
use windows_sys::Win32::Foundation::{HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetExitCodeProcess, OpenEventW, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE, PROCESS_TERMINATE, SetEvent, TerminateProcess, WaitForSingleObject,
};

const ROLE: &str = "SYSPRIMS_WJ_ROLE";
const EVENT: &str = "SYSPRIMS_WJ_EVENT";
const OUT: &str = "SYSPRIMS_WJ_OUT";
/// `CREATE_BREAKAWAY_FROM_JOB`.
const CREATE_BREAKAWAY_FROM_JOB: u32 = 0x0100_0000;
/// `EVENT_MODIFY_STATE`.
const EVENT_MODIFY_STATE: u32 = 0x0002;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn owned(h: HANDLE) -> Option<OwnedHandle> {
    // SAFETY: a fresh handle we own, or null.
    (!h.is_null()).then(|| unsafe { OwnedHandle::from_raw_handle(h as RawHandle) })
}

/// A named event a child sets when it has done its part.
struct Ready {
    name: String,
    event: OwnedHandle,
}

impl Ready {
    fn new(tag: &str) -> Ready {
        let name = format!("Local\\sysprims-wj-{}-{tag}", std::process::id());
        let w = wide(&name);
        // SAFETY: manual-reset, unsignalled, named; the name outlives the call.
        let h = unsafe { CreateEventW(std::ptr::null(), 1, 0, w.as_ptr()) };
        Ready {
            name,
            event: owned(h).expect("CreateEventW"),
        }
    }

    /// Wait for the child to set it (bounded, so a broken child fails the test).
    fn wait(&self) {
        // SAFETY: a valid event handle.
        let r = unsafe { WaitForSingleObject(self.event.as_raw_handle() as HANDLE, 30_000) };
        assert_eq!(r, WAIT_OBJECT_0, "the child never reported ready");
    }
}

/// A process we watch (and end on drop, whatever the test's outcome).
struct Watched {
    pid: u32,
    handle: OwnedHandle,
}

impl Watched {
    fn open(pid: u32) -> Watched {
        // SAFETY: plain OpenProcess.
        let h = unsafe {
            OpenProcess(
                PROCESS_SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION,
                0,
                pid,
            )
        };
        Watched {
            pid,
            handle: owned(h).unwrap_or_else(|| panic!("cannot open PID {pid}")),
        }
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    fn is_running(&self) -> bool {
        // SAFETY: a valid process handle.
        unsafe { WaitForSingleObject(self.raw(), 0) == WAIT_TIMEOUT }
    }

    /// Wait (bounded) for it to end; its exit code.
    fn wait_exit(&self, limit: Duration) -> Option<u32> {
        // SAFETY: a valid process handle.
        let r = unsafe { WaitForSingleObject(self.raw(), limit.as_millis() as u32) };
        if r != WAIT_OBJECT_0 {
            return None;
        }
        let mut code = 0;
        // SAFETY: valid handle and out-pointer.
        unsafe { GetExitCodeProcess(self.raw(), &mut code) };
        Some(code)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.is_running() {
            // SAFETY: our handle, with PROCESS_TERMINATE.
            unsafe { TerminateProcess(self.raw(), 1) };
        }
    }
}

fn out_file(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sysprims-wj-{}-{tag}.txt", std::process::id()))
}

/// argv that runs this test binary as a helper playing `role`.
fn helper_config(role: &str, ready: &Ready, out: &Path) -> SpawnInGroupConfig {
    let exe = std::env::current_exe().unwrap();
    let mut config = SpawnInGroupConfig {
        argv: vec![
            exe.to_string_lossy().into_owned(),
            "--exact".into(),
            "helper".into(),
            "--nocapture".into(),
            "--test-threads=1".into(),
        ],
        stdout: StdioConfig::Null,
        ..Default::default()
    };
    config.env.insert(ROLE.into(), role.into());
    config.env.insert(EVENT.into(), ready.name.clone());
    config
        .env
        .insert(OUT.into(), out.to_string_lossy().into_owned());
    config
}

/// A job of this test binary playing `role`, started from inside a helper (no ready event,
/// no output file).
fn role_config(role: &str) -> SpawnInGroupConfig {
    SpawnInGroupConfig {
        argv: vec![
            std::env::current_exe()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            "--exact".into(),
            "helper".into(),
        ],
        env: [(ROLE.to_string(), role.to_string())].into_iter().collect(),
        stdout: StdioConfig::Null,
        ..Default::default()
    }
}

fn set_event(name: &str) {
    let w = wide(name);
    // SAFETY: plain OpenEventW / SetEvent on a named event.
    unsafe {
        let h = OpenEventW(EVENT_MODIFY_STATE, 0, w.as_ptr());
        assert!(!h.is_null(), "OpenEventW({name})");
        SetEvent(h);
        windows_sys::Win32::Foundation::CloseHandle(h);
    }
}

/// Start this binary as a plain child (not through sysprims) playing `role`.
fn plain_child(role: &str, flags: u32) -> std::io::Result<std::process::Child> {
    use std::os::windows::process::CommandExt;
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdout(std::process::Stdio::null())
        .creation_flags(flags)
        .spawn()
}

/// The child side: plays `SYSPRIMS_WJ_ROLE` (no role: a normal, empty test). The grandchildren
/// it starts are left for the job under test to end, so they are not waited for.
#[test]
#[allow(clippy::zombie_processes)]
fn helper() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let event = std::env::var(EVENT).unwrap_or_default();
    let out = std::env::var(OUT).unwrap_or_default();
    match role.as_str() {
        // The job's processes under test: they run until ended.
        "sleep" => std::thread::sleep(Duration::from_secs(120)),
        "exit3" => std::process::exit(3),
        // Start a grandchild, report its PID, and exit: the grandchild outlives its parent.
        "orphan" => {
            let child = plain_child("sleep", 0).expect("spawn grandchild");
            std::fs::write(&out, child.id().to_string()).unwrap();
            set_event(&event);
        }
        // Try to leave the job, then start a grandchild the normal way, report, and stay.
        "breakaway" => {
            let attempt = match plain_child("sleep", CREATE_BREAKAWAY_FROM_JOB) {
                Ok(mut c) => {
                    let id = c.id();
                    let _ = c.kill();
                    format!("escaped {id}")
                }
                Err(e) => format!("refused {}", e.raw_os_error().unwrap_or(-1)),
            };
            let child = plain_child("sleep", 0).expect("spawn grandchild");
            std::fs::write(&out, format!("{attempt}\n{}", child.id())).unwrap();
            set_event(&event);
            std::thread::sleep(Duration::from_secs(120));
        }
        // A supervisor: start a job tied to this process's life, report its PID, stay.
        "owner" => {
            let job = spawn_in_group(&SpawnInGroupConfig {
                kill_on_parent_death: true,
                ..role_config("sleep")
            })
            .expect("spawn_in_group");
            std::fs::write(&out, job.pid.to_string()).unwrap();
            set_event(&event);
            std::thread::sleep(Duration::from_secs(120));
        }
        // A supervisor that is itself a job: start a job from inside it, report the inner
        // job's first PID and reliability, stay.
        "nester" => {
            let job = spawn_in_group(&role_config("sleep")).expect("spawn_in_group inside a job");
            let reliability = serde_json::to_string(&job.tree_kill_reliability).unwrap();
            std::fs::write(&out, format!("{}\n{reliability}", job.pid)).unwrap();
            set_event(&event);
            std::thread::sleep(Duration::from_secs(120));
        }
        // A spawner that leaves: start a detached job (the default: it outlives its
        // spawner), report the job's PIDs, and exit.
        "spawner" => {
            let job = spawn_in_group(&role_config("breakaway")).expect("spawn_in_group");
            assert_eq!(job.tree_kill_reliability, TreeKillReliability::Guaranteed);
            // The job's first process reports through the same event and file: wait for it,
            // then add the first process's PID.
            let ready = wide(&event);
            // SAFETY: plain OpenEventW / WaitForSingleObject on a named event.
            unsafe {
                let h = OpenEventW(0x0010_0000, 0, ready.as_ptr());
                assert!(!h.is_null());
                WaitForSingleObject(h, 30_000);
            }
            let grandchild = std::fs::read_to_string(&out).unwrap();
            let grandchild = grandchild.lines().nth(1).unwrap().to_string();
            std::fs::write(&out, format!("{}\n{grandchild}", job.pid)).unwrap();
        }
        // Another program ending a job by PID alone: the JSON result on stdout... in OUT.
        "terminator" => {
            let pid: u32 = std::env::var("SYSPRIMS_WJ_PID").unwrap().parse().unwrap();
            let result = terminate_tree(pid, &TerminateTreeConfig::default());
            let text = match result {
                Ok(r) => serde_json::to_string(&r).unwrap(),
                Err(e) => format!("error {e}"),
            };
            std::fs::write(&out, text).unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

fn read_out(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap();
    let _ = std::fs::remove_file(path);
    s
}

#[test]
fn a_job_whose_grandchild_outlives_its_parent_dies_whole() {
    let ready = Ready::new("orphan");
    let out = out_file("orphan");
    let mut job = Job::spawn(&helper_config("orphan", &ready, &out))
        .unwrap()
        .kill_on_drop(true);
    let r = job.result().clone();
    assert_eq!(r.pgid, None, "no process groups on Windows");
    assert_eq!(r.containment, ContainmentKind::JobObject, "{r:?}");
    assert_eq!(r.tree_kill_reliability, TreeKillReliability::Guaranteed);
    ready.wait();
    let grandchild = Watched::open(read_out(&out).trim().parse().unwrap());
    let first = job.wait(Some(Duration::from_secs(30))).unwrap();
    assert!(first.exited, "the first process exits after reporting");
    assert_eq!(first.exit_code, Some(0));
    assert!(
        grandchild.is_running(),
        "the grandchild outlives its parent"
    );

    let t = Instant::now();
    let result = job.terminate(&TerminateTreeConfig::default()).unwrap();
    assert!(result.exited, "{result:?}");
    assert!(!result.timed_out);
    assert!(result.survivors.is_empty());
    assert_eq!(
        result.tree_kill_reliability,
        TreeKillReliability::Guaranteed
    );
    assert_eq!(
        result.signalled, 1,
        "the grandchild was the job's only process left"
    );
    assert_eq!(result.pid, r.pid);
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.contains("nothing graceful")),
        "Wine has no CTRL_BREAK and the job no windows: {:?}",
        result.warnings
    );
    assert_eq!(
        grandchild.wait_exit(Duration::from_secs(10)),
        Some(143),
        "TERM terminates with 128 + 15"
    );
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "no grace period was waited out"
    );
    let _ = grandchild.pid;
}

#[test]
fn a_breakaway_attempt_without_breakaway_ok_stays_in_the_job() {
    let ready = Ready::new("breakaway");
    let out = out_file("breakaway");
    let r = spawn_in_group(&helper_config("breakaway", &ready, &out)).unwrap();
    let first = Watched::open(r.pid);
    assert_eq!(r.tree_kill_reliability, TreeKillReliability::Guaranteed);
    ready.wait();
    let text = read_out(&out);
    let mut lines = text.lines();
    let attempt = lines.next().unwrap().to_string();
    let grandchild = Watched::open(lines.next().unwrap().trim().parse().unwrap());
    assert_eq!(
        attempt, "refused 5",
        "CREATE_BREAKAWAY_FROM_JOB must fail with ERROR_ACCESS_DENIED"
    );
    // Ended by PID alone, as a second program would: the job is found from the PID.
    let result = terminate_tree(
        r.pid,
        &TerminateTreeConfig {
            grace_timeout_ms: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(result.exited, "{result:?}");
    assert_eq!(result.signalled, 2, "the first process and its grandchild");
    assert_eq!(
        result.tree_kill_reliability,
        TreeKillReliability::Guaranteed
    );
    assert_eq!(first.wait_exit(Duration::from_secs(10)), Some(143));
    assert_eq!(grandchild.wait_exit(Duration::from_secs(10)), Some(143));
}

#[test]
fn kill_on_drop_ends_the_job_when_the_job_value_is_dropped() {
    let ready = Ready::new("drop");
    let out = out_file("drop");
    let job = Job::spawn(&helper_config("sleep", &ready, &out))
        .unwrap()
        .kill_on_drop(true);
    let first = Watched::open(job.pid());
    assert!(first.is_running());
    drop(job);
    assert!(
        first.wait_exit(Duration::from_secs(10)).is_some(),
        "dropping a kill_on_drop Job ends its job"
    );
}

#[test]
fn kill_on_close_ends_the_job_when_its_owner_dies() {
    // The owner is killed outright (TerminateProcess: no code of its own runs), and the
    // kernel ends its job when the owner's last handle to it closes.
    let ready = Ready::new("owner");
    let out = out_file("owner");
    let owner = spawn_in_group(&SpawnInGroupConfig {
        containment: Containment::ProcessGroup,
        ..helper_config("owner", &ready, &out)
    })
    .unwrap();
    let owner = Watched::open(owner.pid);
    ready.wait();
    let job_first = Watched::open(read_out(&out).trim().parse().unwrap());
    assert!(job_first.is_running());
    // SAFETY: our handle on the owner, with PROCESS_TERMINATE.
    unsafe { TerminateProcess(owner.raw(), 9) };
    assert!(owner.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        job_first.wait_exit(Duration::from_secs(10)).is_some(),
        "the owner's job died with it (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)"
    );
}

#[test]
fn terminate_tree_by_pid_finds_the_job_its_caller_made() {
    // A detached job (spawn_in_group), ended by PID alone: found in the caller's own table.
    let ready = Ready::new("detached");
    let out = out_file("detached");
    let r = spawn_in_group(&helper_config("breakaway", &ready, &out)).unwrap();
    let first = Watched::open(r.pid);
    ready.wait();
    let text = read_out(&out);
    let grandchild = Watched::open(text.lines().nth(1).unwrap().trim().parse().unwrap());
    let result = terminate_tree(r.pid, &TerminateTreeConfig::default()).unwrap();
    assert!(result.exited && result.signalled == 2, "{result:?}");
    assert!(first.wait_exit(Duration::from_secs(10)).is_some());
    assert!(grandchild.wait_exit(Duration::from_secs(10)).is_some());
}

#[test]
fn another_process_ends_a_job_whose_spawner_has_exited() {
    // The spawner exits (its handle on the job closes); the job runs on, held by the handle
    // its first process was lent; a third process finds it by name and ends it whole.
    let ready = Ready::new("spawner");
    let out = out_file("spawner");
    let mut spawner = {
        use std::os::windows::process::CommandExt;
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "helper", "--nocapture", "--test-threads=1"])
            .env(ROLE, "spawner")
            .env(EVENT, &ready.name)
            .env(OUT, &out)
            .stdout(std::process::Stdio::null())
            .creation_flags(0)
            .spawn()
            .unwrap()
    };
    assert!(spawner.wait().unwrap().success(), "the spawner failed");
    let text = read_out(&out);
    let mut lines = text.lines();
    let first = Watched::open(lines.next().unwrap().trim().parse().unwrap());
    let grandchild = Watched::open(lines.next().unwrap().trim().parse().unwrap());
    assert!(
        first.is_running() && grandchild.is_running(),
        "the job outlived its spawner"
    );

    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper", "--nocapture", "--test-threads=1"])
        .env(ROLE, "terminator")
        .env("SYSPRIMS_WJ_PID", first.pid.to_string())
        .env(OUT, &out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = read_out(&out);
    let result: sysprims::TerminateTreeResult =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("terminator said {text}"));
    assert!(result.exited, "{result:?}");
    assert_eq!(
        result.tree_kill_reliability,
        TreeKillReliability::Guaranteed
    );
    assert_eq!(
        result.signalled, 2,
        "found by name: the whole job, {result:?}"
    );
    assert_eq!(first.wait_exit(Duration::from_secs(10)), Some(143));
    assert_eq!(grandchild.wait_exit(Duration::from_secs(10)), Some(143));
}

#[test]
fn process_group_containment_is_best_effort_and_says_why() {
    let ready = Ready::new("pg");
    let out = out_file("pg");
    let r = spawn_in_group(&SpawnInGroupConfig {
        containment: Containment::ProcessGroup,
        ..helper_config("sleep", &ready, &out)
    })
    .unwrap();
    let first = Watched::open(r.pid);
    assert_eq!(r.tree_kill_reliability, TreeKillReliability::BestEffort);
    assert_eq!(r.containment, ContainmentKind::ProcessGroup);
    assert!(
        r.warnings.iter().any(|w| w.contains("no job object")),
        "{:?}",
        r.warnings
    );
    drop(first);
}

#[test]
fn a_job_started_inside_a_job_is_nested_and_dies_with_it() {
    // Windows 8+ (and Wine 8) nest a fresh job under the job its spawner runs in: the inner
    // job is "guaranteed" too, and ending the outer job ends the inner one's processes.
    let ready = Ready::new("nester");
    let out = out_file("nester");
    let outer = spawn_in_group(&helper_config("nester", &ready, &out)).unwrap();
    assert_eq!(outer.tree_kill_reliability, TreeKillReliability::Guaranteed);
    let nester = Watched::open(outer.pid);
    ready.wait();
    let text = read_out(&out);
    let mut lines = text.lines();
    let inner = Watched::open(lines.next().unwrap().trim().parse().unwrap());
    assert_eq!(lines.next(), Some("\"guaranteed\""), "{text}");
    assert!(inner.is_running());
    let done = terminate_tree(outer.pid, &TerminateTreeConfig::default()).unwrap();
    assert!(done.exited, "{done:?}");
    assert!(nester.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        inner.wait_exit(Duration::from_secs(10)).is_some(),
        "the nested job's process outlived the outer job"
    );
}

#[test]
fn cgroup_containment_is_refused_on_windows() {
    let ready = Ready::new("cg");
    let out = out_file("cg");
    let e = spawn_in_group(&SpawnInGroupConfig {
        containment: Containment::Cgroup,
        ..helper_config("sleep", &ready, &out)
    })
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotSupported);
    assert!(e.to_string().contains("cgroup"), "{e}");
}

fn helper_args(role: &str) -> (String, Vec<String>, TimeoutConfig) {
    let exe = std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut config = TimeoutConfig {
        stdout: StdioConfig::Null,
        ..Default::default()
    };
    config.env.insert(ROLE.into(), role.into());
    (
        exe,
        vec!["--exact".into(), "helper".into(), "--test-threads=1".into()],
        config,
    )
}

#[test]
fn timeout_exit_statuses_follow_gnu() {
    let (exe, args, config) = helper_args("exit3");
    let done = run_with_timeout(&exe, &args, Duration::from_secs(60), &config).unwrap();
    assert!(matches!(done, TimeoutOutcome::Completed { .. }), "{done:?}");
    assert_eq!(done.exit_status(false), 3);
    assert_eq!(done.run().containment, ContainmentKind::JobObject);
    assert_eq!(done.run().pgid, None);

    let (exe, args, config) = helper_args("sleep");
    let t = Instant::now();
    let slow = run_with_timeout(&exe, &args, Duration::from_millis(300), &config).unwrap();
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(slow.timed_out(), "{slow:?}");
    assert_eq!(slow.status().signal, Some(15));
    assert_eq!(slow.exit_status(false), 124);
    assert_eq!(slow.exit_status(true), 143);
    assert!(slow.run().survivors.is_empty());

    let (exe, args, mut config) = helper_args("sleep");
    config.signal = sysprims::Signal::KILL;
    let killed = run_with_timeout(&exe, &args, Duration::from_millis(300), &config).unwrap();
    assert_eq!(killed.exit_status(false), 137, "{killed:?}");

    let missing = run_with_timeout(
        "sysprims-no-such-program",
        &[],
        Duration::from_secs(5),
        &TimeoutConfig::default(),
    )
    .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::SpawnFailed);
}

#[test]
fn a_timed_out_job_loses_its_grandchildren_too() {
    let ready = Ready::new("to");
    let out = out_file("to");
    let (exe, args, mut config) = helper_args("breakaway");
    config.env.insert(EVENT.into(), ready.name.clone());
    config
        .env
        .insert(OUT.into(), out.to_string_lossy().into_owned());
    let control = sysprims::TimeoutControl::new().unwrap();
    let remote = control.clone();
    let waiter = std::thread::spawn(move || {
        ready.wait();
        remote.expire();
        ready
    });
    let outcome = sysprims::run_with_timeout_controlled(
        &exe,
        &args,
        Duration::from_secs(60),
        &config,
        &control,
    )
    .unwrap();
    let _ready = waiter.join().unwrap();
    assert!(outcome.timed_out(), "{outcome:?}");
    let text = read_out(&out);
    let gc: u32 = text.lines().nth(1).unwrap().trim().parse().unwrap();
    // SAFETY: plain OpenProcess: the grandchild must be gone (or a dead, signalled handle).
    let h = owned(unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, gc) });
    if let Some(h) = h {
        // SAFETY: valid handle.
        let r = unsafe { WaitForSingleObject(h.as_raw_handle() as HANDLE, 5_000) };
        assert_eq!(
            r, WAIT_OBJECT_0,
            "the grandchild outlived the timed-out job"
        );
    }
    assert!(outcome.run().survivors.is_empty());
}
