//! `DockerEngine`: the `Engine` trait on bollard against a real daemon.
//!
//! Owns: the connection (DOCKER_HOST, version negotiation, G1), per-call
//! timeouts, error classification (G14) and the quirk handling single calls
//! need (G3 duplicate networks, G4 extra networks, G7 wait exit codes, G8
//! stop timeouts). Must not: decide what to create or in which order, or
//! filter anything by name (G13). Every bollard call of the crate lives
//! here, so a bollard upgrade (G12) stays local.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use bollard::query_parameters::{
    EventsOptions, KillContainerOptions, ListContainersOptions, ListNetworksOptions,
    ListVolumesOptions, LogsOptions, RemoveContainerOptions, RemoveVolumeOptions,
    StopContainerOptions, UploadToContainerOptions, WaitContainerOptions,
};
use futures_util::{Stream, StreamExt, TryStreamExt, future, stream};

use super::convert;
use super::interactive::{AttachedIo, ExecSpec, ExecStatus, OutputChunk};
use super::lines::LineSplitter;
use super::quirks::ApiVersion;
use super::types::*;
use super::{Engine, EngineError, Result, one_line};

mod images;
mod swarm;

/// Where bollard looks when DOCKER_HOST is unset.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long `connect` waits for the daemon's `/version`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default deadline of one API call (bollard's own is 120 s, G8).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// A stop may take the whole grace period; the daemon answers after it.
const STOP_SLACK: Duration = Duration::from_secs(30);
/// Inspects run this many at a time when a list needs details.
const INSPECT_PARALLELISM: usize = 8;

#[derive(Clone)]
pub struct DockerEngine {
    docker: Docker,
    host: String,
    api: ApiVersion,
    call_timeout: Duration,
}

impl std::fmt::Debug for DockerEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerEngine")
            .field("host", &self.host)
            .field("api", &self.api)
            .finish()
    }
}

/// The error and its causes on one line ("error trying to connect: No such
/// file or directory (os error 2)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    one_line(&parts.join(": "))
}

/// G14: status codes to `EngineError`; transport failures to `Unreachable`.
fn classify(host: &str, err: BollardError, what: &str) -> EngineError {
    let unreachable = |detail: String| EngineError::Unreachable {
        host: host.to_string(),
        detail,
    };
    match err {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => {
            let message = if status_code == 404 || status_code == 409 {
                message
            } else {
                format!("{what}: {message}")
            };
            EngineError::from_status(status_code, &message, what)
        }
        // bollard's own client-wide deadline (G8); ours fire first.
        BollardError::RequestTimeoutError => EngineError::Timeout {
            what: what.to_string(),
            after: Duration::from_secs(120),
        },
        BollardError::SocketNotFoundError(path) => {
            unreachable(format!("socket {path} does not exist"))
        }
        BollardError::HyperLegacyError { err } if err.is_connect() => {
            unreachable(error_chain(&err))
        }
        BollardError::IOError { err }
            if matches!(
                err.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            unreachable(error_chain(&err))
        }
        BollardError::IOError { err } => EngineError::Io(format!("{what}: {}", error_chain(&err))),
        other => EngineError::Other(format!("{what}: {}", error_chain(&other))),
    }
}

