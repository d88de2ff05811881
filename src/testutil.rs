//! Helpers shared by unit tests of several layers.

use std::collections::BTreeMap;

use crate::compose::{self, LoadOptions, Project};

/// Load a project from compose YAML written to a temporary directory.
pub fn load_project(yaml: &str) -> Project {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write compose.yaml");
    compose::load(&LoadOptions::new(dir.path().to_path_buf(), BTreeMap::new()))
        .expect("fixture loads")
        .project
}
