//! Which images a command builds or pulls: `aistack build`, `aistack pull`,
//! and what `up` needs before it plans (`--build`, `--no-build`, and each
//! service's `pull_policy`, applied as Compose applies them).
//!
//! Owns: grouping services that share an image (built or pulled once, a
//! build winning over a pull), the pull_policy rules, and each build's
//! request (context directory, Dockerfile, args, labels, extra tags). Must
//! not: touch the engine or the file system; the caller says which images
//! exist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::compose::model::{Build, Project, Service};
use crate::engine::types::BuildSpec;

use super::context::Dockerfile;

/// What `up` does about images before it plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagesMode {
    /// `up --build`: build every service that has `build:`.
    Build,
    /// `up`: build or pull only what is absent, honouring pull_policy.
    Missing,
    /// `up --no-build`: never build.
    NoBuild,
}

impl ImagesMode {
    /// From `up --build` / `up --no-build` (clap keeps them exclusive).
    pub fn from_flags(build: bool, no_build: bool) -> ImagesMode {
        match (build, no_build) {
            (true, _) => ImagesMode::Build,
            (false, true) => ImagesMode::NoBuild,
            (false, false) => ImagesMode::Missing,
        }
    }
}

/// Command-line settings that apply to every build (`aistack build` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOverrides {
    pub no_cache: bool,
    pub pull: bool,
    /// `--build-arg`: added to (and overriding) each service's `build.args`.
    pub args: BTreeMap<String, String>,
}

/// One build: where the context is and what to ask the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildJob {
    pub context: PathBuf,
    pub dockerfile: Dockerfile,
    /// `dockerfile` is filled in once the context tar names it.
    pub spec: BuildSpec,
    /// `build.tags`: extra names given to the built image.
    pub tags: Vec<String>,
}

/// What to do when a pull fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPullFailure {
    /// The command fails.
    Fail,
    /// Say so and go on (the image can be built, or is there already).
    Warn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Build(Box<BuildJob>),
    Pull {
        on_failure: OnPullFailure,
        /// A local copy exists (pull_policy always, or `aistack pull`).
        present: bool,
    },
    /// Pull, and build if the pull fails (a service with both `image` and
    /// `build` whose image is absent, as Compose does).
    PullOrBuild(Box<BuildJob>),
}

/// One image and the services that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub image: String,
    /// Sorted; the first names the job in output (for builds: the service
    /// whose `build:` is used).
    pub services: Vec<String>,
    pub platform: Option<String>,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("no such service: {0}")]
    NoSuchService(String),
    #[error(
        "service \"{service}\": image \"{image}\" is not present locally and its pull_policy is never; build or load it first (`docker load`, `docker build -t {image} ...`)"
    )]
    NeverPulled { service: String, image: String },
    #[error("service \"{service}\": pull_policy is build, but the service has no build section")]
    BuildPolicyWithoutBuild { service: String },
    #[error(
        "service \"{service}\": build context \"{context}\" is remote; aistack builds from a local directory only"
    )]
    RemoteContext { service: String, context: String },
    #[error(
        "service \"{service}\": build.extra_hosts has {count} entries; aistack can pass only one to the classic builder"
    )]
    TooManyExtraHosts { service: String, count: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Unset: pull when absent (`up`), always (`aistack pull`).
    Default,
    Missing,
    Always,
    Never,
    Build,
    /// `daily`, `weekly`, `every_<d>`, `refresh`: aistack cannot tell an
    /// image's age, so these pull when the image is absent.
    Refresh,
}

fn policy(svc: &Service) -> Policy {
    match svc.pull_policy.as_str() {
        "" => Policy::Default,
        "missing" | "if_not_present" => Policy::Missing,
        "always" => Policy::Always,
        "never" => Policy::Never,
        "build" => Policy::Build,
        _ => Policy::Refresh,
    }
}

