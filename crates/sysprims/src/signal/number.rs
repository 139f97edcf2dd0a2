//! Signals by number and by name: a pure table, no system calls.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::error::{Result, SysprimsError};

/// A Linux signal: 1 to 31, the real-time signals 34 (`RTMIN`) to 64 (`RTMAX`), or 0, the
/// existence probe that `kill(2)` checks permission for but never delivers.
///
/// 32 and 33 are real-time signals the C library keeps for its own threads (glibc uses them to
/// cancel threads and to change IDs); no `kill` names them, and sysprims refuses them.
///
/// Parse with [`Signal::parse`] (or `str::parse`), which takes what the system `kill` takes and
/// more: `"SIGTERM"`, `"TERM"`, `"term"`, `"15"`, `"RTMIN+1"`, `"SIGRTMAX-2"`.
///
/// Numbers that cross a public boundary (C ABI, JSON, bindings, CLI) are the platform's native
/// ones, converted with [`Signal::from_native`] / [`Signal::parse_native`] on the way in and
/// [`Signal::native_number`] on the way out; names are portable. On Linux the two agree.
///
/// ```
/// use sysprims::Signal;
///
/// assert_eq!("term".parse::<Signal>().unwrap(), Signal::TERM);
/// assert_eq!(Signal::parse("SIGRTMIN+1").unwrap().number(), 35);
/// assert_eq!(Signal::new(9).unwrap().name(), "KILL");
/// assert_eq!(Signal::KILL.to_string(), "SIGKILL");
/// assert!(Signal::parse("SIGFOO").is_err());
/// assert!(Signal::new(65).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

/// The names of signals 1 to 31, as procps `kill -l` prints them (Linux numbering on x86,
/// ARM, RISC-V and most other architectures).
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
];

/// Other names some programs use, accepted on input.
const ALIASES: [(&str, u8); 3] = [("IOT", 6), ("CLD", 17), ("IO", 29)];

/// The first real-time signal the C library leaves to programs (glibc's `SIGRTMIN`).
const RTMIN: u8 = 34;
/// The last real-time signal (`SIGRTMAX`, `_NSIG - 1`).
const RTMAX: u8 = 64;

// The table above is Linux's generic numbering. Where libc disagrees (Alpha, MIPS, SPARC,
// PA-RISC number signals differently), fail the build rather than send the wrong signal.
#[cfg(target_os = "linux")]
const _: () = {
    assert!(libc::SIGHUP == 1 && libc::SIGKILL == 9 && libc::SIGUSR1 == 10);
    assert!(libc::SIGTERM == 15 && libc::SIGSTKFLT == 16 && libc::SIGCHLD == 17);
    assert!(libc::SIGCONT == 18 && libc::SIGSTOP == 19 && libc::SIGPOLL == 29);
    assert!(libc::SIGPWR == 30 && libc::SIGSYS == 31);
};

impl Signal {
    /// Signal 0: checks that the process exists and may be signalled, delivers nothing.
    pub const PROBE: Signal = Signal(0);
    /// `SIGHUP` (1): the terminal hung up; daemons often reload on it.
    pub const HUP: Signal = Signal(1);
    /// `SIGINT` (2): interrupt, as Ctrl-C sends.
    pub const INT: Signal = Signal(2);
    /// `SIGQUIT` (3): quit with a core dump, as Ctrl-\ sends.
    pub const QUIT: Signal = Signal(3);
    /// `SIGABRT` (6): abort.
    pub const ABRT: Signal = Signal(6);
    /// `SIGKILL` (9): ends the process; it cannot be caught, blocked or ignored.
    pub const KILL: Signal = Signal(9);
    /// `SIGUSR1` (10): for the program's own use.
    pub const USR1: Signal = Signal(10);
    /// `SIGUSR2` (12): for the program's own use.
    pub const USR2: Signal = Signal(12);
    /// `SIGPIPE` (13): wrote to a pipe with no reader.
    pub const PIPE: Signal = Signal(13);
    /// `SIGALRM` (14): a timer expired.
    pub const ALRM: Signal = Signal(14);
    /// `SIGTERM` (15): please terminate; the default of `kill` and of graceful shutdown.
    pub const TERM: Signal = Signal(15);
    /// `SIGCHLD` (17): a child stopped or exited.
    pub const CHLD: Signal = Signal(17);
    /// `SIGCONT` (18): continue a stopped process.
    pub const CONT: Signal = Signal(18);
    /// `SIGSTOP` (19): stop the process; it cannot be caught, blocked or ignored.
    pub const STOP: Signal = Signal(19);
    /// `SIGTSTP` (20): stop, as Ctrl-Z sends; can be caught.
    pub const TSTP: Signal = Signal(20);
    /// `SIGWINCH` (28): the terminal changed size.
    pub const WINCH: Signal = Signal(28);
    /// `SIGRTMIN` (34): the first real-time signal.
    pub const RTMIN: Signal = Signal(RTMIN);
    /// `SIGRTMAX` (64): the last real-time signal.
    pub const RTMAX: Signal = Signal(RTMAX);

