//! Open file descriptors of a process: [`list_fds`].
//!
//! On Linux each fd is one `readlink` of `/proc/<pid>/fd/N`, one read of
//! `/proc/<pid>/fdinfo/N` (offset, flags, inode) and, for paths only, one `stat` to tell files
//! from directories and devices. Sockets are resolved against the process's own network
//! namespace's tables (`/proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}`), read once per call and only
//! when the process has sockets.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SysprimsError};
use crate::pid::IntoPid;
use crate::sys::fds as sys;

/// The `schema_id` of an [`FdSnapshot`].
pub const FD_SNAPSHOT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/fd-snapshot/v1.json";

/// What an fd refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FdKind {
    /// A regular file (including `memfd`s and deleted files).
    File,
    /// A directory.
    Directory,
    /// A socket of any family.
    Socket,
    /// A pipe or FIFO.
    Pipe,
    /// An anonymous inode: eventfd, epoll, signalfd, timerfd, inotify, pidfd, ...
    AnonInode,
    /// A character device (`/dev/null`, a terminal).
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else (a namespace fd, ...).
    Unknown,
}

impl FdKind {
    /// Every kind, in the order of the enum.
    pub const ALL: [FdKind; 8] = [
        FdKind::File,
        FdKind::Directory,
        FdKind::Socket,
        FdKind::Pipe,
        FdKind::AnonInode,
        FdKind::CharDevice,
        FdKind::BlockDevice,
        FdKind::Unknown,
    ];

    /// The name used in JSON and on the command line (`"char_device"`).
    pub fn name(self) -> &'static str {
        match self {
            FdKind::File => "file",
            FdKind::Directory => "directory",
            FdKind::Socket => "socket",
            FdKind::Pipe => "pipe",
            FdKind::AnonInode => "anon_inode",
            FdKind::CharDevice => "char_device",
            FdKind::BlockDevice => "block_device",
            FdKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for FdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FdKind {
    type Err = SysprimsError;

    /// The JSON name, or a short alias: `dir`, `char`, `chr`, `block`, `blk`, `anon`, `fifo`.
    ///
    /// ```
    /// use sysprims::FdKind;
    /// assert_eq!("socket".parse::<FdKind>().unwrap(), FdKind::Socket);
    /// assert_eq!("dir".parse::<FdKind>().unwrap(), FdKind::Directory);
    /// assert!("sockets".parse::<FdKind>().unwrap_err().to_string().contains("sockets"));
    /// ```
    fn from_str(text: &str) -> Result<FdKind> {
        let t = text.trim().to_ascii_lowercase();
        let alias = match t.as_str() {
            "dir" => Some(FdKind::Directory),
            "char" | "chr" => Some(FdKind::CharDevice),
            "block" | "blk" => Some(FdKind::BlockDevice),
            "anon" => Some(FdKind::AnonInode),
            "fifo" => Some(FdKind::Pipe),
            _ => None,
        };
        alias
            .or_else(|| FdKind::ALL.into_iter().find(|k| k.name() == t))
            .ok_or_else(|| {
                SysprimsError::invalid(
                    "fd kind",
                    text,
                    "expected file, directory, socket, pipe, anon_inode, char_device, \
                     block_device or unknown",
                )
            })
    }
}

/// How an fd was opened: `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    /// `O_RDONLY`.
    Read,
    /// `O_WRONLY`.
    Write,
    /// `O_RDWR`.
    ReadWrite,
}

/// The address family of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketFamily {
    /// `AF_INET`.
    Ipv4,
    /// `AF_INET6`.
    Ipv6,
    /// `AF_UNIX`.
    Unix,
}

/// The protocol of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// A Unix stream socket.
    UnixStream,
    /// A Unix datagram socket.
    UnixDgram,
    /// A Unix seqpacket socket.
    UnixSeqpacket,
}

/// The state of a socket. TCP sockets have the TCP states; UDP sockets are `unconnected` (what
/// `ss` calls `UNCONN`) or `established` (connected); Unix sockets `listen`, `unconnected`,
/// `connecting`, `connected` or `disconnecting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum SocketState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    Unconnected,
    Connecting,
    Connected,
    Disconnecting,
    Unknown,
}

