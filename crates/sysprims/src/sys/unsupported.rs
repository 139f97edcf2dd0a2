//! The backend for platforms sysprims does not implement yet: every call says so.

/// The process facade, with the Linux backend's signatures.
pub(crate) mod process {
    use crate::error::{Result, SysprimsError};
    use crate::pid::Pid;
    use crate::process::{ProcessIdentity, ProcessInfo, ProcessOptions};
    pub(crate) use crate::sys::{ProcSummary, RawProcess};

    fn unsupported<T>() -> Result<T> {
        Err(SysprimsError::NotSupported {
            feature: "process inspection",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }

    /// Clock reading (placeholder).
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Clock;

    impl Clock {
        pub(crate) fn now() -> Clock {
            Clock
        }

        pub(crate) fn monotonic_now_ns(&self) -> u64 {
            0
        }

        pub(crate) fn realtime_now_ms(&self) -> u64 {
            0
        }
    }

    /// No user database here; a field keeps `UserCache::default()` from being a unit struct's
    /// (clippy's `default_constructed_unit_structs` on the portable callers).
    #[derive(Default)]
    pub(crate) struct UserCache {
        _none: (),
    }

    impl UserCache {
        pub(crate) fn name(&mut self, _uid: u32) -> Option<String> {
            None
        }
    }

    pub(crate) fn uid_for_name(_name: &str) -> Option<u32> {
        None
    }

    pub(crate) const START_STAMPS_ARE_ABSOLUTE: bool = false;

    pub(crate) fn boot_id_str() -> Option<&'static str> {
        None
    }

    pub(crate) fn read_one(_pid: Pid, _options: ProcessOptions) -> Result<ProcessInfo> {
        unsupported()
    }

    pub(crate) fn require_process(_pid: Pid) -> Result<()> {
        Ok(())
    }

    pub(crate) fn all_pids() -> Result<Vec<u32>> {
        unsupported()
    }

    pub(crate) fn read_many(
        _pids: &[u32],
        _options: ProcessOptions,
        _clock: &Clock,
    ) -> Result<Vec<RawProcess>> {
        unsupported()
    }

    pub(crate) fn table() -> Result<Vec<ProcSummary>> {
        unsupported()
    }

    pub(crate) fn table_of(_pids: &[u32]) -> Result<Vec<ProcSummary>> {
        unsupported()
    }

    pub(crate) fn capture_identity(_pid: Pid) -> Result<ProcessIdentity> {
        unsupported()
    }
}

/// The signal facade, with the Linux backend's signatures.
pub(crate) mod signal {
    use crate::error::{Result, SysprimsError};
    use crate::pid::Pid;
    use crate::process::ProcessIdentity;
    use crate::signal::Signal;

