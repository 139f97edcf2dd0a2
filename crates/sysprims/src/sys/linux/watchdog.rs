//! The job's watchdog: a small process, outside the job's cgroup, that ends the job when the
//! process owning it dies without having ended it.
//!
//! A process killed with `SIGKILL` runs no code, so its `Drop`s, its handlers and its end of
//! a timeout never happen; `PR_SET_PDEATHSIG` kills the job's first process only, not what
//! that one started. The watchdog is what acts then: it waits (in `poll(2)`, using no CPU) on a
//! pidfd of its owner, and when the owner has exited it writes `cgroup.kill`, waits for
//! `cgroup.events` to say `populated 0` and removes the cgroup, then exits.
//!
//! Its other job, when its owner asks for it ([`Mode::Linger`]): the owner returns while the
//! job's leftovers still run (a CLI whose command left background children, as GNU `timeout`
//! leaves them); the watchdog removes the cgroup once they have all exited, whether the owner
//! is alive or not, and exits. Nobody else would be there to do it.
//!
//! Cost, on the path every job takes: one `mmap` and one `clone3` in the owner; nothing at the
//! end (the owner marks the watchdog done in memory they share; a long-lived owner reaps it
//! at its next spawn). The watchdog is made with `CLONE_VM`, so no memory is copied: it runs
//! on a stack of its own in the owner's address space and makes only raw system calls
//! (rustix's), never touching the owner's heap, locks or thread-local state. It starts a
//! session of its own, so a terminal's job-control signals (INT, QUIT, TSTP, TTIN, TTOU,
//! HUP) meant for the foreground job never reach it, and it keeps every signal blocked; it
//! closes every file descriptor but its own. Where `clone3` cannot be used it is forked.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_void};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::{AtFlags, Mode as FileMode, OFlags};
use rustix::io::Errno;

/// What the watchdog does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Mode {
    /// When the owner dies: kill the whole job, wait for it to empty, remove its cgroup.
    Kill = 0,
    /// Remove the cgroup once it is empty (owner alive or not); kill nothing.
    Linger = 1,
    /// Nothing left to do: exit when the owner exits (or is reaped by it before).
    Done = 2,
}

/// The region the watchdog runs in: a guard page, its stack, and this header at the top.
/// Only the pages touched are ever allocated.
const REGION_BYTES: usize = 256 * 1024;
const GUARD_BYTES: usize = 4096;
/// Where the header starts in the region (the stack grows down from here).
const HEADER_AT: usize = REGION_BYTES - std::mem::size_of::<Shared>().next_multiple_of(4096);
const PATH_BYTES: usize = 4096;

#[repr(C)]
struct Shared {
    mode: AtomicU32,
    owner: i32,
    /// The job cgroup's directory, as an absolute NUL-terminated path.
    path: [u8; PATH_BYTES],
    /// Descriptors the watchdog keeps, in its copy of the table: the cgroup directory.
    dir: RawFd,
}

/// The owner's handle on a running watchdog.
pub(crate) struct Watchdog {
    pid: i32,
    pidfd: Option<OwnedFd>,
    region: *mut u8,
    /// The region was mapped by `mmap` (not by a forked copy).
    mapped: bool,
    /// It has been reaped: nothing runs on the region any more.
    reaped: bool,
    /// The mode it was started in.
    mode: Mode,
}

// The region pointer is only used to reach the atomic mode and to unmap it once the
// watchdog has been reaped.
unsafe impl Send for Watchdog {}

