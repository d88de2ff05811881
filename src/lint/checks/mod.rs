//! The checks, one file per concern. Each reads the project (and the raw
//! files where it must) and pushes findings; none filters by settings or
//! decides exit codes (that is `lint::lint` and the command).

mod dotenv;
mod health;
mod image;
mod networks;
mod operations;
mod ports;
mod privileges;
mod secrets;

use crate::compose::model::{Condition, Project};
use crate::compose::node::Span;

use super::locate::Locator;
use super::source::Sources;
use super::{DotEnv, Finding, Severity};

pub struct Context<'a> {
    pub project: &'a Project,
    pub at: &'a Locator<'a>,
    pub sources: &'a Sources,
    pub dotenv: &'a [DotEnv],
}

impl Context<'_> {
    /// Services that wait on `name` with `condition`, by name.
    pub fn waiters(&self, name: &str, condition: Condition) -> Vec<&str> {
        self.project
            .services
            .iter()
            .filter(|(_, s)| {
                s.depends_on
                    .get(name)
                    .is_some_and(|d| d.condition == condition)
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// A one-shot job: something waits for it to complete successfully, so it
    /// is meant to exit (migrations, seeders); restart policies do not apply.
    pub fn is_job(&self, name: &str) -> bool {
        !self
            .waiters(name, Condition::ServiceCompletedSuccessfully)
            .is_empty()
    }
}

pub fn run(cx: &Context, out: &mut Vec<Finding>) {
    ports::check(cx, out);
    privileges::check(cx, out);
    image::check(cx, out);
    operations::check(cx, out);
    health::check(cx, out);
    secrets::check(cx, out);
    dotenv::check(cx, out);
    networks::check(cx, out);
}

/// A finding about one service.
pub(crate) fn on_service(
    rule: &'static str,
    severity: Severity,
    service: &str,
    span: Span,
    message: impl Into<String>,
    why: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        rule,
        severity,
        service: Some(service.to_string()),
        network: None,
        span,
        message: message.into(),
        why: why.into(),
        fix: fix.into(),
    }
}

/// "a", "a and b", "a, b and c".
pub(crate) fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
