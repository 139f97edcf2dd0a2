//! Validated process IDs.
//!
//! `kill(2)` gives special meaning to PIDs that are not positive: `0` means "my process group",
//! `-1` means "every process I may signal", `-N` means "process group N". A `u32` from a job
//! record, a C caller or a JSON document becomes one of those by accident all too easily:
//! `u32::MAX` reinterpreted as a `pid_t` is `-1`. A [`Pid`] can only hold `1..=i32::MAX`, so no
//! value that passed through it can reach the kernel as anything but one process.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use crate::error::{Result, SysprimsError};

/// A process ID in `1..=i32::MAX`.
///
/// ```
/// use sysprims::Pid;
///
/// assert_eq!(Pid::new(1234).unwrap().get(), 1234);
/// assert!(Pid::new(0).is_err());
/// assert!(Pid::new(u32::MAX).is_err()); // would be kill(-1)
/// assert!("-1".parse::<Pid>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(NonZeroU32);

const PID_MAX: u32 = i32::MAX as u32;

impl Pid {
    /// Validate a raw PID.
    ///
    /// # Errors
    /// [`InvalidArgument`](SysprimsError::InvalidArgument) for 0 and for anything above
    /// `i32::MAX`, with a message that says what the value would have meant to `kill(2)`.
    pub fn new(raw: u32) -> Result<Pid> {
        match NonZeroU32::new(raw) {
            None => Err(SysprimsError::invalid(
                "PID",
                "0",
                "PID 0 is not a process: kill(0, sig) would signal the caller's whole process group",
            )),
            Some(_) if raw > PID_MAX => Err(SysprimsError::invalid(
                "PID",
                raw.to_string(),
                format!(
                    "PID {raw} is above i32::MAX ({PID_MAX}): as a pid_t it would be {}, {}",
                    raw as i32,
                    negative_meaning(raw as i32)
                ),
            )),
            Some(nz) => Ok(Pid(nz)),
        }
    }

    /// Validate a signed PID, as `pid_t` holds it.
    ///
    /// # Errors
    /// [`InvalidArgument`](SysprimsError::InvalidArgument) for 0 and negative values.
    pub fn from_i64(raw: i64) -> Result<Pid> {
        if raw < 0 {
            return Err(SysprimsError::invalid(
                "PID",
                raw.to_string(),
                format!("a PID must be positive; {}", negative_meaning_i64(raw)),
            ));
        }
        match u32::try_from(raw) {
            Ok(raw) => Pid::new(raw),
            Err(_) => Err(too_large(raw)),
        }
    }

    /// Parse a PID written in decimal, as a user types it.
    ///
    /// # Errors
    /// [`InvalidArgument`](SysprimsError::InvalidArgument) naming the text, for an empty string,
    /// anything not a decimal integer, 0, negative numbers and values above `i32::MAX`.
    pub fn parse(text: &str) -> Result<Pid> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(SysprimsError::invalid("PID", text, "a PID cannot be empty"));
        }
        let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if let Some(rest) = digits.strip_prefix('-') {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                let meaning = match rest.parse::<i64>() {
                    Ok(n) => negative_meaning_i64(-n),
                    Err(_) => "kill(2) would read it as a process group".to_string(),
                };
                return Err(SysprimsError::invalid(
                    "PID",
                    text,
                    format!("a PID must be positive; {meaning}"),
                ));
            }
        }
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SysprimsError::invalid("PID", text, "not a decimal number"));
        }
        match digits.parse::<u64>() {
            Ok(n) if n <= u64::from(u32::MAX) => Pid::new(n as u32).map_err(|e| match e {
                SysprimsError::InvalidArgument { what, reason, .. } => {
                    SysprimsError::InvalidArgument {
                        what,
                        value: text.to_string(),
                        reason,
                    }
                }
                other => other,
            }),
            _ => Err(too_large(text)),
        }
    }

    /// The PID as an unsigned number (`1..=i32::MAX`).
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The PID as a positive `pid_t`.
    pub fn as_raw(self) -> i32 {
        // The invariant `get() <= i32::MAX` makes this lossless and positive.
        self.0.get() as i32
    }

    /// The calling process.
    pub fn current() -> Pid {
        Pid::new(std::process::id()).expect("the kernel never gives a process PID 0")
    }
}

/// Check that `pid` names a process and not another thread of one: the check every sysprims
/// entry point that takes a PID makes before it does anything.
///
/// On Linux a thread has an ID from the same number space as processes, and the kernel
/// accepts it where a PID goes: `kill(2)` given a thread ID signals the whole process the
/// thread belongs to, and `/proc/<tid>` answers as if it were that process. So a thread ID
/// passes [`Pid::new`] but is refused here with
/// [`InvalidArgument`](SysprimsError::InvalidArgument), whose message says
/// `"<tid> is a thread of process <N>"`. A PID that no process has passes (the operation
/// itself then reports [`NotFound`](crate::ErrorCode::NotFound)); on other platforms every
/// PID passes.
///
/// ```
/// let me = sysprims::pid::require_process(std::process::id()).unwrap();
/// assert_eq!(me.get(), std::process::id());
/// ```
///
/// # Errors
/// [`InvalidArgument`](SysprimsError::InvalidArgument) for an invalid PID or a thread ID.
pub fn require_process(pid: impl IntoPid) -> Result<Pid> {
    let pid = pid.into_pid()?;
    crate::sys::process::require_process(pid)?;
    Ok(pid)
}

/// The error for a value too large for any `pid_t`.
fn too_large(value: impl fmt::Display) -> SysprimsError {
    SysprimsError::invalid(
        "PID",
        value.to_string(),
        format!("above i32::MAX ({PID_MAX}), the largest PID there can be"),
    )
}

