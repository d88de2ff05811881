//! `aistack verify` against the real daemon on the guide-shaped stack
//! (tests/fixtures/runtime/guide, plus an override declaring the ports the
//! stand-ins listen on): the probed matrix equals the one the networks
//! call for; then the proxy, attached to the ai network from outside
//! aistack, shows up as leaks with exit code 5. No probe container is left
//! behind by either run.

use std::path::Path;

use serde_json::{Value, json};

use crate::runtime_support::{Out, Stack, aistack_in, docker, docker_ok};

/// The stand-ins' ports, declared with `expose` so verify probes them.
const EXPOSE: &str = r#"services:
  gateway: {expose: ["8000"]}
  redis: {expose: ["6379"]}
  postgres: {expose: ["5432"]}
  llm: {expose: ["4000"]}
"#;

fn verify(s: &Stack, args: &[&str]) -> Out {
    let mut full = vec![
        "-p",
        s.name.as_str(),
        "-f",
        "compose.yaml",
        "-f",
        "expose.yaml",
    ];
    full.extend_from_slice(args);
    aistack_in(s.path(), &full, &[])
}

/// Every (from, to) cell of the guide stack: verdict, then expected and
/// observed as (names, ports). Services: proxy on public; gateway on
/// public, ai and monitoring; redis, postgres, llm (alias llm-proxy) and
/// the one-shot migrate on the internal ai network.
fn expected_matrix() -> Vec<Value> {
    let ok = |names: &[&str], ports: &[u16]| {
        let r = json!({"reachable": true, "names": names, "ports": ports});
        ("ok", r.clone(), r)
    };
    let isolated = || {
        let r = json!({"reachable": false, "names": [], "ports": []});
        ("ok", r.clone(), r)
    };
    let unprobed = |names: &[&str], ports: &[u16], reachable: bool| {
        (
            "not-probed",
            json!({"reachable": reachable, "names": names, "ports": ports}),
            json!({"reachable": false, "names": [], "ports": []}),
        )
    };
    let cells = [
        ("gateway", "llm", ok(&["llm", "llm-proxy"], &[4000])),
        ("gateway", "migrate", unprobed(&["migrate"], &[], true)),
        ("gateway", "postgres", ok(&["postgres"], &[5432])),
        ("gateway", "proxy", ok(&["proxy"], &[8080])),
        ("gateway", "redis", ok(&["redis"], &[6379])),
        ("llm", "gateway", ok(&["gateway"], &[8000])),
        ("llm", "migrate", unprobed(&["migrate"], &[], true)),
        ("llm", "postgres", ok(&["postgres"], &[5432])),
        ("llm", "proxy", isolated()),
        ("llm", "redis", ok(&["redis"], &[6379])),
        ("migrate", "gateway", unprobed(&["gateway"], &[8000], true)),
        (
            "migrate",
            "llm",
            unprobed(&["llm", "llm-proxy"], &[4000], true),
        ),
        (
            "migrate",
            "postgres",
            unprobed(&["postgres"], &[5432], true),
        ),
        ("migrate", "proxy", unprobed(&[], &[], false)),
        ("migrate", "redis", unprobed(&["redis"], &[6379], true)),
        ("postgres", "gateway", ok(&["gateway"], &[8000])),
        ("postgres", "llm", ok(&["llm", "llm-proxy"], &[4000])),
        ("postgres", "migrate", unprobed(&["migrate"], &[], true)),
        ("postgres", "proxy", isolated()),
        ("postgres", "redis", ok(&["redis"], &[6379])),
        ("proxy", "gateway", ok(&["gateway"], &[8000])),
        ("proxy", "llm", isolated()),
        ("proxy", "migrate", unprobed(&[], &[], false)),
        ("proxy", "postgres", isolated()),
        ("proxy", "redis", isolated()),
        ("redis", "gateway", ok(&["gateway"], &[8000])),
        ("redis", "llm", ok(&["llm", "llm-proxy"], &[4000])),
        ("redis", "migrate", unprobed(&["migrate"], &[], true)),
        ("redis", "postgres", ok(&["postgres"], &[5432])),
        ("redis", "proxy", isolated()),
    ];
    cells
        .into_iter()
        .map(|(from, to, (verdict, expected, observed))| {
            json!({"from": from, "to": to, "verdict": verdict, "expected": expected, "observed": observed})
        })
        .collect()
}

/// The report's cells without notes and unprobed ports.
fn matrix(report: &Value) -> Vec<Value> {
    report["cells"]
        .as_array()
        .unwrap_or_else(|| panic!("no cells: {report}"))
        .iter()
        .map(|c| {
            json!({"from": c["from"], "to": c["to"], "verdict": c["verdict"],
                   "expected": c["expected"], "observed": c["observed"]})
        })
        .collect()
}

