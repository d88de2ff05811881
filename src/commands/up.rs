//! `aistack up`: load, observe once, plan, apply; then wait (`--wait`),
//! return (`-d`), or follow the logs until Ctrl-C and stop gracefully.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::apply::{self, ApplyOptions, HealthProbe};
use crate::cli::{ProbeArg, ProjectArgs, UpArgs};
use crate::compose::Project;
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::{self, UpOptions};
use crate::report::{diagnostic, progress, redact};

use super::interrupt::Interrupts;

pub fn run(p: &ProjectArgs, args: UpArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.services = args.services.clone();
    let project = super::load(&opts)?.project;
    if let Some(s) = &args.exit_code_from
        && !project.services.contains_key(s)
    {
        return Err(ExitError::new(
            Exit::Usage,
            format!("--exit-code-from: no service \"{s}\" in the project"),
        )
        .into());
    }
    let concurrency = super::parallelism(p);
    super::engine::runtime()?.block_on(async move {
        // Before the first engine call: a signal from here on stops `up`
        // between engine calls, never between a call and its answer.
        let interrupts = Interrupts::install()?;
        let engine = super::engine::connect().await?;
        let events = bring_up(&engine, &project, &args, concurrency, &interrupts).await?;
        if args.detach || args.wait || args.dry_run {
            return Ok(());
        }
        attached(&engine, &project, &args, events, &interrupts).await
    })
}

