//! Pure conversions between the Swarm types and bollard's models: specs →
//! request bodies, service/task/object/info responses → observed types.
//!
//! Owns: field mapping (Swarm's `Command` is Compose's entrypoint and `Args`
//! its command; durations in nanoseconds; secret data in base64). Must not:
//! perform I/O or decide anything beyond the shape of one request.

use std::collections::HashMap;

use bollard::models::{
    ConfigSpec, EndpointPortConfig, EndpointPortConfigProtocolEnum,
    EndpointPortConfigPublishModeEnum, EndpointSpec, EndpointSpecModeEnum, HealthConfig, Limit,
    Mount, MountTmpfsOptions, MountType, MountVolumeOptions, MountVolumeOptionsDriverConfig,
    NetworkAttachmentConfig, Platform, ResourceObject, ResourcesUlimits, SecretSpec,
    ServiceSpecMode, ServiceSpecModeReplicated, ServiceSpecModeReplicatedJob,
    ServiceSpecRollbackConfig, ServiceSpecRollbackConfigFailureActionEnum,
    ServiceSpecRollbackConfigOrderEnum, ServiceSpecUpdateConfig,
    ServiceSpecUpdateConfigFailureActionEnum, ServiceSpecUpdateConfigOrderEnum, TaskSpec,
    TaskSpecContainerSpec, TaskSpecContainerSpecConfigs, TaskSpecContainerSpecDnsConfig,
    TaskSpecContainerSpecFile, TaskSpecContainerSpecFile1, TaskSpecContainerSpecPrivileges,
    TaskSpecContainerSpecSecrets, TaskSpecLogDriver, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};

use super::types::*;
use crate::engine::convert::{bind_options, btree, hash_map, nanos, some_map, some_vec};
use crate::engine::{EngineError, Result};

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Standard base64 with padding: the API's encoding of secret and config data.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

pub fn secret_spec(spec: &ObjectSpec) -> SecretSpec {
    SecretSpec {
        name: Some(spec.name.clone()),
        labels: Some(hash_map(&spec.labels)),
        data: Some(base64(&spec.data)),
        ..Default::default()
    }
}

pub fn config_spec(spec: &ObjectSpec) -> ConfigSpec {
    ConfigSpec {
        name: Some(spec.name.clone()),
        labels: Some(hash_map(&spec.labels)),
        data: Some(base64(&spec.data)),
        ..Default::default()
    }
}

fn mount(m: &SwarmMount) -> Result<Mount> {
    let mut out = Mount {
        target: Some(m.target.clone()),
        source: m.source.clone(),
        read_only: m.read_only.then_some(true),
        ..Default::default()
    };
    match m.kind {
        SwarmMountKind::Bind => {
            out.typ = Some(MountType::BIND);
            out.bind_options = bind_options(&m.target, m.bind_propagation.as_deref())?;
        }
        SwarmMountKind::Volume => {
            out.typ = Some(MountType::VOLUME);
            let driver = m
                .volume_driver
                .as_ref()
                .map(|d| MountVolumeOptionsDriverConfig {
                    name: Some(d.clone()),
                    options: some_map(&m.volume_driver_opts),
                });
            if m.volume_nocopy || !m.volume_labels.is_empty() || driver.is_some() {
                out.volume_options = Some(MountVolumeOptions {
                    no_copy: m.volume_nocopy.then_some(true),
                    labels: some_map(&m.volume_labels),
                    driver_config: driver,
                    ..Default::default()
                });
            }
        }
        SwarmMountKind::Tmpfs => {
            out.typ = Some(MountType::TMPFS);
            if m.tmpfs_size.is_some() || m.tmpfs_mode.is_some() {
                out.tmpfs_options = Some(MountTmpfsOptions {
                    size_bytes: m.tmpfs_size,
                    mode: m.tmpfs_mode.map(i64::from),
                    ..Default::default()
                });
            }
        }
    }
    Ok(out)
}

fn health(h: &HealthCheckSpec) -> HealthConfig {
    HealthConfig {
        test: Some(h.test.clone()),
        interval: h.interval.map(nanos),
        timeout: h.timeout.map(nanos),
        retries: h.retries.map(i64::from),
        start_period: h.start_period.map(nanos),
        start_interval: h.start_interval.map(nanos),
    }
}

