//! The native half of the `sysprims` Node.js package (napi-rs v3).
//!
//! Every export here is wrapped by `index.js`, which turns the errors into `SysprimsError`
//! instances, maps `AbortSignal`s onto [`Canceller`]s and gives jobs `Symbol.asyncDispose`.
//! The TypeScript declarations of these exports (`native.d.ts`) are generated from this file
//! by `napi build`; `test.sh` regenerates them and fails on any difference.
//!
//! Numbers from JavaScript arrive as `f64` and are checked here before any conversion: a PID
//! must be an integer in `1..=i32::MAX` (no 0, no `2**32 - 1` wrapping to `-1`, no `1.5`, no
//! `NaN`), a duration a non-negative integer number of milliseconds.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use napi::bindgen_prelude::{AsyncTask, Either, Object, ToNapiValue, TypeName};
use napi::{Env, Status, Task};
use napi_derive::napi;
use serde::Serialize;
use serde::de::DeserializeOwned;

use sysprims::{CancelToken, ErrorCode, Pid, Signal, SignalOptions, SysprimsError};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Prefix of every error message the addon throws; `index.js` parses what follows
/// (`code`, `pid`, message, separated by U+001F) into a `SysprimsError`.
const ERROR_TAG: &str = "sysprims\u{1f}";

fn to_napi(e: SysprimsError) -> napi::Error {
    let pid = e.pid().map(|p| p.to_string()).unwrap_or_default();
    napi::Error::new(
        Status::GenericFailure,
        format!("{ERROR_TAG}{}\u{1f}{pid}\u{1f}{e}", e.code().name()),
    )
}

fn invalid(what: &'static str, value: impl ToString, reason: impl ToString) -> SysprimsError {
    SysprimsError::invalid(what, value.to_string(), reason.to_string())
}

// ---------------------------------------------------------------------------------------------
// Input checks: numbers as JavaScript sends them
// ---------------------------------------------------------------------------------------------

/// The text of a JavaScript number as JavaScript would print it (`1.5`, `4294967295`, `NaN`).
fn js_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// An integer from a JavaScript number, or an `InvalidArgument` naming it.
fn integer(what: &'static str, v: f64) -> sysprims::Result<i64> {
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(invalid(what, js_number(v), "must be an integer"));
    }
    if v.abs() > 9_007_199_254_740_991.0 {
        return Err(invalid(
            what,
            js_number(v),
            "is beyond the integers a JavaScript number holds exactly",
        ));
    }
    Ok(v as i64)
}

/// A PID: an integer in `1..=i32::MAX`, checked before any conversion.
fn pid_arg(v: f64) -> sysprims::Result<Pid> {
    Pid::from_i64(integer("PID", v)?)
}

/// A number of milliseconds: a non-negative integer.
fn ms_arg(what: &'static str, v: f64) -> sysprims::Result<u64> {
    let n = integer(what, v)?;
    u64::try_from(n).map_err(|_| invalid(what, js_number(v), "must not be negative"))
}

fn opt_ms(what: &'static str, v: Option<f64>) -> sysprims::Result<Option<u64>> {
    v.map(|v| ms_arg(what, v)).transpose()
}

fn u32_arg(what: &'static str, v: f64) -> sysprims::Result<u32> {
    let n = integer(what, v)?;
    u32::try_from(n).map_err(|_| invalid(what, js_number(v), "must be in 0..=4294967295"))
}

/// A signal argument: a portable name (`'TERM'`, `'SIGTERM'`), or a number, the platform's
/// own (`os.constants.signals.SIGUSR1`: 10 on Linux, 30 on macOS).
fn signal_arg(v: Option<Either<String, f64>>, default: Signal) -> sysprims::Result<Signal> {
    match v {
        None => Ok(default),
        Some(Either::A(name)) => Signal::parse(&name),
        Some(Either::B(n)) => {
            let n = integer("signal", n)?;
            let n = i32::try_from(n).map_err(|_| invalid("signal", n, "is not a signal number"))?;
            Signal::from_native(n)
        }
    }
}

/// The number JavaScript sees for sysprims's signal number `number`: the platform's own, as
/// `os.constants.signals` has it (unchanged for a number that is no signal, or one the
/// platform lacks).
fn native_signal(number: i32) -> i32 {
    Signal::new(number)
        .ok()
        .and_then(Signal::native_number)
        .unwrap_or(number)
}

/// An enum from its JSON name (`"process_group"`), or an `InvalidArgument` naming the text.
fn enum_arg<T: DeserializeOwned>(
    what: &'static str,
    text: &str,
    expected: &str,
) -> sysprims::Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| invalid(what, text, format!("expected {expected}")))
}

/// An enum's JSON name (`"best_effort"`).
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn ms_out(v: u64) -> f64 {
    v as f64
}

// ---------------------------------------------------------------------------------------------
// Blocking work as an AsyncTask
// ---------------------------------------------------------------------------------------------

type Work<T> = Box<dyn FnOnce() -> sysprims::Result<T> + Send>;

/// A blocking library call run on libuv's thread pool; `J` is what the Promise resolves to.
pub struct Blocking<T, J> {
    work: Option<Work<T>>,
    out: PhantomData<fn() -> J>,
}

fn blocking<T, J>(
    work: impl FnOnce() -> sysprims::Result<T> + Send + 'static,
) -> AsyncTask<Blocking<T, J>>
where
    T: Send + 'static,
    J: From<T> + ToNapiValue + TypeName,
{
    AsyncTask::new(Blocking {
        work: Some(Box::new(work)),
        out: PhantomData,
    })
}

impl<T, J> Task for Blocking<T, J>
where
    T: Send + 'static,
    J: From<T> + ToNapiValue + TypeName,
{
    type Output = T;
    type JsValue = J;

    fn compute(&mut self) -> napi::Result<T> {
        match self.work.take() {
            Some(work) => work().map_err(to_napi),
            None => Err(to_napi(SysprimsError::Internal {
                message: "task run twice".into(),
            })),
        }
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<J> {
        Ok(J::from(output))
    }
}

/// How [`on_thread`] resolves its Promise.
type Resolver<J> = Box<dyn FnOnce(Env) -> napi::Result<J> + Send>;

/// A call that can block without bound (a wait for a process, a grace period) on a thread of
/// its own, not on libuv's pool: the pool has 4 threads by default, and four pending waits
/// there would hold back every later call, the `terminate` that would end them included.
fn on_thread<'env, T, J>(
    env: &'env Env,
    work: impl FnOnce() -> sysprims::Result<T> + Send + 'static,
) -> napi::Result<Object<'env>>
where
    T: Send + 'static,
    J: From<T> + ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred::<J, Resolver<J>>()?;
    std::thread::Builder::new()
        .name("sysprims-wait".into())
        .spawn(move || match work() {
            Ok(v) => deferred.resolve(Box::new(move |_env| Ok(J::from(v)))),
            Err(e) => deferred.reject(to_napi(e)),
        })
        .map_err(|e| napi::Error::from_reason(format!("cannot start a thread: {e}")))?;
    Ok(promise)
}

