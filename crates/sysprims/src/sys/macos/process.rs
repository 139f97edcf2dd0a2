//! The process facade on macOS: `proc_listallpids` for the PIDs, `proc_pidinfo` for each
//! process (`PROC_PIDTBSDINFO`: parent, group, owner, state, start time; `PROC_PIDTASKINFO`:
//! memory, CPU, threads), `proc_pidpath` for the executable and `sysctl(KERN_PROCARGS2)` for
//! argv and the environment, decoded by the pure parsers in [`super::parse`].
//!
//! `PROC_PIDTBSDINFO` and `PROC_PIDTASKINFO` answer only for the caller's own processes (or
//! any, as root: `bsd/kern/proc_info.c` checks the same user); for the others the BSD part
//! comes from `sysctl(KERN_PROC_PID)` (as `ps` reads it), and the whole table from one
//! `sysctl(KERN_PROC_ALL)`; their memory and CPU are then 0. `proc_pidpath` answers for all.
//!
//! A process's identity is (PID, start time in µs since the Unix epoch, executable). The
//! start time is fixed by the kernel at `fork` and read back unchanged, so the stamp is
//! absolute: comparable across readers without a boot ID (the boot session UUID is reported
//! too, and a different one means a different process).
//!
//! macOS has no pidfd: every read is of whatever process has the PID at that moment. A read
//! that takes several calls checks the start time again at the end, so one [`ProcessInfo`]
//! never mixes two processes.

use std::sync::OnceLock;

pub(crate) use crate::sys::unix::users::{UserCache, uid_for_name};
pub(crate) use crate::sys::{ProcSummary, RawProcess};

use super::parse::{self, BsdInfo};
use super::{errno_error, last_errno};
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::{ProcessIdentity, ProcessInfo, ProcessOptions, ProcessState};

/// One reading of the clocks for a listing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// Wall clock now, µs since the Unix epoch (start times are on this clock).
    now_us: u64,
    /// A monotonic clock, nanoseconds.
    monotonic_ns: u64,
}

impl Clock {
    /// Read both clocks.
    pub(crate) fn now() -> Clock {
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        Clock {
            now_us,
            monotonic_ns: origin.elapsed().as_nanos() as u64,
        }
    }

    /// The monotonic reading, nanoseconds.
    pub(crate) fn monotonic_now_ns(&self) -> u64 {
        self.monotonic_ns
    }

    /// The wall-clock reading, Unix milliseconds.
    pub(crate) fn realtime_now_ms(&self) -> u64 {
        self.now_us / 1000
    }

    fn elapsed_ms(&self, start_us: u64) -> u64 {
        self.now_us.saturating_sub(start_us) / 1000
    }
}

/// Start stamps are µs on the wall clock fixed at `fork`: comparable without a boot ID.
pub(crate) const START_STAMPS_ARE_ABSOLUTE: bool = true;

/// The boot session's UUID (`sysctl kern.bootsessionuuid`), fixed for the life of a boot.
pub(crate) fn boot_id_str() -> Option<&'static str> {
    static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
    BOOT_ID.get_or_init(read_boot_session_uuid).as_deref()
}

fn read_boot_session_uuid() -> Option<String> {
    let mut buf = [0u8; 64];
    let mut len = buf.len();
    // SAFETY: the name is NUL-terminated; `buf` has `len` bytes, which the call updates.
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.bootsessionuuid".as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return None;
    }
    let text = parse::cut_at_nul(&buf[..len.min(buf.len())]);
    std::str::from_utf8(text)
        .ok()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// Every PID now in the process table, ascending (`proc_listallpids`; PID 0 is the kernel).
