//! `aistack logs`: the containers' output, each line prefixed with its
//! container's name; `-f` follows until Ctrl-C or until every stream ends.

use std::io::Write;

use anyhow::Result;
use futures_util::StreamExt;
use futures_util::stream::SelectAll;

use crate::cli::{LogsArgs, ProjectArgs};
use crate::engine::{DockerEngine, Engine, EngineError};
use crate::exit::{Exit, ExitError};
use crate::plan::{labels, observed};
use crate::report::logs::Prefixer;

pub fn run(p: &ProjectArgs, args: LogsArgs) -> Result<()> {
    let name = super::project_name(p)?;
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let mut cs = engine
            .list_containers(&[(labels::PROJECT, name.as_str())], true)
            .await?;
        cs.retain(|c| !observed::is_oneoff(c));
        cs.retain(|c| {
            args.services.is_empty()
                || c.labels
                    .get(labels::SERVICE)
                    .is_some_and(|s| args.services.contains(s))
        });
        cs.sort_by(|a, b| a.name.cmp(&b.name));
        let tail = if args.tail == "all" {
            None
        } else {
            args.tail.parse().ok()
        };
        let names: Vec<String> = cs.iter().map(|c| c.name.clone()).collect();
        tokio::select! {
            end = follow_all_with(&engine, names, args.follow, tail, args.timestamps) => {
                if let Followed::Lost(e) = end {
                    let doing = if args.follow { "following logs" } else { "reading logs" };
                    return Err(lost(&engine, &e, doing).into());
                }
            }
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(())
    })
}

/// How streaming the containers' output ended.
#[derive(Debug)]
pub enum Followed {
    /// Every stream ended: the containers stopped (or there was no `-f`).
    Ended,
    /// The connection to the daemon broke (it stopped or restarted): the
    /// other streams were dropped too, since they share its fate.
    Lost(EngineError),
}

/// The error that ends a command whose daemon went away mid-stream: one
/// clear line, exit 4 (as for a daemon that cannot be reached at all).
pub fn lost(engine: &DockerEngine, e: &EngineError, doing: &str) -> ExitError {
    let detail = match e {
        EngineError::Unreachable { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    ExitError::new(
        Exit::DaemonUnreachable,
        format!(
            "lost the connection to the Docker daemon at {} while {doing} ({detail}); \
             the containers were left as they are: run the command again once `docker info` answers",
            engine.host()
        ),
    )
}

/// Stream every container's lines with prefixes until all streams end, or
/// the connection to the daemon is lost.
pub async fn follow_all(
    engine: &DockerEngine,
    names: Vec<String>,
    follow: bool,
    tail: Option<usize>,
) -> Followed {
    follow_all_with(engine, names, follow, tail, false).await
}

async fn follow_all_with(
    engine: &DockerEngine,
    names: Vec<String>,
    follow: bool,
    tail: Option<usize>,
    timestamps: bool,
) -> Followed {
    let prefixer = Prefixer::new(names.iter().map(String::as_str));
    let mut all = SelectAll::new();
    for (i, n) in names.iter().enumerate() {
        let name = n.clone();
        all.push(
            engine
                .logs(n, follow, tail, timestamps, None)
                .map(move |l| (i, name.clone(), l))
                .boxed(),
        );
    }
    while let Some((i, name, line)) = all.next().await {
        match line {
            Ok(l) => {
                let text = match &l.timestamp {
                    Some(t) => format!("{t} {}", l.text),
                    None => l.text,
                };
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    prefixer.line(&name, i, &text)
                );
            }
            // Removed meanwhile: that container's story is over, not ours.
            Err(e) if e.is_not_found() => {
                eprintln!("{name}: log stream ended: {e}");
            }
            Err(e) => return Followed::Lost(e),
        }
    }
    Followed::Ended
}
