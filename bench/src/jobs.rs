//! `sysprims-bench jobs`: starting, waiting for and ending jobs, against the plain ways.
//!
//! - **spawn**: `spawn_in_group` (cgroup mode, and process-group mode) against
//!   `std::process::Command::new(..).process_group(0).spawn()`, all running `true` with
//!   `/dev/null` streams; median time to return from the spawn (the child is reaped after,
//!   untimed). From this small process, then again after it has allocated and written 1 GiB:
//!   a spawn that forks copies the parent's page tables, one that vforks (`posix_spawn`,
//!   `clone3` with `CLONE_VFORK | CLONE_VM`) does not. Target: cgroup mode <= 1.5x std.
//! - **wait**: how long after a child's exit each way of waiting returns. The child is `cat`
//!   with its stdin a pipe; the clock starts when the bench closes the pipe, so each figure
//!   also holds `cat`'s own reaction to end-of-file, the same for every way. Ways: blocking
//!   `waitpid` (the floor), `wait_pid`, and a loop calling `waitpid(WNOHANG)` every 25 ms
//!   (what the reference implementation does). Target: `wait_pid` within 1 ms of the floor.
//! - **terminate**: a 200-process job (`sh` and 199 `sleep`s, all honouring SIGTERM) started
//!   with `spawn_in_group` in cgroup mode, ended by `terminate_tree`; against the same tree in
//!   a process group ended by `killpg(pgid, SIGTERM)` and reaping the group until it is empty.
//!   Every process is up before the clock starts. Target: `terminate_tree` <= 50 ms.
//!
//! - **env**: `spawn_in_group` of `true` with an environment of 10,000 and of 100,000 entries
//!   (`env_clear`, process-group mode); the ratio of the medians. Merging the entries is
//!   linear, so the ratio is about 10 (the kernel copies ten times as much); a merge that
//!   searched the list per entry was quadratic (about 100). Target: ratio <= 20.
//!
//! The bench makes itself a child subreaper, so every process it starts, grandchildren
//! included, ends up its child and is reaped by it. A guard kills each job (its cgroup, its
//! process group) and reaps it on every path out, errors and panics included.

use std::ffi::OsString;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sysprims::{
    Containment, ContainmentKind, SpawnInGroupConfig, StdioConfig, TerminateTreeConfig,
};

const TARGET_SPAWN_RATIO: f64 = 1.5;
const TARGET_WAIT_LAG: Duration = Duration::from_millis(1);
const TARGET_TERMINATE: Duration = Duration::from_millis(50);
const POLL_INTERVAL: Duration = Duration::from_millis(25);
const TREE_SIZE: usize = 200;
const TARGET_ENV_RATIO: f64 = 20.0;

const USAGE: &str = "\
usage: sysprims-bench jobs [--spawns N] [--waits N] [--trees N] [--no-big] [--env-only]

  --spawns  spawns of each way, at each parent size (default 201)
  --waits   waits of each way (default 41)
  --trees   200-process trees ended by each way (default 11)
  --no-big  skip the 1 GiB parent
  --env-only  only the env section (10,000 and 100,000 entries)";

struct Config {
    spawns: usize,
    waits: usize,
    trees: usize,
    big: bool,
    env_only: bool,
}

