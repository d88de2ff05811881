//! Health checks: `healthcheck-missing` (others wait on a service as healthy
//! but the file defines no check) and `healthcheck-slow-start` (a long
//! interval with no start period or start interval).

use crate::compose::model::{Condition, Duration};

use super::{Context, Finding, Severity, and_list, on_service};

/// Docker's default health check interval.
const DEFAULT_INTERVAL: Duration = Duration(30_000_000_000);

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (name, svc) in &cx.project.services {
        let waiters = cx.waiters(name, Condition::ServiceHealthy);
        match &svc.healthcheck {
            None if !waiters.is_empty() => out.push(on_service(
                "healthcheck-missing",
                Severity::Error,
                name,
                cx.at.service(name),
                format!(
                    "no healthcheck, but {} wait{} for it with condition: service_healthy",
                    and_list(&waiters),
                    if waiters.len() == 1 { "s" } else { "" }
                ),
                "the compose file defines none, so the wait can never succeed; if the image has a HEALTHCHECK, disable this rule for the service",
                "add a healthcheck (test, interval, timeout, retries, start_period) that proves the service answers",
            )),
            Some(hc) if hc.is_disabled() && !waiters.is_empty() => out.push(on_service(
                "healthcheck-missing",
                Severity::Error,
                name,
                cx.at.attr(name, &["healthcheck"]),
                format!(
                    "the healthcheck is disabled, but {} wait{} for it with condition: service_healthy",
                    and_list(&waiters),
                    if waiters.len() == 1 { "s" } else { "" }
                ),
                "a service without an active health check never becomes healthy, so the wait fails",
                "enable the healthcheck, or wait with condition: service_started",
            )),
            Some(hc) if !hc.is_disabled() => {
                let interval = hc.interval.unwrap_or(DEFAULT_INTERVAL);
                if interval >= DEFAULT_INTERVAL
                    && hc.start_period.is_none()
                    && hc.start_interval.is_none()
                {
                    let shown = if hc.interval.is_some() {
                        format!("interval {}", crate::compose::units::format_duration(interval.0))
                    } else {
                        "the default interval of 30s".to_string()
                    };
                    out.push(on_service(
                        "healthcheck-slow-start",
                        Severity::Warning,
                        name,
                        cx.at.attr(name, &["healthcheck", "interval"]),
                        format!("healthcheck has {shown} and no start_period or start_interval"),
                        "the first probe runs only after one interval: the service is reported healthy (and its dependents start) that late, and a slow start counts as failures",
                        "set start_period (how long start-up may take) and start_interval: 1s, or a shorter interval",
                    ));
                }
            }
            _ => {}
        }
    }
}
