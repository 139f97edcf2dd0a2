//! `snapshot` and `descendants` against processes the tests start.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod common;

use std::collections::HashSet;
use std::process::Command;

use common::{Group, wait_stopped};
use sysprims::{
    ErrorCode, Pid, ProcessFilter, ProcessState, SnapshotOptions, SortKey, descendants, snapshot,
};

fn pids_of(filter: ProcessFilter) -> Vec<u32> {
    snapshot(&SnapshotOptions {
        filter,
        ..Default::default()
    })
    .unwrap()
    .processes
    .iter()
    .map(|p| p.pid)
    .collect()
}

fn pid(raw: u32) -> Pid {
    Pid::new(raw).unwrap()
}

fn mine() -> ProcessFilter {
    ProcessFilter {
        ppid: Some(Pid::current()),
        ..Default::default()
    }
}

#[test]
fn lists_every_process_once_in_pid_order() {
    let snap = snapshot(&SnapshotOptions::default()).unwrap();
    assert_eq!(snap.schema_id, sysprims::PROCESS_SNAPSHOT_SCHEMA_ID);
    assert_eq!(snap.cpu_sample_ms, None);
    let pids: Vec<u32> = snap.processes.iter().map(|p| p.pid).collect();
    assert!(
        pids.windows(2).all(|w| w[0] < w[1]),
        "ascending, no duplicates"
    );
    assert!(pids.contains(&std::process::id()));
    assert!(pids.contains(&1));
    // Threads are not processes.
    let threads: HashSet<u32> = std::fs::read_dir(format!("/proc/{}/task", std::process::id()))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&tid| tid != std::process::id())
        .collect();
    assert!(pids.iter().all(|p| !threads.contains(p)));
}

#[test]
fn filters_select_exactly_the_processes_they_describe() {
    let a = Group::spawn(&["sleep", "1001"]);
    let b = Group::spawn(&["sleep", "1002"]);
    let c = Group::spawn(&["sh", "-c", "read x"]);
    let mut expected = vec![a.pid, b.pid, c.pid];
    expected.sort_unstable();

    let children: Vec<u32> = pids_of(mine())
        .into_iter()
        .filter(|p| expected.contains(p))
        .collect();
    assert_eq!(children, expected);

    let sleeps = pids_of(ProcessFilter {
        name_equals: Some("sleep".into()),
        ..mine()
    });
    assert!(sleeps.contains(&a.pid) && sleeps.contains(&b.pid) && !sleeps.contains(&c.pid));

    let by_contains = pids_of(ProcessFilter {
        name_contains: Some("lee".into()),
        ..mine()
    });
    assert!(by_contains.contains(&a.pid) && !by_contains.contains(&c.pid));

    assert_eq!(
        pids_of(ProcessFilter {
            pids: Some(vec![pid(b.pid), pid(c.pid), pid(i32::MAX as u32)]),
            ..Default::default()
        }),
        {
            let mut v = vec![b.pid, c.pid];
            v.sort_unstable();
            v
        }
    );

    let me = sysprims::get_process(std::process::id()).unwrap();
    let by_user = pids_of(ProcessFilter {
        user: me.user.clone().or(Some(me.uid.to_string())),
        ..mine()
    });
    assert!(by_user.contains(&a.pid));
    let by_uid = pids_of(ProcessFilter {
        user: Some(me.uid.to_string()),
        ..mine()
    });
    assert!(by_uid.contains(&a.pid));

    assert!(
        pids_of(ProcessFilter {
            running_for_ms: Some(3_600_000),
            ..mine()
        })
        .is_empty(),
        "just started"
    );
    assert!(
        pids_of(ProcessFilter {
            memory_above_kb: Some(u64::MAX / 2),
            ..Default::default()
        })
        .is_empty()
    );
}

#[test]
fn state_filter_finds_a_stopped_process() {
    let child = Group::spawn(&["sleep", "1000"]);
    // SAFETY: kill on our own child.
    unsafe { libc::kill(child.pid as libc::pid_t, libc::SIGSTOP) };
    wait_stopped(child.pid);
    let stopped = pids_of(ProcessFilter {
        state: Some(ProcessState::Stopped),
        ..mine()
    });
    assert_eq!(stopped, [child.pid]);
}

