//! `sysprims timeout`: GNU `timeout`, argument for argument and exit status for exit status,
//! except that the whole job dies on a timeout, escapees included.
//!
//! The arguments are parsed here by hand, not by clap, because GNU's are parsed by
//! `getopt_long("+k:s:v")`: options only before DURATION, long options abbreviable, short ones
//! clustered (`-vsKILL`), and every usage error exits 125.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::time::Duration;

use sysprims::{
    Signal, SysprimsError, TimeoutConfig, TimeoutControl, TimeoutEvent, TimeoutOutcome,
    TimeoutReport,
};

/// Exit statuses GNU `timeout` documents.
pub(crate) const EXIT_CANCELED: i32 = 125;
const EXIT_CANNOT_INVOKE: i32 = 126;
const EXIT_ENOENT: i32 = 127;

const HELP: &str = "\
Usage: sysprims timeout [OPTION] DURATION COMMAND [ARG]...
Start COMMAND, and kill it, and everything it started, if still running after DURATION.

A drop-in for GNU timeout: the same options, durations, messages and exit statuses.

      --preserve-status
                 exit with the same status as COMMAND, even when the
                   command times out
      --foreground
                 when not running timeout directly from a shell prompt,
                   allow COMMAND to read from the TTY and get TTY signals
  -k, --kill-after=DURATION
                 also send a KILL signal if COMMAND is still running
                   this long after the initial signal was sent
  -s, --signal=SIGNAL
                 specify the signal to be sent on timeout;
                   SIGNAL may be a name like 'HUP' or a number
  -v, --verbose  diagnose to stderr any signal sent upon timeout
      --cleanup  when COMMAND exits before DURATION, also end what it left
                   running: the signal, then KILL after --kill-after
                   (at once without it)
      --json=FILE
                 write a JSON report of the run to FILE
                   (schema: timeout-report v1)
      --help     display this help and exit
      --version  output version information and exit

DURATION is a floating point number with an optional suffix:
's' for seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.
A duration of 0 disables the associated timeout.

Upon timeout, send the TERM signal to COMMAND, if no other SIGNAL specified.

Where this differs from GNU timeout:
  - On timeout the signal goes to every process COMMAND started, held in a cgroup
    of its own: children that called setsid or double-forked are not missed. Once
    COMMAND has exited, whatever it left running is killed, so nothing of a
    timed-out command survives. Without a writable cgroup v2, COMMAND and its
    descendants are signalled (best effort: escapees can be missed).
  - With --foreground, COMMAND's children are timed out too.
  - Signals timeout receives (TERM, INT, HUP, QUIT, USR1, USR2 and the -s signal)
    go to the whole job; ALRM makes the timeout happen now, as in GNU.
  - Nested timeouts: an outer timeout's signal reaches the inner COMMAND too (it is
    in the outer job), not only the inner timeout, which GNU relies on to relay it.
  - If timeout itself is killed, COMMAND is killed with it (PR_SET_PDEATHSIG).
  - --cleanup and --json are additions.

Exit status:
  124  if COMMAND times out, and --preserve-status is not specified
  125  if the timeout command itself fails
  126  if COMMAND is found but cannot be invoked
  127  if COMMAND cannot be found
  137  if COMMAND (or timeout itself) is sent the KILL (9) signal (128+9)
  -    the exit status of COMMAND otherwise
";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    pub kill_after: Duration,
    pub signal: Option<Signal>,
    pub verbose: bool,
    pub foreground: bool,
    pub preserve_status: bool,
    pub cleanup: bool,
    pub json: Option<OsString>,
    pub duration: Duration,
    pub command: Vec<OsString>,
}

/// Why parsing stopped.
#[derive(Debug, PartialEq)]
pub enum Stop {
    Help,
    Version,
    /// A usage error: the message (possibly empty) before the "Try" line.
    Usage(String),
}

