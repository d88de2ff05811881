//! Waiting for a service's containers to reach a condition: running, healthy
//! or completed. Event-driven (woken by the engine's events, confirmed with one
//! inspect), with a slow tick as a safety net, and eager health probes: the
//! service's own health check run by exec right after start and every ~150 ms
//! until it passes, since the engine's first probe only comes after `interval`.
//! Health results older than the container's current start are ignored.

use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::broadcast;

use crate::engine::types::{ContainerDetails, ContainerState, HealthSpec, HealthState};
use crate::engine::{Engine, EngineError};
use crate::plan::WaitFor;

/// Who decides "healthy".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthProbe {
    /// Run the check ourselves right away (default).
    Eager,
    /// Wait for the engine's own verdict.
    Engine,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitError {
    /// The condition can no longer be met: says why (exited, unhealthy, crash loop).
    Failed {
        container: String,
        reason: String,
    },
    /// The deadline passed first.
    Timeout {
        container: String,
        last_state: String,
    },
    Engine(EngineError),
}

/// Crash-loop threshold: restarts seen while waiting before giving up.
const MAX_RESTARTS: i64 = 3;
const TICK: Duration = Duration::from_millis(500);
const PROBE_EVERY: Duration = Duration::from_millis(150);

/// The health check command as exec arguments (`CMD` runs as is, `CMD-SHELL` through sh).
pub fn probe_command(test: &[String]) -> Option<Vec<String>> {
    match test.split_first()? {
        (kind, rest) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        (kind, rest) if kind == "CMD-SHELL" && !rest.is_empty() => {
            Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
        }
        _ => None,
    }
}

/// What to wait for, and how.
#[derive(Clone, Copy)]
pub struct Condition<'a> {
    pub until: WaitFor,
    /// Exiting 0 counts as success (a job under `--wait`).
    pub allow_completed: bool,
    /// The service's own health check, for eager probes.
    pub health: Option<&'a HealthSpec>,
    pub probe: HealthProbe,
    pub deadline: Option<Instant>,
}

/// Wait until one container meets the condition. Returns what decided it.
pub async fn container<E: Engine>(
    engine: &E,
    name: &str,
    cond: Condition<'_>,
    events: &mut broadcast::Receiver<String>,
) -> Result<String, WaitError> {
    let Condition {
        until,
        allow_completed,
        health,
        probe,
        deadline,
    } = cond;
    let mut first_restarts: Option<i64> = None;
    let mut next_probe = Instant::now();
    loop {
        let details = engine
            .inspect_container(name)
            .await
            .map_err(WaitError::Engine)?;
        let restarts = details.container.restart_count;
        let base = *first_restarts.get_or_insert(restarts);
        if restarts - base >= MAX_RESTARTS {
            return Err(WaitError::Failed {
                container: name.into(),
                reason: format!(
                    "crash loop: restarted {} times while waiting",
                    restarts - base
                ),
            });
        }
        if let Some(done) = evaluate(&details, until, allow_completed)? {
            return Ok(done);
        }
        if until == WaitFor::Healthy
            && probe == HealthProbe::Eager
            && details.container.state == ContainerState::Running
            && Instant::now() >= next_probe
            && let Some(spec) = health
            && let Some(cmd) = probe_command(&spec.test)
        {
            let timeout = spec
                .timeout
                .unwrap_or(Duration::from_secs(30))
                .min(Duration::from_secs(30));
            if let Ok(out) = engine.exec(name, &cmd, None, &[], timeout).await
                && out.exit_code == 0
            {
                return Ok("eager probe".into());
            }
            next_probe = Instant::now() + PROBE_EVERY;
        }
        let sleep_for = if until == WaitFor::Healthy && probe == HealthProbe::Eager {
            PROBE_EVERY
        } else {
            TICK
        };
        let wake = tokio::time::sleep(sleep_for);
        tokio::pin!(wake);
        if let Some(d) = deadline
            && Instant::now() >= d
        {
            return Err(WaitError::Timeout {
                container: name.into(),
                last_state: describe(&details),
            });
        }
        let deadline_sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut wake => {}
            ev = events.recv() => {
                // Any event may concern us; the inspect at the top of the loop confirms.
                if let Err(broadcast::error::RecvError::Closed) = ev {
                    // No more events (stream ended): keep polling on the tick.
                    wake.await;
                }
            }
            _ = deadline_sleep => {
                return Err(WaitError::Timeout { container: name.into(), last_state: describe(&details) });
            }
        }
    }
}

/// `Some(decider)` when met, `None` to keep waiting, `Err` when it can no longer be met.
fn evaluate(
    d: &ContainerDetails,
    until: WaitFor,
    allow_completed: bool,
) -> Result<Option<String>, WaitError> {
    let c = &d.container;
    let name = c.name.clone();
    let exited = matches!(c.state, ContainerState::Exited | ContainerState::Dead);
    match until {
        WaitFor::CompletedSuccessfully => {
            if exited {
                return if c.exit_code == 0 {
                    Ok(Some("exited 0".into()))
                } else {
                    Err(WaitError::Failed {
                        container: name,
                        reason: format!("exited with code {}", c.exit_code),
                    })
                };
            }
            Ok(None)
        }
        WaitFor::Running => match c.state {
            ContainerState::Running => Ok(Some("running".into())),
            _ if exited && allow_completed && c.exit_code == 0 => {
                Ok(Some("completed (exit 0)".into()))
            }
            _ if exited => Err(WaitError::Failed {
                container: name,
                reason: format!(
                    "exited with code {}{}",
                    c.exit_code,
                    if d.oom_killed {
                        " (killed: out of memory)"
                    } else {
                        ""
                    }
                ),
            }),
            _ => Ok(None),
        },
        WaitFor::Healthy => {
            if exited {
                return Err(WaitError::Failed {
                    container: name,
                    reason: format!("exited with code {} before it was healthy", c.exit_code),
                });
            }
            if c.health.is_none() && c.state == ContainerState::Running {
                // Neither the service nor its image defines a check.
                return Err(WaitError::Failed {
                    container: name,
                    reason: "has no health check, so it can never be healthy; add a healthcheck or use condition service_started".into(),
                });
            }
            // A verdict from before the current start (a previous run) is stale.
            let fresh = match (d.health_log.last(), c.started_at.as_deref()) {
                (Some(probe), Some(started)) => probe.start.as_str() >= started,
                _ => true,
            };
            match c.health {
                Some(HealthState::Healthy) if fresh => Ok(Some("engine health check".into())),
                Some(HealthState::Unhealthy) if fresh && c.state == ContainerState::Running => {
                    Err(WaitError::Failed {
                        container: name,
                        reason: "health check reports unhealthy".into(),
                    })
                }
                _ => Ok(None),
            }
        }
    }
}

fn describe(d: &ContainerDetails) -> String {
    let c = &d.container;
    let health = match c.health {
        Some(HealthState::Starting) => ", health: starting",
        Some(HealthState::Healthy) => ", health: healthy",
        Some(HealthState::Unhealthy) => ", health: unhealthy",
        None => "",
    };
    format!("{:?}{health}", c.state).to_lowercase()
}
