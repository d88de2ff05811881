//! The engine layer: the one place that talks to a container engine.
//!
//! Owns: the engine-neutral `Engine` trait the executor drives, its error
//! type, and two implementations: `DockerEngine` (bollard; the only module
//! that imports bollard lives under this directory) and `FakeEngine` (in
//! memory, for executor tests). Must not: decide what to create or in which
//! order. One trait method is one engine call, plus the retries and quirk
//! handling that call needs (see `quirks.rs` and the G-numbers in
//! `docker-engine-notes.md`).

use std::future::Future;
use std::time::{Duration, SystemTime};

use futures_util::Stream;

pub mod convert;
pub mod docker;
pub mod fake;
pub mod interactive;
pub mod lines;
pub mod quirks;
pub mod swarm;
pub mod types;

pub use docker::DockerEngine;
pub use fake::{FakeEngine, Script};
pub use interactive::{AttachedIo, ExecSpec, ExecStatus, OutputChunk};
pub use types::*;

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Why an engine call failed, classified so callers can act on it
/// (exit code 4 for `Unreachable`, idempotency on `NotFound`/`Conflict`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(
        "the Docker daemon at {host} cannot be reached ({detail}); is dockerd running? try `docker info`"
    )]
    Unreachable { host: String, detail: String },
    /// `what` names the missing object ("container abc", "image web:1").
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{what}: conflict: {message}")]
    Conflict { what: String, message: String },
    #[error("Docker API error {status}: {message}")]
    Api { status: u16, message: String },
    #[error("{what}: no answer after {after:?}")]
    Timeout { what: String, after: Duration },
    #[error("I/O error: {0}")]
    Io(String),
    #[error("{0}")]
    Other(String),
}

impl EngineError {
    /// Classify an HTTP status from the daemon (G14). 304 ("already in that
    /// state") is not an error for start/stop; callers check `is_not_modified`
    /// on the status before calling this.
    pub fn from_status(status: u16, message: &str, what: &str) -> EngineError {
        let message = one_line(message);
        match status {
            404 => EngineError::NotFound {
                what: missing_object(&message).unwrap_or_else(|| {
                    if message.is_empty() {
                        what.to_string()
                    } else {
                        format!("{what} ({message})")
                    }
                }),
            },
            409 => EngineError::Conflict {
                what: what.to_string(),
                message,
            },
            _ => EngineError::Api { status, message },
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, EngineError::NotFound { .. })
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, EngineError::Conflict { .. })
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, EngineError::Unreachable { .. })
    }
}

/// The object a 404 message names: "No such image: web:1" → "image web:1",
/// "network demo_x not found" → "network demo_x".
fn missing_object(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("No such ") {
        let (kind, name) = rest.split_once(": ")?;
        return Some(format!("{kind} {name}"));
    }
    let rest = message.strip_suffix(" not found")?;
    (!rest.is_empty()).then(|| rest.to_string())
}

/// Daemon messages sometimes end with a newline or carry several lines;
/// every `EngineError` renders on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The operations the executor drives. Label filters are `(key, value)`
/// pairs that must all match; lists never filter by name because Docker's
/// name filter matches substrings (G13): callers compare names exactly.
///
/// Futures are `Send` so the executor can spawn them; streams own their
/// state (`use<Self>`) so they outlive the call that opened them.
pub trait Engine: Send + Sync {
    /// Daemon version, negotiated API version, OS, cgroup version.
    fn info(&self) -> impl Future<Output = Result<EngineInfo>> + Send;

