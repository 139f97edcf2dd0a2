//! The Linux backend: `/proc`, pidfds, clocks, fds and sockets (`sock_diag` netlink).

pub(crate) mod cancel;
pub(crate) mod cgroup;
pub(crate) mod clock;
pub(crate) mod fds;
pub(crate) mod jobs;
pub(crate) mod limits;
pub(crate) mod pidfd;
pub(crate) mod procfs;
pub(crate) mod signal;
pub(crate) mod sock_diag;
pub(crate) mod sockets;
pub(crate) mod spawn;
pub(crate) mod timeout;
pub(crate) use super::unix::users;
pub(crate) mod wait;
pub(crate) mod watchdog;

/// The cheap part of a process: what its `stat` line says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatSummary {
    pub pid: u32,
    pub ppid: u32,
    /// Process group (0 for a task already dead, whose group the kernel no longer shows).
    pub pgid: u32,
    /// The state letter (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, ...).
    pub state: u8,
    /// A kernel thread: not a process that signals can end.
    pub kernel_thread: bool,
    pub cpu_ticks: u64,
    pub start_ticks: u64,
}

/// The process facade the portable layer calls.
pub(crate) mod process {
    use std::sync::OnceLock;

    pub(crate) use super::clock::ProcClock as Clock;
    pub(crate) use super::users::{UserCache, uid_for_name};
    pub(crate) use crate::sys::{ProcSummary, RawProcess, StatSummary};

    use super::pidfd::{self, Opened};
    use super::procfs::read::{ProcReader, ReadParts, list_pids};
    use crate::error::{ErrorCode, Result, SysprimsError};
    use crate::pid::Pid;
    use crate::process::{ProcessIdentity, ProcessInfo, ProcessOptions};

    /// Listings smaller than this are read on the calling thread.
    const PARALLEL_THRESHOLD: usize = 512;
    /// More threads than this gain nothing: `/proc` reads contend in the kernel.
    const MAX_THREADS: usize = 4;

    /// Read one process, which must be a process and not a thread ID.
    ///
    /// Where the kernel has pidfds, the process is opened as one first, `/proc` is read, and
    /// the pidfd then confirms the process was still there (alive or zombie), so everything
    /// read, the pidfs inode included, is that one process's even if the PID is reused
    /// meanwhile; a process reaped during the read is read again under its PID, a few times,
    /// then not found.
    pub(crate) fn read_one(pid: Pid, options: ProcessOptions) -> Result<ProcessInfo> {
        const ATTEMPTS: usize = 3;
        let mut reader = ProcReader::default();
        for _ in 0..ATTEMPTS {
            let clock = Clock::now();
            let fd = match pidfd::open(pid)? {
                Opened::Fd(fd) => Some(fd),
                Opened::Unsupported => None,
            };
            let parts = ReadParts {
                options,
                // A pidfd opens only for a process; without one, /proc must say.
                require_process: fd.is_none(),
                settle_exec: true,
            };
            let mut raw = reader.read_process(pid.get(), parts, &clock)?;
            if let Some(fd) = &fd {
                if !fd.is_present()? {
                    continue;
                }
                raw.info.pidfs_inode = fd.pidfs_inode();
            }
            raw.info.user = super::users::cached_name(raw.info.uid);
            return Ok(raw.info);
        }
        Err(SysprimsError::process_not_found("read process", pid.get()))
    }

