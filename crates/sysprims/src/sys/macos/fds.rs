//! Open fds on macOS: `proc_pidinfo(PROC_PIDLISTFDS)` for the fd numbers and their types,
//! then `proc_pidfdinfo(PROC_PIDFDVNODEPATHINFO)` for each vnode (files, directories,
//! devices, FIFOs): its path, mode, inode, offset, open flags and close-on-exec bit, decoded
//! by [`super::parse::parse_vnode_fdinfo`]; `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)` for each
//! socket (family, protocol, addresses, state: [`super::parse::parse_socket_fdinfo`]). Pipes,
//! kqueues and the other kernel objects are listed by kind.
//!
//! The kernel answers for the caller's own processes (or all, as root); another user's is
//! `PermissionDenied`.

use super::parse;
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::fds::{FdFilter, FdInfo, FdKind};
use crate::pid::Pid;

/// `PROC_PIDFDVNODEPATHINFO` and `PROC_PIDFDSOCKETINFO` (`<sys/proc_info.h>`; not in the
/// `libc` crate).
const PROC_PIDFDVNODEPATHINFO: libc::c_int = 2;
const PROC_PIDFDSOCKETINFO: libc::c_int = 3;

/// The raw `PROC_PIDLISTFDS` answer for `pid`.
pub(crate) fn fd_list(pid: Pid) -> Result<Vec<u8>> {
    // Sized by `pbi_nfiles` (with room for fds opened meanwhile), grown if it fills.
    let nfiles = super::process::bsd_info(pid.get())?.nfiles as usize;
    let mut room = (nfiles + 32) * parse::PROC_FDINFO_SIZE;
    for _ in 0..4 {
        let mut buf = vec![0u8; room];
        let size = room.min(i32::MAX as usize) as libc::c_int;
        // SAFETY: `buf` has `size` bytes; the kernel writes at most that many.
        let n = unsafe {
            libc::proc_pidinfo(
                pid.as_raw(),
                libc::PROC_PIDLISTFDS,
                0,
                buf.as_mut_ptr().cast(),
                size,
            )
        };
        if n <= 0 {
            let errno = super::last_errno();
            return Err(match errno {
                0 | libc::ESRCH => SysprimsError::process_not_found("list fds", pid.get()),
                _ => SysprimsError::from_errno(
                    "proc_pidinfo(PROC_PIDLISTFDS)",
                    Subject::Process(pid.get()),
                    errno,
                ),
            });
        }
        let n = (n as usize).min(room);
        if n + parse::PROC_FDINFO_SIZE <= room {
            buf.truncate(n);
            return Ok(buf);
        }
        room *= 2;
    }
    Err(SysprimsError::Internal {
        message: format!("proc_pidinfo(PROC_PIDLISTFDS) of PID {pid} kept filling {room} bytes"),
    })
}

/// The socket details of one fd; `None` when it was closed meanwhile or is not a socket now.
pub(crate) fn socket_of(pid: Pid, fd: u32) -> Option<parse::SocketFd> {
    let mut buf = vec![0u8; parse::SOCKET_FDINFO_SIZE];
    // SAFETY: `buf` has the size passed.
    let n = unsafe {
        libc::proc_pidfdinfo(
            pid.as_raw(),
            fd as libc::c_int,
            PROC_PIDFDSOCKETINFO,
            buf.as_mut_ptr().cast(),
            buf.len() as libc::c_int,
        )
    };
    if n <= 0 {
        return None;
    }
    buf.truncate((n as usize).min(buf.len()));
    parse::parse_socket_fdinfo(&buf).ok()
}

/// The vnode details of one fd; `None` when it was closed meanwhile or is not a vnode now.
fn vnode(pid: Pid, fd: u32) -> Option<parse::VnodeFd> {
    let mut buf = vec![0u8; parse::VNODE_FDINFOWITHPATH_SIZE];
    // SAFETY: `buf` has the size passed.
    let n = unsafe {
        libc::proc_pidfdinfo(
            pid.as_raw(),
            fd as libc::c_int,
            PROC_PIDFDVNODEPATHINFO,
            buf.as_mut_ptr().cast(),
            buf.len() as libc::c_int,
        )
    };
    if n <= 0 {
        return None;
    }
    buf.truncate((n as usize).min(buf.len()));
    parse::parse_vnode_fdinfo(&buf).ok()
}

fn other(fd: u32, kind: FdKind, target: &str, anon: Option<&str>) -> FdInfo {
    FdInfo {
        fd,
        kind,
        target: target.to_string(),
        path: None,
        anon_type: anon.map(str::to_string),
        inode: None,
        access: None,
        flags: None,
        cloexec: None,
        offset: None,
        socket: None,
    }
}

/// The open fds of `pid` that `filter` selects, by fd number.
pub(crate) fn list_fds(pid: Pid, filter: &FdFilter) -> Result<Vec<FdInfo>> {
    let list = fd_list(pid).map_err(|e| match e.code() {
        ErrorCode::PermissionDenied => SysprimsError::PermissionDenied {
            operation: "list fds",
            subject: Subject::Process(pid.get()),
        },
        _ => e,
    })?;
    let wants = |k: FdKind| filter.kinds.as_ref().is_none_or(|ks| ks.contains(&k));
    let mut out = Vec::new();
    for (fd, fdtype) in parse::parse_fd_list(&list) {
        let info = match fdtype as libc::c_int {
            libc::PROX_FDTYPE_VNODE => {
                let Some(v) = vnode(pid, fd) else { continue };
                let path = String::from_utf8_lossy(&v.path).into_owned();
                FdInfo {
                    fd,
                    kind: parse::vnode_kind(v.mode),
                    target: path.clone(),
                    path: (!path.is_empty()).then_some(path),
                    anon_type: None,
                    inode: Some(v.inode),
                    access: parse::access_of(v.open_flags),
                    flags: Some(v.open_flags),
                    cloexec: Some(v.cloexec),
                    offset: Some(v.offset),
                    socket: None,
                }
            }
            libc::PROX_FDTYPE_SOCKET => FdInfo {
                socket: socket_of(pid, fd).and_then(|s| s.info),
                ..other(fd, FdKind::Socket, "socket", None)
            },
            libc::PROX_FDTYPE_PIPE => other(fd, FdKind::Pipe, "pipe", None),
            libc::PROX_FDTYPE_KQUEUE => other(fd, FdKind::AnonInode, "kqueue", Some("kqueue")),
            libc::PROX_FDTYPE_PSHM => other(fd, FdKind::AnonInode, "pshm", Some("pshm")),
            libc::PROX_FDTYPE_PSEM => other(fd, FdKind::AnonInode, "psem", Some("psem")),
            libc::PROX_FDTYPE_FSEVENTS => {
                other(fd, FdKind::AnonInode, "fsevents", Some("fsevents"))
            }
            libc::PROX_FDTYPE_NETPOLICY => {
                other(fd, FdKind::AnonInode, "netpolicy", Some("netpolicy"))
            }
            libc::PROX_FDTYPE_CHANNEL => other(fd, FdKind::AnonInode, "channel", Some("channel")),
            libc::PROX_FDTYPE_NEXUS => other(fd, FdKind::AnonInode, "nexus", Some("nexus")),
            _ => other(fd, FdKind::Unknown, "unknown", None),
        };
        if wants(info.kind) {
            out.push(info);
        }
    }
    Ok(out)
}
