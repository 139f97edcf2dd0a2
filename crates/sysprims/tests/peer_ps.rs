//! sysprims against `ps` (procps), side by side, on every process of this machine.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::Command;

use common::{Group, have, require, wait_exit_keep_zombie};
use sysprims::{ProcessInfo, SnapshotOptions, get_process, snapshot};

/// Run `ps` with `args`, return (pid, rest of the line) for each line.
fn ps(args: &[&str]) -> HashMap<u32, String> {
    let out = Command::new("ps")
        .args(args)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .expect("run ps");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (pid, rest) = line.split_once(' ').unwrap_or((line, ""));
            Some((pid.parse().ok()?, rest.trim_start().to_string()))
        })
        .collect()
}

/// Text reduced to what both sides print the same way: the visible ASCII characters
/// other than `?` and `.`. ps escapes what it cannot print: in the C locale a non-ASCII
/// byte becomes `?`, and a control character `?`, `.` or (in `args`) a space, depending on
/// the field and the procps version; sysprims keeps the character (U+FFFD for invalid
/// UTF-8). Spaces go too, as ps's column parsing loses them at either end.
fn ps_text(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '?' && *c != '.')
        .collect()
}

/// procps formats each line of `ps` output into a 128 KiB buffer, so the `args` of a
/// longer command line (a shell running a script passed inline, say) is cut short.
const PS_LINE_MAX: usize = 128 * 1024;

/// A long text cut to its ends, for a failure message that stays readable.
fn brief(text: &str) -> String {
    if text.len() <= 200 {
        return text.to_string();
    }
    format!(
        "{}...({} bytes)...{}",
        &text[..100],
        text.len(),
        &text[text.len() - 100..]
    )
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `ps -o lstart` in the C locale and UTC ("Thu Nov 26 10:55:51 2026") as Unix seconds.
fn parse_lstart(text: &str) -> u64 {
    let f: Vec<&str> = text.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == f[1])
    .expect("month") as i64
        + 1;
    let day: i64 = f[2].parse().unwrap();
    let hms: Vec<i64> = f[3].split(':').map(|x| x.parse().unwrap()).collect();
    let year: i64 = f[4].parse().unwrap();
    (days_from_civil(year, month, day) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) as u64
}

#[test]
fn lstart_parser() {
    assert_eq!(parse_lstart("Thu Jan  1 00:00:00 1970"), 0);
    assert_eq!(parse_lstart("Thu Nov 26 10:55:51 2026"), 1_795_690_551);
}

fn listing() -> HashMap<u32, ProcessInfo> {
    snapshot(&SnapshotOptions::default())
        .unwrap()
        .processes
        .into_iter()
        .map(|p| (p.pid, p))
        .collect()
}

#[test]
fn start_times_are_stable_and_agree_with_ps_lstart() {
    if !require("ps(1)", have("ps")) {
        return;
    }
    let first = listing();
    let lstart = ps(&["-eo", "pid=,lstart="]);
    let second = listing();
    let mut compared = Vec::new();
    for (pid, a) in &first {
        let (Some(b), Some(ps_start)) = (second.get(pid), lstart.get(pid)) else {
            continue; // exited between the reads
        };
        if a.start_time_unix_ms != b.start_time_unix_ms {
            panic!(
                "PID {pid}: start time moved between two reads: {:?} then {:?}",
                a.start_time_unix_ms, b.start_time_unix_ms
            );
        }
        let ours = a.start_time_unix_ms.expect("Linux always has a start time");
        let theirs = parse_lstart(ps_start);
        // Same anchor (btime) and same ticks: ps's whole second is ours, truncated.
        assert!(
            ours / 1000 == theirs,
            "PID {pid}: ours {ours} ms, ps says {theirs} s"
        );
        compared.push(*pid);
    }
    // How many processes live through the three reads depends on what else the machine runs
    // (a parallel test run starts and ends hundreds a second), but PID 1 and this test's own
    // process always do: they must have been compared.
    for pid in [1, std::process::id()] {
        assert!(
            compared.contains(&pid),
            "PID {pid} not compared ({} of {} were)",
            compared.len(),
            first.len()
        );
    }
}

