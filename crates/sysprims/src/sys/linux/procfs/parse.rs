//! Pure parsers for the `/proc` files sysprims reads. No I/O here: each function takes the bytes
//! of one file and is tested on captured fixtures (see `tests` below and `tests/fixtures/proc`).

/// The fields of `/proc/<pid>/stat` that sysprims uses. Field numbers follow `proc_pid_stat(5)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stat<'a> {
    /// (1) pid.
    pub pid: u32,
    /// (2) comm, without the parentheses. Up to 15 bytes, any bytes but NUL: it may hold
    /// spaces, `(` and `)`.
    pub comm: &'a [u8],
    /// (3) state letter.
    pub state: u8,
    /// (4) ppid; 0 for the init process and for kthreadd.
    pub ppid: u32,
    /// (5) process group.
    pub pgrp: u32,
    /// (6) session.
    pub session: u32,
    /// (9) kernel flags (`PF_*`).
    pub flags: u32,
    /// (14) user time, clock ticks.
    pub utime: u64,
    /// (15) system time, clock ticks.
    pub stime: u64,
    /// (20) threads.
    pub num_threads: u32,
    /// (22) start time, clock ticks after boot.
    pub starttime: u64,
    /// (24) resident set size, pages.
    pub rss_pages: u64,
    /// (49) end of the argument area; 0 while the process is part-way through `execve` (and
    /// always 0 to readers without ptrace access). `None` on kernels before 3.5.
    pub arg_end: Option<u64>,
    /// (52) exit status in `waitpid(2)` form, for a zombie (0 while the process runs, and
    /// to readers without ptrace access). `None` on kernels before 3.5.
    pub exit_code: Option<u32>,
}

impl Stat<'_> {
    /// User plus system time, in clock ticks. Saturating: no field value, however corrupt,
    /// can overflow it.
    pub(crate) fn cpu_ticks(&self) -> u64 {
        self.utime.saturating_add(self.stime)
    }

    /// The resident set in KiB, for pages of `page_size` bytes (saturating, as
    /// [`cpu_ticks`](Stat::cpu_ticks)).
    pub(crate) fn memory_kb(&self, page_size: u64) -> u64 {
        self.rss_pages.saturating_mul(page_size) / 1024
    }
}

/// `PF_KTHREAD` from `include/linux/sched.h`: the task is a kernel thread.
pub(crate) const PF_KTHREAD: u32 = 0x0020_0000;

/// Why a `/proc` file could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError(pub &'static str);

