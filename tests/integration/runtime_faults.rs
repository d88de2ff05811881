//! Faults during `up`/`down` against the real daemon (issue 6): a taken host
//! port, SIGINT/SIGTERM at many points of `up`, two `up` runs of one project
//! at once, the daemon going away under `logs -f` and an attached `up`, and a
//! 200-service stack up and down. Each checks the message and that nothing
//! labelled with the project is left after `down`.
//!
//! The daemon "going away" is simulated by a proxy socket in this process
//! (cut every connection, stop accepting, accept again): the shared daemon
//! is never restarted, other tests use it.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runtime_support::{IMAGE, Out, PROJECT_LABEL, Spawned, Stack, docker_ok, run_or_panic};

/// A service that idles until SIGTERM, then exits at once.
const IDLE: &str = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"#;

#[test]
fn runtime_taken_host_port_fails_up_naming_the_service_and_the_port() {
    // Held by this test process, as by any program on the host.
    let holder = std::net::TcpListener::bind("0.0.0.0:0").expect("bind a free port");
    let port = holder.local_addr().unwrap().port();
    let compose = format!(
        "services:\n  db:\n    image: {IMAGE}\n    command: {IDLE}\n  web:\n    image: {IMAGE}\n    \
         command: {IDLE}\n    ports: [\"{port}:80\"]\n    depends_on: [db]\n"
    );
    let Some(s) = Stack::inline("porttaken", &compose) else {
        return;
    };
    for args in [&["up", "-d"][..], &["up", "--wait"]] {
        let mut full = args.to_vec();
        full.extend(["--progress", "quiet"]);
        let up = s.aistack(&full);
        assert_eq!(up.code, 1, "{args:?}: {}", up.all());
        let err = &up.stderr;
        assert!(
            err.contains(&format!(
                "error: service \"web\": host port {port} is already in use"
            )),
            "{args:?}: the service and the port are not named first:\n{err}"
        );
        assert!(err.contains(&format!("0.0.0.0:{port}")), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    drop(holder);
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

/// Six services with health checks that pass after a moment, in a chain
/// (a ← b ← c ← e ← f, a ← d ← e), two networks and a volume: `up --wait`
/// spends a few seconds creating, starting and waiting.
fn chain_stack() -> String {
    let svc = |name: &str, deps: &[(&str, &str)], extra: &str| {
        let mut out = format!(
            "  {name}:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; \
             (sleep 0.3; touch /tmp/ready) & sleep 3600 & wait\"]\n    healthcheck:\n      \
             test: [\"CMD\", \"test\", \"-f\", \"/tmp/ready\"]\n      interval: 1s\n      retries: 30\n    \
             networks: [front, back]\n{extra}"
        );
        if !deps.is_empty() {
            out.push_str("    depends_on:\n");
            for (d, cond) in deps {
                out.push_str(&format!("      {d}: {{condition: {cond}}}\n"));
            }
        }
        out
    };
    let mut y = String::from("services:\n");
    y.push_str(&svc("a", &[], ""));
    y.push_str(&svc("b", &[("a", "service_healthy")], ""));
    y.push_str(&svc("c", &[("b", "service_healthy")], ""));
    y.push_str(&svc("d", &[("a", "service_healthy")], ""));
    y.push_str(&svc(
        "e",
        &[("c", "service_healthy"), ("d", "service_started")],
        "",
    ));
    y.push_str(&svc(
        "f",
        &[("e", "service_healthy")],
        "    volumes: [data:/data]\n",
    ));
    y.push_str("networks:\n  front: {}\n  back: {}\nvolumes:\n  data: {}\n");
    y
}

/// A small xorshift: varied delays without a dependency; the seed is
/// printed so a failing round can be replayed (AISTACK_FAULT_SEED).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn runtime_signal_at_any_point_of_up_stops_promptly_and_down_leaves_nothing() {
    let Some(s) = Stack::inline("signals", &chain_stack()) else {
        return;
    };
    let rounds: u64 = std::env::var("AISTACK_FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .max(2);
    let mut seed: u64 = std::env::var("AISTACK_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    eprintln!("signal rounds: {rounds}, AISTACK_FAULT_SEED={seed}");
    let mut seen = std::collections::BTreeMap::<String, u32>::new();
    for round in 0..rounds {
        // Spread over 20 ms .. 3 s, each round jittered within its slot.
        let slot = 2980 / rounds;
        let delay = Duration::from_millis(20 + round * slot + next(&mut seed) % slot.max(1));
        let (sig, code) = if round % 2 == 0 {
            (libc::SIGINT, 130)
        } else {
            (libc::SIGTERM, 143)
        };
        let up = Spawned::start(
            s.path(),
            &[
                "-p",
                &s.name,
                "-f",
                "compose.yaml",
                "up",
                "--wait",
                "--progress",
                "plain",
            ],
            &[],
        );
        std::thread::sleep(delay);
        up.signal(sig);
        let signalled = Instant::now();
        let what = format!("round {round}: signal {sig} after {delay:?}");
        let (status, out) = up
            .wait(Duration::from_secs(15))
            .unwrap_or_else(|| panic!("{what}: `up` still running 15 s after the signal"));
        let took = signalled.elapsed();
        use std::os::unix::process::ExitStatusExt;
        let how = match (status.code(), status.signal()) {
            (Some(c), _) if c == code => "stopped",
            (Some(0), _) => "finished before the signal",
            // The signal beat the handler's installation (the first
            // milliseconds): the process died of it, before any engine call.
            (None, Some(s)) if s == sig => "killed before it began",
            _ => panic!(
                "{what}: unexpected end {status:?} after {took:?}\n{}",
                out.all()
            ),
        };
        if how == "stopped" {
            assert!(
                out.stderr.contains("interrupted"),
                "{what}: no word about the interruption\n{}",
                out.all()
            );
            assert!(!out.stderr.contains("panicked"), "{what}\n{}", out.all());
        }
        *seen.entry(how.to_string()).or_default() += 1;
        eprintln!("{what}: {how} in {took:?}");
        let down = s.aistack(&["down", "-v", "--progress", "quiet"]);
        assert_eq!(down.code, 0, "{what}: down after {how}\n{}", down.all());
        let left = s.labelled();
        assert_eq!(
            left,
            (vec![], vec![], vec![]),
            "{what}: (containers, networks, volumes) left after {how} and down\n--- up\n{}",
            out.all()
        );
    }
    eprintln!("signal rounds: {seen:?}");
    assert!(
        seen.get("stopped").copied().unwrap_or(0) >= 1,
        "no round interrupted `up` mid-way: {seen:?}"
    );
}

#[test]
fn runtime_two_concurrent_ups_make_one_consistent_stack() {
    let compose = format!(
        "services:\n  api:\n    image: {IMAGE}\n    command: {IDLE}\n    networks: [front, back]\n    \
         depends_on: [db]\n  db:\n    image: {IMAGE}\n    command: {IDLE}\n    networks: [back]\n    \
         volumes: [data:/data]\n  web:\n    image: {IMAGE}\n    command: {IDLE}\n    networks: [front]\n\
         networks:\n  front: {{}}\n  back: {{}}\nvolumes:\n  data: {{}}\n"
    );
    let Some(s) = Stack::inline("concurrent", &compose) else {
        return;
    };
    let args = [
        "-p",
        s.name.as_str(),
        "-f",
        "compose.yaml",
        "up",
        "--wait",
        "--progress",
        "plain",
    ];
    let first = Spawned::start(s.path(), &args, &[]);
    let second = Spawned::start(s.path(), &args, &[]);
    let limit = Duration::from_secs(120);
    let (_, a) = first.wait(limit).expect("first up did not end");
    let (_, b) = second.wait(limit).expect("second up did not end");
    assert_eq!(a.code, 0, "first: {}", a.all());
    assert_eq!(b.code, 0, "second: {}", b.all());
    let (containers, networks, volumes) = s.labelled();
    assert_eq!(
        containers,
        ["api", "db", "web"].map(|n| s.container(n)),
        "one container per service"
    );
    let want_nets = [format!("{}_back", s.name), format!("{}_front", s.name)];
    assert_eq!(networks, want_nets, "one network per declared network");
    assert_eq!(volumes, [format!("{}_data", s.name)]);
    // By name too: Engine 20.10 lets two networks share one name, and a
    // duplicate created without labels would not show in the list above.
    let all = docker_ok(&["network", "ls", "--format", "{{.Name}}"]);
    for n in &want_nets {
        assert_eq!(
            all.lines().filter(|l| l == n).count(),
            1,
            "network {n} exists more than once:\n{all}"
        );
    }
    for svc in ["api", "db", "web"] {
        assert_eq!(s.inspect(svc, "{{.State.Status}}"), "running", "{svc}");
    }
    // The api container is attached to both of its networks exactly once.
    let nets = s.inspect(
        "api",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
    );
    let mut nets: Vec<&str> = nets.split_whitespace().collect();
    nets.sort_unstable();
    assert_eq!(
        nets,
        want_nets.iter().map(String::as_str).collect::<Vec<_>>()
    );
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

/// A Unix socket that forwards to the real daemon and can play dead: `cut`
/// drops every connection and removes the socket (a stopped daemon), `resume`
/// listens again (the daemon is back).
struct Proxy {
    path: PathBuf,
    accepting: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<UnixStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Where the daemon really listens (the tests' DOCKER_HOST, if unix).
fn upstream() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if h.starts_with("unix://") => PathBuf::from(h.trim_start_matches("unix://")),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

impl Proxy {
    fn start() -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let accepting = Arc::new(AtomicBool::new(true));
        let done = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (path, accepting, done, conns) =
                (path.clone(), accepting.clone(), done.clone(), conns.clone());
            std::thread::spawn(move || serve(&path, &accepting, &done, &conns))
        };
        // Ready once the socket exists.
        let start = Instant::now();
        while !path.exists() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Proxy {
            path,
            accepting,
            done,
            conns,
            thread: Some(thread),
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn cut(&self) {
        self.accepting.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        // The listener thread unlinks the socket within a poll interval.
        let start = Instant::now();
        while self.path.exists() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn resume(&self) {
        self.accepting.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The proxy's accept loop: non-blocking, so it can stop listening (unlink
/// the socket) and start again on request.
fn serve(path: &Path, accepting: &AtomicBool, done: &AtomicBool, conns: &Mutex<Vec<UnixStream>>) {
    let mut listener: Option<UnixListener> = None;
    while !done.load(Ordering::SeqCst) {
        let want = accepting.load(Ordering::SeqCst);
        match (&listener, want) {
            (None, true) => {
                let _ = std::fs::remove_file(path);
                if let Ok(l) = UnixListener::bind(path) {
                    let _ = l.set_nonblocking(true);
                    listener = Some(l);
                }
            }
            (Some(_), false) => {
                listener = None;
                let _ = std::fs::remove_file(path);
            }
            _ => {}
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        match l.accept() {
            Ok((client, _)) => {
                let _ = client.set_nonblocking(false);
                let Ok(daemon) = UnixStream::connect(upstream()) else {
                    continue;
                };
                let mut list = conns.lock().unwrap();
                for s in [&client, &daemon] {
                    if let Ok(c) = s.try_clone() {
                        list.push(c);
                    }
                }
                drop(list);
                pump(&client, &daemon);
                pump(&daemon, &client);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let _ = std::fs::remove_file(path);
}

/// Copy `from` → `to` on a thread until either side closes.
fn pump(from: &UnixStream, to: &UnixStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// A service printing a numbered line every 200 ms.
fn chatty_stack() -> String {
    format!(
        "services:\n  talker:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; \
         i=0; while true; do i=$$((i+1)); echo tick $$i; sleep 0.2; done\"]\n"
    )
}

/// Cuts the proxy once `running` has printed a tick, keeps the "daemon"
/// away for 3 s, then checks the command ended with a clear message.
fn lose_the_daemon_under(running: Spawned, proxy: &Proxy, doing: &str) -> Out {
    let mut running = running;
    assert!(
        running.wait_for_stdout(Duration::from_secs(60), |o| o.contains("tick")),
        "{doing}: no output before the cut\n--- stdout\n{}--- stderr\n{}",
        running.stdout(),
        running.stderr()
    );
    let cut = Instant::now();
    proxy.cut();
    std::thread::sleep(Duration::from_secs(3));
    proxy.resume();
    let (_, out) = running
        .wait(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{doing}: still running 20 s after the daemon went away"));
    let took = cut.elapsed();
    assert_eq!(out.code, 4, "{doing}: {}", out.all());
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("lost the connection to the Docker daemon at "))
        .unwrap_or_else(|| panic!("{doing}: no clear message\n{}", out.all()));
    assert!(line.contains(&proxy.host()), "{line}");
    assert!(line.contains(doing), "{line}");
    assert!(!out.stderr.contains("panicked"), "{}", out.all());
    eprintln!("{doing}: ended {took:?} after the cut");
    out
}

#[test]
fn runtime_daemon_going_away_ends_logs_follow_with_a_clear_message() {
    let Some(s) = Stack::inline("lostlogs", &chatty_stack()) else {
        return;
    };
    s.aistack(&["up", "-d", "--progress", "quiet"]).ok();
    let proxy = Proxy::start();
    let host = proxy.host();
    let logs = Spawned::start(
        s.path(),
        &["-p", &s.name, "-f", "compose.yaml", "logs", "-f"],
        &[("DOCKER_HOST", host.as_str())],
    );
    lose_the_daemon_under(logs, &proxy, "following logs");
    // The stack itself was not touched: it still runs, and down removes it.
    assert_eq!(s.inspect("talker", "{{.State.Status}}"), "running");
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_daemon_going_away_ends_attached_up_with_a_clear_message() {
    let Some(s) = Stack::inline("lostup", &chatty_stack()) else {
        return;
    };
    let proxy = Proxy::start();
    let host = proxy.host();
    let up = Spawned::start(
        s.path(),
        &[
            "-p",
            &s.name,
            "-f",
            "compose.yaml",
            "up",
            "--progress",
            "plain",
        ],
        &[("DOCKER_HOST", host.as_str())],
    );
    let out = lose_the_daemon_under(up, &proxy, "following the stack's output");
    assert!(
        out.stderr.contains("the containers were left as they are"),
        "{}",
        out.all()
    );
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

/// 200 idle services on two networks (a third on both), no health checks.
/// On Engine 20.10 before 20.10.27 this is also the regression test for
/// `quirks::serial_stops`: the first parallel `down` of this stack on
/// 20.10.24 deadlocked the daemon's network controller (moby/moby#46661).
fn big_stack(n: usize) -> String {
    let mut y = String::from("services:\n");
    for i in 0..n {
        let nets = match i % 3 {
            0 => "[front, back]",
            1 => "[front]",
            _ => "[back]",
        };
        y.push_str(&format!(
            "  s{i:03}:\n    image: {IMAGE}\n    command: {IDLE}\n    networks: {nets}\n"
        ));
    }
    y.push_str("networks:\n  front: {}\n  back: {}\n");
    y
}

/// `aistack ARGS` for stack `s` with a longer limit than `CALL`.
fn aistack_long(s: &Stack, args: &[&str], limit: Duration) -> (Out, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistack"));
    cmd.args(["-p", &s.name, "-f", "compose.yaml"])
        .args(args)
        .current_dir(s.path())
        .env_clear();
    for k in ["PATH", "HOME", "DOCKER_HOST", "XDG_RUNTIME_DIR"] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    let start = Instant::now();
    let out = run_or_panic(cmd, limit);
    (out, start.elapsed())
}

#[test]
fn runtime_two_hundred_services_come_up_and_go_down_twice_leaving_nothing() {
    const N: usize = 200;
    // About two minutes on a 2-core machine; AISTACK_SCALE_TEST=0 skips it.
    if std::env::var("AISTACK_SCALE_TEST").as_deref() == Ok("0") {
        eprintln!("skipping the 200-service test: AISTACK_SCALE_TEST=0");
        return;
    }
    let Some(s) = Stack::inline("scale", &big_stack(N)) else {
        return;
    };
    let limit = Duration::from_secs(600);
    let filter = format!("label={PROJECT_LABEL}={}", s.name);
    for round in 1..=2 {
        let (up, up_took) = aistack_long(&s, &["up", "-d", "--progress", "quiet"], limit);
        assert_eq!(up.code, 0, "round {round}: up: {}", up.all());
        let running = docker_ok(&[
            "ps",
            "-q",
            "--filter",
            &filter,
            "--filter",
            "status=running",
        ]);
        assert_eq!(
            running.lines().count(),
            N,
            "round {round}: running containers"
        );
        let (down, down_took) = aistack_long(&s, &["down", "-v", "--progress", "quiet"], limit);
        assert_eq!(down.code, 0, "round {round}: down: {}", down.all());
        s.assert_nothing_left();
        eprintln!("{N} services, round {round}: up -d {up_took:?}, down -v {down_took:?}");
    }
}
