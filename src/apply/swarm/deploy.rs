//! Running a `DeployPlan`: networks and secrets/configs first, then every
//! service as soon as the services it depends on have their tasks in the
//! state it waits for (independent branches in parallel), then removals,
//! then (`--wait`) every service's convergence. The first failure stops
//! what has not started; services that never ran are reported as skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::apply::{Phase, ProgressEvent};
use crate::engine::swarm::{ObjectKind, ServiceSpec, SwarmEngine, is_in_use};
use crate::plan::swarm::{DeployPlan, ServiceAction, Step, Target, WaitFor};

use super::judge::{Verdict, Want, judge};
use super::{DeployOptions, DeployReport, SwarmFailure, diagnose};

/// What a dependent needs to know about a service once it exists.
#[derive(Debug, Clone)]
struct Made {
    id: String,
    name: String,
    /// Tasks created before this belong to an older spec (after an update).
    since: Option<i128>,
    target: Target,
    restarts: bool,
}

/// `None` while the service is not made yet; `Some(None)` if it never will be.
type Slot = watch::Sender<Option<Option<Made>>>;

struct Run<'a, E> {
    engine: &'a E,
    opts: &'a DeployOptions,
    start: Instant,
    calls: Semaphore,
}

impl<E: SwarmEngine> Run<'_, E> {
    fn emit(&self, id: &str, kind: &'static str, service: Option<&str>, phase: Phase) {
        self.opts.progress.event(ProgressEvent {
            id: id.to_string(),
            kind,
            service: service.map(String::from),
            phase,
            elapsed: self.start.elapsed(),
        });
    }

    fn fail(&self, step: &str, service: Option<&str>, message: String) -> SwarmFailure {
        SwarmFailure {
            step: step.to_string(),
            service: service.map(String::from),
            message,
            timed_out: false,
            diagnosis: None,
        }
    }

    /// Polls `made`'s tasks until `want` holds (for `stable` without a
    /// break, so a task that starts and crashes is not taken for a service
    /// that runs); a failure or the deadline ends the wait with a diagnosis.
    async fn wait_for(
        &self,
        id: &str,
        key: &str,
        made: &Made,
        want: Want,
        for_service: &str,
        stable: Duration,
    ) -> Result<(), SwarmFailure> {
        self.emit(id, "Wait", Some(for_service), Phase::Started);
        let mut ready_since: Option<Instant> = None;
        loop {
            let verdict = match self.engine.list_tasks(&made.id).await {
                Ok(tasks) => judge(
                    &made.name,
                    &tasks,
                    want,
                    made.since,
                    self.opts.started_at,
                    made.restarts,
                ),
                Err(e) => Verdict::Failed(format!("listing the tasks of {}: {e}", made.name)),
            };
            let (message, timed_out) = match verdict {
                Verdict::Ready => {
                    let since = *ready_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= stable {
                        self.emit(id, "Wait", Some(for_service), Phase::Done);
                        return Ok(());
                    }
                    tokio::time::sleep(self.opts.poll).await;
                    continue;
                }
                Verdict::Failed(why) => (why, false),
                Verdict::Pending(what) => {
                    ready_since = None;
                    match self.opts.deadline {
                        Some(d) if Instant::now() >= d => {
                            (format!("not ready before the deadline: {what}"), true)
                        }
                        _ => {
                            tokio::time::sleep(self.opts.poll).await;
                            continue;
                        }
                    }
                }
            };
            self.emit(
                id,
                "Wait",
                Some(for_service),
                Phase::Failed(message.clone()),
            );
            let diagnosis =
                diagnose::gather(self.engine, &made.name, &made.id, self.opts.log_lines).await;
            return Err(SwarmFailure {
                step: id.to_string(),
                service: Some(key.to_string()),
                message: format!("{} ({key}): {message}", made.name),
                timed_out,
                diagnosis: Some(diagnosis),
            });
        }
    }

    /// Fills every secret/config reference with its object's ID.
    fn with_ids(
        &self,
        spec: &ServiceSpec,
        ids: &BTreeMap<(ObjectKind, String), String>,
    ) -> Result<ServiceSpec, String> {
        let mut spec = spec.clone();
        for (kind, refs) in [
            (ObjectKind::Secret, &mut spec.container.secrets),
            (ObjectKind::Config, &mut spec.container.configs),
        ] {
            for r in refs.iter_mut() {
                r.object_id = ids
                    .get(&(kind, r.object.clone()))
                    .cloned()
                    .ok_or_else(|| format!("{} {} has no ID", kind.word(), r.object))?;
            }
        }
        Ok(spec)
    }

    async fn service(
        &self,
        step: &Step,
        slots: &BTreeMap<String, Slot>,
        ids: &BTreeMap<(ObjectKind, String), String>,
    ) -> Result<(), SwarmFailure> {
        let Step::Service {
            key,
            name,
            waits,
            target,
            restarts,
            action,
            ..
        } = step
        else {
            return Ok(());
        };
        let mut made_deps = Vec::new();
        for w in waits {
            let Some(slot) = slots.get(&w.service) else {
                continue;
            };
            let mut rx = slot.subscribe();
            let dep = loop {
                if let Some(state) = rx.borrow_and_update().clone() {
                    break state;
                }
                if rx.changed().await.is_err() {
                    break None;
                }
            };
            let Some(dep) = dep else {
                self.emit(
                    &format!("service:{key}"),
                    "create service",
                    Some(key),
                    Phase::Skipped(format!("{} failed", w.service)),
                );
                return Err(self.fail(
                    &format!("service:{key}"),
                    Some(key),
                    format!("skipped: dependency {} failed", w.service),
                ));
            };
            made_deps.push((w, dep));
        }
        for (w, dep) in &made_deps {
            let want = match (w.condition, dep.target) {
                (WaitFor::Completed, Target::Running(n) | Target::Completed(n)) => {
                    Want::Completed(n)
                }
                (_, Target::Running(n)) => Want::Running {
                    count: n,
                    done_counts: false,
                },
                (_, Target::Completed(n)) => Want::Running {
                    count: n,
                    done_counts: true,
                },
            };
            let id = format!("wait:{}:{}", w.service, w.condition.word());
            self.wait_for(&id, &w.service, dep, want, key, Duration::ZERO)
                .await?;
        }
        let step_id = format!("service:{key}");
        let (kind, result) = match action {
            ServiceAction::Keep { id } => ("keep service", Ok((id.clone(), None))),
            ServiceAction::Create(spec) => {
                self.emit(&step_id, "create service", Some(key), Phase::Started);
                let _slot = self.calls.acquire().await;
                let r = match self.with_ids(spec, ids) {
                    Ok(spec) => self
                        .engine
                        .create_service(&spec)
                        .await
                        .map(|id| (id, None))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                ("create service", r)
            }
            ServiceAction::Update { id, version, spec } => {
                self.emit(&step_id, "update service", Some(key), Phase::Started);
                let _slot = self.calls.acquire().await;
                let r = match self.with_ids(spec, ids) {
                    Ok(spec) => match self.engine.update_service(id, *version, &spec).await {
                        // Tasks of the new spec are those created from this update on.
                        Ok(()) => match self.engine.inspect_service(id).await {
                            Ok(s) => Ok((id.clone(), Some(s.updated_at))),
                            Err(e) => Err(e.to_string()),
                        },
                        Err(e) => Err(e.to_string()),
                    },
                    Err(e) => Err(e),
                };
                ("update service", r)
            }
        };
        match result {
            Ok((id, since)) => {
                self.emit(&step_id, kind, Some(key), Phase::Done);
                if let Some(slot) = slots.get(key) {
                    slot.send_replace(Some(Some(Made {
                        id,
                        name: name.clone(),
                        since,
                        target: *target,
                        restarts: *restarts,
                    })));
                }
                Ok(())
            }
            Err(e) => {
                self.emit(&step_id, kind, Some(key), Phase::Failed(e.clone()));
                Err(self.fail(&step_id, Some(key), format!("{kind} {name}: {e}")))
            }
        }
    }
}

