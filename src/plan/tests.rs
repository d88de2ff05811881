//! Golden tests for plans: literal project + literal snapshot → plan text.

use crate::compose::Project;
use crate::engine::types::{
    ContainerState, HealthState, ObservedContainer, ObservedNetwork, ObservedVolume,
};

use super::*;

const STACK: &str = r#"
name: demo
services:
  proxy:
    image: proxy:1
    ports: ["8080:80"]
    networks: [public]
    depends_on:
      gateway: {condition: service_healthy}
  gateway:
    image: gateway:1
    networks: [public, ai]
    depends_on:
      redis: {condition: service_healthy, restart: true}
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
"#;

use crate::testutil::load_project as load;

fn images(p: &Project) -> Observed {
    let mut o = Observed::default();
    for (n, s) in &p.services {
        o.images.insert(s.image_name(&p.name, n));
    }
    o
}

/// The snapshot after a plan ran: every created container running (healthy when it has a check).
fn applied(p: &Project, plan: &Plan) -> Observed {
    let mut o = images(p);
    for n in &plan.nodes {
        match &n.action {
            Action::CreateNetwork { spec, .. } => o.networks.push(ObservedNetwork {
                id: format!("id-{}", spec.name),
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                internal: spec.internal,
                containers: Vec::new(),
            }),
            Action::CreateVolume { spec, .. } => o.volumes.push(ObservedVolume {
                name: spec.name.clone(),
                labels: spec.labels.clone(),
            }),
            Action::CreateContainer { spec, .. } => o.containers.push(ObservedContainer {
                id: format!("id-{}", spec.name),
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                image: spec.image.clone(),
                image_id: format!("sha256:{}", spec.image),
                state: ContainerState::Running,
                exit_code: 0,
                health: spec.healthcheck.as_ref().map(|_| HealthState::Healthy),
                started_at: None,
                restart_count: 0,
                networks: spec
                    .networks
                    .iter()
                    .map(|n| (n.network.clone(), Default::default()))
                    .collect(),
                ports: Vec::new(),
                volumes: spec
                    .mounts
                    .iter()
                    .filter_map(|m| m.source.clone())
                    .collect(),
            }),
            _ => {}
        }
    }
    o
}

