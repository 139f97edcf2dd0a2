//! Starting jobs that can be killed whole: [`spawn_in_group`].
//!
//! Every job gets a process group of its own. On Linux, where a cgroup v2 subtree is writable,
//! it also gets a cgroup of its own, and the child is in that cgroup from its first
//! instruction (`clone3` with `CLONE_INTO_CGROUP`): nothing it starts can leave, whatever it
//! does with `setsid` or double forks, so [`terminate_tree`](crate::terminate_tree) can end
//! every process of the job. That is reported as
//! [`TreeKillReliability::Guaranteed`]; a job held only by its process group is
//! [`TreeKillReliability::BestEffort`], and the result's `warnings` say why.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::limits::JobLimits;
use crate::process::ProcessIdentity;

/// `schema_id` of [`SpawnInGroupResult`].
pub const SPAWN_IN_GROUP_RESULT_SCHEMA_ID: &str =
    "https://sysprims.dev/schemas/spawn-in-group-result/v1.json";

/// How a job is to be contained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Containment {
    /// A cgroup where one can be made, else a process group (with a warning).
    #[default]
    Auto,
    /// A cgroup, or fail with [`NotSupported`](crate::ErrorCode::NotSupported) (or
    /// [`PermissionDenied`](crate::ErrorCode::PermissionDenied)) saying why there is none.
    Cgroup,
    /// A process group only, even where a cgroup could be made: for testing degraded
    /// reliability.
    ProcessGroup,
    /// Windows: a Job Object, or fail with [`NotSupported`](crate::ErrorCode::NotSupported)
    /// (or [`PermissionDenied`](crate::ErrorCode::PermissionDenied)) saying why the child
    /// could not be put in one. On Linux it is refused as `NotSupported` (use `cgroup`).
    JobObject,
}

/// What actually holds a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainmentKind {
    /// A cgroup v2 of the job's own: every process the job starts stays in it.
    CgroupV2,
    /// A process group of the job's own: `setsid` and double-fork escapees can leave it.
    /// (On Windows: a console process group, with no container around it.)
    ProcessGroup,
    /// A Windows Job Object of the job's own, joined before the child ran: every process the
    /// job starts is in it, and breakaway is not allowed.
    JobObject,
}

/// Whether ending a job's whole tree is enforced by the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreeKillReliability {
    /// A kernel-enforced container (cgroup v2) holds the whole tree: no process of it can
    /// escape.
    Guaranteed,
    /// Process groups and a walk of descendants: processes that left the tree (`setsid`,
    /// double forks, reparenting) may be out of reach. The `warnings` say why.
    BestEffort,
}

impl TreeKillReliability {
    /// `"guaranteed"` or `"best_effort"`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TreeKillReliability::Guaranteed => "guaranteed",
            TreeKillReliability::BestEffort => "best_effort",
        }
    }
}

impl std::fmt::Display for TreeKillReliability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one of a child's standard streams goes.
///
/// In JSON: `"inherit"`, `"null"`, or `{"file": {"path": "/tmp/out", "append": true}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum StdioConfig {
    /// The caller's own stream.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A file, created if missing (mode 0666 less the umask).
    File {
        /// The file. A relative path is relative to the caller's working directory, not the
        /// child's.
        path: PathBuf,
        /// Append to the file instead of truncating it.
        #[serde(default)]
        append: bool,
    },
}