fn cell<'a>(report: &'a Value, from: &str, to: &str) -> &'a Value {
    report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["from"] == from && c["to"] == to)
        .unwrap_or_else(|| panic!("no cell {from} -> {to}: {report}"))
}

#[track_caller]
fn assert_no_probe_left(s: &Stack) {
    let filter = format!("label=com.docker.compose.project={}", s.name);
    let left = docker_ok(&[
        "ps",
        "-a",
        "--filter",
        &filter,
        "--filter",
        "label=io.aistack.probe",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(left, "", "probe containers left behind");
}

#[test]
fn runtime_verify_matches_the_guide_matrix_then_reports_a_proxy_attached_to_ai() {
    // While the swarm tests hold the daemon in Swarm mode, Engine 20.10's
    // embedded DNS does not answer the probe's lookups: take their lock.
    let swarm_lock = std::fs::File::create(std::env::temp_dir().join("aistack-swarm-test.lock"))
        .expect("create the swarm lock file");
    swarm_lock.lock().expect("lock the swarm lock file");
    let Some(s) = Stack::new("verify", "guide") else {
        return;
    };
    std::fs::write(Path::new(s.path()).join("expose.yaml"), EXPOSE).unwrap();

    // Nothing runs yet: a clear error, not an empty matrix.
    let out = verify(&s, &["verify"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("is not running"), "{}", out.all());

    verify(&s, &["up", "--wait", "--progress", "quiet"]).ok();

    let out = verify(&s, &["verify", "--format", "json", "--egress"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report: Value = serde_json::from_str(&out.stdout).expect("verify json");
    assert_eq!(matrix(&report), expected_matrix(), "{}", out.stdout);
    assert_eq!(report["differences"], json!([]));
    assert_eq!(
        (report["leaks"].as_u64(), report["breaks"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(report["skipped"][0]["service"], "migrate");
    let egress: Vec<(String, Value)> = report["egress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap().to_string(),
                r["observed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        egress,
        [
            ("gateway".to_string(), json!(true)),
            ("llm".to_string(), json!(false)),
            ("migrate".to_string(), Value::Null),
            ("postgres".to_string(), json!(false)),
            ("proxy".to_string(), json!(true)),
            ("redis".to_string(), json!(false)),
        ]
    );
    assert_no_probe_left(&s);

    // Attach the proxy to the internal ai network behind aistack's back.
    let ai = format!("{}_ai", s.name);
    let out = docker(&["network", "connect", &ai, &s.container("proxy")]);
    assert_eq!(out.code, 0, "{}", out.all());

    let out = verify(&s, &["verify"]);
    assert_eq!(out.code, 5, "{}", out.all());
    for words in [
        "proxy resolves redis but shares no network with it (leak)",
        "proxy resolves llm-proxy (an alias of llm on ai) but shares no network with it (leak)",
        "redis reaches proxy:8080 at ",
    ] {
        assert!(
            out.stdout.contains(words),
            "{words:?} missing:\n{}",
            out.all()
        );
    }
    assert!(
        out.stdout.contains("proxy reaches redis:6379 at ")
            && out
                .stdout
                .contains(" on ai but shares no network with it (leak)"),
        "{}",
        out.all()
    );
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("proxy "))
        .unwrap_or_else(|| panic!("no proxy row:\n{}", out.stdout));
    assert!(row.contains("LEAK 6379"), "{row}");
    assert_no_probe_left(&s);

    let out = verify(&s, &["verify", "--format", "json"]);
    assert_eq!(out.code, 5, "{}", out.all());
    let report: Value = serde_json::from_str(&out.stdout).expect("verify json");
    let c = cell(&report, "proxy", "redis");
    assert_eq!(c["verdict"], "leak");
    assert_eq!(
        c["observed"],
        json!({"reachable": true, "names": ["redis"], "ports": [6379]})
    );
    assert_eq!(cell(&report, "redis", "proxy")["verdict"], "leak");
    // What the files allow still works (no break); the proxy now also
    // reaches the gateway through ai, an extra path the files do not give.
    assert_eq!(report["breaks"], 0);
    let c = cell(&report, "proxy", "gateway");
    assert_eq!(
        c["observed"],
        json!({"reachable": true, "names": ["gateway"], "ports": [8000]})
    );
    assert_eq!(c["verdict"], "leak");
    let via_ai = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["from"] == "proxy" && d["to"] == "gateway" && d["network"] == "ai");
    assert!(via_ai, "{}", out.stdout);
    assert_no_probe_left(&s);

    verify(&s, &["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}
