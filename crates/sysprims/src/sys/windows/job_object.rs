//! A Windows Job Object, owned: [`JobObject`].
//!
//! A job is the kernel's container for a tree of processes: every process a member creates
//! is a member too (unless the job allows breakaway, which ours never does), and
//! [`TerminateJobObject`] ends every member at once. sysprims' jobs are made with
//! `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` (the kernel ends the job when its last handle
//! closes, so a spawner that dies mid-spawn leaves nothing behind) and an I/O completion
//! port, on which the kernel posts `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO` when the last member
//! has exited: the whole-tree wait, with no polling.
//!
//! Names: a job that [`spawn_in_group`](crate::spawn_in_group) makes is named after its first
//! process (`Local\sysprims-job-<pid>-<creation time, 100 ns>`), so that another process
//! given only the PID can open the job ([`JobObject::open_named`]) while any handle to it is
//! open, and check with [`JobObject::contains`] that the process is in it.

#![allow(unsafe_code)]

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::ptr;
use std::time::Instant;

use windows_sys::Win32::Foundation::{
    CloseHandle, DUPLICATE_SAME_ACCESS, DuplicateHandle, ERROR_ALREADY_EXISTS, GetLastError,
    HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT,
};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatus, OVERLAPPED, PostQueuedCompletionStatus,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, IsProcessInJob, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_ASSOCIATE_COMPLETION_PORT, JOBOBJECT_BASIC_ACCOUNTING_INFORMATION,
    JOBOBJECT_BASIC_PROCESS_ID_LIST, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectAssociateCompletionPortInformation, JobObjectBasicAccountingInformation,
    JobObjectBasicProcessIdList, JobObjectExtendedLimitInformation, OpenJobObjectW,
    QueryInformationJobObject, SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::SystemServices::JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, INFINITE, RegisterWaitForSingleObject, UnregisterWaitEx, WT_EXECUTEONLYONCE,
};

use super::cancel::CancelFd;

/// `JOB_OBJECT_ALL_ACCESS`: what the creator and [`JobObject::open_named`] ask for.
const JOB_OBJECT_ALL_ACCESS: u32 = 0x001F_003F;
/// `JOB_OBJECT_QUERY`: all a handle that only keeps a job alive needs.
pub(crate) const JOB_OBJECT_QUERY: u32 = 0x0004;

/// The completion key our jobs post with (each job has a port of its own).
const KEY: usize = 1;

/// CPU time and counts a job's accounting holds, for every process that was ever in it.
#[allow(dead_code)] // For a job's resource usage, which no result carries yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Accounting {
    /// User-mode CPU time, 100 ns units.
    pub user_100ns: u64,
    /// Kernel-mode CPU time, 100 ns units.
    pub kernel_100ns: u64,
    /// Processes ever in the job.
    pub total_processes: u32,
    /// Processes in the job now.
    pub active_processes: u32,
}

/// An owned Job Object handle, with the completion port its creator associated (an opener
/// of an existing job has none: a job takes one port, once).
#[derive(Debug)]
pub(crate) struct JobObject {
    job: OwnedHandle,
    port: Option<OwnedHandle>,
    name: Option<String>,
}

// SAFETY: a HANDLE is a kernel object reference; every call on it here is thread-safe.
unsafe impl Send for JobObject {}
// SAFETY: as above; `&JobObject` calls only thread-safe kernel functions.
unsafe impl Sync for JobObject {}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn owned(raw: HANDLE) -> Option<OwnedHandle> {
    if raw.is_null() || raw as isize == -1 {
        None
    } else {
        // SAFETY: `raw` is a fresh handle this process owns and closes exactly once.
        Some(unsafe { OwnedHandle::from_raw_handle(raw as RawHandle) })
    }
}

fn raw(h: &OwnedHandle) -> HANDLE {
    h.as_raw_handle() as HANDLE
}

/// The name of the job whose first process is `pid`, created at `creation_100ns`
/// (`GetProcessTimes`, 100 ns since 1601): unique for as long as the machine runs, since no
/// two processes share both. `own_group`: the first process leads a console process group
/// of its own (the name says so, for whoever finds the job: only then may `CTRL_BREAK_EVENT`
/// be aimed at it).
pub(crate) fn job_name(pid: u32, creation_100ns: u64, own_group: bool) -> String {
    let suffix = if own_group { "" } else { "-fg" };
    format!("Local\\sysprims-job-{pid}-{creation_100ns}{suffix}")
}