pub fn main(mut args: impl Iterator<Item = OsString>) -> Result<(), String> {
    let mut config = Config {
        spawns: 201,
        waits: 41,
        trees: 11,
        big: true,
        env_only: false,
    };
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut number = || crate::measure::count_value(&mut args, &arg);
        match arg.as_str() {
            "--spawns" => config.spawns = number()?,
            "--waits" => config.waits = number()?,
            "--trees" => config.trees = number()?,
            "--no-big" => config.big = false,
            "--env-only" => config.env_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    // Orphans (the `sleep`s of a tree whose `sh` died first) become our children, so the
    // bench reaps every process it started.
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) } != 0 {
        return Err(format!(
            "PR_SET_CHILD_SUBREAPER: {}",
            std::io::Error::last_os_error()
        ));
    }
    let true_path = which("true")?;
    let cat_path = which("cat")?;
    let cgroup = cgroup_available();
    println!(
        "sysprims-bench jobs | {} | cgroup mode: {}",
        kernel(),
        match &cgroup {
            Ok(path) => format!("yes, jobs under {}", path.display()),
            Err(why) => format!("no ({why})"),
        }
    );
    println!();

    if !config.env_only {
        spawn_section(&config, &true_path, cgroup.as_deref().ok())?;
        wait_section(&config, &cat_path)?;
        terminate_section(&config, cgroup.is_ok())?;
    }
    env_section(&true_path)?;
    let left = reap_all();
    println!("cleanup: every process started was ended and reaped ({left} reaped at the end)");
    Ok(())
}

// -------------------------------------------------------------------------------------------
// env

fn env_section(true_path: &Path) -> Result<(), String> {
    const RUNS: usize = 7;
    println!(
        "env: time to return from the spawn of {} with N environment entries, {RUNS} runs; \
         medians",
        true_path.display()
    );
    let mut medians = Vec::new();
    for n in [10_000usize, 100_000] {
        let config = SpawnInGroupConfig {
            argv: vec![true_path.display().to_string()],
            env: (0..n)
                .map(|i| (format!("K{i:x}"), "v".to_string()))
                .collect(),
            env_clear: true,
            containment: Containment::ProcessGroup,
            stdin: StdioConfig::Null,
            stdout: StdioConfig::Null,
            stderr: StdioConfig::Null,
            ..Default::default()
        };
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let job = sysprims::spawn_in_group(&config).map_err(|e| e.to_string())?;
            times.push(start.elapsed());
            let guard = JobGuard::new(job.pid, job.cgroup.clone());
            sysprims::wait_pid(job.pid, None).map_err(|e| e.to_string())?;
            guard.reaped();
        }
        let m = median(&mut times);
        println!("  {n:>7} entries: {:>9}", ms(m));
        medians.push(m);
    }
    let ratio = secs(medians[1]) / secs(medians[0]);
    println!(
        "  100,000 / 10,000: {ratio:.1}x (linear ~10x, quadratic ~100x)  target <= {TARGET_ENV_RATIO}x  {}",
        verdict(ratio <= TARGET_ENV_RATIO)
    );
    println!();
    Ok(())
}

// -------------------------------------------------------------------------------------------
// spawn

fn spawn_section(config: &Config, true_path: &Path, cgroup: Option<&Path>) -> Result<(), String> {
    println!(
        "spawn: time to return from the spawn of {} with /dev/null streams, {} of each way, \
         alternating; medians",
        true_path.display(),
        config.spawns
    );
    println!(
        "  {:<44} {:>9} {:>9} {:>7}  target",
        "", "ours", "std", "ratio"
    );
    spawn_rows("small parent", config, true_path, cgroup)?;
    if config.big {
        let available_kb = meminfo("MemAvailable:").unwrap_or(0);
        if available_kb < 3 * 1024 * 1024 {
            println!(
                "  1 GiB parent: skipped, only {} MiB available",
                available_kb / 1024
            );
        } else {
            let mut big = vec![0u8; 1 << 30];
            // Write every page, so each is really mapped.
            for i in (0..big.len()).step_by(4096) {
                big[i] = 1;
            }
            black_box(&mut big);
            spawn_rows("1 GiB parent", config, true_path, cgroup)?;
            drop(big);
        }
    }
    println!();
    Ok(())
}

