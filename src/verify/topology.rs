//! What the compose files say about each service's network namespace, read
//! together with what the engine reports: which networks it is on (by the
//! engine's names), the names that should find it there, the ports it
//! declares, its addresses, and whether it runs.
//!
//! Owns: those facts and the network-mode rules. `network_mode: host`: the
//! host's namespace, no embedded DNS, and the host routes to every
//! non-internal bridge; `none`: no interface but loopback; `service:x`: x's
//! namespace, so x's networks and addresses, and no name of its own;
//! `container:c` outside the project: not probed (nothing says what it
//! should reach); `bridge`/`default`: Docker's default bridge, reachable by
//! address but without DNS. Must not: talk to the engine.

use std::collections::{BTreeMap, BTreeSet};

use crate::compose::model::{Project, Service};
use crate::engine::types::{ContainerState, ObservedContainer, ObservedNetwork};
use crate::plan::{labels, observed};

/// Docker's default bridge network (network_mode `bridge` or `default`).
pub const DEFAULT_BRIDGE: &str = "bridge";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Netns {
    /// Its own namespace on its `networks:`.
    Own,
    Host,
    None,
    /// `network_mode: service:x`.
    Service(String),
    /// `network_mode: container:c`, c outside the project.
    Container(String),
}

/// Whether a service can be probed, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The container whose namespace a probe joins, and how to join it
    /// (`container:<id>` or `host`).
    Running { join: String },
    /// Exited 0: a one-shot job, not expected to run.
    Completed(String),
    /// Expected to run but does not.
    Down(String),
    /// Runs, but in a namespace nothing in the project describes.
    Unprobed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Address {
    pub ip: String,
    /// The engine's name of the network.
    pub network: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFacts {
    pub netns: Netns,
    /// The networks of its namespace according to the compose files (engine names).
    pub networks: BTreeSet<String>,
    /// Names that resolve to it, each with the networks it resolves on.
    pub names: BTreeMap<String, BTreeSet<String>>,
    pub tcp_ports: Vec<u16>,
    /// Declared ports that are not TCP ("5353/udp"): listed, not probed.
    pub other_ports: Vec<String>,
    /// Its namespace's addresses as the engine reports them, every running replica.
    pub addresses: Vec<Address>,
    /// Networks the engine has its namespace on (for egress).
    pub attached: BTreeSet<String>,
    pub state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub project: String,
    /// Engine network name → compose key, for messages.
    pub keys: BTreeMap<String, String>,
    /// Engine network name → internal, from the engine (else the compose files).
    pub internal: BTreeMap<String, bool>,
    pub services: BTreeMap<String, ServiceFacts>,
}

impl Topology {
    /// A network as the user wrote it: its compose key when it has one.
    pub fn show_network<'a>(&'a self, name: &'a str) -> &'a str {
        self.keys.get(name).map(String::as_str).unwrap_or(name)
    }

    pub fn is_internal(&self, network: &str) -> bool {
        self.internal.get(network).copied().unwrap_or(false)
    }
}

fn netns(svc: &Service, project: &Project) -> Netns {
    let mode = svc.network_mode.as_str();
    if let Some(x) = mode.strip_prefix("service:") {
        return Netns::Service(x.to_string());
    }
    if let Some(c) = mode.strip_prefix("container:") {
        // A container of this project named by its container name is a service.
        if let Some((name, _)) = project.services.iter().find(|(n, s)| {
            (1..=s.replicas().max(1)).any(|i| labels::container_name(&project.name, n, s, i) == c)
        }) {
            return Netns::Service(name.clone());
        }
        return Netns::Container(c.to_string());
    }
    match mode {
        "host" => Netns::Host,
        "none" => Netns::None,
        _ => Netns::Own,
    }
}

/// The compose-file networks of `svc`'s own namespace (engine names).
fn own_networks(svc: &Service, project: &Project) -> BTreeSet<String> {
    match svc.network_mode.as_str() {
        "bridge" | "default" => [DEFAULT_BRIDGE.to_string()].into(),
        "" => svc
            .networks
            .keys()
            .filter_map(|k| project.networks.get(k).map(|n| n.name.clone()))
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The service name on each network it is on, its aliases on theirs; none
/// on the default bridge, which has no DNS.
fn own_names(name: &str, svc: &Service, project: &Project) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if !svc.network_mode.is_empty() {
        return names;
    }
    for (key, attach) in &svc.networks {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        names
            .entry(name.to_string())
            .or_default()
            .insert(net.name.clone());
        for alias in attach.iter().flat_map(|a| &a.aliases) {
            names
                .entry(alias.clone())
                .or_default()
                .insert(net.name.clone());
        }
    }
    names
}

/// The container ports of `ports:` and `expose:` (ranges opened port by port).
fn declared_ports(svc: &Service) -> (Vec<u16>, Vec<String>) {
    let mut tcp = BTreeSet::new();
    let mut other = BTreeSet::new();
    let mut add = |port: u16, proto: &str| {
        if proto.is_empty() || proto.eq_ignore_ascii_case("tcp") {
            tcp.insert(port);
        } else {
            other.insert(format!("{port}/{}", proto.to_ascii_lowercase()));
        }
    };
    for e in &svc.expose {
        let (port, proto) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
        let (lo, hi) = port.split_once('-').unwrap_or((port, port));
        if let (Ok(lo), Ok(hi)) = (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()) {
            for p in lo..=hi.max(lo) {
                add(p, proto);
            }
        }
    }
    for p in &svc.ports {
        if let Ok(port) = u16::try_from(p.target) {
            add(port, &p.protocol);
        }
    }
    (tcp.into_iter().collect(), other.into_iter().collect())
}

/// The running replicas of `service`, by container number.
fn running<'a>(containers: &'a [ObservedContainer], service: &str) -> Vec<&'a ObservedContainer> {
    let mut out: Vec<&ObservedContainer> = containers
        .iter()
        .filter(|c| {
            !observed::is_oneoff(c)
                && c.labels.get(labels::SERVICE).map(String::as_str) == Some(service)
        })
        .collect();
    out.sort_by_key(|c| observed::number(c));
    out
}

