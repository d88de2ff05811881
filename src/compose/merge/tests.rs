//! Merge rules, each checked against `docker compose -f a.yaml -f b.yaml config`
//! (v2.40.3). Expected values are the canonical tree before typing, so no
//! path resolution, secret target defaults or sorting appear in them.

use serde_json::json;

use super::{merge, merge_service};
use crate::compose::canonical::canonicalize;
use crate::compose::canonical::testutil::{attr, has_tags, json, parse, parse_as};
use crate::compose::error::ErrorKind;
use crate::compose::node::{Node, Span};

fn canonical(yaml: &str, file: &str) -> Node {
    let mut n = parse_as(yaml, file);
    canonicalize(&mut n).unwrap();
    n
}

/// Merge files in order into an empty document, as the loader does.
fn merged(files: &[&str]) -> Node {
    let mut root = Node::map(Vec::new(), Span::default());
    for (i, f) in files.iter().enumerate() {
        merge(&mut root, canonical(f, &format!("f{i}.yaml"))).unwrap();
    }
    root
}

fn two(a: &str, b: &str) -> Node {
    merged(&[
        &format!("services:\n  a:\n{a}"),
        &format!("services:\n  a:\n{b}"),
    ])
}

#[test]
fn command_entrypoint_and_healthcheck_test_are_replaced_not_appended() {
    let n = two(
        "    command: [echo, a, b]\n    entrypoint: /bin/sh\n    healthcheck: {test: [CMD, a], interval: 10s}\n",
        "    command: [echo, c]\n    entrypoint: [/bin/bash]\n    healthcheck: {test: [CMD, b]}\n",
    );
    assert_eq!(attr(&n, "a", "command"), json!(["echo", "c"]));
    assert_eq!(attr(&n, "a", "entrypoint"), json!(["/bin/bash"]));
    assert_eq!(
        attr(&n, "a", "healthcheck"),
        json!({"test": ["CMD", "b"], "interval": "10s"})
    );
}

#[test]
fn null_override_clears_command_but_keeps_other_scalars() {
    let n = two(
        "    image: x\n    container_name: foo\n    command: [echo]\n",
        "    image: null\n    container_name:\n    command: null\n",
    );
    assert_eq!(attr(&n, "a", "image"), json!("x"));
    assert_eq!(attr(&n, "a", "container_name"), json!("foo"));
    assert!(
        n.get("services")
            .and_then(|s| s.get("a"))
            .and_then(|a| a.get("command"))
            .is_some_and(Node::is_null)
    );
}

#[test]
fn scalars_are_replaced_and_new_keys_added() {
    let n = two(
        "    image: x\n    user: root\n",
        "    user: app\n    working_dir: /w\n",
    );
    assert_eq!(
        json(n.get("services").and_then(|s| s.get("a")).unwrap()),
        json!({"image": "x", "user": "app", "working_dir": "/w"})
    );
}

#[test]
fn environment_merges_by_key_and_a_null_value_overrides() {
    let n = two(
        "    environment: [A=1, B=2, C=3]\n",
        "    environment: {B: 20, D: 4, A: null}\n",
    );
    assert_eq!(
        attr(&n, "a", "environment"),
        json!({"A": null, "B": "20", "C": "3", "D": "4"})
    );
}

#[test]
fn labels_and_sysctls_merge_by_key() {
    let n = two(
        "    labels: {l1: a, l2: b}\n    sysctls: {k1: 1}\n",
        "    labels: [l2=bb, l3=c]\n    sysctls: [k2=2]\n",
    );
    assert_eq!(
        attr(&n, "a", "labels"),
        json!({"l1": "a", "l2": "bb", "l3": "c"})
    );
    assert_eq!(attr(&n, "a", "sysctls"), json!({"k1": "1", "k2": "2"}));
}

