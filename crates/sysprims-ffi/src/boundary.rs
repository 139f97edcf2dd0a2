//! What every entry point does at the language boundary: catch panics, read C inputs into
//! validated Rust values, write JSON results, and keep the thread's last error.
//!
//! Each `unsafe` block here is one pointer read or write whose contract the exported
//! function's `# Safety` section hands to the C caller.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sysprims::{ErrorReport, SysprimsError};

/// The last error of one thread.
struct LastError {
    code: i32,
    message: String,
    json: String,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// Record `e` as this thread's last error and return its code.
pub(crate) fn set_last_error(e: &SysprimsError) -> i32 {
    let report = ErrorReport::from(e);
    let json = serde_json::to_string(&report).unwrap_or_else(|_| {
        // An ErrorReport is a code and a string: serialising it cannot fail. Keep a valid
        // document anyway rather than a panic.
        String::from(r#"{"code":"internal","message":"cannot serialise the error"}"#)
    });
    let code = e.code().as_i32();
    // try_with: a call made while the thread's locals are being destroyed (from another
    // library's thread-exit hook) keeps no last error rather than panicking.
    let _ = LAST_ERROR.try_with(|last| {
        *last.borrow_mut() = Some(LastError {
            code,
            message: report.message,
            json,
        });
    });
    code
}

/// Forget this thread's last error: the call succeeded.
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = None);
}

/// This thread's last error code, 0 after a success.
pub(crate) fn last_error_code() -> i32 {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ref().map_or(0, |e| e.code))
        .unwrap_or(0)
}

/// This thread's last error message as a new C string (NULL after a success).
pub(crate) fn last_error_message() -> *mut c_char {
    LAST_ERROR
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .map_or(std::ptr::null_mut(), |e| into_c_string(&e.message))
        })
        .unwrap_or(std::ptr::null_mut())
}

/// This thread's last error as ErrorReport JSON, a new C string (NULL after a success).
pub(crate) fn last_error_json() -> *mut c_char {
    LAST_ERROR
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .map_or(std::ptr::null_mut(), |e| into_c_string(&e.json))
        })
        .unwrap_or(std::ptr::null_mut())
}

/// A Rust string as a C string the caller frees with `sysprims_free_string`. An interior
/// NUL (possible only in a message that quotes a caller's JSON string with `\u0000`) is
/// written as `\0` so the text is not cut short.
pub(crate) fn into_c_string(text: &str) -> *mut c_char {
    let c = CString::new(text).unwrap_or_else(|_| {
        CString::new(text.replace('\0', "\\0")).expect("every NUL was replaced")
    });
    c.into_raw()
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// Run one entry point: its result becomes the return code and the thread's last error, and
/// a panic becomes [`Internal`](sysprims::ErrorCode::Internal) instead of unwinding into C.
pub(crate) fn call(function: &'static str, body: impl FnOnce() -> sysprims::Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            crate::SYSPRIMS_OK
        }
        Ok(Err(e)) => set_last_error(&e),
        Err(payload) => set_last_error(&SysprimsError::Internal {
            message: format!(
                "{function} panicked: {} (please report this bug)",
                panic_message(payload.as_ref())
            ),
        }),
    }
}

/// Run an entry point that has no error to report (frees, triggers): a panic is swallowed
/// rather than unwound into C, and recorded as the last error.
pub(crate) fn call_infallible(function: &'static str, body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(&SysprimsError::Internal {
            message: format!(
                "{function} panicked: {} (please report this bug)",
                panic_message(payload.as_ref())
            ),
        });
    }
}

/// The InvalidArgument error for a NULL pointer argument.
pub(crate) fn null_argument(what: &'static str) -> SysprimsError {
    SysprimsError::invalid(
        what,
        "NULL",
        "a NULL pointer was passed where a value is required",
    )
}

/// The `char **out_json` of a call: checked to be non-NULL and set to NULL at once, so it is
/// NULL on every error path; written only on success.
pub(crate) struct OutJson(*mut *mut c_char);

impl OutJson {
    /// Check `out` and set `*out = NULL`.
    ///
    /// # Safety
    /// `out` is NULL or valid for a write of one pointer.
    pub(crate) unsafe fn new(out: *mut *mut c_char) -> sysprims::Result<OutJson> {
        if out.is_null() {
            return Err(null_argument("out_json"));
        }
        // SAFETY: non-NULL, and the caller promises it is valid for a pointer write.
        unsafe { out.write(std::ptr::null_mut()) };
        Ok(OutJson(out))
    }

