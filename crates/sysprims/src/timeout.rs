//! Running a command under a deadline: [`run_with_timeout`].
//!
//! The command is started as [`spawn_in_group`](crate::spawn_in_group) starts a job (a cgroup
//! of its own where cgroup v2 is writable), and its exit is seen through its pidfd the moment
//! it happens: there is no polling loop. When the deadline passes, the signal goes to every
//! process of the job, not just the first one, and `kill_after` escalates to `SIGKILL` for the
//! whole job. Once the command has exited after a timeout, whatever it left running is ended
//! too, so nothing of a timed-out command outlives the call.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cancel::CancelToken;
use crate::error::Result;
use crate::limits::{EndedBy, JobLimits, JobUsage};
use crate::signal::Signal;
use crate::spawn::{Containment, ContainmentKind, StdioConfig, TreeKillReliability};

/// `schema_id` of [`TimeoutReport`].
pub const TIMEOUT_REPORT_SCHEMA_ID: &str = "https://sysprims.dev/schemas/timeout-report/v1.json";

/// How [`run_with_timeout`] runs a command and ends it.
///
/// ```
/// use sysprims::{Signal, TimeoutConfig};
///
/// let config: TimeoutConfig =
///     serde_json::from_str(r#"{"signal": "INT", "kill_after_ms": 500, "cleanup": true}"#).unwrap();
/// assert_eq!(config.signal, Signal::INT);
/// assert!(config.kill_on_parent_death);
/// assert!(serde_json::from_str::<TimeoutConfig>(r#"{"kill_after": 1}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutConfig {
    /// The signal sent to the whole job when the deadline passes (default `SIGTERM`).
    pub signal: Signal,
    /// If the command is still running this long after `signal` was sent, `SIGKILL` the whole
    /// job. `None` (or 0) waits for the command however long it takes, as GNU `timeout` does
    /// without `-k`.
    pub kill_after_ms: Option<u64>,
    /// How the job is contained, as in [`SpawnInGroupConfig`](crate::SpawnInGroupConfig).
    pub containment: Containment,
    /// Where to make the job's cgroup, as in [`SpawnInGroupConfig`](crate::SpawnInGroupConfig).
    pub cgroup_parent: Option<PathBuf>,
    /// Report the command's own status even when it timed out (GNU `--preserve-status`).
    /// This only changes [`TimeoutOutcome::exit_status`].
    pub preserve_status: bool,
    /// Leave the command in the caller's process group instead of a new one, so that it can
    /// use the caller's terminal and receives the terminal's signals (GNU `--foreground`). The
    /// job is still ended through its cgroup, grandchildren included.
    pub foreground: bool,
    /// When the command exits before the deadline, end what it left running (background
    /// children, daemons): `signal`, then `SIGKILL` after `kill_after_ms` (at once without
    /// it). Off by default, as GNU `timeout` leaves them.
    pub cleanup: bool,
    /// Working directory; `None` is the caller's.
    pub cwd: Option<PathBuf>,
    /// Environment variables to set (on top of the caller's, or of none with `env_clear`).
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment.
    pub env_clear: bool,
    /// The command's stdin (default: the caller's).
    pub stdin: StdioConfig,
    /// The command's stdout (default: the caller's).
    pub stdout: StdioConfig,
    /// The command's stderr (default: the caller's).
    pub stderr: StdioConfig,
    /// `SIGKILL` the command if the thread that started it dies (default true), so a killed
    /// caller does not leave the command running.
    pub kill_on_parent_death: bool,
    /// Limits on the whole job, as in [`SpawnInGroupConfig`](crate::SpawnInGroupConfig)
    /// ([`JobLimits`]): none by default.
    #[serde(skip_serializing_if = "JobLimits::is_empty")]
    pub limits: JobLimits,
}

impl Default for TimeoutConfig {
    fn default() -> TimeoutConfig {
        TimeoutConfig {
            signal: Signal::TERM,
            kill_after_ms: None,
            containment: Containment::Auto,
            cgroup_parent: None,
            preserve_status: false,
            foreground: false,
            cleanup: false,
            cwd: None,
            env: BTreeMap::new(),
            env_clear: false,
            stdin: StdioConfig::Inherit,
            stdout: StdioConfig::Inherit,
            stderr: StdioConfig::Inherit,
            kill_on_parent_death: true,
            limits: JobLimits::default(),
        }
    }
}

