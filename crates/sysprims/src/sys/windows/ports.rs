//! Listening sockets and their owners, from the IP Helper tables:
//! [`GetExtendedTcpTable`](https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-getextendedtcptable)
//! with `TCP_TABLE_OWNER_PID_LISTENER` and
//! [`GetExtendedUdpTable`](https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-getextendedudptable)
//! with `UDP_TABLE_OWNER_PID`, each for IPv4 and IPv6.
//!
//! Each row names the one process that owns the socket, so there is no pass over every
//! process's handles (Linux reads every `/proc/<pid>/fd`). Windows has no socket inodes and no
//! fd numbers: `inode` is 0 and `fds` is empty. A socket owned by PID 0 (the kernel's, or any
//! socket under Wine 8, which reports 0 for every owner) has no `processes`. An owner that
//! cannot be read (another user's protected process) is listed by PID with an empty name.

use std::collections::HashMap;
use std::ffi::c_void;
use std::net::{Ipv4Addr, Ipv6Addr};

use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, GetExtendedUdpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID,
    MIB_UDP6ROW_OWNER_PID, MIB_UDPROW_OWNER_PID, TCP_TABLE_OWNER_PID_LISTENER, UDP_TABLE_OWNER_PID,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};

use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::fds::{SocketFamily, SocketState};
use crate::pid::Pid;
use crate::ports::{PortBinding, PortProcess, Protocol};

