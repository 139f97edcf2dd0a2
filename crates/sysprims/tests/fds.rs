//! `list_fds` on real processes the tests start: files, directories, pipes, sockets, devices
//! and anonymous inodes, each found with the right kind and details.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use common::{Group, have, require};
use serde_json::Value;
use sysprims::{
    AccessMode, ErrorCode, FdFilter, FdKind, SocketFamily, SocketProtocol, SocketState, list_fds,
};

/// A Python child that opens one of each kind, prints their fd numbers (and inodes, ports) as
/// JSON once they are open, then waits for stdin to close.
const OPENER: &str = r#"
import json, os, socket, sys, tempfile
d = tempfile.mkdtemp()
path = os.path.join(d, "data.txt")
f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.write(f, b"hello world")
ro = os.open(path, os.O_RDONLY)
os.lseek(ro, 5, os.SEEK_SET)
dirfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
r, w = os.pipe()
null = os.open("/dev/null", os.O_RDWR)
ev = os.eventfd(0)
import select
ep = select.epoll()
pidfd = os.pidfd_open(os.getpid())
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", 0)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ux.bind(os.path.join(d, "sock")); ux.listen()
print(json.dumps({
  "dir": d, "path": path, "file": f, "ro": ro, "dirfd": dirfd, "pipe_r": r, "pipe_w": w,
  "null": null, "eventfd": ev, "epoll": ep.fileno(), "pidfd": pidfd, "netlink": nl.fileno(), "tcp": t.fileno(), "tcp_port": t.getsockname()[1],
  "udp": u.fileno(), "udp_port": u.getsockname()[1], "unix": ux.fileno(),
  "file_ino": os.fstat(f).st_ino, "pipe_ino": os.fstat(r).st_ino,
  "tcp_ino": os.fstat(t.fileno()).st_ino,
}), flush=True)
sys.stdin.read()
import shutil; shutil.rmtree(d)
"#;

