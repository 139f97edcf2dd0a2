//! Reading sysprims' JSON inputs: [`from_json`].
//!
//! Every input type (configs, filters, options, identities, requests) rejects keys it does not
//! know, at any depth: `{"stdout": {"file": {"path": "/tmp/x", "apend": true}}}` is an error
//! naming `stdout.file.apend`, not a silently truncated file. The C ABI reads every JSON
//! argument through [`from_json`].

use serde::de::DeserializeOwned;

use crate::error::{Result, SysprimsError, cut};

/// Parse the JSON document `text` as a `T`, for the parameter called `what`.
///
/// A malformed document, a value of the wrong type and a key `T` does not know (at any
/// depth) are [`InvalidArgument`](crate::ErrorCode::InvalidArgument) errors. The reason
/// names the offending key with its path from the top of the document (`stdout.file.apend`,
/// `argv[2]`); the value quoted is the document, cut to a readable length.
///
/// ```
/// use sysprims::{ErrorCode, SpawnInGroupConfig, json::from_json};
///
/// let text = r#"{"argv": ["true"], "stdout": {"file": {"path": "/tmp/x", "apend": true}}}"#;
/// let err = from_json::<SpawnInGroupConfig>("config_json", text).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidArgument);
/// assert!(err.to_string().contains(r#"unknown key "apend" at stdout.file.apend"#), "{err}");
/// ```
pub fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let (path, on_key) = error_path(text, &e, !message.starts_with("unknown"));
        // The name serde quotes in "unknown field `x`, expected ..." / "unknown variant `x`".
        let quoted = || {
            let rest = message.split_once('`')?.1;
            Some(rest.split_once('`')?.0.to_string())
        };
        let unknown = if message.starts_with("unknown field") {
            Some(("key", quoted()))
        } else if message.starts_with("unknown variant") {
            Some(("variant", quoted()))
        } else if on_key && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            // Well-formed JSON refused at a key: a second key beside an enum's variant
            // (`{"file": {...}, "apend": true}`), which serde reports as a syntax error.
            Some(("key", None))
        } else {
            None
        };
        let reason = match unknown {
            Some((kind, name)) => {
                let name = name.or_else(|| match path.last() {
                    Some(Step::Key(k)) => Some(k.clone()),
                    _ => None,
                });
                format!(
                    "unknown {kind} {} at {}: {message}",
                    cut(&format!("{:?}", name.unwrap_or_default())),
                    cut(&render(&path))
                )
            }
            None if path.is_empty() => message,
            None => format!("at {}: {message}", cut(&render(&path))),
        };
        SysprimsError::invalid(what, cut(text), reason)
    })
}

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Key(k) => f.write_str(k),
            Step::Index(i) => write!(f, "{i}"),
        }
    }
}

fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "the top level".into()
    } else {
        out
    }
}

/// The path to where serde_json stopped with `err` in `text`, and whether it stopped on an
/// object's key.
///
/// With `to_next_key`, a position just before the end of an object and a `,` (or before the
/// `,`) moves on to the key after it: where serde_json stops when an enum's object has a
/// second key.
fn error_path(text: &str, err: &serde_json::Error, to_next_key: bool) -> (Vec<Step>, bool) {
    if err.line() == 0 {
        return (Vec::new(), false);
    }
    // serde_json counts lines from 1 and columns (bytes) from 1 at the byte it stopped on.
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n + 1 == err.line() {
            offset += err.column().min(line.len());
            break;
        }
        offset += line.len();
    }
    let bytes = text.as_bytes();
    let mut end = offset.min(bytes.len());
    if to_next_key {
        let mut j = end;
        let skip_ws = |j: &mut usize| {
            while *j < bytes.len() && bytes[*j].is_ascii_whitespace() {
                *j += 1;
            }
        };
        skip_ws(&mut j);
        if j < bytes.len() && bytes[j] == b'}' {
            j += 1;
            skip_ws(&mut j);
        }
        if j < bytes.len() && bytes[j] == b',' {
            j += 1;
            skip_ws(&mut j);
            if j < bytes.len() && bytes[j] == b'"' {
                end = j + 1;
            }
        }
    }
    path_at(bytes, end)
}

enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
        empty: bool,
    },
}

