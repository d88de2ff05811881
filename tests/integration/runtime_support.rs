//! Harness for the runtime tests (`runtime_*.rs`): the real `aistack` binary
//! against the real daemon. Each test gets a `Stack`: a unique project name
//! (`aist-<tag>-<pid>-<n>`), a temp directory holding a copy of a fixture
//! from `tests/fixtures/runtime/`, and a Drop guard that removes everything
//! labelled with the project (containers, networks, volumes) before and
//! after, also when the test panics. Every process runs under a timeout.
//! Images are built locally (`aistack-test/busybox:1`, no registry). With
//! CI=true a missing daemon fails the tests; otherwise they skip.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "aistack-test/busybox:1";
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
/// Limit for one `aistack` or `docker` call made by a test.
pub const CALL: Duration = Duration::from_secs(90);

/// What a finished process said.
#[derive(Debug, Clone)]
pub struct Out {
    /// Exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn ok(self) -> Out {
        assert_eq!(self.code, 0, "{}", self.all());
        self
    }
}

/// Runs `cmd` to completion or kills it after `limit` (`None` then). Both
/// pipes are drained by threads, so a chatty child never blocks on a full pipe.
pub fn run_limited(mut cmd: Command, limit: Duration) -> Option<Out> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().ok()?;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take()?));
    let err = drain(Box::new(child.stderr.take()?));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let status = status?;
    Some(Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// Like `run_limited`, but a timeout is a test failure naming the command.
#[track_caller]
pub fn run_or_panic(cmd: Command, limit: Duration) -> Out {
    let shown = format!("{cmd:?}");
    run_limited(cmd, limit).unwrap_or_else(|| panic!("{shown} did not finish within {limit:?}"))
}

fn docker_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new("docker");
    cmd.args(args).env("DOCKER_BUILDKIT", "0");
    cmd
}

/// A docker CLI call that must finish within `CALL` (its exit code is data).
#[track_caller]
pub fn docker(args: &[&str]) -> Out {
    run_or_panic(docker_cmd(args), CALL)
}

/// A docker CLI call that must succeed; returns its trimmed stdout.
#[track_caller]
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert_eq!(out.code, 0, "docker {args:?}: {}", out.all());
    out.stdout.trim().to_string()
}

/// Removes every container, network and volume labelled with `project`.
/// Never panics (it runs in Drop).
pub fn sweep(project: &str) {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let t = Duration::from_secs(60);
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
        let Some(out) = run_limited(docker_cmd(&list), t) else {
            continue;
        };
        let ids: Vec<&str> = out.stdout.split_whitespace().collect();
        if out.code == 0 && !ids.is_empty() {
            let mut args = rm.clone();
            args.extend(ids);
            let _ = run_limited(docker_cmd(&args), t);
        }
    }
}

/// What is left labelled with `project`: (containers, networks, volumes), by name.
#[track_caller]
pub fn labelled(project: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let names = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = docker_ok(args).lines().map(String::from).collect();
        v.sort();
        v
    };
    (
        names(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]),
        names(&[
            "network",
            "ls",
            "--filter",
            &filter,
            "--format",
            "{{.Name}}",
        ]),
        names(&["volume", "ls", "--filter", &filter, "--format", "{{.Name}}"]),
    )
}

/// Is the daemon reachable? With CI=true it must be.
pub fn daemon_available(tag: &str) -> bool {
    static CHECKED: Mutex<Option<Result<(), String>>> = Mutex::new(None);
    let mut checked = CHECKED.lock().unwrap_or_else(|p| p.into_inner());
    let result = checked
        .get_or_insert_with(|| {
            match run_limited(
                docker_cmd(&["info", "--format", "{{.ServerVersion}}"]),
                Duration::from_secs(30),
            ) {
                Some(o) if o.code == 0 && !o.stdout.trim().is_empty() => Ok(()),
                Some(o) => Err(o.all()),
                None => Err("`docker info` did not answer within 30 s".into()),
            }
        })
        .clone();
    match result {
        Ok(()) => true,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{tag}: CI=true and the Docker daemon is required: {e}")
        }
        Err(e) => {
            eprintln!("skipping {tag}: no Docker daemon: {}", e.trim());
            false
        }
    }
}

