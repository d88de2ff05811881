//! Pure conversions between the engine-neutral types and bollard's models:
//! specs → request bodies, inspect/list/event responses → observed types,
//! and raw log frames → lines.
//!
//! Owns: field mapping and the API quirks that live in a body (G4 first
//! network only, G5 exposed ports, G10 nanoseconds). Must not: perform I/O
//! or decide anything beyond the shape of one request.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, DeviceMapping,
    EndpointIpamConfig, EndpointSettings, EventMessage, HealthConfig, HealthStatusEnum, HostConfig,
    HostConfigLogConfig, Ipam, IpamConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType, MountVolumeOptions,
    NetworkCreateRequest, NetworkInspect, NetworkingConfig, PortBinding, PortMap, ResourcesUlimits,
    RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::CreateContainerOptions;

use super::quirks::{self, ApiVersion};
use super::types::*;
use super::{EngineError, Result};

fn nanos(d: Duration) -> i64 {
    // G10: the API takes durations in nanoseconds.
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn hash_map(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn some_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| hash_map(m))
}

fn some_vec(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn btree(m: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    m.unwrap_or_default().into_iter().collect()
}

/// `(key, value)` label pairs → the daemon's `filters` query parameter.
pub fn label_filters(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let mut filters = HashMap::new();
    if !labels.is_empty() {
        filters.insert(
            "label".to_string(),
            labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        );
    }
    filters
}

fn port_key(p: &PortKey) -> String {
    format!("{}/{}", p.port, p.protocol)
}

// ----- requests -----

pub fn network_create(spec: &NetworkSpec) -> NetworkCreateRequest {
    let ipam = if spec.ipam_driver.is_some() || !spec.ipam.is_empty() {
        Some(Ipam {
            driver: spec.ipam_driver.clone(),
            config: Some(
                spec.ipam
                    .iter()
                    .map(|p| IpamConfig {
                        subnet: p.subnet.clone(),
                        ip_range: p.ip_range.clone(),
                        gateway: p.gateway.clone(),
                        auxiliary_addresses: some_map(&p.aux),
                    })
                    .collect(),
            ),
            options: None,
        })
    } else {
        None
    };
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: spec.driver.clone(),
        internal: Some(spec.internal),
        attachable: Some(spec.attachable),
        enable_ipv6: spec.enable_ipv6,
        options: some_map(&spec.driver_opts),
        ipam,
        labels: some_map(&spec.labels),
        ..Default::default()
    }
}

pub fn volume_create(spec: &VolumeSpec) -> VolumeCreateRequest {
    VolumeCreateRequest {
        name: Some(spec.name.clone()),
        driver: spec.driver.clone(),
        driver_opts: some_map(&spec.driver_opts),
        labels: some_map(&spec.labels),
        ..Default::default()
    }
}

pub fn endpoint_settings(ep: &EndpointSpec) -> EndpointSettings {
    let ipam_config =
        (ep.ipv4_address.is_some() || ep.ipv6_address.is_some()).then(|| EndpointIpamConfig {
            ipv4_address: ep.ipv4_address.clone(),
            ipv6_address: ep.ipv6_address.clone(),
            link_local_ips: None,
        });
    EndpointSettings {
        aliases: some_vec(&ep.aliases),
        ipam_config,
        ..Default::default()
    }
}

/// The networks given at create time: all of them from API 1.44, only the
/// primary one before (G4). The rest must be connected before start.
pub fn networks_at_create(spec: &ContainerSpec, api: ApiVersion) -> &[EndpointSpec] {
    if quirks::multi_network_create(api) {
        &spec.networks
    } else {
        &spec.networks[..spec.networks.len().min(1)]
    }
}

/// The networks to `connect` after create (empty from API 1.44).
pub fn networks_after_create(spec: &ContainerSpec, api: ApiVersion) -> &[EndpointSpec] {
    &spec.networks[networks_at_create(spec, api).len()..]
}

pub fn create_options(spec: &ContainerSpec) -> CreateContainerOptions {
    CreateContainerOptions {
        name: Some(spec.name.clone()),
        platform: spec.platform.clone().unwrap_or_default(),
    }
}

fn healthcheck(h: &HealthSpec, api: ApiVersion) -> Result<HealthConfig> {
    if h.start_interval.is_some() && !quirks::start_interval(api) {
        return Err(EngineError::Other(format!(
            "healthcheck start_interval needs Docker Engine API 1.44 (Engine 25); this daemon speaks {}.{}",
            api.0, api.1
        )));
    }
    Ok(HealthConfig {
        test: Some(h.test.clone()),
        interval: h.interval.map(nanos),
        timeout: h.timeout.map(nanos),
        retries: h.retries.map(i64::from),
        start_period: h.start_period.map(nanos),
        start_interval: h.start_interval.map(nanos),
    })
}

