//! Compose service → Swarm service spec: how each attribute maps (Compose's
//! entrypoint/command, restart → restart policy, resources, health checks,
//! mounts and volume labels, secrets and configs as files, network aliases,
//! endpoint mode and publish mode with the fallbacks a kernel without IPVS
//! forces). Pure; adjustments it makes are returned as warnings.

use std::time::Duration;

use crate::compose::model::{FileRef, Project, Service, UpdateConfig};
use crate::compose::units;
use crate::engine::swarm::kernel::VipSupport;
use crate::engine::swarm::types::*;

use super::findings::{no_new_privileges_supported, start_interval_supported};
use super::{EndpointChoice, Facts, Finding, Severity, labels};

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The Swarm name of a compose service, as `docker stack deploy` names it.
pub fn service_name(project: &str, key: &str) -> String {
    format!("{project}_{key}")
}

/// A service some other service waits for with `service_completed_successfully`
/// is a one-shot job: its tasks must end (and a failure must not be retried
/// forever unless the file asks for it).
pub fn is_completion_target(project: &Project, key: &str) -> bool {
    project.services.values().any(|s| {
        s.depends_on.get(key).is_some_and(|d| {
            d.condition == crate::compose::model::Condition::ServiceCompletedSuccessfully
        })
    })
}

pub fn mode(svc: &Service) -> ServiceMode {
    let replicas = u64::from(svc.replicas());
    match svc.deploy.as_ref().map(|d| d.mode.as_str()).unwrap_or("") {
        "global" => ServiceMode::Global,
        "replicated-job" => ServiceMode::ReplicatedJob {
            completions: replicas,
            max_concurrent: replicas.max(1),
        },
        "global-job" => ServiceMode::GlobalJob,
        _ => ServiceMode::Replicated { replicas },
    }
}

/// `deploy.restart_policy` wins (it is Swarm's own); else `restart:` maps
/// (no → none, on-failure[:N], always/unless-stopped → any); else a one-shot
/// job does not restart (a failed migration fails the deploy, as with `up`)
/// and everything else restarts on any exit, Swarm's default.
pub fn restart(svc: &Service, completion_target: bool) -> RestartSpec {
    let spec = |condition, max_attempts| RestartSpec {
        condition,
        delay: None,
        max_attempts,
        window: None,
    };
    if let Some(rp) = svc.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) {
        return RestartSpec {
            condition: match rp.condition.as_str() {
                "none" => RestartCondition::None,
                "on-failure" => RestartCondition::OnFailure,
                _ => RestartCondition::Any,
            },
            delay: rp.delay.map(|d| d.as_std()),
            max_attempts: rp.max_attempts,
            window: rp.window.map(|d| d.as_std()),
        };
    }
    if !svc.restart.is_empty() {
        let (name, n) = svc
            .restart
            .split_once(':')
            .unwrap_or((svc.restart.as_str(), ""));
        return match name {
            "no" => spec(RestartCondition::None, None),
            "on-failure" => spec(RestartCondition::OnFailure, n.parse().ok()),
            _ => spec(RestartCondition::Any, None),
        };
    }
    if completion_target || mode(svc).is_job() {
        spec(RestartCondition::None, None)
    } else {
        spec(RestartCondition::Any, None)
    }
}

fn healthcheck(svc: &Service, api: (u32, u32)) -> Option<HealthCheckSpec> {
    let hc = svc.healthcheck.as_ref()?;
    if hc.is_disabled() {
        return Some(HealthCheckSpec {
            test: vec!["NONE".into()],
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
            start_interval: None,
        });
    }
    Some(HealthCheckSpec {
        test: hc.test.clone(),
        interval: hc.interval.map(|d| d.as_std()),
        timeout: hc.timeout.map(|d| d.as_std()),
        retries: hc.retries.map(|r| r.min(u64::from(u32::MAX)) as u32),
        start_period: hc.start_period.map(|d| d.as_std()),
        start_interval: hc
            .start_interval
            .filter(|_| start_interval_supported(api))
            .map(|d| d.as_std()),
    })
}

fn octal_mode(v: &Option<serde_json::Value>) -> Option<u32> {
    let v = v.as_ref()?;
    v.as_u64()
        .map(|m| m as u32)
        .or_else(|| v.as_str().and_then(|s| u32::from_str_radix(s, 8).ok()))
}