/// The quotes GNU's `quote()` uses: curved in UTF-8 locales, straight otherwise.
pub(crate) fn quote(text: &str) -> String {
    let utf8 = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .map(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        })
        .unwrap_or(false);
    if utf8 {
        format!("\u{2018}{text}\u{2019}")
    } else {
        format!("'{text}'")
    }
}

/// A prefix of `text` as C's `strtod` reads it: `(value, bytes used)`; `None` when no number
/// starts the text. Handles leading white space, a sign, decimal and hexadecimal forms with
/// exponents, `inf`, `infinity` and `nan`.
fn strtod_prefix(text: &str) -> Option<(f64, usize)> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &text[i..];
    let lower = rest.to_ascii_lowercase();
    if lower.starts_with("infinity") {
        return Some((sign(f64::INFINITY), i + 8));
    }
    if lower.starts_with("inf") {
        return Some((sign(f64::INFINITY), i + 3));
    }
    if lower.starts_with("nan") {
        let mut end = i + 3;
        if b.get(end) == Some(&b'(')
            && let Some(close) = text[end..].find(')')
            && text[end + 1..end + close]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            end += close + 1;
        }
        return Some((f64::NAN, end));
    }
    if lower.starts_with("0x") {
        let start = i + 2;
        let mut j = start;
        let mut mantissa = 0f64;
        let mut digits = 0;
        let mut exponent: i64 = 0;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            mantissa = mantissa * 16.0 + f64::from((b[j] as char).to_digit(16).unwrap_or(0));
            digits += 1;
            j += 1;
        }
        if j < b.len() && b[j] == b'.' {
            j += 1;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                mantissa = mantissa * 16.0 + f64::from((b[j] as char).to_digit(16).unwrap_or(0));
                exponent -= 4;
                digits += 1;
                j += 1;
            }
        }
        if digits == 0 {
            // "0x" with no hex digit: strtod reads the "0" alone.
            return Some((sign(0.0), i + 1));
        }
        if j < b.len() && (b[j] == b'p' || b[j] == b'P') {
            let mut k = j + 1;
            let mut exp_negative = false;
            if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                exp_negative = b[k] == b'-';
                k += 1;
            }
            let digits_start = k;
            let mut e: i64 = 0;
            while k < b.len() && b[k].is_ascii_digit() {
                e = (e * 10 + i64::from(b[k] - b'0')).min(100_000);
                k += 1;
            }
            if k > digits_start {
                exponent += if exp_negative { -e } else { e };
                j = k;
            }
        }
        let value = mantissa * 2f64.powi(exponent.clamp(-100_000, 100_000) as i32);
        return Some((sign(value), j));
    }
    // Decimal: digits, an optional fraction, an optional exponent.
    let start = i;
    let mut j = i;
    let mut digits = 0;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if j < b.len() && b[j] == b'.' {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let mut k = j + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let digits_start = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > digits_start {
            j = k;
        }
    }
    let value: f64 = text[start..j].parse().ok()?;
    Some((sign(value), j))
}

/// A DURATION as GNU `timeout` reads it: a floating point number and an optional `s`, `m`,
/// `h` or `d`. Out-of-range values saturate; fractions of a nanosecond round up.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid time interval {}", quote(text));
    let (value, used) = strtod_prefix(text).ok_or_else(invalid)?;
    // NaN fails this comparison, as in GNU.
    if value.is_nan() || value < 0.0 {
        return Err(invalid());
    }
    let suffix = &text[used..];
    let multiplier = match suffix {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(invalid()),
    };
    Ok(seconds_to_duration(value * multiplier))
}

fn seconds_to_duration(seconds: f64) -> Duration {
    if seconds <= 0.0 {
        return Duration::ZERO;
    }
    if !seconds.is_finite() || seconds >= u64::MAX as f64 {
        return Duration::MAX;
    }
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).ceil();
    let (whole, nanos) = if nanos >= 1e9 {
        (whole + 1.0, 0.0)
    } else {
        (whole, nanos)
    };
    let d = Duration::new(whole as u64, nanos as u32);
    if d.is_zero() {
        Duration::from_nanos(1)
    } else {
        d
    }
}

