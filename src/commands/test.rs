//! `aistack test -- CMD...`: the CI smoke test as one command. Bring the
//! stack up with `--wait`, run CMD on the host with the stack's published
//! ports in its environment, then always tear the stack down (`down -v
//! --remove-orphans`): on success, failure, deadline, SIGINT or SIGTERM. Exits
//! with CMD's exit code. By default each run gets its own project name and
//! free host ports, so parallel jobs on one daemon never collide.
//!
//! Owns the run's lifecycle and the CMD process; bringing up and tearing down
//! go through `up::bring_up` and `down::tear_down`.

use std::collections::BTreeMap;
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};

use crate::apply;
use crate::cli::{ProjectArgs, TestArgs, UpArgs};
use crate::compose::Project;
use crate::engine::DockerEngine;
use crate::engine::types::{ContainerState, HealthState, ObservedContainer};
use crate::exit::{Exit, ExitError};
use crate::plan::{DownOptions, labels};
use crate::report::{diagnostic, redact};

pub fn run(p: &ProjectArgs, args: TestArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    let mut project = super::load(&opts)?.project;
    let suffix = (!args.no_isolate).then(unique_suffix);
    if let Some(suffix) = &suffix {
        // The project name decides every resource name: load again under the
        // unique one rather than renaming resources after the fact.
        opts.project_name = Some(format!("{}-{suffix}", project.name));
        project = super::load(&opts)?.project;
        isolate(&mut project, suffix);
    }
    if !args.fixed_ports {
        free_ports(&mut project);
    }
    let concurrency = super::parallelism(p);
    super::engine::runtime()?.block_on(session(project, args, concurrency))
}

/// Why the run ended, in the order the exit code is decided.
enum End {
    Command(ExitStatus),
    UpFailed(anyhow::Error),
    Deadline,
    Signal(Exit),
}

async fn session(project: Project, args: TestArgs, concurrency: usize) -> Result<()> {
    let engine = super::engine::connect().await?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    eprintln!("test: project {}", project.name);
    let up_args = UpArgs {
        wait: true,
        detach: true,
        wait_timeout: Some(args.wait_timeout),
        health_probe: args.health_probe,
        progress: args.progress,
        services: args.services.clone(),
        ..Default::default()
    };
    // A signal stops the bring-up between engine calls (never between a
    // create and its answer), so the teardown below finds everything.
    let interrupts = super::interrupt::Interrupts::install()?;
    let end = match super::up::bring_up(&engine, &project, &up_args, concurrency, &interrupts).await
    {
        Ok(_) => None,
        Err(e) => Some(match interrupts.exit() {
            Some(exit) => End::Signal(exit),
            None => End::UpFailed(e),
        }),
    };
    drop(interrupts);
    let end = match end {
        Some(end) => end,
        None => run_command(&engine, &project, &args, &mut int, &mut term).await?,
    };
    let failed = !matches!(&end, End::Command(s) if s.success());
    if failed {
        report_unready(&engine, &project.name).await;
    }
    let teardown = if args.keep {
        eprintln!(
            "test: --keep: stack left up; remove it with `aistack -p {} down -v --remove-orphans`",
            project.name
        );
        Ok(())
    } else {
        tear_down(&engine, &project).await
    };
    let exit = match end {
        End::Command(status) => status_exit(status),
        End::UpFailed(e) => {
            // The up failure was reported already; its code says what failed.
            crate::exit::exit_for(&e)
        }
        End::Deadline => {
            eprintln!("test: the command ran out of time (--timeout)");
            Exit::Timeout
        }
        End::Signal(exit) => exit,
    };
    match (exit, teardown) {
        (Exit::Ok, Ok(())) => Ok(()),
        (Exit::Ok, Err(e)) => Err(e),
        (exit, _) => {
            Err(anyhow::Error::new(ExitError::new(exit, "test failed")).context(crate::REPORTED))
        }
    }
}

