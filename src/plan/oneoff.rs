//! `run` planning: the one-off container of a service and the plan that
//! prepares it. The container follows Compose's `run` rules (the service's
//! spec plus the command line's overrides; no published ports unless asked;
//! no restart policy; no container number but `oneoff=True` and a slug; its
//! own name; on each network only its name as alias unless `--use-aliases`).
//! The plan brings the dependencies up through `up`'s planner, waits for the
//! service's own `depends_on` conditions, creates the networks and volumes
//! the service uses, then creates the one-off.
//!
//! Pure. Must not: start or attach to anything (the caller does, so that
//! no output is lost), or generate the slug (randomness stays outside).

use std::collections::BTreeMap;

use crate::compose::model::{Condition, Port, Project, Service, ShellCommand};
use crate::engine::types::ContainerSpec;

use super::action::{Action, Plan, WaitFor};
use super::spec::{self, InjectedFile};
use super::{PlanError, UpOptions, hash, labels, observed};

/// What `aistack run` asks for.
#[derive(Debug, Clone, Default)]
pub struct OneOff {
    pub service: String,
    /// 64 hex characters (`com.docker.compose.slug`); the first 12 name the container.
    pub slug: String,
    /// `--name`; default `<project>-<service>-run-<12 hex>`.
    pub name: Option<String>,
    /// Replaces the service's command when not empty.
    pub command: Vec<String>,
    /// `--entrypoint`; without a command it also clears the service's command.
    pub entrypoint: Option<Vec<String>>,
    /// `-e` values (already resolved), over the service's environment.
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    /// `-l`, over the service's labels.
    pub labels: BTreeMap<String, String>,
    /// `-p`: published instead of the service's ports.
    pub publish: Vec<Port>,
    /// `--service-ports`: publish the service's own ports.
    pub service_ports: bool,
    /// `--use-aliases`: the service name and its aliases on every network.
    pub use_aliases: bool,
    pub tty: bool,
    /// `-d --rm`: the engine removes the container when it exits.
    pub auto_remove: bool,
    /// `--no-deps`: neither start nor wait for dependencies.
    pub no_deps: bool,
}

/// `<project>-<service>-run-<first 12 characters of the slug>`, as Compose names one-offs.
pub fn default_name(project: &str, service: &str, slug: &str) -> String {
    format!("{project}-{service}-run-{}", slug.get(..12).unwrap_or(slug))
}

/// The service as `run` sees it: Compose's `applyRunOptions` and
/// `prepareRun` (restart policies dropped, `container_name` replaced).
fn service(svc: &Service, o: &OneOff, name: &str) -> Service {
    let mut s = svc.clone();
    s.container_name = name.to_string();
    if !o.command.is_empty() {
        s.command = Some(ShellCommand(o.command.clone()));
    }
    if let Some(ep) = &o.entrypoint {
        s.entrypoint = Some(ShellCommand(ep.clone()));
        if o.command.is_empty() {
            s.command = Some(ShellCommand(Vec::new()));
        }
    }
    if let Some(u) = &o.user {
        s.user = u.clone();
    }
    if let Some(w) = &o.working_dir {
        s.working_dir = w.clone();
    }
    for (k, v) in &o.env {
        s.environment.insert(k.clone(), Some(v.clone()));
    }
    s.labels.extend(o.labels.clone());
    if !o.service_ports {
        s.ports.clear();
    }
    if !o.publish.is_empty() {
        s.ports = o.publish.clone();
    }
    s.restart.clear();
    if let Some(d) = &mut s.deploy {
        d.restart_policy = None;
    }
    s.tty = o.tty;
    // Compose's `run` is interactive by default, also with `-d`.
    s.stdin_open = true;
    s
}

