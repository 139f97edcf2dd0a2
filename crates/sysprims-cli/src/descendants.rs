//! `sysprims descendants`: the process tree below a PID.

use std::io::Write;

use clap::Args;
use sysprims::TreeNode;

use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims descendants 1234                  everything below PID 1234, as a table
  sysprims descendants 1234 --tree           the same, drawn as a tree
  sysprims descendants 1234 --max-levels 1   direct children only
  sysprims descendants 1 --json              the whole tree below init, as JSON

Exit codes: 0 success, 1 when the PID does not exist, 2 usage error.";

/// List the descendants of a process: children, grandchildren, and so on.
///
/// The first row is the process itself. Rows come in tree order: each process before its
/// children.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct DescendantsArgs {
    /// The process whose descendants to list.
    #[arg(value_parser = args::pid, allow_negative_numbers = true)]
    pid: sysprims::Pid,

    /// How many levels below PID: a number (1 = children) or "all".
    #[arg(long, value_name = "N|all", default_value = "all", value_parser = args::levels)]
    max_levels: args::Levels,

    /// Draw the tree in the COMMAND column.
    #[arg(long)]
    tree: bool,

    /// Print a JSON document (schema: schemas/process-tree.v1.schema.json).
    #[arg(long)]
    json: bool,
}

pub fn run(a: DescendantsArgs, out: &mut impl Write) -> Result<(), Failure> {
    let tree = sysprims::descendants(a.pid, a.max_levels.0)?;
    if a.json {
        output::json(out, &tree)?;
        return Ok(());
    }
    let prefixes = if a.tree {
        tree_prefixes(&tree.nodes)
    } else {
        vec![String::new(); tree.nodes.len()]
    };
    output::process_table(
        out,
        prefixes
            .into_iter()
            .zip(tree.nodes.iter().map(|n| &n.process)),
    )?;
    Ok(())
}

/// Tree-drawing prefixes for nodes in depth-first pre-order: `├─ ` before a child with later
/// siblings, `└─ ` before the last, and `│  ` or spaces for each ancestor level.
fn tree_prefixes(nodes: &[TreeNode]) -> Vec<String> {
    // Backwards pass: is each node the last child of its parent?
    let mut is_last = vec![false; nodes.len()];
    let mut sibling_follows: Vec<bool> = Vec::new();
    for (i, node) in nodes.iter().enumerate().rev() {
        let depth = node.depth as usize;
        sibling_follows.resize(depth + 1, false);
        is_last[i] = !sibling_follows[depth];
        sibling_follows[depth] = true;
    }
    // Forward pass: draw, remembering which ancestor levels still have siblings to come.
    let mut open_levels: Vec<bool> = Vec::new();
    let mut prefixes = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let depth = node.depth as usize;
        if depth == 0 {
            prefixes.push(String::new());
            open_levels.clear();
            continue;
        }
        open_levels.truncate(depth - 1);
        let mut prefix = String::new();
        for &open in &open_levels {
            prefix.push_str(if open { "│  " } else { "   " });
        }
        prefix.push_str(if is_last[i] { "└─ " } else { "├─ " });
        prefixes.push(prefix);
        open_levels.push(!is_last[i]);
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(depths: &[u32]) -> Vec<TreeNode> {
        let me = sysprims::get_process(std::process::id()).unwrap();
        depths
            .iter()
            .map(|&depth| TreeNode {
                depth,
                process: me.clone(),
            })
            .collect()
    }

    #[test]
    fn draws_a_tree() {
        // root
        // ├─ a
        // │  ├─ a1
        // │  └─ a2
        // │     └─ a2x
        // └─ b
        //    └─ b1
        let got = tree_prefixes(&nodes(&[0, 1, 2, 2, 3, 1, 2]));
        assert_eq!(
            got,
            ["", "├─ ", "│  ├─ ", "│  └─ ", "│     └─ ", "└─ ", "   └─ "]
        );
    }
}
