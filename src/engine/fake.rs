//! `FakeEngine`: the `Engine` trait in memory, for executor tests.
//!
//! Owns: a small model of the daemon (networks, volumes, containers with
//! state and health, events, logs), a record of every call, and hooks that
//! script failures, latency and container behaviour after start. Uses tokio
//! time, so tests can run under `tokio::time::pause()`. Must not: import
//! bollard or make decisions for the executor; it answers like the real
//! engine (404/409 classes, idempotent deletes, start/stop of a container
//! already in that state is fine) so executor code cannot tell them apart.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt, stream};
use tokio::sync::{broadcast, watch};
use tokio::task::AbortHandle;

use super::interactive::{AttachedIo, ExecSpec, ExecStatus};
use super::quirks::ApiVersion;
use super::types::*;
use super::{Engine, EngineError, Result};
use model::*;

/// What a container does after `start_container`. Steps given to `on_start`
/// run in order; each `Duration` counts from the previous step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// Keep running (the default when nothing is scripted).
    Run,
    /// Exit with this code after the delay (emits `Die`).
    Exit(i64, Duration),
    /// Health check turns healthy after the delay (emits `HealthStatus`).
    Healthy(Duration),
    /// Health check turns unhealthy after the delay (emits `HealthStatus`).
    Unhealthy(Duration),
}

/// A file written by `copy_file_into`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeFile {
    pub content: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// In-memory engine. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeEngine {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Bumped on every container state change; `wait_container` watches it.
    changed: watch::Sender<u64>,
    events: broadcast::Sender<EngineEvent>,
    /// `(container id, line)`; `None` ends a follower's stream.
    logs: broadcast::Sender<(String, Option<StoredLine>)>,
    epoch_wall: SystemTime,
    epoch: tokio::time::Instant,
}

