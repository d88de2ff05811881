//! Engine-neutral data: what callers ask the engine to create (`*Spec`) and
//! what the engine reports back (`Observed*`, events, log lines).
//!
//! Owns: plain data only. Must not: import bollard, talk to Docker, or decide
//! anything (names, labels and aliases arrive here already decided by the
//! planner). Durations are `std::time::Duration`; conversion to the API's
//! units (nanoseconds, seconds) happens in `convert.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

/// What the daemon says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// e.g. "20.10.24+dfsg1".
    pub server_version: String,
    /// The API version the client *negotiated* (never higher than the
    /// daemon's): gate features on this, see `quirks.rs`.
    pub api_version: (u32, u32),
    /// e.g. "Debian GNU/Linux 12 (bookworm)".
    pub os: String,
    /// "1" or "2" (empty when the daemon does not say).
    pub cgroup_version: String,
}

/// One address pool of a network's IPAM configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpamPool {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    /// Auxiliary addresses: host name → address.
    pub aux: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    /// `None` = the daemon's default ("bridge").
    pub driver: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: Option<bool>,
    pub driver_opts: BTreeMap<String, String>,
    pub ipam_driver: Option<String>,
    pub ipam: Vec<IpamPool>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    pub name: String,
    /// `None` = "local".
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A container health check. `test: ["NONE"]` disables the image's check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthSpec {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    /// Needs API 1.44 (`quirks::start_interval`); older daemons would ignore it.
    pub start_interval: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
}

/// One entry of a service's `volumes:` (long syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub kind: MountKind,
    /// Host path (bind), volume name (volume; `None` = anonymous), unused for tmpfs.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    /// "private", "rprivate", "shared", "rshared", "slave", "rslave".
    pub bind_propagation: Option<String>,
    /// Compose's default for short-syntax binds: create a missing host path.
    pub bind_create_host_path: bool,
    pub volume_nocopy: bool,
    /// Needs API 1.45 (`quirks::volume_subpath`).
    pub volume_subpath: Option<String>,
    pub tmpfs_size: Option<i64>,
    pub tmpfs_mode: Option<u32>,
}

impl MountSpec {
    pub fn new(kind: MountKind, source: Option<&str>, target: &str) -> Self {
        MountSpec {
            kind,
            source: source.map(String::from),
            target: target.to_string(),
            read_only: false,
            bind_propagation: None,
            bind_create_host_path: false,
            volume_nocopy: false,
            volume_subpath: None,
            tmpfs_size: None,
            tmpfs_mode: None,
        }
    }
}

/// Restart policy (`restart:` or `deploy.restart_policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    UnlessStopped,
    OnFailure {
        max_retries: Option<u32>,
    },
}

/// A container port with its protocol ("tcp", "udp", "sctp").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    pub port: u16,
    pub protocol: String,
}

impl PortKey {
    pub fn tcp(port: u16) -> Self {
        PortKey {
            port,
            protocol: "tcp".into(),
        }
    }
}

/// Where a container port is published on the host. Empty strings mean
/// "all interfaces" / "an ephemeral port".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostBinding {
    pub host_ip: String,
    /// A port or a range ("8000-8010"), empty for an ephemeral port.
    pub host_port: String,
}

/// A container's attachment to one network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The network's name (or ID).
    pub network: String,
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceSpec {
    pub host_path: String,
    pub container_path: String,
    /// e.g. "rwm".
    pub permissions: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Everything the engine needs to create one container of a Compose service.
/// Fields left at their default are not sent, so the image's values apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// Replaces the image's CMD. Measured on 20.10: `Some(vec![])` clears
    /// it only when `entrypoint` is also given; alone, the daemon keeps the
    /// image's CMD.
    pub command: Option<Vec<String>>,
    /// Replaces the image's ENTRYPOINT; `Some(vec![])` clears it.
    pub entrypoint: Option<Vec<String>>,
    /// "KEY=VALUE".
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub tty: bool,
    pub stdin_open: bool,
    /// Made for an attached client (`docker run -i`): the daemon closes the
    /// process's stdin when that client's stdin ends, and the container is
    /// marked attached to stdin, stdout and stderr as the docker CLI does.
    pub stdin_once: bool,
    /// The daemon removes the container (and its anonymous volumes) once it
    /// exits (`run -d --rm`).
    pub auto_remove: bool,
    pub stop_signal: Option<String>,
    /// Seconds the daemon waits after the stop signal before SIGKILL.
    pub stop_timeout: Option<u32>,
    pub healthcheck: Option<HealthSpec>,
    /// Ports exposed without publishing. Every key of `port_bindings` is
    /// exposed too (G5), whether or not it is listed here.
    pub exposed_ports: Vec<PortKey>,
    pub port_bindings: BTreeMap<PortKey, Vec<HostBinding>>,
    pub mounts: Vec<MountSpec>,
    /// Container path → mount options (`tmpfs:` short syntax).
    pub tmpfs: BTreeMap<String, String>,
    pub volumes_from: Vec<String>,
    pub restart: Option<RestartPolicy>,
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memswap: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset: Option<String>,
    pub pids_limit: Option<i64>,
    pub shm_size: Option<i64>,
    pub read_only: bool,
    pub privileged: bool,
    pub init: Option<bool>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    /// "host", "none", "container:<id>", or the primary network's name.
    /// `None` with networks = the first network's name.
    pub network_mode: Option<String>,
    /// Every network to join, primary first. Before API 1.44 only the first
    /// can be given at create time; the engine connects the rest (G4).
    pub networks: Vec<EndpointSpec>,
    /// "host:ip".
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub ulimits: Vec<Ulimit>,
    pub sysctls: BTreeMap<String, String>,
    pub log_driver: Option<String>,
    pub log_opts: BTreeMap<String, String>,
    pub devices: Vec<DeviceSpec>,
    pub group_add: Vec<String>,
    pub ipc: Option<String>,
    pub pid: Option<String>,
    pub userns_mode: Option<String>,
    pub oom_score_adj: Option<i64>,
    pub cgroup_parent: Option<String>,
    /// e.g. "linux/amd64" (a query parameter of the create call).
    pub platform: Option<String>,
}

