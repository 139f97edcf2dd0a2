//! Running the `sysprims` binary in tests: output helpers, schema validation, capability
//! gates and children that are always cleaned up.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

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
