//! The expectation and the comparison on literal projects and snapshots.
//! A small simulated network answers the probes the way the engine would
//! given its *actual* attachments, so a container attached outside the
//! compose files shows up as leaks, and a refusing port as a break.

use std::collections::{BTreeMap, BTreeSet};

use super::topology::{Netns, State};
use super::*;
use crate::engine::types::{ContainerState, Endpoint, ObservedContainer, ObservedNetwork};
use crate::plan::labels;
use crate::probe::protocol::{Attempt, Lookup, Response};
use crate::testutil::load_project;

const GUIDE: &str = r#"
name: demo
services:
  proxy:
    image: x
    ports: ["127.0.0.1::8080"]
    networks: [public]
  gateway:
    image: x
    expose: ["8000"]
    networks: [public, ai]
  redis:
    image: x
    expose: ["6379", "7000-7001/udp"]
    networks: [ai]
  llm:
    image: x
    expose: ["4000"]
    networks:
      ai:
        aliases: [llm-proxy]
  migrate:
    image: x
    networks: [ai]
networks:
  public: {}
  ai:
    internal: true
"#;

fn container(
    service: &str,
    state: ContainerState,
    exit: i64,
    nets: &[(&str, &str)],
) -> ObservedContainer {
    let mut l = BTreeMap::new();
    l.insert(labels::PROJECT.to_string(), "demo".to_string());
    l.insert(labels::SERVICE.to_string(), service.to_string());
    l.insert(labels::NUMBER.to_string(), "1".to_string());
    l.insert(labels::ONEOFF.to_string(), "False".to_string());
    ObservedContainer {
        id: format!("id-{service}"),
        name: format!("demo-{service}-1"),
        labels: l,
        image: "x".into(),
        image_id: String::new(),
        state,
        exit_code: exit,
        health: None,
        started_at: None,
        restart_count: 0,
        networks: nets
            .iter()
            .map(|(n, ip)| {
                (
                    n.to_string(),
                    Endpoint {
                        ip: ip.to_string(),
                        aliases: vec![],
                    },
                )
            })
            .collect(),
        ports: vec![],
        volumes: vec![],
    }
}

fn running(service: &str, nets: &[(&str, &str)]) -> ObservedContainer {
    container(service, ContainerState::Running, 0, nets)
}

fn network(name: &str, internal: bool) -> ObservedNetwork {
    ObservedNetwork {
        id: name.into(),
        name: name.into(),
        labels: BTreeMap::new(),
        internal,
        containers: vec![],
    }
}

fn guide_containers() -> Vec<ObservedContainer> {
    vec![
        running("proxy", &[("demo_public", "10.1.0.2")]),
        running(
            "gateway",
            &[("demo_public", "10.1.0.3"), ("demo_ai", "10.2.0.3")],
        ),
        running("redis", &[("demo_ai", "10.2.0.4")]),
        running("llm", &[("demo_ai", "10.2.0.5")]),
        container("migrate", ContainerState::Exited, 0, &[]),
    ]
}

fn guide_networks() -> Vec<ObservedNetwork> {
    vec![network("demo_public", false), network("demo_ai", true)]
}

