//! The process facade on Windows: a Toolhelp snapshot for the table (PID, parent, threads,
//! name), a process handle for the rest (creation time, CPU, memory, exe, user, cmdline).

use std::collections::HashMap;
use std::mem::{size_of, zeroed};

use windows_sys::Wdk::System::Threading::{NtQueryInformationProcess, ProcessBasicInformation};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Security::{
    GetTokenInformation, LookupAccountSidW, SID_NAME_USE, TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::System::Diagnostics::Debug::ReadProcessMemory;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::ProcessStatus::{GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows_sys::Win32::System::Threading::{
    OpenProcessToken, PEB, PROCESS_BASIC_INFORMATION, PROCESS_VM_READ, RTL_USER_PROCESS_PARAMETERS,
};

pub(crate) use crate::sys::{ProcSummary, RawProcess};

use super::handle::{BASE_ACCESS, ProcHandle};
use super::{filetime_to_unix_ms, from_wide_nul, last_error, now_filetime};
use crate::error::{ErrorCode, Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::process::{ProcessIdentity, ProcessInfo, ProcessOptions, ProcessState};

/// The System Idle Process and the System process: the kernel's, not processes that can be
/// ended.
const IDLE_PID: u32 = 0;
const SYSTEM_PID: u32 = 4;

/// One reading of the clocks for a listing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// Wall clock now, FILETIME (creation times are on this clock).
    now_filetime: u64,
    /// A monotonic clock, nanoseconds.
    monotonic_ns: u64,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        use std::sync::OnceLock;
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        Clock {
            now_filetime: now_filetime(),
            monotonic_ns: origin.elapsed().as_nanos() as u64,
        }
    }

    pub(crate) fn monotonic_now_ns(&self) -> u64 {
        self.monotonic_ns
    }

    pub(crate) fn realtime_now_ms(&self) -> u64 {
        filetime_to_unix_ms(self.now_filetime).unwrap_or(0)
    }

    fn elapsed_ms(&self, creation: u64) -> u64 {
        self.now_filetime.saturating_sub(creation) / 10_000
    }
}

/// User names are read per process from its token (Windows has no UID to look up later), so
/// the portable layer's cache has nothing to add.
#[derive(Default)]
pub(crate) struct UserCache {
    _none: (),
}

impl UserCache {
    pub(crate) fn name(&mut self, _uid: u32) -> Option<String> {
        None
    }
}

/// No user database to search by name: a `--user` filter on Windows matches nothing by UID.
pub(crate) fn uid_for_name(_name: &str) -> Option<u32> {
    None
}

/// Windows has no boot ID; creation times are absolute (see [`START_STAMPS_ARE_ABSOLUTE`]).
pub(crate) fn boot_id_str() -> Option<&'static str> {
    None
}

/// Creation times are FILETIMEs on the wall clock at 100 ns, fixed at creation: comparable
/// without a boot ID.
pub(crate) const START_STAMPS_ARE_ABSOLUTE: bool = true;

/// One Toolhelp row.
#[derive(Clone, Debug)]
struct Entry {
    pid: u32,
    ppid: u32,
    threads: u32,
    name: String,
}

/// Every process in one
/// [`CreateToolhelp32Snapshot`](https://learn.microsoft.com/en-us/windows/win32/api/tlhelp32/nf-tlhelp32-createtoolhelp32snapshot).
fn toolhelp() -> Result<Vec<Entry>> {
    // SAFETY: no pointers; the handle is closed below.
    let snap = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snap == INVALID_HANDLE_VALUE {
        return Err(last_error("CreateToolhelp32Snapshot", Subject::None));
    }
    struct Snap(HANDLE);
    impl Drop for Snap {
        fn drop(&mut self) {
            // SAFETY: the snapshot handle is ours.
            unsafe { CloseHandle(self.0) };
        }
    }
    let snap = Snap(snap);
    let mut out = Vec::with_capacity(256);
    // SAFETY: PROCESSENTRY32W is plain data; dwSize is set as the API requires.
    let mut entry: PROCESSENTRY32W = unsafe { zeroed() };
    entry.dwSize = size_of::<PROCESSENTRY32W>() as u32;
    // SAFETY: `entry` is ours with dwSize set.
    let mut ok = unsafe { Process32FirstW(snap.0, &mut entry) };
    while ok != 0 {
        out.push(Entry {
            pid: entry.th32ProcessID,
            ppid: entry.th32ParentProcessID,
            threads: entry.cntThreads,
            name: from_wide_nul(&entry.szExeFile),
        });
        // SAFETY: as above.
        ok = unsafe { Process32NextW(snap.0, &mut entry) };
    }
    out.sort_by_key(|e| e.pid);
    Ok(out)
}

