//! Listening TCP and UDP sockets and the processes that hold them: [`listening_ports`], with
//! the reverse lookups [`port_owners`] (who holds port P) and [`ports_of`] (what PID N holds).
//!
//! On Linux the sockets come from `NETLINK_SOCK_DIAG` (the kernel filters by state, as for
//! `ss -l`), falling back to `/proc/net/{tcp,tcp6,udp,udp6}` where netlink is unavailable; the
//! holders come from one pass over every process's `/proc/<pid>/fd` directory, each read once
//! per call. Both are in the caller's network namespace.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SysprimsError};
use crate::fds::{SocketFamily, SocketState};
use crate::pid::{IntoPid, Pid};
use crate::sys::ports as sys;

/// The `schema_id` of [`PortBindings`].
pub const PORT_BINDINGS_SCHEMA_ID: &str = "https://sysprims.dev/schemas/port-bindings/v1.json";

/// A transport protocol.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP: listening sockets.
    Tcp,
    /// UDP: bound, unconnected sockets (what `ss -lu` shows).
    Udp,
}

impl Protocol {
    /// `"tcp"` or `"udp"`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = SysprimsError;

    fn from_str(text: &str) -> Result<Protocol> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            _ => Err(SysprimsError::invalid(
                "protocol",
                text,
                "expected tcp or udp",
            )),
        }
    }
}

/// A process that holds a socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortProcess {
    /// Its PID.
    pub pid: u32,
    /// Its name (`comm`, at most 15 bytes).
    pub name: String,
    /// Its effective UID.
    pub uid: u32,
    /// The user name of `uid`, when the user database has one.
    pub user: Option<String>,
    /// The fd numbers by which it holds the socket.
    pub fds: Vec<u32>,
}

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortBinding {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// IPv4 or IPv6 (an IPv6 socket may also accept IPv4 unless it is `IPV6_V6ONLY`).
    pub family: SocketFamily,
    /// The local address: `"0.0.0.0"`, `"127.0.0.1"`, `"::"`, `"::1"`, ...
    pub local_address: String,
    /// The local port, in host order (`8080` is `8080`).
    pub local_port: u16,
    /// `listen` for TCP, `unconnected` for UDP.
    pub state: SocketState,
    /// The socket's inode (what `/proc/<pid>/fd/N` shows as `socket:[INODE]`).
    pub inode: u64,
    /// The UID that created the socket.
    pub uid: u32,
    /// Every process that holds the socket (several after a `fork`), by PID. Empty when none
    /// could be seen: held by processes the caller may not inspect (see
    /// [`PortBindings::unreadable_pids`]), or only by the kernel.
    pub processes: Vec<PortProcess>,
}

/// Which listening sockets to report. Every criterion that is set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PortFilter {
    /// Only this protocol (`None`: TCP and UDP).
    pub protocol: Option<Protocol>,
    /// Only this local port (1–65535).
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// Only sockets this process holds. Their `processes` still lists every holder.
    pub pid: Option<Pid>,
}

impl PortFilter {
    /// Check every value, as [`listening_ports`] does before reading anything.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for port 0, which no socket
    /// listens on (binding to 0 picks an ephemeral port).
    pub fn validate(&self) -> Result<()> {
        if self.port == Some(0) {
            return Err(SysprimsError::invalid(
                "port",
                "0",
                "ports are 1 to 65535 (binding to port 0 picks an ephemeral port)",
            ));
        }
        Ok(())
    }

    fn wants(&self, p: Protocol) -> bool {
        self.protocol.is_none_or(|q| q == p)
    }
}

/// The listening sockets of the caller's network namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortBindings {
    /// Always [`PORT_BINDINGS_SCHEMA_ID`].
    pub schema_id: String,
    /// The sockets, by protocol, port, family and address.
    pub bindings: Vec<PortBinding>,
    /// Processes whose fds the caller may not read (other users' processes, without root):
    /// sockets they hold may show fewer holders than they have, or none.
    pub unreadable_pids: Vec<u32>,
    /// What the caller should know about the result (e.g. holders that could not be seen).
    pub warnings: Vec<String>,
}

