//! `sysprims ports`: listening TCP and UDP sockets, and who holds them.

use std::io::Write;

use clap::Args;
use comfy_table::{CellAlignment, Table, presets};
use sysprims::{Pid, PortFilter, Protocol};

use crate::{Failure, args, output};

const EXAMPLES: &str = "\
Examples:
  sysprims ports                       every listening TCP and UDP socket, with its holders
  sysprims ports --tcp --port 8080     who listens on TCP port 8080
  sysprims ports --pid 1234            the ports PID 1234 holds
  sysprims ports --json | jq '.bindings[] | {port: .local_port, pids: [.processes[].pid]}'

Exit codes: 0 success (an empty result included), 1 when the PID given with --pid does not
exist or its fds may not be read, 2 usage error.";

/// List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that
/// holds each one, like `ss -ltunp`.
///
/// Without root, other users' processes cannot be inspected: their sockets are listed with no
/// holder, and a note under the table (`warnings` in JSON) says how many processes could not
/// be read.
#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct PortsArgs {
    /// TCP sockets (with --udp: both; neither: both).
    #[arg(long)]
    tcp: bool,

    /// UDP sockets.
    #[arg(long)]
    udp: bool,

    /// Only this local port (1-65535).
    #[arg(long, value_parser = args::port, allow_negative_numbers = true)]
    port: Option<u16>,

    /// Only sockets this process holds.
    #[arg(long, value_name = "PID", value_parser = args::pid, allow_negative_numbers = true)]
    pid: Option<Pid>,

    /// Print a JSON document (schema: schemas/port-bindings.v1.schema.json).
    #[arg(long)]
    json: bool,
}

pub fn run(a: PortsArgs, out: &mut impl Write) -> Result<(), Failure> {
    let protocol = match (a.tcp, a.udp) {
        (true, false) => Some(Protocol::Tcp),
        (false, true) => Some(Protocol::Udp),
        _ => None,
    };
    let found = sysprims::listening_ports(&PortFilter {
        protocol,
        port: a.port,
        pid: a.pid,
    })?;
    if a.json {
        output::json(out, &found)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(["PROTO", "ADDRESS", "PORT", "STATE", "PID", "USER", "NAME"]);
    for b in &found.bindings {
        let join = |f: &dyn Fn(&sysprims::PortProcess) -> String| {
            b.processes.iter().map(f).collect::<Vec<_>>().join(",")
        };
        let family = match b.family {
            sysprims::SocketFamily::Ipv6 => "6",
            _ => "",
        };
        table.add_row([
            format!("{}{family}", b.protocol),
            b.local_address.clone(),
            b.local_port.to_string(),
            b.state.to_string(),
            join(&|p| p.pid.to_string()),
            join(&|p| p.user.clone().unwrap_or_else(|| p.uid.to_string())),
            output::printable(&join(&|p| p.name.clone())),
        ]);
    }
    if let Some(column) = table.column_mut(2) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    output::write_table(out, &table)?;
    // A footnote to the table, on stdout with it: stderr stays empty on success.
    for w in &found.warnings {
        writeln!(out, "note: {w}")?;
    }
    Ok(())
}
