//! Entry points for the fuzz targets under `fuzz/` and for the corpus replay test.
//!
//! Each function feeds arbitrary bytes to the pure parsers of one kind of kernel data (the
//! `/proc` files, the `sock_diag` netlink dump, `mountinfo`, cgroup files, macOS's
//! `KERN_PROCARGS2` and `proc_bsdinfo` records) and asserts what
//! must hold for any input: the parser returns (no panic, no overflow), and what it returns is
//! consistent with the bytes it was given. A failed assertion is a finding: the fuzzer saves
//! the input as a crash.
//!
//! The fuzz entry points perform no I/O; [`replay`] reads the corpus. Not part of the API: compiled only for this crate's tests and
//! with the `fuzzing` feature, and may change at any time.

use std::path::{Path, PathBuf};

use crate::error::{Result, SysprimsError};
use crate::process::ProcessState;
use crate::spawn::SpawnInGroupConfig;
use crate::sys::linux::cgroup::{self, Mount};
use crate::sys::linux::clock::ProcClock;
use crate::sys::linux::procfs::net::{self, LinkTarget};
use crate::sys::linux::procfs::{parse, read};
use crate::sys::linux::sock_diag::{self, Parsed};
use crate::timeout::TimeoutRequest;

/// What [`spawn_in_group`](crate::spawn_in_group) checks of its config before it starts
/// anything, without starting anything.
///
/// # Errors
/// As `spawn_in_group`'s InvalidArgument errors.
pub fn validate_spawn(config: &SpawnInGroupConfig) -> Result<()> {
    crate::job::validate(config)
}

/// What [`TimeoutRequest::run`] checks before it starts anything, without starting anything:
/// the same checks on the same spawn config that `run` builds.
///
/// # Errors
/// As `run`'s InvalidArgument errors.
pub fn validate_timeout(request: &TimeoutRequest) -> Result<()> {
    if request.argv.is_empty() {
        return Err(SysprimsError::invalid(
            "argv",
            "[]",
            "is empty: it must name the program to run",
        ));
    }
    let config = &request.config;
    crate::job::validate(&SpawnInGroupConfig {
        argv: request.argv.clone(),
        cwd: config.cwd.clone(),
        env: config.env.clone(),
        env_clear: config.env_clear,
        stdin: config.stdin.clone(),
        stdout: config.stdout.clone(),
        stderr: config.stderr.clone(),
        containment: config.containment,
        cgroup_parent: config.cgroup_parent.clone(),
        kill_on_parent_death: config.kill_on_parent_death,
        limits: config.limits,
    })
}

/// Whether `part` is a sub-slice of `whole` (points into the same bytes).
fn within(part: &[u8], whole: &[u8]) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

/// `/proc/<pid>/stat`, and the values `read_process` derives from it.
pub fn proc_stat(data: &[u8]) {
    let first = parse::parse_stat(data);
    assert_eq!(
        first,
        parse::parse_stat(data),
        "parse_stat is not deterministic"
    );
    let Ok(stat) = first else { return };
    let open = data
        .iter()
        .position(|&b| b == b'(')
        .expect("Ok without '('");
    let close = data
        .iter()
        .rposition(|&b| b == b')')
        .expect("Ok without ')'");
    assert_eq!(
        stat.comm,
        &data[open + 1..close],
        "comm is not what the parentheses hold"
    );
    assert!(
        data[close + 1..].contains(&stat.state),
        "state letter not found after comm"
    );
    let _ = ProcessState::from_letter(stat.state);
    let _ = String::from_utf8_lossy(stat.comm);
    // What read_process computes from it: none of it may overflow, whatever the numbers.
    let cpu = stat.cpu_ticks();
    assert!(cpu >= stat.utime.max(stat.stime));
    for page_size in [4096, 65536] {
        let _ = stat.memory_kb(page_size);
    }
    for clock in [
        ProcClock {
            ticks_per_second: 100,
            boot_unix_secs: Some(1_700_000_000),
            boottime_now_ns: 1_000_000_000_000,
            realtime_now_ms: 1_700_001_000_000,
        },
        ProcClock {
            ticks_per_second: 1,
            boot_unix_secs: Some(u64::MAX),
            boottime_now_ns: u64::MAX,
            realtime_now_ms: u64::MAX,
        },
    ] {
        let _ = clock.start_unix_ms(stat.starttime);
        let _ = clock.elapsed_ms(stat.starttime);
        let pct = clock.lifetime_cpu_percent(cpu, stat.starttime);
        assert!(!pct.is_nan() && pct >= 0.0, "cpu percent {pct}");
    }
}

