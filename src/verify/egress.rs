//! Which services can reach outside the machine: computed from the compose
//! files (expected) and from the networks the engine has each namespace on
//! and their `internal` flags (observed), never probed, so no probe traffic
//! leaves the machine. A namespace with a non-internal network can (the
//! engine routes and masquerades it out); one only on internal networks
//! cannot; `host` can; `none` cannot.
//!
//! Must not: talk to the engine or print.

use std::collections::BTreeSet;

use super::topology::{DEFAULT_BRIDGE, Netns, State, Topology};
use super::{EgressRow, Verdict};

/// One row per service, in name order.
pub fn egress(t: &Topology) -> Vec<EgressRow> {
    t.services
        .iter()
        .map(|(name, s)| {
            let expected = match &s.netns {
                Netns::Host => Some(true),
                Netns::None => Some(false),
                Netns::Container(_) => None,
                Netns::Own | Netns::Service(_) => {
                    Some(s.networks.iter().any(|n| !t.is_internal(n)))
                }
            };
            let running = matches!(s.state, State::Running { .. });
            let observed = match &s.netns {
                _ if !running => None,
                Netns::Host => Some(true),
                Netns::None => Some(false),
                Netns::Container(_) => None,
                Netns::Own | Netns::Service(_) => Some(
                    s.attached
                        .iter()
                        .any(|n| n != "none" && (n == DEFAULT_BRIDGE || !t.is_internal(n))),
                ),
            };
            let verdict = match (expected, observed) {
                (Some(e), Some(o)) if e == o => Verdict::Ok,
                (Some(false), Some(true)) => Verdict::Leak,
                (Some(true), Some(false)) => Verdict::Break,
                _ => Verdict::NotProbed,
            };
            EgressRow {
                service: name.clone(),
                expected,
                observed,
                verdict,
                detail: detail(t, &s.netns, &s.networks, &s.attached, running),
            }
        })
        .collect()
}

fn detail(
    t: &Topology,
    netns: &Netns,
    model: &BTreeSet<String>,
    attached: &BTreeSet<String>,
    running: bool,
) -> String {
    let list = |nets: &BTreeSet<String>, internal: bool| -> Vec<String> {
        nets.iter()
            .filter(|n| t.is_internal(n) == internal)
            .map(|n| t.show_network(n).to_string())
            .collect()
    };
    match netns {
        Netns::Host => return "network_mode: host (the machine's own network)".into(),
        Netns::None => return "network_mode: none (no network)".into(),
        Netns::Container(c) => {
            return format!("shares the namespace of container {c}, outside the project");
        }
        _ => {}
    }
    let mut parts = Vec::new();
    let open = list(model, false);
    let closed = list(model, true);
    if !open.is_empty() {
        parts.push(format!("not internal: {}", open.join(", ")));
    }
    if !closed.is_empty() {
        parts.push(format!("internal: {}", closed.join(", ")));
    }
    if running {
        let extra: BTreeSet<String> = attached.difference(model).cloned().collect();
        if !extra.is_empty() {
            let shown: Vec<&str> = extra.iter().map(|n| t.show_network(n)).collect();
            parts.push(format!(
                "also attached outside the compose files: {}",
                shown.join(", ")
            ));
        }
        let missing: BTreeSet<String> = model.difference(attached).cloned().collect();
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().map(|n| t.show_network(n)).collect();
            parts.push(format!("not attached: {}", shown.join(", ")));
        }
    } else {
        parts.push("not running".into());
    }
    parts.join("; ")
}