/// What to start, and how.
///
/// ```
/// use sysprims::SpawnInGroupConfig;
///
/// let config: SpawnInGroupConfig =
///     serde_json::from_str(r#"{"argv": ["sleep", "1"], "env": {"LOG_LEVEL": "info"}}"#).unwrap();
/// assert_eq!(config.argv, ["sleep", "1"]);
/// assert!(serde_json::from_str::<SpawnInGroupConfig>(r#"{"args": []}"#).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SpawnInGroupConfig {
    /// The program and its arguments. A program without a `/` is looked up in the `PATH` the
    /// child will have.
    pub argv: Vec<String>,
    /// The child's working directory; `None` (or an empty path) for the caller's.
    pub cwd: Option<PathBuf>,
    /// Environment variables to set, over the caller's environment (or over an empty one
    /// with `env_clear`).
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment instead of the caller's.
    pub env_clear: bool,
    /// Standard input.
    pub stdin: StdioConfig,
    /// Standard output.
    pub stdout: StdioConfig,
    /// Standard error.
    pub stderr: StdioConfig,
    /// How to contain the job.
    pub containment: Containment,
    /// The cgroup v2 directory under which the job's cgroup is made (an absolute path in the
    /// cgroup2 mount, e.g. `/sys/fs/cgroup/my.slice`). `None`: the caller's own cgroup.
    pub cgroup_parent: Option<PathBuf>,
    /// Kill the child (`SIGKILL`) when the thread that spawned it exits
    /// (`PR_SET_PDEATHSIG`). The kernel ties this to the spawning *thread*, not the process:
    /// spawn from a long-lived thread.
    pub kill_on_parent_death: bool,
    /// Limits on the whole job, enforced by the kernel through the job's cgroup (see
    /// [`JobLimits`]): none by default. `"limits"` in JSON.
    #[serde(skip_serializing_if = "JobLimits::is_empty")]
    pub limits: JobLimits,
}

/// A started job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SpawnInGroupResult {
    /// Always [`SPAWN_IN_GROUP_RESULT_SCHEMA_ID`].
    pub schema_id: String,
    /// The child's PID.
    pub pid: u32,
    /// The child's process group, which it leads (equal to `pid`). `None` where the platform
    /// has no process groups.
    pub pgid: Option<u32>,
    /// Who the child is, for [`verify_identity`](crate::verify_identity) and
    /// [`signal_if`](crate::signal_if) later.
    pub identity: ProcessIdentity,
    /// Whether the whole tree can be ended for certain.
    pub tree_kill_reliability: TreeKillReliability,
    /// What holds the job.
    pub containment: ContainmentKind,
    /// The job's cgroup, a path in the cgroup2 mount, when it has one.
    pub cgroup: Option<PathBuf>,
    /// Why reliability is degraded, and anything else worth logging.
    pub warnings: Vec<String>,
}

/// Start a job in a process group (and, on Linux, a cgroup) of its own, and return at once.
///
/// The child is the caller's child: reap it with [`wait_pid`](crate::wait_pid) (which also
/// removes the job's cgroup once the job is empty), or end it with
/// [`terminate_tree`](crate::terminate_tree). For a handle that owns the job, see
/// [`Job`](crate::Job).
///
/// ```
/// use sysprims::{spawn_in_group, wait_pid, SpawnInGroupConfig};
///
/// let job = spawn_in_group(&SpawnInGroupConfig {
///     argv: vec!["sh".into(), "-c".into(), "exit 3".into()],
///     ..Default::default()
/// })
/// .unwrap();
/// assert_eq!(job.pgid, Some(job.pid));
/// let done = wait_pid(job.pid, None).unwrap();
/// assert_eq!(done.exit_code, Some(3));
/// ```
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorCode::InvalidArgument): empty `argv`, an argument or
///   environment entry with a NUL byte, an environment key that is empty or contains `=`, a
///   limit out of range ([`JobLimits::validate`]), limits with
///   [`Containment::ProcessGroup`] (no cgroup to hold them).
/// - [`SpawnFailed`](crate::ErrorCode::SpawnFailed): the program was not found or could not
///   be executed, the working directory does not exist, a stdio file cannot be opened. The
///   message names the program or path.
/// - [`NotSupported`](crate::ErrorCode::NotSupported) or
///   [`PermissionDenied`](crate::ErrorCode::PermissionDenied): `containment` is
///   [`Containment::Cgroup`] and no cgroup can be made here, or a limit's controller
///   (`memory`, `pids`, `cpu`) cannot be enabled for it (the message names the controller).
///
/// A failed spawn leaves no process and no cgroup behind.
pub fn spawn_in_group(config: &SpawnInGroupConfig) -> Result<SpawnInGroupResult> {
    crate::job::Job::spawn(config).map(crate::job::Job::detach)
}
