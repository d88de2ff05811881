//! `aistack lint`: one fixture per rule (tests/fixtures/lint/<rule-id>) against
//! its text golden file, JSON and SARIF goldens, exit codes, disables, and the
//! flagship stack staying free of error findings. `UPDATE_GOLDEN=1` rewrites
//! the golden files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn lint_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("lint-args"))
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// `git` with a timeout, in `dir`; `None` when git is not installed.
fn git(dir: &Path, args: &[&str]) -> Option<Output> {
    Command::new("git").arg("--version").output().ok()?;
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(args);
    Some(run_with_timeout(cmd, std::time::Duration::from_secs(30)))
}

/// A fresh git work tree holding the fixture's files, with `dot.env` as `.env`.
fn git_copy(dir: &Path) -> Option<tempfile::TempDir> {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let target = if name == "dot.env" {
            ".env".to_string()
        } else {
            name
        };
        std::fs::copy(entry.path(), tmp.path().join(target)).unwrap();
    }
    let out = git(tmp.path(), &["init", "-q"])?;
    assert!(out.status.success(), "git init: {:?}", out);
    Some(tmp)
}

fn git_or_skip(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but git is not installed ({what})"
    );
    eprintln!("skipping {what}: git is not installed");
}

#[test]
fn every_rule_fixture_prints_its_expected_report_and_exit_code() {
    let mut failures = Vec::new();
    for dir in fixtures("lint") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (_tmp, run_dir) = if dir.join("dot.env").exists() {
            match git_copy(&dir) {
                Some(t) => {
                    let p = t.path().to_path_buf();
                    (Some(t), p)
                }
                None => {
                    git_or_skip(&name);
                    continue;
                }
            }
        } else {
            (None, dir.clone())
        };
        let mut cmd = aistack();
        cmd.arg("lint").args(lint_args(&dir));
        let out = run_in(cmd, &run_dir, &case_env(&dir));
        let got = scrub(&String::from_utf8_lossy(&out.stdout), &run_dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected_path = dir.join("expected.txt");
        if update_golden() {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{name}: report differs\n--- got\n{got}--- stderr\n{stderr}"
            ));
            continue;
        }
        let want = if expected.contains(": error[") { 5 } else { 0 };
        if out.status.code() != Some(want) {
            failures.push(format!(
                "{name}: exit {:?}, expected {want}\n{stderr}",
                out.status.code()
            ));
        }
        // Each rule's fixture breaks that rule, and only that one (clean: none).
        let rules: std::collections::BTreeSet<&str> = got
            .lines()
            .filter_map(|l| {
                ["error[", "warning[", "info["].iter().find_map(|sev| {
                    let rest = &l[l.find(sev)? + sev.len()..];
                    rest.split_once(']').map(|(r, _)| r)
                })
            })
            .collect();
        let wanted: std::collections::BTreeSet<&str> = if name == "clean" {
            Default::default()
        } else {
            [name.as_str()].into()
        };
        if rules != wanted {
            failures.push(format!(
                "{name}: rules reported {rules:?}, expected {wanted:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn json_and_sarif_reports_match_their_golden_files() {
    let dir = root().join("tests/fixtures/lint-formats");
    let mut failures = Vec::new();
    for (format, golden) in [("json", "expected.json"), ("sarif", "expected.sarif")] {
        let mut cmd = aistack();
        cmd.args(["lint", "--format", format]);
        let out = run_in(cmd, &dir, &case_env(&dir));
        assert_eq!(
            out.status.code(),
            Some(5),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got =
            String::from_utf8_lossy(&out.stdout).replace(env!("CARGO_PKG_VERSION"), "$VERSION");
        let parsed: serde_json::Value = serde_json::from_str(&got).expect("valid JSON");
        if format == "sarif" {
            assert_eq!(parsed["version"], "2.1.0");
            let results = parsed["runs"][0]["results"].as_array().unwrap();
            for r in results {
                let loc = &r["locations"][0]["physicalLocation"];
                assert_eq!(loc["artifactLocation"]["uri"], "compose.yaml");
                assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
            }
        }
        assert!(!got.contains("s3cret-pw"), "a secret leaked into {format}");
        let path = dir.join(golden);
        if update_golden() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != got {
            failures.push(format!("{format}:\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_dotenv_that_git_ignores_is_not_reported() {
    let dir = root().join("tests/fixtures/lint/env-file-not-ignored");
    let Some(tmp) = git_copy(&dir) else {
        return git_or_skip("a_dotenv_that_git_ignores_is_not_reported");
    };
    std::fs::write(tmp.path().join(".gitignore"), ".env\n").unwrap();
    let mut cmd = aistack();
    cmd.arg("lint");
    let out = run_in(cmd, tmp.path(), &case_env(&dir));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no findings\n");
}

#[test]
fn strict_fails_on_warnings_and_disable_on_the_command_line_suppresses() {
    let dir = root().join("tests/fixtures/lint/runs-as-root");
    let run = |args: &[&str]| {
        let mut cmd = aistack();
        cmd.arg("lint").args(args);
        run_in(cmd, &dir, &case_env(&dir))
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(run(&["--strict"]).status.code(), Some(5));
    let out = run(&["--strict", "--disable", "runs-as-root"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no findings (1 suppressed by disable)\n"
    );
}

#[test]
fn unknown_rule_ids_are_errors_with_the_nearest_id() {
    let dir = root().join("tests/fixtures/lint/clean");
    let mut cmd = aistack();
    cmd.args(["lint", "--disable", "privilegd"]);
    let out = run_in(cmd, &dir, &case_env(&dir));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown lint rule `privilegd`"), "{stderr}");
    assert!(stderr.contains("did you mean `privileged`?"), "{stderr}");

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("compose.yaml"),
        "x-aistack:\n  lint:\n    disable: [read-only]\nservices:\n  app:\n    image: a:1\n",
    )
    .unwrap();
    let mut cmd = aistack();
    cmd.arg("lint");
    let out = run_in(cmd, tmp.path(), &case_env(&dir));
    assert_eq!(out.status.code(), Some(3));
    let stderr = scrub(&String::from_utf8_lossy(&out.stderr), tmp.path());
    assert!(stderr.contains("unknown lint rule `read-only`"), "{stderr}");
    assert!(stderr.contains("$DIR/compose.yaml:3:15"), "{stderr}");
    assert!(
        stderr.contains("did you mean `read-only-missing`?"),
        "{stderr}"
    );
}

#[test]
fn the_flagship_stack_has_no_error_findings() {
    let stack = root().join("stacks/ai-stack");
    let mut cmd = aistack();
    cmd.arg("-f")
        .arg(stack.join("compose.yaml"))
        .arg("--env-file")
        .arg(stack.join(".env.example"))
        .args(["lint", "--format", "json"]);
    let out = run_in(cmd, &root(), &case_env(&stack));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["error"], 0, "{stdout}");
}