/// The selected services grouped by the image they run, sorted.
fn groups<'a>(
    project: &'a Project,
    selected: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Vec<&'a str>> {
    let mut out: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in selected {
        if let Some(svc) = project.services.get(name) {
            out.entry(svc.image_name(&project.name, name))
                .or_default()
                .push(name);
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    out
}

fn is_present(present: &BTreeSet<String>, image: &str) -> bool {
    present.contains(image) || present.contains(&format!("{image}:latest"))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn is_remote(context: &str) -> bool {
    context.contains("://")
        || ["git@", "github.com/"]
            .iter()
            .any(|p| context.starts_with(p))
}

/// The build request of service `name` for `image`.
pub fn build_job(
    project: &Project,
    name: &str,
    build: &Build,
    image: &str,
    overrides: &BuildOverrides,
) -> Result<BuildJob, JobError> {
    let svc = &project.services[name];
    if is_remote(&build.context) {
        return Err(JobError::RemoteContext {
            service: name.to_string(),
            context: build.context.clone(),
        });
    }
    if build.extra_hosts.len() > 1 {
        return Err(JobError::TooManyExtraHosts {
            service: name.to_string(),
            count: build.extra_hosts.len(),
        });
    }
    let context = PathBuf::from(&build.context);
    let dockerfile =
        Dockerfile::from_compose(&context, &build.dockerfile, &build.dockerfile_inline);
    let mut args: BTreeMap<String, String> = build
        .args
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
        .collect();
    args.extend(overrides.args.clone());
    // Only the user's labels: Compose's classic builder adds no project
    // labels either, and the classic builder turns each label into a step.
    let spec = BuildSpec {
        tag: image.to_string(),
        dockerfile: String::new(),
        args,
        labels: build.labels.clone(),
        target: non_empty(&build.target),
        network: non_empty(&build.network),
        no_cache: build.no_cache || overrides.no_cache,
        pull: build.pull || overrides.pull,
        cache_from: build.cache_from.clone(),
        extra_hosts: build
            .extra_hosts
            .iter()
            .map(|h| h.replacen('=', ":", 1))
            .collect(),
        shm_size: build.shm_size.map(|b| b.0),
        platform: non_empty(&svc.platform),
    };
    Ok(BuildJob {
        context,
        dockerfile,
        spec,
        tags: build.tags.clone(),
    })
}

/// The first service of `services` that has `build:`.
fn builder<'a>(project: &'a Project, services: &[&'a str]) -> Option<(&'a str, &'a Build)> {
    services
        .iter()
        .find_map(|s| Some((*s, project.services[*s].build.as_ref()?)))
}

fn job(project: &Project, image: &str, services: &[&str], step: Step) -> Job {
    let first = services[0];
    Job {
        image: image.to_string(),
        services: services.iter().map(|s| s.to_string()).collect(),
        platform: non_empty(&project.services[first].platform),
        step,
    }
}

/// What `up` needs for `selected` (names already checked, dependencies
/// included), given the images that exist.
pub fn for_up(
    project: &Project,
    selected: &BTreeSet<String>,
    present: &BTreeSet<String>,
    mode: ImagesMode,
) -> Result<Vec<Job>, JobError> {
    let mut out = Vec::new();
    for (image, services) in groups(project, selected) {
        let here = is_present(present, &image);
        if let Some((name, build)) = builder(project, &services) {
            let svc = &project.services[name];
            // A default image name (`<project>-<service>`) exists only here.
            let named = !svc.image.is_empty();
            let pol = policy(svc);
            let make = || -> Result<Box<BuildJob>, JobError> {
                Ok(Box::new(build_job(
                    project,
                    name,
                    build,
                    &image,
                    &BuildOverrides::default(),
                )?))
            };
            let warn_pull = Step::Pull {
                on_failure: OnPullFailure::Warn,
                present: here,
            };
            let mut ordered = vec![name];
            ordered.extend(services.iter().filter(|s| **s != name));
            let step = match mode {
                ImagesMode::Build => Some(Step::Build(make()?)),
                ImagesMode::Missing => match (here, pol) {
                    (_, Policy::Build) => Some(Step::Build(make()?)),
                    (true, Policy::Always) if named => Some(warn_pull),
                    (true, _) => None,
                    (false, Policy::Never) => Some(Step::Build(make()?)),
                    (false, _) if named => Some(Step::PullOrBuild(make()?)),
                    (false, _) => Some(Step::Build(make()?)),
                },
                ImagesMode::NoBuild => match (here, pol) {
                    (false, Policy::Never | Policy::Build) => None,
                    (false, _) | (true, Policy::Always) if named => Some(warn_pull),
                    _ => None,
                },
            };
            if let Some(step) = step {
                out.push(job(project, &image, &ordered, step));
            }
            continue;
        }
        let mut pull = false;
        for s in &services {
            match policy(&project.services[*s]) {
                Policy::Build => {
                    return Err(JobError::BuildPolicyWithoutBuild {
                        service: s.to_string(),
                    });
                }
                Policy::Always => pull = true,
                Policy::Never if !here => {
                    return Err(JobError::NeverPulled {
                        service: s.to_string(),
                        image,
                    });
                }
                Policy::Never => {}
                Policy::Default | Policy::Missing | Policy::Refresh => pull |= !here,
            }
        }
        if pull {
            let step = Step::Pull {
                on_failure: OnPullFailure::Fail,
                present: here,
            };
            out.push(job(project, &image, &services, step));
        }
    }
    Ok(out)
}

fn check_names(project: &Project, names: &[String]) -> Result<(), JobError> {
    match names.iter().find(|n| !project.services.contains_key(*n)) {
        Some(n) => Err(JobError::NoSuchService(n.clone())),
        None => Ok(()),
    }
}

/// `aistack build [SERVICE...]`: every selected service with `build:`
/// (all services when none are named), each image once. Also returns the
/// named services that have nothing to build.
pub fn for_build(
    project: &Project,
    names: &[String],
    overrides: &BuildOverrides,
) -> Result<(Vec<Job>, Vec<String>), JobError> {
    check_names(project, names)?;
    let selected: Vec<String> = if names.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        names.to_vec()
    };
    let with_build: Vec<String> = selected
        .iter()
        .filter(|s| project.services[*s].build.is_some())
        .cloned()
        .collect();
    let without: Vec<String> = names
        .iter()
        .filter(|s| project.services[*s].build.is_none())
        .cloned()
        .collect();
    let mut out = Vec::new();
    for (image, services) in groups(project, &with_build) {
        if let Some((name, build)) = builder(project, &services) {
            let job_ = build_job(project, name, build, &image, overrides)?;
            out.push(job(project, &image, &services, Step::Build(Box::new(job_))));
        }
    }
    Ok((out, without))
}

/// Why `aistack pull` leaves a service out (Compose's "Skipped - ..." notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub service: String,
    pub reason: String,
}

