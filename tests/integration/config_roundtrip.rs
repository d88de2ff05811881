//! `aistack config` output is itself a compose file: loading it again (its `$` are
//! escaped `$$`, so loading it interpolates back to the same values) gives the
//! same project.

use crate::support::*;

#[test]
fn config_output_loads_back_to_the_same_project() {
    let mut failures = Vec::new();
    for dir in fixtures("load") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let env = case_env(&dir);
        let mut first = aistack();
        first
            .args(case_args(&dir))
            .args(["config", "--format", "json"]);
        let first = run_in(first, &dir, &env);
        assert!(
            first.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let tmp = tempfile::tempdir().unwrap();
        let printed = tmp.path().join("printed.json");
        std::fs::write(&printed, &first.stdout).unwrap();
        let a: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
        // Same project name and profiles as the first load; the printed file is self-contained otherwise.
        let mut again = aistack();
        again
            .args([
                "-f",
                printed.to_str().unwrap(),
                "--project-directory",
                dir.to_str().unwrap(),
            ])
            .args(["-p", a["name"].as_str().unwrap()])
            .args(profile_args(&case_args(&dir)))
            .args(["config", "--format", "json"]);
        let again = run_in(again, &dir, &env);
        if !again.status.success() {
            failures.push(format!(
                "{name}: reload failed: {}",
                String::from_utf8_lossy(&again.stderr)
            ));
            continue;
        }
        let mut b: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        unescape_keys_once(&mut b);
        let mut diffs = Vec::new();
        crate::config_oracle::diff(&b, &a, "", &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn profile_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--profile"
            && let Some(p) = it.next()
        {
            out.push(a.clone());
            out.push(p.clone());
        }
    }
    out
}

/// Keys are never interpolated, yet Compose escapes their `$` on output like
/// values; so a key's `$$` doubles on every round trip (Compose does the same).
fn unescape_keys_once(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut child) in entries {
                unescape_keys_once(&mut child);
                map.insert(k.replace("$$$$", "$$"), child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unescape_keys_once),
        _ => {}
    }
}
