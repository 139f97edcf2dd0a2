//! `NETLINK_SOCK_DIAG` (what `ss` uses): the kernel dumps its TCP and UDP sockets as binary
//! records, filtered by state in the kernel, so a host with 100,000 established connections
//! does not have to print and re-parse them all to find its 50 listeners (as `/proc/net/tcp`
//! does). See `sock_diag(7)`.
//!
//! The messages are built and parsed here as bytes (no `unsafe`): `build_request` and
//! `parse_dump` are pure and tested below; `dump` is the I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rustix::net::{
    AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, netlink, recv, sendto,
    socket_with,
};

use super::procfs::net::InetRow;
use crate::error::{Result, Subject, SysprimsError};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x100 | 0x200;
/// `struct inet_diag_req_v2`: family, protocol, ext, pad, states, then a 48-byte socket id.
const REQ_LEN: usize = 8 + 48;
/// `struct inet_diag_msg`: family, state, timer, retrans, the id, then five u32s.
const MSG_LEN: usize = 4 + 48 + 20;

/// `AF_INET` and `AF_INET6` as the kernel numbers them.
pub(crate) const AF_INET: u8 = 2;
pub(crate) const AF_INET6: u8 = 10;
pub(crate) const IPPROTO_TCP: u8 = 6;
pub(crate) const IPPROTO_UDP: u8 = 17;

/// The request for every socket of `family`/`protocol` whose state bit is set in `states`
/// (bit N for the kernel's `TCP_*` state N).
pub(crate) fn build_request(family: u8, protocol: u8, states: u32, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + REQ_LEN;
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&[family, protocol, 0, 0]);
    msg.extend_from_slice(&states.to_ne_bytes());
    msg.resize(len, 0); // the socket id: all wildcards
    msg
}

/// What one received buffer held.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// More messages follow.
    More,
    /// The dump is complete.
    Done,
    /// The kernel answered with this errno.
    Error(i32),
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Parse the messages of one `recv` of a dump, passing each socket to `each`.
pub(crate) fn parse_dump(mut buf: &[u8], mut each: impl FnMut(InetRow)) -> Parsed {
    while buf.len() >= NLMSG_HDRLEN {
        let Some(len) = u32_at(buf, 0).map(|l| l as usize) else {
            break;
        };
        let kind = u16_at(buf, 4).unwrap_or(0);
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Parsed::Error(libc::EBADMSG);
        }
        let body = &buf[NLMSG_HDRLEN..len];
        match kind {
            NLMSG_DONE => return Parsed::Done,
            NLMSG_ERROR => {
                // `struct nlmsgerr`: a negative errno. Anything else (no errno can be
                // i32::MIN's negation, nor 0 or positive in a dump) is a malformed message.
                let errno = match u32_at(body, 0).map(|e| e as i32) {
                    Some(e) if e < 0 => e.checked_neg().unwrap_or(libc::EBADMSG),
                    Some(_) => libc::EBADMSG,
                    None => libc::EIO,
                };
                return Parsed::Error(errno);
            }
            SOCK_DIAG_BY_FAMILY => {
                if let Some(row) = parse_msg(body) {
                    each(row);
                }
            }
            _ => {}
        }
        // Messages are aligned to 4 bytes.
        let advance = (len + 3) & !3;
        buf = buf.get(advance..).unwrap_or(&[]);
    }
    Parsed::More
}

/// One `inet_diag_msg`. Ports are `__be16` (network byte order); addresses are raw bytes in
/// network order.
fn parse_msg(b: &[u8]) -> Option<InetRow> {
    if b.len() < MSG_LEN {
        return None;
    }
    let family = b[0];
    let state = b[1];
    let id = &b[4..52];
    let sport = u16::from_be_bytes([id[0], id[1]]);
    let dport = u16::from_be_bytes([id[2], id[3]]);
    let addr = |bytes: &[u8]| -> Option<IpAddr> {
        match family {
            AF_INET => Some(IpAddr::V4(Ipv4Addr::new(
                bytes[0], bytes[1], bytes[2], bytes[3],
            ))),
            AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(&bytes[..16]).ok()?,
            ))),
            _ => None,
        }
    };
    let src = addr(&id[4..20])?;
    let dst = addr(&id[20..36])?;
    let uid = u32_at(b, 52 + 12)?;
    let inode = u32_at(b, 52 + 16)?;
    Some(InetRow {
        local: (src, sport),
        remote: (dst, dport),
        state,
        uid,
        inode: u64::from(inode),
    })
}

