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
/// After a restart seen during the wait, "running" counts only once it has
/// lasted this long at the same restart count: a crash-looping container is
/// otherwise caught running between two crashes.
const SETTLE: Duration = Duration::from_secs(2);

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
    events: &mut broadcast::Receiver<super::Seen>,
) -> Result<String, WaitError> {
    let Condition {
        until,
        allow_completed,
        health,
        probe,
        deadline,
    } = cond;
    let mut first_restarts: Option<i64> = None;
    let mut stability = Stability::default();
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
        let settled = until != WaitFor::Running
            || stability.running_is_settled(
                details.container.state,
                restarts,
                base,
                Instant::now(),
            );
        if settled && let Some(done) = evaluate(&details, until, allow_completed)? {
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

/// Whether a `Running` state can be trusted. Not after a crash seen during
/// the wait (state `restarting`, or a higher restart count) until the
/// container has stayed up for `SETTLE` without another restart; the
/// crash-loop threshold fails the wait meanwhile if it keeps crashing.
#[derive(Debug, Default)]
struct Stability {
    crashed: bool,
    /// (restart count, first seen running at that count).
    up_since: Option<(i64, Instant)>,
}

impl Stability {
    fn running_is_settled(
        &mut self,
        state: ContainerState,
        restarts: i64,
        base: i64,
        now: Instant,
    ) -> bool {
        if state == ContainerState::Restarting || restarts > base {
            self.crashed = true;
        }
        if state != ContainerState::Running || !self.crashed {
            self.up_since = None;
            return true;
        }
        match self.up_since {
            Some((count, since)) if count == restarts => now.duration_since(since) >= SETTLE,
            _ => {
                self.up_since = Some((restarts, now));
                false
            }
        }
    }
}

/// RFC 3339 (`2026-11-22T14:14:01.5Z`, `2026-11-22T15:14:01.5+01:00`) →
/// nanoseconds since the Unix epoch. The daemon writes a container's start
/// time in UTC but its health probes' times in its own time zone (Go's
/// `time.Now()`), so the two strings cannot be compared as text.
pub(crate) fn unix_nanos(ts: &str) -> Option<i128> {
    let b = ts.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let s = ts.get(from..to)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &ts[19..];
    let mut nanos: i64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac.bytes().take(digits).enumerate() {
            if i < 9 {
                nanos = nanos * 10 + i64::from(c - b'0');
            }
        }
        for _ in digits..9 {
            nanos *= 10;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (oh, om) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days since 1970-01-01 of the civil date (H. Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// Did the probe start at or after the container's current start?
fn probe_is_fresh(probe_start: &str, started_at: &str) -> bool {
    match (unix_nanos(probe_start), unix_nanos(started_at)) {
        (Some(p), Some(s)) => p >= s,
        _ => probe_start >= started_at,
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
                (Some(probe), Some(started)) => probe_is_fresh(&probe.start, started),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_compare_as_instants_across_zones_and_precisions() {
        assert_eq!(unix_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            unix_nanos("2000-03-01T00:00:00Z"),
            Some(951_868_800 * 1_000_000_000)
        );
        assert_eq!(
            unix_nanos("2026-11-22T15:14:01.5+01:00"),
            unix_nanos("2026-11-22T14:14:01.500000000Z")
        );
        assert_eq!(
            unix_nanos("2026-11-22T09:14:01.25-05:00"),
            unix_nanos("2026-11-22T14:14:01.25Z")
        );
        // Go trims trailing zeros: .12 is later than .1, and .1 later than none.
        assert!(unix_nanos("2026-11-22T14:14:01.12Z") > unix_nanos("2026-11-22T14:14:01.1Z"));
        assert!(unix_nanos("2026-11-22T14:14:01.1Z") > unix_nanos("2026-11-22T14:14:01Z"));
        for bad in [
            "",
            "yesterday",
            "2026-11-22 14:14:01",
            "2026-13-22T14:14:01Z",
            "2026-11-22T14:14:01+0100",
        ] {
            assert_eq!(unix_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn probe_freshness_uses_instants_not_text() {
        let started = "2026-11-22T14:14:01.123456789Z";
        // A probe one second later, written by a daemon at UTC+1 / UTC-5.
        assert!(probe_is_fresh("2026-11-22T15:14:02.1+01:00", started));
        assert!(probe_is_fresh("2026-11-22T09:14:02.1-05:00", started));
        // A probe from before this start (a previous run), at UTC+1: stale.
        assert!(!probe_is_fresh("2026-11-22T15:14:00.9+01:00", started));
        // Same second, fewer digits: .2 is after .123456789.
        assert!(probe_is_fresh("2026-11-22T14:14:01.2Z", started));
        assert!(!probe_is_fresh("2026-11-22T14:14:01.1Z", started));
    }

    #[test]
    fn running_after_a_crash_counts_only_once_it_holds() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // Never crashed: running is running at once.
        let mut s = Stability::default();
        assert!(s.running_is_settled(ContainerState::Running, 0, 0, t0));
        // Seen restarting, then running between two crashes: not yet.
        let mut s = Stability::default();
        assert!(s.running_is_settled(ContainerState::Restarting, 1, 1, ms(0)));
        assert!(!s.running_is_settled(ContainerState::Running, 1, 1, ms(100)));
        assert!(!s.running_is_settled(ContainerState::Running, 1, 1, ms(1000)));
        // Another restart starts the clock again.
        assert!(!s.running_is_settled(ContainerState::Running, 2, 1, ms(1500)));
        assert!(!s.running_is_settled(ContainerState::Running, 2, 1, ms(3000)));
        // Up for SETTLE at the same count: running.
        assert!(s.running_is_settled(ContainerState::Running, 2, 1, ms(3500)));
        // A higher restart count than at the start of the wait is a crash too.
        let mut s = Stability::default();
        assert!(!s.running_is_settled(ContainerState::Running, 4, 3, ms(0)));
    }
}