impl JobObject {
    /// [`CreateJobObjectW`](https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-createjobobjectw)
    /// with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` and a completion port of its own.
    ///
    /// # Errors
    /// The Win32 error of the call that failed; `AlreadyExists` for a `name` some other
    /// process already holds (the job would be theirs, not ours).
    pub(crate) fn create(name: Option<&str>) -> io::Result<JobObject> {
        let wname = name.map(wide);
        let pname = wname.as_ref().map_or(ptr::null(), |w| w.as_ptr());
        // SAFETY: null security attributes (default), `pname` null or a NUL-terminated UTF-16
        // string that outlives the call.
        let h = unsafe { CreateJobObjectW(ptr::null(), pname) };
        // SAFETY: no other call in between.
        let err = unsafe { GetLastError() };
        let job = owned(h).ok_or_else(last_error)?;
        if name.is_some() && err == ERROR_ALREADY_EXISTS {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "a job object named {:?} already exists (not made by this spawn)",
                    name.unwrap_or_default()
                ),
            ));
        }
        let mut this = JobObject {
            job,
            port: None,
            name: name.map(str::to_string),
        };
        this.set_kill_on_close(true)?;
        // SAFETY: INVALID_HANDLE_VALUE with no existing port makes a new port.
        let port = unsafe { CreateIoCompletionPort(-1isize as HANDLE, ptr::null_mut(), 0, 1) };
        let port = owned(port).ok_or_else(last_error)?;
        let assoc = JOBOBJECT_ASSOCIATE_COMPLETION_PORT {
            CompletionKey: KEY as *mut core::ffi::c_void,
            CompletionPort: raw(&port),
        };
        // SAFETY: a valid job handle and a struct of the documented size.
        let ok = unsafe {
            SetInformationJobObject(
                raw(&this.job),
                JobObjectAssociateCompletionPortInformation,
                (&raw const assoc).cast(),
                size_of::<JOBOBJECT_ASSOCIATE_COMPLETION_PORT>() as u32,
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        this.port = Some(port);
        Ok(this)
    }

    /// [`OpenJobObjectW`](https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-openjobobjectw):
    /// the job of that name, while any handle to it is open. `None` when there is none (or
    /// the caller may not open it).
    pub(crate) fn open_named(name: &str) -> Option<JobObject> {
        let w = wide(name);
        // SAFETY: a NUL-terminated UTF-16 name that outlives the call.
        let h = unsafe { OpenJobObjectW(JOB_OBJECT_ALL_ACCESS, 0, w.as_ptr()) };
        owned(h).map(|job| JobObject {
            job,
            port: None,
            name: Some(name.to_string()),
        })
    }

    /// The job's name, when it has one.
    #[allow(dead_code)]
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether this handle has the job's completion port (it made the job).
    #[allow(dead_code)]
    pub(crate) fn has_port(&self) -> bool {
        self.port.is_some()
    }

    /// Turn `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` on or off (`SetInformationJobObject`,
    /// `JobObjectExtendedLimitInformation`): on, the kernel ends every member when the last
    /// handle to the job closes.
    pub(crate) fn set_kill_on_close(&self, on: bool) -> io::Result<()> {
        // SAFETY: all-zero is a valid JOBOBJECT_EXTENDED_LIMIT_INFORMATION (no limits).
        let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        if on {
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        }
        // SAFETY: a valid job handle and a struct of the documented size.
        let ok = unsafe {
            SetInformationJobObject(
                raw(&self.job),
                JobObjectExtendedLimitInformation,
                (&raw const info).cast(),
                size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        };
        if ok == 0 { Err(last_error()) } else { Ok(()) }
    }

    /// `AssignProcessToJobObject`: put the process (a handle with `PROCESS_SET_QUOTA` and
    /// `PROCESS_TERMINATE`) in the job. Fails when the process is in a job hierarchy this
    /// job cannot join (Windows before 8, a sibling job, breakaway rules).
    pub(crate) fn assign(&self, process: RawHandle) -> io::Result<()> {
        // SAFETY: valid job and process handles.
        let ok = unsafe { AssignProcessToJobObject(raw(&self.job), process as HANDLE) };
        if ok == 0 {
            let e = last_error();
            // Wine answers some refusals without an error code: say what failed.
            if e.raw_os_error() == Some(0) {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "AssignProcessToJobObject refused the process (no error code given)",
                ));
            }
            return Err(e);
        }
        Ok(())
    }

    /// `IsProcessInJob`: whether the process (a handle with `PROCESS_QUERY_INFORMATION`,
    /// which Wine needs, or `PROCESS_QUERY_LIMITED_INFORMATION`) is in this job or one nested
    /// in it.
    pub(crate) fn contains(&self, process: RawHandle) -> bool {
        let mut result = 0;
        // SAFETY: valid handles and an out-pointer to a BOOL.
        let ok = unsafe { IsProcessInJob(process as HANDLE, raw(&self.job), &mut result) };
        ok != 0 && result != 0
    }

    /// `TerminateJobObject`: end every process in the job now, each with `exit_code`.
    pub(crate) fn terminate(&self, exit_code: u32) -> io::Result<()> {
        // SAFETY: a valid job handle.
        let ok = unsafe { TerminateJobObject(raw(&self.job), exit_code) };
        if ok == 0 { Err(last_error()) } else { Ok(()) }
    }

    /// The PIDs of the processes in the job now (`JobObjectBasicProcessIdList`).
    pub(crate) fn pids(&self) -> io::Result<Vec<u32>> {
        let mut capacity = 64usize;
        loop {
            // The struct is two u32 counts then `capacity` ULONG_PTRs; a usize buffer keeps
            // its alignment.
            let words = 1 + capacity;
            let mut buf = vec![0usize; words];
            // SAFETY: a valid job handle and a buffer of the size passed.
            let ok = unsafe {
                QueryInformationJobObject(
                    raw(&self.job),
                    JobObjectBasicProcessIdList,
                    buf.as_mut_ptr().cast(),
                    (words * size_of::<usize>()) as u32,
                    ptr::null_mut(),
                )
            };
            // SAFETY: the buffer starts with the struct's header, written by the kernel (or
            // zero on failure).
            let list = unsafe { &*buf.as_ptr().cast::<JOBOBJECT_BASIC_PROCESS_ID_LIST>() };
            let assigned = list.NumberOfAssignedProcesses as usize;
            let listed = list.NumberOfProcessIdsInList as usize;
            // ERROR_MORE_DATA, or a list cut short: the job grew past the buffer.
            let short = if ok == 0 {
                let e = last_error();
                if e.raw_os_error() != Some(234) {
                    return Err(e);
                }
                true
            } else {
                listed < assigned
            };
            if short && capacity < 1 << 20 {
                capacity = assigned.max(capacity) * 2;
                continue;
            }
            return Ok(buf[1..1 + listed.min(capacity)]
                .iter()
                .map(|&p| p as u32)
                .collect());
        }
    }

    /// The job's accounting (`JobObjectBasicAccountingInformation`): CPU times and counts.
    /// Wine 8 reports zeros here.
    #[allow(dead_code)] // For a job's resource usage, which no result carries yet.
    pub(crate) fn accounting(&self) -> io::Result<Accounting> {
        // SAFETY: all-zero is a valid value of this plain struct.
        let mut info: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: a valid job handle and a struct of the documented size.
        let ok = unsafe {
            QueryInformationJobObject(
                raw(&self.job),
                JobObjectBasicAccountingInformation,
                (&raw mut info).cast(),
                size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(Accounting {
            user_100ns: info.TotalUserTime.max(0) as u64,
            kernel_100ns: info.TotalKernelTime.max(0) as u64,
            total_processes: info.TotalProcesses,
            active_processes: info.ActiveProcesses,
        })
    }

    /// Put a handle to this job (with `access`) into `process`'s handle table
    /// (`DuplicateHandle`; `process` needs `PROCESS_DUP_HANDLE`). The process never learns
    /// of it; while it lives, the job, and its name, live on after this handle is closed.
    pub(crate) fn duplicate_into(&self, process: RawHandle, access: u32) -> io::Result<()> {
        let mut out: HANDLE = ptr::null_mut();
        // SAFETY: valid source process (ourselves), source handle and target process; the
        // out-pointer is valid. The new handle belongs to the target process.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                raw(&self.job),
                process as HANDLE,
                &mut out,
                access,
                0,
                0,
            )
        };
        if ok == 0 { Err(last_error()) } else { Ok(()) }
    }

    /// Another handle to the same job (no port), for a holder that must outlive this one.
    #[allow(dead_code)]
    pub(crate) fn try_clone(&self) -> io::Result<JobObject> {
        let mut out: HANDLE = ptr::null_mut();
        // SAFETY: as in duplicate_into, within this process.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                raw(&self.job),
                GetCurrentProcess(),
                &mut out,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(JobObject {
            job: owned(out).ok_or_else(last_error)?,
            port: None,
            name: self.name.clone(),
        })
    }

    /// Wait until no process is left in the job, or `deadline` passes (`None`: no limit).
    /// Returns whether the job is empty.
    pub(crate) fn wait_empty(&self, deadline: Option<Instant>) -> io::Result<bool> {
        self.wait_empty_or_cancel(deadline, None)
    }

    /// [`JobObject::wait_empty`] that `cancel` also ends (then: whether the job is empty at
    /// that moment; the caller sees the token triggered).
    ///
    /// With the job's completion port (its creator's handle) this sleeps until the kernel
    /// posts `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO`. A port is not a waitable object, so a
    /// cancel reaches the wait as a message of its own: a thread-pool wait on the token's
    /// event (`RegisterWaitForSingleObject`) posts it (`PostQueuedCompletionStatus`), and is
    /// unregistered, waiting out a callback in flight, before this returns. Without a port,
    /// it waits on the members' process handles and the token's event
    /// (`WaitForMultipleObjects`) and lists the job again after each exit.
    pub(crate) fn wait_empty_or_cancel(
        &self,
        deadline: Option<Instant>,
        cancel: Option<&CancelFd>,
    ) -> io::Result<bool> {
        let _waker = match (&self.port, cancel) {
            (Some(port), Some(c)) => Some(CancelWaker::register(raw(port), c)?),
            _ => None,
        };
        loop {
            if self.pids()?.is_empty() {
                return Ok(true);
            }
            if super::cancel::triggered(cancel) {
                return Ok(false);
            }
            let ms = remaining_ms(deadline);
            match &self.port {
                Some(port) => {
                    let mut msg = 0u32;
                    let mut key = 0usize;
                    let mut ov: *mut OVERLAPPED = ptr::null_mut();
                    // SAFETY: a valid port and out-pointers; the "overlapped" of a job
                    // message is a PID (a cancel message has none), never dereferenced.
                    let ok = unsafe {
                        GetQueuedCompletionStatus(raw(port), &mut msg, &mut key, &mut ov, ms)
                    };
                    if ok == 0 {
                        let e = last_error();
                        if e.raw_os_error() == Some(WAIT_TIMEOUT as i32) {
                            return Ok(self.pids()?.is_empty());
                        }
                        return Err(e);
                    }
                    if key == KEY && msg == JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO {
                        return Ok(true);
                    }
                    // A cancel message (ours, or a stale one of an earlier wait's token):
                    // the loop's check of the token decides.
                }
                None => {
                    if !super::jobs::wait_any_exit(&self.pids()?, ms, cancel) {
                        return Ok(self.pids()?.is_empty());
                    }
                }
            }
            if ms == 0 {
                return Ok(self.pids()?.is_empty());
            }
        }
    }

    /// The raw job handle, for calls this module does not wrap.
    #[allow(dead_code)]
    pub(crate) fn as_raw(&self) -> RawHandle {
        self.job.as_raw_handle()
    }
}

