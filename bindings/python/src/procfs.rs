//! The few `/proc` reads the library has no call for (`cpu_times`, `memory_info`, `pids`),
//! each through a `/proc/<pid>` directory fd that pins one process: once that process is
//! reaped, reads through the fd fail, even if a newcomer has its PID. The start time read
//! through the same fd is compared with the stored identity, so the figures are the stored
//! process's or an error.

use std::io::Read;
use std::sync::OnceLock;

/// Why a read failed.
pub enum ReadError {
    /// No such process, or another process has the PID.
    Gone(&'static str),
    /// Permission denied.
    Denied,
    /// Anything else, with its description.
    Other(String),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        match e.raw_os_error() {
            Some(2) | Some(3) => ReadError::Gone("it has exited"),
            Some(1) | Some(13) => ReadError::Denied,
            _ => ReadError::Other(e.to_string()),
        }
    }
}

/// How the stored process is recognised: its start as ticks after boot, or as Unix
/// milliseconds (computed from `btime` as the library computes it).
#[derive(Clone, Copy)]
pub enum Start {
    Ticks(u64),
    UnixMs(u64),
}

/// The `stat` fields after the command name (field 3 onwards), split on spaces.
pub struct Stat {
    fields: Vec<u64>,
}

impl Stat {
    /// Field `n` as `proc(5)` numbers them (1 = pid, 3 = state, 14 = utime, ...).
    fn field(&self, n: usize) -> u64 {
        // Index 0 is field 4 (field 3, the state letter, is not numeric and skipped).
        n.checked_sub(4)
            .and_then(|i| self.fields.get(i))
            .copied()
            .unwrap_or(0)
    }
}

fn clock_ticks() -> u64 {
    rustix::param::clock_ticks_per_second()
}

fn btime_secs() -> Option<u64> {
    static BTIME: OnceLock<Option<u64>> = OnceLock::new();
    *BTIME.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())
    })
}

fn parse_stat(bytes: &[u8]) -> Option<Stat> {
    // The command name is in parentheses and may itself hold spaces and parentheses: the
    // fields start after the last ')'.
    let close = bytes.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(bytes.get(close + 2..)?).ok()?;
    let mut parts = rest.split_ascii_whitespace();
    parts.next()?; // state letter
    Some(Stat {
        fields: parts.map(|p| p.parse().unwrap_or(0)).collect(),
    })
}

/// A `/proc/<pid>` directory, opened and checked against the stored start.
pub struct ProcDir {
    dir: std::fs::File,
    pub stat: Stat,
}

impl ProcDir {
    /// Open `/proc/<pid>` and check that the process there started at `start`.
    pub fn open(pid: u32, start: Start) -> Result<ProcDir, ReadError> {
        let dir = std::fs::File::open(format!("/proc/{pid}"))?;
        let mut pd = ProcDir {
            dir,
            stat: Stat { fields: Vec::new() },
        };
        let bytes = pd.read("stat")?;
        pd.stat =
            parse_stat(&bytes).ok_or(ReadError::Other(format!("cannot parse /proc/{pid}/stat")))?;
        let ticks = pd.stat.field(22);
        let same = match start {
            Start::Ticks(t) => t == ticks,
            Start::UnixMs(ms) => btime_secs().is_some_and(|b| {
                b * 1000 + (u128::from(ticks) * 1000 / u128::from(clock_ticks())) as u64 == ms
            }),
        };
        if !same {
            return Err(ReadError::Gone("its PID now names another process"));
        }
        Ok(pd)
    }

    /// A file of the directory, read whole.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, ReadError> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ReadError::from(std::io::Error::from(e)))?;
        let mut file = std::fs::File::from(fd);
        let mut bytes = Vec::with_capacity(512);
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// `(user, system, children_user, children_system, iowait)` in seconds.
    pub fn cpu_times(&self) -> (f64, f64, f64, f64, f64) {
        let hz = clock_ticks() as f64;
        let s = |n| self.stat.field(n) as f64 / hz;
        (s(14), s(15), s(16), s(17), s(42))
    }

    /// `(rss, vms, shared, text, lib, data, dirty)` in bytes, from `statm`.
    pub fn memory_info(&self) -> Result<[u64; 7], ReadError> {
        let text = String::from_utf8_lossy(&self.read("statm")?).into_owned();
        let page = rustix::param::page_size() as u64;
        let pages: Vec<u64> = text
            .split_ascii_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let get = |i: usize| pages.get(i).copied().unwrap_or(0) * page;
        // statm: size resident shared text lib data dirty; psutil's order is rss first.
        Ok([get(1), get(0), get(2), get(3), get(4), get(5), get(6)])
    }
}

/// Every PID in `/proc`, ascending.
pub fn pids() -> std::io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// What [`lean_list`] reads of each process besides `stat` and the executable link (which
/// it always reads: they make the identity a listed process is checked against).
#[derive(Clone, Copy)]
pub struct Wanted {
    /// The command line (for `cmdline`, and for `name` when the kernel's name was cut).
    pub cmdline: bool,
}

/// One process as [`lean_list`] read it.
pub struct Lean {
    pub pid: u32,
    pub ppid: u32,
    /// The kernel's name (`comm`), at most 15 bytes.
    pub comm: String,
    pub start_ms: Option<u64>,
    pub exe: Option<String>,
    pub cmdline: Vec<String>,
}

