//! The `/proc` reads the binding makes itself: `Process(pid)`'s identity capture, the reads
//! the library has no call for (`cpu_times`, `memory_info`, `cmdline` alone, `pids`), and
//! `process_iter`'s lean listing. A `Process(pid)` reads by path and then checks its held
//! pidfd (the process was unreaped, so the PID was its throughout); a process without one
//! (listed, or loaded from an identity) reads through a `/proc/<pid>` directory fd whose
//! start time matches the stored identity, so the figures are the stored process's or an
//! error.

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
    rustix::param::clock_ticks_per_second().max(1)
}

/// The boot time in whole Unix seconds, as the library computes it: the kernel's `btime`,
/// `floor(CLOCK_REALTIME - CLOCK_BOOTTIME)`, bracketed by two reads of the wall clock (three
/// vDSO calls); `/proc/stat`'s `btime` when the bracket straddles a second. Read per call,
/// not cached: a stepped wall clock moves it, and the library's start times move with it.
fn boot_unix_secs() -> Option<u64> {
    use rustix::time::{ClockId, clock_gettime};
    let nanos = |c| {
        let ts = clock_gettime(c);
        i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
    };
    let r1 = nanos(ClockId::Realtime);
    let b = nanos(ClockId::Boottime);
    let r2 = nanos(ClockId::Realtime);
    let (low, high) = (
        (r1 - b).div_euclid(1_000_000_000),
        (r2 - b).div_euclid(1_000_000_000),
    );
    if low == high {
        return u64::try_from(low).ok();
    }
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// A start given as ticks after boot, as Unix milliseconds (the library's formula).
fn start_unix_ms(boot_secs: Option<u64>, ticks: u64) -> Option<u64> {
    boot_secs.map(|b| {
        b.saturating_mul(1000)
            .saturating_add((u128::from(ticks) * 1000 / u128::from(clock_ticks())) as u64)
    })
}

/// The kernel's boot ID, read once.
fn boot_id() -> Option<String> {
    static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .clone()
}

pub fn parse_stat(bytes: &[u8]) -> Option<Stat> {
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

/// A `/proc/<pid>` directory fd, for reads of a process no pidfd is held on (a listed one, one
/// loaded from an identity). It pins one process: once that process has been reaped, every
/// lookup through the fd fails (`ENOENT`, `ESRCH`), even after a newcomer got the PID, because
/// the directory belongs to the kernel's `struct pid` of that process, not to the number. So
/// once its start time matches the stored one, reads through it are that process's.
pub struct ProcDir {
    fd: rustix::fd::OwnedFd,
}

impl ProcDir {
    /// Open `/proc/<pid>` (whatever process has the PID now).
    pub fn open(pid: u32) -> Result<ProcDir, ReadError> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            format!("/proc/{pid}"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ReadError::from(std::io::Error::from(e)))?;
        Ok(ProcDir { fd })
    }

    /// Open `/proc/<pid>` and check that the process there started at `start`.
    pub fn open_checked(pid: u32, start: Start) -> Result<(ProcDir, Stat), ReadError> {
        let dir = ProcDir::open(pid)?;
        let stat = dir.stat()?;
        let ticks = stat.field(22);
        let same = match start {
            Start::Ticks(t) => t == ticks,
            Start::UnixMs(ms) => start_unix_ms(boot_unix_secs(), ticks) == Some(ms),
        };
        if !same {
            return Err(ReadError::Gone("its PID now names another process"));
        }
        Ok((dir, stat))
    }

    /// The process's `stat`.
    pub fn stat(&self) -> Result<Stat, ReadError> {
        let bytes = self.read("stat")?;
        parse_stat(&bytes).ok_or(ReadError::Other("cannot parse a /proc stat file".into()))
    }

    /// A file of the directory, read whole.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, ReadError> {
        let mut buf = Vec::with_capacity(4096);
        read_at(&self.fd, name, &mut buf)?;
        Ok(buf)
    }
}