/// A SIGNAL as GNU's `operand2sig` reads it: a number, this platform's (shell statuses above
/// 128 name the signal 128 below), or a name with or without `SIG`, in any case.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let invalid = || format!("{}: invalid signal", quote(text));
    let number = if text.starts_with(|c: char| c.is_ascii_digit()) {
        let n: i64 = text.parse().map_err(|_| invalid())?;
        let n = i32::try_from(n).map_err(|_| invalid())?;
        n & if n >= 0xff { 0xff } else { 0x7f }
    } else {
        let upper = text.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if name == "EXIT" {
            0
        } else if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-')
        {
            return Err(invalid());
        } else {
            return Signal::parse(name).map_err(|_| invalid());
        }
    };
    // Numbers are this platform's (GNU's are its C library's): macOS's 30 is USR1.
    Signal::from_native(number).map_err(|_| invalid())
}

const LONGS: &[(&str, bool)] = &[
    ("kill-after", true),
    ("signal", true),
    ("verbose", false),
    ("foreground", false),
    ("preserve-status", false),
    ("cleanup", false),
    ("json", true),
    ("help", false),
    ("version", false),
];

fn apply(options: &mut Options, name: &str, value: Option<OsString>) -> Result<(), Stop> {
    let text = || {
        value
            .as_ref()
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match name {
        "kill-after" => options.kill_after = parse_duration(&text()).map_err(Stop::Usage)?,
        "signal" => options.signal = Some(parse_signal(&text()).map_err(Stop::Usage)?),
        "verbose" => options.verbose = true,
        "foreground" => options.foreground = true,
        "preserve-status" => options.preserve_status = true,
        "cleanup" => options.cleanup = true,
        "json" => options.json = value,
        "help" => return Err(Stop::Help),
        "version" => return Err(Stop::Version),
        _ => unreachable!("only names from LONGS"),
    }
    Ok(())
}

/// Parse `args` (everything after `timeout`) as `getopt_long("+k:s:v")` would.
pub fn parse(args: &[OsString]) -> Result<Options, Stop> {
    let mut options = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(OsString::from(v))),
                None => (long, None),
            };
            let exact = LONGS.iter().find(|(n, _)| *n == name);
            let candidates: Vec<&(&str, bool)> =
                LONGS.iter().filter(|(n, _)| n.starts_with(name)).collect();
            let (full, takes_value) = match (exact, candidates.as_slice()) {
                (Some(&(n, t)), _) => (n, t),
                (None, [one]) => (one.0, one.1),
                (None, []) => {
                    return Err(Stop::Usage(format!("unrecognized option '--{name}'")));
                }
                (None, many) => {
                    let list: Vec<String> = many.iter().map(|(n, _)| format!("'--{n}'")).collect();
                    return Err(Stop::Usage(format!(
                        "option '--{name}' is ambiguous; possibilities: {}",
                        list.join(" ")
                    )));
                }
            };
            let value = match (takes_value, value) {
                (true, Some(v)) => Some(v),
                (true, None) => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            return Err(Stop::Usage(format!(
                                "option '--{full}' requires an argument"
                            )));
                        }
                    }
                }
                (false, Some(_)) => {
                    return Err(Stop::Usage(format!(
                        "option '--{full}' doesn't allow an argument"
                    )));
                }
                (false, None) => None,
            };
            apply(&mut options, full, value)?;
            i += 1;
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let cluster: Vec<char> = arg[1..].chars().collect();
            let mut k = 0;
            while k < cluster.len() {
                let c = cluster[k];
                match c {
                    'v' => options.verbose = true,
                    'k' | 's' => {
                        let rest: String = cluster[k + 1..].iter().collect();
                        let value = if !rest.is_empty() {
                            OsString::from(rest)
                        } else {
                            i += 1;
                            match args.get(i) {
                                Some(v) => v.clone(),
                                None => {
                                    return Err(Stop::Usage(format!(
                                        "option requires an argument -- '{c}'"
                                    )));
                                }
                            }
                        };
                        let name = if c == 'k' { "kill-after" } else { "signal" };
                        apply(&mut options, name, Some(value))?;
                        break;
                    }
                    other => return Err(Stop::Usage(format!("invalid option -- '{other}'"))),
                }
                k += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    let rest = &args[i..];
    if rest.len() < 2 {
        return Err(Stop::Usage(String::new()));
    }
    options.duration = parse_duration(&rest[0].to_string_lossy()).map_err(Stop::Usage)?;
    options.command = rest[1..].to_vec();
    Ok(options)
}

