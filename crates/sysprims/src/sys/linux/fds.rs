//! Reading a process's open fds from `/proc/<pid>/fd` and `/proc/<pid>/fdinfo`.
//!
//! Per fd: one `readlinkat` of the link, one read of `fdinfo/N`, and a `stat` only for links
//! that are paths (to tell files from directories and devices). The fd directory is listed
//! with one reusable `getdents` buffer.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir, openat, readlinkat_raw, statat};
use rustix::io::Errno;

use super::procfs::net::{LinkTarget, parse_fdinfo, parse_link_target};
use super::procfs::read::{ProcReader, read_into};
use super::sockets;
use crate::error::{Result, Subject, SysprimsError};
use crate::fds::{AccessMode, FdFilter, FdInfo, FdKind, SocketInfo};
use crate::pid::Pid;

/// Open a directory relative to `dir` (`fd`, `fdinfo`, `net`).
pub(crate) fn open_subdir(dir: &impl AsFd, name: &CStr) -> std::result::Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The fd numbers in an open `/proc/<pid>/fd` directory, ascending. `buf` is the reusable
/// `getdents` buffer.
pub(crate) fn fd_numbers(
    fd_dir: &OwnedFd,
    buf: &mut Vec<u8>,
    out: &mut Vec<u32>,
) -> std::result::Result<(), Errno> {
    out.clear();
    if buf.capacity() < 16 * 1024 {
        buf.reserve(16 * 1024);
    }
    let mut dir = RawDir::new(fd_dir, buf.spare_capacity_mut());
    while let Some(entry) = dir.next() {
        let entry = entry?;
        if let Some(n) = super::procfs::parse::parse_u64(entry.file_name().to_bytes())
            && let Ok(n) = u32::try_from(n)
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(())
}

/// Write `n` as a NUL-terminated decimal name into `buf` and return it as a `CStr`.
pub(crate) fn fd_name(n: u32, buf: &mut [u8; 12]) -> &CStr {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    buf[..len].copy_from_slice(&digits[i..]);
    buf[len] = 0;
    CStr::from_bytes_with_nul(&buf[..=len]).expect("one NUL at the end")
}

/// `readlinkat(dir, name)` into `buf` (cleared first).
pub(crate) fn read_link(
    dir: &OwnedFd,
    name: &CStr,
    buf: &mut Vec<u8>,
) -> std::result::Result<(), Errno> {
    buf.clear();
    if buf.capacity() < 4096 + 64 {
        buf.reserve(4096 + 64);
    }
    readlinkat_raw(dir, name, rustix::buffer::spare_capacity(buf))?;
    Ok(())
}

fn denied(operation: &'static str, pid: u32, e: Errno) -> SysprimsError {
    SysprimsError::from_errno(operation, Subject::Process(pid), e.raw_os_error())
}

/// The fds of `pid` that pass `filter`.
pub(crate) fn list_fds(pid: Pid, filter: &FdFilter) -> Result<Vec<FdInfo>> {
    let pid = pid.get();
    let proc_dir = ProcReader::default()
        .open(pid)
        .map_err(|e| match e.code() {
            crate::error::ErrorCode::NotFound => {
                SysprimsError::process_not_found("list open fds", pid)
            }
            _ => e,
        })?;
    let fd_dir = open_subdir(&proc_dir, c"fd").map_err(|e| denied("read open fds", pid, e))?;
    let fdinfo_dir =
        open_subdir(&proc_dir, c"fdinfo").map_err(|e| denied("read fd info", pid, e))?;
    let mut dents = Vec::new();
    let mut numbers = Vec::new();
    fd_numbers(&fd_dir, &mut dents, &mut numbers).map_err(|e| denied("list open fds", pid, e))?;

    let mut out = read_fds_parallel(pid, &fd_dir, &fdinfo_dir, &numbers, filter)?;

    let wanted: Vec<u64> = out
        .iter()
        .filter(|f| f.kind == FdKind::Socket)
        .filter_map(|f| f.inode)
        .collect();
    if !wanted.is_empty() {
        let table: HashMap<u64, SocketInfo> = sockets::sockets_in_netns_of(&proc_dir, &wanted);
        for f in &mut out {
            if f.kind == FdKind::Socket
                && let Some(inode) = f.inode
            {
                f.socket = table.get(&inode).cloned();
            }
        }
    }
    Ok(out)
}

/// Fds per thread below which a listing is read on the calling thread.
const PARALLEL_THRESHOLD: usize = 2048;
/// More threads than this gain nothing: the work is path lookups in the kernel.
const MAX_THREADS: usize = 4;

/// Read the fds `numbers`, split across threads for large tables (each fd costs 3 to 5 system
/// calls, all in the kernel: on 2 cores, 10,000 fds take ~110 ms on one thread). The result is
/// in the order of `numbers`.
fn read_fds_parallel(
    pid: u32,
    fd_dir: &OwnedFd,
    fdinfo_dir: &OwnedFd,
    numbers: &[u32],
    filter: &FdFilter,
) -> Result<Vec<FdInfo>> {
    let threads = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
        .min(numbers.len() / PARALLEL_THRESHOLD + 1);
    if threads <= 1 {
        return read_fds(pid, fd_dir, fdinfo_dir, numbers, filter);
    }
    let chunk = numbers.len().div_ceil(threads);
    let mut parts = numbers.chunks(chunk);
    let mine = parts.next().unwrap_or(&[]);
    std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| {
                let handle = std::thread::Builder::new()
                    .name("sysprims-fds".into())
                    .spawn_scoped(scope, move || {
                        read_fds(pid, fd_dir, fdinfo_dir, part, filter)
                    });
                (part, handle.ok())
            })
            .collect();
        let mut out = read_fds(pid, fd_dir, fdinfo_dir, mine, filter)?;
        for (part, handle) in others {
            let result = match handle {
                Some(h) => h.join().unwrap_or_else(|_| {
                    Err(SysprimsError::Internal {
                        message: "an fd reader thread panicked".into(),
                    })
                }),
                // No thread (RLIMIT_NPROC): read that part here.
                None => read_fds(pid, fd_dir, fdinfo_dir, part, filter),
            };
            out.append(&mut result?);
        }
        Ok(out)
    })
}