impl Watchdog {
    /// Start a watchdog for the job cgroup `dir` (open as `dir_fd`), in `mode`.
    /// `None` when it cannot be started (the job then has only its other protections).
    pub(crate) fn start(path: &Path, dir_fd: BorrowedFd<'_>, mode: Mode) -> Option<Watchdog> {
        reap_retired();
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= PATH_BYTES || bytes.contains(&0) {
            return None;
        }
        // SAFETY: an anonymous private mapping of our own; checked below.
        let region = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                REGION_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if region == libc::MAP_FAILED {
            return None;
        }
        let region = region as *mut u8;
        // SAFETY: the lowest page of our mapping: a stack overflow faults instead of writing
        // below the region.
        if unsafe { libc::mprotect(region as *mut c_void, GUARD_BYTES, libc::PROT_NONE) } != 0 {
            // SAFETY: ours, unused.
            unsafe { libc::munmap(region as *mut c_void, REGION_BYTES) };
            return None;
        }
        // SAFETY: within the mapping.
        let shared = unsafe { region.add(HEADER_AT) } as *mut Shared;
        // SAFETY: the mapping is ours, zeroed, large enough and suitably aligned (a page).
        {
            // SAFETY: as above; no other reference to it exists yet.
            let header = unsafe { &mut *shared };
            header.mode = AtomicU32::new(mode as u32);
            header.owner = std::process::id() as i32;
            header.path[..bytes.len()].copy_from_slice(bytes);
            header.path[bytes.len()] = 0;
            header.dir = dir_fd.as_raw_fd();
        }
        // A watchdog that only lingers may outlive us by far: it gets memory of its own (a
        // copy), so that it can show a command line of its own instead of ours.
        // A lingering watchdog is waited for until it has taken its own name and closed our
        // descriptors (end of file on `ready`): it is there to outlive us, and must not be
        // mistaken for us meanwhile. Only on that rare path.
        let ready = (mode == Mode::Linger)
            .then(|| rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ok())
            .flatten();
        // It starts under SCHED_IDLE (inherited from this thread for the moment of the clone):
        // a new process, or one woken by a cgroup event, would otherwise preempt us and the
        // job on a busy machine, on the path every job takes. It takes the normal policy back
        // once it has work to do.
        // SAFETY: sched_getscheduler and sched_setscheduler on the calling thread.
        let idle = unsafe { libc::sched_getscheduler(0) } == libc::SCHED_OTHER && {
            let param = libc::sched_param { sched_priority: 0 };
            unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 }
        };
        let spawned = spawn(shared as *mut u8, region, mode != Mode::Linger);
        if idle {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: as above; back from SCHED_IDLE to SCHED_OTHER is always allowed.
            unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
        }
        if let Some((read, write)) = ready {
            drop(write);
            if spawned.is_some() {
                let mut byte = [0u8; 1];
                while let Ok(1..) | Err(Errno::INTR) = rustix::io::read(&read, &mut byte) {}
            }
        }
        match spawned {
            Some((pid, pidfd, mapped)) => {
                if !mapped {
                    // The forked child has its own copy: ours is no longer needed.
                    // SAFETY: unmapping the region mapped above, which nothing else uses.
                    unsafe { libc::munmap(region as *mut c_void, REGION_BYTES) };
                }
                Some(Watchdog {
                    pid,
                    pidfd,
                    region: if mapped { region } else { std::ptr::null_mut() },
                    mapped,
                    reaped: false,
                    mode,
                })
            }
            None => {
                // SAFETY: as above; no child uses it.
                unsafe { libc::munmap(region as *mut c_void, REGION_BYTES) };
                None
            }
        }
    }

    /// Change what the watchdog does, and let it go: it exits on its own (with [`Mode::Done`]
    /// when its owner does; with [`Mode::Linger`] once the cgroup is empty). A watchdog that a
    /// fork made cannot be told: it is killed unless it lingers.
    pub(crate) fn retire(self, mode: Mode) {
        if self.mapped {
            // SAFETY: the region stays mapped until the watchdog is reaped.
            unsafe { (*self.shared()).mode.store(mode as u32, Ordering::Release) };
        }
        let forked_killer = !self.mapped && self.mode != Mode::Linger;
        if mode == Mode::Done || forked_killer {
            // Done: end it now, reaped at a later spawn. A forked watchdog cannot be told
            // anything: one that would kill on our exit is ended too.
            self.kill();
        }
        RETIRED.lock().unwrap_or_else(|e| e.into_inner()).push(self);
    }

    fn shared(&self) -> *const Shared {
        // SAFETY: within the mapping (only called while it is mapped).
        unsafe { self.region.add(HEADER_AT) as *const Shared }
    }

    fn kill(&self) {
        match &self.pidfd {
            Some(fd) => {
                let _ = rustix::process::pidfd_send_signal(fd, rustix::process::Signal::KILL);
            }
            None => {
                // SAFETY: our own unreaped child: its PID cannot have been reused.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
        }
    }

    /// Reap the watchdog if it has exited (`block`: wait for it to); true when it has been
    /// (or cannot be waited for).
    fn reap(&mut self, block: bool) -> bool {
        if self.reaped {
            return true;
        }
        // __WALL: it has no exit signal, so it is a "clone" child to waitid.
        let mut flags = libc::WEXITED | libc::__WALL;
        if !block {
            flags |= libc::WNOHANG;
        }
        // SAFETY: waitid into a zeroed siginfo we own, on our own child.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = match &self.pidfd {
            Some(fd) => unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    fd.as_raw_fd() as libc::id_t,
                    &mut info,
                    flags,
                )
            },
            None => unsafe { libc::waitid(libc::P_PID, self.pid as libc::id_t, &mut info, flags) },
        };
        if rc != 0 {
            if block && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                return self.reap(block);
            }
            // ECHILD: someone else reaped it; nothing of it is left.
            self.reaped = true;
            return true;
        }
        // SAFETY: waitid filled it; si_pid is 0 while the child runs (WNOHANG).
        self.reaped = unsafe { info.si_pid() } != 0;
        self.reaped
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Nothing may run on the region when it is unmapped: a watchdog still running is
        // ended and reaped first.
        if !self.reaped {
            self.kill();
            self.reap(true);
        }
        if self.mapped && !self.region.is_null() {
            // SAFETY: the watchdog that ran on it has exited and been reaped.
            unsafe { libc::munmap(self.region as *mut c_void, REGION_BYTES) };
        }
    }
}

