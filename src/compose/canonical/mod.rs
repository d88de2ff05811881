//! Short syntax → long syntax, in place, on one interpolated file's `Node`
//! (compose-go `transform.Canonical` and the short-form decoders of `types`).
//!
//! Owns the shape every later stage relies on: after this pass `ports`,
//! `volumes`, `depends_on`, `environment`, … have exactly one form each, so
//! `merge` can merge them by key and `typing` only needs to understand the long
//! syntax. New nodes take the span of the node they came from, and a node keeps
//! its `!reset`/`!override` tag when its value is rewritten.
//!
//! It must not resolve paths (relative and `~` paths are kept as written), fill
//! in defaults that would change how files merge (a `build` map gets no
//! `context`, a `depends_on` map entry gets no `condition`), read files, or
//! merge anything. A null value is left alone: it means "unset" to `merge`.

mod mapping;
mod ports;
mod resources;
mod service;
#[cfg(test)]
pub(crate) mod testutil;
mod volumes;

use super::error::LoadError;
use super::node::{Key, Node, Scalar, Span, Value};

pub use ports::published as parse_published_ports;
pub(crate) use volumes::clean_path;

/// Rewrite every short syntax Compose accepts into its long form.
pub fn canonicalize(root: &mut Node) -> Result<(), LoadError> {
    let Some(entries) = root.as_map_mut() else {
        // Not a mapping: typing reports it with the file's span.
        return Ok(());
    };
    for (key, value) in entries.iter_mut() {
        match key.name.as_str() {
            "services" => {
                if let Some(services) = value.as_map_mut() {
                    let mut bindings = 0;
                    for (name, svc) in services.iter_mut() {
                        service::service(&name.name, svc)?;
                        if let Some(ports) = svc.get("ports")
                            && let Some(items) = ports.as_seq()
                        {
                            bindings += items.len();
                            if bindings > ports::MAX_BINDINGS {
                                return Err(ports::too_many(&ports.span).with_service(&name.name));
                            }
                        }
                    }
                }
            }
            "volumes" | "networks" | "secrets" | "configs" => resources::resources(value)?,
            "include" => resources::include(value)?,
            _ => {}
        }
    }
    Ok(())
}

// Small constructors shared by the submodules: every new node is located.

fn s(text: impl Into<String>, span: &Span) -> Node {
    Node::str(text, span.clone())
}

fn int(n: i64, span: &Span) -> Node {
    Node::new(Value::Scalar(Scalar::Int(n)), span.clone())
}

fn boolean(b: bool, span: &Span) -> Node {
    Node::new(Value::Scalar(Scalar::Bool(b)), span.clone())
}

fn key(name: impl Into<String>, span: &Span) -> Key {
    Key::new(name, span.clone())
}

/// Replace a node's value, keeping its span and tag.
fn set(node: &mut Node, value: Value) {
    node.value = value;
}

/// `dns: 8.8.8.8` → `dns: [8.8.8.8]` (compose-go `transformStringOrList`).
fn string_or_list(node: &mut Node) {
    if let Value::Scalar(Scalar::Str(_)) = node.value {
        let item = Node::new(node.value.clone(), node.span.clone());
        set(node, Value::Seq(vec![item]));
    }
}

/// A scalar as text, for values Compose reads into strings (`A: 1` → "1").
fn text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Scalar(Scalar::Null) => None,
        Value::Scalar(sc) => Some(sc.to_text()),
        _ => None,
    }
}

fn invalid(span: &Span, message: impl Into<String>) -> LoadError {
    LoadError::invalid(span, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::canonicalize;
    use super::testutil::{json, parse};

    const RICH: &str = "services:
  a:
    image: x
    ports: [\"8080:80\", \"9000-9001:9000-9001\", 81]
    volumes: [\"./d:/d:ro\", \"v:/v\", \"/anon\"]
    environment: [A=1, B]
    labels: [l]
    extra_hosts: [\"h:1.2.3.4\"]
    depends_on: [b]
    env_file: .env
    networks: [n]
    build: ./ctx
    secrets: [s]
    extends: b
    ulimits: {nproc: 5}
    dns: 8.8.8.8
    healthcheck: {test: curl x}
    devices: [/dev/a]
  b:
    image: y
networks: {n: {external: {name: foo}}}
include: [other.yaml]
";

    #[test]
    fn canonical_output_is_stable_when_canonicalized_again() {
        let mut once = parse(RICH);
        canonicalize(&mut once).unwrap();
        let mut twice = once.clone();
        canonicalize(&mut twice).unwrap();
        assert_eq!(json(&once), json(&twice));
    }

    #[test]
    fn non_mapping_roots_null_services_and_extensions_are_left_alone() {
        for yaml in [
            "[1, 2]\n",
            "services:\n",
            "services:\n  a:\n",
            "x-ports: {ports: \"80:80\"}\n",
        ] {
            let mut n = parse(yaml);
            let before = json(&n);
            canonicalize(&mut n).unwrap();
            assert_eq!(json(&n), before, "{yaml}");
        }
    }

    #[test]
    fn other_attributes_are_kept_as_written() {
        let mut n =
            parse("services:\n  a:\n    image: x\n    command: echo hi\n    restart: always\n");
        canonicalize(&mut n).unwrap();
        assert_eq!(
            json(&n),
            json!({"services": {"a": {"image": "x", "command": "echo hi", "restart": "always"}}})
        );
    }
}
