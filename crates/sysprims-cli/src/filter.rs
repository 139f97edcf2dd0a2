//! The process filter options that `pstat` and `kill` share.

use std::time::Duration;

use clap::Args;
use sysprims::{Pid, ProcessFilter, ProcessState};

use crate::args;

/// Which processes: by name, user, parent, state, CPU, memory, age.
#[derive(Args, Clone, Debug, Default)]
pub struct FilterArgs {
    /// Name contains TEXT, case-sensitively. The name is the kernel's (comm, at most 15
    /// bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the
    /// executable are matched too if they begin with it.
    #[arg(long, value_name = "TEXT")]
    pub name: Option<String>,

    /// With --name: the name must be exactly TEXT.
    #[arg(long, requires = "name")]
    pub exact: bool,

    /// Effective user, by name or UID.
    #[arg(long)]
    pub user: Option<String>,

    /// Parent PID.
    #[arg(long, value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pub ppid: Option<Pid>,

    /// Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead,
    /// idle, parked (or the ps letter).
    #[arg(long, value_parser = parse_state)]
    pub state: Option<ProcessState>,

    /// CPU use above PERCENT (of one CPU).
    #[arg(long, value_name = "PERCENT", value_parser = args::percent, allow_negative_numbers = true)]
    pub cpu_above: Option<f64>,

    /// Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G).
    #[arg(long, value_name = "SIZE", value_parser = args::size_kb, allow_negative_numbers = true)]
    pub memory_above: Option<u64>,

    /// Running for at least DURATION (e.g. 90s, 10m, 2h, 1d).
    #[arg(long, value_name = "DURATION", value_parser = args::duration, allow_hyphen_values = true)]
    pub running_for: Option<Duration>,

    /// Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages.
    #[arg(long, value_name = "DURATION", value_parser = parse_sample, allow_hyphen_values = true)]
    pub sample: Option<Duration>,
}

impl FilterArgs {
    /// True when any option that selects processes was given.
    pub fn selects(&self) -> bool {
        self.name.is_some()
            || self.user.is_some()
            || self.ppid.is_some()
            || self.state.is_some()
            || self.cpu_above.is_some()
            || self.memory_above.is_some()
            || self.running_for.is_some()
    }

    /// The sampling interval in milliseconds, when asked.
    pub fn sample_ms(&self) -> Option<u64> {
        self.sample.map(|d| d.as_millis().max(1) as u64)
    }

    /// The library filter, restricted to `pids` when there are any.
    pub fn into_filter(self, pids: &[Pid]) -> ProcessFilter {
        let (name_contains, name_equals) = match (self.name, self.exact) {
            (Some(name), true) => (None, Some(name)),
            (name, _) => (name, None),
        };
        ProcessFilter {
            name_contains,
            name_equals,
            user: self.user,
            ppid: self.ppid,
            pids: (!pids.is_empty()).then(|| pids.to_vec()),
            state: self.state,
            cpu_above: self.cpu_above,
            memory_above_kb: self.memory_above,
            running_for_ms: self
                .running_for
                .map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64),
        }
    }
}

fn parse_state(text: &str) -> Result<ProcessState, String> {
    text.parse::<ProcessState>().map_err(args::reason)
}

fn parse_sample(text: &str) -> Result<Duration, String> {
    let d = args::duration(text)?;
    if d < Duration::from_millis(1) {
        return Err("the sampling interval must be at least 1ms".into());
    }
    if d > Duration::from_secs(3600) {
        return Err("the sampling interval can be at most 1h".into());
    }
    Ok(d)
}
