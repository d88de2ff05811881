//! `aistack down`: stop and remove the project's containers (reverse
//! dependency order), its networks, and with `-v` its volumes. Without a
//! compose file, `-p NAME` finds everything by label.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::apply::{self, ApplyOptions};
use crate::cli::{DownArgs, ProjectArgs};
use crate::compose::{ErrorKind, Project};
use crate::engine::DockerEngine;
use crate::exit::{Exit, ExitError};
use crate::plan::{self, DownOptions};
use crate::report::{diagnostic, progress, redact};

pub fn run(p: &ProjectArgs, args: DownArgs) -> Result<()> {
    let opts = super::load_options(p)?;
    // With -p and no compose file around, work from labels alone.
    let project = match super::load_project(&opts) {
        Ok(l) => Some(l.project),
        Err(e)
            if e.kind == ErrorKind::Io
                && e.message.starts_with("no configuration file")
                && p.project_name.is_some() =>
        {
            None
        }
        Err(e) => {
            eprint!("{}", diagnostic::render(&e));
            return Err(anyhow::Error::new(e).context(crate::REPORTED));
        }
    };
    let name = match (&project, &p.project_name) {
        (Some(pr), _) => pr.name.clone(),
        (None, Some(n)) => n.clone(),
        (None, None) => unreachable!("checked above"),
    };
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        // A stack deployed to the Swarm (`aistack deploy`) goes first.
        super::deploy::down_if_deployed(&engine, &name, args.volumes, args.dry_run, args.progress)
            .await?;
        let opts = DownOptions {
            volumes: args.volumes,
            remove_orphans: args.remove_orphans,
            timeout: args.timeout.map(Duration::from_secs),
        };
        tear_down(
            &engine,
            project.as_ref(),
            &name,
            &opts,
            args.dry_run,
            args.progress,
        )
        .await
    })
}

/// Observe the project by label, plan `down` and apply it (holding the
/// project lock). A failure has been reported already.
pub async fn tear_down(
    engine: &DockerEngine,
    project: Option<&Project>,
    name: &str,
    opts: &DownOptions,
    dry_run: bool,
    progress: progress::Mode,
) -> Result<()> {
    let _lock = super::lock::project(name)?;
    let observed = match apply::observe::for_down(engine, name).await {
        Ok(o) => o,
        Err(e) => return Err(super::engine::explained(engine, e).await),
    };
    let plan = plan::down(project, &observed, opts);
    for note in &plan.notes {
        eprintln!("note: {}", redact::text(note));
    }
    if dry_run {
        print!("{}", redact::text(&plan.to_string()));
        return Ok(());
    }
    let aopts = ApplyOptions {
        progress: Arc::from(progress::sink(progress)),
        serial_stops: super::engine::serial_stops(engine, &plan).await,
        ..Default::default()
    };
    let events = apply::subscribe_events(engine, name);
    let report = apply::run(engine, &plan, &aopts, &events).await;
    match report.failure {
        None => Ok(()),
        Some(f) => {
            eprint!("{}", diagnostic::failure(&f, None));
            Err(
                anyhow::Error::new(ExitError::new(Exit::Failure, "down failed"))
                    .context(crate::REPORTED),
            )
        }
    }
}