impl Default for FakeEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeEngine {
    pub fn new() -> Self {
        FakeEngine {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                changed: watch::Sender::new(0),
                events: broadcast::Sender::new(4096),
                logs: broadcast::Sender::new(4096),
                epoch_wall: SystemTime::now(),
                epoch: tokio::time::Instant::now(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wall-clock time that advances with tokio's (possibly paused) clock.
    fn now_nanos(&self) -> i64 {
        nanos_of(self.inner.epoch_wall + self.inner.epoch.elapsed())
    }

    // ----- scripting hooks -----

    /// Every call so far, e.g. `"create_container demo-web-1"`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// The next call of `op` (a trait method name) fails with `error`.
    /// Several queued failures are used one per call.
    pub fn fail_next(&self, op: &str, error: EngineError) {
        self.lock()
            .failures
            .entry(op.to_string())
            .or_default()
            .push_back(error);
    }

    /// Adds a step to what container `name` does after each start.
    pub fn on_start(&self, name: &str, script: Script) {
        self.lock()
            .scripts
            .entry(name.to_string())
            .or_default()
            .push(script);
    }

    /// Every call of `op` takes this long (tokio time).
    pub fn set_latency(&self, op: &str, latency: Duration) {
        self.lock().latency.insert(op.to_string(), latency);
    }

    /// Every call without its own latency takes this long.
    pub fn set_default_latency(&self, latency: Duration) {
        self.lock().default_latency = latency;
    }

    /// From now on only these images exist (by default every image does).
    pub fn set_images<I: IntoIterator<Item = S>, S: Into<String>>(&self, images: I) {
        self.lock().images = Some(images.into_iter().map(Into::into).collect());
    }

    /// The API version `info` reports (default 1.41).
    pub fn set_api_version(&self, api: ApiVersion) {
        self.lock().api = Some(api);
    }

    /// The next `exec` in container `name` returns this (default: exit 0, no output).
    pub fn on_exec(&self, name: &str, output: ExecOutput) {
        self.lock()
            .exec_results
            .entry(name.to_string())
            .or_default()
            .push_back(output);
    }

    /// Container `name` writes a line (delivered to `logs` followers too).
    pub fn push_log(&self, name: &str, stream: LogStream, text: &str) {
        let now = self.now_nanos();
        let mut st = self.lock();
        let Some(id) = st.container_id(name) else {
            return;
        };
        let line = StoredLine {
            time_nano: now,
            stream,
            text: text.to_string(),
        };
        if let Some(c) = st.containers.get_mut(&id) {
            c.logs.push(line.clone());
        }
        let _ = self.inner.logs.send((id, Some(line)));
    }

    /// A file written by `copy_file_into`.
    pub fn file(&self, container: &str, path: &str) -> Option<FakeFile> {
        let st = self.lock();
        let id = st.container_id(container)?;
        st.containers.get(&id)?.files.get(path).cloned()
    }

    // ----- internals -----

    /// Records the call, applies its latency, then any scripted failure.
    async fn enter(&self, op: &str, subject: &str) -> Result<()> {
        let (latency, failure) = {
            let mut st = self.lock();
            let call = if subject.is_empty() {
                op.to_string()
            } else {
                format!("{op} {subject}")
            };
            st.calls.push(call);
            let latency = st.latency.get(op).copied().unwrap_or(st.default_latency);
            let failure = st.failures.get_mut(op).and_then(VecDeque::pop_front);
            (latency, failure)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        failure.map_or(Ok(()), Err)
    }

    fn emit(&self, st: &mut State, id: &str, kind: EventKind) {
        let Some(c) = st.containers.get(id) else {
            return;
        };
        let event = EngineEvent {
            kind,
            container_id: c.id.clone(),
            container_name: c.spec.name.clone(),
            labels: c.spec.labels.clone(),
            time_nano: self.now_nanos(),
        };
        st.history.push(event.clone());
        let _ = self.inner.events.send(event);
    }

    fn bump(&self) {
        self.inner.changed.send_modify(|g| *g += 1);
    }

    /// Container `id` stops running with `code`.
    fn exit(&self, st: &mut State, id: &str, code: i64) {
        let now = self.now_nanos();
        let Some(c) = st.containers.get_mut(id) else {
            return;
        };
        c.state = ContainerState::Exited;
        c.exit_code = code;
        c.finished_at = Some(rfc3339(now));
        for t in c.tasks.drain(..) {
            t.abort();
        }
        for ep in c.networks.values_mut() {
            ep.ip.clear();
        }
        self.emit(st, id, EventKind::Die { exit_code: code });
        let _ = self.inner.logs.send((id.to_string(), None));
        self.bump();
    }

    fn observed(&self, c: &FakeContainer) -> ObservedContainer {
        ObservedContainer {
            id: c.id.clone(),
            name: c.spec.name.clone(),
            labels: c.spec.labels.clone(),
            image: c.spec.image.clone(),
            image_id: format!("sha256:fake-{}", c.spec.image),
            state: c.state,
            exit_code: c.exit_code,
            health: c.health,
            started_at: c.started_at.clone(),
            restart_count: 0,
            networks: c.networks.clone(),
            volumes: {
                let mut v: Vec<String> = c
                    .spec
                    .mounts
                    .iter()
                    .filter(|m| m.kind == MountKind::Volume)
                    .filter_map(|m| m.source.clone())
                    .collect();
                v.sort();
                v
            },
            ports: c
                .spec
                .port_bindings
                .iter()
                .flat_map(|(k, hosts)| {
                    hosts.iter().enumerate().map(move |(i, h)| PublishedPort {
                        container_port: k.port,
                        protocol: k.protocol.clone(),
                        host_ip: if h.host_ip.is_empty() {
                            "0.0.0.0".into()
                        } else {
                            h.host_ip.clone()
                        },
                        host_port: h
                            .host_port
                            .parse()
                            .unwrap_or(32768 + k.port % 1000 + i as u16),
                    })
                })
                .collect(),
        }
    }

    fn run_script(&self, id: String, run: u64, steps: Vec<Script>) -> AbortHandle {
        let engine = self.clone();
        tokio::spawn(async move {
            for step in steps {
                let delay = match step {
                    Script::Run => continue,
                    Script::Exit(_, d) | Script::Healthy(d) | Script::Unhealthy(d) => d,
                };
                tokio::time::sleep(delay).await;
                let mut st = engine.lock();
                let current = st
                    .containers
                    .get(&id)
                    .is_some_and(|c| c.run == run && c.state == ContainerState::Running);
                if !current {
                    return;
                }
                match step {
                    Script::Exit(code, _) => {
                        engine.exit(&mut st, &id, code);
                        return;
                    }
                    Script::Healthy(_) | Script::Unhealthy(_) => {
                        let h = if matches!(step, Script::Healthy(_)) {
                            HealthState::Healthy
                        } else {
                            HealthState::Unhealthy
                        };
                        let c = st.containers.get_mut(&id).expect("checked above");
                        // Like the daemon: an event only when the status changes.
                        if c.health != Some(h) {
                            c.health = Some(h);
                            engine.emit(&mut st, &id, EventKind::HealthStatus(h));
                            engine.bump();
                        }
                    }
                    Script::Run => {}
                }
            }
        })
        .abort_handle()
    }

    fn not_found(kind: &str, key: &str) -> EngineError {
        EngineError::NotFound {
            what: format!("{kind} {key}"),
        }
    }
}

impl Engine for FakeEngine {
    async fn info(&self) -> Result<EngineInfo> {
        self.enter("info", "").await?;
        Ok(EngineInfo {
            server_version: "fake".into(),
            api_version: self.lock().api.unwrap_or((1, 41)),
            os: "fake".into(),
            cgroup_version: "2".into(),
        })
    }

    async fn list_networks(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedNetwork>> {
        self.enter("list_networks", "").await?;
        let st = self.lock();
        let mut out: Vec<_> = st
            .networks
            .iter()
            .filter(|(_, n)| labels_match(&n.labels, labels))
            .map(|(id, n)| {
                // Like the daemon: only running containers have endpoints.
                let mut containers: Vec<String> = st
                    .containers
                    .values()
                    .filter(|c| c.state == ContainerState::Running)
                    .filter(|c| c.networks.contains_key(&n.name))
                    .map(|c| c.spec.name.clone())
                    .collect();
                containers.sort();
                ObservedNetwork {
                    id: id.clone(),
                    name: n.name.clone(),
                    labels: n.labels.clone(),
                    internal: n.internal,
                    containers,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        self.enter("create_network", &spec.name).await?;
        let mut st = self.lock();
        if st.network_id(&spec.name).is_some() {
            return Err(EngineError::Conflict {
                what: format!("create network {}", spec.name),
                message: format!("network with name {} already exists", spec.name),
            });
        }
        let id = st.new_id("n");
        st.networks.insert(id.clone(), spec.clone());
        Ok(id)
    }

    async fn remove_network(&self, id: &str) -> Result<()> {
        let subject = self.lock().network_name(id);
        self.enter("remove_network", &subject).await?;
        let mut st = self.lock();
        let Some(nid) = st.network_id(id) else {
            return Ok(());
        };
        let name = st.networks[&nid].name.clone();
        let active = st
            .containers
            .values()
            .any(|c| c.state == ContainerState::Running && c.networks.contains_key(&name));
        if active {
            // What 20.10 answers (403, not 409). Containers that are only
            // created do not hold the network: they fail at start instead.
            return Err(EngineError::Api {
                status: 403,
                message: format!(
                    "error while removing network: network {name} id {nid} has active endpoints"
                ),
            });
        }
        st.networks.remove(&nid);
        Ok(())
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        endpoint: &EndpointSpec,
    ) -> Result<()> {
        let subject = {
            let st = self.lock();
            format!(
                "{} {}",
                st.network_name(network),
                st.container_name(container)
            )
        };
        self.enter("connect_network", &subject).await?;
        let mut st = self.lock();
        let cid = st
            .container_id(container)
            .ok_or_else(|| Self::not_found("container", container))?;
        // Like 20.10: a container that is not running records the network
        // without checking it exists; start fails if it does not.
        let name = match st.network_id(network) {
            Some(nid) => st.networks[&nid].name.clone(),
            None if st.containers[&cid].state != ContainerState::Running => network.to_string(),
            None => return Err(Self::not_found("network", network)),
        };
        let c = st.containers.get_mut(&cid).expect("resolved above");
        if c.networks.contains_key(&name) {
            return Err(EngineError::Api {
                status: 403,
                message: format!(
                    "endpoint with name {} already exists in network {name}",
                    c.spec.name
                ),
            });
        }
        c.networks.insert(
            name,
            Endpoint {
                ip: String::new(),
                aliases: endpoint.aliases.clone(),
            },
        );
        Ok(())
    }

    async fn disconnect_network(&self, network: &str, container: &str, _force: bool) -> Result<()> {
        let subject = {
            let st = self.lock();
            format!(
                "{} {}",
                st.network_name(network),
                st.container_name(container)
            )
        };
        self.enter("disconnect_network", &subject).await?;
        let mut st = self.lock();
        let nid = st
            .network_id(network)
            .ok_or_else(|| Self::not_found("network", network))?;
        let name = st.networks[&nid].name.clone();
        let cid = st
            .container_id(container)
            .ok_or_else(|| Self::not_found("container", container))?;
        let c = st.containers.get_mut(&cid).expect("resolved above");
        if c.networks.remove(&name).is_none() {
            return Err(EngineError::Api {
                status: 403,
                message: format!(
                    "container {} is not connected to network {name}",
                    c.spec.name
                ),
            });
        }
        Ok(())
    }

    async fn list_volumes(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedVolume>> {
        self.enter("list_volumes", "").await?;
        let st = self.lock();
        Ok(st
            .volumes
            .values()
            .filter(|v| labels_match(&v.labels, labels))
            .map(|v| ObservedVolume {
                name: v.name.clone(),
                labels: v.labels.clone(),
            })
            .collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        self.enter("create_volume", &spec.name).await?;
        let mut st = self.lock();
        if let Some(old) = st.volumes.get(&spec.name) {
            if old.labels != spec.labels {
                return Err(EngineError::Conflict {
                    what: format!("create volume {}", spec.name),
                    message: "a volume with this name already exists with other labels".into(),
                });
            }
            return Ok(spec.name.clone());
        }
        st.volumes.insert(spec.name.clone(), spec.clone());
        Ok(spec.name.clone())
    }

    async fn remove_volume(&self, name: &str, force: bool) -> Result<()> {
        self.enter("remove_volume", name).await?;
        let mut st = self.lock();
        if !st.volumes.contains_key(name) {
            return Ok(());
        }
        let in_use = st.containers.values().any(|c| {
            c.spec
                .mounts
                .iter()
                .any(|m| m.kind == MountKind::Volume && m.source.as_deref() == Some(name))
        });
        if in_use && !force {
            return Err(EngineError::Conflict {
                what: format!("remove volume {name}"),
                message: format!("remove {name}: volume is in use"),
            });
        }
        st.volumes.remove(name);
        Ok(())
    }

    async fn list_containers(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> Result<Vec<ObservedContainer>> {
        self.enter("list_containers", "").await?;
        let st = self.lock();
        let mut out: Vec<_> = st
            .containers
            .values()
            .filter(|c| labels_match(&c.spec.labels, labels))
            .filter(|c| all || c.state == ContainerState::Running)
            .map(|c| self.observed(c))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerDetails> {
        let subject = self.lock().container_name(id);
        self.enter("inspect_container", &subject).await?;
        let st = self.lock();
        let c = st
            .container_id(id)
            .and_then(|cid| st.containers.get(&cid))
            .ok_or_else(|| Self::not_found("container", id))?;
        Ok(ContainerDetails {
            container: self.observed(c),
            health_log: Vec::new(),
            oom_killed: false,
            error: String::new(),
            finished_at: c.finished_at.clone(),
        })
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        self.enter("create_container", &spec.name).await?;
        let mut st = self.lock();
        if st.container_id(&spec.name).is_some() {
            return Err(EngineError::Conflict {
                what: format!("create container {}", spec.name),
                message: format!("the container name \"/{}\" is already in use", spec.name),
            });
        }
        if let Some(images) = &st.images
            && !images.contains(&spec.image)
        {
            return Err(Self::not_found("image", &spec.image));
        }
        // Like 20.10: networks are not checked before start.
        let mut networks = BTreeMap::new();
        for ep in &spec.networks {
            networks.insert(
                st.network_name(&ep.network),
                Endpoint {
                    ip: String::new(),
                    aliases: ep.aliases.clone(),
                },
            );
        }
        let id = st.new_id("c");
        st.containers.insert(
            id.clone(),
            FakeContainer {
                id: id.clone(),
                spec: spec.clone(),
                state: ContainerState::Created,
                exit_code: 0,
                health: None,
                started_at: None,
                finished_at: None,
                networks,
                logs: Vec::new(),
                files: BTreeMap::new(),
                tasks: Vec::new(),
                run: 0,
            },
        );
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        let subject = self.lock().container_name(id);
        self.enter("start_container", &subject).await?;
        let now = self.now_nanos();
        let mut st = self.lock();
        let cid = st
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        let name = st.containers[&cid].spec.name.clone();
        let steps = st.scripts.get(&name).cloned().unwrap_or_default();
        if let Some(missing) = st.containers[&cid]
            .networks
            .keys()
            .find(|n| st.network_id(n).is_none())
        {
            return Err(Self::not_found("network", missing));
        }
        let c = st.containers.get_mut(&cid).expect("resolved above");
        if c.state == ContainerState::Running {
            return Ok(()); // 304: already started
        }
        c.state = ContainerState::Running;
        c.exit_code = 0;
        c.started_at = Some(rfc3339(now));
        c.finished_at = None;
        c.health = has_healthcheck(&c.spec).then_some(HealthState::Starting);
        c.run += 1;
        let run = c.run;
        for (i, ep) in c.networks.values_mut().enumerate() {
            ep.ip = format!("172.30.{i}.{}", 2 + run % 250);
        }
        self.emit(&mut st, &cid, EventKind::Start);
        self.bump();
        if !steps.is_empty() {
            let task = self.run_script(cid.clone(), run, steps);
            if let Some(c) = st.containers.get_mut(&cid) {
                c.tasks.push(task);
            }
        }
        Ok(())
    }

    /// Like the real daemon, the process dies (and `die` is sent) before the
    /// call returns: the scripted latency is the cleanup after the exit.
    async fn stop_container(&self, id: &str, _timeout: Duration) -> Result<()> {
        let subject = self.lock().container_name(id);
        let latency = {
            let mut st = self.lock();
            st.calls.push(format!("stop_container {subject}"));
            let latency = st
                .latency
                .get("stop_container")
                .copied()
                .unwrap_or(st.default_latency);
            if let Some(e) = st
                .failures
                .get_mut("stop_container")
                .and_then(VecDeque::pop_front)
            {
                return Err(e);
            }
            let cid = st
                .container_id(id)
                .ok_or_else(|| Self::not_found("container", id))?;
            if st.containers[&cid].state == ContainerState::Running {
                self.exit(&mut st, &cid, 0);
            }
            latency
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        Ok(())
    }

    async fn kill_container(&self, id: &str, signal: &str) -> Result<()> {
        let subject = self.lock().container_name(id);
        self.enter("kill_container", &format!("{subject} {signal}"))
            .await?;
        let mut st = self.lock();
        let cid = st
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        if st.containers[&cid].state != ContainerState::Running {
            return Err(EngineError::Conflict {
                what: format!("kill container {subject}"),
                message: format!("Container {cid} is not running"),
            });
        }
        self.exit(&mut st, &cid, exit_code_for(signal));
        Ok(())
    }

    async fn remove_container(&self, id: &str, force: bool, _remove_volumes: bool) -> Result<()> {
        let subject = self.lock().container_name(id);
        self.enter("remove_container", &subject).await?;
        let mut st = self.lock();
        let Some(cid) = st.container_id(id) else {
            return Ok(());
        };
        if st.containers[&cid].state == ContainerState::Running {
            if !force {
                return Err(EngineError::Conflict {
                    what: format!("remove container {subject}"),
                    message: "You cannot remove a running container. Stop the container before attempting removal or force remove".into(),
                });
            }
            self.exit(&mut st, &cid, 137);
        }
        self.emit(&mut st, &cid, EventKind::Destroy);
        st.containers.remove(&cid);
        let _ = self.inner.logs.send((cid, None));
        self.bump();
        Ok(())
    }

    async fn wait_container(&self, id: &str) -> Result<i64> {
        let subject = self.lock().container_name(id);
        self.enter("wait_container", &subject).await?;
        let mut changes = self.inner.changed.subscribe();
        let cid = self
            .lock()
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        loop {
            {
                let st = self.lock();
                match st.containers.get(&cid) {
                    None => {
                        return Err(EngineError::Other(format!(
                            "wait for container {subject}: removed while waiting"
                        )));
                    }
                    Some(c)
                        if !matches!(
                            c.state,
                            ContainerState::Running | ContainerState::Restarting
                        ) =>
                    {
                        return Ok(c.exit_code);
                    }
                    Some(_) => {}
                }
            }
            if changes.changed().await.is_err() {
                return Err(EngineError::Other("fake engine dropped".into()));
            }
        }
    }

    async fn exec(
        &self,
        id: &str,
        cmd: &[String],
        _user: Option<&str>,
        _env: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput> {
        let subject = format!("{} {}", self.lock().container_name(id), cmd.join(" "));
        match tokio::time::timeout(timeout, self.enter("exec", &subject)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(EngineError::Timeout {
                    what: format!("exec in container {id}"),
                    after: timeout,
                });
            }
        }
        let mut st = self.lock();
        let cid = st
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        let name = st.containers[&cid].spec.name.clone();
        if st.containers[&cid].state != ContainerState::Running {
            return Err(EngineError::Conflict {
                what: format!("exec in container {name}"),
                message: format!("Container {cid} is not running"),
            });
        }
        Ok(st
            .exec_results
            .get_mut(&name)
            .and_then(VecDeque::pop_front)
            .unwrap_or_default())
    }

    async fn attach_container(&self, id: &str, stdin: bool) -> Result<AttachedIo> {
        self.attach_impl(id, stdin).await
    }

    async fn resize_container(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        self.resize_container_impl(id, rows, cols).await
    }

    async fn create_exec(&self, container: &str, spec: &ExecSpec) -> Result<String> {
        self.create_exec_impl(container, spec).await
    }

    async fn start_exec_attached(&self, exec: &str, tty: bool) -> Result<AttachedIo> {
        self.start_exec_attached_impl(exec, tty).await
    }

    async fn start_exec_detached(&self, exec: &str, tty: bool) -> Result<()> {
        self.start_exec_detached_impl(exec, tty).await
    }

    async fn resize_exec(&self, exec: &str, rows: u16, cols: u16) -> Result<()> {
        self.resize_exec_impl(exec, rows, cols).await
    }

    async fn inspect_exec(&self, exec: &str) -> Result<ExecStatus> {
        self.inspect_exec_impl(exec).await
    }

    fn events(
        &self,
        labels: &[(&str, &str)],
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<EngineEvent>> + Send + Unpin + use<> {
        let filter = owned_filter(labels);
        // Record, subscribe and snapshot under one lock: nothing is lost or
        // delivered twice between the replay and the live part.
        let (past, rx) = {
            let mut st = self.lock();
            st.calls.push("events".into());
            let rx = self.inner.events.subscribe();
            let past: Vec<EngineEvent> = match since {
                Some(t) => {
                    let from = nanos_of(t);
                    st.history
                        .iter()
                        .filter(|e| e.time_nano >= from)
                        .cloned()
                        .collect()
                }
                None => Vec::new(),
            };
            (past, rx)
        };
        let live = stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(e) => Some((Ok(e), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
                Err(broadcast::error::RecvError::Lagged(n)) => Some((
                    Err(EngineError::Other(format!("fake events: {n} events lost"))),
                    rx,
                )),
            }
        });
        Box::pin(
            stream::iter(past.into_iter().map(Ok))
                .chain(live)
                .filter(move |r| {
                    let keep = match r {
                        Ok(e) => labels_match(&e.labels, &borrowed(&filter)),
                        Err(_) => true,
                    };
                    futures_util::future::ready(keep)
                }),
        )
    }

    fn logs(
        &self,
        id: &str,
        follow: bool,
        tail: Option<usize>,
        timestamps: bool,
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<LogLine>> + Send + Unpin + use<> {
        let to_line = move |l: StoredLine| LogLine {
            stream: l.stream,
            text: l.text,
            timestamp: timestamps.then(|| rfc3339(l.time_nano)),
        };
        let from = since.map(nanos_of).unwrap_or(i64::MIN);
        let (past, live, cid) = {
            let mut st = self.lock();
            let subject = st.container_name(id);
            st.calls.push(format!("logs {subject}"));
            let rx = self.inner.logs.subscribe();
            match st.container_id(id).and_then(|cid| st.containers.get(&cid)) {
                None => {
                    let err: Result<LogLine> = Err(Self::not_found("container", id));
                    return stream::iter(vec![err]).boxed();
                }
                Some(c) => {
                    let mut past: Vec<StoredLine> = c
                        .logs
                        .iter()
                        .filter(|l| l.time_nano >= from)
                        .cloned()
                        .collect();
                    if let Some(n) = tail {
                        past.drain(..past.len().saturating_sub(n));
                    }
                    let live = (follow && c.state == ContainerState::Running).then_some(rx);
                    (past, live, c.id.clone())
                }
            }
        };
        let past = stream::iter(past.into_iter().map(to_line).map(Ok));
        match live {
            None => past.boxed(),
            Some(rx) => {
                let live = stream::unfold(rx, move |mut rx| {
                    let cid = cid.clone();
                    async move {
                        loop {
                            match rx.recv().await {
                                Ok((c, Some(line))) if c == cid => return Some((line, rx)),
                                Ok((c, None)) if c == cid => return None,
                                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                                Err(broadcast::error::RecvError::Closed) => return None,
                            }
                        }
                    }
                });
                past.chain(live.map(move |l| Ok(to_line(l)))).boxed()
            }
        }
    }

    async fn image_exists(&self, reference: &str) -> Result<bool> {
        self.enter("image_exists", reference).await?;
        Ok(self
            .lock()
            .images
            .as_ref()
            .is_none_or(|i| i.contains(reference)))
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        self.fake_image_id(reference).await
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        context: Vec<u8>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String> {
        self.fake_build(spec, context, output).await
    }

    async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        self.fake_tag(source, target).await
    }

    async fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        self.fake_pull(reference, platform, output).await
    }

    async fn copy_file_into(
        &self,
        container: &str,
        path_in_container: &str,
        content: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<()> {
        let subject = format!(
            "{} {path_in_container}",
            self.lock().container_name(container)
        );
        self.enter("copy_file_into", &subject).await?;
        let mut st = self.lock();
        let cid = st
            .container_id(container)
            .ok_or_else(|| Self::not_found("container", container))?;
        let c = st.containers.get_mut(&cid).expect("resolved above");
        c.files.insert(
            path_in_container.to_string(),
            FakeFile {
                content,
                mode,
                uid,
                gid,
            },
        );
        Ok(())
    }
}

mod images;
mod interactive;
mod model;
#[cfg(test)]
mod tests;
