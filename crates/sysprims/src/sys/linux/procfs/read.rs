//! Reading processes from `/proc`: the thin I/O around the parsers.
//!
//! Each process is read through one directory fd of `/proc/<pid>`, opened once, with every
//! file opened relative to it. If the process exits and its PID is reused while we read, the
//! directory fd still names the old process and the reads fail with `ESRCH`, so one
//! [`ProcessInfo`] never mixes two processes. Buffers are reused across processes and each
//! file is read with as few `read` calls as it takes (one, almost always).
//!
//! Measured on this project's 2-core machine with ~2,000 processes: opening the directory
//! ~2 µs, `stat` ~7 µs, `cmdline` ~5 µs, `readlink exe` ~2 µs, `status` ~10 µs per
//! process. `status` is the expensive one, so listings never read it: the effective UID comes
//! from the directory's owner (see [`ProcReader::effective_uid`]).

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;

use rustix::fs::{AtFlags, CWD, Mode, OFlags, openat, readlinkat_raw, statat};
use rustix::io::Errno;

use super::parse::{self, PF_KTHREAD, Stat};
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::{ProcessInfo, ProcessOptions, ProcessState};
use crate::sys::linux::clock::{ProcClock, page_size};
use crate::sys::{RawProcess, StatSummary};

/// Which optional parts to read.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ReadParts {
    pub options: ProcessOptions,
    /// Confirm through `status` that the PID is a process (thread-group leader), not a thread
    /// ID: `/proc/<tid>` is reachable for any thread, but listings only show processes.
    pub require_process: bool,
    /// Wait (up to [`EXEC_SETTLE`]) for an `execve` in progress to finish before reading.
    pub settle_exec: bool,
}

/// How long [`ReadParts::settle_exec`] waits at most.
const EXEC_SETTLE: std::time::Duration = std::time::Duration::from_millis(5);

/// Reusable buffers for reading many processes.
pub(crate) struct ProcReader {
    path: String,
    file: Vec<u8>,
    link: Vec<u8>,
}

impl Default for ProcReader {
    fn default() -> Self {
        ProcReader {
            path: String::with_capacity(32),
            file: Vec::with_capacity(4096),
            link: Vec::with_capacity(4096 + 16),
        }
    }
}

/// An open `/proc/<pid>` directory.
pub(crate) struct ProcDir {
    fd: OwnedFd,
    pid: u32,
}

/// The error for a failed system call on a process's `/proc` files.
fn proc_error(errno: Errno, operation: &'static str, pid: u32) -> SysprimsError {
    SysprimsError::from_errno(operation, Subject::Process(pid), errno.raw_os_error())
}