/// The engine's behaviour on its actual attachments: a name registered (in
/// the compose files) on a network the source is attached to resolves to
/// the target's address there; an address answers when the source is
/// attached to its network and the port is listening.
fn simulate(
    t: &Topology,
    containers: &[ObservedContainer],
    refusing: &[(&str, u16)],
) -> BTreeMap<String, Result<Response, String>> {
    let by_service: BTreeMap<String, &ObservedContainer> = containers
        .iter()
        .map(|c| (c.labels[labels::SERVICE].clone(), c))
        .collect();
    let ns_owner = |s: &str| -> String {
        match &t.services[s].netns {
            Netns::Service(x) => x.clone(),
            _ => s.to_string(),
        }
    };
    let mut out = BTreeMap::new();
    for (a, (_, req)) in requests(t) {
        let attached: BTreeSet<String> =
            by_service[&ns_owner(&a)].networks.keys().cloned().collect();
        let lookups = req
            .names
            .iter()
            .map(|n| {
                let mut addresses = Vec::new();
                for (b, facts) in &t.services {
                    let Some(nets) = facts.names.get(n) else {
                        continue;
                    };
                    for addr in &facts.addresses {
                        if nets.contains(&addr.network)
                            && attached.contains(&addr.network)
                            && b != &a
                        {
                            addresses.push(addr.ip.clone());
                        }
                    }
                }
                Lookup {
                    name: n.clone(),
                    error: addresses.is_empty().then(|| "no such name".into()),
                    addresses,
                }
            })
            .collect();
        let connects = req
            .connects
            .iter()
            .map(|c| {
                let (owner, net) = t
                    .services
                    .iter()
                    .find_map(|(b, f)| {
                        f.addresses
                            .iter()
                            .find(|x| x.ip == c.address)
                            .map(|x| (b.clone(), x.network.clone()))
                    })
                    .expect("only project addresses are probed");
                let routed = attached.contains(&net);
                let refused = refusing.contains(&(owner.as_str(), c.port));
                Attempt {
                    address: c.address.clone(),
                    port: c.port,
                    connected: routed && !refused,
                    error: (!routed)
                        .then(|| "timed out".into())
                        .or(refused.then(|| "refused".into())),
                }
            })
            .collect();
        out.insert(
            a,
            Ok(Response {
                lookups_skipped: None,
                lookups,
                connects,
            }),
        );
    }
    out
}

fn guide_report(containers: &[ObservedContainer], refusing: &[(&str, u16)]) -> Report {
    let project = load_project(GUIDE);
    let t = topology(&project, containers, &guide_networks());
    compare(&t, &simulate(&t, containers, refusing))
}

fn summary(r: &Report, from: &str, to: &str) -> (Verdict, Vec<String>, Vec<u16>) {
    let c = r
        .cell(from, to)
        .unwrap_or_else(|| panic!("no cell {from} -> {to}"));
    (
        c.verdict,
        c.observed.names.clone(),
        c.observed.ports.clone(),
    )
}

#[test]
fn the_guide_stack_reaches_exactly_what_its_networks_allow() {
    let r = guide_report(&guide_containers(), &[]);
    assert!(!r.has_findings(), "{:#?}", r.differences);
    assert_eq!(r.services, ["gateway", "llm", "migrate", "proxy", "redis"]);
    assert_eq!(
        summary(&r, "proxy", "gateway"),
        (Verdict::Ok, vec!["gateway".into()], vec![8000])
    );
    assert_eq!(summary(&r, "proxy", "redis"), (Verdict::Ok, vec![], vec![]));
    assert_eq!(
        summary(&r, "gateway", "llm"),
        (
            Verdict::Ok,
            vec!["llm".into(), "llm-proxy".into()],
            vec![4000]
        )
    );
    assert_eq!(summary(&r, "redis", "proxy"), (Verdict::Ok, vec![], vec![]));
    let e = &r.cell("gateway", "redis").unwrap().expected;
    assert!(e.reachable);
    assert_eq!(e.ports, [6379]);
    let e = &r.cell("proxy", "redis").unwrap().expected;
    assert_eq!(*e, Reach::default());
    // UDP ports are listed, not probed.
    assert_eq!(
        r.cell("gateway", "redis").unwrap().not_probed_ports,
        ["7000/udp", "7001/udp"]
    );
    // The completed job is neither a source nor a target.
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].service, "migrate");
    assert!(r.skipped[0].reason.contains("exited 0"), "{:?}", r.skipped);
    assert_eq!(
        r.cell("gateway", "migrate").unwrap().verdict,
        Verdict::NotProbed
    );
    assert_eq!(
        r.cell("migrate", "redis").unwrap().verdict,
        Verdict::NotProbed
    );
    // 5 services: 20 ordered pairs.
    assert_eq!(r.cells.len(), 20);
}

