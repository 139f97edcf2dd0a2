//! `sysprims spawn`, `wait`, `terminate-tree` and `kill-descendants` as users run them: separate
//! invocations of the binary against real process trees, real cgroups and real signals.
//!
//! Every process a test starts carries that test's unique marker in its command line, and
//! survivors are counted by scanning `/proc/*/cmdline` for it (never by name). A [`Marked`]
//! guard kills whatever still carries the marker, by PID, and the job's cgroup when there is
//! one, even when the test fails. Tests wait on a FIFO the processes write to, and on pidfds,
//! never on sleeps.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn sysprims_path() -> &'static str {
    env!("CARGO_BIN_EXE_sysprims")
}

/// Run sysprims with stdin from /dev/null and extra environment variables.
fn run(args: &[&str]) -> Output {
    Command::new(sysprims_path())
        .args(args)
        .stdin(Stdio::null())
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run sysprims")
}

/// Run, require exit status `code`, no panic, and return stdout parsed as JSON.
fn json_with_code(args: &[&str], code: i32) -> (Value, String) {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: stdout {}, stderr {err}",
        stdout(&out)
    );
    assert!(!err.contains("panicked"), "{err}");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)));
    (doc, err)
}

// ---------------------------------------------------------------------------------------------
// spawn

#[test]
fn spawn_json_runs_the_job_with_its_cwd_env_and_files() {
    let mut m = Marked::new("spawn-io");
    let input = m.path("in.txt");
    std::fs::write(&input, "a line of input\n").unwrap();
    let out_file = m.path("out.txt");
    let err_file = m.path("err.txt");
    let work = m.path("work");
    std::fs::create_dir(&work).unwrap();
    let script = "pwd; echo \"var=$SYSPRIMS_TEST_VAR\"; read line; echo \"read=$line\"; \
                  echo to-stderr >&2";
    let (doc, err) = json_with_code(
        &[
            "spawn",
            "--json",
            "--cwd",
            work.to_str().unwrap(),
            "--env",
            "SYSPRIMS_TEST_VAR=hello=world",
            "--stdin",
            input.to_str().unwrap(),
            "--stdout",
            out_file.to_str().unwrap(),
            "--stderr",
            err_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
            &m.marker,
        ],
        0,
    );
    assert_eq!(err, "", "nothing on stderr on success");
    validate("spawn-in-group-result.v1.schema.json", &doc);
    let pid = m.spawned(&doc);
    assert_eq!(doc["pgid"], doc["pid"], "the job leads its own group");
    assert_eq!(doc["identity"]["pid"], doc["pid"]);
    assert!(wait_gone(pid, PATIENCE), "the job ends by itself");
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        format!(
            "{}\nvar=hello=world\nread=a line of input\n",
            work.canonicalize().unwrap().display()
        )
    );
    assert_eq!(std::fs::read_to_string(&err_file).unwrap(), "to-stderr\n");
    assert_eq!(
        std::fs::read_to_string(&input).unwrap(),
        "a line of input\n",
        "stdin is only read"
    );
}

