//! `DockerEngine` against the real daemon on this machine (Engine 20.10,
//! API 1.41 here). Each test labels everything `io.aistack.test=<unique>`,
//! names it `aistest-<unique>-*`, and sweeps by that label before and after
//! (a Drop guard, so also on panic). Test images are built locally (no
//! registry): `aistack-test/busybox:1`, FROM scratch with Debian's static
//! busybox. With CI=true a missing daemon fails these tests; otherwise they
//! skip with a message.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aistack::engine::{
    ContainerSpec, ContainerState, DockerEngine, EndpointSpec, Engine, EngineError, EngineEvent,
    EventKind, HealthSpec, HealthState, HostBinding, IpamPool, LogLine, LogStream, MountKind,
    MountSpec, NetworkSpec, PortKey, VolumeSpec,
};
use futures_util::{Stream, StreamExt};

// The image builder is shared with the runtime tests.
use crate::runtime_support::ensure_test_image;

const IMAGE: &str = "aistack-test/busybox:1";
const LABEL: &str = "io.aistack.test";
/// Deadline for anything a test waits on (events, health, exits).
const WAIT: Duration = Duration::from_secs(30);

// ----- harness -----

/// A docker CLI call with a hard timeout; never panics (used in Drop).
fn docker_cli(args: &[&str], limit: Duration) -> Option<(bool, String)> {
    let mut child = Command::new("docker")
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return None,
        }
    }
    let out = child.wait_with_output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), text))
}

/// Removes everything labelled `io.aistack.test=<value>`.
fn sweep(value: &str) {
    let filter = format!("label={LABEL}={value}");
    let t = Duration::from_secs(30);
    for (list, rm) in [
        (
            vec!["ps", "-aq", "--filter", filter.as_str()],
            vec!["rm", "-f", "-v"],
        ),
        (
            vec!["network", "ls", "-q", "--filter", filter.as_str()],
            vec!["network", "rm"],
        ),
        (
            vec!["volume", "ls", "-q", "--filter", filter.as_str()],
            vec!["volume", "rm", "-f"],
        ),
    ] {
        let Some((true, ids)) = docker_cli(&list, t) else {
            continue;
        };
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = rm.clone();
            args.extend(ids);
            let _ = docker_cli(&args, t);
        }
    }
}

struct TestCtx {
    engine: DockerEngine,
    unique: String,
}

impl TestCtx {
    fn labels(&self) -> BTreeMap<String, String> {
        [(LABEL.to_string(), self.unique.clone())]
            .into_iter()
            .collect()
    }

    fn filter(&self) -> [(&str, &str); 1] {
        [(LABEL, self.unique.as_str())]
    }

    fn name(&self, suffix: &str) -> String {
        format!("aistest-{}-{suffix}", self.unique)
    }

    fn network(&self, suffix: &str) -> NetworkSpec {
        NetworkSpec {
            name: self.name(suffix),
            labels: self.labels(),
            ..Default::default()
        }
    }

    /// A busybox container running `script` under a PID-1 shell that exits
    /// on TERM (without the trap, stop would wait out the grace period).
    fn container(&self, suffix: &str, script: &str) -> ContainerSpec {
        ContainerSpec {
            name: self.name(suffix),
            image: IMAGE.into(),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                format!("trap 'exit 0' TERM INT; {script}"),
            ]),
            labels: self.labels(),
            ..Default::default()
        }
    }

    fn idle(&self, suffix: &str) -> ContainerSpec {
        self.container(suffix, "while :; do sleep 0.2; done")
    }

    /// busybox httpd on :8080 serving /www (index says "hello from aistack").
    fn server(&self, suffix: &str) -> ContainerSpec {
        self.container(suffix, "httpd -f -p 8080 -h /www & wait")
    }

    async fn exec(&self, id: &str, script: &str) -> (i64, String) {
        let cmd = ["sh", "-c", script].map(String::from);
        let out = self
            .engine
            .exec(id, &cmd, None, &[], Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("exec {script:?}: {e}"));
        (out.exit_code, out.output)
    }

    async fn run(&self, spec: &ContainerSpec) -> String {
        let id = self.engine.create_container(spec).await.unwrap();
        self.engine.start_container(&id).await.unwrap();
        id
    }
}