fn say(message: std::fmt::Arguments<'_>) {
    say_as("timeout", message);
}

/// A diagnostic on stderr, after `who: `.
pub(crate) fn say_as(who: &str, message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{who}: {message}");
}

/// `strerror` text, without Rust's " (os error N)".
pub(crate) fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// End this process the way the command ended: killed by `signal` (core dumps off, as GNU
/// does), or, for a signal whose default is not to terminate, exit 128+N. (Windows has no
/// death by signal: exit 128+N, the status a shell would show.)
#[cfg(not(unix))]
fn die_by(signal: i32) -> ! {
    let _ = std::io::stdout().flush();
    std::process::exit(128 + signal)
}

/// End this process the way the command ended: killed by `signal` (sysprims's number; core
/// dumps off, as GNU does), or, for a signal whose default is not to terminate, exit 128+N
/// with the kernel's N.
#[cfg(unix)]
fn die_by(signal: i32) -> ! {
    // The kernel's number for it (macOS numbers signals differently from sysprims).
    let signal = Signal::new(signal)
        .ok()
        .and_then(Signal::native_number)
        .unwrap_or(signal);
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    let _ = std::io::stdout().flush();
    // Our forwarding handler may be installed for it: put the default back, then raise.
    let _ = signal_hook::low_level::emulate_default_handler(signal);
    if let Some(sig) = rustix::process::Signal::from_named_raw(signal) {
        let _ = rustix::process::kill_process(rustix::process::getpid(), sig);
    }
    std::process::exit(128 + signal)
}

/// The signals passed on to the job (ALRM makes the timeout happen now).
#[cfg(unix)]
const FORWARDED: [i32; 7] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGALRM,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
];

/// How this program was invoked: `sysprims timeout`, or `timeout` when the binary runs under
/// that name (a link named `timeout`, as the GNU conformance script installs it).
static INVOKED_AS: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Run as `timeout` (a link to `sysprims` named `timeout`): usage messages name `timeout`.
// Unused on Windows, which ships a timeout.exe of its own: no link named timeout there.
#[cfg_attr(any(test, not(unix)), allow(dead_code))]
pub fn invoked_as_timeout() {
    let _ = INVOKED_AS.set("timeout");
}

fn invoked_as() -> &'static str {
    INVOKED_AS.get().copied().unwrap_or("sysprims timeout")
}