// The test image, shared with tests/integration/engine_docker.rs: FROM scratch
// with Debian's static busybox, /tmp, a non-root user and a small document root.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n";
const DOCKERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY rootfs/ /
RUN ["/bin/sh", "-c", "mkdir -p /tmp /data /home/app && chmod 1777 /tmp && chown 1000:1000 /data /home/app"]
"#;

/// Builds `aistack-test/busybox:1` unless it exists; a lock file keeps
/// parallel tests and parallel test runs from building it twice.
pub fn ensure_test_image() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let exists = || docker(&["image", "inspect", "-f", "{{.Id}}", IMAGE]).code == 0;
    let lock = std::fs::File::create(std::env::temp_dir().join("aistack-test-image.lock"))
        .expect("create the image lock file");
    lock.lock().expect("lock the image lock file");
    if !exists() {
        let busybox = Path::new("/bin/busybox");
        assert!(
            busybox.exists(),
            "/bin/busybox is missing: apt-get install -y busybox-static (scripts/setup.sh does)"
        );
        let ctx = tempfile::tempdir().unwrap();
        let dir = ctx.path();
        std::fs::copy(busybox, dir.join("busybox")).unwrap();
        std::fs::create_dir_all(dir.join("rootfs/etc")).unwrap();
        std::fs::create_dir_all(dir.join("rootfs/www")).unwrap();
        std::fs::write(dir.join("rootfs/etc/passwd"), PASSWD).unwrap();
        std::fs::write(dir.join("rootfs/etc/group"), GROUP).unwrap();
        std::fs::write(dir.join("rootfs/www/index.html"), "hello from aistack\n").unwrap();
        std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
        let out = run_or_panic(
            docker_cmd(&["build", "-q", "-t", IMAGE, dir.to_str().unwrap()]),
            Duration::from_secs(180),
        );
        assert_eq!(out.code, 0, "docker build {IMAGE}: {}", out.all());
    }
    let _ = lock.unlock();
    *done = true;
}

/// A project under test: its name, its directory, and the guard that
/// removes everything labelled with it.
pub struct Stack {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl Stack {
    /// A fresh project for `tag` with a copy of `tests/fixtures/runtime/<fixture>/`,
    /// or `None` (skip) when there is no daemon outside CI.
    pub fn new(tag: &str, fixture: &str) -> Option<Stack> {
        if !daemon_available(tag) {
            return None;
        }
        ensure_test_image();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "aist-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let src = fixture_dir(fixture);
        for entry in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
            }
        }
        sweep(&name);
        Some(Stack { name, dir })
    }

    /// A fresh project whose compose file is `compose` (no fixture directory).
    pub fn inline(tag: &str, compose: &str) -> Option<Stack> {
        let s = Stack::new(tag, "basic")?;
        std::fs::write(s.file(), compose).unwrap();
        Some(s)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self) -> PathBuf {
        self.path().join("compose.yaml")
    }

    /// Rewrites the compose file: `from` must occur in it.
    #[track_caller]
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.file()).unwrap();
        assert!(text.contains(from), "{from:?} is not in the compose file");
        std::fs::write(self.file(), text.replacen(from, to, 1)).unwrap();
    }

    /// `aistack -p NAME -f compose.yaml ARGS...` in the stack's directory.
    pub fn aistack(&self, args: &[&str]) -> Out {
        self.aistack_env(args, &[])
    }

    pub fn aistack_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut full = vec!["-p", self.name.as_str(), "-f", "compose.yaml"];
        full.extend_from_slice(args);
        aistack_in(self.path(), &full, env)
    }

    /// Container name of replica 1 of `service`.
    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }

    /// Container name → full ID, for every container of the project.
    #[track_caller]
    pub fn ids(&self) -> BTreeMap<String, String> {
        let filter = format!("label={PROJECT_LABEL}={}", self.name);
        docker_ok(&[
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &filter,
            "--format",
            "{{.Names}} {{.ID}}",
        ])
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, id)| (n.to_string(), id.to_string()))
        .collect()
    }

    /// `docker inspect -f FORMAT` of `service`'s first container.
    #[track_caller]
    pub fn inspect(&self, service: &str, format: &str) -> String {
        docker_ok(&["inspect", "-f", format, &self.container(service)])
    }

    /// `sh -c SCRIPT` inside `service`'s first container: (exit code, output).
    #[track_caller]
    pub fn exec(&self, service: &str, script: &str) -> (i32, String) {
        let out = docker(&["exec", &self.container(service), "sh", "-c", script]);
        (out.code, format!("{}{}", out.stdout, out.stderr))
    }

    /// What is left labelled with this project.
    #[track_caller]
    pub fn labelled(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        labelled(&self.name)
    }

    #[track_caller]
    pub fn assert_nothing_left(&self) {
        let left = self.labelled();
        assert_eq!(
            left,
            (vec![], vec![], vec![]),
            "(containers, networks, volumes) still labelled {}",
            self.name
        );
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        sweep(&self.name);
        let dir = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let _ = std::fs::remove_file(dir.join(format!("aistack-{}.lock", self.name)));
    }
}

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runtime")
        .join(name)
}

