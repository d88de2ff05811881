//! Swarm planning: literal projects and snapshots → findings, specs and steps.

use std::collections::BTreeMap;

use crate::compose::{self, LoadOptions, Project};
use crate::engine::swarm::kernel::VipSupport;
use crate::engine::swarm::*;
use crate::plan::labels as compose_labels;
use crate::testutil::load_project_with_env as load_with;

use super::*;

const GUIDE: &str = r#"
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
    configs: [{source: app, target: /etc/app.conf, mode: 0440}]
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
configs:
  app: {content: "level=debug"}
"#;

fn guide() -> Project {
    load_with(GUIDE, &[("DB_PASSWORD", "s3cret-value")])
}

fn facts(vip: VipSupport) -> Facts {
    Facts {
        api: (1, 41),
        vip,
        endpoint_mode: EndpointChoice::Auto,
        files: BTreeMap::new(),
    }
}

fn no_ipvs() -> VipSupport {
    VipSupport::Unavailable("no IPVS in this kernel".into())
}

fn service<'a>(d: &'a Deployment, key: &str) -> &'a ServicePlan {
    d.services.iter().find(|s| s.key == key).unwrap()
}

fn errors(d: &Deployment) -> Vec<String> {
    d.errors().map(|f| f.to_string()).collect()
}

#[test]
fn the_guide_stack_maps_to_services_in_dependency_order_with_their_waits() {
    let d = deployment(&guide(), &facts(VipSupport::Available), &[]);
    assert!(errors(&d).is_empty(), "{:?}", errors(&d));
    let order: Vec<&str> = d.services.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(order, ["migrate", "redis", "gateway", "proxy"]);
    let gw = service(&d, "gateway");
    assert_eq!(gw.spec.name, "demo_gateway");
    assert_eq!(
        gw.waits,
        vec![
            Wait {
                service: "migrate".into(),
                condition: WaitFor::Completed
            },
            Wait {
                service: "redis".into(),
                condition: WaitFor::Healthy
            },
        ]
    );
    // The one-shot migration ends instead of restarting; the rest restart.
    let migrate = service(&d, "migrate");
    assert_eq!(migrate.target, Target::Completed(Some(1)));
    assert_eq!(migrate.spec.restart.condition, RestartCondition::None);
    assert_eq!(gw.target, Target::Running(Some(1)));
    assert_eq!(gw.spec.restart.condition, RestartCondition::Any);
    // Each service resolves by its compose name only on its own networks.
    let nets: Vec<(&str, &[String])> = gw
        .spec
        .networks
        .iter()
        .map(|n| (n.target.as_str(), n.aliases.as_slice()))
        .collect();
    assert_eq!(
        nets,
        [
            ("demo_ai", &["gateway".to_string()][..]),
            ("demo_public", &["gateway".to_string()][..])
        ]
    );
    assert_eq!(gw.spec.container.secrets[0].target, "db_password");
    assert_eq!(gw.spec.container.configs[0].target, "/etc/app.conf");
    assert_eq!(gw.spec.container.configs[0].mode, 0o440);
    assert_eq!(gw.spec.endpoint_mode, EndpointMode::Vip);
    let proxy = service(&d, "proxy");
    assert_eq!(proxy.spec.ports[0].mode, PublishMode::Ingress);
    // Overlay networks keep `internal`; the volume is labelled for `down -v`.
    let ai = d.networks.iter().find(|n| n.key == "ai").unwrap();
    assert!(ai.spec.internal && ai.spec.attachable);
    assert_eq!(ai.spec.driver.as_deref(), Some("overlay"));
    let redis = service(&d, "redis");
    let m = &redis.spec.container.mounts[0];
    assert_eq!(m.source.as_deref(), Some("demo_cache"));
    assert_eq!(m.volume_labels[labels::STACK], "demo");
    assert_eq!(m.volume_labels[compose_labels::PROJECT], "demo");
}

