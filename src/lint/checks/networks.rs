//! `network-not-internal`: a network that looks like a backend network (none
//! of its services publishes a port or shows a need to reach outside) but is
//! not `internal: true`.
//!
//! The heuristic, said in the finding too: a non-internal network is needed
//! for ingress (a service on it publishes ports) or egress (a service on it
//! has an outside URL in its environment, or `extra_hosts`, e.g.
//! host.docker.internal). A service on several networks counts for each, so
//! the finding never asks to make internal a network someone may rely on.

use std::collections::BTreeSet;

use crate::compose::model::{Project, Service};

use super::{Context, Finding, Severity, and_list};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let local = local_names(cx.project);
    for (key, net) in &cx.project.networks {
        if net.internal || net.external || !matches!(net.driver.as_str(), "" | "bridge" | "overlay")
        {
            continue;
        }
        let members: Vec<(&str, &Service)> = cx
            .project
            .services
            .iter()
            .filter(|(_, s)| s.networks.contains_key(key))
            .map(|(n, s)| (n.as_str(), s))
            .collect();
        if members.is_empty()
            || members
                .iter()
                .any(|(_, s)| !s.ports.is_empty() || !s.extra_hosts.is_empty())
            || members.iter().any(|(_, s)| outside_url(s, &local))
        {
            continue;
        }
        let names: Vec<&str> = members.iter().map(|(n, _)| *n).collect();
        out.push(Finding {
            rule: "network-not-internal",
            severity: Severity::Warning,
            service: None,
            network: Some(key.clone()),
            span: cx.at.top(&["networks", key]),
            message: format!("network {key} is not internal"),
            why: format!(
                "only {} {} on it; none publishes a port, has extra_hosts or an outside URL in its environment, so it looks like a backend network: not internal, it gives each of them a way to the internet and the host",
                and_list(&names),
                if names.len() == 1 { "is" } else { "are" }
            ),
            fix: format!(
                "set `internal: true` on networks.{key}; if one of them does need the internet, disable the rule on the network with x-aistack: {{lint: {{disable: [network-not-internal]}}}}"
            ),
        });
    }
}

/// Names that resolve inside the project: services, container names,
/// hostnames, network aliases, links; plus loopback.
fn local_names(project: &Project) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"]
        .into_iter()
        .map(String::from)
        .collect();
    for (name, svc) in &project.services {
        out.insert(name.clone());
        if !svc.container_name.is_empty() {
            out.insert(svc.container_name.clone());
        }
        if !svc.hostname.is_empty() {
            out.insert(svc.hostname.clone());
        }
        for n in svc.networks.values().flatten() {
            out.extend(n.aliases.iter().cloned());
        }
        for l in &svc.links {
            out.insert(l.split(':').next_back().unwrap_or(l).to_string());
        }
    }
    out
}

/// Whether an environment value holds a URL to a host outside the project.
fn outside_url(svc: &Service, local: &BTreeSet<String>) -> bool {
    svc.environment
        .values()
        .flatten()
        .flat_map(|v| url_hosts(v))
        .any(|h| !local.contains(&h) && !h.starts_with("127."))
}

/// Hosts of every `scheme://[user@]host[:port]` in a value.
fn url_hosts(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(pos) = rest.find("://") {
        let after = &rest[pos + 3..];
        let end = after
            .find(['/', '?', '#', ' ', ',', ';'])
            .unwrap_or(after.len());
        let authority = &after[..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host_port.starts_with('[') {
            host_port
                .split_once(']')
                .map_or(host_port, |(h, _)| h)
                .trim_start_matches('[')
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        if !host.is_empty() {
            out.push(host.to_ascii_lowercase());
        }
        rest = &after[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts_are_found_with_users_ports_and_several_per_value() {
        assert_eq!(url_hosts("postgresql://u:p@postgres:5432/db"), ["postgres"]);
        assert_eq!(
            url_hosts("http://llm:8000/v1,https://api.moonshot.cn/v1"),
            ["llm", "api.moonshot.cn"]
        );
        assert_eq!(url_hosts("http://[::1]:80/"), ["::1"]);
        assert!(url_hosts("no url here").is_empty());
    }
}
