//! The background processes the bench starts to reach a process count, and their cleanup.
//!
//! Every child is `sleep 3600`, spawned directly (no shell), in one process group whose
//! leader is the first child. They are ended by that process group (`killpg` with `SIGKILL`)
//! and by PID, then reaped:
//! - by [`Herd::end`], also run by `Drop` when the bench returns or panics;
//! - by a `SIGINT`/`SIGTERM`/`SIGHUP`/`SIGQUIT` handler, which kills and reaps the group and then
//!   lets the signal end the bench (see [`kill_and_reap_group`]);
//! - by the kernel if the bench dies any other way (even `SIGKILL`): each child asks for
//!   `SIGKILL` when its parent dies (`PR_SET_PDEATHSIG`).

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The process group of the herd, for the signal handler (0 while there is none).
static HERD_PGID: AtomicI32 = AtomicI32::new(0);

/// Background processes in one process group that this bench created.
pub struct Herd {
    sleep: PathBuf,
    pgid: Option<i32>,
    children: Vec<Child>,
}

impl Herd {
    /// An empty herd, and the signal handlers that end it.
    pub fn new(sleep: PathBuf) -> Herd {
        install_signal_handlers();
        Herd {
            sleep,
            pgid: None,
            children: Vec::new(),
        }
    }

    /// How many processes are running in the herd.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// The herd's process group, once it has a member.
    pub fn pgid(&self) -> Option<i32> {
        self.pgid
    }

    /// Start `n` more processes. On an error the ones started so far stay in the herd.
    pub fn grow(&mut self, n: usize) -> io::Result<Duration> {
        let started = Instant::now();
        self.children.reserve(n);
        for _ in 0..n {
            let child = self.spawn_one()?;
            if self.pgid.is_none() {
                let pgid = child.id() as i32;
                self.pgid = Some(pgid);
                HERD_PGID.store(pgid, Ordering::SeqCst);
            }
            self.children.push(child);
        }
        Ok(started.elapsed())
    }

    fn spawn_one(&self) -> io::Result<Child> {
        let mut cmd = Command::new(&self.sleep);
        cmd.arg("3600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // 0: the first child leads a new group; the others join it.
            .process_group(self.pgid.unwrap_or(0));
        die_with_parent(&mut cmd);
        cmd.spawn()
    }

    /// Kill every process of the herd and reap it. Returns how many were reaped.
    pub fn end(&mut self) -> usize {
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg has no memory-safety preconditions; the group is ours (its
            // leader is our child and is not reaped yet, so its PGID cannot be reused).
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        // All are dying now; from here on the handler has nothing left to kill, and the PGID
        // may be free for reuse once the last member is reaped.
        HERD_PGID.store(0, Ordering::SeqCst);
        self.pgid = None;
        let mut reaped = 0;
        for mut child in self.children.drain(..) {
            // By PID as well, in case one ever left the group; a no-op on a zombie.
            let _ = child.kill();
            if child.wait().is_ok() {
                reaped += 1;
            }
        }
        reaped
    }
}

impl Drop for Herd {
    fn drop(&mut self) {
        if !self.children.is_empty() {
            let n = self.end();
            eprintln!("sysprims-bench: ended {n} background processes");
        }
    }
}

/// Make the child get `SIGKILL` when the bench dies, however it dies.
///
/// The kernel sends it when the *thread* that forked the child exits, so children must be
/// spawned from the main thread (they are).
pub fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (prctl, getppid); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent died before the prctl: no signal will come, so do not start.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let pgid = HERD_PGID.load(Ordering::SeqCst);
    if pgid > 0 {
        kill_and_reap_group(pgid);
    }
    // SAFETY: signal and raise are async-signal-safe; with the default action restored, the
    // signal ends the bench as it would have without the handler.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Kill group `pgid` until no child of ours is left in it, reaping as they die. Called from
/// a signal handler, so only async-signal-safe calls.
///
/// One `killpg` is not enough: the signal may come while a child is between `fork` and
/// `setpgid`, and that child joins the group after the first kill. It is killed by a later
/// round. (A child that has not joined when the group is empty dies on its own: its
/// `getppid` check fails or `PR_SET_PDEATHSIG` fires when the bench exits.)
fn kill_and_reap_group(pgid: libc::pid_t) {
    let pause = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000,
    };
    // Bounded, so a handler can never hang the bench: 10 s of 1 ms rounds.
    for _ in 0..10_000 {
        // SAFETY: killpg, waitpid and nanosleep are async-signal-safe; waitpid accepts a
        // null status pointer and nanosleep a null remainder pointer.
        let reaped = unsafe {
            libc::killpg(pgid, libc::SIGKILL);
            libc::waitpid(-pgid, std::ptr::null_mut(), libc::WNOHANG)
        };
        if reaped > 0 {
            continue;
        }
        if reaped < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return; // ECHILD: no child of ours is left in the group.
        }
        // SAFETY: see above.
        unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
    }
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe { libc::signal(sig, handler) };
    }
}

/// How many processes are in process group `pgid`.
pub fn count_in_group(pgid: i32) -> Result<usize, String> {
    let snap = sysprims::snapshot(&sysprims::SnapshotOptions::default())
        .map_err(|e| format!("cannot list processes to check the cleanup: {e}"))?;
    Ok(snap
        .processes
        .iter()
        .filter(|p| i64::from(p.pgid) == i64::from(pgid))
        .count())
}

/// Find a program in `PATH`, once, so no spawn searches for it.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