/// Run `sysprims timeout` with `args` (those after `timeout`); returns the exit status, or
/// does not return when the status is a signal.
pub fn main(args: &[OsString]) -> i32 {
    // An ignored SIGCHLD (`trap '' CHLD; exec timeout ...`) is inherited across exec, and
    // makes the kernel reap the command by itself: its status would be lost (waitid fails
    // with ECHILD). Back to the default, as GNU timeout does.
    // SAFETY: signal(2) with a constant disposition, before any thread is started.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_DFL)
    };
    let options = match parse(args) {
        Ok(o) => o,
        Err(Stop::Help) => {
            let _ = std::io::stdout().write_all(HELP.as_bytes());
            return 0;
        }
        Err(Stop::Version) => {
            let _ = writeln!(
                std::io::stdout(),
                "sysprims timeout {}",
                env!("CARGO_PKG_VERSION")
            );
            return 0;
        }
        Err(Stop::Usage(message)) => {
            if !message.is_empty() {
                say(format_args!("{message}"));
            }
            let _ = writeln!(
                std::io::stderr(),
                "Try '{} --help' for more information.",
                invoked_as()
            );
            return EXIT_CANCELED;
        }
    };
    let signal = options.signal.unwrap_or(Signal::TERM);
    let mut json_file = match &options.json {
        Some(path) => match File::create(path) {
            Ok(f) => Some(f),
            Err(e) => {
                say(format_args!(
                    "cannot create {}: {}",
                    quote(&path.to_string_lossy()),
                    strerror(e.raw_os_error().unwrap_or(0))
                ));
                return EXIT_CANCELED;
            }
        },
        None => None,
    };
    let command: Vec<String> = options
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();

    let config = TimeoutConfig {
        signal,
        kill_after_ms: (!options.kill_after.is_zero()).then(|| {
            let ms = options.kill_after.as_nanos().div_ceil(1_000_000);
            u64::try_from(ms).unwrap_or(u64::MAX)
        }),
        preserve_status: options.preserve_status,
        // The command joins our process group (made above, or the caller's with
        // --foreground), as GNU's does.
        foreground: true,
        cleanup: options.cleanup,
        ..TimeoutConfig::default()
    };
    let outcome = match run_job(
        "timeout",
        &command,
        options.duration,
        &config,
        options.verbose,
        !options.foreground,
    ) {
        Ok(o) => o,
        Err(status) => return status,
    };
    if let Some(file) = json_file.as_mut() {
        let report = TimeoutReport::new(command, options.duration, &config, outcome.clone());
        // Buffered: serde writes a pretty document in hundreds of small pieces.
        let mut buffered = std::io::BufWriter::new(&mut *file);
        let written = serde_json::to_writer_pretty(&mut buffered, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| buffered.write_all(b"\n"))
            .and_then(|()| buffered.flush());
        if let Err(e) = written {
            say(format_args!("cannot write the JSON report: {e}"));
        }
    }
    finish(&outcome, &options, signal)
}

/// Start `command` (its name first) as a job, pass the signals this process receives on to
/// it, and wait for it as `config` says: the machinery `sysprims timeout` and `sysprims run`
/// share. `who` prefixes diagnostics (`timeout: ...`). With `new_group`, this process first
/// makes a process group of its own, which the command joins (GNU timeout's behaviour);
/// `config.foreground` should be true, since the command is to share our group. On failure
/// the status to exit with: 125 (sysprims failed), 126 (cannot invoke), 127 (not found).
pub(crate) fn run_job(
    who: &str,
    command: &[String],
    duration: Duration,
    config: &TimeoutConfig,
    verbose: bool,
    new_group: bool,
) -> Result<TimeoutOutcome, i32> {
    let name = &command[0];
    // Like GNU: a process group of our own, which the command joins, so that a shell's job
    // control treats us as one job and the command can use the terminal.
    #[cfg(unix)]
    if new_group {
        let _ = rustix::process::setpgid(None, None);
    }
    #[cfg(not(unix))]
    let _ = new_group;

    // The handlers are installed now, before the command starts, so no signal is missed;
    // the thread that passes them on starts once the command has (off the critical path of
    // a short command: the command is running meanwhile).
    // Windows has no signals to pass on: Ctrl-C and Ctrl-Break reach the command through
    // the console it shares with us, and our own end closes the job's handle, which ends
    // the job (kill-on-close).
    #[cfg(not(unix))]
    let signals: Option<()> = None;
    #[cfg(unix)]
    let signals = {
        let mut handled: Vec<i32> = FORWARDED.to_vec();
        // The kernel's number (macOS numbers signals differently from sysprims).
        let n = config.signal.native_number().unwrap_or(0);
        if n != 0 && !handled.contains(&n) && !signal_hook::consts::FORBIDDEN.contains(&n) {
            handled.push(n);
        }
        match signal_hook::iterator::Signals::new(&handled) {
            Ok(s) => Some(s),
            Err(e) => {
                say_as(who, format_args!("warning: cannot handle signals: {e}"));
                None
            }
        }
    };
    let control = match TimeoutControl::new() {
        Ok(c) => c,
        Err(e) => {
            say_as(who, format_args!("{e}"));
            return Err(EXIT_CANCELED);
        }
    };
    let starter = std::sync::Mutex::new(signals.map(|signals| (signals, control.clone())));
    let shown = quote(name);
    let who_owned = who.to_string();
    let control = control.with_observer(move |event| match event {
        TimeoutEvent::Started { .. } => {
            if let Some((signals, remote)) = starter.lock().ok().and_then(|mut s| s.take()) {
                #[cfg(unix)]
                std::thread::spawn(move || forward_signals(signals, remote));
                #[cfg(not(unix))]
                let _ = (signals, remote);
            }
        }
        TimeoutEvent::Signalling { signal } if verbose => {
            say_as(
                &who_owned,
                format_args!("sending signal {} to command {shown}", gnu_name(*signal)),
            );
        }
        TimeoutEvent::EndingLeftovers { signal, count } if verbose => {
            say_as(
                &who_owned,
                format_args!(
                    "sending signal {} to {count} process(es) command {shown} left running",
                    gnu_name(*signal)
                ),
            );
        }
        _ => {}
    });
    sysprims::run_with_timeout_controlled(name, &command[1..], duration, config, &control)
        .map_err(|e| spawn_error(who, name, &e))
}

