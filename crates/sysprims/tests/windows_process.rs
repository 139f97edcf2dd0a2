//! The Windows backend against real processes (run under Wine in CI, `scripts/test-windows`):
//! listing and reading self and a child, identity (pid, creation time at 100 ns), guarded
//! termination through a held handle (exit code 128 + N), `ProcessHandle::wait`, bad PIDs
//! that send nothing, `wait_pid` exit codes, forced PID reuse that never hits the newcomer,
//! and listening ports from the IP Helper tables.
//!
//! Children are this test binary run again with `SYSPRIMS_WIN_CHILD` set (see `child_entry`):
//! `block` prints `ready` and waits for its stdin to close; `exit:N` exits with N. Tests
//! synchronise on the `ready` line and on process handles, never on sleeps, and end every
//! child they start (kill, then wait) even when an assertion fails.
#![cfg(windows)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use sysprims::{
    ErrorCode, GuardedSignal, IdentityCheck, PortFilter, ProcessHandle, ProcessIdentity,
    ProcessState, Protocol, Signal, SnapshotOptions, SocketFamily, SocketState, descendants,
    get_process, kill, listening_ports, ports_of, signal_if, snapshot, verify_identity, wait_pid,
};

const CHILD_VAR: &str = "SYSPRIMS_WIN_CHILD";

/// Not a test of its own: the body of the children. Without `SYSPRIMS_WIN_CHILD` it does
/// nothing.
#[test]
fn child_entry() {
    let Ok(what) = std::env::var(CHILD_VAR) else {
        return;
    };
    if let Some(code) = what.strip_prefix("exit:") {
        std::process::exit(code.parse().unwrap());
    }
    assert_eq!(what, "block");
    println!("ready");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0);
}