/// Observe, plan and apply `up` for `project` (holding the project lock).
/// Returns the project's event stream, opened before the first start, for
/// whoever watches the stack afterwards. A failure has been reported already.
/// A signal (`interrupts`) ends it with 130/143 once the engine calls in
/// flight have answered, so everything created carries the project's labels
/// and `down` finds it.
pub async fn bring_up(
    engine: &DockerEngine,
    project: &Project,
    args: &UpArgs,
    concurrency: usize,
    interrupts: &Interrupts,
) -> Result<broadcast::Sender<apply::Seen>> {
    let cancel = interrupts.cancel();
    let before = |exit| {
        interrupted(
            exit,
            &format!(
                "{}: interrupted before any container, network or volume was created",
                project.name
            ),
        )
    };
    let Some(_lock) = super::lock::project_or_cancel(&project.name, &cancel).await? else {
        return Err(before(interrupts.wait().await));
    };
    if !args.dry_run {
        let mode = super::build::ImagesMode::from_flags(args.build, args.no_build);
        let quiet = args.progress == progress::Mode::Quiet;
        // An abandoned build or pull leaves nothing labelled with the project.
        tokio::select! {
            r = super::build::ensure_images_quietly(engine, project, &args.services, mode, quiet) => r?,
            exit = interrupts.wait() => return Err(before(exit)),
        }
    }
    let observed = tokio::select! {
        r = apply::observe::project(engine, project) => match r {
            Ok(o) => o,
            Err(e) => return Err(super::engine::explained(engine, e).await),
        },
        exit = interrupts.wait() => return Err(before(exit)),
    };
    let wait = args.wait;
    let plan = plan::up(
        project,
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
        eprintln!("note: {}", redact::text(note));
    }
    let events = apply::subscribe_events(engine, &project.name);
    if args.dry_run {
        print!("{}", redact::text(&plan.to_string()));
        return Ok(events);
    }
    if plan
        .nodes
        .iter()
        .all(|n| matches!(n.action, plan::Action::Wait { .. }))
    {
        // Say so also with --wait (which still checks every service is ready).
        eprintln!("{}: up to date, nothing to do", project.name);
        if !wait {
            return Ok(events);
        }
    }
    let sink: Arc<dyn apply::ProgressSink> = Arc::from(progress::sink(args.progress));
    let aopts = ApplyOptions {
        concurrency,
        deadline: args
            .wait_timeout
            .map(|s| Instant::now() + Duration::from_secs(s)),
        probe: match args.health_probe {
            ProbeArg::Eager => HealthProbe::Eager,
            ProbeArg::Engine => HealthProbe::Engine,
        },
        progress: sink,
        cancel,
        serial_stops: super::engine::serial_stops(engine, &plan).await,
    };
    let report = apply::run(engine, &plan, &aopts, &events).await;
    if let Some(f) = &report.failure
        && f.interrupted
    {
        return Err(interrupted(
            interrupts.exit().unwrap_or(Exit::Interrupted),
            &format!(
                "{}: interrupted: stopped once the engine calls in flight had answered; \
                 what was created is left as it is (`aistack down` removes it)",
                project.name
            ),
        ));
    }
    if let Some(f) = &report.failure {
        let diagnosis = match &f.container {
            Some(c) => Some(apply::diagnose::gather(engine, c, 20).await),
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
    Ok(events)
}

/// Say why `up` stopped early, and exit with the signal's code.
fn interrupted(exit: Exit, why: &str) -> anyhow::Error {
    eprintln!("{why}");
    anyhow::Error::new(ExitError::new(exit, "interrupted")).context(crate::REPORTED)
}

/// Follow every service container's output until they all end, one exits
/// under `--abort-on-container-exit`/`--exit-code-from` (or fails under
/// `--abort-on-container-failure`), or Ctrl-C/SIGTERM; then stop the stack
/// gracefully (a second signal kills).
async fn attached(
    engine: &DockerEngine,
    project: &Project,
    args: &UpArgs,
    events: broadcast::Sender<apply::Seen>,
    interrupts: &Interrupts,
) -> Result<()> {
    let names: Vec<String> = plan_names(project);
    let abort_on_exit = args.abort_on_container_exit || args.exit_code_from.is_some();
    let mut rx = events.subscribe();
    let follow = super::logs::follow_all(engine, names.clone(), true, None);
    tokio::pin!(follow);
    let watch = async {
        loop {
            match rx.recv().await {
                Ok(seen) if seen.died && names.contains(&seen.container) => {
                    let Ok(d) = engine.inspect_container(&seen.container).await else {
                        continue;
                    };
                    let code = d.container.exit_code;
                    if abort_on_exit || (args.abort_on_container_failure && code != 0) {
                        return (seen.container, code);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                _ => {}
            }
        }
    };
    let signalled = tokio::select! {
        end = &mut follow => {
            if let super::logs::Followed::Lost(e) = end {
                // Stopping the stack needs the daemon we just lost: leave it.
                return Err(super::logs::lost(engine, &e, "following the stack's output").into());
            }
            // Every container ended on its own.
            return exit_code_from(engine, project, args).await;
        }
        (container, code) = watch => {
            eprintln!("Aborting on container exit: {container} exited with code {code}");
            // As Compose: without --exit-code-from, the code of the container
            // that triggered the abort.
            (args.exit_code_from.is_none() && code != 0).then_some(Exit::Passthrough(code as i32))
        }
        exit = interrupts.wait() => Some(exit),
    };
    if matches!(signalled, Some(Exit::Interrupted | Exit::Terminated)) {
        eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    }
    let stops = async {
        for n in names.iter().rev() {
            let timeout = service_of(project, n)
                .map(plan::spec::stop_timeout)
                .unwrap_or(Duration::from_secs(10));
            let _ = engine.stop_container(n, timeout).await;
        }
    };
    tokio::select! {
        _ = stops => {}
        _ = tokio::signal::ctrl_c() => {
            for n in &names {
                let _ = engine.kill_container(n, "SIGKILL").await;
            }
            return Err(ExitError::new(Exit::Interrupted, "killed").into());
        }
    }
    match signalled {
        Some(exit @ Exit::Passthrough(_)) => {
            Err(anyhow::Error::new(ExitError::new(exit, "aborted")).context(crate::REPORTED))
        }
        Some(exit) => Err(ExitError::new(exit, "stopped").into()),
        None => exit_code_from(engine, project, args).await,
    }
}

fn service_of<'a>(
    project: &'a Project,
    container: &str,
) -> Option<&'a crate::compose::model::Service> {
    project.services.iter().find_map(|(name, svc)| {
        (1..=svc.replicas())
            .any(|n| plan::labels::container_name(&project.name, name, svc, n) == container)
            .then_some(svc)
    })
}

/// The exit code `up` ends with in attached mode: `--exit-code-from`'s
/// container's, else 0. A container stopped by the abort reports the code its
/// stop gave it (143 for SIGTERM), never a reassuring 0 it did not earn.
async fn exit_code_from(engine: &DockerEngine, project: &Project, args: &UpArgs) -> Result<()> {
    let Some(service) = &args.exit_code_from else {
        return Ok(());
    };
    let Some(svc) = project.services.get(service) else {
        return Err(ExitError::new(
            Exit::Usage,
            format!("--exit-code-from: no service \"{service}\" in the project"),
        )
        .into());
    };
    let name = plan::labels::container_name(&project.name, service, svc, 1);
    let d = engine.inspect_container(&name).await?;
    match d.container.exit_code {
        0 => Ok(()),
        code => Err(anyhow::Error::new(ExitError::new(
            Exit::Passthrough(code as i32),
            format!("{service} exited with code {code}"),
        ))
        .context(crate::REPORTED)),
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
