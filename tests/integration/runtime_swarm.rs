//! `aistack deploy` against a real single-node Swarm on the shared daemon:
//! the guide-shaped stack deploys, converges, keeps its isolation (the
//! proxy's task cannot resolve redis), honours depends_on, publishes, and
//! `down` removes every service, network, secret, config and volume; a
//! failing job stops its dependents with a diagnosis; attributes Swarm
//! cannot honour are refused naming the service.
//!
//! The Swarm is initialised here only if the daemon is in none
//! (`docker swarm init --advertise-addr 127.0.0.1`), and left again only if
//! it was initialised here. Swarm tests are serialised by a mutex and a file
//! lock (other test binaries may run at the same time), and each keeps the
//! Swarm window short; while it is open, a bridge stack is brought up to
//! check that plain containers and networks keep working.

use std::fs::File;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime_support::{
    Out, Stack, daemon_available, docker, docker_ok, http_get, instant_key, progress_events,
    run_limited,
};

const STACK_LABEL: &str = "com.docker.stack.namespace";

fn docker_within(args: &[&str], limit: Duration) -> Option<Out> {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run_limited(cmd, limit)
}

/// Holds the Swarm for one test: serialised, initialised if needed, left
/// on drop if (and only if) this guard initialised it.
struct Swarm {
    initialized: bool,
    gwbridge_before: bool,
    _file: File,
    _guard: MutexGuard<'static, ()>,
}

impl Swarm {
    fn acquire(tag: &str) -> Option<Swarm> {
        if !daemon_available(tag) {
            return None;
        }
        static ONE: Mutex<()> = Mutex::new(());
        let guard = ONE.lock().unwrap_or_else(|p| p.into_inner());
        let file = File::create(std::env::temp_dir().join("aistack-swarm-test.lock"))
            .expect("create the swarm lock file");
        file.lock().expect("lock the swarm lock file");
        let state = docker_ok(&[
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ]);
        let mut swarm = Swarm {
            initialized: false,
            gwbridge_before: docker(&["network", "inspect", "docker_gwbridge"]).code == 0,
            _file: file,
            _guard: guard,
        };
        match state.as_str() {
            "active true" => {}
            s if s.starts_with("inactive") => {
                let out = docker_within(
                    &["swarm", "init", "--advertise-addr", "127.0.0.1"],
                    Duration::from_secs(60),
                )
                .expect("`docker swarm init` did not finish within 60 s");
                assert_eq!(out.code, 0, "docker swarm init: {}", out.all());
                swarm.initialized = true;
            }
            other => panic!(
                "{tag}: the daemon is in a Swarm it does not manage ({other}); cannot test deploy"
            ),
        }
        Some(swarm)
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        if !self.initialized {
            return;
        }
        let _ = docker_within(&["swarm", "leave", "--force"], Duration::from_secs(60));
        // `swarm init` made the gateway bridge; leave it as it was found.
        if !self.gwbridge_before {
            let _ = docker_within(
                &["network", "rm", "docker_gwbridge"],
                Duration::from_secs(30),
            );
        }
    }
}

/// Removes everything labelled with the stack (services first, then what
/// their tasks used); never panics (it runs in Drop).
fn sweep_stack(name: &str) {
    let filter = format!("label={STACK_LABEL}={name}");
    let t = Duration::from_secs(60);
    let ids = |args: &[&str]| -> Vec<String> {
        docker_within(args, t)
            .filter(|o| o.code == 0)
            .map(|o| o.stdout.split_whitespace().map(String::from).collect())
            .unwrap_or_default()
    };
    let services = ids(&["service", "ls", "-q", "--filter", &filter]);
    if !services.is_empty() {
        let mut args = vec!["service", "rm"];
        args.extend(services.iter().map(String::as_str));
        let _ = docker_within(&args, t);
    }
    let start = Instant::now();
    while !ids(&["ps", "-aq", "--filter", &filter]).is_empty() && start.elapsed() < t {
        std::thread::sleep(Duration::from_millis(250));
    }
    for (list, rm) in [
        (["network", "ls", "-q"], vec!["network", "rm"]),
        (["secret", "ls", "-q"], vec!["secret", "rm"]),
        (["config", "ls", "-q"], vec!["config", "rm"]),
    ] {
        let found = ids(&[list[0], list[1], list[2], "--filter", &filter]);
        if !found.is_empty() {
            let mut args = rm.clone();
            args.extend(found.iter().map(String::as_str));
            let _ = docker_within(&args, t);
        }
    }
}

/// A stack under test on the Swarm: cleaned by label before and after.
struct Deployed {
    stack: Stack,
}

impl Deployed {
    fn new(tag: &str, fixture: &str) -> Option<Deployed> {
        let stack = Stack::new(tag, fixture)?;
        sweep_stack(&stack.name);
        Some(Deployed { stack })
    }

