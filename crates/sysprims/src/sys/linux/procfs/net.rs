//! Pure parsers for what describes open files and sockets: the targets of `/proc/<pid>/fd/N`
//! links, `/proc/<pid>/fdinfo/N`, and the socket tables `/proc/net/{tcp,tcp6,udp,udp6,unix}`.
//! No I/O here; each function takes bytes and is tested on captured fixtures below.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::parse::parse_u64;

/// What the target of an fd link says, before any `stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkTarget<'a> {
    /// `socket:[INODE]`.
    Socket(u64),
    /// `pipe:[INODE]`.
    Pipe(u64),
    /// `anon_inode:[eventfd]`, `anon_inode:inotify`, `pidfd:[...]`: the subtype, without
    /// brackets.
    AnonInode(&'a [u8]),
    /// An absolute path (possibly with the kernel's ` (deleted)` suffix, or `/memfd:...`).
    Path(&'a [u8]),
    /// Anything else (`net:[4026531840]` of a namespace fd, ...).
    Other,
}

/// Classify the text of an fd link.
pub(crate) fn parse_link_target(target: &[u8]) -> LinkTarget<'_> {
    if target.first() == Some(&b'/') {
        return LinkTarget::Path(target);
    }
    if let Some(inode) = bracketed_number(target, b"socket:[") {
        return LinkTarget::Socket(inode);
    }
    if let Some(inode) = bracketed_number(target, b"pipe:[") {
        return LinkTarget::Pipe(inode);
    }
    if let Some(rest) = target.strip_prefix(b"anon_inode:") {
        let rest = rest.strip_prefix(b"[").unwrap_or(rest);
        let rest = rest.strip_suffix(b"]").unwrap_or(rest);
        return LinkTarget::AnonInode(rest);
    }
    // pidfs (Linux 6.9+) names a pidfd's link `pidfd:[...]` on some kernels.
    if target.starts_with(b"pidfd:") {
        return LinkTarget::AnonInode(b"pidfd");
    }
    LinkTarget::Other
}

fn bracketed_number(text: &[u8], prefix: &[u8]) -> Option<u64> {
    parse_u64(text.strip_prefix(prefix)?.strip_suffix(b"]")?)
}

/// The fields of `/proc/<pid>/fdinfo/N` that sysprims reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FdInfoFields {
    /// `pos:` the file offset.
    pub pos: Option<u64>,
    /// `flags:` the open flags (written in octal).
    pub flags: Option<u32>,
    /// `ino:` the inode (Linux 5.14+).
    pub ino: Option<u64>,
}

/// Parse `/proc/<pid>/fdinfo/N`. Unknown lines (`mnt_id`, `eventfd-count`, epoll items) are
/// ignored; a missing field is `None`.
pub(crate) fn parse_fdinfo(bytes: &[u8]) -> FdInfoFields {
    let mut out = FdInfoFields::default();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        match &line[..colon] {
            b"pos" => out.pos = parse_u64(value),
            b"flags" => {
                out.flags = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| u32::from_str_radix(v, 8).ok())
            }
            b"ino" => out.ino = parse_u64(value),
            _ => {}
        }
    }
    out
}

/// One row of `/proc/net/{tcp,tcp6,udp,udp6}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InetRow {
    pub local: (std::net::IpAddr, u16),
    pub remote: (std::net::IpAddr, u16),
    /// The kernel's `TCP_*` state number (UDP reuses them: 7 unconnected, 1 connected).
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
}

/// Parse the rows of a `/proc/net/{tcp,tcp6,udp,udp6}` file (the header line is skipped;
/// malformed rows are skipped).
///
/// Addresses are written as the hex of each 32-bit word *as the CPU holds it* (`%08X` of a
/// `__be32`), so their bytes are recovered with the native byte order; ports are already
/// converted to host order by the kernel (`ntohs`) and are plain hex.
pub(crate) fn parse_inet_table(bytes: &[u8], mut each: impl FnMut(InetRow)) {
    for line in bytes.split(|&b| b == b'\n').skip(1) {
        if let Some(row) = parse_inet_row(line) {
            each(row);
        }
    }
}

