//! Helpers shared by unit tests of several layers.

use std::collections::BTreeMap;

use crate::compose::{self, LoadOptions, Project};

/// Load a project from compose YAML written to a temporary directory.
pub fn load_project(yaml: &str) -> Project {
    load_project_with_env(yaml, &[])
}

/// `load_project` with these variables as the interpolation environment.
pub fn load_project_with_env(yaml: &str, env: &[(&str, &str)]) -> Project {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write compose.yaml");
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    compose::load(&LoadOptions::new(dir.path().to_path_buf(), env))
        .expect("fixture loads")
        .project
}