/// One IP Helper table: `call(buffer, size)` is asked for the size, then filled; the table
/// may grow between the two calls, so this retries a few times. Rows follow the leading
/// `dwNumEntries` (every row type is `u32`s and bytes, so they start at offset 4).
fn read_table<R: Copy>(
    what: &'static str,
    call: impl Fn(*mut c_void, &mut u32) -> u32,
) -> Result<Vec<R>> {
    let mut size = 0u32;
    let mut buf: Vec<u32> = Vec::new();
    for _ in 0..8 {
        let ptr = if buf.is_empty() {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        let mut asked = size;
        match call(ptr, &mut asked) {
            NO_ERROR if !buf.is_empty() => {
                let bytes = buf.len() * 4;
                let n = buf[0] as usize;
                let row = size_of::<R>();
                if n.checked_mul(row)
                    .and_then(|b| b.checked_add(4))
                    .is_none_or(|b| b > bytes)
                {
                    return Err(SysprimsError::Internal {
                        message: format!(
                            "{what} said {n} rows, which do not fit in the {bytes} bytes it filled"
                        ),
                    });
                }
                let base = buf.as_ptr().cast::<u8>();
                return Ok((0..n)
                    // SAFETY: row i lies within the buffer (checked above); the rows are
                    // plain data, read unaligned.
                    .map(|i| unsafe { std::ptr::read_unaligned(base.add(4 + i * row).cast::<R>()) })
                    .collect());
            }
            NO_ERROR | ERROR_INSUFFICIENT_BUFFER => {
                // Room for the table as it is now, and some rows more.
                size = asked.max(4) + 64 * size_of::<R>() as u32;
                buf = vec![0u32; (size as usize).div_ceil(4)];
                size = (buf.len() * 4) as u32;
            }
            code => return Err(super::win_error(what, Subject::None, code)),
        }
    }
    // The table kept growing faster than it could be read.
    Err(SysprimsError::System {
        operation: what,
        subject: Subject::None,
        errno: ERROR_INSUFFICIENT_BUFFER as i32,
    })
}

/// A port as the tables hold it: network order in the low 16 bits.
fn port(raw: u32) -> u16 {
    u16::from_be(raw as u16)
}

/// Who owns what: one read per owner PID.
#[derive(Default)]
struct Owners(HashMap<u32, Option<PortProcess>>);

impl Owners {
    fn of(&mut self, pid: u32) -> Vec<PortProcess> {
        if pid == 0 {
            return Vec::new();
        }
        let entry = self.0.entry(pid).or_insert_with(|| {
            match crate::process::get_process(pid) {
                Ok(info) => Some(PortProcess {
                    pid,
                    name: info.name,
                    uid: info.uid,
                    user: info.user,
                    fds: Vec::new(),
                }),
                // Exited since the table was read: no holder.
                Err(e) if e.code() == ErrorCode::NotFound => None,
                Err(_) => Some(PortProcess {
                    pid,
                    name: String::new(),
                    uid: 0,
                    user: None,
                    fds: Vec::new(),
                }),
            }
        });
        entry.iter().cloned().collect()
    }
}

fn binding(
    protocol: Protocol,
    family: SocketFamily,
    address: String,
    local_port: u32,
    owner: Vec<PortProcess>,
) -> PortBinding {
    PortBinding {
        protocol,
        family,
        local_address: address,
        local_port: port(local_port),
        state: match protocol {
            Protocol::Tcp => SocketState::Listen,
            Protocol::Udp => SocketState::Unconnected,
        },
        inode: 0,
        uid: owner.first().map_or(0, |p| p.uid),
        processes: owner,
    }
}

/// Every listening TCP socket and bound UDP socket, IPv4 and IPv6, each with its owner.
pub(crate) fn listening_sockets(tcp: bool, udp: bool) -> Result<Vec<PortBinding>> {
    let mut owners = Owners::default();
    let mut out = Vec::new();
    if tcp {
        // SAFETY (all four calls): `buf` is null or has `size` writable bytes; no reserved
        // value but 0; the table class matches the row type read back.
        let v4: Vec<MIB_TCPROW_OWNER_PID> =
            read_table("GetExtendedTcpTable", |buf, size| unsafe {
                GetExtendedTcpTable(
                    buf,
                    size,
                    0,
                    AF_INET as u32,
                    TCP_TABLE_OWNER_PID_LISTENER,
                    0,
                )
            })?;
        for r in v4 {
            let addr = Ipv4Addr::from(r.dwLocalAddr.to_ne_bytes()).to_string();
            let owner = owners.of(r.dwOwningPid);
            out.push(binding(
                Protocol::Tcp,
                SocketFamily::Ipv4,
                addr,
                r.dwLocalPort,
                owner,
            ));
        }
        let v6: Vec<MIB_TCP6ROW_OWNER_PID> =
            read_table("GetExtendedTcpTable", |buf, size| unsafe {
                GetExtendedTcpTable(
                    buf,
                    size,
                    0,
                    AF_INET6 as u32,
                    TCP_TABLE_OWNER_PID_LISTENER,
                    0,
                )
            })?;
        for r in v6 {
            let addr = Ipv6Addr::from(r.ucLocalAddr).to_string();
            let owner = owners.of(r.dwOwningPid);
            out.push(binding(
                Protocol::Tcp,
                SocketFamily::Ipv6,
                addr,
                r.dwLocalPort,
                owner,
            ));
        }
    }
    if udp {
        let v4: Vec<MIB_UDPROW_OWNER_PID> =
            read_table("GetExtendedUdpTable", |buf, size| unsafe {
                GetExtendedUdpTable(buf, size, 0, AF_INET as u32, UDP_TABLE_OWNER_PID, 0)
            })?;
        for r in v4 {
            let addr = Ipv4Addr::from(r.dwLocalAddr.to_ne_bytes()).to_string();
            let owner = owners.of(r.dwOwningPid);
            out.push(binding(
                Protocol::Udp,
                SocketFamily::Ipv4,
                addr,
                r.dwLocalPort,
                owner,
            ));
        }
        let v6: Vec<MIB_UDP6ROW_OWNER_PID> =
            read_table("GetExtendedUdpTable", |buf, size| unsafe {
                GetExtendedUdpTable(buf, size, 0, AF_INET6 as u32, UDP_TABLE_OWNER_PID, 0)
            })?;
        for r in v6 {
            let addr = Ipv6Addr::from(r.ucLocalAddr).to_string();
            let owner = owners.of(r.dwOwningPid);
            out.push(binding(
                Protocol::Udp,
                SocketFamily::Ipv6,
                addr,
                r.dwLocalPort,
                owner,
            ));
        }
    }
    Ok(out)
}

/// As [`listening_sockets`]: Windows has one source (the netlink/procfs choice is Linux's).
pub(crate) fn listening_sockets_via(
    _netlink: bool,
    tcp: bool,
    udp: bool,
) -> Result<Vec<PortBinding>> {
    listening_sockets(tcp, udp)
}

/// Keep, of each binding's holders, only `pid` (the tables name each socket's one owner).
///
/// # Errors
/// `NotFound` when no process has `pid`.
pub(crate) fn find_holders_in(pid: Pid, bindings: &mut [PortBinding]) -> Result<()> {
    crate::process::get_process(pid.get())?;
    for b in bindings.iter_mut() {
        b.processes.retain(|p| p.pid == pid.get());
    }
    Ok(())
}

/// Nothing to look for: every binding already has its owner. No process is unreadable.
pub(crate) fn find_holders(_bindings: &mut [PortBinding], _skip: Option<Pid>) -> Result<Vec<u32>> {
    Ok(Vec::new())
}
