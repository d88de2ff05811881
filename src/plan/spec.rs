//! Model → engine specs: what one container, network or volume of the project
//! looks like to the engine. Pure; owns Compose's mapping of attributes onto
//! Docker's (restart policies, resources from `deploy`, mounts, secrets as
//! read-only binds, aliases per network). Must not call the engine.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::compose::model::{Mount, Network, Project, Service, Volume};
use crate::engine::types::{
    ContainerSpec, DeviceSpec, EndpointSpec, HealthSpec, HostBinding, IpamPool, MountKind,
    MountSpec, NetworkSpec, PortKey, RestartPolicy, Ulimit, VolumeSpec,
};

use super::labels;

/// A secret or config whose content is not a file on the host (from the
/// environment or inline): written into the container after create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFile {
    pub target: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

pub fn network(project: &Project, key: &str, net: &Network) -> NetworkSpec {
    NetworkSpec {
        name: net.name.clone(),
        driver: (!net.driver.is_empty()).then(|| net.driver.clone()),
        internal: net.internal,
        attachable: net.attachable,
        enable_ipv6: net.enable_ipv6,
        driver_opts: net.driver_opts.clone(),
        ipam_driver: (!net.ipam.driver.is_empty()).then(|| net.ipam.driver.clone()),
        ipam: net
            .ipam
            .config
            .iter()
            .map(|p| IpamPool {
                subnet: non_empty(&p.subnet),
                gateway: non_empty(&p.gateway),
                ip_range: non_empty(&p.ip_range),
                aux: p.aux_addresses.clone(),
            })
            .collect(),
        labels: labels::network(&project.name, key, &net.labels),
    }
}

