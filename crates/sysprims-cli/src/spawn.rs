//! `sysprims spawn`: start a job that can be ended whole, and return at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use sysprims::{Containment, ContainmentKind, SpawnInGroupConfig, SpawnInGroupResult, StdioConfig};

use crate::{Failure, output};

const EXAMPLES: &str = "\
Examples:
  sysprims spawn -- ./build.sh --all         start a job, print its PID, group and cgroup
  pid=$(sysprims spawn --json -- make test | jq .pid)
                                             the same, for a script
  sysprims spawn --stdout job.log --stderr job.log -- ./server --port 8080
                                             both streams to one file (truncated first)
  sysprims spawn --cwd /srv/app --env-clear --env PATH=/usr/bin -- ./run
                                             a clean environment, in another directory
  sysprims spawn --containment process_group -- ./flaky-test
                                             no cgroup: degraded (best_effort) reliability
  sysprims terminate-tree PID                later: end the job, every process of it

Standard streams: the job outlives this command, so by default its stdin, stdout and
stderr are /dev/null. Inheriting them would hold open whatever this command's streams
are: `$(sysprims spawn ...)` or `sysprims spawn ... | jq` would not end until the job
does, and a job reading the terminal from its own process group would be stopped. Give
--stdin/--stdout/--stderr FILE to connect a stream to a file, or --inherit-stdio to pass
this command's own streams to the job knowingly.

Exit codes:
  0  the job was started (it runs on after this command exits)
  1  it was not: the program, the working directory or a stdio file was not found or
     could not be used, or --containment cgroup and no cgroup can be made here
  2  usage error: no command, a bad --env, an unknown --containment";

/// Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of
/// its own, print what holds it, and return at once.
///
/// The job is detached: when this command exits, the job runs on, and the init process (or
/// the nearest subreaper) reaps it. End it whole with `sysprims terminate-tree PID`, wait
/// for it with `sysprims wait PID`. In a cgroup, nothing the job starts can escape
/// (`setsid`, double forks): reliability `guaranteed`. In a process group only, it is
/// `best_effort`, and a warning says why.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct SpawnArgs {
    /// The job's working directory (default: this command's).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,

    /// Set an environment variable for the job (repeatable; the last of a key wins).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = env_pair)]
    env: Vec<(String, String)>,

    /// Start from an empty environment (then add the --env variables) instead of this
    /// command's.
    #[arg(long)]
    env_clear: bool,

    /// What holds the job: a cgroup if one can be made, else a process group (auto); a
    /// cgroup or fail (cgroup); a process group only (process_group).
    #[arg(long, value_enum, default_value_t = ContainmentArg::Auto)]
    containment: ContainmentArg,

    /// Read standard input from FILE (default: /dev/null).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,

    /// Write standard output to FILE, created if missing, truncated unless --append
    /// (default: /dev/null).
    #[arg(long, value_name = "FILE")]
    stdout: Option<PathBuf>,

    /// Write standard error to FILE, created if missing, truncated unless --append
    /// (default: /dev/null). The same FILE as --stdout shares it, as `>FILE 2>&1` does.
    #[arg(long, value_name = "FILE")]
    stderr: Option<PathBuf>,

    /// Append to the --stdout and --stderr files instead of truncating them.
    #[arg(long)]
    append: bool,

    /// Pass this command's own stdin, stdout and stderr to the job where no FILE is given,
    /// instead of /dev/null (see "Standard streams" below).
    #[arg(long)]
    inherit_stdio: bool,

    /// Print a JSON document (schema: schemas/spawn-in-group-result.v1.schema.json).
    #[arg(long)]
    json: bool,

    /// The program and its arguments (after `--` when an argument starts with `-`).
    #[arg(value_name = "COMMAND", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `--containment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ContainmentArg {
    Auto,
    Cgroup,
    #[value(name = "process_group", alias = "process-group")]
    ProcessGroup,
    /// Windows: a Job Object, or fail.
    #[value(name = "job_object", alias = "job-object")]
    JobObject,
}

impl From<ContainmentArg> for Containment {
    fn from(c: ContainmentArg) -> Containment {
        match c {
            ContainmentArg::Auto => Containment::Auto,
            ContainmentArg::Cgroup => Containment::Cgroup,
            ContainmentArg::ProcessGroup => Containment::ProcessGroup,
            ContainmentArg::JobObject => Containment::JobObject,
        }
    }
}

/// `KEY=VALUE`: the key non-empty (and so without `=`); the value may be empty.
fn env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        None => Err(format!(
            "{text:?} has no '=': write KEY=VALUE (KEY= for an empty value)"
        )),
        Some(("", _)) => Err(format!(
            "{text:?} has an empty variable name: write KEY=VALUE"
        )),
        Some((key, value)) => Ok((key.to_string(), value.to_string())),
    }
}

impl SpawnArgs {
    /// The library configuration these options ask for. (Truncating a file shared by
    /// stdout and stderr is left to [`run`].)
    fn config(&self) -> SpawnInGroupConfig {
        let default = if self.inherit_stdio {
            StdioConfig::Inherit
        } else {
            StdioConfig::Null
        };
        let file = |path: &Option<PathBuf>, append: bool| match path {
            Some(path) => StdioConfig::File {
                path: path.clone(),
                append,
            },
            None => default.clone(),
        };
        // One file for both streams: each is opened on its own, so without O_APPEND each
        // would write at its own offset over the other's output. `run` truncates the file
        // once (unless --append) and both streams append to it.
        let shared = self.stdout.is_some() && self.stdout == self.stderr;
        SpawnInGroupConfig {
            argv: self.command.clone(),
            cwd: self.cwd.clone(),
            env: self.env.iter().cloned().collect::<BTreeMap<_, _>>(),
            env_clear: self.env_clear,
            stdin: file(&self.stdin, false),
            stdout: file(&self.stdout, self.append || shared),
            stderr: file(&self.stderr, self.append || shared),
            containment: self.containment.into(),
            ..SpawnInGroupConfig::default()
        }
    }
}

