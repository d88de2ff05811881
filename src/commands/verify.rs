//! `aistack verify`: on a running stack, probe for real which service
//! reaches which (names and declared TCP ports, from inside each source's
//! network namespace) and compare with what the compose files say; with
//! `--egress`, also which services can reach outside the machine (computed,
//! never probed). Exit 5 on any difference.
//!
//! Owns: the order of engine calls (snapshot, probe image, probes in
//! parallel, cleanup), signals, and the exit code. The expectation and the
//! comparison are `verify`'s, the probe's mechanics `probe`'s, the text
//! `report::verify`'s.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{ProbeArgs, ProjectArgs, VerifyArgs, VerifyFormat};
use crate::compose::Project;
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::labels;
use crate::probe::{image, run as probe_run};
use crate::report;
use crate::verify::{self, topology::State};

/// From create to answer, per probe: the agent needs at most the lookup
/// deadline plus a few rounds of connection attempts; the rest is slack for
/// a busy daemon.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);
/// How long to wait for the engine to finish removing our probe containers.
const REMOVAL_WAIT: Duration = Duration::from_secs(10);

pub fn run(p: &ProjectArgs, args: VerifyArgs) -> Result<()> {
    let loaded = super::load(&super::load_options(p)?)?;
    let parallel = super::parallelism(p);
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let suffix = run_suffix();
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let signalled = tokio::select! {
            r = verify(&engine, &loaded.project, &args, parallel, &suffix) => return r,
            _ = int.recv() => Exit::Interrupted,
            _ = term.recv() => Exit::Terminated,
        };
        // Probes that were started end by themselves within their deadlines
        // and are auto-removed; take away now what was created and not started.
        remove_ours(&engine, &loaded.project.name, &suffix).await;
        Err(ExitError::new(signalled, "verify interrupted").into())
    })
}

/// `aistack __probe REQUEST`, inside the probe container: no project, no engine.
pub fn probe_agent(args: ProbeArgs) -> Result<()> {
    match crate::probe::agent::run(&args.request) {
        0 => Ok(()),
        code => Err(anyhow::Error::new(ExitError::new(
            Exit::Passthrough(code),
            "the probe agent failed",
        ))
        .context(crate::REPORTED)),
    }
}

async fn verify(
    engine: &DockerEngine,
    project: &Project,
    args: &VerifyArgs,
    parallel: usize,
    suffix: &str,
) -> Result<()> {
    let started = Instant::now();
    let containers = engine
        .list_containers(&[(labels::PROJECT, project.name.as_str())], true)
        .await?;
    // Every network, not only the project's: a container may have been
    // attached to any of them, and egress needs their flags.
    let networks = engine.list_networks(&[]).await?;
    let topology = verify::topology(project, &containers, &networks);
    require_running(&topology)?;

    let recipe = image::recipe()?;
    if !engine.image_exists(&recipe.tag).await? {
        eprintln!(
            "verify: building the probe image {} (once per aistack build)",
            recipe.tag
        );
    }
    let image = image::ensure(engine, &recipe).await?;

    let requests = verify::requests(&topology);
    let answers: BTreeMap<String, Result<_, String>> = futures_util::stream::iter(requests.iter())
        .map(|(service, (join, request))| {
            let image = image.as_str();
            let target = probe_run::Target {
                project: &project.name,
                service,
                join,
                image,
                deadline: PROBE_DEADLINE,
            };
            async move {
                let r = probe_run::probe(engine, &target, request, suffix).await;
                (service.clone(), r.map_err(|e| e.to_string()))
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    wait_removed(engine, &project.name, suffix).await;

    let mut report = verify::compare(&topology, &answers);
    if args.egress {
        report.add_egress(verify::egress(&topology));
    }
    tracing::debug!("verify took {:?}", started.elapsed());
    match args.format {
        VerifyFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        VerifyFormat::Text => print!("{}", report::verify::text(&report)),
    }
    let failed: Vec<String> = answers
        .iter()
        .filter_map(|(s, r)| r.as_ref().err().map(|e| format!("{s}: {e}")))
        .collect();
    if report.has_findings() {
        return Err(ExitError::new(
            Exit::Findings,
            format!(
                "verify: {} leak(s), {} break(s)",
                report.leaks, report.breaks
            ),
        )
        .into());
    }
    if !failed.is_empty() {
        return Err(ExitError::new(
            Exit::Failure,
            format!("verify: probes failed: {}", failed.join("; ")),
        )
        .into());
    }
    Ok(())
}

/// Verify needs the stack up: a service that should run and does not is an
/// error naming it (one-shot jobs that completed are fine).
fn require_running(t: &verify::Topology) -> Result<()> {
    let down: Vec<String> = t
        .services
        .iter()
        .filter_map(|(name, s)| match &s.state {
            State::Down(reason) => Some(format!("{name} ({reason})")),
            _ => None,
        })
        .collect();
    let running = t
        .services
        .values()
        .any(|s| matches!(s.state, State::Running { .. }));
    if !running {
        return Err(ExitError::new(
            Exit::Failure,
            format!(
                "project {} is not running: no service has a running container; start it with `aistack up -d`",
                t.project
            ),
        )
        .into());
    }
    if !down.is_empty() {
        return Err(ExitError::new(
            Exit::Failure,
            format!(
                "verify needs the stack running, but {} not: {}; start it with `aistack up -d`",
                if down.len() == 1 {
                    "this service is"
                } else {
                    "these services are"
                },
                down.join(", ")
            ),
        )
        .into());
    }
    Ok(())
}

/// Eight hex digits that tell this run's probe containers from another's.
fn run_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

async fn ours(engine: &DockerEngine, project: &str, suffix: &str) -> Vec<String> {
    let ending = format!("-probe-{suffix}");
    match engine
        .list_containers_brief(&[(labels::PROJECT, project)], true)
        .await
    {
        Ok(cs) => cs
            .into_iter()
            .filter(|c| c.labels.contains_key(probe_run::LABEL) && c.name.ends_with(&ending))
            .map(|c| c.id)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The engine removes finished probes by itself, a moment after they exit;
/// wait for that, so nothing of ours is left when verify returns.
async fn wait_removed(engine: &DockerEngine, project: &str, suffix: &str) {
    let deadline = Instant::now() + REMOVAL_WAIT;
    loop {
        let left = ours(engine, project, suffix).await;
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            for id in &left {
                let _ = engine.remove_container(id, true, false).await;
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn remove_ours(engine: &DockerEngine, project: &str, suffix: &str) {
    let work = async {
        for id in ours(engine, project, suffix).await {
            let _ = engine.remove_container(&id, true, false).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
}
