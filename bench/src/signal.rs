//! `sysprims-bench signal`: what a guarded signal costs against a bare `kill(2)`.
//!
//! Two targets (this binary, re-entered): one that ignores SIGUSR1, so every signal is
//! accepted and discarded and nothing but the sending is measured (the cheapest case for
//! `kill(2)`, and so the hardest for the ratio); and one that catches it with a handler, so
//! each signal is delivered and wakes the target, as a real signal does. Per-call medians over
//! alternating runs (A B C ... A B C ...) of `--calls` calls each:
//!
//! - **bare**: `libc::kill(pid, SIGUSR1)`, the baseline.
//! - **guarded, cold**: `sysprims::signal_if(&identity, USR1)` with a full identity (pidfs inode):
//!   open a pidfd, check the inode, send through the pidfd, close. No other pidfd to the target
//!   is open, so the kernel builds and frees the target's pidfs inode on every call.
//! - **guarded, warm**: the same while a [`ProcessHandle`] to the target is held elsewhere,
//!   as a supervisor that keeps its job's pidfd holds one: the inode stays cached.
//! - **guarded, no inode**: an identity without a pidfs inode (kernels before 6.9): the start
//!   time and executable are read from `/proc`.
//! - **handle**: `ProcessHandle::signal` on a handle opened and verified once.
//! - **floor**: the four system calls a guarded signal needs (`pidfd_open`, `fstat`,
//!   `pidfd_send_signal`, `close`), made directly with libc: how close the library gets.
//!
//! Target: a guarded signal <= 3x bare, judged on the cold and warm rows. The floor row shows
//! what no implementation of "open a pidfd, verify, send" can beat on the machine.

use std::ffi::OsString;
use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use sysprims::{ProcessHandle, ProcessIdentity, Signal};

const TARGET_RATIO: f64 = 3.0;

const USAGE: &str = "\
usage: sysprims-bench signal [--calls N] [--runs N]

  --calls  signals per run (default 20000)
  --runs   measured runs of each way (default 11)";

/// The target process, killed and reaped on drop.
struct Target(Child);

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn main(mut args: impl Iterator<Item = OsString>) -> Result<(), String> {
    let mut calls = 20_000usize;
    let mut runs = 11usize;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut number = || crate::measure::count_value(&mut args, &arg);
        match arg.as_str() {
            "--calls" => calls = number()?,
            "--runs" => runs = number()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }

    for (label, mode) in [
        (
            "SIGUSR1 ignored by the target (kill(2)'s cheapest path)",
            "ignore",
        ),
        ("SIGUSR1 delivered to a handler in the target", "handle"),
    ] {
        measure_against(label, mode, calls, runs)?;
    }
    Ok(())
}

fn measure_against(label: &str, mode: &str, calls: usize, runs: usize) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args([TARGET_FLAG, mode])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    crate::herd::die_with_parent(&mut cmd);
    let mut target = Target(cmd.spawn().map_err(|e| format!("spawn target: {e}"))?);
    let pid = target.0.id();
    // The target says when its disposition is set (and so it has exec'd).
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(target.0.stdout.take().ok_or("no stdout")?),
        &mut ready,
    )
    .map_err(|e| e.to_string())?;
    if ready.trim() != "ready" {
        return Err(format!("target said {ready:?}"));
    }
    let identity = ProcessIdentity::of(pid).map_err(|e| e.to_string())?;
    if identity.pidfs_inode.is_none() {
        println!("note: no pidfs inode on this kernel; the cold and warm rows read /proc");
    }
    let mut no_inode = identity.clone();
    no_inode.pidfs_inode = None;
    let usr1 = Signal::USR1;
    let bare = || {
        // SAFETY: kill of our own child (alive: it is reaped only on drop) with SIGUSR1,
        // which it ignores or handles.
        let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR1) };
        assert_eq!(rc, 0);
    };
    let guarded = || {
        black_box(sysprims::signal_if(&identity, usr1).unwrap());
    };
    let guarded_no_inode = || {
        black_box(sysprims::signal_if(&no_inode, usr1).unwrap());
    };
    // The system calls a guarded signal cannot do without, made directly: the floor.
    let floor = || {
        // SAFETY: raw system calls on an fd this closure opens and closes; `st` is ours.
        unsafe {
            let fd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as libc::c_int;
            assert!(fd >= 0);
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(fd, &mut st);
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGUSR1,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
            libc::close(fd);
        }
    };

    let mut times: Vec<[f64; 6]> = Vec::new();
    for round in 0..=runs {
        let mut row = [0.0; 6];
        // Cold: no pidfd to the target is open between calls.
        row[0] = per_call(calls, bare);
        row[1] = per_call(calls, guarded);
        row[5] = per_call(calls, floor);
        // Warm: a handle (a pidfd) to the target is held meanwhile.
        let handle = ProcessHandle::open(pid).map_err(|e| e.to_string())?;
        row[2] = per_call(calls, guarded);
        row[4] = per_call(calls, || handle.signal(usr1).unwrap());
        row[3] = per_call(calls / 10, guarded_no_inode);
        drop(handle);
        if round > 0 {
            times.push(row); // round 0 is the warmup
        }
    }
    let median = |i: usize| {
        let mut v: Vec<f64> = times.iter().map(|r| r[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base = median(0);
    println!("{label}: {calls} calls per run, {runs} runs, medians per call");
    println!("{:<42} {:>8} {:>8}  target", "", "ns/call", "ratio");
    for (i, label) in [
        "bare kill(2)",
        "signal_if, cold (pidfd per call)",
        "signal_if, warm (pidfd held)",
        "signal_if, no pidfs inode (/proc)",
        "ProcessHandle::signal",
        "floor: pidfd_open+fstat+send+close (cold)",
    ]
    .iter()
    .enumerate()
    {
        let ratio = median(i) / base;
        let verdict = match i {
            1 | 2 => format!(
                "<= {TARGET_RATIO:.1}x  {}",
                if ratio <= TARGET_RATIO {
                    "PASS"
                } else {
                    "FAIL"
                }
            ),
            _ => String::new(),
        };
        println!("{label:<42} {:>8.0} {ratio:>7.2}x  {verdict}", median(i));
    }
    println!();
    drop(target);
    Ok(())
}

/// The argument that makes this binary a target ([`target_child`]).
pub const TARGET_FLAG: &str = "--signal-target";

extern "C" fn ignore_signal(_: libc::c_int) {}

/// In the target: set SIGUSR1 to ignored or to a handler that does nothing, say `ready`, and
/// wait for signals until killed (or until the bench dies: `PR_SET_PDEATHSIG`).
pub fn target_child(mut args: impl Iterator<Item = OsString>) -> ! {
    let handler = match args.next().as_deref().and_then(|a| a.to_str()) {
        Some("handle") => ignore_signal as *const () as libc::sighandler_t,
        _ => libc::SIG_IGN,
    };
    // SAFETY: installing a disposition for SIGUSR1; the handler does nothing.
    unsafe { libc::signal(libc::SIGUSR1, handler) };
    println!("ready");
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}

/// Nanoseconds per call of `f`, over `calls` calls.
fn per_call(calls: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}
