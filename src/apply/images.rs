//! Running image jobs (build, pull, extra tags) against any `Engine`, a
//! bounded number at a time, with every output line handed to an
//! `ImageSink`. Makes no decisions: the jobs come from `build::jobs`. The
//! first failure stops jobs that have not started; running ones finish.
//!
//! Must not: print (that is `report::build`) or choose what to build.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use crate::build::context::{self, Dockerfile};
use crate::build::jobs::{BuildJob, Job, OnPullFailure, Step};
use crate::build::output::Steps;
use crate::engine::{Engine, EngineError};

/// Where the jobs' output goes. `service` is the job's first service.
pub trait ImageSink: Send + Sync {
    /// One line of a build's or a pull's output.
    fn output(&self, service: &str, line: &str);
    /// A job changed state.
    fn event(&self, service: &str, event: ImageEvent<'_>);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageEvent<'a> {
    Building {
        image: &'a str,
    },
    Built {
        image: &'a str,
        id: &'a str,
    },
    Pulling {
        image: &'a str,
    },
    Pulled {
        image: &'a str,
    },
    /// A pull whose failure does not stop the command.
    PullFailed {
        image: &'a str,
        reason: &'a str,
        then_build: bool,
    },
    /// An entry the context cannot hold (a socket, a device).
    Skipped {
        path: &'a str,
    },
}

/// Why an image job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The build context could not be made (missing Dockerfile, unreadable file).
    Context(String),
    /// The engine's build failed; `step` is the last "Step N/M : ..." seen.
    Build {
        step: Option<String>,
        message: String,
    },
    Tag {
        tag: String,
        message: String,
    },
    Pull {
        message: String,
        present: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFailure {
    pub services: Vec<String>,
    pub image: String,
    pub kind: FailureKind,
}

/// The engine's own words: the message without our status prefix.
pub fn reason(e: &EngineError) -> String {
    match e {
        EngineError::Api { message, .. } => message.clone(),
        EngineError::Other(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Runs `jobs`, at most `concurrency` at once; returns the failures.
pub async fn run<E: Engine>(
    engine: &E,
    jobs: Vec<Job>,
    concurrency: usize,
    sink: &dyn ImageSink,
) -> Vec<ImageFailure> {
    let stop = AtomicBool::new(false);
    let results: Vec<Option<ImageFailure>> = futures_util::stream::iter(jobs)
        .map(|job| {
            let stop = &stop;
            async move {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                let failure = run_job(engine, &job, sink).await.err();
                if failure.is_some() {
                    stop.store(true, Ordering::SeqCst);
                }
                failure
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

async fn run_job<E: Engine>(
    engine: &E,
    job: &Job,
    sink: &dyn ImageSink,
) -> Result<(), ImageFailure> {
    let service = job.services.first().map(String::as_str).unwrap_or("");
    let fail = |kind| ImageFailure {
        services: job.services.clone(),
        image: job.image.clone(),
        kind,
    };
    let out = |line: &str| sink.output(service, line);
    match &job.step {
        Step::Build(b) => build(engine, service, &job.image, b, sink)
            .await
            .map_err(fail),
        Step::Pull {
            on_failure,
            present,
        } => {
            sink.event(service, ImageEvent::Pulling { image: &job.image });
            match engine
                .pull_image(&job.image, job.platform.as_deref(), &out)
                .await
            {
                Ok(()) => {
                    sink.event(service, ImageEvent::Pulled { image: &job.image });
                    Ok(())
                }
                Err(e) if *on_failure == OnPullFailure::Warn => {
                    let why = reason(&e);
                    sink.event(
                        service,
                        ImageEvent::PullFailed {
                            image: &job.image,
                            reason: &why,
                            then_build: false,
                        },
                    );
                    Ok(())
                }
                Err(e) => Err(fail(FailureKind::Pull {
                    message: reason(&e),
                    present: *present,
                })),
            }
        }
        Step::PullOrBuild(b) => {
            sink.event(service, ImageEvent::Pulling { image: &job.image });
            match engine
                .pull_image(&job.image, job.platform.as_deref(), &out)
                .await
            {
                Ok(()) => {
                    sink.event(service, ImageEvent::Pulled { image: &job.image });
                    Ok(())
                }
                Err(e) => {
                    let why = reason(&e);
                    sink.event(
                        service,
                        ImageEvent::PullFailed {
                            image: &job.image,
                            reason: &why,
                            then_build: true,
                        },
                    );
                    build(engine, service, &job.image, b, sink)
                        .await
                        .map_err(fail)
                }
            }
        }
    }
}

async fn build<E: Engine>(
    engine: &E,
    service: &str,
    image: &str,
    job: &BuildJob,
    sink: &dyn ImageSink,
) -> Result<(), FailureKind> {
    sink.event(service, ImageEvent::Building { image });
    let dir: PathBuf = job.context.clone();
    let dockerfile: Dockerfile = job.dockerfile.clone();
    // Reading the context is blocking file I/O.
    let ctx = tokio::task::spawn_blocking(move || context::create(&dir, &dockerfile))
        .await
        .map_err(|e| FailureKind::Context(format!("reading the build context failed: {e}")))?
        .map_err(|e| FailureKind::Context(e.to_string()))?;
    for path in &ctx.skipped {
        sink.event(service, ImageEvent::Skipped { path });
    }
    let mut spec = job.spec.clone();
    spec.dockerfile = ctx.dockerfile;
    let steps = Mutex::new(Steps::default());
    let out = |line: &str| {
        if let Ok(mut s) = steps.lock() {
            s.observe(line);
        }
        sink.output(service, line);
    };
    let id = engine
        .build_image(&spec, ctx.tar, &out)
        .await
        .map_err(|e| FailureKind::Build {
            step: steps.lock().ok().and_then(|s| s.last().map(String::from)),
            message: reason(&e),
        })?;
    for tag in &job.tags {
        engine
            .tag_image(&id, tag)
            .await
            .map_err(|e| FailureKind::Tag {
                tag: tag.clone(),
                message: reason(&e),
            })?;
    }
    sink.event(service, ImageEvent::Built { image, id: &id });
    Ok(())
}

#[cfg(test)]
mod tests;
