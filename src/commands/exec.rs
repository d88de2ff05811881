//! `aistack exec`: run a command in a service's running container, found by
//! its labels (project, service, container number from `--index`; never a
//! one-off), attached to our stdin, stdout and stderr, with a TTY when both
//! ends are terminals (unless `-T`). The command's exit code becomes ours.
//! Works with a compose file or with `-p NAME` alone.

use std::time::Duration;

use anyhow::Result;

use crate::cli::{ExecArgs, ProjectArgs};
use crate::compose::{self, Loaded};
use crate::engine::{Engine, ExecSpec};
use crate::exit::{Exit, ExitError};
use crate::plan::labels;
use crate::report::diagnostic;

use super::{attach, terminal};

pub fn run(p: &ProjectArgs, args: ExecArgs) -> Result<()> {
    let (project, loaded) = target(p)?;
    if let Some(l) = &loaded
        && !l.project.services.contains_key(&args.service)
    {
        return Err(
            ExitError::new(Exit::Failure, format!("no such service: {}", args.service)).into(),
        );
    }
    let env = attach::resolve_env(&args.env, |k| match &loaded {
        Some(l) => l.env.get(k).map(String::from),
        None => std::env::var(k).ok(),
    });
    let spec = ExecSpec {
        cmd: args.command.clone(),
        env: env.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        privileged: args.privileged,
        tty: !args.detach && terminal::wants_tty(args.no_tty),
        stdin: !args.detach,
    };
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let container = find(&engine, &project, &args.service, args.index).await?;
        let code = exec(&engine, &container, &spec, args.detach).await?;
        attach::exit_with(code)
    })
}

/// The project's name, and the project itself when there are compose files.
fn target(p: &ProjectArgs) -> Result<(String, Option<Loaded>)> {
    let opts = super::load_options(p)?;
    match super::load_project(&opts) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("WARN {}", crate::report::redact::text(w));
            }
            Ok((l.project.name.clone(), Some(l)))
        }
        Err(e) if p.project_name.is_some() && e.kind == compose::ErrorKind::Io => {
            Ok((p.project_name.clone().unwrap_or_default(), None))
        }
        Err(e) => {
            eprint!("{}", diagnostic::render(&e));
            Err(anyhow::Error::new(e).context(crate::REPORTED))
        }
    }
}

/// The running container number `index` of `service`, by label.
pub async fn find<E: Engine>(
    engine: &E,
    project: &str,
    service: &str,
    index: u32,
) -> Result<String> {
    let number = index.to_string();
    let filter = [
        (labels::PROJECT, project),
        (labels::SERVICE, service),
        (labels::NUMBER, number.as_str()),
        (labels::ONEOFF, "False"),
    ];
    let running = engine.list_containers(&filter, false).await?;
    match running.into_iter().next() {
        Some(c) => Ok(c.name),
        None => {
            // Compose's wording, then what to do about it.
            let message = if index == 1 {
                format!(
                    "service \"{service}\" is not running (start it with `aistack up -d {service}`)"
                )
            } else {
                format!(
                    "service \"{service}\" is not running container #{index} (`aistack ps` lists the running ones)"
                )
            };
            Err(ExitError::new(Exit::Failure, message).into())
        }
    }
}

/// Runs `spec` in `container`; its exit code (0 right away with `detach`).
pub async fn exec<E: Engine>(
    engine: &E,
    container: &str,
    spec: &ExecSpec,
    detach: bool,
) -> Result<i64> {
    let id = engine.create_exec(container, spec).await?;
    if detach {
        engine.start_exec_detached(&id, spec.tty).await?;
        return Ok(0);
    }
    let raw = if spec.tty {
        terminal::RawMode::enable()?
    } else {
        None
    };
    let io = engine.start_exec_attached(&id, spec.tty).await?;
    let session = attach::pump(io, spec.stdin);
    if spec.tty {
        let sizes = attach::follow_size(|rows, cols| engine.resize_exec(&id, rows, cols));
        tokio::select! {
            r = session => r?,
            _ = sizes => {}
        }
    } else {
        session.await?;
    }
    drop(raw);
    // The output ends when the process exits, but inspect can still say
    // "running" for a moment: ask until it has an exit code.
    for _ in 0..500 {
        let s = engine.inspect_exec(&id).await?;
        if !s.running {
            return s.exit_code.ok_or_else(|| {
                anyhow::anyhow!("the command in {container} ended without an exit code")
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(anyhow::anyhow!(
        "the command in {container} closed its output but is still running"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::ContainerSpec;
    use crate::engine::{ExecOutput, FakeEngine};
    use crate::exit::exit_for;

    fn container(name: &str, service: &str, number: &str, oneoff: &str) -> ContainerSpec {
        let labels = [
            (labels::PROJECT, "demo"),
            (labels::SERVICE, service),
            (labels::NUMBER, number),
            (labels::ONEOFF, oneoff),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into_iter()
        .collect();
        ContainerSpec {
            name: name.into(),
            image: "busybox".into(),
            labels,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn exec_targets_the_indexed_service_container_never_a_one_off() {
        let e = FakeEngine::new();
        for (name, number, oneoff) in [
            ("demo-web-run-abc", "1", "True"),
            ("demo-web-1", "1", "False"),
            ("demo-web-2", "2", "False"),
        ] {
            e.create_container(&container(name, "web", number, oneoff))
                .await
                .unwrap();
            e.start_container(name).await.unwrap();
        }
        assert_eq!(find(&e, "demo", "web", 1).await.unwrap(), "demo-web-1");
        assert_eq!(find(&e, "demo", "web", 2).await.unwrap(), "demo-web-2");
        let err = find(&e, "demo", "web", 3).await.unwrap_err();
        assert_eq!(exit_for(&err), Exit::Failure);
        assert!(
            err.to_string()
                .starts_with("service \"web\" is not running container #3"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_stopped_service_is_not_running() {
        let e = FakeEngine::new();
        e.create_container(&container("demo-db-1", "db", "1", "False"))
            .await
            .unwrap();
        let err = find(&e, "demo", "db", 1).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("service \"db\" is not running ("),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_commands_exit_code_comes_back() {
        let e = FakeEngine::new();
        e.create_container(&container("demo-web-1", "web", "1", "False"))
            .await
            .unwrap();
        e.start_container("demo-web-1").await.unwrap();
        e.on_exec(
            "demo-web-1",
            ExecOutput {
                exit_code: 3,
                output: String::new(),
            },
        );
        let spec = ExecSpec {
            cmd: vec!["false".into()],
            ..Default::default()
        };
        assert_eq!(exec(&e, "demo-web-1", &spec, false).await.unwrap(), 3);
        // Detached: started, not waited for.
        assert_eq!(exec(&e, "demo-web-1", &spec, true).await.unwrap(), 0);
        assert!(
            e.calls()
                .contains(&"start_exec_detached demo-web-1 false".to_string())
        );
    }
}