#[test]
fn a_proxy_attached_to_the_ai_network_from_outside_is_a_leak_both_ways() {
    let mut cs = guide_containers();
    cs[0] = running(
        "proxy",
        &[("demo_public", "10.1.0.2"), ("demo_ai", "10.2.0.9")],
    );
    let r = guide_report(&cs, &[]);
    assert!(r.has_findings());
    assert_eq!(summary(&r, "proxy", "redis").0, Verdict::Leak);
    assert_eq!(summary(&r, "proxy", "redis").1, ["redis"]);
    assert_eq!(summary(&r, "proxy", "redis").2, [6379]);
    assert_eq!(summary(&r, "proxy", "llm").1, ["llm", "llm-proxy"]);
    // The other way: redis reaches the proxy at its new address.
    assert_eq!(
        summary(&r, "redis", "proxy"),
        (Verdict::Leak, vec![], vec![8080])
    );
    // The gateway reaches the proxy as expected on public, and also on ai.
    assert_eq!(summary(&r, "gateway", "proxy").0, Verdict::Leak);
    let msgs: Vec<&str> = r.differences.iter().map(|d| d.message.as_str()).collect();
    assert!(
        msgs.contains(
            &"proxy reaches redis:6379 at 10.2.0.4 on ai but shares no network with it (leak)"
        ),
        "{msgs:#?}"
    );
    assert!(
        msgs.contains(&"gateway reaches proxy:8080 at 10.2.0.9 on ai, a network proxy is not on in the compose files (leak)"),
        "{msgs:#?}"
    );
    assert!(
        msgs.contains(
            &"proxy resolves llm-proxy (an alias of llm on ai) but shares no network with it (leak)"
        ),
        "{msgs:#?}"
    );
    assert_eq!(r.breaks, 0);
    assert_eq!(r.leaks, r.differences.len());
}

#[test]
fn a_port_that_refuses_is_a_break() {
    let r = guide_report(&guide_containers(), &[("redis", 6379)]);
    assert_eq!(r.breaks, 2, "{:#?}", r.differences);
    assert_eq!(r.leaks, 0);
    assert_eq!(summary(&r, "gateway", "redis").0, Verdict::Break);
    assert_eq!(summary(&r, "gateway", "redis").2, Vec::<u16>::new());
    let d = r.differences.iter().find(|d| d.from == "gateway").unwrap();
    assert_eq!(
        d.message,
        "gateway cannot reach redis:6379 at 10.2.0.4 on ai though both are on ai (break: refused)"
    );
    assert_eq!(d.kind, Kind::Break);
    assert_eq!(d.network.as_deref(), Some("ai"));
}

#[test]
fn a_name_that_does_not_resolve_where_expected_is_a_break() {
    let project = load_project(GUIDE);
    let cs = guide_containers();
    let t = topology(&project, &cs, &guide_networks());
    let mut answers = simulate(&t, &cs, &[]);
    if let Some(Ok(resp)) = answers.get_mut("gateway") {
        for l in &mut resp.lookups {
            if l.name == "llm-proxy" {
                l.addresses.clear();
                l.error = Some("no answer within 2000 ms".into());
            }
        }
    }
    let r = compare(&t, &answers);
    assert_eq!(r.breaks, 1);
    assert_eq!(
        r.differences[0].message,
        "gateway cannot resolve llm-proxy (an alias of llm on ai) though both are on ai (break: no answer within 2000 ms)"
    );
}

#[test]
fn probes_ask_for_every_name_and_address_but_their_own() {
    let project = load_project(GUIDE);
    let t = topology(&project, &guide_containers(), &guide_networks());
    let reqs = requests(&t);
    assert_eq!(
        reqs.keys().collect::<Vec<_>>(),
        ["gateway", "llm", "proxy", "redis"]
    );
    let (join, proxy) = &reqs["proxy"];
    assert_eq!(join, "container:id-proxy");
    assert_eq!(proxy.names, ["gateway", "llm", "llm-proxy", "redis"]);
    let connects: Vec<String> = proxy
        .connects
        .iter()
        .map(|c| format!("{}:{}", c.address, c.port))
        .collect();
    assert_eq!(
        connects,
        [
            "10.1.0.3:8000",
            "10.2.0.3:8000",
            "10.2.0.4:6379",
            "10.2.0.5:4000"
        ]
    );
}

