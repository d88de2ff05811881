use super::*;
use crate::testutil::load_project;

const STACK: &str = r#"
name: demo
services:
  web:
    build:
      context: ./web
      dockerfile: web.Dockerfile
      args: {A: "1", UNSET: null}
      labels: {team: core}
      target: prod
      tags: ["demo/web:extra"]
  worker:
    image: demo-web
  api:
    image: registry.example/api:2
    build: ./api
  cache:
    image: redis:7
  db:
    image: postgres:16
    pull_policy: never
  tool:
    image: tool:1
    pull_policy: always
"#;

fn all(project: &Project) -> BTreeSet<String> {
    project.services.keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// (image, services, step kind) for compact assertions.
fn summary(jobs: &[Job]) -> Vec<(String, String, &'static str)> {
    jobs.iter()
        .map(|j| {
            let kind = match &j.step {
                Step::Build(_) => "build",
                Step::PullOrBuild(_) => "pull-or-build",
                Step::Pull {
                    on_failure: OnPullFailure::Fail,
                    ..
                } => "pull",
                Step::Pull {
                    on_failure: OnPullFailure::Warn,
                    ..
                } => "try-pull",
            };
            (j.image.clone(), j.services.join(","), kind)
        })
        .collect()
}

fn row(image: &str, services: &str, kind: &'static str) -> (String, String, &'static str) {
    (image.to_string(), services.to_string(), kind)
}

#[test]
fn up_builds_or_pulls_only_what_is_missing() {
    let p = load_project(STACK);
    let present = set(&["postgres:16"]);
    let jobs = for_up(&p, &all(&p), &present, ImagesMode::Missing).unwrap();
    assert_eq!(
        summary(&jobs),
        [
            // Both services run demo-web: built once, by the service with build.
            row("demo-web", "web,worker", "build"),
            row("redis:7", "cache", "pull"),
            row("registry.example/api:2", "api", "pull-or-build"),
            row("tool:1", "tool", "pull"),
        ]
    );
    // Everything present: only pull_policy always still pulls.
    let present = set(&[
        "demo-web",
        "redis:7",
        "registry.example/api:2",
        "postgres:16",
        "tool:1",
    ]);
    let jobs = for_up(&p, &all(&p), &present, ImagesMode::Missing).unwrap();
    assert_eq!(summary(&jobs), [row("tool:1", "tool", "pull")]);
}

#[test]
fn up_build_rebuilds_and_no_build_never_builds() {
    let p = load_project(STACK);
    let present = set(&[
        "demo-web",
        "redis:7",
        "registry.example/api:2",
        "postgres:16",
        "tool:1",
    ]);
    let jobs = for_up(&p, &all(&p), &present, ImagesMode::Build).unwrap();
    assert_eq!(
        summary(&jobs),
        [
            row("demo-web", "web,worker", "build"),
            row("registry.example/api:2", "api", "build"),
            row("tool:1", "tool", "pull"),
        ]
    );
    let jobs = for_up(&p, &all(&p), &set(&["postgres:16"]), ImagesMode::NoBuild).unwrap();
    assert_eq!(
        summary(&jobs),
        [
            row("redis:7", "cache", "pull"),
            // Named and buildable: a pull is tried, its failure left to the plan's check.
            row("registry.example/api:2", "api", "try-pull"),
            row("tool:1", "tool", "pull"),
        ]
    );
}

#[test]
fn pull_policy_never_and_build_are_enforced() {
    let p = load_project(STACK);
    let e = for_up(&p, &all(&p), &set(&[]), ImagesMode::Missing).unwrap_err();
    assert_eq!(
        e,
        JobError::NeverPulled {
            service: "db".into(),
            image: "postgres:16".into()
        }
    );
    assert!(e.to_string().contains("not present locally"), "{e}");

    let p = load_project("name: demo\nservices:\n  a:\n    image: x:1\n    pull_policy: build\n");
    let e = for_up(&p, &all(&p), &set(&["x:1"]), ImagesMode::Missing).unwrap_err();
    assert!(matches!(e, JobError::BuildPolicyWithoutBuild { .. }), "{e}");

    let p = load_project(
        "name: demo\nservices:\n  a:\n    build: .\n    pull_policy: build\n  b:\n    build: .\n    image: b:1\n    pull_policy: never\n",
    );
    let jobs = for_up(&p, &all(&p), &set(&["demo-a"]), ImagesMode::Missing).unwrap();
    assert_eq!(
        summary(&jobs),
        [row("b:1", "b", "build"), row("demo-a", "a", "build")]
    );
}

#[test]
fn build_requests_carry_the_compose_build_section() {
    let p = load_project(STACK);
    let (jobs, without) = for_build(
        &p,
        &[],
        &BuildOverrides {
            no_cache: true,
            pull: false,
            args: [("B".to_string(), "2".to_string())].into(),
        },
    )
    .unwrap();
    assert!(without.is_empty());
    assert_eq!(
        summary(&jobs),
        [
            row("demo-web", "web", "build"),
            row("registry.example/api:2", "api", "build"),
        ]
    );
    let Step::Build(b) = &jobs[0].step else {
        panic!("not a build")
    };
    assert!(b.context.ends_with("web"), "{}", b.context.display());
    assert_eq!(b.dockerfile, Dockerfile::InContext("web.Dockerfile".into()));
    assert_eq!(b.spec.tag, "demo-web");
    // An arg without a value and no such variable is dropped, as Compose does.
    assert_eq!(
        b.spec.args,
        [
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string())
        ]
        .into()
    );
    assert_eq!(b.spec.target.as_deref(), Some("prod"));
    assert!(b.spec.no_cache);
    assert_eq!(b.spec.labels["team"], "core");
    assert_eq!(b.spec.labels.len(), 1);
    assert_eq!(b.tags, ["demo/web:extra"]);

    let (jobs, without) =
        for_build(&p, &["cache".into(), "web".into()], &Default::default()).unwrap();
    assert_eq!(summary(&jobs), [row("demo-web", "web", "build")]);
    assert_eq!(without, ["cache"]);
    assert_eq!(
        for_build(&p, &["nope".into()], &Default::default()).unwrap_err(),
        JobError::NoSuchService("nope".into())
    );
}