#[test]
fn sorting_and_limit() {
    let snap = snapshot(&SnapshotOptions {
        sort: SortKey::Memory,
        limit: Some(3),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(snap.processes.len(), 3);
    let all = snapshot(&SnapshotOptions::default()).unwrap();
    let max = all.processes.iter().map(|p| p.memory_kb).max().unwrap();
    // Memory moves between the two listings; the largest is still near the top.
    assert!(snap.processes[0].memory_kb * 2 >= max);
    assert!(
        snap.processes
            .windows(2)
            .all(|w| w[0].memory_kb >= w[1].memory_kb)
    );

    let by_start = snapshot(&SnapshotOptions {
        sort: SortKey::StartTime,
        reverse: true,
        ..Default::default()
    })
    .unwrap();
    assert!(
        by_start
            .processes
            .windows(2)
            .all(|w| w[0].start_time_unix_ms >= w[1].start_time_unix_ms)
    );
}

#[test]
fn sampled_cpu_tells_busy_from_idle() {
    let busy = Group::spawn(&["sh", "-c", "while :; do :; done"]);
    let idle = Group::spawn(&["sleep", "1000"]);
    let snap = snapshot(&SnapshotOptions {
        filter: ProcessFilter {
            pids: Some(vec![pid(busy.pid), pid(idle.pid)]),
            ..Default::default()
        },
        cpu_sample_ms: Some(300),
        ..Default::default()
    })
    .unwrap();
    let interval = snap.cpu_sample_ms.expect("sampled");
    assert!(interval >= 300, "{interval}");
    let cpu = |pid| {
        snap.processes
            .iter()
            .find(|p| p.pid == pid)
            .unwrap()
            .cpu_percent
    };
    // A spinning shell gets a share of a core however loaded the machine is (on an idle one
    // most of it, under a parallel build a tenth or less); a sleep gets none. So the test asks
    // only that the spinner was seen running and the sleeper was not.
    assert!(cpu(busy.pid) > 1.0, "busy: {}", cpu(busy.pid));
    assert!(cpu(idle.pid) < 1.0, "idle: {}", cpu(idle.pid));

    let above = snapshot(&SnapshotOptions {
        filter: ProcessFilter {
            pids: Some(vec![pid(busy.pid), pid(idle.pid)]),
            cpu_above: Some(1.0),
            ..Default::default()
        },
        cpu_sample_ms: Some(200),
        ..Default::default()
    })
    .unwrap();
    let pids: Vec<u32> = above.processes.iter().map(|p| p.pid).collect();
    assert_eq!(pids, [busy.pid]);
}

#[test]
fn processes_vanishing_mid_listing_are_skipped() {
    // A shell that starts and reaps short-lived children as fast as it can, while we list.
    let churn = Group::spawn(&["sh", "-c", "echo go; while :; do /bin/true; done"]);
    let mut churn = churn;
    assert_eq!(churn.read_line(), "go");
    for _ in 0..30 {
        let snap =
            snapshot(&SnapshotOptions::default()).expect("a vanished process is not an error");
        assert!(snap.processes.iter().any(|p| p.pid == churn.pid));
        let tree = descendants(churn.pid, None).expect("descendants survive churn too");
        assert_eq!(tree.root().pid, churn.pid);
    }
}

#[test]
fn bad_values_are_refused() {
    let err = |options: SnapshotOptions| snapshot(&options).unwrap_err();
    assert_eq!(
        err(SnapshotOptions {
            cpu_sample_ms: Some(0),
            ..Default::default()
        })
        .code(),
        ErrorCode::InvalidArgument
    );
    let e = err(SnapshotOptions {
        filter: ProcessFilter {
            cpu_above: Some(-3.0),
            ..Default::default()
        },
        ..Default::default()
    });
    assert!(e.to_string().contains("-3"), "{e}");
}

/// A tree `DEPTH` levels deep below the root, each node with two children; every node
/// prints its children's PIDs, and leaves sleep.
const TREE: &str = r#"d=$1
if [ "$d" -gt 0 ]; then
  sh -c "$TREE" tree $((d-1)) & echo $!
  sh -c "$TREE" tree $((d-1)) & echo $!
  wait
else
  exec sleep 1000
fi"#;

fn spawn_tree(depth: u32) -> (Group, Vec<u32>) {
    let mut root = Group::spawn_with(
        Command::new("sh")
            .args(["-c", TREE, "tree", &depth.to_string()])
            .env("TREE", TREE),
    );
    let total: u32 = (1..=depth).map(|level| 1 << level).sum();
    let pids = (0..total)
        .map(|_| root.read_line().parse().unwrap())
        .collect();
    (root, pids)
}

#[test]
fn descendants_of_a_three_level_tree_are_all_found() {
    let (root, mut pids) = spawn_tree(3);
    assert_eq!(pids.len(), 14);
    let tree = descendants(root.pid, None).unwrap();
    assert_eq!(tree.schema_id, sysprims::PROCESS_TREE_SCHEMA_ID);
    assert_eq!(tree.root().pid, root.pid);
    assert_eq!(tree.nodes[0].depth, 0);
    let mut found = tree.descendant_pids();
    found.sort_unstable();
    pids.sort_unstable();
    assert_eq!(found, pids);

    let depth_count = |d| tree.nodes.iter().filter(|n| n.depth == d).count();
    assert_eq!([depth_count(1), depth_count(2), depth_count(3)], [2, 4, 8]);
    // Pre-order: each node's parent is the nearest earlier node one level up.
    for (i, node) in tree.nodes.iter().enumerate().skip(1) {
        let parent = tree.nodes[..i]
            .iter()
            .rev()
            .find(|n| n.depth + 1 == node.depth)
            .unwrap();
        assert_eq!(node.process.ppid, parent.process.pid);
    }
    for node in tree.descendants() {
        let kids: Vec<u32> = tree
            .children(node.process.pid)
            .map(|n| n.process.pid)
            .collect();
        assert_eq!(kids.len(), if node.depth < 3 { 2 } else { 0 });
    }

    let children = descendants(root.pid, Some(1)).unwrap();
    assert_eq!(children.max_levels, Some(1));
    assert_eq!(children.nodes.len(), 3);
    assert!(
        children
            .descendants()
            .all(|n| n.depth == 1 && n.process.ppid == root.pid)
    );
    assert_eq!(descendants(root.pid, Some(2)).unwrap().nodes.len(), 7);
}

#[test]
fn descendants_of_a_missing_or_invalid_pid() {
    assert_eq!(
        descendants(i32::MAX, None).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        descendants(0u32, None).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        descendants(u32::MAX, None).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    let child = Group::spawn(&["sleep", "1000"]);
    let tree = descendants(child.pid, None).unwrap();
    assert_eq!(tree.nodes.len(), 1, "a leaf has no descendants");
}