/// How the command itself ended: an exit code, or the signal that killed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandStatus {
    /// The exit code, when the command exited.
    pub exit_code: Option<i32>,
    /// The signal that killed the command, when one did. In JSON the platform's native number
    /// (macOS numbers `USR1` 30); in Rust sysprims's (Linux) number, [`Signal::number`].
    #[serde(
        default,
        serialize_with = "crate::signal::native_serde::option::serialize",
        deserialize_with = "crate::signal::native_serde::option::deserialize"
    )]
    pub signal: Option<i32>,
    /// How the command ended: `"exit"`, `"signal"`, or `"oom_kill"` when `SIGKILL` came from
    /// the kernel's OOM killer (the job's cgroup counted an OOM kill) ([`EndedBy`]).
    pub ended_by: Option<EndedBy>,
}

/// What [`run_with_timeout`] saw and did, whatever the outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunDetails {
    /// The command's PID.
    pub pid: u32,
    /// The command's process group, when it was given one of its own (not with
    /// `foreground`).
    pub pgid: Option<u32>,
    /// What held the job.
    pub containment: ContainmentKind,
    /// Whether the whole job was in reach of the signals.
    pub tree_kill_reliability: TreeKillReliability,
    /// The job's cgroup while it ran (removed when the job ended).
    pub cgroup: Option<PathBuf>,
    /// Signals passed on to the job through [`TimeoutControl::forward`], in order.
    pub forwarded_signals: Vec<Signal>,
    /// Processes the command left running that were ended after it exited (after a
    /// timeout, or with `cleanup`).
    pub leftovers_ended: u32,
    /// PIDs of the job still alive at return. Empty unless something could not be ended
    /// (a process in uninterruptible sleep, or out of reach without a cgroup).
    pub survivors: Vec<u32>,
    /// Wall time from the start of the command to the return, milliseconds.
    pub elapsed_ms: u64,
    /// Degradations and anything else worth logging.
    pub warnings: Vec<String>,
    /// What the job's whole tree used, read from its cgroup when it ended ([`JobUsage`]).
    /// `None` for a job without a cgroup (the `warnings` say so).
    pub usage: Option<JobUsage>,
}

/// How a command run by [`run_with_timeout`] ended.
///
/// In JSON the variant is the `outcome` field (`"completed"` or `"timed_out"`), beside the
/// fields of [`CommandStatus`] and [`RunDetails`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TimeoutOutcome {
    /// The command exited before the deadline.
    Completed {
        /// Its exit code or signal.
        #[serde(flatten)]
        status: CommandStatus,
        /// What was seen and done.
        #[serde(flatten)]
        run: RunDetails,
    },
    /// The deadline passed (or [`TimeoutControl::expire`] was called): the job was signalled.
    TimedOut {
        /// The signal sent at the deadline.
        signal_sent: Signal,
        /// The command outlived `kill_after_ms`, so the job was `SIGKILL`ed.
        escalated: bool,
        /// How the command ended in the end.
        #[serde(flatten)]
        status: CommandStatus,
        /// What was seen and done.
        #[serde(flatten)]
        run: RunDetails,
    },
}

impl TimeoutOutcome {
    /// Whether the deadline passed.
    pub fn timed_out(&self) -> bool {
        matches!(self, TimeoutOutcome::TimedOut { .. })
    }

    /// How the command itself ended.
    pub fn status(&self) -> CommandStatus {
        match self {
            TimeoutOutcome::Completed { status, .. } | TimeoutOutcome::TimedOut { status, .. } => {
                *status
            }
        }
    }

    /// What was seen and done.
    pub fn run(&self) -> &RunDetails {
        match self {
            TimeoutOutcome::Completed { run, .. } | TimeoutOutcome::TimedOut { run, .. } => run,
        }
    }

