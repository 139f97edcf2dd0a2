//! Writing results: JSON for scripts, aligned tables for people.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ColumnConstraint, Table, presets};
use serde::Serialize;
use sysprims::ProcessInfo;

/// Write one JSON document and a newline, streaming (no copy of the whole document in memory).
pub fn json<T: Serialize>(out: &mut impl Write, document: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, document).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// A human table of processes: the columns of `ps -o pid,ppid,user,pcpu,rss,etime,stat,comm,args`,
/// with `prefix` (for tree drawing) placed before each command.
pub fn process_table<'a>(
    out: &mut impl Write,
    rows: impl Iterator<Item = (String, &'a ProcessInfo)>,
) -> io::Result<()> {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header([
        "PID", "PPID", "USER", "%CPU", "RSS", "ELAPSED", "S", "NAME", "COMMAND",
    ]);
    for (prefix, p) in rows {
        table.add_row([
            p.pid.to_string(),
            p.ppid.to_string(),
            p.user.clone().unwrap_or_else(|| p.uid.to_string()),
            format!("{:.1}", p.cpu_percent),
            human_kb(p.memory_kb),
            human_elapsed(p.elapsed_ms),
            p.state.letter().to_string(),
            printable(&p.name),
            format!("{prefix}{}", printable(&command(p))),
        ]);
    }
    for index in [0, 1, 3, 4, 5] {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    if let Some(column) = table.column_mut(8) {
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    // comfy-table pads with one space on each side; drop the leading one.
    for line in table.trim_fmt().lines() {
        writeln!(out, "{}", line.strip_prefix(' ').unwrap_or(line))?;
    }
    Ok(())
}

/// Write a table with no border, without comfy-table's leading space.
pub fn write_table(out: &mut impl Write, table: &Table) -> io::Result<()> {
    for line in table.trim_fmt().lines() {
        writeln!(out, "{}", line.strip_prefix(' ').unwrap_or(line))?;
    }
    Ok(())
}

/// The command line as `ps -o args` shows it: arguments joined by spaces, the name in
/// brackets when there are none (kernel threads), `<defunct>` for zombies.
pub fn command(p: &ProcessInfo) -> String {
    if p.state == sysprims::ProcessState::Zombie {
        return format!("[{}] <defunct>", p.name);
    }
    let joined = p.cmdline.join(" ");
    let joined = joined.trim_end();
    if joined.is_empty() {
        format!("[{}]", p.name)
    } else {
        joined.to_string()
    }
}

/// Text safe for one table cell: control characters (newlines, tabs, escapes) become `?`, as
/// `ps` shows them, so a hostile command line cannot forge rows or move the cursor.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// KiB as a short human size: `812K`, `12.4M`, `1.9G`.
pub fn human_kb(kb: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    let mut value = kb as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{value:.0}{}", UNITS[unit])
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// Elapsed time as `ps -o etime` writes it: `[[dd-]hh:]mm:ss`.
pub fn human_elapsed(ms: u64) -> String {
    let total = ms / 1000;
    let (days, hours, minutes, seconds) = (
        total / 86400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    if days > 0 {
        format!("{days}-{hours:02}:{minutes:02}:{seconds:02}")
    } else if hours > 0 {
        format!("{hours:02}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes:02}:{seconds:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_masked() {
        assert_eq!(printable("a\nb\tc\u{1b}[2J"), "a?b?c?[2J");
        assert_eq!(printable("caf\u{e9}"), "caf\u{e9}");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_kb(0), "0K");
        assert_eq!(human_kb(812), "812K");
        assert_eq!(human_kb(12_697), "12.4M");
        assert_eq!(human_kb(2_000_000), "1.9G");
        assert_eq!(human_kb(500 * 1024), "500M");
        assert_eq!(human_elapsed(5_000), "00:05");
        assert_eq!(human_elapsed(3_725_000), "01:02:05");
        assert_eq!(human_elapsed(90_061_000), "1-01:01:01");
    }
}
