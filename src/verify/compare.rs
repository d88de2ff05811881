//! The reachability checks: what each source's probe is asked (every name
//! and every address:port of every other service, expected or not, so leaks
//! show), and the comparison of the answers with the expectation, cell by
//! cell.
//!
//! Expectation: A reaches B's address on network N at a declared port when
//! the compose files put both on N (a host-namespace A: when N is not
//! internal); a name of B resolves for A when A is on a network the name is
//! registered on (the service name on all of B's networks, an alias on its
//! own). An address of B on a network the compose files do not give B (a
//! `docker network connect` from outside) is never expected.
//!
//! Must not: run anything; the probes' answers come in as data.

use std::collections::{BTreeMap, BTreeSet};

use super::topology::{Address, Netns, ServiceFacts, State, Topology};
use super::{Cell, Difference, Kind, Reach, Report, Skipped, Verdict};
use crate::probe::protocol::{Connect, Request, Response};

/// Deadline of one TCP connection attempt.
pub const CONNECT_TIMEOUT_MS: u64 = 1000;
/// Deadline of one lookup: the engine's DNS does not answer at all for an
/// unknown name on an internal network, so "no answer" means "no such name".
pub const LOOKUP_TIMEOUT_MS: u64 = 5000;

/// Why `b` cannot be probed as a target, if it cannot.
fn target_unprobed(name: &str, b: &ServiceFacts) -> Option<String> {
    match (&b.state, &b.netns) {
        (State::Running { .. }, Netns::Host) => Some(format!(
            "{name} uses the host's network namespace: it is reachable at the machine's addresses, which are not probed"
        )),
        (State::Running { .. }, Netns::None) => Some(format!(
            "{name} has no network (network_mode: none): nothing can reach it"
        )),
        (State::Running { .. }, _) => None,
        (State::Completed(r) | State::Down(r) | State::Unprobed(r), _) => {
            Some(format!("{name} is not probed: {r}"))
        }
    }
}

fn source_unprobed(name: &str, a: &ServiceFacts) -> Option<String> {
    match &a.state {
        State::Running { .. } => None,
        State::Completed(r) | State::Down(r) | State::Unprobed(r) => {
            Some(format!("{name} is not probed: {r}"))
        }
    }
}

/// For every service a probe can run for: the namespace to join
/// (`container:<id>` or `host`) and the request.
pub fn requests(t: &Topology) -> BTreeMap<String, (String, Request)> {
    let mut out = BTreeMap::new();
    for (a_name, a) in &t.services {
        let State::Running { join } = &a.state else {
            continue;
        };
        let mut names = BTreeSet::new();
        let mut connects = BTreeSet::new();
        for (b_name, b) in &t.services {
            if b_name == a_name || target_unprobed(b_name, b).is_some() {
                continue;
            }
            names.extend(b.names.keys().cloned());
            for addr in &b.addresses {
                for port in &b.tcp_ports {
                    connects.insert(Connect {
                        address: addr.ip.clone(),
                        port: *port,
                    });
                }
            }
        }
        out.insert(
            a_name.clone(),
            (
                join.clone(),
                Request {
                    names: names.into_iter().collect(),
                    connects: connects.into_iter().collect(),
                    connect_timeout_ms: CONNECT_TIMEOUT_MS,
                    lookup_timeout_ms: LOOKUP_TIMEOUT_MS,
                },
            ),
        );
    }
    out
}