/// `aistack pull [SERVICE...]`, as `docker compose pull` decides: services
/// without `image` are skipped, as are pull_policy never/build, and
/// missing/if_not_present when the image exists; a failed pull of a
/// buildable image is a warning. `ignore_buildable` skips those entirely.
pub fn for_pull(
    project: &Project,
    names: &[String],
    present: &BTreeSet<String>,
    ignore_buildable: bool,
) -> Result<(Vec<Job>, Vec<Skipped>), JobError> {
    check_names(project, names)?;
    let selected: Vec<&String> = if names.is_empty() {
        project.services.keys().collect()
    } else {
        names.iter().collect()
    };
    let mut skipped = Vec::new();
    let mut wanted: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in selected {
        let svc = &project.services[name];
        let skip = |reason: &str| Skipped {
            service: name.clone(),
            reason: reason.to_string(),
        };
        let here = is_present(present, &svc.image);
        match policy(svc) {
            _ if svc.image.is_empty() => skipped.push(skip("no image to be pulled")),
            Policy::Never => skipped.push(skip("pull_policy is never")),
            Policy::Build => skipped.push(skip("pull_policy is build")),
            Policy::Missing if here => skipped.push(skip("image is already present locally")),
            _ if svc.build.is_some() && ignore_buildable => {
                skipped.push(skip("image can be built"))
            }
            _ => wanted.entry(svc.image.clone()).or_default().push(name),
        }
    }
    let mut out = Vec::new();
    for (image, mut services) in wanted {
        services.sort();
        services.dedup();
        let buildable = services
            .iter()
            .any(|s| project.services[*s].build.is_some());
        let step = Step::Pull {
            on_failure: if buildable {
                OnPullFailure::Warn
            } else {
                OnPullFailure::Fail
            },
            present: is_present(present, &image),
        };
        out.push(job(project, &image, &services, step));
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests;