fn spawn_rows(
    label: &str,
    config: &Config,
    true_path: &Path,
    cgroup: Option<&Path>,
) -> Result<(), String> {
    let program = true_path.to_string_lossy().into_owned();
    let ours = |containment: Containment| -> Result<Duration, String> {
        let spawn_config = SpawnInGroupConfig {
            argv: vec![program.clone()],
            stdin: StdioConfig::Null,
            stdout: StdioConfig::Null,
            stderr: StdioConfig::Null,
            containment,
            ..SpawnInGroupConfig::default()
        };
        let started = Instant::now();
        let job = sysprims::spawn_in_group(&spawn_config).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let guard = JobGuard::new(job.pid, job.cgroup.clone());
        drop(guard); // reaps the child and removes its cgroup
        Ok(took)
    };
    let peer = || -> Result<Duration, String> {
        let mut cmd = Command::new(true_path);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let took = started.elapsed();
        child.wait().map_err(|e| e.to_string())?;
        Ok(took)
    };
    // What one writes without clone3: make the cgroup, then std spawn with a pre_exec
    // closure that moves the child into it, which makes std fork instead of posix_spawn.
    let forked_into = |parent: &Path, n: usize| -> Result<Duration, String> {
        let started = Instant::now();
        let dir = parent.join(format!("sysprims-bench-fork-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let procs = std::fs::File::options()
            .write(true)
            .open(dir.join("cgroup.procs"))
            .map_err(|e| e.to_string())?;
        let fd = procs.as_raw_fd();
        let mut cmd = Command::new(true_path);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // SAFETY: the closure only calls write(2), which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                if libc::write(fd, b"0".as_ptr().cast(), 1) == 1 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let spawned = cmd.spawn();
        let took = started.elapsed();
        if let Ok(mut child) = spawned {
            let _ = child.wait();
        }
        drop(procs);
        std::fs::remove_dir(&dir).map_err(|e| e.to_string())?;
        Ok(took)
    };
    let mut times: [Vec<Duration>; 4] = Default::default();
    for round in 0..config.spawns + config.spawns / 10 {
        let cg = match cgroup {
            Some(_) => Some(ours(Containment::Cgroup)?),
            None => None,
        };
        let pg = ours(Containment::ProcessGroup)?;
        let std = peer()?;
        if round >= config.spawns / 10 {
            if let Some(cg) = cg {
                times[0].push(cg);
            }
            times[1].push(pg);
            times[2].push(std);
        }
    }
    // Apart, after the others: a fork write-protects every page of the parent, and the
    // copy-on-write faults that follow would be charged to whichever way ran next.
    if let Some(parent) = cgroup {
        for round in 0..config.spawns {
            times[3].push(forked_into(parent, round)?);
        }
    }
    let std = median(&mut times[2]);
    let rss =
        meminfo_self("VmRSS:").map_or_else(String::new, |kb| format!(", RSS {} MiB", kb / 1024));
    println!("  {label}{rss}");
    if cgroup.is_some() {
        let cg = median(&mut times[0]);
        let ratio = secs(cg) / secs(std);
        println!(
            "  {:<44} {:>9} {:>9} {:>6.2}x  <= {TARGET_SPAWN_RATIO}x  {}",
            "spawn_in_group cgroup vs std",
            ms(cg),
            ms(std),
            ratio,
            verdict(ratio <= TARGET_SPAWN_RATIO)
        );
        let fork = median(&mut times[3]);
        println!(
            "  {:<44} {:>9} {:>9} {:>6.2}x  (information)",
            "mkdir + std spawn with pre_exec into cgroup",
            ms(fork),
            ms(std),
            secs(fork) / secs(std)
        );
    } else {
        println!("  spawn_in_group, cgroup: skipped, no writable cgroup v2 here");
    }
    let pg = median(&mut times[1]);
    println!(
        "  {:<44} {:>9} {:>9} {:>6.2}x  (information)",
        "spawn_in_group process_group vs std",
        ms(pg),
        ms(std),
        secs(pg) / secs(std)
    );
    Ok(())
}

// -------------------------------------------------------------------------------------------
// wait

fn wait_section(config: &Config, cat: &Path) -> Result<(), String> {
    println!(
        "wait: from closing the stdin of `cat` (our child) to the wait returning, {} of each \
         way, alternating; medians",
        config.waits
    );
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut wait_pid_error = None;
    for round in 0..config.waits + 2 {
        let floor = one_wait(cat, |pid| {
            waitpid_blocking(pid);
            Ok(())
        })?;
        let ours = one_wait(cat, |pid| {
            let r = sysprims::wait_pid(pid, Some(Duration::from_secs(10)))
                .map_err(|e| e.to_string())?;
            if !r.exited {
                return Err("wait_pid timed out after 10 s".into());
            }
            Ok(())
        });
        let polled = one_wait(cat, |pid| {
            poll_waitpid(pid, POLL_INTERVAL);
            Ok(())
        })?;
        let ours = match ours {
            Ok(d) => Some(d),
            Err(e) => {
                wait_pid_error = Some(e);
                None
            }
        };
        if round >= 2 {
            times[0].push(floor);
            if let Some(d) = ours {
                times[1].push(d);
            }
            times[2].push(polled);
        }
    }
    let floor = median(&mut times[0]);
    println!("  {:<44} {:>9}  {:>10}  target", "", "median", "over floor");
    println!(
        "  {:<44} {:>9}  {:>10}",
        "blocking waitpid (floor)",
        ms(floor),
        "-"
    );
    if times[1].is_empty() {
        println!(
            "  {:<44} not measured: {}",
            "sysprims::wait_pid",
            wait_pid_error.unwrap_or_default()
        );
    } else {
        let ours = median(&mut times[1]);
        let over = ours.saturating_sub(floor);
        println!(
            "  {:<44} {:>9}  {:>10}  <= {} ms  {}",
            "sysprims::wait_pid",
            ms(ours),
            ms(over),
            TARGET_WAIT_LAG.as_millis(),
            verdict(over <= TARGET_WAIT_LAG)
        );
    }
    let polled = median(&mut times[2]);
    println!(
        "  {:<44} {:>9}  {:>10}  (the reference implementation's way)",
        "waitpid(WNOHANG) every 25 ms",
        ms(polled),
        ms(polled.saturating_sub(floor))
    );
    println!();
    Ok(())
}

/// Start `cat`, close its stdin, and time `wait` from the close to its return. The child is
/// reaped by `wait` (or, when `wait` fails, by the guard).
fn one_wait(cat: &Path, wait: impl FnOnce(u32) -> Result<(), String>) -> Result<Duration, String> {
    let mut child = Command::new(cat)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn cat: {e}"))?;
    let pid = child.id();
    let guard = JobGuard::new(pid, None);
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    // A byte through cat and back: it is running and in its read loop.
    stdin.write_all(b"x").map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut byte).map_err(|e| e.to_string())?;
    let started = Instant::now();
    drop(stdin);
    wait(pid)?;
    let took = started.elapsed();
    guard.reaped();
    Ok(took)
}

fn waitpid_blocking(pid: u32) {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child, with a valid status pointer.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if r == pid as libc::pid_t
            || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR)
        {
            return;
        }
    }
}