/// Watchdogs let go of and not yet reaped.
static RETIRED: Mutex<Vec<Watchdog>> = Mutex::new(Vec::new());

/// Reap the retired watchdogs that have exited; kill those done but still waiting for us.
fn reap_retired() {
    let mut retired = RETIRED.lock().unwrap_or_else(|e| e.into_inner());
    if retired.is_empty() {
        return;
    }
    let mut keep = Vec::new();
    for mut w in retired.drain(..) {
        if w.reap(false) {
            continue;
        }
        // SAFETY: mapped region, alive until reaped.
        let mode = w
            .mapped
            .then(|| unsafe { (*w.shared()).mode.load(Ordering::Acquire) });
        if mode == Some(Mode::Done as u32) {
            // Done, waiting for our exit: end it now; reaped at a later call.
            w.kill();
        }
        keep.push(w);
    }
    // `w` values that were reaped are dropped here, unmapping their regions.
    *retired = keep;
}

/// Start the watchdog process on `header`: `(pid, pidfd, shares our memory)`. With `share`,
/// it runs in our memory (`CLONE_VM`); otherwise on a copy of it, as after `fork`.
fn spawn(header: *mut u8, region: *mut u8, share: bool) -> Option<(i32, Option<OwnedFd>, bool)> {
    #[cfg(target_arch = "x86_64")]
    if let Some((pid, fd)) = spawn_clone3(header, region, share) {
        return Some((pid, Some(fd), share));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (region, share);
    spawn_fork(header).map(|(pid, fd)| (pid, fd, false))
}

#[cfg(target_arch = "x86_64")]
fn spawn_clone3(header: *mut u8, region: *mut u8, share: bool) -> Option<(i32, OwnedFd)> {
    let mut pidfd: libc::c_int = -1;
    let mut clone_args = super::spawn::CloneArgs {
        // No exit signal: a host's SIGCHLD handler or waitpid(-1) never sees it.
        flags: libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: 0,
        ..super::spawn::CloneArgs::default()
    };
    if share {
        clone_args.flags |= libc::CLONE_VM as u64;
        // Above the guard page, up to the header.
        clone_args.stack = region as u64 + GUARD_BYTES as u64;
        clone_args.stack_size = (HEADER_AT - GUARD_BYTES) as u64;
    }
    let ret: isize;
    {
        let _blocked = super::spawn::SignalsBlocked::new();
        // SAFETY: clone3 either with CLONE_VM and a stack of the child's own (in the region,
        // which stays mapped until the child has been reaped), or without CLONE_VM and so on
        // a copy of our memory and stack, as after fork. In the parent the syscall returns
        // the child's PID (or -errno) with only rax, rcx and r11 changed. The child starts
        // with every signal blocked and rax = 0: it calls `watchdog_main`, which never
        // returns.
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
                in("rdi") &clone_args as *const super::spawn::CloneArgs,
                // Only the first version's fields are used: clone3 works from Linux 5.3 on.
                in("rsi") super::spawn::CLONE_ARGS_SIZE_VER0,
                in("r12") header as *mut c_void,
                in("r13") watchdog_main as extern "C" fn(*mut c_void) -> !,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
    }
    if ret <= 0 {
        return None;
    }
    // SAFETY: CLONE_PIDFD stored a new pidfd (close-on-exec) that nothing else owns.
    Some((ret as i32, unsafe { OwnedFd::from_raw_fd(pidfd) }))
}

fn spawn_fork(header: *mut u8) -> Option<(i32, Option<OwnedFd>)> {
    let pid = {
        let _blocked = super::spawn::SignalsBlocked::new();
        // SAFETY: fork; the child runs only `watchdog_main` on its copy of the region, which
        // makes system calls and ends in _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            watchdog_main(header as *mut c_void);
        }
        pid
    };
    if pid < 0 {
        return None;
    }
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid)?,
        rustix::process::PidfdFlags::empty(),
    )
    .ok();
    Some((pid, pidfd))
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is the exit_group system call; it runs no handler and touches no memory.
    unsafe { libc::_exit(code) }
}

