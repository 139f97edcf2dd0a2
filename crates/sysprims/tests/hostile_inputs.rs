//! Inputs a hostile or careless caller can give `spawn_in_group` (issue 13, items 8, 11, 19):
//! a huge `PATH` with a long program name must cost bounded memory (checked under an
//! address-space limit, where an up-front allocation of every candidate path aborted the
//! process); 100,000 environment entries are merged right (in linear time: the bench has the
//! figure); a 4 MB program name is cut in error messages.
// Unix limits (RLIMIT_AS) and Unix spawn paths throughout.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::process::Command;

use sysprims::{ErrorCode, SpawnInGroupConfig, StdioConfig, spawn_in_group, wait_pid};

/// The scenario this test binary runs in a child under `RLIMIT_AS` (see below).
const SCENARIO_VAR: &str = "SYSPRIMS_TEST_AS_SCENARIO";

fn huge_path_scenario() {
    // 4 MB name, 300 PATH entries: candidates built up front were 1.2 GB.
    let name = "n".repeat(4 << 20);
    let path = vec!["/nonexistent"; 300].join(":");
    let err = spawn_in_group(&SpawnInGroupConfig {
        argv: vec![name.clone()],
        env: [("PATH".to_string(), path)].into(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("NAME_MAX"),
        "{}",
        &message[..message.len().min(2000)]
    );
    assert!(message.contains("(4194304 bytes)"), "{message}");
    assert!(message.len() < 1000, "a message of {} bytes", message.len());

    // The longest name allowed, with a 16 MB PATH of long and short directories: found
    // nowhere, reported as not found, memory bounded.
    let name = "m".repeat(255);
    let long_dir = format!("/{}", "d".repeat(5000));
    let mut dirs = vec![long_dir.as_str(); 3000];
    dirs.extend(vec!["/nonexistent"; 20_000]);
    let err = spawn_in_group(&SpawnInGroupConfig {
        argv: vec![name],
        env: [("PATH".to_string(), dirs.join(":"))].into(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SpawnFailed, "{err}");
    assert!(err.to_string().contains("not found in PATH"), "{err}");

    // A path (with '/') longer than PATH_MAX.
    let err = spawn_in_group(&SpawnInGroupConfig {
        argv: vec![format!("/{}", "p".repeat(8 << 20))],
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    assert!(err.to_string().contains("PATH_MAX"), "{err}");
    assert!(err.to_string().len() < 1000);

    // And a real program is still found through a PATH with long entries first.
    let mut dirs = vec![long_dir.as_str(); 10];
    dirs.push("/usr/bin:/bin");
    let job = spawn_in_group(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        env: [("PATH".to_string(), dirs.join(":"))].into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(wait_pid(job.pid, None).unwrap().exit_code, Some(0));
}

#[test]
fn a_huge_path_and_a_long_name_cost_bounded_memory() {
    if std::env::var_os(SCENARIO_VAR).is_some() {
        huge_path_scenario();
        return;
    }
    // This same test, alone, in a child limited to 512 MB of address space.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("prlimit")
        .arg(format!("--as={}", 512u64 << 20))
        .arg("--")
        .arg(&exe)
        .args([
            "--exact",
            "a_huge_path_and_a_long_name_cost_bounded_memory",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(SCENARIO_VAR, "1")
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("SYSPRIMS_REQUIRE_ALL").as_deref() != Ok("1"),
                "prlimit(1) is missing"
            );
            eprintln!("skipped: prlimit(1) is missing");
            return;
        }
        Err(e) => panic!("prlimit: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child under RLIMIT_AS failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        &stderr[..stderr.len().min(4000)]
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the scenario did not run"
    );
}

#[test]
fn a_hundred_thousand_environment_entries_are_merged_right() {
    let dir = std::env::temp_dir().join(format!("sysprims-env-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("env");
    let mut env: BTreeMap<String, String> = (0..100_000)
        .map(|i| (format!("K{i:x}"), "v".to_string()))
        .collect();
    // Overrides of inherited variables, and one set twice over an inherited one.
    env.insert("PATH".into(), "/usr/bin:/bin".into());
    env.insert("HOME".into(), "/sysprims-home".into());
    let job = spawn_in_group(&SpawnInGroupConfig {
        argv: vec!["/usr/bin/env".into()],
        env: env.clone(),
        stdout: StdioConfig::File {
            path: out.clone(),
            append: false,
        },
        ..Default::default()
    })
    .unwrap();
    assert_eq!(wait_pid(job.pid, None).unwrap().exit_code, Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut seen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            seen.entry(k).or_default().push(v);
        }
    }
    for (k, v) in &env {
        assert_eq!(seen.get(k.as_str()), Some(&vec![v.as_str()]), "{k}");
    }
    // Every inherited variable is there once, with its own value unless overridden.
    for (k, v) in std::env::vars() {
        if v.contains('\n') {
            continue;
        }
        let expected = env.get(&k).unwrap_or(&v);
        assert_eq!(seen.get(k.as_str()), Some(&vec![expected.as_str()]), "{k}");
    }
}

/// Runs `f` on a thread and returns its result; a call that blocks (as `cpu_sample_ms =
/// u64::MAX` did, forever) fails the test after two minutes instead of hanging it.
fn without_hanging<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("the call blocked")
}

#[test]
fn a_cpu_sampling_interval_over_an_hour_is_refused_by_value() {
    use sysprims::{CPU_SAMPLE_MS_MAX, KillDescendantsOptions, Signal, SnapshotOptions};
    for ms in [u64::MAX, CPU_SAMPLE_MS_MAX + 1] {
        let err = without_hanging(move || {
            sysprims::snapshot(&SnapshotOptions {
                cpu_sample_ms: Some(ms),
                ..Default::default()
            })
            .unwrap_err()
        });
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        assert!(err.to_string().contains(&format!("{ms} ms")), "{err}");
        let err = without_hanging(move || {
            sysprims::kill_descendants(
                std::process::id(),
                Signal::PROBE,
                &KillDescendantsOptions {
                    cpu_sample_ms: Some(ms),
                    dry_run: true,
                    ..Default::default()
                },
            )
            .unwrap_err()
        });
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        assert!(err.to_string().contains(&format!("{ms} ms")), "{err}");
    }
    // The bound itself is accepted (not run: it would take an hour); 1 ms runs.
    let snap = sysprims::snapshot(&SnapshotOptions {
        cpu_sample_ms: Some(1),
        filter: sysprims::ProcessFilter {
            pids: Some(vec![sysprims::Pid::current()]),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    assert!(snap.cpu_sample_ms.is_some());
}
