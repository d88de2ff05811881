//! `down` planning: stop containers in reverse dependency order (a service
//! stops after everything that depends on it), remove them, then the
//! project's networks and, with `-v`, its volumes. Works from labels alone
//! when there is no compose file (`down -p NAME`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::compose::model::Project;
use crate::engine::types::ObservedContainer;

use super::action::{Action, Plan};
use super::labels;
use super::observed::{self, Observed};

#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub volumes: bool,
    pub remove_orphans: bool,
    /// `-t`: overrides every service's stop_grace_period.
    pub timeout: Option<Duration>,
}

pub fn down(project: Option<&Project>, observed: &Observed, opts: &DownOptions) -> Plan {
    let mut plan = Plan::default();
    let in_scope = |c: &ObservedContainer| -> bool {
        let Some(p) = project else { return true };
        if observed::is_oneoff(c) || opts.remove_orphans {
            return true;
        }
        let svc = c
            .labels
            .get(labels::SERVICE)
            .map(String::as_str)
            .unwrap_or("");
        p.services.contains_key(svc) || p.meta.disabled_services.contains_key(svc)
    };
    let containers: Vec<&ObservedContainer> =
        observed.containers.iter().filter(|c| in_scope(c)).collect();
    let skipped: Vec<&str> = observed
        .containers
        .iter()
        .filter(|c| !in_scope(c))
        .map(|c| c.name.as_str())
        .collect();
    if !skipped.is_empty() {
        plan.notes.push(format!(
            "orphan containers left running: {} (`down --remove-orphans` removes them)",
            skipped.join(", ")
        ));
    }

    // Who depends on whom: from the model, or from the depends_on label Compose also reads.
    let mut dependents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in &containers {
        let svc = c.labels.get(labels::SERVICE).cloned().unwrap_or_default();
        let deps: Vec<String> = match project.and_then(|p| p.services.get(&svc)) {
            Some(s) => s.depends_on.keys().cloned().collect(),
            None => c
                .labels
                .get(labels::DEPENDS_ON)
                .map(|l| {
                    l.split(',')
                        .filter_map(|d| d.split(':').next())
                        .filter(|d| !d.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        };
        for d in deps {
            dependents.entry(d).or_default().insert(svc.clone());
        }
    }

    let mut sorted = containers.clone();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    // Stop nodes in an order where dependents come first; cycles cannot occur
    // for a loaded project, and label-derived graphs fall back to name order.
    let mut stop_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut remaining: Vec<&ObservedContainer> = sorted;
    let mut removes = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<&ObservedContainer> = remaining
            .iter()
            .copied()
            .filter(|c| {
                let svc = service_of(c);
                dependents.get(&svc).is_none_or(|ds| {
                    ds.iter()
                        .all(|d| d == &svc || !remaining.iter().any(|r| service_of(r) == *d))
                })
            })
            .collect();
        let batch = if ready.is_empty() {
            remaining.clone()
        } else {
            ready
        };
        for c in &batch {
            let svc = service_of(c);
            let deps: Vec<usize> = dependents
                .get(&svc)
                .into_iter()
                .flatten()
                .filter(|d| **d != svc)
                .flat_map(|d| stop_of.get(d).cloned().unwrap_or_default())
                .collect();
            let timeout = opts.timeout.unwrap_or_else(|| {
                project
                    .and_then(|p| p.services.get(&svc))
                    .map(super::spec::stop_timeout)
                    .unwrap_or(Duration::from_secs(10))
            });
            let stop = if observed::is_running(c) {
                let i = plan.push(
                    format!("stop:{}", c.name),
                    Action::StopContainer {
                        service: svc.clone(),
                        name: c.name.clone(),
                        timeout,
                    },
                    "down",
                    deps.clone(),
                );
                stop_of.entry(svc.clone()).or_default().push(i);
                Some(i)
            } else {
                None
            };
            let rm_deps = stop.map(|s| vec![s]).unwrap_or(deps);
            removes.push((
                *c,
                plan.push(
                    format!("remove:{}", c.name),
                    Action::RemoveContainer {
                        service: svc.clone(),
                        name: c.name.clone(),
                        anonymous_volumes: opts.volumes,
                    },
                    "down",
                    rm_deps,
                ),
            ));
        }
        remaining.retain(|c| !batch.iter().any(|b| b.id == c.id));
    }

    let mut nets: Vec<_> = observed
        .networks
        .iter()
        .filter(|n| n.labels.contains_key(labels::PROJECT))
        .filter(|n| match project {
            Some(p) => p
                .networks
                .values()
                .any(|pn| pn.name == n.name && !pn.external),
            None => true,
        })
        .collect();
    nets.sort_by(|a, b| a.name.cmp(&b.name));
    let removed: BTreeSet<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    // A network or volume goes as soon as the containers using it are gone,
    // overlapping the rest of the stops (each network removal takes the
    // daemon ~0.2 s, and it does them one at a time).
    let removes_using = |uses: &dyn Fn(&ObservedContainer) -> bool| -> Vec<usize> {
        removes
            .iter()
            .filter(|(c, _)| uses(c))
            .map(|(_, i)| *i)
            .collect()
    };
    for n in nets {
        // A container that stays (an orphan left running, or one attached from
        // outside the project) keeps its networks: removing one would fail.
        let users: Vec<&str> = n
            .containers
            .iter()
            .map(String::as_str)
            .filter(|c| !removed.contains(c))
            .collect();
        if kept(&mut plan, "network", &n.name, &users) {
            continue;
        }
        let key = resource_key(&n.labels, labels::NETWORK, &n.name);
        plan.push(
            format!("network:{key}"),
            Action::RemoveNetwork {
                key,
                name: n.name.clone(),
            },
            "down",
            removes_using(&|c| c.networks.contains_key(&n.name)),
        );
    }
    if opts.volumes {
        let mut vols: Vec<_> = observed
            .volumes
            .iter()
            .filter(|v| v.labels.contains_key(labels::PROJECT))
            .collect();
        vols.sort_by(|a, b| a.name.cmp(&b.name));
        for v in vols {
            let users: Vec<&str> = observed
                .containers
                .iter()
                .filter(|c| !removed.contains(c.name.as_str()) && c.volumes.contains(&v.name))
                .map(|c| c.name.as_str())
                .collect();
            if kept(&mut plan, "volume", &v.name, &users) {
                continue;
            }
            let key = resource_key(&v.labels, labels::VOLUME, &v.name);
            plan.push(
                format!("volume:{key}"),
                Action::RemoveVolume {
                    key,
                    name: v.name.clone(),
                },
                "down -v",
                removes_using(&|c| c.volumes.contains(&v.name)),
            );
        }
    }
    plan
}

/// A resource still used by a container that stays is kept, with a note.
fn kept(plan: &mut Plan, what: &str, name: &str, users: &[&str]) -> bool {
    if users.is_empty() {
        return false;
    }
    plan.notes.push(format!(
        "{what} {name} kept: still in use by {}",
        users.join(", ")
    ));
    true
}

/// The compose key of a network or volume (its label), else its name.
fn resource_key(labels: &BTreeMap<String, String>, label: &str, name: &str) -> String {
    labels
        .get(label)
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn service_of(c: &ObservedContainer) -> String {
    c.labels.get(labels::SERVICE).cloned().unwrap_or_default()
}
