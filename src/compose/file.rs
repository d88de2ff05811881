//! One compose file → an interpolated, canonical `Node`: read the text (or
//! standard input), parse, interpolate every value (never keys), canonicalize.
//! Must not merge files or apply project-wide rules.

use std::collections::HashSet;
use std::path::Path;

use super::canonical;
use super::discover::Environment;
use super::error::{ErrorKind, LoadError, Result};
use super::interpolate::{self, InterpolateError};
use super::node::{Node, Scalar, Value};
use super::read;
use super::text::{self, TextError};

/// Unset variables seen while interpolating, in first-seen order, each once.
#[derive(Debug, Default, Clone)]
pub struct Warnings {
    pub unset: Vec<String>,
    pub messages: Vec<String>,
    /// `unset` as a set: a file may name a hundred thousand variables.
    unset_seen: HashSet<String>,
}

impl Warnings {
    fn unset(&mut self, name: &str) {
        if self.unset_seen.insert(name.to_string()) {
            self.unset.push(name.to_string());
        }
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        let m = message.into();
        if !self.messages.contains(&m) {
            self.messages.push(m);
        }
    }

    /// All warnings as Compose words them.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .unset
            .iter()
            .map(|n| format!("The \"{n}\" variable is not set. Defaulting to a blank string."))
            .collect();
        out.extend(self.messages.iter().cloned());
        out
    }
}

pub fn read_text(path: &Path, stdin: Option<&str>) -> Result<String> {
    if path.as_os_str() == "-" {
        return stdin.map(str::to_string).ok_or_else(|| {
            LoadError::new(
                ErrorKind::Io,
                "-f - reads the compose file from standard input, which is empty",
            )
        });
    }
    text::read_file(path, text::Kind::ComposeFile).map_err(|e| match e {
        TextError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
            LoadError::new(ErrorKind::Io, format!("{}: no such file", path.display()))
        }
        e => e.into_load_error(&path.display().to_string()),
    })
}

/// Parse, interpolate (unless disabled) and canonicalize one file.
pub fn load_file(
    path: &Path,
    stdin: Option<&str>,
    env: &Environment,
    interpolate: bool,
    warnings: &mut Warnings,
) -> Result<Node> {
    let text = read_text(path, stdin)?;
    let name = display_name(path);
    let mut node = read::parse(&text, &name).map_err(|e| yaml_error(&name, e))?;
    if node.as_map().is_none() {
        return Err(LoadError::at(
            ErrorKind::InvalidValue,
            &node.span,
            format!(
                "a compose file must be a mapping at the top level, found {}",
                node.kind()
            ),
        ));
    }
    if interpolate {
        let mut path_stack = Vec::new();
        let mut budget = interpolate::MAX_EXPANDED_BYTES;
        interpolate_node(&mut node, env, warnings, &mut path_stack, &mut budget)?;
    }
    canonical::canonicalize(&mut node)?;
    Ok(node)
}

/// The YAML parser renders its own excerpt and advice for library users; keep
/// just its one-line reason (our diagnostic shows the excerpt) and say what to do.
pub fn yaml_error(file: &str, e: read::ReadError) -> LoadError {
    let first = e.message.lines().next().unwrap_or("").trim();
    let reason = first.strip_prefix("error: ").unwrap_or(first);
    let reason = match reason.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => rest,
        _ => reason,
    };
    let span = super::node::Span::new(file.into(), e.line, e.column);
    if let Some(key) = reason.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key).trim();
        return LoadError::at(ErrorKind::Yaml, &span, format!("duplicate key `{key}`")).with_hint(
            format!("a mapping may set `{key}` only once; remove one of them"),
        );
    }
    if let Some(why) = too_big(reason) {
        return LoadError::at(
            ErrorKind::Yaml,
            &span,
            format!("the document is too big to read: {why}"),
        )
        .with_hint(
            "aliases (*name) and merge keys (<<) copy what they name; a compose file may expand \
             to at most 250,000 values and nest at most 64 levels",
        );
    }
    LoadError::at(ErrorKind::Yaml, &span, format!("invalid YAML: {reason}"))
}

