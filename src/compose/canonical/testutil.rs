//! Test helpers shared by the loader stages' unit tests: build a `Node` from
//! YAML text and view a `Node` as JSON, to compare against what
//! `docker compose config --format json` printed.

use serde_json::{Map, Value as Json};

use crate::compose::error::LoadError;
use crate::compose::node::{Node, Scalar, Value};
use crate::compose::read;

/// Parse YAML for a test; a test file that does not parse is a bug in the test.
pub(crate) fn parse(yaml: &str) -> Node {
    match read::parse(yaml, "compose.yaml") {
        Ok(n) => n,
        Err(e) => panic!("test YAML does not parse: {e}"),
    }
}

/// Parse YAML under another file name (for spans and extends tests).
pub(crate) fn parse_as(yaml: &str, file: &str) -> Node {
    match read::parse(yaml, file) {
        Ok(n) => n,
        Err(e) => panic!("test YAML does not parse: {e}"),
    }
}

pub(crate) fn json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar(Scalar::Null) => Json::Null,
        Value::Scalar(Scalar::Bool(b)) => Json::Bool(*b),
        Value::Scalar(Scalar::Int(i)) => Json::from(*i),
        Value::Scalar(Scalar::Float(f)) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Scalar(Scalar::Str(s)) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(json).collect()),
        Value::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(k.name.clone(), json(v));
            }
            Json::Object(m)
        }
    }
}

/// The JSON of `root.services.<svc>.<attr>`.
pub(crate) fn attr(root: &Node, svc: &str, attr: &str) -> Json {
    root.get("services")
        .and_then(|s| s.get(svc))
        .and_then(|s| s.get(attr))
        .map(json)
        .unwrap_or(Json::Null)
}

/// Whether any node in the tree still carries a tag.
pub(crate) fn has_tags(node: &Node) -> bool {
    if node.tag.is_some() {
        return true;
    }
    match &node.value {
        Value::Seq(items) => items.iter().any(has_tags),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_tags(v)),
        Value::Scalar(_) => false,
    }
}

/// `body` (attribute lines indented for a service) as service `a`, canonicalized.
pub(crate) fn canonical_service(body: &str) -> Node {
    let mut n = parse(&format!("services:\n  a:\n    image: x\n{body}"));
    super::canonicalize(&mut n).unwrap();
    n
}

/// The canonicalization error for `body` as service `a`; it must name the service.
pub(crate) fn canonical_error(body: &str) -> LoadError {
    let mut n = parse(&format!("services:\n  a:\n    image: x\n{body}"));
    let e = super::canonicalize(&mut n).unwrap_err();
    assert_eq!(e.service.as_deref(), Some("a"), "{e}");
    e
}