fn unix_time(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl DockerEngine {
    /// The raw container list, filtered by labels only (G13: name filters match substrings).
    async fn list_summaries(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> Result<Vec<bollard::models::ContainerSummary>> {
        let opts = ListContainersOptions {
            all,
            filters: Some(convert::label_filters(labels)),
            ..Default::default()
        };
        self.call("list containers", self.docker.list_containers(Some(opts)))
            .await
    }

    /// Connects where DOCKER_HOST points (unix:// or tcp://), else to the
    /// default socket, and negotiates the API version (G1).
    pub async fn connect() -> Result<Self> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        Self::connect_to(&host).await
    }

    /// Like `connect`, for an explicit host ("unix:///path", "tcp://h:p").
    pub async fn connect_to(host: &str) -> Result<Self> {
        let unreachable = |detail: String| EngineError::Unreachable {
            host: host.to_string(),
            detail,
        };
        // `connect_with_host` is what `connect_with_defaults` calls with
        // DOCKER_HOST; both leave the API version unpinned (G1).
        let docker = Docker::connect_with_host(host).map_err(|e| match e {
            BollardError::SocketNotFoundError(p) => {
                unreachable(format!("socket {p} does not exist"))
            }
            other => unreachable(error_chain(&other)),
        })?;
        // `negotiate_version` is one `GET /version`: it doubles as the
        // reachability check. It only ever lowers the client's version.
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                return Err(match classify(host, e, "connect") {
                    u @ EngineError::Unreachable { .. } => u,
                    other => unreachable(other.to_string()),
                });
            }
            Err(_) => return Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
        };
        let v = docker.client_version();
        Ok(DockerEngine {
            api: (v.major_version as u32, v.minor_version as u32),
            docker,
            host: host.to_string(),
            call_timeout: CALL_TIMEOUT,
        })
    }

    /// The negotiated API version (see `quirks.rs`).
    pub fn api_version(&self) -> ApiVersion {
        self.api
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Deadline of each non-streaming call (default `CALL_TIMEOUT`).
    pub fn with_call_timeout(mut self, after: Duration) -> Self {
        self.call_timeout = after;
        self
    }

    fn classify(&self, err: BollardError, what: &str) -> EngineError {
        classify(&self.host, err, what)
    }

    async fn call<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, BollardError>>,
    ) -> Result<T> {
        self.call_within(what, self.call_timeout, fut).await
    }

    async fn call_within<T>(
        &self,
        what: &str,
        after: Duration,
        fut: impl Future<Output = Result<T, BollardError>>,
    ) -> Result<T> {
        match tokio::time::timeout(after, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(e, what)),
            Err(_) => Err(EngineError::Timeout {
                what: what.to_string(),
                after,
            }),
        }
    }

    async fn inspect_network_opt(&self, id: String) -> Result<Option<ObservedNetwork>> {
        let what = format!("inspect network {id}");
        match self
            .call(&what, self.docker.inspect_network(&id, None))
            .await
        {
            Ok(n) => Ok(Some(convert::observed_network(n))),
            // Removed between the list and the inspect.
            Err(EngineError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn inspect_container_opt(&self, id: String) -> Result<Option<ContainerDetails>> {
        match self.inspect_container(&id).await {
            Ok(d) => Ok(Some(d)),
            Err(EngineError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// 304 means "already in that state" (G14); bollard 0.21.1 already maps it
/// to `Ok`, the next release returns it as data (G12).
fn already(r: Result<()>) -> Result<()> {
    match r {
        Err(EngineError::Api { status: 304, .. }) => Ok(()),
        other => other,
    }
}

/// Deletes are idempotent: gone already is what the caller wanted.
fn gone_is_ok(r: Result<()>) -> Result<()> {
    match r {
        Err(EngineError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

impl Engine for DockerEngine {
    async fn info(&self) -> Result<EngineInfo> {
        let i = self.call("info", self.docker.info()).await?;
        Ok(EngineInfo {
            server_version: i.server_version.unwrap_or_default(),
            api_version: self.api,
            os: i.operating_system.unwrap_or_default(),
            cgroup_version: i.cgroup_version.map(|v| v.to_string()).unwrap_or_default(),
        })
    }

    async fn list_networks(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedNetwork>> {
        let opts = ListNetworksOptions {
            filters: Some(convert::label_filters(labels)),
        };
        let list = self
            .call("list networks", self.docker.list_networks(Some(opts)))
            .await?;
        // The list endpoint leaves `Containers` empty: inspect each one.
        let ids: Vec<String> = list.into_iter().filter_map(|n| n.id).collect();
        let found: Vec<Option<ObservedNetwork>> = stream::iter(ids)
            .map(|id| self.inspect_network_opt(id))
            .buffered(INSPECT_PARALLELISM)
            .try_collect()
            .await?;
        let mut out: Vec<_> = found.into_iter().flatten().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        let what = format!("create network {}", spec.name);
        let resp = self
            .call(
                &what,
                self.docker.create_network(convert::network_create(spec)),
            )
            .await?;
        if resp.warning.contains("already exists") {
            // G3: before API 1.44 the daemon creates a second network with
            // the same name and only warns. Undo it by ID (the name is now
            // ambiguous) so the name keeps meaning one network.
            if let Err(e) = self.call(&what, self.docker.remove_network(&resp.id)).await {
                tracing::warn!("{what}: could not remove the duplicate {}: {e}", resp.id);
            }
            return Err(EngineError::Conflict {
                what,
                message: one_line(&resp.warning),
            });
        }
        if !resp.warning.is_empty() {
            tracing::warn!("{what}: {}", resp.warning);
        }
        Ok(resp.id)
    }

    async fn remove_network(&self, id: &str) -> Result<()> {
        let what = format!("remove network {id}");
        gone_is_ok(self.call(&what, self.docker.remove_network(id)).await)
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        endpoint: &EndpointSpec,
    ) -> Result<()> {
        let what = format!("connect {container} to network {network}");
        let req = bollard::models::NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(convert::endpoint_settings(endpoint)),
        };
        self.call(&what, self.docker.connect_network(network, req))
            .await
    }

    async fn disconnect_network(&self, network: &str, container: &str, force: bool) -> Result<()> {
        let what = format!("disconnect {container} from network {network}");
        let req = bollard::models::NetworkDisconnectRequest {
            container: container.to_string(),
            force: Some(force),
        };
        self.call(&what, self.docker.disconnect_network(network, req))
            .await
    }

    async fn list_volumes(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedVolume>> {
        let opts = ListVolumesOptions {
            filters: Some(convert::label_filters(labels)),
        };
        let resp = self
            .call("list volumes", self.docker.list_volumes(Some(opts)))
            .await?;
        let mut out: Vec<_> = resp
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(convert::observed_volume)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        let what = format!("create volume {}", spec.name);
        let v = self
            .call(
                &what,
                self.docker.create_volume(convert::volume_create(spec)),
            )
            .await?;
        // Creating an existing volume returns the old one, labels and all,
        // without a word: a different label set means someone else's volume.
        let want: HashMap<String, String> = spec.labels.clone().into_iter().collect();
        if v.labels != want {
            return Err(EngineError::Conflict {
                what,
                message: "a volume with this name already exists with other labels".into(),
            });
        }
        Ok(v.name)
    }

    async fn remove_volume(&self, name: &str, force: bool) -> Result<()> {
        let what = format!("remove volume {name}");
        let opts = RemoveVolumeOptions { force };
        gone_is_ok(
            self.call(&what, self.docker.remove_volume(name, Some(opts)))
                .await,
        )
    }

    async fn list_containers(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> Result<Vec<ObservedContainer>> {
        let list = self.list_summaries(labels, all).await?;
        // On API 1.41 the list has no health, start time, restart count or
        // exit code (only prose like "Up 3 seconds (healthy)"): inspect.
        let ids: Vec<String> = list.into_iter().filter_map(|c| c.id).collect();
        let found: Vec<Option<ContainerDetails>> = stream::iter(ids)
            .map(|id| self.inspect_container_opt(id))
            .buffered(INSPECT_PARALLELISM)
            .try_collect()
            .await?;
        let mut out: Vec<_> = found.into_iter().flatten().map(|d| d.container).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn list_containers_brief(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> Result<Vec<ObservedContainer>> {
        let list = self.list_summaries(labels, all).await?;
        let mut out: Vec<_> = list.into_iter().map(convert::container_summary).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerDetails> {
        let what = format!("inspect container {id}");
        let c = self
            .call(&what, self.docker.inspect_container(id, None))
            .await?;
        Ok(convert::container_details(c))
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        let what = format!("create container {}", spec.name);
        let body = convert::container_create(spec, self.api)?;
        let resp = self
            .call(
                &what,
                self.docker
                    .create_container(Some(convert::create_options(spec)), body),
            )
            .await?;
        for w in &resp.warnings {
            tracing::warn!("{what}: {w}");
        }
        // G4: before API 1.44 only one network can be given at create time;
        // join the others now, before anyone starts the container.
        for ep in convert::networks_after_create(spec, self.api) {
            if let Err(e) = self.connect_network(&ep.network, &resp.id, ep).await {
                if let Err(cleanup) = self.remove_container(&resp.id, true, true).await {
                    tracing::warn!("{what}: could not remove the half-made container: {cleanup}");
                }
                return Err(e);
            }
        }
        Ok(resp.id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        let what = format!("start container {id}");
        already(
            self.call(&what, self.docker.start_container(id, None))
                .await,
        )
    }

    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<()> {
        let what = format!("stop container {id}");
        let secs = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let opts = StopContainerOptions {
            t: Some(secs),
            // G2: the `signal` query needs API 1.42 (quirks::stop_signal_query);
            // the container's own StopSignal applies on every version.
            signal: None,
        };
        // G8: the daemon answers only after the grace period, so both our
        // deadline and bollard's client-wide one must outlast it.
        let after = timeout + STOP_SLACK;
        let docker = self.docker.clone().with_timeout(after + STOP_SLACK);
        already(
            self.call_within(&what, after, docker.stop_container(id, Some(opts)))
                .await,
        )
    }

    async fn kill_container(&self, id: &str, signal: &str) -> Result<()> {
        let what = format!("kill container {id}");
        let opts = KillContainerOptions {
            signal: signal.to_string(),
        };
        self.call(&what, self.docker.kill_container(id, Some(opts)))
            .await
    }

    async fn remove_container(&self, id: &str, force: bool, remove_volumes: bool) -> Result<()> {
        let what = format!("remove container {id}");
        let opts = RemoveContainerOptions {
            v: remove_volumes,
            force,
            link: false,
        };
        gone_is_ok(
            self.call(&what, self.docker.remove_container(id, Some(opts)))
                .await,
        )
    }

    async fn wait_container(&self, id: &str) -> Result<i64> {
        let what = format!("wait for container {id}");
        // No deadline here: waiting is the caller's policy. The daemon sends
        // the response headers at once, so bollard's timeout does not apply.
        let mut s = self.docker.wait_container(id, None::<WaitContainerOptions>);
        match s.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            // G7: bollard reports a non-zero exit as an error; it is data.
            Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(self.classify(e, &what)),
            None => Err(EngineError::Other(format!(
                "{what}: the daemon closed the stream without an exit code"
            ))),
        }
    }

    async fn exec(
        &self,
        id: &str,
        cmd: &[String],
        user: Option<&str>,
        env: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput> {
        let what = format!("exec in container {id}");
        let config = ExecConfig {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(cmd.to_vec()),
            user: user.map(String::from),
            env: (!env.is_empty()).then(|| env.to_vec()),
            ..Default::default()
        };
        let docker = &self.docker;
        let run = async move {
            let created = docker.create_exec(id, config).await?;
            let mut output = Vec::new();
            if let StartExecResults::Attached {
                output: mut out, ..
            } = docker.start_exec(&created.id, None).await?
            {
                while let Some(chunk) = out.next().await {
                    output.extend_from_slice(&chunk?.into_bytes());
                }
            }
            // The output ends when the process exits, but inspect can still
            // say "running" for a moment: ask until it has an exit code.
            loop {
                let i = docker.inspect_exec(&created.id).await?;
                if i.running != Some(true) {
                    return Ok(ExecOutput {
                        exit_code: i.exit_code.unwrap_or(-1),
                        output: String::from_utf8_lossy(&output).into_owned(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        // On timeout the process keeps running: the API cannot kill an exec.
        self.call_within(&what, timeout, run).await
    }

    async fn attach_container(&self, id: &str, stdin: bool) -> Result<AttachedIo> {
        let what = format!("attach to container {id}");
        let opts = bollard::query_parameters::AttachContainerOptions {
            stream: true,
            stdin,
            stdout: true,
            stderr: true,
            logs: false,
            detach_keys: None,
        };
        // The deadline covers the upgrade handshake only; the streams then
        // live as long as the container runs.
        let r = self
            .call(&what, self.docker.attach_container(id, Some(opts)))
            .await?;
        Ok(attached_io(&self.host, &what, r.output, r.input))
    }

    async fn resize_container(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        let what = format!("resize the TTY of container {id}");
        let opts = bollard::query_parameters::ResizeContainerTTYOptions {
            h: i32::from(rows),
            w: i32::from(cols),
        };
        self.call(&what, self.docker.resize_container_tty(id, opts))
            .await
    }

    async fn create_exec(&self, container: &str, spec: &ExecSpec) -> Result<String> {
        let what = format!("exec in container {container}");
        let config = ExecConfig {
            attach_stdin: Some(spec.stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(spec.tty),
            cmd: Some(spec.cmd.clone()),
            env: (!spec.env.is_empty()).then(|| spec.env.clone()),
            user: spec.user.clone(),
            working_dir: spec.working_dir.clone(),
            privileged: Some(spec.privileged),
            ..Default::default()
        };
        Ok(self
            .call(&what, self.docker.create_exec(container, config))
            .await?
            .id)
    }

    async fn start_exec_attached(&self, exec: &str, tty: bool) -> Result<AttachedIo> {
        let what = format!("start exec {exec}");
        let opts = bollard::exec::StartExecOptions {
            detach: false,
            tty,
            output_capacity: None,
        };
        match self
            .call(&what, self.docker.start_exec(exec, Some(opts)))
            .await?
        {
            StartExecResults::Attached { output, input } => {
                Ok(attached_io(&self.host, &what, output, input))
            }
            StartExecResults::Detached => Err(EngineError::Other(format!(
                "{what}: the daemon did not attach the streams"
            ))),
        }
    }

    async fn start_exec_detached(&self, exec: &str, tty: bool) -> Result<()> {
        let what = format!("start exec {exec}");
        let opts = bollard::exec::StartExecOptions {
            detach: true,
            tty,
            output_capacity: None,
        };
        self.call(&what, self.docker.start_exec(exec, Some(opts)))
            .await
            .map(|_| ())
    }

    async fn resize_exec(&self, exec: &str, rows: u16, cols: u16) -> Result<()> {
        let what = format!("resize the TTY of exec {exec}");
        let opts = bollard::query_parameters::ResizeExecOptions {
            h: i32::from(rows),
            w: i32::from(cols),
        };
        self.call(&what, self.docker.resize_exec(exec, opts)).await
    }

    async fn inspect_exec(&self, exec: &str) -> Result<ExecStatus> {
        let what = format!("inspect exec {exec}");
        let i = self.call(&what, self.docker.inspect_exec(exec)).await?;
        Ok(ExecStatus {
            running: i.running == Some(true),
            exit_code: i.exit_code,
        })
    }

    fn events(
        &self,
        labels: &[(&str, &str)],
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<EngineEvent>> + Send + Unpin + use<> {
        let mut filters = convert::label_filters(labels);
        filters.insert("type".into(), vec!["container".into()]);
        // The daemon matches `health_status` against "health_status: healthy"
        // and "health_status: unhealthy" (G9).
        filters.insert(
            "event".into(),
            ["start", "die", "health_status", "oom", "destroy"]
                .map(String::from)
                .to_vec(),
        );
        // bollard sends the request only when the stream is first polled,
        // which may be after the caller has started containers: pin the
        // subscription to the time of this call, and the daemon replays
        // what happened in between (measured: without this the start
        // event of a container started right after `events()` was lost).
        let since = since.unwrap_or_else(SystemTime::now);
        let d = unix_time(since);
        let opts = EventsOptions {
            since: Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos())),
            until: None,
            filters: Some(filters),
        };
        let host = self.host.clone();
        let events = self.docker.events(Some(opts)).filter_map(move |r| {
            future::ready(match r {
                Ok(m) => convert::engine_event(m).map(Ok),
                Err(e) => Some(Err(classify(&host, e, "events"))),
            })
        });
        Box::pin(events)
    }

    fn logs(
        &self,
        id: &str,
        follow: bool,
        tail: Option<usize>,
        timestamps: bool,
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<LogLine>> + Send + Unpin + use<> {
        let opts = LogsOptions {
            follow,
            stdout: true,
            stderr: true,
            since: since
                .map(|t| i32::try_from(unix_time(t).as_secs()).unwrap_or(i32::MAX))
                .unwrap_or(0),
            until: 0,
            timestamps,
            tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
        };
        let what = format!("logs of container {id}");
        let host = self.host.clone();
        let frames = Box::pin(self.docker.logs(id, Some(opts)));
        struct State<S> {
            frames: S,
            lines: LineSplitter,
            ready: VecDeque<Result<LogLine>>,
            done: bool,
        }
        let state = State {
            frames,
            lines: LineSplitter::new(timestamps),
            ready: VecDeque::new(),
            done: false,
        };
        Box::pin(stream::unfold(state, move |mut st| {
            let what = what.clone();
            let host = host.clone();
            async move {
                loop {
                    if let Some(item) = st.ready.pop_front() {
                        return Some((item, st));
                    }
                    if st.done {
                        return None;
                    }
                    match st.frames.next().await {
                        Some(Ok(frame)) => {
                            let (kind, bytes) = match frame {
                                LogOutput::StdOut { message } => (LogStream::Stdout, message),
                                LogOutput::StdErr { message } => (LogStream::Stderr, message),
                                LogOutput::Console { message } => (LogStream::Console, message),
                                LogOutput::StdIn { .. } => continue,
                            };
                            st.ready
                                .extend(st.lines.push(kind, &bytes).into_iter().map(Ok));
                        }
                        Some(Err(e)) => {
                            st.ready.extend(st.lines.finish().into_iter().map(Ok));
                            st.ready.push_back(Err(classify(&host, e, &what)));
                            st.done = true;
                        }
                        None => {
                            st.ready.extend(st.lines.finish().into_iter().map(Ok));
                            st.done = true;
                        }
                    }
                }
            }
        }))
    }

    async fn image_exists(&self, reference: &str) -> Result<bool> {
        let what = format!("inspect image {reference}");
        match self.call(&what, self.docker.inspect_image(reference)).await {
            Ok(_) => Ok(true),
            Err(EngineError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        let what = format!("inspect image {reference}");
        match self.call(&what, self.docker.inspect_image(reference)).await {
            Ok(i) => Ok(i.id),
            Err(EngineError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        context: Vec<u8>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String> {
        self.build(spec, context, output).await
    }

    async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        self.tag(source, target).await
    }

    async fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        self.pull(reference, platform, output).await
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
        let what = format!("copy {path_in_container} into container {container}");
        let tar = file_tar(path_in_container, &content, mode, uid, gid)
            .map_err(|e| EngineError::Other(format!("{what}: {e}")))?;
        // Extracted at "/": the daemon creates missing parent directories
        // (root, 0755) and applies the entry's mode and owner.
        let opts = UploadToContainerOptions {
            path: "/".into(),
            ..Default::default()
        };
        self.call(
            &what,
            self.docker
                .upload_to_container(container, Some(opts), bollard::body_full(tar.into())),
        )
        .await
    }
}

type BollardOutput =
    std::pin::Pin<Box<dyn Stream<Item = std::result::Result<LogOutput, BollardError>> + Send>>;

/// bollard's hijacked streams as engine-neutral ones. Echoed stdin frames
/// (only sent for TTY-less attaches with `logs`) are dropped.
fn attached_io(
    host: &str,
    what: &str,
    output: BollardOutput,
    input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
) -> AttachedIo {
    let host = host.to_string();
    let what = what.to_string();
    let output = output.filter_map(move |r| {
        future::ready(match r {
            Ok(LogOutput::StdOut { message }) => Some(Ok(OutputChunk {
                stream: LogStream::Stdout,
                bytes: message,
            })),
            Ok(LogOutput::StdErr { message }) => Some(Ok(OutputChunk {
                stream: LogStream::Stderr,
                bytes: message,
            })),
            Ok(LogOutput::Console { message }) => Some(Ok(OutputChunk {
                stream: LogStream::Console,
                bytes: message,
            })),
            Ok(LogOutput::StdIn { .. }) => None,
            Err(e) => Some(Err(classify(&host, e, &what))),
        })
    });
    AttachedIo {
        output: Box::pin(output),
        input,
    }
}

/// A tar holding one regular file at `path` (absolute, no `..`).
fn file_tar(path: &str, content: &[u8], mode: u32, uid: u32, gid: u32) -> Result<Vec<u8>, String> {
    let rel = path
        .strip_prefix('/')
        .ok_or_else(|| format!("{path:?} is not an absolute path"))?;
    if rel.is_empty() || rel.ends_with('/') || rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(format!("{path:?} is not a plain file path"));
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_path(rel).map_err(|e| e.to_string())?;
    header.set_size(content.len() as u64);
    header.set_mode(mode);
    header.set_uid(u64::from(uid));
    header.set_gid(u64::from(gid));
    header.set_mtime(unix_time(SystemTime::now()).as_secs());
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append(&header, content)
        .map_err(|e| e.to_string())?;
    builder.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_tar_holds_one_entry_with_mode_and_owner() {
        let bytes = file_tar("/run/secrets/token", b"s3cret", 0o400, 1000, 1001).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entries = archive.entries().unwrap();
        let e = entries.next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some("run/secrets/token"));
        assert_eq!(e.header().mode().unwrap(), 0o400);
        assert_eq!(e.header().uid().unwrap(), 1000);
        assert_eq!(e.header().gid().unwrap(), 1001);
        assert_eq!(e.header().size().unwrap(), 6);
        assert!(entries.next().is_none());
    }

    #[test]
    fn file_tar_refuses_odd_paths() {
        for p in ["relative", "/", "/a/../b", "/dir/", "/a//b"] {
            assert!(file_tar(p, b"", 0o644, 0, 0).is_err(), "{p}");
        }
    }

    #[test]
    fn transport_errors_are_unreachable() {
        let e = classify(
            "unix:///x.sock",
            BollardError::SocketNotFoundError("/x.sock".into()),
            "ping",
        );
        assert!(e.is_unreachable());
        let e = classify(
            "h",
            BollardError::IOError {
                err: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            },
            "ping",
        );
        assert!(e.is_unreachable());
        let e = classify(
            "h",
            BollardError::DockerResponseServerError {
                status_code: 404,
                message: "No such container: abc".into(),
            },
            "inspect container abc",
        );
        assert!(e.is_not_found());
    }
}
