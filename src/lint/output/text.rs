//! The text report: findings grouped by project, network and service, one
//! line each with its why and fix under it, then a count.

use std::fmt::Write;
use std::path::Path;

use super::super::{Group, Report, Severity};
use super::location;

pub fn render(report: &Report, base: &Path) -> String {
    let mut out = String::new();
    let mut current: Option<Group> = None;
    for f in &report.findings {
        let group = f.group();
        if current.as_ref() != Some(&group) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = match &group {
                Group::Project => writeln!(out, "project {}", report.project),
                Group::Network(n) => writeln!(out, "network \"{n}\""),
                Group::Service(s) => writeln!(out, "service \"{s}\""),
            };
            current = Some(group);
        }
        let at = location(&f.span, base)
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {at}{}[{}] {}",
            f.severity.as_str(),
            f.rule,
            f.message
        );
        let _ = writeln!(out, "    why: {}", f.why);
        let _ = writeln!(out, "    fix: {}", f.fix);
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn summary(report: &Report) -> String {
    let mut s = if report.findings.is_empty() {
        "no findings".to_string()
    } else {
        let n = |sev| report.count(sev);
        let plural = |k: usize, word: &str| {
            if k == 1 {
                format!("{k} {word}")
            } else {
                format!("{k} {word}s")
            }
        };
        format!(
            "{}, {}, {} info",
            plural(n(Severity::Error), "error"),
            plural(n(Severity::Warning), "warning"),
            n(Severity::Info)
        )
    };
    if report.suppressed > 0 {
        let _ = write!(s, " ({} suppressed by disable)", report.suppressed);
    }
    s
}
