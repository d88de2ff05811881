//! The Swarm executor against `FakeSwarm` with a paused clock: dependency
//! order, failures stopping dependents with a diagnosis, crash loops and
//! deadlines, updates, and `down` leaving nothing behind.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::apply::progress::Recorder;
use crate::compose::Project;
use crate::engine::swarm::kernel::VipSupport;
use crate::engine::swarm::*;
use crate::plan::swarm::{self as plan, EndpointChoice, Facts, Observed, StepOptions};

use super::observe;
use super::remove::{self, RemoveReport};
use super::*;

const STACK: &str = r#"
name: demo
services:
  proxy:
    image: proxy:1
    ports: ["8080"]
    networks: [public]
    depends_on:
      gateway: {condition: service_healthy}
  gateway:
    image: gateway:1
    networks: [public, ai]
    secrets: [db_password]
    depends_on:
      redis: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  redis:
    image: redis:7
    networks: [ai]
    volumes: [cache:/data]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  migrate:
    image: gateway:1
    restart: "no"
    networks: [ai]
networks:
  public: {}
  ai: {internal: true}
volumes:
  cache: {}
secrets:
  db_password: {environment: DB_PASSWORD}
"#;

fn project(yaml: &str) -> Project {
    crate::testutil::load_project_with_env(yaml, &[("DB_PASSWORD", "pw-value-1")])
}

fn facts() -> Facts {
    Facts {
        api: (1, 41),
        vip: VipSupport::Unavailable("no IPVS".into()),
        endpoint_mode: EndpointChoice::Auto,
        files: BTreeMap::new(),
    }
}

async fn plan_for(engine: &FakeSwarm, p: &Project, orphans: bool) -> plan::DeployPlan {
    let d = plan::deployment(p, &facts(), &[]);
    assert!(d.errors().next().is_none(), "{:?}", d.findings);
    let observed = observe::for_deploy(engine, &d).await.unwrap();
    let steps = plan::steps(
        &d,
        &observed,
        StepOptions {
            remove_orphans: orphans,
        },
    );
    assert!(steps.errors.is_empty(), "{:?}", steps.errors);
    steps
}

/// A manager where the one-shot migration completes after a second.
fn fake(linger: Duration) -> FakeSwarm {
    let engine = FakeSwarm::with_linger(linger);
    engine.script("demo_migrate", TaskScript::Exit(0, Duration::from_secs(1)));
    engine
}

fn opts(wait: bool, deadline: Duration) -> DeployOptions {
    DeployOptions {
        wait,
        deadline: Some(Instant::now() + deadline),
        poll: Duration::from_millis(100),
        ..Default::default()
    }
}

/// When `call` was made (time since the fake was created).
fn at(engine: &FakeSwarm, call: &str) -> Duration {
    engine
        .calls()
        .into_iter()
        .find(|(_, c)| c == call)
        .map(|(t, _)| t)
        .unwrap_or_else(|| panic!("no call {call:?} in {:#?}", engine.calls()))
}

fn called(engine: &FakeSwarm, call: &str) -> bool {
    engine.calls().iter().any(|(_, c)| c == call)
}