#[test]
fn spawn_streams_default_to_null_and_a_shared_file_gets_both() {
    let mut m = Marked::new("spawn-null");
    // With the default streams the job cannot hold this command's pipes open: `output()`
    // returns while the job still runs.
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    let (doc, _) = json_with_code(
        &[
            "spawn",
            "--json",
            "--",
            "bash",
            leaf.to_str().unwrap(),
            &m.marker,
            fifo.path(),
        ],
        0,
    );
    fifo.expect(1);
    let pid = m.spawned(&doc);
    assert!(
        m.pids().contains(&pid),
        "the job outlives the spawn command"
    );
    let out = run(&["terminate-tree", &pid.to_string(), "--grace", "5s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(m.pids().is_empty());

    // What the job's own streams are (read by a child of it, whose stdout is redirected).
    let links = m.path("links");
    let (doc, _) = json_with_code(
        &[
            "spawn",
            "--json",
            "--env",
            &format!("OUT={}", links.display()),
            "--",
            "sh",
            "-c",
            // Builtins only, so no redirection is in force while each stream is looked at.
            "for fd in 0 1 2; do \
               if [ /proc/$$/fd/$fd -ef /dev/null ]; then echo \"$fd null\" >> \"$OUT\"; \
               else echo \"$fd other\" >> \"$OUT\"; fi; \
             done",
            &m.marker,
        ],
        0,
    );
    assert!(wait_gone(m.spawned(&doc), PATIENCE));
    assert_eq!(
        std::fs::read_to_string(&links).unwrap(),
        "0 null\n1 null\n2 null\n"
    );

    // --stdout F --stderr F: truncated once, then both streams in order, as `>F 2>&1`.
    let log = m.path("log");
    std::fs::write(&log, "old contents, longer than the new ones\n").unwrap();
    let (doc, _) = json_with_code(
        &[
            "spawn",
            "--json",
            "--stdout",
            log.to_str().unwrap(),
            "--stderr",
            log.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo one; echo two >&2; echo three",
            &m.marker,
        ],
        0,
    );
    assert!(wait_gone(m.spawned(&doc), PATIENCE));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\nthree\n");
    // --append keeps what was there.
    let (doc, _) = json_with_code(
        &[
            "spawn",
            "--json",
            "--append",
            "--stdout",
            log.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo four",
            &m.marker,
        ],
        0,
    );
    assert!(wait_gone(m.spawned(&doc), PATIENCE));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "one\ntwo\nthree\nfour\n"
    );
    // --env-clear: only what --env gives.
    let env_out = m.path("env");
    let (doc, _) = json_with_code(
        &[
            "spawn",
            "--json",
            "--env-clear",
            "--env",
            "ONLY=1",
            "--stdout",
            env_out.to_str().unwrap(),
            "--",
            "/usr/bin/env",
        ],
        0,
    );
    assert!(wait_gone(m.spawned(&doc), PATIENCE));
    assert_eq!(std::fs::read_to_string(&env_out).unwrap(), "ONLY=1\n");
}

#[test]
fn process_group_containment_is_best_effort_with_a_warning() {
    let m = Marked::new("spawn-pg");
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    let argv = [
        "bash",
        leaf.to_str().unwrap(),
        m.marker.as_str(),
        fifo.path(),
    ];
    let mut args = vec!["spawn", "--containment", "process_group", "--json", "--"];
    args.extend(argv);
    let (doc, err) = json_with_code(&args, 0);
    assert_eq!(err, "");
    validate("spawn-in-group-result.v1.schema.json", &doc);
    assert_eq!(doc["tree_kill_reliability"], "best_effort");
    assert_eq!(doc["containment"], "process_group");
    assert!(doc["cgroup"].is_null(), "{doc}");
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty(), "best_effort says why");
    fifo.expect(1);

    // The human form says the same, warnings on stdout with the result.
    let mut args = vec!["spawn", "--containment", "process-group", "--"];
    args.extend(argv);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    assert!(text.contains("reliability    best_effort"), "{text}");
    assert!(text.contains("containment    process_group"), "{text}");
    assert!(text.contains("warning: "), "{text}");
    fifo.expect(1);
    assert_eq!(m.pids().len(), 2);

    // terminate-tree ends a process-group job too, best effort.
    for pid in m.pids() {
        let (doc, _) = json_with_code(&["terminate-tree", &pid.to_string(), "--json"], 0);
        validate("terminate-tree-result.v1.schema.json", &doc);
        assert_eq!(doc["exited"], true);
        assert_eq!(doc["tree_kill_reliability"], "best_effort");
        assert!(doc["survivors"].as_array().unwrap().is_empty());
    }
    assert!(m.pids().is_empty());
}