pub(crate) fn all_pids() -> Result<Vec<u32>> {
    // The table can grow between the sizing call and the listing: room for more, and again
    // with more room when it filled up.
    // SAFETY: a null buffer asks only for the count.
    let count = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
    if count <= 0 {
        return Err(errno_error("proc_listallpids", Subject::None, last_errno()));
    }
    let mut room = count as usize + 64;
    for _ in 0..4 {
        let mut pids = vec![0 as libc::pid_t; room];
        let bytes = (room * size_of::<libc::pid_t>()).min(i32::MAX as usize) as i32;
        // SAFETY: `pids` has `bytes` bytes; the call writes at most that many.
        let n = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), bytes) };
        // libproc turns the kernel's -1 into 0 (`proc_listpids`), and a table always holds
        // at least launchd and the kernel: none is a failure, not an empty table.
        if n <= 0 {
            return Err(errno_error("proc_listallpids", Subject::None, last_errno()));
        }
        let n = (n as usize).min(room);
        if n < room {
            pids.truncate(n);
            let mut out: Vec<u32> = pids
                .into_iter()
                .filter_map(|p| u32::try_from(p).ok())
                .collect();
            out.sort_unstable();
            out.dedup();
            return Ok(out);
        }
        room *= 2;
    }
    Err(SysprimsError::Internal {
        message: format!("proc_listallpids kept filling a buffer of {room} PIDs"),
    })
}

/// macOS thread IDs are not in the PID space (`proc_pidinfo` and `kill` never take one), so
/// there is nothing to refuse up front.
pub(crate) fn require_process(_pid: Pid) -> Result<()> {
    Ok(())
}

/// The error for a failed `proc_*` call about `pid`: `ESRCH` (or no errno at all, which is
/// what `proc_pidinfo` leaves for a PID no process has) is not found.
fn proc_error(operation: &'static str, pid: u32, errno: i32) -> SysprimsError {
    if errno == 0 || errno == libc::ESRCH {
        SysprimsError::process_not_found(operation, pid)
    } else {
        errno_error(operation, Subject::Process(pid), errno)
    }
}

/// What the kernel says of `pid`: `proc_pidinfo(PROC_PIDTBSDINFO)`, or, for a process of
/// another user (which that flavour answers only for root: `EPERM`), `sysctl(KERN_PROC_PID)`,
/// which answers for anyone's, as `ps` relies on. Both carry the same start time.
pub(crate) fn bsd_info(pid: u32) -> Result<BsdInfo> {
    match pid_bsd_info(pid) {
        Err(e) if e.code() == ErrorCode::PermissionDenied => kinfo_one(pid),
        other => other,
    }
}

/// `sysctl(CTL_KERN, KERN_PROC, KERN_PROC_PID, pid)`, parsed: zombies too.
fn kinfo_one(pid: u32) -> Result<BsdInfo> {
    let mut buf = [0u8; parse::KINFO_PROC_SIZE];
    let mut mib = [
        libc::CTL_KERN,
        libc::KERN_PROC,
        libc::KERN_PROC_PID,
        pid as libc::c_int,
    ];
    let mut len = buf.len();
    // SAFETY: `mib` has 4 entries; `buf` has `len` bytes, and the call says how many it wrote.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            4,
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(proc_error("sysctl(KERN_PROC_PID)", pid, last_errno()));
    }
    // No such process: the call succeeds with nothing written.
    if len < parse::KINFO_PROC_SIZE {
        return Err(SysprimsError::process_not_found(
            "sysctl(KERN_PROC_PID)",
            pid,
        ));
    }
    parse::parse_kinfo_proc(&buf).map_err(|e| SysprimsError::Internal {
        message: format!("cannot parse kinfo_proc of PID {pid}: {}", e.0),
    })
}