/// `/proc/<pid>/status`.
pub fn proc_status(data: &[u8]) {
    let status = parse::parse_status(data);
    if status.tgid.is_some() {
        assert!(
            data.windows(5).any(|w| w == b"Tgid:"),
            "a Tgid from nowhere"
        );
    }
    if status.euid.is_some() {
        assert!(data.windows(4).any(|w| w == b"Uid:"), "a Uid from nowhere");
    }
}

/// The small files and links: `cmdline`/`environ` (NUL lists), `/proc/stat`'s `btime`, the
/// `exe` link, an fd link target, `fdinfo`.
pub fn proc_small(data: &[u8]) {
    // NUL lists: the items, joined again, are the bytes less one terminating NUL.
    let items: Vec<&[u8]> = parse::split_nul(data).collect();
    if data.is_empty() {
        assert!(items.is_empty());
    } else {
        let body = data.strip_suffix(b"\0").unwrap_or(data);
        assert_eq!(items.join(&b'\0'), body, "split_nul lost bytes");
    }
    assert!(items.len() <= data.len() + 1);
    let env = read::parse_env(data);
    assert!(env.len() <= items.len());

    if let Some(btime) = parse::parse_btime(data) {
        assert!(
            data.windows(6).any(|w| w == b"btime "),
            "btime {btime} from nowhere"
        );
    }

    let (path, deleted) = parse::split_deleted(data);
    assert!(within(path, data));
    assert_eq!(deleted, data.ends_with(parse::DELETED_SUFFIX));

    match net::parse_link_target(data) {
        LinkTarget::Path(p) => assert!(p == data && data.starts_with(b"/")),
        LinkTarget::Socket(_) => assert!(data.starts_with(b"socket:[") && data.ends_with(b"]")),
        LinkTarget::Pipe(_) => assert!(data.starts_with(b"pipe:[") && data.ends_with(b"]")),
        LinkTarget::AnonInode(kind) => assert!(within(kind, data) || kind == b"pidfd"),
        LinkTarget::Other => {}
    }

    let info = net::parse_fdinfo(data);
    for (field, present) in [
        (&b"pos"[..], info.pos.is_some()),
        (b"flags", info.flags.is_some()),
        (b"ino", info.ino.is_some()),
    ] {
        if present {
            assert!(data.windows(field.len()).any(|w| w == field));
        }
    }
}

/// `/proc/net/{tcp,tcp6,udp,udp6}`.
pub fn proc_net_inet(data: &[u8]) {
    let lines = data.split(|&b| b == b'\n').count();
    let mut rows = 0;
    net::parse_inet_table(data, |row| {
        rows += 1;
        let _ = (row.local, row.remote, row.state, row.uid, row.inode);
    });
    assert!(
        rows < lines.max(1),
        "{rows} rows from {lines} lines (the first is the header)"
    );
}

/// `/proc/net/unix`.
pub fn proc_net_unix(data: &[u8]) {
    let lines = data.split(|&b| b == b'\n').count();
    let mut rows = 0;
    net::parse_unix_table(data, |row| {
        rows += 1;
        if let Some(path) = row.path {
            assert!(within(path, data) && !path.is_empty() && !path.contains(&b'\n'));
        }
    });
    assert!(
        rows < lines.max(1),
        "{rows} rows from {lines} lines (the first is the header)"
    );
}