/// The probes' answers (or why a probe failed), per source, against the
/// expectation. `egress` is left for the caller.
pub fn compare(t: &Topology, answers: &BTreeMap<String, Result<Response, String>>) -> Report {
    let mut cells = Vec::new();
    let mut differences = Vec::new();
    let mut skipped = Vec::new();
    for (name, s) in &t.services {
        if let Some(reason) = source_unprobed(name, s) {
            skipped.push(Skipped {
                service: name.clone(),
                reason: reason
                    .strip_prefix(&format!("{name} is not probed: "))
                    .unwrap_or(&reason)
                    .to_string(),
            });
        }
    }
    for (a_name, a) in &t.services {
        for (b_name, b) in &t.services {
            if a_name == b_name {
                continue;
            }
            let pair = Pair {
                t,
                a_name,
                a,
                b_name,
                b,
            };
            let expected = pair.expected();
            let not_probed_ports = b.other_ports.clone();
            let unprobed = source_unprobed(a_name, a)
                .or_else(|| target_unprobed(b_name, b))
                .or_else(|| match answers.get(a_name) {
                    Some(Ok(_)) => None,
                    Some(Err(e)) => Some(format!("the probe from {a_name} failed: {e}")),
                    None => Some(format!("no probe ran from {a_name}")),
                });
            if let Some(note) = unprobed {
                cells.push(Cell {
                    from: a_name.clone(),
                    to: b_name.clone(),
                    verdict: Verdict::NotProbed,
                    note: Some(note),
                    expected,
                    observed: Reach::default(),
                    not_probed_ports,
                });
                continue;
            }
            let Some(Ok(resp)) = answers.get(a_name) else {
                continue;
            };
            let (observed, diffs, note) = pair.observe(resp);
            let verdict = if diffs.iter().any(|d| d.kind == Kind::Leak) {
                Verdict::Leak
            } else if !diffs.is_empty() {
                Verdict::Break
            } else {
                Verdict::Ok
            };
            differences.extend(diffs);
            cells.push(Cell {
                from: a_name.clone(),
                to: b_name.clone(),
                verdict,
                note,
                expected,
                observed,
                not_probed_ports,
            });
        }
    }
    let leaks = differences.iter().filter(|d| d.kind == Kind::Leak).count();
    let breaks = differences.len() - leaks;
    Report {
        project: t.project.clone(),
        services: t.services.keys().cloned().collect(),
        skipped,
        cells,
        differences,
        egress: None,
        leaks,
        breaks,
    }
}

struct Pair<'a> {
    t: &'a Topology,
    a_name: &'a str,
    a: &'a ServiceFacts,
    b_name: &'a str,
    b: &'a ServiceFacts,
}

