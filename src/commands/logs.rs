//! `aistack logs`: the containers' output, each line prefixed with its
//! container's name; `-f` follows until Ctrl-C or until every stream ends.

use std::io::Write;

use anyhow::Result;
use futures_util::StreamExt;
use futures_util::stream::SelectAll;

use crate::cli::{LogsArgs, ProjectArgs};
use crate::engine::{DockerEngine, Engine};
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
            _ = follow_all_with(&engine, names, args.follow, tail, args.timestamps) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(())
    })
}

/// Stream every container's lines with prefixes until all streams end.
pub async fn follow_all(
    engine: &DockerEngine,
    names: Vec<String>,
    follow: bool,
    tail: Option<usize>,
) {
    follow_all_with(engine, names, follow, tail, false).await
}

async fn follow_all_with(
    engine: &DockerEngine,
    names: Vec<String>,
    follow: bool,
    tail: Option<usize>,
    timestamps: bool,
) {
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
            Err(e) => {
                eprintln!("{name}: log stream ended: {e}");
            }
        }
    }
}