/// Pass the signals timeout receives on to the job; ALRM makes the deadline pass now.
#[cfg(unix)]
fn forward_signals(mut signals: signal_hook::iterator::Signals, control: TimeoutControl) {
    for sig in signals.forever() {
        if sig == signal_hook::consts::SIGALRM {
            control.expire();
        } else if let Ok(s) = Signal::from_native(sig) {
            control.forward(s);
        }
    }
}

/// Exit as GNU `timeout` would.
fn finish(outcome: &TimeoutOutcome, options: &Options, signal: Signal) -> i32 {
    let status = outcome.status();
    if let TimeoutOutcome::TimedOut { escalated, .. } = outcome {
        // GNU sends KILL to its own process group too, and so dies of it, unless
        // --foreground.
        if !options.foreground && (*escalated || signal == Signal::KILL) {
            die_by(Signal::KILL.number());
        }
        return outcome.exit_status(options.preserve_status);
    }
    if let Some(sig) = status.signal {
        die_by(sig);
    }
    outcome.exit_status(options.preserve_status)
}

/// GNU's names: `sig2str`'s, which call signal 0 `EXIT`.
fn gnu_name(signal: Signal) -> String {
    if signal.number() == 0 {
        "EXIT".to_string()
    } else {
        signal.name().into_owned()
    }
}

fn spawn_error(who: &str, name: &str, e: &SysprimsError) -> i32 {
    match e {
        SysprimsError::SpawnFailed {
            errno: Some(errno), ..
        } => {
            say_as(
                who,
                format_args!(
                    "failed to run command {}: {}",
                    quote(name),
                    strerror(*errno)
                ),
            );
            if *errno == libc_enoent() {
                EXIT_ENOENT
            } else {
                EXIT_CANNOT_INVOKE
            }
        }
        e => {
            say_as(who, format_args!("{e}"));
            EXIT_CANCELED
        }
    }
}

#[cfg(unix)]
fn libc_enoent() -> i32 {
    rustix::io::Errno::NOENT.raw_os_error()
}

