//! The shell completions under `crates/sysprims-cli/completions/` and the man pages under
//! `crates/sysprims-cli/man/` are what `sysprims completions SHELL` and `sysprims manpages
//! DIR` generate from the clap definitions; this test fails when a committed file is stale
//! (or missing, or left over from a command that is gone). `SYSPRIMS_UPDATE_CLI_DOCS=1`
//! rewrites them instead:
//!
//! ```sh
//! SYSPRIMS_UPDATE_CLI_DOCS=1 cargo test -p sysprims-cli --test generated
//! ```
// tests/support runs the binary through Unix process APIs; the files are the same everywhere.
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support::*;

const SHELLS: &[(&str, &str)] = &[
    ("bash", "sysprims.bash"),
    ("zsh", "_sysprims"),
    ("fish", "sysprims.fish"),
    ("elvish", "sysprims.elv"),
    ("powershell", "_sysprims.ps1"),
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var("SYSPRIMS_UPDATE_CLI_DOCS").as_deref() == Ok("1")
}

/// Every file of `dir`, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        found.insert(name, std::fs::read(entry.path()).unwrap());
    }
    found
}

/// Compare what was generated with what is committed in `dir`, or rewrite `dir`.
fn check(dir: &Path, generated: &BTreeMap<String, Vec<u8>>) {
    let stale = "run SYSPRIMS_UPDATE_CLI_DOCS=1 cargo test -p sysprims-cli --test generated \
                 and commit the result";
    if updating() {
        std::fs::create_dir_all(dir).unwrap();
        for name in files(dir).keys() {
            if !generated.contains_key(name) {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
        }
        for (name, text) in generated {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let committed = files(dir);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(generated),
        "{}: the files differ from the generated set: {stale}",
        dir.display()
    );
    for (name, text) in generated {
        if committed[name] != *text {
            let (old, new) = (
                String::from_utf8_lossy(&committed[name]).into_owned(),
                String::from_utf8_lossy(text).into_owned(),
            );
            let line = old
                .lines()
                .zip(new.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || "one is a prefix of the other".into(),
                    |i| format!("line {}", i + 1),
                );
            panic!(
                "{}/{name} is stale (first difference: {line}): {stale}",
                dir.display()
            );
        }
    }
}

#[test]
fn completions_are_current() {
    let mut generated = BTreeMap::new();
    for (shell, file) in SHELLS {
        let out = sysprims(&["completions", shell]);
        assert!(
            out.status.success(),
            "completions {shell}: {}",
            stderr(&out)
        );
        assert_eq!(stderr(&out), "");
        let script = out.stdout;
        // Every command is offered, `timeout` with its GNU options.
        let text = String::from_utf8(script.clone()).unwrap();
        for word in [
            "pstat",
            "terminate-tree",
            "timeout",
            "kill-after",
            "preserve-status",
        ] {
            assert!(text.contains(word), "{shell}: no {word} in the script");
        }
        generated.insert(file.to_string(), script);
    }
    check(&crate_dir().join("completions"), &generated);
}

#[test]
fn bash_completion_offers_commands_and_options() {
    if !require("bash", have("bash")) {
        return;
    }
    // Source the committed script and ask it, as bash's programmable completion would.
    let script = crate_dir().join("completions/sysprims.bash");
    let complete = |words: &[&str]| -> Vec<String> {
        let line = words.join(" ");
        let cword = words.len() - 1;
        let program = format!(
            "source {}; COMP_WORDS=({line}); COMP_CWORD={cword}; COMP_LINE='{line}'; \
             COMP_POINT=${{#COMP_LINE}}; _sysprims sysprims \"${{COMP_WORDS[$COMP_CWORD]}}\" \
             \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    let commands = complete(&["sysprims", "te"]);
    assert_eq!(commands, ["terminate-tree"], "{commands:?}");
    let options = complete(&["sysprims", "timeout", "--pre"]);
    assert_eq!(options, ["--preserve-status"], "{options:?}");
}

#[test]
fn man_pages_are_current() {
    let m = Marked::new("manpages");
    let dir = m.path("man");
    let out = sysprims(&["manpages", dir.to_str().unwrap()]);
    assert!(out.status.success(), "manpages: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let generated = files(&dir);
    for page in [
        "sysprims.1",
        "sysprims-timeout.1",
        "sysprims-pstat.1",
        "sysprims-completions.1",
    ] {
        assert!(
            generated.contains_key(page),
            "no {page}: {:?}",
            generated.keys()
        );
    }
    let timeout = String::from_utf8_lossy(&generated["sysprims-timeout.1"]).into_owned();
    assert!(timeout.contains("kill\\-after"), "{timeout}");
    check(&crate_dir().join("man"), &generated);
}

#[test]
fn manpages_into_an_unwritable_place_fails_clearly() {
    let out = sysprims(&["manpages", "/proc/self/no-such-dir"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/proc/self/no-such-dir"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