/// Read the fds `numbers` of one process.
fn read_fds(
    pid: u32,
    fd_dir: &OwnedFd,
    fdinfo_dir: &OwnedFd,
    numbers: &[u32],
    filter: &FdFilter,
) -> Result<Vec<FdInfo>> {
    let mut link = Vec::with_capacity(4096 + 64);
    let mut info = Vec::with_capacity(4096);
    let mut name_buf = [0u8; 12];
    let mut out = Vec::with_capacity(numbers.len());
    for &n in numbers {
        let name = fd_name(n, &mut name_buf);
        match read_link(fd_dir, name, &mut link) {
            Ok(()) => {}
            // Closed since the listing: skip it.
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(denied("read fd link", pid, e)),
        }
        let target = parse_link_target(&link);
        let (kind, mut inode, anon_type) = match target {
            LinkTarget::Socket(inode) => (FdKind::Socket, Some(inode), None),
            LinkTarget::Pipe(inode) => (FdKind::Pipe, Some(inode), None),
            LinkTarget::AnonInode(t) => (
                FdKind::AnonInode,
                None,
                Some(String::from_utf8_lossy(t).into_owned()),
            ),
            LinkTarget::Path(_) | LinkTarget::Other => {
                // The kind of a path needs a stat (through the link, to the open file).
                if !path_kinds_wanted(filter) {
                    continue;
                }
                match statat(fd_dir, name, AtFlags::empty()) {
                    Ok(st) => (kind_of_mode(st.st_mode, &target), Some(st.st_ino), None),
                    Err(Errno::NOENT) => continue,
                    Err(_) => (FdKind::Unknown, None, None),
                }
            }
        };
        if !filter.matches(kind) {
            continue;
        }
        let fields = match read_into(fdinfo_dir, name, &mut info) {
            Ok(()) => parse_fdinfo(&info),
            Err(Errno::NOENT) => continue,
            Err(_) => Default::default(),
        };
        if inode.is_none() {
            inode = fields.ino;
        }
        let target_text = String::from_utf8_lossy(&link).into_owned();
        let path = match (target, kind) {
            (LinkTarget::Path(_), _) => Some(target_text.clone()),
            _ => None,
        };
        out.push(FdInfo {
            fd: n,
            kind,
            target: target_text,
            path,
            anon_type,
            inode,
            access: fields.flags.map(access_mode),
            flags: fields.flags,
            cloexec: fields.flags.map(|f| f & OFlags::CLOEXEC.bits() != 0),
            offset: fields.pos,
            socket: None,
        });
    }

    Ok(out)
}

fn path_kinds_wanted(filter: &FdFilter) -> bool {
    [
        FdKind::File,
        FdKind::Directory,
        FdKind::CharDevice,
        FdKind::BlockDevice,
        FdKind::Pipe,
        FdKind::Socket,
        FdKind::Unknown,
    ]
    .into_iter()
    .any(|k| filter.matches(k))
}

fn kind_of_mode(mode: u32, target: &LinkTarget<'_>) -> FdKind {
    if matches!(target, LinkTarget::Other) {
        return FdKind::Unknown;
    }
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => FdKind::File,
        FileType::Directory => FdKind::Directory,
        FileType::CharacterDevice => FdKind::CharDevice,
        FileType::BlockDevice => FdKind::BlockDevice,
        FileType::Fifo => FdKind::Pipe,
        FileType::Socket => FdKind::Socket,
        _ => FdKind::Unknown,
    }
}

fn access_mode(flags: u32) -> AccessMode {
    match flags & 0o3 {
        0 => AccessMode::Read,
        1 => AccessMode::Write,
        _ => AccessMode::ReadWrite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_names() {
        let mut buf = [0u8; 12];
        assert_eq!(fd_name(0, &mut buf), c"0");
        assert_eq!(fd_name(42, &mut buf), c"42");
        assert_eq!(fd_name(u32::MAX, &mut buf), c"4294967295");
    }

    #[test]
    fn access_modes() {
        assert_eq!(access_mode(0o100000), AccessMode::Read);
        assert_eq!(access_mode(0o2100001), AccessMode::Write);
        assert_eq!(access_mode(0o2), AccessMode::ReadWrite);
    }
}