/// Parse `/proc/<pid>/stat`.
///
/// `comm` is found between the first `(` and the *last* `)`, because the name itself may hold
/// both (`"(sd-pam)"`, `"a) b"`): the fields after it are numbers and never contain `)`.
pub(crate) fn parse_stat(bytes: &[u8]) -> Result<Stat<'_>, ParseError> {
    let open = bytes
        .iter()
        .position(|&b| b == b'(')
        .ok_or(ParseError("stat: no '(' before comm"))?;
    let close = bytes
        .iter()
        .rposition(|&b| b == b')')
        .ok_or(ParseError("stat: no ')' after comm"))?;
    if close < open {
        return Err(ParseError("stat: ')' before '('"));
    }
    let pid = parse_u64(trim_ascii(&bytes[..open])).ok_or(ParseError("stat: bad pid"))?;
    let comm = &bytes[open + 1..close];
    let rest = bytes
        .get(close + 1..)
        .ok_or(ParseError("stat: nothing after comm"))?;
    // rest[0] is field 3 (state); field N is rest[N - 3].
    let mut fields = rest
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|f| !f.is_empty());
    let mut next = || fields.next().ok_or(ParseError("stat: too few fields"));
    let state_field = next()?;
    let state = *state_field.first().ok_or(ParseError("stat: empty state"))?;
    let ppid = num(next()?, "ppid")?;
    // A task that is already dead (state X, its signal handlers released) shows -1 here.
    let pgrp = num_or_zero(next()?, "pgrp")?;
    let session = num_or_zero(next()?, "session")?;
    let _tty_nr = next()?;
    let _tpgid = next()?;
    let flags = num(next()?, "flags")?;
    for _ in 10..=13 {
        next()?; // minflt, cminflt, majflt, cmajflt
    }
    let utime = num(next()?, "utime")?;
    let stime = num(next()?, "stime")?;
    for _ in 16..=19 {
        next()?; // cutime, cstime, priority, nice
    }
    let num_threads = num(next()?, "num_threads")?;
    let _itrealvalue = next()?;
    let starttime = num(next()?, "starttime")?;
    let _vsize = next()?;
    let rss_field = next()?;
    // rss is a signed long in the kernel's format string; it is never negative in practice,
    // but a "-1" must not abort the whole listing.
    let rss_pages = if rss_field.first() == Some(&b'-') {
        0
    } else {
        num(rss_field, "rss")?
    };
    // Fields 25..=48, then arg_end.
    let arg_end = fields.nth(49 - 25).and_then(parse_u64);
    // Fields 50 and 51 (env_start, env_end), then exit_code.
    let exit_code = fields
        .nth(52 - 50)
        .and_then(parse_u64)
        .and_then(|v| u32::try_from(v).ok());
    Ok(Stat {
        pid: u32::try_from(pid).map_err(|_| ParseError("stat: pid out of range"))?,
        comm,
        state,
        ppid: to_u32(ppid, "stat: ppid out of range")?,
        pgrp: to_u32(pgrp, "stat: pgrp out of range")?,
        session: to_u32(session, "stat: session out of range")?,
        flags: to_u32(flags, "stat: flags out of range")?,
        utime,
        stime,
        num_threads: to_u32(num_threads, "stat: num_threads out of range")?,
        starttime,
        rss_pages,
        arg_end,
        exit_code,
    })
}

fn num(field: &[u8], what: &'static str) -> Result<u64, ParseError> {
    parse_u64(field).ok_or(ParseError(what))
}

/// A signed field where negative values mean "none": 0.
fn num_or_zero(field: &[u8], what: &'static str) -> Result<u64, ParseError> {
    match field.strip_prefix(b"-") {
        Some(rest) if parse_u64(rest).is_some() => Ok(0),
        _ => num(field, what),
    }
}

fn to_u32(value: u64, what: &'static str) -> Result<u32, ParseError> {
    u32::try_from(value).map_err(|_| ParseError(what))
}

/// A decimal `u64`, all digits, no sign.
pub(crate) fn parse_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// The fields of `/proc/<pid>/status` that sysprims uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Status {
    /// `Tgid:` the thread group (process) this task belongs to.
    pub tgid: Option<u32>,
    /// `Uid:` second column, the effective UID (what `ps -o user` shows).
    pub euid: Option<u32>,
}

/// Parse `/proc/<pid>/status` for `Tgid` and the effective `Uid`.
pub(crate) fn parse_status(bytes: &[u8]) -> Status {
    let mut status = Status::default();
    for line in bytes.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"Tgid:") {
            status.tgid = parse_u64(trim_ascii(rest)).and_then(|v| u32::try_from(v).ok());
        } else if let Some(rest) = line.strip_prefix(b"Uid:") {
            // Real, effective, saved, filesystem.
            status.euid = rest
                .split(|&b| b == b'\t' || b == b' ')
                .filter(|f| !f.is_empty())
                .nth(1)
                .and_then(parse_u64)
                .and_then(|v| u32::try_from(v).ok());
            // Uid comes after Tgid; nothing further is needed.
            break;
        }
    }
    status
}

/// The `btime` line of `/proc/stat`: boot time, whole seconds since the Unix epoch.
pub(crate) fn parse_btime(bytes: &[u8]) -> Option<u64> {
    bytes
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|rest| parse_u64(trim_ascii(rest)))
}