/// A child that ends when dropped (killed, then waited for).
struct Kid {
    child: Child,
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Kid {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn child_command(what: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .args(extra)
        .env(CHILD_VAR, what);
    cmd
}

/// A child that runs until dropped, returned once it has said `ready`.
fn blocking_child(extra: &[&str]) -> Kid {
    let mut child = child_command("block", extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut kid = Kid {
        child,
        _stdout: None,
    };
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "the child ended before it was ready");
        // libtest prints "test child_entry ... " before it, without a newline.
        if line.trim_end().ends_with("ready") {
            break;
        }
    }
    kid._stdout = Some(out);
    kid
}

#[test]
fn reads_itself() {
    let me = std::process::id();
    let info = get_process(me).unwrap();
    assert_eq!(info.pid, me);
    assert_eq!(info.state, ProcessState::Running);
    assert!(info.thread_count >= 1, "{info:?}");
    assert!(info.memory_kb > 0, "{info:?}");
    let exe = std::env::current_exe().unwrap();
    let exe_name = exe.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(info.name.to_lowercase(), exe_name.to_lowercase());
    let path = info.exe_path.clone().expect("exe path");
    assert!(
        path.to_lowercase().ends_with(&exe_name.to_lowercase()),
        "{path} vs {exe_name}"
    );
    // The command line, read from the PEB and split as the C runtime splits it, is ours.
    let ours: Vec<String> = std::env::args().skip(1).collect();
    assert_eq!(&info.cmdline[1..], &ours[..], "{:?}", info.cmdline);
    // Creation time: 100 ns units, equal on every read, and Unix ms within a minute of now.
    let again = get_process(me).unwrap();
    assert_eq!(info.start_time_boot_ticks, again.start_time_boot_ticks);
    assert_eq!(info.start_time_unix_ms, again.start_time_unix_ms);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let started = info.start_time_unix_ms.unwrap();
    assert!(
        started <= now_ms && now_ms - started < 600_000,
        "{started} vs {now_ms}"
    );
    // The listing has us, with the same stamp.
    let all = snapshot(&SnapshotOptions::default()).unwrap();
    let listed = all
        .processes
        .iter()
        .find(|p| p.pid == me)
        .expect("self listed");
    assert_eq!(listed.start_time_boot_ticks, info.start_time_boot_ticks);
    assert!(all.processes.len() >= 2);
    // Identity: the same now, not the same with another creation time.
    let id = ProcessIdentity::of(me).unwrap();
    assert_eq!(id.start_time_boot_ticks, info.start_time_boot_ticks);
    assert_eq!(verify_identity(&id).unwrap(), IdentityCheck::Same);
    let mut other = id.clone();
    other.start_time_boot_ticks = id.start_time_boot_ticks.map(|t| t + 1);
    assert!(matches!(
        verify_identity(&other).unwrap(),
        IdentityCheck::Reused { .. }
    ));
}

#[test]
fn reads_a_child_and_finds_it_among_descendants() {
    let tricky = r#"two words "quoted" back\slash\"#;
    let mut kid = blocking_child(&["--", tricky, ""]);
    let info = get_process(kid.pid()).unwrap();
    assert_eq!(info.ppid, std::process::id());
    let n = info.cmdline.len();
    assert!(n >= 3, "{:?}", info.cmdline);
    assert_eq!(info.cmdline[n - 2], tricky, "{:?}", info.cmdline);
    assert_eq!(info.cmdline[n - 1], "", "{:?}", info.cmdline);
    let tree = descendants(std::process::id(), None).unwrap();
    assert_eq!(tree.root().pid, std::process::id());
    assert!(
        tree.descendant_pids().contains(&kid.pid()),
        "{:?}",
        tree.descendant_pids()
    );
    assert!(kid.alive());
}

/// TERM and KILL are TerminateProcess with 128 + N, the codes a job's processes get too.
#[test]
fn guarded_kill_ends_the_child_with_exit_code_128_plus_n() {
    let mut kid = blocking_child(&[]);
    let id = ProcessIdentity::of(kid.pid()).unwrap();
    let handle = ProcessHandle::open(kid.pid()).unwrap();
    assert!(handle.has_pidfd(), "a process handle pins the PID");
    match handle.signal_if(&id, Signal::TERM).unwrap() {
        GuardedSignal::Signalled { .. } => {}
        other => panic!("{other:?}"),
    }
    let done = wait_pid(kid.pid(), Some(Duration::from_secs(60))).unwrap();
    assert!(done.exited && !done.timed_out, "{done:?}");
    assert_eq!(done.exit_code, Some(143), "128 + SIGTERM");
    assert_eq!(done.signal, None, "Windows has no death by signal");
    assert!(!kid.alive());
    // Exited (our std::process::Child still holds it open): gone for the guards, and
    // TerminateProcess is not called on it (Wine would say it succeeded).
    assert_eq!(
        signal_if(&id, Signal::KILL).unwrap(),
        GuardedSignal::Gone,
        "an exited process is gone"
    );
    assert_eq!(
        kill(kid.pid(), Signal::KILL).unwrap_err().code(),
        ErrorCode::NotFound
    );
}

/// `ProcessHandle::wait` waits on the handle it holds: a timeout while the process runs, then
/// the exit code of a KILL (128 + 9), again on a second wait (Windows has no reaping), and
/// still once every other handle to the process is closed. A handle on the caller itself is
/// refused.
#[test]
fn process_handle_waits_on_the_process_it_holds() {
    let mut kid = blocking_child(&[]);
    let handle = ProcessHandle::open(kid.pid()).unwrap();
    let early = handle.wait(Some(Duration::from_millis(50))).unwrap();
    assert!(early.timed_out && !early.exited, "{early:?}");
    assert!(kid.alive());
    handle.signal(Signal::KILL).unwrap();
    let done = handle.wait(Some(Duration::from_secs(60))).unwrap();
    assert!(done.exited && !done.timed_out, "{done:?}");
    assert_eq!(done.exit_code, Some(137), "128 + SIGKILL");
    assert_eq!(done.signal, None);
    drop(kid);
    let again = handle.wait(Some(Duration::ZERO)).unwrap();
    assert!(again.exited, "{again:?}");
    assert_eq!(again.exit_code, Some(137));
    let me = ProcessHandle::open(std::process::id()).unwrap();
    assert_eq!(
        me.wait(Some(Duration::ZERO)).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn wait_pid_reports_exit_codes_and_timeouts() {
    let mut child = child_command("exit:7", &[])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let done = wait_pid(child.id(), Some(Duration::from_secs(60))).unwrap();
    assert!(done.exited, "{done:?}");
    assert_eq!(done.exit_code, Some(7));
    child.wait().unwrap();

    let mut kid = blocking_child(&[]);
    let waited = wait_pid(kid.pid(), Some(Duration::from_millis(50))).unwrap();
    assert!(waited.timed_out && !waited.exited, "{waited:?}");
    assert!(kid.alive());
}

#[test]
fn bad_pids_and_unsupported_signals_send_nothing() {
    let mut kid = blocking_child(&[]);
    for pid in [0u32, u32::MAX, i32::MAX as u32 + 1] {
        assert_eq!(
            kill(pid, Signal::KILL).unwrap_err().code(),
            ErrorCode::InvalidArgument,
            "{pid}"
        );
    }
    // 4 (System) and the caller are protected; 1 is an ordinary PID on Windows.
    let err = kill(4u32, Signal::KILL).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    assert!(err.to_string().contains("System"), "{err}");
    let err = kill(std::process::id(), Signal::TERM).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    let one = sysprims::can_signal(1u32, Signal::TERM, Default::default());
    assert!(
        one.as_ref()
            .map_or_else(|e| e.code() != ErrorCode::InvalidArgument, |_| true),
        "PID 1 is not protected on Windows: {one:?}"
    );
    for signal in [Signal::HUP, Signal::INT, Signal::USR1, Signal::STOP] {
        let err = kill(kid.pid(), signal).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotSupported, "{signal:?}: {err}");
        assert!(
            err.to_string().contains(&*signal.name()),
            "{signal:?}: {err}"
        );
    }
    assert!(kid.alive(), "nothing reached the child");
    kill(kid.pid(), Signal::PROBE).unwrap();
}

/// The ID the next thread is handed: a thread that reports its own ID and ends (freeing it).
fn churn_one_thread_id() -> u32 {
    // SAFETY: GetCurrentThreadId has no preconditions.
    std::thread::spawn(|| unsafe { windows_sys::Win32::System::Threading::GetCurrentThreadId() })
        .join()
        .unwrap()
}

/// Force the PID of an ended child onto a newcomer, then aim the old identity at it:
/// `Reused`, and the newcomer lives.
///
/// Windows, and Wine, draw process and thread IDs from one table. Wine's server hands out
/// fresh entries until its table is full, then the oldest freed entry first (once at least
/// 256 are free). Spawning processes until one lands on the old PID takes about a thousand
/// spawns (some 170 s under Wine); a thread that starts and ends moves the free list on by
/// one entry at a fraction of the cost. So threads churn the list until one is handed the
/// old PID, which names the entry freed just before it; the next time a thread is handed
/// that entry, the old PID is next in line and a child is spawned to take it. Other tests in
/// this binary spawn too and may take it first: then the child has another PID, is ended,
/// and the churn goes on, within bounds that fail the test.
#[test]
fn forced_pid_reuse_never_hits_the_newcomer() {
    const MAX_THREADS: usize = 200_000;
    const MAX_SPAWNS: usize = 50;
    let mut old = blocking_child(&[]);
    let old_pid = old.pid();
    let old_id = ProcessIdentity::of(old_pid).unwrap();
    // End it and close every handle to it, so the PID is free.
    let _ = old.child.kill();
    let _ = old.child.wait();
    drop(old);
    let mut previous = None;
    let mut before_old = None;
    let mut spawns = 0;
    for threads in 1..=MAX_THREADS {
        let tid = churn_one_thread_id();
        if tid == old_pid {
            // A thread had it (and freed it again): the ID before it in line is known now.
            before_old = previous;
        } else if Some(tid) == before_old {
            // The old PID is next in line: a child should get it.
            spawns += 1;
            let mut kid = blocking_child(&[]);
            if kid.pid() == old_pid {
                let reused = verify_identity(&old_id).unwrap();
                assert!(matches!(reused, IdentityCheck::Reused { .. }), "{reused:?}");
                match signal_if(&old_id, Signal::KILL).unwrap() {
                    GuardedSignal::Reused { .. } => {}
                    other => panic!("the newcomer was hit: {other:?}"),
                }
                let handle = ProcessHandle::open(old_pid).unwrap();
                assert!(matches!(
                    handle.signal_if(&old_id, Signal::TERM).unwrap(),
                    GuardedSignal::Reused { .. }
                ));
                assert!(kid.alive(), "the newcomer must live");
                eprintln!(
                    "PID {old_pid} reused by a child after {threads} threads and {spawns} \
                     spawn(s): never signalled"
                );
                return;
            }
            assert!(
                spawns < MAX_SPAWNS,
                "PID {old_pid}: {spawns} children spawned when it was next in line, none \
                 got it"
            );
        }
        previous = Some(tid);
    }
    panic!("PID {old_pid} was not handed out again in {MAX_THREADS} thread starts");
}

/// Listening sockets come from the IP Helper owner tables: a TCP listener and a UDP socket of
/// ours are listed with their address, port and state, a closed one is not, and a PID filter
/// keeps only that PID's. Wine 8 reports every owner as PID 0, so the owner is checked where
/// one is reported (Windows: this process) and otherwise the socket has no holder.
#[test]
fn listening_ports_come_from_the_owner_tables() {
    let me = std::process::id();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let udp_port = udp.local_addr().unwrap().port();
    let only = |protocol, port| PortFilter {
        protocol: Some(protocol),
        port: Some(port),
        ..Default::default()
    };

    let found = listening_ports(&only(Protocol::Tcp, tcp_port)).unwrap();
    assert_eq!(found.bindings.len(), 1, "{found:?}");
    let b = &found.bindings[0];
    assert_eq!(
        (b.local_address.as_str(), b.local_port, b.family, b.state),
        (
            "127.0.0.1",
            tcp_port,
            SocketFamily::Ipv4,
            SocketState::Listen
        ),
        "{b:?}"
    );
    let owner_reported = !b.processes.is_empty();
    if owner_reported {
        assert_eq!(b.processes.len(), 1, "{b:?}");
        assert_eq!(b.processes[0].pid, me, "{b:?}");
        assert!(b.processes[0].fds.is_empty(), "Windows has no fd numbers");
    } else {
        eprintln!("owner not checked: Wine 8 reports every socket's owner as PID 0");
    }

    let found = listening_ports(&only(Protocol::Udp, udp_port)).unwrap();
    assert_eq!(found.bindings.len(), 1, "{found:?}");
    let b = &found.bindings[0];
    assert_eq!(
        (b.local_address.as_str(), b.local_port, b.family, b.state),
        (
            "127.0.0.1",
            udp_port,
            SocketFamily::Ipv4,
            SocketState::Unconnected
        ),
        "{b:?}"
    );
    assert!(b.processes.iter().all(|p| p.pid == me), "{b:?}");

    // The whole listing has both; ours, by PID, has them where owners are reported.
    let all = listening_ports(&PortFilter::default()).unwrap();
    assert!(
        all.bindings
            .iter()
            .any(|b| b.protocol == Protocol::Tcp && b.local_port == tcp_port)
    );
    let mine = ports_of(me).unwrap();
    assert!(
        mine.bindings
            .iter()
            .all(|b| b.processes.iter().all(|p| p.pid == me)),
        "{mine:?}"
    );
    assert_eq!(
        mine.bindings.iter().any(|b| b.local_port == tcp_port),
        owner_reported,
        "{mine:?}"
    );

    // A PID no process has (Windows PIDs are multiples of 4) is NotFound, port 0 refused.
    assert_eq!(
        ports_of(0x7fff_fff1u32).unwrap_err().code(),
        ErrorCode::NotFound
    );
    let zero = listening_ports(&PortFilter {
        port: Some(0),
        ..Default::default()
    });
    assert_eq!(zero.unwrap_err().code(), ErrorCode::InvalidArgument);

    drop(tcp);
    let gone = listening_ports(&only(Protocol::Tcp, tcp_port)).unwrap();
    assert!(gone.bindings.is_empty(), "a closed listener: {gone:?}");
    drop(udp);
}
