//! `sysprims`: process inspection for operators and scripts.
//!
//! A thin layer over the `sysprims` library: parse arguments, call the library, print a table
//! or JSON. Exit codes: 0 success, 1 failure, 2 usage error. Nothing is written to stderr on
//! success; a closed stdout (`| head`) ends the program quietly.

// The unit-test harness brings its own `main`.
#![cfg_attr(not(test), no_main)]

mod args;
mod descendants;
mod fds;
mod filter;
mod generate;
mod kill;
mod kill_descendants;
mod output;
mod ports;
mod pstat;
mod run;
mod spawn;
mod terminate_tree;
mod timeout;
mod wait;

use std::io::{self, IsTerminal, Write};

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  sysprims pstat                          every process, as a table
  sysprims pstat --json | jq .processes   every process, as JSON
  sysprims pstat --name nginx --sort cpu  nginx processes, busiest first
  sysprims pstat --sample 1s --top 5      the 5 busiest processes over one second
  sysprims descendants 1234 --tree        the process tree under PID 1234
  sysprims kill -s TERM 1234              send SIGTERM to PID 1234
  sysprims kill --name worker --yes       send SIGTERM to every process named worker*
  sysprims fds 1234 --kind socket         the sockets PID 1234 has open
  sysprims ports --tcp --port 8080        who listens on TCP port 8080
  sysprims spawn -- ./build.sh --all      start a job that can be ended whole; print its PID
  sysprims wait 1234 --timeout 30s        wait (at most 30s) for PID 1234 to end
  sysprims terminate-tree 1234            SIGTERM to PID 1234 and all it started, then SIGKILL
  sysprims kill-descendants 1234 --yes    SIGTERM to what PID 1234 started, not to 1234
  sysprims timeout 10 make test           GNU timeout, but the whole tree dies on a timeout
  sysprims run --memory-max 2G -- make    run a job with limits; report what its whole tree used
  sysprims completions bash               a bash completion script (also zsh, fish, ...)
  sysprims manpages DIR                   write the man pages into DIR

Exit codes: 0 success, 1 failure (e.g. no such process), 2 usage error. Each command's
--help gives its own.";

/// Process primitives: who a PID really is, what runs below it, what it holds open.
#[derive(Parser)]
#[command(name = "sysprims", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Pstat(pstat::PstatArgs),
    Descendants(descendants::DescendantsArgs),
    Kill(kill::KillArgs),
    Fds(fds::FdsArgs),
    Ports(ports::PortsArgs),
    Spawn(spawn::SpawnArgs),
    Wait(wait::WaitArgs),
    TerminateTree(terminate_tree::TerminateTreeArgs),
    KillDescendants(kill_descendants::KillDescendantsArgs),
    /// Run a command with a time limit: GNU timeout's options and exit statuses, and the
    /// whole tree dies on a timeout (`sysprims timeout --help`).
    #[command(disable_help_flag = true)]
    Timeout {
        /// [OPTION] DURATION COMMAND [ARG]...
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    Run(run::RunArgs),
    Completions(generate::CompletionsArgs),
    Manpages(generate::ManpagesArgs),
}

/// Why a command did not succeed.
pub enum Failure {
    /// The library refused or failed.
    Sysprims(sysprims::SysprimsError),
    /// Writing the output failed.
    Io(io::Error),
    /// Some of the work failed; the messages have been printed. Exit 1.
    Partial,
    /// The arguments cannot be used together; the message says why. Exit 2.
    Usage(String),
}

