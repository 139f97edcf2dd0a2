//! `listening_ports` on real sockets bound to ephemeral ports by processes the tests start.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Group, have, require};
use serde_json::Value;
use sysprims::{
    ErrorCode, PortFilter, Protocol, SocketFamily, SocketState, listening_ports, port_owners,
    ports_of,
};

/// Python: bind `sock` to port 0 until the kernel picks a port whose two bytes differ, so a
/// byte-order mistake cannot go unnoticed.
const BIND: &str = r#"
import json, os, socket, sys
def bound(family, kind, host):
    while True:
        s = socket.socket(family, kind)
        s.bind((host, 0))
        p = s.getsockname()[1]
        if (p >> 8) != (p & 0xff):
            return s
"#;

fn have_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

fn python(script: &str) -> Option<(Group, Value)> {
    if !require("python3", have("python3")) {
        return None;
    }
    let mut child = Group::spawn(&["python3", "-c", &format!("{BIND}{script}")]);
    let info: Value = serde_json::from_str(&child.read_line()).expect("JSON line");
    Some((child, info))
}

fn port(v: &Value, key: &str) -> u16 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}")) as u16
}

#[test]
fn tcp4_tcp6_and_udp_listeners_are_found_with_their_owner() {
    let v6 = have_ipv6();
    let Some((child, info)) = python(&format!(
        r#"
t4 = bound(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"); t4.listen()
u4 = bound(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1")
out = {{"t4": t4.getsockname()[1], "u4": u4.getsockname()[1], "uid": os.geteuid()}}
if {v6}:
    t6 = bound(socket.AF_INET6, socket.SOCK_STREAM, "::1"); t6.listen()
    out["t6"] = t6.getsockname()[1]
print(json.dumps(out), flush=True)
sys.stdin.read()
"#,
        v6 = if v6 { "True" } else { "False" }
    )) else {
        return;
    };
    let uid = info["uid"].as_u64().unwrap() as u32;
    let mut cases = vec![
        (
            "t4",
            Protocol::Tcp,
            SocketFamily::Ipv4,
            "127.0.0.1",
            SocketState::Listen,
        ),
        (
            "u4",
            Protocol::Udp,
            SocketFamily::Ipv4,
            "127.0.0.1",
            SocketState::Unconnected,
        ),
    ];
    if v6 {
        cases.push((
            "t6",
            Protocol::Tcp,
            SocketFamily::Ipv6,
            "::1",
            SocketState::Listen,
        ));
    } else {
        require("IPv6 loopback", false);
    }
    for (key, protocol, family, address, state) in cases {
        let p = port(&info, key);
        let found = listening_ports(&PortFilter {
            protocol: Some(protocol),
            port: Some(p),
            pid: None,
        })
        .unwrap();
        assert_eq!(found.bindings.len(), 1, "{key}: {:#?}", found.bindings);
        let b = &found.bindings[0];
        assert_eq!(
            (
                b.protocol,
                b.family,
                b.local_address.as_str(),
                b.local_port,
                b.state
            ),
            (protocol, family, address, p, state),
            "{key}"
        );
        assert_eq!(b.uid, uid);
        assert!(b.inode > 0);
        assert_eq!(b.processes.len(), 1, "{key}: {:?}", b.processes);
        let holder = &b.processes[0];
        assert_eq!(holder.pid, child.pid);
        assert!(holder.name.starts_with("python"), "{}", holder.name);
        assert_eq!(holder.uid, uid);
        assert_eq!(holder.fds.len(), 1);

        let owners = port_owners(p, Some(protocol)).unwrap();
        assert_eq!(
            owners.iter().map(|o| o.pid).collect::<Vec<_>>(),
            vec![child.pid]
        );
    }

    // The reverse lookup: what the child holds, and nothing else.
    let held = ports_of(child.pid).unwrap();
    let mut got: Vec<(Protocol, u16)> = held
        .bindings
        .iter()
        .map(|b| (b.protocol, b.local_port))
        .collect();
    got.sort();
    let mut want = vec![
        (Protocol::Tcp, port(&info, "t4")),
        (Protocol::Udp, port(&info, "u4")),
    ];
    if v6 {
        want.push((Protocol::Tcp, port(&info, "t6")));
    }
    want.sort();
    assert_eq!(got, want);
    assert!(
        held.bindings
            .iter()
            .all(|b| b.processes.iter().any(|p| p.pid == child.pid))
    );

    // The protocol filter.
    let all = ports_of(child.pid).unwrap();
    let tcp = listening_ports(&PortFilter {
        protocol: Some(Protocol::Tcp),
        pid: Some(sysprims::Pid::new(child.pid).unwrap()),
        port: None,
    })
    .unwrap();
    assert!(tcp.bindings.iter().all(|b| b.protocol == Protocol::Tcp));
    assert_eq!(tcp.bindings.len(), all.bindings.len() - 1);
}

#[test]
fn a_socket_shared_with_a_forked_child_lists_both_owners() {
    let Some((group, info)) = python(
        r#"
t = bound(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"); t.listen()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)  # until the parent exits
    os._exit(0)
print(json.dumps({"port": t.getsockname()[1], "child": pid}), flush=True)
sys.stdin.read()
"#,
    ) else {
        return;
    };
    let p = port(&info, "port");
    let forked = info["child"].as_u64().unwrap() as u32;
    let found = listening_ports(&PortFilter {
        port: Some(p),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(found.bindings.len(), 1);
    let pids: Vec<u32> = found.bindings[0].processes.iter().map(|h| h.pid).collect();
    let mut want = vec![group.pid, forked];
    want.sort();
    assert_eq!(pids, want);
    // Asked by either PID, the binding still names both holders.
    let by_child = ports_of(forked).unwrap();
    assert_eq!(by_child.bindings.len(), 1);
    assert_eq!(by_child.bindings[0].processes.len(), 2);
    let owners: Vec<u32> = port_owners(p, None)
        .unwrap()
        .iter()
        .map(|o| o.pid)
        .collect();
    assert_eq!(owners, want);
}

#[test]
fn agrees_with_ss_for_the_tests_own_processes() {
    if !require("ss (iproute2)", have("ss")) {
        return;
    }
    let v6 = have_ipv6();
    let Some((group, info)) = python(&format!(
        r#"
keep = []
for i in range(3):
    t = bound(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"); t.listen(); keep.append(t)
    keep.append(bound(socket.AF_INET, socket.SOCK_DGRAM, "0.0.0.0"))
if {v6}:
    t = bound(socket.AF_INET6, socket.SOCK_STREAM, "::"); t.listen(); keep.append(t)
    keep.append(bound(socket.AF_INET6, socket.SOCK_DGRAM, "::1"))
pid = os.fork()
if pid == 0:
    sys.stdin.read(); os._exit(0)
print(json.dumps({{"child": pid}}), flush=True)
sys.stdin.read()
"#,
        v6 = if v6 { "True" } else { "False" }
    )) else {
        return;
    };
    let ours_pids: BTreeSet<u32> = [group.pid, info["child"].as_u64().unwrap() as u32].into();

    let mut ours = BTreeSet::new();
    for b in listening_ports(&PortFilter::default()).unwrap().bindings {
        for h in &b.processes {
            if ours_pids.contains(&h.pid) {
                ours.insert((b.protocol.name().to_string(), b.local_port, h.pid));
            }
        }
    }
    let out = Command::new("ss").arg("-ltunpH").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut theirs = BTreeSet::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 7 {
            continue;
        }
        let proto = fields[0].to_string();
        let port: u16 = fields[4].rsplit(':').next().unwrap().parse().unwrap();
        for part in line.split("pid=").skip(1) {
            let pid: u32 = part.split(',').next().unwrap().parse().unwrap();
            if ours_pids.contains(&pid) {
                theirs.insert((proto.clone(), port, pid));
            }
        }
    }
    let expected = if v6 { 8 * 2 } else { 6 * 2 };
    assert_eq!(ours.len(), expected, "{ours:?}");
    assert_eq!(ours, theirs);
}

#[test]
fn a_port_nobody_listens_on_is_an_empty_list() {
    // A port held, for the whole test, by a TCP socket that is bound but not listening: no
    // other socket can take it meanwhile (a port freed and reused by a parallel test was a
    // flake), and a bound socket that does not listen must not be reported either.
    let (held, free) = bound_not_listening();
    let found = listening_ports(&PortFilter {
        protocol: Some(Protocol::Tcp),
        port: Some(free),
        pid: None,
    })
    .unwrap();
    assert!(found.bindings.is_empty());
    assert!(port_owners(free, Some(Protocol::Tcp)).unwrap().is_empty());
    drop(held);
}

/// A TCP socket bound to an ephemeral port on 127.0.0.1, not listening (and without
/// SO_REUSEADDR, so nothing else can bind the port while it is open), and its port.
fn bound_not_listening() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a new fd that is handed to OwnedFd at once, with a
    // sockaddr_in we own and its true length.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        use std::os::fd::AsRawFd;
        let raw = fd.as_raw_fd();
        assert_eq!(libc::bind(raw, (&raw const addr).cast(), len), 0);
        let mut out: libc::sockaddr_in = std::mem::zeroed();
        let mut out_len = len;
        assert_eq!(
            libc::getsockname(raw, (&raw mut out).cast(), &mut out_len),
            0
        );
        (fd, u16::from_be(out.sin_port))
    }
}

#[test]
fn bad_pids_and_missing_processes_are_errors() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let err = ports_of(pid).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert_eq!(err.pid(), Some(pid));
    for bad in [0i64, -1, 2_147_483_648] {
        assert_eq!(
            ports_of(bad).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
    }
}

#[test]
fn own_listener_is_found_in_process() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    let mine = ports_of(std::process::id()).unwrap();
    assert!(mine.bindings.iter().any(|b| b.local_port == p));
}
