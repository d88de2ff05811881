//! Which rules run where: `--disable`/`--enable` on the command line,
//! `x-aistack: { lint: { disable: [...] } }` at the top level, on a service or
//! on a network. Validates rule ids (unknown ones are errors with the nearest
//! id as a hint); does not run any rule.

use std::collections::{BTreeMap, BTreeSet};

use crate::compose::model::{Extensions, Project};
use crate::compose::node::Span;

use super::locate::Locator;
use super::rules;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A rule id on the command line that no rule has.
    #[error("unknown lint rule `{id}` in {flag}{}", hint_text(.hint))]
    UnknownFlagRule {
        id: String,
        flag: &'static str,
        hint: Option<String>,
    },
    /// A rule id or a malformed setting in a compose file.
    #[error("{span}: {message}{}", hint_text(.hint))]
    InFile {
        span: Span,
        message: String,
        hint: Option<String>,
    },
}

fn hint_text(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

fn unknown_hint(id: &str) -> Option<String> {
    Some(match rules::nearest(id) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!(
            "known rules: {}",
            rules::RULES
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Rules switched on or off for this run.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    pub disabled: BTreeSet<&'static str>,
    pub enabled: BTreeSet<&'static str>,
    /// `x-aistack.lint.disable` per service and per network.
    pub services: BTreeMap<String, BTreeSet<&'static str>>,
    pub networks: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Settings {
    /// From `--disable` and `--enable`.
    pub fn from_flags(disable: &[String], enable: &[String]) -> Result<Settings, ConfigError> {
        let ids =
            |list: &[String], flag: &'static str| -> Result<BTreeSet<&'static str>, ConfigError> {
                list.iter()
                    .map(|id| {
                        rules::get(id)
                            .map(|r| r.id)
                            .ok_or_else(|| ConfigError::UnknownFlagRule {
                                id: id.clone(),
                                flag,
                                hint: unknown_hint(id),
                            })
                    })
                    .collect()
            };
        Ok(Settings {
            disabled: ids(disable, "--disable")?,
            enabled: ids(enable, "--enable")?,
            ..Settings::default()
        })
    }

    /// Add what the compose files say in `x-aistack.lint.disable`.
    pub fn add_project(&mut self, project: &Project, at: &Locator) -> Result<(), ConfigError> {
        let top = disable_list(&project.extensions, |i| top_item(at, i))?;
        self.disabled.extend(top);
        for (name, svc) in &project.services {
            let ids = disable_list(&svc.extensions, |i| {
                item_span(at, name, i).unwrap_or_else(|| at.service(name))
            })?;
            if !ids.is_empty() {
                self.services.insert(name.clone(), ids);
            }
        }
        for (name, net) in &project.networks {
            let ids = disable_list(&net.extensions, |_| at.top(&["networks", name]))?;
            if !ids.is_empty() {
                self.networks.insert(name.clone(), ids);
            }
        }
        Ok(())
    }

    /// Whether a finding of `rule` on this service/network is reported.
    pub fn allows(&self, rule: &str, service: Option<&str>, network: Option<&str>) -> bool {
        let off_here = |map: &BTreeMap<String, BTreeSet<&'static str>>, key: Option<&str>| {
            key.and_then(|k| map.get(k))
                .is_some_and(|set| set.contains(rule))
        };
        !self.disabled.contains(rule)
            && !off_here(&self.services, service)
            && !off_here(&self.networks, network)
    }

    /// Rules that are off unless asked for.
    pub fn runs(&self, rule: &str) -> bool {
        rules::get(rule).is_some_and(|r| !r.default_off || self.enabled.contains(rule))
    }
}

/// Where the i-th item of a service's `x-aistack.lint.disable` is written.
fn item_span(at: &Locator, service: &str, i: usize) -> Option<Span> {
    let list = at
        .service_node(service)?
        .get("x-aistack")?
        .get("lint")?
        .get("disable")?;
    Some(list.as_seq()?.get(i)?.span.clone())
}

/// Where the i-th item of the top-level `x-aistack.lint.disable` is written.
fn top_item(at: &Locator, i: usize) -> Span {
    let path = ["x-aistack", "lint", "disable"];
    at.sources()
        .top_level(&path)
        .and_then(|(n, _)| n.as_seq()?.get(i).map(|item| item.span.clone()))
        .unwrap_or_else(|| at.top(&path))
}

/// `x-aistack.lint.disable` of one extension map: known rule ids, or an error
/// at the offending item.
fn disable_list(
    ext: &Extensions,
    span_of: impl Fn(usize) -> Span,
) -> Result<BTreeSet<&'static str>, ConfigError> {
    let Some(lint) = ext.get("x-aistack").and_then(|x| x.get("lint")) else {
        return Ok(BTreeSet::new());
    };
    let Some(list) = lint.get("disable") else {
        return Ok(BTreeSet::new());
    };
    let items: Vec<serde_json::Value> = match list {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::String(_) => vec![list.clone()],
        serde_json::Value::Null => Vec::new(),
        _ => {
            return Err(ConfigError::InFile {
                span: span_of(0),
                message: "`x-aistack.lint.disable` must be a list of rule ids".into(),
                hint: Some("write it as disable: [rule-id, ...]".into()),
            });
        }
    };
    let mut out = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = item.as_str() else {
            return Err(ConfigError::InFile {
                span: span_of(i),
                message: format!("`x-aistack.lint.disable` entries must be rule ids, found {item}"),
                hint: None,
            });
        };
        match rules::get(id) {
            Some(r) => {
                out.insert(r.id);
            }
            None => {
                return Err(ConfigError::InFile {
                    span: span_of(i),
                    message: format!("unknown lint rule `{id}` in x-aistack.lint.disable"),
                    hint: unknown_hint(id),
                });
            }
        }
    }
    Ok(out)
}
