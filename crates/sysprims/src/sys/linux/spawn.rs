//! Starting a child without copying the parent: `clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD
//! | CLONE_INTO_CGROUP)`.
//!
//! Rust's `std::process::Command` spawns with `posix_spawn` (a vfork-style clone, cheap from
//! any parent) unless a `pre_exec` closure is set, and then it forks, which copies the
//! parent's page tables: 16 ms instead of 0.36 ms from a 1 GiB parent, measured here. Putting
//! the child in a cgroup before it runs would need such a closure. `clone3` does it instead:
//! `CLONE_INTO_CGROUP` starts the child in the cgroup, `CLONE_VM | CLONE_VFORK` shares the
//! parent's memory (the calling thread waits until the child has called `execve`), and
//! `CLONE_PIDFD` returns a pidfd for it, so the child is held by a pidfd from its first
//! instruction.
//!
//! The child runs on a stack of its own, in [`child_main`], and makes only system calls until
//! `execve`: no allocation, no locks (other threads of the parent keep running and share its
//! memory). Everything it needs is prepared by the parent in a [`Plan`].
//!
//! Where `clone3` is missing (before Linux 5.3, or a seccomp profile that answers `ENOSYS`, as
//! container runtimes' defaults do) or on architectures without the entry stub below, the
//! child is started with `fork(2)` and joins its cgroup by writing to `cgroup.procs` before
//! `execve`: the same result, at fork's cost.

#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use rustix::fs::{Mode, OFlags};

use super::cgroup::JobCgroup;
use crate::pid::Pid;

/// The step at which a child failed, before it could run the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `setpgid(0, 0)`.
    ProcessGroup,
    /// `prctl(PR_SET_PDEATHSIG)`.
    ParentDeathSignal,
    /// Joining the cgroup (fork fallback only).
    Cgroup,
    /// `dup2` of a standard stream.
    Stdio,
    /// `chdir` to the working directory.
    Chdir,
    /// `execve` of the program.
    Exec,
}

impl Stage {
    fn code(self) -> u32 {
        match self {
            Stage::ProcessGroup => 1,
            Stage::ParentDeathSignal => 2,
            Stage::Cgroup => 3,
            Stage::Stdio => 4,
            Stage::Chdir => 5,
            Stage::Exec => 6,
        }
    }

    fn from_code(code: u32) -> Option<Stage> {
        Some(match code {
            1 => Stage::ProcessGroup,
            2 => Stage::ParentDeathSignal,
            3 => Stage::Cgroup,
            4 => Stage::Stdio,
            5 => Stage::Chdir,
            6 => Stage::Exec,
            _ => return None,
        })
    }
}

/// Everything the child needs, prepared (and allocated) by the parent.
pub(crate) struct Plan {
    /// `argv`, each entry NUL-free.
    pub argv: Vec<CString>,
    /// `envp`, `KEY=VALUE` entries.
    pub env: Vec<CString>,
    /// The program: a path (with a `/`), or a file name looked up in `search_path`.
    pub program: CString,
    /// The `PATH` to search for `program`, or `None` to run `program` as it is. The child
    /// builds each candidate in turn in a buffer of [`PATH_MAX`] bytes on its stack.
    pub search_path: Option<CString>,
    /// Working directory, if not the parent's.
    pub cwd: Option<CString>,
    /// stdin, stdout, stderr: `None` inherits. Each fd must be 3 or above.
    pub stdio: [Option<OwnedFd>; 3],
    /// `PR_SET_PDEATHSIG(SIGKILL)`.
    pub kill_on_parent_death: bool,
    /// `setpgid(0, 0)`: a process group of its own (otherwise the parent's).
    pub new_process_group: bool,
    /// `cgroup.procs` of v1 cgroups (a job's limits on a hybrid host) the child joins before
    /// `execve`; -1 for none. The parent keeps them open until the spawn returns.
    pub v1_procs: [RawFd; 3],
}

/// A started child.
pub(crate) struct Spawned {
    pub pid: Pid,
    /// Its pidfd, unless the kernel has none.
    pub pidfd: Option<OwnedFd>,
}

/// Why a spawn failed.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// The kernel refused to create the child (`errno`); with a cgroup, often because of the
    /// cgroup (`EBUSY`, `EACCES`, `EOPNOTSUPP`).
    Create(i32),
    /// The child failed at `stage` with `errno` before running the program; it has been
    /// reaped.
    Child { stage: Stage, errno: i32 },
}