/// One `recv` of a `NETLINK_SOCK_DIAG` dump.
pub fn sock_diag(data: &[u8]) {
    let mut rows = 0;
    let parsed = sock_diag::parse_dump(data, |row| {
        rows += 1;
        assert_eq!(
            row.local.0.is_ipv4(),
            row.remote.0.is_ipv4(),
            "one socket, two address families"
        );
    });
    // A message is a 16-byte header and a 72-byte inet_diag_msg.
    assert!(
        rows <= data.len() / (16 + 72),
        "{rows} rows from {} bytes",
        data.len()
    );
    if let Parsed::Error(errno) = parsed {
        let _ = std::io::Error::from_raw_os_error(errno).to_string();
    }
}

/// `/proc/self/mountinfo`: the cgroup2 mount, the unescaping of its fields, and the mapping of
/// hierarchy paths to directories under it.
pub fn mountinfo(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for field in text.split([' ', '\n']) {
        let plain = cgroup::unescape_mountinfo(field);
        assert!(plain.len() <= field.len(), "unescaping grew {field:?}");
        if !field.contains('\\') {
            assert_eq!(plain, field);
        }
    }
    if let Some(mount) = cgroup::find_mount(&text) {
        assert!(text.contains("cgroup2"));
        check_directories(&mount, &text);
    }
}

/// `/proc/<pid>/cgroup` and `cgroup.events`.
pub fn cgroup_files(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(path) = cgroup::v2_path(&text) {
        assert!(path.starts_with('/') && text.contains("0::"));
        for mount in [
            Mount {
                point: PathBuf::from("/sys/fs/cgroup"),
                root: "/".to_string(),
            },
            Mount {
                point: PathBuf::from("/sys/fs/cgroup/unified"),
                root: "/user.slice".to_string(),
            },
        ] {
            check_directories(&mount, path);
        }
    }
    let events = cgroup::parse_events(&text);
    if events.populated {
        assert!(text.contains("populated"));
    }
    if events.frozen {
        assert!(text.contains("frozen"));
    }
}

/// Every line of `text` as a hierarchy path under `mount`: a directory found is the mount point
/// or below it.
fn check_directories(mount: &Mount, text: &str) {
    for line in text.lines() {
        if let Some(dir) = cgroup::directory_of(mount, line) {
            assert!(
                dir.starts_with(&mount.point) || dir.as_path() == Path::new(&mount.point),
                "{line:?} maps to {dir:?}, outside {:?}",
                mount.point
            );
        }
    }
}