    /// The signal with this number.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for numbers outside 0 to 64, and
    /// for 32 and 33, which the C library reserves.
    pub fn new(number: i32) -> Result<Signal> {
        match u8::try_from(number) {
            Ok(n @ (0..=31 | RTMIN..=RTMAX)) => Ok(Signal(n)),
            Ok(32 | 33) => Err(SysprimsError::invalid(
                "signal",
                number.to_string(),
                "signals 32 and 33 are reserved by the C library for its threads; \
                 the real-time signals for programs are 34 (RTMIN) to 64 (RTMAX)",
            )),
            _ => Err(SysprimsError::invalid(
                "signal",
                number.to_string(),
                "Linux signals are 1 to 64 (and 0, the existence probe)",
            )),
        }
    }

    /// The real-time signal `RTMIN+offset` (34 + `offset`).
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) when that is past `RTMAX` (64).
    pub fn realtime(offset: u32) -> Result<Signal> {
        match u8::try_from(offset) {
            Ok(o) if o <= RTMAX - RTMIN => Ok(Signal(RTMIN + o)),
            _ => Err(SysprimsError::invalid(
                "signal",
                format!("RTMIN+{offset}"),
                format!("RTMIN+{} (64) is the last real-time signal", RTMAX - RTMIN),
            )),
        }
    }

    /// Parse a signal as a user writes it: a number (`"15"`), or a name in any case, with or
    /// without `SIG` (`"SIGTERM"`, `"TERM"`, `"term"`), including `RTMIN`, `RTMIN+n`, `RTMAX`,
    /// `RTMAX-n` and the aliases `IOT`, `CLD` and `IO`.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the text, for an empty
    /// string, an unknown name, or a number [`Signal::new`] refuses.
    pub fn parse(text: &str) -> Result<Signal> {
        if text.is_empty() {
            return Err(SysprimsError::invalid(
                "signal",
                text,
                "a signal cannot be empty",
            ));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<i32>() {
                Ok(n) => Signal::new(n).map_err(|e| renamed(e, text)),
                Err(_) => Err(SysprimsError::invalid(
                    "signal",
                    text,
                    "Linux signals are 1 to 64 (and 0, the existence probe)",
                )),
            };
        }
        let upper = text.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            return Ok(Signal(i as u8 + 1));
        }
        if let Some((_, n)) = ALIASES.iter().find(|(a, _)| *a == name) {
            return Ok(Signal(*n));
        }
        if let Some(signal) = parse_realtime(name) {
            return signal.map_err(|e| renamed(e, text));
        }
        Err(SysprimsError::invalid(
            "signal",
            text,
            "unknown signal name (`sysprims kill -l` lists them)",
        ))
    }

    /// Parse a signal as it crosses a public boundary (a command line, a binding's argument):
    /// a number is the platform's native number ([`Signal::from_native`]: on macOS `"30"` is
    /// `USR1`), a name is portable and read as [`Signal::parse`] reads it.
    ///
    /// ```
    /// use sysprims::Signal;
    ///
    /// let usr1 = if cfg!(target_os = "macos") { "30" } else { "10" };
    /// assert_eq!(Signal::parse_native(usr1).unwrap(), Signal::USR1);
    /// assert_eq!(Signal::parse_native("sigusr1").unwrap(), Signal::USR1);
    /// ```
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the text, as
    /// [`Signal::parse`], or for a number that is no signal of this platform's.
    pub fn parse_native(text: &str) -> Result<Signal> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<i32>() {
                Ok(n) => Signal::from_native(n).map_err(|e| renamed(e, text)),
                Err(_) => Err(SysprimsError::invalid(
                    "signal",
                    text,
                    "not a signal number of this platform's",
                )),
            };
        }
        Signal::parse(text)
    }

    /// The signal's number, sysprims's (Linux's) on every platform. What crosses a public
    /// boundary (the C ABI, JSON, the bindings, the CLI) is
    /// [`native_number`](Signal::native_number) instead, which differs on macOS.
    pub fn number(self) -> i32 {
        i32::from(self.0)
    }

    /// The number this system's kernel gives the signal; `None` where it has no such signal.
    /// sysprims numbers signals as Linux does, on every platform; macOS numbers a third of
    /// them differently (`USR1` is 30 there, `CONT` 19, `STOP` 17), so this is the number to
    /// hand to a macOS system call or to compare with a macOS `libc::SIG*` constant, and it
    /// is `None` for `STKFLT`, `PWR` and the real-time signals. Elsewhere it is
    /// [`number`](Signal::number).
    ///
    /// ```
    /// use sysprims::Signal;
    ///
    /// let usr1 = if cfg!(target_os = "macos") { 30 } else { 10 };
    /// assert_eq!(Signal::USR1.native_number(), Some(usr1));
    /// assert_eq!(Signal::TERM.native_number(), Some(15));
    /// ```
    pub fn native_number(self) -> Option<i32> {
        #[cfg(target_os = "macos")]
        {
            crate::sys::macos::signo::to_native(self.number())
        }
        #[cfg(not(target_os = "macos"))]
        {
            Some(self.number())
        }
    }

    /// The signal this system's kernel numbers `native` (the inverse of
    /// [`native_number`](Signal::native_number)): what a signal handler or a wait status
    /// gives, as a `Signal`. Elsewhere than macOS it is [`Signal::new`].
    ///
    /// ```
    /// use sysprims::Signal;
    ///
    /// let usr1 = if cfg!(target_os = "macos") { 30 } else { 10 };
    /// assert_eq!(Signal::from_native(usr1).unwrap(), Signal::USR1);
    /// ```
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming the number when it is no
    /// signal sysprims has (on macOS also `EMT` and `INFO`, which Linux lacks).
    pub fn from_native(native: i32) -> Result<Signal> {
        #[cfg(target_os = "macos")]
        {
            match crate::sys::macos::signo::from_native(native) {
                Some(n) => Signal::new(n),
                None => Err(SysprimsError::invalid(
                    "signal",
                    native.to_string(),
                    "not a macOS signal with a Linux number (EMT and INFO have none)",
                )),
            }
        }
        #[cfg(not(target_os = "macos"))]
        {
            Signal::new(native)
        }
    }

    /// The name without `SIG`, as `kill -l` prints it: `"TERM"`, `"RTMIN+1"`, `"RTMAX-2"`;
    /// `"0"` for the probe.
    pub fn name(self) -> Cow<'static, str> {
        match self.0 {
            0 => Cow::Borrowed("0"),
            n @ 1..=31 => Cow::Borrowed(NAMES[usize::from(n) - 1]),
            RTMIN => Cow::Borrowed("RTMIN"),
            RTMAX => Cow::Borrowed("RTMAX"),
            // Like bash and glibc's strsignal: the lower half counts up from RTMIN, the upper
            // half down from RTMAX.
            n if n <= RTMIN + 15 => Cow::Owned(format!("RTMIN+{}", n - RTMIN)),
            n => Cow::Owned(format!("RTMAX-{}", RTMAX - n)),
        }
    }

    /// True for every signal but the probe (0): the ones that do something to the target.
    pub fn is_destructive(self) -> bool {
        self.0 != 0
    }

    /// Every signal that can be sent, ascending: 1 to 31, then 34 to 64 (not the probe).
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=31).chain(RTMIN..=RTMAX).map(Signal)
    }
}

