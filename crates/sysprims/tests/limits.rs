#![cfg(target_os = "linux")]
//! Job limits, usage and the OOM verdict, against real cgroups and real processes: a job
//! past its memory limit is OOM-killed and says so, a fork loop stops at `pids_max`, a
//! CPU-bound job under `cpu_max` 0.5 gets about half a CPU, and a grandchild's 200 MiB is in
//! the tree's peak memory. Processes are found by a marker in their command line, never by
//! name.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Cleanup, Reports, new_marker, require};
use sysprims::{
    Containment, EndedBy, ErrorCode, Job, JobLimits, SpawnInGroupConfig, StdioConfig,
    TerminateTreeConfig, TimeoutConfig, json::from_json, run_with_timeout,
};

const MIB: u64 = 1 << 20;

/// Whether these limits can be applied here (a strict spawn of `true` with them works).
fn limits_work(limits: JobLimits) -> bool {
    match Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::Cgroup,
        limits,
        ..Default::default()
    }) {
        Ok(mut job) => {
            job.wait(None).unwrap();
            true
        }
        Err(e) => {
            eprintln!("limits {limits:?} not available: {e}");
            false
        }
    }
}

fn limited_job(marker: &str, argv: Vec<String>, limits: JobLimits) -> (Job, Cleanup) {
    job_with(marker, argv, limits, StdioConfig::Null)
}

fn job_with(
    marker: &str,
    argv: Vec<String>,
    limits: JobLimits,
    stdout: StdioConfig,
) -> (Job, Cleanup) {
    let job = Job::spawn(&SpawnInGroupConfig {
        argv,
        containment: Containment::Cgroup,
        limits,
        stdout,
        stderr: StdioConfig::Null,
        stdin: StdioConfig::Null,
        ..Default::default()
    })
    .unwrap()
    .kill_on_drop(true);
    let cleanup = Cleanup {
        marker: marker.to_string(),
        cgroup: job.cgroup().map(Path::to_path_buf),
    };
    (job, cleanup)
}

#[test]
fn a_job_past_its_memory_limit_is_oom_killed_and_says_so() {
    let limits = JobLimits {
        memory_max_bytes: Some(64 * MIB),
        memory_swap_max_bytes: Some(0),
        ..Default::default()
    };
    if !require("the memory controller for a job", limits_work(limits)) {
        return;
    }
    let m = new_marker();
    // 256 MiB, written (not just reserved), by the job's first process.
    let (mut job, _cleanup) = limited_job(
        &m,
        vec![
            "python3".into(),
            "-c".into(),
            "x = b'x' * (256 << 20)".into(),
            m.clone(),
        ],
        limits,
    );
    let cgroup = job.cgroup().unwrap().to_path_buf();
    let done = job.wait(Some(Duration::from_secs(60))).unwrap();
    assert!(done.exited, "{done:?}");
    assert_eq!(done.signal, Some(9), "{done:?}");
    assert_eq!(done.ended_by, Some(EndedBy::OomKill), "{done:?}");
    let usage = done.usage.expect("a job with a cgroup has usage");
    assert!(usage.oom_kills.unwrap() >= 1, "{usage:?}");
    let peak = usage.memory_peak_bytes.unwrap();
    assert!(
        peak <= 64 * MIB && peak > 32 * MIB,
        "peak {peak} under a 64 MiB limit"
    );
    // The JSON says it too, for scripts.
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["ended_by"], "oom_kill");
    assert!(!cgroup.exists(), "the job's cgroup is removed");

    // The same job without the limit ends on its own: the verdict is the limit's.
    let m2 = new_marker();
    let (mut free, _c2) = limited_job(
        &m2,
        vec![
            "python3".into(),
            "-c".into(),
            "x = b'x' * (256 << 20)".into(),
            m2.clone(),
        ],
        JobLimits {
            accounting: true,
            ..Default::default()
        },
    );
    let done = free.wait(Some(Duration::from_secs(60))).unwrap();
    assert_eq!(done.exit_code, Some(0), "{done:?}");
    assert_eq!(done.ended_by, Some(EndedBy::Exit));
    assert_eq!(done.usage.unwrap().oom_kills, Some(0));
}

