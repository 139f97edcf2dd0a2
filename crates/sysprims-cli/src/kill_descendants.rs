//! `sysprims kill-descendants`: signal what a process started, and leave the process itself.

use std::io::Write;

use clap::Args;
use sysprims::{KillDescendantsOptions, Pid, Signal};

use crate::filter::FilterArgs;
use crate::{Failure, args, kill};

const EXAMPLES: &str = "\
Examples:
  sysprims kill-descendants 1234            preview: which descendants would get SIGTERM
  sysprims kill-descendants 1234 --yes      send it; PID 1234 itself is left running
  sysprims kill-descendants 1234 --name chrome --running-for 10m --yes
                                            only the chrome processes older than 10 minutes
  sysprims kill-descendants 1234 --cpu-above 90 --sample 2s -s KILL --yes
                                            only those busy over the last two seconds
  sysprims kill-descendants 1234 --yes --json

As `sysprims kill` with a filter: nothing is sent without --yes (the selection is only
listed), and each descendant is signalled only if it is still the process the listing
saw (same start time and executable), so a PID reused in between is never hit.

Exit codes:
  0  every selected descendant was signalled (or, in a preview, would be)
  1  one was not (gone, refused, reused, permission), or no descendant matches, or no
     process has the PID
  2  usage error: a bad PID, signal or filter; PID 1 without --force";

/// Signal the descendants of a process (its children, their children, ...), optionally
/// only those that match filter options; the process itself is never signalled.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct KillDescendantsArgs {
    /// The process whose descendants to signal.
    #[arg(value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pid: Pid,

    /// The signal to send, by name or number.
    #[arg(short, long, value_name = "SIGNAL", default_value = "TERM", value_parser = args::signal)]
    signal: Signal,

    #[command(flatten)]
    filter: FilterArgs,

    /// Send the signal (without it, the descendants are only listed).
    #[arg(long, conflicts_with = "dry_run")]
    yes: bool,

    /// Only show what would be signalled (the default without --yes).
    #[arg(long)]
    dry_run: bool,

    /// Allow PID 1 as the root (every process on the machine descends from it), and
    /// sysprims itself among the targets.
    #[arg(long)]
    force: bool,

    /// Print a JSON document (schema: schemas/kill-report.v1.schema.json).
    #[arg(long)]
    json: bool,
}

impl KillDescendantsArgs {
    fn options(&self) -> KillDescendantsOptions {
        KillDescendantsOptions {
            filter: self.filter.clone().into_filter(&[]),
            cpu_sample_ms: self.filter.sample_ms(),
            dry_run: !self.yes,
            allow_protected: self.force,
        }
    }
}

pub fn run(a: KillDescendantsArgs, out: &mut impl Write) -> Result<(), Failure> {
    if a.pid.get() == 1 && !a.force {
        return Err(Failure::Usage(
            "kill-descendants: every process descends from PID 1; give --force to mean it".into(),
        ));
    }
    let report = sysprims::kill_descendants(a.pid, a.signal, &a.options())?;
    let no_match = if a.filter.selects() {
        format!("no descendant of PID {} matches", a.pid)
    } else {
        format!("PID {} has no descendants", a.pid)
    };
    kill::finish_report("kill-descendants", &no_match, a.json, &report, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: KillDescendantsArgs,
    }

    fn parse(args: &[&str]) -> Result<KillDescendantsArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("kill-descendants").chain(args.iter().copied()))
            .map(|c| c.args)
    }

    #[test]
    fn previews_unless_yes() {
        let o = parse(&["42"]).unwrap().options();
        assert!(o.dry_run);
        assert!(!o.allow_protected);
        assert_eq!(o.filter, sysprims::ProcessFilter::default());
        let o = parse(&["42", "--yes", "--name", "sleep", "--force"])
            .unwrap()
            .options();
        assert!(!o.dry_run);
        assert!(o.allow_protected);
        assert_eq!(o.filter.name_contains.as_deref(), Some("sleep"));
        assert!(parse(&["42", "--yes", "--dry-run"]).is_err());
        assert!(parse(&["0"]).is_err());
        assert!(parse(&["42", "-s", "NOPE"]).is_err());
    }
}