/// The keys and indices of the containers open at byte `end` of `text` (for an object, its
/// last key read: the key being parsed when an error stopped there), and whether the last
/// token read was a key.
fn path_at(text: &[u8], end: usize) -> (Vec<Step>, bool) {
    let mut stack: Vec<Frame> = Vec::new();
    let mut on_key = false;
    let mut i = 0;
    while i < end {
        if !matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | b':') {
            on_key = false;
        }
        match text[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                let raw = &text[start..(i + 1).min(text.len())];
                if let Some(Frame::Object { key, expect_key }) = stack.last_mut()
                    && *expect_key
                {
                    let decoded = std::str::from_utf8(raw)
                        .ok()
                        .and_then(|s| serde_json::from_str::<String>(s).ok())
                        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
                    *key = Some(decoded);
                    *expect_key = false;
                    on_key = true;
                }
                if let Some(Frame::Array { empty, .. }) = stack.last_mut() {
                    *empty = false;
                }
            }
            b'{' => {
                if let Some(Frame::Array { empty, .. }) = stack.last_mut() {
                    *empty = false;
                }
                stack.push(Frame::Object {
                    key: None,
                    expect_key: true,
                });
            }
            b'[' => {
                if let Some(Frame::Array { empty, .. }) = stack.last_mut() {
                    *empty = false;
                }
                stack.push(Frame::Array {
                    index: 0,
                    empty: true,
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index, .. }) => *index += 1,
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                None => {}
            },
            b' ' | b'\t' | b'\n' | b'\r' | b':' => {}
            _ => {
                if let Some(Frame::Array { empty, .. }) = stack.last_mut() {
                    *empty = false;
                }
            }
        }
        i += 1;
    }
    let path = stack
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Object { key, .. } => key.map(Step::Key),
            Frame::Array { index, empty } => (!empty).then_some(Step::Index(index)),
        })
        .collect();
    (path, on_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, SpawnInGroupConfig, TimeoutRequest};

    fn reason<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        let err = from_json::<T>("input", text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        match err {
            SysprimsError::InvalidArgument { reason, .. } => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let r = reason::<SpawnInGroupConfig>(
            r#"{"argv":["true"],"stdout":{"file":{"path":"/tmp/x","apend":true}}}"#,
        );
        assert!(
            r.starts_with(r#"unknown key "apend" at stdout.file.apend"#),
            "{r}"
        );
        let r = reason::<SpawnInGroupConfig>("{\n  \"argv\": [],\n  \"cwdd\": \"/\"\n}");
        assert!(r.starts_with(r#"unknown key "cwdd" at cwdd"#), "{r}");
        let r = reason::<TimeoutRequest>(
            r#"{"argv":["a"],"timeout_ms":1,"config":{"stderr":{"file":{"path":"p","x\"y":1}}}}"#,
        );
        assert!(
            r.starts_with(r#"unknown key "x\"y" at config.stderr.file.x"y"#),
            "{r}"
        );
        let r = reason::<SpawnInGroupConfig>(r#"{"argv":["a", 5]}"#);
        assert!(r.starts_with("at argv[1]: invalid type"), "{r}");
        let r =
            reason::<SpawnInGroupConfig>(r#"{"stdout":{"file":{"path":"/tmp/x"},"append":true}}"#);
        assert!(
            r.starts_with(r#"unknown key "append" at stdout.append"#),
            "{r}"
        );
        let r = reason::<SpawnInGroupConfig>(r#"{"stdin":"nul"}"#);
        assert!(r.starts_with(r#"unknown variant "nul" at stdin"#), "{r}");
    }

    #[test]
    fn paths_inside_arrays_and_nested_objects() {
        let text = br#"{"a":[{"b":1},{"c":[1,{"d":"}"#;
        let (path, on_key) = path_at(text, text.len());
        assert!(!on_key);
        assert_eq!(
            render(&path),
            "a[1].c[1].d",
            "the path at the end of {:?}",
            String::from_utf8_lossy(text)
        );
        assert_eq!(render(&path_at(b"[]", 2).0), "the top level");
        assert_eq!(
            path_at(br#"{"a":{"b":1,"c""#, 15),
            (vec![Step::Key("a".into()), Step::Key("c".into())], true)
        );
    }
}