    /// The status GNU `timeout` would end with for this outcome: 124 on a timeout (unless
    /// `preserve_status`), 128+N when `SIGKILL` was needed or the command was killed by signal
    /// N (the platform's number for it, as a shell shows: 128+30 for `SIGUSR1` on macOS), the
    /// command's own exit code otherwise.
    ///
    /// ```
    /// use sysprims::{CommandStatus, TimeoutOutcome};
    /// # fn outcome(status: CommandStatus, timed_out: bool) -> TimeoutOutcome {
    /// #     let run = sysprims::RunDetails {
    /// #         pid: 2, pgid: None, containment: sysprims::ContainmentKind::CgroupV2,
    /// #         tree_kill_reliability: sysprims::TreeKillReliability::Guaranteed, cgroup: None,
    /// #         forwarded_signals: vec![], leftovers_ended: 0, survivors: vec![],
    /// #         elapsed_ms: 0, warnings: vec![], usage: None,
    /// #     };
    /// #     if timed_out {
    /// #         TimeoutOutcome::TimedOut { signal_sent: sysprims::Signal::TERM,
    /// #             escalated: status.signal == Some(9), status, run }
    /// #     } else { TimeoutOutcome::Completed { status, run } }
    /// # }
    /// let exited_3 = CommandStatus { exit_code: Some(3), ..Default::default() };
    /// let killed_by_term = CommandStatus { signal: Some(15), ..Default::default() };
    /// assert_eq!(outcome(exited_3, false).exit_status(false), 3);
    /// assert_eq!(outcome(killed_by_term, true).exit_status(false), 124);
    /// assert_eq!(outcome(killed_by_term, true).exit_status(true), 143);
    /// ```
    pub fn exit_status(&self, preserve_status: bool) -> i32 {
        let status = self.status();
        let shell = match (status.exit_code, status.signal) {
            (Some(code), _) => code,
            // The shell's status: 128 + the platform's number for the signal.
            (None, Some(sig)) => 128 + crate::signal::native_serde::native_or_same(sig),
            (None, None) => 125,
        };
        match self {
            TimeoutOutcome::Completed { .. } => shell,
            // Being killed is told apart from answering the signal, as GNU does.
            TimeoutOutcome::TimedOut { .. } if status.signal == Some(Signal::KILL.number()) => {
                shell
            }
            TimeoutOutcome::TimedOut { .. } if preserve_status => shell,
            TimeoutOutcome::TimedOut { .. } => 124,
        }
    }
}

/// The JSON document `sysprims timeout --json FILE` writes: the command line, the limits,
/// the status the command line ended with, and the [`TimeoutOutcome`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TimeoutReport {
    /// Always [`TIMEOUT_REPORT_SCHEMA_ID`].
    pub schema_id: String,
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// The deadline, milliseconds (fractions of a millisecond rounded up); 0 means none.
    pub timeout_ms: u64,
    /// `kill_after`, milliseconds, if set.
    pub kill_after_ms: Option<u64>,
    /// The status the run ends with, as GNU `timeout` computes it
    /// ([`TimeoutOutcome::exit_status`]).
    pub exit_status: i32,
    /// What happened.
    #[serde(flatten)]
    pub outcome: TimeoutOutcome,
}

impl TimeoutReport {
    /// The report of one run.
    pub fn new(
        argv: Vec<String>,
        timeout: Duration,
        config: &TimeoutConfig,
        outcome: TimeoutOutcome,
    ) -> TimeoutReport {
        let ms = |d: Duration| {
            let whole = d.as_millis();
            let ms = if d.subsec_nanos() % 1_000_000 != 0 {
                whole + 1
            } else {
                whole
            };
            u64::try_from(ms).unwrap_or(u64::MAX)
        };
        TimeoutReport {
            schema_id: TIMEOUT_REPORT_SCHEMA_ID.to_string(),
            argv,
            timeout_ms: ms(timeout),
            kill_after_ms: config.kill_after_ms.filter(|&k| k > 0),
            exit_status: outcome.exit_status(config.preserve_status),
            outcome,
        }
    }
}

/// A whole [`run_with_timeout`] call as one JSON document, for the C ABI and other callers
/// that speak JSON.
///
/// ```
/// use sysprims::TimeoutRequest;
///
/// let request: TimeoutRequest = serde_json::from_str(
///     r#"{"argv": ["make", "test"], "timeout_ms": 600000, "config": {"kill_after_ms": 5000}}"#,
/// )
/// .unwrap();
/// assert_eq!(request.config.kill_after_ms, Some(5000));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutRequest {
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// The deadline in milliseconds; 0 means none.
    pub timeout_ms: u64,
    /// How to run and end it.
    #[serde(default)]
    pub config: TimeoutConfig,
}

impl TimeoutRequest {
    /// Run the request ([`run_with_timeout`]) and report on it ([`TimeoutReport`]).
    ///
    /// # Errors
    /// As [`run_with_timeout`]; an empty `argv` is
    /// [`InvalidArgument`](crate::ErrorCode::InvalidArgument).
    pub fn run(&self, control: Option<&TimeoutControl>) -> Result<TimeoutReport> {
        self.run_inner(control, None)
    }

