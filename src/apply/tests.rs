//! Executor tests on the in-memory engine, with tokio's paused clock so
//! timing assertions are deterministic.

use std::sync::Arc;
use std::time::Duration;

use crate::compose::Project;
use crate::engine::{Engine, EngineError, FakeEngine, Script};
use crate::plan::{self, Observed, UpOptions};

use super::progress::Recorder;
use super::*;

const STACK: &str = r#"
name: demo
services:
  proxy:
    image: proxy:1
    ports: ["8080:80"]
    depends_on:
      gateway: {condition: service_healthy}
  gateway:
    image: gateway:1
    depends_on:
      redis: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  redis:
    image: redis:7
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  migrate:
    image: gateway:1
    restart: "no"
  lone:
    image: lone:1
"#;

use crate::testutil::load_project as load;

fn fresh_plan(p: &Project, wait: bool) -> plan::Plan {
    let mut o = Observed::default();
    for (n, s) in &p.services {
        o.images.insert(s.image_name(&p.name, n));
    }
    plan::up(
        p,
        &o,
        &UpOptions {
            wait,
            ..Default::default()
        },
    )
    .unwrap()
}

fn opts(probe: HealthProbe, deadline: Option<Duration>) -> ApplyOptions {
    ApplyOptions {
        concurrency: 4,
        deadline: deadline.map(|d| Instant::now() + d),
        probe,
        progress: Arc::new(Recorder::default()),
        cancel: cancel::Cancel::default(),
        serial_stops: false,
    }
}

fn position(calls: &[String], needle: &str) -> usize {
    calls
        .iter()
        .position(|c| c == needle)
        .unwrap_or_else(|| panic!("no call {needle:?} in {calls:#?}"))
}

fn script_stack(e: &FakeEngine) {
    e.on_start("demo-redis-1", Script::Healthy(Duration::from_millis(300)));
    e.on_start(
        "demo-gateway-1",
        Script::Healthy(Duration::from_millis(300)),
    );
    e.on_start(
        "demo-migrate-1",
        Script::Exit(0, Duration::from_millis(200)),
    );
}