/// A descriptor of the watchdog's, closed by a raw `close(2)` (std's goes through libc, which
/// may write `errno` in the owner's thread-local storage, shared under `CLONE_VM`).
struct Fd(RawFd);

impl Fd {
    fn new(fd: OwnedFd) -> Fd {
        Fd(std::os::fd::IntoRawFd::into_raw_fd(fd))
    }
}

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: open for as long as `self`.
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: ours, closed once.
        unsafe { rustix::io::close(self.0) };
    }
}

fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: OFlags) -> Option<Fd> {
    rustix::fs::openat(dir, name, flags | OFlags::CLOEXEC, FileMode::empty())
        .ok()
        .map(Fd::new)
}

/// How deep below a job's cgroup the watchdog looks (a job may make cgroups of its own).
const MAX_DEPTH: u32 = 8;

/// The watchdog, from its first instruction: raw system calls only (see the module docs).
extern "C" fn watchdog_main(arg: *mut c_void) -> ! {
    // SAFETY: `arg` is the region's header the owner filled in; it stays mapped while we run.
    let shared = unsafe { &*(arg as *const Shared) };
    let _ = rustix::process::setsid();
    // Its command line is its owner's (the memory is shared): its name tells it apart in
    // `ps -o comm` and `top`. PR_SET_NAME cannot fail, so errno is never written.
    // SAFETY: prctl with a NUL-terminated name of 16 bytes at most.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"sysprims-watch".as_ptr()) };
    if shared.mode.load(Ordering::Acquire) == Mode::Linger as u32 {
        // SAFETY: a lingering watchdog runs on a copy of the owner's memory (see `start`).
        unsafe { rename_command_line() };
    }
    // Closing our copy of the owner's `ready` pipe tells it we are renamed and hold nothing
    // of its.
    close_others(shared.dir);
    // SAFETY: our copy of the job cgroup's directory descriptor, kept open above.
    let dir = unsafe { BorrowedFd::borrow_raw(shared.dir) };
    let owner = watch_owner(shared.owner);
    let path = CStr::from_bytes_until_nul(&shared.path).unwrap_or(c"");
    let Some(events) = open_at(dir, c"cgroup.events", OFlags::RDONLY) else {
        // The cgroup is gone already.
        exit_now(0)
    };
    let mut owner_gone = owner.is_none() && !owner_alive(shared.owner);
    loop {
        let Some(populated) = populated(&events) else {
            exit_now(0)
        };
        let mode = shared.mode.load(Ordering::Acquire);
        if mode == Mode::Done as u32 && owner_gone {
            exit_now(0);
        }
        if mode == Mode::Linger as u32 && !populated {
            remove_tree(dir, path);
            exit_now(0);
        }
        if mode == Mode::Kill as u32 && owner_gone {
            // Work to do, and the owner's memory is ours alone now: the normal policy back.
            // SAFETY: a raw system call on ourselves.
            unsafe {
                let param = libc::sched_param { sched_priority: 0 };
                libc::syscall(libc::SYS_sched_setscheduler, 0, libc::SCHED_OTHER, &param);
            }
            kill_all(dir);
            shared.mode.store(Mode::Linger as u32, Ordering::Release);
            continue;
        }
        // Sleep until the owner exits or the cgroup changes.
        let mut fds = [
            PollFd::new(&events, PollFlags::PRI),
            PollFd::new(&events, PollFlags::PRI),
        ];
        let mut n = 1;
        if let Some(fd) = owner.as_ref().filter(|_| !owner_gone) {
            fds[1] = PollFd::new(fd, PollFlags::IN);
            n = 2;
        }
        // Without a pidfd, look at the parent PID every 100 ms.
        let tick = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        let timeout = (owner.is_none() && !owner_gone).then_some(&tick);
        match rustix::event::poll(&mut fds[..n], timeout) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => exit_now(1),
        }
        if n == 2 && !fds[1].revents().is_empty() {
            owner_gone = true;
        }
        if owner.is_none() && !owner_alive(shared.owner) {
            owner_gone = true;
        }
    }
}

