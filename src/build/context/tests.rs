use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};

use super::*;

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// path → (kind, content or link target)
fn entries(tar: &[u8]) -> BTreeMap<String, (char, String)> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(tar);
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let kind = match e.header().entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Regular => 'f',
            other => panic!("unexpected entry type {other:?}"),
        };
        let content = if kind == 'l' {
            e.link_name()
                .unwrap()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        } else {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            s
        };
        assert!(out.insert(path, (kind, content)).is_none());
    }
    out
}

fn names(tar: &[u8]) -> Vec<String> {
    entries(tar).into_keys().collect()
}

fn in_context() -> Dockerfile {
    Dockerfile::InContext("Dockerfile".into())
}

#[test]
fn dockerignore_excludes_files_and_exceptions_re_include() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", "FROM scratch\n");
    write(d.path(), "app.txt", "app");
    write(d.path(), "debug.log", "x");
    write(d.path(), "keep.log", "k");
    write(d.path(), "docs/guide.md", "g");
    write(d.path(), "docs/README.md", "r");
    write(d.path(), "node_modules/pkg/index.js", "n");
    write(
        d.path(),
        ".dockerignore",
        "*.log\n!keep.log\ndocs\n!docs/README.md\nnode_modules\n",
    );
    let ctx = create(d.path(), &in_context()).unwrap();
    assert_eq!(
        names(&ctx.tar),
        [
            ".dockerignore",
            "Dockerfile",
            "app.txt",
            "docs/README.md",
            "keep.log"
        ]
    );
    assert_eq!(ctx.dockerfile, "Dockerfile");
}

#[test]
fn dockerfile_and_dockerignore_are_sent_even_when_excluded() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "build/app.Dockerfile", "FROM scratch\n");
    write(d.path(), "build/other", "o");
    write(d.path(), "src/main.c", "int main;");
    write(d.path(), ".dockerignore", ".dockerignore\nbuild\n");
    let df = Dockerfile::from_compose(d.path(), "build/app.Dockerfile", "");
    let ctx = create(d.path(), &df).unwrap();
    assert_eq!(
        names(&ctx.tar),
        [
            ".dockerignore",
            "build/app.Dockerfile",
            "src/",
            "src/main.c"
        ]
    );
    assert_eq!(ctx.dockerfile, "build/app.Dockerfile");

    // Everything excluded: still the two files the daemon needs.
    write(d.path(), ".dockerignore", "*\n");
    write(d.path(), "Dockerfile", "FROM scratch\n");
    let ctx = create(d.path(), &in_context()).unwrap();
    assert_eq!(names(&ctx.tar), [".dockerignore", "Dockerfile"]);
}

#[test]
fn symlinks_are_stored_as_symlinks_and_never_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", "do not send");
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", "FROM scratch\n");
    symlink(outside.path(), d.path().join("linked-dir")).unwrap();
    symlink("../etc/passwd", d.path().join("rel-link")).unwrap();
    let ctx = create(d.path(), &in_context()).unwrap();
    let e = entries(&ctx.tar);
    assert_eq!(
        e["linked-dir"],
        ('l', outside.path().to_string_lossy().into_owned())
    );
    assert_eq!(e["rel-link"], ('l', "../etc/passwd".to_string()));
    assert!(!e.keys().any(|k| k.contains("secret")));
}

#[test]
fn the_same_context_gives_the_same_bytes_with_normalized_owner_and_time() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", "FROM scratch\n");
    write(d.path(), "b/z.txt", "z");
    write(d.path(), "a.sh", "#!/bin/sh\n");
    std::fs::set_permissions(
        d.path().join("a.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let first = create(d.path(), &in_context()).unwrap();
    // A new mtime on a file changes nothing.
    std::fs::write(d.path().join("b/z.txt"), "z").unwrap();
    let second = create(d.path(), &in_context()).unwrap();
    assert_eq!(first.tar, second.tar);

    let mut archive = tar::Archive::new(first.tar.as_slice());
    let mut seen = Vec::new();
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.gid().unwrap(), 0);
        assert_eq!(h.mtime().unwrap(), MTIME);
        seen.push((
            e.path().unwrap().to_string_lossy().into_owned(),
            h.mode().unwrap(),
        ));
    }
    // Sorted by name, depth first, directories before their contents.
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["Dockerfile", "a.sh", "b/", "b/z.txt"]);
    assert_eq!(seen[1].1, 0o755);
}

#[test]
fn inline_dockerfile_is_added_and_hidden_from_copy() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "app.txt", "app");
    let text = "FROM scratch\nCOPY . /\n";
    let df = Dockerfile::from_compose(d.path(), "", text);
    let ctx = create(d.path(), &df).unwrap();
    assert!(
        ctx.dockerfile.starts_with(".dockerfile."),
        "{}",
        ctx.dockerfile
    );
    assert_eq!(ctx.dockerfile.len(), ".dockerfile.".len() + 20);
    let e = entries(&ctx.tar);
    assert_eq!(e[&ctx.dockerfile], ('f', text.to_string()));
    assert_eq!(
        e[".dockerignore"].1,
        format!(".dockerignore\n{}\n", ctx.dockerfile)
    );
    // An existing .dockerignore keeps its rules and gains the name.
    write(d.path(), ".dockerignore", "*.log");
    let ctx2 = create(d.path(), &df).unwrap();
    assert_eq!(ctx2.dockerfile, ctx.dockerfile);
    assert_eq!(
        entries(&ctx2.tar)[".dockerignore"].1,
        format!("*.log\n{}\n", ctx.dockerfile)
    );
}

#[test]
fn a_dockerfile_outside_the_context_is_added_under_a_generated_name() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "ctx/app.txt", "app");
    write(root.path(), "docker/web.Dockerfile", "FROM scratch\n");
    let ctx_dir = root.path().join("ctx");
    let df = Dockerfile::from_compose(&ctx_dir, "../docker/web.Dockerfile", "");
    assert!(matches!(df, Dockerfile::Outside(_)));
    let ctx = create(&ctx_dir, &df).unwrap();
    assert_eq!(entries(&ctx.tar)[&ctx.dockerfile].1, "FROM scratch\n");

    let abs = root.path().join("ctx/sub/D");
    assert_eq!(
        Dockerfile::from_compose(&ctx_dir, abs.to_str().unwrap(), ""),
        Dockerfile::InContext("sub/D".into())
    );
}

#[test]
fn missing_dockerfile_and_bad_context_are_errors() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "app.txt", "app");
    let e = create(d.path(), &in_context()).unwrap_err();
    assert!(matches!(e, ContextError::DockerfileMissing { .. }), "{e}");
    assert!(
        e.to_string().contains("Dockerfile Dockerfile not found"),
        "{e}"
    );

    let e = create(&d.path().join("app.txt"), &in_context()).unwrap_err();
    assert!(matches!(e, ContextError::NotADirectory(_)), "{e}");
    let e = create(&d.path().join("nope"), &in_context()).unwrap_err();
    assert!(matches!(e, ContextError::Io { .. }), "{e}");

    write(d.path(), "Dockerfile", "FROM scratch\n");
    write(d.path(), ".dockerignore", "[\n");
    let e = create(d.path(), &in_context()).unwrap_err();
    assert!(e.to_string().contains("syntax error in pattern"), "{e}");
}

#[test]
fn lowercase_dockerfile_is_found_for_the_default_name() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "dockerfile", "FROM scratch\n");
    let ctx = create(d.path(), &in_context()).unwrap();
    assert_eq!(ctx.dockerfile, "dockerfile");
}