#[tokio::test(start_paused = true)]
async fn services_are_created_only_once_their_dependencies_run_or_completed() {
    let engine = fake(Duration::from_secs(2));
    engine.script("demo_redis", TaskScript::Run(Duration::from_secs(3)));
    engine.script("demo_migrate", TaskScript::Exit(0, Duration::from_secs(5)));
    engine.script("demo_gateway", TaskScript::Run(Duration::from_secs(2)));
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    let report = deploy(&engine, &plan, &opts(true, Duration::from_secs(60))).await;
    assert!(report.failure.is_none(), "{:?}", report.failure);

    let gateway = at(&engine, "create_service demo_gateway");
    assert!(
        gateway >= Duration::from_secs(5),
        "gateway at {gateway:?}: before migrate completed"
    );
    assert!(at(&engine, "create_service demo_redis") < Duration::from_secs(1));
    let proxy = at(&engine, "create_service demo_proxy");
    assert!(
        proxy >= gateway + Duration::from_secs(2),
        "proxy at {proxy:?}, gateway at {gateway:?}"
    );
    // The secret exists before its user, which got the secret's ID.
    assert!(at(&engine, "create_object secret demo_db_password") <= gateway);
    let spec = engine.spec("demo_gateway").unwrap();
    assert!(!spec.container.secrets[0].object_id.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_job_stops_its_dependents_with_a_diagnosis() {
    let engine = fake(Duration::from_secs(2));
    engine.script("demo_migrate", TaskScript::Exit(3, Duration::from_secs(1)));
    engine.set_logs(
        "demo_migrate",
        &["migrating", "migration failed: table missing"],
    );
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    let recorder = Arc::new(Recorder::default());
    let mut o = opts(false, Duration::from_secs(60));
    o.progress = recorder.clone();
    let report = deploy(&engine, &plan, &o).await;
    let f = report.failure.expect("the deploy must fail");
    assert_eq!(f.service.as_deref(), Some("migrate"));
    assert!(f.message.contains("exit code 3"), "{}", f.message);
    assert!(!f.timed_out);
    let d = f.diagnosis.expect("a diagnosis");
    assert_eq!(d.tasks[0].exit_code, Some(3));
    assert_eq!(d.tasks[0].state, "failed");
    assert!(
        d.tasks[0].logs.iter().any(|l| l.contains("table missing")),
        "{d:?}"
    );
    assert!(!called(&engine, "create_service demo_gateway"));
    assert!(!called(&engine, "create_service demo_proxy"));
    let events = recorder.0.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.id == "service:proxy" && matches!(e.phase, crate::apply::Phase::Skipped(_))),
        "{events:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn wait_reports_a_crash_loop_of_a_restarting_service() {
    let engine = fake(Duration::from_secs(2));
    engine.script("demo_proxy", TaskScript::Exit(1, Duration::from_secs(1)));
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    let report = deploy(&engine, &plan, &opts(true, Duration::from_secs(120))).await;
    let f = report.failure.expect("the deploy must fail");
    assert_eq!(f.service.as_deref(), Some("proxy"));
    assert!(f.message.contains("crash loop"), "{}", f.message);
    assert_eq!(f.diagnosis.unwrap().tasks.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_task_that_is_never_scheduled_times_out_saying_why() {
    let engine = fake(Duration::from_secs(2));
    engine.script(
        "demo_redis",
        TaskScript::Pending(
            "no suitable node (scheduling constraints not satisfied on 1 node)".into(),
        ),
    );
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    let started = Instant::now();
    let report = deploy(&engine, &plan, &opts(false, Duration::from_secs(10))).await;
    let f = report.failure.expect("the deploy must fail");
    assert!(f.timed_out);
    assert!(f.message.contains("no suitable node"), "{}", f.message);
    assert!(started.elapsed() < Duration::from_secs(11));
    assert!(!called(&engine, "create_service demo_gateway"));
}

#[tokio::test(start_paused = true)]
async fn a_second_deploy_keeps_what_is_current_and_updates_what_changed() {
    let engine = fake(Duration::from_secs(2));
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    assert!(
        deploy(&engine, &plan, &opts(true, Duration::from_secs(60)))
            .await
            .failure
            .is_none()
    );
    let same = plan_for(&engine, &p, false).await;
    assert!(
        same.steps.iter().all(|s| matches!(
            s,
            plan::Step::Service {
                action: plan::ServiceAction::Keep { .. },
                ..
            }
        )),
        "{same}"
    );
    let changed = project(&STACK.replace("image: redis:7", "image: redis:8"));
    let plan = plan_for(&engine, &changed, false).await;
    let report = deploy(&engine, &plan, &opts(true, Duration::from_secs(60))).await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert!(called(&engine, "update_service demo_redis"));
    assert!(!called(&engine, "update_service demo_gateway"));
    assert_eq!(
        engine.spec("demo_redis").unwrap().container.image,
        "redis:8"
    );
}

#[tokio::test(start_paused = true)]
async fn down_removes_services_then_networks_objects_and_volumes_once_tasks_are_gone() {
    let engine = fake(Duration::from_secs(3));
    let p = project(STACK);
    let plan = plan_for(&engine, &p, false).await;
    assert!(
        deploy(&engine, &plan, &opts(true, Duration::from_secs(60)))
            .await
            .failure
            .is_none()
    );
    assert!(observe::deployed(&engine, "demo").await.unwrap());

    let (observed, volumes) = observe::for_down(&engine, "demo", true).await.unwrap();
    let r = plan::removal("demo", &observed, &volumes);
    assert_eq!(r.services.len(), 4);
    assert_eq!(r.networks.len(), 2);
    assert_eq!(r.volumes, ["demo_cache"]);
    let RemoveReport { left } =
        remove::remove(&engine, &r, &opts(false, Duration::ZERO), remove::SETTLE).await;
    assert!(left.is_empty(), "{left:?}");
    // Networks went only after the lingering task containers (3 s).
    let net = engine
        .calls()
        .into_iter()
        .filter(|(_, c)| c.starts_with("remove_swarm_network"))
        .map(|(t, _)| t)
        .max()
        .unwrap();
    assert!(net >= Duration::from_secs(3), "{net:?}");
    let (after, vols) = observe::for_down(&engine, "demo", true).await.unwrap();
    assert!(after.services.is_empty() && after.networks.is_empty() && after.objects.is_empty());
    assert!(vols.is_empty());
    assert!(!observe::deployed(&engine, "demo").await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn an_engine_outside_a_swarm_has_nothing_deployed() {
    let engine = fake(Duration::from_secs(2));
    engine.set_status(SwarmStatus {
        state: "inactive".into(),
        node_id: String::new(),
        is_manager: false,
        nodes: 0,
        now: 0,
    });
    assert!(!observe::deployed(&engine, "demo").await.unwrap());
    let _ = Observed::default();
}