/// The completion key of the message a cancel posts to a job's port (jobs post with [`KEY`]).
const CANCEL_KEY: usize = 2;

/// A thread-pool wait that posts a [`CANCEL_KEY`] message to a completion port when a cancel
/// token's event is set, so a `GetQueuedCompletionStatus` on that port wakes. Unregistered on
/// drop, which waits for a callback in flight (so the port it names is still open then).
struct CancelWaker {
    wait: HANDLE,
}

/// The thread-pool callback: `context` is the port's raw handle.
unsafe extern "system" fn post_cancel(context: *mut core::ffi::c_void, _timed_out: bool) {
    // SAFETY: the port outlives the registration (CancelWaker is dropped before the wait
    // that made it returns, and its drop waits for this callback); no OVERLAPPED is passed.
    unsafe { PostQueuedCompletionStatus(context as HANDLE, 0, CANCEL_KEY, ptr::null()) };
}

impl CancelWaker {
    fn register(port: HANDLE, cancel: &CancelFd) -> io::Result<CancelWaker> {
        let mut wait: HANDLE = ptr::null_mut();
        // SAFETY: an out-pointer, the token's open event, a callback with the right ABI and
        // the port as its context, which stays open while the registration exists.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                cancel.raw(),
                Some(post_cancel),
                port as *const core::ffi::c_void,
                INFINITE,
                WT_EXECUTEONLYONCE,
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(CancelWaker { wait })
    }
}