/// Split a NUL-separated list (`cmdline`, `environ`) into its items.
///
/// Exactly one terminating NUL is dropped, so an empty last argument (`prog ""`, stored as
/// `prog\0\0`) survives. Programs that rewrite their own arguments (setproctitle) may leave
/// padding NULs, which come back as empty strings: that is what the kernel reports.
pub(crate) fn split_nul(bytes: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    let body = match bytes.split_last() {
        None => &bytes[..0],
        Some((0, body)) => body,
        Some(_) => bytes,
    };
    let empty = bytes.is_empty();
    body.split(|&b| b == 0).filter(move |_| !empty)
}

/// The suffix the kernel appends to `/proc/<pid>/exe` when the executable file was deleted.
pub(crate) const DELETED_SUFFIX: &[u8] = b" (deleted)";

/// Split a `/proc/<pid>/exe` link target into the path and whether it ends with
/// `" (deleted)"`. The caller confirms deletion (a file may really be named so).
pub(crate) fn split_deleted(target: &[u8]) -> (&[u8], bool) {
    match target.strip_suffix(DELETED_SUFFIX) {
        Some(path) => (path, true),
        None => (target, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASH: &[u8] = b"1234 (bash) S 1000 1234 1234 34816 5678 4194560 2345 123 0 0 17 5 0 0 20 0 1 0 8765432 8802304 1234 18446744073709551615 1 1 0 0 0 0 65536 3686404 1266761467 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn stat_of_a_plain_process() {
        let s = parse_stat(BASH).unwrap();
        assert_eq!(s.pid, 1234);
        assert_eq!(s.comm, b"bash");
        assert_eq!(s.state, b'S');
        assert_eq!(s.ppid, 1000);
        assert_eq!(s.pgrp, 1234);
        assert_eq!(s.session, 1234);
        assert_eq!(s.flags, 4194560);
        assert_eq!(s.utime, 17);
        assert_eq!(s.stime, 5);
        assert_eq!(s.num_threads, 1);
        assert_eq!(s.starttime, 8765432);
        assert_eq!(s.rss_pages, 1234);
        assert_eq!(s.arg_end, Some(0));
        let mid = b"5 (sh) R 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 3 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 140737 140800 140800 140900 0\n";
        assert_eq!(parse_stat(mid).unwrap().arg_end, Some(140800));
    }

    #[test]
    fn derived_values_saturate_on_huge_fields() {
        // Regression (fuzz/corpus/proc_stat/huge-numbers): read_process added utime + stime
        // and multiplied rss by the page size unchecked, which overflowed (a panic with
        // overflow checks) for fields near u64::MAX.
        let max = u64::MAX;
        let line =
            format!("1 (big) R 1 1 1 0 -1 0 0 0 0 0 {max} {max} 0 0 20 0 1 0 {max} 0 {max}\n");
        let s = parse_stat(line.as_bytes()).unwrap();
        assert_eq!(s.cpu_ticks(), u64::MAX);
        assert_eq!(s.memory_kb(4096), u64::MAX / 1024);
        let small = parse_stat(BASH).unwrap();
        assert_eq!(small.cpu_ticks(), 22);
        assert_eq!(small.memory_kb(4096), 1234 * 4);
    }

    #[test]
    fn stat_comm_with_spaces_and_parentheses() {
        let line = b"77 (a) b (c)) R 1 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555 0 9 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, b"a) b (c)");
        assert_eq!(s.state, b'R');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.num_threads, 2);
        assert_eq!(s.starttime, 555);
        assert_eq!(s.rss_pages, 9);

        let line = b"9 ( ) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0\n";
        assert_eq!(parse_stat(line).unwrap().comm, b" ");
        let line = b"9 () S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0\n";
        assert_eq!(parse_stat(line).unwrap().comm, b"");
    }

    #[test]
    fn stat_of_a_kernel_thread() {
        let line = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 1 0 0 20 0 1 0 2 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.ppid, 0);
        assert_ne!(s.flags & PF_KTHREAD, 0);
        assert_eq!(s.rss_pages, 0);
        let s = parse_stat(BASH).unwrap();
        assert_eq!(s.flags & PF_KTHREAD, 0);
    }

    #[test]
    fn stat_of_a_zombie() {
        let line = b"4242 (defunct thing) Z 4200 4200 4200 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 768\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, b'Z');
        assert_eq!(s.exit_code, Some(768)); // exit(3), waitpid-style
        assert_eq!(parse_stat(BASH).unwrap().exit_code, Some(0));
        let short = b"9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0\n";
        assert_eq!(parse_stat(short).unwrap().exit_code, None);
        assert_eq!(s.comm, b"defunct thing");
        assert_eq!(s.rss_pages, 0);
    }

    #[test]
    fn stat_of_a_dead_task_in_passing() {
        // Captured from a process caught between exit and release: no signal struct, so
        // pgrp and session print as -1.
        let line = b"11558 (sh) X 0 -1 -1 0 -1 4211012 0 0 0 0 0 0 0 0 20 0 1 0 98765 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, b'X');
        assert_eq!((s.ppid, s.pgrp, s.session), (0, 0, 0));
    }

    #[test]
    fn stat_rejects_truncated_and_garbage() {
        assert!(parse_stat(b"").is_err());
        assert!(parse_stat(b"12 (x").is_err());
        assert!(parse_stat(b"12 (x) S 1 2").is_err());
        assert!(parse_stat(b"x (y) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0").is_err());
        assert!(parse_stat(b"1 (y) S z 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0").is_err());
        // Negative rss is clamped, not an error.
        let s = parse_stat(b"1 (y) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 -1 0").unwrap();
        assert_eq!(s.rss_pages, 0);
    }

    #[test]
    fn every_live_stat_and_status_on_this_machine_parses() {
        // Live fixtures: whatever runs here now, threads included.
        let mut parsed = 0;
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let tasks = std::fs::read_dir(entry.path().join("task"))
                .into_iter()
                .flatten()
                .flatten();
            for task in tasks {
                let Ok(stat) = std::fs::read(task.path().join("stat")) else {
                    continue;
                };
                let s = parse_stat(&stat).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e:?}: {}",
                        task.path().display(),
                        String::from_utf8_lossy(&stat)
                    )
                });
                assert_eq!(s.pid.to_string(), task.file_name().to_string_lossy());
                if let Ok(status) = std::fs::read(task.path().join("status")) {
                    assert_eq!(parse_status(&status).tgid, Some(pid));
                }
                parsed += 1;
            }
        }
        assert!(parsed > 1);
    }

    #[test]
    fn status_tgid_and_effective_uid() {
        let status = b"Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t2100\nNgid:\t0\nPid:\t2101\nPPid:\t2050\nTracerPid:\t0\nUid:\t1000\t33\t33\t33\nGid:\t0\t0\t0\t0\n";
        let s = parse_status(status);
        assert_eq!(s.tgid, Some(2100));
        assert_eq!(s.euid, Some(33));
        assert_eq!(parse_status(b"Name:\tx\n"), Status::default());
    }

    #[test]
    fn btime_line() {
        let stat = b"cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\nbtime 1764150000\nprocesses 7\n";
        assert_eq!(parse_btime(stat), Some(1764150000));
        assert_eq!(parse_btime(b"cpu 1\n"), None);
    }

    #[test]
    fn nul_lists() {
        let items = |b: &[u8]| split_nul(b).map(|s| s.to_vec()).collect::<Vec<_>>();
        assert_eq!(items(b""), Vec::<Vec<u8>>::new());
        assert_eq!(
            items(b"sleep\x003600\x00"),
            vec![b"sleep".to_vec(), b"3600".to_vec()]
        );
        assert_eq!(items(b"prog\x00\x00"), vec![b"prog".to_vec(), b"".to_vec()]);
        assert_eq!(
            items(b"title without nul"),
            vec![b"title without nul".to_vec()]
        );
        assert_eq!(items(b"\x00"), vec![b"".to_vec()]);
        assert_eq!(items(b"a\xffb\x00"), vec![b"a\xffb".to_vec()]);
    }

    #[test]
    fn deleted_exe_suffix() {
        assert_eq!(split_deleted(b"/usr/bin/x"), (&b"/usr/bin/x"[..], false));
        assert_eq!(split_deleted(b"/tmp/x (deleted)"), (&b"/tmp/x"[..], true));
    }
}
