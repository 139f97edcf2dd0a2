//! `sysprims-bench`: sysprims against its peers, as ratios measured in the same run.
//!
//! For each target process count (by default about 2,000, then about 10,000 processes in
//! `/proc`), the bench starts enough `sleep 3600` processes of its own to reach it (see
//! [`herd`]), then measures:
//!
//! - **a** wall time of `sysprims pstat --json` against `ps -eo
//!   pid,ppid,user,pcpu,rss,etimes,stat,comm,args`, both with stdout to `/dev/null`, run
//!   alternately (A B A B ...) after a warmup; target ratio <= 0.5;
//! - **b** wall time, in this process, of `sysprims::snapshot(&SnapshotOptions::default())`
//!   against the `procfs` crate reading `stat`, `cmdline` and `exe` of every process;
//!   target ratio <= 1.5;
//! - **c** peak RSS of the two commands of **a** (from `wait4`); target: sysprims <= 16 MiB;
//! - **d** how each cost grows from the first size to the others.
//!
//! It prints medians, ratios (ours / peer), targets and PASS/FAIL. The verdicts are
//! information: the exit status is 0 unless the bench itself failed. Every process the bench
//! started is ended and reaped before it exits.
//!
//! Usage: `sysprims-bench [--sizes 2000,10000] [--runs N] [--warmup N] [--sysprims PATH]`.

mod herd;
mod jobs;
mod measure;
mod net;
mod run;
mod signal;
mod timeout;

use std::ffi::OsString;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use herd::Herd;
use measure::{LAUNCH_FLAG, Run, measure, process_cpu_time};
use sysprims::SnapshotOptions;

/// The `ps` arguments of comparison a: the same fields `sysprims pstat` shows, and more.
const PS_ARGS: &[&str] = &["-eo", "pid,ppid,user,pcpu,rss,etimes,stat,comm,args"];
const PSTAT_ARGS: &[&str] = &["pstat", "--json"];

const TARGET_CLI_RATIO: f64 = 0.5;
const TARGET_LIB_RATIO: f64 = 1.5;
const TARGET_RSS_KB: u64 = 16 * 1024;

/// Processes (and threads) left free when checking that a size fits under the limits.
const PID_MARGIN: usize = 1000;
/// A rough upper bound of the memory one `sleep` costs (it is about 150 KiB).
const MEM_PER_CHILD_KB: u64 = 512;

struct Config {
    sizes: Vec<usize>,
    runs: usize,
    warmup: usize,
    sysprims: PathBuf,
}

const USAGE: &str = "\
usage: sysprims-bench [--sizes N,N,...] [--runs N] [--warmup N] [--sysprims PATH]

  --sizes     target numbers of processes in /proc, ascending (default 2000,10000)
  --runs      measured runs of each command at each size (default 21)
  --warmup    unmeasured runs of each command first (default 3)
  --sysprims  the sysprims binary (default: next to this binary)";

fn main() {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == LAUNCH_FLAG) {
        measure::launch(args.skip(1));
    }
    if args.peek().is_some_and(|a| a == signal::TARGET_FLAG) {
        signal::target_child(args.skip(1));
    }
    if args.peek().is_some_and(|a| a == "signal") {
        if let Err(msg) = signal::main(args.skip(1)) {
            eprintln!("sysprims-bench signal: {msg}");
            std::process::exit(1);
        }
        return;
    }
    if args.peek().is_some_and(|a| a == "timeout") {
        if let Err(msg) = timeout::main(args.skip(1)) {
            eprintln!("sysprims-bench timeout: {msg}");
            std::process::exit(1);
        }
        return;
    }
    if args.peek().is_some_and(|a| a == "run") {
        if let Err(msg) = run::main(args.skip(1)) {
            eprintln!("sysprims-bench run: {msg}");
            std::process::exit(1);
        }
        return;
    }
    if args.peek().is_some_and(|a| a == "jobs") {
        if let Err(msg) = jobs::main(args.skip(1)) {
            eprintln!("sysprims-bench jobs: {msg}");
            std::process::exit(1);
        }
        return;
    }
    if args.peek().is_some_and(|a| a == "net") {
        if let Err(msg) = net::main(args.skip(1)) {
            eprintln!("sysprims-bench net: {msg}");
            std::process::exit(1);
        }
        return;
    }
    let config = match parse_args(args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("sysprims-bench: {msg}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    // `run` owns the herd, so every background process is ended before the exit below.
    if let Err(msg) = run(&config) {
        eprintln!("sysprims-bench: {msg}");
        std::process::exit(1);
    }
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Config, String> {
    let mut config = Config {
        sizes: vec![2000, 10_000],
        runs: 21,
        warmup: 3,
        sysprims: default_sysprims(),
    };
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let mut value = || {
            args.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        let number = |v: &str| -> Result<usize, String> {
            v.trim()
                .replace('_', "")
                .parse::<usize>()
                .map_err(|_| format!("not a number: {v:?}"))
        };
        match arg.as_str() {
            "--sizes" => {
                let sizes = value()?
                    .split(',')
                    .map(number)
                    .collect::<Result<Vec<_>, _>>()?;
                if sizes.is_empty() || sizes.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("--sizes must be ascending".into());
                }
                config.sizes = sizes;
            }
            "--runs" => config.runs = number(&value()?)?.max(1),
            "--warmup" => config.warmup = number(&value()?)?,
            "--sysprims" => config.sysprims = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}

/// `sysprims` next to this binary (both are in `target/release`), else the workspace's
/// `target/release` as seen at compile time.
pub(crate) fn default_sysprims() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("sysprims")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/release/sysprims"
            ))
        })
}