/// macOS's records, parsed here on any host: a `KERN_PROCARGS2` buffer, a `proc_bsdinfo`
/// record, a `PROC_PIDLISTFDS` answer, a `vnode_fdinfowithpath`, a `socket_fdinfo` and a
/// `kinfo_proc` record. Every string returned is a NUL-free piece of the input, no more
/// arguments than the buffer's `argc`, and a record is read only from a full-size input.
pub fn macos_records(data: &[u8]) {
    use crate::sys::macos::parse::{PROC_BSDINFO_SIZE, parse_bsdinfo, parse_procargs2};
    if let Ok(args) = parse_procargs2(data) {
        let argc = i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        assert!(args.argv.len() <= argc as usize);
        let total: usize = std::iter::once(args.exec_path)
            .chain(args.argv.iter().copied())
            .chain(args.env.iter().copied())
            .map(|s| {
                assert!(!s.contains(&0), "a string holds a NUL");
                s.len() + 1
            })
            .sum();
        assert!(total <= data.len() + 1, "more bytes returned than given");
        assert!(args.env.iter().all(|v| !v.is_empty()));
    } else {
        assert!(data.len() < 4 || data[3] & 0x80 != 0);
    }
    match parse_bsdinfo(data) {
        Ok(info) => {
            assert!(data.len() >= PROC_BSDINFO_SIZE);
            assert!(info.name.len() <= 32 && !info.name.contains(&0));
            assert_eq!(info.start_time_ms(), info.start_time_us / 1000);
        }
        Err(_) if data.len() >= PROC_BSDINFO_SIZE => {
            // A full record is refused only for a start time that is not one.
            let field = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
            let (sec, usec) = (field(120), field(128));
            assert!(
                usec >= 1_000_000
                    || sec
                        .checked_mul(1_000_000)
                        .and_then(|us| us.checked_add(usec))
                        .is_none(),
                "a full record with a valid start time was refused"
            );
        }
        Err(_) => {}
    }
    // The fd records: whole 8-byte entries only, and a vnode record read only from a
    // full-size input, its path NUL-free and within its 1024-byte field.
    use crate::sys::macos::parse::{
        PROC_FDINFO_SIZE, SOCKET_FDINFO_SIZE, VNODE_FDINFOWITHPATH_SIZE, parse_fd_list,
        parse_socket_fdinfo, parse_vnode_fdinfo,
    };
    assert!(parse_fd_list(data).len() <= data.len() / PROC_FDINFO_SIZE);
    match parse_vnode_fdinfo(data) {
        Ok(v) => {
            assert!(data.len() >= VNODE_FDINFOWITHPATH_SIZE);
            assert!(v.path.len() <= 1024 && !v.path.contains(&0));
        }
        Err(_) => assert!(data.len() < VNODE_FDINFOWITHPATH_SIZE),
    }
    if let Ok(info) = crate::sys::macos::parse::parse_kinfo_proc(data) {
        assert!(data.len() >= crate::sys::macos::parse::KINFO_PROC_SIZE);
        assert!(info.name.len() <= 17 && !info.name.contains(&0));
    }
    match parse_socket_fdinfo(data) {
        Ok(sock) => {
            assert!(data.len() >= SOCKET_FDINFO_SIZE);
            if let Some(info) = sock.info {
                let path_ok = info
                    .local_address
                    .as_ref()
                    .is_none_or(|a| a.len() <= 104 * 3 && !a.contains('\0'));
                assert!(
                    path_ok,
                    "a socket address longer than its field or with a NUL"
                );
            }
        }
        Err(_) => assert!(data.len() < SOCKET_FDINFO_SIZE),
    }
}

/// Feeds every file of `fuzz/corpus/<target>/` to `check` and panics naming the first one it
/// fails on (or if there is none): the corpus replay that plain `cargo test` runs, here and in
/// the C ABI crate.
pub fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {path:?} fails");
        files += 1;
    }
    assert!(files > 0, "{dir:?} has no corpus files");
}

#[cfg(test)]
mod tests {
    //! The corpus replay: every seed and regression file under `fuzz/corpus/<target>/` fed to
    //! its target, so that `cargo test` catches a regression the fuzzer once found.

    use super::replay;

    #[test]
    fn corpus_proc_stat() {
        replay("proc_stat", super::proc_stat);
    }

    #[test]
    fn corpus_proc_status() {
        replay("proc_status", super::proc_status);
    }

    #[test]
    fn corpus_proc_small() {
        replay("proc_small", super::proc_small);
    }

    #[test]
    fn corpus_proc_net_inet() {
        replay("proc_net_inet", super::proc_net_inet);
    }

    #[test]
    fn corpus_proc_net_unix() {
        replay("proc_net_unix", super::proc_net_unix);
    }

    #[test]
    fn corpus_sock_diag() {
        replay("sock_diag", super::sock_diag);
    }

    #[test]
    fn corpus_mountinfo() {
        replay("mountinfo", super::mountinfo);
    }

    #[test]
    fn corpus_cgroup_files() {
        replay("cgroup_files", super::cgroup_files);
    }

    #[test]
    fn corpus_macos_records() {
        replay("macos_records", super::macos_records);
    }
}
