//! Applying a plan: walk the DAG against any `Engine` with bounded
//! parallelism. Makes no decisions: each node is the engine call the planner
//! chose. Waits do not take a concurrency slot (so they can never starve the
//! nodes they wait for); starts of port-publishing containers are serialized
//! (the engine's port allocation races); the first failure stops new work,
//! and dependents of a failed node are reported as skipped with the reason.
//! A cancellation (SIGINT/SIGTERM) stops new work too: waits end at once,
//! engine calls in flight run to their answer, so everything created is
//! labelled and found by `down`.
pub mod cancel;
pub mod diagnose;
pub mod images;
pub mod networks;
pub mod observe;
pub mod progress;
pub mod swarm;
pub mod wait;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

// tokio's clock, so tests can pause time and deadlines stay deterministic.
use tokio::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Mutex, broadcast};

use crate::engine::types::EventKind;
use crate::engine::{Engine, EngineError};
use crate::plan::{Action, Plan, WaitFor};

pub use progress::{NoProgress, Phase, ProgressEvent, ProgressSink};
pub use wait::HealthProbe;

#[derive(Clone)]
pub struct ApplyOptions {
    /// Engine calls in flight at once (waits excluded).
    pub concurrency: usize,
    /// Absolute deadline for the whole apply (`--wait-timeout`).
    pub deadline: Option<Instant>,
    pub probe: HealthProbe,
    pub progress: Arc<dyn ProgressSink>,
    /// Raised on SIGINT/SIGTERM: launch nothing more, end the waits, let the
    /// engine calls in flight finish (for at most `DRAIN`).
    pub cancel: cancel::Cancel,
    /// Stop containers one at a time, each to the end of its call: engines
    /// that deadlock on parallel stops (`engine::quirks::serial_stops`).
    pub serial_stops: bool,
}

/// What nodes of one apply serialize on.
#[derive(Default)]
struct Locks {
    /// Starts of port-publishing containers (the engine's allocation races).
    ports: Mutex<()>,
    /// Stops, when `serial_stops`.
    stops: Mutex<()>,
}

/// After a cancellation, how long the engine calls in flight may take to
/// answer before they are abandoned.
pub const DRAIN: Duration = Duration::from_secs(10);

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 8,
            deadline: None,
            probe: HealthProbe::Eager,
            progress: Arc::new(NoProgress),
            cancel: cancel::Cancel::default(),
            serial_stops: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
    Skipped(String),
    NotRun,
}

/// What happened to every node, and the first failure if any.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub outcomes: Vec<Outcome>,
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub node: String,
    pub service: Option<String>,
    pub message: String,
    pub timed_out: bool,
    /// The run was cancelled (a signal), not failed by the engine.
    pub interrupted: bool,
    /// Name of the container to diagnose, when a container failed.
    pub container: Option<String>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// One container event as the executor needs it: whose, and whether its
/// process died.
#[derive(Debug, Clone)]
pub struct Seen {
    pub container: String,
    pub died: bool,
}

/// A node's future: its index, whether it is a wait, and how it ended.
type NodeFuture<'a> = Pin<Box<dyn Future<Output = (usize, bool, Step<'a>)> + Send + 'a>>;

enum Step<'a> {
    Finished(NodeResult),
    /// A stop whose container's process has died while the engine call still
    /// runs (the daemon's cleanup: unmount, endpoint release): the next stop
    /// in reverse dependency order may begin, everything else waits for the
    /// call's end.
    Exited(Pin<Box<dyn Future<Output = NodeResult> + Send + 'a>>),
}

enum NodeResult {
    Ok(Option<String>),
    Err {
        message: String,
        timed_out: bool,
        container: Option<String>,
    },
}