/// Everything measured at one size.
struct SizeResult {
    /// Processes in `/proc`, averaged over before and after the measurements.
    procs: usize,
    ours_cli: Vec<Run>,
    peer_cli: Vec<Run>,
    ours_lib: Vec<LibRun>,
    peer_lib: Vec<LibRun>,
}

#[derive(Clone, Copy)]
struct LibRun {
    wall: Duration,
    cpu: Duration,
    listed: usize,
}

fn run(config: &Config) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let sysprims = &config.sysprims;
    if !sysprims.is_file() {
        return Err(format!(
            "no sysprims binary at {} (build it: cargo build --release -p sysprims-cli)",
            sysprims.display()
        ));
    }
    let ps = herd::which("ps").ok_or("no ps in PATH")?;
    let sleep = herd::which("sleep").ok_or("no sleep in PATH")?;
    let true_ = herd::which("true").ok_or("no true in PATH")?;

    let start_count = proc_pids().len();
    println!(
        "sysprims-bench, {} | Linux {} | {} CPUs | load average {}",
        utc_now(),
        read_trim("/proc/sys/kernel/osrelease"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    println!(
        "  ours:  {} {}  |  sysprims::snapshot(&SnapshotOptions::default())",
        sysprims.display(),
        PSTAT_ARGS.join(" ")
    );
    println!(
        "  peers: {} {}  ({})  |  procfs crate: stat() + cmdline() + exe() of all_processes()",
        ps.display(),
        PS_ARGS.join(" "),
        version_of(&ps)
    );
    println!(
        "  runs:  {} warmup + {} measured of each, alternating ours/peer; medians shown; \
         max RSS is the largest of the runs",
        config.warmup, config.runs
    );
    let floor = (0..5)
        .map(|_| measure(&me, &true_, &[]))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    println!(
        "  floor: `true` through the same launcher: {} wall, {} max RSS (spawn cost and RSS floor)",
        ms(median(floor.iter().map(|r| r.wall))),
        mib(floor.iter().map(|r| r.maxrss_kb).max().unwrap_or(0))
    );
    println!(
        "  /proc: {} processes at start; pid_max {}",
        thousands(start_count),
        read_trim("/proc/sys/kernel/pid_max")
    );

    let mut herd = Herd::new(sleep);
    let mut results: Vec<SizeResult> = Vec::new();
    for &size in &config.sizes {
        println!();
        let current = proc_pids().len();
        let need = size.saturating_sub(current);
        if let Err(why) = room_for(need) {
            println!("== about {} processes: SKIPPED, {why}", thousands(size));
            continue;
        }
        match herd.grow(need) {
            Ok(took) => println!(
                "== about {} processes: {} in /proc, the bench started {} more in {:.1} s \
                 ({} of its own in all, process group {})",
                thousands(size),
                thousands(current),
                thousands(need),
                took.as_secs_f64(),
                thousands(herd.len()),
                herd.pgid().map_or("-".into(), |g| g.to_string())
            ),
            Err(e) => {
                println!(
                    "== about {} processes: SKIPPED, starting process {} of {} failed: {e}",
                    thousands(size),
                    thousands(herd.len() + 1),
                    thousands(need)
                );
                break;
            }
        }
        let before = proc_pids().len();
        let (ours_cli, peer_cli) = alternate(config, || {
            Ok((
                measure(&me, sysprims, PSTAT_ARGS)?,
                measure(&me, &ps, PS_ARGS)?,
            ))
        })?;
        let (ours_lib, peer_lib) = alternate(config, || Ok((ours_lib()?, peer_lib()?)))?;
        let after = proc_pids().len();
        let result = SizeResult {
            procs: (before + after) / 2,
            ours_cli,
            peer_cli,
            ours_lib,
            peer_lib,
        };
        print_size(&result, before, after);
        results.push(result);
    }

    if results.len() > 1 {
        print_scaling(&results);
    }

    println!();
    let pgid = herd.pgid();
    let started = herd.len();
    let reaped = herd.end();
    let left = match pgid {
        Some(pgid) => herd::count_in_group(pgid)?,
        None => 0,
    };
    println!(
        "cleanup: started {} sleep processes (process group {}), killed and reaped {}; \
         left in the group: {}; /proc now has {} processes ({} at start)",
        thousands(started),
        pgid.map_or("-".into(), |g| g.to_string()),
        thousands(reaped),
        left,
        thousands(proc_pids().len()),
        thousands(start_count)
    );
    if left != 0 || reaped != started {
        return Err(format!(
            "{left} processes left in process group {pgid:?}; {reaped} of {started} reaped"
        ));
    }
    Ok(())
}

/// Warmup, then `config.runs` measured rounds of (ours, peer), each round running ours
/// then peer, so the two alternate A B A B ...
fn alternate<A, B>(
    config: &Config,
    mut round: impl FnMut() -> std::io::Result<(A, B)>,
) -> Result<(Vec<A>, Vec<B>), String> {
    for _ in 0..config.warmup {
        round().map_err(|e| e.to_string())?;
    }
    let mut ours = Vec::with_capacity(config.runs);
    let mut peer = Vec::with_capacity(config.runs);
    for _ in 0..config.runs {
        let (a, b) = round().map_err(|e| e.to_string())?;
        ours.push(a);
        peer.push(b);
    }
    Ok((ours, peer))
}

/// One in-process listing by sysprims.
fn ours_lib() -> std::io::Result<LibRun> {
    let cpu = process_cpu_time();
    let started = Instant::now();
    let snap = sysprims::snapshot(&SnapshotOptions::default()).map_err(std::io::Error::other)?;
    let wall = started.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu);
    let listed = black_box(&snap).processes.len();
    drop(snap);
    Ok(LibRun { wall, cpu, listed })
}

