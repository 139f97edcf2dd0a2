//! `sysprims-bench run`: `sysprims run -- true` against GNU `time -v true` and against
//! `sysprims timeout 10 true`, run alternately (time, run, timeout, time, ...) through the
//! same launcher, which times each from its spawn to its reaping; and the usage read itself.
//!
//! - **end to end**: median wall times and ratios. `time` writes its report with `-o
//!   /dev/null` and `run` with `--json /dev/null`, so neither pays for a terminal.
//! - **usage read**: in this process, the reads `sysprims run` makes of a finished job's
//!   cgroup to build its usage (the same files, in the same order, as the library's
//!   `sys::linux::limits::usage`: the v2 `cpu.stat`, `memory.events`, `pids.max`, then on a
//!   hybrid host each v1 hierarchy's sibling of the job, `memory.max_usage_in_bytes`,
//!   `memory.oom_control` and `pids.peak`), timed over many rounds against a job made with
//!   `accounting` on. Target: at most 50 µs added to a job's end.
//!
//! The verdicts are information: the exit status is 0 unless the bench itself failed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sysprims::{Containment, Job, JobLimits, SpawnInGroupConfig, StdioConfig};

use crate::jobs::median;
use crate::measure::{count_value, measure};

const TARGET_USAGE_READ: Duration = Duration::from_micros(50);
const GNU_TIME: &str = "/usr/bin/time";

const USAGE: &str = "\
usage: sysprims-bench run [--runs N] [--reads N] [--sysprims PATH]

  --runs      runs of each command, alternating (default 201)
  --reads     rounds of the usage read (default 2001)
  --sysprims  the sysprims binary (default: next to this binary)";

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

pub fn main(mut args: impl Iterator<Item = OsString>) -> Result<(), String> {
    let (mut runs, mut reads) = (201, 2001);
    let mut sysprims: PathBuf = crate::default_sysprims();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        match arg.as_str() {
            "--runs" => runs = count_value(&mut args, &arg)?,
            "--reads" => reads = count_value(&mut args, &arg)?,
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
    if !Path::new(GNU_TIME).is_file() {
        return Err(format!(
            "no GNU time at {GNU_TIME} (Debian/Ubuntu: apt-get install time)"
        ));
    }
    if !sysprims.is_file() {
        return Err(format!(
            "no sysprims binary at {} (build it: cargo build --release -p sysprims-cli)",
            sysprims.display()
        ));
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;

    let commands: [(&str, &Path, Vec<&str>); 3] = [
        (
            "time -v true",
            Path::new(GNU_TIME),
            vec!["-o", "/dev/null", "-v", "true"],
        ),
        (
            "sysprims run -- true",
            &sysprims,
            vec!["run", "--json", "/dev/null", "--", "true"],
        ),
        (
            "sysprims timeout 10 true",
            &sysprims,
            vec!["timeout", "10", "true"],
        ),
    ];
    let mut walls: [Vec<Duration>; 3] = Default::default();
    for i in 0..runs + 3 {
        for (k, (_, program, args)) in commands.iter().enumerate() {
            let r = measure(&me, program, args).map_err(|e| e.to_string())?;
            if i >= 3 {
                walls[k].push(r.wall);
            }
        }
    }
    let [time, run, timeout] = walls.map(|mut w| median(&mut w));
    println!("end to end, median of {runs} runs each, alternating:");
    println!("  GNU time -v true           {:8.3} ms", ms(time));
    println!("  sysprims run -- true       {:8.3} ms", ms(run));
    println!("  sysprims timeout 10 true   {:8.3} ms", ms(timeout));
    println!(
        "  run / time -v {:.2}, run / timeout {:.2}; run - timeout {:+.0} µs",
        run.as_secs_f64() / time.as_secs_f64(),
        run.as_secs_f64() / timeout.as_secs_f64(),
        us(run) - us(timeout)
    );

    let (plain, accounted) = accounting_cost(runs)?;
    println!("a job of `true` in a cgroup, spawn to end of wait, in-process, median of {runs}:");
    println!("  without accounting     {:8.3} ms", ms(plain));
    println!(
        "  with accounting        {:8.3} ms (what run asks for)",
        ms(accounted)
    );
    println!(
        "  accounting adds {:+.0} µs (controllers for the job: on this host's hybrid layout,",
        us(accounted) - us(plain)
    );
    println!("  v1 memory and pids siblings made, joined and removed)");

    let (read, library) = usage_read(reads)?;
    println!("usage read of a job's cgroups, median of {reads} rounds:");
    println!(
        "  the library's own, Job::usage()   {:.1} µs (target <= {:.0} µs): {}",
        us(library),
        us(TARGET_USAGE_READ),
        verdict(library <= TARGET_USAGE_READ)
    );
    println!(
        "  the same files probed as before the placement change  {:.1} µs",
        us(read)
    );
    Ok(())
}

/// The v1 hierarchies of the controllers the library reads usage from (memory, pids, cpu)
/// on this host (`/proc/self/mountinfo`), each with this process's cgroup in it
/// (`/proc/self/cgroup`): the directories beside which a job's v1 siblings are made.
fn v1_own_dirs() -> Vec<(&'static str, PathBuf)> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut dirs = Vec::new();
    for controller in ["memory", "pids", "cpu"] {
        let mount = mountinfo.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut right = right.split_whitespace();
            (right.next() == Some("cgroup")).then_some(())?;
            let options = right.nth(1)?;
            options
                .split(',')
                .any(|o| o == controller)
                .then(|| left.split_whitespace().nth(4).map(str::to_string))?
        });
        let path = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next(), parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        });
        if let (Some(mount), Some(path)) = (mount, path) {
            dirs.push((
                controller,
                Path::new(&mount).join(path.trim_start_matches('/')),
            ));
        }
    }
    dirs
}

fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// One usage read, as the library makes it; returns a sum so the reads are not optimised
/// away.
fn read_usage(job: &Path, v1: &[(&str, PathBuf)]) -> u64 {
    let mut sum = 0;
    if let Ok(stat) = std::fs::read_to_string(job.join("cpu.stat")) {
        sum += keyed(&stat, "user_usec").unwrap_or(0) + keyed(&stat, "system_usec").unwrap_or(0);
    }
    let mut memory_v2 = false;
    if let Ok(events) = std::fs::read_to_string(job.join("memory.events")) {
        memory_v2 = true;
        sum += keyed(&events, "oom_kill").unwrap_or(0);
        sum += read_u64(&job.join("memory.peak")).unwrap_or(0);
    }
    let mut pids_v2 = false;
    if job.join("pids.max").exists() {
        pids_v2 = true;
        sum += read_u64(&job.join("pids.peak")).unwrap_or(0);
    }
    if memory_v2 && pids_v2 {
        return sum;
    }
    let name = job.file_name().unwrap_or_default();
    for (controller, dir) in v1 {
        let sibling = dir.join(name);
        if !sibling.join("cgroup.procs").exists() {
            continue;
        }
        match *controller {
            "memory" if !memory_v2 => {
                sum += read_u64(&sibling.join("memory.max_usage_in_bytes")).unwrap_or(0);
                if let Ok(oom) = std::fs::read_to_string(sibling.join("memory.oom_control")) {
                    sum += keyed(&oom, "oom_kill").unwrap_or(0);
                }
            }
            "pids" if !pids_v2 => {
                sum += read_u64(&sibling.join("pids.peak")).unwrap_or(0);
            }
            _ => {}
        }
    }
    sum
}

/// Median spawn-to-reaped times of `true` as a cgroup job without and with `accounting`,
/// alternating.
fn accounting_cost(runs: usize) -> Result<(Duration, Duration), String> {
    let mut times: [Vec<Duration>; 2] = Default::default();
    for i in 0..runs + 3 {
        for (k, accounting) in [false, true].into_iter().enumerate() {
            let started = Instant::now();
            let mut job = Job::spawn(&SpawnInGroupConfig {
                argv: vec!["true".into()],
                containment: Containment::Cgroup,
                limits: JobLimits {
                    accounting,
                    ..Default::default()
                },
                stdin: StdioConfig::Null,
                stdout: StdioConfig::Null,
                stderr: StdioConfig::Null,
                ..Default::default()
            })
            .map_err(|e| format!("cannot start a job with a cgroup: {e}"))?
            .kill_on_drop(true);
            job.wait(None).map_err(|e| e.to_string())?;
            let took = started.elapsed();
            drop(job);
            if i >= 3 {
                times[k].push(took);
            }
        }
    }
    let [plain, accounted] = times.map(|mut t| median(&mut t));
    Ok((plain, accounted))
}

/// The median time of one usage read of a real job's cgroup (a job made with `accounting`,
/// as `sysprims run` makes it, running `sleep` so its cgroups stay while they are read).
fn usage_read(rounds: usize) -> Result<(Duration, Duration), String> {
    let mut job = Job::spawn(&SpawnInGroupConfig {
        argv: vec!["sleep".into(), "1000".into()],
        containment: Containment::Cgroup,
        limits: JobLimits {
            accounting: true,
            ..Default::default()
        },
        stdin: StdioConfig::Null,
        stdout: StdioConfig::Null,
        stderr: StdioConfig::Null,
        ..Default::default()
    })
    .map_err(|e| format!("cannot start a job with a cgroup: {e}"))?
    .kill_on_drop(true);
    let cgroup = job.cgroup().ok_or("the job has no cgroup")?.to_path_buf();
    let v1 = v1_own_dirs();
    let mut times = Vec::with_capacity(rounds);
    let mut sink = 0u64;
    for i in 0..rounds + 20 {
        let started = Instant::now();
        sink = sink.wrapping_add(read_usage(&cgroup, &v1));
        let took = started.elapsed();
        if i >= 20 {
            times.push(took);
        }
    }
    let mut library = Vec::with_capacity(rounds);
    for i in 0..rounds + 20 {
        let started = Instant::now();
        let usage = std::hint::black_box(job.usage());
        let took = started.elapsed();
        if usage.is_none() {
            return Err("Job::usage() gave nothing for a job with a cgroup".into());
        }
        if i >= 20 {
            library.push(took);
        }
    }
    std::hint::black_box(sink);
    let _ = job.kill();
    Ok((median(&mut times), median(&mut library)))
}