/// Cancels a cancellable call (`waitPid`, `terminateTree`, `runWithTimeout`, `Job.terminate`):
/// `index.js` makes one for each `AbortSignal` and calls [`Canceller::cancel`] on `abort`.
#[napi]
pub struct Canceller {
    token: Arc<CancelToken>,
}

#[napi]
impl Canceller {
    /// A new, uncancelled token (an eventfd).
    #[napi(constructor)]
    pub fn new() -> napi::Result<Self> {
        Ok(Canceller {
            token: Arc::new(CancelToken::new().map_err(to_napi)?),
        })
    }

    /// Cancel: what the call does then is the library's rule for each call.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`Canceller::cancel`] has been called.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

fn token_of(cancel: Option<&Canceller>) -> Option<Arc<CancelToken>> {
    cancel.map(|c| Arc::clone(&c.token))
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// One process, as `processGet` and `processList` return it.
#[napi(object)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    /// The kernel's name for it (`comm`, at most 15 bytes).
    pub name: String,
    /// Effective UID.
    pub uid: u32,
    /// The user name of `uid`, when it has one.
    pub user: Option<String>,
    #[napi(
        ts_type = "'running' | 'sleeping' | 'disk_sleep' | 'stopped' | 'tracing_stop' | 'zombie' | 'dead' | 'idle' | 'parked' | 'unknown'"
    )]
    pub state: String,
    pub kernel_thread: bool,
    /// Lifetime average CPU use, or the sampled rate when `cpuSampleMs` was given.
    pub cpu_percent: f64,
    /// Resident memory, KiB.
    pub memory_kb: f64,
    pub thread_count: u32,
    pub elapsed_ms: f64,
    /// Start time, Unix milliseconds at clock-tick resolution: equal on every read, so it can
    /// be compared with `!==` to detect PID reuse.
    pub start_time_unix_ms: Option<f64>,
    pub exe_path: Option<String>,
    pub exe_deleted: bool,
    pub cmdline: Vec<String>,
    /// Only with `includeEnv`.
    pub env: Option<HashMap<String, String>>,
}

impl From<sysprims::ProcessInfo> for ProcessInfo {
    fn from(p: sysprims::ProcessInfo) -> Self {
        ProcessInfo {
            pid: p.pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            name: p.name,
            uid: p.uid,
            user: p.user,
            state: p.state.name().to_string(),
            kernel_thread: p.kernel_thread,
            cpu_percent: p.cpu_percent,
            memory_kb: ms_out(p.memory_kb),
            thread_count: p.thread_count,
            elapsed_ms: ms_out(p.elapsed_ms),
            start_time_unix_ms: p.start_time_unix_ms.map(ms_out),
            exe_path: p.exe_path,
            exe_deleted: p.exe_deleted,
            cmdline: p.cmdline,
            env: p.env.map(|e| e.into_iter().collect()),
        }
    }
}

/// Options of `processGet`.
#[napi(object)]
pub struct ProcessGetOptions {
    /// Read the environment too (`/proc/<pid>/environ`).
    pub include_env: Option<bool>,
}

/// Who PID `pid` is now. `NotFound` when no process has it.
#[napi]
pub fn process_get(pid: f64, options: Option<ProcessGetOptions>) -> napi::Result<ProcessInfo> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let opts = sysprims::ProcessOptions {
        include_env: options.and_then(|o| o.include_env).unwrap_or(false),
    };
    sysprims::get_process_with(pid, opts)
        .map(ProcessInfo::from)
        .map_err(to_napi)
}

/// Which processes `processList` returns.
#[napi(object)]
pub struct ProcessFilter {
    pub name_contains: Option<String>,
    pub name_equals: Option<String>,
    /// A user name or a numeric UID.
    pub user: Option<String>,
    pub ppid: Option<f64>,
    pub pids: Option<Vec<f64>>,
    #[napi(
        ts_type = "'running' | 'sleeping' | 'disk_sleep' | 'stopped' | 'tracing_stop' | 'zombie' | 'dead' | 'idle' | 'parked' | 'unknown'"
    )]
    pub state: Option<String>,
    pub cpu_above: Option<f64>,
    pub memory_above_kb: Option<f64>,
    pub running_for_ms: Option<f64>,
}

impl ProcessFilter {
    fn to_lib(&self) -> sysprims::Result<sysprims::ProcessFilter> {
        let mut f = sysprims::ProcessFilter {
            name_contains: self.name_contains.clone(),
            name_equals: self.name_equals.clone(),
            user: self.user.clone(),
            ppid: self.ppid.map(pid_arg).transpose()?,
            pids: self
                .pids
                .as_ref()
                .map(|pids| {
                    pids.iter()
                        .map(|&p| pid_arg(p))
                        .collect::<sysprims::Result<_>>()
                })
                .transpose()?,
            cpu_above: self.cpu_above,
            memory_above_kb: opt_ms("memoryAboveKb", self.memory_above_kb)?,
            running_for_ms: opt_ms("runningForMs", self.running_for_ms)?,
            ..Default::default()
        };
        if let Some(state) = &self.state {
            f.state = Some(enum_arg(
                "process state",
                state,
                "running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked or unknown",
            )?);
        }
        f.validate()?;
        Ok(f)
    }
}

