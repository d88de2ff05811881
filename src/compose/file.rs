//! One compose file → an interpolated, canonical `Node`: read the text (or
//! standard input), parse, interpolate every value (never keys), canonicalize.
//! Must not merge files or apply project-wide rules.

use std::path::Path;

use super::canonical;
use super::discover::Environment;
use super::error::{ErrorKind, LoadError, Result};
use super::interpolate::{self, InterpolateError};
use super::node::{Node, Scalar, Value};
use super::read;

/// Unset variables seen while interpolating, in first-seen order, each once.
#[derive(Debug, Default, Clone)]
pub struct Warnings {
    pub unset: Vec<String>,
    pub messages: Vec<String>,
}

impl Warnings {
    fn unset(&mut self, name: &str) {
        if !self.unset.iter().any(|n| n == name) {
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
    let bytes = std::fs::read(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "no such file".to_string()
        } else {
            e.to_string()
        };
        LoadError::new(ErrorKind::Io, format!("{}: {what}", path.display()))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        LoadError::new(
            ErrorKind::Yaml,
            format!(
                "{}: not valid UTF-8 (first bad byte at offset {valid}); compose files must be UTF-8 text",
                path.display()
            ),
        )
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
        interpolate_node(&mut node, env, warnings, &mut path_stack)?;
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
    LoadError::at(ErrorKind::Yaml, &span, format!("invalid YAML: {reason}"))
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
) -> Result<()> {
    match &mut node.value {
        Value::Scalar(Scalar::Str(s)) => {
            if !s.contains('$') {
                return Ok(());
            }
            let lookup = |k: &str| env.get(k).map(str::to_string);
            match interpolate::substitute(s, &lookup) {
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
                    if let InterpolateError::Required { name, .. } = &e {
                        err = err.with_hint(format!(
                            "set {name} in the environment or in the .env file"
                        ));
                    }
                    return Err(err);
                }
            }
        }
        Value::Scalar(_) => {}
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                let r = interpolate_node(item, env, warnings, path);
                path.pop();
                r?;
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                path.push(k.name.clone());
                let r = interpolate_node(v, env, warnings, path);
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