fn negative_meaning(raw: i32) -> String {
    negative_meaning_i64(i64::from(raw))
}

fn negative_meaning_i64(raw: i64) -> String {
    if raw == -1 {
        "and kill(-1, sig) signals every process the caller may signal".to_string()
    } else {
        format!(
            "and kill(2) would read it as process group {}",
            raw.unsigned_abs()
        )
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid({})", self.0)
    }
}

impl FromStr for Pid {
    type Err = SysprimsError;

    fn from_str(text: &str) -> Result<Pid> {
        Pid::parse(text)
    }
}

impl From<Pid> for u32 {
    fn from(pid: Pid) -> u32 {
        pid.get()
    }
}

impl TryFrom<u32> for Pid {
    type Error = SysprimsError;

    fn try_from(raw: u32) -> Result<Pid> {
        Pid::new(raw)
    }
}

impl TryFrom<i32> for Pid {
    type Error = SysprimsError;

    fn try_from(raw: i32) -> Result<Pid> {
        Pid::from_i64(i64::from(raw))
    }
}

impl serde::Serialize for Pid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.get())
    }
}

impl<'de> serde::Deserialize<'de> for Pid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pid, D::Error> {
        let raw = i64::deserialize(deserializer)?;
        Pid::from_i64(raw).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Pid {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Pid".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A process ID: 1 to 2147483647 (i32::MAX).",
            "type": "integer",
            "minimum": 1,
            "maximum": PID_MAX,
        })
    }
}

/// Anything a public sysprims function accepts as a PID: [`Pid`], `u32`, `i32`, `u64`, `i64`.
///
/// Conversion validates, so a raw `0` or `u32::MAX` given to any entry point is an
/// [`InvalidArgument`](SysprimsError::InvalidArgument) error before any system call.
pub trait IntoPid {
    /// Validate and convert.
    ///
    /// # Errors
    /// [`InvalidArgument`](SysprimsError::InvalidArgument) when the value is not a valid PID.
    fn into_pid(self) -> Result<Pid>;
}

impl IntoPid for Pid {
    fn into_pid(self) -> Result<Pid> {
        Ok(self)
    }
}

impl IntoPid for u32 {
    fn into_pid(self) -> Result<Pid> {
        Pid::new(self)
    }
}

impl IntoPid for i32 {
    fn into_pid(self) -> Result<Pid> {
        Pid::from_i64(i64::from(self))
    }
}

impl IntoPid for u64 {
    fn into_pid(self) -> Result<Pid> {
        match u32::try_from(self) {
            Ok(raw) => Pid::new(raw),
            Err(_) => Err(too_large(self)),
        }
    }
}

impl IntoPid for i64 {
    fn into_pid(self) -> Result<Pid> {
        Pid::from_i64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn reason(result: Result<Pid>) -> String {
        let err = result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        err.to_string()
    }

    #[test]
    fn accepts_the_valid_range() {
        assert_eq!(Pid::new(1).unwrap().get(), 1);
        assert_eq!(Pid::new(PID_MAX).unwrap().as_raw(), i32::MAX);
        assert_eq!(Pid::parse("42").unwrap().get(), 42);
        assert_eq!(Pid::parse(" 42 ").unwrap().get(), 42);
        assert_eq!(Pid::parse("+42").unwrap().get(), 42);
        assert_eq!(Pid::parse("2147483647").unwrap().get(), PID_MAX);
    }

    #[test]
    fn rejects_zero_and_says_why() {
        let msg = reason(Pid::new(0));
        assert!(msg.contains("process group"), "{msg}");
        assert!(reason(Pid::parse("0")).contains("\"0\""));
        assert!(reason(0i32.into_pid()).contains("PID 0"));
    }

    #[test]
    fn rejects_values_that_kill_would_read_as_negative() {
        let msg = reason(Pid::new(u32::MAX));
        assert!(msg.contains("4294967295"), "{msg}");
        assert!(msg.contains("kill(-1"), "{msg}");
        let msg = reason(Pid::parse("4294967295"));
        assert!(msg.contains("kill(-1"), "{msg}");
        let msg = reason(Pid::parse("2147483648"));
        assert!(msg.contains("i32::MAX"), "{msg}");
        assert!(reason(u64::MAX.into_pid()).contains("i32::MAX"));
        assert!(reason(Pid::parse("99999999999999999999")).contains("i32::MAX"));
    }

    #[test]
    fn rejects_negative_and_malformed_text() {
        assert!(reason(Pid::parse("-1")).contains("every process"));
        assert!(reason(Pid::parse("-42")).contains("process group 42"));
        assert!(reason((-7i64).into_pid()).contains("process group 7"));
        assert!(reason(Pid::parse("")).contains("empty"));
        assert!(reason(Pid::parse("   ")).contains("empty"));
        for bad in ["abc", "12abc", "1.5", "0x10", "-", "+", "1 2", "١٢"] {
            let msg = reason(Pid::parse(bad));
            assert!(msg.contains(&format!("{bad:?}")), "{bad}: {msg}");
        }
    }

    #[test]
    fn serde_round_trip_validates() {
        let pid = Pid::new(77).unwrap();
        assert_eq!(serde_json::to_string(&pid).unwrap(), "77");
        assert_eq!(serde_json::from_str::<Pid>("77").unwrap(), pid);
        assert!(serde_json::from_str::<Pid>("0").is_err());
        assert!(serde_json::from_str::<Pid>("-1").is_err());
        assert!(serde_json::from_str::<Pid>("4294967295").is_err());
    }
}
