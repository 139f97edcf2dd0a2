//! Jobs on macOS: a child started with `posix_spawn(2)` in a process group of its own
//! (`POSIX_SPAWN_SETPGROUP`), without forking the caller. macOS has no kernel container for a
//! process tree (no cgroups, no Job Objects), so a job is its process group and its tree
//! kill is `best_effort`: a descendant that calls `setsid(2)` or `setpgid(2)`, or is
//! reparented to launchd after a double fork, leaves the group, and is reached only by the
//! walk of the parent links while it is still linked. The spawn's warnings say so.
//!
//! The parts of the jobs facade that are about cgroups (watchdogs, usage, cgroup lookups) are
//! the empty ones of `sys/unsupported`: there is nothing for them to do here.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Instant;

pub(crate) use crate::sys::unsupported::jobs::{
    JobWatchdog, Placement, Started, caller_inside, job_cgroup_of, remove_if_empty,
    terminate_cgroup, usage, usage_placed,
};

use super::plan::{
    DEFAULT_PATH, cstring, environment, errno_text, open_stdio, resolve, spawn_failed,
};
use super::signal::Handle;
use crate::error::{Result, SysprimsError};
use crate::pid::Pid;
use crate::spawn::{Containment, SpawnInGroupConfig};

/// What every job's warnings say about its containment.
const BEST_EFFORT: &str = "tree kill is best-effort: macOS has no kernel container for a \
    process tree (no cgroups, no Job Objects), so the job is held by its process group only, \
    which setsid/setpgid and double-fork children can leave";

/// Move a stdio source to a descriptor of 3 or above (close-on-exec), so the spawn's `dup2`
/// onto 0, 1 and 2 never has a source that is itself a target (a caller that closed its
/// stdin gets fd 0 for the next file it opens; `dup2(0, 0)` would leave it close-on-exec).
fn above_stdio(
    fd: Option<std::os::fd::OwnedFd>,
    program: &str,
) -> Result<Option<std::os::fd::OwnedFd>> {
    use std::os::fd::FromRawFd;
    let Some(fd) = fd else { return Ok(None) };
    if fd.as_raw_fd() > 2 {
        return Ok(Some(fd));
    }
    // SAFETY: fcntl on an fd we own; the new fd is owned below.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if new == -1 {
        let errno = super::last_errno();
        return Err(spawn_failed(
            program,
            format!("cannot move a stdio file above fd 2: {}", errno_text(errno)),
            Some(errno),
        ));
    }
    // SAFETY: a fresh fd owned by nothing else.
    Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(new) }))
}

/// `posix_spawn` file actions and attributes, destroyed on drop.
struct SpawnSetup {
    actions: libc::posix_spawn_file_actions_t,
    attr: libc::posix_spawnattr_t,
}

impl SpawnSetup {
    fn new() -> Result<SpawnSetup> {
        let mut setup = SpawnSetup {
            actions: std::ptr::null_mut(),
            attr: std::ptr::null_mut(),
        };
        // SAFETY: both are initialised here and destroyed in Drop (destroying a null one is
        // avoided there).
        let rc = unsafe { libc::posix_spawn_file_actions_init(&mut setup.actions) };
        if rc != 0 {
            return Err(SysprimsError::from_errno(
                "posix_spawn_file_actions_init",
                crate::error::Subject::None,
                rc,
            ));
        }
        // SAFETY: as above.
        let rc = unsafe { libc::posix_spawnattr_init(&mut setup.attr) };
        if rc != 0 {
            return Err(SysprimsError::from_errno(
                "posix_spawnattr_init",
                crate::error::Subject::None,
                rc,
            ));
        }
        Ok(setup)
    }
}

impl Drop for SpawnSetup {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a null one was never initialised).
        unsafe {
            if !self.actions.is_null() {
                libc::posix_spawn_file_actions_destroy(&mut self.actions);
            }
            if !self.attr.is_null() {
                libc::posix_spawnattr_destroy(&mut self.attr);
            }
        }
    }
}

fn check(rc: libc::c_int, what: &'static str) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(SysprimsError::from_errno(
            what,
            crate::error::Subject::None,
            rc,
        ))
    }
}

