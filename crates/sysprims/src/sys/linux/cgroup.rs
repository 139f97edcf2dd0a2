//! cgroup v2: the kernel-enforced container that holds a job whole.
//!
//! Each job [`spawn_in_group`](crate::spawn_in_group) starts gets a cgroup of its own named
//! `sysprims-job-<creator PID>-<n>-<creator's PID namespace>` under the caller's own cgroup (or
//! a configured one). The name is how any process later recognises a job from a PID's
//! `/proc/<pid>/cgroup`, and the creator's identity in it lets a later spawn remove the empty
//! cgroups of creators that have exited (a CLI that spawned a job and returned). The PID is
//! checked only in the namespace that wrote it; from any namespace, a creator holds a shared
//! `flock` on the cgroup's directory while it may still fill it (its job's watchdog too).
//!
//! The cgroup2 hierarchy is found from `/proc/self/mountinfo`, never assumed at
//! `/sys/fs/cgroup`: hybrid layouts mount it at `/sys/fs/cgroup/unified`.

#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// Prefix of every job cgroup's directory name.
pub(crate) const JOB_PREFIX: &str = "sysprims-job-";

/// A small text file of procfs or cgroupfs, read with one large buffer. These report a size
/// of 0, so `fs::read_to_string` probes with 32-byte reads, doubling: eight reads of
/// mountinfo, each regenerating it in the kernel.
fn read_proc_text(path: &Path) -> io::Result<String> {
    let mut text = String::with_capacity(16 * 1024);
    File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// Why no cgroup could be made for a job.
#[derive(Clone, Debug)]
pub(crate) struct Unavailable {
    /// For the user: what is missing or refused.
    pub reason: String,
    /// The errno behind it, when a system call refused.
    pub errno: Option<i32>,
}

impl Unavailable {
    fn new(reason: impl Into<String>, errno: Option<i32>) -> Unavailable {
        Unavailable {
            reason: reason.into(),
            errno,
        }
    }

    /// Whether the refusal was a permission one (`EACCES`, `EPERM`, `EROFS`).
    pub(crate) fn is_permission(&self) -> bool {
        matches!(
            self.errno,
            Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
        )
    }
}

/// Where the cgroup2 hierarchy is mounted: the mount point and the hierarchy path it shows.
#[derive(Debug)]
pub(crate) struct Mount {
    pub(crate) point: PathBuf,
    pub(crate) root: String,
}

pub(crate) fn unescape_mountinfo(field: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Three octal digits that make a byte (`\400` and above are not one: kept as text).
        let escaped = (bytes[i] == b'\\')
            .then(|| bytes.get(i + 1..i + 4))
            .flatten()
            .filter(|digits| digits.iter().all(|b| (b'0'..=b'7').contains(b)))
            .and_then(|digits| {
                let v = digits
                    .iter()
                    .fold(0u32, |v, &d| v * 8 + u32::from(d - b'0'));
                u8::try_from(v).ok()
            });
        if let Some(v) = escaped {
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `/proc/self/mountinfo` for the first cgroup2 mount.
pub(crate) fn find_mount(mountinfo: &str) -> Option<Mount> {
    for line in mountinfo.lines() {
        let (left, right) = line.split_once(" - ")?;
        if right.split(' ').next() != Some("cgroup2") {
            continue;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        if fields.len() < 5 {
            continue;
        }
        return Some(Mount {
            root: unescape_mountinfo(fields[3]),
            point: PathBuf::from(unescape_mountinfo(fields[4])),
        });
    }
    None
}

fn mount() -> Result<&'static Mount, Unavailable> {
    static MOUNT: OnceLock<Option<Mount>> = OnceLock::new();
    MOUNT
        .get_or_init(|| {
            read_proc_text(Path::new("/proc/self/mountinfo"))
                .ok()
                .and_then(|s| find_mount(&s))
        })
        .as_ref()
        .ok_or_else(|| {
            Unavailable::new(
                "no cgroup2 filesystem is mounted (/proc/self/mountinfo)",
                None,
            )
        })
}

/// The cgroup v2 path (in the hierarchy, starting with `/`) of a `/proc/<pid>/cgroup` text.
pub(crate) fn v2_path(cgroup_file: &str) -> Option<&str> {
    cgroup_file
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(|p| p.trim_end())
        .filter(|p| p.starts_with('/'))
}

/// A hierarchy path as a directory under the mount point, or `None` when the mount does not
/// show it.
pub(crate) fn directory_of(mount: &Mount, path: &str) -> Option<PathBuf> {
    let rest = if mount.root == "/" {
        path
    } else {
        let stripped = path.strip_prefix(mount.root.as_str())?;
        if !(stripped.is_empty() || stripped.starts_with('/')) {
            return None;
        }
        stripped
    };
    let rest = rest.trim_start_matches('/');
    Some(if rest.is_empty() {
        mount.point.clone()
    } else {
        mount.point.join(rest)
    })
}

/// The directory of the caller's own cgroup, where jobs are made unless configured otherwise.
pub(crate) fn own_directory() -> Result<PathBuf, Unavailable> {
    let mount = mount()?;
    let text = read_proc_text(Path::new("/proc/self/cgroup")).map_err(|e| {
        Unavailable::new(
            format!("cannot read /proc/self/cgroup: {e}"),
            e.raw_os_error(),
        )
    })?;
    let path = v2_path(&text).ok_or_else(|| {
        Unavailable::new(
            "this process is in no cgroup v2 (no 0:: line in /proc/self/cgroup)",
            None,
        )
    })?;
    directory_of(mount, path).ok_or_else(|| {
        Unavailable::new(
            format!(
                "the caller's cgroup {path} is outside the cgroup2 mount at {} (root {})",
                mount.point.display(),
                mount.root
            ),
            None,
        )
    })
}

/// `statfs(2)`'s magic number of the cgroup2 filesystem.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Check a caller's `cgroup_parent` and return it canonical: an absolute path that, once `..`
/// and symbolic links are resolved, is a directory of the cgroup2 filesystem under its mount.
/// Anything else is refused ([`InvalidArgument`](crate::ErrorCode::InvalidArgument) naming
/// the path), before anything is made: a lexical check alone would let
/// `/sys/fs/cgroup/../../tmp` make directories outside the hierarchy.
pub(crate) fn check_parent(parent: &Path) -> crate::Result<PathBuf> {
    let shown = || parent.display().to_string();
    let refuse = |reason: String| crate::SysprimsError::invalid("cgroup_parent", shown(), reason);
    if !parent.is_absolute() {
        return Err(refuse(
            "must be an absolute path in the cgroup2 mount".to_string(),
        ));
    }
    let canonical =
        fs::canonicalize(parent).map_err(|e| refuse(format!("cannot be resolved: {e}")))?;
    let mount = mount().map_err(|u| refuse(u.reason))?;
    let point = fs::canonicalize(&mount.point).unwrap_or_else(|_| mount.point.clone());
    let outside = || {
        refuse(format!(
            "resolves to {}, which is not under the cgroup2 mount at {}",
            canonical.display(),
            point.display()
        ))
    };
    if !canonical.starts_with(&point) {
        return Err(outside());
    }
    // Another filesystem mounted below the cgroup2 mount is not the hierarchy either.
    // `f_type` is i64 on 64-bit glibc targets but narrower elsewhere, hence the cast.
    #[allow(clippy::unnecessary_cast)]
    let fs_type = rustix::fs::statfs(&canonical)
        .map(|s| {
            #[allow(clippy::unnecessary_cast)]
            let t = s.f_type as i64;
            t
        })
        .map_err(|e| refuse(format!("cannot be examined: {}", io::Error::from(e))))?;
    if fs_type != CGROUP2_SUPER_MAGIC {
        return Err(outside());
    }
    if !canonical.is_dir() {
        return Err(refuse("is not a directory".to_string()));
    }
    Ok(canonical)
}

/// A job's cgroup directory, made for one spawn.
pub(crate) struct JobCgroup {
    path: PathBuf,
    dir: OwnedFd,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl JobCgroup {
    /// Make a new job cgroup under `parent` (the caller's own cgroup when `None`). A given
    /// `parent` must have been through [`check_parent`].
    pub(crate) fn create(parent: Option<&Path>) -> Result<JobCgroup, Unavailable> {
        // The caller's own cgroup is read once: a process moved to another cgroup later
        // still makes its jobs where it started, which stays valid.
        static OWN: OnceLock<Result<PathBuf, Unavailable>> = OnceLock::new();
        let parent = match parent {
            Some(p) => p.to_path_buf(),
            None => OWN.get_or_init(own_directory).clone()?,
        };
        let me = std::process::id();
        let ns = pid_namespace();
        for _ in 0..64 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("{JOB_PREFIX}{me}-{n}-{ns}"));
            match rustix::fs::mkdir(&path, Mode::from_raw_mode(0o755)) {
                Ok(()) => {}
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(Unavailable::new(
                        format!(
                            "cannot make a cgroup under {}: {} (the subtree is not writable or \
                             not delegated to this user)",
                            parent.display(),
                            io::Error::from(e)
                        ),
                        Some(e.raw_os_error()),
                    ));
                }
            }
            let cgroup = match rustix::fs::open(
                &path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(dir) => {
                    // Held while this process (or the job's watchdog, which shares it) may
                    // still fill the cgroup: a sweeper in another PID namespace cannot check
                    // our PID, but it can see this lock. A sweeper may have removed the
                    // cgroup between mkdir and the lock: then it is gone, try another name.
                    let _ = rustix::fs::flock(&dir, rustix::fs::FlockOperation::LockShared);
                    if rustix::fs::statat(&dir, "cgroup.procs", rustix::fs::AtFlags::empty())
                        .is_err()
                    {
                        continue;
                    }
                    JobCgroup { path, dir }
                }
                Err(e) => {
                    let _ = fs::remove_dir(&path);
                    return Err(Unavailable::new(
                        format!("cannot open {}: {}", path.display(), io::Error::from(e)),
                        Some(e.raw_os_error()),
                    ));
                }
            };
            // The kill switch is what makes containment "guaranteed": without cgroup.kill
            // (5.14) or cgroup.freeze (5.2) a forking job could outrun a kill of each member.
            // A property of the kernel: once seen, not asked again (a "no" is asked again,
            // so that one odd parent cannot degrade every later job).
            static CAN_KILL: OnceLock<()> = OnceLock::new();
            let can_kill = CAN_KILL.get().is_some() || {
                let yes = cgroup.path.join("cgroup.kill").exists()
                    || cgroup.path.join("cgroup.freeze").exists();
                if yes {
                    let _ = CAN_KILL.set(());
                }
                yes
            };
            if !can_kill {
                cgroup.remove();
                return Err(Unavailable::new(
                    "the kernel's cgroup v2 has neither cgroup.kill (5.14) nor cgroup.freeze \
                     (5.2), so a job could not be killed whole",
                    None,
                ));
            }
            return Ok(cgroup);
        }
        Err(Unavailable::new(
            format!("every job cgroup name under {} is taken", parent.display()),
            Some(libc::EEXIST),
        ))
    }

    /// The directory, for `clone3(CLONE_INTO_CGROUP)`.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the (empty) cgroup, for a spawn that failed.
    pub(crate) fn remove(self) {
        let _ = remove_tree(&self.path);
    }
}

/// The job cgroup (directory) that a process with this `/proc/<pid>/cgroup` text is in, and
/// its hierarchy path.
pub(crate) fn job_of(cgroup_file: &str) -> Option<(PathBuf, String)> {
    let path = v2_path(cgroup_file)?;
    let mut end = None;
    let mut offset = 0;
    for component in path.split('/') {
        offset += component.len() + 1;
        if component.starts_with(JOB_PREFIX) {
            end = Some(offset - 1);
        }
    }
    // The outermost job cgroup would be wrong for a job started by a job; the innermost one
    // with our prefix is the job the process belongs to.
    let end = end?;
    let job = &path[..end];
    let dir = directory_of(mount().ok()?, job)?;
    Some((dir, job.to_string()))
}

/// Every job cgroup (directory and hierarchy path) on the path of a process with this
/// `/proc/<pid>/cgroup` text, outermost first: a job started by a job has its cgroup inside
/// the other's, and a job may also make cgroups with the prefix inside its own.
pub(crate) fn jobs_of(cgroup_file: &str) -> Vec<(PathBuf, String)> {
    let Some(path) = v2_path(cgroup_file) else {
        return Vec::new();
    };
    let Ok(mount) = mount() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut offset = 0;
    for component in path.split('/') {
        offset += component.len() + 1;
        if component.starts_with(JOB_PREFIX) {
            let job = &path[..offset - 1];
            if let Some(dir) = directory_of(mount, job) {
                out.push((dir, job.to_string()));
            }
        }
    }
    out
}

/// The cgroup v2 hierarchy path of `pid`, if it can be read.
pub(crate) fn path_of(pid: u32) -> Option<String> {
    let text = read_proc_text(Path::new(&format!("/proc/{pid}/cgroup"))).ok()?;
    v2_path(&text).map(str::to_string)
}

/// The cgroup directory `pid` is in, if it can be read and the cgroup2 mount shows it.
pub(crate) fn directory_of_pid(pid: u32) -> Option<PathBuf> {
    directory_of(mount().ok()?, &path_of(pid)?)
}

/// `/proc/<pid>/cgroup`, as text.
pub(crate) fn cgroup_file_of(pid: u32) -> Option<String> {
    read_proc_text(Path::new(&format!("/proc/{pid}/cgroup"))).ok()
}

fn write_file(path: &Path, value: &[u8]) -> io::Result<()> {
    let mut f = File::options().write(true).open(path)?;
    f.write_all(value)
}

/// `cgroup.kill`: SIGKILL to every process in the cgroup and below, atomically (new forks
/// included). `Ok(false)` when the kernel has no `cgroup.kill` (before 5.14).
pub(crate) fn kill_all(dir: &Path) -> io::Result<bool> {
    match write_file(&dir.join("cgroup.kill"), b"1") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir.exists() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Freeze (`true`) or thaw the cgroup and everything below it. `Ok(false)` when the kernel
/// has no `cgroup.freeze` (before 5.2).
pub(crate) fn set_frozen(dir: &Path, frozen: bool) -> io::Result<bool> {
    match write_file(&dir.join("cgroup.freeze"), if frozen { b"1" } else { b"0" }) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir.exists() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `cgroup.freeze` asks for the cgroup to be frozen. `Ok(false)` when the kernel has
/// no `cgroup.freeze` or the cgroup is gone.
pub(crate) fn freeze_requested(dir: &Path) -> io::Result<bool> {
    match read_proc_text(&dir.join("cgroup.freeze")) {
        Ok(text) => Ok(text.trim() == "1"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The state `cgroup.events` reports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Events {
    pub populated: bool,
    pub frozen: bool,
}

pub(crate) fn parse_events(text: &str) -> Events {
    let mut events = Events::default();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("populated", v)) => events.populated = v.trim() == "1",
            Some(("frozen", v)) => events.frozen = v.trim() == "1",
            _ => {}
        }
    }
    events
}

/// Wait until `cgroup.events` satisfies `done`, `deadline` passes or `cancel` is triggered.
/// Event-driven: the kernel wakes `poll(2)` (`POLLPRI`) whenever the file changes, and the
/// cancel eventfd is in the same `poll`. Returns the last state read and whether `done`
/// held. A cgroup that has vanished counts as empty and thawed.
pub(crate) fn wait_events(
    dir: &Path,
    deadline: Option<Instant>,
    cancel: Option<&super::cancel::CancelFd>,
    done: impl Fn(Events) -> bool,
) -> io::Result<(Events, bool)> {
    let file = match File::open(dir.join("cgroup.events")) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let gone = Events::default();
            return Ok((gone, done(gone)));
        }
        Err(e) => return Err(e),
    };
    let mut buf = [0u8; 128];
    loop {
        // Reading resets the kernel's "changed" mark, so a change after this read wakes poll.
        let n = rustix::io::pread(&file, &mut buf, 0).map_err(io::Error::from)?;
        let events = parse_events(std::str::from_utf8(&buf[..n]).unwrap_or(""));
        if done(events) {
            return Ok((events, true));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || super::cancel::triggered(cancel) {
            return Ok((events, false));
        }
        // No deadline, or one too far for a timespec: no limit.
        let timeout = deadline.and_then(|d| rustix::event::Timespec::try_from(d - now).ok());
        let mut fds = vec![rustix::event::PollFd::new(
            &file,
            rustix::event::PollFlags::PRI,
        )];
        if let Some(cancel) = cancel {
            fds.push(rustix::event::PollFd::new(
                cancel,
                rustix::event::PollFlags::IN,
            ));
        }
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Every process in the cgroup and in the cgroups below it.
/// Whether any process is left in the cgroup `dir` or below it (`populated` in
/// `cgroup.events`; zombies do not count). A missing cgroup is empty.
pub(crate) fn is_populated(dir: &Path) -> io::Result<bool> {
    match read_proc_text(&dir.join("cgroup.events")) {
        Ok(text) => Ok(parse_events(&text).populated),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

pub(crate) fn procs(dir: &Path) -> io::Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut text = String::new();
        match File::open(d.join("cgroup.procs")) {
            Ok(mut f) => {
                f.read_to_string(&mut text)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        out.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
        for sub in subdirectories(&d) {
            stack.push(sub);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect()
}

/// Remove a cgroup and the cgroups below it, deepest first. Fails (`EBUSY`) while any is
/// populated; a cgroup already gone is not an error.
/// A job cgroup's v1 siblings (its limits on a hybrid host) go with it.
pub(crate) fn remove_tree(dir: &Path) -> io::Result<()> {
    let removed = remove_dirs(dir);
    if removed.is_ok() && mount().is_ok_and(|m| dir.starts_with(&m.point)) {
        super::limits::remove_siblings(dir);
    }
    removed
}

/// [`remove_tree`] of one hierarchy only.
pub(crate) fn remove_dirs(dir: &Path) -> io::Result<()> {
    // Most job cgroups have no children: one rmdir, no directory listing.
    match fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    for sub in subdirectories(dir) {
        remove_dirs(&sub)?;
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Remove the empty job cgroups under `parent` whose creators have exited: a CLI that spawned
/// a job and returned cannot remove its cgroup when the job ends. Cgroups of live creators are
/// theirs to manage (a spawn in progress has made its cgroup but not yet filled it); a cgroup
/// with processes in it stays (`rmdir` refuses).
pub(crate) fn sweep(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let me = std::process::id();
    let own_ns = pid_namespace();
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let Some((creator, ns)) = creator_of(&name) else {
            continue;
        };
        // The PID is the creator's as its own PID namespace numbers it: it can be checked
        // here only if that is ours (names without one are from before, when it was assumed).
        let ours = ns.is_none_or(|ns| ns == own_ns);
        if ours && (creator == me || creator_alive(creator)) {
            continue;
        }
        // A creator (or its job's watchdog) that still holds the cgroup, in any namespace.
        let Ok(dir) = rustix::fs::open(
            entry.path(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        if rustix::fs::flock(&dir, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            continue;
        }
        let _ = remove_tree(&entry.path());
    }
    super::limits::sweep_v1(parent);
}

/// This process's PID namespace (the inode of `/proc/self/ns/pid`), 0 when unknown. It
/// cannot change for a process (`unshare` and `setns` affect its children).
fn pid_namespace() -> u64 {
    static NS: OnceLock<u64> = OnceLock::new();
    *NS.get_or_init(|| {
        rustix::fs::stat("/proc/self/ns/pid")
            .map(|st| st.st_ino)
            .unwrap_or(0)
    })
}

/// The creator PID of a job cgroup's name, and the PID namespace it was written in when the
/// name has one (`sysprims-job-<pid>-<n>-<pidns>`).
fn creator_of(name: &OsStr) -> Option<(u32, Option<u64>)> {
    let rest = name.as_bytes().strip_prefix(JOB_PREFIX.as_bytes())?;
    let rest = std::str::from_utf8(rest).ok()?;
    let mut parts = rest.split('-');
    let pid = parts.next()?.parse().ok()?;
    parts.next()?.parse::<u64>().ok()?;
    let ns = match parts.next() {
        Some(ns) => Some(ns.parse::<u64>().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((pid, ns))
}

fn creator_alive(pid: u32) -> bool {
    let Ok(pid) = crate::pid::Pid::new(pid) else {
        return false;
    };
    // A probe says the PID is there (EPERM too: someone else's process).
    match super::signal::kill(pid, crate::signal::Signal::PROBE) {
        Ok(()) => true,
        Err(e) => e.code() == crate::ErrorCode::PermissionDenied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hybrid_mount() {
        let info = "25 30 0:23 / /sys rw - sysfs sysfs rw\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        let m = find_mount(info).unwrap();
        assert_eq!(m.point, PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(m.root, "/");
        let m = Mount {
            point: "/sys/fs/cgroup".into(),
            root: "/a".into(),
        };
        assert_eq!(
            directory_of(&m, "/a/b").unwrap(),
            PathBuf::from("/sys/fs/cgroup/b")
        );
        assert_eq!(
            directory_of(&m, "/a").unwrap(),
            PathBuf::from("/sys/fs/cgroup")
        );
        assert!(directory_of(&m, "/ab").is_none());
    }

    #[test]
    fn reads_v2_line_and_job() {
        assert_eq!(v2_path("1:cpu:/\n0::/x/y\n"), Some("/x/y"));
        assert_eq!(v2_path("1:cpu:/\n"), None);
        assert_eq!(
            creator_of(OsStr::new("sysprims-job-123-4")),
            Some((123, None))
        );
        assert_eq!(
            creator_of(OsStr::new("sysprims-job-123-4-4026531836")),
            Some((123, Some(4026531836)))
        );
        assert_eq!(creator_of(OsStr::new("sysprims-job-123")), None);
        assert_eq!(creator_of(OsStr::new("sysprims-job-1-2-3-4")), None);
        assert_eq!(creator_of(OsStr::new("other")), None);
        let e = parse_events("populated 1\nfrozen 0\n");
        assert!(e.populated && !e.frozen);
    }

    #[test]
    fn unescapes_mountinfo() {
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
        assert_eq!(unescape_mountinfo(r"\134\011\012"), "\\\t\n");
    }

    #[test]
    fn mountinfo_escape_above_a_byte_stays_literal() {
        // Regression (fuzz/corpus/mountinfo/escape-above-255): `\777` is not a byte;
        // computing it overflowed a u8 (a panic with overflow checks, garbage without).
        assert_eq!(unescape_mountinfo(r"/a\777b"), r"/a\777b");
        assert_eq!(unescape_mountinfo(r"/a\400"), r"/a\400");
        assert_eq!(unescape_mountinfo(r"/a\377"), "/a\u{fffd}");
        let info = "41 31 0:38 / /sys/fs/cgroup/x\\777 rw - cgroup2 cgroup2 rw\n";
        assert!(find_mount(info).is_some());
    }
}
