//! Parsers for command-line values. Each returns an error message that names the value, which
//! clap prints as a usage error (exit code 2).

use std::time::Duration;

use sysprims::Pid;

/// A PID: 1..=i32::MAX.
pub fn pid(text: &str) -> Result<Pid, String> {
    Pid::parse(text).map_err(reason)
}

/// One or more PIDs, comma-separated.
pub fn pid_list(text: &str) -> Result<Vec<Pid>, String> {
    text.split(',').map(pid).collect()
}

/// A TCP or UDP port: 1..=65535.
pub fn port(text: &str) -> Result<u16, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a port number (1-65535)".into());
    }
    match t.parse::<u64>() {
        Ok(0) => Err("port 0 is not a port anything listens on (1-65535)".into()),
        Ok(n) if n <= 65535 => Ok(n as u16),
        _ => Err("above 65535, the largest port".into()),
    }
}

/// One or more fd kinds, comma-separated.
pub fn fd_kinds(text: &str) -> Result<Vec<sysprims::FdKind>, String> {
    text.split(',')
        .map(|k| k.parse::<sysprims::FdKind>().map_err(reason))
        .collect()
}

/// The reason part of a sysprims error, for clap to print after "invalid value".
pub fn reason(e: sysprims::SysprimsError) -> String {
    match e {
        sysprims::SysprimsError::InvalidArgument { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Split `12.5ms` into the non-negative number `12.5` and the unit `ms`. `kind` and `examples`
/// word the errors.
fn number_and_unit<'a>(
    text: &'a str,
    kind: &str,
    examples: &str,
) -> Result<(f64, &'a str), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("a {kind} cannot be empty (examples: {examples})"));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(if t.starts_with('-') {
            format!("a {kind} cannot be negative")
        } else {
            format!("a {kind} starts with a number (examples: {examples})")
        });
    }
    let value = number
        .parse()
        .map_err(|_| format!("{number:?} is not a number"))?;
    Ok((value, unit.trim()))
}

/// A duration: a non-negative decimal number with an optional unit, `ms`, `s` (the default),
/// `m`, `h` or `d`: `500ms`, `2`, `1.5s`, `10m`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let (value, unit) = number_and_unit(text, "duration", "500ms, 2s, 1.5m")?;
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => return Err(format!("unknown unit {other:?} (use ms, s, m, h or d)")),
    };
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| "the duration is too large".to_string())
}

/// A CPU percentage: a finite number, 0 or more, optionally followed by `%`. Above 100 is
/// allowed (several cores).
pub fn percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    let value: f64 = number
        .parse()
        .map_err(|_| "not a number (example: 12.5)".to_string())?;
    if !value.is_finite() {
        return Err("must be a finite number".into());
    }
    if value < 0.0 {
        return Err("a percentage cannot be negative".into());
    }
    Ok(value)
}

/// A memory size in KiB: a number with an optional binary unit, `K` (the default), `M`, `G` or
/// `T` (`KiB`, `MiB`, ... and `KB`, `MB`, ... are read the same).
pub fn size_kb(text: &str) -> Result<u64, String> {
    let (value, unit) = number_and_unit(text, "size", "512, 100M, 1.5G")?;
    let unit = unit.to_ascii_uppercase();
    let unit = unit.trim_end_matches('B').trim_end_matches('I');
    let factor = match unit {
        "" | "K" => 1.0,
        "M" => 1024.0,
        "G" => 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err("unknown unit (use K, M, G or T)".into()),
    };
    let kb = value * factor;
    if kb >= u64::MAX as f64 {
        return Err("the size is too large".into());
    }
    Ok(kb.round() as u64)
}

