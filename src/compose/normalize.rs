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
use super::node::Span;
use super::text::{self, TextError};
use super::validate;

/// What folding env files and resolving `environment: [NAME]` / `args: [NAME]`
/// may copy into the services of one project, all together: 64 MiB. Each
/// service gets its own copy, so one large variable or env file named by
/// thousands of services (cheap to write with a YAML alias) would otherwise
/// multiply; real values are far smaller (Linux caps one at 128 KiB).
const MAX_COPIED_BYTES: usize = 64 * 1024 * 1024;

/// The bytes `MAX_COPIED_BYTES` still allows.
struct Copies(usize);

impl Copies {
    /// Charge `bytes` copied from `source` (an env file, a variable).
    fn take(&mut self, bytes: usize, source: &dyn std::fmt::Display) -> Result<()> {
        self.0 = self.0.checked_sub(bytes).ok_or_else(|| {
            LoadError::new(
                ErrorKind::InvalidValue,
                format!(
                    "{source}: env files and environment values copied into the services add up to more than {} MiB",
                    MAX_COPIED_BYTES / (1024 * 1024)
                ),
            )
            .with_hint("a variable or env file with a huge value, used by many services?")
        })?;
        Ok(())
    }
}

/// Per-service normalization that depends on the project directory (so an
/// included project does it against its own directory before joining).
pub fn services(project: &mut Project, env: &Environment) -> Result<()> {
    let dir = project.meta.working_dir.clone();
    let home = env.get("HOME").map(str::to_string);
    let mut copies = Copies(MAX_COPIED_BYTES);
    for (name, svc) in project.services.iter_mut() {
        fold_env_files(svc, &dir, env, &mut copies).map_err(|e| e.with_service(name.clone()))?;
        // `environment: [NAME]` takes NAME from the project environment when set.
        let unresolved: Vec<String> = svc
            .environment
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for k in unresolved {
            if let Some(v) = env.get(&k) {
                copies
                    .take(v.len(), &format_args!("variable {k}"))
                    .map_err(|e| e.with_service(name.clone()))?;
                svc.environment.insert(k, Some(v.to_string()));
            }
        }
        if svc.networks.is_empty() && svc.network_mode.is_empty() {
            svc.networks.insert("default".to_string(), None);
        }
        if let Some(build) = &mut svc.build {
            normalize_build(build, &dir);
            // `args: [NAME]` takes NAME from the environment, or is dropped when unset.
            let mut args = BTreeMap::new();
            for (k, v) in std::mem::take(&mut build.args) {
                let v = match v {
                    Some(v) => v,
                    None => match env.get(&k) {
                        Some(v) => {
                            copies
                                .take(v.len(), &format_args!("variable {k}"))
                                .map_err(|e| e.with_service(name.clone()))?;
                            v.to_string()
                        }
                        None => continue,
                    },
                };
                args.insert(k, Some(v));
            }
            build.args = args;
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

fn fold_env_files(
    svc: &mut Service,
    dir: &Path,
    env: &Environment,
    copies: &mut Copies,
) -> Result<()> {
    if svc.env_file.is_empty() {
        return Ok(());
    }
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for f in std::mem::take(&mut svc.env_file) {
        let path = discover::absolute(dir, Path::new(&f.path));
        let text = match text::read_file(&path, text::Kind::EnvFile) {
            Ok(t) => t,
            Err(TextError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound && !f.required => {
                continue;
            }
            Err(TextError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::new(
                    ErrorKind::Io,
                    format!("env file {} not found", path.display()),
                )
                .with_hint("create it, or mark it optional with `required: false`"));
            }
            Err(e) => return Err(e.into_load_error(&path.display().to_string())),
        };
        // Reading counts (one file named by every service is read by each),
        // and so do the values folded in, which interpolation may make larger.
        copies.take(text.len(), &path.display())?;
        let lookup = |k: &str| {
            from_files
                .get(k)
                .cloned()
                .or_else(|| env.get(k).map(str::to_string))
        };
        let pairs = dotenv::parse(&text, &lookup).map_err(|e| {
            LoadError::new(ErrorKind::InvalidValue, format!("{}: {e}", path.display()))
        })?;
        copies.take(
            pairs.iter().map(|(k, v)| k.len() + v.len()).sum(),
            &path.display(),
        )?;
        from_files.extend(pairs);
    }
    // `environment:` wins over `env_file:` (Compose's documented precedence).
    for (k, v) in from_files {
        if let std::collections::btree_map::Entry::Vacant(e) = svc.environment.entry(k) {
            svc.env_file_vars.insert(e.key().clone());
            e.insert(Some(v));
        }
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
    // Top-level entries keep no location; the first file at least says where.
    let file = project
        .meta
        .config_files
        .first()
        .map(|f| f.display().to_string());
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
                        let mut err = LoadError::new(
                            ErrorKind::Reference,
                            format!(
                                "{kind} \"{key}\" takes its value from environment variable {}, which is not set",
                                obj.environment
                            ),
                        )
                        .with_hint(format!("set {} in the environment or in .env", obj.environment));
                        err.span = file.as_deref().map(|f| Span::new(f.into(), 0, 0));
                        return Err(err);
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