/// The reference implementation's wait: check, sleep 25 ms, check again.
fn poll_waitpid(pid: u32, interval: Duration) {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child, with a valid status pointer.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
        if r != 0 {
            return;
        }
        std::thread::sleep(interval);
    }
}

// -------------------------------------------------------------------------------------------
// terminate

/// `sh` starting 199 `sleep`s, then saying `ready` on stdout and waiting. Every process
/// dies on SIGTERM. (Background children of a non-interactive `sh` ignore only INT and QUIT.)
const TREE_SCRIPT: &str =
    "i=1; while [ $i -lt 200 ]; do sleep 1000 & i=$((i+1)); done; echo ready; wait";

fn terminate_section(config: &Config, cgroup: bool) -> Result<(), String> {
    println!(
        "terminate: a job of {TREE_SIZE} processes that honour SIGTERM, all running before \
         the clock starts, {} of each way, alternating; medians",
        config.trees
    );
    if !cgroup {
        println!("  skipped: no writable cgroup v2 here (the target is for cgroup jobs)");
        println!();
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("sysprims-bench-jobs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let _dir_guard = DirGuard(dir.clone());
    let fifo = dir.join("ready");
    mkfifo(&fifo)?;
    // Read and write: opening does not wait for a writer, and there is never an end-of-file.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(reader);

    let mut ours = Vec::new();
    let mut peer = Vec::new();
    let mut signalled = 0;
    let mut ours_error = None;
    for _ in 0..config.trees {
        match terminate_ours(&fifo, &mut reader) {
            Ok((took, count)) => {
                ours.push(took);
                signalled = count;
            }
            Err(e) => ours_error = Some(e),
        }
        peer.push(terminate_peer(&fifo, &mut reader)?);
    }
    let peer = median(&mut peer);
    println!(
        "  {:<44} {:>9} {:>9} {:>7}  target",
        "", "ours", "peer", "ratio"
    );
    if ours.is_empty() {
        println!(
            "  terminate_tree: not measured: {}",
            ours_error.unwrap_or_default()
        );
        println!("  {:<44} {:>9}", "killpg(TERM) + reap the group", ms(peer));
    } else {
        let ours = median(&mut ours);
        println!(
            "  {:<44} {:>9} {:>9} {:>6.2}x  <= {} ms  {}",
            "terminate_tree (cgroup) vs killpg+reap",
            ms(ours),
            ms(peer),
            secs(ours) / secs(peer),
            TARGET_TERMINATE.as_millis(),
            verdict(ours <= TARGET_TERMINATE)
        );
        println!("  (terminate_tree signalled {signalled} processes per run)");
    }
    println!();
    Ok(())
}

fn tree_config(fifo: &Path, containment: Containment) -> SpawnInGroupConfig {
    SpawnInGroupConfig {
        argv: vec!["sh".into(), "-c".into(), TREE_SCRIPT.into()],
        stdin: StdioConfig::Null,
        stdout: StdioConfig::File {
            path: fifo.to_path_buf(),
            append: false,
        },
        stderr: StdioConfig::Null,
        containment,
        ..SpawnInGroupConfig::default()
    }
}

fn expect_ready(reader: &mut impl BufRead) -> Result<(), String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim() != "ready" {
        return Err(format!("the tree said {line:?}"));
    }
    Ok(())
}

/// One cgroup job of 200, ended by `terminate_tree`: (wall time, processes signalled).
fn terminate_ours(fifo: &Path, reader: &mut impl BufRead) -> Result<(Duration, u32), String> {
    let job = sysprims::spawn_in_group(&tree_config(fifo, Containment::Cgroup))
        .map_err(|e| e.to_string())?;
    let guard = JobGuard::new(job.pid, job.cgroup.clone());
    if job.containment != ContainmentKind::CgroupV2 {
        return Err("the job is not in a cgroup".into());
    }
    expect_ready(reader)?;
    let cgroup = job.cgroup.as_ref().ok_or("no cgroup path")?;
    let members = count_lines(&cgroup.join("cgroup.procs"));
    if members != TREE_SIZE {
        return Err(format!(
            "{members} processes in the job's cgroup, {TREE_SIZE} expected"
        ));
    }
    let config = TerminateTreeConfig {
        grace_timeout_ms: 5_000,
        kill_timeout_ms: 2_000,
        ..TerminateTreeConfig::default()
    };
    let started = Instant::now();
    let result = sysprims::terminate_tree(job.pid, &config).map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !result.exited || result.escalated {
        return Err(format!(
            "terminate_tree: exited {}, escalated {}, survivors {:?}",
            result.exited, result.escalated, result.survivors
        ));
    }
    drop(guard); // reaps the 200 (they are our children or grandchildren: we are a subreaper)
    Ok((took, result.signalled))
}

/// The same tree in a process group, ended by `killpg(SIGTERM)` and reaping the group until
/// it is empty (a subreaper sees every member as its child once `sh` has died).
fn terminate_peer(fifo: &Path, reader: &mut impl BufRead) -> Result<Duration, String> {
    let stdout = std::fs::OpenOptions::new()
        .write(true)
        .open(fifo)
        .map_err(|e| e.to_string())?;
    let child = Command::new("sh")
        .args(["-c", TREE_SCRIPT])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn sh: {e}"))?;
    let pgid = child.id() as libc::pid_t;
    let guard = JobGuard::new(child.id(), None);
    expect_ready(reader)?;
    let started = Instant::now();
    // SAFETY: killpg of the group our unreaped child leads.
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let mut reaped = 0;
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own process group, with a valid status pointer.
        let r = unsafe { libc::waitpid(-pgid, &mut status, 0) };
        if r > 0 {
            reaped += 1;
        } else if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break; // ECHILD: the group is empty
        }
    }
    let took = started.elapsed();
    guard.reaped();
    if reaped != TREE_SIZE {
        return Err(format!(
            "reaped {reaped} of the group, {TREE_SIZE} expected"
        ));
    }
    Ok(took)
}