/// The shape of a job that tries every way out: a plain child, a grandchild, a `setsid`
/// child, a double-forked daemon that also calls `setsid`, and a child that ignores SIGTERM.
/// Every process's command line carries the marker ($0), and each leaf reports on $FIFO.
/// Reports: 5 leaves (4 without the daemon) and the root.
const ESCAPES: &str = r#"
    bash "$LEAF" "$0" "$FIFO" &
    sh -c 'bash "$LEAF" "$0" "$FIFO" & wait' "$0" &
    setsid bash "$LEAF" "$0" "$FIFO" &
    if [ "$DAEMON" = yes ]; then (setsid bash "$LEAF" "$0" "$FIFO" &) & fi
    bash "$LEAF" "$0" "$FIFO" ignore-term &
    echo up > "$FIFO"
    wait
"#;

#[test]
fn a_cgroup_job_ends_whole_from_another_invocation() {
    if !require("root and a writable cgroup v2", cgroup_writable())
        || !require("setsid(1)", have("setsid"))
    {
        return;
    }
    let mut m = Marked::new("cgroup-escapes");
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    let (doc, err) = json_with_code(
        &[
            "spawn",
            "--containment",
            "cgroup",
            "--json",
            "--env",
            &format!("LEAF={}", leaf.display()),
            "--env",
            &format!("FIFO={}", fifo.path()),
            "--env",
            "DAEMON=yes",
            "--",
            "sh",
            "-c",
            ESCAPES,
            &m.marker,
        ],
        0,
    );
    assert_eq!(err, "");
    validate("spawn-in-group-result.v1.schema.json", &doc);
    assert_eq!(doc["tree_kill_reliability"], "guaranteed");
    assert_eq!(doc["containment"], "cgroup_v2");
    let cgroup = PathBuf::from(doc["cgroup"].as_str().expect("a cgroup path"));
    let pid = m.spawned(&doc).to_string();
    assert!(cgroup.is_dir(), "{}", cgroup.display());
    fifo.expect(6);
    let before = m.pids();
    // Every leaf has reported; the count is not checked, as a process seen between its
    // report and a later exec may not show the marker at that instant.
    assert!(!before.is_empty(), "{before:?}");

    let (doc, err) = json_with_code(
        &[
            "terminate-tree",
            &pid,
            "--grace",
            "300ms",
            "--kill-after",
            "10s",
            "--json",
        ],
        0,
    );
    assert_eq!(err, "");
    validate("terminate-tree-result.v1.schema.json", &doc);
    assert_eq!(doc["exited"], true, "{doc}");
    assert_eq!(doc["timed_out"], false, "{doc}");
    assert!(doc["survivors"].as_array().unwrap().is_empty(), "{doc}");
    assert_eq!(doc["tree_kill_reliability"], "guaranteed");
    assert_eq!(
        doc["escalated"], true,
        "the TERM-ignorer needed KILL: {doc}"
    );
    let left = m.pids();
    assert!(left.is_empty(), "survivors {left:?} of {before:?}");
    assert!(!cgroup.exists(), "the job's cgroup is removed");
}

#[test]
fn terminate_tree_ends_a_bash_started_tree() {
    if !require("setsid(1)", have("setsid")) {
        return;
    }
    let m = Marked::new("bash-tree");
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    // No double-forked daemon: it leaves the tree, and only a cgroup can reach it then.
    let mut root = bash_tree(
        ESCAPES,
        &m,
        &[
            ("LEAF", leaf.to_str().unwrap()),
            ("FIFO", fifo.path()),
            ("DAEMON", "no"),
        ],
    );
    fifo.expect(5);
    let before = m.pids();
    assert!(!before.is_empty(), "{before:?}");

    // Human output, and the exit status says it all ended.
    let out = run(&[
        "terminate-tree",
        &root.pid().to_string(),
        "--grace",
        "300ms",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    assert!(text.contains("ended        all"), "{text}");
    assert!(text.contains("survivors    none"), "{text}");
    assert!(text.contains("escalated    yes"), "{text}");
    assert!(text.contains("reliability  best_effort"), "{text}");
    let left = m.pids();
    assert!(left.is_empty(), "survivors {left:?} of {before:?}");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&root.0.wait().unwrap()),
        Some(libc::SIGTERM)
    );
}

// ---------------------------------------------------------------------------------------------
// wait

