//! The desired stack against one observed snapshot → the steps of a deploy:
//! which networks and objects to create, which services to create, update
//! (their spec hash changed) or keep, what to remove afterwards (orphan
//! services with `--remove-orphans`, secret/config generations nothing uses
//! any more). Pure and deterministic; `Display` is `deploy --dry-run`.
//!
//! Secrets and configs are immutable in Swarm, so a changed content gets a
//! new object, `<name>-<generation>`: the first generation keeps the plain
//! name `docker stack deploy` would use. The generation comes from the
//! observed objects, never from a content digest in the name (names are
//! printed, and a digest of a weak secret could be guessed offline).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};

use crate::engine::swarm::{
    ObjectKind, ObjectSpec, ObservedObject, ObservedService, RestartCondition, ServiceSpec,
};
use crate::engine::types::{NetworkSpec, ObservedNetwork};
use crate::plan::labels as compose;

use super::{Deployment, Target, Wait, labels};

/// What the engine has now: everything labelled with the stack, plus
/// networks and objects by name where the project names external ones.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub services: Vec<ObservedService>,
    pub networks: Vec<ObservedNetwork>,
    pub objects: Vec<(ObjectKind, ObservedObject)>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct StepOptions {
    /// Remove services of the stack that are not in the compose files.
    pub remove_orphans: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceAction {
    Create(Box<ServiceSpec>),
    Update {
        id: String,
        version: u64,
        spec: Box<ServiceSpec>,
    },
    Keep {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    CreateNetwork {
        key: String,
        spec: NetworkSpec,
    },
    CreateObject {
        key: String,
        spec: ObjectSpec,
    },
    Service {
        key: String,
        name: String,
        waits: Vec<Wait>,
        target: Target,
        /// Whether Swarm replaces a failed task (restart condition not none).
        restarts: bool,
        action: ServiceAction,
        cause: String,
    },
    RemoveService {
        key: String,
        name: String,
        id: String,
        cause: String,
    },
    RemoveObject {
        kind: ObjectKind,
        name: String,
        id: String,
        cause: String,
    },
}

/// The steps in order: networks and objects, services (start order), removals.
#[derive(Debug, Clone, Default)]
pub struct DeployPlan {
    pub stack: String,
    pub steps: Vec<Step>,
    /// IDs of the objects that exist already, by (kind, name); the executor
    /// adds the ones it creates and fills every service's references.
    pub object_ids: BTreeMap<(ObjectKind, String), String>,
    /// Facts worth telling (orphans kept, networks kept as they are).
    pub notes: Vec<String>,
    /// Why this plan cannot be applied (each says what to do).
    pub errors: Vec<String>,
}

/// Bump when what the hash covers changes, so upgrades update on purpose.
const HASH_FORMAT: &str = "aistack-swarm-hash-v1";

/// sha256 of the canonical JSON of the spec (object IDs are not part of it).
pub fn spec_hash(spec: &ServiceSpec) -> String {
    let json = serde_json::to_vec(spec).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(HASH_FORMAT.as_bytes());
    h.update([0]);
    h.update(&json);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn generation(o: &ObservedObject) -> u32 {
    o.labels
        .get(labels::GENERATION)
        .and_then(|g| g.parse().ok())
        .unwrap_or(1)
}

pub fn steps(d: &Deployment, observed: &Observed, opts: StepOptions) -> DeployPlan {
    let mut plan = DeployPlan {
        stack: d.stack.clone(),
        ..Default::default()
    };
    let ours = |l: &BTreeMap<String, String>| {
        l.get(labels::STACK).map(String::as_str) == Some(d.stack.as_str())
    };

    for n in &d.networks {
        let found = observed.networks.iter().find(|o| o.name == n.spec.name);
        match (found, n.external) {
            (Some(_), true) => {}
            (None, true) => plan.errors.push(format!(
                "network \"{}\" is declared external, but network \"{}\" does not exist; create it with `docker network create -d overlay --attachable {}`",
                n.key, n.spec.name, n.spec.name
            )),
            (Some(o), false) if !ours(&o.labels) => plan.errors.push(format!(
                "network \"{}\" exists but was not deployed by aistack for stack \"{}\"; remove it, or declare networks.{}.external: true",
                n.spec.name, d.stack, n.key
            )),
            (Some(o), false) if o.internal != n.spec.internal => plan.errors.push(format!(
                "network \"{}\" exists with internal: {}, the files say internal: {}; Swarm cannot change it in place: run `aistack down` then deploy again",
                n.spec.name, o.internal, n.spec.internal
            )),
            (Some(_), false) => {}
            (None, false) => plan.steps.push(Step::CreateNetwork {
                key: n.key.clone(),
                spec: n.spec.clone(),
            }),
        }
    }

    // (kind, key) → the Swarm name services will reference.
    let mut chosen: BTreeMap<(ObjectKind, String), String> = BTreeMap::new();
    let mut keep: BTreeSet<(ObjectKind, String)> = BTreeSet::new();
    for o in &d.objects {
        if o.external {
            match observed
                .objects
                .iter()
                .find(|(k, x)| *k == o.kind && x.name == o.name)
            {
                Some((_, x)) => {
                    plan.object_ids
                        .insert((o.kind, x.name.clone()), x.id.clone());
                }
                None => plan.errors.push(format!(
                    "{} \"{}\" is declared external, but {} \"{}\" does not exist; create it with `docker {} create {} FILE`",
                    o.kind.word(),
                    o.key,
                    o.kind.word(),
                    o.name,
                    o.kind.word(),
                    o.name
                )),
            }
            chosen.insert((o.kind, o.key.clone()), o.name.clone());
            continue;
        }
        let tag = format!("{}:{}", o.kind.word(), o.key);
        let generations: Vec<&ObservedObject> = observed
            .objects
            .iter()
            .filter(|(k, x)| {
                *k == o.kind && ours(&x.labels) && x.labels.get(labels::OBJECT_KEY) == Some(&tag)
            })
            .map(|(_, x)| x)
            .collect();
        let same = generations
            .iter()
            .find(|x| x.labels.get(labels::CONTENT_HASH) == Some(&o.content_hash));
        let name = match same {
            Some(x) => {
                plan.object_ids
                    .insert((o.kind, x.name.clone()), x.id.clone());
                x.name.clone()
            }
            None => {
                let g = generations
                    .iter()
                    .map(|x| generation(x))
                    .max()
                    .map_or(1, |g| g + 1);
                let name = if g == 1 {
                    o.name.clone()
                } else {
                    format!("{}-{g}", o.name)
                };
                plan.steps.push(Step::CreateObject {
                    key: o.key.clone(),
                    spec: ObjectSpec {
                        kind: o.kind,
                        name: name.clone(),
                        data: o.data.clone(),
                        labels: labels::object(
                            &d.stack,
                            o.kind,
                            &o.key,
                            &o.user_labels,
                            &o.content_hash,
                            g,
                        ),
                    },
                });
                name
            }
        };
        keep.insert((o.kind, name.clone()));
        chosen.insert((o.kind, o.key.clone()), name);
    }

    for s in &d.services {
        let mut spec = s.spec.clone();
        for (kind, refs) in [
            (ObjectKind::Secret, &mut spec.container.secrets),
            (ObjectKind::Config, &mut spec.container.configs),
        ] {
            for r in refs.iter_mut() {
                if let Some(name) = chosen.get(&(kind, r.object.clone())) {
                    r.object = name.clone();
                }
            }
        }
        let hash = spec_hash(&spec);
        spec.labels
            .insert(compose::AISTACK_HASH.into(), hash.clone());
        let found = observed.services.iter().find(|o| o.name == spec.name);
        let (action, cause) = match found {
            None => (
                ServiceAction::Create(Box::new(spec)),
                "not found".to_string(),
            ),
            Some(o) if o.labels.get(compose::AISTACK_HASH) == Some(&hash) => (
                ServiceAction::Keep { id: o.id.clone() },
                "up to date".to_string(),
            ),
            Some(o) => (
                ServiceAction::Update {
                    id: o.id.clone(),
                    version: o.version,
                    spec: Box::new(spec),
                },
                "config changed".to_string(),
            ),
        };
        plan.steps.push(Step::Service {
            key: s.key.clone(),
            name: s.spec.name.clone(),
            waits: s.waits.clone(),
            target: s.target,
            restarts: s.spec.restart.condition != RestartCondition::None,
            action,
            cause,
        });
    }

    for o in observed.services.iter().filter(|o| ours(&o.labels)) {
        let key = o
            .labels
            .get(compose::SERVICE)
            .cloned()
            .unwrap_or_else(|| o.name.clone());
        // A service the files still define (deployed or not this time, or
        // behind a profile) is not an orphan.
        if d.known.contains(&key) {
            continue;
        }
        if opts.remove_orphans {
            plan.steps.push(Step::RemoveService {
                key,
                name: o.name.clone(),
                id: o.id.clone(),
                cause: "not in the compose files".into(),
            });
        } else {
            plan.notes.push(format!(
                "service {} (\"{key}\") is not in the compose files; `aistack deploy --remove-orphans` removes it",
                o.name
            ));
        }
    }
    for (kind, x) in &observed.objects {
        if !ours(&x.labels) || !x.labels.contains_key(labels::OBJECT_KEY) {
            continue;
        }
        if keep.contains(&(*kind, x.name.clone())) {
            continue;
        }
        plan.steps.push(Step::RemoveObject {
            kind: *kind,
            name: x.name.clone(),
            id: x.id.clone(),
            cause: "no longer used".into(),
        });
    }
    plan
}

fn waits_text(waits: &[Wait]) -> String {
    if waits.is_empty() {
        return String::new();
    }
    let w: Vec<String> = waits
        .iter()
        .map(|w| format!("{} {}", w.service, w.condition.word()))
        .collect();
    format!("after {}: ", w.join(", "))
}

impl fmt::Display for DeployPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            match s {
                Step::CreateNetwork { key, spec } => writeln!(
                    f,
                    "network {key}: create {} (overlay{}, attachable)",
                    spec.name,
                    if spec.internal { ", internal" } else { "" }
                )?,
                Step::CreateObject { key, spec } => writeln!(
                    f,
                    "{} {key}: create {} ({} bytes)",
                    spec.kind.word(),
                    spec.name,
                    spec.data.len()
                )?,
                Step::Service {
                    key,
                    name,
                    waits,
                    action,
                    cause,
                    ..
                } => {
                    let verb = match action {
                        ServiceAction::Create(_) => "create",
                        ServiceAction::Update { .. } => "update",
                        ServiceAction::Keep { .. } => "keep",
                    };
                    writeln!(
                        f,
                        "service {key}: {}{verb} {name} ({cause})",
                        waits_text(waits)
                    )?
                }
                Step::RemoveService {
                    key, name, cause, ..
                } => writeln!(f, "service {key}: remove {name} ({cause})")?,
                Step::RemoveObject {
                    kind, name, cause, ..
                } => writeln!(f, "{} {name}: remove ({cause})", kind.word())?,
            }
        }
        Ok(())
    }
}