    fn service(&self, svc: &str) -> String {
        format!("{}_{svc}", self.stack.name)
    }

    /// The running task container of `svc` (on this, the only node).
    #[track_caller]
    fn task_container(&self, svc: &str) -> String {
        let filter = format!("label=com.docker.swarm.service.name={}", self.service(svc));
        let ids = docker_ok(&["ps", "-q", "--filter", &filter]);
        let id = ids.lines().next().unwrap_or("").to_string();
        assert!(!id.is_empty(), "no running task container of {svc}");
        id
    }

    #[track_caller]
    fn exec(&self, svc: &str, script: &str) -> (i32, String) {
        let out = docker(&["exec", &self.task_container(svc), "sh", "-c", script]);
        (out.code, format!("{}{}", out.stdout, out.stderr))
    }

    /// IDs of the service's tasks in `state` ("running", "complete", ...).
    #[track_caller]
    fn tasks(&self, svc: &str, state: &str) -> Vec<String> {
        docker_ok(&[
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.CurrentState}}",
            &self.service(svc),
        ])
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|s| s.eq_ignore_ascii_case(state))
        })
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
    }

    /// `docker inspect --type KIND -f '{{json FIELD}}'` of a Swarm object, as a comparable instant.
    #[track_caller]
    fn time_of(&self, kind: &str, object: &str, field: &str) -> (String, u64, u64) {
        let format = format!("{{{{json {field}}}}}");
        let raw = docker_ok(&["inspect", "--type", kind, "-f", &format, object]);
        instant_key(raw.trim_matches('"'))
    }

    /// What is left labelled with the stack: services, networks, secrets,
    /// configs, containers, and volumes (by the Compose project label).
    #[track_caller]
    fn left(&self) -> Vec<String> {
        let filter = format!("label={STACK_LABEL}={}", self.stack.name);
        let mut left = Vec::new();
        for kind in ["service", "network", "secret", "config"] {
            for n in docker_ok(&[kind, "ls", "--filter", &filter, "--format", "{{.Name}}"]).lines()
            {
                left.push(format!("{kind} {n}"));
            }
        }
        for n in docker_ok(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]).lines() {
            left.push(format!("container {n}"));
        }
        let (_, _, volumes) = self.stack.labelled();
        left.extend(volumes.into_iter().map(|v| format!("volume {v}")));
        left
    }
}

impl Drop for Deployed {
    fn drop(&mut self) {
        sweep_stack(&self.stack.name);
    }
}