/// `(rss, vms, shared, text, lib, data, dirty)` in bytes, from a `statm` file.
pub fn memory_info(statm: &[u8]) -> [u64; 7] {
    let text = String::from_utf8_lossy(statm);
    let page = rustix::param::page_size() as u64;
    let pages: Vec<u64> = text
        .split_ascii_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let get = |i: usize| pages.get(i).copied().unwrap_or(0) * page;
    // statm: size resident shared text lib data dirty; psutil's order is rss first.
    [get(1), get(0), get(2), get(3), get(4), get(5), get(6)]
}
impl Stat {
    /// The start, clock ticks after boot (field 22).
    pub fn start_ticks(&self) -> u64 {
        self.field(22)
    }

    /// `(user, system, children_user, children_system, iowait)` in seconds.
    pub fn cpu_times(&self) -> (f64, f64, f64, f64, f64) {
        let hz = clock_ticks() as f64;
        let s = |n| self.field(n) as f64 / hz;
        (s(14), s(15), s(16), s(17), s(42))
    }
}

/// `cmdline`'s NUL-separated arguments (none for an empty file).
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let body = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if body.is_empty() {
        return Vec::new();
    }
    body.split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// `Process(pid)`'s capture: the start of the process `handle` holds, as the library's
/// `handle.identity()` takes it (start ticks, the same Unix milliseconds, boot ID), in 4
/// system calls after the pidfd's open instead of 8: `stat` is read by path, then the pidfd
/// must still hold an unreaped process, so the PID named it throughout and `stat` was its.
/// The library's capture also opens `/proc/<pid>` as a directory (an `open` and a `close`:
/// 6.6 µs here, against 17 µs for all of `stat`) and reads the `exe` link and the pidfs
/// inode, which
/// [`complete`] adds when something needs them (a signal, `identity()`).
pub fn capture(
    handle: &sysprims::ProcessHandle,
    pid: u32,
) -> Result<sysprims::ProcessIdentity, ReadError> {
    let stat = read_proc_file(pid, "stat")?;
    let ticks = parse_stat(&stat)
        .ok_or(ReadError::Other(format!("cannot parse /proc/{pid}/stat")))?
        .start_ticks();
    match handle.is_present() {
        Ok(true) => {}
        Ok(false) => return Err(ReadError::Gone("it has exited")),
        Err(e) => return Err(ReadError::Other(e.to_string())),
    }
    Ok(sysprims::ProcessIdentity {
        pid,
        start_time_unix_ms: start_unix_ms(boot_unix_secs(), ticks),
        start_time_boot_ticks: Some(ticks),
        boot_id: boot_id(),
        exe_path: None,
        pidfs_inode: None,
    })
}

/// [`capture`]'s identity with the executable (`exe` if known, else the link read now, kept
/// only if the pidfd's process was still there after the read) and the pidfs inode, which
/// the held pidfd gives for its process whenever it is asked.
pub fn complete(
    handle: &sysprims::ProcessHandle,
    pid: u32,
    base: &sysprims::ProcessIdentity,
    exe: Option<String>,
) -> sysprims::ProcessIdentity {
    let exe_path = exe.or_else(|| {
        let read = read_exe(pid);
        matches!(handle.is_present(), Ok(true))
            .then_some(read)
            .flatten()
    });
    sysprims::ProcessIdentity {
        exe_path,
        pidfs_inode: base
            .boot_id
            .as_deref()
            .and_then(|b| pidfs_inode(handle, pid, b)),
        ..base.clone()
    }
}

/// `/proc/<pid>/exe`, as the library reports it (see [`read_exe_at`]).
pub fn read_exe(pid: u32) -> Option<String> {
    read_exe_at(&rustix::fs::CWD, &format!("/proc/{pid}/exe"))
}