fn parse_inet_row(line: &[u8]) -> Option<InetRow> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let _slot = fields.next()?;
    let local = parse_endpoint(fields.next()?)?;
    let remote = parse_endpoint(fields.next()?)?;
    let state = u8::from_str_radix(std::str::from_utf8(fields.next()?).ok()?, 16).ok()?;
    let _queues = fields.next()?;
    let _timer = fields.next()?;
    let _retransmits = fields.next()?;
    let uid = u32::try_from(parse_u64(fields.next()?)?).ok()?;
    let _timeout = fields.next()?;
    let inode = parse_u64(fields.next()?)?;
    Some(InetRow {
        local,
        remote,
        state,
        uid,
        inode,
    })
}

fn parse_endpoint(field: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let colon = field.iter().position(|&b| b == b':')?;
    let (addr, port) = (&field[..colon], &field[colon + 1..]);
    let port = u16::from_str_radix(std::str::from_utf8(port).ok()?, 16).ok()?;
    let word = |hex: &[u8]| -> Option<[u8; 4]> {
        let v = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        Some(v.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => std::net::IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in addr.chunks(8).enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(chunk)?);
            }
            std::net::IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// One row of `/proc/net/unix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnixRow<'a> {
    /// `SOCK_STREAM` 1, `SOCK_DGRAM` 2, `SOCK_SEQPACKET` 5.
    pub socket_type: u16,
    /// `SS_UNCONNECTED` 1, `SS_CONNECTING` 2, `SS_CONNECTED` 3, `SS_DISCONNECTING` 4.
    pub state: u8,
    /// Whether the socket listens (`__SO_ACCEPTCON` in the flags).
    pub listening: bool,
    pub inode: u64,
    /// The bound path (`@name` for the abstract namespace), if any.
    pub path: Option<&'a [u8]>,
}

const SO_ACCEPTCON: u32 = 1 << 16;

/// Parse the rows of `/proc/net/unix`.
pub(crate) fn parse_unix_table<'a>(bytes: &'a [u8], mut each: impl FnMut(UnixRow<'a>)) {
    for line in bytes.split(|&b| b == b'\n').skip(1) {
        if let Some(row) = parse_unix_row(line) {
            each(row);
        }
    }
}

