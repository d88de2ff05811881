//! The normalized Compose model: plain data, shaped so that serializing it
//! gives the same JSON as `docker compose config --format json`.
//!
//! Field names and omission rules follow compose-go's `types` package (their
//! `json` tags). It must not contain loading logic beyond the small value types'
//! own parsing (durations, byte sizes), and nothing engine-specific.

mod resources;
mod service;
mod service_parts;
mod values;

pub use resources::*;
pub use service::*;
pub use service_parts::*;
pub use values::*;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `x-*` extension fields kept verbatim (Compose prints them back).
pub type Extensions = BTreeMap<String, serde_json::Value>;

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

pub(crate) fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

pub(crate) fn is_zero_f64(n: &f64) -> bool {
    *n == 0.0
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    /// The obsolete `version:` attribute: accepted and ignored, as Compose does (with a warning).
    #[serde(default, skip_serializing)]
    pub version: Option<String>,
    #[serde(rename = "__ext", default, skip_serializing)]
    pub extensions: Extensions,

    /// Facts about where the project came from; not part of Compose's output.
    #[serde(skip)]
    pub meta: ProjectMeta,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectMeta {
    /// Absolute project directory.
    pub working_dir: PathBuf,
    /// Absolute paths of the compose files, in load order.
    pub config_files: Vec<PathBuf>,
    /// `--env-file` paths given explicitly (for the `project.environment_file` label).
    pub env_files: Vec<PathBuf>,
    /// Profiles that were active while loading.
    pub active_profiles: Vec<String>,
    /// Services defined in the files but left out by profiles (for `config --profiles` and `down`).
    pub disabled_services: BTreeMap<String, Vec<String>>,
    /// The merged `services:` tree, kept so checks after typing can still point
    /// at file:line:column (looked up only when an error needs it).
    pub source: Option<std::sync::Arc<crate::compose::node::Node>>,
}

impl ProjectMeta {
    /// Where `services.<name>[.<attr>[.<item>]]` was written: the item (a
    /// `depends_on`/`networks` key, or the `source` of a volume, secret or
    /// config), else the attribute, else the service.
    pub fn span(&self, path: &str) -> Option<crate::compose::node::Span> {
        let mut parts = path.splitn(4, '.');
        if parts.next() != Some("services") {
            return None;
        }
        let services = self.source.as_deref()?;
        let name = parts.next()?;
        let service = services.get(name)?;
        let service_span = services.key(name).map(|k| k.span.clone());
        let Some(attr) = parts.next() else {
            return service_span;
        };
        let Some(attr_node) = service.get(attr) else {
            return service_span;
        };
        let attr_span = service.key(attr).map(|k| k.span.clone());
        let Some(item) = parts.next() else {
            return attr_span;
        };
        if let Some(k) = attr_node.key(item) {
            return Some(k.span.clone());
        }
        attr_node
            .as_seq()
            .and_then(|items| {
                items.iter().find_map(|i| {
                    let src = i.get("source")?;
                    (src.scalar_text().as_deref() == Some(item)).then(|| src.span.clone())
                })
            })
            .or(attr_span)
    }
}

impl Project {
    /// The project as Compose prints it: the model plus its top-level `x-` fields.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(top) = &mut value {
            // Compose prints top-level extensions only; a service's `x-` fields stay in the model.
            for (k, v) in &self.extensions {
                top.insert(k.clone(), v.clone());
            }
        }
        value
    }
}
