//! `aistack graph` in its three formats, golden-tested on the guide's stack.

use std::path::Path;

use crate::support::*;

#[test]
fn graph_formats_match_their_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load/guide_ai_stack");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let mut failures = Vec::new();
    for format in ["text", "dot", "mermaid"] {
        let mut cmd = aistack();
        cmd.args(["graph", "--format", format]);
        let out = run_in(cmd, &dir, &case_env(&dir));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        let path = golden.join(format!("guide_ai_stack.{format}"));
        if update_golden() {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != got {
            failures.push(format!("{format}:\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
