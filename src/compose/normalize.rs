//! Normalization after typing, as compose-go does it before printing a
//! project: env files folded into `environment`, names given to networks,
//! volumes, secrets and configs, the implicit `default` network, implicit
//! dependencies (`links`, `network_mode: service:x`, `volumes_from`), relative
//! paths made absolute, unused top-level resources dropped. References are
//! checked by `validate` first, so this file may assume they resolve.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::discover::{self, Environment};
use super::dotenv;
use super::error::{ErrorKind, LoadError, Result};
use super::model::{Build, Condition, Dependency, Network, Project, Service};
use super::validate;

/// Per-service normalization that depends on the project directory (so an
/// included project does it against its own directory before joining).
pub fn services(project: &mut Project, env: &Environment) -> Result<()> {
    let dir = project.meta.working_dir.clone();
    let home = env.get("HOME").map(str::to_string);
    for (name, svc) in project.services.iter_mut() {
        fold_env_files(svc, &dir, env).map_err(|e| e.with_service(name.clone()))?;
        // `environment: [NAME]` takes NAME from the project environment when set.
        let unresolved: Vec<String> = svc
            .environment
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for k in unresolved {
            if let Some(v) = env.get(&k) {
                svc.environment.insert(k, Some(v.to_string()));
            }
        }
        if svc.networks.is_empty() && svc.network_mode.is_empty() {
            svc.networks.insert("default".to_string(), None);
        }
        if let Some(build) = &mut svc.build {
            normalize_build(build, &dir);
            // `args: [NAME]` takes NAME from the environment, or is dropped when unset.
            build.args = std::mem::take(&mut build.args)
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Some(v) => Some((k, Some(v))),
                    None => env.get(&k).map(|v| (k, Some(v.to_string()))),
                })
                .collect();
        }
        // Compose keeps extra_hosts as a map and prints it sorted.
        svc.extra_hosts.sort();
        for m in &mut svc.volumes {
            if m.kind == "bind" && !m.source.is_empty() {
                m.source = resolve_host_path(&m.source, &dir, home.as_deref());
            }
        }
        for s in &mut svc.secrets {
            if s.target.is_empty() {
                s.target = format!("/run/secrets/{}", s.source);
            }
        }
        add_implicit_dependencies(svc);
    }
    for objects in [&mut project.secrets, &mut project.configs] {
        for obj in objects.values_mut() {
            if !obj.file.is_empty() {
                obj.file = resolve_host_path(&obj.file, &dir, home.as_deref());
            }
        }
    }
    Ok(())
}

/// Project-wide normalization, once every file and include is in.
pub fn finish(project: &mut Project, env: &Environment) -> Result<()> {
    validate::references(project)?;
    name_resources(project, env)?;
    prune_unused(project);
    Ok(())
}

fn fold_env_files(svc: &mut Service, dir: &Path, env: &Environment) -> Result<()> {
    if svc.env_file.is_empty() {
        return Ok(());
    }
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for f in std::mem::take(&mut svc.env_file) {
        let path = discover::absolute(dir, Path::new(&f.path));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !f.required => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::new(
                    ErrorKind::Io,
                    format!("env file {} not found", path.display()),
                )
                .with_hint("create it, or mark it optional with `required: false`"));
            }
            Err(e) => {
                return Err(LoadError::new(
                    ErrorKind::Io,
                    format!("{}: {e}", path.display()),
                ));
            }
        };
        let lookup = |k: &str| {
            from_files
                .get(k)
                .cloned()
                .or_else(|| env.get(k).map(str::to_string))
        };
        let pairs = dotenv::parse(&text, &lookup).map_err(|e| {
            LoadError::new(ErrorKind::InvalidValue, format!("{}: {e}", path.display()))
        })?;
        from_files.extend(pairs);
    }
    // `environment:` wins over `env_file:` (Compose's documented precedence).
    for (k, v) in from_files {
        svc.environment.entry(k).or_insert(Some(v));
    }
    Ok(())
}