/// `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`; `None` when `name` is none of these forms.
fn parse_realtime(name: &str) -> Option<Result<Signal>> {
    let offset = |digits: &str| -> Option<u32> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(digits.parse::<u32>().unwrap_or(u32::MAX))
    };
    let out_of_range = || {
        Err(SysprimsError::invalid(
            "signal",
            name,
            "the real-time signals are RTMIN (34) to RTMAX (64)",
        ))
    };
    let n = if name == "RTMIN" {
        u32::from(RTMIN)
    } else if name == "RTMAX" {
        u32::from(RTMAX)
    } else if let Some(rest) = name.strip_prefix("RTMIN+") {
        u32::from(RTMIN).saturating_add(offset(rest)?)
    } else if let Some(rest) = name.strip_prefix("RTMAX-") {
        match u32::from(RTMAX).checked_sub(offset(rest)?) {
            Some(n) => n,
            None => return Some(out_of_range()),
        }
    } else {
        return None;
    };
    if (u32::from(RTMIN)..=u32::from(RTMAX)).contains(&n) {
        Some(Ok(Signal(n as u8)))
    } else {
        Some(out_of_range())
    }
}

/// The same error, naming the text the user wrote rather than a derived value.
fn renamed(e: SysprimsError, text: &str) -> SysprimsError {
    match e {
        SysprimsError::InvalidArgument { what, reason, .. } => SysprimsError::InvalidArgument {
            what,
            value: text.to_string(),
            reason,
        },
        other => other,
    }
}