// ----- observed state -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedNetwork {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub internal: bool,
    /// Names of the attached *running* containers, sorted. The daemon
    /// creates endpoints at start: a created container is not listed, and
    /// does not keep the network from being removed (it then fails to start).
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedVolume {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthState {
    Starting,
    Healthy,
    Unhealthy,
}

/// A container's address on one network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// IPv4 address ("" while the container is not running).
    pub ip: String,
    pub aliases: Vec<String>,
}

/// A published port as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PublishedPort {
    pub container_port: u16,
    pub protocol: String,
    pub host_ip: String,
    pub host_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedContainer {
    pub id: String,
    /// Without Docker's leading '/'.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The image as requested at create time (e.g. "redis:7").
    pub image: String,
    /// The image ID the container runs ("sha256:...").
    pub image_id: String,
    pub state: ContainerState,
    /// Meaningful once the container has exited.
    pub exit_code: i64,
    /// `None` = no health check.
    pub health: Option<HealthState>,
    /// RFC 3339; `None` if never started.
    pub started_at: Option<String>,
    pub restart_count: i64,
    /// Network name → endpoint.
    pub networks: BTreeMap<String, Endpoint>,
    /// Sorted.
    pub ports: Vec<PublishedPort>,
    /// Names of the named volumes it mounts, sorted.
    pub volumes: Vec<String>,
}

/// One health probe result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthProbe {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

/// `inspect`: the observed state plus what only inspect reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDetails {
    pub container: ObservedContainer,
    /// Oldest first (the daemon keeps the last five).
    pub health_log: Vec<HealthProbe>,
    pub oom_killed: bool,
    /// The daemon's error for a failed start ("" if none).
    pub error: String,
    /// RFC 3339; `None` if it never finished.
    pub finished_at: Option<String>,
}

// ----- streams -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Start,
    Die {
        exit_code: i64,
    },
    HealthStatus(HealthState),
    Oom,
    Destroy,
    /// Any other action, verbatim.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineEvent {
    pub kind: EventKind,
    pub container_id: String,
    pub container_name: String,
    /// The container's labels.
    pub labels: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch, as the daemon stamps it.
    pub time_nano: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStream {
    Stdout,
    Stderr,
    /// TTY containers: output is not multiplexed.
    Console,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: LogStream,
    /// One line, without its trailing newline (or "\r\n").
    pub text: String,
    /// The daemon's RFC 3339 timestamp, when asked for.
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i64,
    /// stdout and stderr, interleaved as produced.
    pub output: String,
}

// ----- images -----

/// One image build with the classic builder. Empty fields are not sent, so
/// the Dockerfile's own defaults apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSpec {
    /// The name the built image gets ("web:1", "demo-web"; no tag = latest).
    pub tag: String,
    /// The Dockerfile's path inside the context tar.
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// The stage to build.
    pub target: Option<String>,
    /// Network of the RUN steps ("host", "none", a network name).
    pub network: Option<String>,
    pub no_cache: bool,
    /// Pull newer versions of the base images first.
    pub pull: bool,
    pub cache_from: Vec<String>,
    /// "host:ip"; the API takes several, bollard's query at most one.
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    /// e.g. "linux/amd64".
    pub platform: Option<String>,
}
