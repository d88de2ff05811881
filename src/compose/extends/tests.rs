//! `extends`, checked against `docker compose config` (v2.40.3): the expected
//! trees are the oracle's output before path resolution.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::resolve_extends;
use crate::compose::canonical::canonicalize;
use crate::compose::canonical::testutil::{attr, has_tags, json, parse_as};
use crate::compose::error::{ErrorKind, LoadError};
use crate::compose::node::Node;

/// A project of in-memory files; `/p/compose.yaml` is the extending file.
struct Project {
    files: HashMap<PathBuf, String>,
    loads: RefCell<Vec<PathBuf>>,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Self {
        Project {
            files: files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
            loads: RefCell::new(Vec::new()),
        }
    }

    fn read(&self, path: &Path) -> Result<Node, LoadError> {
        self.loads.borrow_mut().push(path.to_path_buf());
        let text = self.files.get(path).ok_or_else(|| {
            LoadError::new(
                ErrorKind::Io,
                format!("open {}: no such file or directory", path.display()),
            )
        })?;
        let mut n = parse_as(text, &path.display().to_string());
        canonicalize(&mut n)?;
        Ok(n)
    }

    fn resolve(&self) -> Result<Node, LoadError> {
        let main = Path::new("/p/compose.yaml");
        let mut root = self.read(main)?;
        self.loads.borrow_mut().clear();
        resolve_extends(&mut root, main, &mut |p: &Path| self.read(p))?;
        Ok(root)
    }
}

fn resolved(main: &str) -> Node {
    Project::new(&[("/p/compose.yaml", main)])
        .resolve()
        .unwrap()
}

fn error(files: &[(&str, &str)]) -> LoadError {
    Project::new(files).resolve().unwrap_err()
}

#[test]
fn extends_in_the_same_file_merges_the_base_under_the_service() {
    let n = resolved(
        "services:\n  base:\n    image: b\n    environment: [Y=2]\n    ports: [\"80:80\"]\n  web:\n    extends: base\n    image: w\n    environment: [X=1]\n",
    );
    assert_eq!(
        json(n.get("services").and_then(|s| s.get("web")).unwrap()),
        json!({
            "image": "w",
            "environment": {"Y": "2", "X": "1"},
            "ports": [{"mode": "ingress", "target": 80, "published": "80", "protocol": "tcp"}],
        })
    );
    // The base itself is unchanged.
    assert_eq!(attr(&n, "base", "image"), json!("b"));
}

#[test]
fn extends_chains_are_resolved_base_first() {
    let n = resolved(
        "services:\n  a:\n    extends: b\n    labels: {a: \"1\"}\n  b:\n    extends: {service: c}\n    labels: {b: \"1\"}\n  c:\n    image: c\n    labels: {c: \"1\"}\n",
    );
    assert_eq!(
        json(n.get("services").and_then(|s| s.get("a")).unwrap()),
        json!({"image": "c", "labels": {"c": "1", "b": "1", "a": "1"}})
    );
    assert_eq!(
        json(n.get("services").and_then(|s| s.get("b")).unwrap()),
        json!({"image": "c", "labels": {"c": "1", "b": "1"}})
    );
}

#[test]
fn depends_on_links_and_volumes_from_are_inherited() {
    let n = resolved(
        "services:\n  base:\n    image: b\n    depends_on: [db]\n    links: [db]\n    volumes_from: [db]\n  web:\n    extends: base\n  db:\n    image: db\n",
    );
    assert_eq!(
        attr(&n, "web", "depends_on"),
        json!({"db": {"condition": "service_started", "required": true}})
    );
    assert_eq!(attr(&n, "web", "links"), json!(["db"]));
    assert_eq!(attr(&n, "web", "volumes_from"), json!(["db"]));
}

#[test]
fn reset_and_override_in_the_extending_service_apply_to_the_base() {
    let n = resolved(
        "services:\n  base:\n    image: b\n    ports: [\"80:80\"]\n    environment: {A: 1, B: 2}\n    command: [x]\n  web:\n    extends: base\n    ports: !reset []\n    environment: !override {C: 3}\n    command: !reset null\n",
    );
    assert_eq!(
        json(n.get("services").and_then(|s| s.get("web")).unwrap()),
        json!({"image": "b", "environment": {"C": "3"}})
    );
    assert!(!has_tags(
        n.get("services").and_then(|s| s.get("web")).unwrap()
    ));
}