/// A size in bytes for a job limit: a number with an optional binary unit, `K`, `M`, `G` or
/// `T` (powers of 1024, as cgroup's `memory.max` and systemd's `MemoryMax=` read them;
/// `KiB`, `MiB`, ... and `KB`, `MB`, ... are read the same, `B` or no unit is bytes). A
/// fraction is rounded down to a whole byte. `allow_zero` lets 0 through (a swap limit of 0
/// is "no swap"); otherwise 0 is refused.
fn size_bytes_inner(text: &str, allow_zero: bool) -> Result<u64, String> {
    let (value, unit) = number_and_unit(text, "size", "512M, 1.5G, 1048576")?;
    let upper = unit.to_ascii_uppercase();
    let prefix = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let factor: f64 = match prefix {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use K, M, G or T, powers of 1024; no unit is bytes)"
            ));
        }
    };
    let bytes = (value * factor).floor();
    if bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    if bytes == 0.0 && !allow_zero {
        return Err(format!(
            "{text:?} is 0 bytes: a limit must be more than that"
        ));
    }
    Ok(bytes as u64)
}

/// A memory limit in bytes (see [`size_bytes_inner`]); 0 is refused.
pub fn size_bytes(text: &str) -> Result<u64, String> {
    size_bytes_inner(text, false)
}

/// A swap limit in bytes (see [`size_bytes_inner`]); 0 means no swap.
pub fn size_bytes_or_zero(text: &str) -> Result<u64, String> {
    size_bytes_inner(text, true)
}

/// A count of at least 1, as a `u64` (`--pids-max`).
pub fn count(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("{text:?} is negative: must be at least 1"));
    }
    match t.parse::<u64>() {
        Ok(0) => Err(format!("{text:?}: must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// A number of CPUs, more than 0 (`--cpu-max 0.5` is half of one CPU).
pub fn cpus(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of CPUs (examples: 0.5, 2)"))?;
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    if value <= 0.0 {
        return Err(format!("{text:?}: the number of CPUs must be more than 0"));
    }
    Ok(value)
}

/// A count of at least 1.
pub fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a positive whole number".into()),
    }
}

/// A depth limit: a number of levels, or none ("all").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels(pub Option<u32>);

/// `all`, or a number of levels of at least 1.
pub fn levels(text: &str) -> Result<Levels, String> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(Levels(None));
    }
    match text.trim().parse::<u32>() {
        Ok(0) => Err("must be at least 1 (1 = children only) or 'all'".into()),
        Ok(n) => Ok(Levels(Some(n))),
        Err(_) => Err("expected a number of levels or 'all'".into()),
    }
}

/// A signal by name or number (`TERM`, `sigterm`, `15`, `RTMIN+1`), for clap. A number is
/// this platform's own (`kill -l`'s, `<signal.h>`'s: on macOS 30 is USR1); names are portable.
pub fn signal(text: &str) -> Result<sysprims::Signal, String> {
    sysprims::Signal::parse_native(text).map_err(reason)
}

