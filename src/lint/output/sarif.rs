//! SARIF 2.1.0 (`--format sarif`): every rule in `tool.driver.rules` with its
//! help, every finding as a result with ruleId, level and a physical location.

use std::path::Path;

use serde_json::{Value, json};

use super::super::rules::{RULES, Severity};
use super::super::{Finding, Report};
use super::display_path;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `db-port-published` → `DbPortPublished` (SARIF's readable rule name).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative path as a relative URI reference; an absolute one as file://.
fn uri(file: &str, base: &Path) -> String {
    let shown = display_path(file, base);
    let encoded: String = shown
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || "/-._~".contains(c) => c.to_string(),
            c => {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect();
    if Path::new(&shown).is_absolute() {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn result(f: &Finding, base: &Path) -> Value {
    let index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
    let mut locations = Vec::new();
    if !f.span.file.is_empty() {
        let mut physical = json!({ "artifactLocation": { "uri": uri(&f.span.file, base) } });
        if f.span.line > 0 {
            let mut region = json!({ "startLine": f.span.line });
            if f.span.column > 0 {
                region["startColumn"] = json!(f.span.column);
            }
            physical["region"] = region;
        }
        locations.push(json!({ "physicalLocation": physical }));
    }
    let mut properties = serde_json::Map::new();
    if let Some(s) = &f.service {
        properties.insert("service".into(), json!(s));
    }
    if let Some(n) = &f.network {
        properties.insert("network".into(), json!(n));
    }
    let mut r = json!({
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}. Fix: {}.", f.message, f.why, f.fix) },
        "locations": locations,
    });
    if !properties.is_empty() {
        r["properties"] = Value::Object(properties);
    }
    r
}

pub fn render(report: &Report, base: &Path) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": pascal(r.id),
                "shortDescription": { "text": r.title },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": level(r.severity), "enabled": !r.default_off },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "aistack",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": report.findings.iter().map(|f| result(f, base)).collect::<Vec<_>>(),
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