    fn unsupported<T>() -> Result<T> {
        Err(SysprimsError::NotSupported {
            feature: "signals",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }

    pub(crate) fn kill(_pid: Pid, _signal: Signal) -> Result<()> {
        unsupported()
    }

    pub(crate) fn killpg(_pgid: Pid, _signal: Signal) -> Result<()> {
        unsupported()
    }

    pub(crate) fn own_process_group() -> u32 {
        0
    }

    pub(crate) struct Handle {
        pid: Pid,
    }

    impl Handle {
        pub(crate) fn open(_pid: Pid) -> Result<Handle> {
            unsupported()
        }

        pub(crate) fn pid(&self) -> Pid {
            self.pid
        }

        pub(crate) fn has_pidfd(&self) -> bool {
            false
        }

        pub(crate) fn send(&self, _signal: Signal) -> Result<()> {
            unsupported()
        }

        pub(crate) fn is_present(&self) -> Result<bool> {
            unsupported()
        }

        pub(crate) fn pidfs_inode(&self) -> Option<u64> {
            None
        }

        pub(crate) fn identity(&self) -> Result<ProcessIdentity> {
            unsupported()
        }
    }
}

/// The wait facade, with the Linux backend's signatures.
pub(crate) mod wait {
    use std::time::Instant;

    use crate::error::Result;
    use crate::pid::Pid;
    use crate::wait::WaitPidResult;

    pub(crate) fn wait_pid(
        _pid: Pid,
        _deadline: Option<Instant>,
        _cancel: Option<&super::cancel::CancelFd>,
    ) -> Result<WaitPidResult> {
        super::not_here("waiting for a process")
    }

    pub(crate) fn wait_handles_exit(
        _handles: &[&super::signal::Handle],
        _deadline: Option<Instant>,
        _cancel: Option<&super::cancel::CancelFd>,
    ) -> Result<Vec<bool>> {
        super::not_here("waiting for processes")
    }
}

/// The cancellation token's backend: a flag. Nothing here blocks, so nothing needs waking.
pub(crate) mod cancel {
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::error::Result;

    #[derive(Debug, Default)]
    pub(crate) struct CancelFd {
        triggered: AtomicBool,
    }

    impl CancelFd {
        pub(crate) fn new() -> Result<CancelFd> {
            Ok(CancelFd::default())
        }

        pub(crate) fn trigger(&self) {
            self.triggered.store(true, Ordering::SeqCst);
        }

        pub(crate) fn is_triggered(&self) -> bool {
            self.triggered.load(Ordering::SeqCst)
        }
    }

    pub(crate) fn triggered(cancel: Option<&CancelFd>) -> bool {
        cancel.is_some_and(CancelFd::is_triggered)
    }
}

fn not_here<T>(feature: &'static str) -> crate::error::Result<T> {
    Err(crate::error::SysprimsError::NotSupported {
        feature,
        reason: format!("not implemented on {} yet", std::env::consts::OS),
    })
}

/// The fds facade, with the Linux backend's signatures.
pub(crate) mod fds {
    use crate::error::Result;
    use crate::fds::{FdFilter, FdInfo};
    use crate::pid::Pid;

    pub(crate) fn list_fds(_pid: Pid, _filter: &FdFilter) -> Result<Vec<FdInfo>> {
        super::not_here("listing open fds")
    }
}

/// The ports facade, with the Linux backend's signatures.
pub(crate) mod ports {
    use crate::error::Result;
    use crate::pid::Pid;
    use crate::ports::PortBinding;

    pub(crate) fn listening_sockets(_tcp: bool, _udp: bool) -> Result<Vec<PortBinding>> {
        super::not_here("listing listening ports")
    }

    pub(crate) fn listening_sockets_via(
        _netlink: bool,
        _tcp: bool,
        _udp: bool,
    ) -> Result<Vec<PortBinding>> {
        super::not_here("listing listening ports")
    }

    pub(crate) fn find_holders_in(_pid: Pid, _bindings: &mut [PortBinding]) -> Result<()> {
        super::not_here("finding socket holders")
    }

    pub(crate) fn find_holders(
        _bindings: &mut [PortBinding],
        _skip: Option<Pid>,
    ) -> Result<Vec<u32>> {
        super::not_here("finding socket holders")
    }
}

/// Jobs: not implemented here yet.
#[cfg_attr(windows, allow(dead_code))] // Windows has its own (sys/windows/)
pub(crate) mod jobs {
    use std::path::{Path, PathBuf};

    use crate::error::{Result, SysprimsError};
    use crate::pid::Pid;
    use crate::spawn::SpawnInGroupConfig;
    use crate::tree::{TerminateTreeConfig, TerminateTreeResult};

    /// A started child (never built here).
    pub(crate) struct Started {
        pub handle: crate::sys::signal::Handle,
        pub cgroup: Option<PathBuf>,
        pub warnings: Vec<String>,
        pub watchdog: JobWatchdog,
        pub placement: Placement,
    }

    /// No watchdog here: there are no job cgroups.
    #[derive(Default)]
    pub(crate) struct JobWatchdog;

    impl JobWatchdog {
        pub(crate) fn arm(_dir: &Path) -> JobWatchdog {
            JobWatchdog
        }

        pub(crate) fn is_armed(&self) -> bool {
            false
        }

        #[allow(dead_code)]
        pub(crate) fn retire(&mut self, _linger: Option<&Path>) {}

        pub(crate) fn linger(_dir: &Path) {}

        pub(crate) fn end(&mut self) {}

        #[allow(dead_code)]
        pub(crate) fn dismiss(&mut self) {}
    }

    pub(crate) fn start(
        _config: &SpawnInGroupConfig,
        _new_process_group: bool,
        _sweep: bool,
        _watchdog: bool,
    ) -> Result<Started> {
        Err(SysprimsError::NotSupported {
            feature: "spawn_in_group",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }

    pub(crate) fn job_cgroup_of(_pid: Pid) -> Option<PathBuf> {
        None
    }

    pub(crate) fn remove_if_empty(_dir: &Path) {}

    pub(crate) fn usage(_dir: &Path) -> crate::limits::JobUsage {
        crate::limits::JobUsage::default()
    }

    #[derive(Default)]
    pub(crate) struct Placement;

    pub(crate) fn usage_placed(_dir: &Path, _placement: &Placement) -> crate::limits::JobUsage {
        crate::limits::JobUsage::default()
    }

    pub(crate) fn wait_first(
        _handle: &crate::sys::signal::Handle,
        _deadline: Option<std::time::Instant>,
    ) -> Result<crate::wait::WaitPidResult> {
        Err(SysprimsError::NotSupported {
            feature: "wait_pid",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }

    pub(crate) fn caller_inside(_dir: &Path) -> bool {
        false
    }

    pub(crate) fn terminate_cgroup(
        _dir: &Path,
        _config: &TerminateTreeConfig,
        _result: TerminateTreeResult,
        _cancel: Option<&crate::sys::cancel::CancelFd>,
    ) -> Result<TerminateTreeResult> {
        Err(SysprimsError::NotSupported {
            feature: "cgroup containment",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }
}

/// Running under a deadline: not implemented on this platform yet.
#[cfg_attr(windows, allow(dead_code))] // Windows has its own (sys/windows/)
pub(crate) mod timeout {
    use std::time::Duration;

    use crate::error::{Result, SysprimsError};
    use crate::spawn::SpawnInGroupConfig;
    use crate::timeout::{TimeoutConfig, TimeoutControl, TimeoutOutcome};

    /// Wakes a run from another thread (nothing to wake here).
    pub(crate) struct Waker;

    impl Waker {
        pub(crate) fn new() -> Result<Waker> {
            Ok(Waker)
        }

        pub(crate) fn wake(&self) {}

        #[allow(dead_code)]
        pub(crate) fn drain(&self) {}
    }

    pub(crate) fn run(
        _spawn: &SpawnInGroupConfig,
        _timeout: Duration,
        _config: &TimeoutConfig,
        _control: Option<&TimeoutControl>,
        _cancel: Option<&crate::sys::cancel::CancelFd>,
    ) -> Result<TimeoutOutcome> {
        Err(SysprimsError::NotSupported {
            feature: "run_with_timeout",
            reason: format!("not implemented on {} yet", std::env::consts::OS),
        })
    }
}

pub(crate) mod limits {
    /// Unknown here.
    pub(crate) fn memory_and_swap_bytes() -> Option<u64> {
        None
    }

    /// Unknown here.
    pub(crate) fn pid_max() -> Option<u64> {
        None
    }
}