/// The pidfs inode of the process `handle` holds (Linux 6.9+), in one `fstat`. The library
/// keeps it behind `verify`, whose answer for an identity naming inode 0 (which no process
/// has) is a `PidfsInodeMismatch` carrying the held process's inode as its evidence. `None`
/// where pidfds are not on pidfs (then `verify` answers from start times instead, and this
/// is not asked again).
fn pidfs_inode(handle: &sysprims::ProcessHandle, pid: u32, boot_id: &str) -> Option<u64> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static NO_PIDFS: AtomicBool = AtomicBool::new(false);
    if NO_PIDFS.load(Ordering::Relaxed) {
        return None;
    }
    let probe = sysprims::ProcessIdentity {
        pid,
        start_time_unix_ms: None,
        start_time_boot_ticks: None,
        boot_id: Some(boot_id.to_string()),
        exe_path: None,
        pidfs_inode: Some(0),
    };
    match handle.verify(&probe) {
        Ok(sysprims::IdentityCheck::Reused {
            reason: sysprims::ReuseReason::PidfsInodeMismatch { current, .. },
        }) => Some(current),
        _ => {
            NO_PIDFS.store(true, Ordering::Relaxed);
            None
        }
    }
}

/// `/proc/<pid>/<name>`, read whole (as [`read_at`]).
pub fn read_proc_file(pid: u32, name: &str) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    read_at(&rustix::fs::CWD, &format!("/proc/{pid}/{name}"), &mut buf)?;
    Ok(buf)
}
/// Every PID in `/proc`, ascending.
pub fn pids() -> std::io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// What [`LeanListing`] reads of each process besides `stat` and the executable link (which
/// it always reads: they make the identity a listed process is checked against).
#[derive(Clone, Copy)]
pub struct Wanted {
    /// The command line (for `cmdline`, and for `name` when the kernel's name was cut).
    pub cmdline: bool,
}

/// One process as [`LeanListing`] read it.
pub struct Lean {
    pub pid: u32,
    pub ppid: u32,
    /// The kernel's name (`comm`), at most 15 bytes.
    pub comm: String,
    pub start_ms: Option<u64>,
    pub exe: Option<String>,
    pub cmdline: Vec<String>,
    start_ticks: u64,
    /// A hash of `comm` and the raw command line, when the command line was read.
    exe_key: Option<u64>,
}

/// A process's executable as one listing read it, for the next: the link is read again only
/// if the process's start, `comm` or command line differ. Only `execve` changes the link, and
/// it replaces the command line and (from the new file's name) `comm`; an exec that keeps
/// both leaves the old path here (psutil's `exe()` is cached per process object, across
/// `process_iter` calls, the same way), which errs on the safe side for signals: a listed
/// process whose executable no longer matches its identity is refused, never a stranger hit.
struct KnownExe {
    ticks: u64,
    key: u64,
    exe: Option<String>,
}

type KnownExes = std::collections::HashMap<u32, KnownExe>;

/// What the last complete listing with command lines learnt (see [`KnownExe`]).
static KNOWN_EXES: std::sync::Mutex<Option<std::sync::Arc<KnownExes>>> =
    std::sync::Mutex::new(None);

fn exe_key(comm: &[u8], cmdline: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    comm.hash(&mut h);
    cmdline.hash(&mut h);
    h.finish()
}

/// Every process's `stat`, executable and (if wanted) command line: the few reads
/// `process_iter(['pid', 'name', 'cmdline', 'create_time', 'exe'])` needs, and nothing else
/// (no `status`, no `fstat`, no user lookup, no pidfd). Each file is opened relative to one
/// `/proc` fd. Processes that exit during the listing, or that permission hides, are left
/// out. The start time is computed as the library computes it (its boot time plus the start
/// ticks), so a listed process's identity matches the library's.
///
/// The PIDs are read in blocks of [`BLOCK`], handed out in order to whoever is free: one
/// worker thread per core but one, and the caller, which takes the blocks in PID order with
/// [`LeanListing::next_block`] and turns each into Python objects (holding the GIL) while the
/// workers read the following ones; when the next block is not read yet, the caller reads an
/// unclaimed one itself rather than wait. Most of a listing is the kernel's work (`stat`
/// alone is about half of it), so this overlaps the GIL-bound part with it.
pub struct LeanListing {
    shared: std::sync::Arc<Shared>,
    /// The executables this listing read, for the next one.
    learnt: KnownExes,
    blocks: usize,
    /// The next block to hand out from [`LeanListing::next_block`].
    next: usize,
}

/// PIDs per block: small enough to balance the work between threads and to start building
/// objects early, large enough that claiming one costs nothing next to reading it.
pub const BLOCK: usize = 64;