/// Run CMD on the host until it exits, its deadline passes, or a signal
/// arrives (forwarded to it; a command that ignores it is killed after 10 s).
async fn run_command(
    engine: &DockerEngine,
    project: &Project,
    args: &TestArgs,
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
) -> Result<End> {
    let observed = apply::observe::by_name(engine, &project.name).await?;
    let env = port_env(&project.name, &observed.containers);
    for (k, v) in &env {
        eprintln!("test: {}", redact::text(&format!("{k}={v}")));
    }
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    eprintln!("test: running {}", redact::text(&args.command.join(" ")));
    let mut child = tokio::process::Command::new(program)
        .args(rest)
        .envs(&env)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let deadline = async {
        match args.timeout {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    let (end, forward) = tokio::select! {
        status = child.wait() => return Ok(End::Command(status?)),
        _ = deadline => (End::Deadline, libc::SIGTERM),
        _ = int.recv() => (End::Signal(Exit::Interrupted), libc::SIGINT),
        _ = term.recv() => (End::Signal(Exit::Terminated), libc::SIGTERM),
    };
    if let Some(pid) = child.id() {
        // std can only send SIGKILL (`Child::kill`); forward the signal itself.
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our
        // own child's, not yet reaped (we have not waited on it).
        unsafe {
            libc::kill(pid as libc::pid_t, forward);
        }
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    Ok(end)
}

fn status_exit(status: ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => Exit::Ok,
        (Some(code), _) => {
            eprintln!("test: the command exited with code {code}");
            Exit::Passthrough(code)
        }
        (None, Some(sig)) => {
            eprintln!("test: the command was killed by signal {sig}");
            Exit::Passthrough(128 + sig)
        }
        (None, None) => Exit::Failure,
    }
}

/// State and last log lines of every container that is unhealthy, exited
/// non-zero or not running (a job that exited 0 is fine), before the teardown
/// erases them.
async fn report_unready(engine: &DockerEngine, project: &str) {
    let Ok(observed) = apply::observe::by_name(engine, project).await else {
        return;
    };
    for c in &observed.containers {
        if is_ready(c) {
            continue;
        }
        let service = c.labels.get(labels::SERVICE).map_or("?", String::as_str);
        eprintln!("test: service \"{service}\" is not healthy:");
        let d = apply::diagnose::gather(engine, &c.name, 20).await;
        eprint!("{}", diagnostic::diagnosis(&d));
    }
}

fn is_ready(c: &ObservedContainer) -> bool {
    match c.state {
        // "starting" is fine: an eager probe may have passed before the
        // engine's first check, which only runs after `interval`.
        ContainerState::Running => c.health != Some(HealthState::Unhealthy),
        ContainerState::Exited => c.exit_code == 0,
        _ => false,
    }
}

async fn tear_down(engine: &DockerEngine, project: &Project) -> Result<()> {
    eprintln!("test: tearing down {}", project.name);
    let opts = DownOptions {
        volumes: true,
        remove_orphans: true,
        timeout: None,
    };
    // Signals that arrive now must not cut the teardown short: the handlers
    // installed for the session keep them from killing the process.
    super::down::tear_down(
        engine,
        Some(project),
        &project.name,
        &opts,
        false,
        crate::report::progress::Mode::Quiet,
    )
    .await
}

/// `AISTACK_PROJECT`, and per published port of each service's first
/// container `AISTACK_PORT_<SERVICE>_<PORT>` (the host port) and
/// `AISTACK_ADDR_<SERVICE>_<PORT>` (host:port to connect to); UDP ports get a
/// `_UDP` suffix.
pub fn port_env(project: &str, containers: &[ObservedContainer]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("AISTACK_PROJECT".to_string(), project.to_string());
    for c in containers {
        let (Some(service), Some("1")) = (
            c.labels.get(labels::SERVICE),
            c.labels.get(labels::NUMBER).map(String::as_str),
        ) else {
            continue;
        };
        if c.labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
            continue;
        }
        for p in &c.ports {
            let proto = if p.protocol == "tcp" {
                String::new()
            } else {
                format!("_{}", env_name(&p.protocol))
            };
            let key = format!("{}_{}{proto}", env_name(service), p.container_port);
            let host = match p.host_ip.as_str() {
                "" | "0.0.0.0" => "127.0.0.1".to_string(),
                "::" => "[::1]".to_string(),
                ip if ip.contains(':') => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            // The first binding wins when the engine reports IPv4 and IPv6 both.
            env.entry(format!("AISTACK_PORT_{key}"))
                .or_insert_with(|| p.host_port.to_string());
            env.entry(format!("AISTACK_ADDR_{key}"))
                .or_insert_with(|| format!("{host}:{}", p.host_port));
        }
    }
    env
}

fn env_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A short random suffix for this run's project name.
fn unique_suffix() -> String {
    use std::io::Read;
    let mut b = [0u8; 4];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if random.is_err() {
        // No /dev/urandom: time and pid still differ between parallel jobs.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        b = (t ^ std::process::id().rotate_left(16)).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Names that do not carry the project name would collide between parallel
/// runs: suffix `container_name` and explicitly named (non-external)
/// networks and volumes.
fn isolate(project: &mut Project, suffix: &str) {
    for svc in project.services.values_mut() {
        if !svc.container_name.is_empty() {
            svc.container_name = format!("{}-{suffix}", svc.container_name);
        }
    }
    let pname = project.name.clone();
    for (key, n) in project.networks.iter_mut() {
        if !n.external && n.name != format!("{pname}_{key}") {
            n.name = format!("{}-{suffix}", n.name);
        }
    }
    for (key, v) in project.volumes.iter_mut() {
        if !v.external && v.name != format!("{pname}_{key}") {
            v.name = format!("{}-{suffix}", v.name);
        }
    }
}

/// Fixed host ports collide between parallel runs and with whatever else the
/// CI machine runs: let the engine pick free ones (CMD learns them from the
/// environment).
fn free_ports(project: &mut Project) {
    for svc in project.services.values_mut() {
        for p in &mut svc.ports {
            p.published.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::PublishedPort;

    fn container(service: &str, ports: Vec<PublishedPort>) -> ObservedContainer {
        let mut labels = BTreeMap::new();
        labels.insert(labels::SERVICE.to_string(), service.to_string());
        labels.insert(labels::NUMBER.to_string(), "1".to_string());
        labels.insert(labels::ONEOFF.to_string(), "False".to_string());
        ObservedContainer {
            id: "id".into(),
            name: format!("p-{service}-1"),
            labels,
            image: String::new(),
            image_id: String::new(),
            state: ContainerState::Running,
            exit_code: 0,
            health: None,
            started_at: None,
            restart_count: 0,
            networks: BTreeMap::new(),
            ports,
            volumes: Vec::new(),
        }
    }

    fn port(container_port: u16, protocol: &str, host_ip: &str, host_port: u16) -> PublishedPort {
        PublishedPort {
            container_port,
            protocol: protocol.into(),
            host_ip: host_ip.into(),
            host_port,
        }
    }

    #[test]
    fn published_ports_reach_the_command_as_environment_variables() {
        let env = port_env(
            "demo-1a2b",
            &[
                container(
                    "llm-proxy",
                    vec![
                        port(4000, "tcp", "0.0.0.0", 49153),
                        port(4000, "tcp", "::", 49153),
                    ],
                ),
                container("dns", vec![port(53, "udp", "127.0.0.1", 5353)]),
            ],
        );
        assert_eq!(env["AISTACK_PROJECT"], "demo-1a2b");
        assert_eq!(env["AISTACK_PORT_LLM_PROXY_4000"], "49153");
        assert_eq!(env["AISTACK_ADDR_LLM_PROXY_4000"], "127.0.0.1:49153");
        assert_eq!(env["AISTACK_PORT_DNS_53_UDP"], "5353");
        assert_eq!(env["AISTACK_ADDR_DNS_53_UDP"], "127.0.0.1:5353");
    }

    #[test]
    fn isolation_renames_what_the_project_name_does_not_cover() {
        let mut p = crate::testutil::load_project(
            r#"
name: demo-ab12
services:
  db:
    image: x
    container_name: db
    ports: ["5432:5432"]
    networks: [shared, own, outside]
    volumes: ["data:/data", "cache:/cache"]
networks:
  shared: {name: shared_net}
  own: {}
  outside: {external: true, name: corp}
volumes:
  data: {name: pgdata}
  cache: {}
"#,
        );
        isolate(&mut p, "ab12");
        free_ports(&mut p);
        assert_eq!(p.services["db"].container_name, "db-ab12");
        assert_eq!(p.networks["shared"].name, "shared_net-ab12");
        assert_eq!(p.networks["own"].name, "demo-ab12_own");
        assert_eq!(p.networks["outside"].name, "corp");
        assert_eq!(p.volumes["data"].name, "pgdata-ab12");
        assert_eq!(p.volumes["cache"].name, "demo-ab12_cache");
        assert!(
            p.services["db"]
                .ports
                .iter()
                .all(|p| p.published.is_empty())
        );
    }

    #[test]
    fn unique_suffixes_differ_between_runs() {
        assert_ne!(unique_suffix(), unique_suffix());
    }
}