#[test]
fn ports_are_appended_then_deduplicated_by_ip_published_target_protocol() {
    let n = two(
        "    ports: [\"8080:80\", \"9090:90\", \"7000:70/udp\"]\n",
        "    ports: [\"8080:80\", {target: 90, published: \"9090\", host_ip: 0.0.0.0}, \"7000:70\", \"6000:60\"]\n",
    );
    assert_eq!(
        attr(&n, "a", "ports"),
        json!([
            {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
            {"target": 90, "published": "9090", "host_ip": "0.0.0.0"},
            {"mode": "ingress", "target": 70, "published": "7000", "protocol": "udp"},
            {"mode": "ingress", "target": 70, "published": "7000", "protocol": "tcp"},
            {"mode": "ingress", "target": 60, "published": "6000", "protocol": "tcp"},
        ])
    );
}

#[test]
fn volumes_merge_by_target_the_later_mount_replacing_in_place() {
    let n = two(
        "    volumes: [\"/a:/data\", \"v1:/v1\", \"/b:/other:ro\"]\n",
        "    volumes: [\"v2:/data\", \"/c:/other2\", \"/b:/other\"]\n",
    );
    assert_eq!(
        attr(&n, "a", "volumes"),
        json!([
            {"type": "volume", "source": "v2", "target": "/data", "volume": {}},
            {"type": "volume", "source": "v1", "target": "/v1", "volume": {}},
            {"type": "bind", "source": "/b", "target": "/other", "bind": {"create_host_path": true}},
            {"type": "bind", "source": "/c", "target": "/other2", "bind": {"create_host_path": true}},
        ])
    );
}

#[test]
fn depends_on_merges_by_service_and_a_list_resets_the_condition() {
    let n = two(
        "    depends_on: {b: {condition: service_healthy, restart: true}, c: {condition: service_healthy}}\n",
        "    depends_on: [b]\n",
    );
    assert_eq!(
        attr(&n, "a", "depends_on"),
        json!({
            "b": {"condition": "service_started", "restart": true, "required": true},
            "c": {"condition": "service_healthy"},
        })
    );
    let n = two(
        "    depends_on: {b: {condition: service_healthy}}\n",
        "    depends_on: {b: {required: false}}\n",
    );
    assert_eq!(
        attr(&n, "a", "depends_on"),
        json!({"b": {"condition": "service_healthy", "required": false}})
    );
}

#[test]
fn networks_merge_by_name_a_null_keeping_settings_and_aliases_deduplicated() {
    let n = two(
        "    networks: {n1: {aliases: [x1, x2], ipv4_address: 10.0.0.2}, n2: null}\n",
        "    networks: {n1: {aliases: [x2, x3]}, n3: null}\n",
    );
    assert_eq!(
        attr(&n, "a", "networks"),
        json!({"n1": {"aliases": ["x1", "x2", "x3"], "ipv4_address": "10.0.0.2"}, "n2": null, "n3": null})
    );
    let n = two(
        "    networks: {n1: {aliases: [x]}}\n",
        "    networks: [n1]\n",
    );
    assert_eq!(attr(&n, "a", "networks"), json!({"n1": {"aliases": ["x"]}}));
}

#[test]
fn secrets_and_configs_merge_by_mount_target() {
    let n = two(
        "    secrets: [s1, {source: s2, target: /t2}]\n    configs: [c1]\n",
        "    secrets: [{source: s3, target: s1}, s2]\n    configs: [{source: c2, target: /c1}]\n",
    );
    assert_eq!(
        attr(&n, "a", "secrets"),
        json!([{"source": "s1"}, {"source": "s2", "target": "/t2"}, {"source": "s3", "target": "s1"}, {"source": "s2"}])
    );
    // A config without target is keyed "/<source>": c2 on /c1 replaces c1.
    assert_eq!(
        attr(&n, "a", "configs"),
        json!([{"source": "c2", "target": "/c1"}])
    );
}

#[test]
fn extra_hosts_append_only_host_ip_pairs_the_base_lacks() {
    let n = two(
        "    extra_hosts: [\"z:1.1.1.1\", \"a:2.2.2.2\"]\n",
        "    extra_hosts: [\"a=2.2.2.2\", \"z:3.3.3.3\", \"b=4.4.4.4\", \"b=4.4.4.4\"]\n",
    );
    assert_eq!(
        attr(&n, "a", "extra_hosts"),
        json!([
            "z=1.1.1.1",
            "a=2.2.2.2",
            "z=3.3.3.3",
            "b=4.4.4.4",
            "b=4.4.4.4"
        ])
    );
}

#[test]
fn string_lists_append_and_deduplicate_where_compose_does() {
    let n = two(
        "    dns: [1.1.1.1]\n    dns_search: a.com\n    tmpfs: [/t1]\n    cap_add: [NET_ADMIN]\n    expose: [\"80\", 81]\n    profiles: [p1]\n",
        "    dns: 8.8.8.8\n    dns_search: [b.com, a.com]\n    tmpfs: /t2\n    cap_add: [NET_ADMIN, SYS_TIME]\n    expose: [\"80\"]\n    profiles: [p1, p2]\n",
    );
    assert_eq!(attr(&n, "a", "dns"), json!(["1.1.1.1", "8.8.8.8"]));
    assert_eq!(attr(&n, "a", "dns_search"), json!(["a.com", "b.com"]));
    assert_eq!(attr(&n, "a", "tmpfs"), json!(["/t1", "/t2"]));
    assert_eq!(attr(&n, "a", "cap_add"), json!(["NET_ADMIN", "SYS_TIME"]));
    assert_eq!(attr(&n, "a", "expose"), json!(["80", "81"]));
    assert_eq!(attr(&n, "a", "profiles"), json!(["p1", "p2"]));
}

#[test]
fn env_file_merges_by_path_the_later_entry_winning() {
    let n = two(
        "    env_file: [{path: e1.env, required: false}, e2.env]\n",
        "    env_file: [{path: e2.env, required: false}, e1.env]\n",
    );
    assert_eq!(
        attr(&n, "a", "env_file"),
        json!([{"path": "e1.env", "required": true}, {"path": "e2.env", "required": false}])
    );
}

#[test]
fn sequences_without_a_rule_are_appended() {
    let n = two(
        "    security_opt: [a]\n    group_add: [g1]\n",
        "    security_opt: [b]\n    group_add: [g1]\n",
    );
    assert_eq!(attr(&n, "a", "security_opt"), json!(["a", "b"]));
    assert_eq!(attr(&n, "a", "group_add"), json!(["g1", "g1"]));
}

#[test]
fn ulimits_entries_are_replaced_whole() {
    let n = two(
        "    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}\n",
        "    ulimits: {nofile: {soft: 3}}\n",
    );
    assert_eq!(
        attr(&n, "a", "ulimits"),
        json!({"nofile": {"soft": 3}, "nproc": {"single": 5}})
    );
}

#[test]
fn logging_options_merge_only_for_the_same_driver() {
    let n = two(
        "    logging: {driver: json-file, options: {max-size: 1m}}\n",
        "    logging: {options: {max-file: \"2\"}}\n",
    );
    assert_eq!(
        attr(&n, "a", "logging"),
        json!({"driver": "json-file", "options": {"max-size": "1m", "max-file": "2"}})
    );
    let n = two(
        "    logging: {driver: json-file, options: {max-size: 1m}}\n",
        "    logging: {driver: syslog, options: {tag: t}}\n",
    );
    assert_eq!(
        attr(&n, "a", "logging"),
        json!({"driver": "syslog", "options": {"tag": "t"}})
    );
}

#[test]
fn build_string_over_mapping_replaces_only_the_context() {
    let n = two(
        "    build: {context: ./c1, dockerfile: D1, args: {A: 1, B: 2}}\n",
        "    build: ./c2\n",
    );
    assert_eq!(
        attr(&n, "a", "build"),
        json!({"context": "./c2", "dockerfile": "D1", "args": {"A": "1", "B": "2"}})
    );
    let n = two(
        "    build: {args: {A: 1, B: 2}}\n",
        "    build: {args: [B=3, C]}\n",
    );
    assert_eq!(
        attr(&n, "a", "build"),
        json!({"args": {"A": "1", "B": "3", "C": null}})
    );
}

#[test]
fn extension_keys_merge_recursively() {
    let n = merged(&[
        "services:\n  a:\n    x-foo: {a: 1, b: 2}\nx-top: {a: 1}\n",
        "services:\n  a:\n    x-foo: {c: 3}\nx-top: {b: 2}\n",
    ]);
    assert_eq!(attr(&n, "a", "x-foo"), json!({"a": 1, "b": 2, "c": 3}));
    assert_eq!(json(&n)["x-top"], json!({"a": 1, "b": 2}));
}

#[test]
fn reset_tag_removes_the_inherited_value() {
    let n = merged(&[
        "services:\n  a:\n    image: x\n    user: root\n    restart: always\n    working_dir: /w\n    ports: [\"80:80\"]\n  b:\n    image: y\n",
        "services:\n  a:\n    user: !reset null\n    restart: !reset\n    working_dir: !reset \"\"\n    ports: !reset []\n  b: !reset\n",
    ]);
    assert_eq!(json(&n), json!({"services": {"a": {"image": "x"}}}));
    assert!(!has_tags(&n));
}

#[test]
fn reset_tag_on_an_environment_entry_removes_only_that_key() {
    let n = two(
        "    environment: {A: 1, B: 2}\n",
        "    environment: {A: !reset null}\n",
    );
    assert_eq!(attr(&n, "a", "environment"), json!({"B": "2"}));
}

#[test]
fn override_tag_replaces_environment_instead_of_merging() {
    let n = two(
        "    environment: {A: 1, B: 2}\n    networks: {n1: {aliases: [x]}}\n    stop_grace_period: 10s\n",
        "    environment: !override [C=3]\n    networks:\n      n1: !override {}\n    stop_grace_period: !override 5s\n",
    );
    assert_eq!(attr(&n, "a", "environment"), json!({"C": "3"}));
    assert_eq!(attr(&n, "a", "networks"), json!({"n1": {}}));
    assert_eq!(attr(&n, "a", "stop_grace_period"), json!("5s"));
    assert!(!has_tags(&n));
}

#[test]
fn reset_in_the_first_file_drops_the_key() {
    let n = merged(&["services:\n  a:\n    image: x\n    labels: !reset {z: 1}\n"]);
    assert_eq!(json(&n), json!({"services": {"a": {"image": "x"}}}));
}

#[test]
fn tags_inside_new_values_are_resolved() {
    let n = two(
        "    image: x\n",
        "    deploy: {labels: !reset {a: b}, mode: !override global}\n",
    );
    assert_eq!(attr(&n, "a", "deploy"), json!({"mode": "global"}));
    assert!(!has_tags(&n));
}

#[test]
fn top_level_network_labels_merge_by_key_and_ipam_config_like_compose() {
    let n = merged(&[
        "networks:\n  n1:\n    labels: [a=1]\n    ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1}, {subnet: 10.1.0.0/24}]}\n",
        "networks:\n  n1:\n    labels: {b: 2}\n    ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.254}, {subnet: 10.2.0.0/24}]}\n",
    ]);
    let n1 = &json(&n)["networks"]["n1"];
    assert_eq!(n1["labels"], json!({"a": "1", "b": "2"}));
    // compose-go mutates the base entries while walking them; the oracle prints this.
    assert_eq!(
        n1["ipam"]["config"],
        json!([{"subnet": "10.2.0.0/24", "gateway": "10.0.0.254"}, {"subnet": "10.2.0.0/24"}])
    );
}

#[test]
fn ipam_config_with_a_different_subnet_replaces_the_base_one() {
    let n = merged(&[
        "networks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/24}]}\n",
        "networks:\n  n:\n    ipam: {config: [{subnet: 10.2.0.0/24}]}\n",
    ]);
    assert_eq!(
        json(&n)["networks"]["n"]["ipam"]["config"],
        json!([{"subnet": "10.2.0.0/24"}])
    );
}

#[test]
fn mapping_overridden_by_a_scalar_is_an_error_at_the_override() {
    let mut base = Node::map(Vec::new(), Span::default());
    merge(
        &mut base,
        canonical("services:\n  a:\n    deploy: {mode: global}\n", "a.yaml"),
    )
    .unwrap();
    let e = merge(
        &mut base,
        canonical("services:\n  a:\n    deploy: replicated\n", "b.yaml"),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert_eq!(e.service.as_deref(), Some("a"));
    assert_eq!(
        e.span.as_ref().map(|s| (s.file.to_string(), s.line)),
        Some(("b.yaml".to_string(), 3))
    );
    assert!(
        e.message.contains("cannot override `deploy`"),
        "{}",
        e.message
    );
    assert!(e.hint.as_deref().unwrap_or("").contains("!override"));
}

#[test]
fn merge_service_applies_the_same_rules_and_tags() {
    let root = canonical(
        "services:\n  base:\n    image: b\n    ports: [\"80:80\"]\n    environment: {A: 1, B: 2}\n    command: [x]\n  web:\n    ports: !reset []\n    environment: !override {C: 3}\n    command: !reset null\n    labels: {l: v}\n",
        "a.yaml",
    );
    let services = root.get("services").unwrap();
    let out = merge_service(services.get("base").unwrap(), services.get("web").unwrap()).unwrap();
    assert_eq!(
        json(&out),
        json!({"image": "b", "environment": {"C": "3"}, "labels": {"l": "v"}})
    );
    assert!(!has_tags(&out));
}

#[test]
fn merge_service_deduplicates_like_a_file_merge() {
    let root = canonical(
        "services:\n  base:\n    volumes: [\"/a:/data\"]\n    ports: [\"80:80\"]\n  web:\n    volumes: [\"vol:/data\"]\n    ports: [\"80:80\"]\n",
        "a.yaml",
    );
    let services = root.get("services").unwrap();
    let out = merge_service(services.get("base").unwrap(), services.get("web").unwrap()).unwrap();
    assert_eq!(
        json(&out)["volumes"],
        json!([{"type": "volume", "source": "vol", "target": "/data", "volume": {}}])
    );
    assert_eq!(json(&out)["ports"].as_array().map(Vec::len), Some(1));
}

#[test]
fn merged_values_keep_the_span_of_the_file_that_wrote_them() {
    let mut base = Node::map(Vec::new(), Span::default());
    merge(
        &mut base,
        canonical("services:\n  a:\n    image: x\n    user: root\n", "a.yaml"),
    )
    .unwrap();
    merge(
        &mut base,
        canonical("services:\n  a:\n    user: app\n", "b.yaml"),
    )
    .unwrap();
    let a = base.get("services").and_then(|s| s.get("a")).unwrap();
    assert_eq!(
        a.get("image").map(|n| n.span.file.to_string()),
        Some("a.yaml".into())
    );
    assert_eq!(
        a.get("user").map(|n| n.span.file.to_string()),
        Some("b.yaml".into())
    );
}

#[test]
fn merging_the_parse_of_an_empty_file_changes_nothing() {
    let mut base = merged(&["services:\n  a:\n    image: x\n"]);
    let before = json(&base);
    merge(&mut base, parse("")).unwrap();
    assert_eq!(json(&base), before);
}

/// `labels:` of service `a` with the given entries, one per line.
fn labels(entries: impl Iterator<Item = String>) -> String {
    let mut text = String::from("services:\n  a:\n    labels:\n");
    for e in entries {
        text.push_str(&format!("      {e}\n"));
    }
    text
}

#[test]
fn large_mappings_merge_like_small_ones_with_resets_and_overrides() {
    // 40 keys: above the size where keys are looked up in an index.
    let base = labels((0..40).map(|i| format!("k{i}: b{i}")));
    let over = labels((0..60).step_by(2).map(|i| match i % 3 {
        0 => format!("k{i}: !reset null"),
        1 => format!("k{i}: !override o{i}"),
        _ => format!("k{i}: o{i}"),
    }));
    let got = &json(&merged(&[&base, &over]))["services"]["a"]["labels"];
    let mut want = serde_json::Map::new();
    for i in 0..60 {
        let value = match (i < 40, i % 2 == 0, i % 3) {
            (_, true, 0) => continue,
            (_, true, _) => format!("o{i}"),
            (true, false, _) => format!("b{i}"),
            (false, false, _) => continue,
        };
        want.insert(format!("k{i}"), json!(value));
    }
    assert_eq!(got, &serde_json::Value::Object(want));
    // Base keys keep their order, new keys follow in the override's order.
    let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
    assert_eq!(keys[..3], ["k1", "k2", "k3"]);
    assert_eq!(keys[keys.len() - 2..], ["k56", "k58"]);
}

#[test]
fn two_mappings_of_many_keys_merge_without_quadratic_work() {
    let base = labels((0..100_000).map(|i| format!("k{i}: v")));
    let over = labels((50_000..150_000).map(|i| format!("k{i}: w")));
    let n = merged(&[&base, &over]);
    let got = &json(&n)["services"]["a"]["labels"];
    assert_eq!(got.as_object().map(|m| m.len()), Some(150_000));
    assert_eq!(got["k49999"], json!("v"));
    assert_eq!(got["k50000"], json!("w"));
}

#[test]
fn extra_hosts_of_many_entries_merge_without_quadratic_work() {
    let hosts = |from: usize, to: usize| {
        let list: Vec<String> = (from..to).map(|i| format!("\"h{i}=10.0.0.1\"")).collect();
        format!("services:\n  a:\n    extra_hosts: [{}]\n", list.join(", "))
    };
    let n = merged(&[&hosts(0, 50_000), &hosts(25_000, 75_000)]);
    assert_eq!(
        json(&n)["services"]["a"]["extra_hosts"]
            .as_array()
            .map(Vec::len),
        Some(75_000)
    );
}

#[test]
fn ipam_config_lists_too_long_to_merge_are_refused() {
    let configs = |n: usize| {
        let list: Vec<String> = (0..n)
            .map(|i| format!("{{subnet: 10.{i}.0.0/24}}"))
            .collect();
        format!(
            "networks:\n  n:\n    ipam: {{config: [{}]}}\n",
            list.join(", ")
        )
    };
    let mut base = Node::map(Vec::new(), Span::default());
    merge(&mut base, canonical(&configs(64), "a.yaml")).unwrap();
    merge(&mut base, canonical(&configs(2), "b.yaml")).unwrap();
    let e = merge(&mut base, canonical(&configs(65), "c.yaml")).unwrap_err();
    assert!(
        e.message
            .contains("networks.n.ipam.config has more than 64 entries"),
        "{e}"
    );
    assert_eq!(
        e.span.as_ref().map(|s| s.file.to_string()).as_deref(),
        Some("c.yaml")
    );
}