fn filter_of(filter: &Option<ProcessFilter>) -> sysprims::Result<sysprims::ProcessFilter> {
    filter
        .as_ref()
        .map(ProcessFilter::to_lib)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Options of `processList`.
#[napi(object)]
pub struct ProcessListOptions {
    pub filter: Option<ProcessFilter>,
    #[napi(ts_type = "'pid' | 'name' | 'cpu' | 'memory' | 'start_time'")]
    pub sort: Option<String>,
    /// Reverse the sort key's default direction.
    pub reverse: Option<bool>,
    /// Keep the first N after sorting.
    pub limit: Option<f64>,
    /// Measure CPU over this many milliseconds (the Promise resolves after it).
    pub cpu_sample_ms: Option<f64>,
    pub include_env: Option<bool>,
}

/// A listing: `processList`'s answer.
#[napi(object)]
pub struct ProcessSnapshot {
    pub timestamp_unix_ms: f64,
    pub cpu_sample_ms: Option<f64>,
    pub processes: Vec<ProcessInfo>,
}

impl From<sysprims::ProcessSnapshot> for ProcessSnapshot {
    fn from(s: sysprims::ProcessSnapshot) -> Self {
        ProcessSnapshot {
            timestamp_unix_ms: ms_out(s.timestamp_unix_ms),
            cpu_sample_ms: s.cpu_sample_ms.map(ms_out),
            processes: s.processes.into_iter().map(ProcessInfo::from).collect(),
        }
    }
}

/// Every process that matches, read off the event loop.
#[napi(ts_return_type = "Promise<ProcessSnapshot>")]
pub fn process_list(
    options: Option<ProcessListOptions>,
) -> napi::Result<AsyncTask<Blocking<sysprims::ProcessSnapshot, ProcessSnapshot>>> {
    let mut lib = sysprims::SnapshotOptions::default();
    if let Some(o) = options {
        lib.filter = filter_of(&o.filter).map_err(to_napi)?;
        if let Some(sort) = &o.sort {
            lib.sort = sort.parse().map_err(to_napi)?;
        }
        lib.reverse = o.reverse.unwrap_or(false);
        lib.limit = o
            .limit
            .map(|l| u32_arg("limit", l).map(|l| l as usize))
            .transpose()
            .map_err(to_napi)?;
        lib.cpu_sample_ms = opt_ms("cpuSampleMs", o.cpu_sample_ms).map_err(to_napi)?;
        lib.process.include_env = o.include_env.unwrap_or(false);
    }
    Ok(blocking(move || sysprims::snapshot(&lib)))
}

/// A node of `descendants`' tree: the process and its depth below the root (root: 0).
#[napi(object)]
pub struct TreeNode {
    pub depth: u32,
    pub process: ProcessInfo,
}

/// `descendants`' answer: the root first, then its descendants, parents before children.
#[napi(object)]
pub struct ProcessTree {
    pub root_pid: u32,
    pub max_levels: Option<u32>,
    pub nodes: Vec<TreeNode>,
}

impl From<sysprims::ProcessTree> for ProcessTree {
    fn from(t: sysprims::ProcessTree) -> Self {
        ProcessTree {
            root_pid: t.root_pid,
            max_levels: t.max_levels,
            nodes: t
                .nodes
                .into_iter()
                .map(|n| TreeNode {
                    depth: n.depth,
                    process: n.process.into(),
                })
                .collect(),
        }
    }
}

/// What runs below `pid`, up to `maxLevels` levels (all when omitted).
#[napi(ts_return_type = "Promise<ProcessTree>")]
pub fn descendants(
    pid: f64,
    max_levels: Option<f64>,
) -> napi::Result<AsyncTask<Blocking<sysprims::ProcessTree, ProcessTree>>> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let levels = max_levels
        .map(|l| u32_arg("maxLevels", l))
        .transpose()
        .map_err(to_napi)?;
    Ok(blocking(move || sysprims::descendants(pid, levels)))
}

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

/// Who a PID was: store it, and ask `verifyIdentity` or `signalIf` later.
#[napi(object)]
pub struct ProcessIdentity {
    pub pid: f64,
    pub start_time_unix_ms: Option<f64>,
    pub start_time_boot_ticks: Option<f64>,
    pub boot_id: Option<String>,
    pub exe_path: Option<String>,
    /// The pidfs inode (Linux 6.9+): never reused within a boot.
    pub pidfs_inode: Option<f64>,
}

impl From<sysprims::ProcessIdentity> for ProcessIdentity {
    fn from(i: sysprims::ProcessIdentity) -> Self {
        ProcessIdentity {
            pid: f64::from(i.pid),
            start_time_unix_ms: i.start_time_unix_ms.map(ms_out),
            start_time_boot_ticks: i.start_time_boot_ticks.map(ms_out),
            boot_id: i.boot_id,
            exe_path: i.exe_path,
            pidfs_inode: i.pidfs_inode.map(ms_out),
        }
    }
}

impl ProcessIdentity {
    fn to_lib(&self) -> sysprims::Result<sysprims::ProcessIdentity> {
        let pid = pid_arg(self.pid)?.get();
        let mut id = sysprims::ProcessIdentity::from_parts(
            pid,
            opt_ms("startTimeUnixMs", self.start_time_unix_ms)?,
            self.exe_path.clone(),
        );
        id.start_time_boot_ticks = opt_ms("startTimeBootTicks", self.start_time_boot_ticks)?;
        id.boot_id = self.boot_id.clone();
        id.pidfs_inode = opt_ms("pidfsInode", self.pidfs_inode)?;
        Ok(id)
    }
}

/// The identity of PID `pid` now (the strongest evidence the kernel has).
#[napi]
pub fn process_identity(pid: f64) -> napi::Result<ProcessIdentity> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    sysprims::ProcessIdentity::of(pid)
        .map(ProcessIdentity::from)
        .map_err(to_napi)
}

/// Why a PID is judged reused.
#[napi(object)]
pub struct ReuseReason {
    #[napi(
        ts_type = "'boot_changed' | 'pidfs_inode_mismatch' | 'start_time_mismatch' | 'exe_path_changed'"
    )]
    pub kind: String,
    /// The evidence, in words.
    pub message: String,
}

impl From<sysprims::ReuseReason> for ReuseReason {
    fn from(r: sysprims::ReuseReason) -> Self {
        let kind = serde_json::to_value(&r)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        ReuseReason {
            kind,
            message: r.to_string(),
        }
    }
}

/// `verifyIdentity`'s answer.
#[napi(object)]
pub struct IdentityCheck {
    #[napi(ts_type = "'same' | 'reused' | 'gone'")]
    pub status: String,
    /// Set when `status` is `'reused'`.
    pub reason: Option<ReuseReason>,
}

impl From<sysprims::IdentityCheck> for IdentityCheck {
    fn from(c: sysprims::IdentityCheck) -> Self {
        match c {
            sysprims::IdentityCheck::Same => IdentityCheck {
                status: "same".into(),
                reason: None,
            },
            sysprims::IdentityCheck::Reused { reason } => IdentityCheck {
                status: "reused".into(),
                reason: Some(reason.into()),
            },
            sysprims::IdentityCheck::Gone => IdentityCheck {
                status: "gone".into(),
                reason: None,
            },
        }
    }
}

/// Whether `identity.pid` still names the process `identity` was taken from.
#[napi]
pub fn verify_identity(identity: ProcessIdentity) -> napi::Result<IdentityCheck> {
    let id = identity.to_lib().map_err(to_napi)?;
    sysprims::verify_identity(&id)
        .map(IdentityCheck::from)
        .map_err(to_napi)
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

/// Options of `kill` and `signalIf`.
#[napi(object)]
pub struct KillOptions {
    /// Allow a destructive signal to PID 1, the caller or the caller's process group.
    pub allow_protected: Option<bool>,
}

fn signal_options(o: &Option<KillOptions>) -> SignalOptions {
    if o.as_ref().and_then(|o| o.allow_protected).unwrap_or(false) {
        SignalOptions::allowing_protected()
    } else {
        SignalOptions::default()
    }
}

/// Send `signal` (a name such as `'TERM'`/`'SIGTERM'`, or a number; default TERM) to PID
/// `pid`.
#[napi]
pub fn kill(
    pid: f64,
    #[napi(ts_arg_type = "string | number")] signal: Option<Either<String, f64>>,
    options: Option<KillOptions>,
) -> napi::Result<()> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let signal = signal_arg(signal, Signal::TERM).map_err(to_napi)?;
    sysprims::kill_with(pid, signal, signal_options(&options)).map_err(to_napi)
}

