//! Project-wide checks that need the whole model: every reference resolves
//! (services, networks, volumes, secrets, configs), no dependency cycle, no
//! container name used twice, scale consistent. Errors name the service and
//! suggest the closest existing name. Must not change the project.

use super::error::{ErrorKind, LoadError, Result};
use super::graph::Graph;
use super::model::Project;
use super::suggest::did_you_mean;

fn undefined(
    project: &Project,
    kind: &str,
    service: &str,
    name: &str,
    known: Vec<&str>,
) -> LoadError {
    let hint = match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None if known.is_empty() => format!("declare it under the top-level `{kind}s:`"),
        None => format!("declared {kind}s: {}", known.join(", ")),
    };
    let attr = if kind == "volume" {
        "volumes".to_string()
    } else {
        format!("{kind}s")
    };
    located(
        project,
        &format!("services.{service}.{attr}.{name}"),
        LoadError::new(
            ErrorKind::Reference,
            format!("refers to undefined {kind} \"{name}\""),
        ),
    )
    .with_service(service)
    .with_hint(hint)
}

/// Attach the best known location of `path` to an error.
fn located(project: &Project, path: &str, mut err: LoadError) -> LoadError {
    if err.span.is_none() {
        err.span = project.meta.span(path);
    }
    err
}

/// References from services to other services and to top-level resources.
pub fn references(project: &Project) -> Result<()> {
    let services: Vec<&str> = project.services.keys().map(String::as_str).collect();
    for (name, svc) in &project.services {
        for dep in svc.depends_on.keys() {
            if !project.services.contains_key(dep) {
                let hint = did_you_mean(dep, services.iter().copied())
                    .map(|s| format!("did you mean \"{s}\"?"))
                    .unwrap_or_else(|| {
                        format!("services in this project: {}", services.join(", "))
                    });
                let err = LoadError::new(
                    ErrorKind::Reference,
                    format!("depends on undefined service \"{dep}\""),
                );
                return Err(
                    located(project, &format!("services.{name}.depends_on.{dep}"), err)
                        .with_service(name.clone())
                        .with_hint(hint),
                );
            }
        }
        for net in svc.networks.keys() {
            if net != "default" && !project.networks.contains_key(net) {
                return Err(undefined(
                    project,
                    "network",
                    name,
                    net,
                    project.networks.keys().map(String::as_str).collect(),
                ));
            }
        }
        if !svc.network_mode.is_empty() && !svc.networks.is_empty() {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                "`network_mode` and `networks` cannot be combined",
            );
            return Err(
                located(project, &format!("services.{name}.network_mode"), err)
                    .with_service(name.clone())
                    .with_hint("keep one of them"),
            );
        }
        for m in &svc.volumes {
            if m.kind == "volume"
                && !m.source.is_empty()
                && !project.volumes.contains_key(&m.source)
            {
                return Err(undefined(
                    project,
                    "volume",
                    name,
                    &m.source,
                    project.volumes.keys().map(String::as_str).collect(),
                ));
            }
        }
        for s in &svc.secrets {
            if !project.secrets.contains_key(&s.source) {
                return Err(undefined(
                    project,
                    "secret",
                    name,
                    &s.source,
                    project.secrets.keys().map(String::as_str).collect(),
                ));
            }
        }
        for c in &svc.configs {
            if !project.configs.contains_key(&c.source) {
                return Err(undefined(
                    project,
                    "config",
                    name,
                    &c.source,
                    project.configs.keys().map(String::as_str).collect(),
                ));
            }
        }
        if let (Some(scale), Some(replicas)) =
            (svc.scale, svc.deploy.as_ref().and_then(|d| d.replicas))
            && scale != replicas
        {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                format!(
                    "can't set distinct values on 'scale' ({scale}) and 'deploy.replicas' ({replicas})"
                ),
            );
            return Err(
                located(project, &format!("services.{name}.scale"), err).with_service(name.clone())
            );
        }
        if let (Some(limit), Some(deploy)) = (svc.mem_limit, svc.deploy.as_ref())
            && let Some(mem) = deploy.resources.limits.as_ref().and_then(|l| l.memory)
            && mem != limit
        {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                "can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'",
            );
            return Err(located(project, &format!("services.{name}.mem_limit"), err)
                .with_service(name.clone()));
        }
        if let (Some(res), Some(deploy)) = (svc.mem_reservation, svc.deploy.as_ref())
            && let Some(mem) = deploy
                .resources
                .reservations
                .as_ref()
                .and_then(|l| l.memory)
            && mem != res
        {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                "can't set distinct values on 'mem_reservation' and 'deploy.resources.reservations.memory'",
            );
            return Err(
                located(project, &format!("services.{name}.mem_reservation"), err)
                    .with_service(name.clone()),
            );
        }
        if svc.cpus != 0.0
            && let Some(cpus) = svc
                .deploy
                .as_ref()
                .and_then(|d| d.resources.limits.as_ref())
                .map(|l| l.cpus)
            && cpus != 0.0
            && (cpus - svc.cpus).abs() > 1e-9
        {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                "can't set distinct values on 'cpus' and 'deploy.resources.limits.cpus'",
            );
            return Err(
                located(project, &format!("services.{name}.cpus"), err).with_service(name.clone())
            );
        }
    }
    Ok(())
}

