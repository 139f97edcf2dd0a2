//! Unix logic the Linux and macOS backends share, word for word: `kill(2)`, `killpg(3)`,
//! the caller's process group, and user names from the user database.
//!
//! The raw calls go through libc rather than rustix: rustix's `Signal` cannot express signal 0,
//! and its safety contract forbids using it to send real-time signals, both of which sysprims
//! must send. The [`Signal`] and [`Pid`] types make the arguments safe instead.

#![allow(unsafe_code)]

pub(crate) mod users;

use crate::error::{Result, Subject, SysprimsError};
use crate::pid::Pid;
use crate::signal::Signal;

/// The calling thread's `errno` after a failed call.
pub(crate) fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `(exit_code, signal)` from a `waitpid(2)`-style status word: the low 7 bits are the signal
/// that killed the process (0 for a normal exit, whose code is the next 8 bits).
///
/// The signal is in sysprims's (Linux's) numbering; on macOS a signal Linux lacks (`EMT`,
/// `INFO`) gives neither a code nor a signal.
pub(crate) fn decode_wait_status(status: u32) -> (Option<i32>, Option<i32>) {
    let signal = (status & 0x7f) as i32;
    if signal == 0 {
        (Some(((status >> 8) & 0xff) as i32), None)
    } else {
        (None, portable_signal(signal))
    }
}

/// The number the kernel takes for `signal`: sysprims numbers signals as Linux does, so on
/// Linux the number itself; on macOS its own number for the same signal.
///
/// # Errors
/// [`NotSupported`](crate::ErrorCode::NotSupported) naming the signal when this system has
/// no such signal (on macOS: `STKFLT`, `PWR`, the real-time signals).
pub(crate) fn native_signal(signal: Signal) -> Result<i32> {
    signal
        .native_number()
        .ok_or_else(|| SysprimsError::NotSupported {
            feature: "signal",
            reason: format!(
                "SIG{} does not exist on {}",
                signal.name(),
                std::env::consts::OS
            ),
        })
}

/// sysprims's number for the kernel's signal `native` (see [`native_signal`]).
pub(crate) fn portable_signal(native: i32) -> Option<i32> {
    Signal::from_native(native).ok().map(Signal::number)
}

/// [`kill(2)`](https://man7.org/linux/man-pages/man2/kill.2.html) of one process.
pub(crate) fn kill(pid: Pid, signal: Signal) -> Result<()> {
    let number = native_signal(signal)?;
    // SAFETY: kill with a positive PID (the `Pid` invariant: 1..=i32::MAX, so never 0, -1 or a
    // group) and a valid signal number touches no memory.
    if unsafe { libc::kill(pid.as_raw(), number) } == 0 {
        Ok(())
    } else {
        Err(SysprimsError::from_errno(
            "kill",
            Subject::Process(pid.get()),
            last_errno(),
        ))
    }
}

/// [`killpg(3)`](https://man7.org/linux/man-pages/man3/killpg.3.html) of one process group.
pub(crate) fn killpg(pgid: Pid, signal: Signal) -> Result<()> {
    let number = native_signal(signal)?;
    // SAFETY: killpg with a positive group ID (the `Pid` invariant) and a valid signal number
    // touches no memory. A positive ID names exactly one group.
    if unsafe { libc::killpg(pgid.as_raw(), number) } == 0 {
        Ok(())
    } else {
        Err(SysprimsError::from_errno(
            "killpg",
            Subject::ProcessGroup(pgid.get()),
            last_errno(),
        ))
    }
}

/// The caller's process group ([`getpgrp(2)`](https://man7.org/linux/man-pages/man2/getpgrp.2.html)),
/// which cannot fail.
pub(crate) fn own_process_group() -> u32 {
    // SAFETY: no arguments, no memory.
    let pgrp = unsafe { libc::getpgrp() };
    pgrp.unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_words() {
        assert_eq!(decode_wait_status(0), (Some(0), None));
        assert_eq!(decode_wait_status(3 << 8), (Some(3), None));
        assert_eq!(decode_wait_status(9), (None, Some(9)));
        assert_eq!(decode_wait_status(0x80 | 11), (None, Some(11))); // core dumped
    }
}