pub fn volume(project: &Project, key: &str, vol: &Volume) -> VolumeSpec {
    VolumeSpec {
        name: vol.name.clone(),
        driver: non_empty(&vol.driver),
        driver_opts: vol.driver_opts.clone(),
        labels: labels::volume(&project.name, key, &vol.labels),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The container spec for replica `number` of `name`, and the files to inject after create.
pub fn container(
    project: &Project,
    name: &str,
    svc: &Service,
    number: u32,
    hash: &str,
) -> (ContainerSpec, Vec<InjectedFile>) {
    let cname = labels::container_name(&project.name, name, svc, number);
    let mut spec = ContainerSpec {
        name: cname.clone(),
        image: svc.image_name(&project.name, name),
        command: svc.command.as_ref().map(|c| c.0.clone()),
        entrypoint: svc.entrypoint.as_ref().map(|c| c.0.clone()),
        env: svc
            .environment
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect(),
        labels: labels::container(project, name, svc, number, hash),
        user: non_empty(&svc.user),
        working_dir: non_empty(&svc.working_dir),
        hostname: non_empty(&svc.hostname),
        domainname: non_empty(&svc.domainname),
        tty: svc.tty,
        stdin_open: svc.stdin_open,
        stop_signal: non_empty(&svc.stop_signal),
        stop_timeout: svc
            .stop_grace_period
            .map(|d| d.as_std().as_secs().min(u32::MAX as u64) as u32),
        healthcheck: healthcheck(svc),
        restart: restart(svc),
        read_only: svc.read_only,
        privileged: svc.privileged,
        init: svc.init,
        cap_add: svc.cap_add.clone(),
        cap_drop: svc.cap_drop.clone(),
        security_opt: svc.security_opt.clone(),
        extra_hosts: svc
            .extra_hosts
            .iter()
            .map(|h| h.replacen('=', ":", 1))
            .collect(),
        dns: svc.dns.0.clone(),
        dns_search: svc.dns_search.0.clone(),
        dns_opt: svc.dns_opt.clone(),
        sysctls: svc.sysctls.clone(),
        log_driver: svc.logging.as_ref().and_then(|l| non_empty(&l.driver)),
        log_opts: svc
            .logging
            .as_ref()
            .map(|l| l.options.clone())
            .unwrap_or_default(),
        group_add: svc.group_add.clone(),
        ipc: non_empty(&svc.ipc),
        pid: non_empty(&svc.pid),
        userns_mode: non_empty(&svc.userns_mode),
        oom_score_adj: (svc.oom_score_adj != 0).then_some(svc.oom_score_adj),
        cgroup_parent: non_empty(&svc.cgroup_parent),
        platform: non_empty(&svc.platform),
        cpu_shares: (svc.cpu_shares != 0).then_some(svc.cpu_shares),
        cpu_period: (svc.cpu_period != 0).then_some(svc.cpu_period),
        cpu_quota: (svc.cpu_quota != 0).then_some(svc.cpu_quota),
        cpuset: non_empty(&svc.cpuset),
        shm_size: svc.shm_size.map(|b| b.0),
        memswap: svc.memswap_limit.map(|b| b.0),
        ..Default::default()
    };
    resources(svc, &mut spec);
    ports(svc, &mut spec);
    spec.devices = svc
        .devices
        .iter()
        .map(|d| DeviceSpec {
            host_path: d.source.clone(),
            container_path: if d.target.is_empty() {
                d.source.clone()
            } else {
                d.target.clone()
            },
            permissions: if d.permissions.is_empty() {
                "rwm".into()
            } else {
                d.permissions.clone()
            },
        })
        .collect();
    spec.ulimits = svc
        .ulimits
        .iter()
        .map(|(n, u)| {
            let (soft, hard) = u.limits();
            Ulimit {
                name: n.clone(),
                soft,
                hard,
            }
        })
        .collect();
    for t in &svc.tmpfs.0 {
        let (path, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        spec.tmpfs.insert(path.to_string(), opts.to_string());
    }
    spec.mounts = svc.volumes.iter().map(|m| mount(project, m)).collect();
    spec.volumes_from = svc
        .volumes_from
        .iter()
        .map(|v| match v.strip_prefix("container:") {
            Some(c) => c.to_string(),
            None => {
                // `service[:ro]` means that service's first container.
                let (svc_name, mode) = v.split_once(':').unwrap_or((v.as_str(), ""));
                let target = project
                    .services
                    .get(svc_name)
                    .map(|s| labels::container_name(&project.name, svc_name, s, 1))
                    .unwrap_or_else(|| svc_name.to_string());
                if mode.is_empty() {
                    target
                } else {
                    format!("{target}:{mode}")
                }
            }
        })
        .collect();
    let injected = secrets_and_configs(project, svc, &mut spec);
    network_attachments(project, name, svc, &mut spec);
    (spec, injected)
}

pub fn healthcheck(svc: &Service) -> Option<HealthSpec> {
    let hc = svc.healthcheck.as_ref()?;
    if hc.is_disabled() {
        return Some(HealthSpec {
            test: vec!["NONE".into()],
            ..Default::default()
        });
    }
    Some(HealthSpec {
        test: hc.test.clone(),
        interval: hc.interval.map(|d| d.as_std()),
        timeout: hc.timeout.map(|d| d.as_std()),
        retries: hc.retries.map(|r| r.min(u32::MAX as u64) as u32),
        start_period: hc.start_period.map(|d| d.as_std()),
        start_interval: hc.start_interval.map(|d| d.as_std()),
    })
}

/// `restart:` wins; otherwise `deploy.restart_policy` maps as Compose maps it
/// (`any` → always, `on-failure` with `max_attempts`, `none` → no).
fn restart(svc: &Service) -> Option<RestartPolicy> {
    if !svc.restart.is_empty() {
        let (name, n) = svc
            .restart
            .split_once(':')
            .unwrap_or((svc.restart.as_str(), ""));
        return Some(match name {
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure {
                max_retries: n.parse().ok(),
            },
            _ => RestartPolicy::No,
        });
    }
    let rp = svc.deploy.as_ref()?.restart_policy.as_ref()?;
    Some(match rp.condition.as_str() {
        "none" => RestartPolicy::No,
        "on-failure" => RestartPolicy::OnFailure {
            max_retries: rp.max_attempts.map(|m| m.min(u32::MAX as u64) as u32),
        },
        _ => RestartPolicy::Always,
    })
}

fn resources(svc: &Service, spec: &mut ContainerSpec) {
    let limits = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.as_ref());
    let reservations = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    spec.memory = svc.mem_limit.or(limits.and_then(|l| l.memory)).map(|b| b.0);
    spec.memory_reservation = svc
        .mem_reservation
        .or(reservations.and_then(|r| r.memory))
        .map(|b| b.0);
    let cpus = if svc.cpus != 0.0 {
        svc.cpus
    } else {
        limits.map(|l| l.cpus).unwrap_or(0.0)
    };
    spec.nano_cpus = (cpus > 0.0).then(|| (cpus * 1e9).round() as i64);
    let pids = if svc.pids_limit != 0 {
        svc.pids_limit
    } else {
        limits.map(|l| l.pids).unwrap_or(0)
    };
    spec.pids_limit = (pids != 0).then_some(pids);
}

fn ports(svc: &Service, spec: &mut ContainerSpec) {
    for e in &svc.expose {
        let (port, proto) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
        // An `expose` range ("3000-3005") opens each port.
        let (lo, hi) = port.split_once('-').unwrap_or((port, port));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
            for p in lo..=hi.max(lo) {
                let key = PortKey {
                    port: p,
                    protocol: proto.to_string(),
                };
                if !spec.exposed_ports.contains(&key) {
                    spec.exposed_ports.push(key);
                }
            }
        }
    }
    for p in &svc.ports {
        let Ok(port) = u16::try_from(p.target) else {
            continue;
        };
        let protocol = if p.protocol.is_empty() {
            "tcp".to_string()
        } else {
            p.protocol.clone()
        };
        let key = PortKey { port, protocol };
        // Docker publishes only ports that are also exposed (engine notes G5).
        if !spec.exposed_ports.contains(&key) {
            spec.exposed_ports.push(key.clone());
        }
        spec.port_bindings
            .entry(key)
            .or_default()
            .push(HostBinding {
                host_ip: p.host_ip.clone(),
                host_port: p.published.clone(),
            });
    }
}

fn mount(project: &Project, m: &Mount) -> MountSpec {
    let kind = match m.kind.as_str() {
        "bind" => MountKind::Bind,
        "tmpfs" => MountKind::Tmpfs,
        _ => MountKind::Volume,
    };
    let source = match kind {
        // A named volume is addressed by its engine name (`<project>_<key>` or `name:`).
        MountKind::Volume if !m.source.is_empty() => Some(
            project
                .volumes
                .get(&m.source)
                .map(|v| v.name.clone())
                .unwrap_or_else(|| m.source.clone()),
        ),
        MountKind::Volume | MountKind::Tmpfs => None,
        _ => Some(m.source.clone()),
    };
    let mut spec = MountSpec::new(kind, source.as_deref(), &m.target);
    spec.read_only = m.read_only;
    if let Some(b) = &m.bind {
        spec.bind_propagation = non_empty(&b.propagation);
        spec.bind_create_host_path = b.create_host_path;
    }
    if let Some(v) = &m.volume {
        spec.volume_nocopy = v.nocopy;
        spec.volume_subpath = non_empty(&v.subpath);
    }
    if let Some(t) = &m.tmpfs {
        spec.tmpfs_size = t.size.map(|b| b.0);
        spec.tmpfs_mode = t.mode;
    }
    spec
}

/// File-backed secrets and configs are read-only bind mounts (as Compose does
/// without Swarm); environment-backed and inline ones are injected after create.
fn secrets_and_configs(
    project: &Project,
    svc: &Service,
    spec: &mut ContainerSpec,
) -> Vec<InjectedFile> {
    let mut injected = Vec::new();
    let refs = svc
        .secrets
        .iter()
        .map(|r| (r, project.secrets.get(&r.source), "/run/secrets/"))
        .chain(
            svc.configs
                .iter()
                .map(|r| (r, project.configs.get(&r.source), "/")),
        );
    for (r, obj, default_dir) in refs {
        let Some(obj) = obj else { continue };
        let target = if r.target.is_empty() {
            format!("{default_dir}{}", r.source)
        } else if r.target.starts_with('/') {
            r.target.clone()
        } else {
            format!("{default_dir}{}", r.target)
        };
        let mode = r
            .mode
            .as_ref()
            .and_then(|m| {
                m.as_u64()
                    .or_else(|| m.as_str().and_then(|s| u64::from_str_radix(s, 8).ok()))
            })
            .map(|m| m as u32)
            .unwrap_or(0o444);
        if !obj.file.is_empty() {
            let mut m = MountSpec::new(MountKind::Bind, Some(&obj.file), &target);
            m.read_only = true;
            spec.mounts.push(m);
        } else if let Some(value) = &obj.value {
            injected.push(InjectedFile {
                target,
                content: value.clone().into_bytes(),
                mode,
            });
        } else if !obj.content.is_empty() {
            injected.push(InjectedFile {
                target,
                content: obj.content.clone().into_bytes(),
                mode,
            });
        }
    }
    injected
}

/// Every network gets the service name and its aliases (so `redis` resolves
/// only on networks redis is on); the order puts the highest `priority` first.
fn network_attachments(project: &Project, name: &str, svc: &Service, spec: &mut ContainerSpec) {
    if !svc.network_mode.is_empty() {
        spec.network_mode = Some(match svc.network_mode.strip_prefix("service:") {
            Some(target) => {
                let target_name = project
                    .services
                    .get(target)
                    .map(|s| labels::container_name(&project.name, target, s, 1))
                    .unwrap_or_else(|| target.to_string());
                format!("container:{target_name}")
            }
            None => svc.network_mode.clone(),
        });
        return;
    }
    let mut nets: Vec<(&String, i64)> = svc
        .networks
        .iter()
        .map(|(k, v)| (k, v.as_ref().map(|n| n.priority).unwrap_or(0)))
        .collect();
    nets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (key, _) in nets {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        let attach = svc.networks.get(key).cloned().flatten().unwrap_or_default();
        let mut aliases = vec![name.to_string()];
        aliases.extend(attach.aliases.iter().cloned());
        spec.networks.push(EndpointSpec {
            network: net.name.clone(),
            aliases,
            ipv4_address: non_empty(&attach.ipv4_address),
            ipv6_address: non_empty(&attach.ipv6_address),
        });
    }
    spec.network_mode = spec.networks.first().map(|e| e.network.clone());
}

/// How long `down`/`stop` waits before killing: `stop_grace_period`, else Docker's 10 s.
pub fn stop_timeout(svc: &Service) -> Duration {
    svc.stop_grace_period
        .map(|d| d.as_std())
        .unwrap_or(Duration::from_secs(10))
}

/// Sorted env for display and hashing.
pub fn env_map(spec: &ContainerSpec) -> BTreeMap<&str, &str> {
    spec.env
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}