impl Drop for TestCtx {
    fn drop(&mut self) {
        sweep(&self.unique);
    }
}

/// Connects (or skips: `None`), builds the test image once, and returns a
/// context whose label value is unique to this test run.
async fn setup(tag: &str) -> Option<TestCtx> {
    let engine = match DockerEngine::connect().await {
        Ok(e) => e,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{tag}: CI=true and the Docker daemon is required: {e}")
        }
        Err(e) => {
            eprintln!("skipping {tag}: {e}");
            return None;
        }
    };
    ensure_test_image();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let unique = format!(
        "{tag}-{:x}{:x}{}",
        std::process::id(),
        nanos >> 12,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sweep(&unique);
    Some(TestCtx { engine, unique })
}

/// The next event matching `pred`, or a panic naming what never came.
async fn next_event<S>(
    events: &mut S,
    what: &str,
    pred: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent
where
    S: Stream<Item = Result<EngineEvent, EngineError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(e))) if pred(&e) => return e,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("events stream failed while waiting for {what}: {e}"),
            Ok(None) => panic!("events stream ended while waiting for {what}"),
            Err(_) => panic!("no {what} event within {WAIT:?}"),
        }
    }
}

/// All log lines of a container that has exited (or the first error).
async fn logs_of(
    ctx: &TestCtx,
    id: &str,
    tail: Option<usize>,
    timestamps: bool,
) -> Result<Vec<LogLine>, EngineError> {
    let lines = ctx.engine.logs(id, false, tail, timestamps, None);
    tokio::time::timeout(WAIT, lines.collect::<Vec<_>>())
        .await
        .expect("logs did not end in time")
        .into_iter()
        .collect()
}

async fn wait_exit(ctx: &TestCtx, id: &str) -> i64 {
    tokio::time::timeout(WAIT, ctx.engine.wait_container(id))
        .await
        .expect("container did not exit in time")
        .expect("wait_container")
}

