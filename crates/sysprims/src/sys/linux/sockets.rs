//! Sockets: the listening sockets of the caller's network namespace, the processes that hold
//! them, and the details of a process's own sockets.
//!
//! Holders are found as `ss -p` and `lsof -i` find them: every process's `/proc/<pid>/fd` is
//! listed and each link read; a link `socket:[INODE]` whose inode is a wanted socket makes that
//! process a holder. Each process's fd directory is read once per call.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{CWD, Mode, OFlags, openat};
use rustix::io::Errno;

use super::fds::{fd_name, fd_numbers, open_subdir, read_link};
use super::procfs::net::{
    InetRow, LinkTarget, parse_inet_table, parse_link_target, parse_unix_table,
};
use super::procfs::read::{list_pids, read_into};
use super::sock_diag;
use super::users::UserCache;
use crate::error::{Result, Subject, SysprimsError};
use crate::fds::{SocketFamily, SocketInfo, SocketProtocol, SocketState};
use crate::pid::Pid;
use crate::ports::{PortBinding, PortProcess, Protocol};

const TCP_LISTEN: u8 = 10;
const TCP_CLOSE: u8 = 7;

/// The four inet tables: file under `/proc/net`, protocol, family, netlink numbers.
const TABLES: [(&std::ffi::CStr, Protocol, SocketFamily, u8, u8); 4] = [
    (
        c"tcp",
        Protocol::Tcp,
        SocketFamily::Ipv4,
        sock_diag::AF_INET,
        sock_diag::IPPROTO_TCP,
    ),
    (
        c"tcp6",
        Protocol::Tcp,
        SocketFamily::Ipv6,
        sock_diag::AF_INET6,
        sock_diag::IPPROTO_TCP,
    ),
    (
        c"udp",
        Protocol::Udp,
        SocketFamily::Ipv4,
        sock_diag::AF_INET,
        sock_diag::IPPROTO_UDP,
    ),
    (
        c"udp6",
        Protocol::Udp,
        SocketFamily::Ipv6,
        sock_diag::AF_INET6,
        sock_diag::IPPROTO_UDP,
    ),
];

/// Read a whole `/proc/net` table. These are `seq_file`s that return a page or so of whole
/// records per `read`, however large the buffer: a short read is not the end, only 0 is.
fn read_table(
    dir: &OwnedFd,
    name: &std::ffi::CStr,
    buf: &mut Vec<u8>,
) -> std::result::Result<(), Errno> {
    buf.clear();
    if buf.capacity() < 64 * 1024 {
        buf.reserve(64 * 1024);
    }
    let fd = openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    loop {
        if buf.capacity() - buf.len() < 8192 {
            buf.reserve(buf.capacity());
        }
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(buf)) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

fn listening_state(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Tcp => TCP_LISTEN,
        Protocol::Udp => TCP_CLOSE,
    }
}

fn binding(protocol: Protocol, family: SocketFamily, row: InetRow) -> PortBinding {
    PortBinding {
        protocol,
        family,
        local_address: row.local.0.to_string(),
        local_port: row.local.1,
        state: match protocol {
            Protocol::Tcp => SocketState::from_tcp(row.state),
            Protocol::Udp => SocketState::from_udp(row.state),
        },
        inode: row.inode,
        uid: row.uid,
        processes: Vec::new(),
    }
}

/// The listening sockets: through `NETLINK_SOCK_DIAG`, or `/proc/net/*` if netlink fails
/// (a sandbox without netlink sockets).
pub(crate) fn listening_sockets(tcp: bool, udp: bool) -> Result<Vec<PortBinding>> {
    match listening_sockets_via(true, tcp, udp) {
        Ok(b) => Ok(b),
        Err(_) => listening_sockets_via(false, tcp, udp),
    }
}