// The constructors from kernel numbers serve the Linux backend only.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl SocketState {
    /// The state of a TCP socket from the kernel's `TCP_*` number.
    pub(crate) fn from_tcp(n: u8) -> SocketState {
        match n {
            1 => SocketState::Established,
            2 => SocketState::SynSent,
            3 => SocketState::SynRecv,
            4 => SocketState::FinWait1,
            5 => SocketState::FinWait2,
            6 => SocketState::TimeWait,
            7 => SocketState::Close,
            8 => SocketState::CloseWait,
            9 => SocketState::LastAck,
            10 => SocketState::Listen,
            11 => SocketState::Closing,
            12 => SocketState::NewSynRecv,
            _ => SocketState::Unknown,
        }
    }

    /// The state of a UDP socket (which reuses `TCP_ESTABLISHED` and `TCP_CLOSE`).
    pub(crate) fn from_udp(n: u8) -> SocketState {
        match n {
            1 => SocketState::Established,
            7 => SocketState::Unconnected,
            _ => SocketState::Unknown,
        }
    }

    /// The name used in JSON (`"syn_sent"`).
    pub fn name(self) -> &'static str {
        match self {
            SocketState::Established => "established",
            SocketState::SynSent => "syn_sent",
            SocketState::SynRecv => "syn_recv",
            SocketState::FinWait1 => "fin_wait1",
            SocketState::FinWait2 => "fin_wait2",
            SocketState::TimeWait => "time_wait",
            SocketState::Close => "close",
            SocketState::CloseWait => "close_wait",
            SocketState::LastAck => "last_ack",
            SocketState::Listen => "listen",
            SocketState::Closing => "closing",
            SocketState::NewSynRecv => "new_syn_recv",
            SocketState::Unconnected => "unconnected",
            SocketState::Connecting => "connecting",
            SocketState::Connected => "connected",
            SocketState::Disconnecting => "disconnecting",
            SocketState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for SocketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the kernel's socket tables say about a socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SocketInfo {
    /// The address family.
    pub family: SocketFamily,
    /// The protocol.
    pub protocol: SocketProtocol,
    /// The local address: an IP address (`"127.0.0.1"`, `"::1"`), or for a Unix socket its
    /// path (`@name` in the abstract namespace). `None` for an unbound Unix socket.
    pub local_address: Option<String>,
    /// The local port (IP sockets).
    pub local_port: Option<u16>,
    /// The peer's address (IP sockets).
    pub remote_address: Option<String>,
    /// The peer's port (IP sockets; 0 when not connected).
    pub remote_port: Option<u16>,
    /// The state.
    pub state: SocketState,
}

/// One open file descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FdInfo {
    /// The fd number.
    pub fd: u32,
    /// What it refers to.
    pub kind: FdKind,
    /// The link text as the kernel gives it (`/etc/hosts`, `socket:[123]`,
    /// `anon_inode:[eventfd]`), control characters and all; not UTF-8 bytes become U+FFFD.
    pub target: String,
    /// The path, for files, directories and devices (with the kernel's ` (deleted)` suffix when
    /// the file was deleted).
    pub path: Option<String>,
    /// For an anonymous inode, its type: `eventfd`, `eventpoll`, `signalfd`, `timerfd`,
    /// `inotify`, `pidfd`, ...
    pub anon_type: Option<String>,
    /// The inode number, where known.
    pub inode: Option<u64>,
    /// How it was opened, from `fdinfo`.
    pub access: Option<AccessMode>,
    /// The open flags from `fdinfo` (`O_*` bits, as a number).
    pub flags: Option<u32>,
    /// Whether the fd is closed on `exec` (`O_CLOEXEC`).
    pub cloexec: Option<bool>,
    /// The file offset, from `fdinfo`.
    pub offset: Option<u64>,
    /// For a socket found in the process's network namespace's TCP, UDP or Unix tables: what
    /// those say. `None` for other sockets (netlink, packet, ...).
    pub socket: Option<SocketInfo>,
}

/// Selects fds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FdFilter {
    /// Only fds of these kinds (`None`: all).
    pub kinds: Option<Vec<FdKind>>,
}

impl FdFilter {
    /// Only fds of this kind.
    pub fn kind(kind: FdKind) -> FdFilter {
        FdFilter {
            kinds: Some(vec![kind]),
        }
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn matches(&self, kind: FdKind) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }
}

/// The open fds of one process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FdSnapshot {
    /// Always [`FD_SNAPSHOT_SCHEMA_ID`].
    pub schema_id: String,
    /// The process.
    pub pid: u32,
    /// The fds that pass the filter, by number.
    pub fds: Vec<FdInfo>,
}

/// The open file descriptors of process `pid` that pass `filter`, by number.
///
/// An fd that is closed while the listing is read is left out.
///
/// ```
/// use sysprims::{FdFilter, FdKind, list_fds};
///
/// let file = std::fs::File::open("/proc/self/stat")?;
/// let snap = list_fds(std::process::id(), &FdFilter::kind(FdKind::File))?;
/// assert!(snap.fds.iter().any(|f| f.path.as_deref().is_some_and(|p| p.ends_with("/stat"))));
/// # drop(file);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID;
/// [`NotFound`](crate::ErrorCode::NotFound) when the process does not exist;
/// [`PermissionDenied`](crate::ErrorCode::PermissionDenied), naming the PID, when the caller
/// may not read its fds (another user's process, without root).
pub fn list_fds(pid: impl IntoPid, filter: &FdFilter) -> Result<FdSnapshot> {
    let pid = pid.into_pid()?;
    let fds = sys::list_fds(pid, filter)?;
    Ok(FdSnapshot {
        schema_id: FD_SNAPSHOT_SCHEMA_ID.to_string(),
        pid: pid.get(),
        fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_name_and_alias() {
        for kind in FdKind::ALL {
            assert_eq!(kind.name().parse::<FdKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.name().into())
            );
        }
        assert_eq!(" Char ".parse::<FdKind>().unwrap(), FdKind::CharDevice);
        let err = "bad".parse::<FdKind>().unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
        assert!(err.to_string().contains("\"bad\""), "{err}");
    }

    #[test]
    fn invalid_pids_are_refused_first() {
        for pid in [0i64, -1, 2_147_483_648] {
            let err = list_fds(pid, &FdFilter::default()).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidArgument, "{pid}");
            assert!(err.to_string().contains(&pid.to_string()), "{err}");
        }
    }
}
