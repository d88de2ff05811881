//! CI mode with the real binary: `aistack test` (exit code passed through,
//! teardown on success, failure and SIGTERM, parallel runs isolated) and
//! `up --abort-on-container-exit` / `--abort-on-container-failure` /
//! `--exit-code-from` with Compose's exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::runtime_support::{CALL, Out, Stack, labelled, sweep};

/// The project a `test` run used (it appends a unique suffix), from its stderr.
fn test_project(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("test: project "))
        .unwrap_or_else(|| panic!("no project line in:\n{stderr}"))
        .trim()
        .to_string()
}

/// Sweeps a `test` run's project even when an assertion fails first.
struct Swept(String);

impl Drop for Swept {
    fn drop(&mut self) {
        sweep(&self.0);
    }
}

/// `aistack test -- sh -c SCRIPT` on the stack: its output, the project it
/// used, and the guard that sweeps that project.
fn aistack_test(s: &Stack, script: &str) -> (Out, String, Swept) {
    let out = s.aistack(&["test", "--progress", "quiet", "--", "sh", "-c", script]);
    let project = test_project(&out.stderr);
    let swept = Swept(project.clone());
    (out, project, swept)
}

#[track_caller]
fn assert_nothing_left(project: &str) {
    assert_eq!(
        labelled(project),
        (vec![], vec![], vec![]),
        "(containers, networks, volumes) still labelled {project}"
    );
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let lock = dir.join(format!("aistack-{project}.lock"));
    assert!(!lock.exists(), "{} left behind", lock.display());
}

#[test]
fn runtime_test_gives_the_command_the_ports_and_returns_its_exit_code() {
    let Some(s) = Stack::new("citest", "ci") else {
        return;
    };
    let (out, project, _swept) = aistack_test(
        &s,
        "busybox wget -q -O - http://$AISTACK_ADDR_WEB_8080/ && echo port=$AISTACK_PORT_WEB_8080 && exit 7",
    );
    assert_eq!(out.code, 7, "{}", out.all());
    assert!(out.stdout.contains("hello from aistack"), "{}", out.all());
    // A free port, not the fixed 18080 of the file.
    assert!(!out.stdout.contains("port=18080"), "{}", out.all());
    assert!(project.starts_with(&format!("{}-", s.name)), "{project}");
    assert!(out.stderr.contains("tearing down"), "{}", out.all());
    assert_nothing_left(&project);
}

#[test]
fn runtime_test_that_cannot_bring_the_stack_up_explains_and_cleans_up() {
    let Some(s) = Stack::new("cibroken", "ci_broken") else {
        return;
    };
    let (out, project, _swept) = aistack_test(&s, "echo the command ran");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.stdout.contains("the command ran"), "{}", out.all());
    // The failing service is named, with its health output and logs.
    assert!(
        out.stderr.contains("service \"db\" is not healthy"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("no database here"), "{}", out.all());
    assert!(out.stderr.contains("db cannot start"), "{}", out.all());
    assert_nothing_left(&project);
}

#[test]
fn runtime_test_whose_command_runs_out_of_time_is_124_and_cleans_up() {
    let Some(s) = Stack::new("citimeout", "ci") else {
        return;
    };
    let out = s.aistack(&[
        "test",
        "--timeout",
        "1",
        "--progress",
        "quiet",
        "--",
        "sleep",
        "60",
    ]);
    let project = test_project(&out.stderr);
    let _swept = Swept(project.clone());
    assert_eq!(out.code, 124, "{}", out.all());
    assert!(out.stderr.contains("ran out of time"), "{}", out.all());
    assert_nothing_left(&project);
}

#[test]
fn runtime_test_interrupted_by_sigterm_tears_everything_down() {
    let Some(s) = Stack::new("citerm", "ci") else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_aistack"))
        .args(["-p", &s.name, "-f", "compose.yaml", "test", "--progress"])
        .args(["quiet", "--", "sleep", "120"])
        .current_dir(s.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aistack test");
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("test: running") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    if rx.recv_timeout(CALL).is_err() {
        let _ = child.kill();
        panic!("the command never started:\n{}", reader.join().unwrap());
    }
    let term = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > CALL {
            let _ = child.kill();
            panic!("aistack test did not end after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().unwrap();
    let project = test_project(&stderr);
    let _swept = Swept(project.clone());
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("tearing down"), "{stderr}");
    assert_nothing_left(&project);
}

#[test]
fn runtime_parallel_test_runs_of_one_file_do_not_collide() {
    let Some(s) = Stack::new("cipar", "ci") else {
        return;
    };
    // Same file, same -p, fixed container_name and host port in the file.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let dir = s.path().to_path_buf();
            let name = s.name.clone();
            std::thread::spawn(move || {
                crate::runtime_support::aistack_in(
                    &dir,
                    &[
                        "-p",
                        &name,
                        "-f",
                        "compose.yaml",
                        "test",
                        "--progress",
                        "quiet",
                        "--",
                        "sh",
                        "-c",
                        "busybox wget -q -O /dev/null http://$AISTACK_ADDR_WEB_8080/",
                    ],
                    &[],
                )
            })
        })
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let projects: Vec<String> = outs.iter().map(|o| test_project(&o.stderr)).collect();
    let _swept: Vec<Swept> = projects.iter().cloned().map(Swept).collect();
    for o in &outs {
        assert_eq!(o.code, 0, "{}", o.all());
    }
    assert_ne!(projects[0], projects[1]);
    for p in &projects {
        assert_nothing_left(p);
    }
}

#[test]
fn runtime_up_abort_flags_end_with_composes_exit_codes() {
    let Some(s) = Stack::new("abort", "abort") else {
        return;
    };
    // (flags, expected exit code): as `docker compose up` ends on this file.
    for (flags, code) in [
        (&["--abort-on-container-exit"][..], 3),
        (&["--abort-on-container-failure"][..], 3),
        (&["--exit-code-from", "web"][..], 0),
        (&["--exit-code-from", "job"][..], 3),
    ] {
        let mut args = vec!["up", "--progress", "quiet"];
        args.extend_from_slice(flags);
        let out = s.aistack(&args);
        assert_eq!(out.code, code, "{flags:?}: {}", out.all());
        assert!(out.stdout.contains("job done"), "{flags:?}: {}", out.all());
        assert!(
            out.stderr.contains("Aborting on container exit"),
            "{flags:?}: {}",
            out.all()
        );
        // Everything was stopped.
        let running = crate::runtime_support::docker_ok(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", s.name),
        ]);
        assert!(running.is_empty(), "{flags:?}: still running: {running}");
    }
    let bad = s.aistack(&["up", "--exit-code-from", "nope"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    s.aistack(&["down"]).ok();
    s.assert_nothing_left();
}