#[test]
fn without_ipvs_services_fall_back_to_dnsrr_and_host_ports_and_say_which() {
    let d = deployment(&guide(), &facts(no_ipvs()), &[]);
    for s in &d.services {
        assert_eq!(s.spec.endpoint_mode, EndpointMode::Dnsrr, "{}", s.key);
    }
    assert_eq!(service(&d, "proxy").spec.ports[0].mode, PublishMode::Host);
    let warned: Vec<String> = d.findings.iter().map(|f| f.to_string()).collect();
    // One warning names every service that falls back, and why.
    assert!(
        warned.iter().any(|w| w.starts_with(
            "warning: deploy.endpoint_mode of gateway, migrate, proxy, redis: virtual IPs cannot route here: no IPVS"
        ) && w.contains("using endpoint_mode dnsrr")),
        "{warned:#?}"
    );
    assert!(
        warned
            .iter()
            .any(|w| w.contains("service \"proxy\": ports: 8080") && w.contains("mode host")),
        "{warned:#?}"
    );
    assert!(errors(&d).is_empty());
}

#[test]
fn endpoint_mode_flag_overrides_detection_and_files() {
    let mut f = facts(no_ipvs());
    f.endpoint_mode = EndpointChoice::Vip;
    let d = deployment(&guide(), &f, &[]);
    assert!(
        d.services
            .iter()
            .all(|s| s.spec.endpoint_mode == EndpointMode::Vip)
    );
    assert_eq!(
        service(&d, "proxy").spec.ports[0].mode,
        PublishMode::Ingress
    );
    f.endpoint_mode = EndpointChoice::Dnsrr;
    f.vip = VipSupport::Available;
    let d = deployment(&guide(), &f, &[]);
    assert!(
        d.services
            .iter()
            .all(|s| s.spec.endpoint_mode == EndpointMode::Dnsrr)
    );
    // The routing mesh needs a VIP: dnsrr services publish on the host.
    assert_eq!(service(&d, "proxy").spec.ports[0].mode, PublishMode::Host);
}

#[test]
fn unsupported_attributes_are_reported_with_the_service_and_a_fix() {
    let p = load_with(
        r#"
name: demo
services:
  web:
    image: web:1
    privileged: true
    ports: ["127.0.0.1:8080:80"]
    volumes: ["./site:/site:ro"]
    security_opt: ["no-new-privileges:true"]
    container_name: the-web
  host:
    image: tool:1
    network_mode: host
    devices: ["/dev/fuse"]
"#,
        &[],
    );
    let d = deployment(&p, &facts(VipSupport::Available), &[]);
    let errs = errors(&d);
    let has = |svc: &str, attr: &str| {
        errs.iter()
            .any(|e| e.contains(&format!("service \"{svc}\": {attr}")) && e.contains("fix: "))
    };
    assert!(has("web", "privileged"), "{errs:#?}");
    assert!(has("web", "ports: 127.0.0.1:8080:80"), "{errs:#?}");
    assert!(has("web", "volumes: "), "{errs:#?}");
    assert!(
        has("web", "security_opt: no-new-privileges:true"),
        "{errs:#?}"
    );
    assert!(has("host", "network_mode: host"), "{errs:#?}");
    assert!(has("host", "devices"), "{errs:#?}");
    // A name Swarm picks itself is only a warning.
    assert!(d.findings.iter().any(|f| f.severity == Severity::Warning
        && f.service.as_deref() == Some("web")
        && f.attribute == "container_name"));
}

#[test]
fn no_new_privileges_is_applied_where_the_engine_can() {
    let p = load_with(
        "name: demo\nservices:\n  web:\n    image: web:1\n    security_opt: [\"no-new-privileges:true\"]\n",
        &[],
    );
    let mut f = facts(VipSupport::Available);
    f.api = (1, 46);
    let d = deployment(&p, &f, &[]);
    assert!(errors(&d).is_empty(), "{:?}", errors(&d));
    assert!(service(&d, "web").spec.container.no_new_privileges);
}

#[test]
fn waiting_for_health_of_a_service_without_a_check_is_an_error() {
    let p = load_with(
        r#"
name: demo
services:
  web: {image: web:1, depends_on: {db: {condition: service_healthy}}}
  db: {image: db:1}
"#,
        &[],
    );
    let d = deployment(&p, &facts(VipSupport::Available), &[]);
    let errs = errors(&d);
    assert!(
        errs.iter()
            .any(|e| e.contains("service \"web\": depends_on.db") && e.contains("no health check")),
        "{errs:#?}"
    );
}