#[test]
fn wait_reports_exit_codes_and_signals() {
    let m = Marked::new("wait-status");
    for (script, expect_code, expect_signal, human) in [
        ("read x; exit 3", Some(3), None, "exited with code 3"),
        (
            "read x; kill -KILL $$",
            None,
            Some(9),
            "was killed by SIGKILL (9)",
        ),
    ] {
        // Our child: it stays a zombie (we reap it only at the end), so its status is
        // still there for `sysprims wait`, which is not its parent, to read.
        let mut kid = bash_tree(script, &m, &[]);
        drop(kid.0.stdin.take()); // `read` sees end-of-file: the script goes on
        let pid = kid.pid().to_string();
        let (doc, err) = json_with_code(&["wait", &pid, "--timeout", "30s", "--json"], 0);
        assert_eq!(err, "");
        validate("wait-pid-result.v1.schema.json", &doc);
        assert_eq!(doc["exited"], true);
        assert_eq!(doc["timed_out"], false);
        assert_eq!(
            doc["exit_code"].as_i64(),
            expect_code.map(i64::from),
            "{doc}"
        );
        assert_eq!(
            doc["signal"].as_i64(),
            expect_signal.map(i64::from),
            "{doc}"
        );
        let out = run(&["wait", &pid]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("PID {pid} {human}\n"));
        kid.0.wait().unwrap();
    }
}

