//! Running the `sysprims` binary in tests: output helpers, schema validation, capability
//! gates and children that are always cleaned up.
#![allow(dead_code)]

#[path = "../../../sysprims/tests/common/cmdline.rs"]
mod cmdline;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub fn sysprims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysprims"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run sysprims")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run, require success with nothing on stderr, parse stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    let out = sysprims(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "",
        "{args:?}: stderr must be empty on success"
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

pub fn validate(schema_file: &str, document: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(schema_file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        document["schema_id"], schema["$id"],
        "schema_id names the schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:?}");
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Gate a test on a capability: skip with a message when it is missing, fail instead when
/// `SYSPRIMS_REQUIRE_ALL=1` (CI).
pub fn require(capability: &str, available: bool) -> bool {
    if !available {
        assert_ne!(
            std::env::var("SYSPRIMS_REQUIRE_ALL").as_deref(),
            Ok("1"),
            "required capability missing: {capability}"
        );
        eprintln!("SKIPPED: {capability} is not available here");
    }
    available
}

/// A child in its own process group, killed with the whole group on drop, unless the test has
/// reaped it: then its PID, and so the group ID, may already name a newcomer's group.
pub struct Kid(pub Child, sysprims::ProcessHandle);

impl Kid {
    pub fn spawn(argv: &[&str]) -> Kid {
        Kid::adopt(
            Command::new(argv[0])
                .args(&argv[1..])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .process_group(0)
                .spawn()
                .unwrap(),
        )
    }

    /// Take charge of a child that leads its own process group.
    pub fn adopt(child: Child) -> Kid {
        // Our unreaped child: the PID cannot have been reused yet.
        let leader = sysprims::ProcessHandle::open(child.id()).unwrap();
        Kid(child, leader)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if self.1.is_present().unwrap_or(false) {
            // SAFETY: killpg on the group our unreaped child leads.
            unsafe { libc::killpg(self.0.id() as libc::pid_t, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

/// How long any one wait in these tests may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Markers, scratch directories, readiness FIFOs, pidfds.

/// A test's unique marker, and the cleanup of everything that carries it.
pub struct Marked {
    pub marker: String,
    pub dir: PathBuf,
    pub cgroups: Vec<PathBuf>,
}

impl Marked {
    pub fn new(test: &str) -> Marked {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let marker = format!(
            "sysprims-test-{test}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let dir = std::env::temp_dir().join(&marker);
        std::fs::create_dir_all(&dir).unwrap();
        Marked {
            marker,
            dir,
            cgroups: Vec::new(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The PID of a `spawn --json` result; its cgroup, if any, is removed on drop. (A job
    /// that ends by itself leaves its empty cgroup behind unless something waits for it.)
    pub fn spawned(&mut self, doc: &Value) -> u32 {
        if let Some(cgroup) = doc["cgroup"].as_str() {
            self.cgroups.push(PathBuf::from(cgroup));
        }
        doc["pid"].as_u64().expect("a PID") as u32
    }

    /// Live (non-zombie) processes whose command line contains the marker.
    pub fn pids(&self) -> BTreeSet<u32> {
        marked_pids(&self.marker)
    }

    /// The marked processes still running once those already ending have had up to 10 s to
    /// finish (each waited for through a pidfd): a process killed a moment ago can still show
    /// its command line while the kernel tears it down, and is not a survivor.
    pub fn survivors(&self) -> BTreeSet<u32> {
        self.pids()
            .into_iter()
            .filter(|&pid| !wait_gone(pid, Duration::from_secs(10)))
            .collect()
    }

    /// A bash script that reports on `fifo` and then becomes a `sleep` whose argv[0] is the
    /// marker: `bash LEAF MARKER FIFO [ignore-term]`.
    pub fn leaf(&self) -> PathBuf {
        let leaf = self.path("leaf.sh");
        if !leaf.exists() {
            std::fs::write(
                &leaf,
                "[ \"$3\" = ignore-term ] && trap '' TERM\n\
                 echo up > \"$2\"\n\
                 exec -a \"$1\" sleep 1000\n",
            )
            .unwrap();
        }
        leaf
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        // Whatever is left, by PID: a few rounds, for a process forked while we kill.
        for _ in 0..20 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                // SAFETY: kill of a PID found alive a moment ago carrying this test's marker.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            for pid in self.pids() {
                wait_gone(pid, Duration::from_secs(2));
            }
        }
        for cgroup in &self.cgroups {
            if cgroup.exists() {
                let _ = std::fs::write(cgroup.join("cgroup.kill"), "1");
                let members = std::fs::read_to_string(cgroup.join("cgroup.procs"));
                for pid in members.unwrap_or_default().lines() {
                    if let Ok(pid) = pid.trim().parse() {
                        wait_gone(pid, Duration::from_secs(2));
                    }
                }
                let _ = std::fs::remove_dir(cgroup);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Live processes whose `/proc/PID/cmdline` contains `marker` (zombies have an empty one).
pub fn marked_pids(marker: &str) -> BTreeSet<u32> {
    let needle = marker.as_bytes();
    let mut found = BTreeSet::new();
    for (pid, entry) in proc_entries() {
        // A `sysprims timeout`'s watchdog shares its memory, and so its command line, and may
        // be a moment behind it in exiting once the run is over: it is not the test's.
        if let Some(cmdline) = cmdline::settled_cmdline(&entry.path())
            && cmdline.windows(needle.len()).any(|w| w == needle)
            && std::fs::read(entry.path().join("comm")).ok().as_deref()
                != Some(
                    b"sysprims-watch
",
                )
        {
            found.insert(pid);
        }
    }
    found
}

/// A FIFO processes write `up` lines to, read on a thread so a test can give up in time.
pub struct Fifo {
    path: PathBuf,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl Fifo {
    pub fn new(path: PathBuf) -> Fifo {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        // Read and write: the open does not wait for a writer, and the reader never sees
        // end-of-file between two writers.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(file).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Fifo { path, lines }
    }

    /// Wait for `n` lines.
    pub fn expect(&self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        for i in 0..n {
            let left = deadline.saturating_duration_since(Instant::now());
            self.lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("only {i} of {n} processes reported"));
        }
    }

    pub fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

/// Wait until `pid` has exited (a zombie counts), through a pidfd. False on timeout.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    // SAFETY: pidfd_open has no memory arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return true; // ESRCH: gone already
    }
    // SAFETY: a new fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if r > 0 {
            return true;
        }
        if r == 0 {
            return false;
        }
    }
}

/// A child of this test in its own process group, its stdin and stdout piped, running
/// `sh -c SCRIPT MARKER` with `env`.
pub fn bash_tree(script: &str, marked: &Marked, env: &[(&str, &str)]) -> Kid {
    Kid::adopt(
        Command::new("sh")
            .args(["-c", script, &marked.marker])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    )
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this process can make a child cgroup in its own cgroup v2 (root, a cgroup2 mount,
/// a writable directory): what `spawn --containment cgroup` needs. Found from mountinfo and
/// `/proc/self/cgroup`, never assuming /sys/fs/cgroup.
pub fn cgroup_writable() -> bool {
    if !is_root() {
        return false;
    }
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let Some(mount) = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next() == Some("cgroup2"))
            .then(|| left.split_whitespace().nth(4).map(str::to_string))?
    }) else {
        return false;
    };
    let Some(own) = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
    else {
        return false;
    };
    let probe = Path::new(&mount)
        .join(own.trim_start_matches('/'))
        .join(format!("sysprims-test-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    ok
}

/// Every `/proc/<pid>` directory there is now, with its PID.
fn proc_entries() -> impl Iterator<Item = (u32, std::fs::DirEntry)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry)))
}

/// The job watchdogs (command line `sysprims-watchdog`, not the command line of the sysprims
/// process that started them, which would carry a test's marker) that hold `dir` open.
pub fn watchdogs_of(dir: &Path) -> Vec<u32> {
    let mut found = Vec::new();
    for (pid, entry) in proc_entries() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if !cmdline.starts_with(b"sysprims-watchdog\0") {
            continue;
        }
        if std::fs::read_dir(entry.path().join("fd")).is_ok_and(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == dir))
        }) {
            found.push(pid);
        }
    }
    found
}