impl Pair<'_> {
    /// The compose files put A where it can reach B at all.
    fn shares(&self) -> bool {
        match self.a.netns {
            Netns::Own | Netns::Service(_) => !self.a.networks.is_disjoint(&self.b.networks),
            Netns::Host => self.b.networks.iter().any(|n| !self.t.is_internal(n)),
            Netns::None | Netns::Container(_) => false,
        }
    }

    fn name_expected(&self, nets: &BTreeSet<String>) -> bool {
        matches!(self.a.netns, Netns::Own | Netns::Service(_)) && !self.a.networks.is_disjoint(nets)
    }

    fn address_expected(&self, addr: &Address) -> bool {
        if !self.b.networks.contains(&addr.network) {
            return false;
        }
        match self.a.netns {
            Netns::Own | Netns::Service(_) => self.a.networks.contains(&addr.network),
            Netns::Host => !self.t.is_internal(&addr.network),
            Netns::None | Netns::Container(_) => false,
        }
    }

    fn expected(&self) -> Reach {
        let names = self
            .b
            .names
            .iter()
            .filter(|(_, nets)| self.name_expected(nets))
            .map(|(n, _)| n.clone())
            .collect();
        let ports = self
            .b
            .tcp_ports
            .iter()
            .copied()
            .filter(|_| self.b.addresses.iter().any(|a| self.address_expected(a)))
            .collect();
        Reach {
            reachable: self.shares(),
            names,
            ports,
        }
    }

    fn net(&self, n: &str) -> String {
        self.t.show_network(n).to_string()
    }

    fn nets(&self, ns: &BTreeSet<String>) -> String {
        ns.iter()
            .map(|n| self.net(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why reaching B (through network `via`, when known) is a leak.
    fn leak_reason(&self, via: Option<&str>) -> String {
        let (a, b) = (self.a_name, self.b_name);
        if !self.shares() {
            let on = via
                .map(|n| format!("on {} ", self.net(n)))
                .unwrap_or_default();
            return format!("{on}but shares no network with it");
        }
        match via {
            Some(n) if !self.b.networks.contains(n) => {
                format!(
                    "on {}, a network {b} is not on in the compose files",
                    self.net(n)
                )
            }
            Some(n) if matches!(self.a.netns, Netns::Host) => {
                format!("on {}, which is internal", self.net(n))
            }
            Some(n) => format!(
                "on {}, a network {a} is not on in the compose files",
                self.net(n)
            ),
            None => format!("though {a} is on none of the networks that name is on"),
        }
    }

    /// Why reaching B's address on `net` is expected.
    fn common(&self, net: &str) -> String {
        if matches!(self.a.netns, Netns::Host) {
            return format!(
                "{} is not internal and {} uses the host's network",
                self.net(net),
                self.a_name
            );
        }
        format!("both are on {}", self.net(net))
    }

    fn observe(&self, resp: &Response) -> (Reach, Vec<Difference>, Option<String>) {
        let (a, b) = (self.a_name, self.b_name);
        let mut diffs = Vec::new();
        let mut observed = Reach::default();
        let b_ips: BTreeSet<&str> = self.b.addresses.iter().map(|x| x.ip.as_str()).collect();
        let diff =
            |kind, name: Option<&str>, addr: Option<&Address>, port: Option<u16>, message| {
                Difference {
                    from: a.to_string(),
                    to: b.to_string(),
                    kind,
                    name: name.map(String::from),
                    port,
                    address: addr.map(|x| x.ip.clone()),
                    network: addr.map(|x| self.net(&x.network)),
                    message,
                }
            };
        let note = resp
            .lookups_skipped
            .clone()
            .map(|r| format!("names not looked up: {r}"));
        if resp.lookups_skipped.is_none() {
            for (name, nets) in &self.b.names {
                let lookup = resp.lookups.iter().find(|l| &l.name == name);
                let resolved =
                    lookup.is_some_and(|l| l.addresses.iter().any(|x| b_ips.contains(x.as_str())));
                if resolved {
                    observed.names.push(name.clone());
                }
                let expected = self.name_expected(nets);
                let shown = if name == b {
                    name.clone()
                } else {
                    format!("{name} (an alias of {b} on {})", self.nets(nets))
                };
                if resolved && !expected {
                    diffs.push(diff(
                        Kind::Leak,
                        Some(name),
                        None,
                        None,
                        format!("{a} resolves {shown} {} (leak)", self.leak_reason(None)),
                    ));
                } else if expected && !resolved {
                    let why = match lookup {
                        Some(l) if !l.addresses.is_empty() => {
                            format!("it resolves to {}, not to {b}", l.addresses.join(", "))
                        }
                        Some(l) => l.error.clone().unwrap_or_else(|| "no address".into()),
                        None => "not looked up".into(),
                    };
                    let common: BTreeSet<String> =
                        self.a.networks.intersection(nets).cloned().collect();
                    diffs.push(diff(
                        Kind::Break,
                        Some(name),
                        None,
                        None,
                        format!(
                            "{a} cannot resolve {shown} though both are on {} (break: {why})",
                            self.nets(&common)
                        ),
                    ));
                }
            }
        }
        let mut open = BTreeSet::new();
        for addr in &self.b.addresses {
            for port in &self.b.tcp_ports {
                let attempt = resp
                    .connects
                    .iter()
                    .find(|c| c.address == addr.ip && c.port == *port);
                let connected = attempt.is_some_and(|c| c.connected);
                if connected {
                    open.insert(*port);
                }
                let expected = self.address_expected(addr);
                let at = format!("{b}:{port} at {}", addr.ip);
                if connected && !expected {
                    diffs.push(diff(
                        Kind::Leak,
                        None,
                        Some(addr),
                        Some(*port),
                        format!(
                            "{a} reaches {at} {} (leak)",
                            self.leak_reason(Some(&addr.network))
                        ),
                    ));
                } else if expected && !connected {
                    let why = attempt
                        .and_then(|c| c.error.clone())
                        .unwrap_or_else(|| "not attempted".into());
                    diffs.push(diff(
                        Kind::Break,
                        None,
                        Some(addr),
                        Some(*port),
                        format!(
                            "{a} cannot reach {at} on {} though {} (break: {why})",
                            self.net(&addr.network),
                            self.common(&addr.network)
                        ),
                    ));
                }
            }
        }
        observed.ports = open.into_iter().collect();
        observed.reachable = !observed.names.is_empty() || !observed.ports.is_empty();
        (observed, diffs, note)
    }
}
