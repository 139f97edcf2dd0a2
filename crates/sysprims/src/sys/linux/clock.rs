//! Clocks for turning `/proc` tick counts into wall-clock times.
//!
//! `/proc/<pid>/stat` gives a process's start as clock ticks (10 ms at `CLK_TCK` = 100) after
//! boot. The boot time itself is anchored on the kernel's `btime`: whole seconds, the same
//! number for every reader until the wall clock is stepped. Anchoring on it is what makes
//! `start_time_unix_ms` bit-for-bit equal across reads and across processes, and what `ps`
//! uses too, so our times agree with `ps -o lstart`. The price is that absolute accuracy is
//! within one second of the true wall-clock time (the anchor drops the boot instant's fraction
//! of a second), while differences between two processes keep the full 10 ms resolution.

use std::sync::OnceLock;

use rustix::time::{ClockId, clock_gettime};

use super::procfs::parse::parse_btime;

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), almost always 100.
pub(crate) fn clock_ticks_per_second() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| rustix::param::clock_ticks_per_second().max(1))
}

/// Bytes per page, for RSS.
pub(crate) fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| rustix::param::page_size() as u64)
}

fn nanos(clock: ClockId) -> i128 {
    let ts = clock_gettime(clock);
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// The kernel's `btime` (boot time in whole Unix seconds), as `/proc/stat` prints it.
///
/// The kernel computes `btime` as `floor(CLOCK_REALTIME - CLOCK_BOOTTIME)`, a constant between
/// clock steps. Reading REALTIME, BOOTTIME, REALTIME brackets that constant; when both bounds
/// floor to the same second that second *is* `btime`, found in three vDSO calls instead of
/// reading `/proc/stat` (whose size grows with the number of CPUs). Otherwise (the constant
/// sits within a few hundred nanoseconds of a second boundary, or the clock was stepped
/// between the reads) `/proc/stat` is read.
pub(crate) fn boot_time_unix_secs() -> Option<u64> {
    let r1 = nanos(ClockId::Realtime);
    let b = nanos(ClockId::Boottime);
    let r2 = nanos(ClockId::Realtime);
    bracketed_boot_secs(r1, b, r2).or_else(read_btime)
}

/// `floor((r - b) / 1e9)` when it is the same for `r = r1` and `r = r2`.
pub(crate) fn bracketed_boot_secs(r1: i128, b: i128, r2: i128) -> Option<u64> {
    let low = (r1 - b).div_euclid(1_000_000_000);
    let high = (r2 - b).div_euclid(1_000_000_000);
    if low == high {
        u64::try_from(low).ok()
    } else {
        None
    }
}

pub(crate) fn read_btime() -> Option<u64> {
    let bytes = std::fs::read("/proc/stat").ok()?;
    parse_btime(&bytes)
}

/// A reading of the clocks, taken once per listing so that every process in it is measured
/// against the same instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProcClock {
    /// Clock ticks per second.
    pub ticks_per_second: u64,
    /// `btime`, if it could be found.
    pub boot_unix_secs: Option<u64>,
    /// `CLOCK_BOOTTIME` now, in nanoseconds: the same clock `starttime` counts on.
    pub boottime_now_ns: u64,
    /// `CLOCK_REALTIME` now, in Unix milliseconds.
    pub realtime_now_ms: u64,
}

impl ProcClock {
    pub(crate) fn now() -> ProcClock {
        ProcClock {
            ticks_per_second: clock_ticks_per_second(),
            boot_unix_secs: boot_time_unix_secs(),
            boottime_now_ns: u64::try_from(nanos(ClockId::Boottime)).unwrap_or(0),
            realtime_now_ms: u64::try_from(nanos(ClockId::Realtime) / 1_000_000).unwrap_or(0),
        }
    }

    /// Milliseconds after boot for a tick count (exact for `CLK_TCK` = 100, 1000, ...).
    pub(crate) fn ticks_to_ms(&self, ticks: u64) -> u64 {
        (u128::from(ticks) * 1000 / u128::from(self.ticks_per_second)) as u64
    }

    /// Nanoseconds for a tick count (exact for `CLK_TCK` dividing 10^9).
    pub(crate) fn ticks_to_ns(&self, ticks: u64) -> u64 {
        (u128::from(ticks) * 1_000_000_000 / u128::from(self.ticks_per_second)) as u64
    }

    /// A monotonic clock now, nanoseconds (`CLOCK_BOOTTIME`): sampling windows are measured
    /// on it.
    pub(crate) fn monotonic_now_ns(&self) -> u64 {
        self.boottime_now_ns
    }

    /// The wall clock now, Unix milliseconds.
    pub(crate) fn realtime_now_ms(&self) -> u64 {
        self.realtime_now_ms
    }

    /// Unix milliseconds of a process start given as ticks after boot.
    pub(crate) fn start_unix_ms(&self, start_ticks: u64) -> Option<u64> {
        self.boot_unix_secs.map(|boot| {
            boot.saturating_mul(1000)
                .saturating_add(self.ticks_to_ms(start_ticks))
        })
    }

    /// Milliseconds since a process started.
    pub(crate) fn elapsed_ms(&self, start_ticks: u64) -> u64 {
        (self.boottime_now_ns / 1_000_000).saturating_sub(self.ticks_to_ms(start_ticks))
    }

    /// Lifetime-average CPU use in percent of one CPU, as `ps -o pcpu` computes it.
    pub(crate) fn lifetime_cpu_percent(&self, cpu_ticks: u64, start_ticks: u64) -> f64 {
        let elapsed_ms = self.elapsed_ms(start_ticks);
        if elapsed_ms == 0 {
            return 0.0;
        }
        let cpu_ms = self.ticks_to_ms(cpu_ticks);
        cpu_ms as f64 * 100.0 / elapsed_ms as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_floors_or_gives_up() {
        let s = 1_000_000_000i128;
        // Boot at 1700000000.4 s; the reads straddle nothing.
        let boot = 1_700_000_000 * s + 400_000_000;
        assert_eq!(
            bracketed_boot_secs(boot + 50 * s - 100, 50 * s, boot + 50 * s + 100),
            Some(1_700_000_000)
        );
        // Boot 50 ns before a second boundary, reads 100 ns apart: ambiguous.
        let boot = 1_700_000_001 * s - 50;
        assert_eq!(
            bracketed_boot_secs(boot + 7 * s - 100, 7 * s, boot + 7 * s + 100),
            None
        );
    }

    #[test]
    fn bracket_agrees_with_proc_stat() {
        // Both name the same kernel constant; repeated, they must agree every time.
        let from_proc = read_btime().expect("/proc/stat has btime");
        for _ in 0..1000 {
            assert_eq!(boot_time_unix_secs(), Some(from_proc));
        }
    }

    #[test]
    fn tick_conversions() {
        let clock = ProcClock {
            ticks_per_second: 100,
            boot_unix_secs: Some(1_700_000_000),
            boottime_now_ns: 10_000_000_000,
            realtime_now_ms: 0,
        };
        assert_eq!(clock.ticks_to_ms(123), 1230);
        assert_eq!(clock.start_unix_ms(123), Some(1_700_000_001_230));
        assert_eq!(clock.elapsed_ms(500), 5_000);
        assert_eq!(clock.elapsed_ms(5_000), 0);
        assert!((clock.lifetime_cpu_percent(250, 500) - 50.0).abs() < 1e-9);
        assert_eq!(clock.lifetime_cpu_percent(1, 1000), 0.0);
    }
}
