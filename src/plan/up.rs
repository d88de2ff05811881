//! `up` planning: compare the project with the observed snapshot and emit the
//! DAG that converges them: networks and volumes, then per service (in
//! dependency order) stop/remove of outdated containers, create, start gated
//! on the dependencies' wait nodes; orphans; optional final waits (`--wait`).

use std::collections::{BTreeMap, BTreeSet};

use crate::compose::graph::Graph;
use crate::compose::model::{Condition, Project, Service};
use crate::engine::types::ContainerState;

use super::action::{Action, Plan, WaitFor};
use super::observed::{self, Observed};
use super::{PlanError, hash, labels, spec};

#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Only these services and what they depend on (empty: all).
    pub services: Vec<String>,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub remove_orphans: bool,
    /// Add final waits: every service running or healthy, every job completed.
    pub wait: bool,
    /// The negotiated engine API version, for features older engines lack.
    pub engine_api: Option<(u32, u32)>,
}

pub fn up(project: &Project, observed: &Observed, opts: &UpOptions) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    let selected: BTreeSet<String> = if opts.services.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        for s in &opts.services {
            if !project.services.contains_key(s) {
                return Err(PlanError::NoSuchService(s.clone()));
            }
        }
        crate::compose::load::with_dependencies(project, &opts.services)
    };
    check_images(project, observed, &selected)?;

    let mut net_nodes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut vol_nodes: BTreeMap<&str, usize> = BTreeMap::new();
    let used_nets: BTreeSet<&str> = selected
        .iter()
        .flat_map(|s| project.services[s].networks.keys().map(String::as_str))
        .collect();
    for (key, net) in &project.networks {
        if !used_nets.contains(key.as_str()) {
            continue;
        }
        match (net.external, observed.network(&net.name)) {
            (true, None) => {
                return Err(PlanError::ExternalNetworkMissing {
                    key: key.clone(),
                    name: net.name.clone(),
                });
            }
            (_, Some(_)) => {}
            (false, None) => {
                let i = plan.push(
                    format!("network:{key}"),
                    Action::CreateNetwork {
                        key: key.clone(),
                        spec: spec::network(project, key, net),
                    },
                    "not found",
                    vec![],
                );
                net_nodes.insert(key, i);
            }
        }
    }
    let used_vols: BTreeSet<&str> = selected
        .iter()
        .flat_map(|s| project.services[s].volumes.iter())
        .filter(|m| m.kind == "volume" && !m.source.is_empty())
        .map(|m| m.source.as_str())
        .collect();
    for (key, vol) in &project.volumes {
        if !used_vols.contains(key.as_str()) {
            continue;
        }
        match (vol.external, observed.volume(&vol.name)) {
            (true, None) => {
                return Err(PlanError::ExternalVolumeMissing {
                    key: key.clone(),
                    name: vol.name.clone(),
                });
            }
            (_, Some(_)) => {}
            (false, None) => {
                let i = plan.push(
                    format!("volume:{key}"),
                    Action::CreateVolume {
                        key: key.clone(),
                        spec: spec::volume(project, key, vol),
                    },
                    "not found",
                    vec![],
                );
                vol_nodes.insert(key, i);
            }
        }
    }

    let mut state = ServiceNodes::default();
    stop_restarting_dependents(project, observed, opts, &selected, &mut state, &mut plan);
    for name in start_order(project, &selected) {
        let svc = &project.services[&name];
        plan_service(
            project, observed, opts, &name, svc, &net_nodes, &vol_nodes, &mut state, &mut plan,
        );
    }
    plan_orphans(project, observed, opts, &mut plan);
    adapt_to_engine(&mut plan, opts.engine_api);
    if opts.wait {
        for name in start_order(project, &selected) {
            let svc = &project.services[&name];
            let until = if state.jobs.contains(&name) {
                WaitFor::CompletedSuccessfully
            } else if svc
                .healthcheck
                .as_ref()
                .is_some_and(|h| !h.is_disabled() && !h.test.is_empty())
            {
                WaitFor::Healthy
            } else {
                WaitFor::Running
            };
            wait_node(
                &mut plan, &mut state, observed, &name, svc, project, until, true, "--wait",
            );
        }
    }
    Ok(plan)
}

/// Whether an existing container is replaced by this plan.
/// `image_changed`: its image now has another ID (rebuilt or pulled).
fn outdated(
    opts: &UpOptions,
    c: &crate::engine::types::ObservedContainer,
    hash: &str,
    image_changed: bool,
) -> bool {
    !opts.no_recreate && (opts.force_recreate || observed::hash(c) != hash || image_changed)
}

