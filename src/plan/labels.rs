//! The label contract: what aistack writes on containers, networks and volumes
//! so `docker compose ps/logs/down/ls` see an aistack stack, plus aistack's own
//! facts under `io.aistack.*`. Names only; must not decide anything.

use std::collections::BTreeMap;

use crate::compose::model::{Project, Service};

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// A one-off (`run`) container's identity: 64 hex characters.
pub const SLUG: &str = "com.docker.compose.slug";
/// Compose treats a container as part of the project only if this is present.
pub const COMPOSE_HASH: &str = "com.docker.compose.config-hash";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const ENV_FILE: &str = "com.docker.compose.project.environment_file";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const COMPOSE_VERSION: &str = "com.docker.compose.version";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

pub const AISTACK_VERSION: &str = "io.aistack.version";
pub const AISTACK_HASH: &str = "io.aistack.config-hash";

/// The Compose version we write (the one whose label semantics we follow).
pub const COMPOSE_COMPAT_VERSION: &str = "2.40.3";

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Labels on a service container. User labels first; ours override them, as Compose does.
pub fn container(
    project: &Project,
    name: &str,
    svc: &Service,
    number: u32,
    hash: &str,
) -> BTreeMap<String, String> {
    let mut l = svc.labels.clone();
    l.insert(PROJECT.into(), project.name.clone());
    l.insert(SERVICE.into(), name.into());
    l.insert(NUMBER.into(), number.to_string());
    l.insert(ONEOFF.into(), "False".into());
    l.insert(COMPOSE_HASH.into(), hash.into());
    l.insert(AISTACK_HASH.into(), hash.into());
    l.insert(
        WORKING_DIR.into(),
        project.meta.working_dir.display().to_string(),
    );
    let files: Vec<String> = project
        .meta
        .config_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    l.insert(CONFIG_FILES.into(), files.join(","));
    if !project.meta.env_files.is_empty() {
        let envs: Vec<String> = project
            .meta
            .env_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        l.insert(ENV_FILE.into(), envs.join(","));
    }
    let deps: Vec<String> = svc
        .depends_on
        .iter()
        .map(|(d, dep)| format!("{d}:{}:{}", dep.condition.as_str(), dep.restart))
        .collect();
    l.insert(DEPENDS_ON.into(), deps.join(","));
    l.insert(COMPOSE_VERSION.into(), COMPOSE_COMPAT_VERSION.into());
    l.insert(AISTACK_VERSION.into(), version().into());
    l
}

/// Labels on a project network (no Compose config-hash: Compose then never recreates it).
pub fn network(
    project: &str,
    key: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    resource(project, NETWORK, key, user)
}

/// Labels on a project volume (no Compose config-hash: Compose then never prompts to delete it).
pub fn volume(
    project: &str,
    key: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    resource(project, VOLUME, key, user)
}

/// User labels, then the project and the resource's compose key under `kind_label`.
fn resource(
    project: &str,
    kind_label: &str,
    key: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut l = user.clone();
    l.insert(PROJECT.into(), project.into());
    l.insert(kind_label.into(), key.into());
    l.insert(COMPOSE_VERSION.into(), COMPOSE_COMPAT_VERSION.into());
    l.insert(AISTACK_VERSION.into(), version().into());
    l
}

/// `<project>-<service>-<n>`, or `container_name`.
pub fn container_name(project: &str, service: &str, svc: &Service, number: u32) -> String {
    if svc.container_name.is_empty() {
        format!("{project}-{service}-{number}")
    } else {
        svc.container_name.clone()
    }
}
