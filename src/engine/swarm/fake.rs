//! `FakeSwarm`: the `SwarmEngine` trait in memory, for executor tests.
//!
//! Owns: a small model of a one-node Swarm manager (services with versions,
//! tasks whose states follow a per-service script on tokio's clock, overlay
//! networks, secrets, configs, task containers that linger after their
//! service is removed, volumes tasks create) and a record of every call.
//! Must not: import bollard or decide for the executor; it answers like the
//! real manager (conflicts on names, idempotent removals, "active endpoints"
//! while task containers remain), so executor code cannot tell them apart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::types::*;
use super::{EngineError, Result, SwarmEngine};
use crate::engine::types::{NetworkSpec, ObservedNetwork, ObservedVolume};

/// What each task of a service does, counted from the task's creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskScript {
    /// "starting" until the delay, then "running" (with a health check, Swarm
    /// reports running only once the first check passed).
    Run(Duration),
    /// Runs, then ends with this exit code after the delay: "complete" for 0,
    /// "failed" otherwise. With a restart policy, a new task replaces it.
    Exit(i64, Duration),
    /// Never scheduled: "pending" with this message.
    Pending(String),
    /// "preparing", then "rejected" with this error after the delay.
    Reject(String, Duration),
}

#[derive(Clone)]
struct Task {
    id: String,
    service: String,
    slot: u64,
    created: Instant,
    /// Set when an update or a restart replaced it.
    shut_down_at: Option<Instant>,
    script: TaskScript,
}

struct Service {
    id: String,
    spec: ServiceSpec,
    version: u64,
    created: Instant,
    updated: Instant,
}

/// A task's container: its labels, the networks it is attached to, the volumes it mounts.
#[derive(Clone)]
struct Container {
    labels: BTreeMap<String, String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    services: BTreeMap<String, Service>,
    tasks: Vec<Task>,
    /// Task containers of removed services, and when each is gone.
    lingering: Vec<(Container, Instant)>,
    networks: BTreeMap<String, (String, NetworkSpec)>,
    objects: BTreeMap<(ObjectKind, String), (String, ObjectSpec)>,
    volumes: BTreeMap<String, BTreeMap<String, String>>,
    scripts: BTreeMap<String, TaskScript>,
    logs: BTreeMap<String, Vec<String>>,
    failures: Vec<(String, EngineError)>,
    calls: Vec<(Duration, String)>,
    status: Option<SwarmStatus>,
}

/// In-memory Swarm manager. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeSwarm {
    inner: Arc<(Mutex<State>, Instant, Duration)>,
}

impl Default for FakeSwarm {
    fn default() -> Self {
        Self::new()
    }
}

/// The fake daemon clock starts at this many nanoseconds since the epoch.
const EPOCH_NANOS: i128 = 1_800_000_000_000_000_000;

impl FakeSwarm {
    /// A manager of a one-node Swarm. Task containers linger 2 s after their
    /// service is removed, as real ones take a moment to stop.
    pub fn new() -> Self {
        Self::with_linger(Duration::from_secs(2))
    }