#[test]
fn wait_times_out_with_exit_1() {
    let m = Marked::new("wait-timeout");
    let mut kid = bash_tree("read x", &m, &[]);
    let pid = kid.pid().to_string();
    let started = Instant::now();
    let (doc, err) = json_with_code(&["wait", &pid, "--timeout", "200ms", "--json"], 1);
    assert!(started.elapsed() >= Duration::from_millis(200));
    validate("wait-pid-result.v1.schema.json", &doc);
    assert_eq!(doc["exited"], false);
    assert_eq!(doc["timed_out"], true);
    assert!(err.contains("still running"), "{err}");

    let out = run(&["wait", &pid, "--timeout", "0"]);
    assert_eq!(out.status.code(), Some(1));
    // Said once, on stderr (it was on stdout and stderr).
    assert_eq!(stdout(&out), "", "stdout");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sysprims: wait: PID ") && err.contains("still running"),
        "{err}"
    );
    assert_eq!(kid.0.try_wait().unwrap(), None, "waiting signals nothing");

    // Once it ends, the same wait succeeds.
    drop(kid.0.stdin.take());
    let out = run(&["wait", &pid, "--timeout", "30s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    kid.0.wait().unwrap();

    // A PID no process has: exit 1, and the message names it.
    let absent = (std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse::<u32>()
        .unwrap()
        + 1)
    .to_string();
    for command in ["wait", "terminate-tree", "kill-descendants"] {
        let out = run(&[command, &absent]);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&absent),
            "{command}: {}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// kill-descendants

#[test]
fn kill_descendants_previews_then_spares_the_root() {
    let m = Marked::new("kill-descendants");
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    // A child, and a grandchild under a wrapper; the root reports when its children are gone.
    let mut root = bash_tree(
        r#"bash "$LEAF" "$0" "$FIFO" &
           sh -c 'bash "$LEAF" "$0" "$FIFO" & wait' "$0" &
           wait; echo children-gone; read x"#,
        &m,
        &[("LEAF", leaf.to_str().unwrap()), ("FIFO", fifo.path())],
    );
    fifo.expect(2);
    let root_pid = root.pid();
    let mut descendants = m.pids();
    descendants.remove(&root_pid);
    assert_eq!(descendants.len(), 3, "child, wrapper, grandchild");

    // Without --yes: a preview that lists them and sends nothing.
    let out = run(&["kill-descendants", &root_pid.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for pid in &descendants {
        assert!(text.contains(&pid.to_string()), "{pid} in {text}");
    }
    assert!(!text.contains(&format!(" {root_pid} ")), "{text}");
    assert!(text.contains("nothing was sent"), "{text}");
    let (doc, _) = json_with_code(
        &[
            "kill-descendants",
            &root_pid.to_string(),
            "--dry-run",
            "--json",
        ],
        0,
    );
    validate("kill-report.v1.schema.json", &doc);
    assert_eq!(doc["preview"], true);
    assert_eq!(m.pids().len(), 4, "a preview sends nothing");

    let (doc, err) = json_with_code(
        &["kill-descendants", &root_pid.to_string(), "--yes", "--json"],
        0,
    );
    assert_eq!(err, "");
    validate("kill-report.v1.schema.json", &doc);
    assert_eq!(doc["preview"], false);
    assert_eq!(doc["signal_name"], "SIGTERM");
    let targets: BTreeSet<u32> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["outcome"], "signalled", "{t}");
            t["pid"].as_u64().unwrap() as u32
        })
        .collect();
    assert_eq!(targets, descendants, "every descendant, never the root");
    for pid in &targets {
        assert!(wait_gone(*pid, PATIENCE), "{pid} ends");
    }
    let mut line = String::new();
    BufReader::new(root.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "children-gone\n");
    assert_eq!(
        m.pids(),
        BTreeSet::from([root_pid]),
        "only the root is left"
    );
    assert_eq!(root.0.try_wait().unwrap(), None, "the root still runs");

    // Nothing left below it: exit 1, as `kill` with no match.
    let out = run(&["kill-descendants", &root_pid.to_string(), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no descendants"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// Bad input and closed pipes

#[test]
fn bad_input_is_named_and_exits_2() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["wait", "0"], "'0'"),
        (vec!["wait", "--", "-1"], "'-1'"),
        (vec!["wait", "2147483648"], "'2147483648'"),
        (vec!["wait", "4294967295"], "'4294967295'"),
        (vec!["wait", "abc"], "'abc'"),
        (vec!["wait", "42", "--timeout", "5x"], "'5x'"),
        (vec!["wait", "42", "--timeout", "-1s"], "'-1s'"),
        (vec!["terminate-tree", "0"], "'0'"),
        (vec!["terminate-tree", "4294967295"], "'4294967295'"),
        (vec!["terminate-tree", "42", "--signal", "FOO"], "'FOO'"),
        (vec!["terminate-tree", "42", "--signal", "0"], "'0'"),
        (vec!["terminate-tree", "42", "--kill-signal", "65"], "'65'"),
        (vec!["terminate-tree", "42", "--grace", "soon"], "'soon'"),
        (vec!["terminate-tree", "42", "--kill-after", "1x"], "'1x'"),
        (vec!["kill-descendants", "0"], "'0'"),
        (vec!["kill-descendants", "2147483648"], "'2147483648'"),
        (vec!["kill-descendants", "42", "-s", "SIGFOO"], "'SIGFOO'"),
        (
            vec!["kill-descendants", "42", "--yes", "--dry-run"],
            "--dry-run",
        ),
        (vec!["spawn"], "<COMMAND>"),
        (vec!["spawn", "--"], "<COMMAND>"),
        (vec!["spawn", "--json", "--"], "<COMMAND>"),
        (vec!["spawn", "--env", "NOEQUALS", "--", "true"], "NOEQUALS"),
        (vec!["spawn", "--env", "=value", "--", "true"], "=value"),
        (
            vec!["spawn", "--containment", "jail", "--", "true"],
            "'jail'",
        ),
    ];
    for (args, named) in cases {
        let out = run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} names {named}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn spawn_failures_name_the_program_or_directory() {
    let m = Marked::new("spawn-fail");
    let missing = m.path("no-such-program");
    let out = run(&["spawn", "--", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-program"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let out = run(&["spawn", "--", "sysprims-no-such-program-anywhere"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("sysprims-no-such-program-anywhere"));

    let nowhere = m.path("no-such-dir");
    let out = run(&[
        "spawn",
        "--cwd",
        nowhere.to_str().unwrap(),
        "--",
        "true",
        &m.marker,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
    assert!(m.pids().is_empty(), "nothing was started");
}

/// Protected roots inside a fresh PID namespace, where PID 1 is a shell of ours: if a refusal
/// failed, the damage would stop at the namespace.
#[test]
fn protected_roots_need_force() {
    if !require("root (for a PID namespace)", is_root()) || !require("unshare(1)", have("unshare"))
    {
        return;
    }
    let script = r#"
        sleep 1000 &
        canary=$!
        "$SYSPRIMS" terminate-tree 1 --grace 100ms >/dev/null 2>/tmp/err.$$; echo "rc=$? $(head -c 300 /tmp/err.$$ | tr '\n' ' ')"
        "$SYSPRIMS" kill-descendants 1 --yes >/dev/null 2>/tmp/err.$$; echo "rc=$? $(head -c 300 /tmp/err.$$ | tr '\n' ' ')"
        sh -c 'exec "$SYSPRIMS" terminate-tree $$ --grace 100ms' >/dev/null 2>/tmp/err.$$; echo "rc=$? $(head -c 300 /tmp/err.$$ | tr '\n' ' ')"
        rm -f /tmp/err.$$
        if kill -0 $canary; then echo CANARY-ALIVE; fi
        kill -9 $canary
    "#;
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "sh", "-c", script])
        .env("SYSPRIMS", sysprims_path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("CANARY-ALIVE"), "{text}\n{}", stderr(&out));
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("rc=")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    for line in lines {
        assert!(
            line.starts_with("rc=2 "),
            "refused as a usage error: {line}"
        );
        assert!(!line.contains("panicked"), "{line}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let m = Marked::new("closed-pipe");
    let mut kid = bash_tree("read x; exit 0", &m, &[]);
    drop(kid.0.stdin.take());
    let pid = kid.pid().to_string();
    let fifo = Fifo::new(m.path("ready"));
    let leaf = m.leaf();
    for args in [
        vec!["wait", pid.as_str(), "--json"],
        vec![
            "spawn",
            "--containment",
            "process_group",
            "--",
            "bash",
            leaf.to_str().unwrap(),
            m.marker.as_str(),
            fifo.path(),
        ],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // every write to stdout fails with EPIPE
        let mut child = Command::new(sysprims_path())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
    }
    fifo.expect(1);
    kid.0.wait().unwrap();
    // (The spawned job is ended by the marker's cleanup.)
}

/// The job of `sysprims spawn` (which has exited) loses its cgroup when it ends, even when its
/// first process moved itself out of it first (so that `sysprims wait PID` cannot find it),
/// with no later spawn to sweep it: the watchdog `spawn` leaves removes it, then exits.
#[test]
fn a_spawned_jobs_cgroup_goes_when_it_ends_even_if_its_leader_moved_out() {
    if !require("root and a writable cgroup v2", cgroup_writable()) {
        return;
    }
    let mut m = Marked::new("moved-out");
    let fifo = Fifo::new(m.path("ready"));
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = mountinfo
        .lines()
        .find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            (right.split_whitespace().next() == Some("cgroup2"))
                .then(|| left.split_whitespace().nth(4).map(str::to_string))?
        })
        .unwrap();
    let own_dir = Path::new(&mount).join(own.trim_start_matches('/'));
    let script = format!(
        "echo $$ > {}/cgroup.procs && echo $$ > {}; exec -a \"$0\" sleep 1000",
        own_dir.display(),
        fifo.path()
    );
    let doc = json(&["spawn", "--json", "--", "bash", "-c", &script, &m.marker]);
    let pid = m.spawned(&doc);
    let dir = PathBuf::from(doc["cgroup"].as_str().expect("a cgroup"));
    let watchdogs = watchdogs_of(&dir);
    let reported: u32 = fifo
        .lines
        .recv_timeout(PATIENCE)
        .expect("the leader moved out")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(reported, pid);
    // The watchdog was there before `spawn` returned; once it has exited, it has removed the
    // cgroup (it leaves only after that).
    assert!(watchdogs.len() <= 1, "{watchdogs:?}");
    for w in watchdogs {
        assert!(wait_gone(w, PATIENCE), "the watchdog outlived its work");
    }
    assert!(watchdogs_of(&dir).is_empty());
    assert!(!dir.exists(), "{dir:?} is still there");
}