/// The real binary in `dir` with a small, controlled environment: PATH,
/// HOME and how to reach Docker, plus `env`.
pub fn aistack_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistack"));
    cmd.args(args).current_dir(dir).env_clear();
    for k in [
        "PATH",
        "HOME",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
        "XDG_RUNTIME_DIR",
    ] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.envs(env.iter().copied());
    run_or_panic(cmd, CALL)
}

/// The real binary running in the background (same environment rules as
/// `aistack_in`): its output is collected as it comes, so a test can wait
/// for a line, signal it, and wait for its end with a deadline.
pub struct Spawned {
    child: std::process::Child,
    stdout: std::sync::Arc<Mutex<String>>,
    stderr: std::sync::Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Spawned {
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Spawned {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistack"));
        cmd.args(args).current_dir(dir).env_clear();
        for k in ["PATH", "HOME", "DOCKER_HOST", "XDG_RUNTIME_DIR"] {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        cmd.envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn aistack");
        let collect = |mut r: Box<dyn Read + Send>, into: std::sync::Arc<Mutex<String>>| {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    into.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            })
        };
        let stdout = std::sync::Arc::new(Mutex::new(String::new()));
        let stderr = std::sync::Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(Box::new(child.stdout.take().unwrap()), stdout.clone()),
            collect(Box::new(child.stderr.take().unwrap()), stderr.clone()),
        ];
        Spawned {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` (libc::SIGINT, ...) to the process.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid; it has not been reaped yet
        // (we reap only in `wait`), so the pid cannot have been reused.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until `pred(stdout)` holds; false if the process ended or
    /// `limit` passed first.
    pub fn wait_for_stdout(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if pred(&self.stdout()) {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return pred(&self.stdout());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits for the end within `limit`: its status and output, or `None`
    /// (then the process is killed, so nothing outlives the test).
    pub fn wait(mut self, limit: Duration) -> Option<(std::process::ExitStatus, Out)> {
        let start = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if start.elapsed() > limit => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => break None,
            }
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let status = status?;
        Some((
            status,
            Out {
                code: status.code().unwrap_or(-1),
                stdout: self.stdout(),
                stderr: self.stderr(),
            },
        ))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `--progress json` lines: (id, phase, detail, elapsed seconds).
pub fn progress_events(stderr: &str) -> Vec<(String, String, String, f64)> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("phase").is_some())
        .map(|v| {
            (
                v["id"].as_str().unwrap_or("").to_string(),
                v["phase"].as_str().unwrap_or("").to_string(),
                v["detail"].as_str().unwrap_or("").to_string(),
                v["elapsed"].as_f64().unwrap_or(0.0),
            )
        })
        .collect()
}

/// Docker's RFC 3339 timestamps (`2026-11-22T14:14:01.123456789Z`) as
/// comparable nanoseconds since the start of the day's date string; only
/// for ordering two instants of the same run.
pub fn instant_key(ts: &str) -> (String, u64, u64) {
    let (date, time) = ts.split_once('T').unwrap_or((ts, ""));
    let time = time.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let secs: u64 = hms
        .split(':')
        .map(|p| p.parse::<u64>().unwrap_or(0))
        .fold(0, |acc, p| acc * 60 + p);
    let frac = format!("{frac:0<9}");
    (date.to_string(), secs, frac[..9].parse().unwrap_or(0))
}

/// One HTTP GET to `127.0.0.1:port`, retried for a few seconds: the body.
pub fn http_get(port: u16) -> Result<String, String> {
    use std::io::Write;
    let mut last = String::new();
    for _ in 0..50 {
        match std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(2),
        ) {
            Ok(mut s) => {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut body = String::new();
                match s.read_to_string(&mut body) {
                    Ok(_) if !body.is_empty() => return Ok(body),
                    Ok(_) => last = "empty answer".into(),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}
