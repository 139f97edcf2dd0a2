//! Signal numbers between sysprims's [`Signal`](crate::Signal), which is numbered as Linux
//! numbers signals, and macOS's own numbering (`<sys/signal.h>`), which differs for a third
//! of them: `SIGUSR1` is 10 on Linux and 30 on macOS, where 10 is `SIGBUS`; `SIGCONT`,
//! `SIGSTOP`, `SIGTSTP` and `SIGCHLD` are 18, 19, 20, 17 on Linux and 19, 17, 18, 20 on macOS.
//! Every number sent goes through [`to_native`], every number received through
//! [`from_native`]. A pure table, compiled everywhere so its tests run on Linux.

/// `(Linux number, macOS number)` for every signal both systems have, by name: HUP, INT, QUIT,
/// ILL, TRAP, ABRT, BUS, FPE, KILL, USR1, SEGV, USR2, PIPE, ALRM, TERM, CHLD, CONT, STOP,
/// TSTP, TTIN, TTOU, URG, XCPU, XFSZ, VTALRM, PROF, WINCH, IO, SYS. Linux's STKFLT (16), PWR
/// (30) and real-time signals (34 to 64) have no macOS counterpart; macOS's EMT (7) and INFO
/// (29) have no Linux one.
const PAIRS: [(i32, i32); 29] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (4, 4),
    (5, 5),
    (6, 6),
    (7, 10),
    (8, 8),
    (9, 9),
    (10, 30),
    (11, 11),
    (12, 31),
    (13, 13),
    (14, 14),
    (15, 15),
    (17, 20),
    (18, 19),
    (19, 17),
    (20, 18),
    (21, 21),
    (22, 22),
    (23, 16),
    (24, 24),
    (25, 25),
    (26, 26),
    (27, 27),
    (28, 28),
    (29, 23),
    (31, 12),
];

// The macOS side of the table against the `libc` crate's macOS constants, at compile time.
#[cfg(target_os = "macos")]
const _: () = {
    use libc::*;
    let by_name = [
        SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1,
        SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,
        SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGSYS,
    ];
    let mut i = 0;
    while i < PAIRS.len() {
        assert!(PAIRS[i].1 == by_name[i]);
        i += 1;
    }
};

/// The macOS number of the signal sysprims numbers `linux` (0, the probe, is 0); `None`
/// when macOS has no such signal.
pub(crate) fn to_native(linux: i32) -> Option<i32> {
    if linux == 0 {
        return Some(0);
    }
    PAIRS.iter().find(|p| p.0 == linux).map(|p| p.1)
}

/// The sysprims (Linux) number of macOS's signal `native`; `None` for EMT and INFO, which
/// Linux lacks, and numbers macOS does not define.
pub(crate) fn from_native(native: i32) -> Option<i32> {
    if native == 0 {
        return Some(0);
    }
    PAIRS.iter().find(|p| p.1 == native).map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;

    #[test]
    fn the_signals_whose_numbers_differ() {
        // (sysprims's signal, macOS's number from <sys/signal.h>)
        for (signal, mac) in [
            (Signal::USR1, 30),
            (Signal::USR2, 31),
            (Signal::CONT, 19),
            (Signal::STOP, 17),
            (Signal::CHLD, 20),
            (Signal::TERM, 15),
            (Signal::KILL, 9),
            (Signal::INT, 2),
            (Signal::HUP, 1),
        ] {
            assert_eq!(to_native(signal.number()), Some(mac), "{signal}");
            assert_eq!(from_native(mac), Some(signal.number()), "{signal}");
        }
        let by_name = |n: &str| Signal::parse(n).unwrap().number();
        assert_eq!(to_native(by_name("TSTP")), Some(18));
        assert_eq!(to_native(by_name("BUS")), Some(10));
        assert_eq!(to_native(by_name("SYS")), Some(12));
        assert_eq!(to_native(by_name("URG")), Some(16));
        assert_eq!(to_native(by_name("IO")), Some(23));
        assert_eq!(to_native(0), Some(0));
    }

    #[test]
    fn signals_one_side_lacks() {
        for linux in ["STKFLT", "PWR", "RTMIN", "RTMAX", "RTMIN+3"] {
            let n = Signal::parse(linux).unwrap().number();
            assert_eq!(to_native(n), None, "{linux}");
        }
        assert_eq!(from_native(7), None, "EMT");
        assert_eq!(from_native(29), None, "INFO");
        assert_eq!(from_native(32), None);
        assert_eq!(from_native(-1), None);
    }

    #[test]
    fn the_linux_side_follows_the_names_the_macos_side_is_checked_against() {
        // The order of the compile-time check against libc's macOS constants.
        let names = [
            "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
            "USR2", "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
            "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS",
        ];
        assert_eq!(names.len(), PAIRS.len());
        for (name, pair) in names.iter().zip(PAIRS) {
            assert_eq!(Signal::parse(name).unwrap().number(), pair.0, "{name}");
        }
    }

    #[test]
    fn the_table_is_a_bijection() {
        for (i, a) in PAIRS.iter().enumerate() {
            for b in &PAIRS[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1, "{a:?} {b:?}");
            }
            assert_eq!(from_native(to_native(a.0).unwrap()), Some(a.0));
        }
    }
}