/// Overwrite our command line (the copy of the owner's argv strings) with our own name, so
/// that nothing looking for the owner's command line (`pgrep -f`, tests' markers) finds us.
///
/// # Safety
/// Only in a process with memory of its own: the strings are written in place.
unsafe fn rename_command_line() {
    let Some(stat) = open_at(rustix::fs::CWD, c"/proc/self/stat", OFlags::RDONLY) else {
        return;
    };
    let mut buf = [0u8; 1024];
    let Ok(n) = rustix::io::read(&stat, &mut buf) else {
        return;
    };
    let text = &buf[..n];
    // Fields after the command name, which ends at the last ')': field 3 is the first.
    let Some(close) = text.iter().rposition(|&b| b == b')') else {
        return;
    };
    let mut fields = text[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty());
    let number = |f: &[u8]| {
        f.iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0usize, |n, &b| {
                n.saturating_mul(10).saturating_add(usize::from(b - b'0'))
            })
    };
    // arg_start and arg_end are fields 48 and 49.
    let (Some(start), Some(end)) = (fields.nth(45).map(number), fields.next().map(number)) else {
        return;
    };
    if start == 0 || end <= start || end - start > 1 << 20 {
        return;
    }
    let name = b"sysprims-watchdog";
    // SAFETY: [start, end) is our own argv area, mapped and writable (the stack's top).
    unsafe {
        std::ptr::write_bytes(start as *mut u8, 0, end - start);
        std::ptr::copy_nonoverlapping(
            name.as_ptr(),
            start as *mut u8,
            name.len().min(end - start - 1),
        );
    }
}

/// Whether our parent is still the owner (we are reparented when the owner exits).
fn owner_alive(owner: i32) -> bool {
    rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) == Some(owner)
}

/// A pidfd on the owner, or `None` when the kernel has none or the owner has already exited.
fn watch_owner(owner: i32) -> Option<Fd> {
    let pid = rustix::process::Pid::from_raw(owner)?;
    let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    let fd = Fd::new(fd);
    // The pidfd names the owner only if the owner was still our parent after it was opened
    // (its PID cannot have been reused while it lived).
    owner_alive(owner).then_some(fd)
}

/// Whether `cgroup.events` says `populated 1`; `None` when it cannot be read (removed).
fn populated(events: &Fd) -> Option<bool> {
    let mut buf = [0u8; 128];
    let n = rustix::io::pread(events, &mut buf, 0).ok()?;
    Some(buf[..n].windows(11).any(|w| w == b"populated 1"))
}

