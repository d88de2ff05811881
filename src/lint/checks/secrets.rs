//! `literal-secret`: a secret written in the compose file itself instead of
//! coming from `.env`/the environment by interpolation, `env_file` or
//! `secrets:`. Judges the text as written (from `source`), so `${VAR}` is
//! never flagged; reports the variable and the length, never the value.

use crate::compose::node::{Node, Value};

use super::super::secret::{self, Depth, Hit};
use super::{Context, Finding, on_service};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for name in cx.project.services.keys() {
        let Some(node) = cx.at.service_node(name) else {
            continue;
        };
        let Some(entries) = node.as_map() else {
            continue;
        };
        for (key, value) in entries {
            match key.name.as_str() {
                "environment" => variables(cx, name, "environment variable", value, out),
                "build" => {
                    if let Some(args) = value.get("args") {
                        variables(cx, name, "build arg", args, out);
                    }
                    shapes(cx, name, "build", value, &["args"], out);
                }
                k if k.starts_with("x-") => {}
                k => shapes(cx, name, k, value, &[], out),
            }
        }
    }
}

/// `KEY: value` entries, checked by name and shape. A list entry (`- KEY=value`)
/// shares one position for key and value; its raw text starts with `KEY=`.
fn variables(cx: &Context, service: &str, what: &str, node: &Node, out: &mut Vec<Finding>) {
    let Some(entries) = node.as_map() else {
        return;
    };
    for (key, value) in entries {
        if value.is_null() {
            continue;
        }
        let Some(raw) = cx.sources.raw_text(&value.span) else {
            continue;
        };
        let raw = if key.span == value.span {
            raw.strip_prefix(&format!("{}=", key.name)).unwrap_or(raw)
        } else {
            raw
        };
        if let Some(hit) = secret::check(Some(&key.name), raw, Depth::Full) {
            out.push(finding(
                service,
                &format!("{what} {}", key.name),
                Some(&key.name),
                value,
                &hit,
            ));
        }
    }
}

/// Any other string under the service: only unmistakable token shapes.
fn shapes(
    cx: &Context,
    service: &str,
    path: &str,
    node: &Node,
    skip: &[&str],
    out: &mut Vec<Finding>,
) {
    match &node.value {
        Value::Scalar(_) => {
            if let Some(raw) = cx.sources.raw_text(&node.span)
                && let Some(hit) = secret::check(None, raw, Depth::ShapeOnly)
            {
                out.push(finding(service, path, None, node, &hit));
            }
        }
        Value::Seq(items) => {
            for item in items {
                shapes(cx, service, path, item, &[], out);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                if !skip.contains(&k.name.as_str()) && !k.name.starts_with("x-") {
                    shapes(cx, service, &format!("{path}.{}", k.name), v, &[], out);
                }
            }
        }
    }
}

fn finding(service: &str, what: &str, var: Option<&str>, node: &Node, hit: &Hit) -> Finding {
    let message = match &hit.default_of {
        Some(v) => format!(
            "{what} falls back to a literal default in ${{{v}:-...}} (literal value, {} characters)",
            hit.chars
        ),
        None => format!(
            "{what} is written literally (literal value, {} characters)",
            hit.chars
        ),
    };
    let fix = match hit.default_of.as_deref().or(var) {
        Some(v) => format!(
            "write ${{{v}:?set {v} in .env}} and put the value in a git-ignored .env (or use env_file or secrets:); rotate the secret if the file was ever committed"
        ),
        None => "pass it in an environment variable taken from a git-ignored .env (${NAME:?set NAME in .env}), or use secrets:; rotate the secret if the file was ever committed".to_string(),
    };
    on_service(
        "literal-secret",
        hit.severity,
        service,
        node.span.clone(),
        message,
        format!(
            "{}; a value in the compose file is committed and shared with the file",
            hit.reason
        ),
        fix,
    )
}
