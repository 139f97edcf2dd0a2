//! Running a command once and measuring it: wall time, CPU time and peak RSS.
//!
//! The command is not spawned by the bench itself but by a launcher: this binary executed
//! again with [`LAUNCH_FLAG`]. The reason is peak RSS. Linux carries a process's high-water
//! RSS across `exec` (`signal->maxrss`), and a freshly forked (or vforked) child starts with
//! its parent's pages, so the `ru_maxrss` of a child of a large process is at least that
//! process's RSS. The bench holds thousands of `Child` handles and in-process listings; the
//! launcher is a fresh, small process, so what `wait4` reports for its child is the child's
//! own peak (with a floor of a few hundred KiB, measured with `true` and reported).

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::herd::die_with_parent;

/// The hidden first argument that makes this binary a launcher.
pub const LAUNCH_FLAG: &str = "--launch";

/// One run of a command.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// From just before the spawn to the end of `wait4`, as seen by the launcher.
    pub wall: Duration,
    /// User plus system CPU time of the command.
    pub cpu: Duration,
    /// The command's peak resident set size, KiB (`ru_maxrss`).
    pub maxrss_kb: u64,
}

/// Run `prog args` once, stdout to `/dev/null`, through a launcher (`launcher` is this
/// binary). Fails if the command cannot be started or does not exit with status 0.
pub fn measure(launcher: &Path, prog: &Path, args: &[&str]) -> io::Result<Run> {
    let mut cmd = Command::new(launcher);
    cmd.arg(LAUNCH_FLAG)
        .arg(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    die_with_parent(&mut cmd);
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<u64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match (out.status.success(), fields.as_slice()) {
        (true, &[wall_ns, maxrss_kb, cpu_us]) => Ok(Run {
            wall: Duration::from_nanos(wall_ns),
            cpu: Duration::from_micros(cpu_us),
            maxrss_kb,
        }),
        _ => Err(io::Error::other(format!(
            "{} failed ({}): {}",
            prog.display(),
            out.status,
            text.trim()
        ))),
    }
}

/// The launcher: run the command in `args` (program first), wait for it with `wait4`, and
/// print "wall_ns maxrss_kb cpu_us" on stdout. Exits 1 if the command fails.
pub fn launch(mut args: impl Iterator<Item = OsString>) -> ! {
    let Some(prog) = args.next() else {
        eprintln!("sysprims-bench {LAUNCH_FLAG}: no command");
        std::process::exit(2);
    };
    let mut cmd = Command::new(&prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    die_with_parent(&mut cmd);
    let started = Instant::now();
    let result = cmd.spawn().and_then(|child| wait4(child.id()));
    let wall = started.elapsed();
    match result {
        Ok((status, usage)) if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => {
            let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
            let mut stdout = io::stdout().lock();
            let _ = writeln!(
                stdout,
                "{} {} {}",
                wall.as_nanos(),
                usage.ru_maxrss,
                cpu.as_micros()
            );
            std::process::exit(0);
        }
        Ok((status, _)) => {
            if libc::WIFSIGNALED(status) {
                println!("killed by signal {}", libc::WTERMSIG(status));
            } else {
                println!("exited with status {}", libc::WEXITSTATUS(status));
            }
            std::process::exit(1);
        }
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    }
}

/// Reap child `pid`, with its resource usage.
fn wait4(pid: u32) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the right types.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == pid as libc::pid_t {
            return Ok((status, usage));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// CPU time used by this whole process (all threads) so far.
pub fn process_cpu_time() -> Duration {
    // SAFETY: timespec is plain integers, for which all zeroes is a valid value.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is to a live, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// The value of a count option (`--runs N`): the next argument, a positive number (0 is
/// read as 1). `flag` names the option in errors.
pub fn count_value(
    args: &mut impl Iterator<Item = std::ffi::OsString>,
    flag: &str,
) -> Result<usize, String> {
    let v = args.next().ok_or(format!("{flag} needs a value"))?;
    v.to_string_lossy()
        .parse::<usize>()
        .map(|n| n.max(1))
        .map_err(|_| format!("{flag}: not a number: {v:?}"))
}