fn state_of(containers: &[&ObservedContainer], netns: &Netns) -> State {
    if let Some(c) = containers
        .iter()
        .find(|c| c.state == ContainerState::Running)
    {
        return match netns {
            Netns::Host => State::Running {
                join: "host".into(),
            },
            Netns::Container(other) => State::Unprobed(format!(
                "it shares the network namespace of container {other}, outside the project"
            )),
            _ => State::Running {
                join: format!("container:{}", c.id),
            },
        };
    }
    if containers.is_empty() {
        return State::Down("it has no container".into());
    }
    if containers
        .iter()
        .all(|c| c.state == ContainerState::Exited && c.exit_code == 0)
    {
        return State::Completed("a one-shot job (exited 0)".into());
    }
    let c = containers[0];
    State::Down(match c.state {
        ContainerState::Exited => format!("it exited with code {}", c.exit_code),
        other => format!("it is {}", format!("{other:?}").to_lowercase()),
    })
}

/// The facts of every service with at least one replica, from the compose
/// files, the project's containers and the engine's networks.
pub fn topology(
    project: &Project,
    containers: &[ObservedContainer],
    networks: &[ObservedNetwork],
) -> Topology {
    let mut keys = BTreeMap::new();
    let mut internal = BTreeMap::new();
    for (key, n) in &project.networks {
        keys.insert(n.name.clone(), key.clone());
        internal.insert(n.name.clone(), n.internal);
    }
    for n in networks {
        // The engine's setting is the one in force.
        internal.insert(n.name.clone(), n.internal);
    }
    let mut services = BTreeMap::new();
    for (name, svc) in &project.services {
        if svc.replicas() == 0 {
            continue;
        }
        let ns = netns(svc, project);
        let (tcp_ports, other_ports) = declared_ports(svc);
        let own = running(containers, name);
        services.insert(
            name.clone(),
            ServiceFacts {
                state: state_of(&own, &ns),
                names: own_names(name, svc, project),
                networks: own_networks(svc, project),
                addresses: Vec::new(),
                attached: BTreeSet::new(),
                netns: ns,
                tcp_ports,
                other_ports,
            },
        );
    }
    // Namespace facts: a service:x service has x's networks and addresses,
    // and joins x's container; otherwise its own running replicas'.
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        let owner = match &services[&name].netns {
            Netns::Service(x) if services.contains_key(x) => x.clone(),
            _ => name.clone(),
        };
        let replicas = running(containers, &owner);
        let mut addresses = Vec::new();
        let mut attached = BTreeSet::new();
        for c in replicas
            .iter()
            .filter(|c| c.state == ContainerState::Running)
        {
            for (net, ep) in &c.networks {
                attached.insert(net.clone());
                if !ep.ip.is_empty() {
                    addresses.push(Address {
                        ip: ep.ip.clone(),
                        network: net.clone(),
                    });
                }
            }
        }
        addresses.sort();
        addresses.dedup();
        let owner_networks = services[&owner].networks.clone();
        let owner_join = match &services[&owner].state {
            State::Running { join } => Some(join.clone()),
            _ => None,
        };
        let facts = services.get_mut(&name).expect("listed above");
        facts.addresses = addresses;
        facts.attached = attached;
        if owner != name {
            facts.networks = owner_networks;
            if let (State::Running { join }, Some(owner_join)) = (&mut facts.state, owner_join) {
                *join = owner_join;
            }
        } else if let Netns::Service(x) = &facts.netns {
            facts.state = State::Unprobed(format!(
                "it shares the network namespace of service {x}, which is not in the project"
            ));
        }
    }
    Topology {
        project: project.name.clone(),
        keys,
        internal,
        services,
    }
}
