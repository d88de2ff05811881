//! The JSON report (`--format json`); its schema is documented in
//! docs/lint.md and changes only with a new `version`.

use std::path::Path;

use serde_json::{Value, json};

use super::super::{Report, Severity};
use super::display_path;

pub fn render(report: &Report, base: &Path) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let known = |n: u32| if n == 0 { Value::Null } else { json!(n) };
            json!({
                "rule": f.rule,
                "severity": f.severity,
                "service": f.service,
                "network": f.network,
                "file": if f.span.file.is_empty() { Value::Null } else { json!(display_path(&f.span.file, base)) },
                "line": known(f.span.line),
                "column": if f.span.line == 0 { Value::Null } else { known(f.span.column) },
                "message": f.message,
                "why": f.why,
                "fix": f.fix,
            })
        })
        .collect();
    let doc = json!({
        "version": 1,
        "project": report.project,
        "findings": findings,
        "summary": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "suppressed": report.suppressed,
        },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