pub fn run(a: SpawnArgs, out: &mut impl Write) -> Result<(), Failure> {
    let config = a.config();
    if !a.append
        && let (Some(stdout), Some(stderr)) = (&a.stdout, &a.stderr)
        && stdout == stderr
    {
        // As a shell's `>FILE 2>&1`: truncated once, then shared.
        std::fs::File::create(stdout).map_err(|e| {
            Failure::Sysprims(sysprims::SysprimsError::SpawnFailed {
                program: a.command[0].clone(),
                reason: format!("cannot open {}: {e}", stdout.display()),
                errno: e.raw_os_error(),
            })
        })?;
    }
    // Nobody will be here when the job ends: a watchdog removes its cgroup then.
    let result = sysprims::Job::spawn(&config)?.detach_with_cleanup();
    if a.json {
        output::json(out, &result)?;
    } else {
        summary(&result, out)?;
    }
    Ok(())
}

/// The human form: one `name  value` line per field, then the warnings.
fn summary(r: &SpawnInGroupResult, out: &mut impl Write) -> std::io::Result<()> {
    let none = || "-".to_string();
    let rows = [
        ("pid", r.pid.to_string()),
        ("pgid", r.pgid.map_or_else(none, |g| g.to_string())),
        (
            "start_time_ms",
            r.identity
                .start_time_unix_ms
                .map_or_else(none, |t| t.to_string()),
        ),
        (
            "exe",
            r.identity
                .exe_path
                .as_deref()
                .map_or_else(none, output::printable),
        ),
        ("reliability", r.tree_kill_reliability.to_string()),
        ("containment", containment_name(r.containment).to_string()),
        (
            "cgroup",
            r.cgroup
                .as_ref()
                .map_or_else(none, |c| output::printable(&c.display().to_string())),
        ),
    ];
    for (name, value) in rows {
        writeln!(out, "{name:<14} {value}")?;
    }
    for w in &r.warnings {
        writeln!(out, "warning: {}", output::printable(w))?;
    }
    Ok(())
}

/// As in JSON.
pub fn containment_name(kind: ContainmentKind) -> &'static str {
    match kind {
        ContainmentKind::CgroupV2 => "cgroup_v2",
        ContainmentKind::ProcessGroup => "process_group",
        ContainmentKind::JobObject => "job_object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        spawn: SpawnArgs,
    }

    fn parse(args: &[&str]) -> Result<SpawnArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("spawn").chain(args.iter().copied())).map(|c| c.spawn)
    }

    #[test]
    fn env_pairs() {
        assert_eq!(env_pair("A=1").unwrap(), ("A".into(), "1".into()));
        assert_eq!(env_pair("A=").unwrap(), ("A".into(), "".into()));
        assert_eq!(env_pair("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(env_pair("A").unwrap_err().contains("\"A\""));
        assert!(env_pair("=1").unwrap_err().contains("empty variable name"));
        assert!(env_pair("").is_err());
    }

    #[test]
    fn streams_default_to_null_and_files_follow_the_options() {
        let c = parse(&["--", "true"]).unwrap().config();
        assert_eq!(c.argv, ["true"]);
        assert_eq!(
            (c.stdin, c.stdout, c.stderr),
            (StdioConfig::Null, StdioConfig::Null, StdioConfig::Null)
        );
        assert_eq!(c.containment, Containment::Auto);

        let c = parse(&["--inherit-stdio", "--stdout", "o", "true"])
            .unwrap()
            .config();
        assert_eq!(c.stdin, StdioConfig::Inherit);
        assert_eq!(
            c.stdout,
            StdioConfig::File {
                path: "o".into(),
                append: false
            }
        );
        assert_eq!(c.stderr, StdioConfig::Inherit);

        // One file for both: shared through O_APPEND.
        let c = parse(&["--stdout", "f", "--stderr", "f", "true"])
            .unwrap()
            .config();
        assert!(matches!(c.stdout, StdioConfig::File { append: true, .. }));
        assert!(matches!(c.stderr, StdioConfig::File { append: true, .. }));
    }

    #[test]
    fn command_and_options() {
        let a = parse(&[
            "--env",
            "A=1",
            "--env",
            "A=2",
            "--containment",
            "process_group",
            "sh",
            "-c",
            "exit 3",
        ])
        .unwrap();
        let c = a.config();
        assert_eq!(c.argv, ["sh", "-c", "exit 3"]);
        assert_eq!(c.env.get("A").map(String::as_str), Some("2"), "last wins");
        assert_eq!(c.containment, Containment::ProcessGroup);
        assert!(parse(&["--containment", "process-group", "true"]).is_ok());
        assert!(parse(&[]).is_err(), "a command is required");
        assert!(parse(&["--"]).is_err(), "a command is required");
        assert!(parse(&["--containment", "jail", "true"]).is_err());
        assert!(parse(&["--env", "NOEQUALS", "true"]).is_err());
    }
}