/// End every process in the cgroup: `cgroup.kill`, or before 5.14 `SIGKILL` to each member
/// listed in `cgroup.procs` of the cgroup and the ones below, until none is left.
fn kill_all(dir: BorrowedFd<'_>) {
    if let Some(kill) = open_at(dir, c"cgroup.kill", OFlags::WRONLY)
        && rustix::io::write(&kill, b"1").is_ok()
    {
        return;
    }
    for _ in 0..1000 {
        if kill_listed(dir, 0) == 0 {
            return;
        }
    }
}

/// SIGKILL to the processes listed in `dir` and below; how many were listed.
fn kill_listed(dir: BorrowedFd<'_>, depth: u32) -> usize {
    let mut count = 0;
    if let Some(procs) = open_at(dir, c"cgroup.procs", OFlags::RDONLY) {
        let mut buf = [0u8; 1024];
        let mut pid: i32 = 0;
        while let Ok(n @ 1..) = rustix::io::read(&procs, &mut buf) {
            for &b in &buf[..n] {
                if b.is_ascii_digit() {
                    pid = pid.saturating_mul(10).saturating_add(i32::from(b - b'0'));
                    continue;
                }
                if let Some(p) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
                    count += 1;
                }
                pid = 0;
            }
        }
    }
    if depth < MAX_DEPTH {
        for_each_child(dir, &mut |child| count += kill_listed(child, depth + 1));
    }
    count
}

/// Call `f` with each sub-cgroup of `dir`, opened.
fn for_each_child(dir: BorrowedFd<'_>, f: &mut dyn FnMut(BorrowedFd<'_>)) {
    let Some(list) = open_at(dir, c".", OFlags::RDONLY | OFlags::DIRECTORY) else {
        return;
    };
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = rustix::fs::RawDir::new(&list, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if entry.file_type() != rustix::fs::FileType::Directory || name == c"." || name == c".." {
            continue;
        }
        if let Some(child) = open_at(list.as_fd(), name, OFlags::RDONLY | OFlags::DIRECTORY) {
            f(child.as_fd());
        }
    }
}

/// Remove the (empty) cgroup and the cgroups below it, deepest first.
fn remove_tree(dir: BorrowedFd<'_>, path: &CStr) {
    remove_children(dir, 0);
    let _ = rustix::fs::unlinkat(rustix::fs::CWD, path, AtFlags::REMOVEDIR);
}

fn remove_children(dir: BorrowedFd<'_>, depth: u32) {
    if depth >= MAX_DEPTH {
        return;
    }
    let Some(list) = open_at(dir, c".", OFlags::RDONLY | OFlags::DIRECTORY) else {
        return;
    };
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = rustix::fs::RawDir::new(&list, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if entry.file_type() != rustix::fs::FileType::Directory || name == c"." || name == c".." {
            continue;
        }
        if let Some(child) = open_at(list.as_fd(), name, OFlags::RDONLY | OFlags::DIRECTORY) {
            remove_children(child.as_fd(), depth + 1);
        }
        let _ = rustix::fs::unlinkat(&list, name, AtFlags::REMOVEDIR);
    }
}

/// Close every descriptor but `keep`: our copies of the owner's must not hold its pipes open.
fn close_others(keep: RawFd) {
    let Some(list) = open_at(
        rustix::fs::CWD,
        c"/proc/self/fd",
        OFlags::RDONLY | OFlags::DIRECTORY,
    ) else {
        for fd in 0..1024 {
            if fd != keep {
                // SAFETY: a descriptor of our own copy of the table (EBADF when not open).
                unsafe { rustix::io::close(fd) };
            }
        }
        return;
    };
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    // Until a pass over our own table finds nothing else to close.
    loop {
        let mut closed = 0;
        let mut entries = rustix::fs::RawDir::new(&list, &mut buf);
        while let Some(Ok(entry)) = entries.next() {
            let digits = entry.file_name().to_bytes();
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let fd = digits.iter().fold(0i32, |n, &b| {
                n.saturating_mul(10).saturating_add(i32::from(b - b'0'))
            });
            if fd != keep && fd != list.0 {
                // SAFETY: a descriptor of our own copy of the table.
                unsafe { rustix::io::close(fd) };
                closed += 1;
            }
        }
        if closed == 0 {
            break;
        }
        let _ = rustix::fs::seek(&list, rustix::fs::SeekFrom::Start(0));
    }
}