fn start_opener() -> Option<(Group, Value)> {
    if !require("python3", have("python3")) {
        return None;
    }
    let mut child = Group::spawn(&["python3", "-c", OPENER]);
    let line = child.read_line();
    let info: Value = serde_json::from_str(&line).expect("the child's JSON line");
    Some((child, info))
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn each_kind_is_found_with_its_details() {
    let Some((child, info)) = start_opener() else {
        return;
    };
    let snap = list_fds(child.pid, &FdFilter::default()).unwrap();
    assert_eq!(snap.pid, child.pid);
    assert_eq!(snap.schema_id, sysprims::FD_SNAPSHOT_SCHEMA_ID);
    let fd = |key: &str| {
        let n = num(&info, key) as u32;
        snap.fds
            .iter()
            .find(|f| f.fd == n)
            .unwrap_or_else(|| panic!("fd {n} ({key}) missing from {:#?}", snap.fds))
    };
    // stdin and stdout are our pipes.
    assert_eq!(snap.fds[0].fd, 0);
    assert_eq!(snap.fds[0].kind, FdKind::Pipe);

    let file = fd("file");
    assert_eq!(file.kind, FdKind::File);
    assert_eq!(file.path.as_deref(), info["path"].as_str());
    assert_eq!(file.inode, Some(num(&info, "file_ino")));
    assert_eq!(file.access, Some(AccessMode::Write));
    assert_eq!(
        file.flags.unwrap() & libc::O_APPEND as u32,
        libc::O_APPEND as u32
    );
    assert_eq!(file.offset, Some(11));
    assert_eq!(file.cloexec, Some(true), "Python opens with O_CLOEXEC");

    let ro = fd("ro");
    assert_eq!(ro.kind, FdKind::File);
    assert_eq!(ro.access, Some(AccessMode::Read));
    assert_eq!(ro.offset, Some(5));

    let dir = fd("dirfd");
    assert_eq!(dir.kind, FdKind::Directory);
    assert_eq!(dir.path.as_deref(), info["dir"].as_str());

    for key in ["pipe_r", "pipe_w"] {
        assert_eq!(fd(key).kind, FdKind::Pipe);
        assert_eq!(fd(key).inode, Some(num(&info, "pipe_ino")));
    }
    assert_eq!(fd("pipe_w").access, Some(AccessMode::Write));

    let null = fd("null");
    assert_eq!(null.kind, FdKind::CharDevice);
    assert_eq!(null.path.as_deref(), Some("/dev/null"));
    assert_eq!(null.access, Some(AccessMode::ReadWrite));

    let ev = fd("eventfd");
    assert_eq!(ev.kind, FdKind::AnonInode);
    assert_eq!(ev.anon_type.as_deref(), Some("eventfd"));

    assert_eq!(fd("epoll").anon_type.as_deref(), Some("eventpoll"));
    let pidfd = fd("pidfd");
    assert_eq!(pidfd.kind, FdKind::AnonInode);
    assert_eq!(pidfd.anon_type.as_deref(), Some("pidfd"));
    // A socket outside the TCP, UDP and Unix tables: a socket, unresolved, with its inode.
    let netlink = fd("netlink");
    assert_eq!(netlink.kind, FdKind::Socket);
    assert!(netlink.inode.is_some() && netlink.socket.is_none());

    let tcp = fd("tcp");
    assert_eq!(tcp.kind, FdKind::Socket);
    assert_eq!(tcp.inode, Some(num(&info, "tcp_ino")));
    let s = tcp.socket.as_ref().expect("the TCP socket is resolved");
    assert_eq!(s.family, SocketFamily::Ipv4);
    assert_eq!(s.protocol, SocketProtocol::Tcp);
    assert_eq!(s.state, SocketState::Listen);
    assert_eq!(s.local_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.local_port, Some(num(&info, "tcp_port") as u16));

    let udp = fd("udp")
        .socket
        .as_ref()
        .expect("the UDP socket is resolved");
    assert_eq!(udp.protocol, SocketProtocol::Udp);
    assert_eq!(udp.state, SocketState::Unconnected);
    assert_eq!(udp.local_port, Some(num(&info, "udp_port") as u16));

    let unix = fd("unix")
        .socket
        .as_ref()
        .expect("the Unix socket is resolved");
    assert_eq!(unix.family, SocketFamily::Unix);
    assert_eq!(unix.protocol, SocketProtocol::UnixStream);
    assert_eq!(unix.state, SocketState::Listen);
    assert_eq!(
        unix.local_address.as_deref(),
        Some(format!("{}/sock", info["dir"].as_str().unwrap()).as_str())
    );
    // Sorted by number, no duplicates.
    assert!(snap.fds.windows(2).all(|w| w[0].fd < w[1].fd));
}

#[test]
fn the_kind_filter_keeps_only_that_kind() {
    let Some((child, info)) = start_opener() else {
        return;
    };
    let sockets = list_fds(child.pid, &FdFilter::kind(FdKind::Socket)).unwrap();
    let numbers: Vec<u32> = sockets.fds.iter().map(|f| f.fd).collect();
    assert!(sockets.fds.iter().all(|f| f.kind == FdKind::Socket));
    for key in ["tcp", "udp", "unix"] {
        assert!(numbers.contains(&(num(&info, key) as u32)), "{key}");
    }
    assert!(numbers.contains(&(num(&info, "netlink") as u32)));
    assert_eq!(numbers.len(), 4, "{numbers:?}");

    let dirs = list_fds(child.pid, &FdFilter::kind(FdKind::Directory)).unwrap();
    assert_eq!(dirs.fds.len(), 1);
    assert_eq!(dirs.fds[0].fd, num(&info, "dirfd") as u32);

    let both = FdFilter {
        kinds: Some(vec![FdKind::CharDevice, FdKind::AnonInode]),
    };
    let kinds: Vec<FdKind> = list_fds(child.pid, &both)
        .unwrap()
        .fds
        .iter()
        .map(|f| f.kind)
        .collect();
    assert!(kinds.contains(&FdKind::CharDevice) && kinds.contains(&FdKind::AnonInode));
    assert!(
        kinds
            .iter()
            .all(|k| both.kinds.as_ref().unwrap().contains(k))
    );
}

#[test]
fn fds_closing_during_the_listing_are_skipped() {
    if !require("python3", have("python3")) {
        return;
    }
    // The child opens and closes fds as fast as it can.
    let mut child = Group::spawn(&[
        "python3",
        "-c",
        "import os\nprint('ready', flush=True)\nwhile True:\n  fds=[os.open('/dev/null', os.O_RDONLY) for _ in range(50)]\n  [os.close(f) for f in fds]",
    ]);
    assert_eq!(child.read_line(), "ready");
    for _ in 0..300 {
        let snap = list_fds(child.pid, &FdFilter::default()).expect("no error for closed fds");
        assert!(snap.fds.iter().any(|f| f.fd == 0));
    }
}

#[test]
fn a_process_that_does_not_exist_is_not_found() {
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let err = list_fds(pid, &FdFilter::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert_eq!(err.pid(), Some(pid));
}

#[test]
fn own_fds_are_listed() {
    let snap = list_fds(std::process::id(), &FdFilter::default()).unwrap();
    assert!(!snap.fds.is_empty());
}

#[test]
fn thousands_of_fds_are_all_listed_in_order() {
    if !require("python3", have("python3")) {
        return;
    }
    // Enough fds that the listing is split across threads.
    let mut child = Group::spawn(&[
        "python3",
        "-c",
        "import os, resource, sys\n\
         soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
         want = 6000 if hard == resource.RLIM_INFINITY else min(hard, 6000)\n\
         resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))\n\
         fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(want - 100)]\n\
         print(*fds, flush=True)\n\
         sys.stdin.read()",
    ]);
    let line = child.read_line();
    let theirs: std::collections::BTreeSet<u32> =
        line.split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(theirs.len() > 900, "{}", theirs.len());
    let snap = list_fds(child.pid, &FdFilter::kind(FdKind::CharDevice)).unwrap();
    let all: Vec<u32> = snap.fds.iter().map(|f| f.fd).collect();
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
    let ours: std::collections::BTreeSet<u32> =
        all.into_iter().filter(|n| theirs.contains(n)).collect();
    assert_eq!(ours, theirs);
    assert!(
        snap.fds
            .iter()
            .filter(|f| theirs.contains(&f.fd))
            .all(|f| f.path.as_deref() == Some("/dev/null"))
    );
}