/// One in-process listing by the procfs crate: `stat`, `cmdline` and `exe` of every process,
/// errors ignored (as a process that exits mid-listing, or a kernel thread's missing exe).
fn peer_lib() -> std::io::Result<LibRun> {
    let cpu = process_cpu_time();
    let started = Instant::now();
    let mut out = Vec::new();
    for p in procfs::process::all_processes()
        .map_err(std::io::Error::other)?
        .flatten()
    {
        out.push((p.stat().ok(), p.cmdline().ok(), p.exe().ok()));
    }
    let wall = started.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu);
    let listed = black_box(&out).iter().filter(|p| p.0.is_some()).count();
    drop(out);
    Ok(LibRun { wall, cpu, listed })
}

fn print_size(r: &SizeResult, before: usize, after: usize) {
    println!(
        "   /proc had {} processes before these measurements, {} after",
        thousands(before),
        thousands(after)
    );
    println!(
        "  {:<48} {:>10} {:>10} {:>7}  {:<15} result",
        "measure (ours vs peer)", "ours", "peer", "ratio", "target"
    );

    time_rows(
        (
            "a  wall: sysprims pstat --json vs ps -eo",
            "a  CPU (user+sys): same commands",
        ),
        (&r.ours_cli, &r.peer_cli),
        |x| (x.wall, x.cpu),
        TARGET_CLI_RATIO,
    );
    time_rows(
        (
            "b  wall: snapshot() vs procfs stat+cmdline+exe",
            "b  CPU (all threads): same calls",
        ),
        (&r.ours_lib, &r.peer_lib),
        |x| (x.wall, x.cpu),
        TARGET_LIB_RATIO,
    );
    let (ol, pl) = (
        r.ours_lib.iter().map(|x| x.listed).max().unwrap_or(0),
        r.peer_lib.iter().map(|x| x.listed).max().unwrap_or(0),
    );
    row(
        "b  processes listed (largest run)",
        thousands(ol),
        thousands(pl),
        ol as f64 / pl.max(1) as f64,
        "-".into(),
        None,
    );

    let (om, pm) = (max_rss(&r.ours_cli), max_rss(&r.peer_cli));
    row(
        "c  max RSS: sysprims pstat --json vs ps -eo",
        mib(om),
        mib(pm),
        om as f64 / pm.max(1) as f64,
        format!("ours <= {} MiB", TARGET_RSS_KB / 1024),
        Some(om <= TARGET_RSS_KB),
    );
    let n = r.procs.max(1) as f64;
    println!(
        "   per process (wall): a {} vs {}, b {} vs {}",
        us(secs(median_of(&r.ours_cli, |x| x.wall)) / n),
        us(secs(median_of(&r.peer_cli, |x| x.wall)) / n),
        us(secs(median_of(&r.ours_lib, |x| x.wall)) / n),
        us(secs(median_of(&r.peer_lib, |x| x.wall)) / n),
    );
}