/// What the child reads: raw pointers into the [`Plan`], which outlives the child's use of it
/// (the parent does not return before the child has called `execve` or exited).
#[repr(C)]
struct ChildArgs {
    argv: *const *const c_char,
    envp: *const *const c_char,
    program: *const c_char,
    program_len: usize,
    /// The `PATH` bytes (no NUL), or null to run `program` as it is.
    search_path: *const u8,
    search_path_len: usize,
    /// `["/bin/sh", <slot>, argv[1..], NULL]`: for a program the kernel cannot execute
    /// (`ENOEXEC`, a script without `#!`), run by the shell as `execvp` does; the child writes
    /// the program's path into the slot.
    sh_argv: *mut *const c_char,
    cwd: *const c_char,
    stdio: [RawFd; 3],
    kill_on_parent_death: bool,
    new_process_group: bool,
    parent: libc::pid_t,
    /// `cgroup.procs` of the job's cgroup, for the fork fallback; -1 otherwise.
    cgroup_procs: RawFd,
    /// `cgroup.procs` of v1 cgroups to join; -1 for none.
    v1_procs: [RawFd; 3],
    /// Where a forked child reports failure; -1 when memory is shared (the atomics below).
    report: RawFd,
    stage: AtomicU32,
    errno: AtomicI32,
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The child, from its first instruction to `execve`. Only system calls: it shares memory
/// with a parent whose other threads keep running.
extern "C" fn child_main(arg: *mut c_void) -> ! {
    // SAFETY: `arg` is the `ChildArgs` the parent built; it stays valid until this child has
    // called execve or _exit (the parent is suspended until then, or, after fork, this is a
    // copy).
    let a = unsafe { &*(arg as *const ChildArgs) };
    let fail = |stage: Stage, err: i32| -> ! {
        if a.report >= 0 {
            let mut msg = [0u8; 8];
            msg[..4].copy_from_slice(&stage.code().to_ne_bytes());
            msg[4..].copy_from_slice(&err.to_ne_bytes());
            // SAFETY: write of a local buffer to the report pipe.
            unsafe { libc::write(a.report, msg.as_ptr().cast(), msg.len()) };
        } else {
            a.errno.store(err, Ordering::Relaxed);
            a.stage.store(stage.code(), Ordering::Release);
        }
        // SAFETY: _exit ends this child without running the parent's atexit handlers.
        unsafe { libc::_exit(127) }
    };
    // SAFETY (whole block): plain system calls on values the parent prepared; none of them
    // allocate or take locks.
    unsafe {
        // Handlers are the parent's code: back to the default before anything is unblocked.
        // Ignored signals stay ignored (POSIX), except SIGPIPE, which the Rust runtime ignores
        // for itself: children get the default, as std's do.
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP || sig == 32 || sig == 33 {
                continue;
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            if old.sa_sigaction != libc::SIG_DFL
                && (old.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE)
            {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        if a.new_process_group && libc::setpgid(0, 0) != 0 {
            fail(Stage::ProcessGroup, errno());
        }
        if a.kill_on_parent_death {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                fail(Stage::ParentDeathSignal, errno());
            }
            // The parent may have died before the request took effect.
            if libc::getppid() != a.parent {
                libc::_exit(127);
            }
        }
        if a.cgroup_procs >= 0 && libc::write(a.cgroup_procs, b"0".as_ptr().cast(), 1) != 1 {
            fail(Stage::Cgroup, errno());
        }
        for &fd in &a.v1_procs {
            if fd >= 0 && libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                fail(Stage::Cgroup, errno());
            }
        }
        for (target, &fd) in a.stdio.iter().enumerate() {
            if fd >= 0 && libc::dup2(fd, target as c_int) < 0 {
                fail(Stage::Stdio, errno());
            }
        }
        if !a.cwd.is_null() && libc::chdir(a.cwd) != 0 {
            fail(Stage::Chdir, errno());
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // The PATH search: ENOENT and friends move on to the next directory; EACCES is
        // remembered (execvp does the same). Each candidate is built in `buf`, on this
        // stack: no allocation here, and memory bounded whatever the PATH.
        let mut last = libc::ENOENT;
        let mut denied = false;
        let mut buf = [0u8; PATH_MAX];
        let mut try_exec = |path: *const c_char| {
            libc::execve(path, a.argv, a.envp);
            let e = errno();
            match e {
                libc::ENOEXEC => {
                    *a.sh_argv.add(1) = path;
                    libc::execve(SHELL.as_ptr(), a.sh_argv, a.envp);
                    fail(Stage::Exec, libc::ENOEXEC);
                }
                libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG | libc::ELOOP => last = e,
                libc::EACCES | libc::EPERM => {
                    denied = true;
                    last = e;
                }
                _ => fail(Stage::Exec, e),
            }
        };
        if a.search_path.is_null() {
            try_exec(a.program);
        } else {
            let path = std::slice::from_raw_parts(a.search_path, a.search_path_len);
            let name = std::slice::from_raw_parts(a.program.cast::<u8>(), a.program_len);
            for dir in path.split(|&b| b == b':') {
                let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
                let len = dir.len() + 1 + name.len();
                if len >= buf.len() {
                    // Longer than the kernel opens: skipped, as execvp skips it.
                    continue;
                }
                buf[..dir.len()].copy_from_slice(dir);
                buf[dir.len()] = b'/';
                buf[dir.len() + 1..len].copy_from_slice(name);
                buf[len] = 0;
                try_exec(buf.as_ptr().cast());
            }
        }
        fail(Stage::Exec, if denied { libc::EACCES } else { last });
    }
}

/// The longest path the kernel opens, with its NUL (Linux `PATH_MAX`).
pub(crate) const PATH_MAX: usize = 4096;

/// The shell that runs programs without `#!`, as `execvp` runs them.
const SHELL: &std::ffi::CStr = c"/bin/sh";

fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The kernel's `struct clone_args` (version 2, with `cgroup`). The job watchdog passes only
/// its first [`CLONE_ARGS_SIZE_VER0`] bytes.
#[repr(C)]
#[derive(Default)]
pub(super) struct CloneArgs {
    pub(super) flags: u64,
    pub(super) pidfd: u64,
    pub(super) child_tid: u64,
    pub(super) parent_tid: u64,
    pub(super) exit_signal: u64,
    pub(super) stack: u64,
    pub(super) stack_size: u64,
    pub(super) tls: u64,
    pub(super) set_tid: u64,
    pub(super) set_tid_size: u64,
    pub(super) cgroup: u64,
}

/// The size of version 0 of `struct clone_args` (up to `tls`), which clone3 accepts from the
/// start (Linux 5.3).
pub(super) const CLONE_ARGS_SIZE_VER0: usize = 64;
const _: () = assert!(std::mem::offset_of!(CloneArgs, set_tid) == CLONE_ARGS_SIZE_VER0);

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// The child's stack: it runs a few system calls, nothing deep.
const CHILD_STACK_BYTES: usize = 64 * 1024;

/// Start a child as `plan` says, in `cgroup` when given.
pub(crate) fn spawn(plan: &Plan, cgroup: Option<&JobCgroup>) -> Result<Spawned, SpawnError> {
    let argv = pointers(&plan.argv);
    let envp = pointers(&plan.env);
    let mut sh_argv: Vec<*const c_char> = [SHELL.as_ptr(), std::ptr::null()]
        .into_iter()
        .chain(plan.argv.iter().skip(1).map(|a| a.as_ptr()))
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mut args = ChildArgs {
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        program: plan.program.as_ptr(),
        program_len: plan.program.as_bytes().len(),
        search_path: plan
            .search_path
            .as_ref()
            .map_or(std::ptr::null(), |p| p.as_bytes().as_ptr()),
        search_path_len: plan.search_path.as_ref().map_or(0, |p| p.as_bytes().len()),
        sh_argv: sh_argv.as_mut_ptr(),
        cwd: plan.cwd.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
        stdio: [0, 1, 2].map(|i| plan.stdio[i].as_ref().map_or(-1, |fd| fd.as_raw_fd())),
        kill_on_parent_death: plan.kill_on_parent_death,
        new_process_group: plan.new_process_group,
        parent: std::process::id() as libc::pid_t,
        cgroup_procs: -1,
        v1_procs: plan.v1_procs,
        report: -1,
        stage: AtomicU32::new(0),
        errno: AtomicI32::new(0),
    };
    match spawn_clone3(&mut args, cgroup.map(JobCgroup::fd)) {
        // No clone3 (before 5.3, or seccomp), or a clone3 that does not know
        // CLONE_INTO_CGROUP (5.3 to 5.6): fork, and join the cgroup from the child.
        Err(SpawnError::Create(libc::ENOSYS)) => {}
        Err(SpawnError::Create(libc::EINVAL)) if cgroup.is_some() => {}
        other => return other,
    }
    let procs = match cgroup {
        Some(cg) => Some(
            rustix::fs::open(
                cg.path().join("cgroup.procs"),
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| SpawnError::Create(e.raw_os_error()))?,
        ),
        None => None,
    };
    args.cgroup_procs = procs.as_ref().map_or(-1, |fd| fd.as_raw_fd());
    spawn_fork(&mut args)
}

/// Every signal blocked on this thread for the life of the guard, so no handler of ours runs
/// in a child that shares our memory.
pub(crate) struct SignalsBlocked(libc::sigset_t);

impl SignalsBlocked {
    pub(crate) fn new() -> SignalsBlocked {
        // SAFETY: sigset manipulation on locals; pthread_sigmask on the calling thread.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            SignalsBlocked(old)
        }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new` on the same thread.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

#[cfg(target_arch = "x86_64")]
fn spawn_clone3(
    args: &mut ChildArgs,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Spawned, SpawnError> {
    // 16-byte aligned, as the ABI wants the stack at a call. Left uninitialised: only the
    // child writes to it, and zeroing 64 KiB would fault in every page of it (measured: a
    // tenth of `sysprims timeout 10 true`'s page faults).
    let mut stack: Vec<u128> = Vec::with_capacity(CHILD_STACK_BYTES / 16);
    let mut pidfd: c_int = -1;
    let mut clone_args = CloneArgs {
        flags: (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD) as u64,
        pidfd: &mut pidfd as *mut c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.as_mut_ptr() as u64,
        stack_size: (stack.capacity() * 16) as u64,
        ..CloneArgs::default()
    };
    if let Some(dir) = cgroup {
        clone_args.flags |= CLONE_INTO_CGROUP;
        clone_args.cgroup = dir.as_raw_fd() as u64;
    }
    let ret: isize;
    {
        let _blocked = SignalsBlocked::new();
        // SAFETY: clone3 with CLONE_VM | CLONE_VFORK and a stack of the child's own. In the
        // parent the syscall returns the child's PID (or -errno) with only rax, rcx and r11
        // changed, and this thread resumes only after the child has called execve or exited.
        // The child starts on its own stack with the parent's registers (rax = 0): it calls
        // `child_main(args)`, which never returns. `args`, the pointer arrays and the stack
        // outlive the child's use of them because this thread is suspended until then.
        unsafe {
            core::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "mov rdi, r12",
                "call r13",
                "ud2",
                "2:",
                inlateout("rax") libc::SYS_clone3 as isize => ret,
                in("rdi") &mut clone_args as *mut CloneArgs,
                in("rsi") std::mem::size_of::<CloneArgs>(),
                in("r12") args as *mut ChildArgs as *mut c_void,
                in("r13") child_main as extern "C" fn(*mut c_void) -> !,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
    }
    drop(stack);
    if ret < 0 {
        return Err(SpawnError::Create(-ret as i32));
    }
    let pid = Pid::new(ret as u32).map_err(|_| SpawnError::Create(libc::EINVAL))?;
    // SAFETY: CLONE_PIDFD stored a new pidfd (close-on-exec) that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let stage = args.stage.load(Ordering::Acquire);
    if let Some(stage) = Stage::from_code(stage) {
        reap(pid);
        return Err(SpawnError::Child {
            stage,
            errno: args.errno.load(Ordering::Relaxed),
        });
    }
    Ok(Spawned {
        pid,
        pidfd: Some(pidfd),
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn spawn_clone3(
    _args: &mut ChildArgs,
    _cgroup: Option<BorrowedFd<'_>>,
) -> Result<Spawned, SpawnError> {
    Err(SpawnError::Create(libc::ENOSYS))
}

/// The fallback: `fork(2)`, failure reported through a close-on-exec pipe.
fn spawn_fork(args: &mut ChildArgs) -> Result<Spawned, SpawnError> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| SpawnError::Create(e.raw_os_error()))?;
    args.report = write.as_raw_fd();
    let pid = {
        let _blocked = SignalsBlocked::new();
        // SAFETY: fork; the child runs only `child_main`, which makes system calls and ends
        // in execve or _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            child_main(args as *mut ChildArgs as *mut c_void);
        }
        pid
    };
    drop(write);
    if pid < 0 {
        return Err(SpawnError::Create(errno()));
    }
    let pid = Pid::new(pid as u32).map_err(|_| SpawnError::Create(libc::EINVAL))?;
    let mut msg = [0u8; 8];
    let mut got = 0;
    while got < msg.len() {
        match rustix::io::read(&read, &mut msg[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => break,
        }
    }
    if got == msg.len() {
        reap(pid);
        let stage = u32::from_ne_bytes(msg[..4].try_into().unwrap_or_default());
        let errno = i32::from_ne_bytes(msg[4..].try_into().unwrap_or_default());
        return Err(SpawnError::Child {
            stage: Stage::from_code(stage).unwrap_or(Stage::Exec),
            errno,
        });
    }
    // Our unreaped child: its PID cannot be reused, so a pidfd opened by PID is this child's.
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid.as_raw()).expect("positive"),
        rustix::process::PidfdFlags::empty(),
    )
    .ok();
    Ok(Spawned { pid, pidfd })
}

/// Reap a child that failed before `execve` (it has exited or is exiting).
fn reap(pid: Pid) {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child, status into a local.
        let rc = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if rc >= 0 || errno() != libc::EINTR {
            return;
        }
    }
}

/// Duplicate `fd` to a descriptor of 3 or above (close-on-exec), so that the child's `dup2`
/// onto 0, 1 and 2 can never clobber another stream's source.
pub(crate) fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    rustix::io::fcntl_dupfd_cloexec(&fd, 3).map_err(io::Error::from)
}