/// A bind that may create its host path goes through the legacy `Binds`
/// string: the Mounts API refuses a missing source (moby#43483), and that
/// is exactly what Compose's `create_host_path` (the short syntax) avoids.
fn bind_string(m: &MountSpec) -> String {
    let mut opts = Vec::new();
    if m.read_only {
        opts.push("ro".to_string());
    }
    if let Some(p) = &m.bind_propagation {
        opts.push(p.clone());
    }
    let source = m.source.as_deref().unwrap_or_default();
    if opts.is_empty() {
        format!("{source}:{}", m.target)
    } else {
        format!("{source}:{}:{}", m.target, opts.join(","))
    }
}

fn mount(m: &MountSpec, api: ApiVersion) -> Result<Mount> {
    let mut out = Mount {
        target: Some(m.target.clone()),
        source: m.source.clone(),
        read_only: m.read_only.then_some(true),
        ..Default::default()
    };
    match m.kind {
        MountKind::Bind => {
            out.typ = Some(MountType::BIND);
            if let Some(p) = &m.bind_propagation {
                let propagation: MountBindOptionsPropagationEnum = p.parse().map_err(|_| {
                    EngineError::Other(format!(
                        "mount {}: unknown bind propagation {p:?}",
                        m.target
                    ))
                })?;
                out.bind_options = Some(MountBindOptions {
                    propagation: Some(propagation),
                    ..Default::default()
                });
            }
        }
        MountKind::Volume => {
            out.typ = Some(MountType::VOLUME);
            if let Some(sub) = &m.volume_subpath
                && !quirks::volume_subpath(api)
            {
                return Err(EngineError::Other(format!(
                    "mount {}: volume subpath {sub:?} needs Docker Engine API 1.45 (Engine 26); this daemon speaks {}.{}",
                    m.target, api.0, api.1
                )));
            }
            if m.volume_nocopy || m.volume_subpath.is_some() {
                out.volume_options = Some(MountVolumeOptions {
                    no_copy: m.volume_nocopy.then_some(true),
                    subpath: m.volume_subpath.clone(),
                    ..Default::default()
                });
            }
        }
        MountKind::Tmpfs => {
            out.typ = Some(MountType::TMPFS);
            out.source = None;
            if m.tmpfs_size.is_some() || m.tmpfs_mode.is_some() {
                out.tmpfs_options = Some(MountTmpfsOptions {
                    size_bytes: m.tmpfs_size,
                    mode: m.tmpfs_mode.map(i64::from),
                    options: None,
                });
            }
        }
    }
    Ok(out)
}

/// `ContainerSpec` → the create body (with only the networks allowed at
/// create time, G4). `api` is the negotiated version: features the daemon
/// would silently drop (G2) are refused here instead.
pub fn container_create(spec: &ContainerSpec, api: ApiVersion) -> Result<ContainerCreateBody> {
    // G5: a port binding without the matching exposed port publishes nothing.
    let mut exposed: Vec<String> = spec.exposed_ports.iter().map(port_key).collect();
    for key in spec.port_bindings.keys() {
        exposed.push(port_key(key));
    }
    exposed.sort();
    exposed.dedup();

    let port_bindings: Option<PortMap> = (!spec.port_bindings.is_empty()).then(|| {
        spec.port_bindings
            .iter()
            .map(|(k, hosts)| {
                let bindings = hosts
                    .iter()
                    .map(|h| PortBinding {
                        host_ip: Some(h.host_ip.clone()),
                        host_port: Some(h.host_port.clone()),
                    })
                    .collect();
                (port_key(k), Some(bindings))
            })
            .collect()
    });

    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for m in &spec.mounts {
        if m.kind == MountKind::Bind && m.bind_create_host_path {
            binds.push(bind_string(m));
        } else {
            mounts.push(mount(m, api)?);
        }
    }

    let restart_policy = spec.restart.map(|r| {
        let (name, max) = match r {
            RestartPolicy::No => (RestartPolicyNameEnum::NO, None),
            RestartPolicy::Always => (RestartPolicyNameEnum::ALWAYS, None),
            RestartPolicy::UnlessStopped => (RestartPolicyNameEnum::UNLESS_STOPPED, None),
            RestartPolicy::OnFailure { max_retries } => (
                RestartPolicyNameEnum::ON_FAILURE,
                max_retries.map(i64::from),
            ),
        };
        bollard::models::RestartPolicy {
            name: Some(name),
            maximum_retry_count: max,
        }
    });

    let network_mode = spec
        .network_mode
        .clone()
        .or_else(|| spec.networks.first().map(|n| n.network.clone()));

    let host_config = HostConfig {
        binds: some_vec(&binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        tmpfs: some_map(&spec.tmpfs),
        volumes_from: some_vec(&spec.volumes_from),
        port_bindings,
        restart_policy,
        memory: spec.memory,
        memory_reservation: spec.memory_reservation,
        memory_swap: spec.memswap,
        nano_cpus: spec.nano_cpus,
        cpu_shares: spec.cpu_shares,
        cpu_period: spec.cpu_period,
        cpu_quota: spec.cpu_quota,
        cpuset_cpus: spec.cpuset.clone(),
        pids_limit: spec.pids_limit,
        shm_size: spec.shm_size,
        readonly_rootfs: spec.read_only.then_some(true),
        privileged: spec.privileged.then_some(true),
        init: spec.init,
        cap_add: some_vec(&spec.cap_add),
        cap_drop: some_vec(&spec.cap_drop),
        security_opt: some_vec(&spec.security_opt),
        network_mode,
        extra_hosts: some_vec(&spec.extra_hosts),
        dns: some_vec(&spec.dns),
        dns_search: some_vec(&spec.dns_search),
        dns_options: some_vec(&spec.dns_opt),
        ulimits: (!spec.ulimits.is_empty()).then(|| {
            spec.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        sysctls: some_map(&spec.sysctls),
        log_config: spec.log_driver.as_ref().map(|d| HostConfigLogConfig {
            typ: Some(d.clone()),
            config: some_map(&spec.log_opts),
        }),
        devices: (!spec.devices.is_empty()).then(|| {
            spec.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.host_path.clone()),
                    path_in_container: Some(d.container_path.clone()),
                    cgroup_permissions: Some(d.permissions.clone()),
                })
                .collect()
        }),
        group_add: some_vec(&spec.group_add),
        ipc_mode: spec.ipc.clone(),
        pid_mode: spec.pid.clone(),
        userns_mode: spec.userns_mode.clone(),
        oom_score_adj: spec.oom_score_adj,
        cgroup_parent: spec.cgroup_parent.clone(),
        ..Default::default()
    };

    let at_create = networks_at_create(spec, api);
    let networking_config = (!at_create.is_empty()).then(|| NetworkingConfig {
        endpoints_config: Some(
            at_create
                .iter()
                .map(|ep| (ep.network.clone(), endpoint_settings(ep)))
                .collect(),
        ),
    });

    Ok(ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.command.clone(),
        entrypoint: spec.entrypoint.clone(),
        env: some_vec(&spec.env),
        labels: some_map(&spec.labels),
        user: spec.user.clone(),
        working_dir: spec.working_dir.clone(),
        hostname: spec.hostname.clone(),
        domainname: spec.domainname.clone(),
        tty: spec.tty.then_some(true),
        open_stdin: spec.stdin_open.then_some(true),
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec.stop_timeout.map(i64::from),
        healthcheck: spec
            .healthcheck
            .as_ref()
            .map(|h| healthcheck(h, api))
            .transpose()?,
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    })
}