/// Every process's `stat`, executable and (if wanted) command line: the few reads
/// `process_iter(['pid', 'name', 'cmdline', 'create_time', 'exe'])` needs, and nothing else
/// (no `status`, no `fstat`, no user lookup). Each file is opened relative to one `/proc`
/// fd. Processes that exit during the listing, or that permission hides, are left out.
/// The start time is computed as the library computes it (`btime` plus the start ticks), so
/// a listed process's identity matches the library's.
///
/// Large listings are split across up to 4 threads (as the library's listing is).
pub fn lean_list(wanted: Wanted) -> std::io::Result<Vec<Lean>> {
    let proc_dir = std::fs::File::open("/proc")?;
    let pids = pids()?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
        .min(pids.len() / 256)
        .max(1);
    if threads == 1 {
        return Ok(lean_chunk(&proc_dir, &pids, wanted));
    }
    let chunk = pids.len().div_ceil(threads);
    let mut parts = pids.chunks(chunk);
    let mine = parts.next().unwrap_or(&[]);
    let proc_ref = &proc_dir;
    Ok(std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| {
                let handle = std::thread::Builder::new()
                    .spawn_scoped(scope, move || lean_chunk(proc_ref, part, wanted));
                (part, handle.ok())
            })
            .collect();
        let mut out = lean_chunk(proc_ref, mine, wanted);
        for (part, handle) in others {
            // A thread that could not start, or panicked: its part is read here.
            let mut rows = match handle.map(|h| h.join()) {
                Some(Ok(rows)) => rows,
                _ => lean_chunk(proc_ref, part, wanted),
            };
            out.append(&mut rows);
        }
        out
    }))
}

fn lean_chunk(proc_dir: &std::fs::File, pids: &[u32], wanted: Wanted) -> Vec<Lean> {
    let hz = u128::from(clock_ticks());
    let boot = btime_secs();
    let mut out = Vec::with_capacity(pids.len());
    let mut buf = Vec::with_capacity(4096);
    let mut path = String::with_capacity(32);
    for &pid in pids {
        use std::fmt::Write;
        path.clear();
        let _ = write!(path, "{pid}/stat");
        if read_at(proc_dir, &path, &mut buf).is_err() {
            continue;
        }
        let Some((comm, ppid, start_ticks)) = parse_stat_lean(&buf) else {
            continue;
        };
        let start_ms = boot.map(|b| b * 1000 + (u128::from(start_ticks) * 1000 / hz) as u64);
        path.truncate(path.len() - "stat".len());
        let base = path.len();
        path.push_str("exe");
        let exe = read_exe_at(proc_dir, &path);
        let mut cmdline = Vec::new();
        if wanted.cmdline {
            path.truncate(base);
            path.push_str("cmdline");
            if read_at(proc_dir, &path, &mut buf).is_ok() {
                let body = buf.strip_suffix(b"\0").unwrap_or(&buf);
                if !body.is_empty() {
                    cmdline = body
                        .split(|&b| b == 0)
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                }
            }
        }
        out.push(Lean {
            pid,
            ppid,
            comm,
            start_ms,
            exe,
            cmdline,
        });
    }
    out
}

/// `(comm, ppid, starttime)` from a `stat` line.
fn parse_stat_lean(bytes: &[u8]) -> Option<(String, u32, u64)> {
    let open = bytes.iter().position(|&b| b == b'(')?;
    let close = bytes.iter().rposition(|&b| b == b')')?;
    let comm = String::from_utf8_lossy(bytes.get(open + 1..close)?).into_owned();
    let rest = std::str::from_utf8(bytes.get(close + 2..)?).ok()?;
    // Fields from 3 (state): ppid is field 4, starttime field 22.
    let mut parts = rest.split_ascii_whitespace();
    let ppid = parts.nth(1)?.parse().ok()?;
    let start = parts.nth(22 - 5)?.parse().ok()?;
    Some((comm, ppid, start))
}

/// Read `path` (relative to `dir`) whole into `buf`. A `/proc` file gives everything it has
/// up to the buffer's size in one read, so a read that leaves room is the whole file and no
/// second read (for the end of file) is made.
fn read_at(dir: &impl rustix::fd::AsFd, path: &str, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(dir, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    buf.clear();
    if buf.capacity() < 4096 {
        buf.reserve(4096);
    }
    let spare = rustix::buffer::spare_capacity(&mut *buf);
    let n = rustix::io::read(&fd, spare)?;
    if n == 0 || buf.len() < buf.capacity() {
        return Ok(());
    }
    std::fs::File::from(fd).read_to_end(buf)?;
    Ok(())
}

/// `/proc/<pid>/<name>`, read whole (as [`read_at`]).
pub fn read_proc_file(pid: u32, name: &str) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    read_at(&rustix::fs::CWD, &format!("/proc/{pid}/{name}"), &mut buf)?;
    Ok(buf)
}

/// The executable link, as the library reports it: without the kernel's `" (deleted)"`
/// suffix when the file really was deleted; `None` when unreadable or not UTF-8.
fn read_exe_at(dir: &std::fs::File, path: &str) -> Option<String> {
    let target = rustix::fs::readlinkat(dir, path, Vec::with_capacity(256)).ok()?;
    let mut text = target.into_string().ok()?;
    if let Some(stem_len) = text.strip_suffix(" (deleted)").map(str::len) {
        let deleted = match rustix::fs::statat(dir, path, rustix::fs::AtFlags::empty()) {
            Ok(st) => st.st_nlink == 0,
            Err(_) => true,
        };
        if deleted {
            text.truncate(stem_len);
        }
    }
    Some(text)
}