/// Run `plan`. `events` carries container names from the engine's event
/// stream (opened by the caller before anything starts, so nothing is missed).
pub async fn run<E: Engine>(
    engine: &E,
    plan: &Plan,
    opts: &ApplyOptions,
    events: &broadcast::Sender<Seen>,
) -> ApplyReport {
    let start = Instant::now();
    let n = plan.nodes.len();
    let mut outcomes = vec![Outcome::NotRun; n];
    let mut remaining_deps: Vec<usize> = plan.nodes.iter().map(|x| x.deps.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in plan.nodes.iter().enumerate() {
        for &d in &node.deps {
            if d < n {
                dependents[d].push(i);
            }
        }
    }
    let locks = Locks::default();
    let mut ready: Vec<usize> = (0..n).filter(|&i| remaining_deps[i] == 0).collect();
    ready.reverse();
    let mut in_flight: FuturesUnordered<NodeFuture<'_>> = FuturesUnordered::new();
    // Stop nodes that already released the stops depending on them.
    let mut released_early = vec![false; n];
    let mut busy_slots = 0usize;
    let mut failure: Option<Failure> = None;
    // Set once cancelled: the calls in flight may answer until then.
    let mut drain_until: Option<Instant> = None;
    let emit = |i: usize, phase: Phase| {
        let node = &plan.nodes[i];
        opts.progress.event(ProgressEvent {
            id: node.id.clone(),
            kind: node.action.kind(),
            service: node.action.service().map(String::from),
            phase,
            elapsed: start.elapsed(),
        });
    };

    loop {
        // Launch what is ready, within the concurrency bound; waits are free.
        let mut deferred = Vec::new();
        while failure.is_none() {
            let Some(i) = ready.pop() else { break };
            let is_wait = matches!(plan.nodes[i].action, Action::Wait { .. });
            if !is_wait && busy_slots >= opts.concurrency.max(1) {
                deferred.push(i);
                continue;
            }
            if !is_wait {
                busy_slots += 1;
            }
            emit(i, Phase::Started);
            let rx = events.subscribe();
            let locks = &locks;
            in_flight.push(Box::pin(async move {
                (
                    i,
                    is_wait,
                    execute(engine, &plan.nodes[i].action, opts, locks, rx).await,
                )
            }));
        }
        ready.extend(deferred.into_iter().rev());
        let next = match drain_until {
            // Cancelled: only the calls already in flight, and not forever.
            Some(until) => match tokio::time::timeout_at(until, in_flight.next()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            // `None` from the cancel branch: handled just below.
            None => tokio::select! {
                biased;
                _ = opts.cancel.cancelled() => None,
                next = in_flight.next() => next,
            },
        };
        // Checked after every answer too: a node that saw the cancel first
        // (a wait racing it on another thread) must not pass for a failure.
        if drain_until.is_none() && opts.cancel.is_cancelled() {
            drain_until = Some(Instant::now() + DRAIN);
            if failure.is_none() {
                failure = Some(Failure {
                    node: "interrupt".into(),
                    service: None,
                    message: "interrupted".into(),
                    timed_out: false,
                    interrupted: true,
                    container: None,
                });
            }
        }
        let Some((i, is_wait, step)) = next else {
            if drain_until.is_some() && !in_flight.is_empty() {
                continue;
            }
            break;
        };
        let result = match step {
            Step::Finished(r) => r,
            Step::Exited(rest) => {
                released_early[i] = true;
                for &d in &dependents[i] {
                    if is_stop(&plan.nodes[d].action) {
                        remaining_deps[d] -= 1;
                        if remaining_deps[d] == 0 && failure.is_none() {
                            ready.push(d);
                        }
                    }
                }
                // The call keeps its slot until it returns.
                in_flight.push(Box::pin(
                    async move { (i, is_wait, Step::Finished(rest.await)) },
                ));
                continue;
            }
        };
        if !is_wait {
            busy_slots -= 1;
        }
        match result {
            NodeResult::Ok(decider) => {
                outcomes[i] = Outcome::Done;
                emit(i, decider.map(Phase::DoneBy).unwrap_or(Phase::Done));
                for &d in &dependents[i] {
                    if released_early[i] && is_stop(&plan.nodes[d].action) {
                        continue;
                    }
                    remaining_deps[d] -= 1;
                    if remaining_deps[d] == 0 && failure.is_none() {
                        ready.push(d);
                    }
                }
            }
            NodeResult::Err {
                message,
                timed_out,
                container,
            } => {
                outcomes[i] = Outcome::Failed(message.clone());
                emit(i, Phase::Failed(message.clone()));
                if failure.is_none() {
                    let message = match &plan.nodes[i].action {
                        Action::Wait { until, .. } => {
                            format!(
                                "{message} ({})",
                                wait_context(plan, i, &dependents[i], *until)
                            )
                        }
                        _ => message,
                    };
                    failure = Some(Failure {
                        node: plan.nodes[i].id.clone(),
                        service: plan.nodes[i].action.service().map(String::from),
                        message,
                        timed_out,
                        interrupted: false,
                        container,
                    });
                }
            }
        }
    }
    if let Some(f) = &failure {
        for (i, o) in outcomes.iter_mut().enumerate() {
            if *o == Outcome::NotRun {
                let reason = if f.interrupted {
                    "not run: interrupted".to_string()
                } else {
                    format!("not run: {} failed", f.node)
                };
                *o = Outcome::Skipped(reason.clone());
                emit(i, Phase::Skipped(reason));
            }
        }
    }
    ApplyReport { outcomes, failure }
}

/// Why a failed wait mattered: the Compose condition, and the services whose
/// start needed it (or the plan's cause, e.g. `--wait`).
fn wait_context(plan: &Plan, i: usize, dependents: &[usize], until: WaitFor) -> String {
    let own = plan.nodes[i].action.service();
    let mut by: Vec<&str> = dependents
        .iter()
        .filter_map(|&d| plan.nodes[d].action.service())
        .filter(|s| Some(*s) != own)
        .collect();
    by.sort_unstable();
    by.dedup();
    if by.is_empty() {
        format!(
            "condition {}, for {}",
            until.condition(),
            plan.nodes[i].cause
        )
    } else {
        format!(
            "condition {}, required by {}",
            until.condition(),
            by.join(", ")
        )
    }
}

async fn execute<'a, E: Engine>(
    engine: &'a E,
    action: &'a Action,
    opts: &'a ApplyOptions,
    locks: &'a Locks,
    events: broadcast::Receiver<Seen>,
) -> Step<'a> {
    // Waits change nothing, and an abandoned stop is finished by the daemon
    // on its own: both end at once when cancelled. Everything else runs to
    // its answer (see `cancel`).
    let step = if !matches!(action, Action::Wait { .. } | Action::StopContainer { .. }) {
        run_action(engine, action, opts, locks, events).await
    } else {
        tokio::select! {
            step = run_action(engine, action, opts, locks, events) => step,
            _ = opts.cancel.cancelled() => Step::Finished(interrupted()),
        }
    };
    match step {
        // An engine call (not a wait) got no answer: say whether the daemon
        // is wedged, which no retry of ours can fix.
        Step::Finished(NodeResult::Err {
            message,
            timed_out: true,
            container,
        }) if !matches!(action, Action::Wait { .. }) => {
            let message = match networks::daemon_wedged(engine).await {
                Some(hint) => format!("{message}\n  {hint}"),
                None => message,
            };
            Step::Finished(NodeResult::Err {
                message,
                timed_out: true,
                container,
            })
        }
        other => other,
    }
}

