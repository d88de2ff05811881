//! What Swarm cannot honour, attribute by attribute: each finding names the
//! service (or resource), the attribute, what would happen, and what to do.
//!
//! The rule for error vs warning: an **error** when deploying anyway would
//! change what the service can do or reach in a way that breaks it or makes
//! it less safe (privileges, namespaces, fixed addresses, host-bound ports,
//! files only this machine has, hardening the engine would drop); a
//! **warning** when the attribute is a local-engine nicety whose loss changes
//! neither function nor safety, or Swarm has its own mechanism that takes its
//! place (names, build, tuning knobs). Mapped attributes produce nothing.
//! Pure: reads the model, returns findings.

use std::path::Path;

use crate::compose::model::{Project, Service};

use super::{Facts, Finding, Severity};

/// `no-new-privileges` in a service's `ContainerSpec.Privileges` (Engine API
/// 1.46); older managers ignore the field silently, so it is never sent there.
pub fn no_new_privileges_supported(api: (u32, u32)) -> bool {
    api >= (1, 46)
}

/// `HealthConfig.StartInterval` (API 1.44), as for containers.
pub fn start_interval_supported(api: (u32, u32)) -> bool {
    api >= (1, 44)
}

struct Sink<'a> {
    out: &'a mut Vec<Finding>,
    service: Option<String>,
}

impl Sink<'_> {
    fn push(&mut self, severity: Severity, attribute: &str, problem: &str, fix: &str) {
        self.out.push(Finding {
            severity,
            service: self.service.clone(),
            attribute: attribute.to_string(),
            problem: problem.to_string(),
            fix: fix.to_string(),
        });
    }
    fn error(&mut self, attribute: &str, problem: &str, fix: &str) {
        self.push(Severity::Error, attribute, problem, fix);
    }
    fn warn(&mut self, attribute: &str, problem: &str, fix: &str) {
        self.push(Severity::Warning, attribute, problem, fix);
    }
}

/// Every attribute of the project Swarm cannot honour as written.
pub fn check(project: &Project, facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, svc) in &project.services {
        let mut s = Sink {
            out: &mut out,
            service: Some(name.clone()),
        };
        service(project, svc, facts, &mut s);
    }
    resources(project, &mut out);
    out
}

