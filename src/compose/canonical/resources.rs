//! Top-level `volumes`, `networks`, `secrets`, `configs` and `include`.
//!
//! compose-go `transform/external.go`: the deprecated `external: {name: x}`
//! becomes `external: true` plus `name: x` (a conflicting `name` is an error);
//! `labels` lists become mappings. `include` entries written as a path become
//! `{path: [path]}` (compose-go `transform/include.go`; `path` and `env_file`
//! are string-or-list in `IncludeConfig`, so both are lists here).

use super::mapping::{Bare, key_values};
use super::{boolean, invalid, key, string_or_list};
use crate::compose::error::LoadError;
use crate::compose::node::{Node, Value};

pub(super) fn resources(section: &mut Node) -> Result<(), LoadError> {
    let Some(entries) = section.as_map_mut() else {
        return Ok(());
    };
    for (name, resource) in entries.iter_mut() {
        if resource.as_map().is_none() {
            continue;
        }
        if let Some(labels) = resource.get_mut("labels")
            && !labels.is_null()
        {
            key_values(labels, "labels", Bare::Empty)?;
        }
        external(&name.name, resource)?;
    }
    Ok(())
}

fn external(name: &str, resource: &mut Node) -> Result<(), LoadError> {
    let Some(ext) = resource.get_mut("external") else {
        return Ok(());
    };
    if ext.as_map().is_none() {
        return Ok(());
    }
    let ext_name = ext.get("name").cloned();
    let span = ext.span.clone();
    ext.value = boolean(true, &span).value;
    let Some(ext_name) = ext_name else {
        return Ok(());
    };
    match resource.get("name") {
        Some(current) if current.scalar_text() != ext_name.scalar_text() => Err(invalid(
            &ext_name.span,
            format!("{name}: name and external.name conflict; only use name"),
        )
        .with_hint("`external.name` is deprecated: set `name:` and `external: true`")),
        Some(_) => Ok(()),
        None => {
            resource.insert(key("name", &ext_name.span), ext_name);
            Ok(())
        }
    }
}

pub(super) fn include(node: &mut Node) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut node.value else {
        return Ok(());
    };
    for item in items.iter_mut() {
        match &item.value {
            Value::Scalar(_) if item.as_str().is_some() => {
                let mut path = Node::new(item.value.clone(), item.span.clone());
                string_or_list(&mut path);
                item.value = Value::Map(vec![(key("path", &item.span), path)]);
            }
            Value::Map(_) => {
                for attr in ["path", "env_file"] {
                    if let Some(v) = item.get_mut(attr) {
                        string_or_list(v);
                    }
                }
            }
            _ => {
                return Err(invalid(
                    &item.span,
                    format!(
                        "an `include` entry must be a path or a mapping, found {}",
                        item.kind()
                    ),
                )
                .with_hint("write `- path/to/compose.yaml` or `- path: path/to/compose.yaml`"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::canonicalize;
    use super::super::testutil::{json, parse};

    fn canonical(yaml: &str) -> serde_json::Value {
        let mut n = parse(yaml);
        canonicalize(&mut n).unwrap();
        json(&n)
    }

    #[test]
    fn external_name_becomes_name_and_external_true() {
        let j = canonical(
            "networks:\n  x: {external: {name: foo}}\n  y: {external: true}\n  z: {external: {}}\n",
        );
        assert_eq!(
            j["networks"],
            json!({"x": {"external": true, "name": "foo"}, "y": {"external": true}, "z": {"external": true}})
        );
    }

    #[test]
    fn conflicting_external_name_is_an_error() {
        let mut n = parse("volumes:\n  v:\n    name: a\n    external: {name: b}\n");
        let e = canonicalize(&mut n).unwrap_err();
        assert!(
            e.message.contains("name and external.name conflict"),
            "{}",
            e.message
        );
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(4));
    }

    #[test]
    fn resource_labels_lists_become_maps() {
        let j = canonical(
            "volumes:\n  v: {labels: [a=1, b]}\nnetworks:\n  n: {labels: {c: 2}}\n  m:\n",
        );
        assert_eq!(j["volumes"]["v"]["labels"], json!({"a": "1", "b": ""}));
        assert_eq!(j["networks"]["n"]["labels"], json!({"c": "2"}));
        assert_eq!(j["networks"]["m"], json!(null));
    }

    #[test]
    fn include_entries_become_mappings_with_path_lists() {
        let j = canonical(
            "include:\n  - a.yaml\n  - {path: b.yaml, env_file: b.env}\n  - {path: [c.yaml, d.yaml]}\n",
        );
        assert_eq!(
            j["include"],
            json!([
                {"path": ["a.yaml"]},
                {"path": ["b.yaml"], "env_file": ["b.env"]},
                {"path": ["c.yaml", "d.yaml"]},
            ])
        );
    }
}