fn interrupted() -> NodeResult {
    NodeResult::Err {
        message: "interrupted".into(),
        timed_out: false,
        container: None,
    }
}

/// One node's engine call(s); creates, starts and removals always run to
/// their answer, even when cancelled meanwhile.
async fn run_action<'a, E: Engine>(
    engine: &'a E,
    action: &'a Action,
    opts: &'a ApplyOptions,
    locks: &'a Locks,
    mut events: broadcast::Receiver<Seen>,
) -> Step<'a> {
    let r: Result<Option<String>, (String, bool, Option<String>)> = match action {
        Action::CreateNetwork { spec, .. } => engine
            .create_network(spec)
            .await
            .map(|_| None)
            .map_err(eng(None)),
        Action::CreateVolume { spec, .. } => engine
            .create_volume(spec)
            .await
            .map(|_| None)
            .map_err(eng(None)),
        Action::CreateContainer { spec, inject, .. } => {
            async {
                engine
                    .create_container(spec)
                    .await
                    .map_err(eng(Some(&spec.name)))?;
                for f in inject {
                    engine
                        .copy_file_into(&spec.name, &f.target, f.content.clone(), f.mode, 0, 0)
                        .await
                        .map_err(eng(Some(&spec.name)))?;
                }
                Ok(None)
            }
            .await
        }
        Action::StartContainer {
            name,
            publishes_ports,
            ..
        } => {
            let _guard = if *publishes_ports {
                Some(locks.ports.lock().await)
            } else {
                None
            };
            engine
                .start_container(name)
                .await
                .map(|_| None)
                .map_err(eng(Some(name)))
                .map_err(|(message, timed_out, c)| {
                    // The engine's words for a taken host port are buried
                    // in a long line; say it first, keep theirs after.
                    let message = match diagnose::port_conflict(&message) {
                        Some(plain) => format!("{plain}\n  engine: {message}"),
                        None => message,
                    };
                    (message, timed_out, c)
                })
        }
        Action::StopContainer { name, timeout, .. } if opts.serial_stops => {
            // One at a time, to the call's end (the daemon's cleanup
            // included): no early release, see `ApplyOptions::serial_stops`.
            let _one = locks.stops.lock().await;
            engine
                .stop_container(name, *timeout)
                .await
                .map(|_| None)
                .map_err(eng(Some(name)))
        }
        Action::StopContainer { name, timeout, .. } => {
            return stop(engine, name, *timeout, events).await;
        }
        Action::RemoveContainer {
            name,
            anonymous_volumes,
            ..
        } => engine
            .remove_container(name, true, *anonymous_volumes)
            .await
            .map(|_| None)
            .map_err(eng(Some(name))),
        Action::RemoveNetwork { key, name } => {
            networks::remove(engine, key, name, networks::RELEASE_DEADLINE)
                .await
                .map(|_| None)
                .map_err(|message| (message, false, None))
        }
        Action::RemoveVolume { name, .. } => engine
            .remove_volume(name, false)
            .await
            .map(|_| None)
            .map_err(eng(None)),
        Action::Wait {
            containers,
            until,
            health,
            allow_completed,
            ..
        } => {
            let mut decided = Vec::new();
            let mut result = Ok(None);
            for c in containers {
                let cond = wait::Condition {
                    until: *until,
                    allow_completed: *allow_completed,
                    health: health.as_ref(),
                    probe: opts.probe,
                    deadline: opts.deadline,
                };
                match wait::container(engine, c, cond, &mut events).await {
                    Ok(d) => decided.push(d),
                    Err(wait::WaitError::Failed { container, reason }) => {
                        result = Err((format!("{container} {reason}"), false, Some(container)));
                        break;
                    }
                    Err(wait::WaitError::Timeout {
                        container,
                        last_state,
                    }) => {
                        let what = match until {
                            WaitFor::Running => "running",
                            WaitFor::Healthy => "healthy",
                            WaitFor::CompletedSuccessfully => "completed",
                        };
                        result = Err((
                            format!(
                                "{container} was not {what} before the deadline (last state: {last_state})"
                            ),
                            true,
                            Some(container),
                        ));
                        break;
                    }
                    Err(wait::WaitError::Engine(e)) => {
                        result = Err((e.to_string(), false, Some(c.clone())));
                        break;
                    }
                }
            }
            result.map(|_: Option<String>| {
                decided.sort();
                decided.dedup();
                Some(decided.join(", "))
            })
        }
    };
    Step::Finished(node_result(r))
}