impl fmt::Display for Signal {
    /// `SIGTERM`, `SIGRTMIN+1`; `signal 0` for the probe.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("signal 0")
        } else {
            write!(f, "SIG{}", self.name())
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({}, {})", self.0, self.name())
    }
}

impl FromStr for Signal {
    type Err = SysprimsError;

    fn from_str(text: &str) -> Result<Signal> {
        Signal::parse(text)
    }
}

impl TryFrom<i32> for Signal {
    type Error = SysprimsError;

    fn try_from(number: i32) -> Result<Signal> {
        Signal::new(number)
    }
}

impl From<Signal> for i32 {
    fn from(signal: Signal) -> i32 {
        signal.number()
    }
}

/// Serialised as the platform's native number ([`Signal::native_number`]): JSON is a public
/// boundary, and every signal number that crosses one is the number the platform's own
/// `<signal.h>` gives (identical to [`Signal::number`] everywhere but macOS). A signal the
/// platform lacks (on macOS `STKFLT`, `PWR`, the real-time signals) is written as its
/// portable name (`"PWR"`) rather than as a number that would mean another signal there.
impl serde::Serialize for Signal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        native_serde::to_json(self.number()).serialize(serializer)
    }
}

/// Read from the platform's native number (`15`; on macOS `30` is `USR1`, see
/// [`Signal::from_native`]) or a portable name (`"TERM"`, `"SIGTERM"`, `"RTMIN+1"`).
impl<'de> serde::Deserialize<'de> for Signal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Signal, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Name(String),
        }
        match Raw::deserialize(deserializer)? {
            // Out of i32's range is out of range for Signal::from_native too: clamp, keep
            // the error.
            Raw::Number(n) => Signal::from_native(n.clamp(-1, 65) as i32)
                .map_err(|e| serde::de::Error::custom(renamed(e, &n.to_string()))),
            Raw::Name(name) => Signal::parse(&name).map_err(serde::de::Error::custom),
        }
    }
}

