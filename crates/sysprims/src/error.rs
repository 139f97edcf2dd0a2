//! One error type for every sysprims operation, with numeric codes that the C ABI and the Go
//! bindings share.
//!
//! Every error says what was being done (its `operation`) and to what (a
//! [`Subject`]: a PID or a path), so a log line is useful without a backtrace.

use std::fmt;
use std::path::PathBuf;

/// `Result` with [`SysprimsError`] as the error type.
pub type Result<T, E = SysprimsError> = std::result::Result<T, E>;

/// Stable numeric error codes, shared by Rust, the C ABI and Go.
///
/// The numbers never change once published; new codes may be added. They match the public
/// reference implementation's numbering so that C callers migrating to sysprims keep their
/// constants (7 was that implementation's `GroupCreationFailed` and stays reserved).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(i32)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A value passed in cannot be used (PID 0, a malformed filter, ...). A bug in the caller.
    InvalidArgument = 1,
    /// A child process could not be started.
    SpawnFailed = 2,
    /// An operation did not finish within its deadline.
    Timeout = 3,
    /// The caller may not inspect or signal the target.
    PermissionDenied = 4,
    /// The process (or path) does not exist.
    NotFound = 5,
    /// The platform or kernel lacks what the operation needs.
    NotSupported = 6,
    /// An operating-system call failed for another reason; the errno is kept.
    System = 8,
    /// A bug in sysprims itself.
    Internal = 99,
}

impl ErrorCode {
    /// The code as the integer the C ABI returns.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The code for an integer from the C ABI, if it is one.
    pub fn from_i32(code: i32) -> Option<ErrorCode> {
        Some(match code {
            1 => ErrorCode::InvalidArgument,
            2 => ErrorCode::SpawnFailed,
            3 => ErrorCode::Timeout,
            4 => ErrorCode::PermissionDenied,
            5 => ErrorCode::NotFound,
            6 => ErrorCode::NotSupported,
            8 => ErrorCode::System,
            99 => ErrorCode::Internal,
            _ => return None,
        })
    }

    /// The code's name, as written in Rust (`"NotFound"`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::SpawnFailed => "SpawnFailed",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::PermissionDenied => "PermissionDenied",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::System => "System",
            ErrorCode::Internal => "Internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A process, by PID.
    Process(u32),
    /// A process group, by its ID.
    ProcessGroup(u32),
    /// A file or directory.
    Path(PathBuf),
    /// Nothing more specific than the operation.
    None,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Process(pid) => write!(f, "process {pid}"),
            Subject::ProcessGroup(pgid) => write!(f, "process group {pgid}"),
            Subject::Path(path) => f.write_str(&cut(&path.display().to_string())),
            Subject::None => f.write_str("(no target)"),
        }
    }
}

/// The error of every sysprims operation.
///
/// Match on [`SysprimsError::code`] to decide what to do; print the error itself for a human.
///
/// ```
/// use sysprims::{get_process, ErrorCode};
///
/// let err = get_process(0u32).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidArgument);
/// assert!(err.to_string().contains("PID 0"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SysprimsError {
    /// A value passed in cannot be used. `what` names the parameter, `value` is what was given.
    #[error("invalid {what} {}: {}", quote(value), cut(reason))]
    InvalidArgument {
        /// The parameter, e.g. `"PID"`, `"duration"`.
        what: &'static str,
        /// The value as the caller gave it.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A child process could not be started.
    #[error("cannot start {}: {}", quote(program), cut(reason))]
    SpawnFailed {
        /// The program that was to be run.
        program: String,
        /// Why it failed.
        reason: String,
        /// The errno, when the failure came from a system call.
        errno: Option<i32>,
    },
    /// An operation did not finish within its deadline.
    #[error("{operation} timed out after {timeout_ms} ms")]
    Timeout {
        /// What was being waited for.
        operation: &'static str,
        /// The deadline that passed.
        timeout_ms: u64,
    },
    /// The caller may not do this to the subject.
    #[error("{operation}: permission denied for {subject}")]
    PermissionDenied {
        /// What was being done.
        operation: &'static str,
        /// To what.
        subject: Subject,
    },
    /// The subject does not exist (a process that exited, a path that is gone).
    #[error("{operation}: {subject} not found")]
    NotFound {
        /// What was being done.
        operation: &'static str,
        /// What was missing.
        subject: Subject,
    },
    /// The platform or kernel lacks what the operation needs.
    #[error("{feature} is not supported here: {}", cut(reason))]
    NotSupported {
        /// The missing feature.
        feature: &'static str,
        /// Why, as precisely as known.
        reason: String,
    },
    /// An operating-system call failed for a reason with no code of its own.
    #[error("{operation} on {subject} failed: {} (errno {errno})", errno_text(*errno))]
    System {
        /// What was being done (usually the system call).
        operation: &'static str,
        /// To what.
        subject: Subject,
        /// The raw `errno`.
        errno: i32,
    },
    /// A bug in sysprims: please report it.
    #[error("internal error: {}", cut(message))]
    Internal {
        /// What went wrong.
        message: String,
    },
}