/// Every PID now in the process table, ascending.
pub(crate) fn all_pids() -> Result<Vec<u32>> {
    Ok(toolhelp()?.into_iter().map(|e| e.pid).collect())
}

/// Windows has no thread IDs that process calls would mistake for processes' (`OpenProcess`
/// refuses a thread ID), so there is nothing to refuse up front.
pub(crate) fn require_process(_pid: Pid) -> Result<()> {
    Ok(())
}

/// The kernel's own two entries, with no handle to read.
fn kernel_entry(e: &Entry) -> bool {
    e.pid == IDLE_PID || e.pid == SYSTEM_PID
}

/// Read one process through a handle held for the whole read.
fn read_entry(
    e: &Entry,
    options: ProcessOptions,
    clock: &Clock,
    users: &mut SidNames,
) -> Result<RawProcess> {
    let mut info = ProcessInfo::empty(e.pid);
    info.ppid = e.ppid;
    info.thread_count = e.threads;
    info.name = e.name.clone();
    info.state = ProcessState::Running;
    let mut session = 0u32;
    // SAFETY: one u32 we own.
    if unsafe { ProcessIdToSessionId(e.pid, &mut session) } != 0 {
        info.sid = session;
    }
    if kernel_entry(e) {
        info.kernel_thread = true;
        return Ok(RawProcess {
            info,
            cpu_time_ns: 0,
            start: 0,
        });
    }
    let pid = Pid::new(e.pid)?;
    // With PROCESS_VM_READ the command line can be read too; without, the rest still can.
    let handle = ProcHandle::open(pid, BASE_ACCESS | PROCESS_VM_READ)
        .or_else(|_| ProcHandle::open(pid, BASE_ACCESS))?;
    let times = handle.times()?;
    if handle.has_exited()? {
        // Exited, and some handle still holds it: its PID is not free yet, like a zombie.
        info.state = ProcessState::Zombie;
    }
    info.start_time_unix_ms = filetime_to_unix_ms(times.creation);
    info.start_time_boot_ticks = Some(times.creation);
    info.elapsed_ms = clock.elapsed_ms(times.creation);
    let cpu_ms = times.cpu / 10_000;
    info.cpu_percent = if info.elapsed_ms == 0 {
        0.0
    } else {
        cpu_ms as f64 * 100.0 / info.elapsed_ms as f64
    };
    info.memory_kb = memory_kb(&handle).unwrap_or(0);
    info.exe_path = handle.exe_path();
    if let Some((uid, user)) = token_user(&handle, users) {
        info.uid = uid;
        info.user = user;
    }
    if let Some(line) = peb_command_line(&handle) {
        let args = super::argv::split(&line);
        info.cmdline = args;
    }
    let _ = options;
    Ok(RawProcess {
        info,
        cpu_time_ns: times.cpu.saturating_mul(100),
        start: times.creation,
    })
}

/// [`GetProcessMemoryInfo`](https://learn.microsoft.com/en-us/windows/win32/api/psapi/nf-psapi-getprocessmemoryinfo):
/// the working set (resident memory), KiB.
fn memory_kb(handle: &ProcHandle) -> Option<u64> {
    // SAFETY: plain data.
    let mut counters: PROCESS_MEMORY_COUNTERS = unsafe { zeroed() };
    let cb = size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
    counters.cb = cb;
    // SAFETY: `counters` is ours, `cb` its size.
    let ok = unsafe { GetProcessMemoryInfo(handle.raw(), &mut counters, cb) };
    (ok != 0).then_some(counters.WorkingSetSize as u64 / 1024)
}

/// SID bytes to (RID, "DOMAIN\\name"), looked up once per listing.
#[derive(Default)]
struct SidNames(HashMap<Vec<u8>, Option<String>>);