/// `depends_on: {restart: true}`: a running dependent of a service this plan
/// recreates is stopped *before* that service's old container stops (as
/// Compose does), and started again once the new one meets the condition.
/// Planned first so the dependency's stop can depend on these stops.
fn stop_restarting_dependents(
    project: &Project,
    observed: &Observed,
    opts: &UpOptions,
    selected: &BTreeSet<String>,
    state: &mut ServiceNodes,
    plan: &mut Plan,
) {
    let recreated: BTreeSet<&str> = selected
        .iter()
        .filter(|name| {
            let svc = &project.services[*name];
            let hash = hash::service(svc);
            let image = svc.image_name(&project.name, name);
            observed.service_containers(name).iter().any(|c| {
                observed::number(c) <= svc.replicas()
                    && outdated(opts, c, &hash, observed.image_changed(c, &image))
            })
        })
        .map(String::as_str)
        .collect();
    for name in start_order(project, selected).iter().rev() {
        if recreated.contains(name.as_str()) {
            continue;
        }
        let svc = &project.services[name];
        let Some(dep) = svc
            .depends_on
            .iter()
            .find(|(d, dd)| dd.restart && recreated.contains(d.as_str()))
            .map(|(d, _)| d.clone())
        else {
            continue;
        };
        for c in observed.service_containers(name) {
            if observed::number(c) > svc.replicas() || !observed::is_running(c) {
                continue;
            }
            let i = plan.push(
                format!("stop:{}", c.name),
                Action::StopContainer {
                    service: name.clone(),
                    name: c.name.clone(),
                    timeout: spec::stop_timeout(svc),
                },
                format!("dependency {dep} will be recreated"),
                vec![],
            );
            state.restart_stops.insert(c.name.clone(), i);
            state.stops_before.entry(dep.clone()).or_default().push(i);
        }
    }
}

/// Per service: the start nodes of its containers (to gate dependents) and the
/// wait nodes already made.
#[derive(Default)]
struct ServiceNodes {
    /// Container name → its stop for a `restart: true` dependency's recreate.
    restart_stops: BTreeMap<String, usize>,
    /// Service → stops that must finish before its old containers stop.
    stops_before: BTreeMap<String, Vec<usize>>,
    starts: BTreeMap<String, Vec<usize>>,
    creates: BTreeMap<String, Vec<usize>>,
    waits: BTreeMap<(String, WaitFor), usize>,
    recreated: BTreeSet<String>,
    /// Services some dependent waits on with `service_completed_successfully`.
    jobs: BTreeSet<String>,
}

fn start_order(project: &Project, selected: &BTreeSet<String>) -> Vec<String> {
    let mut g = Graph::new();
    for name in selected {
        g.add_node(name);
        for dep in project.services[name].depends_on.keys() {
            if selected.contains(dep) {
                g.add_edge(name, dep);
            }
        }
    }
    g.levels()
        .map(|l| l.into_iter().flatten().collect())
        .unwrap_or_else(|_| selected.iter().cloned().collect())
}

