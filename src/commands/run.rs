//! `aistack run`: a one-off container of a service. Its dependencies come
//! up first with their conditions (unless `--no-deps`), through the same
//! plan and executor as `up`; then the container is attached (stdin,
//! stdout, stderr; a TTY when both ends are terminals, unless `-T`),
//! started, and its exit code becomes ours. `-d` starts it and prints its
//! ID, as Compose does. `--rm` removes it afterwards, also after Ctrl-C:
//! the first SIGINT/SIGTERM is forwarded to the container (SIGKILL after its
//! stop grace period, or at a second signal).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::apply::{self, ApplyOptions, ProgressEvent, ProgressSink};
use crate::cli::{ProjectArgs, RunArgs};
use crate::compose::Project;
use crate::compose::canonical::parse_published_ports;
use crate::engine::{DockerEngine, Engine};
use crate::exit::{Exit, ExitError};
use crate::plan::oneoff::{self, OneOff};
use crate::plan::spec;
use crate::report::{diagnostic, progress};

use super::{attach, terminal};

pub fn run(p: &ProjectArgs, args: RunArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    // Naming the service enables it whatever its profiles, as in Compose.
    opts.services = vec![args.service.clone()];
    let loaded = super::load(&opts)?;
    let project = loaded.project;
    let Some(svc) = project.services.get(&args.service) else {
        return Err(
            ExitError::new(Exit::Failure, format!("no such service: {}", args.service)).into(),
        );
    };
    let grace = spec::stop_timeout(svc);
    let o = OneOff {
        service: args.service.clone(),
        slug: slug()?,
        name: args.name.clone(),
        command: args.command.clone(),
        entrypoint: match &args.entrypoint {
            Some(e) => Some(shell_words(e).map_err(|why| usage(format!("--entrypoint: {why}")))?),
            None => None,
        },
        env: attach::resolve_env(&args.env, |k| loaded.env.get(k).map(String::from)),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        labels: args
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => Ok((k.to_string(), v.to_string())),
                None => Err(usage(format!("label {l:?} must be set as KEY=VALUE"))),
            })
            .collect::<Result<_>>()?,
        publish: args
            .publish
            .iter()
            .map(|p| {
                parse_published_ports(p).map_err(|why| usage(format!("--publish {p:?}: {why}")))
            })
            .collect::<Result<Vec<_>>>()?
            .concat(),
        service_ports: args.service_ports,
        use_aliases: args.use_aliases,
        // Compose decides this also with -d (the container keeps the TTY).
        tty: terminal::wants_tty(args.no_tty),
        auto_remove: args.detach && args.rm,
        no_deps: args.no_deps,
    };
    let concurrency = super::parallelism(p);
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        let name = prepare(&engine, &project, &o, &args, concurrency).await?;
        if args.detach {
            // The ID before the start: with --rm it may be gone right after.
            let id = engine.inspect_container(&name).await?.container.id;
            engine.start_container(&name).await?;
            println!("{id}");
            return Ok(());
        }
        let raw = if o.tty {
            terminal::RawMode::enable()?
        } else {
            None
        };
        let outcome = attached(&engine, &name, o.tty, grace).await;
        drop(raw);
        if args.rm
            && let Err(e) = engine.remove_container(&name, true, true).await
        {
            eprintln!("warning: could not remove {name}: {e}");
        }
        attach::exit_with(outcome?)
    })
}

fn usage(message: String) -> anyhow::Error {
    ExitError::new(Exit::Usage, message).into()
}

/// Dependencies up and ready, networks and volumes, the one-off created;
/// returns its name. Holds the project lock, as `up` does.
async fn prepare(
    engine: &DockerEngine,
    project: &Project,
    o: &OneOff,
    args: &RunArgs,
    concurrency: usize,
) -> Result<String> {
    let mode = args.progress;
    let _lock = super::lock::project(&project.name)?;
    // As Compose's `run`: a missing image is built (or pulled) first.
    super::build::ensure_images_quietly(
        engine,
        project,
        std::slice::from_ref(&o.service),
        super::build::ImagesMode::from_flags(args.build, false),
        mode == progress::Mode::Quiet,
    )
    .await?;
    let observed = apply::observe::project(engine, project).await?;
    let plan = oneoff::plan(project, &observed, o, Some(engine.api_version()))
        .map_err(|e| ExitError::new(Exit::Failure, e.to_string()))?;
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    let create = plan.nodes.last().map(|n| n.id.clone()).unwrap_or_default();
    let name = create
        .strip_prefix("create:")
        .unwrap_or(&create)
        .to_string();
    let aopts = ApplyOptions {
        concurrency,
        progress: Arc::new(Hide {
            inner: progress::sink(mode),
            id: create,
        }),
        ..Default::default()
    };
    let events = apply::subscribe_events(engine, &project.name);
    let report = apply::run(engine, &plan, &aopts, &events).await;
    if let Some(f) = &report.failure {
        let diagnosis = match &f.container {
            Some(c) => Some(apply::diagnose::gather(engine, c, 20).await),
            None => None,
        };
        eprint!("{}", diagnostic::failure(f, diagnosis.as_ref()));
        let exit = if f.timed_out {
            Exit::Timeout
        } else {
            Exit::Failure
        };
        return Err(anyhow::Error::new(ExitError::new(exit, "run failed")).context(crate::REPORTED));
    }
    Ok(name)
}

