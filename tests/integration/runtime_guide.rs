//! The guide-shaped stack (tests/fixtures/runtime/guide) brought up by the
//! real binary: network isolation by DNS, network aliases, a published
//! port, health-gated start order, and the one-shot migration.

use crate::runtime_support::{Stack, http_get, instant_key, progress_events};

#[test]
fn runtime_guide_stack_isolates_networks_resolves_aliases_and_publishes() {
    let Some(s) = Stack::new("guide", "guide") else {
        return;
    };
    let up = s.aistack(&["up", "--wait", "--progress", "json"]).ok();

    // Every long-running service is up, the migration ran once and exited 0.
    for svc in ["proxy", "gateway", "redis", "postgres", "llm"] {
        assert_eq!(s.inspect(svc, "{{.State.Status}}"), "running", "{svc}");
    }
    assert_eq!(
        s.inspect("migrate", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 0"
    );
    // Health-gated order: the gateway started after its dependencies were
    // healthy and the migration had finished; the proxy after the gateway.
    let events = progress_events(&up.stderr);
    let done_at = |id: &str| {
        events
            .iter()
            .find(|(i, p, ..)| i == id && p == "done")
            .map(|e| e.3)
            .unwrap_or_else(|| panic!("no done event for {id}: {}", up.stderr))
    };
    let gw_start = done_at(&format!("start:{}", s.container("gateway")));
    for wait in [
        "wait:redis:healthy",
        "wait:postgres:healthy",
        "wait:llm:healthy",
        "wait:migrate:completed",
    ] {
        assert!(
            done_at(wait) <= gw_start,
            "{wait} after the gateway started"
        );
    }
    assert!(done_at("wait:gateway:healthy") <= done_at(&format!("start:{}", s.container("proxy"))));
    let started = |svc: &str| instant_key(&s.inspect(svc, "{{.State.StartedAt}}"));
    assert!(instant_key(&s.inspect("migrate", "{{.State.FinishedAt}}")) <= started("gateway"));
    assert!(started("gateway") <= started("proxy"));

    // The proxy is on the public network only: the internal services do not
    // even resolve there, while the gateway (public + ai) resolves them all.
    for name in ["redis", "postgres", "llm", "llm-proxy"] {
        let (code, out) = s.exec("proxy", &format!("nslookup {name} 127.0.0.11"));
        assert_ne!(code, 0, "the proxy resolved {name}:\n{out}");
        let (code, out) = s.exec("gateway", &format!("nslookup {name} 127.0.0.11"));
        assert_eq!(code, 0, "the gateway cannot resolve {name}:\n{out}");
        assert!(out.contains(&format!("Name:\t{name}")), "{out}");
    }
    let (code, out) = s.exec("proxy", "nslookup gateway 127.0.0.11");
    assert_eq!(code, 0, "the proxy cannot resolve the gateway:\n{out}");
    // By service name and by network alias, the LLM proxy answers.
    for host in ["llm", "llm-proxy"] {
        let (code, out) = s.exec(
            "gateway",
            &format!("timeout 5 wget -q -O- http://{host}:4000/"),
        );
        assert_eq!(code, 0, "gateway -> {host}: {out}");
        assert!(out.contains("hello from aistack"), "{out}");
    }
    // The echo servers stand in for redis and postgres on the ai network.
    let (code, out) = s.exec(
        "gateway",
        "echo PING | timeout 3 nc redis 6379; echo PING | timeout 3 nc postgres 5432; true",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PING").count(), 2, "echo servers: {out}");
    // ...and the proxy cannot reach the ai network's addresses at all.
    let redis_ip = s.inspect(
        "redis",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    );
    let (code, out) = s.exec(
        "proxy",
        &format!("echo PING | timeout 3 nc {redis_ip} 6379"),
    );
    assert!(
        code != 0 || !out.contains("PING"),
        "proxy reached redis at {redis_ip}: {out}"
    );

    // The published port answers on 127.0.0.1 (ephemeral host port, from `ps`).
    let ps = s.aistack(&["ps", "--format", "json"]).ok();
    let rows: serde_json::Value = serde_json::from_str(&ps.stdout).expect("ps json");
    let proxy = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Service"] == "proxy")
        .unwrap_or_else(|| panic!("no proxy in ps: {}", ps.stdout));
    let publisher = &proxy["Publishers"][0];
    assert_eq!(publisher["TargetPort"], 8080, "{proxy}");
    assert_eq!(publisher["URL"], "127.0.0.1", "{proxy}");
    let port = publisher["PublishedPort"].as_u64().unwrap() as u16;
    let body = http_get(port).unwrap_or_else(|e| panic!("127.0.0.1:{port}: {e}"));
    assert!(body.contains("hello from aistack"), "{body}");
    // Only the proxy publishes anything.
    for r in rows.as_array().unwrap() {
        if r["Service"] != "proxy" {
            assert_eq!(r["Publishers"], serde_json::json!([]), "{r}");
        }
    }

    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}
