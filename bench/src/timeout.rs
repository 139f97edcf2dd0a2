//! `sysprims-bench timeout`: `sysprims timeout` against GNU `timeout`, run alternately
//! (GNU, sysprims, GNU, ...) through the same launcher, which times each from its spawn to
//! its reaping.
//!
//! - **overhead**: `timeout 10 true`, the cost of the wrapper itself. Target: sysprims <= 1.2x
//!   GNU's median wall time.
//! - **exit lag**: `timeout 10 sleep 0.05`; each figure less 50 ms is how long after the
//!   command's end the wrapper returned. Target: sysprims's median within 1 ms of GNU's.
//!
//! The verdicts are information: the exit status is 0 unless the bench itself failed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::jobs::median;
use crate::measure::{count_value, measure};

const TARGET_RATIO: f64 = 1.2;
const TARGET_LAG: Duration = Duration::from_millis(1);
const GNU_TIMEOUT: &str = "/usr/bin/timeout";
const SLEEP: Duration = Duration::from_millis(50);

const USAGE: &str = "\
usage: sysprims-bench timeout [--runs N] [--lag-runs N] [--sysprims PATH]

  --runs      runs of each wrapper for `timeout 10 true` (default 301)
  --lag-runs  runs of each wrapper for `timeout 10 sleep 0.05` (default 41)
  --sysprims  the sysprims binary (default: next to this binary)";

/// Run `timeout ARGS` alternately through GNU's and sysprims's, `runs` times each after 3
/// unmeasured runs of each; the median wall times (GNU, sysprims).
fn alternate(
    me: &Path,
    sysprims: &Path,
    args: &[&str],
    runs: usize,
) -> Result<(Duration, Duration), String> {
    let mut ours_args = vec!["timeout"];
    ours_args.extend_from_slice(args);
    let (mut gnu, mut ours) = (Vec::new(), Vec::new());
    for i in 0..runs + 3 {
        let g = measure(me, Path::new(GNU_TIMEOUT), args).map_err(|e| e.to_string())?;
        let s = measure(me, sysprims, &ours_args).map_err(|e| e.to_string())?;
        if i >= 3 {
            gnu.push(g.wall);
            ours.push(s.wall);
        }
    }
    Ok((median(&mut gnu), median(&mut ours)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

pub fn main(mut args: impl Iterator<Item = OsString>) -> Result<(), String> {
    let (mut runs, mut lag_runs) = (301, 41);
    let mut sysprims: PathBuf = crate::default_sysprims();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        match arg.as_str() {
            "--runs" => runs = count_value(&mut args, &arg)?,
            "--lag-runs" => lag_runs = count_value(&mut args, &arg)?,
            "--sysprims" => {
                sysprims = args.next().ok_or("--sysprims needs a path")?.into();
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if !Path::new(GNU_TIMEOUT).is_file() {
        return Err(format!("no GNU timeout at {GNU_TIMEOUT}"));
    }
    if !sysprims.is_file() {
        return Err(format!(
            "no sysprims binary at {} (build it: cargo build --release -p sysprims-cli)",
            sysprims.display()
        ));
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;

    let (gnu, ours) = alternate(&me, &sysprims, &["10", "true"], runs)?;
    let ratio = ours.as_secs_f64() / gnu.as_secs_f64();
    println!("timeout 10 true, median of {runs} runs each, alternating:");
    println!("  GNU timeout       {:8.3} ms", ms(gnu));
    println!("  sysprims timeout  {:8.3} ms", ms(ours));
    println!(
        "  ratio {ratio:.2} (target <= {TARGET_RATIO}): {}",
        verdict(ratio <= TARGET_RATIO)
    );

    let (gnu, ours) = alternate(&me, &sysprims, &["10", "sleep", "0.05"], lag_runs)?;
    let (gnu_lag, our_lag) = (gnu.saturating_sub(SLEEP), ours.saturating_sub(SLEEP));
    let diff = ms(our_lag) - ms(gnu_lag);
    println!("timeout 10 sleep 0.05, median of {lag_runs} runs each; lag = wall - 50 ms:");
    println!(
        "  GNU timeout       {:8.3} ms (lag {:.3} ms)",
        ms(gnu),
        ms(gnu_lag)
    );
    println!(
        "  sysprims timeout  {:8.3} ms (lag {:.3} ms)",
        ms(ours),
        ms(our_lag)
    );
    println!(
        "  sysprims - GNU {diff:+.3} ms (target <= {:.0} ms): {}",
        ms(TARGET_LAG),
        verdict(diff <= ms(TARGET_LAG))
    );
    Ok(())
}