#[test]
fn a_fork_loop_stops_at_pids_max_and_the_job_still_ends_whole() {
    let limits = JobLimits {
        pids_max: Some(8),
        ..Default::default()
    };
    if !require("the pids controller for a job", limits_work(limits)) {
        return;
    }
    let m = new_marker();
    let mut reports = Reports::new();
    // 50 forks, each child a `sleep` carrying the marker; the parent reports how many
    // forks failed, then waits.
    let script = r#"
        my ($m, $ok, $failed) = ($ARGV[0], 0, 0);
        for (1..50) {
            my $p = fork;
            if (!defined $p) { $failed++; next }
            if ($p == 0) { exec "sleep", "1000", "0.$m"; exit 127 }
            $ok++;
        }
        $| = 1;
        print "forked $ok failed $failed\n";
        sleep 1000;
    "#;
    let (mut job, _cleanup) = job_with(
        &m,
        vec!["perl".into(), "-e".into(), script.into(), m.clone()],
        limits,
        reports.stdio(),
    );
    reports.close_ours();
    let line = reports.line();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (ok, failed) = (numbers[0], numbers[1]);
    assert!(
        ok <= 7,
        "{line}: the first process counts, so at most 7 forks"
    );
    assert!(failed >= 43, "{line}");
    assert!(common::marked_pids(&m).len() <= 8);
    let cgroup = job.cgroup().unwrap().to_path_buf();
    let outcome = job.terminate(&TerminateTreeConfig::default()).unwrap();
    assert!(outcome.exited, "{outcome:?}");
    assert!(outcome.survivors.is_empty());
    assert_eq!(common::marked_pids(&m), Vec::<u32>::new(), "no survivors");
    assert!(!cgroup.exists());
    let usage = outcome.usage.expect("usage of a job with a cgroup");
    if let Some(peak) = usage.pids_peak {
        assert!((ok + 1..=8).contains(&peak), "pids_peak {peak}, {line}");
    }
}

#[test]
fn a_cpu_bound_job_under_half_a_cpu_gets_about_half() {
    let limits = JobLimits {
        cpu_max: Some(0.5),
        ..Default::default()
    };
    if !require("the cpu controller for a job", limits_work(limits)) {
        return;
    }
    let m = new_marker();
    // Spins until it has used 0.6 s of CPU: under 0.5 CPU that takes over 1.2 s of wall time.
    let started = Instant::now();
    let outcome = run_with_timeout(
        "perl",
        &[
            "-e".into(),
            "1 while (times)[0] + (times)[1] < 0.6".into(),
            m.clone(),
        ],
        Duration::from_secs(60),
        &TimeoutConfig {
            containment: Containment::Cgroup,
            limits,
            ..Default::default()
        },
    )
    .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(!outcome.timed_out(), "{outcome:?}");
    assert_eq!(outcome.status().ended_by, Some(EndedBy::Exit));
    let usage = outcome.run().usage.expect("usage");
    let cpu = (usage.cpu_user_us.unwrap() + usage.cpu_system_us.unwrap()) as f64 / 1e6;
    assert!(cpu >= 0.55, "the job used {cpu} s of CPU");
    let share = cpu / wall;
    eprintln!("cpu {cpu:.3} s over {wall:.3} s wall: {share:.2} CPU");
    assert!(share < 0.75, "{share} CPU under cpu_max 0.5");
}