    /// Serialise `value` and hand it to the caller.
    pub(crate) fn write(self, value: &impl Serialize) -> sysprims::Result<()> {
        let json = serde_json::to_string(value).map_err(|e| SysprimsError::Internal {
            message: format!("cannot serialise the result as JSON: {e}"),
        })?;
        // serde_json escapes NUL as \u0000, so the text has no interior NUL.
        let c = CString::new(json).map_err(|e| SysprimsError::Internal {
            message: format!("the JSON result has a NUL byte at {}", e.nul_position()),
        })?;
        // SAFETY: checked non-NULL and valid for a write in `new`; the caller owns the string
        // from here and frees it with sysprims_free_string.
        unsafe { self.0.write(c.into_raw()) };
        Ok(())
    }
}

/// Read a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for the call.
pub(crate) unsafe fn read_str<'a>(
    what: &'static str,
    ptr: *const c_char,
) -> sysprims::Result<&'a str> {
    if ptr.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string alive for the call.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        SysprimsError::invalid(
            what,
            String::from_utf8_lossy(&bytes.to_bytes()[..bytes.to_bytes().len().min(200)]),
            format!(
                "not valid UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        )
    })
}

/// Parse a JSON object argument into the struct `T` (whose serde derive rejects unknown
/// keys).
///
/// # Safety
/// As [`read_str`].
pub(crate) unsafe fn read_json<T: DeserializeOwned>(
    what: &'static str,
    ptr: *const c_char,
) -> sysprims::Result<T> {
    // SAFETY: passed through from the caller's contract.
    let text = unsafe { read_str(what, ptr)? };
    // serde also reads a struct from a JSON array, field by field in declaration order: a
    // config written as `[...]` is a mistake, not a positional form to accept.
    if text.trim_start().starts_with('[') {
        return Err(SysprimsError::invalid(
            what,
            shorten(text),
            "expected a JSON object, not an array",
        ));
    }
    parse(what, text)
}

/// Parse a JSON array argument into `T`.
///
/// # Safety
/// As [`read_str`].
pub(crate) unsafe fn read_json_array<T: DeserializeOwned>(
    what: &'static str,
    ptr: *const c_char,
) -> sysprims::Result<T> {
    // SAFETY: passed through from the caller's contract.
    let text = unsafe { read_str(what, ptr)? };
    parse(what, text)
}

fn parse<T: DeserializeOwned>(what: &'static str, text: &str) -> sysprims::Result<T> {
    sysprims::json::from_json(what, text)
}

/// Parse an optional JSON argument: NULL means `T::default()`.
///
/// # Safety
/// As [`read_str`].
pub(crate) unsafe fn read_json_or_default<T: DeserializeOwned + Default>(
    what: &'static str,
    ptr: *const c_char,
) -> sysprims::Result<T> {
    if ptr.is_null() {
        return Ok(T::default());
    }
    // SAFETY: passed through from the caller's contract.
    unsafe { read_json(what, ptr) }
}

/// The caller's input as an error message quotes it (see [`sysprims::error::cut`]).
fn shorten(text: &str) -> String {
    sysprims::error::cut(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_are_cut_in_messages() {
        assert_eq!(shorten("abc"), "abc");
        let long = "é".repeat(300);
        let cut = shorten(&long);
        assert_eq!(cut, format!("{}... (600 bytes)", "é".repeat(100)));
    }

    #[test]
    fn a_panic_becomes_internal_and_the_last_error() {
        let rc = call("sysprims_test", || panic!("boom {}", 42));
        assert_eq!(rc, crate::SYSPRIMS_ERR_INTERNAL);
        assert_eq!(last_error_code(), crate::SYSPRIMS_ERR_INTERNAL);
        // SAFETY: a fresh string from last_error_message.
        let message = unsafe { CString::from_raw(last_error_message()) };
        let message = message.to_str().unwrap();
        assert!(
            message.contains("sysprims_test panicked: boom 42"),
            "{message}"
        );
        call_infallible("sysprims_test", || panic!("again"));
        assert_eq!(last_error_code(), crate::SYSPRIMS_ERR_INTERNAL);
        assert_eq!(call("sysprims_test", || Ok(())), crate::SYSPRIMS_OK);
        assert_eq!(last_error_code(), 0);
        assert!(last_error_json().is_null());
    }

    #[test]
    fn interior_nul_survives_as_an_escape() {
        let p = into_c_string("a\0b");
        // SAFETY: just made by into_c_string.
        let back = unsafe { CString::from_raw(p) };
        assert_eq!(back.to_str().unwrap(), "a\\0b");
    }
}