/// Dump the sockets of `family`/`protocol` in the `states` bit set, in the caller's network
/// namespace.
pub(crate) fn dump(
    family: u8,
    protocol: u8,
    states: u32,
    each: &mut dyn FnMut(InetRow),
) -> Result<()> {
    let err = |op: &'static str, e: rustix::io::Errno| {
        SysprimsError::from_errno(op, Subject::None, e.raw_os_error())
    };
    let fd = socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(netlink::SOCK_DIAG),
    )
    .map_err(|e| err("socket(NETLINK_SOCK_DIAG)", e))?;
    let request = build_request(family, protocol, states, 1);
    sendto(
        &fd,
        &request,
        SendFlags::empty(),
        &netlink::SocketAddrNetlink::new(0, 0),
    )
    .map_err(|e| err("send sock_diag request", e))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (n, _) = match recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok(r) => r,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(err("receive sock_diag dump", e)),
        };
        if n == 0 {
            return Ok(());
        }
        match parse_dump(&buf[..n], &mut *each) {
            Parsed::More => {}
            Parsed::Done => return Ok(()),
            // A protocol the kernel has no diag module for (udp_diag not loaded): nothing.
            Parsed::Error(e) if e == libc::ENOENT => return Ok(()),
            Parsed::Error(e) => {
                return Err(SysprimsError::from_errno(
                    "sock_diag dump",
                    Subject::None,
                    e,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + body.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[2, 0]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(body);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn diag_msg(
        family: u8,
        state: u8,
        sport: [u8; 2],
        src: &[u8],
        uid: u32,
        inode: u32,
    ) -> Vec<u8> {
        let mut b = vec![family, state, 0, 0];
        let mut id = [0u8; 48];
        id[0..2].copy_from_slice(&sport);
        id[4..4 + src.len()].copy_from_slice(src);
        b.extend_from_slice(&id);
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&uid.to_ne_bytes());
        b.extend_from_slice(&inode.to_ne_bytes());
        b.extend_from_slice(&[1, 2, 3, 4, 5]); // attributes, unaligned length
        b
    }

    #[test]
    fn request_layout() {
        let r = build_request(AF_INET6, IPPROTO_TCP, 1 << 10, 7);
        assert_eq!(r.len(), 72);
        assert_eq!(u32_at(&r, 0), Some(72));
        assert_eq!(u16_at(&r, 4), Some(SOCK_DIAG_BY_FAMILY));
        assert_eq!(u16_at(&r, 6), Some(0x301));
        assert_eq!(u32_at(&r, 8), Some(7));
        assert_eq!(&r[16..20], &[AF_INET6, IPPROTO_TCP, 0, 0]);
        assert_eq!(u32_at(&r, 20), Some(1 << 10));
    }

    #[test]
    fn dump_messages_with_network_order_ports() {
        let mut buf = message(
            SOCK_DIAG_BY_FAMILY,
            // port 0x9C41 = 40001, in network order: 0x9C first.
            &diag_msg(AF_INET, 10, [0x9C, 0x41], &[127, 0, 0, 1], 1000, 555),
        );
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        buf.extend(message(
            SOCK_DIAG_BY_FAMILY,
            &diag_msg(AF_INET6, 7, [0x1F, 0x90], &v6, 0, 556),
        ));
        let mut rows = Vec::new();
        assert_eq!(parse_dump(&buf, |r| rows.push(r)), Parsed::More);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local, ("127.0.0.1".parse().unwrap(), 40001));
        assert_eq!(rows[0].uid, 1000);
        assert_eq!(rows[0].inode, 555);
        assert_eq!(rows[0].state, 10);
        assert_eq!(rows[1].local, ("::1".parse().unwrap(), 8080));

        buf.extend(message(NLMSG_DONE, &[0; 4]));
        assert_eq!(parse_dump(&buf, |_| {}), Parsed::Done);
        let err = message(NLMSG_ERROR, &(-libc::EPERM).to_ne_bytes());
        assert_eq!(parse_dump(&err, |_| {}), Parsed::Error(libc::EPERM));
        // A length beyond the buffer is an error, not a panic.
        let mut bad = message(SOCK_DIAG_BY_FAMILY, &[0; 8]);
        bad[0] = 200;
        assert_eq!(parse_dump(&bad, |_| {}), Parsed::Error(libc::EBADMSG));
        assert_eq!(parse_dump(&[1, 2, 3], |_| {}), Parsed::More);
    }

    #[test]
    fn error_message_with_an_errno_that_cannot_be_negated() {
        // Regression (fuzz/corpus/sock_diag/nlmsg-error-i32-min): an `error` of
        // i32::MIN overflowed the negation (a panic with overflow checks).
        let err = message(NLMSG_ERROR, &i32::MIN.to_ne_bytes());
        assert_eq!(parse_dump(&err, |_| {}), Parsed::Error(libc::EBADMSG));
        // A positive `error` is no errno either.
        let err = message(NLMSG_ERROR, &5i32.to_ne_bytes());
        assert_eq!(parse_dump(&err, |_| {}), Parsed::Error(libc::EBADMSG));
    }
}
