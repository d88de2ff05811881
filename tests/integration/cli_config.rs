//! `aistack config` list flags, file discovery (`-f -`, `COMPOSE_FILE`, parent
//! directories, `--project-directory`) and exit codes, on the real binary.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::*;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

fn stdout_of(dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> (i32, String, String) {
    let mut env = case_env(dir);
    for (k, v) in extra_env {
        env.insert(k.to_string(), v.to_string());
    }
    let mut cmd = aistack();
    cmd.args(case_args(dir)).args(args);
    let out = run_in(cmd, dir, &env);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn services_are_listed_dependencies_first() {
    let (code, out, _) = stdout_of(
        &fixture("short_and_long_syntax"),
        &["config", "--services"],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(lines(&out), ["db", "init", "optional", "app"]);
}

#[test]
fn networks_volumes_images_and_profiles_are_listed() {
    let dir = fixture("networks_and_volumes_attributes");
    assert_eq!(
        lines(&stdout_of(&dir, &["config", "--networks"], &[]).1),
        ["ai-net", "outside", "public-net"]
    );
    assert_eq!(
        lines(&stdout_of(&dir, &["config", "--volumes"], &[]).1),
        ["external-vol", "redis-data", "shared"]
    );
    let images = stdout_of(&fixture("build_forms"), &["config", "--images"], &[]).1;
    assert_eq!(
        lines(&images),
        [
            "registry.local/full:1",
            "build_forms-inline",
            "build_forms-simple"
        ]
    );
    let profiles = stdout_of(
        &fixture("profiles_enabled_by_flag"),
        &["config", "--profiles"],
        &[],
    )
    .1;
    assert_eq!(lines(&profiles), ["batch", "debug", "nightly"]);
}

#[test]
fn variables_are_listed_with_defaults_and_requirements() {
    let (code, out, _) = stdout_of(
        &fixture("interpolation_operators"),
        &["config", "--variables"],
        &[],
    );
    assert_eq!(code, 0);
    let table: BTreeMap<&str, Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| {
            (
                l.split_whitespace().next().unwrap_or(""),
                l.split_whitespace().collect(),
            )
        })
        .collect();
    assert_eq!(table["TAG"][1..], ["false", "1.25"]);
    assert_eq!(table["SET"][1], "true", "{out}");
    assert!(table.contains_key("ALSO_UNSET"));
}

#[test]
fn quiet_validation_prints_nothing_and_succeeds() {
    let (code, out, err) = stdout_of(&fixture("short_and_long_syntax"), &["config", "-q"], &[]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn no_interpolate_keeps_variables_as_written() {
    let (code, out, _) = stdout_of(
        &fixture("interpolation_operators"),
        &["config", "--no-interpolate", "--format", "json"],
        &[],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["services"]["web"]["image"], "nginx:${TAG:-1.25}");
}

#[test]
fn naming_services_prints_them_and_their_dependencies_only() {
    let (code, out, _) = stdout_of(
        &fixture("multiple_files_merge_rules"),
        &["config", "--format", "json", "web"],
        &[],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&String> = v["services"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["cache", "db", "web"]);
}

#[test]
fn compose_file_can_come_from_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = aistack();
    cmd.args(["-f", "-", "-p", "piped", "config", "--services"])
        .current_dir(tmp.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"services:\n  from-stdin:\n    image: busybox\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-stdin\n");
}

#[test]
fn compose_file_variable_names_several_files() {
    let dir = fixture("multiple_files_merge_rules");
    let (code, out, _) = stdout_of(
        &dir,
        &["config", "--services"],
        &[("COMPOSE_FILE", "compose.yaml:override.yaml")],
    );
    assert_eq!(code, 0);
    assert!(out.contains("cache"), "override.yaml was not loaded: {out}");
}

#[test]
fn compose_file_is_found_in_a_parent_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("myproj");
    std::fs::create_dir_all(top.join("sub/deeper")).unwrap();
    std::fs::write(
        top.join("compose.yaml"),
        "services:\n  web:\n    image: busybox\n",
    )
    .unwrap();
    let mut cmd = aistack();
    cmd.args(["config", "--format", "json"]);
    let out = run_in(cmd, &top.join("sub/deeper"), &case_env(&top));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "myproj");
}

#[test]
fn project_directory_sets_name_env_file_and_relative_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("compose.yaml"),
        "services:\n  web:\n    image: \"busybox:${TAG}\"\n    volumes: [./data:/data]\n",
    )
    .unwrap();
    std::fs::write(proj.join(".env"), "TAG=1.36\n").unwrap();
    let mut cmd = aistack();
    cmd.args([
        "--project-directory",
        proj.to_str().unwrap(),
        "config",
        "--format",
        "json",
    ]);
    let out = run_in(cmd, tmp.path(), &case_env(tmp.path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "elsewhere");
    assert_eq!(v["services"]["web"]["image"], "busybox:1.36");
    assert_eq!(
        v["services"]["web"]["volumes"][0]["source"],
        proj.join("data").to_str().unwrap()
    );
}

#[test]
fn missing_compose_file_is_an_invalid_project_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = aistack();
    cmd.args(["config"]);
    let out = run_in(cmd, tmp.path(), &case_env(tmp.path()));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no configuration file provided"));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = aistack();
    cmd.args(["config", "--no-such-flag"]);
    let out = run_in(cmd, tmp.path(), &case_env(tmp.path()));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_flags_agree_with_docker_compose() {
    if !compose_available() {
        return;
    }
    for (case, flag) in [
        ("networks_and_volumes_attributes", "--networks"),
        ("networks_and_volumes_attributes", "--volumes"),
        ("profiles_enabled_by_flag", "--profiles"),
        ("build_forms", "--images"),
        ("short_and_long_syntax", "--services"),
        ("guide_ai_stack", "--services"),
    ] {
        let dir = fixture(case);
        let ours = stdout_of(&dir, &["config", flag], &[]).1;
        let mut theirs = std::process::Command::new("docker");
        theirs
            .arg("compose")
            .args(case_args(&dir))
            .args(["config", flag]);
        let theirs =
            String::from_utf8_lossy(&run_in(theirs, &dir, &case_env(&dir)).stdout).into_owned();
        // Compose walks the graph concurrently, so only the set is comparable;
        // our own order is checked by services_are_listed_dependencies_first.
        let mut a: Vec<&str> = ours.lines().collect();
        let mut b: Vec<&str> = theirs.lines().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{case} {flag}");
    }
}