/// The number to show a user for sysprims's signal number `number`: this platform's own
/// (unchanged for a number that is no signal, or one the platform lacks).
pub fn native_number(number: i32) -> i32 {
    sysprims::Signal::new(number)
        .ok()
        .and_then(sysprims::Signal::native_number)
        .unwrap_or(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Numbers on the command line and in its output are the platform's (identical to
    // sysprims's on Linux): compare with the C library's constants, as a Mac would.
    #[cfg(unix)]
    #[test]
    fn signal_numbers_are_the_platforms() {
        use sysprims::Signal;
        for (native, s) in [
            (libc::SIGUSR1, Signal::USR1),
            (libc::SIGSTOP, Signal::STOP),
            (libc::SIGCONT, Signal::CONT),
            (libc::SIGCHLD, Signal::CHLD),
        ] {
            assert_eq!(signal(&native.to_string()).unwrap(), s);
            assert_eq!(native_number(s.number()), native);
        }
        assert_eq!(signal("usr1").unwrap(), Signal::USR1);
        assert_eq!(native_number(99), 99);
        assert!(signal("65").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(duration("1d").unwrap(), Duration::from_secs(86400));
        assert!(duration("5x").unwrap_err().contains("\"x\""));
        assert!(duration("-1s").unwrap_err().contains("negative"));
        assert!(duration("").unwrap_err().contains("empty"));
        assert!(duration("s").is_err());
        assert!(duration("1..2").is_err());
        assert!(duration("1e400").is_err());
        assert!(
            duration("99999999999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn percents() {
        assert_eq!(percent("12.5").unwrap(), 12.5);
        assert_eq!(percent("150%").unwrap(), 150.0);
        assert!(percent("-5").unwrap_err().contains("negative"));
        assert!(percent("nan").is_err());
        assert!(percent("inf").is_err());
        assert!(percent("abc").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size_kb("512").unwrap(), 512);
        assert_eq!(size_kb("100M").unwrap(), 102_400);
        assert_eq!(size_kb("1.5g").unwrap(), 1_572_864);
        assert_eq!(size_kb("2MiB").unwrap(), 2048);
        assert_eq!(size_kb("2MB").unwrap(), 2048);
        assert!(size_kb("-1").unwrap_err().contains("negative"));
        assert!(size_kb("5X").is_err());
    }

    #[test]
    fn limit_sizes() {
        assert_eq!(size_bytes("1048576").unwrap(), 1 << 20);
        assert_eq!(size_bytes("512B").unwrap(), 512);
        assert_eq!(size_bytes("4K").unwrap(), 4096);
        assert_eq!(size_bytes("200M").unwrap(), 200 << 20);
        assert_eq!(size_bytes("200MiB").unwrap(), 200 << 20);
        assert_eq!(size_bytes("200mb").unwrap(), 200 << 20);
        assert_eq!(size_bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(size_bytes("2T").unwrap(), 2 << 40);
        assert_eq!(size_bytes_or_zero("0").unwrap(), 0);
        for (bad, says) in [
            ("0", "\"0\" is 0 bytes"),
            ("0M", "\"0M\" is 0 bytes"),
            ("-1M", "negative"),
            ("12X", "unknown unit \"X\""),
            ("", "empty"),
            ("M", "starts with a number"),
            ("1..2G", "not a number"),
            ("99999999999T", "too large"),
        ] {
            let e = size_bytes(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        assert_eq!(count("64").unwrap(), 64);
        assert!(count("0").unwrap_err().contains("at least 1"));
        assert!(count("-3").unwrap_err().contains("negative"));
        assert!(count("x").unwrap_err().contains("\"x\""));
        assert_eq!(cpus("0.5").unwrap(), 0.5);
        assert!(cpus("0").unwrap_err().contains("more than 0"));
        assert!(cpus("-1").unwrap_err().contains("more than 0"));
        assert!(cpus("nan").is_err());
        assert!(cpus("inf").is_err());
        assert!(cpus("half").unwrap_err().contains("\"half\""));
    }

    #[test]
    fn pids_and_counts() {
        assert_eq!(pid("42").unwrap().get(), 42);
        for bad in ["abc", "-1", "0", "4294967295", "2147483648", ""] {
            assert!(pid(bad).is_err(), "{bad}");
        }
        let list: Vec<u32> = pid_list("1,2,3")
            .unwrap()
            .into_iter()
            .map(Pid::get)
            .collect();
        assert_eq!(list, vec![1, 2, 3]);
        assert!(pid_list("1,,3").is_err());
        assert_eq!(positive("3").unwrap(), 3);
        assert!(positive("0").is_err());
        assert_eq!(levels("all").unwrap(), Levels(None));
        assert_eq!(levels("2").unwrap(), Levels(Some(2)));
        assert!(levels("0").is_err());
    }

    #[test]
    fn ports_and_kinds() {
        assert_eq!(port("8080").unwrap(), 8080);
        assert_eq!(port("65535").unwrap(), 65535);
        assert!(port("0").unwrap_err().contains("port 0"));
        assert!(port("70000").unwrap_err().contains("65535"));
        for bad in ["", "-1", "abc", "80x", "99999999999999999999999"] {
            assert!(port(bad).is_err(), "{bad}");
        }
        assert_eq!(fd_kinds("socket,dir").unwrap().len(), 2);
        assert!(fd_kinds("socket,bogus").is_err());
    }
}
