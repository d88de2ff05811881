//! Running for a long time without surprises: `resource-limits-missing`,
//! `restart-policy-missing`, `log-rotation-missing`.

use crate::compose::model::Service;

use super::{Context, Finding, Severity, on_service};

fn has_memory_limit(svc: &Service) -> bool {
    svc.mem_limit.is_some_and(|b| b.0 > 0)
        || svc
            .deploy
            .as_ref()
            .and_then(|d| d.resources.limits.as_ref())
            .and_then(|l| l.memory)
            .is_some_and(|b| b.0 > 0)
}

fn has_cpu_limit(svc: &Service) -> bool {
    svc.cpus > 0.0
        || svc.cpu_quota > 0
        || svc
            .deploy
            .as_ref()
            .and_then(|d| d.resources.limits.as_ref())
            .is_some_and(|l| l.cpus > 0.0)
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (name, svc) in &cx.project.services {
        let limits_at = || cx.at.attr(name, &["deploy", "resources", "limits"]);
        let missing = match (has_memory_limit(svc), has_cpu_limit(svc)) {
            (true, true) => None,
            (false, false) => Some("no memory or CPU limit"),
            (false, true) => Some("no memory limit"),
            (true, false) => Some("no CPU limit"),
        };
        if let Some(what) = missing {
            out.push(on_service(
                "resource-limits-missing",
                Severity::Warning,
                name,
                limits_at(),
                what,
                "without limits one runaway or compromised container can starve every other one on the host",
                "set deploy.resources.limits.memory and .cpus (e.g. memory: 512M, cpus: '0.5'), or mem_limit and cpus",
            ));
        }
        let has_restart = !svc.restart.is_empty()
            || svc
                .deploy
                .as_ref()
                .is_some_and(|d| d.restart_policy.is_some());
        if !has_restart && !cx.is_job(name) {
            out.push(on_service(
                "restart-policy-missing",
                Severity::Warning,
                name,
                cx.at.service(name),
                "no restart policy (restart: or deploy.restart_policy)",
                "a crash or a daemon restart leaves the service down until someone starts it by hand",
                "set `restart: unless-stopped` (one-shot jobs: `restart: \"no\"` says so explicitly)",
            ));
        }
        if let Some(message) = rotation_gap(svc) {
            out.push(on_service(
                "log-rotation-missing",
                Severity::Warning,
                name,
                cx.at.attr(name, &["logging", "options"]),
                message,
                "json-file logs grow without bound until the disk is full, unless the daemon's log-opts (daemon.json) set max-size",
                "set logging: {driver: json-file, options: {max-size: \"10m\", max-file: \"3\"}}, or use the local driver, which rotates by default",
            ));
        }
    }
}

/// What is missing for logs to rotate, for the json-file driver (Docker's
/// default). `local` rotates by default; other drivers ship logs elsewhere.
fn rotation_gap(svc: &Service) -> Option<String> {
    let (driver, options) = match &svc.logging {
        Some(l) => (l.driver.as_str(), Some(&l.options)),
        None => ("", None),
    };
    if !(driver.is_empty() || driver == "json-file") {
        return None;
    }
    if options.is_some_and(|o| o.contains_key("max-size")) {
        return None;
    }
    Some(if driver.is_empty() {
        "no log rotation (default json-file driver without max-size)".to_string()
    } else {
        "no log rotation (json-file driver without max-size)".to_string()
    })
}