/// The process token's user: the SID's last sub-authority (its relative ID) as `uid`, and the
/// account name from
/// [`LookupAccountSidW`](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-lookupaccountsidw).
fn token_user(handle: &ProcHandle, names: &mut SidNames) -> Option<(u32, Option<String>)> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: `token` receives a handle we close below.
    if unsafe { OpenProcessToken(handle.raw(), TOKEN_QUERY, &mut token) } == 0 {
        return None;
    }
    struct Token(HANDLE);
    impl Drop for Token {
        fn drop(&mut self) {
            // SAFETY: the token handle is ours.
            unsafe { CloseHandle(self.0) };
        }
    }
    let token = Token(token);
    // TOKEN_USER followed by the SID it points into; u64s keep the buffer aligned.
    let mut buf = vec![0u64; 64];
    let mut len = 0u32;
    // SAFETY: `buf` has the size passed.
    let ok = unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            buf.as_mut_ptr().cast(),
            (buf.len() * 8) as u32,
            &mut len,
        )
    };
    if ok == 0 {
        return None;
    }
    // SAFETY: the call filled a TOKEN_USER at the start of `buf`.
    let user: &TOKEN_USER = unsafe { &*buf.as_ptr().cast::<TOKEN_USER>() };
    let sid = user.User.Sid;
    if sid.is_null() {
        return None;
    }
    // SID layout: revision, sub-authority count, 6-byte authority, then u32 sub-authorities.
    // SAFETY: a valid SID has at least 8 bytes, then `count` u32s.
    let sid_bytes = unsafe {
        let count = *sid.cast::<u8>().add(1) as usize;
        std::slice::from_raw_parts(sid.cast::<u8>(), 8 + 4 * count)
    };
    let count = sid_bytes[1] as usize;
    let rid = if count == 0 {
        0
    } else {
        let at = 8 + 4 * (count - 1);
        u32::from_le_bytes(sid_bytes[at..at + 4].try_into().ok()?)
    };
    let name = names
        .0
        .entry(sid_bytes.to_vec())
        .or_insert_with(|| account_name(sid))
        .clone();
    Some((rid, name))
}

fn account_name(sid: windows_sys::Win32::Security::PSID) -> Option<String> {
    let mut name = vec![0u16; 256];
    let mut domain = vec![0u16; 256];
    let (mut name_len, mut domain_len) = (name.len() as u32, domain.len() as u32);
    let mut kind: SID_NAME_USE = 0;
    // SAFETY: both buffers have the lengths passed; `sid` is valid for the call.
    let ok = unsafe {
        LookupAccountSidW(
            std::ptr::null(),
            sid,
            name.as_mut_ptr(),
            &mut name_len,
            domain.as_mut_ptr(),
            &mut domain_len,
            &mut kind,
        )
    };
    if ok == 0 {
        return None;
    }
    let name = super::from_wide(&name[..name_len as usize]);
    let domain = super::from_wide(&domain[..domain_len as usize]);
    Some(if domain.is_empty() {
        name
    } else {
        format!("{domain}\\{name}")
    })
}

/// The command line from the process's PEB: `NtQueryInformationProcess(ProcessBasicInformation)`
/// for the PEB's address, then `ReadProcessMemory` of the PEB, its
/// `RTL_USER_PROCESS_PARAMETERS` and the string. (Wine lacks
/// `ProcessCommandLineInformation`, the one-call way.) `None` without `PROCESS_VM_READ`.
fn peb_command_line(handle: &ProcHandle) -> Option<Vec<u16>> {
    let basic = basic_information(handle)?;
    if basic.PebBaseAddress.is_null() {
        return None;
    }
    // SAFETY: plain data, filled by ReadProcessMemory.
    let peb: PEB = unsafe { read_remote(handle, basic.PebBaseAddress.cast())? };
    if peb.ProcessParameters.is_null() {
        return None;
    }
    // SAFETY: as above.
    let params: RTL_USER_PROCESS_PARAMETERS =
        unsafe { read_remote(handle, peb.ProcessParameters.cast())? };
    let line = params.CommandLine;
    let units = usize::from(line.Length) / 2;
    if line.Buffer.is_null() || units == 0 {
        return Some(Vec::new());
    }
    let mut out = vec![0u16; units];
    let mut read = 0usize;
    // SAFETY: `out` has room for `units * 2` bytes.
    let ok = unsafe {
        ReadProcessMemory(
            handle.raw(),
            line.Buffer.cast(),
            out.as_mut_ptr().cast(),
            units * 2,
            &mut read,
        )
    };
    (ok != 0 && read == units * 2).then_some(out)
}

/// `NtQueryInformationProcess(ProcessBasicInformation)`: the PEB address and the parent PID.
fn basic_information(handle: &ProcHandle) -> Option<PROCESS_BASIC_INFORMATION> {
    // SAFETY: plain data.
    let mut basic: PROCESS_BASIC_INFORMATION = unsafe { zeroed() };
    let mut len = 0u32;
    // SAFETY: `basic` is ours and its size is passed.
    let status = unsafe {
        NtQueryInformationProcess(
            handle.raw(),
            ProcessBasicInformation,
            (&mut basic as *mut PROCESS_BASIC_INFORMATION).cast(),
            size_of::<PROCESS_BASIC_INFORMATION>() as u32,
            &mut len,
        )
    };
    (status >= 0).then_some(basic)
}

