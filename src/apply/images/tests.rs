use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::build::jobs::{self, ImagesMode};
use crate::engine::FakeEngine;
use crate::testutil::load_project;

#[derive(Default)]
struct Record {
    lines: Mutex<Vec<String>>,
    in_flight: Mutex<(usize, usize)>,
}

impl ImageSink for Record {
    fn output(&self, service: &str, line: &str) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("{service}| {line}"));
    }

    fn event(&self, service: &str, event: ImageEvent<'_>) {
        let mut f = self.in_flight.lock().unwrap();
        match event {
            ImageEvent::Building { .. } => {
                f.0 += 1;
                f.1 = f.1.max(f.0);
            }
            ImageEvent::Built { .. } => f.0 -= 1,
            _ => {}
        }
        self.lines
            .lock()
            .unwrap()
            .push(format!("{service}: {event:?}"));
    }
}

/// A project whose services build from real context directories.
fn project(dir: &std::path::Path, yaml: &str) -> crate::compose::Project {
    for ctx in ["a", "b", "c"] {
        std::fs::create_dir_all(dir.join(ctx)).unwrap();
        std::fs::write(dir.join(ctx).join("Dockerfile"), "FROM scratch\n").unwrap();
    }
    let yaml = yaml.replace("CTX", &dir.display().to_string());
    load_project(&yaml)
}

const THREE: &str = "name: demo\nservices:\n  a:\n    build: CTX/a\n  b:\n    build: CTX/b\n  c:\n    build: CTX/c\n    image: shared:1\n  d:\n    image: shared:1\n";

#[tokio::test(start_paused = true)]
async fn builds_run_two_at_a_time_and_shared_images_build_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), THREE);
    let engine = FakeEngine::new();
    engine.set_images(Vec::<String>::new());
    engine.set_latency("build_image", Duration::from_secs(1));
    let selected: BTreeSet<String> = p.services.keys().cloned().collect();
    let jobs = jobs::for_up(&p, &selected, &BTreeSet::new(), ImagesMode::Build).unwrap();
    assert_eq!(jobs.len(), 3);
    let sink = Record::default();
    let failures = run(&engine, jobs, 2, &sink).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(sink.in_flight.lock().unwrap().1, 2);
    let mut built: Vec<String> = engine.builds().into_iter().map(|(s, _)| s.tag).collect();
    built.sort();
    assert_eq!(built, ["demo-a", "demo-b", "shared:1"]);
    let lines = sink.lines.lock().unwrap().join("\n");
    assert!(lines.contains("a| Step 1/1 : FROM scratch"), "{lines}");
}

#[tokio::test]
async fn a_failed_step_is_reported_with_the_step_and_stops_new_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), THREE);
    let engine = FakeEngine::new();
    engine.script_build(
        "demo-a",
        &[
            "Step 1/3 : FROM aistack-test/busybox:1",
            "Step 2/3 : RUN exit 3",
            " ---> Running in 0123",
        ],
        Some("The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
    );
    let selected: BTreeSet<String> = p.services.keys().cloned().collect();
    let jobs = jobs::for_up(&p, &selected, &BTreeSet::new(), ImagesMode::Build).unwrap();
    let failures = run(&engine, jobs, 1, &Record::default()).await;
    assert_eq!(
        failures,
        [ImageFailure {
            services: vec!["a".into()],
            image: "demo-a".into(),
            kind: FailureKind::Build {
                step: Some("Step 2/3 : RUN exit 3".into()),
                message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3".into(),
            },
        }]
    );
    // One at a time: nothing started after the failure.
    assert_eq!(engine.builds().len(), 1);
}

#[tokio::test]
async fn a_failed_pull_of_a_buildable_image_falls_back_to_a_build() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "name: demo\nservices:\n  web:\n    image: web:dev\n    build:\n      context: CTX/a\n      tags: [\"web:extra\"]\n",
    );
    let engine = FakeEngine::new();
    engine.set_images(Vec::<String>::new());
    engine.fail_next(
        "pull_image",
        EngineError::Api {
            status: 500,
            message: "dial tcp: lookup registry-1.docker.io: no such host".into(),
        },
    );
    let selected: BTreeSet<String> = ["web".to_string()].into();
    let jobs = jobs::for_up(&p, &selected, &BTreeSet::new(), ImagesMode::Missing).unwrap();
    let sink = Record::default();
    assert!(run(&engine, jobs, 2, &sink).await.is_empty());
    let calls = engine.calls();
    assert_eq!(
        calls,
        [
            "pull_image web:dev",
            "build_image web:dev",
            "tag_image sha256:fake-build-1 web:extra"
        ]
    );
    assert!(engine.image_exists("web:extra").await.unwrap());
    let lines = sink.lines.lock().unwrap().join("\n");
    assert!(lines.contains("no such host"), "{lines}");
}

#[tokio::test]
async fn a_failed_pull_without_build_is_a_failure_naming_the_image() {
    let p = load_project("name: demo\nservices:\n  cache:\n    image: redis:7\n");
    let engine = FakeEngine::new();
    engine.set_images(Vec::<String>::new());
    engine.fail_next(
        "pull_image",
        EngineError::Api {
            status: 500,
            message: "no such host".into(),
        },
    );
    let selected: BTreeSet<String> = ["cache".to_string()].into();
    let jobs = jobs::for_up(&p, &selected, &BTreeSet::new(), ImagesMode::Missing).unwrap();
    let failures = run(&engine, jobs, 2, &Record::default()).await;
    assert_eq!(
        failures,
        [ImageFailure {
            services: vec!["cache".into()],
            image: "redis:7".into(),
            kind: FailureKind::Pull {
                message: "no such host".into(),
                present: false
            },
        }]
    );
}

#[tokio::test]
async fn a_missing_dockerfile_fails_before_the_engine_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "name: demo\nservices:\n  a:\n    build:\n      context: CTX/a\n      dockerfile: Nope\n",
    );
    let engine = FakeEngine::new();
    let (jobs, _) = jobs::for_build(&p, &[], &Default::default()).unwrap();
    let failures = run(&engine, jobs, 2, &Record::default()).await;
    assert!(
        matches!(&failures[0].kind, FailureKind::Context(m) if m.contains("Dockerfile Nope not found")),
        "{failures:?}"
    );
    assert!(engine.builds().is_empty());
}

#[tokio::test]
async fn an_inline_dockerfile_travels_in_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(
        dir.path(),
        "name: demo\nservices:\n  a:\n    build:\n      context: CTX/b\n      dockerfile_inline: \"FROM scratch\\nLABEL x=y\\n\"\n",
    );
    let engine = FakeEngine::new();
    let (jobs, _) = jobs::for_build(&p, &[], &Default::default()).unwrap();
    assert!(run(&engine, jobs, 2, &Record::default()).await.is_empty());
    let (spec, tar) = &engine.builds()[0];
    assert!(spec.dockerfile.starts_with(".dockerfile."));
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut found = String::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == spec.dockerfile {
            std::io::Read::read_to_string(&mut e, &mut found).unwrap();
        }
    }
    assert_eq!(found, "FROM scratch\nLABEL x=y\n");
}