    /// [`run`](TimeoutRequest::run) that `cancel` can cut short: see
    /// [`run_with_timeout_cancellable`].
    ///
    /// # Errors
    /// As [`run`](TimeoutRequest::run).
    pub fn run_cancellable(
        &self,
        control: Option<&TimeoutControl>,
        cancel: &CancelToken,
    ) -> Result<TimeoutReport> {
        self.run_inner(control, Some(cancel))
    }

    fn run_inner(
        &self,
        control: Option<&TimeoutControl>,
        cancel: Option<&CancelToken>,
    ) -> Result<TimeoutReport> {
        let Some((command, args)) = self.argv.split_first() else {
            return Err(crate::SysprimsError::invalid(
                "argv",
                "[]",
                "is empty: it must name the program to run",
            ));
        };
        let timeout = Duration::from_millis(self.timeout_ms);
        let outcome = run_inner(command, args, timeout, &self.config, control, cancel)?;
        Ok(TimeoutReport::new(
            self.argv.clone(),
            timeout,
            &self.config,
            outcome,
        ))
    }
}

/// What [`TimeoutControl`] asks of a running command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Forward(Signal),
    Expire,
}

/// An `Instant` `d` from now, or `None` (no deadline) when that is too far to represent.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", windows)),
    allow(dead_code)
)]
pub(crate) fn after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

/// The deadlines a backend's timeout loop keeps while the command runs, and the rules they
/// follow, written once: the deadline expires once and sends the configured signal; forwarded
/// signals are recorded; the first signal of either kind arms the kill delay; a cancel or the
/// kill time escalates to KILL.
#[derive(Debug)]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", windows)),
    allow(dead_code)
)]
pub(crate) struct LoopState {
    /// When the deadline passes (`None`: no deadline, or it has passed).
    pub deadline: Option<Instant>,
    /// The deadline passed (or the run was cancelled).
    pub timed_out: bool,
    /// KILL was needed.
    pub escalated: bool,
    /// When the job gets KILL, once a signal has armed the delay.
    pub kill_at: Option<Instant>,
    /// Signals forwarded to the job, in order.
    pub forwarded: Vec<Signal>,
    kill_after: Option<Duration>,
    kill_armed: bool,
    signal: Signal,
}

/// How a run ended, from what its loop saw: a timeout (the deadline passed, or a cancel) with
/// the signal sent and whether KILL was needed, or a completion.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", windows)),
    allow(dead_code)
)]
pub(crate) fn outcome(
    timed_out: bool,
    escalated: bool,
    signal_sent: Signal,
    status: CommandStatus,
    run: RunDetails,
) -> TimeoutOutcome {
    if timed_out {
        TimeoutOutcome::TimedOut {
            signal_sent,
            escalated,
            status,
            run,
        }
    } else {
        TimeoutOutcome::Completed { status, run }
    }
}

impl TimeoutConfig {
    /// The kill delay, if there is one (`kill_after_ms` of 0 is none).
    pub(crate) fn kill_after(&self) -> Option<Duration> {
        self.kill_after_ms
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", windows)),
    allow(dead_code)
)]
impl LoopState {
    /// A run with `timeout` (zero: none) and `config`'s signal and kill delay, starting now.
    pub(crate) fn new(timeout: Duration, config: &TimeoutConfig) -> Self {
        LoopState {
            deadline: if timeout.is_zero() {
                None
            } else {
                after(timeout)
            },
            timed_out: false,
            escalated: false,
            kill_at: None,
            forwarded: Vec::new(),
            kill_after: config.kill_after(),
            kill_armed: false,
            signal: config.signal,
        }
    }