/// The one-off's container spec and the files to inject after create.
pub fn container(
    project: &Project,
    o: &OneOff,
) -> Result<(ContainerSpec, Vec<InjectedFile>), PlanError> {
    let svc = project
        .services
        .get(&o.service)
        .ok_or_else(|| PlanError::NoSuchService(o.service.clone()))?;
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| default_name(&project.name, &o.service, &o.slug));
    let run_svc = service(svc, o, &name);
    let hash = hash::service(svc);
    let (mut spec, inject) = spec::container(project, &o.service, &run_svc, 1, &hash);
    let mut l = labels::container(project, &o.service, &run_svc, 1, &hash);
    l.remove(labels::NUMBER);
    l.insert(labels::ONEOFF.into(), "True".into());
    l.insert(labels::SLUG.into(), o.slug.clone());
    spec.labels = l;
    spec.stdin_once = true;
    spec.auto_remove = o.auto_remove;
    // The service name must keep resolving to the service's containers only.
    for ep in &mut spec.networks {
        let mut aliases = vec![name.clone()];
        if o.use_aliases {
            aliases.append(&mut ep.aliases);
        }
        ep.aliases = aliases;
    }
    Ok((spec, inject))
}

/// Everything before the one-off can start: dependencies (unless
/// `no_deps`), their conditions, the service's networks and volumes, and
/// the one-off's create (its node id is `create:<container name>`).
pub fn plan(
    project: &Project,
    observed: &observed::Observed,
    o: &OneOff,
    engine_api: Option<(u32, u32)>,
) -> Result<Plan, PlanError> {
    let svc = project
        .services
        .get(&o.service)
        .ok_or_else(|| PlanError::NoSuchService(o.service.clone()))?;
    let image = svc.image_name(&project.name, &o.service);
    if !observed.images.contains(&image) && !observed.images.contains(&format!("{image}:latest")) {
        return Err(PlanError::ImageMissing {
            service: o.service.clone(),
            image,
            buildable: svc.build.is_some(),
        });
    }
    let deps: Vec<String> = if o.no_deps {
        Vec::new()
    } else {
        svc.depends_on
            .keys()
            .filter(|d| project.services.contains_key(*d))
            .cloned()
            .collect()
    };
    // `up` with no services means all of them: only ask when there are some.
    let mut plan = if deps.is_empty() {
        Plan::default()
    } else {
        super::up(
            project,
            observed,
            &UpOptions {
                services: deps,
                engine_api,
                ..Default::default()
            },
        )?
    };
    let mut create_deps = resources(project, svc, observed, &mut plan)?;
    if !o.no_deps {
        create_deps.extend(waits(project, observed, svc, &mut plan));
    }
    let (mut spec, inject) = container(project, o)?;
    if let Some(api) = engine_api
        && !crate::engine::quirks::start_interval(api)
        && let Some(h) = spec.healthcheck.as_mut()
    {
        h.start_interval = None;
    }
    plan.push(
        format!("create:{}", spec.name),
        Action::CreateContainer {
            service: o.service.clone(),
            number: 0,
            spec: Box::new(spec),
            inject,
        },
        "one-off (run)",
        create_deps,
    );
    Ok(plan)
}

/// Networks and named volumes the service uses that neither exist nor are
/// already created by the plan; returns the nodes the create must follow.
fn resources(
    project: &Project,
    svc: &Service,
    observed: &observed::Observed,
    plan: &mut Plan,
) -> Result<Vec<usize>, PlanError> {
    let mut out = Vec::new();
    for key in svc.networks.keys() {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        let id = format!("network:{key}");
        if let Some(i) = plan.find(&id) {
            out.push(i);
        } else if observed.network(&net.name).is_none() {
            if net.external {
                return Err(PlanError::ExternalNetworkMissing {
                    key: key.clone(),
                    name: net.name.clone(),
                });
            }
            let action = Action::CreateNetwork {
                key: key.clone(),
                spec: spec::network(project, key, net),
            };
            out.push(plan.push(id, action, "not found", vec![]));
        }
    }
    for m in svc
        .volumes
        .iter()
        .filter(|m| m.kind == "volume" && !m.source.is_empty())
    {
        let Some(vol) = project.volumes.get(&m.source) else {
            continue;
        };
        let id = format!("volume:{}", m.source);
        if let Some(i) = plan.find(&id) {
            out.push(i);
        } else if observed.volume(&vol.name).is_none() {
            if vol.external {
                return Err(PlanError::ExternalVolumeMissing {
                    key: m.source.clone(),
                    name: vol.name.clone(),
                });
            }
            let action = Action::CreateVolume {
                key: m.source.clone(),
                spec: spec::volume(project, &m.source, vol),
            };
            out.push(plan.push(id, action, "not found", vec![]));
        }
    }
    Ok(out)
}