    pub fn with_linger(linger: Duration) -> Self {
        FakeSwarm {
            inner: Arc::new((Mutex::new(State::default()), Instant::now(), linger)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn nanos(&self, at: Instant) -> i128 {
        EPOCH_NANOS + at.saturating_duration_since(self.inner.1).as_nanos() as i128
    }

    /// Every task of service `name` (its Swarm name) follows `script`.
    pub fn script(&self, name: &str, script: TaskScript) {
        self.state().scripts.insert(name.to_string(), script);
    }

    /// What `task_logs` answers for the tasks of service `name`.
    pub fn set_logs(&self, name: &str, lines: &[&str]) {
        self.state().logs.insert(
            name.to_string(),
            lines.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// The next call whose record starts with `prefix` fails with `err`.
    pub fn fail_next(&self, prefix: &str, err: EngineError) {
        self.state().failures.push((prefix.to_string(), err));
    }

    /// Replaces what `swarm_status` answers (default: an active one-node manager).
    pub fn set_status(&self, status: SwarmStatus) {
        self.state().status = Some(status);
    }

    /// Every call so far, with the time since the fake was made.
    pub fn calls(&self) -> Vec<(Duration, String)> {
        self.state().calls.clone()
    }

    /// The spec service `name` was last given.
    pub fn spec(&self, name: &str) -> Option<ServiceSpec> {
        self.state()
            .services
            .values()
            .find(|s| s.spec.name == name)
            .map(|s| s.spec.clone())
    }

    fn record(&self, st: &mut State, call: String) -> Result<()> {
        st.calls.push((self.inner.1.elapsed(), call.clone()));
        if let Some(i) = st.failures.iter().position(|(p, _)| call.starts_with(p)) {
            return Err(st.failures.remove(i).1);
        }
        Ok(())
    }

    fn id(st: &mut State, prefix: &str) -> String {
        st.next_id += 1;
        format!("{prefix}{}", st.next_id)
    }

    fn replicas(spec: &ServiceSpec) -> u64 {
        match spec.mode {
            ServiceMode::Replicated { replicas } => replicas,
            ServiceMode::ReplicatedJob { completions, .. } => completions,
            ServiceMode::Global | ServiceMode::GlobalJob => 1,
        }
    }

    fn start_tasks(st: &mut State, service_id: &str, spec: &ServiceSpec, now: Instant) {
        let script = st
            .scripts
            .get(&spec.name)
            .cloned()
            .unwrap_or(TaskScript::Run(Duration::ZERO));
        for slot in 1..=Self::replicas(spec) {
            let id = Self::id(st, "task");
            st.tasks.push(Task {
                id,
                service: service_id.to_string(),
                slot,
                created: now,
                shut_down_at: None,
                script: script.clone(),
            });
        }
        for m in &spec.container.mounts {
            if m.kind == SwarmMountKind::Volume
                && let Some(src) = &m.source
            {
                st.volumes
                    .entry(src.clone())
                    .or_insert_with(|| m.volume_labels.clone());
            }
        }
    }

    /// (state, exit code, error, when it entered that state) at `now`.
    fn task_state(t: &Task, now: Instant) -> (&'static str, Option<i64>, String, Instant) {
        if let Some(at) = t.shut_down_at
            && at <= now
        {
            // Whatever ended it, a replaced task reads as its end state.
            let ended = Self::scripted(t, at);
            return match ended.0 {
                "complete" | "failed" | "rejected" => ended,
                _ => ("shutdown", None, String::new(), at),
            };
        }
        Self::scripted(t, now)
    }

    fn scripted(t: &Task, now: Instant) -> (&'static str, Option<i64>, String, Instant) {
        let age = now.saturating_duration_since(t.created);
        match &t.script {
            TaskScript::Run(d) if age < *d => ("starting", None, String::new(), t.created),
            TaskScript::Run(d) => ("running", None, String::new(), t.created + *d),
            TaskScript::Exit(_, d) if age < *d => ("running", None, String::new(), t.created),
            TaskScript::Exit(0, d) => ("complete", Some(0), String::new(), t.created + *d),
            TaskScript::Exit(code, d) => (
                "failed",
                Some(*code),
                format!("task: non-zero exit ({code})"),
                t.created + *d,
            ),
            TaskScript::Pending(_) => ("pending", None, String::new(), t.created),
            TaskScript::Reject(_, d) if age < *d => ("preparing", None, String::new(), t.created),
            TaskScript::Reject(e, d) => ("rejected", None, e.clone(), t.created + *d),
        }
    }

    /// Swarm's orchestrator, lazily: ended tasks of services that restart are
    /// replaced by a new task `restart.delay` (default 5 s) later. Bounded, so
    /// a zero delay on a zero-length script cannot spin.
    fn reconcile(&self, st: &mut State, now: Instant) {
        for _ in 0..1000 {
            let mut replacements = Vec::new();
            for (i, t) in st.tasks.iter().enumerate() {
                if t.shut_down_at.is_some() || t.created > now {
                    continue;
                }
                let Some(svc) = st.services.get(&t.service) else {
                    continue;
                };
                let (state, _, _, since) = Self::scripted(t, now);
                let restarts = match svc.spec.restart.condition {
                    RestartCondition::None => false,
                    RestartCondition::OnFailure => state != "complete",
                    RestartCondition::Any => !svc.spec.mode.is_job() || state != "complete",
                };
                let ended = matches!(state, "complete" | "failed" | "rejected");
                let attempts = st
                    .tasks
                    .iter()
                    .filter(|o| o.service == t.service && o.slot == t.slot)
                    .count() as u64;
                let allowed = svc.spec.restart.max_attempts.is_none_or(|m| attempts <= m);
                if ended && restarts && allowed {
                    let delay = svc.spec.restart.delay.unwrap_or(Duration::from_secs(5));
                    replacements.push((i, since, since + delay));
                }
            }
            if replacements.is_empty() {
                return;
            }
            for (i, since, next_at) in replacements {
                st.tasks[i].shut_down_at = Some(since);
                let mut next = st.tasks[i].clone();
                next.id = Self::id(st, "task");
                next.created = next_at;
                next.shut_down_at = None;
                st.tasks.push(next);
            }
        }
    }

    fn observed_service(&self, s: &Service) -> ObservedService {
        ObservedService {
            id: s.id.clone(),
            name: s.spec.name.clone(),
            labels: s.spec.labels.clone(),
            version: s.version,
            created_at: self.nanos(s.created),
            updated_at: self.nanos(s.updated),
            replicas: match s.spec.mode {
                ServiceMode::Replicated { replicas } => Some(replicas),
                _ => None,
            },
            mode: match s.spec.mode {
                ServiceMode::Replicated { .. } => "replicated",
                ServiceMode::Global => "global",
                ServiceMode::ReplicatedJob { .. } => "replicated-job",
                ServiceMode::GlobalJob => "global-job",
            }
            .into(),
            image: s.spec.container.image.clone(),
            ports: Vec::new(),
            update_state: None,
            update_message: String::new(),
        }
    }

    /// Containers alive or lingering.
    fn containers(&self, st: &mut State, now: Instant) -> Vec<Container> {
        st.lingering.retain(|(_, gone)| *gone > now);
        let mut out: Vec<Container> = st.lingering.iter().map(|(c, _)| c.clone()).collect();
        for t in st.tasks.iter().filter(|t| t.created <= now) {
            let Some(svc) = st.services.get(&t.service) else {
                continue;
            };
            if matches!(Self::task_state(t, now).0, "starting" | "running") {
                out.push(Self::container_of(&svc.spec));
            }
        }
        out
    }

    fn container_of(spec: &ServiceSpec) -> Container {
        Container {
            labels: spec.container.labels.clone(),
            networks: spec.networks.iter().map(|n| n.target.clone()).collect(),
            volumes: spec
                .container
                .mounts
                .iter()
                .filter_map(|m| m.source.clone())
                .collect(),
        }
    }
}

fn matches(labels: &BTreeMap<String, String>, want: &[(&str, &str)]) -> bool {
    want.iter()
        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
}

impl SwarmEngine for FakeSwarm {
    async fn swarm_status(&self) -> Result<SwarmStatus> {
        let mut st = self.state();
        self.record(&mut st, "swarm_status".into())?;
        let now = self.nanos(Instant::now());
        Ok(st.status.clone().unwrap_or(SwarmStatus {
            state: "active".into(),
            node_id: "node1".into(),
            is_manager: true,
            nodes: 1,
            now,
        }))
    }

    async fn is_swarm_manager(&self) -> Result<bool> {
        let mut st = self.state();
        self.record(&mut st, "is_swarm_manager".into())?;
        Ok(st
            .status
            .as_ref()
            .is_none_or(|s| s.is_active() && s.is_manager))
    }

    async fn list_services(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedService>> {
        let mut st = self.state();
        self.record(&mut st, "list_services".into())?;
        Ok(st
            .services
            .values()
            .filter(|s| matches(&s.spec.labels, labels))
            .map(|s| self.observed_service(s))
            .collect())
    }

    async fn create_service(&self, spec: &ServiceSpec) -> Result<String> {
        let mut st = self.state();
        self.record(&mut st, format!("create_service {}", spec.name))?;
        if st.services.values().any(|s| s.spec.name == spec.name) {
            return Err(EngineError::Conflict {
                what: format!("create service {}", spec.name),
                message: "name conflicts with an existing object".into(),
            });
        }
        for n in &spec.networks {
            if !st.networks.values().any(|(_, ns)| ns.name == n.target) {
                return Err(EngineError::NotFound {
                    what: format!("network {}", n.target),
                });
            }
        }
        for r in spec.container.secrets.iter().chain(&spec.container.configs) {
            if r.object_id.is_empty() {
                return Err(EngineError::Api {
                    status: 400,
                    message: format!("reference to {} without an ID", r.object),
                });
            }
        }
        let id = Self::id(&mut st, "svc");
        let now = Instant::now();
        Self::start_tasks(&mut st, &id, spec, now);
        st.services.insert(
            id.clone(),
            Service {
                id: id.clone(),
                spec: spec.clone(),
                version: 1,
                created: now,
                updated: now,
            },
        );
        Ok(id)
    }

    async fn update_service(&self, id: &str, version: u64, spec: &ServiceSpec) -> Result<()> {
        let mut st = self.state();
        self.record(&mut st, format!("update_service {}", spec.name))?;
        let now = Instant::now();
        let Some(svc) = st.services.get_mut(id) else {
            return Err(EngineError::NotFound {
                what: format!("service {id}"),
            });
        };
        if svc.version != version {
            return Err(EngineError::Conflict {
                what: format!("update service {}", spec.name),
                message: "update out of sequence".into(),
            });
        }
        svc.version += 1;
        svc.updated = now;
        svc.spec = spec.clone();
        for t in st.tasks.iter_mut().filter(|t| t.service == id) {
            if t.shut_down_at.is_none() {
                t.shut_down_at = Some(now);
            }
        }
        Self::start_tasks(&mut st, id, spec, now);
        Ok(())
    }

    async fn remove_service(&self, id: &str) -> Result<()> {
        let mut st = self.state();
        self.record(&mut st, format!("remove_service {id}"))?;
        let now = Instant::now();
        let linger = self.inner.2;
        if let Some(svc) = st.services.remove(id) {
            let live = st
                .tasks
                .iter()
                .filter(|t| {
                    t.service == id
                        && t.created <= now
                        && matches!(Self::task_state(t, now).0, "starting" | "running")
                })
                .count();
            let c = Self::container_of(&svc.spec);
            for _ in 0..live {
                st.lingering.push((c.clone(), now + linger));
            }
            st.tasks.retain(|t| t.service != id);
        }
        Ok(())
    }

    async fn inspect_service(&self, id: &str) -> Result<ObservedService> {
        let mut st = self.state();
        self.record(&mut st, format!("inspect_service {id}"))?;
        st.services
            .get(id)
            .map(|s| self.observed_service(s))
            .ok_or(EngineError::NotFound {
                what: format!("service {id}"),
            })
    }

    async fn list_tasks(&self, service_id: &str) -> Result<Vec<ObservedTask>> {
        let mut st = self.state();
        self.record(&mut st, format!("list_tasks {service_id}"))?;
        let now = Instant::now();
        self.reconcile(&mut st, now);
        Ok(st
            .tasks
            .iter()
            // A replacement scheduled after a restart delay does not exist yet.
            .filter(|t| t.service == service_id && t.created <= now)
            .map(|t| {
                let (state, exit_code, error, since) = Self::task_state(t, now);
                let replaced = t.shut_down_at.is_some_and(|at| at <= now);
                ObservedTask {
                    id: t.id.clone(),
                    service_id: t.service.clone(),
                    slot: Some(t.slot),
                    node_id: "node1".into(),
                    state: state.into(),
                    desired_state: if replaced
                        || matches!(state, "complete" | "failed" | "rejected")
                    {
                        "shutdown".into()
                    } else {
                        "running".into()
                    },
                    message: match &t.script {
                        TaskScript::Pending(m) => m.clone(),
                        _ => state.to_string(),
                    },
                    error,
                    exit_code,
                    container_id: Some(format!("ctr-{}", t.id)),
                    created_at: self.nanos(t.created),
                    state_since: self.nanos(since),
                    ports: Vec::new(),
                }
            })
            .collect())
    }

    async fn task_logs(&self, task_id: &str, tail: usize) -> Result<Vec<String>> {
        let mut st = self.state();
        self.record(&mut st, format!("task_logs {task_id}"))?;
        let service = st
            .tasks
            .iter()
            .find(|t| t.id == task_id)
            .and_then(|t| st.services.get(&t.service))
            .map(|s| s.spec.name.clone())
            .unwrap_or_default();
        let lines = st.logs.get(&service).cloned().unwrap_or_default();
        Ok(lines[lines.len().saturating_sub(tail)..].to_vec())
    }

    async fn list_swarm_networks(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedNetwork>> {
        let mut st = self.state();
        self.record(&mut st, "list_swarm_networks".into())?;
        Ok(st
            .networks
            .iter()
            .filter(|(_, (_, n))| matches(&n.labels, labels))
            .map(|(id, (_, n))| ObservedNetwork {
                id: id.clone(),
                name: n.name.clone(),
                labels: n.labels.clone(),
                internal: n.internal,
                containers: Vec::new(),
            })
            .collect())
    }

    async fn create_swarm_network(&self, spec: &NetworkSpec) -> Result<String> {
        let mut st = self.state();
        self.record(&mut st, format!("create_swarm_network {}", spec.name))?;
        if st.networks.values().any(|(_, n)| n.name == spec.name) {
            return Err(EngineError::Conflict {
                what: format!("create network {}", spec.name),
                message: "network with name already exists".into(),
            });
        }
        let id = Self::id(&mut st, "net");
        st.networks.insert(id.clone(), (id.clone(), spec.clone()));
        Ok(id)
    }

    async fn remove_swarm_network(&self, id: &str) -> Result<()> {
        let mut st = self.state();
        self.record(&mut st, format!("remove_swarm_network {id}"))?;
        let Some((_, spec)) = st.networks.get(id).cloned() else {
            return Ok(());
        };
        let now = Instant::now();
        if self
            .containers(&mut st, now)
            .iter()
            .any(|c| c.networks.contains(&spec.name))
        {
            return Err(EngineError::Api {
                status: 403,
                message: format!(
                    "error while removing network: network {} id {id} has active endpoints",
                    spec.name
                ),
            });
        }
        st.networks.remove(id);
        Ok(())
    }

    async fn list_objects(
        &self,
        kind: ObjectKind,
        labels: &[(&str, &str)],
    ) -> Result<Vec<ObservedObject>> {
        let mut st = self.state();
        self.record(&mut st, format!("list_objects {}", kind.word()))?;
        Ok(st
            .objects
            .iter()
            .filter(|((k, _), (_, o))| *k == kind && matches(&o.labels, labels))
            .map(|((_, id), (_, o))| ObservedObject {
                id: id.clone(),
                name: o.name.clone(),
                labels: o.labels.clone(),
            })
            .collect())
    }

    async fn create_object(&self, spec: &ObjectSpec) -> Result<String> {
        let mut st = self.state();
        self.record(
            &mut st,
            format!("create_object {} {}", spec.kind.word(), spec.name),
        )?;
        if st
            .objects
            .iter()
            .any(|((k, _), (_, o))| *k == spec.kind && o.name == spec.name)
        {
            return Err(EngineError::Conflict {
                what: format!("create {} {}", spec.kind.word(), spec.name),
                message: "name conflicts with an existing object".into(),
            });
        }
        let id = Self::id(&mut st, spec.kind.word());
        st.objects
            .insert((spec.kind, id.clone()), (id.clone(), spec.clone()));
        Ok(id)
    }

    async fn remove_object(&self, kind: ObjectKind, id: &str) -> Result<()> {
        let mut st = self.state();
        self.record(&mut st, format!("remove_object {} {id}", kind.word()))?;
        let in_use = st.services.values().any(|s| {
            let refs = match kind {
                ObjectKind::Secret => &s.spec.container.secrets,
                ObjectKind::Config => &s.spec.container.configs,
            };
            refs.iter().any(|r| r.object_id == id)
        });
        if in_use {
            return Err(EngineError::Api {
                status: 400,
                message: format!("rpc error: {} '{id}' is in use by a service", kind.word()),
            });
        }
        st.objects.remove(&(kind, id.to_string()));
        Ok(())
    }

    async fn list_local_containers(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        let mut st = self.state();
        self.record(&mut st, "list_local_containers".into())?;
        let now = Instant::now();
        Ok(self
            .containers(&mut st, now)
            .iter()
            .filter(|c| matches(&c.labels, labels))
            .enumerate()
            .map(|(i, _)| format!("container-{i}"))
            .collect())
    }

    async fn list_local_volumes(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedVolume>> {
        let mut st = self.state();
        self.record(&mut st, "list_local_volumes".into())?;
        Ok(st
            .volumes
            .iter()
            .filter(|(_, l)| matches(l, labels))
            .map(|(name, l)| ObservedVolume {
                name: name.clone(),
                labels: l.clone(),
            })
            .collect())
    }

    async fn remove_local_volume(&self, name: &str) -> Result<()> {
        let mut st = self.state();
        self.record(&mut st, format!("remove_local_volume {name}"))?;
        let now = Instant::now();
        if self
            .containers(&mut st, now)
            .iter()
            .any(|c| c.volumes.iter().any(|v| v == name))
        {
            return Err(EngineError::Conflict {
                what: format!("remove volume {name}"),
                message: "volume is in use".into(),
            });
        }
        st.volumes.remove(name);
        Ok(())
    }
}