struct Shared {
    proc_dir: std::fs::File,
    pids: Vec<u32>,
    wanted: Wanted,
    boot: Option<u64>,
    /// What the previous listing learnt of the executables.
    known: std::sync::Arc<KnownExes>,
    /// The next block nobody has claimed.
    claim: std::sync::atomic::AtomicUsize,
    slots: std::sync::Mutex<Vec<Slot>>,
    filled: std::sync::Condvar,
}

enum Slot {
    /// Not read yet (or being read).
    Pending,
    Done(Vec<Lean>),
    /// Its reader panicked: the caller reads it again.
    Failed,
    Taken,
}

impl Shared {
    /// Claim the next unread block and read it; `None` when every block is claimed.
    fn read_one(&self) -> Option<(usize, Vec<Lean>)> {
        let i = self
            .claim
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pids = self.pids.chunks(BLOCK).nth(i)?;
        Some((
            i,
            lean_chunk(&self.proc_dir, pids, self.wanted, self.boot, &self.known),
        ))
    }

    fn store(&self, i: usize, slot: Slot) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[i] = slot;
        drop(slots);
        self.filled.notify_all();
    }
}

impl LeanListing {
    /// List `/proc` and start the workers.
    pub fn start(wanted: Wanted) -> std::io::Result<LeanListing> {
        let proc_dir = std::fs::File::open("/proc")?;
        let pids = pids()?;
        let blocks = pids.len().div_ceil(BLOCK);
        let shared = std::sync::Arc::new(Shared {
            proc_dir,
            pids,
            wanted,
            // One boot time for the whole listing, as the library's listing takes one clock
            // reading.
            boot: boot_unix_secs(),
            known: if wanted.cmdline {
                let known = KNOWN_EXES.lock().unwrap_or_else(|e| e.into_inner());
                known.clone().unwrap_or_default()
            } else {
                std::sync::Arc::default()
            },
            claim: std::sync::atomic::AtomicUsize::new(0),
            slots: std::sync::Mutex::new((0..blocks).map(|_| Slot::Pending).collect()),
            filled: std::sync::Condvar::new(),
        });
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4)
            .saturating_sub(1)
            .min(blocks.saturating_sub(1) / 2);
        for _ in 0..workers {
            let shared = std::sync::Arc::clone(&shared);
            // A worker that cannot start leaves its blocks to the others and the caller.
            let _ = std::thread::Builder::new()
                .name("sysprims-list".into())
                .spawn(move || {
                    loop {
                        let claimed =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                shared.read_one()
                            }));
                        match claimed {
                            Ok(Some((i, rows))) => shared.store(i, Slot::Done(rows)),
                            Ok(None) => break,
                            Err(_) => {
                                // Which block it was is unknown here: mark every pending
                                // one that is claimed as failed; the caller rereads them.
                                let claimed_up_to = shared
                                    .claim
                                    .load(std::sync::atomic::Ordering::Relaxed)
                                    .min(blocks);
                                let mut slots =
                                    shared.slots.lock().unwrap_or_else(|e| e.into_inner());
                                for slot in slots.iter_mut().take(claimed_up_to) {
                                    if matches!(slot, Slot::Pending) {
                                        *slot = Slot::Failed;
                                    }
                                }
                                drop(slots);
                                shared.filled.notify_all();
                                break;
                            }
                        }
                    }
                });
        }
        Ok(LeanListing {
            shared,
            learnt: KnownExes::with_capacity(if wanted.cmdline { blocks * BLOCK } else { 0 }),
            blocks,
            next: 0,
        })
    }

    /// The next block of processes in PID order (`None` after the last): read by a worker,
    /// or here. Call it without the GIL: it may read `/proc` or wait for a worker.
    pub fn next_block(&mut self) -> Option<Vec<Lean>> {
        if self.next >= self.blocks {
            if self.shared.wanted.cmdline && self.next == self.blocks {
                // Complete: what it learnt replaces what the previous listing did.
                self.next += 1;
                let learnt = std::mem::take(&mut self.learnt);
                *KNOWN_EXES.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(std::sync::Arc::new(learnt));
            }
            return None;
        }
        let rows = self.next_rows();
        Some(self.learn(rows))
    }

    /// Note the executables of `rows`, for the next listing.
    fn learn(&mut self, rows: Vec<Lean>) -> Vec<Lean> {
        for row in &rows {
            if let Some(key) = row.exe_key {
                self.learnt.insert(
                    row.pid,
                    KnownExe {
                        ticks: row.start_ticks,
                        key,
                        exe: row.exe.clone(),
                    },
                );
            }
        }
        rows
    }

    fn next_rows(&mut self) -> Vec<Lean> {
        let want = self.next;
        self.next += 1;
        let shared = &*self.shared;
        let mut slots = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match std::mem::replace(&mut slots[want], Slot::Taken) {
                Slot::Done(rows) => return rows,
                Slot::Failed => {
                    drop(slots);
                    let pids = shared.pids.chunks(BLOCK).nth(want).unwrap_or(&[]);
                    return lean_chunk(
                        &shared.proc_dir,
                        pids,
                        shared.wanted,
                        shared.boot,
                        &shared.known,
                    );
                }
                Slot::Pending | Slot::Taken => slots[want] = Slot::Pending,
            }
            // Not read yet: read an unclaimed block here (maybe this one) rather than wait.
            drop(slots);
            match shared.read_one() {
                Some((i, rows)) if i == want => return rows,
                Some((i, rows)) => shared.store(i, Slot::Done(rows)),
                None => {
                    // Every block is claimed: wait for this one's reader.
                    let guard = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
                    slots = shared
                        .filled
                        .wait_while(guard, |s| matches!(s[want], Slot::Pending))
                        .unwrap_or_else(|e| e.into_inner());
                    continue;
                }
            }
            slots = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn lean_chunk(
    proc_dir: &std::fs::File,
    pids: &[u32],
    wanted: Wanted,
    boot: Option<u64>,
    known: &KnownExes,
) -> Vec<Lean> {
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
        let start_ms = start_unix_ms(boot, start_ticks);
        path.truncate(path.len() - "stat".len());
        let base = path.len();
        let mut cmdline = Vec::new();
        let mut key = None;
        if wanted.cmdline {
            path.push_str("cmdline");
            if read_at(proc_dir, &path, &mut buf).is_err() {
                buf.clear();
            }
            cmdline = split_cmdline(&buf);
            key = Some(exe_key(comm.as_bytes(), &buf));
            path.truncate(base);
        }
        // The link again only if the process may have run another program since the last
        // listing read it (see `KnownExe`).
        let exe = match (key, known.get(&pid)) {
            (Some(key), Some(k)) if k.ticks == start_ticks && k.key == key => k.exe.clone(),
            _ => {
                path.push_str("exe");
                read_exe_at(proc_dir, &path)
            }
        };
        out.push(Lean {
            pid,
            ppid,
            comm,
            start_ms,
            exe,
            cmdline,
            start_ticks,
            exe_key: key,
        });
    }
    out
}

/// `(comm, ppid, starttime)` from a `stat` line: the fields after the command name are
/// single-space separated decimal numbers (after the state letter), so they are counted and
/// parsed as bytes, without a UTF-8 check of the whole line.
fn parse_stat_lean(bytes: &[u8]) -> Option<(String, u32, u64)> {
    let open = bytes.iter().position(|&b| b == b'(')?;
    let close = bytes.iter().rposition(|&b| b == b')')?;
    let comm = String::from_utf8_lossy(bytes.get(open + 1..close)?).into_owned();
    // Fields from 3 (state): ppid is field 4, starttime field 22.
    let mut fields = bytes.get(close + 2..)?.split(|&b| b == b' ');
    let ppid = decimal(fields.nth(1)?)?;
    let start = decimal(fields.nth(22 - 5)?)?;
    Some((comm, u32::try_from(ppid).ok()?, start))
}

/// A non-empty run of ASCII digits as a number (`None` for anything else or an overflow).
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
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

/// The executable link, as the library reports it: without the kernel's `" (deleted)"`
/// suffix when the file really was deleted; `None` when unreadable or not UTF-8.
fn read_exe_at(dir: &impl rustix::fd::AsFd, path: &str) -> Option<String> {
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
