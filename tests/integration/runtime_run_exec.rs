//! `run` and `exec` with the real binary against the real daemon. Tests run
//! without a terminal, so these are the `-T` / no-TTY paths (the TTY path,
//! raw mode and window-size forwarding were checked by hand under script(1)).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::runtime_support::*;

const ONEOFF: &str = "com.docker.compose.oneoff";

/// Names of the project's one-off containers (any state).
fn oneoffs(s: &Stack) -> Vec<String> {
    let filter = format!("label={PROJECT_LABEL}={}", s.name);
    docker_ok(&[
        "ps",
        "-a",
        "--filter",
        &filter,
        "--filter",
        &format!("label={ONEOFF}=True"),
        "--format",
        "{{.Names}}",
    ])
    .lines()
    .map(String::from)
    .collect()
}

/// `aistack -p NAME -f compose.yaml ARGS...` with `input` on its stdin.
fn aistack_with_stdin(s: &Stack, args: &[&str], input: &[u8]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistack"));
    cmd.args(["-p", s.name.as_str(), "-f", "compose.yaml"])
        .args(args)
        .current_dir(s.path())
        .env_clear();
    for k in ["PATH", "HOME", "DOCKER_HOST", "XDG_RUNTIME_DIR"] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn aistack");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from a thread and then closed: the end of input is part of the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > CALL {
            let _ = child.kill();
            panic!("aistack {args:?} did not finish within {CALL:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().unwrap();
    Out {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn runtime_exec_passes_the_exit_code_and_applies_env_user_and_workdir() {
    let Some(s) = Stack::new("exec", "run_exec") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();

    let out = s.aistack(&["exec", "web", "sh", "-c", "exit 3"]);
    assert_eq!(out.code, 3, "{}", out.all());

    let out = s
        .aistack(&[
            "exec",
            "-T",
            "-e",
            "A=1",
            "-u",
            "1000",
            "-w",
            "/tmp",
            "web",
            "sh",
            "-c",
            "echo \"$A $(id -u) $(pwd) $GREETING\"; echo to-stderr >&2",
        ])
        .ok();
    assert_eq!(out.stdout, "1 1000 /tmp hello\n", "{}", out.all());
    assert_eq!(out.stderr, "to-stderr\n", "{}", out.all());

    // The service has one container: there is no #2.
    let out = s.aistack(&["exec", "--index", "2", "web", "true"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("service \"web\" is not running container #2"),
        "{}",
        out.all()
    );

    // stdin reaches the command and its end closes the command's stdin.
    let out = aistack_with_stdin(&s, &["exec", "-T", "db", "cat"], b"piped\ninput\n");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "piped\ninput\n"),
        "{}",
        out.all()
    );
}

#[test]
fn runtime_exec_on_a_service_without_a_running_container_fails_naming_it() {
    let Some(s) = Stack::new("exec-none", "run_exec") else {
        return;
    };
    let out = s.aistack(&["exec", "web", "true"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("service \"web\" is not running"),
        "{}",
        out.all()
    );
    let out = s.aistack(&["exec", "nosuch", "true"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("no such service: nosuch"),
        "{}",
        out.all()
    );
}

#[test]
fn runtime_run_brings_healthy_dependencies_up_first_and_passes_the_exit_code() {
    let Some(s) = Stack::new("run-deps", "run_exec") else {
        return;
    };
    // Exits 3 if db's readiness marker is missing when the one-off starts.
    let out = s.aistack(&[
        "run",
        "--rm",
        "web",
        "sh",
        "-c",
        "test -f /shared/db-ready || exit 3; echo db was ready; exit 7",
    ]);
    assert_eq!(out.code, 7, "{}", out.all());
    assert_eq!(out.stdout, "db was ready\n", "{}", out.all());
    // (db's engine health status may still be "starting": the eager probe
    // decided, the marker file above is what proves the condition held.)
    assert_eq!(s.inspect("db", "{{.State.Status}}"), "running");
    // --rm: no one-off left; the service's own container was never created.
    assert_eq!(oneoffs(&s), Vec::<String>::new());
    let (containers, _, _) = s.labelled();
    assert_eq!(containers, [s.container("db")], "{}", out.all());
}

#[test]
fn runtime_run_no_deps_starts_nothing_else_and_stdin_reaches_the_one_off() {
    let Some(s) = Stack::new("run-nodeps", "run_exec") else {
        return;
    };
    let input = b"line one\nline two\n";
    let out = aistack_with_stdin(&s, &["run", "--rm", "--no-deps", "-T", "web", "cat"], input);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.as_bytes(), input, "{}", out.all());
    let (containers, _, _) = s.labelled();
    assert!(containers.is_empty(), "{containers:?}");
}

#[test]
fn runtime_run_detached_one_off_is_labelled_hidden_from_compose_ps_and_removed_by_down() {
    let Some(s) = Stack::new("run-detach", "run_exec") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let out = s
        .aistack(&[
            "run",
            "-d",
            "web",
            "sh",
            "-c",
            "trap 'exit 0' TERM; sleep 300 & wait",
        ])
        .ok();
    // Like Compose, -d prints the container's ID.
    let id = out.stdout.trim();
    assert_eq!(id.len(), 64, "{}", out.all());
    let name = docker_ok(&["inspect", "-f", "{{.Name}}", id]);
    let name = name.trim_start_matches('/');
    let prefix = format!("{}-web-run-", s.name);
    assert!(
        name.starts_with(&prefix) && name.len() == prefix.len() + 12,
        "{name}"
    );
    let label = |key: &str| {
        docker_ok(&[
            "inspect",
            "-f",
            &format!("{{{{index .Config.Labels \"{key}\"}}}}"),
            id,
        ])
    };
    assert_eq!(label(ONEOFF), "True");
    assert_eq!(label("com.docker.compose.service"), "web");
    assert_eq!(label("com.docker.compose.container-number"), "");
    assert_eq!(label("com.docker.compose.slug").len(), 64);
    // No published ports, and only its own name as alias: `web` keeps
    // resolving to the service's container alone.
    let ports = docker_ok(&["inspect", "-f", "{{json .HostConfig.PortBindings}}", id]);
    assert!(matches!(ports.as_str(), "null" | "{}"), "{ports}");
    let aliases = docker_ok(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{json .Aliases}}{{end}}",
        id,
    ]);
    assert!(
        aliases.contains(name) && !aliases.contains("\"web\""),
        "{aliases}"
    );

    let ps = docker(&["compose", "-p", &s.name, "ps", "--format", "{{.Name}}"]);
    assert_eq!(ps.code, 0, "{}", ps.all());
    let listed: Vec<&str> = ps.stdout.lines().collect();
    assert!(listed.contains(&s.container("web").as_str()), "{listed:?}");
    assert!(!listed.contains(&name), "{listed:?}");

    s.aistack(&["down", "--progress", "quiet"]).ok();
    assert_eq!(s.labelled().0, Vec::<String>::new());
}

#[test]
fn runtime_run_rm_forwards_ctrl_c_to_the_one_off_then_removes_it() {
    let Some(s) = Stack::new("run-int", "run_exec") else {
        return;
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistack"));
    cmd.args(["-p", s.name.as_str(), "-f", "compose.yaml"])
        .args(["run", "--rm", "--no-deps", "-T", "web", "sh", "-c"])
        .arg("trap 'echo got INT; exit 5' INT; echo ready; sleep 60 & wait")
        .current_dir(s.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn aistack");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        let mut seen = String::new();
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = tx.send(seen.clone());
        }
    });
    let ready = std::iter::from_fn(|| rx.recv_timeout(CALL).ok()).find(|s| s.contains("ready"));
    assert!(ready.is_some(), "the one-off never said ready");
    let kill = run_or_panic(
        {
            let mut k = Command::new("kill");
            k.args(["-INT", &child.id().to_string()]);
            k
        },
        CALL,
    );
    assert_eq!(kill.code, 0, "{}", kill.all());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > CALL {
            let _ = child.kill();
            panic!("aistack run did not end after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let said = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(5)).ok()).last();
    // The container's trap ran: the signal reached it, and its code is ours.
    assert_eq!(status.code(), Some(5), "{said:?}");
    assert!(said.unwrap_or_default().contains("got INT"));
    assert_eq!(oneoffs(&s), Vec::<String>::new());
}
