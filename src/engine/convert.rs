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

pub(crate) fn nanos(d: Duration) -> i64 {
    // G10: the API takes durations in nanoseconds.
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

pub(crate) fn hash_map(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(crate) fn some_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| hash_map(m))
}

pub(crate) fn some_vec(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

pub(crate) fn btree(m: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
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

/// A bind mount's propagation option, checked against the engine's names.
pub(crate) fn bind_options(
    target: &str,
    propagation: Option<&str>,
) -> Result<Option<MountBindOptions>> {
    let Some(p) = propagation else {
        return Ok(None);
    };
    let propagation: MountBindOptionsPropagationEnum = p.parse().map_err(|_| {
        EngineError::Other(format!("mount {target}: unknown bind propagation {p:?}"))
    })?;
    Ok(Some(MountBindOptions {
        propagation: Some(propagation),
        ..Default::default()
    }))
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
            out.bind_options = bind_options(&m.target, m.bind_propagation.as_deref())?;
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
        auto_remove: spec.auto_remove.then_some(true),
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
        stdin_once: spec.stdin_once.then_some(true),
        attach_stdin: spec.stdin_once.then_some(true),
        attach_stdout: spec.stdin_once.then_some(true),
        attach_stderr: spec.stdin_once.then_some(true),
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

fn endpoints(
    networks: Option<HashMap<String, bollard::models::EndpointSettings>>,
) -> BTreeMap<String, Endpoint> {
    networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ep)| {
            let endpoint = Endpoint {
                ip: ep.ip_address.unwrap_or_default(),
                aliases: ep.aliases.unwrap_or_default(),
            };
            (name, endpoint)
        })
        .collect()
}

/// Names of the named volumes among a container's mounts, sorted.
fn named_volumes(mounts: Option<Vec<bollard::models::MountPoint>>) -> Vec<String> {
    let mut volumes: Vec<String> = mounts
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.typ.as_deref() == Some("volume"))
        .filter_map(|m| m.name)
        .collect();
    volumes.sort();
    volumes
}

/// A container from the list response (no inspect): see `list_containers_brief`.
pub fn container_summary(c: bollard::models::ContainerSummary) -> ObservedContainer {
    use bollard::models::ContainerSummaryStateEnum as S;
    let state = match c.state {
        Some(S::RUNNING | S::STOPPING) => ContainerState::Running,
        Some(S::PAUSED) => ContainerState::Paused,
        Some(S::RESTARTING) => ContainerState::Restarting,
        Some(S::REMOVING) => ContainerState::Removing,
        Some(S::EXITED) => ContainerState::Exited,
        Some(S::DEAD) => ContainerState::Dead,
        Some(S::CREATED | S::EMPTY) | None => ContainerState::Created,
    };
    let name = c
        .names
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    let networks = endpoints(c.network_settings.and_then(|n| n.networks));
    let volumes = named_volumes(c.mounts);
    ObservedContainer {
        id: c.id.unwrap_or_default(),
        name: name.strip_prefix('/').unwrap_or(&name).to_string(),
        labels: btree(c.labels),
        image: c.image.unwrap_or_default(),
        image_id: c.image_id.unwrap_or_default(),
        state,
        exit_code: 0,
        health: None,
        started_at: None,
        restart_count: 0,
        networks,
        ports: Vec::new(),
        volumes,
    }
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
    let networks = endpoints(settings.networks);
    let volumes = named_volumes(c.mounts);
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
        volumes,
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

#[cfg(test)]
mod tests;