impl From<sysprims::SysprimsError> for Failure {
    fn from(e: sysprims::SysprimsError) -> Self {
        Failure::Sysprims(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// Print a diagnostic to stderr. A closed stderr is ignored: there is nowhere left to say it.
pub fn warn(message: std::fmt::Arguments<'_>) {
    let text = message.to_string();
    let _ = writeln!(
        io::stderr().lock(),
        "sysprims: {}",
        without_doubled_prefix(&text)
    );
}

/// `kill: kill: process 9 not found` (the command's prefix, then a library message that
/// starts with the same operation) said once: `kill: process 9 not found`.
fn without_doubled_prefix(text: &str) -> &str {
    let text = text.strip_prefix("sysprims: ").unwrap_or(text);
    match text.split_once(": ") {
        Some((head, rest))
            if !head.is_empty()
                && !head.contains(' ')
                && rest.strip_prefix(head).is_some_and(|r| r.starts_with(": ")) =>
        {
            rest
        }
        _ => text,
    }
}

/// Whether stderr is a terminal, for progress indicators.
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// The C entry point, in place of Rust's runtime start-up (`lang_start`), which reads
/// `/proc/self/maps` and sets up an alternate signal stack for its stack-overflow message:
/// measured at 3% of `sysprims timeout 10 true`, which is held to GNU timeout's speed. What
/// that start-up did and this program needs is done here: writes to a closed pipe return
/// `EPIPE` (handled quietly) instead of killing the process, stdout is flushed at the end, and
/// a panic becomes exit 101 rather than an abort.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    #[cfg(unix)]
    open_standard_fds();
    let code = std::panic::catch_unwind(|| {
        // `timeout` parses its own arguments, as GNU's getopt would, and is on the fast
        // path: no clap, no output buffer. Its SIGPIPE stays as inherited, as GNU's does.
        let mut raw = std::env::args_os();
        // Under the name `timeout` (a link), this is `sysprims timeout`.
        #[cfg(unix)]
        if raw
            .next()
            .is_some_and(|a| std::path::Path::new(&a).file_name() == Some("timeout".as_ref()))
        {
            timeout::invoked_as_timeout();
            let args: Vec<_> = raw.collect();
            return timeout::main(&args).clamp(0, 255);
        }
        #[cfg(not(unix))]
        raw.next();
        match raw.next() {
            Some(a) if a == "timeout" => {
                let args: Vec<_> = raw.collect();
                return timeout::main(&args).clamp(0, 255);
            }
            // `run` parses with clap, but alone (the other commands' definitions are not
            // built), and its usage errors exit 125, as timeout's do.
            Some(a) if a == "run" => {
                let args: Vec<_> = raw.collect();
                return run::main(&args).clamp(0, 255);
            }
            _ => {}
        }
        // A handler that does nothing: a write to a closed pipe fails with EPIPE.
        #[cfg(unix)]
        let _ = signal_hook::flag::register(
            signal_hook::consts::SIGPIPE,
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
        i32::from(run())
    })
    .unwrap_or(101);
    let _ = io::stdout().flush();
    code
}

/// Make sure fds 0, 1 and 2 are open, before anything else is opened: a closed one gets
/// `/dev/null`. Otherwise the first file opened (`timeout --json FILE` with `2>&-`) would
/// become the standard stream, and diagnostics would be written into it.
#[cfg(unix)]
#[cfg_attr(test, allow(dead_code))]
fn open_standard_fds() {
    use std::os::fd::{BorrowedFd, IntoRawFd};
    for fd in 0..3 {
        // SAFETY: fd 0..2 is only queried; a closed one is not used through this handle.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if rustix::io::fcntl_getfd(borrowed) == Err(rustix::io::Errno::BADF) {
            // The lowest free fd: this one, since the lower ones are open by now.
            match rustix::fs::open(
                "/dev/null",
                rustix::fs::OFlags::RDWR,
                rustix::fs::Mode::empty(),
            ) {
                Ok(null) => {
                    let _ = null.into_raw_fd();
                }
                // Nothing can be said: there may be no stderr. Exit as GNU tools do on a
                // failure before the work.
                Err(_) => std::process::exit(125),
            }
        }
    }
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> u8 {
    let cli = Cli::parse_from(kill::rewrite_signal_shorthand(
        std::env::args_os().collect(),
    ));
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = match cli.command {
        Command::Pstat(a) => pstat::run(a, &mut out),
        Command::Descendants(a) => descendants::run(a, &mut out),
        Command::Kill(a) => kill::run(a, &mut out),
        Command::Fds(a) => fds::run(a, &mut out),
        Command::Ports(a) => ports::run(a, &mut out),
        Command::Spawn(a) => spawn::run(a, &mut out),
        Command::Wait(a) => wait::run(a, &mut out),
        Command::TerminateTree(a) => terminate_tree::run(a, &mut out),
        Command::KillDescendants(a) => kill_descendants::run(a, &mut out),
        Command::Run(a) => {
            drop(out);
            return run::run(a).clamp(0, 255) as u8;
        }
        Command::Completions(a) => generate::run_completions(a, &mut out),
        Command::Manpages(a) => generate::run_manpages(a),
        Command::Timeout { args } => {
            drop(out);
            return timeout::main(&args).clamp(0, 255) as u8;
        }
    };
    let result = result.and_then(|()| out.flush().map_err(Failure::Io));
    match result {
        Ok(()) => 0,
        // The reader went away (`| head`): done, quietly. (Dropping `out` retries the flush
        // and ignores its error.)
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(Failure::Io(e)) => {
            warn(format_args!("cannot write output: {e}"));
            1
        }
        Err(Failure::Sysprims(e)) => {
            let _ = out.flush();
            warn(format_args!("{e}"));
            match e.code() {
                sysprims::ErrorCode::InvalidArgument => 2,
                _ => 1,
            }
        }
        Err(Failure::Partial) => 1,
        Err(Failure::Usage(message)) => {
            let _ = out.flush();
            warn(format_args!("{message}"));
            2
        }
    }
}
