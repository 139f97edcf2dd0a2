//! `sysprims-bench net`: `sysprims ports` and `sysprims fds` against `ss` and `lsof`, and the
//! two ways of listing sockets (`NETLINK_SOCK_DIAG`, `/proc/net/*`) against each other.
//!
//! The bench starts holder processes (this binary again, with `--holder`) that bind the
//! sockets and open the fds, each reporting `ready` once they are open, then measures:
//!
//! - **a** wall time of `sysprims ports --json` against `ss -ltunp`, with a holder of 1,000
//!   TCP listeners on 127.0.0.1; target ratio <= 1.0;
//! - **b** wall time of `sysprims fds PID --json` against `lsof -p PID` for a holder with
//!   10,000 open fds (9,000 files, 1,000 Unix sockets); target ratio <= 1.0;
//! - **c** in this process, listing the listening sockets through netlink against parsing
//!   `/proc/net/{tcp,tcp6,udp,udp6}`, first with the 1,000 listeners, then with 2,000
//!   established loopback connections added (which `/proc/net/tcp` lists and netlink's
//!   state filter skips in the kernel).
//!
//! Each pair alternates (A B A B) after a warmup; the report gives medians and ratios (ours /
//! peer). Verdicts are information: the exit status is 0 unless the bench could not measure.
//! Every holder is killed by PID and reaped when its guard drops, on error and panic too, and
//! gets `SIGKILL` from the kernel if the bench dies (`PR_SET_PDEATHSIG`).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::herd::{die_with_parent, which};
use crate::measure::{Run, measure};

const USAGE: &str = "\
usage: sysprims-bench net [--listeners N] [--fds N] [--connections N] [--runs N] [--warmup N] [--sysprims PATH]

  --listeners    TCP listeners the ports holder binds (default 1000)
  --fds          open fds of the fds holder (default 10000)
  --connections  established loopback connections for comparison c (default 1000 pairs)
  --runs         measured runs of each command (default 21)
  --warmup       unmeasured runs first (default 3)
  --sysprims     the sysprims binary (default: next to this binary)";

struct Config {
    listeners: usize,
    fds: usize,
    connections: usize,
    runs: usize,
    warmup: usize,
    sysprims: PathBuf,
}

/// Entry point of `sysprims-bench net ...`.
pub fn main(args: impl Iterator<Item = OsString>) -> Result<(), String> {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    if args.first().map(String::as_str) == Some("--holder") {
        holder(&args[1..]);
    }
    let mut config = Config {
        listeners: 1000,
        fds: 10_000,
        connections: 1000,
        runs: 21,
        warmup: 3,
        sysprims: default_sysprims(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return Ok(());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?;
        let number = || {
            value
                .replace('_', "")
                .parse::<usize>()
                .map_err(|_| format!("not a number: {value:?}"))
        };
        match arg.as_str() {
            "--listeners" => config.listeners = number()?.max(1),
            "--fds" => config.fds = number()?.max(10),
            "--connections" => config.connections = number()?,
            "--runs" => config.runs = number()?.max(1),
            "--warmup" => config.warmup = number()?,
            "--sysprims" => config.sysprims = PathBuf::from(value),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    run(&config)
}

fn default_sysprims() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("sysprims")))
        .unwrap_or_else(|| PathBuf::from("sysprims"))
}

/// A holder process, killed by PID and reaped on drop.
struct Holder {
    child: Child,
}