#[test]
fn swarm_deploy_of_the_guide_stack_converges_isolates_orders_and_down_removes_everything() {
    let Some(_swarm) = Swarm::acquire("swarm-guide") else {
        return;
    };
    let Some(d) = Deployed::new("swarm-guide", "guide-swarm") else {
        return;
    };
    let s = &d.stack;

    // A dry run prints the steps and creates nothing.
    let dry = s.aistack(&["deploy", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("service gateway: after llm healthy, migrate completed, postgres healthy, redis healthy: create"),
        "{}",
        dry.all()
    );
    assert!(d.left().is_empty(), "the dry run created {:?}", d.left());

    let up = s.aistack(&["deploy", "--wait", "--progress", "json"]).ok();
    if !std::path::Path::new("/proc/net/ip_vs").exists() {
        // No IPVS here: virtual IPs cannot route, so deploy says it uses dnsrr.
        assert!(
            up.stderr.contains("using endpoint_mode dnsrr"),
            "{}",
            up.all()
        );
    }

    // Converged: every long-running service runs its task, the job completed.
    for svc in ["proxy", "gateway", "redis", "postgres", "llm"] {
        assert_eq!(d.tasks(svc, "running").len(), 1, "{svc}: {}", up.all());
    }
    let migrated = d.tasks("migrate", "complete");
    assert_eq!(migrated.len(), 1, "migrate did not complete: {}", up.all());

    // depends_on: the gateway's service was created only once its
    // dependencies' tasks ran (healthy) and the migration had completed; the
    // proxy only once the gateway's task ran.
    let created = |svc: &str| d.time_of("service", &d.service(svc), ".CreatedAt");
    let since = |svc: &str, state: &str| {
        let task = d.tasks(svc, state).pop().unwrap_or_default();
        d.time_of("task", &task, ".Status.Timestamp")
    };
    for dep in ["redis", "postgres", "llm"] {
        assert!(
            since(dep, "running") <= created("gateway"),
            "gateway created before {dep} ran"
        );
    }
    assert!(since("migrate", "complete") <= created("gateway"));
    assert!(since("gateway", "running") <= created("proxy"));
    let events = progress_events(&up.stderr);
    let done = |id: &str| {
        events
            .iter()
            .find(|(i, p, ..)| i == id && p == "done")
            .map(|e| e.3)
            .unwrap_or_else(|| panic!("no done event for {id}: {}", up.stderr))
    };
    assert!(done("wait:redis:healthy") <= done("service:gateway"));
    assert!(done("wait:migrate:completed") <= done("service:gateway"));
    assert!(done("wait:gateway:healthy") <= done("service:proxy"));

    // Isolation: the proxy's task (public network only) cannot resolve the
    // internal services; the gateway's resolves them all.
    for name in ["redis", "postgres", "llm", "llm-proxy"] {
        let (code, out) = d.exec("proxy", &format!("nslookup {name} 127.0.0.11"));
        assert_ne!(code, 0, "the proxy resolved {name}:\n{out}");
        let (code, out) = d.exec("gateway", &format!("nslookup {name} 127.0.0.11"));
        assert_eq!(code, 0, "the gateway cannot resolve {name}:\n{out}");
    }
    let (code, out) = d.exec("gateway", "timeout 5 wget -q -O- http://llm-proxy:4000/");
    assert_eq!(code, 0, "gateway -> llm-proxy: {out}");
    let (code, out) = d.exec("gateway", "echo PING | timeout 3 nc redis 6379");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PING"), "{out}");
    // The secret and the config arrived as files.
    let (code, out) = d.exec("gateway", "cat /run/secrets/db_password /etc/gateway.conf");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("not-a-real-password") && out.contains("cache=redis"),
        "{out}"
    );

    // The proxy's published port answers on the host.
    let ports = docker_ok(&["port", &d.task_container("proxy"), "8080/tcp"]);
    let port: u16 = ports
        .lines()
        .filter_map(|l| l.rsplit(':').next()?.trim().parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no published port: {ports:?}"));
    let body = http_get(port).unwrap_or_else(|e| panic!("GET :{port}: {e}"));
    assert!(body.contains("hello from aistack"), "{body}");

    // `aistack ps` shows the stack's tasks; a second deploy changes nothing.
    let ps = s.aistack(&["ps"]).ok();
    assert!(
        ps.stdout.contains(&format!("{}.1", d.service("gateway"))),
        "{}",
        ps.all()
    );
    assert!(ps.stdout.contains("running"), "{}", ps.all());
    let again = s.aistack(&["deploy", "--dry-run"]).ok();
    for line in again.stdout.lines().filter(|l| l.starts_with("service ")) {
        assert!(line.contains(": keep "), "{}", again.all());
    }

    // Plain containers and bridge networks keep working while Swarm is active.
    let Some(bridge) = Stack::new("swarm-bridge", "basic") else {
        return;
    };
    bridge.aistack(&["up", "--wait"]).ok();
    let (code, out) = bridge.exec("web", "nslookup cache 127.0.0.11");
    assert_eq!(code, 0, "bridge DNS with Swarm active: {out}");
    bridge.aistack(&["down", "-v"]).ok();
    bridge.assert_nothing_left();

    // `down -v` leaves nothing of the stack.
    s.aistack(&["down", "-v"]).ok();
    assert_eq!(d.left(), Vec::<String>::new());
}

#[test]
fn swarm_deploy_stops_before_the_dependents_of_a_failed_job_and_says_why() {
    let Some(_swarm) = Swarm::acquire("swarm-job") else {
        return;
    };
    let Some(d) = Deployed::new("swarm-job", "swarm-job-fails") else {
        return;
    };
    let s = &d.stack;
    let out = s.aistack(&["deploy", "--progress", "plain"]);
    assert_eq!(out.code, 1, "{}", out.all());
    for needle in [
        "service \"migrate\"",
        "exit code 3",
        "migration failed: table users missing",
    ] {
        assert!(
            out.stderr.contains(needle),
            "missing {needle:?}: {}",
            out.all()
        );
    }
    let services = docker_ok(&[
        "service",
        "ls",
        "--filter",
        &format!("label={STACK_LABEL}={}", s.name),
        "--format",
        "{{.Name}}",
    ]);
    assert!(
        !services.contains(&d.service("app")),
        "app was created: {services}"
    );
    s.aistack(&["down"]).ok();
    assert_eq!(d.left(), Vec::<String>::new());
}

#[test]
fn swarm_deploy_refuses_attributes_swarm_cannot_honour_naming_the_service() {
    // The findings come before any Swarm call: no Swarm is needed.
    let Some(s) = Stack::new("swarm-refuse", "guide") else {
        return;
    };
    let out = s.aistack(&["deploy"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "error: service \"proxy\": ports: 127.0.0.1:8080: Swarm publishes on every interface"
        ),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("fix: remove host_ip"), "{}", out.all());
    // Local volumes are only a warning, with the services that use them.
    assert!(
        out.stderr.contains(
            "warning: volumes.redis_data: a local volume lives on one node: a task of redis"
        ),
        "{}",
        out.all()
    );
}