/// The reader's resource limits (serde-saphyr's `BudgetBreach`, the parser's
/// nesting limit) in words, or `None` for any other error.
fn too_big(reason: &str) -> Option<String> {
    if reason == "recursion limit exceeded" {
        return Some("it nests more than 64 levels deep".into());
    }
    let breach = reason.strip_prefix("budget breached: ")?;
    let name = breach.split([' ', '{']).next().unwrap_or(breach);
    Some(
        match name {
            "Nodes" => "it expands to more than 250,000 values (an alias bomb?)",
            "Depth" => "it nests more than 64 levels deep",
            "Events" => "it expands to more than 1,000,000 parser events (an alias bomb?)",
            "Aliases" => "it uses more than 50,000 aliases",
            "Anchors" => "it defines more than 50,000 anchors",
            "ScalarBytes" => "its values, aliases included, add up to more than 64 MiB",
            "MergeKeys" => "it uses more than 10,000 merge keys (<<)",
            "Documents" => "it has more than 1,024 documents",
            _ => return Some(breach.to_string()),
        }
        .to_string(),
    )
}

pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

fn interpolate_node(
    node: &mut Node,
    env: &Environment,
    warnings: &mut Warnings,
    path: &mut Vec<String>,
    budget: &mut usize,
) -> Result<()> {
    match &mut node.value {
        Value::Scalar(Scalar::Str(s)) => {
            if !s.contains('$') {
                return Ok(());
            }
            let lookup = |k: &str| env.get(k).map(str::to_string);
            match interpolate::substitute_within(s, &lookup, budget) {
                Ok(out) => {
                    for n in &out.unset {
                        warnings.unset(n);
                    }
                    *s = out.value;
                }
                Err(e) => {
                    let mut err = LoadError::at(
                        ErrorKind::Interpolation,
                        &node.span,
                        e.at_path(&path.join(".")),
                    );
                    if let Some(svc) = service_of(path) {
                        err = err.with_service(svc);
                    }
                    match &e {
                        InterpolateError::Required { name, .. } => {
                            err = err.with_hint(format!(
                                "set {name} in the environment or in the .env file"
                            ));
                        }
                        InterpolateError::TooLarge { .. } => {
                            err = err.with_hint(
                                "check the variables this file uses; a real compose file expands to about its own size",
                            );
                        }
                        InterpolateError::Invalid { .. } => {}
                    }
                    return Err(err);
                }
            }
        }
        Value::Scalar(_) => {}
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                let r = interpolate_node(item, env, warnings, path, budget);
                path.pop();
                r?;
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                path.push(k.name.clone());
                let r = interpolate_node(v, env, warnings, path, budget);
                path.pop();
                r?;
            }
        }
    }
    Ok(())
}

fn service_of(path: &[String]) -> Option<&str> {
    match path {
        [top, name, ..] if top == "services" => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(text: &str) -> LoadError {
        let e = read::parse(text, "c.yaml").unwrap_err();
        yaml_error("c.yaml", e)
    }

    #[test]
    fn an_alias_bomb_is_reported_in_words_at_its_line() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let items = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = parse_error(&text);
        assert_eq!(
            e.message,
            "the document is too big to read: it expands to more than 250,000 values (an alias bomb?)"
        );
        assert!(e.span.as_ref().is_some_and(|s| s.line > 1), "{e}");
        assert!(e.hint.is_some());
    }

    #[test]
    fn deep_nesting_is_reported_in_words_block_and_flow() {
        let flow = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let map = format!("a: {}b{}", "{a: ".repeat(10_000), "}".repeat(10_000));
        for text in [flow, map] {
            let e = parse_error(&text);
            assert_eq!(
                e.message,
                "the document is too big to read: it nests more than 64 levels deep",
                "{}",
                &text[..20]
            );
        }
    }

    #[test]
    fn other_yaml_errors_keep_the_parsers_reason() {
        let e = parse_error("a: [b\n");
        assert!(e.message.starts_with("invalid YAML: "), "{e}");
    }
}