/// The listening sockets, through netlink or through `/proc/net/*`.
pub(crate) fn listening_sockets_via(
    netlink: bool,
    tcp: bool,
    udp: bool,
) -> Result<Vec<PortBinding>> {
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    for (file, protocol, family, af, proto) in TABLES {
        let wanted = match protocol {
            Protocol::Tcp => tcp,
            Protocol::Udp => udp,
        };
        if !wanted {
            continue;
        }
        let state = listening_state(protocol);
        // A socket with port 0 is not bound (a UDP socket used only to send).
        let mut push = |row: InetRow| {
            if row.state == state && row.local.1 != 0 {
                out.push(binding(protocol, family, row));
            }
        };
        if netlink {
            sock_diag::dump(af, proto, 1 << state, &mut push)?;
        } else {
            let dir = open_subdir(&CWD, c"/proc/self/net").map_err(|e| {
                SysprimsError::from_errno(
                    "open /proc/self/net",
                    Subject::Path("/proc/self/net".into()),
                    e.raw_os_error(),
                )
            })?;
            match read_table(&dir, file, &mut buf) {
                Ok(()) => parse_inet_table(&buf, &mut push),
                // IPv6 disabled: no table, no sockets.
                Err(Errno::NOENT) => {}
                Err(e) => {
                    return Err(SysprimsError::from_errno(
                        "read /proc/net",
                        Subject::Path(format!("/proc/self/net/{}", file.to_string_lossy()).into()),
                        e.raw_os_error(),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Reusable buffers for scanning processes' fds.
struct Scanner {
    path: String,
    dents: Vec<u8>,
    link: Vec<u8>,
    numbers: Vec<u32>,
    file: Vec<u8>,
    users: UserCache,
}

impl Scanner {
    fn new() -> Scanner {
        Scanner {
            path: String::with_capacity(32),
            dents: Vec::with_capacity(16 * 1024),
            link: Vec::with_capacity(4096 + 64),
            numbers: Vec::new(),
            file: Vec::with_capacity(4096),
            users: UserCache::default(),
        }
    }

    fn open_proc(&mut self, pid: u32, sub: &str) -> std::result::Result<OwnedFd, Errno> {
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}{sub}");
        openat(
            CWD,
            self.path.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    }

    /// Read the fds of `pid`; for each one that is a wanted socket, call `found(index, fd)`.
    fn scan(
        &mut self,
        pid: u32,
        wanted: &HashMap<u64, usize>,
        found: &mut impl FnMut(usize, u32),
    ) -> std::result::Result<(), Errno> {
        let fd_dir = self.open_proc(pid, "/fd")?;
        fd_numbers(&fd_dir, &mut self.dents, &mut self.numbers)?;
        let mut name = [0u8; 12];
        for &n in &self.numbers {
            match read_link(&fd_dir, fd_name(n, &mut name), &mut self.link) {
                Ok(()) => {}
                Err(_) => continue, // closed meanwhile
            }
            if let LinkTarget::Socket(inode) = parse_link_target(&self.link)
                && let Some(&index) = wanted.get(&inode)
            {
                found(index, n);
            }
        }
        Ok(())
    }

    /// Name and effective UID of a holder. `None` if it exited meanwhile.
    fn describe(&mut self, pid: u32, fds: Vec<u32>) -> Option<PortProcess> {
        let dir = self.open_proc(pid, "").ok()?;
        let uid = rustix::fs::fstat(&dir).ok()?.st_uid;
        read_into(&dir, c"comm", &mut self.file).ok()?;
        let name = String::from_utf8_lossy(self.file.strip_suffix(b"\n").unwrap_or(&self.file))
            .into_owned();
        Some(PortProcess {
            pid,
            name,
            uid,
            user: self.users.name(uid),
            fds,
        })
    }
}

fn inode_index(bindings: &[PortBinding]) -> HashMap<u64, usize> {
    bindings
        .iter()
        .enumerate()
        .map(|(i, b)| (b.inode, i))
        .collect()
}

/// Add `pid` to the holders of the bindings it holds. Errors when it cannot be read.
pub(crate) fn find_holders_in(pid: Pid, bindings: &mut [PortBinding]) -> Result<()> {
    let wanted = inode_index(bindings);
    let mut scanner = Scanner::new();
    let mut held: Vec<(usize, u32)> = Vec::new();
    let pid = pid.get();
    if let Err(e) = scanner.scan(pid, &wanted, &mut |i, fd| held.push((i, fd))) {
        // Tell "no such process" from "no access to its fds".
        let errno = match scanner.open_proc(pid, "") {
            Err(Errno::NOENT) => Errno::NOENT,
            _ => e,
        };
        return Err(SysprimsError::from_errno(
            "read open fds",
            Subject::Process(pid),
            errno.raw_os_error(),
        ));
    }
    attach(&mut scanner, bindings, pid, held);
    Ok(())
}

fn attach(
    scanner: &mut Scanner,
    bindings: &mut [PortBinding],
    pid: u32,
    mut held: Vec<(usize, u32)>,
) {
    if held.is_empty() {
        return;
    }
    held.sort_unstable();
    let mut described: Option<PortProcess> = None;
    let mut i = 0;
    while i < held.len() {
        let index = held[i].0;
        let fds: Vec<u32> = held[i..]
            .iter()
            .take_while(|(j, _)| *j == index)
            .map(|&(_, fd)| fd)
            .collect();
        i += fds.len();
        let holder = match &described {
            Some(d) => PortProcess { fds, ..d.clone() },
            None => match scanner.describe(pid, fds) {
                Some(d) => {
                    described = Some(d.clone());
                    d
                }
                None => return, // exited meanwhile
            },
        };
        bindings[index].processes.push(holder);
    }
}

/// Find every holder of `bindings` among all processes (except `skip`, already done), and
/// return the PIDs whose fds could not be read.
pub(crate) fn find_holders(bindings: &mut [PortBinding], skip: Option<Pid>) -> Result<Vec<u32>> {
    let wanted = inode_index(bindings);
    let mut scanner = Scanner::new();
    let mut unreadable = Vec::new();
    let mut held: Vec<(usize, u32)> = Vec::new();
    for pid in list_pids()? {
        if skip.is_some_and(|s| s.get() == pid) {
            continue;
        }
        held.clear();
        match scanner.scan(pid, &wanted, &mut |i, fd| held.push((i, fd))) {
            Ok(()) => {}
            Err(Errno::ACCESS | Errno::PERM) => unreadable.push(pid),
            Err(_) => continue, // exited meanwhile
        }
        attach(&mut scanner, bindings, pid, std::mem::take(&mut held));
    }
    for b in bindings.iter_mut() {
        b.processes.sort_by_key(|p| p.pid);
    }
    Ok(unreadable)
}

/// The sockets among `wanted` (inodes) found in the TCP, UDP and Unix tables of the network
/// namespace of the process whose `/proc/<pid>` directory is `proc_dir`. Tables that cannot
/// be read are passed over.
pub(crate) fn sockets_in_netns_of(
    proc_dir: &impl AsFd,
    wanted: &[u64],
) -> HashMap<u64, SocketInfo> {
    let wanted: std::collections::HashSet<u64> = wanted.iter().copied().collect();
    let mut out = HashMap::new();
    let Ok(net) = open_subdir(proc_dir, c"net") else {
        return out;
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    for (file, protocol, family, _, _) in TABLES {
        if read_table(&net, file, &mut buf).is_err() {
            continue;
        }
        parse_inet_table(&buf, |row| {
            if out.len() < wanted.len() && wanted.contains(&row.inode) && row.inode != 0 {
                let addr = |ip: IpAddr| ip.to_string();
                out.insert(
                    row.inode,
                    SocketInfo {
                        family,
                        protocol: match protocol {
                            Protocol::Tcp => SocketProtocol::Tcp,
                            Protocol::Udp => SocketProtocol::Udp,
                        },
                        local_address: Some(addr(row.local.0)),
                        local_port: Some(row.local.1),
                        remote_address: Some(addr(row.remote.0)),
                        remote_port: Some(row.remote.1),
                        state: match protocol {
                            Protocol::Tcp => SocketState::from_tcp(row.state),
                            Protocol::Udp => SocketState::from_udp(row.state),
                        },
                    },
                );
            }
        });
    }
    if out.len() < wanted.len() && read_table(&net, c"unix", &mut buf).is_ok() {
        parse_unix_table(&buf, |row| {
            if wanted.contains(&row.inode) {
                out.insert(
                    row.inode,
                    SocketInfo {
                        family: SocketFamily::Unix,
                        protocol: match row.socket_type {
                            2 => SocketProtocol::UnixDgram,
                            5 => SocketProtocol::UnixSeqpacket,
                            _ => SocketProtocol::UnixStream,
                        },
                        local_address: row.path.map(|p| String::from_utf8_lossy(p).into_owned()),
                        local_port: None,
                        remote_address: None,
                        remote_port: None,
                        state: if row.listening {
                            SocketState::Listen
                        } else {
                            match row.state {
                                1 => SocketState::Unconnected,
                                2 => SocketState::Connecting,
                                3 => SocketState::Connected,
                                4 => SocketState::Disconnecting,
                                _ => SocketState::Unknown,
                            }
                        },
                    },
                );
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netlink_and_proc_net_agree() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let ports = [
            tcp.local_addr().unwrap().port(),
            udp.local_addr().unwrap().port(),
        ];
        let ours = |netlink: bool| {
            let mut b: Vec<PortBinding> = listening_sockets_via(netlink, true, true)
                .unwrap()
                .into_iter()
                .filter(|b| ports.contains(&b.local_port) && b.local_address == "127.0.0.1")
                .collect();
            b.sort_by_key(|b| b.inode);
            b
        };
        let via_netlink = ours(true);
        assert_eq!(via_netlink.len(), 2, "{via_netlink:?}");
        assert_eq!(via_netlink, ours(false));
        let mut bindings = via_netlink;
        let unreadable = find_holders(&mut bindings, None).unwrap();
        assert!(unreadable.is_empty() || !rustix::process::geteuid().is_root());
        for b in &bindings {
            assert_eq!(b.processes.len(), 1);
            assert_eq!(b.processes[0].pid, std::process::id());
        }
    }
}