// ----- responses -----

pub fn observed_network(n: NetworkInspect) -> ObservedNetwork {
    let mut containers: Vec<String> = n
        .containers
        .unwrap_or_default()
        .into_iter()
        .map(|(id, ep)| ep.name.unwrap_or(id))
        .collect();
    containers.sort();
    ObservedNetwork {
        id: n.id.unwrap_or_default(),
        name: n.name.unwrap_or_default(),
        labels: btree(n.labels),
        internal: n.internal.unwrap_or(false),
        containers,
    }
}

pub fn observed_volume(v: bollard::models::Volume) -> ObservedVolume {
    ObservedVolume {
        name: v.name,
        labels: v.labels.into_iter().collect(),
    }
}

/// Docker reports "never" as the zero time.
fn time_or_none(t: Option<String>) -> Option<String> {
    t.filter(|s| !s.is_empty() && !s.starts_with("0001-01-01"))
}

fn container_state(s: Option<ContainerStateStatusEnum>) -> ContainerState {
    match s {
        Some(ContainerStateStatusEnum::RUNNING) => ContainerState::Running,
        Some(ContainerStateStatusEnum::PAUSED) => ContainerState::Paused,
        Some(ContainerStateStatusEnum::RESTARTING) => ContainerState::Restarting,
        Some(ContainerStateStatusEnum::REMOVING) => ContainerState::Removing,
        Some(ContainerStateStatusEnum::EXITED) => ContainerState::Exited,
        Some(ContainerStateStatusEnum::DEAD) => ContainerState::Dead,
        // "stopping" (API 1.52+) is still running from our point of view.
        Some(ContainerStateStatusEnum::STOPPING) => ContainerState::Running,
        Some(ContainerStateStatusEnum::CREATED | ContainerStateStatusEnum::EMPTY) | None => {
            ContainerState::Created
        }
    }
}

pub fn health_state(s: &str) -> Option<HealthState> {
    match s {
        "starting" => Some(HealthState::Starting),
        "healthy" => Some(HealthState::Healthy),
        "unhealthy" => Some(HealthState::Unhealthy),
        _ => None,
    }
}

