//! `sysprims completions SHELL` and `sysprims manpages DIR`: shell completion scripts
//! (clap_complete) and man pages (clap_mangen), generated from the same clap definitions that
//! parse the command line, so they cannot drift from it. The repository holds their output
//! under `crates/sysprims-cli/completions/` and `crates/sysprims-cli/man/`; the `generated`
//! test fails when those files are stale (`SYSPRIMS_UPDATE_CLI_DOCS=1` rewrites them).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Args, Command, CommandFactory, ValueHint};
use clap_complete::Shell;

use crate::Failure;

/// Print a completion script for SHELL on stdout.
///
/// Install it where the shell looks for completions, e.g. for bash
/// `sysprims completions bash > /etc/bash_completion.d/sysprims` (or
/// `~/.local/share/bash-completion/completions/sysprims`), for zsh a file `_sysprims` in a
/// directory of `$fpath`, for fish `~/.config/fish/completions/sysprims.fish`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command.
///
/// Install them into a man directory (e.g. `sysprims manpages /usr/local/share/man/man1`),
/// then `man sysprims`, `man sysprims-timeout`.
#[derive(Args)]
pub struct ManpagesArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    dir: PathBuf,
}

/// The whole command line as clap describes it, for the generators. `timeout` parses its own
/// arguments (GNU's getopt rules), so clap only knows it as a list of words; its description
/// here is [`timeout_command`].
pub fn full_command() -> Command {
    crate::Cli::command().mut_subcommand("timeout", |_| timeout_command())
}

/// `sysprims timeout` described for completions and its man page (not used for parsing: see
/// `timeout.rs`).
pub fn timeout_command() -> Command {
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    Command::new("timeout")
        .about(
            "Run a command with a time limit: GNU timeout's options and exit statuses, and \
             the whole tree dies on a timeout",
        )
        .long_about(
            "Start COMMAND, and kill it, and everything it started, if still running after \
             DURATION. A drop-in for GNU timeout: the same options, durations, messages and \
             exit statuses. On timeout the signal goes to every process COMMAND started, held \
             in a cgroup of its own, so children that called setsid or double-forked are not \
             missed. `sysprims timeout --help` says where it differs from GNU timeout.",
        )
        .version(env!("CARGO_PKG_VERSION"))
        // GNU's timeout has --help and --version, but no -h or -V.
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("help")
                .long("help")
                .action(ArgAction::Help)
                .help("Print help"),
        )
        .arg(
            Arg::new("version")
                .long("version")
                .action(ArgAction::Version)
                .help("Print version"),
        )
        .arg(flag(
            "preserve-status",
            "Exit with the same status as COMMAND, even when the command times out",
        ))
        .arg(flag(
            "foreground",
            "Leave COMMAND in this process group: it can read the TTY and gets TTY signals",
        ))
        .arg(
            Arg::new("kill-after")
                .short('k')
                .long("kill-after")
                .value_name("DURATION")
                .help("Also send KILL if COMMAND is still running this long after the signal"),
        )
        .arg(
            Arg::new("signal")
                .short('s')
                .long("signal")
                .value_name("SIGNAL")
                .help("The signal sent on timeout (default TERM): a name like HUP, or a number"),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::SetTrue)
                .help("Diagnose to stderr any signal sent upon timeout"),
        )
        .arg(flag(
            "cleanup",
            "When COMMAND exits before DURATION, also end what it left running",
        ))
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("FILE")
                .value_hint(ValueHint::FilePath)
                .help("Write a JSON report of the run to FILE (schema: timeout-report v1)"),
        )
        .arg(
            Arg::new("duration")
                .value_name("DURATION")
                .required(true)
                .help("A number with an optional unit s (default), m, h or d; 0 disables"),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .required(true)
                .num_args(1..)
                .trailing_var_arg(true)
                .value_hint(ValueHint::CommandWithArguments)
                .help("The command to run, and its arguments"),
        )
        .after_help(
            "Exit status: 124 if COMMAND times out (and --preserve-status is not given), 125 \
             if timeout itself fails, 126 if COMMAND cannot be invoked, 127 if it cannot be \
             found, 128+N if COMMAND (or timeout) is killed by signal N, COMMAND's own status \
             otherwise.",
        )
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut full_command(), "sysprims", &mut script);
    script
}

/// The man pages, as (file name, roff text): `sysprims.1`, then `sysprims-COMMAND.1` for each
/// command, in the order `sysprims --help` lists them.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = full_command().disable_help_subcommand(true);
    // Gives each command its page name (`sysprims-pstat`) and synopsis (`sysprims pstat`).
    cmd.build();
    let mut pages = Vec::new();
    for page in std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set())) {
        let man = clap_mangen::Man::new(page.clone());
        let mut text = Vec::new();
        man.render(&mut text)?;
        pages.push((man.get_filename(), text));
    }
    Ok(pages)
}

pub fn run_completions(a: CompletionsArgs, out: &mut impl Write) -> Result<(), Failure> {
    out.write_all(&completions(a.shell))?;
    Ok(())
}

pub fn run_manpages(a: ManpagesArgs) -> Result<(), Failure> {
    write_pages(&a.dir).map_err(|e| {
        crate::warn(format_args!(
            "manpages: cannot write the pages into {}: {e}",
            a.dir.display()
        ));
        Failure::Partial
    })
}

fn write_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in man_pages()? {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}