// ----- tests -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_connects_and_reports_negotiated_api() {
    let Some(ctx) = setup("info").await else {
        return;
    };
    let info = ctx.engine.info().await.unwrap();
    assert!(!info.server_version.is_empty());
    assert_eq!(info.api_version, ctx.engine.api_version());
    let (ok, daemon_api) = docker_cli(
        &["version", "--format", "{{.Server.APIVersion}}"],
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(ok, "{daemon_api}");
    // Negotiation lowers bollard's 1.53 to what the daemon speaks (G1).
    let (major, minor) = daemon_api.trim().split_once('.').unwrap();
    let daemon: (u32, u32) = (major.parse().unwrap(), minor.parse().unwrap());
    assert_eq!(info.api_version, daemon.min((1, 53)), "{info:?}");
    assert!(!info.os.is_empty());
    assert!(ctx.engine.image_exists(IMAGE).await.unwrap());
    assert!(
        !ctx.engine
            .image_exists("aistack-test/does-not-exist:0")
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_unreachable_daemon_is_a_one_line_error() {
    for host in ["unix:///nonexistent.sock", "tcp://127.0.0.1:1"] {
        let started = Instant::now();
        let err = DockerEngine::connect_to(host).await.unwrap_err();
        assert!(err.is_unreachable(), "{host}: {err:?}");
        let text = err.to_string();
        eprintln!("{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains(host), "{text}");
        assert!(text.contains("docker info"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_networks_create_list_remove_and_refuse_duplicates() {
    let Some(ctx) = setup("net").await else {
        return;
    };
    let e = &ctx.engine;
    // An unusual subnet; retry another if a parallel run holds this one.
    let seed = std::process::id() as usize + ctx.unique.len() * 7;
    let mut id = None;
    let mut spec = ctx.network("internal");
    spec.internal = true;
    for attempt in 0..5 {
        let subnet = format!(
            "10.{}.{}.0/24",
            200 + (seed + attempt) % 50,
            (seed / 50 + attempt * 31) % 256
        );
        spec.ipam = vec![IpamPool {
            subnet: Some(subnet),
            ..Default::default()
        }];
        match e.create_network(&spec).await {
            Ok(n) => {
                id = Some(n);
                break;
            }
            Err(EngineError::Api { message, .. }) if message.contains("overlap") => continue,
            Err(other) => panic!("create network: {other}"),
        }
    }
    let id = id.expect("no free subnet in 5 attempts");

    let listed = e.list_networks(&ctx.filter()).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].name, spec.name);
    assert!(listed[0].internal);
    assert_eq!(listed[0].labels[LABEL], ctx.unique);

    // G3: the daemon would create a second network of the same name.
    let mut dup = ctx.network("internal");
    dup.ipam.clear();
    let err = e.create_network(&dup).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let (ok, names) = docker_cli(
        &[
            "network",
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            &format!("label={LABEL}={}", ctx.unique),
        ],
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(ok);
    assert_eq!(
        names.lines().filter(|n| *n == spec.name).count(),
        1,
        "the duplicate must be gone: {names}"
    );

    // A network with a container attached reports it.
    let c = ContainerSpec {
        networks: vec![EndpointSpec {
            network: spec.name.clone(),
            ..Default::default()
        }],
        ..ctx.idle("member")
    };
    let cid = e.create_container(&c).await.unwrap();
    // Only running containers have endpoints (a created one is not listed,
    // and would not even keep the network from being removed).
    let listed = e.list_networks(&ctx.filter()).await.unwrap();
    assert!(listed[0].containers.is_empty(), "{listed:?}");
    e.start_container(&cid).await.unwrap();
    let listed = e.list_networks(&ctx.filter()).await.unwrap();
    assert_eq!(listed[0].containers, [c.name.as_str()]);
    let busy = e.remove_network(&id).await.unwrap_err();
    assert!(
        matches!(busy, EngineError::Api { status: 403, .. }),
        "{busy:?}"
    );
    e.remove_container(&cid, true, false).await.unwrap();

    e.remove_network(&id).await.unwrap();
    assert!(e.list_networks(&ctx.filter()).await.unwrap().is_empty());
    e.remove_network(&id).await.unwrap(); // already gone: fine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_volumes_create_list_remove() {
    let Some(ctx) = setup("vol").await else {
        return;
    };
    let e = &ctx.engine;
    let spec = VolumeSpec {
        name: ctx.name("data"),
        labels: ctx.labels(),
        ..Default::default()
    };
    assert_eq!(e.create_volume(&spec).await.unwrap(), spec.name);
    // Same name and labels: the daemon returns the existing volume.
    assert_eq!(e.create_volume(&spec).await.unwrap(), spec.name);
    let mut foreign = spec.clone();
    foreign.labels.insert("other".into(), "x".into());
    assert!(e.create_volume(&foreign).await.unwrap_err().is_conflict());
    let listed = e.list_volumes(&ctx.filter()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, spec.name);
    e.remove_volume(&spec.name, false).await.unwrap();
    assert!(e.list_volumes(&ctx.filter()).await.unwrap().is_empty());
    e.remove_volume(&spec.name, false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_two_networks_aliases_and_isolation() {
    let Some(ctx) = setup("alias").await else {
        return;
    };
    let e = &ctx.engine;
    for n in ["a", "b", "c"] {
        e.create_network(&ctx.network(n)).await.unwrap();
    }
    let on = |net: &str, aliases: &[&str]| EndpointSpec {
        network: ctx.name(net),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    // G4: two networks on API 1.41 = create with one, connect the other.
    let server = ContainerSpec {
        networks: vec![on("a", &["alpha-svc"]), on("b", &["beta-svc"])],
        ..ctx.server("srv")
    };
    let srv = ctx.run(&server).await;
    let mut clients = Vec::new();
    for n in ["a", "b", "c"] {
        let spec = ContainerSpec {
            networks: vec![on(n, &[])],
            ..ctx.idle(&format!("client-{n}"))
        };
        clients.push(ctx.run(&spec).await);
    }
    let details = e.inspect_container(&srv).await.unwrap();
    let nets = &details.container.networks;
    assert_eq!(nets.len(), 2, "{nets:?}");
    assert!(
        nets[&ctx.name("a")]
            .aliases
            .contains(&"alpha-svc".to_string())
    );
    assert!(
        nets[&ctx.name("b")]
            .aliases
            .contains(&"beta-svc".to_string())
    );
    assert!(!nets[&ctx.name("b")].ip.is_empty());

    // Reachable by its alias on each network it shares with the client.
    let fetch = |alias: &str| {
        format!(
            "for i in $(seq 1 50); do timeout 3 wget -q -O- http://{alias}:8080/ && exit 0; sleep 0.1; done; exit 1"
        )
    };
    let (code, out) = ctx.exec(&clients[0], &fetch("alpha-svc")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hello from aistack"), "{out}");
    let (code, out) = ctx.exec(&clients[1], &fetch("beta-svc")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hello from aistack"), "{out}");

    // Aliases are per network: network a does not know beta-svc.
    let (code, out) = ctx.exec(&clients[0], "nslookup beta-svc 127.0.0.11").await;
    assert_ne!(code, 0, "beta-svc resolved on network a: {out}");
    // From a third network, neither name resolves nor is the address reachable.
    let (code, out) = ctx.exec(&clients[2], "nslookup alpha-svc 127.0.0.11").await;
    assert_ne!(code, 0, "alpha-svc resolved on network c: {out}");
    let ip = &nets[&ctx.name("a")].ip;
    let (code, out) = ctx
        .exec(
            &clients[2],
            &format!("timeout 3 wget -q -O- http://{ip}:8080/"),
        )
        .await;
    assert_ne!(code, 0, "network c reached {ip}: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_failed_connect_removes_the_half_made_container() {
    let Some(ctx) = setup("halfmade").await else {
        return;
    };
    let e = &ctx.engine;
    e.create_network(&ctx.network("a")).await.unwrap();
    e.create_network(&ctx.network("b")).await.unwrap();
    let on = |net: &str| EndpointSpec {
        network: ctx.name(net),
        ..Default::default()
    };
    // The second network is connected after create (G4); a fixed address
    // on a network without a configured subnet makes that connect fail.
    let spec = ContainerSpec {
        networks: vec![
            on("a"),
            EndpointSpec {
                ipv4_address: Some("10.9.9.9".into()),
                ..on("b")
            },
        ],
        ..ctx.idle("web")
    };
    let err = e.create_container(&spec).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::Api { status: 400, message } if message.contains("user configured subnets")),
        "{err:?}"
    );
    let left = e.list_containers(&ctx.filter(), true).await.unwrap();
    assert!(
        left.is_empty(),
        "the half-made container is removed: {left:?}"
    );

    // 20.10 does not check that a network exists before start: create and
    // connect succeed, start names the missing network.
    let spec = ContainerSpec {
        networks: vec![on("a"), on("missing")],
        ..ctx.idle("lost")
    };
    let id = e.create_container(&spec).await.unwrap();
    let err = e.start_container(&id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("network {} not found", ctx.name("missing"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_publishes_ports_on_localhost() {
    let Some(ctx) = setup("ports").await else {
        return;
    };
    let e = &ctx.engine;
    e.create_network(&ctx.network("edge")).await.unwrap();
    let spec = ContainerSpec {
        networks: vec![EndpointSpec {
            network: ctx.name("edge"),
            ..Default::default()
        }],
        port_bindings: [(
            PortKey::tcp(8080),
            vec![HostBinding {
                host_ip: "127.0.0.1".into(),
                host_port: String::new(),
            }],
        )]
        .into_iter()
        .collect(),
        ..ctx.server("web")
    };
    let id = ctx.run(&spec).await;
    let c = e.inspect_container(&id).await.unwrap().container;
    assert_eq!(c.ports.len(), 1, "{:?}", c.ports);
    let p = &c.ports[0];
    assert_eq!((p.container_port, p.protocol.as_str()), (8080, "tcp"));
    assert_eq!(p.host_ip, "127.0.0.1");
    let listed = e.list_containers(&ctx.filter(), false).await.unwrap();
    assert_eq!(listed[0].ports, c.ports);

    let addr = format!("127.0.0.1:{}", p.host_port);
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(&addr)?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        })();
        match attempt {
            Ok(text) if text.contains("hello from aistack") => break text,
            _ if Instant::now() > deadline => panic!("{addr} did not answer: {attempt:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert!(body.starts_with("HTTP/1."), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_health_state_and_events() {
    let Some(ctx) = setup("health").await else {
        return;
    };
    let e = &ctx.engine;
    let spec = ContainerSpec {
        healthcheck: Some(HealthSpec {
            test: ["CMD-SHELL", "test -f /tmp/ready"]
                .map(String::from)
                .to_vec(),
            interval: Some(Duration::from_millis(250)),
            timeout: Some(Duration::from_secs(2)),
            retries: Some(2),
            start_period: Some(Duration::from_secs(10)),
            start_interval: None,
        }),
        ..ctx.container(
            "svc",
            "sleep 1; touch /tmp/ready; while :; do sleep 0.2; done",
        )
    };
    // G9: subscribe before the start so no transition is missed.
    let mut events = e.events(&ctx.filter(), None);
    let id = ctx.run(&spec).await;
    let start = next_event(&mut events, "start", |ev| ev.kind == EventKind::Start).await;
    assert_eq!(start.container_id, id);
    assert_eq!(start.container_name, spec.name);
    assert_eq!(start.labels[LABEL], ctx.unique);
    let early = e.inspect_container(&id).await.unwrap().container.health;
    assert!(
        early.is_some(),
        "a container with a health check has a health state"
    );

    let healthy = next_event(&mut events, "healthy", |ev| {
        ev.kind == EventKind::HealthStatus(HealthState::Healthy)
    })
    .await;
    assert_eq!(healthy.container_id, id);
    assert!(healthy.time_nano >= start.time_nano);
    let d = e.inspect_container(&id).await.unwrap();
    assert_eq!(d.container.health, Some(HealthState::Healthy));
    assert!(!d.health_log.is_empty());
    assert!(d.container.started_at.is_some());

    let (code, _) = ctx.exec(&id, "rm /tmp/ready").await;
    assert_eq!(code, 0);
    next_event(&mut events, "unhealthy", |ev| {
        ev.kind == EventKind::HealthStatus(HealthState::Unhealthy)
    })
    .await;
    let listed = e.list_containers(&ctx.filter(), false).await.unwrap();
    assert_eq!(listed[0].health, Some(HealthState::Unhealthy));

    // `since` replays what already happened.
    let mut replay = e.events(
        &ctx.filter(),
        Some(SystemTime::now() - Duration::from_secs(120)),
    );
    next_event(&mut replay, "replayed start", |ev| {
        ev.kind == EventKind::Start
    })
    .await;

    e.remove_container(&id, true, false).await.unwrap();
    next_event(&mut events, "destroy", |ev| ev.kind == EventKind::Destroy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_exec_passes_exit_code_output_user_and_env() {
    let Some(ctx) = setup("exec").await else {
        return;
    };
    let id = ctx.run(&ctx.idle("box")).await;
    let (code, out) = ctx.exec(&id, "echo out; echo err >&2; exit 7").await;
    assert_eq!(code, 7);
    assert!(out.contains("out") && out.contains("err"), "{out:?}");
    let cmd = ["sh", "-c", "echo $(id -u) $GREETING"].map(String::from);
    let out = ctx
        .engine
        .exec(
            &id,
            &cmd,
            Some("1000"),
            &["GREETING=hi".into()],
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!((out.exit_code, out.output.trim()), (0, "1000 hi"));
    let slow = ["sleep", "5"].map(String::from);
    let err = ctx
        .engine
        .exec(&id, &slow, None, &[], Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Timeout { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_wait_returns_non_zero_exit_and_die_event() {
    let Some(ctx) = setup("wait").await else {
        return;
    };
    let e = &ctx.engine;
    let mut events = e.events(&ctx.filter(), None);
    let id = ctx.run(&ctx.container("job", "sleep 0.3; exit 3")).await;
    assert_eq!(wait_exit(&ctx, &id).await, 3);
    let die = next_event(&mut events, "die", |ev| {
        matches!(ev.kind, EventKind::Die { .. })
    })
    .await;
    assert_eq!(die.kind, EventKind::Die { exit_code: 3 });
    let d = e.inspect_container(&id).await.unwrap();
    assert_eq!(d.container.state, ContainerState::Exited);
    assert_eq!(d.container.exit_code, 3);
    assert!(d.finished_at.is_some());
    // An exited container is not "running" but is in the full list.
    assert!(
        e.list_containers(&ctx.filter(), false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        e.list_containers(&ctx.filter(), true).await.unwrap().len(),
        1
    );
    // Starting a container that exits 0 waits to 0.
    let ok = ctx.run(&ctx.container("ok", "true")).await;
    assert_eq!(wait_exit(&ctx, &ok).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_logs_stream_lines_in_order() {
    let Some(ctx) = setup("logs").await else {
        return;
    };
    let e = &ctx.engine;
    let script = "for i in $(seq 1 200); do echo line $i; done; echo oops >&2; printf partial";
    let id = ctx.run(&ctx.container("talker", script)).await;
    assert_eq!(wait_exit(&ctx, &id).await, 0);
    let lines = logs_of(&ctx, &id, None, false).await.unwrap();
    let stdout: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == LogStream::Stdout)
        .map(|l| l.text.as_str())
        .collect();
    let want: Vec<String> = (1..=200).map(|i| format!("line {i}")).collect();
    assert_eq!(&stdout[..200], want.as_slice());
    assert_eq!(stdout[200..], ["partial"], "a partial last line is kept");
    let stderr: Vec<_> = lines
        .iter()
        .filter(|l| l.stream == LogStream::Stderr)
        .collect();
    assert_eq!(stderr.len(), 1);
    assert_eq!(stderr[0].text, "oops");

    let tail = logs_of(&ctx, &id, Some(2), true).await.unwrap();
    assert_eq!(tail.len(), 2, "{tail:?}");
    assert!(
        tail.iter()
            .all(|l| l.timestamp.as_ref().is_some_and(|t| t.ends_with('Z')))
    );

    // follow: lines arrive while the container runs; the stream ends with it.
    let id = ctx
        .run(&ctx.container(
            "ticker",
            "for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done",
        ))
        .await;
    let followed: Vec<String> = tokio::time::timeout(
        WAIT,
        e.logs(&id, true, None, false, None)
            .map(|l| l.unwrap().text)
            .collect::<Vec<_>>(),
    )
    .await
    .expect("a follow stream ends when the container exits");
    assert_eq!(followed, ["tick 1", "tick 2", "tick 3", "tick 4", "tick 5"]);

    let missing = logs_of(&ctx, "aistest-no-such-container", None, false).await;
    assert!(missing.unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_stop_with_timeout_kill_and_remove() {
    let Some(ctx) = setup("stop").await else {
        return;
    };
    let e = &ctx.engine;
    // Traps TERM: stops at once.
    let polite = ctx.run(&ctx.idle("polite")).await;
    // Ignores TERM: the daemon kills it after the timeout.
    let stubborn = ctx
        .run(&ContainerSpec {
            command: Some(
                ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
                    .map(String::from)
                    .to_vec(),
            ),
            ..ctx.idle("stubborn")
        })
        .await;
    let t = Instant::now();
    e.stop_container(&polite, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let t = Instant::now();
    e.stop_container(&stubborn, Duration::from_secs(1))
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let s = e.inspect_container(&stubborn).await.unwrap().container;
    assert_eq!((s.state, s.exit_code), (ContainerState::Exited, 137));
    let p = e.inspect_container(&polite).await.unwrap().container;
    assert_eq!((p.state, p.exit_code), (ContainerState::Exited, 0));
    // Stopping a stopped container and starting a started one are fine (304).
    e.stop_container(&polite, Duration::from_secs(1))
        .await
        .unwrap();
    e.start_container(&polite).await.unwrap();
    e.start_container(&polite).await.unwrap();

    let err = e.kill_container(&stubborn, "SIGKILL").await.unwrap_err();
    assert!(err.is_conflict(), "killing a stopped container: {err:?}");
    e.kill_container(&polite, "SIGKILL").await.unwrap();
    assert_eq!(wait_exit(&ctx, &polite).await, 137);

    let running = ctx.run(&ctx.idle("running")).await;
    let err = e
        .remove_container(&running, false, false)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    e.remove_container(&running, true, true).await.unwrap();
    let err = e.inspect_container(&running).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    e.remove_container(&running, true, true).await.unwrap(); // gone: fine
    let err = e
        .start_container("aistest-no-such-container")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "container aistest-no-such-container not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_copies_files_and_mounts() {
    let Some(ctx) = setup("files").await else {
        return;
    };
    let e = &ctx.engine;
    let vol = ctx.name("data");
    e.create_volume(&VolumeSpec {
        name: vol.clone(),
        labels: ctx.labels(),
        ..Default::default()
    })
    .await
    .unwrap();
    let script = "cat /run/secrets/token; echo; stat -c '%a %u %g' /run/secrets/token; \
                  id -u; touch /data/y /scratch/z && echo mounts-ok; \
                  grep -q ' /scratch tmpfs' /proc/mounts && echo tmpfs-ok";
    let spec = ContainerSpec {
        // G6: the image owns /data for uid 1000, so the fresh volume is
        // writable (its root is copied from the image's directory).
        user: Some("1000:1000".into()),
        mounts: vec![
            MountSpec::new(MountKind::Volume, Some(&vol), "/data"),
            MountSpec {
                tmpfs_size: Some(1 << 20),
                tmpfs_mode: Some(0o1777),
                ..MountSpec::new(MountKind::Tmpfs, None, "/scratch")
            },
        ],
        ..ctx.container("reader", script)
    };
    let id = e.create_container(&spec).await.unwrap();
    // Into a created (not yet started) container, as secrets are.
    e.copy_file_into(
        &id,
        "/run/secrets/token",
        b"s3cret".to_vec(),
        0o400,
        1000,
        1000,
    )
    .await
    .unwrap();
    e.start_container(&id).await.unwrap();
    let code = wait_exit(&ctx, &id).await;
    let out: Vec<String> = logs_of(&ctx, &id, None, false)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        out,
        ["s3cret", "400 1000 1000", "1000", "mounts-ok", "tmpfs-ok"]
    );
    let err = e
        .copy_file_into(&id, "relative/path", Vec::new(), 0o644, 0, 0)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Other(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_bind_create_host_path_creates_a_missing_source() {
    let Some(ctx) = setup("bindmk").await else {
        return;
    };
    let host = tempfile::tempdir().unwrap();
    let missing = host.path().join("not/there/yet");
    let spec = ContainerSpec {
        mounts: vec![MountSpec {
            bind_create_host_path: true,
            ..MountSpec::new(MountKind::Bind, missing.to_str(), "/m")
        }],
        ..ctx.container("mk", "touch /m/made")
    };
    let id = ctx.run(&spec).await;
    assert_eq!(wait_exit(&ctx, &id).await, 0);
    assert!(missing.join("made").exists());
    // Without create_host_path, the Mounts API refuses a missing source.
    let strict = ContainerSpec {
        mounts: vec![MountSpec::new(
            MountKind::Bind,
            host.path().join("absent").to_str(),
            "/m",
        )],
        ..ctx.container("strict", "true")
    };
    let err = ctx.engine.create_container(&strict).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}