fn container(c: &TaskContainerSpec) -> Result<TaskSpecContainerSpec> {
    let dns =
        (!c.dns_nameservers.is_empty() || !c.dns_search.is_empty() || !c.dns_options.is_empty())
            .then(|| TaskSpecContainerSpecDnsConfig {
                nameservers: some_vec(&c.dns_nameservers),
                search: some_vec(&c.dns_search),
                options: some_vec(&c.dns_options),
            });
    let secrets: Vec<TaskSpecContainerSpecSecrets> = c
        .secrets
        .iter()
        .map(|s| TaskSpecContainerSpecSecrets {
            file: Some(TaskSpecContainerSpecFile {
                name: Some(s.target.clone()),
                uid: Some(s.uid.clone()),
                gid: Some(s.gid.clone()),
                mode: Some(s.mode),
            }),
            secret_id: Some(s.object_id.clone()),
            secret_name: Some(s.object.clone()),
        })
        .collect();
    let configs: Vec<TaskSpecContainerSpecConfigs> = c
        .configs
        .iter()
        .map(|s| TaskSpecContainerSpecConfigs {
            file: Some(TaskSpecContainerSpecFile1 {
                name: Some(s.target.clone()),
                uid: Some(s.uid.clone()),
                gid: Some(s.gid.clone()),
                mode: Some(s.mode),
            }),
            config_id: Some(s.object_id.clone()),
            config_name: Some(s.object.clone()),
            ..Default::default()
        })
        .collect();
    Ok(TaskSpecContainerSpec {
        image: Some(c.image.clone()),
        labels: some_map(&c.labels),
        command: c.entrypoint.clone(),
        args: c.args.clone(),
        hostname: c.hostname.clone(),
        env: some_vec(&c.env),
        dir: c.working_dir.clone(),
        user: c.user.clone(),
        groups: some_vec(&c.groups),
        privileges: c
            .no_new_privileges
            .then(|| TaskSpecContainerSpecPrivileges {
                no_new_privileges: Some(true),
                ..Default::default()
            }),
        tty: c.tty.then_some(true),
        open_stdin: c.open_stdin.then_some(true),
        read_only: c.read_only.then_some(true),
        mounts: Some(c.mounts.iter().map(mount).collect::<Result<Vec<_>>>()?)
            .filter(|m| !m.is_empty()),
        stop_signal: c.stop_signal.clone(),
        stop_grace_period: c.stop_grace_period.map(nanos),
        health_check: c.healthcheck.as_ref().map(health),
        hosts: some_vec(&c.hosts),
        dns_config: dns,
        secrets: (!secrets.is_empty()).then_some(secrets),
        configs: (!configs.is_empty()).then_some(configs),
        init: c.init,
        sysctls: some_map(&c.sysctls),
        capability_add: some_vec(&c.cap_add),
        capability_drop: some_vec(&c.cap_drop),
        ulimits: (!c.ulimits.is_empty()).then(|| {
            c.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        ..Default::default()
    })
}

fn restart(r: &RestartSpec) -> TaskSpecRestartPolicy {
    TaskSpecRestartPolicy {
        condition: Some(match r.condition {
            RestartCondition::None => TaskSpecRestartPolicyConditionEnum::NONE,
            RestartCondition::OnFailure => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
            RestartCondition::Any => TaskSpecRestartPolicyConditionEnum::ANY,
        }),
        delay: r.delay.map(nanos),
        max_attempts: r.max_attempts.map(i64_of),
        window: r.window.map(nanos),
    }
}

fn resources(limits: &ResourceSpec, reservations: &ResourceSpec) -> Option<TaskSpecResources> {
    let lim = (limits.nano_cpus.is_some() || limits.memory.is_some() || limits.pids.is_some())
        .then_some(Limit {
            nano_cpus: limits.nano_cpus,
            memory_bytes: limits.memory,
            pids: limits.pids,
        });
    let res = (reservations.nano_cpus.is_some() || reservations.memory.is_some()).then(|| {
        ResourceObject {
            nano_cpus: reservations.nano_cpus,
            memory_bytes: reservations.memory,
            ..Default::default()
        }
    });
    (lim.is_some() || res.is_some()).then(|| TaskSpecResources {
        limits: lim,
        reservations: res,
        ..Default::default()
    })
}

fn placement(p: &PlacementSpec) -> Option<TaskSpecPlacement> {
    if *p == PlacementSpec::default() {
        return None;
    }
    Some(TaskSpecPlacement {
        constraints: some_vec(&p.constraints),
        preferences: (!p.spread.is_empty()).then(|| {
            p.spread
                .iter()
                .map(|s| TaskSpecPlacementPreferences {
                    spread: Some(TaskSpecPlacementSpread {
                        spread_descriptor: Some(s.clone()),
                    }),
                })
                .collect()
        }),
        max_replicas: p.max_replicas_per_node.map(i64_of),
        platforms: (!p.platforms.is_empty()).then(|| {
            p.platforms
                .iter()
                .map(|(os, arch)| Platform {
                    os: Some(os.clone()),
                    architecture: Some(arch.clone()),
                })
                .collect()
        }),
    })
}

fn update_config(u: &UpdateSpec) -> Result<ServiceSpecUpdateConfig> {
    Ok(ServiceSpecUpdateConfig {
        parallelism: u.parallelism.map(i64_of),
        delay: u.delay.map(nanos),
        failure_action: match u.failure_action.as_deref() {
            None => None,
            Some("continue") => Some(ServiceSpecUpdateConfigFailureActionEnum::CONTINUE),
            Some("pause") => Some(ServiceSpecUpdateConfigFailureActionEnum::PAUSE),
            Some("rollback") => Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK),
            Some(other) => {
                return Err(EngineError::Other(format!(
                    "update_config.failure_action {other:?} is not continue, pause or rollback"
                )));
            }
        },
        monitor: u.monitor.map(nanos),
        max_failure_ratio: u.max_failure_ratio,
        order: order(u.order.as_deref())?.map(|start_first| {
            if start_first {
                ServiceSpecUpdateConfigOrderEnum::START_FIRST
            } else {
                ServiceSpecUpdateConfigOrderEnum::STOP_FIRST
            }
        }),
    })
}

fn rollback_config(u: &UpdateSpec) -> Result<ServiceSpecRollbackConfig> {
    Ok(ServiceSpecRollbackConfig {
        parallelism: u.parallelism.map(i64_of),
        delay: u.delay.map(nanos),
        failure_action: match u.failure_action.as_deref() {
            None => None,
            Some("continue") => Some(ServiceSpecRollbackConfigFailureActionEnum::CONTINUE),
            Some("pause") => Some(ServiceSpecRollbackConfigFailureActionEnum::PAUSE),
            Some(other) => {
                return Err(EngineError::Other(format!(
                    "rollback_config.failure_action {other:?} is not continue or pause"
                )));
            }
        },
        monitor: u.monitor.map(nanos),
        max_failure_ratio: u.max_failure_ratio,
        order: order(u.order.as_deref())?.map(|start_first| {
            if start_first {
                ServiceSpecRollbackConfigOrderEnum::START_FIRST
            } else {
                ServiceSpecRollbackConfigOrderEnum::STOP_FIRST
            }
        }),
    })
}

/// `Some(true)` for start-first.
fn order(o: Option<&str>) -> Result<Option<bool>> {
    match o {
        None => Ok(None),
        Some("start-first") => Ok(Some(true)),
        Some("stop-first") => Ok(Some(false)),
        Some(other) => Err(EngineError::Other(format!(
            "update order {other:?} is not start-first or stop-first"
        ))),
    }
}

fn port(p: &PortSpec) -> Result<EndpointPortConfig> {
    Ok(EndpointPortConfig {
        name: p.name.clone(),
        protocol: Some(match p.protocol.as_str() {
            "tcp" | "" => EndpointPortConfigProtocolEnum::TCP,
            "udp" => EndpointPortConfigProtocolEnum::UDP,
            "sctp" => EndpointPortConfigProtocolEnum::SCTP,
            other => {
                return Err(EngineError::Other(format!(
                    "port {}: unknown protocol {other:?}",
                    p.target
                )));
            }
        }),
        target_port: Some(i64::from(p.target)),
        published_port: p.published.map(i64::from),
        publish_mode: Some(match p.mode {
            PublishMode::Ingress => EndpointPortConfigPublishModeEnum::INGRESS,
            PublishMode::Host => EndpointPortConfigPublishModeEnum::HOST,
        }),
    })
}

/// The request body of `POST /services/create` and `/services/{id}/update`.
pub fn service_spec(s: &ServiceSpec) -> Result<bollard::models::ServiceSpec> {
    let mode = match s.mode {
        ServiceMode::Replicated { replicas } => ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64_of(replicas)),
            }),
            ..Default::default()
        },
        ServiceMode::Global => ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        },
        ServiceMode::ReplicatedJob {
            completions,
            max_concurrent,
        } => ServiceSpecMode {
            replicated_job: Some(ServiceSpecModeReplicatedJob {
                max_concurrent: Some(i64_of(max_concurrent)),
                total_completions: Some(i64_of(completions)),
            }),
            ..Default::default()
        },
        ServiceMode::GlobalJob => ServiceSpecMode {
            global_job: Some(HashMap::new()),
            ..Default::default()
        },
    };
    let networks: Vec<NetworkAttachmentConfig> = s
        .networks
        .iter()
        .map(|n| NetworkAttachmentConfig {
            target: Some(n.target.clone()),
            aliases: some_vec(&n.aliases),
            driver_opts: some_map(&n.driver_opts),
        })
        .collect();
    Ok(bollard::models::ServiceSpec {
        name: Some(s.name.clone()),
        labels: Some(hash_map(&s.labels)),
        task_template: Some(TaskSpec {
            container_spec: Some(container(&s.container)?),
            resources: resources(&s.limits, &s.reservations),
            restart_policy: Some(restart(&s.restart)),
            placement: placement(&s.placement),
            networks: (!networks.is_empty()).then_some(networks),
            log_driver: s.log_driver.as_ref().map(|d| TaskSpecLogDriver {
                name: Some(d.clone()),
                options: some_map(&s.log_opts),
            }),
            ..Default::default()
        }),
        mode: Some(mode),
        update_config: s.update_config.as_ref().map(update_config).transpose()?,
        rollback_config: s
            .rollback_config
            .as_ref()
            .map(rollback_config)
            .transpose()?,
        endpoint_spec: Some(EndpointSpec {
            mode: Some(match s.endpoint_mode {
                EndpointMode::Vip => EndpointSpecModeEnum::VIP,
                EndpointMode::Dnsrr => EndpointSpecModeEnum::DNSRR,
            }),
            ports: Some(s.ports.iter().map(port).collect::<Result<Vec<_>>>()?)
                .filter(|p| !p.is_empty()),
        }),
        ..Default::default()
    })
}