/// Compose's schema pattern for pull_policy, which is not anchored: a value
/// is valid when it contains one of the alternatives.
/// `always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+`
fn valid_pull_policy(p: &str) -> bool {
    let words = [
        "always",
        "never",
        "build",
        "if_not_present",
        "missing",
        "refresh",
        "daily",
        "weekly",
    ];
    words.iter().any(|w| p.contains(w))
        || p.match_indices("every_").any(|(i, _)| {
            let rest = &p.as_bytes()[i + "every_".len()..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && rest.get(digits).is_some_and(|u| b"wdhms".contains(u))
        })
}

fn pull_policies(project: &Project) -> Result<()> {
    for (name, svc) in &project.services {
        if !svc.pull_policy.is_empty() && !valid_pull_policy(&svc.pull_policy) {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                format!("pull_policy \"{}\" is not valid", svc.pull_policy),
            );
            return Err(
                located(project, &format!("services.{name}.pull_policy"), err)
                    .with_service(name.clone())
                    .with_hint("use always, never, missing, if_not_present, build, refresh, daily, weekly or every_<duration> (e.g. every_12h)"),
            );
        }
    }
    Ok(())
}

/// Checks on the finished project.
pub fn validate(project: &Project) -> Result<()> {
    pull_policies(project)?;
    let mut graph = Graph::new();
    for (name, svc) in &project.services {
        graph.add_node(name);
        for dep in svc.depends_on.keys() {
            graph.add_edge(name, dep);
        }
    }
    if let Some(cycle) = graph.find_cycle() {
        let first = format!(
            "services.{}.depends_on.{}",
            cycle.path[0],
            cycle.path.get(1).cloned().unwrap_or_default()
        );
        let err = LoadError::new(
            ErrorKind::Cycle,
            format!("dependency cycle detected: {}", cycle.path.join(" -> ")),
        );
        return Err(located(project, &first, err).with_hint("remove one of these depends_on (or links, network_mode: service:, volumes_from) entries"));
    }
    let mut names: std::collections::BTreeMap<&str, &str> = Default::default();
    for (name, svc) in &project.services {
        if svc.container_name.is_empty() {
            continue;
        }
        let at = format!("services.{name}.container_name");
        if svc.replicas() > 1 {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                format!(
                    "container_name \"{}\" is set, so the service cannot run {} replicas",
                    svc.container_name,
                    svc.replicas()
                ),
            );
            return Err(located(project, &at, err)
                .with_service(name.clone())
                .with_hint("remove container_name, or scale to 1"));
        }
        if let Some(other) = names.insert(&svc.container_name, name) {
            let err = LoadError::new(
                ErrorKind::InvalidValue,
                format!(
                    "container_name \"{}\" is also used by service \"{other}\"",
                    svc.container_name
                ),
            );
            return Err(located(project, &at, err).with_service(name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod pull_policy_tests {
    use super::valid_pull_policy;

    #[test]
    fn pull_policy_values_follow_compose_schema() {
        for ok in [
            "always",
            "never",
            "missing",
            "if_not_present",
            "build",
            "refresh",
            "daily",
            "weekly",
            "every_12h",
            "every_1d30m",
        ] {
            assert!(valid_pull_policy(ok), "{ok}");
        }
        for bad in ["sometimes", "every_", "every_h", "every_12", "ALWAYS"] {
            assert!(!valid_pull_policy(bad), "{bad}");
        }
    }
}
