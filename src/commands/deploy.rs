//! `aistack deploy`: the same compose files, deployed to the Docker Swarm the
//! engine belongs to. Load (interpolation and `.env` as for `up`), check what
//! Swarm cannot honour, observe the stack once, plan, apply with dependency
//! waits, and with `--wait` wait for convergence. Also `ps` and `down` of a
//! deployed stack, which `aistack ps`/`aistack down` call when they find one.
//!
//! Owns: the command's flow and its exit codes. Must not: decide mappings
//! (`plan::swarm`), wait (`apply::swarm`) or talk bollard (`engine`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::time::Instant;

use crate::apply::swarm::{self as apply_swarm, DeployOptions, observe};
use crate::cli::{DeployArgs, EndpointModeArg, ProjectArgs, PsArgs};
use crate::compose::Project;
use crate::engine::swarm::kernel::{self, VipSupport};
use crate::engine::swarm::{ObservedPort, SwarmEngine};
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::labels as compose_labels;
use crate::plan::swarm::{self as plan, EndpointChoice, Facts, Severity, StepOptions, labels};
use crate::report::{progress, swarm as report};

pub fn run(p: &ProjectArgs, args: DeployArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.services = args.services.clone();
    let project = super::load(&opts)?.project;
    let files = object_files(&project);
    let concurrency = super::parallelism(p);
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        deploy(&engine, &project, files, &args, concurrency).await
    })
}

/// The contents of file-backed secrets and configs; unreadable ones are left
/// out, and the planner reports them.
fn object_files(project: &Project) -> BTreeMap<String, Vec<u8>> {
    project
        .secrets
        .values()
        .chain(project.configs.values())
        .filter(|o| !o.external && !o.file.is_empty())
        .filter_map(|o| Some((o.file.clone(), std::fs::read(&o.file).ok()?)))
        .collect()
}

fn refuse(message: impl Into<String>) -> anyhow::Error {
    ExitError::new(Exit::Failure, message).into()
}

async fn deploy(
    engine: &DockerEngine,
    project: &Project,
    files: BTreeMap<String, Vec<u8>>,
    args: &DeployArgs,
    concurrency: usize,
) -> Result<()> {
    let _lock = super::lock::project(&project.name)?;
    let vip = kernel::vip_support(engine.host());
    let facts = Facts {
        api: engine.api_version(),
        vip: vip.clone(),
        endpoint_mode: match args.endpoint_mode {
            EndpointModeArg::Auto => EndpointChoice::Auto,
            EndpointModeArg::Vip => EndpointChoice::Vip,
            EndpointModeArg::Dnsrr => EndpointChoice::Dnsrr,
        },
        files,
    };
    // What Swarm cannot honour is told first: finding out needs no Swarm.
    let d = plan::deployment(project, &facts, &args.services);
    eprint!("{}", report::findings(&d.findings));
    let errors = report::count(&d.findings, Severity::Error);
    if errors > 0 {
        eprintln!(
            "error: deploy refused: {errors} attribute(s) Swarm cannot honour; each names its fix above"
        );
        return Err(
            anyhow::Error::new(ExitError::new(Exit::Failure, "deploy refused"))
                .context(crate::REPORTED),
        );
    }
    if let VipSupport::Unknown(why) = &vip
        && args.endpoint_mode == EndpointModeArg::Auto
    {
        eprintln!(
            "note: cannot tell whether the nodes can route virtual IPs ({why}); if service names do not answer, deploy with --endpoint-mode dnsrr"
        );
    }

    let status = engine.swarm_status().await?;
    if !status.is_active() {
        return Err(refuse(format!(
            "this Docker engine is not part of a Swarm (state: {}); create one with `docker swarm init` (one machine: `docker swarm init --advertise-addr 127.0.0.1`) or join one",
            status.state
        )));
    }
    if !status.is_manager {
        return Err(refuse(
            "this engine is a Swarm worker; deploy through a manager node (point DOCKER_HOST at one)",
        ));
    }
    // A Compose-mode run of the same project would collide on network names,
    // and its containers would be mistaken for the stack's.
    let containers = Engine::list_containers_brief(
        engine,
        &[(compose_labels::PROJECT, project.name.as_str())],
        true,
    )
    .await?;
    if !containers.is_empty() {
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        return Err(refuse(format!(
            "project \"{}\" is running with `aistack up` ({}); run `aistack down` first, or deploy under another name with -p",
            project.name,
            names.join(", ")
        )));
    }
    for s in &d.services {
        let image = &s.spec.container.image;
        if Engine::image_exists(engine, image).await? {
            continue;
        }
        let buildable = project
            .services
            .get(&s.key)
            .is_some_and(|svc| svc.build.is_some());
        if buildable {
            return Err(refuse(format!(
                "service \"{}\": image {image} is not present; build it with `aistack build` first (and push it to a registry for several nodes)",
                s.key
            )));
        }
        eprintln!(
            "warning: service \"{}\": image {image} is not present on this node; Swarm will pull it (every node pulls for itself)",
            s.key
        );
    }

    let observed = observe::for_deploy(engine, &d).await?;
    let steps = plan::steps(
        &d,
        &observed,
        StepOptions {
            remove_orphans: args.remove_orphans,
        },
    );
    for n in &steps.notes {
        eprintln!("note: {n}");
    }
    if !steps.errors.is_empty() {
        for e in &steps.errors {
            eprintln!("error: {e}");
        }
        return Err(
            anyhow::Error::new(ExitError::new(Exit::Failure, "deploy refused"))
                .context(crate::REPORTED),
        );
    }
    if args.dry_run {
        print!("{steps}");
        return Ok(());
    }
    let opts = DeployOptions {
        concurrency,
        deadline: Some(Instant::now() + Duration::from_secs(args.wait_timeout)),
        wait: args.wait,
        progress: Arc::from(progress::sink(args.progress)),
        started_at: status.now,
        ..Default::default()
    };
    let outcome = apply_swarm::deploy(engine, &steps, &opts).await;
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    if let Some(f) = &outcome.failure {
        eprint!("{}", report::failure(f));
        eprintln!("hint: `aistack ps` shows every task; `aistack down` removes the stack");
        let exit = if f.timed_out {
            Exit::Timeout
        } else {
            Exit::Failure
        };
        return Err(
            anyhow::Error::new(ExitError::new(exit, "deploy failed")).context(crate::REPORTED)
        );
    }
    eprintln!(
        "{}: deployed {} service(s) to the Swarm{}; `aistack ps` lists the tasks",
        project.name,
        d.services.len(),
        if args.wait { ", converged" } else { "" }
    );
    Ok(())
}

