//! `sysprims kill` as users run it: against the system `kill`, on real processes, and with
//! bad input inside a PID namespace where a mistake cannot reach the machine.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use support::*;

fn sysprims_path() -> &'static str {
    env!("CARGO_BIN_EXE_sysprims")
}

/// procps `kill` (not the shell builtin).
fn system_kill(args: &[&str]) -> std::process::Output {
    Command::new("/bin/kill").args(args).output().unwrap()
}

#[test]
fn signal_names_and_numbers_agree_with_the_system_kill() {
    if !require(
        "procps kill at /bin/kill",
        std::path::Path::new("/bin/kill").exists(),
    ) {
        return;
    }
    // `kill -l`: the standard signals in procps's order, then the real-time ones.
    let ours = stdout(&sysprims(&["kill", "-l"]));
    let theirs = stdout(&system_kill(&["-l"]));
    let ours: Vec<&str> = ours.split_whitespace().collect();
    let theirs: Vec<&str> = theirs.split_whitespace().collect();
    assert_eq!(ours[..theirs.len()], theirs[..], "kill -l");
    assert_eq!(ours.len(), theirs.len() + 31, "and RTMIN..RTMAX after them");

    // `kill -L`: the standard table line for line.
    let ours = stdout(&sysprims(&["kill", "-L"]));
    let theirs = stdout(&system_kill(&["-L"]));
    let ours: Vec<&str> = ours.lines().map(str::trim_end).collect();
    let theirs: Vec<&str> = theirs.lines().map(str::trim_end).collect();
    assert_eq!(ours[..theirs.len()], theirs[..], "kill -L");

    // `kill -l X`: wherever procps converts, we convert the same way.
    let mut compared = 0;
    for n in 0..=70 {
        let n = n.to_string();
        let theirs = system_kill(&["-l", &n]);
        if stdout(&theirs).trim().is_empty() {
            continue;
        }
        let name = stdout(&theirs).trim().to_string();
        assert_eq!(
            stdout(&sysprims(&["kill", "-l", &n])).trim(),
            name,
            "-l {n}"
        );
        for spelling in [
            name.clone(),
            name.to_lowercase(),
            format!("SIG{name}"),
            format!("sig{}", name.to_lowercase()),
        ] {
            let theirs = stdout(&system_kill(&["-l", &spelling]));
            let ours = sysprims(&["kill", "-l", &spelling]);
            assert!(ours.status.success(), "-l {spelling}: {}", stderr(&ours));
            assert_eq!(stdout(&ours).trim(), theirs.trim(), "-l {spelling}");
            compared += 1;
        }
    }
    assert_eq!(compared, 31 * 4, "every standard signal, four spellings");

    // What procps refuses we refuse too, with a usage error naming the value; except the
    // real-time names and a few aliases, which we take (as bash's kill does).
    for bad in ["SIGFOO", "", "foo", "+9", "0x9", "65", "32", "9x"] {
        let out = sysprims(&["kill", "-l", bad]);
        assert_eq!(out.status.code(), Some(2), "-l {bad:?}");
        assert!(
            stderr(&out).contains(&format!("{bad:?}")),
            "{}",
            stderr(&out)
        );
        assert!(
            stdout(&system_kill(&["-l", bad])).trim().is_empty(),
            "procps: {bad:?}"
        );
    }
}

#[test]
fn real_time_names_agree_with_bash() {
    if !require("bash", have("bash")) {
        return;
    }
    // bash's builtin lists `34) SIGRTMIN 35) SIGRTMIN+1 ...`.
    let out = Command::new("bash")
        .args(["-c", "kill -l"])
        .output()
        .unwrap();
    let listing = stdout(&out);
    let mut pairs = 0;
    for (number, name) in listing
        .split('\t')
        .flat_map(|cell| cell.split('\n'))
        .filter_map(|cell| cell.trim().split_once(") "))
    {
        let name = name.trim().trim_start_matches("SIG");
        assert_eq!(stdout(&sysprims(&["kill", "-l", name])).trim(), number);
        if number.parse::<u32>().unwrap() >= 34 {
            // (Below, bash says IO where procps, and we, say POLL.)
            assert_eq!(stdout(&sysprims(&["kill", "-l", number])).trim(), name);
        }
        pairs += 1;
    }
    assert_eq!(pairs, 62, "{listing}");
}