/// Progress for the dependencies only: the one-off's own create is not news
/// (Compose prints nothing for it either).
struct Hide {
    inner: Box<dyn ProgressSink>,
    id: String,
}

impl ProgressSink for Hide {
    fn event(&self, ev: ProgressEvent) {
        if ev.id != self.id {
            self.inner.event(ev);
        }
    }
}

/// Attach, start, copy the streams until the container exits; its exit code.
async fn attached(engine: &DockerEngine, name: &str, tty: bool, grace: Duration) -> Result<i64> {
    // From here on a signal is the container's business, not a reason to die.
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    // Attach first, so not a byte of output is lost.
    let io = engine.attach_container(name, true).await?;
    engine
        .start_container(name)
        .await
        .with_context(|| format!("starting {name}"))?;
    let session = attach::pump(io, true);
    tokio::pin!(session);
    let sizes = async {
        if tty {
            attach::follow_size(|rows, cols| engine.resize_container(name, rows, cols)).await;
        }
        std::future::pending::<()>().await
    };
    tokio::pin!(sizes);
    let mut forwarded = false;
    let mut kill_at: Option<Instant> = None;
    loop {
        let signal = tokio::select! {
            r = &mut session => {
                r?;
                break;
            }
            _ = &mut sizes => continue,
            _ = tokio::time::sleep_until(kill_at.unwrap_or_else(Instant::now)), if kill_at.is_some() => {
                kill_at = None;
                "SIGKILL"
            }
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        let signal = if forwarded { "SIGKILL" } else { signal };
        if signal != "SIGKILL" {
            forwarded = true;
            kill_at = Some(Instant::now() + grace);
            // A PID 1 without a handler ignores it: say what happens next.
            // (On a TTY the terminal is raw and keys go to the container.)
            if !tty {
                eprintln!(
                    "forwarded {signal} to {name}; it is killed in {}s, or at once on another Ctrl-C",
                    grace.as_secs()
                );
            }
        }
        // It may have exited meanwhile: then there is nothing to signal.
        if let Err(e) = engine.kill_container(name, signal).await {
            tracing::debug!("{signal} to {name}: {e}");
        }
    }
    Ok(engine.wait_container(name).await?)
}

/// 32 random bytes as hex: the one-off's identity (`com.docker.compose.slug`).
fn slug() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the one-off's id")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Words as go-shellwords splits them (Compose's `--entrypoint`): blanks
/// separate, single quotes are literal, double quotes keep blanks and honour
/// `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes escapes the next
/// character. No variable expansion.
fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                let next = chars.next().ok_or("a trailing backslash escapes nothing")?;
                cur.push(next);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unterminated single quote in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(format!("unterminated double quote in {s:?}")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(format!("unterminated double quote in {s:?}")),
                    }
                }
            }
            x => {
                cur.push(x);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoints_are_split_like_a_shell_without_expansion() {
        let ok = |s: &str| shell_words(s).unwrap();
        assert_eq!(ok("sh -c"), ["sh", "-c"]);
        assert_eq!(ok("  a   b  "), ["a", "b"]);
        assert_eq!(
            ok(r#"echo "a b" 'c d' e\ f"#),
            ["echo", "a b", "c d", "e f"]
        );
        assert_eq!(
            ok(r#""q\"uote" 'it''s' $HOME"#),
            ["q\"uote", "its", "$HOME"]
        );
        assert_eq!(ok(r#""\n""#), ["\\n"]);
        assert_eq!(ok("''"), [""]);
        assert!(ok("").is_empty());
        assert!(shell_words("'open").is_err());
        assert!(shell_words("\"open").is_err());
        assert!(shell_words("end\\").is_err());
    }

    #[test]
    fn slugs_are_64_random_hex_characters() {
        let (a, b) = (slug().unwrap(), slug().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
