//! An open process handle and the reads made through it.
//!
//! Each function names the Win32 call it makes. The handle is a std `OwnedHandle`, closed on
//! drop.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{FILETIME, HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, GetProcessTimes, OpenProcess, PROCESS_ACCESS_RIGHTS, PROCESS_NAME_WIN32,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, QueryFullProcessImageNameW,
    WaitForSingleObject,
};

use super::{filetime, last_error};
use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;

/// What every handle asks for: enough to read times and the image name, and to wait.
pub(crate) const BASE_ACCESS: PROCESS_ACCESS_RIGHTS =
    PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE;

/// An open handle to one process. While it is open, the PID is not reused.
#[derive(Debug)]
pub(crate) struct ProcHandle {
    handle: OwnedHandle,
    pid: Pid,
}

/// CPU and start times from `GetProcessTimes`, 100 ns units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Times {
    /// Creation, 100 ns since 1601 (FILETIME).
    pub creation: u64,
    /// Kernel + user CPU time, 100 ns units.
    pub cpu: u64,
}

impl ProcHandle {
    /// [`OpenProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess)
    /// with `access`. A PID no process has is `NotFound` (Windows says invalid parameter).
    pub(crate) fn open(pid: Pid, access: PROCESS_ACCESS_RIGHTS) -> Result<ProcHandle> {
        // SAFETY: no pointers; the returned handle is owned below.
        let raw = unsafe { OpenProcess(access, 0, pid.get()) };
        if raw.is_null() {
            return Err(last_error("open process", Subject::Process(pid.get())));
        }
        // SAFETY: `raw` is a handle we just opened and own.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw as _) };
        Ok(ProcHandle { handle, pid })
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    fn subject(&self) -> Subject {
        Subject::Process(self.pid.get())
    }

    /// [`GetProcessTimes`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getprocesstimes).
    pub(crate) fn times(&self) -> Result<Times> {
        let zero = FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        };
        let (mut creation, mut exit, mut kernel, mut user) = (zero, zero, zero, zero);
        // SAFETY: four FILETIMEs we own; the handle is open.
        let ok = unsafe {
            GetProcessTimes(self.raw(), &mut creation, &mut exit, &mut kernel, &mut user)
        };
        if ok == 0 {
            return Err(last_error("GetProcessTimes", self.subject()));
        }
        Ok(Times {
            creation: filetime(creation),
            cpu: filetime(kernel).saturating_add(filetime(user)),
        })
    }

    /// [`QueryFullProcessImageNameW`](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-queryfullprocessimagenamew):
    /// the executable's Win32 path; `None` when it cannot be read.
    pub(crate) fn exe_path(&self) -> Option<String> {
        let mut buf = vec![0u16; 1024];
        loop {
            let mut len = buf.len() as u32;
            // SAFETY: `buf` has `len` u16s; the handle is open.
            let ok = unsafe {
                QueryFullProcessImageNameW(
                    self.raw(),
                    PROCESS_NAME_WIN32,
                    buf.as_mut_ptr(),
                    &mut len,
                )
            };
            if ok != 0 {
                return Some(super::from_wide(&buf[..len as usize]));
            }
            // SAFETY: reads the thread's last error.
            let code = unsafe { windows_sys::Win32::Foundation::GetLastError() };
            if code != windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER
                || buf.len() >= 32 * 1024
            {
                return None;
            }
            buf.resize(buf.len() * 4, 0);
        }
    }

    /// Whether the process has exited, from
    /// [`WaitForSingleObject`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-waitforsingleobject)
    /// with no wait (not from the exit code, which a live process may set to `STILL_ACTIVE`).
    pub(crate) fn has_exited(&self) -> Result<bool> {
        // SAFETY: the handle is open.
        match unsafe { WaitForSingleObject(self.raw(), 0) } {
            WAIT_OBJECT_0 => Ok(true),
            WAIT_TIMEOUT => Ok(false),
            _ => Err(last_error("WaitForSingleObject", self.subject())),
        }
    }

    /// [`GetExitCodeProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getexitcodeprocess)
    /// once it has exited; `None` while it runs.
    pub(crate) fn exit_code(&self) -> Result<Option<u32>> {
        if !self.has_exited()? {
            return Ok(None);
        }
        let mut code = 0u32;
        // SAFETY: one u32 we own; the handle is open.
        if unsafe { GetExitCodeProcess(self.raw(), &mut code) } == 0 {
            return Err(last_error("GetExitCodeProcess", self.subject()));
        }
        Ok(Some(code))
    }

    /// An error unless the handle's process is still running: for operations that must not
    /// act on an exited process (Wine's `TerminateProcess` "succeeds" on one).
    pub(crate) fn require_running(&self, operation: &'static str) -> Result<()> {
        if self.has_exited()? {
            return Err(SysprimsError::process_not_found(operation, self.pid.get()));
        }
        Ok(())
    }
}