#[test]
fn names_users_parents_and_command_lines_agree_with_ps() {
    if !require("ps(1)", have("ps")) {
        return;
    }
    // Children with command lines we know, beside everything else on the machine.
    let _a = Group::spawn(&["sleep", "1000"]);
    let _b = Group::spawn(&[
        "sh",
        "-c",
        "read line",
        "argv-zero",
        "two words",
        "--flag=x",
    ]);
    // Text ps prints differently (non-ASCII, control characters), and a zombie.
    let _c = Group::spawn(&["sh", "-c", "read line", "caf\u{e9}\t\u{7}\nx"]);
    // An empty argv[0], so the command line starts with a space.
    let mut empty_zero = Command::new("sh");
    empty_zero.arg0("").args(["-c", "read line"]);
    let _e = Group::spawn_with(&mut empty_zero);
    // A command line longer than ps prints.
    let long = "x".repeat(100_000);
    let _d = Group::spawn(&["sh", "-c", "read line", "long", &long, &long]);
    // A name (comm) with a control character and parentheses: the kernel takes it from the
    // name of the file executed, here a link to sh.
    let dir = std::env::temp_dir().join(format!("sysprims-peer-ps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join("o(d) \nd");
    let _ = std::fs::remove_file(&odd);
    std::os::unix::fs::symlink("/bin/sh", &odd).unwrap();
    let _f = Group::spawn(&[odd.to_str().unwrap(), "-c", "read line"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let zombie = Group::spawn(&["true"]);
    wait_exit_keep_zombie(zombie.pid);
    let ours = listing();
    let ids = ps(&["-eo", "pid=,ppid=,uid=,user:64="]);
    let comms = ps(&["-eo", "pid=,comm:64="]);
    let args = ps(&["-eww", "-o", "pid=,args="]);

    let mut agreed = 0;
    let mut changed = 0;
    let mut long_cut = 0;
    for (pid, p) in &ours {
        let (Some(id), Some(comm), Some(arg)) = (ids.get(pid), comms.get(pid), args.get(pid))
        else {
            continue;
        };
        if p.kernel_thread && p.name.starts_with("kworker/") {
            // Workqueue threads are renamed for each work item they pick up, so three ps
            // calls see three names: nothing stable to compare.
            continue;
        }
        let f: Vec<&str> = id.split_whitespace().collect();
        // ps cuts a long line short: then only what it printed can be compared.
        let cut = arg.len() + pid.to_string().len() + 1 >= PS_LINE_MAX - 64;
        // ps marks zombies with a suffix on their bracketed name.
        let arg = arg.trim_end();
        let arg = arg.strip_suffix(" <defunct>").unwrap_or(arg);
        let theirs = (
            f[0].parse::<u32>().unwrap(),
            f[1].parse::<u32>().unwrap(),
            f[2].to_string(),
            ps_text(comm),
            ps_text(arg),
        );
        let mine = |p: &ProcessInfo| {
            let mut cmd = ps_text(&if p.cmdline.is_empty() {
                format!("[{}]", p.name)
            } else {
                p.cmdline.join(" ")
            });
            if cut && cmd.len() > theirs.4.len() {
                cmd.truncate(theirs.4.len());
            }
            (
                p.ppid,
                p.uid,
                p.user.clone().unwrap_or_else(|| p.uid.to_string()),
                ps_text(&p.name),
                cmd,
            )
        };
        if mine(p) == theirs {
            agreed += 1;
            if cut {
                long_cut += 1;
            }
            continue;
        }
        // The process may have exec'd, been renamed or re-parented between our read and
        // ps's: then a fresh read agrees with ps, or the process is gone.
        match get_process(*pid) {
            Ok(now) if mine(&now) == theirs => changed += 1,
            Err(_) => changed += 1,
            Ok(now) => {
                let m = mine(&now);
                panic!(
                    "PID {pid} ({:?}): sysprims {:?} vs ps {:?}",
                    now.state,
                    (m.0, m.1, &m.2, brief(&m.3), brief(&m.4)),
                    (
                        theirs.0,
                        theirs.1,
                        &theirs.2,
                        brief(&theirs.3),
                        brief(&theirs.4)
                    ),
                )
            }
        }
    }
    assert!(long_cut >= 1, "the long command line was not compared");
    assert!(agreed >= 3, "agreed {agreed}, changed {changed}");
    assert!(
        changed * 20 <= agreed,
        "too many changed: {changed} vs {agreed} agreed"
    );
}