#[test]
fn a_secret_file_that_could_not_be_read_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw.txt"), "pw").unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "name: demo\nservices:\n  web: {image: web:1, secrets: [pw]}\nsecrets:\n  pw: {file: ./pw.txt}\n",
    )
    .unwrap();
    let p = compose::load(&LoadOptions::new(dir.path().to_path_buf(), BTreeMap::new()))
        .unwrap()
        .project;
    let path = p.secrets["pw"].file.clone();
    let mut f = facts(VipSupport::Available);
    let d = deployment(&p, &f, &[]);
    let errs = errors(&d);
    assert!(
        errs.iter()
            .any(|e| e.contains("secrets.pw") && e.contains("cannot read")),
        "{errs:#?}"
    );
    f.files.insert(path, b"pw".to_vec());
    let d = deployment(&p, &f, &[]);
    assert!(errors(&d).is_empty(), "{:?}", errors(&d));
    assert_eq!(d.objects[0].data, b"pw");
}

fn observed_after(plan: &DeployPlan) -> Observed {
    let mut o = Observed::default();
    for (i, s) in plan.steps.iter().enumerate() {
        match s {
            Step::CreateNetwork { spec, .. } => o.networks.push(ObservedNetwork {
                id: format!("net{i}"),
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                internal: spec.internal,
                containers: vec![],
            }),
            Step::CreateObject { spec, .. } => o.objects.push((
                spec.kind,
                ObservedObject {
                    id: format!("obj{i}"),
                    name: spec.name.clone(),
                    labels: spec.labels.clone(),
                },
            )),
            Step::Service {
                action: ServiceAction::Create(spec),
                ..
            } => o.services.push(ObservedService {
                id: format!("svc{i}"),
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                version: 1,
                created_at: 0,
                updated_at: 0,
                replicas: Some(1),
                mode: "replicated".into(),
                image: spec.container.image.clone(),
                ports: vec![],
                update_state: None,
                update_message: String::new(),
            }),
            _ => {}
        }
    }
    o
}

use crate::engine::types::ObservedNetwork;

#[test]
fn a_fresh_deploy_creates_everything_then_a_second_one_keeps_it() {
    let d = deployment(&guide(), &facts(VipSupport::Available), &[]);
    let first = steps(&d, &Observed::default(), StepOptions::default());
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(
        first.to_string(),
        "\
network ai: create demo_ai (overlay, internal, attachable)
network public: create demo_public (overlay, attachable)
secret db_password: create demo_db_password (12 bytes)
config app: create demo_app (11 bytes)
service migrate: create demo_migrate (not found)
service redis: create demo_redis (not found)
service gateway: after migrate completed, redis healthy: create demo_gateway (not found)
service proxy: after gateway healthy: create demo_proxy (not found)
"
    );
    // The secret's value is never part of a step's text.
    assert!(!format!("{first}{first:?}").contains("s3cret-value"));
    let again = steps(&d, &observed_after(&first), StepOptions::default());
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert!(
        again.steps.iter().all(|s| matches!(
            s,
            Step::Service {
                action: ServiceAction::Keep { .. },
                ..
            }
        )),
        "{again}"
    );
    assert_eq!(again.object_ids.len(), 2);
}

