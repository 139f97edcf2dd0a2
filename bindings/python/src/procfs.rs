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
