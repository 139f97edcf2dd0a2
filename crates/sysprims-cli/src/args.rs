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

/// A signal by name or number (`TERM`, `sigterm`, `15`, `RTMIN+1`), for clap.
pub fn signal(text: &str) -> Result<sysprims::Signal, String> {
    sysprims::Signal::parse(text).map_err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

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