    fn list_networks(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedNetwork>>> + Send;
    /// Returns the new network's ID. A name that already exists is a
    /// `Conflict` (the daemon before 1.44 would create a duplicate, G3).
    fn create_network(&self, spec: &NetworkSpec) -> impl Future<Output = Result<String>> + Send;
    /// A network that is already gone is not an error. A running container
    /// still attached makes it `Api { status: 403 }` ("active endpoints").
    fn remove_network(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    fn connect_network(
        &self,
        network: &str,
        container: &str,
        endpoint: &EndpointSpec,
    ) -> impl Future<Output = Result<()>> + Send;
    fn disconnect_network(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> impl Future<Output = Result<()>> + Send;

    fn list_volumes(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedVolume>>> + Send;
    /// Returns the volume's name. An existing volume with other labels is a
    /// `Conflict` (the daemon would silently return the old one).
    fn create_volume(&self, spec: &VolumeSpec) -> impl Future<Output = Result<String>> + Send;
    /// A volume that is already gone is not an error.
    fn remove_volume(&self, name: &str, force: bool) -> impl Future<Output = Result<()>> + Send;

    /// `all = false`: running containers only.
    fn list_containers(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> impl Future<Output = Result<Vec<ObservedContainer>>> + Send;
    /// Like `list_containers`, from the list alone: names, labels, state,
    /// networks and named volumes are exact; health, start time, restart
    /// count and exit code are not filled in (API 1.41's list lacks them).
    /// For `down`, which needs no more and should not inspect every container.
    fn list_containers_brief(
        &self,
        labels: &[(&str, &str)],
        all: bool,
    ) -> impl Future<Output = Result<Vec<ObservedContainer>>> + Send {
        self.list_containers(labels, all)
    }
    fn inspect_container(&self, id: &str) -> impl Future<Output = Result<ContainerDetails>> + Send;
    /// Creates the container attached to all of `spec.networks` (connecting
    /// the extra ones before returning, G4) and returns its ID. If a connect
    /// fails, the half-made container is removed and the error returned.
    /// Note: 20.10 does not check that the networks exist until start, which
    /// then fails with `NotFound` naming the network.
    fn create_container(&self, spec: &ContainerSpec)
    -> impl Future<Output = Result<String>> + Send;
    /// Already running is not an error.
    fn start_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// Stop signal, then SIGKILL after `timeout`. Already stopped is not an error.
    fn stop_container(
        &self,
        id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<()>> + Send;
    fn kill_container(&self, id: &str, signal: &str) -> impl Future<Output = Result<()>> + Send;
    /// A container that is already gone is not an error.
    fn remove_container(
        &self,
        id: &str,
        force: bool,
        remove_volumes: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Waits until the container is not running; returns its exit code
    /// (non-zero codes are data, not errors). No deadline: callers add theirs.
    fn wait_container(&self, id: &str) -> impl Future<Output = Result<i64>> + Send;
    /// Runs `cmd` in the running container and collects its output, then
    /// reports its exit code. `env` entries are "KEY=VALUE".
    fn exec(
        &self,
        id: &str,
        cmd: &[String],
        user: Option<&str>,
        env: &[String],
        timeout: Duration,
    ) -> impl Future<Output = Result<ExecOutput>> + Send;

    /// Attaches to the container's stdout and stderr (and stdin when
    /// `stdin`) from now on, without past output: attach before starting
    /// the container to see everything it writes.
    fn attach_container(
        &self,
        id: &str,
        stdin: bool,
    ) -> impl Future<Output = Result<AttachedIo>> + Send;
    /// Sets the size of the container's TTY.
    fn resize_container(
        &self,
        id: &str,
        rows: u16,
        cols: u16,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Prepares `spec` in the running container; returns the exec's ID.
    /// A container that is not running is a `Conflict`.
    fn create_exec(
        &self,
        container: &str,
        spec: &ExecSpec,
    ) -> impl Future<Output = Result<String>> + Send;
    /// Starts the exec and attaches to its streams (`tty` as created).
    fn start_exec_attached(
        &self,
        exec: &str,
        tty: bool,
    ) -> impl Future<Output = Result<AttachedIo>> + Send;
    /// Starts the exec and returns at once, leaving it running.
    fn start_exec_detached(&self, exec: &str, tty: bool)
    -> impl Future<Output = Result<()>> + Send;
    /// Sets the size of the exec's TTY.
    fn resize_exec(
        &self,
        exec: &str,
        rows: u16,
        cols: u16,
    ) -> impl Future<Output = Result<()>> + Send;
    fn inspect_exec(&self, exec: &str) -> impl Future<Output = Result<ExecStatus>> + Send;

    /// Container events (start, die, health_status, oom, destroy) of
    /// containers matching `labels`, from `since` (default: the time of this
    /// call, even if the stream is first polled later). Open it *before*
    /// starting containers so no transition is missed (G9). Health events
    /// come only on changes, never for "starting".
    fn events(
        &self,
        labels: &[(&str, &str)],
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<EngineEvent>> + Send + Unpin + use<Self>;
    /// Output lines in order. `tail`: only the last N lines; `since`:
    /// only lines after that time (second precision).
    fn logs(
        &self,
        id: &str,
        follow: bool,
        tail: Option<usize>,
        timestamps: bool,
        since: Option<SystemTime>,
    ) -> impl Stream<Item = Result<LogLine>> + Send + Unpin + use<Self>;

    fn image_exists(&self, reference: &str) -> impl Future<Output = Result<bool>> + Send;
    /// The local image's ID ("sha256:..."), `None` when it is absent.
    fn image_id(&self, reference: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Builds an image from the tar `context` with the classic builder (API
    /// `version=1`; BuildKit over the API needs a session) and tags it
    /// `spec.tag`. Each line of the builder's output goes to `output` as it
    /// arrives. Returns the image ID. A failing step is `Other` carrying the
    /// builder's message ("The command '/bin/sh -c false' returned a
    /// non-zero code: 1"). No deadline: builds take what they take.
    fn build_image(
        &self,
        spec: &BuildSpec,
        context: Vec<u8>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> impl Future<Output = Result<String>> + Send;
    /// Gives image `source` (name or ID) the extra name `target`
    /// ("repo:tag"; no tag = latest).
    fn tag_image(&self, source: &str, target: &str) -> impl Future<Output = Result<()>> + Send;
    /// Pulls `reference` (no tag = latest) through the engine; progress
    /// lines go to `output`. A registry that cannot be reached is an error
    /// carrying the engine's reason.
    fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> impl Future<Output = Result<()>> + Send;
    /// Writes one file (e.g. a secret from the environment) into a created
    /// or running container, creating missing parent directories (root, 0755).
    fn copy_file_into(
        &self,
        container: &str,
        path_in_container: &str,
        content: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> impl Future<Output = Result<()>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(
            EngineError::from_status(404, "No such container: x", "inspect container x"),
            EngineError::NotFound {
                what: "container x".into()
            }
        );
        assert_eq!(
            EngineError::from_status(404, "network demo_a not found", "connect").to_string(),
            "network demo_a not found"
        );
        assert_eq!(
            EngineError::from_status(404, "get v: no such volume", "remove volume v").to_string(),
            "remove volume v (get v: no such volume) not found"
        );
        assert!(EngineError::from_status(409, "name in use\n", "c").is_conflict());
        assert_eq!(
            EngineError::from_status(500, "boom\nmore", "c"),
            EngineError::Api {
                status: 500,
                message: "boom more".into()
            }
        );
    }

    #[test]
    fn unreachable_renders_on_one_line_with_a_hint() {
        let e = EngineError::Unreachable {
            host: "unix:///nonexistent.sock".into(),
            detail: "no such file".into(),
        };
        let s = e.to_string();
        assert!(!s.contains('\n'));
        assert!(s.contains("unix:///nonexistent.sock"));
        assert!(s.contains("docker info"));
    }
}