    /// Refuse a thread ID that is not its process's main thread, with
    /// [`SysprimsError::thread_not_process`] naming the process: the one check every entry
    /// point that takes a PID makes. `kill(2)`, `/proc/<tid>` and (without pidfds) everything
    /// else would otherwise treat the thread as if it were its whole process. An ID that no
    /// task has passes: the operation itself then reports it not found.
    pub(crate) fn require_process(pid: Pid) -> Result<()> {
        let raw = rustix::process::Pid::from_raw(pid.as_raw()).expect("Pid is positive");
        match rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) {
            // A pidfd opens only for a thread-group leader (without PIDFD_THREAD).
            Ok(_fd) => return Ok(()),
            Err(rustix::io::Errno::SRCH) => return Ok(()),
            // EINVAL or ENOENT (6.9+): a thread that is not a leader; NOSYS, PERM
            // (seccomp): ask /proc.
            Err(_) => {}
        }
        match super::procfs::read::thread_group_of(pid.get()) {
            Some(tgid) if tgid != pid.get() => {
                Err(SysprimsError::thread_not_process(pid.get(), tgid))
            }
            _ => Ok(()),
        }
    }

    /// Every PID now in the process table, ascending.
    pub(crate) fn all_pids() -> Result<Vec<u32>> {
        list_pids()
    }

    /// Read many processes (user names not yet filled in). Processes that exit while being
    /// read, or that permission hides entirely, are skipped. Large listings are split across
    /// threads, each with its own buffers; the result is in the order of `pids`.
    pub(crate) fn read_many(
        pids: &[u32],
        options: ProcessOptions,
        clock: &Clock,
    ) -> Result<Vec<RawProcess>> {
        let parts = ReadParts {
            options,
            require_process: false,
            settle_exec: false,
        };
        let threads = worker_count(pids.len());
        if threads <= 1 {
            return read_chunk(pids, parts, clock, pids.len());
        }
        let chunk = pids.len().div_ceil(threads);
        let mut parts_of_pids = pids.chunks(chunk);
        let mine = parts_of_pids.next().unwrap_or(&[]);
        std::thread::scope(|scope| {
            let mut others = Vec::with_capacity(threads);
            for part in parts_of_pids {
                // A thread that cannot be started (RLIMIT_NPROC, memory) is no reason to fail:
                // that part is read here afterwards.
                let handle = std::thread::Builder::new()
                    .name("sysprims-proc".into())
                    .spawn_scoped(scope, move || read_chunk(part, parts, clock, part.len()));
                others.push((part, handle.ok()));
            }
            // This thread reads the first part into the vector that becomes the result, and
            // the others' parts are moved onto its end, so at most one part is held twice.
            let mut out = read_chunk(mine, parts, clock, pids.len())?;
            for (part, handle) in others {
                let result = match handle {
                    Some(handle) => handle.join().unwrap_or_else(|_| {
                        Err(SysprimsError::Internal {
                            message: "a /proc reader thread panicked".into(),
                        })
                    }),
                    None => read_chunk(part, parts, clock, part.len()),
                };
                out.append(&mut result?);
            }
            Ok(out)
        })
    }

    fn worker_count(n: usize) -> usize {
        if n < PARALLEL_THRESHOLD {
            return 1;
        }
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
            .min(MAX_THREADS)
            .min(n / (PARALLEL_THRESHOLD / 2))
    }

    /// Read `pids` into a vector with room for `capacity` processes.
    fn read_chunk(
        pids: &[u32],
        parts: ReadParts,
        clock: &Clock,
        capacity: usize,
    ) -> Result<Vec<RawProcess>> {
        let mut reader = ProcReader::default();
        let mut out = Vec::with_capacity(capacity);
        for &pid in pids {
            match reader.read_process(pid, parts, clock) {
                Ok(raw) => out.push(raw),
                Err(e) if skippable(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Errors that mean "this process is not there for us": it exited mid-read, or
    /// `hidepid` hides it.
    fn skippable(e: &SysprimsError) -> bool {
        matches!(e.code(), ErrorCode::NotFound | ErrorCode::PermissionDenied)
    }

    /// `stat` of every process: PIDs, parents, CPU ticks and start ticks.
    pub(crate) fn summaries() -> Result<Vec<StatSummary>> {
        summaries_of(&list_pids()?)
    }

    /// `stat` of these processes; those that do not exist are left out.
    pub(crate) fn summaries_of(pids: &[u32]) -> Result<Vec<StatSummary>> {
        let mut reader = ProcReader::default();
        let mut out = Vec::with_capacity(pids.len());
        for &pid in pids {
            match reader.read_summary(pid) {
                Ok(s) => out.push(s),
                Err(e) if skippable(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The portable summary of every process (see [`ProcSummary`]).
    pub(crate) fn table() -> Result<Vec<ProcSummary>> {
        portable(summaries()?)
    }

    /// The portable summary of these processes; those that do not exist are left out.
    pub(crate) fn table_of(pids: &[u32]) -> Result<Vec<ProcSummary>> {
        portable(summaries_of(pids)?)
    }

    fn portable(stats: Vec<StatSummary>) -> Result<Vec<ProcSummary>> {
        let clock = Clock::now();
        Ok(stats
            .into_iter()
            .map(|s| ProcSummary {
                pid: s.pid,
                ppid: s.ppid,
                pgid: s.pgid,
                state: crate::process::ProcessState::from_letter(s.state),
                kernel_thread: s.kernel_thread,
                cpu_time_ns: clock.ticks_to_ns(s.cpu_ticks),
                start: s.start_ticks,
            })
            .collect())
    }

    /// Start ticks count from boot: compared only within one boot (same boot ID).
    pub(crate) const START_STAMPS_ARE_ABSOLUTE: bool = false;

    /// The kernel's boot ID, which is fixed for the life of a boot.
    pub(crate) fn boot_id() -> Option<String> {
        boot_id_str().map(str::to_string)
    }

    /// [`boot_id`], borrowed: read once per process.
    pub(crate) fn boot_id_str() -> Option<&'static str> {
        static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
        BOOT_ID
            .get_or_init(|| {
                std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
            .as_deref()
    }

    /// Capture a process's identity: pidfd first, then `/proc`, then confirm through the pidfd
    /// that the process had not been reaped (so the PID could not have been reused) before the
    /// `/proc` reads.
    pub(crate) fn capture_identity(pid: Pid) -> Result<ProcessIdentity> {
        match pidfd::open(pid)? {
            Opened::Fd(fd) => capture_identity_through(pid, Some(&fd)),
            Opened::Unsupported => capture_identity_through(pid, None),
        }
    }

    /// Capture the identity of the process `pidfd` holds (or, without one, of whatever process
    /// has `pid` now).
    pub(crate) fn capture_identity_through(
        pid: Pid,
        pidfd: Option<&pidfd::PidFd>,
    ) -> Result<ProcessIdentity> {
        let mut reader = ProcReader::default();
        let dir = reader.open(pid.get())?;
        let (start_ticks, exe_path) = reader.read_identity(&dir)?;
        let pidfs_inode = match pidfd {
            Some(fd) => {
                if !fd.is_present()? {
                    return Err(SysprimsError::process_not_found(
                        "capture identity",
                        pid.get(),
                    ));
                }
                fd.pidfs_inode()
            }
            None => {
                // No pidfd to tell threads from processes: ask /proc.
                read_one(pid, ProcessOptions::default())?;
                None
            }
        };
        let clock = Clock::now();
        Ok(ProcessIdentity {
            pid: dir.pid(),
            start_time_unix_ms: clock.start_unix_ms(start_ticks),
            start_time_boot_ticks: Some(start_ticks),
            boot_id: boot_id(),
            exe_path,
            pidfs_inode,
        })
    }
}