#[allow(clippy::too_many_arguments)]
fn plan_service(
    project: &Project,
    observed: &Observed,
    opts: &UpOptions,
    name: &str,
    svc: &Service,
    net_nodes: &BTreeMap<&str, usize>,
    vol_nodes: &BTreeMap<&str, usize>,
    state: &mut ServiceNodes,
    plan: &mut Plan,
) {
    let hash = hash::service(svc);
    let existing = observed.service_containers(name);
    let desired = svc.replicas();
    let publishes = !svc.ports.is_empty();

    // What creating a container of this service needs first.
    let mut create_deps: Vec<usize> = Vec::new();
    create_deps.extend(
        svc.networks
            .keys()
            .filter_map(|k| net_nodes.get(k.as_str()).copied()),
    );
    create_deps.extend(
        svc.volumes
            .iter()
            .filter(|m| m.kind == "volume")
            .filter_map(|m| vol_nodes.get(m.source.as_str()).copied()),
    );
    if let Some(target) = svc.network_mode.strip_prefix("service:") {
        // Joining another container's namespace needs that container running.
        create_deps.extend(state.starts.get(target).into_iter().flatten().copied());
    }
    for from in &svc.volumes_from {
        let target = from.split(':').next().unwrap_or(from);
        create_deps.extend(state.creates.get(target).into_iter().flatten().copied());
    }

    // What starting needs first: each dependency's condition.
    let mut start_deps: Vec<usize> = Vec::new();
    let mut restart_for: Option<String> = None;
    for (dep, d) in &svc.depends_on {
        let Some(dep_svc) = project.services.get(dep) else {
            continue;
        };
        if !state.starts.contains_key(dep)
            && !observed
                .service_containers(dep)
                .iter()
                .any(|c| observed::is_running(c))
        {
            // Not selected and not running: an optional dependency is skipped.
            if !d.required {
                continue;
            }
        }
        let until = match d.condition {
            Condition::ServiceStarted => WaitFor::Running,
            Condition::ServiceHealthy => WaitFor::Healthy,
            Condition::ServiceCompletedSuccessfully => {
                state.jobs.insert(dep.clone());
                WaitFor::CompletedSuccessfully
            }
        };
        let cause = format!("depends_on {dep} ({})", d.condition.as_str());
        let w = wait_node(
            plan, state, observed, dep, dep_svc, project, until, d.required, &cause,
        );
        start_deps.extend(w);
        if d.restart && state.recreated.contains(dep) {
            restart_for = Some(dep.clone());
        }
    }

    let mut starts = Vec::new();
    let mut creates = Vec::new();
    for n in 1..=desired {
        let current = existing.iter().find(|c| observed::number(c) == n);
        let cname = labels::container_name(&project.name, name, svc, n);
        let image_changed = current
            .is_some_and(|c| observed.image_changed(c, &svc.image_name(&project.name, name)));
        let unchanged = current.is_some_and(|c| !outdated(opts, c, &hash, image_changed));
        let mut needs_create = true;
        let mut needs_start = true;
        let mut cause = "not found".to_string();
        if let Some(c) = current {
            if unchanged {
                needs_create = false;
                if observed::is_running(c) {
                    needs_start = false;
                    if let (Some(dep), Some(&stop)) =
                        (&restart_for, state.restart_stops.get(&c.name))
                    {
                        // `depends_on: {restart: true}`: stopped before the
                        // dependency was recreated, started after it is ready.
                        start_deps.push(stop);
                        needs_start = true;
                        cause = format!("dependency {dep} was recreated");
                    }
                } else if c.state == ContainerState::Exited && c.exit_code == 0 && is_job(svc) {
                    // A job that already completed is not re-run until its config changes.
                    needs_start = false;
                } else {
                    cause = "stopped".into();
                }
            } else {
                cause = if opts.force_recreate {
                    "--force-recreate".into()
                } else if image_changed && observed::hash(c) == hash {
                    "image changed".into()
                } else {
                    "config changed".into()
                };
                let mut before = Vec::new();
                if observed::is_running(c) {
                    before.push(plan.push(
                        format!("stop:{}", c.name),
                        Action::StopContainer {
                            service: name.into(),
                            name: c.name.clone(),
                            timeout: spec::stop_timeout(svc),
                        },
                        cause.clone(),
                        state.stops_before.get(name).cloned().unwrap_or_default(),
                    ));
                }
                let rm = plan.push(
                    format!("remove:{}", c.name),
                    Action::RemoveContainer {
                        service: name.into(),
                        name: c.name.clone(),
                        anonymous_volumes: false,
                    },
                    cause.clone(),
                    before,
                );
                create_deps.push(rm);
                state.recreated.insert(name.to_string());
            }
        }
        let mut create_idx = None;
        if needs_create {
            let (spec, inject) = spec::container(project, name, svc, n, &hash);
            let i = plan.push(
                format!("create:{cname}"),
                Action::CreateContainer {
                    service: name.into(),
                    number: n,
                    spec: Box::new(spec),
                    inject,
                },
                cause.clone(),
                create_deps.clone(),
            );
            creates.push(i);
            create_idx = Some(i);
        }
        if needs_start {
            let mut deps = start_deps.clone();
            deps.extend(create_idx);
            let i = plan.push(
                format!("start:{cname}"),
                Action::StartContainer {
                    service: name.into(),
                    name: cname.clone(),
                    publishes_ports: publishes,
                },
                cause,
                deps,
            );
            starts.push(i);
        }
    }
    for c in existing.iter().filter(|c| observed::number(c) > desired) {
        let mut before = Vec::new();
        if observed::is_running(c) {
            before.push(plan.push(
                format!("stop:{}", c.name),
                Action::StopContainer {
                    service: name.into(),
                    name: c.name.clone(),
                    timeout: spec::stop_timeout(svc),
                },
                "scaled down",
                vec![],
            ));
        }
        plan.push(
            format!("remove:{}", c.name),
            Action::RemoveContainer {
                service: name.into(),
                name: c.name.clone(),
                anonymous_volumes: false,
            },
            "scaled down",
            before,
        );
    }
    state.starts.insert(name.to_string(), starts);
    state.creates.insert(name.to_string(), creates);
}

/// A service meant to run to completion: `restart: "no"` written explicitly.
fn is_job(svc: &Service) -> bool {
    svc.restart == "no"
}

