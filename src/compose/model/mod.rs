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
    /// Where things were written, for errors found after typing: keys like
    /// `services.web`, `services.web.depends_on.db`, `services.web.networks.back`,
    /// `services.web.volumes.data`.
    pub spans: BTreeMap<String, crate::compose::node::Span>,
}

impl ProjectMeta {
    /// The most precise known location for `path`, falling back to its parents.
    pub fn span(&self, path: &str) -> Option<&crate::compose::node::Span> {
        let mut p = path;
        loop {
            if let Some(s) = self.spans.get(p) {
                return Some(s);
            }
            p = &p[..p.rfind('.')?];
        }
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