/// d: the first size against each later one.
fn print_scaling(results: &[SizeResult]) {
    let first = &results[0];
    for later in &results[1..] {
        let growth = later.procs as f64 / first.procs as f64;
        println!();
        println!(
            "== d  scaling from {} to {} processes (x{:.2})",
            thousands(first.procs),
            thousands(later.procs),
            growth
        );
        println!(
            "  {:<34} {:>12} {:>12} {:>12} {:>12}",
            "per process, median wall",
            format!("at {}", thousands(first.procs)),
            format!("at {}", thousands(later.procs)),
            "total grew",
            "per process"
        );
        let time_row = |label: &str, lo: Duration, hi: Duration| {
            let (lo, hi) = (secs(lo), secs(hi));
            println!(
                "  {label:<34} {:>12} {:>12} {:>11.2}x {:>11.2}x",
                us(lo / first.procs as f64),
                us(hi / later.procs as f64),
                hi / lo,
                (hi / later.procs as f64) / (lo / first.procs as f64)
            );
        };
        // The four sides, each as (label, median at the first size, median at this one).
        let sides = |cli: fn(&Run) -> Duration, lib: fn(&LibRun) -> Duration| {
            [
                (
                    "a  ours: sysprims pstat --json",
                    median_of(&first.ours_cli, cli),
                    median_of(&later.ours_cli, cli),
                ),
                (
                    "a  peer: ps -eo ...",
                    median_of(&first.peer_cli, cli),
                    median_of(&later.peer_cli, cli),
                ),
                (
                    "b  ours: snapshot()",
                    median_of(&first.ours_lib, lib),
                    median_of(&later.ours_lib, lib),
                ),
                (
                    "b  peer: procfs",
                    median_of(&first.peer_lib, lib),
                    median_of(&later.peer_lib, lib),
                ),
            ]
        };
        for (label, lo, hi) in sides(|x| x.wall, |x| x.wall) {
            time_row(label, lo, hi);
        }
        println!("  per process, median CPU (user+sys, all threads)");
        for (label, lo, hi) in sides(|x| x.cpu, |x| x.cpu) {
            time_row(label, lo, hi);
        }
        let ratio =
            |o: &[Run], p: &[Run]| secs(median_of(o, |x| x.wall)) / secs(median_of(p, |x| x.wall));
        let lib_ratio = |o: &[LibRun], p: &[LibRun]| {
            secs(median_of(o, |x| x.wall)) / secs(median_of(p, |x| x.wall))
        };
        println!(
            "  ratio a (target <= {TARGET_CLI_RATIO:.2}): {:.2} -> {:.2};  ratio b (target <= {TARGET_LIB_RATIO:.2}): {:.2} -> {:.2}",
            ratio(&first.ours_cli, &first.peer_cli),
            ratio(&later.ours_cli, &later.peer_cli),
            lib_ratio(&first.ours_lib, &first.peer_lib),
            lib_ratio(&later.ours_lib, &later.peer_lib),
        );
        let added = later.procs.saturating_sub(first.procs).max(1) as f64;
        let mem_row = |label: &str, lo: u64, hi: u64| {
            println!(
                "  {label:<34} {:>12} {:>12} {:>11.2}x {:>8.0} B/proc",
                mib(lo),
                mib(hi),
                hi as f64 / lo.max(1) as f64,
                (hi as f64 - lo as f64) * 1024.0 / added
            );
        };
        println!(
            "  {:<34} {:>12} {:>12} {:>12} {:>12}",
            "max RSS",
            format!("at {}", thousands(first.procs)),
            format!("at {}", thousands(later.procs)),
            "grew",
            "marginal"
        );
        mem_row(
            "c  ours: sysprims pstat --json",
            max_rss(&first.ours_cli),
            max_rss(&later.ours_cli),
        );
        mem_row(
            "c  peer: ps -eo ...",
            max_rss(&first.peer_cli),
            max_rss(&later.peer_cli),
        );
    }
}