fn published_ports(ports: Option<PortMap>) -> Vec<PublishedPort> {
    let mut out = Vec::new();
    for (key, bindings) in ports.unwrap_or_default() {
        let (port, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
        let Ok(container_port) = port.parse::<u16>() else {
            continue;
        };
        for b in bindings.unwrap_or_default() {
            let Some(host_port) = b.host_port.and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            out.push(PublishedPort {
                container_port,
                protocol: proto.to_string(),
                host_ip: b.host_ip.unwrap_or_default(),
                host_port,
            });
        }
    }
    out.sort();
    out
}

pub fn container_details(c: ContainerInspectResponse) -> ContainerDetails {
    let state = c.state.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let health = state.health.unwrap_or_default();
    let health_state = match health.status {
        Some(HealthStatusEnum::STARTING) => Some(HealthState::Starting),
        Some(HealthStatusEnum::HEALTHY) => Some(HealthState::Healthy),
        Some(HealthStatusEnum::UNHEALTHY) => Some(HealthState::Unhealthy),
        _ => None,
    };
    let settings = c.network_settings.unwrap_or_default();
    let networks = settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ep)| {
            let endpoint = Endpoint {
                ip: ep.ip_address.unwrap_or_default(),
                aliases: ep.aliases.unwrap_or_default(),
            };
            (name, endpoint)
        })
        .collect();
    let name = c.name.unwrap_or_default();
    let container = ObservedContainer {
        id: c.id.unwrap_or_default(),
        name: name.strip_prefix('/').unwrap_or(&name).to_string(),
        labels: btree(config.labels),
        image: config.image.unwrap_or_default(),
        image_id: c.image.unwrap_or_default(),
        state: container_state(state.status),
        exit_code: state.exit_code.unwrap_or(0),
        health: health_state,
        started_at: time_or_none(state.started_at),
        restart_count: c.restart_count.unwrap_or(0),
        networks,
        ports: published_ports(settings.ports),
    };
    ContainerDetails {
        container,
        health_log: health
            .log
            .unwrap_or_default()
            .into_iter()
            .map(|p| HealthProbe {
                start: p.start.unwrap_or_default(),
                end: p.end.unwrap_or_default(),
                exit_code: p.exit_code.unwrap_or(0),
                output: p.output.unwrap_or_default(),
            })
            .collect(),
        oom_killed: state.oom_killed.unwrap_or(false),
        error: state.error.unwrap_or_default(),
        finished_at: time_or_none(state.finished_at),
    }
}

/// Attributes the daemon adds to a container event's labels.
const EVENT_ATTRIBUTES: [&str; 5] = ["name", "image", "exitCode", "execDuration", "signal"];

/// A container event → `EngineEvent`; `None` for events of other types.
/// Health actions carry their status: "health_status: healthy".
pub fn engine_event(e: EventMessage) -> Option<EngineEvent> {
    if e.typ != Some(bollard::models::EventMessageTypeEnum::CONTAINER) {
        return None;
    }
    let action = e.action.unwrap_or_default();
    let actor = e.actor.unwrap_or_default();
    let mut attributes = actor.attributes.unwrap_or_default();
    let kind = match action.as_str() {
        "start" => EventKind::Start,
        "die" => EventKind::Die {
            exit_code: attributes
                .get("exitCode")
                .and_then(|c| c.parse().ok())
                .unwrap_or(-1),
        },
        "oom" => EventKind::Oom,
        "destroy" => EventKind::Destroy,
        a => match a
            .strip_prefix("health_status:")
            .and_then(|s| health_state(s.trim()))
        {
            Some(h) => EventKind::HealthStatus(h),
            None => EventKind::Other(a.to_string()),
        },
    };
    let container_name = attributes.remove("name").unwrap_or_default();
    for k in EVENT_ATTRIBUTES {
        attributes.remove(k);
    }
    let time_nano = e
        .time_nano
        .or(e.time.map(|t| t.saturating_mul(1_000_000_000)))
        .unwrap_or(0);
    Some(EngineEvent {
        kind,
        container_id: actor.id.unwrap_or_default(),
        container_name,
        labels: attributes.into_iter().collect(),
        time_nano,
    })
}

// ----- log lines -----