// -------------------------------------------------------------------------------------------
// Cleanup

/// Ends a job on drop: its cgroup (`cgroup.kill`), its process group, then reaps every child
/// of the bench (which, as a subreaper, includes the job's orphans), and removes the cgroup.
struct JobGuard {
    pid: u32,
    cgroup: Option<PathBuf>,
    reaped: bool,
}

impl JobGuard {
    fn new(pid: u32, cgroup: Option<PathBuf>) -> JobGuard {
        JobGuard {
            pid,
            cgroup,
            reaped: false,
        }
    }

    /// The leader has been reaped (by the way measured): its PID, and so its group ID, may
    /// name someone else's now, so the group is not signalled.
    fn reaped(mut self) {
        self.reaped = true;
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if let Some(cgroup) = &self.cgroup {
            let _ = std::fs::write(cgroup.join("cgroup.kill"), "1");
        }
        if !self.reaped {
            // SAFETY: killpg of the group our unreaped child leads.
            unsafe { libc::killpg(self.pid as libc::pid_t, libc::SIGKILL) };
        }
        reap_all();
        if let Some(cgroup) = &self.cgroup {
            let _ = std::fs::remove_dir(cgroup);
        }
    }
}

/// Reap every child until none is left. Only called when every process the bench started
/// has been killed (or has exited), so the blocking waits end.
fn reap_all() -> usize {
    let mut reaped = 0;
    let mut status = 0;
    loop {
        // SAFETY: waitpid on any child, with a valid status pointer.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r > 0 {
            reaped += 1;
        } else if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return reaped;
        }
    }
}

struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// -------------------------------------------------------------------------------------------
// Helpers

/// Where a job's cgroup would go: this process's own cgroup v2 directory, if it is writable.
fn cgroup_available() -> Result<PathBuf, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let mount = mountinfo
        .lines()
        .find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            (right.split_whitespace().next() == Some("cgroup2"))
                .then(|| left.split_whitespace().nth(4).map(str::to_string))?
        })
        .ok_or("no cgroup2 mount")?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .ok_or("no cgroup v2 line in /proc/self/cgroup")?;
    let dir = Path::new(&mount).join(own.trim_start_matches('/'));
    let probe = dir.join(format!("sysprims-bench-probe-{}", std::process::id()));
    std::fs::create_dir(&probe).map_err(|e| format!("{}: {e}", dir.display()))?;
    let _ = std::fs::remove_dir(&probe);
    Ok(dir)
}

fn mkfifo(path: &Path) -> Result<(), String> {
    let c =
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: mkfifo with a valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(format!(
            "mkfifo {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn count_lines(path: &Path) -> usize {
    File::open(path)
        .map(|f| BufReader::new(f).lines().count())
        .unwrap_or(0)
}

fn which(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{program} is not on PATH"))
}

fn meminfo(key: &str) -> Option<u64> {
    field_kb("/proc/meminfo", key)
}

fn meminfo_self(key: &str) -> Option<u64> {
    field_kb("/proc/self/status", key)
}

fn field_kb(path: &str, key: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "kernel unknown".into())
}

pub(crate) fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}