#[test]
fn peak_memory_covers_a_grandchild() {
    let limits = JobLimits {
        accounting: true,
        ..Default::default()
    };
    if !require("the memory controller for a job", limits_work(limits)) {
        return;
    }
    let m = new_marker();
    // job: sh -> sh -> python3, which writes 200 MiB and exits.
    let script =
        r#"sh -c 'python3 -c "x = b\"x\" * (200 << 20)" "$1"' grandparent "$1"; echo done"#;
    let outcome = run_with_timeout(
        "sh",
        &["-c".into(), script.into(), format!("sh-{m}"), m.clone()],
        Duration::from_secs(60),
        &TimeoutConfig {
            containment: Containment::Cgroup,
            limits,
            stdout: StdioConfig::Null,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(outcome.status().exit_code, Some(0), "{outcome:?}");
    let peak = outcome.run().usage.unwrap().memory_peak_bytes.unwrap();
    let want = 200 * MIB;
    eprintln!("peak {} MiB for a grandchild's 200 MiB", peak / MIB);
    assert!(
        peak >= want && peak <= want + want / 10,
        "peak {peak} bytes, want 200 MiB within 10%"
    );
}

#[test]
fn refused_limits_name_the_value() {
    let spawn = |limits: JobLimits| {
        Job::spawn(&SpawnInGroupConfig {
            argv: vec!["true".into()],
            limits,
            ..Default::default()
        })
        .map(|_| ())
        .unwrap_err()
    };
    for (limits, name, value) in [
        (
            JobLimits {
                memory_max_bytes: Some(0),
                ..Default::default()
            },
            "memory_max_bytes",
            "0".to_string(),
        ),
        (
            JobLimits {
                pids_max: Some(0),
                ..Default::default()
            },
            "pids_max",
            "0".to_string(),
        ),
        (
            JobLimits {
                cpu_max: Some(f64::NAN),
                ..Default::default()
            },
            "cpu_max",
            "NaN".to_string(),
        ),
        (
            JobLimits {
                cpu_max: Some(-0.5),
                ..Default::default()
            },
            "cpu_max",
            "-0.5".to_string(),
        ),
        (
            JobLimits {
                cpu_max: Some(4096.0),
                ..Default::default()
            },
            "cpu_max",
            "4096".to_string(),
        ),
        (
            JobLimits {
                memory_max_bytes: Some(1 << 62),
                ..Default::default()
            },
            "memory_max_bytes",
            (1u64 << 62).to_string(),
        ),
    ] {
        let e = spawn(limits);
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
        let text = e.to_string();
        assert!(text.contains(name) && text.contains(&value), "{text}");
    }
    // Limits need a cgroup: process_group containment has none.
    let e = Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::ProcessGroup,
        limits: JobLimits {
            pids_max: Some(10),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
    assert!(e.to_string().contains("process_group"), "{e}");
    // The timeout path refuses the same, before anything runs.
    let e = run_with_timeout(
        "true",
        &[],
        Duration::from_secs(1),
        &TimeoutConfig {
            limits: JobLimits {
                cpu_max: Some(0.0),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.to_string().contains("cpu_max"), "{e}");
    // JSON: negative numbers, strings, fractions where integers belong, unknown keys.
    for (text, needle) in [
        (
            r#"{"argv": ["true"], "limits": {"memory_max_bytes": -1}}"#,
            "-1",
        ),
        (
            r#"{"argv": ["true"], "limits": {"memory_max_bytes": "1G"}}"#,
            "1G",
        ),
        (r#"{"argv": ["true"], "limits": {"pids_max": 1.5}}"#, "1.5"),
        (
            r#"{"argv": ["true"], "limits": {"cpu_max": "half"}}"#,
            "half",
        ),
        (r#"{"argv": ["true"], "limits": {"memory": 1}}"#, "memory"),
    ] {
        let e = from_json::<SpawnInGroupConfig>("config_json", text).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{text}");
        let msg = e.to_string();
        assert!(msg.contains("limits") && msg.contains(needle), "{msg}");
    }
}

#[test]
fn a_job_without_a_cgroup_has_no_usage_and_says_why() {
    let mut job = Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::ProcessGroup,
        ..Default::default()
    })
    .unwrap();
    let done = job.wait(None).unwrap();
    assert_eq!(done.usage, None);
    assert_eq!(done.ended_by, Some(EndedBy::Exit));
    assert!(
        done.warnings.iter().any(|w| w.contains("no usage")),
        "{:?}",
        done.warnings
    );
}

#[test]
fn wait_pid_of_a_job_reports_cpu_usage() {
    if !require("a writable cgroup v2", common::cgroup_writable()) {
        return;
    }
    let job = sysprims::spawn_in_group(&SpawnInGroupConfig {
        argv: vec![
            "perl".into(),
            "-e".into(),
            "1 while (times)[0] < 0.05".into(),
        ],
        containment: Containment::Cgroup,
        ..Default::default()
    })
    .unwrap();
    let done = sysprims::wait_pid(job.pid, Some(Duration::from_secs(60))).unwrap();
    assert_eq!(done.exit_code, Some(0));
    let usage = done.usage.expect("usage of a job's first process");
    assert!(usage.cpu_user_us.unwrap() >= 50_000, "{usage:?}");
    assert!(!job.cgroup.unwrap().exists());
}

fn validate(file: &str, document: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file}: {errors:?}\n{document}");
}

#[test]
fn documents_with_limits_and_usage_validate_against_the_schemas() {
    let limits = JobLimits {
        memory_max_bytes: Some(64 * MIB),
        memory_swap_max_bytes: Some(0),
        pids_max: Some(16),
        cpu_max: Some(1.0),
        accounting: true,
    };
    if !require(
        "memory, pids and cpu controllers for a job",
        limits_work(limits),
    ) {
        return;
    }
    // Inputs, as written and as parsed back.
    let config = SpawnInGroupConfig {
        argv: vec!["true".into()],
        limits,
        ..Default::default()
    };
    let json = serde_json::to_value(&config).unwrap();
    validate("spawn-in-group-config.v1.schema.json", &json);
    assert_eq!(
        from_json::<SpawnInGroupConfig>("config_json", &json.to_string()).unwrap(),
        config
    );
    validate(
        "timeout-config.v1.schema.json",
        &serde_json::to_value(TimeoutConfig {
            limits,
            ..Default::default()
        })
        .unwrap(),
    );

    // A wait result with an OOM verdict and usage.
    let m = new_marker();
    let (mut oom, _c1) = limited_job(
        &m,
        vec![
            "python3".into(),
            "-c".into(),
            "x = b'x' * (256 << 20)".into(),
            m.clone(),
        ],
        limits,
    );
    let done = oom.wait(Some(Duration::from_secs(60))).unwrap();
    assert_eq!(done.ended_by, Some(EndedBy::OomKill), "{done:?}");
    validate(
        "wait-pid-result.v1.schema.json",
        &serde_json::to_value(&done).unwrap(),
    );

    // A termination result with usage.
    let m = new_marker();
    let (mut sleeper, _c2) = limited_job(
        &m,
        vec!["sleep".into(), "1000".into(), format!("0.{m}")],
        limits,
    );
    let ended = sleeper.terminate(&TerminateTreeConfig::default()).unwrap();
    assert!(
        ended
            .usage
            .is_some_and(|u| u.pids_peak.is_some() || u.cpu_user_us.is_some())
    );
    validate(
        "terminate-tree-result.v1.schema.json",
        &serde_json::to_value(&ended).unwrap(),
    );

    // A timeout report, through the request document the C ABI takes.
    let request: sysprims::TimeoutRequest = from_json(
        "request_json",
        r#"{"argv": ["sh", "-c", "exit 3"], "timeout_ms": 60000,
            "config": {"containment": "cgroup", "stdin": "null",
                       "limits": {"pids_max": 16, "cpu_max": 1.0, "accounting": true}}}"#,
    )
    .unwrap();
    validate(
        "timeout-request.v1.schema.json",
        &serde_json::to_value(&request).unwrap(),
    );
    let report = request.run(None).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ended_by"], "exit");
    assert!(json["usage"]["cpu_user_us"].is_u64(), "{json}");
    validate("timeout-report.v1.schema.json", &json);
}

#[test]
fn a_limit_that_cannot_be_applied_warns_in_auto_and_fails_in_strict_mode() {
    if !require("a writable cgroup v2", common::cgroup_writable()) {
        return;
    }
    // A swap limit alone: cgroup v2 has memory.swap.max; a v1 memory hierarchy (a hybrid
    // host) limits memory and swap only together, so there it cannot be applied.
    let limits = JobLimits {
        memory_swap_max_bytes: Some(0),
        ..Default::default()
    };
    let strict = Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::Cgroup,
        limits,
        ..Default::default()
    });
    let mut auto = Job::spawn(&SpawnInGroupConfig {
        argv: vec!["true".into()],
        containment: Containment::Auto,
        limits,
        ..Default::default()
    })
    .unwrap();
    let warned = auto
        .result()
        .warnings
        .iter()
        .any(|w| w.contains("memory controller"));
    auto.wait(None).unwrap();
    match strict {
        Ok(mut job) => {
            job.wait(None).unwrap();
            assert!(!warned, "{:?}", auto.result().warnings);
        }
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::NotSupported, "{e}");
            assert!(e.to_string().contains("memory controller"), "{e}");
            assert!(warned, "auto mode says why: {:?}", auto.result().warnings);
            eprintln!("strict: {e}");
        }
    }
}