/// Turns log frames into lines. Docker sends one frame per write (and, with
/// timestamps, one "TIMESTAMP text" frame per log entry); a line can span
/// frames, so each stream keeps its partial last line until a newline or
/// `finish`.
#[derive(Debug, Default)]
pub struct LineSplitter {
    timestamps: bool,
    partial: HashMap<LogStreamKey, (Vec<u8>, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LogStreamKey(u8);

fn key(s: LogStream) -> LogStreamKey {
    LogStreamKey(match s {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
        LogStream::Console => 2,
    })
}

fn stream_of(k: LogStreamKey) -> LogStream {
    match k.0 {
        0 => LogStream::Stdout,
        1 => LogStream::Stderr,
        _ => LogStream::Console,
    }
}

fn looks_like_timestamp(s: &[u8]) -> bool {
    s.len() >= 20 && s[0].is_ascii_digit() && s.contains(&b'T')
}

fn line(stream: LogStream, bytes: &[u8], timestamp: Option<String>) -> LogLine {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    LogLine {
        stream,
        text: String::from_utf8_lossy(bytes).into_owned(),
        timestamp,
    }
}

impl LineSplitter {
    pub fn new(timestamps: bool) -> Self {
        LineSplitter {
            timestamps,
            partial: HashMap::new(),
        }
    }

    /// One frame in, the lines it completes out.
    pub fn push(&mut self, stream: LogStream, mut frame: &[u8]) -> Vec<LogLine> {
        let (buf, ts) = self.partial.entry(key(stream)).or_default();
        if self.timestamps
            && let Some(space) = frame.iter().position(|b| *b == b' ')
            && looks_like_timestamp(&frame[..space])
        {
            // A continuation of a partial line keeps its first timestamp.
            if buf.is_empty() {
                *ts = Some(String::from_utf8_lossy(&frame[..space]).into_owned());
            }
            frame = &frame[space + 1..];
        }
        buf.extend_from_slice(frame);
        let mut out = Vec::new();
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let rest = buf.split_off(nl + 1);
            out.push(line(stream, &buf[..nl], ts.clone()));
            *buf = rest;
        }
        if buf.is_empty() {
            *ts = None;
        }
        out
    }

    /// End of stream: partial lines become lines.
    pub fn finish(&mut self) -> Vec<LogLine> {
        let mut keys: Vec<_> = self.partial.keys().copied().collect();
        keys.sort_by_key(|k| k.0);
        let mut out = Vec::new();
        for k in keys {
            if let Some((buf, ts)) = self.partial.remove(&k)
                && !buf.is_empty()
            {
                out.push(line(stream_of(k), &buf, ts));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full_spec() -> ContainerSpec {
        let ep = |n: &str, a: &[&str]| EndpointSpec {
            network: n.into(),
            aliases: a.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        ContainerSpec {
            name: "demo-web-1".into(),
            image: "web:1".into(),
            command: Some(s(&["serve", "--port", "80"])),
            entrypoint: Some(vec![]),
            env: s(&["A=1", "B="]),
            labels: map(&[("com.docker.compose.project", "demo")]),
            user: Some("1000:1000".into()),
            working_dir: Some("/srv".into()),
            hostname: Some("web".into()),
            domainname: Some("example.test".into()),
            tty: true,
            stdin_open: true,
            stop_signal: Some("SIGINT".into()),
            stop_timeout: Some(20),
            healthcheck: Some(HealthSpec {
                test: s(&["CMD-SHELL", "wget -q --spider http://localhost/"]),
                interval: Some(Duration::from_millis(500)),
                timeout: Some(Duration::from_secs(2)),
                retries: Some(3),
                start_period: Some(Duration::from_secs(5)),
                start_interval: None,
            }),
            exposed_ports: vec![PortKey {
                port: 53,
                protocol: "udp".into(),
            }],
            port_bindings: [(
                PortKey::tcp(80),
                vec![
                    HostBinding {
                        host_ip: "127.0.0.1".into(),
                        host_port: "8080".into(),
                    },
                    HostBinding::default(),
                ],
            )]
            .into_iter()
            .collect(),
            mounts: vec![
                MountSpec {
                    bind_create_host_path: true,
                    read_only: true,
                    ..MountSpec::new(MountKind::Bind, Some("/srv/conf"), "/etc/conf")
                },
                MountSpec {
                    bind_propagation: Some("rslave".into()),
                    ..MountSpec::new(MountKind::Bind, Some("/data"), "/data")
                },
                MountSpec {
                    volume_nocopy: true,
                    ..MountSpec::new(MountKind::Volume, Some("demo_db"), "/var/lib/db")
                },
                MountSpec {
                    tmpfs_size: Some(1 << 20),
                    tmpfs_mode: Some(0o1777),
                    ..MountSpec::new(MountKind::Tmpfs, None, "/scratch")
                },
            ],
            tmpfs: map(&[("/run", "size=64k")]),
            volumes_from: s(&["other"]),
            restart: Some(RestartPolicy::OnFailure {
                max_retries: Some(3),
            }),
            memory: Some(256 << 20),
            memory_reservation: Some(128 << 20),
            memswap: Some(512 << 20),
            nano_cpus: Some(500_000_000),
            cpu_shares: Some(512),
            cpu_period: Some(100_000),
            cpu_quota: Some(50_000),
            cpuset: Some("0".into()),
            pids_limit: Some(100),
            shm_size: Some(64 << 20),
            read_only: true,
            privileged: true,
            init: Some(true),
            cap_add: s(&["NET_ADMIN"]),
            cap_drop: s(&["ALL"]),
            security_opt: s(&["no-new-privileges:true"]),
            network_mode: None,
            networks: vec![
                EndpointSpec {
                    ipv4_address: Some("10.1.0.5".into()),
                    ..ep("demo_front", &["web", "demo-web-1"])
                },
                ep("demo_back", &["web"]),
            ],
            extra_hosts: s(&["db.local:10.0.0.2"]),
            dns: s(&["1.1.1.1"]),
            dns_search: s(&["example.test"]),
            dns_opt: s(&["ndots:1"]),
            ulimits: vec![Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048,
            }],
            sysctls: map(&[("net.core.somaxconn", "1024")]),
            log_driver: Some("json-file".into()),
            log_opts: map(&[("max-size", "10m")]),
            devices: vec![DeviceSpec {
                host_path: "/dev/fuse".into(),
                container_path: "/dev/fuse".into(),
                permissions: "rwm".into(),
            }],
            group_add: s(&["audio"]),
            ipc: Some("private".into()),
            pid: Some("host".into()),
            userns_mode: Some("host".into()),
            oom_score_adj: Some(-500),
            cgroup_parent: Some("/aistack".into()),
            platform: Some("linux/amd64".into()),
        }
    }

    #[test]
    fn container_body_uses_every_field() {
        let body = container_create(&full_spec(), (1, 41)).unwrap();
        let got = serde_json::to_value(&body).unwrap();
        let want: serde_json::Value = serde_json::from_str(
            r#"{
            "Hostname": "web",
            "Domainname": "example.test",
            "User": "1000:1000",
            "ExposedPorts": {"53/udp": {}, "80/tcp": {}},
            "Tty": true,
            "OpenStdin": true,
            "Env": ["A=1", "B="],
            "Cmd": ["serve", "--port", "80"],
            "Healthcheck": {
                "Test": ["CMD-SHELL", "wget -q --spider http://localhost/"],
                "Interval": 500000000,
                "Timeout": 2000000000,
                "Retries": 3,
                "StartPeriod": 5000000000
            },
            "Image": "web:1",
            "WorkingDir": "/srv",
            "Entrypoint": [],
            "Labels": {"com.docker.compose.project": "demo"},
            "StopSignal": "SIGINT",
            "StopTimeout": 20,
            "HostConfig": {
                "CpuShares": 512,
                "Memory": 268435456,
                "CgroupParent": "/aistack",
                "CpuPeriod": 100000,
                "CpuQuota": 50000,
                "CpusetCpus": "0",
                "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
                "MemoryReservation": 134217728,
                "MemorySwap": 536870912,
                "NanoCpus": 500000000,
                "Init": true,
                "PidsLimit": 100,
                "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
                "Binds": ["/srv/conf:/etc/conf:ro"],
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
                "NetworkMode": "demo_front",
                "PortBindings": {"80/tcp": [
                    {"HostIp": "127.0.0.1", "HostPort": "8080"},
                    {"HostIp": "", "HostPort": ""}
                ]},
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                "VolumesFrom": ["other"],
                "Mounts": [
                    {"Target": "/data", "Source": "/data", "Type": "bind",
                     "BindOptions": {"Propagation": "rslave"}},
                    {"Target": "/var/lib/db", "Source": "demo_db", "Type": "volume",
                     "VolumeOptions": {"NoCopy": true}},
                    {"Target": "/scratch", "Type": "tmpfs",
                     "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}}
                ],
                "CapAdd": ["NET_ADMIN"],
                "CapDrop": ["ALL"],
                "Dns": ["1.1.1.1"],
                "DnsOptions": ["ndots:1"],
                "DnsSearch": ["example.test"],
                "ExtraHosts": ["db.local:10.0.0.2"],
                "GroupAdd": ["audio"],
                "IpcMode": "private",
                "OomScoreAdj": -500,
                "PidMode": "host",
                "Privileged": true,
                "ReadonlyRootfs": true,
                "SecurityOpt": ["no-new-privileges:true"],
                "Tmpfs": {"/run": "size=64k"},
                "UsernsMode": "host",
                "ShmSize": 67108864,
                "Sysctls": {"net.core.somaxconn": "1024"}
            },
            "NetworkingConfig": {"EndpointsConfig": {
                "demo_front": {
                    "IPAMConfig": {"IPv4Address": "10.1.0.5"},
                    "Aliases": ["web", "demo-web-1"]
                }
            }}
        }"#,
        )
        .unwrap();
        assert_eq!(
            got,
            want,
            "got:\n{}",
            serde_json::to_string_pretty(&got).unwrap()
        );
        let opts = create_options(&full_spec());
        assert_eq!(opts.name.as_deref(), Some("demo-web-1"));
        assert_eq!(opts.platform, "linux/amd64");
    }

    #[test]
    fn only_the_first_network_is_given_at_create_before_1_44() {
        let spec = full_spec();
        assert_eq!(networks_at_create(&spec, (1, 41)).len(), 1);
        assert_eq!(
            networks_after_create(&spec, (1, 41))[0].network,
            "demo_back"
        );
        assert_eq!(networks_at_create(&spec, (1, 44)).len(), 2);
        assert!(networks_after_create(&spec, (1, 44)).is_empty());
        let body = container_create(&spec, (1, 44)).unwrap();
        let eps = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(eps.len(), 2);
    }

    #[test]
    fn a_minimal_spec_sends_almost_nothing() {
        let spec = ContainerSpec {
            name: "x".into(),
            image: "busybox".into(),
            ..Default::default()
        };
        let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
        assert_eq!(got, json!({"Image": "busybox", "HostConfig": {}}));
    }

    #[test]
    fn bindings_are_always_exposed() {
        let spec = ContainerSpec {
            image: "i".into(),
            port_bindings: [(PortKey::tcp(8080), vec![HostBinding::default()])]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
        assert_eq!(got["ExposedPorts"], json!({"8080/tcp": {}}));
    }

    #[test]
    fn features_an_old_daemon_would_drop_are_refused() {
        let mut spec = full_spec();
        spec.healthcheck.as_mut().unwrap().start_interval = Some(Duration::from_secs(1));
        let err = container_create(&spec, (1, 41)).unwrap_err().to_string();
        assert!(
            err.contains("start_interval") && err.contains("1.41"),
            "{err}"
        );
        let body = container_create(&spec, (1, 44)).unwrap();
        assert_eq!(
            body.healthcheck.unwrap().start_interval,
            Some(1_000_000_000)
        );

        let mut spec = full_spec();
        spec.mounts[2].volume_subpath = Some("sub".into());
        assert!(container_create(&spec, (1, 41)).is_err());
        let got = serde_json::to_value(container_create(&spec, (1, 45)).unwrap()).unwrap();
        assert_eq!(
            got["HostConfig"]["Mounts"][1]["VolumeOptions"],
            json!({"NoCopy": true, "Subpath": "sub"})
        );

        let mut spec = full_spec();
        spec.mounts[1].bind_propagation = Some("sideways".into());
        assert!(container_create(&spec, (1, 41)).is_err());
    }

    #[test]
    fn disabled_healthcheck_and_restart_policies() {
        let spec = ContainerSpec {
            image: "i".into(),
            healthcheck: Some(HealthSpec {
                test: vec!["NONE".into()],
                ..Default::default()
            }),
            restart: Some(RestartPolicy::UnlessStopped),
            network_mode: Some("none".into()),
            ..Default::default()
        };
        let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
        assert_eq!(got["Healthcheck"], json!({"Test": ["NONE"]}));
        assert_eq!(
            got["HostConfig"]["RestartPolicy"],
            json!({"Name": "unless-stopped"})
        );
        assert_eq!(got["HostConfig"]["NetworkMode"], json!("none"));
        assert!(got.get("NetworkingConfig").is_none());
    }

    #[test]
    fn network_body() {
        let spec = NetworkSpec {
            name: "demo_back".into(),
            driver: Some("bridge".into()),
            internal: true,
            attachable: false,
            enable_ipv6: Some(false),
            driver_opts: [(
                "com.docker.network.bridge.name".to_string(),
                "br-demo".to_string(),
            )]
            .into_iter()
            .collect(),
            ipam_driver: Some("default".into()),
            ipam: vec![IpamPool {
                subnet: Some("10.99.0.0/24".into()),
                gateway: Some("10.99.0.1".into()),
                ip_range: Some("10.99.0.128/25".into()),
                aux: [("router".to_string(), "10.99.0.2".to_string())]
                    .into_iter()
                    .collect(),
            }],
            labels: [("com.docker.compose.network".to_string(), "back".to_string())]
                .into_iter()
                .collect(),
        };
        let got = serde_json::to_value(network_create(&spec)).unwrap();
        assert_eq!(
            got,
            json!({
                "Name": "demo_back",
                "Driver": "bridge",
                "Internal": true,
                "Attachable": false,
                "IPAM": {"Driver": "default", "Config": [{
                    "Subnet": "10.99.0.0/24",
                    "IPRange": "10.99.0.128/25",
                    "Gateway": "10.99.0.1",
                    "AuxiliaryAddresses": {"router": "10.99.0.2"}
                }]},
                "EnableIPv6": false,
                "Options": {"com.docker.network.bridge.name": "br-demo"},
                "Labels": {"com.docker.compose.network": "back"}
            })
        );
    }

    #[test]
    fn volume_body() {
        let spec = VolumeSpec {
            name: "demo_db".into(),
            driver: None,
            driver_opts: [("type".to_string(), "tmpfs".to_string())]
                .into_iter()
                .collect(),
            labels: [("com.docker.compose.volume".to_string(), "db".to_string())]
                .into_iter()
                .collect(),
        };
        assert_eq!(
            serde_json::to_value(volume_create(&spec)).unwrap(),
            json!({
                "Name": "demo_db",
                "DriverOpts": {"type": "tmpfs"},
                "Labels": {"com.docker.compose.volume": "db"}
            })
        );
    }

    #[test]
    fn inspect_response_is_observed() {
        // Trimmed from a real 20.10 inspect of a healthy busybox container.
        let raw = json!({
            "Id": "abc123",
            "Name": "/demo-web-1",
            "Image": "sha256:feed",
            "RestartCount": 2,
            "State": {
                "Status": "running", "Running": true, "OOMKilled": false, "ExitCode": 0,
                "Error": "", "StartedAt": "2026-11-22T10:00:00.5Z",
                "FinishedAt": "0001-01-01T00:00:00Z",
                "Health": {"Status": "healthy", "FailingStreak": 0, "Log": [
                    {"Start": "2026-11-22T10:00:01Z", "End": "2026-11-22T10:00:01.1Z",
                     "ExitCode": 0, "Output": "ok\n"}
                ]}
            },
            "Config": {"Image": "web:1", "Labels": {"a": "b"}},
            "NetworkSettings": {
                "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "53/udp": null},
                "Networks": {"demo_front": {"IPAddress": "10.1.0.5", "Aliases": ["web", "abc123"]}}
            }
        });
        let resp: ContainerInspectResponse = serde_json::from_value(raw).unwrap();
        let d = container_details(resp);
        let c = &d.container;
        assert_eq!(c.name, "demo-web-1");
        assert_eq!(c.image, "web:1");
        assert_eq!(c.image_id, "sha256:feed");
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(c.health, Some(HealthState::Healthy));
        assert_eq!(c.started_at.as_deref(), Some("2026-11-22T10:00:00.5Z"));
        assert_eq!(c.restart_count, 2);
        assert_eq!(c.networks["demo_front"].ip, "10.1.0.5");
        assert_eq!(c.labels["a"], "b");
        assert_eq!(
            c.ports,
            vec![PublishedPort {
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: 32768
            }]
        );
        assert_eq!(d.finished_at, None);
        assert_eq!(d.health_log.len(), 1);
        assert_eq!(d.health_log[0].output, "ok\n");
    }

    #[test]
    fn events_are_classified() {
        let ev = |action: &str, attrs: serde_json::Value| -> EngineEvent {
            let raw = json!({
                "Type": "container", "Action": action,
                "Actor": {"ID": "abc", "Attributes": attrs},
                "time": 1, "timeNano": 1_000_000_123i64
            });
            engine_event(serde_json::from_value(raw).unwrap()).unwrap()
        };
        let e = ev(
            "die",
            json!({"name": "demo-web-1", "image": "web:1", "exitCode": "3", "execDuration": "1", "p": "demo"}),
        );
        assert_eq!(e.kind, EventKind::Die { exit_code: 3 });
        assert_eq!(e.container_name, "demo-web-1");
        assert_eq!(e.container_id, "abc");
        assert_eq!(
            e.labels,
            [("p".to_string(), "demo".to_string())]
                .into_iter()
                .collect()
        );
        assert_eq!(e.time_nano, 1_000_000_123);
        assert_eq!(
            ev("health_status: healthy", json!({})).kind,
            EventKind::HealthStatus(HealthState::Healthy)
        );
        assert_eq!(
            ev("health_status: unhealthy", json!({})).kind,
            EventKind::HealthStatus(HealthState::Unhealthy)
        );
        assert_eq!(ev("start", json!({})).kind, EventKind::Start);
        assert_eq!(ev("oom", json!({})).kind, EventKind::Oom);
        assert_eq!(ev("destroy", json!({})).kind, EventKind::Destroy);
        assert_eq!(
            ev("exec_start: sh", json!({})).kind,
            EventKind::Other("exec_start: sh".into())
        );
        let net: EventMessage =
            serde_json::from_value(json!({"Type": "network", "Action": "create"})).unwrap();
        assert!(engine_event(net).is_none());
    }

    #[test]
    fn label_filters_render_key_equals_value() {
        let f = label_filters(&[("a", "1"), ("b", "2")]);
        assert_eq!(f["label"], vec!["a=1".to_string(), "b=2".to_string()]);
        assert!(label_filters(&[]).is_empty());
    }

    #[test]
    fn lines_are_split_across_frames_and_streams() {
        let mut s = LineSplitter::new(false);
        assert!(s.push(LogStream::Stdout, b"hel").is_empty());
        let err = s.push(LogStream::Stderr, b"oops\r\n");
        assert_eq!(err[0].text, "oops");
        assert_eq!(err[0].stream, LogStream::Stderr);
        let out = s.push(LogStream::Stdout, b"lo\nworld\npart");
        let texts: Vec<_> = out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["hello", "world"]);
        let rest = s.finish();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].text, "part");
        assert!(s.finish().is_empty());
    }

    #[test]
    fn timestamps_are_split_off_and_kept_for_partial_lines() {
        let mut s = LineSplitter::new(true);
        let out = s.push(LogStream::Stdout, b"2026-11-22T10:00:00.000000001Z one\n");
        assert_eq!(out[0].text, "one");
        assert_eq!(
            out[0].timestamp.as_deref(),
            Some("2026-11-22T10:00:00.000000001Z")
        );
        assert!(
            s.push(LogStream::Stdout, b"2026-11-22T10:00:01.000000001Z tw")
                .is_empty()
        );
        let out = s.push(LogStream::Stdout, b"2026-11-22T10:00:02.000000001Z o\n");
        assert_eq!(out[0].text, "two");
        assert_eq!(
            out[0].timestamp.as_deref(),
            Some("2026-11-22T10:00:01.000000001Z")
        );
        // A line whose first word is not a timestamp is left alone.
        let out = s.push(LogStream::Stdout, b"hello world\n");
        assert_eq!(out[0].text, "hello world");
    }
}
