//! Rendering load errors for people: the message, the service, `--> file:line:col`,
//! the offending source line with a caret, and the hint. Reads the source file
//! to show the excerpt; must not decide exit codes.

use std::fmt::Write;

use crate::compose::LoadError;

pub fn render(err: &LoadError) -> String {
    let mut out = String::new();
    let _ = write!(out, "error: ");
    if let Some(s) = &err.service {
        let _ = write!(out, "service \"{s}\": ");
    }
    let _ = writeln!(out, "{}", first_line(&err.message));
    if let Some(span) = &err.span {
        if span.is_known() {
            let _ = writeln!(out, "  --> {span}");
            if let Some(excerpt) = excerpt(&span.file, span.line, span.column) {
                out.push_str(&excerpt);
            }
        } else if !span.file.is_empty() {
            let _ = writeln!(out, "  --> {}", span.file);
        }
    }
    // The YAML parser's own message may already carry an excerpt: keep its extra lines.
    for line in err.message.lines().skip(1) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(h) = &err.hint {
        let _ = writeln!(out, "  hint: {h}");
    }
    super::redact::text(&out).into_owned()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn excerpt(file: &str, line: u32, column: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let src = text.lines().nth(line.checked_sub(1)? as usize)?;
    let shown: String = src.chars().take(200).collect();
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    let caret_at = column.saturating_sub(1) as usize;
    let lead: String = shown
        .chars()
        .take(caret_at)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(" {pad} |\n {num} | {shown}\n {pad} | {lead}^\n"))
}

/// The block printed when `up` fails: what failed, and what the container says.
pub fn failure(f: &crate::apply::Failure, d: Option<&crate::apply::diagnose::Diagnosis>) -> String {
    let mut out = String::new();
    let _ = write!(out, "error: ");
    if let Some(s) = &f.service {
        let _ = write!(out, "service \"{s}\": ");
    }
    let _ = writeln!(out, "{} ({})", f.message, f.node);
    let mut out = super::redact::text(&out).into_owned();
    if let Some(d) = d {
        out.push_str(&diagnosis(d));
    }
    out
}

/// A container's state, exit code, last health checks and last log lines,
/// indented under whatever line introduced it.
pub fn diagnosis(d: &crate::apply::diagnose::Diagnosis) -> String {
    let mut out = String::new();
    {
        let _ = writeln!(
            out,
            "  container {}: {}, exit code {}{}{}",
            d.container,
            d.state,
            d.exit_code,
            if d.oom_killed {
                ", killed: out of memory"
            } else {
                ""
            },
            if d.restart_count > 0 {
                format!(", restarted {} times", d.restart_count)
            } else {
                String::new()
            }
        );
        if !d.health.is_empty() {
            let _ = writeln!(out, "  last health checks:");
            for (code, output) in &d.health {
                let shown: String = output
                    .lines()
                    .last()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                let _ = writeln!(out, "    exit {code}: {shown}");
            }
        }
        if !d.last_logs.is_empty() {
            let _ = writeln!(out, "  last log lines:");
            for l in &d.last_logs {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    // Health output and logs are the container's, but here aistack prints
    // them: mask, and say so, pointing at the unmasked source.
    match super::redact::text(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(masked) => format!(
            "{masked}  (secret values redacted; `aistack logs` shows the container's own output)\n"
        ),
    }
}