fn file_ref(r: &FileRef, secret: bool) -> FileRefSpec {
    let target = if secret {
        // Swarm puts secrets under /run/secrets/ by a relative name.
        match r.target.as_str() {
            "" => r.source.clone(),
            t => t.strip_prefix("/run/secrets/").unwrap_or(t).to_string(),
        }
    } else if r.target.is_empty() {
        format!("/{}", r.source)
    } else {
        r.target.clone()
    };
    FileRefSpec {
        // The compose key; `steps` replaces it with the Swarm object's name.
        object: r.source.clone(),
        object_id: String::new(),
        target,
        uid: non_empty(&r.uid).unwrap_or_else(|| "0".into()),
        gid: non_empty(&r.gid).unwrap_or_else(|| "0".into()),
        mode: octal_mode(&r.mode).unwrap_or(0o444),
    }
}

fn mounts(project: &Project, svc: &Service) -> Vec<SwarmMount> {
    let mut out = Vec::new();
    for m in &svc.volumes {
        let kind = match m.kind.as_str() {
            "bind" => SwarmMountKind::Bind,
            "tmpfs" => SwarmMountKind::Tmpfs,
            "volume" => SwarmMountKind::Volume,
            // Reported by `findings`; never sent.
            _ => continue,
        };
        let mut sm = SwarmMount::new(kind, None, &m.target);
        sm.read_only = m.read_only;
        match kind {
            SwarmMountKind::Bind => {
                sm.source = Some(m.source.clone());
                sm.bind_propagation = m.bind.as_ref().and_then(|b| non_empty(&b.propagation));
            }
            SwarmMountKind::Volume if !m.source.is_empty() => {
                match project.volumes.get(&m.source) {
                    Some(v) if v.external => sm.source = Some(v.name.clone()),
                    Some(v) => {
                        sm.source = Some(v.name.clone());
                        sm.volume_labels = labels::volume(&project.name, &m.source, &v.labels);
                        sm.volume_driver = non_empty(&v.driver);
                        sm.volume_driver_opts = v.driver_opts.clone();
                    }
                    None => sm.source = Some(m.source.clone()),
                }
            }
            SwarmMountKind::Volume => {}
            SwarmMountKind::Tmpfs => {
                sm.tmpfs_size = m.tmpfs.as_ref().and_then(|t| t.size).map(|b| b.0);
                sm.tmpfs_mode = m.tmpfs.as_ref().and_then(|t| t.mode);
            }
        }
        sm.volume_nocopy = m.volume.as_ref().is_some_and(|v| v.nocopy);
        out.push(sm);
    }
    // `tmpfs:` short syntax: "/path[:size=..,mode=..]".
    for t in &svc.tmpfs.0 {
        let (path, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        let mut sm = SwarmMount::new(SwarmMountKind::Tmpfs, None, path);
        for o in opts.split(',') {
            match o.split_once('=') {
                Some(("size", v)) => sm.tmpfs_size = units::parse_bytes(v).ok(),
                Some(("mode", v)) => sm.tmpfs_mode = u32::from_str_radix(v, 8).ok(),
                _ => {}
            }
        }
        out.push(sm);
    }
    // Swarm has no shm_size; a tmpfs at /dev/shm of that size is the same thing.
    if let Some(size) = svc.shm_size
        && !out.iter().any(|m| m.target == "/dev/shm")
    {
        let mut sm = SwarmMount::new(SwarmMountKind::Tmpfs, None, "/dev/shm");
        sm.tmpfs_size = Some(size.0);
        out.push(sm);
    }
    out
}

fn update(u: &UpdateConfig) -> UpdateSpec {
    UpdateSpec {
        parallelism: u.parallelism,
        delay: u.delay.map(|d| d.as_std()),
        failure_action: non_empty(&u.failure_action),
        monitor: u.monitor.map(|d| d.as_std()),
        max_failure_ratio: (u.max_failure_ratio != 0.0).then_some(u.max_failure_ratio),
        order: non_empty(&u.order),
    }
}

fn cpus(c: f64) -> Option<i64> {
    (c > 0.0).then(|| (c * 1e9).round() as i64)
}

/// The attribute of the per-service "VIP cannot route, using dnsrr" notes.
pub const VIP_FALLBACK: &str = "deploy.endpoint_mode";

/// VIP or DNS round-robin, and whether the routing mesh can publish ports.
fn endpoint(
    key: &str,
    svc: &Service,
    facts: &Facts,
    out: &mut Vec<Finding>,
) -> (EndpointMode, bool) {
    let written = svc
        .deploy
        .as_ref()
        .map(|d| d.endpoint_mode.as_str())
        .unwrap_or("");
    let wanted = match facts.endpoint_mode {
        EndpointChoice::Vip => EndpointMode::Vip,
        EndpointChoice::Dnsrr => EndpointMode::Dnsrr,
        EndpointChoice::Auto if written == "dnsrr" => EndpointMode::Dnsrr,
        EndpointChoice::Auto => EndpointMode::Vip,
    };
    let unavailable = match (&facts.vip, facts.endpoint_mode) {
        // `--endpoint-mode vip` is the user vouching for the kernel.
        (VipSupport::Unavailable(why), EndpointChoice::Auto) => Some(why.clone()),
        _ => None,
    };
    match (wanted, unavailable) {
        (EndpointMode::Vip, Some(why)) => {
            // One per service; `deployment` folds them into a single warning.
            out.push(Finding {
                severity: Severity::Warning,
                service: Some(key.to_string()),
                attribute: VIP_FALLBACK.into(),
                problem: why,
                fix: String::new(),
            });
            (EndpointMode::Dnsrr, false)
        }
        (mode, why) => (mode, why.is_none()),
    }
}

fn ports(
    key: &str,
    svc: &Service,
    endpoint: EndpointMode,
    mesh: bool,
    out: &mut Vec<Finding>,
) -> Vec<PortSpec> {
    let mut specs = Vec::new();
    let mut moved = Vec::new();
    for p in &svc.ports {
        let Ok(target) = u16::try_from(p.target) else {
            continue;
        };
        let published = match p.published.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) if p.published.is_empty() => None,
            // A range or garbage: reported by `findings`.
            Err(_) => continue,
        };
        let mode = if p.mode == "host" {
            PublishMode::Host
        } else if endpoint == EndpointMode::Dnsrr || !mesh {
            moved.push(match published {
                Some(n) => format!("{n}:{target}"),
                None => target.to_string(),
            });
            PublishMode::Host
        } else {
            PublishMode::Ingress
        };
        specs.push(PortSpec {
            name: non_empty(&p.name),
            protocol: non_empty(&p.protocol).unwrap_or_else(|| "tcp".into()),
            target,
            published,
            mode,
        });
    }
    if !moved.is_empty() {
        let why = if endpoint == EndpointMode::Dnsrr && mesh {
            "the routing mesh needs endpoint_mode vip"
        } else {
            "the routing mesh needs IPVS, which this engine's kernel lacks"
        };
        out.push(Finding {
            severity: Severity::Warning,
            service: Some(key.to_string()),
            attribute: format!("ports: {}", moved.join(", ")),
            problem: format!(
                "published in mode host ({why}): the port answers only on nodes running a task, and two tasks on one node cannot share a fixed port"
            ),
            fix: "nothing to do on one node; on several, pin the service with a placement constraint or leave the published port empty".into(),
        });
    }
    specs
}