#[tokio::test(start_paused = true)]
async fn dependents_start_only_after_their_dependencies_meet_their_conditions() {
    let p = load(STACK);
    let e = FakeEngine::new();
    script_stack(&e);
    let plan = fresh_plan(&p, true);
    let events = subscribe_events(&e, "demo");
    let report = run(&e, &plan, &opts(HealthProbe::Engine, None), &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    let calls = e.calls();
    assert!(
        position(&calls, "start_container demo-redis-1")
            < position(&calls, "start_container demo-gateway-1")
    );
    assert!(
        position(&calls, "start_container demo-migrate-1")
            < position(&calls, "start_container demo-gateway-1")
    );
    assert!(
        position(&calls, "start_container demo-gateway-1")
            < position(&calls, "start_container demo-proxy-1")
    );
}

#[tokio::test(start_paused = true)]
async fn independent_branches_run_in_parallel() {
    let p =
        load("name: demo\nservices:\n  a:\n    image: a\n  b:\n    image: b\n  c:\n    image: c\n");
    let e = FakeEngine::new();
    e.set_latency("create_container", Duration::from_secs(1));
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let t = Instant::now();
    let report = run(&e, &plan, &opts(HealthProbe::Engine, None), &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    // Three one-second creates in parallel, not in sequence.
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        t.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_node_skips_its_dependents_and_reports_why() {
    let p = load(STACK);
    let e = FakeEngine::new();
    script_stack(&e);
    e.fail_next(
        "create_container",
        EngineError::Api {
            status: 500,
            message: "disk full".into(),
        },
    );
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let report = run(&e, &plan, &opts(HealthProbe::Engine, None), &events).await;
    let f = report.failure.clone().expect("a failure");
    assert!(f.message.contains("disk full"), "{f:?}");
    let by_id = outcomes_by_id(&plan, &report);
    assert!(
        matches!(by_id["start:demo-proxy-1"], Outcome::Skipped(_)),
        "{by_id:?}"
    );
    assert!(
        !e.calls()
            .iter()
            .any(|c| c == "start_container demo-proxy-1")
    );
}

#[tokio::test(start_paused = true)]
async fn an_unhealthy_dependency_fails_the_wait_at_once() {
    let p = load(STACK);
    let e = FakeEngine::new();
    e.on_start(
        "demo-redis-1",
        Script::Unhealthy(Duration::from_millis(500)),
    );
    e.on_start(
        "demo-migrate-1",
        Script::Exit(0, Duration::from_millis(100)),
    );
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let t = Instant::now();
    let report = run(
        &e,
        &plan,
        &opts(HealthProbe::Engine, Some(Duration::from_secs(60))),
        &events,
    )
    .await;
    let f = report.failure.expect("a failure");
    assert!(
        f.message.contains("demo-redis-1") && f.message.contains("unhealthy"),
        "{f:?}"
    );
    // The diagnosis names the Compose condition and who needed it.
    assert!(
        f.message
            .ends_with("(condition service_healthy, required by gateway)"),
        "{f:?}"
    );
    assert!(!f.timed_out);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        t.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_that_exits_non_zero_fails_its_dependents_wait() {
    let p = load(STACK);
    let e = FakeEngine::new();
    e.on_start("demo-redis-1", Script::Healthy(Duration::from_millis(100)));
    e.on_start(
        "demo-migrate-1",
        Script::Exit(3, Duration::from_millis(100)),
    );
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let report = run(&e, &plan, &opts(HealthProbe::Engine, None), &events).await;
    let f = report.failure.expect("a failure");
    assert!(
        f.message.contains("demo-migrate-1 exited with code 3"),
        "{f:?}"
    );
    assert!(
        f.message
            .ends_with("(condition service_completed_successfully, required by gateway)"),
        "{f:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_real() {
    let p = load(STACK);
    let e = FakeEngine::new();
    // redis never turns healthy and the engine decides: only the deadline ends it.
    e.on_start(
        "demo-migrate-1",
        Script::Exit(0, Duration::from_millis(100)),
    );
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let t = Instant::now();
    let report = run(
        &e,
        &plan,
        &opts(HealthProbe::Engine, Some(Duration::from_secs(5))),
        &events,
    )
    .await;
    let f = report.failure.expect("a failure");
    assert!(f.timed_out, "{f:?}");
    assert!(
        t.elapsed() >= Duration::from_secs(5) && t.elapsed() < Duration::from_secs(7),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn eager_probes_decide_health_before_the_engine_does() {
    let p = load(STACK);
    let e = FakeEngine::new();
    // The engine would say healthy only after 30 s; our own probe passes at once.
    e.on_start("demo-redis-1", Script::Healthy(Duration::from_secs(30)));
    e.on_start("demo-gateway-1", Script::Healthy(Duration::from_secs(30)));
    e.on_start(
        "demo-migrate-1",
        Script::Exit(0, Duration::from_millis(100)),
    );
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let t = Instant::now();
    let report = run(&e, &plan, &opts(HealthProbe::Eager, None), &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert!(
        e.calls()
            .iter()
            .any(|c| c.starts_with("exec demo-redis-1 true")),
        "{:#?}",
        e.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn waits_do_not_hold_concurrency_slots() {
    // With one slot, a wait holding it would deadlock the start it waits for.
    let p = load(STACK);
    let e = FakeEngine::new();
    script_stack(&e);
    let plan = fresh_plan(&p, true);
    let events = subscribe_events(&e, "demo");
    let mut o = opts(HealthProbe::Engine, Some(Duration::from_secs(60)));
    o.concurrency = 1;
    let report = run(&e, &plan, &o, &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    let _ = e.info().await;
}

#[tokio::test(start_paused = true)]
async fn down_stops_the_next_service_once_the_previous_process_died_not_after_cleanup() {
    let p = load(STACK);
    let e = FakeEngine::new();
    script_stack(&e);
    let events = subscribe_events(&e, "demo");
    let report = run(
        &e,
        &fresh_plan(&p, true),
        &opts(HealthProbe::Engine, None),
        &events,
    )
    .await;
    assert!(report.ok(), "{:?}", report.failure);
    // Each stop call returns 100 ms after its container's process died.
    e.set_latency("stop_container", Duration::from_millis(100));
    e.clear_calls();
    let observed = observe::by_name(&e, "demo").await.unwrap();
    let plan = plan::down(Some(&p), &observed, &plan::DownOptions::default());
    let t = Instant::now();
    let report = run(&e, &plan, &opts(HealthProbe::Engine, None), &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    let calls = e.calls();
    // Reverse dependency order still holds: proxy, then gateway, then redis.
    let proxy = position(&calls, "stop_container demo-proxy-1");
    let gateway = position(&calls, "stop_container demo-gateway-1");
    let redis = position(&calls, "stop_container demo-redis-1");
    assert!(proxy < gateway && gateway < redis, "{calls:#?}");
    // A container is removed only after its stop call returned, and the
    // network only after every container is gone.
    assert!(position(&calls, "remove_container demo-redis-1") > redis);
    let net = calls
        .iter()
        .position(|c| c.starts_with("remove_network"))
        .expect("network removed");
    assert!(
        calls[..net]
            .iter()
            .filter(|c| c.starts_with("remove_container"))
            .count()
            >= 4
    );
    // Three chained stops overlap their cleanups: ~100 ms, not ~300 ms.
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "took {:?}",
        t.elapsed()
    );
}

/// Fires `trigger` after `after` (tokio time).
fn fire_after(trigger: cancel::Trigger, after: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        trigger.fire();
    });
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_apply_launches_nothing_more_and_lets_creates_finish() {
    let p = load(STACK);
    let e = FakeEngine::new();
    script_stack(&e);
    // Creates are slow: the cancel lands while some are in flight.
    e.set_latency("create_container", Duration::from_secs(1));
    let plan = fresh_plan(&p, true);
    let events = subscribe_events(&e, "demo");
    let (trigger, cancel) = cancel::pair();
    let mut o = opts(HealthProbe::Engine, None);
    o.cancel = cancel;
    fire_after(trigger, Duration::from_millis(500));
    let t = Instant::now();
    let report = run(&e, &plan, &o, &events).await;
    let f = report.failure.clone().expect("an interruption");
    assert!(f.interrupted && !f.timed_out, "{f:?}");
    // The creates in flight at the cancel ran to their answer...
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    let calls = e.calls();
    let created: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("create_container "))
        .collect();
    assert!(!created.is_empty(), "{calls:#?}");
    let existing = e.list_containers(&[], true).await.unwrap();
    for c in &created {
        let name = c.trim_start_matches("create_container ");
        assert!(
            existing.iter().any(|x| x.name == name),
            "{name} was asked for but abandoned: {calls:#?}"
        );
    }
    // ...and nothing was launched after it: no starts at all.
    assert!(
        !calls.iter().any(|c| c.starts_with("start_container")),
        "{calls:#?}"
    );
    let by_id = outcomes_by_id(&plan, &report);
    assert!(
        matches!(by_id["start:demo-redis-1"], Outcome::Skipped(r) if r == "not run: interrupted"),
        "{by_id:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancel_ends_a_pending_wait_at_once() {
    let p = load(STACK);
    let e = FakeEngine::new();
    // redis would turn healthy only after an hour.
    e.on_start("demo-redis-1", Script::Healthy(Duration::from_secs(3600)));
    e.on_start(
        "demo-migrate-1",
        Script::Exit(0, Duration::from_millis(100)),
    );
    let plan = fresh_plan(&p, true);
    let events = subscribe_events(&e, "demo");
    let (trigger, cancel) = cancel::pair();
    let mut o = opts(HealthProbe::Engine, None);
    o.cancel = cancel;
    fire_after(trigger, Duration::from_secs(2));
    let t = Instant::now();
    let report = run(&e, &plan, &o, &events).await;
    assert!(report.failure.expect("an interruption").interrupted);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "the wait was not ended: {:?}",
        t.elapsed()
    );
    assert!(
        !e.calls()
            .iter()
            .any(|c| c == "start_container demo-gateway-1")
    );
}

#[tokio::test(start_paused = true)]
async fn engine_calls_that_never_answer_are_abandoned_after_the_drain_period() {
    let p = load(STACK);
    let e = FakeEngine::new();
    e.set_latency("create_network", Duration::from_secs(3600));
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    let (trigger, cancel) = cancel::pair();
    let mut o = opts(HealthProbe::Engine, None);
    o.cancel = cancel;
    fire_after(trigger, Duration::from_secs(1));
    let t = Instant::now();
    let report = run(&e, &plan, &o, &events).await;
    assert!(report.failure.expect("an interruption").interrupted);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(1) + DRAIN && took < Duration::from_secs(2) + DRAIN,
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn down_gives_up_on_a_busy_network_at_its_deadline_and_names_what_holds_it() {
    let p = load("name: demo\nservices:\n  web:\n    image: web\n");
    let e = FakeEngine::new();
    let plan = fresh_plan(&p, false);
    let events = subscribe_events(&e, "demo");
    assert!(
        run(&e, &plan, &opts(HealthProbe::Engine, None), &events)
            .await
            .ok()
    );
    let t = Instant::now();
    let err = networks::remove(&e, "default", "demo_default", Duration::from_secs(30))
        .await
        .expect_err("a running container holds the network");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(31),
        "{took:?}"
    );
    assert!(err.contains("still attached: demo-web-1"), "{err}");
    assert!(err.contains("`docker rm -f demo-web-1`"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn serial_stops_run_one_at_a_time_to_the_end_of_each_call() {
    let p =
        load("name: demo\nservices:\n  a:\n    image: a\n  b:\n    image: b\n  c:\n    image: c\n");
    let e = FakeEngine::new();
    let events = subscribe_events(&e, "demo");
    let up = run(
        &e,
        &fresh_plan(&p, false),
        &opts(HealthProbe::Engine, None),
        &events,
    )
    .await;
    assert!(up.ok(), "{:?}", up.failure);
    e.set_latency("stop_container", Duration::from_secs(1));
    let observed = observe::by_name(&e, "demo").await.unwrap();
    let plan = plan::down(Some(&p), &observed, &plan::DownOptions::default());
    let mut o = opts(HealthProbe::Engine, None);
    o.serial_stops = true;
    let t = Instant::now();
    let report = run(&e, &plan, &o, &events).await;
    assert!(report.ok(), "{:?}", report.failure);
    // Three independent one-second stops, in sequence rather than at once.
    assert!(
        t.elapsed() >= Duration::from_secs(3) && t.elapsed() < Duration::from_secs(4),
        "{:?}",
        t.elapsed()
    );
}