type Boxed<'a> = Pin<Box<dyn Future<Output = (String, Result<(), SwarmFailure>)> + Send + 'a>>;

pub async fn deploy<E: SwarmEngine>(
    engine: &E,
    plan: &DeployPlan,
    opts: &DeployOptions,
) -> DeployReport {
    let run = Run {
        engine,
        opts,
        start: Instant::now(),
        calls: Semaphore::new(opts.concurrency.clamp(1, Semaphore::MAX_PERMITS)),
    };
    let mut report = DeployReport::default();
    let mut ids = plan.object_ids.clone();

    // Networks and objects: nothing depends on their order among themselves.
    for step in &plan.steps {
        let (id, kind, result) = match step {
            Step::CreateNetwork { spec, .. } => {
                let id = format!("network:{}", spec.name);
                run.emit(&id, "create network", None, Phase::Started);
                (
                    id,
                    "create network",
                    engine.create_swarm_network(spec).await.map(|_| ()),
                )
            }
            Step::CreateObject { spec, .. } => {
                let id = format!("{}:{}", spec.kind.word(), spec.name);
                let kind = match spec.kind {
                    ObjectKind::Secret => "create secret",
                    ObjectKind::Config => "create config",
                };
                run.emit(&id, kind, None, Phase::Started);
                let r = engine.create_object(spec).await.map(|oid| {
                    ids.insert((spec.kind, spec.name.clone()), oid);
                });
                (id, kind, r)
            }
            _ => continue,
        };
        match result {
            Ok(()) => run.emit(&id, kind, None, Phase::Done),
            Err(e) => {
                run.emit(&id, kind, None, Phase::Failed(e.to_string()));
                report.failure = Some(run.fail(&id, None, format!("{kind}: {e}")));
                return report;
            }
        }
    }

    // Services, each as soon as what it waits for is there.
    let slots: BTreeMap<String, Slot> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Service { key, .. } => Some((key.clone(), watch::Sender::new(None))),
            _ => None,
        })
        .collect();
    let mut pending: BTreeSet<String> = slots.keys().cloned().collect();
    {
        let run = &run;
        let slots = &slots;
        let ids = &ids;
        let mut running: FuturesUnordered<Boxed<'_>> = FuturesUnordered::new();
        for step in &plan.steps {
            if let Step::Service { key, .. } = step {
                let key = key.clone();
                running.push(Box::pin(async move {
                    let r = run.service(step, slots, ids).await;
                    if r.is_err()
                        && let Some(slot) = slots.get(&key)
                    {
                        slot.send_replace(Some(None));
                    }
                    (key, r)
                }));
            }
        }
        while let Some((key, r)) = running.next().await {
            pending.remove(&key);
            if let Err(f) = r {
                report.failure = Some(f);
                break;
            }
        }
    }
    if report.failure.is_some() {
        for key in &pending {
            run.emit(
                &format!("service:{key}"),
                "create service",
                Some(key),
                Phase::Skipped("the deploy stopped at an earlier failure".into()),
            );
        }
        return report;
    }

    // Removals: orphans asked for, and secret/config generations nothing uses.
    for step in &plan.steps {
        match step {
            Step::RemoveService { key, name, id, .. } => {
                let sid = format!("service:{key}");
                run.emit(&sid, "remove service", Some(key), Phase::Started);
                if let Err(e) = engine.remove_service(id).await {
                    run.emit(
                        &sid,
                        "remove service",
                        Some(key),
                        Phase::Failed(e.to_string()),
                    );
                    report.failure =
                        Some(run.fail(&sid, Some(key), format!("remove service {name}: {e}")));
                    return report;
                }
                run.emit(&sid, "remove service", Some(key), Phase::Done);
            }
            Step::RemoveObject { kind, name, id, .. } => {
                let oid = format!("{}:{name}", kind.word());
                let verb = match kind {
                    ObjectKind::Secret => "remove secret",
                    ObjectKind::Config => "remove config",
                };
                match engine.remove_object(*kind, id).await {
                    Ok(()) => run.emit(&oid, verb, None, Phase::Done),
                    // Old tasks may still hold it while an update rolls on;
                    // `down` removes it for good.
                    Err(e) if is_in_use(&e) => report.notes.push(format!(
                        "{} {name} is still in use and was kept ({e})",
                        kind.word()
                    )),
                    Err(e) => report
                        .notes
                        .push(format!("could not remove {} {name}: {e}", kind.word())),
                }
            }
            _ => {}
        }
    }

    if opts.wait {
        let made: BTreeMap<String, Made> = slots
            .iter()
            .filter_map(|(k, slot)| Some((k.clone(), slot.borrow().clone().flatten()?)))
            .collect();
        report.failure = converge(&run, &made).await;
    }
    report
}

/// `--wait`: every service reaches its target (running or completed).
async fn converge<E: SwarmEngine>(
    run: &Run<'_, E>,
    made: &BTreeMap<String, Made>,
) -> Option<SwarmFailure> {
    let mut waits: FuturesUnordered<_> = made
        .iter()
        .map(|(key, m)| async move {
            let want = match m.target {
                Target::Running(n) => Want::Running {
                    count: n,
                    done_counts: false,
                },
                Target::Completed(n) => Want::Completed(n),
            };
            run.wait_for(&format!("ready:{key}"), key, m, want, key, run.opts.stable)
                .await
        })
        .collect();
    while let Some(r) = waits.next().await {
        if let Err(f) = r {
            return Some(f);
        }
    }
    None
}
