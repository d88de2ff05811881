//! Lint reports as text for people, JSON (schema in docs/lint.md) and SARIF
//! 2.1.0 for code-scanning tools. Pure rendering to strings; paths are shown
//! relative to `base` (the working directory) when they are under it.

mod json;
mod sarif;
mod text;

pub use json::render as json;
pub use sarif::render as sarif;
pub use text::render as text;

use std::path::Path;

use crate::compose::node::Span;

/// A file as the user named it: relative to `base` when under it.
pub fn display_path(file: &str, base: &Path) -> String {
    let p = Path::new(file);
    match p.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().replace('\\', "/"),
        _ => file.to_string(),
    }
}

/// `file:line:column`, `file:line`, `file`, or nothing known.
pub fn location(span: &Span, base: &Path) -> Option<String> {
    if span.file.is_empty() {
        return None;
    }
    let file = display_path(&span.file, base);
    Some(match (span.line, span.column) {
        (0, _) => file,
        (l, 0) => format!("{file}:{l}"),
        (l, c) => format!("{file}:{l}:{c}"),
    })
}

#[cfg(test)]
mod tests;
