//! Cancelling a blocking call from another thread: [`CancelToken`].

use crate::error::Result;

/// The warning that [`wait_pid_cancellable`](crate::wait_pid_cancellable) and
/// [`terminate_tree_cancellable`](crate::terminate_tree_cancellable) put in their results'
/// `warnings` when the token ended the wait: exactly this string, so callers can match it.
pub const CANCELLED_WARNING: &str = "cancelled";

/// A one-shot, thread-safe cancellation signal for the blocking calls that accept one.
///
/// [`cancel`](CancelToken::cancel) may be called from any thread, any number of times; it
/// wakes every call waiting on the token at once, and every later call that is given the
/// token returns at once too (the token stays cancelled). On Linux it is an `eventfd(2)` that
/// the waits `poll(2)` alongside the pidfds and `cgroup.events` they already watch: no
/// polling loop and no extra thread.
///
/// ```
/// use std::time::Duration;
/// use sysprims::{CancelToken, wait_pid_cancellable};
///
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let token = CancelToken::new().unwrap();
/// std::thread::scope(|s| {
///     let waiter = s.spawn(|| wait_pid_cancellable(child.id(), None, &token));
///     token.cancel();
///     let result = waiter.join().unwrap().unwrap();
///     assert!(!result.exited);
///     assert!(result.warnings.iter().any(|w| w == sysprims::CANCELLED_WARNING));
/// });
/// child.kill().unwrap();
/// child.wait().unwrap();
/// ```
#[derive(Debug)]
pub struct CancelToken {
    fd: crate::sys::cancel::CancelFd,
}

impl CancelToken {
    /// A token that is not cancelled yet.
    ///
    /// # Errors
    /// [`System`](crate::ErrorCode::System) when no file descriptor is left for its eventfd
    /// (`EMFILE`/`ENFILE`).
    pub fn new() -> Result<CancelToken> {
        Ok(CancelToken {
            fd: crate::sys::cancel::CancelFd::new()?,
        })
    }

    /// Cancel: wake every call waiting on this token, and make every later one return at
    /// once. Idempotent. On Linux it is one `write(2)`, with no lock and no allocation, so it
    /// is also safe from a signal handler.
    pub fn cancel(&self) {
        self.fd.trigger();
    }

    /// Whether [`cancel`](CancelToken::cancel) has been called.
    pub fn is_cancelled(&self) -> bool {
        self.fd.is_triggered()
    }

    /// The backend object, for the waits that poll it.
    pub(crate) fn sys(&self) -> &crate::sys::cancel::CancelFd {
        &self.fd
    }
}