/// One wait per `depends_on` entry of the service, shared with `up`'s own
/// waits (same ids), each after the dependency's starts in the plan. An
/// optional dependency that is neither started nor running is skipped.
fn waits(
    project: &Project,
    observed: &observed::Observed,
    svc: &Service,
    plan: &mut Plan,
) -> Vec<usize> {
    let mut out = Vec::new();
    for (dep, d) in &svc.depends_on {
        let Some(dep_svc) = project.services.get(dep) else {
            continue;
        };
        let until = match d.condition {
            Condition::ServiceStarted => WaitFor::Running,
            Condition::ServiceHealthy => WaitFor::Healthy,
            Condition::ServiceCompletedSuccessfully => WaitFor::CompletedSuccessfully,
        };
        let id = format!("wait:{dep}:{}", until.as_str());
        if let Some(i) = plan.find(&id) {
            out.push(i);
            continue;
        }
        let containers: Vec<String> = (1..=dep_svc.replicas())
            .map(|n| labels::container_name(&project.name, dep, dep_svc, n))
            .collect();
        let starts: Vec<usize> = containers
            .iter()
            .filter_map(|c| plan.find(&format!("start:{c}")))
            .collect();
        let running = observed
            .service_containers(dep)
            .iter()
            .any(|c| observed::is_running(c));
        if starts.is_empty() && !running && !d.required {
            continue;
        }
        let action = Action::Wait {
            service: dep.clone(),
            containers,
            until,
            required: d.required,
            health: spec::healthcheck(dep_svc)
                .filter(|h| h.test.first().map(String::as_str) != Some("NONE")),
            // A job (`restart: "no"`) may already have exited 0 (as in `up`).
            allow_completed: dep_svc.restart == "no",
        };
        let cause = format!("depends_on {dep} ({})", d.condition.as_str());
        out.push(plan.push(id, action, cause, starts));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::{
        ContainerState, HealthState, HostBinding, ObservedContainer, ObservedNetwork, PortKey,
    };
    use crate::testutil::load_project as load;

    const STACK: &str = r#"
name: demo
services:
  app:
    image: app:1
    command: ["serve"]
    restart: always
    container_name: the-app
    environment: {MODE: prod, KEEP: "1"}
    labels: {team: core}
    ports: ["127.0.0.1:8080:80"]
    networks:
      back: {aliases: [api]}
      tools: {}
    volumes: [scratch:/scratch]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: db:1
    networks: [back]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
networks:
  back: {}
  tools: {}
volumes:
  scratch: {}
"#;

    const SLUG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn oneoff() -> OneOff {
        OneOff {
            service: "app".into(),
            slug: SLUG.into(),
            ..Default::default()
        }
    }

    fn images(p: &Project) -> observed::Observed {
        let mut o = observed::Observed::default();
        for (n, s) in &p.services {
            o.images.insert(s.image_name(&p.name, n));
        }
        o
    }

    fn ids(plan: &Plan) -> Vec<String> {
        plan.nodes
            .iter()
            .map(|n| {
                let deps: Vec<&str> = n.deps.iter().map(|d| plan.nodes[*d].id.as_str()).collect();
                format!("{} <- [{}]", n.id, deps.join(", "))
            })
            .collect()
    }

    fn created(plan: &Plan) -> ContainerSpec {
        match &plan.nodes.last().expect("a create node").action {
            Action::CreateContainer { spec, number, .. } => {
                assert_eq!(*number, 0);
                (**spec).clone()
            }
            other => panic!("last node is {other:?}"),
        }
    }

    #[test]
    fn a_one_off_is_named_and_labelled_like_composes_and_publishes_nothing() {
        let p = load(STACK);
        let (spec, _) = container(&p, &oneoff()).unwrap();
        assert_eq!(spec.name, "demo-app-run-0123456789ab");
        assert_eq!(spec.labels[labels::ONEOFF], "True");
        assert_eq!(spec.labels[labels::SLUG], SLUG);
        assert_eq!(spec.labels[labels::SERVICE], "app");
        assert_eq!(spec.labels[labels::PROJECT], "demo");
        assert_eq!(spec.labels["team"], "core");
        assert_eq!(spec.labels[labels::DEPENDS_ON], "db:service_healthy:false");
        assert!(!spec.labels.contains_key(labels::NUMBER));
        assert!(spec.labels.contains_key(labels::COMPOSE_HASH));
        assert!(spec.port_bindings.is_empty() && spec.exposed_ports.is_empty());
        assert_eq!(spec.restart, None);
        assert_eq!(spec.command, Some(vec!["serve".to_string()]));
        assert!(spec.stdin_open && spec.stdin_once && !spec.tty && !spec.auto_remove);
        // Only its own name as alias: `app` and `api` keep meaning the service.
        let aliases: Vec<(&str, Vec<String>)> = spec
            .networks
            .iter()
            .map(|e| (e.network.as_str(), e.aliases.clone()))
            .collect();
        let me = vec![spec.name.clone()];
        assert_eq!(
            aliases,
            [("demo_back", me.clone()), ("demo_tools", me.clone())]
        );
    }

    #[test]
    fn command_line_overrides_replace_the_services_values() {
        let p = load(STACK);
        let mut o = oneoff();
        o.name = Some("custom".into());
        o.command = vec!["sh".into(), "-c".into(), "env".into()];
        o.env = vec![("MODE".into(), "dev".into()), ("NEW".into(), "x".into())];
        o.user = Some("1000".into());
        o.working_dir = Some("/tmp".into());
        o.labels.insert("extra".into(), "yes".into());
        o.tty = true;
        o.use_aliases = true;
        o.auto_remove = true;
        let (spec, _) = container(&p, &o).unwrap();
        assert_eq!(spec.name, "custom");
        assert_eq!(spec.command, Some(o.command.clone()));
        let env = spec::env_map(&spec);
        assert_eq!((env["MODE"], env["NEW"], env["KEEP"]), ("dev", "x", "1"));
        assert_eq!(spec.user.as_deref(), Some("1000"));
        assert_eq!(spec.working_dir.as_deref(), Some("/tmp"));
        assert_eq!(spec.labels["extra"], "yes");
        assert!(spec.tty && spec.auto_remove);
        assert_eq!(
            spec.networks[0].aliases,
            ["custom", "app", "api"].map(String::from)
        );
    }

    #[test]
    fn an_entrypoint_without_a_command_clears_the_command() {
        let p = load(STACK);
        let mut o = oneoff();
        o.entrypoint = Some(vec!["sh".into(), "-c".into()]);
        let (spec, _) = container(&p, &o).unwrap();
        assert_eq!(spec.entrypoint, Some(vec!["sh".into(), "-c".into()]));
        assert_eq!(spec.command, Some(vec![]));
        o.command = vec!["date".into()];
        let (spec, _) = container(&p, &o).unwrap();
        assert_eq!(spec.command, Some(vec!["date".into()]));
    }

    #[test]
    fn service_ports_and_publish_choose_what_is_published() {
        let p = load(STACK);
        let mut o = oneoff();
        o.service_ports = true;
        let (spec, _) = container(&p, &o).unwrap();
        assert_eq!(
            spec.port_bindings[&PortKey::tcp(80)],
            [HostBinding {
                host_ip: "127.0.0.1".into(),
                host_port: "8080".into()
            }]
        );
        let mut o = oneoff();
        o.publish = crate::compose::canonical::parse_published_ports("9000/udp").unwrap();
        let (spec, _) = container(&p, &o).unwrap();
        let keys: Vec<String> = spec
            .port_bindings
            .keys()
            .map(|k| format!("{}/{}", k.port, k.protocol))
            .collect();
        assert_eq!(keys, ["9000/udp"]);
    }

    #[test]
    fn dependencies_come_up_and_are_waited_for_before_the_one_off_is_created() {
        let p = load(STACK);
        let plan = plan(&p, &images(&p), &oneoff(), None).unwrap();
        assert_eq!(
            ids(&plan),
            [
                "network:back <- []",
                "create:demo-db-1 <- [network:back]",
                "start:demo-db-1 <- [create:demo-db-1]",
                "network:tools <- []",
                "volume:scratch <- []",
                "wait:db:healthy <- [start:demo-db-1]",
                "create:demo-app-run-0123456789ab <- [network:back, network:tools, volume:scratch, wait:db:healthy]",
            ]
        );
        // The service's own container is not touched.
        assert!(!ids(&plan).iter().any(|n| n.contains("the-app")));
        assert_eq!(created(&plan).name, "demo-app-run-0123456789ab");
    }

    #[test]
    fn a_running_healthy_dependency_is_only_waited_for() {
        let p = load(STACK);
        let first = plan(&p, &images(&p), &oneoff(), None).unwrap();
        let mut o = images(&p);
        for n in &first.nodes {
            match &n.action {
                Action::CreateNetwork { spec, .. } if spec.name == "demo_back" => {
                    o.networks.push(ObservedNetwork {
                        id: "n1".into(),
                        name: spec.name.clone(),
                        labels: spec.labels.clone(),
                        internal: false,
                        containers: vec![],
                    })
                }
                Action::CreateContainer { spec, .. } if spec.name == "demo-db-1" => {
                    o.containers.push(ObservedContainer {
                        id: "c1".into(),
                        name: spec.name.clone(),
                        labels: spec.labels.clone(),
                        image: spec.image.clone(),
                        image_id: "sha256:1".into(),
                        state: ContainerState::Running,
                        exit_code: 0,
                        health: Some(HealthState::Healthy),
                        started_at: None,
                        restart_count: 0,
                        networks: Default::default(),
                        ports: vec![],
                        volumes: vec![],
                    })
                }
                _ => {}
            }
        }
        let plan = plan(&p, &o, &oneoff(), None).unwrap();
        assert_eq!(
            ids(&plan),
            [
                "network:tools <- []",
                "volume:scratch <- []",
                "wait:db:healthy <- []",
                "create:demo-app-run-0123456789ab <- [network:tools, volume:scratch, wait:db:healthy]",
            ]
        );
    }

    #[test]
    fn no_deps_creates_only_what_the_one_off_itself_needs() {
        let p = load(STACK);
        let mut o = oneoff();
        o.no_deps = true;
        let plan = plan(&p, &images(&p), &o, None).unwrap();
        assert_eq!(
            ids(&plan),
            [
                "network:back <- []",
                "network:tools <- []",
                "volume:scratch <- []",
                "create:demo-app-run-0123456789ab <- [network:back, network:tools, volume:scratch]",
            ]
        );
    }

    #[test]
    fn a_missing_image_or_service_is_an_error_before_anything_is_created() {
        let p = load(STACK);
        let mut o = images(&p);
        o.images.remove("app:1");
        assert!(matches!(
            plan(&p, &o, &oneoff(), None),
            Err(PlanError::ImageMissing { .. })
        ));
        let mut bad = oneoff();
        bad.service = "nope".into();
        assert_eq!(
            plan(&p, &images(&p), &bad, None).unwrap_err(),
            PlanError::NoSuchService("nope".into())
        );
    }

    #[test]
    fn start_interval_is_left_out_on_old_engines() {
        let p = load(
            "name: demo\nservices:\n  app:\n    image: app:1\n    healthcheck: {test: [CMD, 'true'], start_interval: 1s}\n",
        );
        let plan = plan(&p, &images(&p), &oneoff(), Some((1, 41))).unwrap();
        let h = created(&plan).healthcheck.unwrap();
        assert_eq!(h.start_interval, None);
    }
}
