//! Profiles: which services are active (`--profile`, `COMPOSE_PROFILES`,
//! services named on the command line), and the error when an active service
//! needs a disabled one.

use std::collections::BTreeSet;

use super::discover::{Environment, LoadOptions};
use super::error::{ErrorKind, LoadError, Result};
use super::model::Project;

pub fn active(opts: &LoadOptions, env: &Environment) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    if out.is_empty()
        && let Some(list) = env.get("COMPOSE_PROFILES")
    {
        out.extend(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }
    out
}

/// Drop services whose profiles are all inactive. A service named explicitly
/// (`aistack up debug`) is enabled whatever its profiles, as in Compose.
pub fn apply(project: &mut Project, active: &BTreeSet<String>, named: &[String]) -> Result<()> {
    let all = active.contains("*");
    let enabled = |name: &str, profiles: &[String]| {
        profiles.is_empty()
            || all
            || profiles.iter().any(|p| active.contains(p))
            || named.iter().any(|n| n == name)
    };
    let disabled: Vec<String> = project
        .services
        .iter()
        .filter(|(n, s)| !enabled(n, &s.profiles))
        .map(|(n, _)| n.clone())
        .collect();
    for name in disabled {
        if let Some(svc) = project.services.remove(&name) {
            project
                .meta
                .disabled_services
                .insert(name, svc.profiles.clone());
        }
    }
    project.meta.active_profiles = active.iter().cloned().collect();
    // A required dependency on a disabled service is an error that names the
    // profile; an optional one (`required: false`) is dropped, as Compose does.
    for (name, svc) in project.services.iter_mut() {
        let mut missing = Vec::new();
        for (dep, d) in &svc.depends_on {
            if let Some(profiles) = project.meta.disabled_services.get(dep) {
                if d.required {
                    let span = project
                        .meta
                        .span(&format!("services.{name}.depends_on.{dep}"));
                    return Err(LoadError { span, ..LoadError::new(
                        ErrorKind::Reference,
                        format!(
                            "depends on service \"{dep}\", which is only enabled with profile {}",
                            profiles.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(" or ")
                        ),
                    )
                    }
                    .with_service(name.clone())
                    .with_hint(format!("run with --profile {}, or mark the dependency `required: false`", profiles[0])));
                }
                missing.push(dep.clone());
            }
        }
        for dep in missing {
            svc.depends_on.remove(&dep);
        }
    }
    Ok(())
}