impl Holder {
    fn start(listeners: usize, connections: usize, fds: usize) -> Result<Holder, String> {
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.args(["net", "--holder"])
            .args([listeners, connections, fds].map(|n| n.to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        die_with_parent(&mut cmd);
        // The guard owns the child from its first moment: any error below ends it.
        let mut holder_guard = Holder {
            child: cmd.spawn().map_err(|e| format!("start holder: {e}"))?,
        };
        let stdout = holder_guard.child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("holder: {e}"))?;
        if line.trim() != "ready" {
            return Err(format!("holder failed to open its sockets/fds: {line:?}"));
        }
        Ok(holder_guard)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // By PID: the holder forks nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The holder: bind `listeners` TCP listeners on 127.0.0.1, make `connections` loopback
/// connections, open `fds` more fds (9 in 10 `/dev/null`, the rest Unix socket pairs), say
/// `ready`, and wait until stdin closes.
fn holder(args: &[String]) -> ! {
    let n = |i: usize| {
        args.get(i)
            .and_then(|a| a.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (listeners, connections, fds) = (n(0), n(1), n(2));
    raise_nofile(listeners + 2 * connections + fds + 64);
    let fail = |what: &str, e: std::io::Error| -> ! {
        println!("failed: {what}: {e}");
        std::process::exit(1);
    };
    let mut keep_listeners = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        match std::net::TcpListener::bind("127.0.0.1:0") {
            Ok(l) => keep_listeners.push(l),
            Err(e) => fail("bind", e),
        }
    }
    let mut keep_streams = Vec::with_capacity(2 * connections);
    if connections > 0 {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail("bind", e));
        let addr = server.local_addr().unwrap_or_else(|e| fail("addr", e));
        for _ in 0..connections {
            let c = std::net::TcpStream::connect(addr).unwrap_or_else(|e| fail("connect", e));
            let (s, _) = server.accept().unwrap_or_else(|e| fail("accept", e));
            keep_streams.push(c);
            keep_streams.push(s);
        }
        keep_listeners.push(server);
    }
    let mut keep_files = Vec::with_capacity(fds);
    let mut keep_unix = Vec::new();
    let unix = fds / 10;
    for _ in 0..fds - unix {
        keep_files.push(std::fs::File::open("/dev/null").unwrap_or_else(|e| fail("open", e)));
    }
    for _ in 0..unix / 2 {
        keep_unix
            .push(std::os::unix::net::UnixDatagram::pair().unwrap_or_else(|e| fail("pair", e)));
    }
    println!("ready");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0);
}

fn raise_nofile(need: usize) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && (lim.rlim_cur as usize) < need {
            lim.rlim_cur = lim.rlim_max.min(need as libc::rlim_t);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Warmup, then alternate A B A B; medians of each.
fn alternate(
    config: &Config,
    mut a: impl FnMut() -> Result<Duration, String>,
    mut b: impl FnMut() -> Result<Duration, String>,
) -> Result<(Duration, Duration), String> {
    for _ in 0..config.warmup {
        a()?;
        b()?;
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..config.runs {
        xs.push(a()?);
        ys.push(b()?);
    }
    Ok((median(xs), median(ys)))
}

fn cli(launcher: &Path, prog: &Path, args: &[&str]) -> Result<Duration, String> {
    measure(launcher, prog, args)
        .map(|r: Run| r.wall)
        .map_err(|e| e.to_string())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn report(label: &str, ours: Duration, peer: Duration, target: Option<f64>) {
    let ratio = ours.as_secs_f64() / peer.as_secs_f64();
    let verdict = match target {
        Some(t) if ratio <= t => format!("target <= {t:.1}  PASS"),
        Some(t) => format!("target <= {t:.1}  FAIL"),
        None => "(information)".to_string(),
    };
    println!(
        "{label:<58} {:>11} {:>11}  ratio {ratio:>5.2}  {verdict}",
        ms(ours),
        ms(peer)
    );
}

fn run(config: &Config) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let sysprims = &config.sysprims;
    if !sysprims.is_file() {
        return Err(format!(
            "{} not found (bench/run builds it)",
            sysprims.display()
        ));
    }
    let ss = which("ss").ok_or("ss not found (apt-get install iproute2)")?;
    let lsof = which("lsof").ok_or("lsof not found (apt-get install lsof)")?;
    println!(
        "sysprims-bench net: {} listeners, {} fds, {} connections; {} runs after {} warmup; \
         medians (ours, peer)",
        config.listeners, config.fds, config.connections, config.runs, config.warmup
    );
    println!("processes in /proc: {}", crate::proc_pids().len());

    // a. ports against ss, with the listeners held.
    {
        let holder = Holder::start(config.listeners, 0, 0)?;
        check_ports(sysprims, holder.pid(), config.listeners)?;
        let (ours, peer) = alternate(
            config,
            || cli(&me, sysprims, &["ports", "--json"]),
            || cli(&me, &ss, &["-ltunp"]),
        )?;
        report(
            &format!(
                "a. sysprims ports --json vs ss -ltunp ({} listeners)",
                config.listeners
            ),
            ours,
            peer,
            Some(1.0),
        );
        let (nl, pf) = lib_tables(config)?;
        report(
            &format!(
                "c. listening sockets: netlink vs /proc/net ({} listeners)",
                config.listeners
            ),
            nl,
            pf,
            None,
        );
        if config.connections > 0 {
            let busy = Holder::start(0, config.connections, 0)?;
            let (nl, pf) = lib_tables(config)?;
            report(
                &format!(
                    "c. ... with {} established connections more",
                    2 * config.connections
                ),
                nl,
                pf,
                None,
            );
            drop(busy);
        }
    }

    // b. fds against lsof.
    {
        let holder = Holder::start(0, 0, config.fds)?;
        let pid = holder.pid().to_string();
        let (ours, peer) = alternate(
            config,
            || cli(&me, sysprims, &["fds", &pid, "--json"]),
            || cli(&me, &lsof, &["-p", &pid]),
        )?;
        report(
            &format!(
                "b. sysprims fds PID --json vs lsof -p PID ({} fds)",
                config.fds
            ),
            ours,
            peer,
            Some(1.0),
        );
    }
    println!("every holder process ended and reaped");
    Ok(())
}

/// `sysprims ports --pid HOLDER` must find every listener before anything is timed.
fn check_ports(sysprims: &Path, pid: u32, listeners: usize) -> Result<(), String> {
    let out = Command::new(sysprims)
        .args(["ports", "--tcp", "--pid", &pid.to_string(), "--json"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let found = text.matches("\"local_port\"").count();
    if !out.status.success() || found != listeners {
        return Err(format!(
            "sysprims ports found {found} of the holder's {listeners} listeners"
        ));
    }
    Ok(())
}

/// In-process: listing listening sockets by netlink, then by /proc/net, alternating.
fn lib_tables(config: &Config) -> Result<(Duration, Duration), String> {
    let time = |netlink: bool| -> Result<Duration, String> {
        let start = Instant::now();
        let n = sysprims::ports::bench_support::count_listening_via(netlink)
            .map_err(|e| e.to_string())?;
        std::hint::black_box(n);
        Ok(start.elapsed())
    };
    let a = netlink_and_procfs_agree()?;
    std::hint::black_box(a);
    alternate(config, || time(true), || time(false))
}

fn netlink_and_procfs_agree() -> Result<usize, String> {
    let nl =
        sysprims::ports::bench_support::count_listening_via(true).map_err(|e| e.to_string())?;
    let pf =
        sysprims::ports::bench_support::count_listening_via(false).map_err(|e| e.to_string())?;
    if nl != pf {
        return Err(format!(
            "netlink lists {nl} listening sockets, /proc/net {pf}"
        ));
    }
    Ok(nl)
}