/// `aistack ps` on a deployed stack: its tasks. `Ok(false)` when the project
/// is not deployed on this engine's Swarm (then `ps` lists containers).
pub async fn ps_if_deployed(engine: &DockerEngine, name: &str, args: &PsArgs) -> Result<bool> {
    if !deployed(engine, name).await {
        return Ok(false);
    }
    let services = engine.list_services(&labels::stack_filter(name)).await?;
    if services.is_empty() {
        return Ok(false);
    }
    let mut rows = Vec::new();
    for s in &services {
        let mut tasks = engine.list_tasks(&s.id).await?;
        tasks.sort_by_key(|t| (t.slot, std::cmp::Reverse(t.created_at)));
        let key = s
            .labels
            .get(compose_labels::SERVICE)
            .cloned()
            .unwrap_or_else(|| s.name.clone());
        // Host-mode ports are per task; the service lists only the mesh's.
        let mesh: Vec<String> = s
            .ports
            .iter()
            .filter(|p| p.mode == "ingress")
            .map(|p| port(p, "*"))
            .collect();
        for t in tasks {
            // Like `ps` without -a: what should be running, and how a job ended.
            let current =
                t.desired_state == "running" || (s.mode.ends_with("job") && t.state == "complete");
            if !args.all && !current {
                continue;
            }
            let mut ports: Vec<String> = t.ports.iter().map(|p| port(p, "0.0.0.0")).collect();
            ports.extend(mesh.iter().cloned());
            rows.push(report::TaskRow {
                id: t.id.clone(),
                name: match t.slot {
                    Some(n) => format!("{}.{n}", s.name),
                    None => format!("{}.{}", s.name, t.node_id),
                },
                image: s.image.clone(),
                service: key.clone(),
                state: t.state.clone(),
                desired_state: t.desired_state.clone(),
                error: t.error.clone(),
                exit_code: t.exit_code,
                ports,
            });
        }
    }
    print!(
        "{}",
        report::tasks(&rows, args.format, args.quiet, args.services)
    );
    Ok(true)
}

/// Whether `name` is deployed to this engine's Swarm. Finding out must never
/// keep `ps`/`down` from doing their usual work: an engine that cannot say
/// (within 10 s) is taken to have no deployed stack, with a warning.
async fn deployed(engine: &DockerEngine, name: &str) -> bool {
    match tokio::time::timeout(Duration::from_secs(10), observe::deployed(engine, name)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            eprintln!("warning: could not tell whether \"{name}\" is deployed to a Swarm: {e}");
            false
        }
        Err(_) => {
            eprintln!(
                "warning: could not tell within 10 s whether \"{name}\" is deployed to a Swarm"
            );
            false
        }
    }
}

fn port(p: &ObservedPort, host: &str) -> String {
    format!("{host}:{}->{}/{}", p.published, p.target, p.protocol)
}

/// `aistack down` on a deployed stack: removes every service, network,
/// secret and config labelled with it (with `volumes`, its volumes too).
/// `Ok(false)` when nothing of it is deployed.
pub async fn down_if_deployed(
    engine: &DockerEngine,
    name: &str,
    volumes: bool,
    dry_run: bool,
    mode: progress::Mode,
) -> Result<bool> {
    if !deployed(engine, name).await {
        return Ok(false);
    }
    let _lock = super::lock::project(name)?;
    let (observed, vols) = observe::for_down(engine, name, volumes).await?;
    let removal = plan::removal(name, &observed, &vols);
    if dry_run {
        print!("{removal}");
        return Ok(true);
    }
    let opts = DeployOptions {
        progress: Arc::from(progress::sink(mode)),
        ..Default::default()
    };
    let r = apply_swarm::remove(engine, &removal, &opts, apply_swarm::remove::SETTLE).await;
    if !r.left.is_empty() {
        for l in &r.left {
            eprintln!("error: not removed: {l}");
        }
        return Err(
            anyhow::Error::new(ExitError::new(Exit::Failure, "down failed"))
                .context(crate::REPORTED),
        );
    }
    Ok(true)
}