fn time(t: Option<&String>) -> i128 {
    t.and_then(|s| parse_rfc3339(s)).unwrap_or(0)
}

fn observed_ports(ports: Option<Vec<EndpointPortConfig>>) -> Vec<ObservedPort> {
    let mut out: Vec<ObservedPort> = ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| ObservedPort {
            protocol: p.protocol.map(|x| x.to_string()).unwrap_or_default(),
            target: p
                .target_port
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(0),
            published: p
                .published_port
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(0),
            mode: p.publish_mode.map(|x| x.to_string()).unwrap_or_default(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn observed_service(s: bollard::models::Service) -> ObservedService {
    let spec = s.spec.unwrap_or_default();
    let (replicas, mode) = match &spec.mode {
        Some(m) if m.replicated.is_some() => (
            m.replicated
                .as_ref()
                .and_then(|r| r.replicas)
                .map(|n| n.max(0) as u64),
            "replicated",
        ),
        Some(m) if m.global.is_some() => (None, "global"),
        Some(m) if m.replicated_job.is_some() => (None, "replicated-job"),
        Some(m) if m.global_job.is_some() => (None, "global-job"),
        _ => (None, "replicated"),
    };
    let image = spec
        .task_template
        .as_ref()
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let update = s.update_status.unwrap_or_default();
    ObservedService {
        id: s.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        labels: btree(spec.labels),
        version: s.version.and_then(|v| v.index).unwrap_or(0),
        created_at: time(s.created_at.as_ref()),
        updated_at: time(s.updated_at.as_ref()),
        replicas,
        mode: mode.to_string(),
        image,
        ports: observed_ports(s.endpoint.and_then(|e| e.ports)),
        update_state: update
            .state
            .map(|x| x.to_string())
            .filter(|x| !x.is_empty()),
        update_message: update.message.unwrap_or_default(),
    }
}

pub fn observed_task(t: bollard::models::Task) -> ObservedTask {
    let status = t.status.unwrap_or_default();
    let cs = status.container_status.unwrap_or_default();
    ObservedTask {
        id: t.id.unwrap_or_default(),
        service_id: t.service_id.unwrap_or_default(),
        slot: t.slot.and_then(|n| u64::try_from(n).ok()),
        node_id: t.node_id.unwrap_or_default(),
        state: status.state.map(|x| x.to_string()).unwrap_or_default(),
        desired_state: t.desired_state.map(|x| x.to_string()).unwrap_or_default(),
        message: status.message.unwrap_or_default(),
        error: status.err.unwrap_or_default(),
        exit_code: cs.exit_code,
        container_id: cs.container_id.filter(|c| !c.is_empty()),
        created_at: time(t.created_at.as_ref()),
        state_since: time(status.timestamp.as_ref()),
        ports: observed_ports(status.port_status.and_then(|p| p.ports)),
    }
}

pub fn observed_secret(s: bollard::models::Secret) -> ObservedObject {
    let spec = s.spec.unwrap_or_default();
    ObservedObject {
        id: s.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        labels: btree(spec.labels),
    }
}

pub fn observed_config(c: bollard::models::Config) -> ObservedObject {
    let spec = c.spec.unwrap_or_default();
    ObservedObject {
        id: c.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        labels: btree(spec.labels),
    }
}

pub fn swarm_status(i: &bollard::models::SystemInfo) -> SwarmStatus {
    let s = i.swarm.clone().unwrap_or_default();
    SwarmStatus {
        state: s
            .local_node_state
            .map(|x| x.to_string())
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| "inactive".into()),
        node_id: s.node_id.unwrap_or_default(),
        is_manager: s.control_available.unwrap_or(false),
        nodes: s.nodes.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        now: time(i.system_time.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use serde_json::json;

    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }

    fn spec() -> ServiceSpec {
        ServiceSpec {
            name: "demo_web".into(),
            labels: BTreeMap::from([("com.docker.stack.namespace".into(), "demo".into())]),
            mode: ServiceMode::Replicated { replicas: 2 },
            container: TaskContainerSpec {
                image: "web:1".into(),
                entrypoint: Some(vec!["/entry".into()]),
                args: Some(vec!["serve".into(), "--port=80".into()]),
                env: vec!["A=1".into()],
                read_only: true,
                cap_drop: vec!["ALL".into()],
                healthcheck: Some(HealthCheckSpec {
                    test: vec!["CMD".into(), "true".into()],
                    interval: Some(Duration::from_secs(1)),
                    timeout: None,
                    retries: Some(3),
                    start_period: None,
                    start_interval: None,
                }),
                secrets: vec![FileRefSpec {
                    object: "demo_pw-0123456789".into(),
                    object_id: "sec1".into(),
                    target: "pw".into(),
                    uid: "0".into(),
                    gid: "0".into(),
                    mode: 0o400,
                }],
                mounts: vec![{
                    let mut m = SwarmMount::new(SwarmMountKind::Volume, Some("demo_data"), "/data");
                    m.volume_labels
                        .insert("com.docker.stack.namespace".into(), "demo".into());
                    m
                }],
                ..Default::default()
            },
            limits: ResourceSpec {
                nano_cpus: Some(500_000_000),
                memory: Some(64 << 20),
                pids: None,
            },
            reservations: ResourceSpec::default(),
            restart: RestartSpec {
                condition: RestartCondition::OnFailure,
                delay: None,
                max_attempts: Some(3),
                window: None,
            },
            placement: PlacementSpec {
                constraints: vec!["node.role==manager".into()],
                ..Default::default()
            },
            networks: vec![NetworkAttachment {
                target: "demo_public".into(),
                aliases: vec!["web".into()],
                driver_opts: BTreeMap::new(),
            }],
            endpoint_mode: EndpointMode::Dnsrr,
            ports: vec![PortSpec {
                name: None,
                protocol: "tcp".into(),
                target: 80,
                published: None,
                mode: PublishMode::Host,
            }],
            update_config: None,
            rollback_config: None,
            log_driver: None,
            log_opts: BTreeMap::new(),
        }
    }

    #[test]
    fn a_service_spec_becomes_the_api_body_swarm_expects() {
        let body = serde_json::to_value(service_spec(&spec()).unwrap()).unwrap();
        let c = &body["TaskTemplate"]["ContainerSpec"];
        // Compose's entrypoint is Swarm's Command, its command Swarm's Args.
        assert_eq!(c["Command"], json!(["/entry"]));
        assert_eq!(c["Args"], json!(["serve", "--port=80"]));
        assert_eq!(c["ReadOnly"], json!(true));
        assert_eq!(c["CapabilityDrop"], json!(["ALL"]));
        assert_eq!(c["HealthCheck"]["Interval"], json!(1_000_000_000));
        assert_eq!(c["Secrets"][0]["SecretID"], json!("sec1"));
        assert_eq!(c["Secrets"][0]["File"]["Mode"], json!(0o400));
        assert_eq!(
            c["Mounts"][0]["VolumeOptions"]["Labels"]["com.docker.stack.namespace"],
            json!("demo")
        );
        assert!(c.get("Privileges").is_none(), "{c}");
        assert_eq!(body["Mode"]["Replicated"]["Replicas"], json!(2));
        assert_eq!(body["EndpointSpec"]["Mode"], json!("dnsrr"));
        assert_eq!(
            body["EndpointSpec"]["Ports"][0],
            json!({"Protocol": "tcp", "TargetPort": 80, "PublishMode": "host"})
        );
        assert_eq!(
            body["TaskTemplate"]["Networks"][0],
            json!({"Target": "demo_public", "Aliases": ["web"]})
        );
        assert_eq!(
            body["TaskTemplate"]["RestartPolicy"],
            json!({"Condition": "on-failure", "MaxAttempts": 3})
        );
        assert_eq!(
            body["TaskTemplate"]["Resources"]["Limits"],
            json!({"NanoCPUs": 500_000_000, "MemoryBytes": 67_108_864})
        );
        assert_eq!(
            body["TaskTemplate"]["Placement"]["Constraints"],
            json!(["node.role==manager"])
        );
    }

    #[test]
    fn jobs_and_global_services_use_their_own_modes() {
        let mut s = spec();
        s.mode = ServiceMode::ReplicatedJob {
            completions: 1,
            max_concurrent: 1,
        };
        let body = serde_json::to_value(service_spec(&s).unwrap()).unwrap();
        assert_eq!(
            body["Mode"],
            json!({"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}})
        );
        s.mode = ServiceMode::Global;
        let body = serde_json::to_value(service_spec(&s).unwrap()).unwrap();
        assert_eq!(body["Mode"], json!({"Global": {}}));
    }

    #[test]
    fn no_new_privileges_is_sent_only_when_asked_for() {
        let mut s = spec();
        s.container.no_new_privileges = true;
        let body = serde_json::to_value(service_spec(&s).unwrap()).unwrap();
        assert_eq!(
            body["TaskTemplate"]["ContainerSpec"]["Privileges"],
            json!({"NoNewPrivileges": true})
        );
    }

    #[test]
    fn an_unknown_update_order_is_an_error_not_a_default() {
        let mut s = spec();
        s.update_config = Some(UpdateSpec {
            parallelism: Some(1),
            delay: None,
            failure_action: None,
            monitor: None,
            max_failure_ratio: None,
            order: Some("sideways".into()),
        });
        let e = service_spec(&s).unwrap_err().to_string();
        assert!(e.contains("sideways"), "{e}");
    }

    #[test]
    fn tasks_report_state_exit_code_and_host_ports() {
        let t: bollard::models::Task = serde_json::from_value(json!({
            "ID": "t1", "ServiceID": "s1", "Slot": 1, "NodeID": "n1",
            "CreatedAt": "2026-11-22T18:53:08.5Z",
            "DesiredState": "shutdown",
            "Status": {
                "Timestamp": "2026-11-22T18:53:11.695599335Z",
                "State": "failed", "Message": "started", "Err": "task: non-zero exit (3)",
                "ContainerStatus": {"ContainerID": "c1", "ExitCode": 3},
                "PortStatus": {"Ports": [{"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 32771, "PublishMode": "host"}]}
            }
        }))
        .unwrap();
        let o = observed_task(t);
        assert_eq!(o.state, "failed");
        assert_eq!(o.desired_state, "shutdown");
        assert_eq!(o.exit_code, Some(3));
        assert_eq!(o.container_id.as_deref(), Some("c1"));
        assert!(o.failed());
        assert!(o.created_at < o.state_since);
        assert_eq!(
            o.ports,
            vec![ObservedPort {
                protocol: "tcp".into(),
                target: 8080,
                published: 32771,
                mode: "host".into()
            }]
        );
    }
}