/// The longest text an error message quotes whole, in bytes.
pub const MESSAGE_VALUE_MAX: usize = 256;

/// `text` as an error message quotes it: whole when it is at most [`MESSAGE_VALUE_MAX`] bytes,
/// else its start, an ellipsis and its length, so a 50 MB program name or JSON document does
/// not become a 50 MB message. Every error's `Display` quotes the values it carries through
/// this; the values themselves stay whole in the error's fields.
///
/// ```
/// use sysprims::error::cut;
///
/// assert_eq!(cut("short"), "short");
/// let long = "x".repeat(10_000);
/// assert_eq!(cut(&long), format!("{}... (10000 bytes)", "x".repeat(200)));
/// ```
pub fn cut(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MESSAGE_VALUE_MAX {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = 200;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}... ({} bytes)", &text[..end], text.len()))
}

/// `text` quoted (as `{:?}` quotes it), cut as [`cut`] cuts: `"abc"`, or
/// `"abcd..."... (52428800 bytes)` for a long one.
///
/// ```
/// use sysprims::error::quote;
///
/// assert_eq!(quote("a\"b"), r#""a\"b""#);
/// assert_eq!(quote(&"x".repeat(300)), format!("{:?}... (300 bytes)", "x".repeat(200)));
/// ```
pub fn quote(text: &str) -> String {
    if text.len() <= MESSAGE_VALUE_MAX {
        return format!("{text:?}");
    }
    let mut end = 200;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}... ({} bytes)", &text[..end], text.len())
}

fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

impl SysprimsError {
    /// The stable numeric code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            SysprimsError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            SysprimsError::SpawnFailed { .. } => ErrorCode::SpawnFailed,
            SysprimsError::Timeout { .. } => ErrorCode::Timeout,
            SysprimsError::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            SysprimsError::NotFound { .. } => ErrorCode::NotFound,
            SysprimsError::NotSupported { .. } => ErrorCode::NotSupported,
            SysprimsError::System { .. } => ErrorCode::System,
            SysprimsError::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// The PID this error is about, if it is about one.
    pub fn pid(&self) -> Option<u32> {
        match self {
            SysprimsError::PermissionDenied { subject, .. }
            | SysprimsError::NotFound { subject, .. }
            | SysprimsError::System { subject, .. } => match subject {
                Subject::Process(pid) => Some(*pid),
                _ => None,
            },
            _ => None,
        }
    }

    /// The raw `errno` behind this error, when one is known.
    pub fn errno(&self) -> Option<i32> {
        match self {
            SysprimsError::System { errno, .. } => Some(*errno),
            SysprimsError::SpawnFailed { errno, .. } => *errno,
            _ => None,
        }
    }

