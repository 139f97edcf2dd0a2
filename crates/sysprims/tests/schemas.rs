//! The schemas under `schemas/` are the ones generated from the Rust types, and real output
//! validates against them.

use std::path::PathBuf;

#[cfg(unix)]
use serde_json::Value;
use sysprims::schema;
#[cfg(unix)]
use sysprims::{
    IdentityCheck, ProcessFilter, ProcessIdentity, SnapshotOptions, descendants, snapshot,
    verify_identity,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

#[cfg(unix)]
fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(file)).unwrap_or_else(|e| {
        panic!("schemas/{file}: {e} (run SYSPRIMS_UPDATE_SCHEMAS=1 cargo test)")
    });
    serde_json::from_str(&text).unwrap()
}

#[cfg(unix)]
fn validate(file: &str, document: &Value) {
    let schema = load(file);
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file}: {errors:?}");
}

#[test]
fn schema_files_are_up_to_date() {
    let update = std::env::var("SYSPRIMS_UPDATE_SCHEMAS").as_deref() == Ok("1");
    for doc in schema::all() {
        let text = serde_json::to_string_pretty(&doc.schema).unwrap() + "\n";
        let path = dir().join(doc.file_name);
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "schemas/{} is stale: run SYSPRIMS_UPDATE_SCHEMAS=1 cargo test -p sysprims --test schemas",
            doc.file_name
        );
        assert_eq!(doc.schema["$id"], doc.id.as_str());
    }
}

// Unix: PID 1 and the Unix probe semantics (tests/windows_process.rs has the Windows side).
#[cfg(unix)]
#[test]
fn library_output_validates() {
    let snap = serde_json::to_value(snapshot(&SnapshotOptions::default()).unwrap()).unwrap();
    validate("process-snapshot.v1.schema.json", &snap);
    let tree = serde_json::to_value(descendants(1u32, None).unwrap()).unwrap();
    validate("process-tree.v1.schema.json", &tree);
    let id = ProcessIdentity::of(std::process::id()).unwrap();
    validate(
        "process-identity.v1.schema.json",
        &serde_json::to_value(&id).unwrap(),
    );
    let check = verify_identity(&id).unwrap();
    assert_eq!(check, IdentityCheck::Same);
    validate(
        "identity-check.v1.schema.json",
        &serde_json::to_value(&check).unwrap(),
    );
    let mut other = id.clone();
    other.start_time_boot_ticks = id.start_time_boot_ticks.map(|t| t + 1);
    let reused = serde_json::to_value(verify_identity(&other).unwrap()).unwrap();
    assert_eq!(reused["status"], "reused");
    validate("identity-check.v1.schema.json", &reused);
    // A batch: signalled (us, and init, since the probe may go there) and gone.
    let report = sysprims::kill_many(
        [std::process::id(), i32::MAX as u32, 1],
        sysprims::Signal::PROBE,
    )
    .unwrap();
    let mut report = serde_json::to_value(&report).unwrap();
    validate("kill-report.v1.schema.json", &report);
    report["targets"][0]["outcome"] = "signaled".into();
    assert!(
        jsonschema::validator_for(&load("kill-report.v1.schema.json"))
            .unwrap()
            .validate(&report)
            .is_err(),
        "the schema is strict about outcomes"
    );
    let filter = ProcessFilter {
        name_contains: Some("x".into()),
        pids: Some(vec![sysprims::Pid::new(1).unwrap()]),
        ..Default::default()
    };
    validate(
        "process-filter.v1.schema.json",
        &serde_json::to_value(&filter).unwrap(),
    );
    validate(
        "snapshot-options.v1.schema.json",
        &serde_json::to_value(SnapshotOptions::default()).unwrap(),
    );
}

// fds and ports are Linux-only.
#[cfg(unix)]
#[test]
fn fd_and_port_documents_validate() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let fds = sysprims::list_fds(std::process::id(), &sysprims::FdFilter::default()).unwrap();
    assert!(fds.fds.iter().any(|f| f.socket.is_some()));
    validate(
        "fd-snapshot.v1.schema.json",
        &serde_json::to_value(&fds).unwrap(),
    );
    let ports = sysprims::listening_ports(&sysprims::PortFilter::default()).unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(ports.bindings.iter().any(|b| b.local_port == port));
    validate(
        "port-bindings.v1.schema.json",
        &serde_json::to_value(&ports).unwrap(),
    );
    let filter = sysprims::PortFilter {
        protocol: Some(sysprims::Protocol::Udp),
        port: Some(udp.local_addr().unwrap().port()),
        pid: Some(sysprims::Pid::current()),
    };
    validate(
        "port-filter.v1.schema.json",
        &serde_json::to_value(&filter).unwrap(),
    );
    validate(
        "fd-filter.v1.schema.json",
        &serde_json::to_value(sysprims::FdFilter::kind(sysprims::FdKind::Pipe)).unwrap(),
    );
    let schema = load("port-filter.v1.schema.json");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"port": 70000})));
    assert!(!validator.is_valid(&serde_json::json!({"port": 0})));
    assert!(validator.is_valid(&serde_json::json!({"port": 8080, "protocol": "tcp"})));
    assert!(!validator.is_valid(&serde_json::json!({"protocol": "sctp"})));
    assert!(!validator.is_valid(&serde_json::json!({"pid": 0})));
    let schema = load("fd-filter.v1.schema.json");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"kinds": ["sockets"]})));
}

// The validator is a Unix dev-dependency (the Windows test build leaves it out).
#[cfg(unix)]
#[test]
fn schemas_reject_what_the_types_reject() {
    let schema = load("process-filter.v1.schema.json");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&serde_json::json!({"pids": [1, 2]})));
    assert!(
        !validator.is_valid(&serde_json::json!({"name": "x"})),
        "unknown key"
    );
    assert!(
        !validator.is_valid(&serde_json::json!({"pids": [0]})),
        "PID 0"
    );
    assert!(
        !validator.is_valid(&serde_json::json!({"pids": [4294967295u32]})),
        "u32::MAX"
    );
    let snap = load("process-snapshot.v1.schema.json");
    let validator = jsonschema::validator_for(&snap).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"schema_id": "something-else", "timestamp_unix_ms": 1, "cpu_sample_ms": null, "processes": []})));
}