impl ProcReader {
    /// Open `/proc/<pid>`.
    pub(crate) fn open(&mut self, pid: u32) -> Result<ProcDir> {
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}");
        match openat(
            CWD,
            self.path.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(ProcDir { fd, pid }),
            Err(e) => Err(proc_error(e, "open /proc/<pid>", pid)),
        }
    }

    /// Read a whole file under the directory into `self.file`.
    fn read_file(&mut self, dir: &ProcDir, name: &CStr) -> std::result::Result<(), Errno> {
        read_into(&dir.fd, name, &mut self.file)
    }

    /// Read and parse `stat`.
    fn stat<'a>(&'a mut self, dir: &ProcDir) -> Result<Stat<'a>> {
        self.read_file(dir, c"stat")
            .map_err(|e| proc_error(e, "read /proc/<pid>/stat", dir.pid))?;
        parse::parse_stat(&self.file).map_err(|e| SysprimsError::Internal {
            message: format!("cannot parse /proc/{}/stat: {}", dir.pid, e.0),
        })
    }

    /// The cheap summary of a process: `stat` only.
    pub(crate) fn read_summary(&mut self, pid: u32) -> Result<StatSummary> {
        let dir = self.open(pid)?;
        let stat = self.stat(&dir)?;
        Ok(StatSummary {
            pid,
            ppid: stat.ppid,
            pgid: stat.pgrp,
            state: stat.state,
            kernel_thread: stat.flags & PF_KTHREAD != 0,
            cpu_ticks: stat.cpu_ticks(),
            start_ticks: stat.starttime,
        })
    }

    /// The effective UID: the owner of the `/proc/<pid>` directory. The kernel makes that
    /// directory (and only it: `task_dump_owner()` in `fs/proc/base.c`) always belong to the
    /// effective UID, even for non-dumpable processes whose files it gives to root, precisely
    /// so that a `stat` can replace reading `status`. One `fstat` instead of ~10 µs of `status`.
    fn effective_uid(&self, dir: &ProcDir) -> Result<u32> {
        rustix::fs::fstat(&dir.fd)
            .map(|st| st.st_uid)
            .map_err(|e| proc_error(e, "fstat /proc/<pid>", dir.pid))
    }

    /// The thread-group ID `status` gives, for [`thread_group_if_not_leader`].
    fn tgid(&mut self, dir: &ProcDir) -> Result<Option<u32>> {
        self.read_file(dir, c"status")
            .map_err(|e| proc_error(e, "read /proc/<pid>/status", dir.pid))?;
        Ok(parse::parse_status(&self.file).tgid)
    }

    /// Read everything [`ProcessInfo`] holds, except the user name (the caller resolves UIDs
    /// with a cache).
    pub(crate) fn read_process(
        &mut self,
        pid: u32,
        parts: ReadParts,
        clock: &ProcClock,
    ) -> Result<RawProcess> {
        let dir = self.open(pid)?;
        let stat = self.stat(&dir)?;
        let state = ProcessState::from_letter(stat.state);
        let kernel_thread = stat.flags & PF_KTHREAD != 0;
        let mut info = ProcessInfo {
            pid,
            ppid: stat.ppid,
            pgid: stat.pgrp,
            sid: stat.session,
            name: String::from_utf8_lossy(stat.comm).into_owned(),
            uid: 0,
            user: None,
            state,
            kernel_thread,
            cpu_percent: clock.lifetime_cpu_percent(stat.cpu_ticks(), stat.starttime),
            memory_kb: stat.memory_kb(page_size()),
            thread_count: stat.num_threads,
            elapsed_ms: clock.elapsed_ms(stat.starttime),
            start_time_unix_ms: clock.start_unix_ms(stat.starttime),
            start_time_boot_ticks: Some(stat.starttime),
            boot_id: crate::sys::process::boot_id(),
            pidfs_inode: None,
            exe_path: None,
            exe_deleted: false,
            cmdline: Vec::new(),
            cmdline_base64: None,
            env: None,
        };
        let cpu_time_ns = clock.ticks_to_ns(stat.cpu_ticks());
        let start = stat.starttime;
        let has_mm = !kernel_thread && state != ProcessState::Zombie;
        let arg_end = stat.arg_end;

        if parts.settle_exec && has_mm && arg_end == Some(0) && self.exec_in_progress(&dir)? {
            let deadline = std::time::Instant::now() + EXEC_SETTLE;
            while std::time::Instant::now() < deadline {
                std::thread::yield_now();
                if self.stat(&dir)?.arg_end != Some(0) {
                    break;
                }
            }
            let parts = ReadParts {
                settle_exec: false,
                ..parts
            };
            return self.read_process(pid, parts, clock);
        }

        if parts.require_process
            && let Some(tgid) = thread_group_if_not_leader(pid, &dir, self)?
        {
            return Err(SysprimsError::thread_not_process(pid, tgid));
        }
        info.uid = self.effective_uid(&dir)?;

        if has_mm {
            match self.read_file(&dir, c"cmdline") {
                Ok(()) => info.set_cmdline(parse::split_nul(&self.file)),
                Err(Errno::SRCH) => {
                    return Err(SysprimsError::process_not_found("read cmdline", pid));
                }
                // Permission (hidepid) hides it: leave it empty.
                Err(_) => {}
            }
            (info.exe_path, info.exe_deleted) = self.read_exe(&dir);
            if parts.options.include_env {
                info.env = match self.read_file(&dir, c"environ") {
                    Ok(()) => Some(parse_env(&self.file)),
                    Err(_) => None,
                };
            }
        }
        Ok(RawProcess {
            info,
            cpu_time_ns,
            start,
        })
    }

    /// `readlink /proc/<pid>/exe`, with deleted executables recognised: the path (without the
    /// kernel's `" (deleted)"` suffix) and whether the file was deleted. `None` when the link
    /// cannot be read (permission, kernel thread, zombie) or is not UTF-8.
    pub(crate) fn read_exe(&mut self, dir: &ProcDir) -> (Option<String>, bool) {
        self.link.clear();
        let spare = rustix::buffer::spare_capacity(&mut self.link);
        match readlinkat_raw(&dir.fd, c"exe", spare) {
            Ok(n) if n < self.link.capacity() => {}
            // Unreadable (permission, no executable) or possibly truncated: unknown.
            _ => return (None, false),
        }
        let (path, says_deleted) = parse::split_deleted(&self.link);
        let deleted = says_deleted
            && match statat(&dir.fd, c"exe", AtFlags::empty()) {
                // The link still reaches the (unlinked) inode: no links left means deleted;
                // otherwise the file's name really ends in " (deleted)".
                Ok(st) => st.st_nlink == 0,
                Err(_) => true,
            };
        let path = if deleted { path } else { &self.link[..] };
        match std::str::from_utf8(path) {
            Ok(text) => (Some(text.to_owned()), deleted),
            Err(_) => (None, false),
        }
    }

    /// Whether a process whose `stat` shows `arg_end` 0 is part-way through `execve`.
    ///
    /// Between the kernel switching a process to its new memory map and recording where the
    /// new arguments end (microseconds), `cmdline` and `environ` read empty, and before that
    /// `comm` is still the old name. `Command::spawn` (vfork-style) returns to the parent inside
    /// that window: measured here, 157 of 200 reads of `cmdline` straight after spawning a
    /// shell came back empty, settling 7–20 µs later. So a supervisor reading its child right
    /// after starting it would record no arguments. `arg_end` reads 0 in that window, but also
    /// always to readers without ptrace access; an empty command line tells the two apart.
    fn exec_in_progress(&mut self, dir: &ProcDir) -> Result<bool> {
        match self.read_file(dir, c"cmdline") {
            Ok(()) => Ok(self.file.is_empty()),
            Err(Errno::SRCH) => Err(SysprimsError::process_not_found("read cmdline", dir.pid)),
            Err(_) => Ok(false),
        }
    }

    /// The state letter and the `waitpid(2)`-style exit status (`stat` fields 3 and 52) of
    /// the process `dir` belongs to. The kernel shows the status only to readers with ptrace
    /// read access (root, or the process's own user; a zombie has no memory map to make it
    /// stricter) and prints 0 to others: `None` then, and when the kernel is too old.
    pub(crate) fn read_exit_status(&mut self, dir: &ProcDir) -> Result<(u8, Option<u32>)> {
        let owner = self.effective_uid(dir)?;
        let me = rustix::process::geteuid().as_raw();
        let stat = self.stat(dir)?;
        let readable = me == 0 || me == owner;
        Ok((stat.state, stat.exit_code.filter(|_| readable)))
    }

    /// Start ticks and executable of a process, for its identity: `stat` and `exe` only.
    pub(crate) fn read_identity(&mut self, dir: &ProcDir) -> Result<(u64, Option<String>)> {
        let start_ticks = self.stat(dir)?.starttime;
        Ok((start_ticks, self.read_exe(dir).0))
    }
}