/// Whether `need` more processes fit under pid_max, threads-max, the pids cgroup and memory.
fn room_for(need: usize) -> Result<(), String> {
    if need == 0 {
        return Ok(());
    }
    let tasks = read_trim("/proc/loadavg")
        .split_whitespace()
        .nth(3)
        .and_then(|f| f.split('/').nth(1)?.parse::<usize>().ok())
        .unwrap_or(0);
    // PIDs below 300 are not handed out again once the PID counter wraps.
    let pid_max: usize = read_trim("/proc/sys/kernel/pid_max")
        .parse()
        .unwrap_or(32768);
    let pid_room = pid_max.saturating_sub(300 + tasks + PID_MARGIN);
    if need > pid_room {
        return Err(format!(
            "/proc/sys/kernel/pid_max is {pid_max} and {tasks} tasks exist: room for {pid_room} \
             more (keeping {PID_MARGIN} free), {need} needed"
        ));
    }
    if let Ok(threads_max) = read_trim("/proc/sys/kernel/threads-max").parse::<usize>()
        && tasks + need + PID_MARGIN > threads_max
    {
        return Err(format!(
            "kernel.threads-max is {threads_max} and {tasks} tasks exist, {need} more needed"
        ));
    }
    if let Some((max, current)) = pids_cgroup()
        && current + need + PID_MARGIN > max
    {
        return Err(format!(
            "the pids cgroup allows {max} tasks and has {current}, {need} more needed"
        ));
    }
    let available_kb = read_trim("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    if let Some(kb) = available_kb
        && need as u64 * MEM_PER_CHILD_KB + 256 * 1024 > kb
    {
        return Err(format!(
            "{} MiB of memory available, about {} MiB needed",
            kb / 1024,
            (need as u64 * MEM_PER_CHILD_KB) / 1024 + 256
        ));
    }
    Ok(())
}

/// (pids.max, pids.current) of this process's pids cgroup, when it has a limit.
fn pids_cgroup() -> Option<(usize, usize)> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let dir = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.split(',').any(|c| c == "pids") {
            Some(format!("/sys/fs/cgroup/pids{path}"))
        } else if id == "0" && controllers.is_empty() {
            Some(format!("/sys/fs/cgroup{path}"))
        } else {
            None
        }
    })?;
    let max = read_trim(&format!("{dir}/pids.max")).parse().ok()?;
    let current = read_trim(&format!("{dir}/pids.current")).parse().ok()?;
    Some((max, current))
}

/// The PIDs in `/proc` (processes, not threads).
pub fn proc_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn loadavg() -> String {
    read_trim("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn version_of(program: &std::path::Path) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "version unknown".into())
}

fn median(values: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = values.collect();
    v.sort_unstable();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// One report row: what, ours, peer, ratio, target, verdict (`None`: information only).
fn row(label: &str, ours: String, peer: String, ratio: f64, target: String, pass: Option<bool>) {
    let verdict = match pass {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "info",
    };
    println!("  {label:<48} {ours:>10} {peer:>10} {ratio:>7.2}  {target:<15} {verdict}");
}

/// Two report rows for one comparison: median wall time against a target ratio, and median
/// CPU time for information. `times` gives a run's (wall, CPU).
fn time_rows<T>(
    (wall_label, cpu_label): (&str, &str),
    (ours, peer): (&[T], &[T]),
    times: impl Fn(&T) -> (Duration, Duration),
    target: f64,
) {
    let (ow, pw) = (
        median_of(ours, |x| times(x).0),
        median_of(peer, |x| times(x).0),
    );
    let ratio = secs(ow) / secs(pw);
    row(
        wall_label,
        ms(ow),
        ms(pw),
        ratio,
        format!("<= {target:.2}"),
        Some(ratio <= target),
    );
    let (oc, pc) = (
        median_of(ours, |x| times(x).1),
        median_of(peer, |x| times(x).1),
    );
    row(
        cpu_label,
        ms(oc),
        ms(pc),
        secs(oc) / secs(pc),
        "-".into(),
        None,
    );
}

fn median_of<T>(runs: &[T], f: impl Fn(&T) -> Duration) -> Duration {
    median(runs.iter().map(f))
}

fn max_rss(runs: &[Run]) -> u64 {
    runs.iter().map(|r| r.maxrss_kb).max().unwrap_or(0)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(seconds: f64) -> String {
    format!("{:.2} us", seconds * 1e6)
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        let left = digits.len() - i;
        if i > 0 && left / 3 * 3 == left {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The current time as "YYYY-MM-DD HH:MM UTC".
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
