//! The loader's error type: what went wrong, where (file:line:column), in which
//! service, and what to do about it. Rendering with a source excerpt lives in
//! `render`; this file must not print anything itself.

use std::fmt;

use super::node::Span;

/// Every way loading can fail. The CLI maps all of them to the "bad input" exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The YAML itself does not parse (syntax, duplicate key, alias budget).
    Yaml,
    /// A file, directory or env file cannot be read.
    Io,
    /// `${V:?msg}` or a malformed `${` template.
    Interpolation,
    /// A value of the wrong type or shape (`ports: 80:abc`, `mem_limit: lots`).
    InvalidValue,
    /// An attribute Compose does not know, or one aistack does not support yet.
    UnknownAttribute,
    Unsupported,
    /// References that do not resolve: depends_on, networks, volumes, extends.
    Reference,
    /// Dependency or extends cycles.
    Cycle,
    /// Project name, profiles, CLI arguments.
    Project,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub kind: ErrorKind,
    /// Where the offending value is, when known.
    pub span: Option<Span>,
    /// The service the value belongs to, when it belongs to one.
    pub service: Option<String>,
    pub message: String,
    /// One line telling the user what to do.
    pub hint: Option<String>,
}

impl LoadError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        LoadError {
            kind,
            span: None,
            service: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at(kind: ErrorKind, span: &Span, message: impl Into<String>) -> Self {
        LoadError {
            kind,
            span: Some(span.clone()),
            service: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn invalid(span: &Span, message: impl Into<String>) -> Self {
        Self::at(ErrorKind::InvalidValue, span, message)
    }

    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        if self.service.is_none() {
            self.service = Some(service.into());
        }
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = &self.span {
            write!(f, "{span}: ")?;
        }
        if let Some(service) = &self.service {
            write!(f, "service \"{service}\": ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

pub type Result<T, E = LoadError> = std::result::Result<T, E>;
