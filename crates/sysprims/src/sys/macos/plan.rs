//! The parts of a macOS spawn that are plain Rust over `std` (the child's environment, the
//! `PATH` search, opening stdio targets), compiled on every Unix so that Linux runs their
//! tests.

use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use crate::error::{Result, SysprimsError};
use crate::spawn::{SpawnInGroupConfig, StdioConfig};

/// The PATH searched when the child's environment has none (as `execvp`'s default).
pub(crate) const DEFAULT_PATH: &[u8] = b"/usr/bin:/bin";

/// `bytes` as a C string; a NUL inside is `InvalidArgument` naming `what` and the value.
pub(crate) fn cstring(what: &'static str, bytes: Vec<u8>) -> Result<CString> {
    CString::new(bytes).map_err(|e| {
        let shown = String::from_utf8_lossy(&e.into_vec()).into_owned();
        SysprimsError::invalid(what, shown, "contains a NUL byte")
    })
}

/// A `SpawnFailed` error naming the program.
pub(crate) fn spawn_failed(program: &str, reason: String, errno: Option<i32>) -> SysprimsError {
    SysprimsError::SpawnFailed {
        program: program.to_string(),
        reason,
        errno,
    }
}

/// The system's text for an errno.
pub(crate) fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// The child's environment: the caller's (unless `env_clear`) with the overrides, each key
/// once, in the order first seen.
pub(crate) fn environment(config: &SpawnInGroupConfig) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = if config.env_clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    let mut index: std::collections::HashMap<OsString, usize> =
        std::collections::HashMap::with_capacity(env.len());
    for (i, (k, _)) in env.iter().enumerate() {
        index.entry(k.clone()).or_insert(i);
    }
    for (key, value) in &config.env {
        let key = OsString::from(key);
        match index.get(&key) {
            Some(&i) => env[i].1 = OsString::from(value),
            None => {
                index.insert(key.clone(), env.len());
                env.push((key, OsString::from(value)));
            }
        }
    }
    env
}

/// Whether `path` is a regular file the caller may execute.
fn executable(path: &[u8]) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    // SAFETY: a NUL-terminated path; no memory written.
    let ok = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    ok && std::fs::metadata(std::ffi::OsStr::from_bytes(path)).is_ok_and(|m| m.is_file())
}

/// The program to execute: `program` itself when it has a `/`, else the first executable
/// `dir/program` along the child's `PATH` (an empty entry is the working directory, as for
/// `execvp`).
pub(crate) fn resolve(program: &str, path_var: &[u8]) -> Result<CString> {
    if program.contains('/') {
        return cstring("program", program.as_bytes().to_vec());
    }
    for dir in path_var.split(|&b| b == b':') {
        let mut candidate = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        candidate.push(b'/');
        candidate.extend_from_slice(program.as_bytes());
        if executable(&candidate) {
            return cstring("program", candidate);
        }
    }
    Err(spawn_failed(
        program,
        format!(
            "not found in the child's PATH ({})",
            String::from_utf8_lossy(path_var)
        ),
        Some(libc::ENOENT),
    ))
}

/// Open one standard stream's target in the parent, so a bad path is reported by name.
/// `None`: inherit the caller's.
pub(crate) fn open_stdio(config: &StdioConfig, fd: i32, program: &str) -> Result<Option<OwnedFd>> {
    let mut options = std::fs::OpenOptions::new();
    let path = match config {
        StdioConfig::Inherit => return Ok(None),
        StdioConfig::Null => {
            if fd == 0 {
                options.read(true);
            } else {
                options.write(true);
            }
            std::path::PathBuf::from("/dev/null")
        }
        StdioConfig::File { path, append } => {
            if fd == 0 {
                options.read(true);
            } else if *append {
                options.append(true).create(true);
            } else {
                options.write(true).create(true).truncate(true);
            }
            path.clone()
        }
    };
    options.open(&path).map(|f| Some(f.into())).map_err(|e| {
        spawn_failed(
            program,
            format!("cannot open {} for fd {fd}: {e}", path.display()),
            e.raw_os_error(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn environment_overrides_in_place_and_appends_new_keys() {
        let config = SpawnInGroupConfig {
            argv: vec!["x".into()],
            env_clear: true,
            env: [
                ("B".to_string(), "2".to_string()),
                ("A".to_string(), "1".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let env = environment(&config);
        assert_eq!(env, [("A".into(), "1".into()), ("B".into(), "2".into())]);
        let inherited = environment(&SpawnInGroupConfig {
            argv: vec!["x".into()],
            env: [("PATH".to_string(), "/nowhere".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        });
        let paths: Vec<_> = inherited.iter().filter(|(k, _)| k == "PATH").collect();
        assert_eq!(paths.len(), 1, "an override replaces the inherited entry");
        assert_eq!(paths[0].1, "/nowhere");
    }

    #[test]
    fn path_search_takes_the_first_executable_and_names_the_path_when_none() {
        let dir = std::env::temp_dir().join(format!("sysprims-plan-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(a.join("tool"), "not executable").unwrap();
        std::fs::write(b.join("tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(b.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(a.join("dir")).unwrap();
        let path = format!("{}:{}", a.display(), b.display());
        let found = resolve("tool", path.as_bytes()).unwrap();
        assert_eq!(found.as_bytes(), b.join("tool").as_os_str().as_bytes());
        let e = resolve("dir", path.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SpawnFailed);
        assert!(e.to_string().contains(&path), "{e}");
        // A name with a slash is taken as given; a NUL is refused, naming the value.
        assert_eq!(resolve("./x/y", b"").unwrap().as_bytes(), b"./x/y");
        assert_eq!(
            resolve("a/\0b", b"").unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stdio_targets_open_in_the_parent_and_name_a_bad_path() {
        assert!(open_stdio(&StdioConfig::Inherit, 1, "p").unwrap().is_none());
        assert!(open_stdio(&StdioConfig::Null, 0, "p").unwrap().is_some());
        let bad = StdioConfig::File {
            path: "/nonexistent-dir-sysprims/out".into(),
            append: false,
        };
        let e = open_stdio(&bad, 1, "prog").unwrap_err();
        assert_eq!(e.code(), ErrorCode::SpawnFailed);
        assert!(
            e.to_string().contains("/nonexistent-dir-sysprims/out"),
            "{e}"
        );
    }
}