    /// Shorthand for [`SysprimsError::InvalidArgument`].
    pub fn invalid(
        what: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> SysprimsError {
        SysprimsError::InvalidArgument {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// The error for a thread ID given where a process ID belongs: `tid` is a thread of
    /// process `tgid` but not its main thread. `/proc/<tid>` answers for it and `kill(2)`
    /// given it signals the whole of process `tgid`, so every entry point refuses it with this
    /// [`InvalidArgument`](SysprimsError::InvalidArgument) before doing anything.
    pub fn thread_not_process(tid: u32, tgid: u32) -> SysprimsError {
        SysprimsError::invalid(
            "PID",
            tid.to_string(),
            format!(
                "{tid} is a thread of process {tgid}, not a process (kill(2) given it would \
                 signal all of process {tgid}): nothing was done; pass {tgid} to mean that \
                 process"
            ),
        )
    }

    /// Shorthand for "process `pid` not found" during `operation`.
    pub fn process_not_found(operation: &'static str, pid: u32) -> SysprimsError {
        SysprimsError::NotFound {
            operation,
            subject: Subject::Process(pid),
        }
    }

    /// Classify a raw errno from `operation` on `subject`: `ENOENT`/`ESRCH` become
    /// [`NotFound`](SysprimsError::NotFound), `EACCES`/`EPERM` become
    /// [`PermissionDenied`](SysprimsError::PermissionDenied), `ENOSYS` becomes
    /// [`NotSupported`](SysprimsError::NotSupported), anything else
    /// [`System`](SysprimsError::System).
    pub fn from_errno(operation: &'static str, subject: Subject, errno: i32) -> SysprimsError {
        match errno {
            libc::ENOENT | libc::ESRCH => SysprimsError::NotFound { operation, subject },
            libc::EACCES | libc::EPERM => SysprimsError::PermissionDenied { operation, subject },
            libc::ENOSYS => SysprimsError::NotSupported {
                feature: operation,
                reason: "the kernel does not implement this system call (ENOSYS)".into(),
            },
            _ => SysprimsError::System {
                operation,
                subject,
                errno,
            },
        }
    }
}

/// An error as a JSON document carries it: the stable code and the message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorReport {
    /// The error's code (`"not_found"`, `"permission_denied"`, ...).
    pub code: ErrorCode,
    /// What went wrong, naming the operation and the PID or path.
    pub message: String,
}

impl From<&SysprimsError> for ErrorReport {
    fn from(e: &SysprimsError) -> ErrorReport {
        ErrorReport {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<std::convert::Infallible> for SysprimsError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(ErrorCode::InvalidArgument.as_i32(), 1);
        assert_eq!(ErrorCode::SpawnFailed.as_i32(), 2);
        assert_eq!(ErrorCode::Timeout.as_i32(), 3);
        assert_eq!(ErrorCode::PermissionDenied.as_i32(), 4);
        assert_eq!(ErrorCode::NotFound.as_i32(), 5);
        assert_eq!(ErrorCode::NotSupported.as_i32(), 6);
        assert_eq!(ErrorCode::System.as_i32(), 8);
        assert_eq!(ErrorCode::Internal.as_i32(), 99);
        for code in [1, 2, 3, 4, 5, 6, 8, 99] {
            assert_eq!(ErrorCode::from_i32(code).unwrap().as_i32(), code);
        }
        assert_eq!(ErrorCode::from_i32(0), None);
        assert_eq!(ErrorCode::from_i32(7), None);
    }

    #[test]
    fn errno_classification_keeps_context() {
        let e = SysprimsError::from_errno("read stat", Subject::Process(42), libc::ESRCH);
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert_eq!(e.pid(), Some(42));
        assert_eq!(e.to_string(), "read stat: process 42 not found");

        let e = SysprimsError::from_errno("readlink", Subject::Path("/x".into()), libc::EACCES);
        assert_eq!(e.code(), ErrorCode::PermissionDenied);
        assert_eq!(e.to_string(), "readlink: permission denied for /x");

        let e = SysprimsError::from_errno("read", Subject::Process(7), libc::EIO);
        assert_eq!(e.code(), ErrorCode::System);
        assert_eq!(e.errno(), Some(libc::EIO));
        assert!(e.to_string().contains("errno 5"), "{e}");
    }
}