fn normalize_build(build: &mut Build, dir: &Path) {
    let ctx = if build.context.is_empty() {
        "."
    } else {
        build.context.as_str()
    };
    if !is_remote_context(ctx) {
        build.context = discover::absolute(dir, Path::new(ctx))
            .display()
            .to_string();
    }
    if build.dockerfile.is_empty() && build.dockerfile_inline.is_empty() {
        build.dockerfile = "Dockerfile".to_string();
    }
}

fn is_remote_context(ctx: &str) -> bool {
    ["http://", "https://", "git://", "git@", "github.com/"]
        .iter()
        .any(|p| ctx.starts_with(p))
}

/// Bind sources: `~` is the home directory, relative paths are relative to the
/// project directory.
pub fn resolve_host_path(source: &str, dir: &Path, home: Option<&str>) -> String {
    if let Some(rest) = source.strip_prefix('~')
        && (rest.is_empty() || rest.starts_with('/'))
        && let Some(h) = home
    {
        return format!("{h}{rest}");
    }
    discover::absolute(dir, Path::new(source))
        .display()
        .to_string()
}

fn add_implicit_dependencies(svc: &mut Service) {
    let mut implicit: Vec<(String, bool)> = Vec::new();
    for link in &svc.links {
        let target = link.split(':').next().unwrap_or(link);
        implicit.push((target.to_string(), true));
    }
    if let Some(target) = svc.network_mode.strip_prefix("service:") {
        implicit.push((target.to_string(), true));
    }
    for from in &svc.volumes_from {
        if from.starts_with("container:") {
            continue;
        }
        let target = from.split(':').next().unwrap_or(from);
        implicit.push((target.to_string(), false));
    }
    for (target, restart) in implicit {
        svc.depends_on.entry(target).or_insert(Dependency {
            condition: Condition::ServiceStarted,
            restart,
            required: true,
        });
    }
}

fn name_resources(project: &mut Project, env: &Environment) -> Result<()> {
    let p = project.name.clone();
    let uses_default = project
        .services
        .values()
        .any(|s| s.networks.contains_key("default"));
    if uses_default && !project.networks.contains_key("default") {
        project
            .networks
            .insert("default".to_string(), Network::default());
    }
    for (key, net) in project.networks.iter_mut() {
        if net.name.is_empty() {
            net.name = if net.external {
                key.clone()
            } else {
                format!("{p}_{key}")
            };
        }
    }
    for (key, vol) in project.volumes.iter_mut() {
        if vol.name.is_empty() {
            vol.name = if vol.external {
                key.clone()
            } else {
                format!("{p}_{key}")
            };
        }
    }
    for (kind, objects) in [
        ("secret", &mut project.secrets),
        ("config", &mut project.configs),
    ] {
        for (key, obj) in objects.iter_mut() {
            if obj.name.is_empty() {
                obj.name = if obj.external {
                    key.clone()
                } else {
                    format!("{p}_{key}")
                };
            }
            if !obj.environment.is_empty() {
                match env.get(&obj.environment) {
                    Some(v) => obj.value = Some(v.to_string()),
                    None => {
                        return Err(LoadError::new(
                            ErrorKind::Reference,
                            format!(
                                "{kind} \"{key}\" takes its value from environment variable {}, which is not set",
                                obj.environment
                            ),
                        )
                        .with_hint(format!("set {} in the environment or in .env", obj.environment)));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Compose prints (and creates) only the networks, volumes, secrets and
/// configs some enabled service uses.
fn prune_unused(project: &mut Project) {
    let mut nets = BTreeSet::new();
    let mut vols = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    let mut configs = BTreeSet::new();
    for svc in project.services.values() {
        nets.extend(svc.networks.keys().cloned());
        for m in &svc.volumes {
            if m.kind == "volume" && !m.source.is_empty() {
                vols.insert(m.source.clone());
            }
        }
        secrets.extend(svc.secrets.iter().map(|s| s.source.clone()));
        configs.extend(svc.configs.iter().map(|s| s.source.clone()));
    }
    project.networks.retain(|k, _| nets.contains(k));
    project.volumes.retain(|k, _| vols.contains(k));
    project.secrets.retain(|k, _| secrets.contains(k));
    project.configs.retain(|k, _| configs.contains(k));
}
