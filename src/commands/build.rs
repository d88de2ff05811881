//! `aistack build`, `aistack pull`, and `ensure_images`, which `up` calls
//! before it observes the engine: build or pull what the stack needs
//! (`--build`, `--no-build`, pull_policy), so a failed build creates nothing.
//!
//! Owns: turning arguments into jobs (`build::jobs`), running them
//! (`apply::images`, two at a time) and reporting failures (exit 1). Must
//! not: decide what to build (that is `build::jobs`) or format output lines
//! (that is `report::build`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use futures_util::{StreamExt, TryStreamExt};

use crate::apply::images::{self, ImageFailure};
pub use crate::build::jobs::ImagesMode;
use crate::build::jobs::{self, BuildOverrides, Job, JobError};
use crate::cli::{BuildArgs, ProjectArgs, PullArgs};
use crate::compose::Project;
use crate::engine::Engine;
use crate::exit::{Exit, ExitError};
use crate::report::build::{self as out, ImageOutput};

/// Builds and pulls at once: the daemon does the work, and two builds
/// already keep a 2-core machine busy.
const IMAGE_JOBS: usize = 2;

fn job_error(e: JobError) -> anyhow::Error {
    ExitError::new(Exit::Failure, e.to_string()).into()
}

/// Every failure on its own line, then exit 1.
fn finish(failures: &[ImageFailure]) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    for f in failures {
        eprintln!("error: {}", out::failure(f));
    }
    Err(
        anyhow::Error::new(ExitError::new(Exit::Failure, "image jobs failed"))
            .context(crate::REPORTED),
    )
}

/// Which of `images` exist locally.
async fn present<E: Engine>(
    engine: &E,
    images: impl IntoIterator<Item = String>,
) -> Result<BTreeSet<String>> {
    let wanted: BTreeSet<String> = images.into_iter().filter(|i| !i.is_empty()).collect();
    let found: Vec<Option<String>> = futures_util::stream::iter(wanted)
        .map(|image| async move {
            let here = engine.image_exists(&image).await?;
            Ok::<_, crate::engine::EngineError>(here.then_some(image))
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The services the jobs' output may name (for alignment and colours).
fn names(jobs: &[Job]) -> Vec<String> {
    let mut names: Vec<String> = jobs.iter().flat_map(|j| j.services.clone()).collect();
    names.sort();
    names.dedup();
    names
}

async fn run_jobs<E: Engine>(engine: &E, jobs: Vec<Job>, sink: ImageOutput) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let failures = images::run(engine, jobs, IMAGE_JOBS, &sink).await;
    finish(&failures)
}

/// Makes sure the images of `services` (all when empty; dependencies
/// included) are there before `up` plans: builds what `mode` asks for and
/// pulls per pull_policy. Services without `build:` whose image is still
/// missing afterwards are left to the plan's "not present locally" check.
pub async fn ensure_images<E: Engine>(
    engine: &E,
    project: &Project,
    services: &[String],
    mode: ImagesMode,
) -> Result<()> {
    ensure_images_quietly(engine, project, services, mode, false).await
}

/// `ensure_images`; `quiet` (`up --progress quiet`) shows only warnings and errors.
pub async fn ensure_images_quietly<E: Engine>(
    engine: &E,
    project: &Project,
    services: &[String],
    mode: ImagesMode,
    quiet: bool,
) -> Result<()> {
    if let Some(unknown) = services.iter().find(|s| !project.services.contains_key(*s)) {
        return Err(job_error(JobError::NoSuchService(unknown.clone())));
    }
    let selected: BTreeSet<String> = if services.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        crate::compose::load::with_dependencies(project, services)
    };
    let images = selected
        .iter()
        .map(|s| project.services[s].image_name(&project.name, s));
    let present = present(engine, images).await?;
    let jobs = jobs::for_up(project, &selected, &present, mode).map_err(job_error)?;
    let sink = ImageOutput::new(names(&jobs), quiet).without_pull_notices();
    run_jobs(engine, jobs, sink).await
}

/// `--build-arg KEY=VALUE`, or `KEY` to take the value from the environment
/// (dropped when unset, as Compose does).
fn build_args(raw: &[String]) -> BTreeMap<String, String> {
    raw.iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            None => std::env::var(a).ok().map(|v| (a.clone(), v)),
        })
        .collect()
}

pub fn build(p: &ProjectArgs, args: BuildArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.services = args.services.clone();
    let project = super::load(&opts)?.project;
    let overrides = BuildOverrides {
        no_cache: args.no_cache,
        pull: args.pull,
        args: build_args(&args.build_args),
    };
    let (jobs, without) =
        jobs::for_build(&project, &args.services, &overrides).map_err(job_error)?;
    if !args.quiet {
        for s in &without {
            eprintln!("note: service \"{s}\" has no build section; nothing to build");
        }
    }
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let sink = ImageOutput::new(names(&jobs), args.quiet);
        run_jobs(&engine, jobs, sink).await
    })
}

pub fn pull(p: &ProjectArgs, args: PullArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.services = args.services.clone();
    let project = super::load(&opts)?.project;
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let images = project.services.values().map(|s| s.image.clone());
        let present = present(&engine, images).await?;
        let (mut jobs, skipped) =
            jobs::for_pull(&project, &args.services, &present, args.ignore_buildable)
                .map_err(job_error)?;
        if !args.quiet {
            for s in &skipped {
                eprintln!("skipped {}: {}", s.service, s.reason);
            }
        }
        if args.ignore_pull_failures {
            for j in &mut jobs {
                if let jobs::Step::Pull { on_failure, .. } = &mut j.step {
                    *on_failure = jobs::OnPullFailure::Warn;
                }
            }
        }
        let sink = ImageOutput::new(names(&jobs), args.quiet);
        run_jobs(&engine, jobs, sink).await
    })
}
