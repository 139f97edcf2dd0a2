//! `sysprims fds` and `sysprims ports`, run as users run them, against sockets held by
//! processes the tests start.
// Unix processes, signals and /proc throughout; the Windows tests are windows_*.rs.
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use support::{have, json, require, sysprims, validate};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A Python child holding a TCP listener and a UDP socket on ephemeral ports, in its own
/// process group, killed with the group on drop.
struct Holder {
    child: Child,
    tcp: u16,
    udp: u16,
}

impl Holder {
    fn start() -> Option<Holder> {
        if !require("python3", have("python3")) {
            return None;
        }
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import socket, sys\n\
                 t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen()\n\
                 u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))\n\
                 print(t.getsockname()[1], u.getsockname()[1], flush=True)\n\
                 sys.stdin.read()",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut ports = line.split_whitespace().map(|p| p.parse::<u16>().unwrap());
        let (tcp, udp) = (ports.next().unwrap(), ports.next().unwrap());
        Some(Holder { child, tcp, udp })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: killpg on the group our child leads.
        unsafe { libc::killpg(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

#[test]
fn fds_json_validates_and_finds_the_sockets() {
    let Some(h) = Holder::start() else { return };
    let doc = json(&["fds", &h.pid(), "--json"]);
    validate("fd-snapshot.v1.schema.json", &doc);
    assert_eq!(doc["pid"], h.child.id());
    let doc = json(&["fds", &h.pid(), "--kind", "socket", "--json"]);
    let fds = doc["fds"].as_array().unwrap();
    assert_eq!(fds.len(), 2, "{doc}");
    let ports: Vec<u64> = fds
        .iter()
        .map(|f| f["socket"]["local_port"].as_u64().unwrap())
        .collect();
    assert!(ports.contains(&u64::from(h.tcp)) && ports.contains(&u64::from(h.udp)));

    let out = sysprims(&["fds", &h.pid(), "--kind", "socket"]);
    assert!(out.status.success());
    let table = text(&out.stdout);
    assert!(
        table.starts_with("FD") || table.trim_start().starts_with("FD"),
        "{table}"
    );
    assert!(
        table.contains(&format!("tcp 127.0.0.1:{} listen", h.tcp)),
        "{table}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn ports_json_validates_and_filters() {
    let Some(h) = Holder::start() else { return };
    let doc = json(&["ports", "--json"]);
    validate("port-bindings.v1.schema.json", &doc);

    let tcp = h.tcp.to_string();
    let doc = json(&["ports", "--tcp", "--port", &tcp, "--json"]);
    let b = &doc["bindings"].as_array().unwrap()[..];
    assert_eq!(b.len(), 1, "{doc}");
    assert_eq!(b[0]["local_port"], h.tcp);
    assert_eq!(b[0]["protocol"], "tcp");
    assert_eq!(b[0]["processes"][0]["pid"], h.child.id());

    let doc = json(&["ports", "--udp", "--port", &tcp, "--json"]);
    assert_eq!(
        doc["bindings"],
        serde_json::json!([]),
        "no UDP socket on the TCP port"
    );

    let doc = json(&["ports", "--pid", &h.pid(), "--json"]);
    validate("port-bindings.v1.schema.json", &doc);
    let mut got: Vec<(String, u64)> = doc["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["protocol"].as_str().unwrap().to_string(),
                b["local_port"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("tcp".to_string(), u64::from(h.tcp)),
            ("udp".to_string(), u64::from(h.udp))
        ]
    );

    let out = sysprims(&["ports", "--port", &tcp]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let table = text(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.contains(&format!(" {tcp} ")))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(&h.pid()) && row.contains("python"), "{row}");
}

#[test]
fn bad_values_are_usage_errors_that_name_the_value() {
    for (args, value) in [
        (&["fds", "0"][..], "'0'"),
        (&["fds", "-1"], "'-1'"),
        (&["fds", "2147483648"], "'2147483648'"),
        (&["fds", "abc"], "'abc'"),
        (&["fds", "1", "--kind", "sockets"], "'sockets'"),
        (&["ports", "--port", "0"], "'0'"),
        (&["ports", "--port", "70000"], "'70000'"),
        (&["ports", "--port", "http"], "'http'"),
        (&["ports", "--pid", "0"], "'0'"),
        (&["ports", "--pid", "-1"], "'-1'"),
    ] {
        let out = sysprims(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(value),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn missing_processes_exit_1_naming_the_pid() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id().to_string();
    gone.wait().unwrap();
    for args in [&["fds", &pid][..], &["ports", "--pid", &pid]] {
        let out = sysprims(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(&format!("process {pid} not found")), "{err}");
    }
}

/// As an unprivileged user: another user's fds are a clear permission error naming the PID,
/// and `ports` still succeeds, saying which processes it could not read.
#[test]
fn permission_denied_names_the_pid_and_ports_says_what_it_missed() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !require(
        "root (to run as another user with setpriv)",
        root && have("setpriv"),
    ) {
        return;
    }
    let Some(h) = Holder::start() else { return };
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sysprims"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = as_nobody(&["fds", &h.pid()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("permission denied for process {}", h.pid())),
        "{err}"
    );

    let out = as_nobody(&["ports", "--pid", &h.pid()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );

    let out = as_nobody(&["ports", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate("port-bindings.v1.schema.json", &doc);
    let unreadable: Vec<u64> = doc["unreadable_pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert!(unreadable.contains(&u64::from(h.child.id())), "{doc}");
    assert!(!doc["warnings"].as_array().unwrap().is_empty());
    let ours = doc["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["local_port"] == h.tcp && b["protocol"] == "tcp")
        .expect("the socket is listed even though its holder cannot be read");
    assert_eq!(ours["processes"], serde_json::json!([]));

    let out = as_nobody(&["ports"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("note: ") && text(&out.stdout).contains("could not be read"),
        "a note under the table: {}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "", "nothing on stderr on success");
}

#[test]
fn help_shows_examples() {
    for cmd in ["fds", "ports"] {
        let out = sysprims(&[cmd, "--help"]);
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("Examples:"), "{cmd}");
    }
}