/// Start `config`'s program: `posix_spawn` with `POSIX_SPAWN_SETPGROUP` (a group of its
/// own when `new_process_group`), every signal's disposition reset to the default and an
/// empty signal mask, stdio as configured, the working directory changed by the spawn
/// itself (`posix_spawn_file_actions_addchdir_np`). macOS's `posix_spawn` is one system
/// call that reports an `execve` failure as its result, so a spawn that fails leaves no
/// process behind. A program the kernel cannot execute (`ENOEXEC`) is run by `/bin/sh`, as
/// `execvp` (and the Linux backend) does.
pub(crate) fn start(
    config: &SpawnInGroupConfig,
    new_process_group: bool,
    _sweep: bool,
    _watchdog: bool,
) -> Result<Started> {
    match config.containment {
        Containment::Cgroup => {
            return Err(SysprimsError::NotSupported {
                feature: "cgroup containment",
                reason: "cgroups are Linux's; macOS has no kernel container for a process \
                         tree: ask for containment auto or process_group"
                    .into(),
            });
        }
        Containment::JobObject => {
            return Err(SysprimsError::NotSupported {
                feature: "job_object containment",
                reason: "Job Objects are Windows'; macOS has no kernel container for a \
                         process tree: ask for containment auto or process_group"
                    .into(),
            });
        }
        Containment::Auto | Containment::ProcessGroup => {}
    }
    let program = config.argv[0].as_str();
    let mut warnings = vec![BEST_EFFORT.to_string()];
    if !config.limits.is_empty() {
        warnings.push(
            "limits not applied: macOS has no cgroup (or other job container) to hold them"
                .to_string(),
        );
    }
    if config.kill_on_parent_death {
        warnings.push(
            "kill_on_parent_death not applied: macOS has no PR_SET_PDEATHSIG, so the job \
             outlives a caller that dies without ending it"
                .to_string(),
        );
    }
    let argv = config
        .argv
        .iter()
        .map(|a| cstring("argument", a.clone().into_bytes()))
        .collect::<Result<Vec<_>>>()?;
    let env = environment(config);
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_bytes().to_vec())
        .unwrap_or_else(|| DEFAULT_PATH.to_vec());
    let envp = env
        .into_iter()
        .map(|(k, v)| {
            let mut entry = k.into_vec();
            entry.push(b'=');
            entry.extend(v.into_vec());
            cstring("environment entry", entry)
        })
        .collect::<Result<Vec<_>>>()?;
    let cwd = match &config.cwd {
        Some(dir) if !dir.as_os_str().is_empty() => {
            if !dir.is_dir() {
                return Err(spawn_failed(
                    program,
                    format!("working directory {} is not a directory", dir.display()),
                    Some(libc::ENOENT),
                ));
            }
            Some(cstring(
                "working directory",
                dir.as_os_str().as_bytes().to_vec(),
            )?)
        }
        _ => None,
    };
    let exe = resolve(program, &path_var)?;
    let stdio = [
        above_stdio(open_stdio(&config.stdin, 0, program)?, program)?,
        above_stdio(open_stdio(&config.stdout, 1, program)?, program)?,
        above_stdio(open_stdio(&config.stderr, 2, program)?, program)?,
    ];

    let mut setup = SpawnSetup::new()?;
    for (target, source) in stdio.iter().enumerate() {
        if let Some(fd) = source {
            // SAFETY: the actions object is initialised; both fds are valid integers (the
            // source stays open until posix_spawn returns).
            check(
                unsafe {
                    libc::posix_spawn_file_actions_adddup2(
                        &mut setup.actions,
                        fd.as_raw_fd(),
                        target as libc::c_int,
                    )
                },
                "posix_spawn_file_actions_adddup2",
            )?;
        }
    }
    if let Some(dir) = &cwd {
        // SAFETY: the actions object is initialised; the path is NUL-terminated and copied.
        check(
            unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut setup.actions, dir.as_ptr()) },
            "posix_spawn_file_actions_addchdir_np",
        )?;
    }
    let mut flags = libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
    if new_process_group {
        flags |= libc::POSIX_SPAWN_SETPGROUP;
    }
    // SAFETY: sigset_t is plain data, filled by sigfillset/sigemptyset.
    let (mut all, mut none): (libc::sigset_t, libc::sigset_t) = unsafe { std::mem::zeroed() };
    // SAFETY: the attribute object is initialised; the sets are ours.
    unsafe {
        libc::sigfillset(&mut all);
        // KILL and STOP cannot be caught, so they are at their default already.
        libc::sigdelset(&mut all, libc::SIGKILL);
        libc::sigdelset(&mut all, libc::SIGSTOP);
        libc::sigemptyset(&mut none);
        check(
            libc::posix_spawnattr_setsigdefault(&mut setup.attr, &all),
            "posix_spawnattr_setsigdefault",
        )?;
        check(
            libc::posix_spawnattr_setsigmask(&mut setup.attr, &none),
            "posix_spawnattr_setsigmask",
        )?;
        // Group 0: the child's own PID, so it leads a new group.
        check(
            libc::posix_spawnattr_setpgroup(&mut setup.attr, 0),
            "posix_spawnattr_setpgroup",
        )?;
        check(
            libc::posix_spawnattr_setflags(&mut setup.attr, flags as libc::c_short),
            "posix_spawnattr_setflags",
        )?;
    }
    let mut argv_ptrs: Vec<*mut libc::c_char> = argv.iter().map(|a| a.as_ptr() as *mut _).collect();
    argv_ptrs.push(std::ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> = envp.iter().map(|e| e.as_ptr() as *mut _).collect();
    envp_ptrs.push(std::ptr::null_mut());
    let mut pid: libc::pid_t = 0;
    let spawn = |pid: &mut libc::pid_t, exe: &CString, argv: &[*mut libc::c_char]| {
        // SAFETY: every pointer is to a NUL-terminated string or a NULL-terminated array
        // that lives until the call returns; the actions and attributes are initialised.
        unsafe {
            libc::posix_spawn(
                pid,
                exe.as_ptr(),
                &setup.actions,
                &setup.attr,
                argv.as_ptr(),
                envp_ptrs.as_ptr(),
            )
        }
    };
    let mut rc = spawn(&mut pid, &exe, &argv_ptrs);
    if rc == libc::ENOEXEC {
        // A file without `#!` or a known format: run by the shell, as `execvp` does
        // (`sh FILE ARGS...`).
        let shell = c"/bin/sh".to_owned();
        let mut sh_argv: Vec<*mut libc::c_char> =
            vec![shell.as_ptr() as *mut _, exe.as_ptr() as *mut _];
        sh_argv.extend(argv.iter().skip(1).map(|a| a.as_ptr() as *mut libc::c_char));
        sh_argv.push(std::ptr::null_mut());
        rc = spawn(&mut pid, &shell, &sh_argv);
    }
    drop(stdio);
    if rc != 0 {
        return Err(spawn_failed(
            program,
            format!(
                "posix_spawn of {} failed: {}",
                exe.to_string_lossy(),
                errno_text(rc)
            ),
            Some(rc),
        ));
    }
    let pid = Pid::new(pid.unsigned_abs())?;
    // The child is ours and not reaped: its PID is its own until we wait for it.
    let start = match super::process::bsd_info(pid.get()) {
        Ok(b) => b.start_time_us,
        Err(e) => {
            warnings.push(format!(
                "could not read the child's start time ({e}): it is waited for and \
                 signalled as if it had exited"
            ));
            0
        }
    };
    Ok(Started {
        handle: Handle::from_parts(pid, start),
        cgroup: None,
        warnings,
        watchdog: JobWatchdog,
        placement: Placement,
    })
}

/// Wait for the job's first process (see [`wait_pid`](crate::wait_pid)), reaping it when it
/// is the caller's child.
pub(crate) fn wait_first(
    handle: &Handle,
    deadline: Option<Instant>,
) -> Result<crate::wait::WaitPidResult> {
    super::wait::wait_handle(handle, deadline, None)
}
