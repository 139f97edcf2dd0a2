//! JSON Schemas for the JSON documents sysprims emits and accepts, generated from the Rust
//! types so they cannot drift apart. The files under `schemas/` in the repository are these,
//! written out; a test fails when they are stale (`SYSPRIMS_UPDATE_SCHEMAS=1 cargo test`
//! rewrites them).

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::Value;

use crate::signal::{KILL_REPORT_SCHEMA_ID, KillReport};
use crate::spawn::{SPAWN_IN_GROUP_RESULT_SCHEMA_ID, SpawnInGroupConfig, SpawnInGroupResult};
use crate::timeout::{TIMEOUT_REPORT_SCHEMA_ID, TimeoutConfig, TimeoutReport, TimeoutRequest};
use crate::tree::{
    KillDescendantsOptions, TERMINATE_TREE_RESULT_SCHEMA_ID, TerminateTreeConfig,
    TerminateTreeResult,
};
use crate::wait::{WAIT_PID_RESULT_SCHEMA_ID, WaitPidResult};

use crate::fds::{FD_SNAPSHOT_SCHEMA_ID, FdFilter, FdSnapshot};
use crate::ports::{PORT_BINDINGS_SCHEMA_ID, PortBindings, PortFilter};
use crate::process::{
    IdentityCheck, PROCESS_SNAPSHOT_SCHEMA_ID, PROCESS_TREE_SCHEMA_ID, ProcessFilter,
    ProcessIdentity, ProcessSnapshot, ProcessTree, SnapshotOptions,
};

/// Base of every schema ID.
pub const SCHEMA_BASE: &str = "https://sysprims.dev/schemas/";

/// One schema.
#[derive(Clone, Debug)]
pub struct SchemaDocument {
    /// File name under `schemas/`, e.g. `process-snapshot.v1.schema.json`.
    pub file_name: &'static str,
    /// The schema's `$id`; for documents that carry a `schema_id`, the same value.
    pub id: String,
    /// The schema.
    pub schema: Value,
    /// Whether sysprims reads documents of this schema (a config, filter, option set,
    /// identity or request): every object in such a schema is closed
    /// (`"additionalProperties": false`), since an unknown key at any depth is an error.
    pub input: bool,
}

fn generate<T: JsonSchema>(name: &'static str, id: &str, document_id: bool) -> SchemaDocument {
    let settings = SchemaSettings::draft2020_12();
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), Value::String(id.to_string()));
        if document_id
            && let Some(prop) = object
                .get_mut("properties")
                .and_then(|p| p.get_mut("schema_id"))
                .and_then(Value::as_object_mut)
        {
            prop.insert("const".into(), Value::String(id.to_string()));
        }
    }
    SchemaDocument {
        file_name: name,
        id: id.to_string(),
        schema,
        input: false,
    }
}

fn input(mut doc: SchemaDocument) -> SchemaDocument {
    doc.input = true;
    doc
}

/// Every schema, in a fixed order.
pub fn all() -> Vec<SchemaDocument> {
    vec![
        generate::<ProcessSnapshot>(
            "process-snapshot.v1.schema.json",
            PROCESS_SNAPSHOT_SCHEMA_ID,
            true,
        ),
        generate::<ProcessTree>("process-tree.v1.schema.json", PROCESS_TREE_SCHEMA_ID, true),
        input(generate::<ProcessIdentity>(
            "process-identity.v1.schema.json",
            &format!("{SCHEMA_BASE}process-identity/v1.json"),
            false,
        )),
        generate::<IdentityCheck>(
            "identity-check.v1.schema.json",
            &format!("{SCHEMA_BASE}identity-check/v1.json"),
            false,
        ),
        input(generate::<ProcessFilter>(
            "process-filter.v1.schema.json",
            &format!("{SCHEMA_BASE}process-filter/v1.json"),
            false,
        )),
        input(generate::<SnapshotOptions>(
            "snapshot-options.v1.schema.json",
            &format!("{SCHEMA_BASE}snapshot-options/v1.json"),
            false,
        )),
        generate::<KillReport>("kill-report.v1.schema.json", KILL_REPORT_SCHEMA_ID, true),
        generate::<FdSnapshot>("fd-snapshot.v1.schema.json", FD_SNAPSHOT_SCHEMA_ID, true),
        generate::<PortBindings>(
            "port-bindings.v1.schema.json",
            PORT_BINDINGS_SCHEMA_ID,
            true,
        ),
        input(generate::<FdFilter>(
            "fd-filter.v1.schema.json",
            &format!("{SCHEMA_BASE}fd-filter/v1.json"),
            false,
        )),
        input(generate::<PortFilter>(
            "port-filter.v1.schema.json",
            &format!("{SCHEMA_BASE}port-filter/v1.json"),
            false,
        )),
        input(generate::<SpawnInGroupConfig>(
            "spawn-in-group-config.v1.schema.json",
            &format!("{SCHEMA_BASE}spawn-in-group-config/v1.json"),
            false,
        )),
        generate::<SpawnInGroupResult>(
            "spawn-in-group-result.v1.schema.json",
            SPAWN_IN_GROUP_RESULT_SCHEMA_ID,
            true,
        ),
        generate::<WaitPidResult>(
            "wait-pid-result.v1.schema.json",
            WAIT_PID_RESULT_SCHEMA_ID,
            true,
        ),
        input(generate::<TerminateTreeConfig>(
            "terminate-tree-config.v1.schema.json",
            &format!("{SCHEMA_BASE}terminate-tree-config/v1.json"),
            false,
        )),
        generate::<TerminateTreeResult>(
            "terminate-tree-result.v1.schema.json",
            TERMINATE_TREE_RESULT_SCHEMA_ID,
            true,
        ),
        input(generate::<KillDescendantsOptions>(
            "kill-descendants-options.v1.schema.json",
            &format!("{SCHEMA_BASE}kill-descendants-options/v1.json"),
            false,
        )),
        input(generate::<TimeoutConfig>(
            "timeout-config.v1.schema.json",
            &format!("{SCHEMA_BASE}timeout-config/v1.json"),
            false,
        )),
        input(generate::<TimeoutRequest>(
            "timeout-request.v1.schema.json",
            &format!("{SCHEMA_BASE}timeout-request/v1.json"),
            false,
        )),
        generate::<TimeoutReport>(
            "timeout-report.v1.schema.json",
            TIMEOUT_REPORT_SCHEMA_ID,
            true,
        ),
    ]
}