fn service(project: &Project, svc: &Service, facts: &Facts, s: &mut Sink) {
    if svc.build.is_some() {
        s.warn(
            "build",
            "deploy does not build: Swarm runs the image",
            "run `aistack build` first; with several nodes, push the image to a registry every node can pull from",
        );
    }
    if !svc.container_name.is_empty() {
        s.warn(
            "container_name",
            "Swarm names task containers itself (<stack>_<service>.<slot>.<id>); the service name still resolves",
            "remove container_name, or ignore this",
        );
    }
    if svc.privileged {
        s.error(
            "privileged",
            "Swarm cannot run privileged tasks; the service would run without the privileges it asks for",
            "grant only what it needs with cap_add (Swarm honours cap_add/cap_drop), or keep this service on `aistack up`",
        );
    }
    if !svc.network_mode.is_empty() {
        s.error(
            &format!("network_mode: {}", svc.network_mode),
            "Swarm tasks join networks; they cannot share another container's or the host's network namespace",
            "use networks: (a shared overlay network gives the same reachability), or keep this service on `aistack up`",
        );
    }
    if !svc.devices.is_empty() {
        s.error(
            "devices",
            "Swarm services cannot map host devices",
            "keep this service on `aistack up`, or run it as a plain container on the node that has the device",
        );
    }
    if !svc.volumes_from.is_empty() {
        s.error(
            "volumes_from",
            "Swarm tasks cannot mount another container's volumes",
            "mount the same named volume in both services instead",
        );
    }
    for l in &svc.links {
        let (target, alias) = l.split_once(':').unwrap_or((l.as_str(), l.as_str()));
        if alias != target {
            s.error(
                &format!("links: {l}"),
                &format!("Swarm has no links: the alias \"{alias}\" would not resolve"),
                &format!("add \"{alias}\" to networks.<net>.aliases of service \"{target}\""),
            );
        } else {
            s.warn(
                &format!("links: {l}"),
                "Swarm has no links (the service name resolves on shared networks anyway)",
                "remove the link",
            );
        }
    }
    for (attr, value) in [("pid", &svc.pid), ("ipc", &svc.ipc)] {
        if !value.is_empty() {
            s.error(
                &format!("{attr}: {value}"),
                &format!(
                    "Swarm tasks cannot share the {attr} namespace of the host or another container"
                ),
                "remove it, or keep this service on `aistack up`",
            );
        }
    }
    if !svc.userns_mode.is_empty() {
        s.error(
            &format!("userns_mode: {}", svc.userns_mode),
            "Swarm services cannot choose a user namespace mode",
            "remove it, or keep this service on `aistack up`",
        );
    }
    if !svc.cgroup_parent.is_empty() {
        s.warn(
            "cgroup_parent",
            "Swarm services cannot choose a parent cgroup; limits from deploy.resources still apply",
            "remove it",
        );
    }
    if !svc.domainname.is_empty() {
        s.warn(
            "domainname",
            "Swarm services have no domain name setting",
            "put the full name in hostname, or remove it",
        );
    }
    for opt in &svc.security_opt {
        let nnp = matches!(
            opt.as_str(),
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
        );
        if nnp && no_new_privileges_supported(facts.api) {
            continue;
        }
        if opt == "no-new-privileges:false" || opt == "no-new-privileges=false" {
            continue;
        }
        let why = if nnp {
            format!(
                "this engine (API {}.{}) cannot apply it to services (needs API 1.46, Engine 27): tasks would run without it",
                facts.api.0, facts.api.1
            )
        } else {
            "Swarm services cannot apply this security option: tasks would run without it".into()
        };
        s.error(
            &format!("security_opt: {opt}"),
            &why,
            "deploy to an engine that supports it, or drop it for the Swarm deployment in an override file (`security_opt: !reset []`) knowing the tasks run without it",
        );
    }
    let tuning: [(&str, bool); 7] = [
        ("memswap_limit", svc.memswap_limit.is_some()),
        ("cpu_shares", svc.cpu_shares != 0),
        ("cpu_quota", svc.cpu_quota != 0),
        ("cpu_period", svc.cpu_period != 0),
        ("cpuset", !svc.cpuset.is_empty()),
        ("oom_score_adj", svc.oom_score_adj != 0),
        ("oom_kill_disable", svc.oom_kill_disable),
    ];
    for (attr, set) in tuning {
        if set {
            s.warn(
                attr,
                "Swarm services have no such setting (API 1.41); the task runs with the engine's default",
                "use deploy.resources (cpus, memory, pids) to bound the service",
            );
        }
    }
    for t in &svc.tmpfs.0 {
        let opts = t.split_once(':').map(|(_, o)| o).unwrap_or("");
        for o in opts.split(',').filter(|o| !o.is_empty()) {
            let key = o.split('=').next().unwrap_or(o);
            if key != "size" && key != "mode" {
                s.warn(
                    &format!("tmpfs: {t}"),
                    &format!("Swarm tmpfs mounts take only size and mode; \"{o}\" is left out"),
                    "use the long volume syntax with type: tmpfs and tmpfs.size / tmpfs.mode",
                );
            }
        }
    }
    if !svc.expose.is_empty() {
        s.warn(
            "expose",
            "has no effect on Swarm: every port of a task is reachable from services on its networks (as with `up`)",
            "remove it, or ignore this",
        );
    }
    if svc.attach == Some(false) {
        s.warn(
            "attach",
            "deploy never attaches to output",
            "read a service's output with `docker service logs <stack>_<service>`",
        );
    }
    if !svc.pull_policy.is_empty() && svc.pull_policy != "missing" {
        s.warn(
            &format!("pull_policy: {}", svc.pull_policy),
            "each Swarm node decides pulls itself (it pulls a missing image and keeps a present one)",
            "remove it, or ignore this",
        );
    }
    if let Some(hc) = &svc.healthcheck
        && hc.start_interval.is_some()
        && !start_interval_supported(facts.api)
    {
        s.warn(
            "healthcheck.start_interval",
            "needs API 1.44; this engine would ignore it, so it is left out (checks run every interval)",
            "shorten healthcheck.interval if start-up takes long, or ignore this",
        );
    }
    ports(svc, s);
    networks(svc, s);
    mounts(project, svc, facts, s);
    deploy(svc, s);
}

