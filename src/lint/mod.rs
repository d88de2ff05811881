//! `aistack lint`: static hardening checks on a loaded project, no Docker.
//!
//! Input: the validated `Project` (with the located tree the loader keeps),
//! the files as written (`source`), and facts the command gathered outside
//! (whether git ignores `.env`). Output: findings with a stable rule id, a
//! severity, file:line:column, the service, a one-line why and the fix.
//! Pure and synchronous: no engine, no async runtime, no processes; the
//! command (`commands/lint.rs`) owns those and the exit code.

pub mod checks;
pub mod config;
pub mod locate;
pub mod output;
pub mod rules;
pub mod secret;
pub mod source;

use std::path::PathBuf;

use crate::compose::model::Project;
use crate::compose::node::Span;

pub use config::{ConfigError, Settings};
pub use rules::Severity;
pub use source::Sources;

/// One problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub service: Option<String>,
    pub network: Option<String>,
    /// Where: line 0 means the file only.
    pub span: Span,
    pub message: String,
    pub why: String,
    pub fix: String,
}

/// A `.env` file next to a compose file, inside a git work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEnv {
    pub path: PathBuf,
    /// Whether `git check-ignore` says it is ignored.
    pub ignored: bool,
}

pub struct Input<'a> {
    pub project: &'a Project,
    pub sources: &'a Sources,
    pub dotenv: &'a [DotEnv],
}

#[derive(Debug, Clone)]
pub struct Report {
    pub project: String,
    pub findings: Vec<Finding>,
    /// Findings dropped by a `disable` (command line or compose file).
    pub suppressed: usize,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Whether the findings should fail the run: errors, and with `strict` warnings too.
    pub fn fails(&self, strict: bool) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Error || (strict && f.severity == Severity::Warning))
    }
}

/// How findings are grouped and ordered: the project first, then networks,
/// then services, each by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Project,
    Network(String),
    Service(String),
}

impl Finding {
    pub fn group(&self) -> Group {
        match (&self.service, &self.network) {
            (Some(s), _) => Group::Service(s.clone()),
            (None, Some(n)) => Group::Network(n.clone()),
            (None, None) => Group::Project,
        }
    }
}

/// Run every rule that is on, drop what the settings and the files' own
/// `x-aistack.lint.disable` switch off, and order the rest.
pub fn lint(input: &Input, mut settings: Settings) -> Result<Report, ConfigError> {
    let at = locate::Locator::new(input.project, input.sources);
    settings.add_project(input.project, &at)?;
    let cx = checks::Context {
        project: input.project,
        at: &at,
        sources: input.sources,
        dotenv: input.dotenv,
    };
    let mut all = Vec::new();
    checks::run(&cx, &mut all);
    all.retain(|f| settings.runs(f.rule));
    let before = all.len();
    all.retain(|f| settings.allows(f.rule, f.service.as_deref(), f.network.as_deref()));
    let suppressed = before - all.len();
    all.sort_by(|a, b| {
        (a.group(), &a.span.file, a.span.line, a.span.column, a.rule).cmp(&(
            b.group(),
            &b.span.file,
            b.span.line,
            b.span.column,
            b.rule,
        ))
    });
    Ok(Report {
        project: input.project.name.clone(),
        findings: all,
        suppressed,
    })
}

#[cfg(test)]
mod tests;