/// Serde for a signal number held as sysprims's (Linux) number in a Rust field but written to
/// and read from JSON as the platform's native number, like [`Signal`] itself; a number that
/// is no signal is written unchanged, and one the platform lacks as its portable name.
pub(crate) mod native_serde {
    use super::Signal;

    /// The platform's number for sysprims's signal number `number`; unchanged when it is no
    /// signal or one the platform lacks (which a status read from this platform never is).
    pub(crate) fn native_or_same(number: i32) -> i32 {
        Signal::new(number)
            .ok()
            .and_then(Signal::native_number)
            .unwrap_or(number)
    }

    /// This platform's numbering: sysprims's number to the native one.
    fn host_to_native(number: i32) -> Option<i32> {
        Signal::new(number).ok().and_then(Signal::native_number)
    }

    /// This platform's numbering: the native number to sysprims's.
    fn host_from_native(native: i32) -> Option<i32> {
        Signal::from_native(native).ok().map(Signal::number)
    }

    /// The JSON form of sysprims's signal number `number` under the numbering `to_native`:
    /// the native number, the name of a signal the platform lacks, or a number that is no
    /// signal unchanged.
    pub(super) fn to_json_by(
        number: i32,
        to_native: impl Fn(i32) -> Option<i32>,
    ) -> serde_json::Value {
        match Signal::new(number) {
            Ok(signal) => match to_native(number) {
                Some(n) => n.into(),
                None => signal.name().into_owned().into(),
            },
            Err(_) => number.into(),
        }
    }

    /// sysprims's number for the JSON native number `native` under the numbering
    /// `from_native`. A number that is no signal in either numbering is kept; one that is a
    /// sysprims number but no native signal with one (macOS's `EMT`, 7, which sysprims would
    /// read as `BUS`) is an error rather than another signal.
    pub(super) fn from_json_by(
        native: i32,
        from_native: impl Fn(i32) -> Option<i32>,
    ) -> Result<i32, String> {
        match from_native(native) {
            Some(n) => Ok(n),
            None if Signal::new(native).is_err() => Ok(native),
            None => Err(format!(
                "invalid signal {native}: not a signal of this platform's that sysprims has"
            )),
        }
    }

    /// The JSON form of sysprims's signal number `number` on this platform.
    pub(super) fn to_json(number: i32) -> serde_json::Value {
        to_json_by(number, host_to_native)
    }

    /// sysprims's number for this platform's JSON number `native`.
    fn from_json(native: i32) -> Result<i32, String> {
        from_json_by(native, host_from_native)
    }

    /// `i32` fields.
    pub(crate) mod plain {
        use serde::{Serialize, Serializer};

        /// Write `number` as the native number.
        pub(crate) fn serialize<S: Serializer>(number: &i32, s: S) -> Result<S::Ok, S::Error> {
            super::to_json(*number).serialize(s)
        }
    }

    /// `Option<i32>` fields.
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        /// Write `number`, if any, as the native number.
        pub(crate) fn serialize<S: Serializer>(
            number: &Option<i32>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            number.map(super::to_json).serialize(s)
        }

