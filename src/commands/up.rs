//! `aistack up`: load, observe once, plan, apply; then wait (`--wait`),
//! return (`-d`), or follow the logs until Ctrl-C and stop gracefully.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::time::Instant;

use crate::apply::{self, ApplyOptions, HealthProbe};
use crate::cli::{ProbeArg, ProjectArgs, UpArgs};
use crate::compose::Project;
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::{self, UpOptions};
use crate::report::{diagnostic, progress};

pub fn run(p: &ProjectArgs, args: UpArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.services = args.services.clone();
    let project = super::load(&opts)?.project;
    super::engine::runtime()?.block_on(up(project, args))
}

async fn up(project: Project, args: UpArgs) -> Result<()> {
    let engine = super::engine::connect().await?;
    let _lock = super::lock::project(&project.name)?;
    let observed = apply::observe::project(&engine, &project).await?;
    let wait = args.wait;
    let plan = plan::up(
        &project,
        &observed,
        &UpOptions {
            services: args.services.clone(),
            force_recreate: args.force_recreate,
            no_recreate: args.no_recreate,
            remove_orphans: args.remove_orphans,
            wait,
            engine_api: Some(engine.api_version()),
        },
    )
    .map_err(|e| ExitError::new(Exit::Failure, e.to_string()))?;
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    if args.dry_run {
        print!("{plan}");
        return Ok(());
    }
    if plan
        .nodes
        .iter()
        .all(|n| matches!(n.action, plan::Action::Wait { .. }))
    {
        // Say so also with --wait (which still checks every service is ready).
        eprintln!("{}: up to date, nothing to do", project.name);
        if !wait {
            return Ok(());
        }
    }
    let sink: Arc<dyn apply::ProgressSink> = Arc::from(progress::sink(args.progress));
    let aopts = ApplyOptions {
        concurrency: 8,
        deadline: args
            .wait_timeout
            .map(|s| Instant::now() + Duration::from_secs(s)),
        probe: match args.health_probe {
            ProbeArg::Eager => HealthProbe::Eager,
            ProbeArg::Engine => HealthProbe::Engine,
        },
        progress: sink,
    };
    let events = apply::subscribe_events(&engine, &project.name);
    let report = apply::run(&engine, &plan, &aopts, &events).await;
    if let Some(f) = &report.failure {
        let diagnosis = match &f.container {
            Some(c) => Some(apply::diagnose::gather(&engine, c, 20).await),
            None => None,
        };
        eprint!("{}", diagnostic::failure(f, diagnosis.as_ref()));
        eprintln!(
            "hint: `aistack down` removes what was created; `aistack logs` shows more output"
        );
        let exit = if f.timed_out {
            Exit::Timeout
        } else {
            Exit::Failure
        };
        return Err(ExitError::new(exit, "up failed").into())
            .map_err(|e: anyhow::Error| e.context(crate::REPORTED));
    }
    if args.detach || wait {
        return Ok(());
    }
    attached(&engine, &project).await
}

/// Follow every service container's output until Ctrl-C/SIGTERM, then stop the
/// stack gracefully (a second signal kills).
async fn attached(engine: &DockerEngine, project: &Project) -> Result<()> {
    let names: Vec<String> = plan_names(project);
    let follow = super::logs::follow_all(engine, names.clone(), true, None);
    tokio::pin!(follow);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = &mut follow => return Ok(()),
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    let stops = async {
        for n in names.iter().rev() {
            let _ = engine.stop_container(n, Duration::from_secs(10)).await;
        }
    };
    tokio::select! {
        _ = stops => Err(ExitError::new(Exit::Interrupted, "stopped").into()),
        _ = tokio::signal::ctrl_c() => {
            for n in &names {
                let _ = engine.kill_container(n, "SIGKILL").await;
            }
            Err(ExitError::new(Exit::Interrupted, "killed").into())
        }
    }
}

fn plan_names(project: &Project) -> Vec<String> {
    let mut out = Vec::new();
    for name in super::config::start_order(project) {
        let svc = &project.services[&name];
        for n in 1..=svc.replicas() {
            out.push(plan::labels::container_name(&project.name, &name, svc, n));
        }
    }
    out
}