/// Read a `T` at `address` in the process.
///
/// # Safety
/// `T` must be plain data (any bit pattern valid).
unsafe fn read_remote<T>(handle: &ProcHandle, address: *const core::ffi::c_void) -> Option<T> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    let mut read = 0usize;
    // SAFETY: `value` has room for a T.
    let ok = unsafe {
        ReadProcessMemory(
            handle.raw(),
            address,
            value.as_mut_ptr().cast(),
            size_of::<T>(),
            &mut read,
        )
    };
    // SAFETY: fully written, and T is plain data.
    (ok != 0 && read == size_of::<T>()).then(|| unsafe { value.assume_init() })
}

/// Read one process.
pub(crate) fn read_one(pid: Pid, options: ProcessOptions) -> Result<ProcessInfo> {
    let table = toolhelp()?;
    let Some(entry) = table.iter().find(|e| e.pid == pid.get()) else {
        return Err(SysprimsError::process_not_found("read process", pid.get()));
    };
    let clock = Clock::now();
    let raw = read_entry(entry, options, &clock, &mut SidNames::default())
        .map_err(|e| not_found_if_gone(e, pid))?;
    Ok(raw.info)
}

/// A process that exited between the snapshot and the open is not found.
fn not_found_if_gone(e: SysprimsError, pid: Pid) -> SysprimsError {
    if e.code() == ErrorCode::NotFound {
        SysprimsError::process_not_found("read process", pid.get())
    } else {
        e
    }
}

/// Read many processes; those that exit meanwhile, or that may not be opened, are skipped.
pub(crate) fn read_many(
    pids: &[u32],
    options: ProcessOptions,
    clock: &Clock,
) -> Result<Vec<RawProcess>> {
    let table = toolhelp()?;
    let by_pid: HashMap<u32, &Entry> = table.iter().map(|e| (e.pid, e)).collect();
    let mut users = SidNames::default();
    let mut out = Vec::with_capacity(pids.len());
    for pid in pids {
        let Some(entry) = by_pid.get(pid) else {
            continue;
        };
        match read_entry(entry, options, clock, &mut users) {
            Ok(raw) => out.push(raw),
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::PermissionDenied) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Summaries of every process: Toolhelp for the parentage, a handle each for the creation
/// time and CPU (which tell a process from a successor with its PID).
pub(crate) fn table() -> Result<Vec<ProcSummary>> {
    summarise(toolhelp()?.iter())
}

/// Summaries of these processes; those that do not exist are left out.
pub(crate) fn table_of(pids: &[u32]) -> Result<Vec<ProcSummary>> {
    let table = toolhelp()?;
    summarise(table.iter().filter(|e| pids.contains(&e.pid)))
}

fn summarise<'a>(entries: impl Iterator<Item = &'a Entry>) -> Result<Vec<ProcSummary>> {
    let mut out = Vec::new();
    for e in entries {
        let mut s = ProcSummary {
            pid: e.pid,
            ppid: e.ppid,
            pgid: 0,
            state: ProcessState::Running,
            kernel_thread: kernel_entry(e),
            cpu_time_ns: 0,
            start: 0,
        };
        if !s.kernel_thread {
            let Ok(pid) = Pid::new(e.pid) else { continue };
            let Ok(handle) = ProcHandle::open(pid, BASE_ACCESS) else {
                // Exited since the snapshot, or not ours to open: no start time to match.
                continue;
            };
            let Ok(times) = handle.times() else { continue };
            if handle.has_exited().unwrap_or(false) {
                s.state = ProcessState::Zombie;
            }
            s.cpu_time_ns = times.cpu.saturating_mul(100);
            s.start = times.creation;
        }
        out.push(s);
    }
    Ok(out)
}

/// The identity of the process `handle` holds.
pub(crate) fn identity_of(handle: &ProcHandle) -> Result<ProcessIdentity> {
    let times = handle.times()?;
    Ok(ProcessIdentity {
        pid: handle.pid().get(),
        start_time_unix_ms: filetime_to_unix_ms(times.creation),
        start_time_boot_ticks: Some(times.creation),
        boot_id: None,
        exe_path: handle.exe_path(),
        pidfs_inode: None,
    })
}

/// Capture a process's identity through a handle opened first.
pub(crate) fn capture_identity(pid: Pid) -> Result<ProcessIdentity> {
    if pid.get() == SYSTEM_PID {
        return Err(SysprimsError::PermissionDenied {
            operation: "capture identity",
            subject: Subject::Process(pid.get()),
        });
    }
    let handle = ProcHandle::open(pid, BASE_ACCESS)?;
    identity_of(&handle)
}