#[test]
fn fresh_stack_plan_creates_everything_in_dependency_order() {
    let p = load(STACK);
    let plan = up(
        &p,
        &images(&p),
        &UpOptions {
            wait: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        plan.to_string(),
        "\
#0 [] network:ai CreateNetwork (not found)
#1 [] network:public CreateNetwork (not found)
#2 [] volume:cache CreateVolume (not found)
#3 [0] create:demo-migrate-1 CreateContainer (not found)
#4 [3] start:demo-migrate-1 StartContainer (not found)
#5 [0,2] create:demo-redis-1 CreateContainer (not found)
#6 [5] start:demo-redis-1 StartContainer (not found)
#7 [4] wait:migrate:completed Wait (depends_on migrate (service_completed_successfully))
#8 [6] wait:redis:healthy Wait (depends_on redis (service_healthy))
#9 [0,1] create:demo-gateway-1 CreateContainer (not found)
#10 [7,8,9] start:demo-gateway-1 StartContainer (not found)
#11 [10] wait:gateway:healthy Wait (depends_on gateway (service_healthy))
#12 [1] create:demo-proxy-1 CreateContainer (not found)
#13 [11,12] start:demo-proxy-1 StartContainer (not found)
#14 [13] wait:proxy:running Wait (--wait)
"
    );
}

#[test]
fn second_up_on_an_unchanged_project_does_nothing() {
    let p = load(STACK);
    let first = up(&p, &images(&p), &UpOptions::default()).unwrap();
    let mut observed = applied(&p, &first);
    // The job ran to completion.
    for c in &mut observed.containers {
        if c.name == "demo-migrate-1" {
            c.state = ContainerState::Exited;
            c.exit_code = 0;
        }
    }
    let wait = UpOptions {
        wait: true,
        ..Default::default()
    };
    // Every condition is already met in the snapshot: nothing to do, not
    // even a check (the snapshot was taken by this very command).
    for opts in [UpOptions::default(), wait.clone()] {
        let second = up(&p, &observed, &opts).unwrap();
        assert!(second.nodes.is_empty(), "{second}");
    }
    // A condition the snapshot does not show met is still waited for.
    for c in &mut observed.containers {
        if c.name == "demo-redis-1" {
            c.health = Some(HealthState::Starting);
        }
    }
    let third = up(&p, &observed, &wait).unwrap();
    let kinds: Vec<&str> = third.nodes.iter().map(|n| n.action.kind()).collect();
    assert!(kinds.iter().all(|k| *k == "Wait"), "{third}");
    assert!(
        third.nodes.iter().any(|n| n.id == "wait:redis:healthy"),
        "{third}"
    );
}

#[test]
fn changed_service_is_recreated_and_restart_true_dependents_restart() {
    let p = load(STACK);
    let observed = applied(&p, &up(&p, &images(&p), &UpOptions::default()).unwrap());
    let changed = load(&STACK.replace(
        "image: redis:7",
        "image: redis:7\n    environment: {MAXMEM: 64mb}",
    ));
    let mut obs = observed.clone();
    obs.images.insert("redis:7".into());
    let plan = up(&changed, &obs, &UpOptions::default()).unwrap();
    let text = plan.to_string();
    assert!(
        text.contains("stop:demo-redis-1 StopContainer (config changed)"),
        "{text}"
    );
    assert!(
        text.contains("remove:demo-redis-1 RemoveContainer (config changed)"),
        "{text}"
    );
    assert!(
        text.contains("create:demo-redis-1 CreateContainer (config changed)"),
        "{text}"
    );
    assert!(
        text.contains("stop:demo-gateway-1 StopContainer (dependency redis will be recreated)"),
        "{text}"
    );
    assert!(
        text.contains("start:demo-gateway-1 StartContainer (dependency redis was recreated)"),
        "{text}"
    );
    // As Compose: the dependent stops before its dependency's old container
    // does, and starts again only after the new one is healthy.
    let idx = |id: &str| {
        plan.nodes
            .iter()
            .position(|n| n.id == id)
            .unwrap_or_else(|| panic!("no {id} in {text}"))
    };
    let gateway_stop = idx("stop:demo-gateway-1");
    assert!(
        plan.nodes[idx("stop:demo-redis-1")]
            .deps
            .contains(&gateway_stop),
        "{text}"
    );
    assert!(
        plan.nodes[idx("start:demo-gateway-1")]
            .deps
            .contains(&idx("wait:redis:healthy")),
        "{text}"
    );
    assert!(!text.contains("create:demo-proxy-1"), "{text}");
}

/// The stack as applied, plus a running container of a service `old` that
/// is no longer in the file.
fn with_orphan(p: &Project) -> Observed {
    let mut observed = applied(p, &up(p, &images(p), &UpOptions::default()).unwrap());
    let mut orphan = observed.containers[0].clone();
    orphan.name = "demo-old-1".into();
    orphan.id = "id-old".into();
    orphan.labels.insert(labels::SERVICE.into(), "old".into());
    observed.containers.push(orphan);
    observed
}

#[test]
fn orphans_are_reported_and_removed_only_when_asked() {
    let p = load(STACK);
    let observed = with_orphan(&p);
    let keep = up(&p, &observed, &UpOptions::default()).unwrap();
    assert!(
        keep.notes.iter().any(|n| n.contains("demo-old-1")),
        "{keep}"
    );
    let clean = up(
        &p,
        &observed,
        &UpOptions {
            remove_orphans: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        clean
            .to_string()
            .contains("remove:demo-old-1 RemoveContainer (orphan)"),
        "{clean}"
    );
}

#[test]
fn down_stops_dependents_before_their_dependencies() {
    let p = load(STACK);
    let observed = applied(&p, &up(&p, &images(&p), &UpOptions::default()).unwrap());
    let plan = down(
        Some(&p),
        &observed,
        &DownOptions {
            volumes: true,
            ..Default::default()
        },
    );
    assert_eq!(
        plan.to_string(),
        "\
#0 [] stop:demo-proxy-1 StopContainer (down)
#1 [0] remove:demo-proxy-1 RemoveContainer (down)
#2 [0] stop:demo-gateway-1 StopContainer (down)
#3 [2] remove:demo-gateway-1 RemoveContainer (down)
#4 [2] stop:demo-migrate-1 StopContainer (down)
#5 [4] remove:demo-migrate-1 RemoveContainer (down)
#6 [2] stop:demo-redis-1 StopContainer (down)
#7 [6] remove:demo-redis-1 RemoveContainer (down)
#8 [3,5,7] network:ai RemoveNetwork (down)
#9 [1,3] network:public RemoveNetwork (down)
#10 [7] volume:cache RemoveVolume (down -v)
"
    );
}

#[test]
fn down_keeps_networks_that_containers_left_running_still_use() {
    let p = load(STACK);
    let mut observed = with_orphan(&p);
    for n in &mut observed.networks {
        n.containers = vec!["demo-redis-1".into()];
        if n.name == "demo_ai" {
            n.containers.push("demo-old-1".into());
        }
    }
    let plan = down(Some(&p), &observed, &DownOptions::default());
    let text = plan.to_string();
    assert!(!text.contains("network:ai "), "{text}");
    assert!(text.contains("network:public RemoveNetwork"), "{text}");
    assert!(
        text.contains("note: network demo_ai kept: still in use by demo-old-1"),
        "{text}"
    );
    // With --remove-orphans the orphan goes, and so does the network.
    let all = down(
        Some(&p),
        &observed,
        &DownOptions {
            remove_orphans: true,
            ..Default::default()
        },
    );
    assert!(
        all.to_string().contains("network:ai RemoveNetwork"),
        "{all}"
    );
}

#[test]
fn down_v_keeps_a_volume_an_orphan_left_running_still_mounts() {
    let p = load(STACK);
    let mut observed = with_orphan(&p);
    observed.containers.last_mut().unwrap().volumes = vec!["demo_cache".into()];
    let opts = DownOptions {
        volumes: true,
        ..Default::default()
    };
    let text = down(Some(&p), &observed, &opts).to_string();
    assert!(!text.contains("volume:cache"), "{text}");
    assert!(
        text.contains("note: volume demo_cache kept: still in use by demo-old-1"),
        "{text}"
    );
    let all = down(
        Some(&p),
        &observed,
        &DownOptions {
            remove_orphans: true,
            ..opts
        },
    );
    assert!(
        all.to_string().contains("volume:cache RemoveVolume"),
        "{all}"
    );
}

#[test]
fn down_without_a_compose_file_uses_the_depends_on_label() {
    let p = load(STACK);
    let observed = applied(&p, &up(&p, &images(&p), &UpOptions::default()).unwrap());
    let with_file = down(Some(&p), &observed, &DownOptions::default());
    let from_labels = down(None, &observed, &DownOptions::default());
    assert_eq!(with_file.to_string(), from_labels.to_string());
}

#[test]
fn missing_image_is_an_error_naming_service_and_image() {
    let p = load(STACK);
    let e = up(&p, &Observed::default(), &UpOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("image \"gateway:1\" is not present locally"),
        "{e}"
    );
}

#[test]
fn external_network_must_exist() {
    let p = load(
        "name: x\nservices:\n  a:\n    image: a\n    networks: [shared]\nnetworks:\n  shared: {external: true}\n",
    );
    let e = up(&p, &images(&p), &UpOptions::default()).unwrap_err();
    assert!(matches!(e, PlanError::ExternalNetworkMissing { .. }), "{e}");
}

#[test]
fn start_interval_is_left_out_with_a_note_on_engines_before_api_1_44() {
    let p = load(
        "name: x\nservices:\n  a:\n    image: a\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      start_period: 5s\n      start_interval: 1s\n",
    );
    let old = up(
        &p,
        &images(&p),
        &UpOptions {
            engine_api: Some((1, 41)),
            ..Default::default()
        },
    )
    .unwrap();
    let Action::CreateContainer { spec, .. } = &old.nodes[1].action else {
        panic!("{old}")
    };
    assert_eq!(spec.healthcheck.as_ref().unwrap().start_interval, None);
    assert!(
        old.notes
            .iter()
            .any(|n| n.contains("start_interval") && n.contains("1.41")),
        "{old}"
    );
    let new = up(
        &p,
        &images(&p),
        &UpOptions {
            engine_api: Some((1, 44)),
            ..Default::default()
        },
    )
    .unwrap();
    let Action::CreateContainer { spec, .. } = &new.nodes[1].action else {
        panic!("{new}")
    };
    assert!(spec.healthcheck.as_ref().unwrap().start_interval.is_some());
    assert!(new.notes.is_empty());
}

#[test]
fn a_service_whose_image_was_rebuilt_is_recreated() {
    let p = load(STACK);
    let first = up(&p, &images(&p), &UpOptions::default()).unwrap();
    let mut observed = applied(&p, &first);
    // Same IDs as the containers run: nothing to do.
    for (n, s) in &p.services {
        let image = s.image_name(&p.name, n);
        observed
            .image_ids
            .insert(image.clone(), format!("sha256:{image}"));
    }
    let again = up(&p, &observed, &UpOptions::default()).unwrap();
    assert!(!again.to_string().contains("CreateContainer"), "{again}");
    // redis's image now has another ID (a rebuild or a pull).
    let redis = p.services["redis"].image_name(&p.name, "redis");
    observed.image_ids.insert(redis, "sha256:rebuilt".into());
    let plan = up(&p, &observed, &UpOptions::default())
        .unwrap()
        .to_string();
    assert!(
        plan.contains("create:demo-redis-1 CreateContainer (image changed)"),
        "{plan}"
    );
    assert!(!plan.contains("create:demo-proxy-1"), "{plan}");
    // --no-recreate keeps it.
    let kept = up(
        &p,
        &observed,
        &UpOptions {
            no_recreate: true,
            ..Default::default()
        },
    )
    .unwrap()
    .to_string();
    assert!(!kept.contains("CreateContainer"), "{kept}");
}