#[test]
fn network_modes_follow_the_namespace_they_use() {
    let yaml = r#"
name: demo
services:
  web:
    image: x
    expose: ["80"]
    networks: [front]
  sidecar:
    image: x
    expose: ["9000"]
    network_mode: "service:web"
  agent:
    image: x
    expose: ["7000"]
    network_mode: host
  sealed:
    image: x
    network_mode: none
  inside:
    image: x
    networks: [back]
networks:
  front: {}
  back:
    internal: true
"#;
    let project = load_project(yaml);
    let cs = vec![
        running("web", &[("demo_front", "10.1.0.2")]),
        running("sidecar", &[]),
        running("agent", &[("host", "")]),
        running("sealed", &[("none", "")]),
        running("inside", &[("demo_back", "10.3.0.2")]),
    ];
    let t = topology(
        &project,
        &cs,
        &[network("demo_front", false), network("demo_back", true)],
    );
    let sidecar = &t.services["sidecar"];
    assert_eq!(sidecar.netns, Netns::Service("web".into()));
    assert!(sidecar.names.is_empty(), "no name of its own");
    assert_eq!(sidecar.addresses, t.services["web"].addresses);
    assert_eq!(
        sidecar.state,
        State::Running {
            join: "container:id-web".into()
        }
    );
    assert_eq!(
        t.services["agent"].state,
        State::Running {
            join: "host".into()
        }
    );

    let reqs = requests(&t);
    // Nobody probes the host-mode or the network-less service as a target.
    assert!(!reqs["web"].1.connects.iter().any(|c| c.port == 7000));
    // The host reaches the bridge network, not the internal one.
    let answers = simulate_all_reachable(&reqs);
    let r = compare(&t, &answers);
    let cell = r.cell("agent", "web").unwrap();
    assert!(cell.expected.reachable);
    assert_eq!(cell.expected.names, Vec::<String>::new());
    assert_eq!(cell.expected.ports, [80]);
    assert!(!r.cell("agent", "inside").unwrap().expected.reachable);
    assert_eq!(r.cell("web", "agent").unwrap().verdict, Verdict::NotProbed);
    assert!(
        r.cell("web", "sealed")
            .unwrap()
            .note
            .as_deref()
            .unwrap()
            .contains("network_mode: none")
    );
    // sidecar shares web's namespace: it reaches web's ports and web reaches sidecar's.
    assert_eq!(r.cell("sidecar", "web").unwrap().expected.ports, [80]);
    assert_eq!(r.cell("web", "sidecar").unwrap().expected.ports, [9000]);
    // The network-less service expects nothing, so whatever answered is a leak.
    assert_eq!(r.cell("sealed", "web").unwrap().verdict, Verdict::Leak);
}

/// Every lookup fails, every connection succeeds.
fn simulate_all_reachable(
    reqs: &BTreeMap<String, (String, crate::probe::protocol::Request)>,
) -> BTreeMap<String, Result<Response, String>> {
    reqs.iter()
        .map(|(a, (_, req))| {
            let connects = req
                .connects
                .iter()
                .map(|c| Attempt {
                    address: c.address.clone(),
                    port: c.port,
                    connected: true,
                    error: None,
                })
                .collect();
            (
                a.clone(),
                Ok(Response {
                    lookups_skipped: None,
                    lookups: vec![],
                    connects,
                }),
            )
        })
        .collect()
}

#[test]
fn a_service_that_should_run_and_does_not_is_down_with_its_reason() {
    let project = load_project(GUIDE);
    let mut cs = guide_containers();
    cs[2] = container("redis", ContainerState::Exited, 137, &[]);
    cs.remove(3); // llm has no container
    let t = topology(&project, &cs, &guide_networks());
    assert_eq!(
        t.services["redis"].state,
        State::Down("it exited with code 137".into())
    );
    assert_eq!(
        t.services["llm"].state,
        State::Down("it has no container".into())
    );
    assert!(matches!(t.services["migrate"].state, State::Completed(_)));
}

