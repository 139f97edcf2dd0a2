//! The Windows backend: Toolhelp snapshots and process handles for processes, signals and
//! waits; Job Objects for jobs, tree kills and timeouts.
//!
//! A module not written yet is the `unsupported` stub re-exported under the same name, so the
//! portable layer sees one set of modules on every platform.
//!
//! A process handle is the Windows pidfd: while any handle to a process is open, its PID is not
//! given to another process. So every guarded operation opens a handle, checks the creation
//! time through it, then acts on the same handle.
#![allow(unsafe_code)]

// Jobs, tree kills and timeouts: Job Objects.
pub(crate) mod job_object;
pub(crate) mod jobs;
pub(crate) mod spawn;
pub(crate) mod timeout;

pub(crate) mod argv;
pub(crate) mod cancel;
pub(crate) mod handle;
pub(crate) mod process;
pub(crate) mod signal;
pub(crate) mod wait;

/// Open fds: Windows has handles, not fds, and listing another process's handles takes the
/// undocumented `NtQuerySystemInformation(SystemExtendedHandleInformation)` plus duplicating
/// each handle to name it, which Wine does not implement faithfully.
pub(crate) mod fds {
    use crate::error::{Result, SysprimsError};
    use crate::fds::{FdFilter, FdInfo};
    use crate::pid::Pid;

    pub(crate) fn list_fds(_pid: Pid, _filter: &FdFilter) -> Result<Vec<FdInfo>> {
        Err(SysprimsError::NotSupported {
            feature: "listing open fds",
            reason: "Windows processes hold handles, not file descriptors; listing another \
                     process's handles needs undocumented NT calls that sysprims does not use"
                .into(),
        })
    }
}

// Listening sockets: the IP Helper owner tables.
pub(crate) mod ports;

use crate::error::{Subject, SysprimsError};

/// `GetLastError()` as an error from `operation` on `subject`: access denied is
/// `PermissionDenied`, an invalid parameter (what `OpenProcess` says for a PID no process has)
/// is `NotFound`, anything else `System` with the Win32 error code.
pub(crate) fn last_error(operation: &'static str, subject: Subject) -> SysprimsError {
    // SAFETY: reads the calling thread's last-error value; no pointers.
    let code = unsafe { windows_sys::Win32::Foundation::GetLastError() };
    win_error(operation, subject, code)
}

/// A Win32 error code as an error (see [`last_error`]).
pub(crate) fn win_error(operation: &'static str, subject: Subject, code: u32) -> SysprimsError {
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER};
    match code {
        ERROR_ACCESS_DENIED => SysprimsError::PermissionDenied { operation, subject },
        ERROR_INVALID_PARAMETER => SysprimsError::NotFound { operation, subject },
        _ => SysprimsError::System {
            operation,
            subject,
            errno: code as i32,
        },
    }
}

/// 100 ns intervals between 1601-01-01 (the FILETIME epoch) and 1970-01-01.
pub(crate) const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// A FILETIME as one number of 100 ns units.
pub(crate) fn filetime(ft: windows_sys::Win32::Foundation::FILETIME) -> u64 {
    (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)
}

/// Unix milliseconds of a FILETIME (`None` before 1970).
pub(crate) fn filetime_to_unix_ms(ft: u64) -> Option<u64> {
    ft.checked_sub(FILETIME_UNIX_EPOCH).map(|t| t / 10_000)
}

/// The wall clock now, as a FILETIME.
pub(crate) fn now_filetime() -> u64 {
    let mut ft = windows_sys::Win32::Foundation::FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    // SAFETY: writes one FILETIME we own.
    unsafe { windows_sys::Win32::System::SystemInformation::GetSystemTimeAsFileTime(&mut ft) };
    filetime(ft)
}

/// UTF-16 (not NUL-terminated) to a String, with unpaired surrogates replaced.
pub(crate) fn from_wide(wide: &[u16]) -> String {
    String::from_utf16_lossy(wide)
}

/// A NUL-terminated UTF-16 buffer to a String, up to the first NUL.
pub(crate) fn from_wide_nul(wide: &[u16]) -> String {
    let end = wide.iter().position(|&c| c == 0).unwrap_or(wide.len());
    from_wide(&wide[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_epoch_conversion() {
        assert_eq!(filetime_to_unix_ms(FILETIME_UNIX_EPOCH), Some(0));
        assert_eq!(
            filetime_to_unix_ms(FILETIME_UNIX_EPOCH + 12_345_678),
            Some(1234)
        );
        assert_eq!(filetime_to_unix_ms(1), None);
        let now = filetime_to_unix_ms(now_filetime()).unwrap();
        let std_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now.abs_diff(std_now) < 5_000, "{now} vs {std_now}");
    }

    #[test]
    fn wide_strings() {
        let w: Vec<u16> = "caf\u{e9}\0junk".encode_utf16().collect();
        assert_eq!(from_wide_nul(&w), "caf\u{e9}");
    }
}