impl Drop for CancelWaker {
    fn drop(&mut self) {
        // SAFETY: our registration; INVALID_HANDLE_VALUE waits for a running callback.
        unsafe { UnregisterWaitEx(self.wait, INVALID_HANDLE_VALUE) };
    }
}

/// Milliseconds to `deadline` for a Win32 wait (`INFINITE` for none, saturating below it).
pub(crate) fn remaining_ms(deadline: Option<Instant>) -> u32 {
    match deadline {
        None => u32::MAX,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            // Round up, so a wait does not end a hair before its deadline and spin.
            let ms = left.as_micros().div_ceil(1000);
            u32::try_from(ms).unwrap_or(u32::MAX - 1).min(u32::MAX - 1)
        }
    }
}

/// Close a raw handle this process owns (for handles not wrapped in `OwnedHandle`).
#[allow(dead_code)]
pub(crate) fn close(h: RawHandle) {
    // SAFETY: the caller owns `h` and does not use it again.
    unsafe { CloseHandle(h as HANDLE) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    const BLOCK: &str = "SYSPRIMS_JOB_OBJECT_TEST_CHILD";

    /// Not a test of its own: the child of the tests below, which (with `BLOCK` set) runs
    /// until its stdin closes.
    #[test]
    fn child_blocks_on_stdin() {
        if std::env::var_os(BLOCK).is_some() {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        }
    }

    /// One message off `port`, waiting up to `ms`: its key, or `None` on a timeout.
    fn next_key(port: HANDLE, ms: u32) -> Option<usize> {
        let (mut n, mut key) = (0u32, 0usize);
        let mut ov: *mut OVERLAPPED = ptr::null_mut();
        // SAFETY: a valid port and out-pointers; `ov` is never dereferenced.
        let ok = unsafe { GetQueuedCompletionStatus(port, &mut n, &mut key, &mut ov, ms) };
        (ok != 0).then_some(key)
    }

    #[test]
    fn a_cancel_posts_a_message_to_the_port() {
        // SAFETY: INVALID_HANDLE_VALUE with no existing port makes a new port.
        let port =
            owned(unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, ptr::null_mut(), 0, 1) })
                .expect("CreateIoCompletionPort");
        let cancel = CancelFd::new().unwrap();
        let waker = CancelWaker::register(raw(&port), &cancel).unwrap();
        assert_eq!(next_key(raw(&port), 0), None, "nothing before the cancel");
        cancel.trigger();
        assert_eq!(
            next_key(raw(&port), 30_000),
            Some(CANCEL_KEY),
            "the cancel woke the port's waiter"
        );
        drop(waker);
    }

    #[test]
    fn a_cancel_ends_the_wait_for_a_job_to_empty() {
        let job = JobObject::create(None).unwrap();
        assert!(job.has_port());
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sys::windows::job_object::tests::child_blocks_on_stdin",
                "--test-threads=1",
            ])
            .env(BLOCK, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let assigned = job.assign(child.as_raw_handle());
        let cancel = CancelFd::new().unwrap();
        let t = Instant::now();
        let waited = std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                job.wait_empty_or_cancel(
                    Instant::now().checked_add(Duration::from_secs(120)),
                    Some(&cancel),
                )
            });
            cancel.trigger();
            waiter.join().unwrap()
        });
        let members = job.pids();
        // End the child whatever the outcome (the job kills on close too).
        let _ = job.terminate(137);
        let _ = child.wait();
        assigned.unwrap();
        assert!(!waited.unwrap(), "the job was not empty");
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the cancel ended the wait"
        );
        assert_eq!(members.unwrap(), vec![child.id()]);
        assert!(
            job.wait_empty(Instant::now().checked_add(Duration::from_secs(30)))
                .unwrap(),
            "and without a cancel the wait ends when the job is empty"
        );
    }
}