#[test]
fn a_failed_probe_leaves_its_row_unprobed_with_the_reason() {
    let project = load_project(GUIDE);
    let cs = guide_containers();
    let t = topology(&project, &cs, &guide_networks());
    let mut answers = simulate(&t, &cs, &[]);
    answers.insert("proxy".into(), Err("no answer within 30s".into()));
    let r = compare(&t, &answers);
    let c = r.cell("proxy", "gateway").unwrap();
    assert_eq!(c.verdict, Verdict::NotProbed);
    assert_eq!(
        c.note.as_deref(),
        Some("the probe from proxy failed: no answer within 30s")
    );
    assert!(!r.has_findings());
}

#[test]
fn names_behind_a_foreign_resolver_are_not_judged() {
    let project = load_project(GUIDE);
    let cs = guide_containers();
    let t = topology(&project, &cs, &guide_networks());
    let mut answers = simulate(&t, &cs, &[]);
    if let Some(Ok(resp)) = answers.get_mut("gateway") {
        resp.lookups.clear();
        resp.lookups_skipped = Some("nameserver 10.0.0.2".into());
    }
    let r = compare(&t, &answers);
    assert!(!r.has_findings(), "{:#?}", r.differences);
    let c = r.cell("gateway", "redis").unwrap();
    assert_eq!(c.verdict, Verdict::Ok);
    assert!(c.note.as_deref().unwrap().contains("10.0.0.2"));
    assert_eq!(c.observed.ports, [6379]);
}

#[test]
fn egress_follows_internal_flags_and_the_engine_wins() {
    let project = load_project(GUIDE);
    let mut cs = guide_containers();
    // redis attached by hand to the public network: it can now get out.
    cs[2] = running(
        "redis",
        &[("demo_ai", "10.2.0.4"), ("demo_public", "10.1.0.7")],
    );
    let t = topology(&project, &cs, &guide_networks());
    let rows = egress(&t);
    let row = |s: &str| rows.iter().find(|r| r.service == s).unwrap().clone();
    assert_eq!(
        (row("proxy").expected, row("proxy").observed),
        (Some(true), Some(true))
    );
    assert_eq!(row("llm").verdict, Verdict::Ok);
    assert_eq!(row("llm").observed, Some(false));
    assert_eq!(row("redis").verdict, Verdict::Leak);
    assert!(
        row("redis")
            .detail
            .contains("also attached outside the compose files: public")
    );
    assert_eq!(row("migrate").verdict, Verdict::NotProbed);

    // The engine's network is not internal though the file says so.
    let t = topology(
        &project,
        &guide_containers(),
        &[network("demo_public", false), network("demo_ai", false)],
    );
    let rows = egress(&t);
    let llm = rows.iter().find(|r| r.service == "llm").unwrap();
    assert_eq!(
        (llm.expected, llm.observed),
        (Some(true), Some(true)),
        "the engine's flag is the one in force"
    );

    let mut r = guide_report(&guide_containers(), &[]);
    let mut rows = egress(&topology(&load_project(GUIDE), &cs, &guide_networks()));
    rows.retain(|r| r.service == "redis");
    r.add_egress(rows);
    assert_eq!((r.leaks, r.breaks), (1, 0));
}

#[test]
fn the_json_report_uses_kebab_case_verdicts() {
    let r = guide_report(&guide_containers(), &[]);
    let v = serde_json::to_value(&r).unwrap();
    let cells = v["cells"].as_array().unwrap();
    let c = cells
        .iter()
        .find(|c| c["from"] == "gateway" && c["to"] == "migrate")
        .unwrap();
    assert_eq!(c["verdict"], "not-probed");
    let c = cells
        .iter()
        .find(|c| c["from"] == "proxy" && c["to"] == "gateway")
        .unwrap();
    assert_eq!(
        c["expected"],
        serde_json::json!({"reachable": true, "names": ["gateway"], "ports": [8000]})
    );
    assert!(v.get("egress").is_none());
}
