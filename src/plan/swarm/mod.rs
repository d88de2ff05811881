//! Planning a Swarm deployment (`aistack deploy`): the loaded project plus
//! facts about the engine → the desired Swarm objects (overlay networks,
//! secrets and configs, one service spec per compose service with the
//! conditions it waits for), the findings about what Swarm cannot honour,
//! and, against an observed snapshot, the steps to get there.
//!
//! Pure and deterministic: no Docker, no async, no file or process I/O (the
//! caller reads secret files and the kernel facts and passes them in).
//! `findings.rs` owns the unsupported-attribute table, `service.rs` the
//! attribute mapping, `steps.rs` create/update/keep/remove decisions,
//! `labels.rs` the label contract.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};

use crate::compose::graph::Graph;
use crate::compose::model::{Condition, Project};
use crate::engine::quirks::ApiVersion;
use crate::engine::swarm::kernel::VipSupport;
use crate::engine::swarm::{ObjectKind, ServiceMode, ServiceSpec};
use crate::engine::types::{IpamPool, NetworkSpec};

pub mod down;
pub mod findings;
pub mod labels;
pub mod service;
pub mod steps;
#[cfg(test)]
mod tests;

pub use down::{Removal, removal};
pub use steps::{DeployPlan, Observed, ServiceAction, Step, StepOptions, steps};

/// `--endpoint-mode`: what every service gets, or `Auto` (the file's
/// `deploy.endpoint_mode`, else vip, with dnsrr where VIPs cannot route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointChoice {
    #[default]
    Auto,
    Vip,
    Dnsrr,
}