    /// The signals to deliver to the job now, in order: the deadline's (once, first, when it
    /// has passed at `now`) and what `control` asked for.
    pub(crate) fn due(&mut self, control: Option<&TimeoutControl>, now: Instant) -> Vec<Signal> {
        let mut requests = control.map(TimeoutControl::take).unwrap_or_default();
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            requests.insert(0, Request::Expire);
        }
        let mut signals = Vec::with_capacity(requests.len());
        for request in requests {
            let signal = match request {
                Request::Expire if self.timed_out => continue,
                Request::Expire => {
                    self.timed_out = true;
                    self.deadline = None;
                    self.signal
                }
                Request::Forward(signal) => {
                    self.forwarded.push(signal);
                    signal
                }
            };
            if !self.kill_armed
                && let Some(k) = self.kill_after
            {
                self.kill_armed = true;
                self.kill_at = after(k);
            }
            signals.push(signal);
        }
        signals
    }

    /// A cancel: the run ends as an escalated timeout, with no deadline left to wait for.
    pub(crate) fn cancelled(&mut self) {
        self.timed_out = true;
        self.escalated = true;
        self.kill_at = None;
        self.deadline = None;
    }

    /// Whether the kill time has come at `now` (it is then spent: the caller sends KILL to
    /// whatever is still running and sets `escalated`).
    pub(crate) fn kill_due(&mut self, now: Instant) -> bool {
        if self.kill_at.is_some_and(|k| now >= k) {
            self.kill_at = None;
            true
        } else {
            false
        }
    }

    /// The next moment the loop must wake for: the deadline or the kill time.
    pub(crate) fn next(&self) -> Option<Instant> {
        match (self.deadline, self.kill_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What [`run_with_timeout_controlled`] tells an observer, as it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutEvent {
    /// The command has started, as `pid`.
    Started {
        /// Its PID.
        pid: u32,
    },
    /// `signal` is about to be sent to the job (at the deadline, at the `kill_after`
    /// escalation, or passed on by [`TimeoutControl::forward`]).
    Signalling {
        /// The signal.
        signal: Signal,
    },
    /// The command has exited and `signal` is about to be sent to the processes it left
    /// running.
    EndingLeftovers {
        /// The signal.
        signal: Signal,
        /// How many processes are left.
        count: usize,
    },
}

type Observer = Box<dyn Fn(&TimeoutEvent) + Send + Sync>;

pub(crate) struct ControlInner {
    pub(crate) queue: Mutex<Vec<Request>>,
    pub(crate) waker: crate::sys::timeout::Waker,
    pub(crate) observer: Mutex<Option<Observer>>,
}

/// A handle on a command [`run_with_timeout_controlled`] is running, usable from other
/// threads: pass signals on to the whole job, or make the deadline pass now. This is how the
/// `sysprims timeout` command forwards the signals it receives.
///
/// ```
/// use std::time::Duration;
/// use sysprims::{TimeoutConfig, TimeoutControl, run_with_timeout_controlled};
///
/// let control = TimeoutControl::new().unwrap();
/// let remote = control.clone();
/// let t = std::thread::spawn(move || remote.expire());
/// let outcome = run_with_timeout_controlled(
///     "sleep", &["60".to_string()], Duration::from_secs(600), &TimeoutConfig::default(), &control,
/// )
/// .unwrap();
/// t.join().unwrap();
/// assert!(outcome.timed_out());
/// ```
#[derive(Clone)]
pub struct TimeoutControl {
    pub(crate) inner: Arc<ControlInner>,
}

impl std::fmt::Debug for TimeoutControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutControl").finish_non_exhaustive()
    }
}

impl TimeoutControl {
    /// A new control, not yet attached to a run.
    ///
    /// # Errors
    /// [`System`](crate::ErrorCode::System) when the kernel gives no eventfd (fd limit).
    pub fn new() -> Result<TimeoutControl> {
        Ok(TimeoutControl {
            inner: Arc::new(ControlInner {
                queue: Mutex::new(Vec::new()),
                waker: crate::sys::timeout::Waker::new()?,
                observer: Mutex::new(None),
            }),
        })
    }