/// The listening TCP and UDP sockets (IPv4 and IPv6) that pass `filter`, each with every
/// process that holds it. An empty result is an empty list.
///
/// ```
/// use sysprims::{PortFilter, Protocol, listening_ports};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// let found = listening_ports(&PortFilter { protocol: Some(Protocol::Tcp), port: Some(port), ..Default::default() })?;
/// assert_eq!(found.bindings.len(), 1);
/// assert_eq!(found.bindings[0].local_port, port);
/// assert!(found.bindings[0].processes.iter().any(|p| p.pid == std::process::id()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for port 0. With a `pid`:
/// [`NotFound`](crate::ErrorCode::NotFound) when it does not exist,
/// [`PermissionDenied`](crate::ErrorCode::PermissionDenied) naming it when its fds cannot be
/// read. Without one, processes that cannot be read are listed in `unreadable_pids`, not
/// errors.
pub fn listening_ports(filter: &PortFilter) -> Result<PortBindings> {
    filter.validate()?;
    let mut bindings =
        sys::listening_sockets(filter.wants(Protocol::Tcp), filter.wants(Protocol::Udp))?;
    if let Some(port) = filter.port {
        bindings.retain(|b| b.local_port == port);
    }
    // With a PID, read its fds first (which also reports a missing or unreadable process as
    // such), keep what it holds, and only then look for the other holders of those sockets
    // among the other processes.
    if let Some(pid) = filter.pid {
        sys::find_holders_in(pid, &mut bindings)?;
        bindings.retain(|b| !b.processes.is_empty());
    }
    let unreadable_pids = if bindings.is_empty() {
        Vec::new()
    } else {
        sys::find_holders(&mut bindings, filter.pid)?
    };
    let mut warnings = Vec::new();
    let orphans = bindings.iter().filter(|b| b.processes.is_empty()).count();
    if !unreadable_pids.is_empty() {
        warnings.push(format!(
            "the fds of {} processes could not be read (permission denied): {} sockets show no \
             holder and others may miss some; run as root to see them all",
            unreadable_pids.len(),
            orphans
        ));
    }
    bindings.sort_by(|a, b| {
        (
            a.protocol,
            a.local_port,
            family_rank(a.family),
            &a.local_address,
        )
            .cmp(&(
                b.protocol,
                b.local_port,
                family_rank(b.family),
                &b.local_address,
            ))
    });
    Ok(PortBindings {
        schema_id: PORT_BINDINGS_SCHEMA_ID.to_string(),
        bindings,
        unreadable_pids,
        warnings,
    })
}

fn family_rank(f: SocketFamily) -> u8 {
    match f {
        SocketFamily::Ipv4 => 0,
        SocketFamily::Ipv6 => 1,
        SocketFamily::Unix => 2,
    }
}

/// Which processes hold a listening socket on `port` (TCP and UDP, or only `protocol`), each
/// once, by PID.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for port 0.
pub fn port_owners(port: u16, protocol: Option<Protocol>) -> Result<Vec<PortProcess>> {
    let found = listening_ports(&PortFilter {
        protocol,
        port: Some(port),
        pid: None,
    })?;
    let mut owners: Vec<PortProcess> = Vec::new();
    for p in found.bindings.into_iter().flat_map(|b| b.processes) {
        match owners.iter_mut().find(|o| o.pid == p.pid) {
            Some(o) => {
                o.fds.extend(p.fds);
                o.fds.sort_unstable();
                o.fds.dedup();
            }
            None => owners.push(p),
        }
    }
    owners.sort_by_key(|o| o.pid);
    Ok(owners)
}

/// The listening sockets that process `pid` holds.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID,
/// [`NotFound`](crate::ErrorCode::NotFound) when it does not exist,
/// [`PermissionDenied`](crate::ErrorCode::PermissionDenied) when its fds cannot be read.
pub fn ports_of(pid: impl IntoPid) -> Result<PortBindings> {
    listening_ports(&PortFilter {
        pid: Some(pid.into_pid()?),
        ..Default::default()
    })
}

/// Internals exposed for the benchmark only: not part of the API.
#[doc(hidden)]
pub mod bench_support {
    /// Count the listening sockets through `NETLINK_SOCK_DIAG` (`netlink`) or
    /// `/proc/net/*` (`procfs`), without looking for holders.
    pub fn count_listening_via(netlink: bool) -> crate::Result<usize> {
        crate::sys::ports::listening_sockets_via(netlink, true, true).map(|b| b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn bad_filters_are_refused() {
        let err = listening_ports(&PortFilter {
            port: Some(0),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.to_string().contains("\"0\""), "{err}");
        assert_eq!(
            ports_of(0u32).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        assert!(
            "sctp"
                .parse::<Protocol>()
                .unwrap_err()
                .to_string()
                .contains("sctp")
        );
        assert!(serde_json::from_str::<PortFilter>(r#"{"port": 70000}"#).is_err());
        assert!(serde_json::from_str::<PortFilter>(r#"{"ports": 1}"#).is_err());
    }
}