#[test]
fn inline_dockerfiles_and_unsupported_build_inputs() {
    let p = load_project(
        "name: demo\nservices:\n  a:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM scratch\n",
    );
    let (jobs, _) = for_build(&p, &[], &Default::default()).unwrap();
    let Step::Build(b) = &jobs[0].step else {
        panic!("not a build")
    };
    assert_eq!(b.dockerfile, Dockerfile::Inline("FROM scratch\n".into()));

    let p = load_project(
        "name: demo\nservices:\n  a:\n    build: https://github.com/docker/example.git\n",
    );
    let e = for_build(&p, &[], &Default::default()).unwrap_err();
    assert!(matches!(e, JobError::RemoteContext { .. }), "{e}");

    let p = load_project(
        "name: demo\nservices:\n  a:\n    build:\n      context: .\n      extra_hosts: [\"a=10.0.0.1\", \"b=10.0.0.2\"]\n",
    );
    let e = for_build(&p, &[], &Default::default()).unwrap_err();
    assert!(e.to_string().contains("only one"), "{e}");
}

#[test]
fn pull_skips_like_compose() {
    let p = load_project(
        r#"
name: demo
services:
  built:
    build: .
  both:
    image: both:1
    build: .
  never:
    image: n:1
    pull_policy: never
  missing:
    image: m:1
    pull_policy: missing
  plain:
    image: m:1
  other:
    image: o:1
"#,
    );
    let present = set(&["m:1"]);
    let (jobs, skipped) = for_pull(&p, &[], &present, false).unwrap();
    assert_eq!(
        summary(&jobs),
        [
            row("both:1", "both", "try-pull"),
            // Unset policy pulls even when present (Compose's default).
            row("m:1", "plain", "pull"),
            row("o:1", "other", "pull"),
        ]
    );
    let reasons: Vec<(String, String)> =
        skipped.into_iter().map(|s| (s.service, s.reason)).collect();
    assert_eq!(
        reasons,
        [
            ("built".into(), "no image to be pulled".into()),
            ("missing".into(), "image is already present locally".into()),
            ("never".into(), "pull_policy is never".into()),
        ]
    );
    let (jobs, _) = for_pull(&p, &["both".into()], &present, true).unwrap();
    assert!(jobs.is_empty());
}