/// The wait for `service`'s condition; `None` when this plan starts nothing
/// of the service and the snapshot (taken by this same command) already
/// shows the condition met: a no-op `up --wait` then makes no engine call
/// after observing (inspecting a container again can stall behind its
/// running health probe on Engine 20.10).
#[allow(clippy::too_many_arguments)]
fn wait_node(
    plan: &mut Plan,
    state: &mut ServiceNodes,
    observed: &Observed,
    service: &str,
    svc: &Service,
    project: &Project,
    until: WaitFor,
    required: bool,
    cause: &str,
) -> Option<usize> {
    if let Some(i) = state.waits.get(&(service.to_string(), until)) {
        return Some(*i);
    }
    let containers: Vec<String> = (1..=svc.replicas())
        .map(|n| labels::container_name(&project.name, service, svc, n))
        .collect();
    let deps = state.starts.get(service).cloned().unwrap_or_default();
    let met = |name: &String| {
        observed.containers.iter().any(|c| {
            &c.name == name
                && match until {
                    WaitFor::Running => c.state == ContainerState::Running,
                    WaitFor::Healthy => {
                        c.state == ContainerState::Running
                            && c.health == Some(crate::engine::types::HealthState::Healthy)
                    }
                    WaitFor::CompletedSuccessfully => {
                        c.state == ContainerState::Exited && c.exit_code == 0
                    }
                }
        })
    };
    // Every container this plan creates is also started, so no start means
    // nothing new of the service.
    if deps.is_empty() && containers.iter().all(met) {
        return None;
    }
    let i = plan.push(
        format!("wait:{service}:{}", until.as_str()),
        Action::Wait {
            service: service.to_string(),
            containers,
            until,
            required,
            health: spec::healthcheck(svc)
                .filter(|h| h.test.first().map(String::as_str) != Some("NONE")),
            allow_completed: is_job(svc),
        },
        cause,
        deps,
    );
    state.waits.insert((service.to_string(), until), i);
    Some(i)
}

fn plan_orphans(project: &Project, observed: &Observed, opts: &UpOptions, plan: &mut Plan) {
    let mut orphans: Vec<&crate::engine::types::ObservedContainer> = observed
        .containers
        .iter()
        .filter(|c| !observed::is_oneoff(c))
        .filter(|c| {
            let svc = c
                .labels
                .get(labels::SERVICE)
                .map(String::as_str)
                .unwrap_or("");
            !project.services.contains_key(svc) && !project.meta.disabled_services.contains_key(svc)
        })
        .collect();
    orphans.sort_by(|a, b| a.name.cmp(&b.name));
    if orphans.is_empty() {
        return;
    }
    if !opts.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        plan.notes.push(format!(
            "orphan containers (their services are not in the compose files): {}; `up --remove-orphans` removes them",
            names.join(", ")
        ));
        return;
    }
    for c in orphans {
        let service = c.labels.get(labels::SERVICE).cloned().unwrap_or_default();
        let mut before = Vec::new();
        if observed::is_running(c) {
            before.push(plan.push(
                format!("stop:{}", c.name),
                Action::StopContainer {
                    service: service.clone(),
                    name: c.name.clone(),
                    timeout: std::time::Duration::from_secs(10),
                },
                "orphan",
                vec![],
            ));
        }
        plan.push(
            format!("remove:{}", c.name),
            Action::RemoveContainer {
                service,
                name: c.name.clone(),
                anonymous_volumes: false,
            },
            "orphan",
            before,
        );
    }
}

fn check_images(
    project: &Project,
    observed: &Observed,
    selected: &BTreeSet<String>,
) -> Result<(), PlanError> {
    for name in selected {
        let svc = &project.services[name];
        let image = svc.image_name(&project.name, name);
        if !observed.images.contains(&image)
            && !observed.images.contains(&format!("{image}:latest"))
        {
            return Err(PlanError::ImageMissing {
                service: name.clone(),
                image,
                buildable: svc.build.is_some(),
            });
        }
    }
    Ok(())
}

/// `healthcheck.start_interval` needs Engine API 1.44 (Engine 25). On older
/// engines it is left out with a note: the eager health probes already check
/// right after start, which is what `start_interval` is for.
fn adapt_to_engine(plan: &mut Plan, api: Option<(u32, u32)>) {
    let Some(api) = api else { return };
    if crate::engine::quirks::start_interval(api) {
        return;
    }
    let mut dropped = Vec::new();
    for node in &mut plan.nodes {
        if let Action::CreateContainer { service, spec, .. } = &mut node.action
            && let Some(h) = spec.healthcheck.as_mut()
            && h.start_interval.take().is_some()
            && !dropped.contains(service)
        {
            dropped.push(service.clone());
        }
    }
    if !dropped.is_empty() {
        plan.notes.push(format!(
            "healthcheck start_interval of {} needs Docker Engine API 1.44 (this engine speaks {}.{}); left out: aistack's eager health probes check right after start instead",
            dropped.join(", "),
            api.0,
            api.1
        ));
    }
}