const BASE: &str = "services:
  base:
    image: b
    build: {context: ., dockerfile: Dockerfile.x, additional_contexts: {foo: ./foo, img: \"docker-image://alpine\"}}
    volumes: [\"./data:/data\", \"named:/n\", \"../up:/up\", \"~/h:/h\", \"/abs:/abs\"]
    env_file: [./e.env]
    label_file: ./l.txt
    develop: {watch: [{path: ./src, action: sync, target: /app}]}
  mid:
    extends: {file: deeper/d.yaml, service: d}
  nobuildctx:
    build: {dockerfile: D}
";

const DEEPER: &str =
    "services:\n  d:\n    image: d\n    build: ../ctx2\n    volumes: [\"./dd:/dd\"]\n";

fn cross_file() -> Node {
    Project::new(&[
        (
            "/p/compose.yaml",
            "services:\n  web:\n    extends: {file: sub/base.yaml, service: base}\n  other:\n    extends: {file: sub/base.yaml, service: mid}\n  nctx:\n    extends: {file: ./sub/base.yaml, service: nobuildctx}\n",
        ),
        ("/p/sub/base.yaml", BASE),
        ("/p/sub/deeper/d.yaml", DEEPER),
    ])
    .resolve()
    .unwrap()
}

#[test]
fn extends_from_another_file_rebases_relative_paths_to_that_file() {
    let n = cross_file();
    assert_eq!(
        attr(&n, "web", "build"),
        json!({"context": "sub", "dockerfile": "Dockerfile.x", "additional_contexts": {"foo": "sub/foo", "img": "docker-image://alpine"}})
    );
    let sources: Vec<serde_json::Value> = attr(&n, "web", "volumes")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["source"].clone())
        .collect();
    assert_eq!(
        sources,
        vec![
            json!("sub/data"),
            json!("named"),
            json!("up"),
            json!("~/h"),
            json!("/abs")
        ]
    );
    assert_eq!(
        attr(&n, "web", "env_file"),
        json!([{"path": "sub/e.env", "required": true}])
    );
    assert_eq!(attr(&n, "web", "label_file"), json!(["sub/l.txt"]));
    assert_eq!(
        attr(&n, "web", "develop"),
        json!({"watch": [{"path": "sub/src", "action": "sync", "target": "/app"}]})
    );
    assert!(
        n.get("services")
            .and_then(|s| s.get("web"))
            .and_then(|w| w.get("extends"))
            .is_none()
    );
}

#[test]
fn extends_across_two_files_rebases_through_both_directories() {
    let n = cross_file();
    assert_eq!(attr(&n, "other", "build"), json!({"context": "sub/ctx2"}));
    assert_eq!(
        attr(&n, "other", "volumes")[0]["source"],
        json!("sub/deeper/dd")
    );
    assert_eq!(attr(&n, "other", "image"), json!("d"));
}

#[test]
fn a_base_build_without_context_gets_none_from_its_file() {
    // The oracle defaults it to the *main* project directory later.
    assert_eq!(
        attr(&cross_file(), "nctx", "build"),
        json!({"dockerfile": "D"})
    );
}

#[test]
fn other_files_are_loaded_once_by_normalized_path() {
    let p = Project::new(&[
        (
            "/p/compose.yaml",
            "services:\n  a:\n    extends: {file: sub/base.yaml, service: base}\n  b:\n    extends: {file: ./sub/../sub/base.yaml, service: base}\n",
        ),
        ("/p/sub/base.yaml", BASE),
    ]);
    p.resolve().unwrap();
    assert_eq!(*p.loads.borrow(), vec![PathBuf::from("/p/sub/base.yaml")]);
}

#[test]
fn extends_cycle_is_an_error_listing_the_chain() {
    let e = error(&[(
        "/p/compose.yaml",
        "services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n",
    )]);
    assert_eq!(e.kind, ErrorKind::Cycle);
    assert!(e.message.contains("a -> b -> c -> a"), "{}", e.message);
    assert_eq!(e.span.as_ref().map(|s| s.line), Some(8));
}

#[test]
fn a_service_extending_itself_is_a_cycle() {
    let e = error(&[(
        "/p/compose.yaml",
        "services:\n  a:\n    image: x\n    extends: a\n",
    )]);
    assert_eq!(e.kind, ErrorKind::Cycle);
    assert!(e.message.contains("a -> a"), "{}", e.message);
    assert_eq!(e.service.as_deref(), Some("a"));
}

#[test]
fn extends_cycle_across_files_names_the_other_file() {
    let e = error(&[
        (
            "/p/compose.yaml",
            "services:\n  a:\n    image: x\n    extends: {file: x.yaml, service: b}\n",
        ),
        (
            "/p/x.yaml",
            "services:\n  b:\n    extends: {file: compose.yaml, service: a}\n",
        ),
    ]);
    assert_eq!(e.kind, ErrorKind::Cycle);
    assert!(
        e.message.contains("a -> b (/p/x.yaml) -> a"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_base_service_is_a_reference_error_at_extends_with_a_hint() {
    let e = error(&[(
        "/p/compose.yaml",
        "services:\n  web:\n    image: x\n    extends: bsae\n  base:\n    image: b\n",
    )]);
    assert_eq!(e.kind, ErrorKind::Reference);
    assert_eq!(e.service.as_deref(), Some("web"));
    assert_eq!(
        e.message,
        "cannot extend service \"web\": service \"bsae\" not found"
    );
    assert_eq!(e.span.as_ref().map(|s| s.line), Some(4));
    assert_eq!(e.hint.as_deref(), Some("did you mean `base`?"));
}

#[test]
fn unknown_service_in_another_file_names_the_file() {
    let e = error(&[
        (
            "/p/compose.yaml",
            "services:\n  web:\n    extends: {file: sub/base.yaml, service: zz}\n",
        ),
        ("/p/sub/base.yaml", BASE),
    ]);
    assert_eq!(e.kind, ErrorKind::Reference);
    assert!(
        e.message
            .contains("service \"zz\" not found in sub/base.yaml"),
        "{}",
        e.message
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap_or("")
            .contains("base, mid, nobuildctx")
    );
}

#[test]
fn a_missing_extends_file_is_the_loaders_error_located_at_extends() {
    let e = error(&[(
        "/p/compose.yaml",
        "services:\n  web:\n    extends:\n      file: nofile.yaml\n      service: zz\n",
    )]);
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("/p/nofile.yaml"), "{}", e.message);
    assert_eq!(e.span.as_ref().map(|s| s.line), Some(4));
    assert_eq!(e.service.as_deref(), Some("web"));
}

#[test]
fn extends_without_service_is_an_error() {
    let e = error(&[(
        "/p/compose.yaml",
        "services:\n  web:\n    extends: {file: x.yaml}\n",
    )]);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert!(e.message.contains("needs `service:`"), "{}", e.message);
}

#[test]
fn files_without_extends_are_left_untouched() {
    let mut root = parse_as(
        "services:\n  a:\n    image: x\n    labels: !reset {}\n",
        "c.yaml",
    );
    let before = root.clone();
    resolve_extends(&mut root, Path::new("c.yaml"), &mut |_: &Path| {
        unreachable!("no file to load")
    })
    .unwrap();
    assert_eq!(root, before);
}

/// `s0` extends `s1` extends … `s<len-1>`, each adding one label: written
/// base last, so resolving `s0` walks the whole chain at once.
fn chain(len: usize) -> String {
    let mut text = String::from("services:\n");
    for i in 0..len - 1 {
        text.push_str(&format!(
            "  s{i}:\n    extends: s{}\n    labels: {{l{i}: v}}\n",
            i + 1
        ));
    }
    text.push_str(&format!("  s{}:\n    image: x\n", len - 1));
    text
}

#[test]
fn a_chain_of_sixty_five_services_resolves() {
    let n = resolved(&chain(65));
    let first = n.get("services").and_then(|s| s.get("s0")).unwrap();
    assert_eq!(
        first.get("labels").and_then(Node::as_map).map(|m| m.len()),
        Some(64)
    );
    assert_eq!(first.get("image").and_then(Node::as_str), Some("x"));
}

#[test]
fn a_longer_chain_is_refused_instead_of_recursing_deeper() {
    let e = error(&[("/p/compose.yaml", chain(3_000).as_str())]);
    assert_eq!(e.kind, ErrorKind::Cycle);
    assert!(
        e.message.contains("extends chain longer than 64"),
        "{}",
        e.message
    );
    assert!(e.span.is_some() && e.service.is_some(), "{e}");
}

#[test]
fn a_chain_written_base_first_is_bounded_by_what_it_copies() {
    // Resolved in file order, each link is one step deep, but service `i`
    // inherits i labels: the copies grow quadratically.
    let mut text = String::from("services:\n  s0:\n    image: x\n");
    for i in 1..3_000 {
        text.push_str(&format!(
            "  s{i}:\n    extends: s{}\n    labels: {{l{i}: v}}\n",
            i - 1
        ));
    }
    let e = error(&[("/p/compose.yaml", text.as_str())]);
    assert!(
        e.message.contains("extends copies more than"),
        "{}",
        e.message
    );
}

#[test]
fn a_large_base_extended_by_many_services_is_refused_not_copied_without_bound() {
    // 5,000 entries in the base, copied into 100 services: 500,000 nodes
    // from a file of 5,200.
    let mut text = String::from("services:\n  base:\n    image: x\n    labels:\n");
    for i in 0..5_000 {
        text.push_str(&format!("      l{i}: v\n"));
    }
    for i in 0..100 {
        text.push_str(&format!("  s{i}:\n    extends: base\n"));
    }
    let e = error(&[("/p/compose.yaml", text.as_str())]);
    assert!(
        e.message.contains("extends copies more than 250000 values"),
        "{}",
        e.message
    );
    // Forty copies stay within the budget.
    let fewer = text.lines().take(5_004 + 80).collect::<Vec<_>>().join("\n");
    let n = resolved(&fewer);
    assert!(n.get("services").and_then(|s| s.get("s39")).is_some());
}