/// `signalIf`'s answer.
#[napi(object)]
pub struct GuardedSignal {
    #[napi(ts_type = "'signalled' | 'reused' | 'gone'")]
    pub status: String,
    /// Set when `status` is `'reused'`: nothing was sent.
    pub reason: Option<ReuseReason>,
    pub warnings: Vec<String>,
}

/// Send `signal` to `identity.pid` only if it is still that process (checked and sent
/// through one pidfd, so a PID reused at any moment cannot get it).
#[napi]
pub fn signal_if(
    identity: ProcessIdentity,
    #[napi(ts_arg_type = "string | number")] signal: Option<Either<String, f64>>,
    options: Option<KillOptions>,
) -> napi::Result<GuardedSignal> {
    let id = identity.to_lib().map_err(to_napi)?;
    let signal = signal_arg(signal, Signal::TERM).map_err(to_napi)?;
    let out = sysprims::signal_if_with(&id, signal, signal_options(&options)).map_err(to_napi)?;
    Ok(match out {
        sysprims::GuardedSignal::Signalled { warnings } => GuardedSignal {
            status: "signalled".into(),
            reason: None,
            warnings,
        },
        sysprims::GuardedSignal::Reused { reason } => GuardedSignal {
            status: "reused".into(),
            reason: Some(reason.into()),
            warnings: vec![],
        },
        sysprims::GuardedSignal::Gone => GuardedSignal {
            status: "gone".into(),
            reason: None,
            warnings: vec![],
        },
    })
}

/// An error as a kill report carries it.
#[napi(object)]
pub struct ErrorReport {
    /// The library's name: `'NotFound'`, `'PermissionDenied'`, ...
    pub code: String,
    pub message: String,
}

/// One target of a kill report.
#[napi(object)]
pub struct TargetResult {
    pub pid: u32,
    #[napi(ts_type = "'signalled' | 'would_signal' | 'refused' | 'reused' | 'gone' | 'failed'")]
    pub outcome: String,
    pub name: Option<String>,
    pub error: Option<ErrorReport>,
    pub reuse_reason: Option<ReuseReason>,
    pub warnings: Vec<String>,
}

/// What a batch signal did, target by target.
#[napi(object)]
pub struct KillReport {
    pub signal: i32,
    pub signal_name: String,
    /// Nothing was sent: a preview (`dryRun`).
    pub preview: bool,
    pub targets: Vec<TargetResult>,
}

fn code_name(code: ErrorCode) -> String {
    code.name().to_string()
}

impl From<sysprims::KillReport> for KillReport {
    fn from(r: sysprims::KillReport) -> Self {
        KillReport {
            signal: native_signal(r.signal),
            signal_name: r.signal_name,
            preview: r.preview,
            targets: r
                .targets
                .into_iter()
                .map(|t| TargetResult {
                    pid: t.pid,
                    outcome: name_of(&t.outcome),
                    name: t.name,
                    error: t.error.map(|e| ErrorReport {
                        code: code_name(e.code),
                        message: e.message,
                    }),
                    reuse_reason: t.reuse_reason.map(ReuseReason::from),
                    warnings: t.warnings,
                })
                .collect(),
        }
    }
}

/// Options of `killDescendants`.
#[napi(object)]
pub struct KillDescendantsOptions {
    /// Only descendants that match.
    pub filter: Option<ProcessFilter>,
    /// Measure CPU over this many milliseconds for `filter.cpuAbove`.
    pub cpu_sample_ms: Option<f64>,
    /// Report what would be signalled; send nothing.
    pub dry_run: Option<bool>,
    /// Allow the caller itself among the targets.
    pub allow_protected: Option<bool>,
}

/// Signal the descendants of `pid` that match (never `pid` itself), each only if it is
/// still the process the listing saw.
#[napi(ts_return_type = "Promise<KillReport>")]
pub fn kill_descendants(
    pid: f64,
    #[napi(ts_arg_type = "string | number")] signal: Option<Either<String, f64>>,
    options: Option<KillDescendantsOptions>,
) -> napi::Result<AsyncTask<Blocking<sysprims::KillReport, KillReport>>> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let signal = signal_arg(signal, Signal::TERM).map_err(to_napi)?;
    let mut lib = sysprims::KillDescendantsOptions::default();
    if let Some(o) = options {
        lib.filter = filter_of(&o.filter).map_err(to_napi)?;
        lib.cpu_sample_ms = opt_ms("cpuSampleMs", o.cpu_sample_ms).map_err(to_napi)?;
        lib.dry_run = o.dry_run.unwrap_or(false);
        lib.allow_protected = o.allow_protected.unwrap_or(false);
    }
    Ok(blocking(move || {
        sysprims::kill_descendants(pid, signal, &lib)
    }))
}

// ---------------------------------------------------------------------------------------------
// Waiting and ending trees
// ---------------------------------------------------------------------------------------------

/// `waitPid`'s answer. A timeout is a result (`timedOut`), not an error.
#[napi(object)]
pub struct WaitPidResult {
    pub pid: u32,
    pub exited: bool,
    pub timed_out: bool,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub warnings: Vec<String>,
}

impl From<sysprims::WaitPidResult> for WaitPidResult {
    fn from(w: sysprims::WaitPidResult) -> Self {
        WaitPidResult {
            pid: w.pid,
            exited: w.exited,
            timed_out: w.timed_out,
            exit_code: w.exit_code,
            signal: w.signal.map(native_signal),
            warnings: w.warnings,
        }
    }
}

/// Wait for any process to end (through a pidfd, no polling), up to `timeoutMs` (no limit
/// when omitted). The caller's own child is reaped.
#[napi(ts_return_type = "Promise<WaitPidResult>")]
pub fn wait_pid<'env>(
    env: &'env Env,
    pid: f64,
    timeout_ms: Option<f64>,
    cancel: Option<&Canceller>,
) -> napi::Result<Object<'env>> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let timeout = opt_ms("timeoutMs", timeout_ms)
        .map_err(to_napi)?
        .map(Duration::from_millis);
    let token = token_of(cancel);
    on_thread::<_, WaitPidResult>(env, move || match token {
        Some(t) => sysprims::wait_pid_cancellable(pid, timeout, &t),
        None => sysprims::wait_pid(pid, timeout),
    })
}

/// How `terminateTree` (and `Job.terminate`) ends a tree.
#[napi(object)]
pub struct TerminateTreeOptions {
    /// First signal (default TERM).
    #[napi(ts_type = "string | number")]
    pub signal: Option<Either<String, f64>>,
    /// How long to wait after it (default 5000 ms).
    pub grace_timeout_ms: Option<f64>,
    /// Signal for survivors (default KILL).
    #[napi(ts_type = "string | number")]
    pub kill_signal: Option<Either<String, f64>>,
    /// How long to wait after it (default 2000 ms).
    pub kill_timeout_ms: Option<f64>,
    /// Only if the root still has this start time (else `NotFound`, nothing sent).
    pub require_start_time_ms: Option<f64>,
    /// Only if the root still runs this executable.
    pub require_exe_path: Option<String>,
    /// Allow PID 1 or the caller as the root.
    pub allow_protected: Option<bool>,
}