    /// Call `observer` for each [`TimeoutEvent`], from the thread running the command.
    pub fn with_observer(self, observer: impl Fn(&TimeoutEvent) + Send + Sync + 'static) -> Self {
        *self
            .inner
            .observer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Box::new(observer));
        self
    }

    fn push(&self, request: Request) {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request);
        self.inner.waker.wake();
    }

    /// Send `signal` to every process of the job (followed by `SIGCONT`, so stopped
    /// processes see it), as GNU `timeout` does with the signals it receives. The first
    /// signal starts the `kill_after` clock, as the deadline does. Requests made before the
    /// run starts are acted on when it does.
    pub fn forward(&self, signal: Signal) {
        self.push(Request::Forward(signal));
    }

    /// Make the deadline pass now: the run ends as a timeout.
    pub fn expire(&self) {
        self.push(Request::Expire);
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn take(&self) -> Vec<Request> {
        self.inner.waker.drain();
        std::mem::take(&mut *self.inner.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn notify(&self, event: &TimeoutEvent) {
        if let Some(observer) = &*self
            .inner
            .observer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            observer(event);
        }
    }
}

/// Run `command` with `args` and wait for it, ending the whole job if it is still running
/// after `timeout`. A `timeout` of zero means no deadline.
///
/// At the deadline, `config.signal` goes to every process of the job (then `SIGCONT`); if the
/// command is still running `config.kill_after_ms` later, the whole job is `SIGKILL`ed. The
/// call returns once the command has exited and, after a timeout (or with
/// `config.cleanup`), once what it left running has been ended too.
///
/// ```
/// use std::time::Duration;
/// use sysprims::{TimeoutConfig, TimeoutOutcome, run_with_timeout};
///
/// let args = ["-c".to_string(), "exit 3".to_string()];
/// let outcome = run_with_timeout("sh", &args, Duration::from_secs(10), &TimeoutConfig::default())
///     .unwrap();
/// assert_eq!(outcome.status().exit_code, Some(3));
/// assert!(!outcome.timed_out());
///
/// let slow = run_with_timeout("sleep", &["60".into()], Duration::from_millis(50), &TimeoutConfig::default())
///     .unwrap();
/// assert!(matches!(slow, TimeoutOutcome::TimedOut { escalated: false, .. }));
/// assert_eq!(slow.exit_status(false), 124);
/// ```
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): an empty command, a bad
///   environment variable name, a NUL byte in an argument.
/// - [`SpawnFailed`](crate::ErrorCode::SpawnFailed): the command could not be started (not
///   found, not executable, bad working directory); the error carries the errno.
/// - [`NotSupported`](crate::ErrorCode::NotSupported) /
///   [`PermissionDenied`](crate::ErrorCode::PermissionDenied): `containment` is `cgroup` and
///   no cgroup can be made.
pub fn run_with_timeout(
    command: &str,
    args: &[String],
    timeout: Duration,
    config: &TimeoutConfig,
) -> Result<TimeoutOutcome> {
    run_inner(command, args, timeout, config, None, None)
}

/// [`run_with_timeout`] that `cancel` can cut short: once [`CancelToken::cancel`] is called
/// (from another thread, or before the call), the whole job is `SIGKILL`ed at once, and the
/// outcome is [`TimeoutOutcome::TimedOut`] with `escalated` set and
/// [`CANCELLED_WARNING`](crate::CANCELLED_WARNING) among its warnings. Nothing of the job is
/// left running.
///
/// # Errors
/// As [`run_with_timeout`].
pub fn run_with_timeout_cancellable(
    command: &str,
    args: &[String],
    timeout: Duration,
    config: &TimeoutConfig,
    cancel: &CancelToken,
) -> Result<TimeoutOutcome> {
    run_inner(command, args, timeout, config, None, Some(cancel))
}

/// [`run_with_timeout`], with a [`TimeoutControl`] through which other threads can forward
/// signals to the job or end the wait early, and which reports [`TimeoutEvent`]s.
///
/// # Errors
/// As [`run_with_timeout`].
pub fn run_with_timeout_controlled(
    command: &str,
    args: &[String],
    timeout: Duration,
    config: &TimeoutConfig,
    control: &TimeoutControl,
) -> Result<TimeoutOutcome> {
    run_inner(command, args, timeout, config, Some(control), None)
}

fn run_inner(
    command: &str,
    args: &[String],
    timeout: Duration,
    config: &TimeoutConfig,
    control: Option<&TimeoutControl>,
    cancel: Option<&CancelToken>,
) -> Result<TimeoutOutcome> {
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(command.to_string());
    argv.extend(args.iter().cloned());
    let spawn = crate::spawn::SpawnInGroupConfig {
        argv,
        cwd: config.cwd.clone(),
        env: config.env.clone(),
        env_clear: config.env_clear,
        stdin: config.stdin.clone(),
        stdout: config.stdout.clone(),
        stderr: config.stderr.clone(),
        containment: config.containment,
        cgroup_parent: config.cgroup_parent.clone(),
        kill_on_parent_death: config.kill_on_parent_death,
        limits: config.limits,
    };
    crate::job::validate(&spawn)?;
    crate::sys::timeout::run(
        &spawn,
        timeout,
        config,
        control,
        cancel.map(CancelToken::sys),
    )
}
