//! Golden tests: each fixture directory → `aistack config --format json`
//! (expected.json), and each bad input → its diagnostic (expected.txt) and the
//! "invalid project" exit code. `UPDATE_GOLDEN=1` rewrites the golden files.

use crate::support::*;

#[test]
fn every_valid_fixture_prints_its_expected_normalized_json() {
    let mut failures = Vec::new();
    for dir in fixtures("load") {
        let mut cmd = aistack();
        cmd.args(case_args(&dir))
            .args(["config", "--format", "json"]);
        let out = run_in(cmd, &dir, &case_env(&dir));
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !out.status.success() {
            failures.push(format!(
                "{name}: exit {:?}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let got = scrub(&String::from_utf8_lossy(&out.stdout), &dir);
        let expected_path = dir.join("expected.json");
        if update_golden() {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{name}: output differs from expected.json\n--- got\n{got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_bad_fixture_fails_with_its_expected_diagnostic() {
    let mut failures = Vec::new();
    for dir in fixtures("errors") {
        let mut cmd = aistack();
        cmd.args(case_args(&dir)).args(["config", "-q"]);
        let out = run_in(cmd, &dir, &case_env(&dir));
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let stderr = scrub(&String::from_utf8_lossy(&out.stderr), &dir);
        if out.status.code() != Some(3) {
            failures.push(format!(
                "{name}: expected exit 3 (invalid project), got {:?}\n{stderr}",
                out.status.code()
            ));
            continue;
        }
        if stderr.contains("panicked") {
            failures.push(format!("{name}: panicked\n{stderr}"));
        }
        let expected_path = dir.join("expected.txt");
        if update_golden() {
            std::fs::write(&expected_path, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if stderr != expected {
            failures.push(format!(
                "{name}: diagnostic differs\n--- got\n{stderr}--- expected\n{expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