fn terminate_config(
    o: Option<TerminateTreeOptions>,
) -> sysprims::Result<sysprims::TerminateTreeConfig> {
    let mut c = sysprims::TerminateTreeConfig::default();
    if let Some(o) = o {
        c.signal = signal_arg(o.signal, c.signal)?;
        c.kill_signal = signal_arg(o.kill_signal, c.kill_signal)?;
        if let Some(ms) = opt_ms("graceTimeoutMs", o.grace_timeout_ms)? {
            c.grace_timeout_ms = ms;
        }
        if let Some(ms) = opt_ms("killTimeoutMs", o.kill_timeout_ms)? {
            c.kill_timeout_ms = ms;
        }
        c.require_start_time_ms = opt_ms("requireStartTimeMs", o.require_start_time_ms)?;
        c.require_exe_path = o.require_exe_path;
        c.allow_protected = o.allow_protected.unwrap_or(false);
    }
    Ok(c)
}

/// What ending a tree did.
#[napi(object)]
pub struct TerminateTreeResult {
    pub pid: u32,
    /// The first signal's name (`'TERM'`).
    pub signal_sent: String,
    pub kill_signal: String,
    /// Something outlived the grace period, so `killSignal` was sent.
    pub escalated: bool,
    /// Every process of the tree is gone.
    pub exited: bool,
    pub timed_out: bool,
    pub survivors: Vec<u32>,
    /// How many processes were signalled.
    pub signalled: u32,
    #[napi(ts_type = "'guaranteed' | 'best_effort'")]
    pub tree_kill_reliability: String,
    pub warnings: Vec<String>,
    pub elapsed_ms: f64,
}

impl From<sysprims::TerminateTreeResult> for TerminateTreeResult {
    fn from(r: sysprims::TerminateTreeResult) -> Self {
        TerminateTreeResult {
            pid: r.pid,
            signal_sent: r.signal_sent.name().into_owned(),
            kill_signal: r.kill_signal.name().into_owned(),
            escalated: r.escalated,
            exited: r.exited,
            timed_out: r.timed_out,
            survivors: r.survivors,
            signalled: r.signalled,
            tree_kill_reliability: r.tree_kill_reliability.as_str().to_string(),
            warnings: r.warnings,
            elapsed_ms: ms_out(r.elapsed_ms),
        }
    }
}

/// End `pid` and everything it started: `signal`, the grace period, then `killSignal` if
/// anything survived. An abort during the grace period escalates at once.
#[napi(ts_return_type = "Promise<TerminateTreeResult>")]
pub fn terminate_tree<'env>(
    env: &'env Env,
    pid: f64,
    options: Option<TerminateTreeOptions>,
    cancel: Option<&Canceller>,
) -> napi::Result<Object<'env>> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let config = terminate_config(options).map_err(to_napi)?;
    let token = token_of(cancel);
    on_thread::<_, TerminateTreeResult>(env, move || match token {
        Some(t) => sysprims::terminate_tree_cancellable(pid, &config, &t),
        None => sysprims::terminate_tree(pid, &config),
    })
}

// ---------------------------------------------------------------------------------------------
// Spawning jobs
// ---------------------------------------------------------------------------------------------

/// A file for a job's stdin, stdout or stderr.
#[napi(object)]
pub struct StdioFile {
    pub path: String,
    /// Append instead of truncating.
    pub append: Option<bool>,
}

fn stdio_of(
    v: Option<Either<String, StdioFile>>,
    default: sysprims::StdioConfig,
) -> sysprims::Result<sysprims::StdioConfig> {
    Ok(match v {
        None => default,
        Some(Either::A(s)) => match s.as_str() {
            "inherit" => sysprims::StdioConfig::Inherit,
            "null" => sysprims::StdioConfig::Null,
            _ => {
                return Err(invalid(
                    "stdio",
                    s,
                    "expected 'inherit', 'null' or { path }",
                ));
            }
        },
        Some(Either::B(f)) => sysprims::StdioConfig::File {
            path: PathBuf::from(f.path),
            append: f.append.unwrap_or(false),
        },
    })
}

fn env_of(env: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    env.map(|e| e.into_iter().collect()).unwrap_or_default()
}

fn containment_of(c: &Option<String>) -> sysprims::Result<sysprims::Containment> {
    match c {
        None => Ok(sysprims::Containment::Auto),
        Some(c) => enum_arg("containment", c, "auto, cgroup or process_group"),
    }
}

/// What `spawnInGroup` starts, and how.
#[napi(object)]
pub struct SpawnOptions {
    /// The program and its arguments (the program is searched in `PATH`).
    pub argv: Vec<String>,
    pub cwd: Option<String>,
    /// Variables to set (added to the inherited environment unless `envClear`).
    pub env: Option<HashMap<String, String>>,
    pub env_clear: Option<bool>,
    /// Default `'null'`: a job outlives calls, so it does not hold the caller's streams.
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stdin: Option<Either<String, StdioFile>>,
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stdout: Option<Either<String, StdioFile>>,
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stderr: Option<Either<String, StdioFile>>,
    /// `'auto'` (default): a cgroup of its own where one can be made, else a process group.
    #[napi(ts_type = "'auto' | 'cgroup' | 'process_group'")]
    pub containment: Option<String>,
    pub cgroup_parent: Option<String>,
    /// `PR_SET_PDEATHSIG`: the job's first process gets KILL when the spawning thread ends.
    pub kill_on_parent_death: Option<bool>,
}

impl SpawnOptions {
    fn into_lib(self) -> sysprims::Result<sysprims::SpawnInGroupConfig> {
        Ok(sysprims::SpawnInGroupConfig {
            argv: self.argv,
            cwd: self.cwd.map(PathBuf::from),
            env: env_of(self.env),
            env_clear: self.env_clear.unwrap_or(false),
            stdin: stdio_of(self.stdin, sysprims::StdioConfig::Null)?,
            stdout: stdio_of(self.stdout, sysprims::StdioConfig::Null)?,
            stderr: stdio_of(self.stderr, sysprims::StdioConfig::Null)?,
            containment: containment_of(&self.containment)?,
            cgroup_parent: self.cgroup_parent.map(PathBuf::from),
            kill_on_parent_death: self.kill_on_parent_death.unwrap_or(false),
            limits: sysprims::JobLimits::default(),
        })
    }
}