/// `ERROR_FILE_NOT_FOUND`, what the Windows spawn reports for a program it cannot find.
#[cfg(not(unix))]
fn libc_enoent() -> i32 {
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn durations_parse_as_gnu_does() {
        let ok = |t: &str| parse_duration(t).unwrap();
        assert_eq!(ok("5"), Duration::from_secs(5));
        assert_eq!(ok("0.5s"), Duration::from_millis(500));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok("1d"), Duration::from_secs(86400));
        assert_eq!(ok("1e-1"), Duration::from_millis(100));
        assert_eq!(ok(" 2"), Duration::from_secs(2));
        assert_eq!(ok("0x10"), Duration::from_secs(16));
        assert_eq!(ok("0x1p-1"), Duration::from_millis(500));
        assert_eq!(ok(".5"), Duration::from_millis(500));
        assert_eq!(ok("5."), Duration::from_secs(5));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("-0"), Duration::ZERO);
        assert_eq!(ok("1e-400"), Duration::ZERO);
        assert_eq!(ok("1e-10"), Duration::from_nanos(1));
        assert_eq!(ok("inf"), Duration::MAX);
        assert_eq!(ok("1e400"), Duration::MAX);
        assert_eq!(ok("99999999999999999999d"), Duration::MAX);
        for bad in [
            "", "x", "-1", "nan", "1e", "1ms", "1 ", "5x", "s", "--1", "1s5", "0x", "+",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn signals_parse_as_gnu_does() {
        let ok = |t: &str| parse_signal(t).unwrap().number();
        assert_eq!(ok("KILL"), 9);
        assert_eq!(ok("sigkill"), 9);
        assert_eq!(ok("Term"), 15);
        assert_eq!(ok("9"), 9);
        assert_eq!(ok("137"), 9);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("EXIT"), 0);
        assert_eq!(ok("RTMIN+1"), 35);
        for bad in [
            "FOO",
            "65",
            "32",
            "-9",
            "+9",
            " 9",
            "9x",
            "",
            "SIG",
            "99999999999",
        ] {
            assert!(parse_signal(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn options_stop_at_the_duration() {
        let o = parse(&args(&["-s", "INT", "5", "ls", "-l", "--foreground"])).unwrap();
        assert_eq!(o.signal, Some(Signal::INT));
        assert!(!o.foreground);
        assert_eq!(o.command, args(&["ls", "-l", "--foreground"]));
        let o = parse(&args(&["-vsKILL", "-k1", "--pres", "--fore", "1", "x"])).unwrap();
        assert!(o.verbose && o.preserve_status && o.foreground);
        assert_eq!(o.signal, Some(Signal::KILL));
        assert_eq!(o.kill_after, Duration::from_secs(1));
        let o = parse(&args(&["--", "5", "true"])).unwrap();
        assert_eq!(o.duration, Duration::from_secs(5));
        let o = parse(&args(&["--signal=HUP", "--kill-after", "2", "1", "x"])).unwrap();
        assert_eq!(o.signal, Some(Signal::HUP));
        assert_eq!(o.kill_after, Duration::from_secs(2));
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let err = |a: &[&str]| match parse(&args(a)) {
            Err(Stop::Usage(m)) => m,
            other => panic!("{a:?}: {other:?}"),
        };
        assert_eq!(err(&["5"]), "");
        assert_eq!(err(&[]), "");
        assert_eq!(err(&["-x", "1", "true"]), "invalid option -- 'x'");
        assert_eq!(
            err(&["--bogus", "1", "true"]),
            "unrecognized option '--bogus'"
        );
        assert_eq!(err(&["-s"]), "option requires an argument -- 's'");
        assert_eq!(err(&["--signal"]), "option '--signal' requires an argument");
        assert_eq!(
            err(&["--verbose=1", "1", "true"]),
            "option '--verbose' doesn't allow an argument"
        );
        assert!(err(&["-s", "FOO", "1", "true"]).ends_with("invalid signal"));
        assert!(err(&["abc", "true"]).starts_with("invalid time interval"));
        assert!(err(&["-k", "x", "1", "true"]).starts_with("invalid time interval"));
        assert!(err(&["-1", "true"]).starts_with("invalid option"));
        assert!(matches!(parse(&args(&["--help"])), Err(Stop::Help)));
        assert!(matches!(parse(&args(&["--vers"])), Err(Stop::Version)));
    }
}
