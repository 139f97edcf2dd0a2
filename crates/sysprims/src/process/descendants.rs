//! The descendants of a process, as a tree.

use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::info::{ProcessInfo, ProcessOptions};
use crate::error::{Result, SysprimsError};
use crate::pid::{IntoPid, Pid};
use crate::sys::process as sys;

/// The schema ID of [`ProcessTree`] documents.
pub const PROCESS_TREE_SCHEMA_ID: &str = "https://sysprims.dev/schemas/process-tree/v1.json";

/// A process and its descendants.
///
/// The tree is kept as a list in depth-first pre-order: every process comes before its
/// children, each with its depth (0 for the root). A parent is the nearest earlier entry with a
/// smaller depth, and [`ProcessTree::children`] finds children directly. A flat list, rather
/// than nested objects, keeps JSON consumers and this library safe from recursion limits on
/// deep chains (a process that keeps forking one child can make thousands of levels).
///
/// ```
/// let tree = sysprims::descendants(1u32, Some(1)).unwrap();
/// assert_eq!(tree.root().pid, 1);
/// assert!(tree.nodes.iter().skip(1).all(|n| n.depth == 1 && n.process.ppid == 1));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessTree {
    /// Always [`PROCESS_TREE_SCHEMA_ID`].
    pub schema_id: String,
    /// The PID whose descendants these are.
    pub root_pid: u32,
    /// How many levels below the root were included; `None` for the whole subtree.
    pub max_levels: Option<u32>,
    /// The root (first, depth 0) and its descendants, in depth-first pre-order, children in
    /// PID order.
    pub nodes: Vec<TreeNode>,
}

/// One process in a [`ProcessTree`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeNode {
    /// Levels below the root: 0 for the root, 1 for its children.
    pub depth: u32,
    /// The process.
    #[serde(flatten)]
    pub process: ProcessInfo,
}

impl ProcessTree {
    /// The root process.
    pub fn root(&self) -> &ProcessInfo {
        &self.nodes[0].process
    }

    /// The descendants, without the root.
    pub fn descendants(&self) -> impl Iterator<Item = &TreeNode> {
        self.nodes.iter().skip(1)
    }

    /// The PIDs of all descendants, without the root.
    pub fn descendant_pids(&self) -> Vec<u32> {
        self.descendants().map(|n| n.process.pid).collect()
    }

    /// The direct children of `pid` within the tree.
    pub fn children(&self, pid: u32) -> impl Iterator<Item = &TreeNode> {
        let start = self.nodes.iter().position(|n| n.process.pid == pid);
        let depth = start.map(|i| self.nodes[i].depth);
        let rest = match start {
            Some(i) => &self.nodes[i + 1..],
            None => &self.nodes[..0],
        };
        rest.iter()
            .take_while(move |n| Some(n.depth) > depth)
            .filter(move |n| Some(n.depth) == depth.map(|d| d + 1))
    }
}

