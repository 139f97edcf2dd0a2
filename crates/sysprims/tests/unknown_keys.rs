//! No JSON input ignores a key it does not know, at any depth (issue 13, item 6).
//!
//! Two checks over every input schema of `schema::all()` (every document sysprims reads, not
//! a chosen few, so a new input type cannot forget it):
//! - every object anywhere in the schema is closed (`additionalProperties: false`, or a map
//!   whose values have a schema of their own);
//! - a full sample of the type, with an unknown key added to each of its objects in turn, is
//!   refused by `sysprims::json::from_json` with `InvalidArgument` naming the key and its path.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sysprims::json::from_json;
use sysprims::{
    Containment, ErrorCode, FdFilter, KillDescendantsOptions, PortFilter, ProcessFilter,
    ProcessIdentity, Signal, SnapshotOptions, SpawnInGroupConfig, StdioConfig, SysprimsError,
    TerminateTreeConfig, TimeoutConfig, TimeoutRequest, schema,
};

/// Every place in `schema` where an object's keys are not closed.
fn open_objects(node: &Value, at: &str, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            let is_object = map.get("type").is_some_and(|t| {
                t == "object"
                    || t.as_array()
                        .is_some_and(|a| a.iter().any(|x| x == "object"))
            }) || map.contains_key("properties");
            if is_object {
                match map.get("additionalProperties") {
                    Some(Value::Bool(false)) => {}
                    // A map (`env`): any key, each value checked by its own schema.
                    Some(Value::Object(_)) if !map.contains_key("properties") => {}
                    _ => out.push(if at.is_empty() { "/".into() } else { at.into() }),
                }
            }
            for (k, v) in map {
                open_objects(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                open_objects(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_object_of_every_input_schema_is_closed() {
    let inputs: Vec<_> = schema::all().into_iter().filter(|d| d.input).collect();
    assert!(inputs.len() >= 10, "the input schemas: {}", inputs.len());
    let mut open = Vec::new();
    for doc in &inputs {
        let mut here = Vec::new();
        open_objects(&doc.schema, "", &mut here);
        open.extend(
            here.into_iter()
                .map(|at| format!("{}: {at}", doc.file_name)),
        );
    }
    assert!(
        open.is_empty(),
        "objects that would ignore unknown keys (add #[serde(deny_unknown_fields)]): {open:#?}"
    );
}

fn value_of<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap()
}

/// A sample of each input type with every nested object present.
fn sample(file: &str) -> Option<Value> {
    let file_out = StdioConfig::File {
        path: "/tmp/sysprims-unknown-keys".into(),
        append: true,
    };
    let timeout_config = TimeoutConfig {
        kill_after_ms: Some(5),
        env: [("A".to_string(), "1".to_string())].into(),
        stdin: StdioConfig::Null,
        stdout: file_out.clone(),
        stderr: file_out.clone(),
        ..Default::default()
    };
    Some(match file {
        "process-identity.v1.schema.json" => {
            value_of(&ProcessIdentity::of(std::process::id()).unwrap())
        }
        "process-filter.v1.schema.json" => value_of(&ProcessFilter {
            pids: Some(vec![sysprims::Pid::new(1).unwrap()]),
            ..Default::default()
        }),
        "snapshot-options.v1.schema.json" => value_of(&SnapshotOptions {
            filter: ProcessFilter {
                pids: Some(vec![sysprims::Pid::new(1).unwrap()]),
                ..Default::default()
            },
            ..Default::default()
        }),
        "fd-filter.v1.schema.json" => value_of(&FdFilter::default()),
        "port-filter.v1.schema.json" => value_of(&PortFilter::default()),
        "spawn-in-group-config.v1.schema.json" => value_of(&SpawnInGroupConfig {
            argv: vec!["true".into()],
            env: [("A".to_string(), "1".to_string())].into(),
            stdin: StdioConfig::Null,
            stdout: file_out.clone(),
            stderr: file_out,
            containment: Containment::ProcessGroup,
            ..Default::default()
        }),
        "terminate-tree-config.v1.schema.json" => value_of(&TerminateTreeConfig::default()),
        "kill-descendants-options.v1.schema.json" => value_of(&KillDescendantsOptions {
            filter: ProcessFilter {
                pids: Some(vec![sysprims::Pid::new(1).unwrap()]),
                ..Default::default()
            },
            ..Default::default()
        }),
        "timeout-config.v1.schema.json" => value_of(&timeout_config),
        "timeout-request.v1.schema.json" => value_of(&TimeoutRequest {
            argv: vec!["true".into()],
            timeout_ms: 1,
            config: TimeoutConfig {
                signal: Signal::INT,
                ..timeout_config
            },
        }),
        _ => return None,
    })
}

fn parse(file: &str, text: &str) -> sysprims::Result<()> {
    fn p<T: DeserializeOwned>(text: &str) -> sysprims::Result<()> {
        from_json::<T>("input", text).map(drop)
    }
    match file {
        "process-identity.v1.schema.json" => p::<ProcessIdentity>(text),
        "process-filter.v1.schema.json" => p::<ProcessFilter>(text),
        "snapshot-options.v1.schema.json" => p::<SnapshotOptions>(text),
        "fd-filter.v1.schema.json" => p::<FdFilter>(text),
        "port-filter.v1.schema.json" => p::<PortFilter>(text),
        "spawn-in-group-config.v1.schema.json" => p::<SpawnInGroupConfig>(text),
        "terminate-tree-config.v1.schema.json" => p::<TerminateTreeConfig>(text),
        "kill-descendants-options.v1.schema.json" => p::<KillDescendantsOptions>(text),
        "timeout-config.v1.schema.json" => p::<TimeoutConfig>(text),
        "timeout-request.v1.schema.json" => p::<TimeoutRequest>(text),
        other => panic!("{other}: add it to parse() and sample() in this test"),
    }
}

/// The paths (`a.b[0].c`) of every object in `value` that is a struct, not a map.
fn object_paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                // `env` is a map: any key is a variable.
                if k == "env" {
                    continue;
                }
                let next = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                object_paths(v, next, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                object_paths(v, format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn object_at<'a>(value: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    let mut here = value;
    if !path.is_empty() {
        for part in path.split('.') {
            let (key, index) = match part.split_once('[') {
                Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
                None => (part, None),
            };
            here = &mut here[key];
            if let Some(i) = index {
                here = &mut here[i];
            }
        }
    }
    here.as_object_mut().unwrap()
}

#[test]
fn an_unknown_key_in_any_object_of_any_input_is_refused_by_name_and_path() {
    let mut checked = 0;
    for doc in schema::all().into_iter().filter(|d| d.input) {
        let file = doc.file_name;
        let sample = sample(file).unwrap_or_else(|| panic!("{file}: add a sample to this test"));
        parse(file, &sample.to_string()).unwrap_or_else(|e| panic!("{file}: sample: {e}"));
        let mut paths = Vec::new();
        object_paths(&sample, String::new(), &mut paths);
        for path in paths {
            let mut bad = sample.clone();
            object_at(&mut bad, &path).insert("zz_unknown".into(), Value::Bool(true));
            let text = serde_json::to_string_pretty(&bad).unwrap();
            let err =
                parse(file, &text).expect_err(&format!("{file}: zz_unknown in {path:?} accepted"));
            assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
            let SysprimsError::InvalidArgument { reason, .. } = &err else {
                panic!("{err:?}")
            };
            let full = if path.is_empty() {
                "zz_unknown".to_string()
            } else {
                format!("{path}.zz_unknown")
            };
            assert!(
                reason.starts_with(&format!("unknown key \"zz_unknown\" at {full}:")),
                "{file}: {reason} in {text}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} objects checked");
}