fn node_result(r: Result<Option<String>, (String, bool, Option<String>)>) -> NodeResult {
    match r {
        Ok(d) => NodeResult::Ok(d),
        Err((message, timed_out, container)) => NodeResult::Err {
            message,
            timed_out,
            container,
        },
    }
}

fn is_stop(action: &Action) -> bool {
    matches!(action, Action::StopContainer { .. })
}

/// Stop a container, and report as soon as its process has died: on Engine
/// 20.10 the `die` event comes ~60 ms before the stop call returns (the
/// daemon still unmounts and releases endpoints), which is a large share of
/// each step when a chain of services stops in reverse dependency order.
async fn stop<'a, E: Engine>(
    engine: &'a E,
    name: &'a str,
    timeout: Duration,
    mut events: broadcast::Receiver<Seen>,
) -> Step<'a> {
    let call = async move {
        node_result(
            engine
                .stop_container(name, timeout)
                .await
                .map(|_| None)
                .map_err(eng(Some(name))),
        )
    };
    let mut call = Box::pin(call);
    let died = async {
        loop {
            match events.recv().await {
                Ok(seen) if seen.died && seen.container == name => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    };
    tokio::select! {
        r = &mut call => Step::Finished(r),
        _ = died => Step::Exited(call),
    }
}

fn eng(container: Option<&str>) -> impl FnOnce(EngineError) -> (String, bool, Option<String>) + '_ {
    move |e| {
        let timed_out = matches!(e, EngineError::Timeout { .. });
        (e.to_string(), timed_out, container.map(String::from))
    }
}

/// Node outcomes by id (for reports and tests).
pub fn outcomes_by_id<'a>(
    plan: &'a Plan,
    report: &'a ApplyReport,
) -> BTreeMap<&'a str, &'a Outcome> {
    plan.nodes
        .iter()
        .zip(&report.outcomes)
        .map(|(n, o)| (n.id.as_str(), o))
        .collect()
}

/// Open the engine's event stream for a project and fan it out as container
/// names. Call before the first start (engine notes G9).
pub fn subscribe_events<E: Engine + 'static>(engine: &E, project: &str) -> broadcast::Sender<Seen> {
    let (tx, _) = broadcast::channel(1024);
    let mut stream = engine.events(&[(crate::plan::labels::PROJECT, project)], None);
    let out = tx.clone();
    tokio::spawn(async move {
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(ev) => {
                    let _ = out.send(Seen {
                        died: matches!(ev.kind, EventKind::Die { .. }),
                        container: ev.container_name,
                    });
                }
                Err(_) => break,
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests;