/// The descendants of `pid`: its children, their children, and so on, `max_levels` deep
/// (`None` for all).
///
/// Parentage comes from one pass over the process table; then the processes of the subtree
/// are read in full. A process that exits in between is left out (its children, if they are
/// still there, stay in the tree under its parent), and one whose PID was reused in between is
/// left out too (its start time no longer matches).
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorCode::InvalidArgument) for an invalid PID, a thread ID
/// that is not a process's, or `max_levels == Some(0)`; [`NotFound`](crate::ErrorCode::NotFound) when there is no such
/// process.
pub fn descendants(pid: impl IntoPid, max_levels: Option<u32>) -> Result<ProcessTree> {
    let root = pid.into_pid()?.get();
    if max_levels == Some(0) {
        return Err(SysprimsError::invalid(
            "max levels",
            "0",
            "must be at least 1 (1 = children only); use None for the whole subtree",
        ));
    }
    let table = sys::table()?;
    let Some(root_summary) = table.iter().find(|s| s.pid == root).copied() else {
        // The table lists processes only: a thread ID says which process it belongs to.
        sys::require_process(Pid::new(root)?)?;
        return Err(SysprimsError::process_not_found("descendants", root));
    };
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut starts: HashMap<u32, u64> = HashMap::with_capacity(table.len());
    for s in &table {
        starts.insert(s.pid, s.start);
        if s.pid != s.ppid {
            children.entry(s.ppid).or_default().push(s.pid);
        }
    }
    starts.insert(root, root_summary.start);

    // Depth-first pre-order over the first pass, without recursion.
    let limit = max_levels.unwrap_or(u32::MAX);
    let mut order: Vec<(u32, u32)> = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(root, 0u32)];
    while let Some((pid, depth)) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        order.push((pid, depth));
        if depth < limit
            && let Some(kids) = children.get(&pid)
        {
            // Pushed in reverse so the lowest PID is visited first.
            for &kid in kids.iter().rev() {
                stack.push((kid, depth + 1));
            }
        }
    }

    // Read the subtree in full; drop what vanished or was replaced in between.
    let pids: Vec<u32> = order.iter().map(|&(pid, _)| pid).collect();
    let clock = sys::Clock::now();
    let read = sys::read_many(&pids, ProcessOptions::default(), &clock)?;
    let mut by_pid: HashMap<u32, ProcessInfo> = read
        .into_iter()
        .filter(|raw| starts.get(&raw.info.pid) == Some(&raw.start))
        .map(|raw| (raw.info.pid, raw.info))
        .collect();
    if !by_pid.contains_key(&root) {
        return Err(SysprimsError::process_not_found("descendants", root));
    }

    let mut users = sys::UserCache::default();
    let mut nodes = Vec::with_capacity(by_pid.len());
    // Depth as re-counted over the processes that are still there: a vanished parent's
    // children move up a level, under their nearest surviving ancestor.
    let mut kept_depths: Vec<(u32, u32)> = Vec::new(); // (first-pass depth, kept depth)
    for (pid, depth) in order {
        while kept_depths.last().is_some_and(|&(d, _)| d >= depth) {
            kept_depths.pop();
        }
        if let Some(mut process) = by_pid.remove(&pid) {
            let kept = kept_depths.last().map_or(0, |&(_, k)| k + 1);
            if process.user.is_none() {
                process.user = users.name(process.uid);
            }
            nodes.push(TreeNode {
                depth: kept,
                process,
            });
            kept_depths.push((depth, kept));
        }
    }
    Ok(ProcessTree {
        schema_id: PROCESS_TREE_SCHEMA_ID.to_string(),
        root_pid: root,
        max_levels,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(pid: u32, ppid: u32, depth: u32) -> TreeNode {
        let mut process = crate::process::ProcessInfo::empty(pid);
        process.ppid = ppid;
        TreeNode { depth, process }
    }

    #[test]
    fn children_of_a_preorder_list() {
        let tree = ProcessTree {
            schema_id: PROCESS_TREE_SCHEMA_ID.into(),
            root_pid: 1,
            max_levels: None,
            nodes: vec![
                node(1, 0, 0),
                node(2, 1, 1),
                node(4, 2, 2),
                node(5, 4, 3),
                node(3, 1, 1),
            ],
        };
        let kids = |pid| {
            tree.children(pid)
                .map(|n| n.process.pid)
                .collect::<Vec<_>>()
        };
        assert_eq!(kids(1), [2, 3]);
        assert_eq!(kids(2), [4]);
        assert_eq!(kids(5), Vec::<u32>::new());
        assert_eq!(kids(99), Vec::<u32>::new());
        assert_eq!(tree.descendant_pids(), [2, 4, 5, 3]);
    }

    #[test]
    fn zero_levels_is_refused() {
        let err = descendants(1u32, Some(0)).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
    }
}
