//! Taking a deployed stack down: remove its services, wait until their task
//! containers are gone from this node (Swarm stops them with their grace
//! period), then remove its networks, secrets and configs (and, with `-v`,
//! the volumes its tasks created), retrying what is still in use for a
//! while. Nothing of the stack is left, or the report says what is and why.

use std::time::Duration;

use tokio::time::Instant;

use crate::apply::Phase;
use crate::apply::ProgressEvent;
use crate::engine::swarm::{ObjectKind, SwarmEngine, is_in_use};
use crate::engine::{EngineError, Result};
use crate::plan::swarm::{Removal, labels};

use super::DeployOptions;

/// How long removal waits for task containers and in-use objects.
pub const SETTLE: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Default)]
pub struct RemoveReport {
    /// What could not be removed, each with the engine's reason.
    pub left: Vec<String>,
}

/// Retries `call` while the engine says "in use", until `until`.
async fn retrying<F, Fut>(until: Instant, poll: Duration, mut call: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    loop {
        match call().await {
            Err(e) if is_in_use(&e) && Instant::now() < until => tokio::time::sleep(poll).await,
            other => return other,
        }
    }
}

/// Removes everything in `r`. `opts` gives the progress sink and poll period.
pub async fn remove<E: SwarmEngine>(
    engine: &E,
    r: &Removal,
    opts: &DeployOptions,
    settle: Duration,
) -> RemoveReport {
    let start = Instant::now();
    let emit = |id: String, kind: &'static str, phase: Phase| {
        opts.progress.event(ProgressEvent {
            id,
            kind,
            service: None,
            phase,
            elapsed: start.elapsed(),
        })
    };
    let mut report = RemoveReport::default();
    let mut record = |what: String, e: EngineError| report.left.push(format!("{what}: {e}"));

    for (name, id) in &r.services {
        let sid = format!("service:{name}");
        match engine.remove_service(id).await {
            Ok(()) => emit(sid, "remove service", Phase::Done),
            Err(e) => {
                emit(sid, "remove service", Phase::Failed(e.to_string()));
                record(format!("service {name}"), e);
            }
        }
    }

    let until = Instant::now() + settle;
    let filter = labels::stack_filter(&r.stack);
    emit("wait:tasks:gone".into(), "Wait", Phase::Started);
    loop {
        match engine.list_local_containers(&filter).await {
            Ok(left) if left.is_empty() => {
                emit("wait:tasks:gone".into(), "Wait", Phase::Done);
                break;
            }
            Ok(left) if Instant::now() >= until => {
                let why = format!(
                    "{} task containers still there: {}",
                    left.len(),
                    left.join(", ")
                );
                emit("wait:tasks:gone".into(), "Wait", Phase::Failed(why.clone()));
                break;
            }
            Ok(_) => tokio::time::sleep(opts.poll).await,
            Err(e) => {
                emit(
                    "wait:tasks:gone".into(),
                    "Wait",
                    Phase::Failed(e.to_string()),
                );
                break;
            }
        }
    }

    for (name, id) in &r.networks {
        let nid = format!("network:{name}");
        match retrying(until, opts.poll, || engine.remove_swarm_network(id)).await {
            Ok(()) => emit(nid, "remove network", Phase::Done),
            Err(e) => {
                emit(nid, "remove network", Phase::Failed(e.to_string()));
                record(format!("network {name}"), e);
            }
        }
    }
    for (kind, name, id) in &r.objects {
        let verb = match kind {
            ObjectKind::Secret => "remove secret",
            ObjectKind::Config => "remove config",
        };
        let oid = format!("{}:{name}", kind.word());
        match retrying(until, opts.poll, || engine.remove_object(*kind, id)).await {
            Ok(()) => emit(oid, verb, Phase::Done),
            Err(e) => {
                emit(oid, verb, Phase::Failed(e.to_string()));
                record(format!("{} {name}", kind.word()), e);
            }
        }
    }
    for name in &r.volumes {
        let vid = format!("volume:{name}");
        match retrying(until, opts.poll, || engine.remove_local_volume(name)).await {
            Ok(()) => emit(vid, "remove volume", Phase::Done),
            Err(e) => {
                emit(vid, "remove volume", Phase::Failed(e.to_string()));
                record(format!("volume {name}"), e);
            }
        }
    }
    report
}