fn ports(svc: &Service, s: &mut Sink) {
    for p in &svc.ports {
        let shown = format!(
            "ports: {}{}{}",
            if p.host_ip.is_empty() {
                String::new()
            } else {
                format!("{}:", p.host_ip)
            },
            if p.published.is_empty() {
                String::new()
            } else {
                format!("{}:", p.published)
            },
            p.target
        );
        if !p.host_ip.is_empty() {
            s.error(
                &shown,
                &format!(
                    "Swarm publishes on every interface of the node: host_ip {} cannot be kept, the port would be open wider than asked",
                    p.host_ip
                ),
                "remove host_ip and firewall the port, or keep this service on `aistack up`",
            );
        }
        if p.published.contains('-') {
            s.error(
                &shown,
                "Swarm publishes one port per entry, not a range",
                "give a single published port",
            );
        } else if !p.published.is_empty() && p.published.parse::<u16>().is_err() {
            s.error(
                &shown,
                "the published port is not a number",
                "give a port number",
            );
        }
        if u16::try_from(p.target).is_err() {
            s.error(
                &shown,
                "the target port is out of range",
                "give a port below 65536",
            );
        }
        if !p.mode.is_empty() && p.mode != "ingress" && p.mode != "host" {
            s.error(
                &shown,
                &format!("unknown publish mode \"{}\"", p.mode),
                "use mode: ingress or mode: host",
            );
        }
        if !p.app_protocol.is_empty() {
            s.warn(
                &shown,
                "Swarm has no app_protocol",
                "remove app_protocol, or ignore this",
            );
        }
    }
}

fn networks(svc: &Service, s: &mut Sink) {
    for (key, attach) in &svc.networks {
        let Some(a) = attach else { continue };
        if !a.ipv4_address.is_empty() || !a.ipv6_address.is_empty() {
            s.error(
                &format!("networks.{key}.ipv4_address/ipv6_address"),
                "Swarm assigns task addresses itself; a fixed address cannot be kept",
                "reach the service by name (its network aliases) instead of by address",
            );
        }
        let ignored: [(&str, bool); 5] = [
            ("link_local_ips", !a.link_local_ips.is_empty()),
            ("mac_address", !a.mac_address.is_empty()),
            ("interface_name", !a.interface_name.is_empty()),
            ("priority", a.priority != 0),
            ("gw_priority", a.gw_priority != 0),
        ];
        for (attr, set) in ignored {
            if set {
                s.warn(
                    &format!("networks.{key}.{attr}"),
                    "Swarm network attachments have no such setting",
                    "remove it",
                );
            }
        }
    }
}

/// A bind source inside the project directory was written relative to it (or
/// points into it): only this machine has it.
fn inside(project: &Project, source: &str) -> bool {
    let dir = &project.meta.working_dir;
    !dir.as_os_str().is_empty() && Path::new(source).starts_with(dir)
}

fn mounts(project: &Project, svc: &Service, facts: &Facts, s: &mut Sink) {
    for m in &svc.volumes {
        let shown = format!("volumes: {}:{}", m.source, m.target);
        match m.kind.as_str() {
            "bind" if inside(project, &m.source) => s.error(
                &shown,
                "a bind mount of a path in the project directory: only this machine has it, a task on another node fails to start",
                "use a config (files the service reads) or a named volume (data), or an absolute path that exists on every node with a placement constraint",
            ),
            "bind" => s.warn(
                &shown,
                "the host path must exist on every node a task can run on (Swarm never creates it)",
                "create it on every node, or pin the service with deploy.placement.constraints",
            ),
            "volume" | "tmpfs" => {}
            other => s.error(
                &shown,
                &format!("Swarm services cannot mount \"{other}\" volumes"),
                "use a named volume, a bind mount or tmpfs",
            ),
        }
        if let Some(v) = &m.volume
            && !v.subpath.is_empty()
            && facts.api < (1, 45)
        {
            s.error(
                &shown,
                "volume subpath needs API 1.45; this engine would mount the whole volume",
                "mount the whole volume and use the subdirectory, or deploy to a newer engine",
            );
        }
        if !m.consistency.is_empty() {
            s.warn(
                &shown,
                "consistency has no effect on Linux nodes",
                "remove it",
            );
        }
    }
}