/// What `spawnInGroup` started.
#[napi(object)]
pub struct SpawnResult {
    pub pid: u32,
    pub pgid: Option<u32>,
    pub identity: ProcessIdentity,
    #[napi(ts_type = "'guaranteed' | 'best_effort'")]
    pub tree_kill_reliability: String,
    #[napi(ts_type = "'cgroup_v2' | 'process_group'")]
    pub containment: String,
    pub cgroup: Option<String>,
    pub warnings: Vec<String>,
}

impl From<sysprims::SpawnInGroupResult> for SpawnResult {
    fn from(r: sysprims::SpawnInGroupResult) -> Self {
        SpawnResult {
            pid: r.pid,
            pgid: r.pgid,
            identity: r.identity.into(),
            tree_kill_reliability: r.tree_kill_reliability.as_str().to_string(),
            containment: name_of(&r.containment),
            cgroup: r.cgroup.map(|c| c.display().to_string()),
            warnings: r.warnings,
        }
    }
}

/// The state a [`NativeJob`] shares with its tasks.
struct JobShared {
    job: Mutex<sysprims::Job>,
    result: sysprims::SpawnInGroupResult,
    /// How the first process ended, once a wait has reaped it.
    exit: Mutex<Option<sysprims::WaitPidResult>>,
    /// The first process has been reaped (by a wait or a terminate): its PID is free.
    reaped: Mutex<bool>,
}

impl JobShared {
    fn wait(&self, timeout: Option<Duration>) -> sysprims::Result<sysprims::WaitPidResult> {
        if let Some(exit) = self.exit.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(exit);
        }
        let mut job = self.job.lock().unwrap_or_else(|e| e.into_inner());
        // A wait that held the lock before us may have seen the exit.
        if let Some(exit) = self.exit.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(exit);
        }
        let out = job.wait(timeout)?;
        if out.exited {
            *self.reaped.lock().unwrap_or_else(|e| e.into_inner()) = true;
            *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(out.clone());
        }
        Ok(out)
    }

    fn terminate(
        &self,
        config: &sysprims::TerminateTreeConfig,
        cancel: Option<&CancelToken>,
    ) -> sysprims::Result<sysprims::TerminateTreeResult> {
        let pid = Pid::new(self.result.pid)?;
        let mut guarded = config.clone();
        if guarded.require_start_time_ms.is_none() {
            guarded.require_start_time_ms = self.result.identity.start_time_unix_ms;
        }
        let by_pid = |cancel: Option<&CancelToken>| match cancel {
            Some(t) => sysprims::terminate_tree_cancellable(pid, &guarded, t),
            None => sysprims::terminate_tree(pid, &guarded),
        };
        match self.job.try_lock() {
            Ok(mut job) => {
                let reaped = *self.reaped.lock().unwrap_or_else(|e| e.into_inner());
                if cancel.is_some() && !reaped {
                    // Unreaped (and no wait can reap it while we hold the job), the PID is
                    // still our child's: the cancellable call by PID reaches the same tree.
                    let out = by_pid(cancel)?;
                    if out.exited {
                        let done = job.try_wait()?;
                        if done.exited {
                            *self.reaped.lock().unwrap_or_else(|e| e.into_inner()) = true;
                            *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(done);
                        }
                    }
                    return Ok(out);
                }
                let out = job.terminate(config)?;
                if out.exited {
                    *self.reaped.lock().unwrap_or_else(|e| e.into_inner()) = true;
                }
                Ok(out)
            }
            Err(TryLockError::WouldBlock) => {
                // A wait holds the job: the first process is unreaped until that wait sees it
                // exit, so the PID (pinned by its start time) still names it. The wait reaps
                // it and reports the exit.
                match by_pid(cancel) {
                    Err(e) if e.code() == ErrorCode::NotFound => {
                        // The wait reaped it meanwhile: end the rest through the job.
                        let mut job = self.job.lock().unwrap_or_else(|e| e.into_inner());
                        job.terminate(config)
                    }
                    other => other,
                }
            }
            Err(TryLockError::Poisoned(p)) => p.into_inner().terminate(config),
        }
    }
}

/// A job started by `spawnInGroup`. `index.js` wraps it in `Job`, which adds
/// `Symbol.asyncDispose`.
#[napi]
pub struct NativeJob {
    shared: Arc<JobShared>,
}

/// Start a job in a process group, and a cgroup of its own where one can be made.
#[napi]
pub fn spawn_in_group(options: SpawnOptions) -> napi::Result<NativeJob> {
    let config = options.into_lib().map_err(to_napi)?;
    let job = sysprims::Job::spawn(&config).map_err(to_napi)?;
    let result = job.result().clone();
    Ok(NativeJob {
        shared: Arc::new(JobShared {
            job: Mutex::new(job),
            result,
            exit: Mutex::new(None),
            reaped: Mutex::new(false),
        }),
    })
}

/// What disposing of a job did.
#[napi(object)]
pub struct DisposeResult {
    /// False when there was nothing left to end (a job without a cgroup whose first
    /// process had been reaped).
    pub ended: bool,
    pub result: Option<TerminateTreeResult>,
}

impl From<Option<sysprims::TerminateTreeResult>> for DisposeResult {
    fn from(r: Option<sysprims::TerminateTreeResult>) -> Self {
        DisposeResult {
            ended: r.is_some(),
            result: r.map(TerminateTreeResult::from),
        }
    }
}

#[napi]
impl NativeJob {
    /// What was started: PID, group, identity, reliability, containment, cgroup, warnings.
    #[napi(getter)]
    pub fn result(&self) -> SpawnResult {
        self.shared.result.clone().into()
    }

