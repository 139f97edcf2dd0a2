//! Reading a process's command line without tripping over `execve`.
//!
//! While a process is in the middle of `execve`, its new memory map is installed before the
//! argument bounds are, and `/proc/<pid>/cmdline` reads as empty for that moment. A test that
//! counts processes by a marker in their command line would miss one caught there. Kernel
//! threads and zombies have no command line for good; anything else that reads empty is read
//! again until it has one (or is gone).

use std::path::Path;

/// `PF_KTHREAD` in `/proc/<pid>/stat`'s flags field.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The command line of the process whose `/proc` directory is `dir`, read again while an
/// `execve` leaves it empty. `None` if the process is gone, a zombie or a kernel thread.
pub fn settled_cmdline(dir: &Path) -> Option<Vec<u8>> {
    for _ in 0..10_000 {
        let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
        if !cmdline.is_empty() {
            return Some(cmdline);
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // After the command name's closing parenthesis: state, ppid, pgrp, session, tty,
        // tpgid, flags.
        let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
        let state = fields.next()?;
        let flags: u64 = fields.nth(5)?.parse().ok()?;
        if state == "Z" || state == "X" || flags & PF_KTHREAD != 0 {
            return None;
        }
        std::thread::yield_now();
    }
    None
}