/// `sysctl(CTL_KERN, KERN_PROC, KERN_PROC_ALL)`, parsed: every process (zombies included)
/// in one call, whoever owns it.
fn kinfo_all() -> Result<Vec<BsdInfo>> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_ALL, 0];
    for _ in 0..4 {
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the size only.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                3,
                std::ptr::null_mut(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return Err(errno_error(
                "sysctl(KERN_PROC_ALL)",
                Subject::None,
                last_errno(),
            ));
        }
        // Room for processes started between the two calls.
        len += 64 * parse::KINFO_PROC_SIZE;
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` has `len` bytes; the call writes at most that many and says how many.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                3,
                buf.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            if last_errno() == libc::ENOMEM {
                continue; // the table outgrew the room: size it again
            }
            return Err(errno_error(
                "sysctl(KERN_PROC_ALL)",
                Subject::None,
                last_errno(),
            ));
        }
        buf.truncate(len.min(buf.len()));
        return Ok(buf
            .chunks_exact(parse::KINFO_PROC_SIZE)
            .filter_map(|rec| parse::parse_kinfo_proc(rec).ok())
            .collect());
    }
    Err(SysprimsError::Internal {
        message: "sysctl(KERN_PROC_ALL) kept outgrowing its buffer".into(),
    })
}

/// `proc_pidinfo(PROC_PIDTBSDINFO)`, parsed. The argument 1 asks the kernel to answer for a
/// zombie too (`bsd/kern/proc_info.c`: with a zero argument a zombie is `ESRCH`).
fn pid_bsd_info(pid: u32) -> Result<BsdInfo> {
    let mut buf = [0u8; parse::PROC_BSDINFO_SIZE];
    // SAFETY: `buf` has the size passed; the kernel copies at most that many bytes into it.
    let n = unsafe {
        libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTBSDINFO,
            1,
            buf.as_mut_ptr().cast(),
            buf.len() as libc::c_int,
        )
    };
    if n <= 0 {
        return Err(proc_error(
            "proc_pidinfo(PROC_PIDTBSDINFO)",
            pid,
            last_errno(),
        ));
    }
    let n = (n as usize).min(buf.len());
    parse::parse_bsdinfo(&buf[..n]).map_err(|e| SysprimsError::Internal {
        message: format!("cannot parse proc_bsdinfo of PID {pid}: {}", e.0),
    })
}

/// What `proc_pidinfo(PROC_PIDTASKINFO)` says: `None` for a zombie (no task left) or a
/// process of another user (the kernel wants the caller to be root or the owner).
fn task_info(pid: u32) -> Option<libc::proc_taskinfo> {
    // SAFETY: plain data; every bit pattern is valid.
    let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::proc_taskinfo>() as libc::c_int;
    // SAFETY: `info` is ours and `size` is its size.
    let n = unsafe {
        libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTASKINFO,
            0,
            (&mut info as *mut libc::proc_taskinfo).cast(),
            size,
        )
    };
    (n == size).then_some(info)
}

/// Mach absolute time units to nanoseconds (`mach_timebase_info`: 1/1 on Intel Macs,
/// 125/3 on Apple silicon, whose task times count 24 MHz ticks).
///
/// libc marks its `mach_timebase_info` deprecated in favour of the `mach2` crate; the
/// definition is right and stable (`<mach/mach_time.h>`), and a crate for one call is not
/// worth its weight, so the deprecation is allowed here.
#[allow(deprecated)]
pub(crate) fn mach_to_ns(t: u64) -> u64 {
    static TIMEBASE: OnceLock<(u32, u32)> = OnceLock::new();
    let (numer, denom) = *TIMEBASE.get_or_init(|| {
        let mut tb = libc::mach_timebase_info { numer: 0, denom: 0 };
        // SAFETY: writes one struct we own.
        let rc = unsafe { libc::mach_timebase_info(&mut tb) };
        if rc == 0 && tb.numer != 0 && tb.denom != 0 {
            (tb.numer, tb.denom)
        } else {
            (1, 1)
        }
    });
    parse::scale_ticks(t, numer, denom)
}

/// `proc_pidpath`: the executable's absolute path; `None` when it cannot be read
/// (permission, a zombie) or is not UTF-8.
pub(crate) fn exe_path(pid: u32) -> Option<String> {
    let mut buf = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
    // SAFETY: `buf` has the size passed.
    let n = unsafe {
        libc::proc_pidpath(
            pid as libc::c_int,
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
        )
    };
    if n <= 0 {
        return None;
    }
    buf.truncate((n as usize).min(buf.len()));
    let path = parse::cut_at_nul(&buf);
    std::str::from_utf8(path)
        .ok()
        .filter(|p| !p.is_empty())
        .map(str::to_string)
}

/// `sysctl(KERN_ARGMAX)`: the largest argument area, hence the buffer `KERN_PROCARGS2` needs.
fn arg_max() -> usize {
    static ARG_MAX: OnceLock<usize> = OnceLock::new();
    *ARG_MAX.get_or_init(|| {
        let mut mib = [libc::CTL_KERN, libc::KERN_ARGMAX];
        let mut value: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>();
        // SAFETY: `mib` has 2 entries; `value` has `len` bytes.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                2,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc == 0 && value > 0 {
            value as usize
        } else {
            1024 * 1024
        }
    })
}

/// Read the `KERN_PROCARGS2` buffer of `pid` into `buf` (kept at `KERN_ARGMAX` bytes across
/// calls, so it is zeroed once, not per process); how many bytes it holds, or `None` when the
/// kernel refuses (a zombie, a process of another user, a system process: all `EINVAL`).
fn procargs2(pid: u32, buf: &mut Vec<u8>) -> Option<usize> {
    if buf.len() < arg_max() {
        buf.resize(arg_max(), 0);
    }
    let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid as libc::c_int];
    let mut len = buf.len();
    // SAFETY: `mib` has 3 entries; `buf` has `len` bytes, and the call writes at most that
    // many and says how many in `len`.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0).then_some(len.min(buf.len()))
}

/// Reusable buffers for reading many processes.
#[derive(Default)]
struct Reader {
    args: Vec<u8>,
}

impl Reader {
    /// Read everything [`ProcessInfo`] holds (not the user name: the caller resolves UIDs
    /// with a cache), then confirm that the PID still names the process first read.
    fn read(&mut self, pid: u32, options: ProcessOptions, clock: &Clock) -> Result<RawProcess> {
        let bsd = bsd_info(pid)?;
        let state = parse::process_state(&bsd);
        let kernel = pid == 0 || bsd.is_system();
        let mut info = ProcessInfo::empty(pid);
        info.ppid = bsd.ppid;
        info.pgid = bsd.pgid;
        info.name = String::from_utf8_lossy(&bsd.name).into_owned();
        info.uid = bsd.uid;
        info.state = state;
        info.kernel_thread = kernel;
        info.elapsed_ms = clock.elapsed_ms(bsd.start_time_us);
        info.start_time_unix_ms = Some(bsd.start_time_ms());
        info.start_time_boot_ticks = Some(bsd.start_time_us);
        info.boot_id = boot_id_str().map(str::to_string);
        if let Ok(raw) = Pid::new(pid) {
            // SAFETY: getsid with a positive PID touches no memory.
            let sid = unsafe { libc::getsid(raw.as_raw()) };
            info.sid = u32::try_from(sid).unwrap_or(0);
        }
        let mut cpu_time_ns = 0;
        if let Some(task) = task_info(pid) {
            cpu_time_ns = mach_to_ns(task.pti_total_user.saturating_add(task.pti_total_system));
            info.memory_kb = task.pti_resident_size / 1024;
            info.thread_count = u32::try_from(task.pti_threadnum).unwrap_or(0);
            info.cpu_percent = if info.elapsed_ms == 0 {
                0.0
            } else {
                (cpu_time_ns / 1_000_000) as f64 * 100.0 / info.elapsed_ms as f64
            };
        }
        if !kernel && state != ProcessState::Zombie {
            info.exe_path = exe_path(pid);
            if let Some(len) = procargs2(pid, &mut self.args)
                && let Ok(args) = parse::parse_procargs2(&self.args[..len])
            {
                info.set_cmdline(args.argv.iter().copied());
                if options.include_env {
                    info.env = Some(parse::env_map(&args.env));
                }
            }
        }
        // The same process throughout: same start time under the PID at the end.
        match bsd_info(pid) {
            Ok(again) if again.start_time_us == bsd.start_time_us => {}
            _ => return Err(SysprimsError::process_not_found("read process", pid)),
        }
        Ok(RawProcess {
            info,
            cpu_time_ns,
            start: bsd.start_time_us,
        })
    }
}

/// Read one process.
pub(crate) fn read_one(pid: Pid, options: ProcessOptions) -> Result<ProcessInfo> {
    const ATTEMPTS: usize = 3;
    let mut reader = Reader::default();
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match reader.read(pid.get(), options, &Clock::now()) {
            Ok(mut raw) => {
                raw.info.user = crate::sys::unix::users::cached_name(raw.info.uid);
                return Ok(raw.info);
            }
            // Replaced mid-read by a newcomer with the PID: read the newcomer.
            Err(e) if e.code() == ErrorCode::NotFound => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| SysprimsError::process_not_found("read process", pid.get())))
}

/// Read many processes; those that exit meanwhile, or that may not be read, are skipped.
pub(crate) fn read_many(
    pids: &[u32],
    options: ProcessOptions,
    clock: &Clock,
) -> Result<Vec<RawProcess>> {
    let mut reader = Reader::default();
    let mut out = Vec::with_capacity(pids.len());
    for &pid in pids {
        match reader.read(pid, options, clock) {
            Ok(raw) => out.push(raw),
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::PermissionDenied) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The summary of one process: `PROC_PIDTBSDINFO`, plus `PROC_PIDTASKINFO` for the CPU.
fn summary(pid: u32) -> Result<ProcSummary> {
    let bsd = bsd_info(pid)?;
    let cpu_time_ns = task_info(pid)
        .map(|t| mach_to_ns(t.pti_total_user.saturating_add(t.pti_total_system)))
        .unwrap_or(0);
    Ok(ProcSummary {
        pid,
        ppid: bsd.ppid,
        pgid: bsd.pgid,
        state: parse::process_state(&bsd),
        kernel_thread: pid == 0 || bsd.is_system(),
        cpu_time_ns,
        start: bsd.start_time_us,
    })
}

fn summaries(pids: &[u32]) -> Result<Vec<ProcSummary>> {
    let mut out = Vec::with_capacity(pids.len());
    for &pid in pids {
        match summary(pid) {
            Ok(s) => out.push(s),
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::PermissionDenied) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Summaries of every process: what the tree walks and descendant lists need. One
/// `sysctl(KERN_PROC_ALL)` for the table (every user's processes, where `PROC_PIDTBSDINFO`
/// shows only the caller's), then `PROC_PIDTASKINFO` each for the CPU (0 where refused).
pub(crate) fn table() -> Result<Vec<ProcSummary>> {
    let mut out: Vec<ProcSummary> = kinfo_all()?
        .into_iter()
        .map(|bsd| {
            let cpu_time_ns = task_info(bsd.pid)
                .map(|t| mach_to_ns(t.pti_total_user.saturating_add(t.pti_total_system)))
                .unwrap_or(0);
            ProcSummary {
                pid: bsd.pid,
                ppid: bsd.ppid,
                pgid: bsd.pgid,
                state: parse::process_state(&bsd),
                kernel_thread: bsd.pid == 0 || bsd.is_system(),
                cpu_time_ns,
                start: bsd.start_time_us,
            }
        })
        .collect();
    out.sort_by_key(|s| s.pid);
    out.dedup_by_key(|s| s.pid);
    Ok(out)
}

/// Summaries of these processes; those that do not exist are left out.
pub(crate) fn table_of(pids: &[u32]) -> Result<Vec<ProcSummary>> {
    summaries(pids)
}

/// Capture a process's identity: its start time, its executable, and the start time again,
/// so the executable read is that process's (a PID reused in between reads a different
/// start time, and the capture is tried again, then not found).
pub(crate) fn capture_identity(pid: Pid) -> Result<ProcessIdentity> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let first = bsd_info(pid.get())?;
        let exe_path = exe_path(pid.get());
        let again = bsd_info(pid.get())?;
        if again.start_time_us != first.start_time_us {
            continue;
        }
        return Ok(ProcessIdentity {
            pid: pid.get(),
            start_time_unix_ms: Some(first.start_time_ms()),
            start_time_boot_ticks: Some(first.start_time_us),
            boot_id: boot_id_str().map(str::to_string),
            exe_path,
            pidfs_inode: None,
        });
    }
    Err(SysprimsError::process_not_found(
        "capture identity",
        pid.get(),
    ))
}