    /// Wait for the first process to exit (no limit when `timeoutMs` is omitted) and reap it;
    /// later waits return the same exit.
    #[napi(ts_return_type = "Promise<WaitPidResult>")]
    pub fn wait<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<f64>,
    ) -> napi::Result<Object<'env>> {
        let timeout = opt_ms("timeoutMs", timeout_ms)
            .map_err(to_napi)?
            .map(Duration::from_millis);
        let shared = Arc::clone(&self.shared);
        on_thread::<_, WaitPidResult>(env, move || shared.wait(timeout))
    }

    /// End the whole job (every process it started, in a cgroup even after the first has
    /// exited), then reap the first process.
    #[napi(ts_return_type = "Promise<TerminateTreeResult>")]
    pub fn terminate<'env>(
        &self,
        env: &'env Env,
        options: Option<TerminateTreeOptions>,
        cancel: Option<&Canceller>,
    ) -> napi::Result<Object<'env>> {
        let config = terminate_config(options).map_err(to_napi)?;
        let token = token_of(cancel);
        let shared = Arc::clone(&self.shared);
        on_thread::<_, TerminateTreeResult>(env, move || {
            shared.terminate(&config, token.as_deref())
        })
    }

    /// End the job as `terminate` does with the defaults (TERM, 5 s, KILL); nothing left to
    /// end (a job without a cgroup whose first process was reaped) resolves with `ended: false`.
    #[napi(ts_return_type = "Promise<DisposeResult>")]
    pub fn dispose<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let shared = Arc::clone(&self.shared);
        on_thread::<_, DisposeResult>(env, move || {
            match shared.terminate(&sysprims::TerminateTreeConfig::default(), None) {
                Ok(r) => Ok(Some(r)),
                Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

/// How `runWithTimeout` runs a command.
#[napi(object)]
pub struct TimeoutOptions {
    /// Sent to the whole job at the deadline (default TERM).
    #[napi(ts_type = "string | number")]
    pub signal: Option<Either<String, f64>>,
    /// KILL the job this long after the signal if it is still running.
    pub kill_after_ms: Option<f64>,
    #[napi(ts_type = "'auto' | 'cgroup' | 'process_group'")]
    pub containment: Option<String>,
    pub cgroup_parent: Option<String>,
    /// `exitStatus` is the command's own status even on a timeout.
    pub preserve_status: Option<bool>,
    /// Keep the command in the caller's process group.
    pub foreground: Option<bool>,
    /// End what the command left running when it exits before the deadline.
    pub cleanup: Option<bool>,
    pub cwd: Option<String>,
    pub env: Option<HashMap<String, String>>,
    pub env_clear: Option<bool>,
    /// Default `'inherit'`, as `timeout(1)`.
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stdin: Option<Either<String, StdioFile>>,
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stdout: Option<Either<String, StdioFile>>,
    #[napi(ts_type = "'inherit' | 'null' | StdioFile")]
    pub stderr: Option<Either<String, StdioFile>>,
    pub kill_on_parent_death: Option<bool>,
}

fn timeout_config(o: Option<TimeoutOptions>) -> sysprims::Result<sysprims::TimeoutConfig> {
    let mut c = sysprims::TimeoutConfig::default();
    if let Some(o) = o {
        c.signal = signal_arg(o.signal, c.signal)?;
        c.kill_after_ms = opt_ms("killAfterMs", o.kill_after_ms)?;
        if o.containment.is_some() {
            c.containment = containment_of(&o.containment)?;
        }
        c.cgroup_parent = o.cgroup_parent.map(PathBuf::from);
        c.preserve_status = o.preserve_status.unwrap_or(false);
        c.foreground = o.foreground.unwrap_or(false);
        c.cleanup = o.cleanup.unwrap_or(false);
        c.cwd = o.cwd.map(PathBuf::from);
        c.env = env_of(o.env);
        c.env_clear = o.env_clear.unwrap_or(false);
        c.stdin = stdio_of(o.stdin, c.stdin.clone())?;
        c.stdout = stdio_of(o.stdout, c.stdout.clone())?;
        c.stderr = stdio_of(o.stderr, c.stderr.clone())?;
        if let Some(k) = o.kill_on_parent_death {
            c.kill_on_parent_death = k;
        }
    }
    Ok(c)
}

/// How a command run by `runWithTimeout` ended.
#[napi(object)]
pub struct TimeoutOutcome {
    #[napi(ts_type = "'completed' | 'timed_out'")]
    pub outcome: String,
    /// The status GNU `timeout` would exit with (124 on a timeout, unless `preserveStatus`).
    pub exit_status: i32,
    pub exit_code: Option<i32>,
    /// The signal that ended the command, if one did.
    pub signal: Option<i32>,
    /// On a timeout: the signal sent at the deadline.
    pub signal_sent: Option<String>,
    /// On a timeout: KILL was needed.
    pub escalated: bool,
    pub pid: u32,
    pub pgid: Option<u32>,
    #[napi(ts_type = "'cgroup_v2' | 'process_group'")]
    pub containment: String,
    #[napi(ts_type = "'guaranteed' | 'best_effort'")]
    pub tree_kill_reliability: String,
    pub cgroup: Option<String>,
    pub forwarded_signals: Vec<String>,
    pub leftovers_ended: u32,
    pub survivors: Vec<u32>,
    pub elapsed_ms: f64,
    pub warnings: Vec<String>,
}

/// The outcome and whether `preserveStatus` was asked.
pub struct OutcomeOf(sysprims::TimeoutOutcome, bool);

impl From<OutcomeOf> for TimeoutOutcome {
    fn from(OutcomeOf(o, preserve): OutcomeOf) -> Self {
        let status = o.status();
        let exit_status = o.exit_status(preserve);
        let (outcome, signal_sent, escalated) = match &o {
            sysprims::TimeoutOutcome::Completed { .. } => ("completed", None, false),
            sysprims::TimeoutOutcome::TimedOut {
                signal_sent,
                escalated,
                ..
            } => (
                "timed_out",
                Some(signal_sent.name().into_owned()),
                *escalated,
            ),
        };
        let run = o.run().clone();
        TimeoutOutcome {
            outcome: outcome.into(),
            exit_status,
            exit_code: status.exit_code,
            signal: status.signal.map(native_signal),
            signal_sent,
            escalated,
            pid: run.pid,
            pgid: run.pgid,
            containment: name_of(&run.containment),
            tree_kill_reliability: run.tree_kill_reliability.as_str().to_string(),
            cgroup: run.cgroup.map(|c| c.display().to_string()),
            forwarded_signals: run
                .forwarded_signals
                .iter()
                .map(|s| s.name().into_owned())
                .collect(),
            leftovers_ended: run.leftovers_ended,
            survivors: run.survivors,
            elapsed_ms: ms_out(run.elapsed_ms),
            warnings: run.warnings,
        }
    }
}

/// Run `argv` under a deadline as `timeout(1)` does, but the whole job dies on a timeout.
/// An abort KILLs the whole job at once (the outcome is `'timed_out'`).
#[napi(ts_return_type = "Promise<TimeoutOutcome>")]
pub fn run_with_timeout<'env>(
    env: &'env Env,
    argv: Vec<String>,
    timeout_ms: f64,
    options: Option<TimeoutOptions>,
    cancel: Option<&Canceller>,
) -> napi::Result<Object<'env>> {
    let timeout = Duration::from_millis(ms_arg("timeoutMs", timeout_ms).map_err(to_napi)?);
    let config = timeout_config(options).map_err(to_napi)?;
    let Some((command, args)) = argv.split_first() else {
        return Err(to_napi(invalid(
            "argv",
            "[]",
            "is empty: it must name the program to run",
        )));
    };
    let (command, args) = (command.clone(), args.to_vec());
    let token = token_of(cancel);
    let preserve = config.preserve_status;
    on_thread::<_, TimeoutOutcome>(env, move || {
        let out = match token {
            Some(t) => {
                sysprims::run_with_timeout_cancellable(&command, &args, timeout, &config, &t)
            }
            None => sysprims::run_with_timeout(&command, &args, timeout, &config),
        }?;
        Ok(OutcomeOf(out, preserve))
    })
}

// ---------------------------------------------------------------------------------------------
// Fds and ports
// ---------------------------------------------------------------------------------------------

/// A socket an fd refers to.
#[napi(object)]
pub struct SocketInfo {
    #[napi(ts_type = "'ipv4' | 'ipv6' | 'unix'")]
    pub family: String,
    #[napi(ts_type = "'tcp' | 'udp' | 'unix_stream' | 'unix_dgram' | 'unix_seqpacket'")]
    pub protocol: String,
    pub local_address: Option<String>,
    pub local_port: Option<u32>,
    pub remote_address: Option<String>,
    pub remote_port: Option<u32>,
    pub state: String,
}

/// One open fd.
#[napi(object)]
pub struct FdInfo {
    pub fd: u32,
    #[napi(
        ts_type = "'file' | 'directory' | 'socket' | 'pipe' | 'anon_inode' | 'char_device' | 'block_device' | 'unknown'"
    )]
    pub kind: String,
    /// The link target (`/proc/<pid>/fd/N`).
    pub target: String,
    pub path: Option<String>,
    /// For `anon_inode`: `eventfd`, `pidfd`, ...
    pub anon_type: Option<String>,
    pub inode: Option<f64>,
    #[napi(ts_type = "'read' | 'write' | 'read_write'")]
    pub access: Option<String>,
    pub flags: Option<u32>,
    pub cloexec: Option<bool>,
    pub offset: Option<f64>,
    pub socket: Option<SocketInfo>,
}

