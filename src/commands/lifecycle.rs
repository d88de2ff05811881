//! `start`, `stop`, `restart`, `kill`, `rm`: act on the stack's existing
//! containers, found by label. Order follows the dependency graph (start:
//! dependencies first; stop: dependents first); containers of one level are
//! handled together. Works with a compose file or `-p NAME` alone.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use futures_util::future::join_all;

use crate::cli::{KillArgs, ProjectArgs, RmArgs, ServicesArgs, StopArgs};
use crate::compose::graph::Graph;
use crate::engine::types::ObservedContainer;
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::{labels, observed};

/// The project's service containers grouped in start order (dependencies first),
/// from the depends_on label Compose also writes.
async fn levels(
    engine: &DockerEngine,
    project: &str,
    services: &[String],
) -> Result<Vec<Vec<ObservedContainer>>> {
    let mut cs = engine
        .list_containers(&[(labels::PROJECT, project)], true)
        .await?;
    cs.retain(|c| !observed::is_oneoff(c));
    let service =
        |c: &ObservedContainer| c.labels.get(labels::SERVICE).cloned().unwrap_or_default();
    if !services.is_empty() {
        if let Some(missing) = services
            .iter()
            .find(|s| !cs.iter().any(|c| &service(c) == *s))
        {
            return Err(ExitError::new(
                Exit::Failure,
                format!("no container of service \"{missing}\" in project \"{project}\""),
            )
            .into());
        }
        cs.retain(|c| services.contains(&service(c)));
    }
    let mut g = Graph::new();
    for c in &cs {
        let s = service(c);
        g.add_node(&s);
        for dep in c
            .labels
            .get(labels::DEPENDS_ON)
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
        {
            let dep = dep.split(':').next().unwrap_or("");
            if !dep.is_empty() && cs.iter().any(|o| service(o) == dep) {
                g.add_edge(&s, dep);
            }
        }
    }
    let order = g
        .levels()
        .unwrap_or_else(|_| vec![g.nodes().map(String::from).collect()]);
    let mut by_service: BTreeMap<String, Vec<ObservedContainer>> = BTreeMap::new();
    for c in cs {
        by_service.entry(service(&c)).or_default().push(c);
    }
    Ok(order
        .into_iter()
        .map(|level| {
            level
                .into_iter()
                .flat_map(|s| by_service.remove(&s).unwrap_or_default())
                .collect()
        })
        .collect())
}

fn stop_timeout(args_timeout: Option<u64>) -> Duration {
    Duration::from_secs(args_timeout.unwrap_or(10))
}

async fn stop_all(
    engine: &DockerEngine,
    levels: &[Vec<ObservedContainer>],
    timeout: Duration,
) -> Result<()> {
    // Engines that deadlock on parallel stops get them one at a time.
    let serial = match engine.info().await {
        Ok(info) => crate::engine::quirks::serial_stops(&info.server_version),
        Err(_) => false,
    };
    for level in levels.iter().rev() {
        let running: Vec<&ObservedContainer> =
            level.iter().filter(|c| observed::is_running(c)).collect();
        if serial {
            for c in &running {
                engine.stop_container(&c.name, timeout).await?;
            }
        }
        for r in join_all(
            running
                .iter()
                .filter(|_| !serial)
                .map(|c| engine.stop_container(&c.name, timeout)),
        )
        .await
        {
            r?;
        }
        for c in &running {
            eprintln!("stopped {}", c.name);
        }
    }
    Ok(())
}

async fn start_all(engine: &DockerEngine, levels: &[Vec<ObservedContainer>]) -> Result<()> {
    for level in levels {
        for r in join_all(level.iter().map(|c| engine.start_container(&c.name))).await {
            r?;
        }
        for c in level {
            eprintln!("started {}", c.name);
        }
    }
    Ok(())
}

fn with_engine<F>(p: &ProjectArgs, f: F) -> Result<()>
where
    F: AsyncFnOnce(&DockerEngine, String) -> Result<()>,
{
    let name = super::project_name(p)?;
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        f(&engine, name).await
    })
}

pub fn start(p: &ProjectArgs, args: ServicesArgs) -> Result<()> {
    with_engine(p, async |engine, name| {
        let lv = levels(engine, &name, &args.services).await?;
        start_all(engine, &lv).await
    })
}

pub fn stop(p: &ProjectArgs, args: StopArgs) -> Result<()> {
    with_engine(p, async |engine, name| {
        let lv = levels(engine, &name, &args.services).await?;
        stop_all(engine, &lv, stop_timeout(args.timeout)).await
    })
}

pub fn restart(p: &ProjectArgs, args: StopArgs) -> Result<()> {
    with_engine(p, async |engine, name| {
        let lv = levels(engine, &name, &args.services).await?;
        stop_all(engine, &lv, stop_timeout(args.timeout)).await?;
        start_all(engine, &lv).await
    })
}

pub fn kill(p: &ProjectArgs, args: KillArgs) -> Result<()> {
    with_engine(p, async |engine, name| {
        let lv = levels(engine, &name, &args.services).await?;
        for c in lv.iter().flatten().filter(|c| observed::is_running(c)) {
            engine.kill_container(&c.name, &args.signal).await?;
            eprintln!("killed {} ({})", c.name, args.signal);
        }
        Ok(())
    })
}

pub fn rm(p: &ProjectArgs, args: RmArgs) -> Result<()> {
    with_engine(p, async |engine, name| {
        let lv = levels(engine, &name, &args.services).await?;
        if args.stop {
            stop_all(engine, &lv, stop_timeout(None)).await?;
        }
        let lv = levels(engine, &name, &args.services).await?;
        for c in lv.iter().flatten() {
            if observed::is_running(c) {
                eprintln!("{} is running; not removed (use --stop)", c.name);
                continue;
            }
            engine
                .remove_container(&c.name, false, args.volumes)
                .await?;
            eprintln!("removed {}", c.name);
        }
        Ok(())
    })
}