        /// Read a native number, if any, as sysprims's number.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<i32>, D::Error> {
            Option::<i32>::deserialize(d)?
                .map(super::from_json)
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

impl schemars::JsonSchema for Signal {
    fn schema_name() -> Cow<'static, str> {
        "Signal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A signal: the platform's native number (Linux: 0 to 64, not 32 or \
                            33; macOS: 0 to 31), or its portable name (\"TERM\", \"SIGTERM\", \
                            \"RTMIN+1\"): always accepted in input, and written for a signal \
                            the platform lacks.",
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": 64 },
                { "type": "string" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // JSON is a public boundary: its signal numbers are the platform's (the C library's
    // `SIG*`), whatever sysprims numbers the signal in Rust. On Linux the two agree, so
    // these compare with libc's constants, which is what they must equal on macOS too.
    #[cfg(unix)]
    #[test]
    fn json_carries_the_native_number() {
        for (signal, native) in [
            (Signal::USR1, libc::SIGUSR1),
            (Signal::USR2, libc::SIGUSR2),
            (Signal::CHLD, libc::SIGCHLD),
            (Signal::CONT, libc::SIGCONT),
            (Signal::STOP, libc::SIGSTOP),
            (Signal::TSTP, libc::SIGTSTP),
            (Signal::TERM, libc::SIGTERM),
        ] {
            assert_eq!(serde_json::to_value(signal).unwrap(), native, "{signal}");
            assert_eq!(
                serde_json::from_value::<Signal>(native.into()).unwrap(),
                signal,
                "{native}"
            );
            // Names are portable.
            assert_eq!(
                serde_json::from_value::<Signal>(signal.name().into()).unwrap(),
                signal
            );
        }
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Exit {
        #[serde(
            default,
            serialize_with = "native_serde::option::serialize",
            deserialize_with = "native_serde::option::deserialize"
        )]
        signal: Option<i32>,
        #[serde(serialize_with = "native_serde::plain::serialize")]
        #[serde(skip_deserializing)]
        sent: i32,
    }

