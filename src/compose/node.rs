//! The located YAML tree every loader stage works on.
//!
//! Owns `Node`, `Span` and the small queries the stages share. It must not know
//! about YAML syntax (that is `read.rs`) nor about Compose attributes (that is
//! `canonical.rs`, `merge.rs` and `model/`).

use std::fmt;
use std::sync::Arc;

/// Where a node came from: file, 1-based line and column. Line 0 means "unknown"
/// (a value the loader synthesised, such as a default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Span { file, line, column }
    }

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        } else if self.file.is_empty() {
            write!(f, "<generated>")
        } else {
            write!(f, "{}", self.file)
        }
    }
}

/// A YAML tag Compose gives meaning to. Other tags are rejected when read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: drop the value inherited from earlier files or `extends`.
    Reset,
    /// `!override`: replace the inherited value instead of merging with it.
    Override,
}

/// A scalar keeps the kind YAML resolved it to, so `mem_limit: 512` and
/// `mem_limit: "512"` can be told apart where Compose tells them apart, and
/// keeps the number's source text so it can be printed as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys keep their order and their own spans.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    pub tag: Option<Tag>,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            span,
            tag: None,
        }
    }

    pub fn str(s: impl Into<String>, span: Span) -> Self {
        Node::new(Value::Scalar(Scalar::Str(s.into())), span)
    }

    pub fn null(span: Span) -> Self {
        Node::new(Value::Scalar(Scalar::Null), span)
    }

    pub fn map(entries: Vec<(Key, Node)>, span: Span) -> Self {
        Node::new(Value::Map(entries), span)
    }

    pub fn seq(items: Vec<Node>, span: Span) -> Self {
        Node::new(Value::Seq(items), span)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(Scalar::Null))
    }

    pub fn as_map(&self) -> Option<&Vec<(Key, Node)>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The scalar as Compose would print it in a string context
    /// (`A: 1` in `environment` becomes "1").
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Scalar(s) => Some(s.to_text()),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn key(&self, key: &str) -> Option<&Key> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| k)
    }

    /// Set `key` to `value`, replacing an existing entry in place (keeping its position).
    pub fn insert(&mut self, key: Key, value: Node) {
        if let Some(m) = self.as_map_mut() {
            if let Some(slot) = m.iter_mut().find(|(k, _)| k.name == key.name) {
                slot.1 = value;
            } else {
                m.push((key, value));
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let m = self.as_map_mut()?;
        let i = m.iter().position(|(k, _)| k.name == key)?;
        Some(m.remove(i).1)
    }

    /// A short description of the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar(Scalar::Null) => "null",
            Value::Scalar(Scalar::Bool(_)) => "a boolean",
            Value::Scalar(Scalar::Int(_)) => "an integer",
            Value::Scalar(Scalar::Float(_)) => "a number",
            Value::Scalar(Scalar::Str(_)) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Key {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Key {
            name: name.into(),
            span,
        }
    }
}

impl Scalar {
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Null => String::new(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => format_float(*f),
            Scalar::Str(s) => s.clone(),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` for the values YAML files hold:
/// shortest round-trip digits, no trailing `.0`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == f.trunc() && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    format!("{f}")
}