#[test]
fn signals_reach_their_targets() {
    // Named, numbered, shorthand and real-time signals, seen as the target's cause of death.
    for args in [
        vec!["kill"],
        vec!["kill", "-s", "KILL"],
        vec!["kill", "-s", "9"],
        vec!["kill", "-9"],
        vec!["kill", "-USR1"],
        vec!["kill", "-SIGRTMIN+2"],
        vec!["kill", "--signal", "rtmax"],
    ] {
        let mut kid = Kid::spawn(&["sleep", "1000"]);
        let pid = kid.pid().to_string();
        let mut full = args.clone();
        full.push(&pid);
        let out = sysprims(&full);
        assert!(out.status.success(), "{full:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "nothing on stderr on success");
        assert_eq!(stdout(&out), "", "nothing on stdout without --json");
        let expected = match args.last().copied() {
            Some("kill") => 15,
            Some("KILL" | "9" | "-9") => 9,
            Some("-USR1") => 10,
            Some("-SIGRTMIN+2") => 36,
            _ => 64,
        };
        assert_eq!(kid.0.wait().unwrap().signal(), Some(expected), "{full:?}");
    }
}

#[test]
fn identity_guards_refuse_another_process() {
    // `cat`, not `sleep`: a child no name filter of a parallel test selects.
    let mut kid = Kid::spawn(&["cat"]);
    let pid = kid.pid().to_string();
    let doc = json(&["pstat", "--pid", &pid, "--json"]);
    let start = doc["processes"][0]["start_time_unix_ms"].as_u64().unwrap();
    let exe = doc["processes"][0]["exe_path"]
        .as_str()
        .unwrap()
        .to_string();

    for (flag, value) in [
        ("--require-start-time-ms", (start + 10).to_string()),
        ("--require-exe-path", "/usr/bin/false".to_string()),
    ] {
        let out = sysprims(&["kill", flag, &value, &pid, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        validate("kill-report.v1.schema.json", &report);
        assert_eq!(report["targets"][0]["outcome"], "reused");
        assert!(stderr(&out).contains("another process"), "{}", stderr(&out));
    }
    assert_eq!(kid.0.try_wait().unwrap(), None, "not signalled");

    let out = sysprims(&[
        "kill",
        "--require-start-time-ms",
        &start.to_string(),
        "--require-exe-path",
        &exe,
        &pid,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(kid.0.wait().unwrap().signal(), Some(15));
}

#[test]
fn filters_preview_unless_told_yes() {
    // A name no other test's child has (they run in parallel, children of this same process):
    // `sleep` under a link of its own, which becomes the kernel's name for it.
    let dir = std::env::temp_dir().join(format!("sysprims-kill-preview-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("preview-sleep");
    let _ = std::fs::remove_file(&link);
    let sleep = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("sleep(1)");
    std::os::unix::fs::symlink(sleep, &link).unwrap();
    let mut kid = Kid::spawn(&[link.to_str().unwrap(), "1000"]);
    let _ = std::fs::remove_dir_all(&dir);
    let me = std::process::id().to_string();
    let select = ["kill", "--ppid", &me, "--name", "preview-sleep", "--exact"];

    // A preview lists the target and sends nothing.
    let out = sysprims(&select);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&kid.pid().to_string()),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("nothing was sent"));
    let mut dry = select.to_vec();
    dry.extend(["--yes", "--json"]);
    dry.retain(|a| *a != "--yes");
    dry.push("--dry-run");
    let report = json(&dry);
    validate("kill-report.v1.schema.json", &report);
    assert_eq!(report["preview"], true);
    assert_eq!(report["targets"][0]["outcome"], "would_signal");
    assert_eq!(report["targets"][0]["name"], "preview-sleep");
    assert_eq!(kid.0.try_wait().unwrap(), None, "a preview sends nothing");

    let mut yes = select.to_vec();
    yes.extend(["--yes", "--json", "-s", "INT"]);
    let report = json(&yes);
    validate("kill-report.v1.schema.json", &report);
    assert_eq!(report["preview"], false);
    assert_eq!(report["targets"].as_array().unwrap().len(), 1);
    assert_eq!(report["targets"][0]["pid"], kid.pid());
    assert_eq!(report["targets"][0]["outcome"], "signalled");
    assert_eq!(kid.0.wait().unwrap().signal(), Some(2));

    // Nothing matches now: exit 1.
    let out = sysprims(&select);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no process matches"));
}

#[test]
fn protected_targets_need_force() {
    // sh's $$ becomes sysprims's own PID after exec: sysprims is asked to signal itself.
    let run = |force: &str| {
        Command::new("sh")
            .args([
                "-c",
                &format!("exec {} kill {force} -s USR1 $$", sysprims_path()),
            ])
            .output()
            .unwrap()
    };
    let refused = run("");
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("refused"), "{}", stderr(&refused));
    let forced = run("--force");
    assert_eq!(
        forced.status.signal(),
        Some(libc::SIGUSR1),
        "it signalled itself"
    );

    let out = sysprims(&["kill", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("PID 1 is init"), "{}", stderr(&out));
    let out = sysprims(&["kill", "-s", "0", "1"]);
    assert!(out.status.success(), "the probe may go to init");
}

#[test]
fn missing_and_mixed_targets_exit_1_and_say_which() {
    let mut kid = Kid::spawn(&["sleep", "1000"]);
    let absent = (std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse::<u32>()
        .unwrap()
        + 1)
    .to_string();
    let out = sysprims(&["kill", &kid.pid().to_string(), &absent, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate("kill-report.v1.schema.json", &report);
    assert_eq!(report["targets"][0]["outcome"], "signalled");
    assert_eq!(report["targets"][1]["outcome"], "gone");
    assert_eq!(report["targets"][1]["error"]["code"], "not_found");
    assert!(stderr(&out).contains(&absent), "{}", stderr(&out));
    assert_eq!(kid.0.wait().unwrap().signal(), Some(15));
}

/// The bad input runs inside a fresh PID namespace, next to a canary in the same process
/// group: if any of it reached kill(2) as 0, -1 or a group, the canary would die.
#[test]
fn bad_input_is_a_usage_error_and_sends_nothing() {
    if !require("root (for a PID namespace)", is_root()) || !require("unshare(1)", have("unshare"))
    {
        return;
    }
    let script = r#"
        sleep 1000 &
        canary=$!
        for args in "-s KILL 0" "-s KILL -- -1" "-s KILL -1" "-s KILL 2147483648" \
                    "-s KILL 4294967295" "-s KILL abc" "-s KILL ''" "-s SIGFOO $canary" \
                    "-s '' $canary" "-s 65 $canary" "-s KILL -- $canary -1"; do
            eval "set -- $args"
            "$SYSPRIMS" kill "$@" 2>/tmp/err.$$ >/dev/null
            rc=$?
            echo "rc=$rc args=[$args] err=$(head -c 300 /tmp/err.$$ | tr '\n' ' ')"
        done
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
    assert_eq!(lines.len(), 11, "{text}");
    for (line, named) in lines.iter().zip([
        "'0'",
        "'-1'",
        "'-1'",
        "'2147483648'",
        "'4294967295'",
        "'abc'",
        "''",
        "'SIGFOO'",
        "''",
        "'65'",
        "'-1'",
    ]) {
        assert!(line.starts_with("rc=2 "), "a usage error: {line}");
        assert!(line.contains(named), "names {named}: {line}");
        assert!(!line.contains("panicked"), "{line}");
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A thread of this test process, alive until the sender is dropped.
fn own_thread() -> (
    u32,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let join = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() } as u32).unwrap();
        let _ = stop_rx.recv();
    });
    (rx.recv().unwrap(), stop_tx, join)
}

#[test]
fn a_thread_id_is_a_usage_error_and_nothing_is_sent() {
    // Before the fix, `sysprims kill -s TERM <tid>` signalled the whole of this test binary.
    let me = std::process::id();
    let (tid, stop, join) = own_thread();
    assert_ne!(tid, me);
    let tid_text = tid.to_string();
    // `cat` (not `sleep`, which another test here selects by name among our children).
    let mut kid = Kid::spawn(&["cat"]);
    let kid_pid = kid.pid().to_string();
    for args in [
        vec!["kill", "-s", "TERM", &tid_text],
        vec!["kill", "--dry-run", &tid_text],
        vec!["kill", "--json", &tid_text],
        vec!["kill", "--require-start-time-ms", "1", &tid_text],
        vec!["kill", "--force", "-s", "KILL", &tid_text],
        // One thread ID among good PIDs: nothing is sent to any.
        vec!["kill", "-s", "KILL", &kid_pid, &tid_text],
        vec!["terminate-tree", &tid_text],
        vec!["kill-descendants", &tid_text],
    ] {
        let out = sysprims(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{tid} is a thread of process {me}")),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        kid.0.try_wait().unwrap(),
        None,
        "the good PID was not signalled"
    );
    drop(stop);
    join.join().unwrap();
}

#[test]
fn filters_never_select_kernel_threads() {
    // Kernel threads named kworker/... exist on every Linux machine; `--name kworker` (and
    // `--name worker`) selected them all before the fix.
    let kernel_threads: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split(' ').nth(6)?.parse::<u64>().ok()
                })
                .is_some_and(|flags| flags & 0x0020_0000 != 0)
        })
        .collect();
    if !require(
        "kernel threads visible in /proc (not inside a PID namespace)",
        !kernel_threads.is_empty(),
    ) {
        return;
    }
    for name in ["kworker", "worker", "k"] {
        let out = sysprims(&["kill", "--name", name, "--json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let hit: Vec<u64> = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["pid"].as_u64().unwrap())
            .filter(|pid| kernel_threads.contains(&(*pid as u32)))
            .collect();
        assert!(
            hit.is_empty(),
            "--name {name} selected kernel threads {hit:?}"
        );
    }
    // kthreadd's children are all kernel threads: nothing to select below it.
    let out = sysprims(&[
        "kill-descendants",
        "2",
        "--name",
        "kworker",
        "--dry-run",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["targets"], serde_json::json!([]), "{}", stderr(&out));
}