    #[cfg(unix)]
    #[test]
    fn number_fields_cross_json_as_native_numbers() {
        let exit = Exit {
            signal: Some(Signal::USR1.number()),
            sent: Signal::STOP.number(),
        };
        let json = serde_json::to_value(&exit).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"signal": libc::SIGUSR1, "sent": libc::SIGSTOP})
        );
        let back: Exit = serde_json::from_value(json).unwrap();
        assert_eq!(back.signal, Some(Signal::USR1.number()));
    }

    #[test]
    fn number_fields_keep_what_is_no_signal_and_absence() {
        let exit = Exit {
            signal: None,
            sent: 99,
        };
        let json = serde_json::to_value(&exit).unwrap();
        assert_eq!(json, serde_json::json!({"signal": null, "sent": 99}));
        let back: Exit = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(back.signal, None);
        let back: Exit = serde_json::from_value(serde_json::json!({"signal": 99})).unwrap();
        assert_eq!(back.signal, Some(99));
    }

    // The JSON conversions under macOS's numbering (its table is compiled for Linux's tests):
    // what a Mac's documents carry.
    #[cfg(target_os = "linux")]
    #[test]
    fn json_under_the_macos_numbering() {
        use crate::sys::macos::signo;
        use native_serde::{from_json_by, to_json_by};
        let json = |n| to_json_by(n, signo::to_native);
        assert_eq!(json(Signal::USR1.number()), 30);
        assert_eq!(json(Signal::STOP.number()), 17);
        assert_eq!(json(Signal::CHLD.number()), 20);
        assert_eq!(json(Signal::TERM.number()), 15);
        assert_eq!(json(0), 0);
        assert_eq!(json(30), "PWR", "Linux's 30 has no macOS number");
        assert_eq!(json(Signal::RTMIN.number()), "RTMIN");
        assert_eq!(json(99), 99);
        let back = |n| from_json_by(n, signo::from_native);
        assert_eq!(back(30), Ok(Signal::USR1.number()));
        assert_eq!(back(17), Ok(Signal::STOP.number()));
        assert_eq!(back(99), Ok(99));
        assert!(
            back(7).unwrap_err().contains('7'),
            "EMT must not become BUS"
        );
        assert!(back(29).is_err(), "INFO must not become POLL");
    }

    #[test]
    fn a_signal_the_platform_lacks_is_written_by_name() {
        // PWR is 30 on Linux; macOS has no PWR, and its 30 is USR1.
        let expect = match Signal::new(30).unwrap().native_number() {
            Some(n) => serde_json::json!(n),
            None => serde_json::json!("PWR"),
        };
        assert_eq!(
            serde_json::to_value(Signal::new(30).unwrap()).unwrap(),
            expect
        );
        assert_eq!(
            serde_json::to_value(Signal::RTMIN).unwrap(),
            match Signal::RTMIN.native_number() {
                Some(n) => serde_json::json!(n),
                None => serde_json::json!("RTMIN"),
            }
        );
        if cfg!(target_os = "linux") {
            assert_eq!(serde_json::to_value(Signal::new(30).unwrap()).unwrap(), 30);
        }
    }

    #[test]
    fn every_signal_round_trips_through_its_name_and_number() {
        let all: Vec<Signal> = Signal::all().collect();
        assert_eq!(all.len(), 31 + 31);
        for s in all {
            assert_eq!(Signal::parse(&s.name()).unwrap(), s, "{s:?}");
            assert_eq!(Signal::parse(&format!("SIG{}", s.name())).unwrap(), s);
            assert_eq!(Signal::parse(&s.name().to_lowercase()).unwrap(), s);
            assert_eq!(Signal::parse(&s.number().to_string()).unwrap(), s);
            assert_eq!(Signal::new(s.number()).unwrap(), s);
        }
    }

    #[test]
    fn names_match_the_kernel_numbering() {
        assert_eq!(Signal::parse("TERM").unwrap().number(), 15);
        assert_eq!(Signal::parse("sigkill").unwrap().number(), 9);
        assert_eq!(Signal::parse("Usr1").unwrap(), Signal::USR1);
        assert_eq!(Signal::parse("iot").unwrap(), Signal::ABRT);
        assert_eq!(Signal::parse("CLD").unwrap(), Signal::CHLD);
        assert_eq!(Signal::parse("IO").unwrap().name(), "POLL");
        assert_eq!(Signal::parse("09").unwrap(), Signal::KILL);
        assert_eq!(Signal::parse("0").unwrap(), Signal::PROBE);
        assert!(!Signal::PROBE.is_destructive());
        assert!(Signal::TERM.is_destructive());
    }

    #[test]
    fn realtime_names_follow_bash_and_glibc() {
        let name = |n: i32| Signal::new(n).unwrap().name().into_owned();
        assert_eq!(name(34), "RTMIN");
        assert_eq!(name(35), "RTMIN+1");
        assert_eq!(name(49), "RTMIN+15");
        assert_eq!(name(50), "RTMAX-14");
        assert_eq!(name(63), "RTMAX-1");
        assert_eq!(name(64), "RTMAX");
        assert_eq!(Signal::parse("RTMIN+30").unwrap().number(), 64);
        assert_eq!(Signal::parse("rtmax-30").unwrap().number(), 34);
        assert_eq!(Signal::realtime(1).unwrap().number(), 35);
        assert!(Signal::realtime(31).is_err());
        assert_eq!(Signal::RTMIN.to_string(), "SIGRTMIN");
    }

    #[test]
    fn bad_signals_are_named_in_the_error() {
        for bad in [
            "",
            "SIGFOO",
            "SIG",
            "foo",
            "-9",
            "+9",
            " 9",
            "9 ",
            "0x9",
            "65",
            "32",
            "33",
            "-1",
            "99999999999999999999",
            "RTMIN+31",
            "RTMAX-31",
            "RTMIN+",
            "RTMIN-1",
            "RTMAX+1",
            "TERM\n",
            "1.5",
        ] {
            match Signal::parse(bad) {
                Err(SysprimsError::InvalidArgument { what, value, .. }) => {
                    assert_eq!(what, "signal");
                    assert_eq!(value, bad, "the error names what was given");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        for bad in [-1, 32, 33, 65, i32::MAX, i32::MIN] {
            assert!(Signal::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_takes_numbers_and_names() {
        assert_eq!(serde_json::to_string(&Signal::TERM).unwrap(), "15");
        assert_eq!(
            serde_json::from_str::<Signal>("\"sigterm\"").unwrap(),
            Signal::TERM
        );
        assert_eq!(
            serde_json::from_str::<Signal>("35").unwrap().name(),
            "RTMIN+1"
        );
        assert!(serde_json::from_str::<Signal>("65").is_err());
        assert!(serde_json::from_str::<Signal>("4294967311").is_err());
        assert!(serde_json::from_str::<Signal>("\"FOO\"").is_err());
    }
}