/// `listFds`' answer.
#[napi(object)]
pub struct FdSnapshot {
    pub pid: u32,
    pub fds: Vec<FdInfo>,
}

impl From<sysprims::FdSnapshot> for FdSnapshot {
    fn from(s: sysprims::FdSnapshot) -> Self {
        FdSnapshot {
            pid: s.pid,
            fds: s
                .fds
                .into_iter()
                .map(|f| FdInfo {
                    fd: f.fd,
                    kind: f.kind.name().to_string(),
                    target: f.target,
                    path: f.path,
                    anon_type: f.anon_type,
                    inode: f.inode.map(ms_out),
                    access: f.access.map(|a| name_of(&a)),
                    flags: f.flags,
                    cloexec: f.cloexec,
                    offset: f.offset.map(ms_out),
                    socket: f.socket.map(|s| SocketInfo {
                        family: name_of(&s.family),
                        protocol: name_of(&s.protocol),
                        local_address: s.local_address,
                        local_port: s.local_port.map(u32::from),
                        remote_address: s.remote_address,
                        remote_port: s.remote_port.map(u32::from),
                        state: s.state.name().to_string(),
                    }),
                })
                .collect(),
        }
    }
}

/// Options of `listFds`.
#[napi(object)]
pub struct FdFilter {
    /// Only fds of these kinds.
    #[napi(
        ts_type = "Array<'file' | 'directory' | 'socket' | 'pipe' | 'anon_inode' | 'char_device' | 'block_device' | 'unknown'>"
    )]
    pub kinds: Option<Vec<String>>,
}

/// The open fds of `pid`.
#[napi(ts_return_type = "Promise<FdSnapshot>")]
pub fn list_fds(
    pid: f64,
    filter: Option<FdFilter>,
) -> napi::Result<AsyncTask<Blocking<sysprims::FdSnapshot, FdSnapshot>>> {
    let pid = pid_arg(pid).map_err(to_napi)?;
    let mut lib = sysprims::FdFilter::default();
    if let Some(kinds) = filter.and_then(|f| f.kinds) {
        lib.kinds = Some(
            kinds
                .iter()
                .map(|k| {
                    enum_arg(
                        "fd kind",
                        k,
                        "file, directory, socket, pipe, anon_inode, char_device, block_device or unknown",
                    )
                })
                .collect::<sysprims::Result<_>>()
                .map_err(to_napi)?,
        );
    }
    Ok(blocking(move || sysprims::list_fds(pid, &lib)))
}

/// A process holding a socket.
#[napi(object)]
pub struct PortProcess {
    pub pid: u32,
    pub name: String,
    pub uid: u32,
    pub user: Option<String>,
    pub fds: Vec<u32>,
}

/// A listening TCP or bound UDP socket and every process that holds it.
#[napi(object)]
pub struct PortBinding {
    #[napi(ts_type = "'tcp' | 'udp'")]
    pub protocol: String,
    #[napi(ts_type = "'ipv4' | 'ipv6' | 'unix'")]
    pub family: String,
    pub local_address: String,
    pub local_port: u32,
    pub state: String,
    pub inode: f64,
    pub uid: u32,
    pub processes: Vec<PortProcess>,
}

/// `listeningPorts`' answer.
#[napi(object)]
pub struct PortBindings {
    pub bindings: Vec<PortBinding>,
    /// Processes whose fds could not be read: the sockets they hold may show no holder.
    pub unreadable_pids: Vec<u32>,
    pub warnings: Vec<String>,
}

impl From<sysprims::PortBindings> for PortBindings {
    fn from(p: sysprims::PortBindings) -> Self {
        PortBindings {
            bindings: p
                .bindings
                .into_iter()
                .map(|b| PortBinding {
                    protocol: b.protocol.name().to_string(),
                    family: name_of(&b.family),
                    local_address: b.local_address,
                    local_port: u32::from(b.local_port),
                    state: b.state.name().to_string(),
                    inode: ms_out(b.inode),
                    uid: b.uid,
                    processes: b
                        .processes
                        .into_iter()
                        .map(|h| PortProcess {
                            pid: h.pid,
                            name: h.name,
                            uid: h.uid,
                            user: h.user,
                            fds: h.fds,
                        })
                        .collect(),
                })
                .collect(),
            unreadable_pids: p.unreadable_pids,
            warnings: p.warnings,
        }
    }
}

/// Options of `listeningPorts`.
#[napi(object)]
pub struct PortFilter {
    #[napi(ts_type = "'tcp' | 'udp'")]
    pub protocol: Option<String>,
    /// Only this local port (1-65535).
    pub port: Option<f64>,
    /// Only sockets this process holds.
    pub pid: Option<f64>,
}

/// Listening TCP and bound UDP sockets, with every process that holds each.
#[napi(ts_return_type = "Promise<PortBindings>")]
pub fn listening_ports(
    filter: Option<PortFilter>,
) -> napi::Result<AsyncTask<Blocking<sysprims::PortBindings, PortBindings>>> {
    let mut lib = sysprims::PortFilter::default();
    if let Some(f) = filter {
        if let Some(p) = &f.protocol {
            lib.protocol = Some(enum_arg("protocol", p, "tcp or udp").map_err(to_napi)?);
        }
        if let Some(port) = f.port {
            let n = integer("port", port).map_err(to_napi)?;
            lib.port =
                Some(u16::try_from(n).map_err(|_| {
                    to_napi(invalid("port", js_number(port), "must be in 1..=65535"))
                })?);
        }
        lib.pid = f.pid.map(pid_arg).transpose().map_err(to_napi)?;
        lib.validate().map_err(to_napi)?;
    }
    Ok(blocking(move || sysprims::listening_ports(&lib)))
}