fn deploy(svc: &Service, s: &mut Sink) {
    let Some(d) = &svc.deploy else { return };
    if !matches!(
        d.mode.as_str(),
        "" | "replicated" | "global" | "replicated-job" | "global-job"
    ) {
        s.error(
            &format!("deploy.mode: {}", d.mode),
            "unknown mode",
            "use replicated, global, replicated-job or global-job",
        );
    }
    if !matches!(d.endpoint_mode.as_str(), "" | "vip" | "dnsrr") {
        s.error(
            &format!("deploy.endpoint_mode: {}", d.endpoint_mode),
            "unknown endpoint mode",
            "use vip or dnsrr",
        );
    }
    if let Some(rp) = &d.restart_policy
        && !matches!(rp.condition.as_str(), "" | "none" | "on-failure" | "any")
    {
        s.error(
            &format!("deploy.restart_policy.condition: {}", rp.condition),
            "unknown restart condition",
            "use none, on-failure or any",
        );
    }
    for (attr, cfg, actions) in [
        (
            "update_config",
            &d.update_config,
            &["continue", "pause", "rollback"][..],
        ),
        (
            "rollback_config",
            &d.rollback_config,
            &["continue", "pause"][..],
        ),
    ] {
        let Some(c) = cfg else { continue };
        if !c.failure_action.is_empty() && !actions.contains(&c.failure_action.as_str()) {
            s.error(
                &format!("deploy.{attr}.failure_action: {}", c.failure_action),
                "unknown failure action",
                &format!("use one of {}", actions.join(", ")),
            );
        }
        if !matches!(c.order.as_str(), "" | "stop-first" | "start-first") {
            s.error(
                &format!("deploy.{attr}.order: {}", c.order),
                "unknown update order",
                "use stop-first or start-first",
            );
        }
    }
    if d.resources
        .reservations
        .as_ref()
        .is_some_and(|r| r.pids != 0)
    {
        s.warn(
            "deploy.resources.reservations.pids",
            "Swarm reserves CPU and memory only",
            "use deploy.resources.limits.pids",
        );
    }
    for p in &d.placement.preferences {
        for k in p.keys().filter(|k| k.as_str() != "spread") {
            s.error(
                &format!("deploy.placement.preferences.{k}"),
                "Swarm knows only spread preferences",
                "use spread: <node label>",
            );
        }
    }
}

fn resources(project: &Project, out: &mut Vec<Finding>) {
    let mut s = Sink { out, service: None };
    for (key, n) in &project.networks {
        if n.external {
            continue;
        }
        if !n.driver.is_empty() && n.driver != "overlay" {
            s.warn(
                &format!("networks.{key}.driver: {}", n.driver),
                "a Swarm stack's networks must span nodes: it is created as an overlay network (internal kept)",
                "remove the driver, or ignore this",
            );
            if !n.driver_opts.is_empty() {
                s.warn(
                    &format!("networks.{key}.driver_opts"),
                    &format!("options of the {} driver do not apply to an overlay network and are left out", n.driver),
                    "remove them, or give overlay options",
                );
            }
        }
        if n.enable_ipv4 == Some(false) {
            s.warn(
                &format!("networks.{key}.enable_ipv4"),
                "overlay networks always have IPv4 on this engine",
                "remove it",
            );
        }
    }
    for (key, v) in &project.volumes {
        if v.external || !(v.driver.is_empty() || v.driver == "local") {
            continue;
        }
        let users: Vec<&str> = project
            .services
            .iter()
            .filter(|(_, svc)| {
                svc.volumes
                    .iter()
                    .any(|m| m.kind == "volume" && m.source == *key)
            })
            .map(|(n, _)| n.as_str())
            .collect();
        if users.is_empty() {
            continue;
        }
        s.warn(
            &format!("volumes.{key}"),
            &format!(
                "a local volume lives on one node: a task of {} moved to another node starts with an empty one",
                users.join(", ")
            ),
            "on several nodes, pin the service with deploy.placement.constraints or use a volume driver that follows the task",
        );
    }
    for (kind, objects) in [("secrets", &project.secrets), ("configs", &project.configs)] {
        for (key, o) in objects {
            if !o.driver.is_empty() || !o.template_driver.is_empty() {
                s.warn(
                    &format!("{kind}.{key}.driver"),
                    "secret and config drivers are left out: the content is stored in the Swarm as is",
                    "remove driver/template_driver",
                );
            }
        }
    }
}