/// The spec of compose service `key`, and the warnings its mapping raised.
/// Secret and config references carry compose keys in `FileRefSpec::object`.
pub fn spec(
    project: &Project,
    key: &str,
    svc: &Service,
    facts: &Facts,
) -> (ServiceSpec, Vec<Finding>) {
    let mut notes = Vec::new();
    let image = svc.image_name(&project.name, key);
    let completion = is_completion_target(project, key);
    let (endpoint_mode, mesh) = endpoint(key, svc, facts, &mut notes);
    let ports = ports(key, svc, endpoint_mode, mesh, &mut notes);
    let deploy = svc.deploy.clone().unwrap_or_default();
    let limits = deploy.resources.limits.clone().unwrap_or_default();
    let reservations = deploy.resources.reservations.clone().unwrap_or_default();
    let mut nets: Vec<(&String, i64)> = svc
        .networks
        .iter()
        .map(|(k, v)| (k, v.as_ref().map(|n| n.priority).unwrap_or(0)))
        .collect();
    nets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let networks = nets
        .into_iter()
        .filter_map(|(net_key, _)| {
            let net = project.networks.get(net_key)?;
            let attach = svc
                .networks
                .get(net_key)
                .cloned()
                .flatten()
                .unwrap_or_default();
            let mut aliases = vec![key.to_string()];
            aliases.extend(attach.aliases.iter().filter(|a| *a != key).cloned());
            Some(NetworkAttachment {
                target: net.name.clone(),
                aliases,
                driver_opts: attach.driver_opts.clone(),
            })
        })
        .collect();
    let mut env: Vec<String> = svc
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    env.sort();
    let hosts = svc
        .extra_hosts
        .iter()
        .filter_map(|h| {
            let (host, ip) = h.split_once('=').or_else(|| h.split_once(':'))?;
            Some(format!("{ip} {host}"))
        })
        .collect();
    let no_new_privileges = no_new_privileges_supported(facts.api)
        && svc.security_opt.iter().any(|o| {
            matches!(
                o.as_str(),
                "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
            )
        });
    let container = TaskContainerSpec {
        image: image.clone(),
        labels: labels::container(&project.name, &svc.labels),
        entrypoint: svc.entrypoint.as_ref().map(|c| c.0.clone()),
        args: svc.command.as_ref().map(|c| c.0.clone()),
        hostname: non_empty(&svc.hostname),
        env,
        working_dir: non_empty(&svc.working_dir),
        user: non_empty(&svc.user),
        groups: svc.group_add.clone(),
        tty: svc.tty,
        open_stdin: svc.stdin_open,
        read_only: svc.read_only,
        mounts: mounts(project, svc),
        stop_signal: non_empty(&svc.stop_signal),
        stop_grace_period: svc.stop_grace_period.map(|d| d.as_std()),
        healthcheck: healthcheck(svc, facts.api),
        hosts,
        dns_nameservers: svc.dns.0.clone(),
        dns_search: svc.dns_search.0.clone(),
        dns_options: svc.dns_opt.clone(),
        secrets: svc.secrets.iter().map(|r| file_ref(r, true)).collect(),
        configs: svc.configs.iter().map(|r| file_ref(r, false)).collect(),
        init: svc.init,
        sysctls: svc.sysctls.clone(),
        cap_add: svc.cap_add.clone(),
        cap_drop: svc.cap_drop.clone(),
        ulimits: svc
            .ulimits
            .iter()
            .map(|(n, u)| {
                let (soft, hard) = u.limits();
                UlimitSpec {
                    name: n.clone(),
                    soft,
                    hard,
                }
            })
            .collect(),
        no_new_privileges,
    };
    let platform = non_empty(&svc.platform).map(|p| {
        let mut parts = p.splitn(3, '/');
        let os = parts.next().unwrap_or_default().to_string();
        let arch = parts.next().unwrap_or_default().to_string();
        (os, arch)
    });
    let spec = ServiceSpec {
        name: service_name(&project.name, key),
        labels: labels::service(&project.name, key, &deploy.labels, &image),
        mode: mode(svc),
        container,
        limits: ResourceSpec {
            nano_cpus: cpus(if svc.cpus != 0.0 {
                svc.cpus
            } else {
                limits.cpus
            }),
            memory: svc.mem_limit.or(limits.memory).map(|b| b.0),
            pids: Some(if svc.pids_limit != 0 {
                svc.pids_limit
            } else {
                limits.pids
            })
            .filter(|n| *n != 0),
        },
        reservations: ResourceSpec {
            nano_cpus: cpus(reservations.cpus),
            memory: svc.mem_reservation.or(reservations.memory).map(|b| b.0),
            pids: None,
        },
        restart: restart(svc, completion),
        placement: PlacementSpec {
            constraints: deploy.placement.constraints.clone(),
            spread: deploy
                .placement
                .preferences
                .iter()
                .filter_map(|p| p.get("spread").cloned())
                .collect(),
            max_replicas_per_node: u64::try_from(deploy.placement.max_replicas_per_node)
                .ok()
                .filter(|n| *n > 0),
            platforms: platform.into_iter().collect(),
        },
        networks,
        endpoint_mode,
        ports,
        update_config: deploy.update_config.as_ref().map(update),
        rollback_config: deploy.rollback_config.as_ref().map(update),
        log_driver: svc.logging.as_ref().and_then(|l| non_empty(&l.driver)),
        log_opts: svc
            .logging
            .as_ref()
            .map(|l| l.options.clone())
            .unwrap_or_default(),
    };
    (spec, notes)
}

/// How long `down` lets a task stop: its `stop_grace_period`, else Docker's 10 s.
pub fn grace(spec: &ServiceSpec) -> Duration {
    spec.container
        .stop_grace_period
        .unwrap_or(Duration::from_secs(10))
}