impl std::os::fd::AsFd for ProcDir {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl ProcDir {
    /// The PID this directory belongs to.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }
}

/// Read a whole file relative to `dir` into `buf`, replacing its contents.
///
/// `/proc` files generate their content on each read and a short read means the end, so a
/// file that fits in `buf`'s capacity costs exactly one `read`.
pub(crate) fn read_into(
    dir: &OwnedFd,
    name: &CStr,
    buf: &mut Vec<u8>,
) -> std::result::Result<(), Errno> {
    buf.clear();
    if buf.capacity() < 4096 {
        buf.reserve(4096);
    }
    let fd = openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    loop {
        let before = buf.len();
        let room = buf.capacity() - before;
        let n = loop {
            match rustix::io::read(&fd, rustix::buffer::spare_capacity(buf)) {
                Ok(n) => break n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e),
            }
        };
        if n < room {
            return Ok(());
        }
        buf.reserve(buf.capacity());
    }
}

pub(crate) fn parse_env(bytes: &[u8]) -> BTreeMap<String, String> {
    parse::split_nul(bytes)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (key, value) = match entry.iter().position(|&b| b == b'=') {
                Some(eq) => (&entry[..eq], &entry[eq + 1..]),
                None => (entry, &entry[..0]),
            };
            (
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect()
}

/// Every PID in `/proc`, ascending. Only processes appear there (threads are hidden).
pub(crate) fn list_pids() -> Result<Vec<u32>> {
    let fd = openat(
        CWD,
        c"/proc",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        SysprimsError::from_errno(
            "open /proc",
            Subject::Path("/proc".into()),
            e.raw_os_error(),
        )
    })?;
    let dir = rustix::fs::Dir::new(fd).map_err(|e| {
        SysprimsError::from_errno(
            "read /proc",
            Subject::Path("/proc".into()),
            e.raw_os_error(),
        )
    })?;
    let mut pids = Vec::with_capacity(1024);
    for entry in dir {
        let entry = entry.map_err(|e| {
            SysprimsError::from_errno(
                "read /proc",
                Subject::Path("/proc".into()),
                e.raw_os_error(),
            )
        })?;
        if let Some(pid) = parse::parse_u64(entry.file_name().to_bytes())
            && let Ok(pid) = u32::try_from(pid)
            && Pid::new(pid).is_ok()
        {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    Ok(pids)
}

/// `None` when `pid` names a process (a thread-group leader); the process's PID when it is
/// another thread of one, which `/proc/<tid>` also answers for. `pidfd_open` refuses
/// non-leaders (`EINVAL`, or `ENOENT` since Linux 6.9): about a third of the cost of reading and parsing `status`, which
/// is read only then (for the process's PID) and where pidfds are missing.
fn thread_group_if_not_leader(
    pid: u32,
    dir: &ProcDir,
    reader: &mut ProcReader,
) -> Result<Option<u32>> {
    let raw = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| SysprimsError::process_not_found("read process", pid))?;
    match rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) {
        Ok(_fd) => Ok(None),
        Err(Errno::SRCH) => Err(SysprimsError::process_not_found("read process", pid)),
        Err(_) => Ok(reader.tgid(dir)?.filter(|&tgid| tgid != pid)),
    }
}

/// The process (thread group) that task `id` belongs to, from `/proc/<id>/status`, which the
/// kernel serves for every thread though `/proc` lists only processes. `None` when no task
/// has the ID or its `status` cannot be read.
pub(crate) fn thread_group_of(id: u32) -> Option<u32> {
    let mut reader = ProcReader::default();
    let dir = reader.open(id).ok()?;
    reader.tgid(&dir).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_entries() {
        let env = parse_env(b"A=1\0B=x=y\0NOEQ\0\0C=\xff\0");
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "x=y");
        assert_eq!(env["NOEQ"], "");
        assert_eq!(env["C"], "\u{fffd}");
        assert_eq!(env.len(), 4);
    }

    #[test]
    fn read_into_reads_whole_files() {
        let me = ProcReader::default().open(std::process::id()).unwrap();
        let mut buf = Vec::new();
        read_into(&me.fd, c"environ", &mut buf).unwrap();
        let expected = std::fs::read(format!("/proc/{}/environ", std::process::id())).unwrap();
        assert_eq!(buf, expected);
        assert!(matches!(
            read_into(&me.fd, c"no-such-file", &mut buf),
            Err(Errno::NOENT)
        ));
    }
}
