//! Listening TCP and UDP sockets on macOS, and the processes that hold them, from each
//! process's fds: `PROC_PIDLISTFDS`, then `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)` for each
//! socket fd, decoded by [`super::parse::parse_socket_fdinfo`]. A socket is known by its
//! kernel handle (`soi_so`), which is the same in every process that holds it (reported as
//! the binding's `inode`).
//!
//! macOS has no socket table to read without going through processes (Linux has
//! `sock_diag`), so a socket is seen only through a process whose fds the caller may read:
//! its own (any user's, as root). Sockets held only by other users' processes are missing,
//! not holder-less; `unreadable_pids` says which processes were passed over.

use super::fds::{fd_list, socket_of};
use super::parse::{self, SocketFd};
use crate::error::{ErrorCode, Result};
use crate::fds::{SocketProtocol, SocketState};
use crate::pid::Pid;
use crate::ports::{PortBinding, PortProcess, Protocol};
use crate::sys::unix::users::UserCache;

/// The socket fds of `pid` and what they are.
fn sockets_of(pid: Pid) -> Result<Vec<(u32, SocketFd)>> {
    let list = fd_list(pid)?;
    Ok(parse::parse_fd_list(&list)
        .into_iter()
        .filter(|&(_, kind)| kind as libc::c_int == libc::PROX_FDTYPE_SOCKET)
        .filter_map(|(fd, _)| socket_of(pid, fd).map(|s| (fd, s)))
        .collect())
}

/// The binding a socket is, when it is a listening TCP socket (`tcp`) or a bound,
/// unconnected UDP socket (`udp`).
fn binding(s: &SocketFd, tcp: bool, udp: bool) -> Option<PortBinding> {
    let info = s.info.as_ref()?;
    let protocol = match (info.protocol, info.state) {
        (SocketProtocol::Tcp, SocketState::Listen) if tcp => Protocol::Tcp,
        (SocketProtocol::Udp, SocketState::Unconnected) if udp => Protocol::Udp,
        _ => return None,
    };
    let port = info.local_port.filter(|&p| p != 0)?;
    Some(PortBinding {
        protocol,
        family: info.family,
        local_address: info.local_address.clone().unwrap_or_default(),
        local_port: port,
        state: info.state,
        inode: s.handle,
        uid: s.uid,
        processes: Vec::new(),
    })
}

/// Every PID but the kernel's.
fn pids() -> Result<Vec<Pid>> {
    Ok(super::process::all_pids()?
        .into_iter()
        .filter_map(|p| Pid::new(p).ok())
        .collect())
}

/// The listening sockets of every process the caller may read (module docs), each once.
pub(crate) fn listening_sockets(tcp: bool, udp: bool) -> Result<Vec<PortBinding>> {
    let mut out: Vec<PortBinding> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for pid in pids()? {
        let Ok(sockets) = sockets_of(pid) else {
            continue;
        };
        for (_, s) in sockets {
            if let Some(b) = binding(&s, tcp, udp)
                && seen.insert(s.handle)
            {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// As [`listening_sockets`]: macOS has one source, whatever `netlink` asks for.
pub(crate) fn listening_sockets_via(
    _netlink: bool,
    tcp: bool,
    udp: bool,
) -> Result<Vec<PortBinding>> {
    listening_sockets(tcp, udp)
}

/// Add `pid` as a holder of each binding whose socket it holds, with its fds.
fn attach(
    pid: Pid,
    sockets: &[(u32, SocketFd)],
    bindings: &mut [PortBinding],
    users: &mut UserCache,
) {
    let mut described: Option<PortProcess> = None;
    for b in bindings.iter_mut() {
        let fds: Vec<u32> = sockets
            .iter()
            .filter(|(_, s)| s.handle == b.inode)
            .map(|&(fd, _)| fd)
            .collect();
        if fds.is_empty() {
            continue;
        }
        let holder = match &described {
            Some(d) => PortProcess { fds, ..d.clone() },
            None => {
                let Ok(info) = super::process::bsd_info(pid.get()) else {
                    return; // exited meanwhile
                };
                let d = PortProcess {
                    pid: pid.get(),
                    name: String::from_utf8_lossy(&info.name).into_owned(),
                    uid: info.uid,
                    user: users.name(info.uid),
                    fds,
                };
                described = Some(d.clone());
                d
            }
        };
        b.processes.push(holder);
    }
}

/// The holders of `bindings` in `pid` alone.
///
/// # Errors
/// `NotFound` when the process does not exist, `PermissionDenied` when its fds may not be
/// read.
pub(crate) fn find_holders_in(pid: Pid, bindings: &mut [PortBinding]) -> Result<()> {
    let sockets = sockets_of(pid)?;
    attach(pid, &sockets, bindings, &mut UserCache::default());
    Ok(())
}

/// Find every holder of `bindings` among all processes (except `skip`, already done), and
/// return the PIDs whose fds could not be read.
pub(crate) fn find_holders(bindings: &mut [PortBinding], skip: Option<Pid>) -> Result<Vec<u32>> {
    let mut users = UserCache::default();
    let mut unreadable = Vec::new();
    for pid in pids()? {
        if skip == Some(pid) {
            continue;
        }
        match sockets_of(pid) {
            Ok(sockets) => attach(pid, &sockets, bindings, &mut users),
            Err(e) if e.code() == ErrorCode::PermissionDenied => unreadable.push(pid.get()),
            Err(_) => {} // exited meanwhile
        }
    }
    for b in bindings.iter_mut() {
        b.processes.sort_by_key(|p| p.pid);
    }
    Ok(unreadable)
}