#[test]
fn a_changed_secret_gets_a_new_generation_and_its_users_are_updated() {
    let d1 = deployment(&guide(), &facts(VipSupport::Available), &[]);
    let first = steps(&d1, &Observed::default(), StepOptions::default());
    let observed = observed_after(&first);
    let rotated = load_with(GUIDE, &[("DB_PASSWORD", "another-value")]);
    let d2 = deployment(&rotated, &facts(VipSupport::Available), &[]);
    let plan = steps(&d2, &observed, StepOptions::default());
    let text = plan.to_string();
    assert!(
        text.contains("secret db_password: create demo_db_password-2"),
        "{text}"
    );
    assert!(
        text.contains("service gateway: after migrate completed, redis healthy: update demo_gateway (config changed)"),
        "{text}"
    );
    assert!(
        text.contains("service redis: keep demo_redis (up to date)"),
        "{text}"
    );
    assert!(
        text.ends_with("secret demo_db_password: remove (no longer used)\n"),
        "{text}"
    );
    let Some(Step::Service {
        action: ServiceAction::Update { spec, .. },
        ..
    }) = plan
        .steps
        .iter()
        .find(|s| matches!(s, Step::Service { key, .. } if key == "gateway"))
    else {
        panic!("{text}")
    };
    assert_eq!(spec.container.secrets[0].object, "demo_db_password-2");
}

#[test]
fn services_no_longer_in_the_files_are_kept_unless_asked_and_foreign_networks_refused() {
    let d = deployment(&guide(), &facts(VipSupport::Available), &[]);
    let mut observed = observed_after(&steps(&d, &Observed::default(), StepOptions::default()));
    observed.services.push(ObservedService {
        id: "old".into(),
        name: "demo_old".into(),
        labels: BTreeMap::from([
            (labels::STACK.to_string(), "demo".to_string()),
            (compose_labels::SERVICE.to_string(), "old".to_string()),
        ]),
        version: 3,
        created_at: 0,
        updated_at: 0,
        replicas: Some(1),
        mode: "replicated".into(),
        image: "old:1".into(),
        ports: vec![],
        update_state: None,
        update_message: String::new(),
    });
    let kept = steps(&d, &observed, StepOptions::default());
    assert!(
        kept.notes.iter().any(|n| n.contains("--remove-orphans")),
        "{:?}",
        kept.notes
    );
    let removed = steps(
        &d,
        &observed,
        StepOptions {
            remove_orphans: true,
        },
    );
    assert!(
        removed
            .to_string()
            .contains("service old: remove demo_old (not in the compose files)")
    );
    // A network of that name made by someone else is not silently reused.
    observed.networks[0].labels.clear();
    let refused = steps(&d, &observed, StepOptions::default());
    assert!(
        refused
            .errors
            .iter()
            .any(|e| e.contains("was not deployed by aistack")),
        "{:?}",
        refused.errors
    );
}

#[test]
fn a_network_whose_isolation_changed_is_an_error_not_a_silent_keep() {
    let d = deployment(&guide(), &facts(VipSupport::Available), &[]);
    let mut observed = observed_after(&steps(&d, &Observed::default(), StepOptions::default()));
    for n in &mut observed.networks {
        n.internal = false;
    }
    let plan = steps(&d, &observed, StepOptions::default());
    assert!(
        plan.errors
            .iter()
            .any(|e| e.contains("demo_ai") && e.contains("internal")),
        "{:?}",
        plan.errors
    );
}

#[test]
fn named_services_bring_their_dependencies_and_leave_the_rest_alone() {
    let p = guide();
    let d = deployment(&p, &facts(VipSupport::Available), &["gateway".to_string()]);
    let keys: Vec<&str> = d.services.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["migrate", "redis", "gateway"]);
    // Only what the chosen services use: redis alone needs the ai network, no secret.
    let redis = deployment(&p, &facts(VipSupport::Available), &["redis".to_string()]);
    let nets: Vec<&str> = redis.networks.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(nets, ["ai"]);
    assert!(redis.objects.is_empty());
    // The proxy, deployed before and not named now, is no orphan.
    let full = deployment(&p, &facts(VipSupport::Available), &[]);
    let observed = observed_after(&steps(&full, &Observed::default(), StepOptions::default()));
    let plan = steps(
        &d,
        &observed,
        StepOptions {
            remove_orphans: true,
        },
    );
    assert!(
        !plan
            .steps
            .iter()
            .any(|s| matches!(s, Step::RemoveService { .. })),
        "{plan}"
    );
    let unknown = deployment(&p, &facts(VipSupport::Available), &["nope".to_string()]);
    assert!(
        errors(&unknown)
            .iter()
            .any(|e| e.contains("nope: no such service")),
        "{:?}",
        errors(&unknown)
    );
}
