//! The label contract of a deployed stack: `com.docker.stack.namespace` on
//! everything (so `docker stack ls/ps/rm` see it), Compose's project labels
//! on what Compose knows (networks, volumes; services and Swarm objects for
//! `ls`-style tools), and aistack's own facts under `io.aistack.*`. Names
//! only; must not decide anything.
//!
//! Task containers deliberately carry the stack label but not
//! `com.docker.compose.project`: Compose-mode commands (`up`, `ps`, `exec`,
//! `verify`) must never take a Swarm task for a container they manage, since
//! Swarm would replace whatever they did to it.

use std::collections::BTreeMap;

use crate::engine::swarm::ObjectKind;
use crate::plan::labels as compose;

/// `docker stack` finds a stack's services, networks, secrets and configs by this.
pub const STACK: &str = "com.docker.stack.namespace";
/// The image a service was deployed with (as `docker stack deploy` writes it).
pub const STACK_IMAGE: &str = "com.docker.stack.image";
/// Set to "swarm" on everything `aistack deploy` makes.
pub const ORCHESTRATOR: &str = "io.aistack.orchestrator";
/// The compose key of a secret or config (its Swarm name may carry a generation).
pub const OBJECT_KEY: &str = "io.aistack.object";
/// sha256 of the object's name and content: tells whether a new generation
/// is needed. Only readable through the Engine API, whose users can read
/// the secret itself anyway (a service mounting it), never printed.
pub const CONTENT_HASH: &str = "io.aistack.content-hash";
/// Which generation of the object this is (1, 2, ...).
pub const GENERATION: &str = "io.aistack.generation";

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn base(project: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (STACK.to_string(), project.to_string()),
        (compose::PROJECT.to_string(), project.to_string()),
        (ORCHESTRATOR.to_string(), "swarm".to_string()),
        (compose::AISTACK_VERSION.to_string(), version().to_string()),
    ])
}

/// Service labels: `deploy.labels` first, ours override them.
pub fn service(
    project: &str,
    key: &str,
    user: &BTreeMap<String, String>,
    image: &str,
) -> BTreeMap<String, String> {
    let mut l = user.clone();
    l.extend(base(project));
    l.insert(compose::SERVICE.into(), key.into());
    l.insert(STACK_IMAGE.into(), image.into());
    l
}

/// Labels on each task's container: the service's `labels:` plus the stack.
pub fn container(project: &str, user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut l = user.clone();
    l.insert(STACK.into(), project.into());
    l
}

pub fn network(
    project: &str,
    key: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut l = compose::network(project, key, user);
    l.extend(base(project));
    l
}

/// Labels a task's engine gives a named volume when it creates it on a node.
pub fn volume(
    project: &str,
    key: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut l = compose::volume(project, key, user);
    l.extend(base(project));
    l
}

pub fn object(
    project: &str,
    kind: ObjectKind,
    key: &str,
    user: &BTreeMap<String, String>,
    content_hash: &str,
    generation: u32,
) -> BTreeMap<String, String> {
    let mut l = user.clone();
    l.extend(base(project));
    l.insert(OBJECT_KEY.into(), format!("{}:{key}", kind.word()));
    l.insert(CONTENT_HASH.into(), content_hash.into());
    l.insert(GENERATION.into(), generation.to_string());
    l
}

/// The label filter that finds everything of a deployed stack.
pub fn stack_filter(project: &str) -> [(&'static str, &str); 1] {
    [(STACK, project)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_carries_the_stack_and_project_labels_and_ours_win_over_the_users() {
        let user = BTreeMap::from([(STACK.to_string(), "spoofed".to_string())]);
        for l in [
            service("demo", "web", &user, "web:1"),
            network("demo", "ai", &user),
            volume("demo", "data", &user),
            object("demo", ObjectKind::Secret, "pw", &user, "abc", 1),
        ] {
            assert_eq!(l[STACK], "demo");
            assert_eq!(l[compose::PROJECT], "demo");
            assert_eq!(l[ORCHESTRATOR], "swarm");
        }
        let c = container("demo", &BTreeMap::new());
        assert_eq!(c[STACK], "demo");
        assert!(!c.contains_key(compose::PROJECT));
    }
}