fn parse_unix_row(line: &[u8]) -> Option<UnixRow<'_>> {
    // "Num: RefCount Protocol Flags Type St Inode [Path]"; the path may hold spaces, so it is
    // everything after the seventh field.
    let mut rest = line;
    let mut field = || -> Option<&[u8]> {
        let start = rest.iter().position(|&b| b != b' ')?;
        rest = &rest[start..];
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let (f, r) = rest.split_at(end);
        rest = r;
        Some(f)
    };
    let _num = field()?;
    let _refcount = field()?;
    let _protocol = field()?;
    let flags = u32::from_str_radix(std::str::from_utf8(field()?).ok()?, 16).ok()?;
    let socket_type = u16::from_str_radix(std::str::from_utf8(field()?).ok()?, 16).ok()?;
    let state = u8::from_str_radix(std::str::from_utf8(field()?).ok()?, 16).ok()?;
    let inode = parse_u64(field()?)?;
    let path = rest.strip_prefix(b" ").filter(|p| !p.is_empty());
    Some(UnixRow {
        socket_type,
        state,
        listening: flags & SO_ACCEPTCON != 0,
        inode,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn link_targets() {
        assert_eq!(
            parse_link_target(b"socket:[1565258]"),
            LinkTarget::Socket(1565258)
        );
        assert_eq!(parse_link_target(b"pipe:[42]"), LinkTarget::Pipe(42));
        assert_eq!(
            parse_link_target(b"anon_inode:[eventfd]"),
            LinkTarget::AnonInode(b"eventfd")
        );
        assert_eq!(
            parse_link_target(b"anon_inode:inotify"),
            LinkTarget::AnonInode(b"inotify")
        );
        assert_eq!(
            parse_link_target(b"anon_inode:[pidfd]"),
            LinkTarget::AnonInode(b"pidfd")
        );
        assert_eq!(
            parse_link_target(b"pidfd:[1234]"),
            LinkTarget::AnonInode(b"pidfd")
        );
        assert_eq!(
            parse_link_target(b"/tmp/a b (deleted)"),
            LinkTarget::Path(b"/tmp/a b (deleted)")
        );
        assert_eq!(parse_link_target(b"net:[4026531840]"), LinkTarget::Other);
        assert_eq!(parse_link_target(b"socket:[x]"), LinkTarget::Other);
        assert_eq!(parse_link_target(b"socket:[12"), LinkTarget::Other);
        assert_eq!(parse_link_target(b""), LinkTarget::Other);
    }

    #[test]
    fn fdinfo_fields() {
        let f = parse_fdinfo(b"pos:\t1234\nflags:\t02100002\nmnt_id:\t24\nino:\t3\n");
        assert_eq!(f.pos, Some(1234));
        assert_eq!(f.flags, Some(0o2100002));
        assert_eq!(f.ino, Some(3));
        let f = parse_fdinfo(b"pos:\t0\nflags:\t02\nmnt_id:\t15\neventfd-count:  0\n");
        assert_eq!(f.ino, None);
        assert_eq!(f.flags, Some(2));
        assert_eq!(parse_fdinfo(b""), FdInfoFields::default());
        assert_eq!(parse_fdinfo(b"flags:\t9\n").flags, None, "not octal");
    }

    const TCP: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1065 1 00000000b2e904c6 100 0 0 10 0
   1: 0100007F:9C41 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2077 1 0000000000000000 20 4 30 10 -1
garbage line
";

    #[test]
    #[cfg(target_endian = "little")]
    fn tcp4_rows() {
        let mut rows = Vec::new();
        parse_inet_table(TCP, |r| rows.push(r));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].local,
            ("127.0.0.1".parse::<IpAddr>().unwrap(), 8080)
        );
        assert_eq!(rows[0].remote, ("0.0.0.0".parse::<IpAddr>().unwrap(), 0));
        assert_eq!(rows[0].state, 0x0A);
        assert_eq!(rows[0].uid, 1000);
        assert_eq!(rows[0].inode, 1065);
        // 0x9C41 = 40001: the two bytes differ, so a byte swap would show 16796.
        assert_eq!(rows[1].local.1, 40001);
        assert_eq!(rows[1].remote.1, 8080);
        assert_eq!(rows[1].state, 1);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn tcp6_rows() {
        let text = b"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3003 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3004 2 0000000000000000 0
   2: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3005 2 0000000000000000 0
";
        let mut rows = Vec::new();
        parse_inet_table(text, |r| rows.push(r));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].local, ("::1".parse::<IpAddr>().unwrap(), 8081));
        assert_eq!(
            rows[1].local.0,
            "::ffff:127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(rows[2].local.0, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(rows[2].inode, 3005);
    }

    #[test]
    fn unix_rows() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path
000000002384df2b: 00000003 00000000 00000000 0001 03  1061
00000000f2eebbc3: 00000002 00000000 00010000 0001 01 1564916 /run/a socket
00000000f2eebbc4: 00000002 00000000 00000000 0002 01 1564917 @abstract
";
        let mut rows = Vec::new();
        parse_unix_table(text, |r| rows.push(r));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].inode, 1061);
        assert_eq!(rows[0].state, 3);
        assert_eq!(rows[0].path, None);
        assert!(!rows[0].listening);
        assert!(rows[1].listening);
        assert_eq!(rows[1].path, Some(&b"/run/a socket"[..]));
        assert_eq!(rows[2].socket_type, 2);
        assert_eq!(rows[2].path, Some(&b"@abstract"[..]));
    }
}