/// What the planner needs to know about the engine and the host.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The negotiated Engine API version (features are gated on it).
    pub api: ApiVersion,
    pub vip: VipSupport,
    pub endpoint_mode: EndpointChoice,
    /// Contents of file-backed secrets and configs, by the path in the model
    /// (read by the caller; a missing entry means it could not be read).
    pub files: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One attribute Swarm cannot honour as written (or that deploy adapted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// The compose service, or `None` for a top-level network/volume/secret.
    pub service: Option<String>,
    /// The attribute as written ("privileged", "ports: 127.0.0.1::8080").
    pub attribute: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.service {
            Some(s) => write!(
                f,
                "{level}: service \"{s}\": {}: {}",
                self.attribute, self.problem
            )?,
            None => write!(f, "{level}: {}: {}", self.attribute, self.problem)?,
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

/// What a dependent waits for before its service is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// Every desired task running.
    Running,
    /// Every desired task running; Swarm reports a task with a health check
    /// as running only once the check passed, so this is "healthy".
    Healthy,
    /// Every task completed with exit code 0.
    Completed,
}

impl WaitFor {
    pub fn word(self) -> &'static str {
        match self {
            WaitFor::Running => "running",
            WaitFor::Healthy => "healthy",
            WaitFor::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The compose key of the dependency.
    pub service: String,
    pub condition: WaitFor,
}

/// What "converged" means for a service (`--wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `Some(n)`: n tasks running; `None` (global): every task running.
    Running(Option<u64>),
    /// `Some(n)`: n tasks completed with 0; `None` (global job): every task.
    Completed(Option<u64>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPlan {
    pub key: String,
    pub spec: NetworkSpec,
    pub external: bool,
}

/// A secret or config the stack uses.
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectPlan {
    pub kind: ObjectKind,
    pub key: String,
    /// The Swarm name of its first generation (`<project>_<key>` or `name:`).
    pub name: String,
    pub external: bool,
    pub data: Vec<u8>,
    /// sha256 over kind, name and content (see `labels::CONTENT_HASH`).
    pub content_hash: String,
    pub user_labels: BTreeMap<String, String>,
}

impl fmt::Debug for ObjectPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectPlan")
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("name", &self.name)
            .field("external", &self.external)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub key: String,
    /// Secret/config references carry compose keys until `steps` resolves them.
    pub spec: ServiceSpec,
    pub waits: Vec<Wait>,
    pub target: Target,
}

/// The whole desired stack, in start order, with every finding.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub stack: String,
    /// Every service the files define (profiles included): a deployed
    /// service of the stack outside this set is an orphan.
    pub known: BTreeSet<String>,
    pub networks: Vec<NetworkPlan>,
    pub objects: Vec<ObjectPlan>,
    pub services: Vec<ServicePlan>,
    pub findings: Vec<Finding>,
}

impl Deployment {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

fn content_hash(kind: ObjectKind, name: &str, data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"aistack-object-v1\0");
    h.update(kind.word().as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    h.update([0]);
    h.update(data);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn target(spec: &ServiceSpec, completion: bool) -> Target {
    match spec.mode {
        ServiceMode::Replicated { replicas } if completion => Target::Completed(Some(replicas)),
        ServiceMode::Replicated { replicas } => Target::Running(Some(replicas)),
        ServiceMode::Global => Target::Running(None),
        ServiceMode::ReplicatedJob { completions, .. } => Target::Completed(Some(completions)),
        ServiceMode::GlobalJob => Target::Completed(None),
    }
}

/// The desired stack for `project` on an engine described by `facts`:
/// every service, or with `only`, those and what they depend on.
pub fn deployment(project: &Project, facts: &Facts, only: &[String]) -> Deployment {
    let known: BTreeSet<String> = project
        .services
        .keys()
        .chain(project.meta.disabled_services.keys())
        .cloned()
        .collect();
    let mut graph = Graph::new();
    for (key, svc) in &project.services {
        graph.add_node(key);
        for dep in svc.depends_on.keys() {
            if project.services.contains_key(dep) {
                graph.add_edge(key, dep);
            }
        }
    }
    let mut findings = Vec::new();
    for name in only.iter().filter(|n| !project.services.contains_key(*n)) {
        findings.push(Finding {
            severity: Severity::Error,
            service: None,
            attribute: name.clone(),
            problem: "no such service".into(),
            fix: "`aistack config --services` lists them".into(),
        });
    }
    let selected: BTreeSet<String> = if only.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        let roots: Vec<&str> = only.iter().map(String::as_str).collect();
        graph.closure(&roots)
    };
    findings.extend(
        findings::check(project, facts)
            .into_iter()
            .filter(|f| f.service.as_ref().is_none_or(|s| selected.contains(s))),
    );
    let in_scope = |k: &String| selected.contains(k);
    // The loader rejects cycles; sorted names are the fallback if one slipped by.
    let order: Vec<String> = graph
        .levels()
        .map(|l| l.into_iter().flatten().collect())
        .unwrap_or_else(|_| project.services.keys().cloned().collect());
    let mut services = Vec::new();
    let mut fallback: Vec<String> = Vec::new();
    let mut fallback_why = String::new();
    for key in order.iter().filter(|k| in_scope(k)) {
        let svc = &project.services[key];
        let (spec, notes) = service::spec(project, key, svc, facts);
        for n in notes {
            if n.attribute == service::VIP_FALLBACK {
                fallback.push(key.clone());
                fallback_why = n.problem;
            } else {
                findings.push(n);
            }
        }
        let mut waits = Vec::new();
        for (dep, d) in &svc.depends_on {
            let Some(dep_svc) = project.services.get(dep) else {
                continue;
            };
            let condition = match d.condition {
                Condition::ServiceStarted => WaitFor::Running,
                Condition::ServiceHealthy => WaitFor::Healthy,
                Condition::ServiceCompletedSuccessfully => WaitFor::Completed,
            };
            let checked = dep_svc
                .healthcheck
                .as_ref()
                .is_some_and(|h| !h.is_disabled());
            if condition == WaitFor::Healthy && !checked {
                findings.push(Finding {
                    severity: Severity::Error,
                    service: Some(key.clone()),
                    attribute: format!("depends_on.{dep}: service_healthy"),
                    problem: format!("\"{dep}\" has no health check, so it can never be healthy"),
                    fix: format!(
                        "add a healthcheck to \"{dep}\", or use condition: service_started"
                    ),
                });
            }
            waits.push(Wait {
                service: dep.clone(),
                condition,
            });
        }
        let completion = service::is_completion_target(project, key);
        services.push(ServicePlan {
            key: key.clone(),
            target: target(&spec, completion),
            spec,
            waits,
        });
    }
    if !fallback.is_empty() {
        fallback.sort();
        findings.push(Finding {
            severity: Severity::Warning,
            service: None,
            attribute: format!("deploy.endpoint_mode of {}", fallback.join(", ")),
            problem: format!(
                "virtual IPs cannot route here: {fallback_why}; using endpoint_mode dnsrr instead (a service name resolves to each task's address)"
            ),
            fix: "nothing to do on this engine; deploy with --endpoint-mode vip where the nodes have IPVS".into(),
        });
    }
    let networks = project
        .networks
        .iter()
        .filter(|(k, _)| {
            project
                .services
                .iter()
                .any(|(n, s)| in_scope(n) && s.networks.contains_key(*k))
        })
        .map(|(key, n)| {
            let overlay = n.driver.is_empty() || n.driver == "overlay";
            NetworkPlan {
                key: key.clone(),
                external: n.external,
                spec: NetworkSpec {
                    name: n.name.clone(),
                    driver: Some("overlay".into()),
                    internal: n.internal,
                    // So `docker run --network` (and aistack's probes) can join for debugging.
                    attachable: true,
                    enable_ipv6: n.enable_ipv6,
                    driver_opts: if overlay {
                        n.driver_opts.clone()
                    } else {
                        BTreeMap::new()
                    },
                    ipam_driver: (!n.ipam.driver.is_empty()).then(|| n.ipam.driver.clone()),
                    ipam: n
                        .ipam
                        .config
                        .iter()
                        .map(|p| IpamPool {
                            subnet: (!p.subnet.is_empty()).then(|| p.subnet.clone()),
                            gateway: (!p.gateway.is_empty()).then(|| p.gateway.clone()),
                            ip_range: (!p.ip_range.is_empty()).then(|| p.ip_range.clone()),
                            aux: p.aux_addresses.clone(),
                        })
                        .collect(),
                    labels: labels::network(&project.name, key, &n.labels),
                },
            }
        })
        .collect();
    let mut objects = Vec::new();
    for (kind, defined) in [
        (ObjectKind::Secret, &project.secrets),
        (ObjectKind::Config, &project.configs),
    ] {
        for (key, o) in defined {
            let used = project.services.iter().any(|(n, s)| {
                if !in_scope(n) {
                    return false;
                }
                let refs = match kind {
                    ObjectKind::Secret => &s.secrets,
                    ObjectKind::Config => &s.configs,
                };
                refs.iter().any(|r| &r.source == key)
            });
            if !used {
                continue;
            }
            let mut problem = None;
            let data = if o.external {
                Vec::new()
            } else if !o.file.is_empty() {
                facts.files.get(&o.file).cloned().unwrap_or_else(|| {
                    problem = Some(format!("cannot read {}", o.file));
                    Vec::new()
                })
            } else if !o.environment.is_empty() {
                o.value.clone().map(String::into_bytes).unwrap_or_else(|| {
                    problem = Some(format!("variable {} is not set", o.environment));
                    Vec::new()
                })
            } else {
                o.content.clone().into_bytes()
            };
            if let Some(problem) = problem {
                findings.push(Finding {
                    severity: Severity::Error,
                    service: None,
                    attribute: format!("{}s.{key}", kind.word()),
                    problem,
                    fix: "make the file readable or set the variable before deploying".into(),
                });
            }
            objects.push(ObjectPlan {
                kind,
                key: key.clone(),
                name: o.name.clone(),
                external: o.external,
                content_hash: content_hash(kind, &o.name, &data),
                data,
                user_labels: o.labels.clone(),
            });
        }
    }
    findings.sort_by(|a, b| {
        (a.severity, &a.service, &a.attribute).cmp(&(b.severity, &b.service, &b.attribute))
    });
    Deployment {
        stack: project.name.clone(),
        known,
        networks,
        objects,
        services,
        findings,
    }
}
