//! `sysprims fds`: the open file descriptors of a process.

use std::io::Write;

use clap::Args;
use comfy_table::{CellAlignment, Table, presets};
use sysprims::{AccessMode, FdFilter, FdInfo, FdKind, Pid};

use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims fds 1234                    every open fd of PID 1234
  sysprims fds 1234 --kind socket      its sockets, with addresses and states
  sysprims fds 1234 --kind file,dir    its files and directories
  sysprims fds 1234 --json | jq '.fds[] | select(.kind == \"pipe\")'

Exit codes: 0 success, 1 when the process does not exist or its fds may not be read
(another user's process, without root), 2 usage error.";

/// List the open file descriptors of a process: files, directories, sockets, pipes, devices
/// and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct FdsArgs {
    /// The process.
    #[arg(value_parser = args::pid, allow_negative_numbers = true)]
    pid: Pid,

    /// Only fds of these kinds: file, directory (dir), socket, pipe, anon_inode (anon),
    /// char_device (char), block_device (block), unknown. Repeat or separate with commas.
    #[arg(long, value_name = "KIND", value_parser = args::fd_kinds, action = clap::ArgAction::Append)]
    kind: Vec<Vec<FdKind>>,

    /// Print a JSON document (schema: schemas/fd-snapshot.v1.schema.json).
    #[arg(long)]
    json: bool,
}

pub fn run(a: FdsArgs, out: &mut impl Write) -> Result<(), Failure> {
    let kinds: Vec<FdKind> = a.kind.into_iter().flatten().collect();
    let filter = FdFilter {
        kinds: (!kinds.is_empty()).then_some(kinds),
    };
    let snap = sysprims::list_fds(a.pid, &filter)?;
    if a.json {
        output::json(out, &snap)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(["FD", "KIND", "MODE", "OFFSET", "INODE", "TARGET"]);
    for f in &snap.fds {
        table.add_row([
            f.fd.to_string(),
            f.kind.to_string(),
            mode(f),
            f.offset.map(|o| o.to_string()).unwrap_or_default(),
            f.inode.map(|i| i.to_string()).unwrap_or_default(),
            output::printable(&describe(f)),
        ]);
    }
    for index in [0, 3, 4] {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    output::write_table(out, &table)?;
    Ok(())
}

fn mode(f: &FdInfo) -> String {
    let access = match f.access {
        Some(AccessMode::Read) => "r",
        Some(AccessMode::Write) => "w",
        Some(AccessMode::ReadWrite) => "rw",
        None => "",
    };
    access.to_string()
}

/// The target, with a socket's addresses and state when known.
fn describe(f: &FdInfo) -> String {
    let Some(s) = &f.socket else {
        return f.target.clone();
    };
    let proto = serde_json::to_value(s.protocol)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let endpoint = |addr: &Option<String>, port: Option<u16>| match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        (None, _) => "-".to_string(),
    };
    let mut text = format!("{proto} {}", endpoint(&s.local_address, s.local_port));
    if s.remote_port.is_some_and(|p| p != 0) {
        text.push_str(&format!(
            " -> {}",
            endpoint(&s.remote_address, s.remote_port)
        ));
    }
    text.push_str(&format!(" {} ({})", s.state, f.target));
    text
}
