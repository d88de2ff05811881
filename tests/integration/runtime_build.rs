//! Image builds and pulls with the real binary against the real daemon:
//! `up` builds a missing image (build args, `.dockerignore` with Docker's
//! rules, symlinks kept) and runs it, checked file for file against
//! `docker compose build`; a failing RUN names the service and the step and
//! `up` creates nothing; `dockerfile_inline` with target, labels and tags;
//! a pull that cannot reach a registry names the service and the image.
//! Every image a test builds carries the test's unique project name and is
//! removed at the end.

use std::path::Path;
use std::time::Duration;

use crate::runtime_support::{Out, Stack, docker, docker_ok, run_or_panic};
use crate::support::compose_available;

/// Removes the named images when dropped (also when the test panics).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = crate::runtime_support::run_limited(
                {
                    let mut c = std::process::Command::new("docker");
                    c.args(["rmi", "-f", image]);
                    c
                },
                Duration::from_secs(60),
            );
        }
    }
}

/// Copies the fixture's subdirectories too (`Stack::new` copies only files).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

fn stack(tag: &str, fixture: &str) -> Option<Stack> {
    let s = Stack::new(tag, fixture)?;
    copy_tree(&crate::runtime_support::fixture_dir(fixture), s.path());
    Some(s)
}

/// `find /ctx`, the symlink's target and the build args seen, in `image`.
fn image_view(image: &str) -> String {
    docker_ok(&[
        "run",
        "--rm",
        image,
        "sh",
        "-c",
        "cd /ctx && find . | sort && readlink outside-link && cat /greeting /from-env",
    ])
}

#[test]
fn runtime_up_builds_the_missing_image_with_dockerignore_and_args() {
    // Declared before the stack: dropped after it, once no container uses them.
    let mut images = Images(Vec::new());
    let Some(s) = stack("build-app", "build/app") else {
        return;
    };
    let image = format!("{}-app", s.name);
    let oracle_project = format!("{}x", s.name);
    images
        .0
        .extend([image.clone(), format!("{oracle_project}-app")]);
    // Symlinks travel as symlinks, never followed.
    std::os::unix::fs::symlink("/etc/hostname", s.path().join("app/outside-link")).unwrap();

    let env = [("FROM_ENV", "env-value")];
    let up = s.aistack_env(&["up", "--wait", "--progress", "plain"], &env);
    assert_eq!(up.code, 0, "{}", up.all());
    assert!(up.stderr.contains("building app (image "), "{}", up.all());
    assert!(
        up.stderr
            .contains("app  | Step 1/5 : FROM aistack-test/busybox:1"),
        "{}",
        up.all()
    );
    assert_eq!(s.inspect("app", "{{.Config.Image}}"), image);
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "running");
    // Rebuilt below, this one would be left dangling.
    images
        .0
        .push(docker_ok(&["image", "inspect", "-f", "{{.Id}}", &image]));

    let (code, seen) = s.exec(
        "app",
        "cd /ctx && find . | sort && readlink outside-link && cat /greeting /from-env",
    );
    assert_eq!(code, 0, "{seen}");
    let want = [
        ".",
        "./.dockerignore",
        "./included.txt",
        "./logs",
        "./logs/keep.txt",
        "./outside-link",
        "./sub",
        "./sub/nested.secret",
        "/etc/hostname",
        "hello-from-args",
        "env-value",
    ];
    assert_eq!(seen.lines().collect::<Vec<_>>(), want, "{seen}");

    // The oracle: Compose's classic builder sends the same context.
    if compose_available() {
        let mut cmd = std::process::Command::new("docker");
        cmd.args(["compose", "-p", &oracle_project, "build"])
            .current_dir(s.path())
            .env("DOCKER_BUILDKIT", "0")
            .env("FROM_ENV", "env-value");
        let out = run_or_panic(cmd, Duration::from_secs(180));
        assert_eq!(out.code, 0, "docker compose build: {}", out.all());
        assert_eq!(
            image_view(&format!("{oracle_project}-app")),
            image_view(&image)
        );
    }

    // Present now: a second up builds nothing and keeps the container.
    let before = s.ids();
    let again = s.aistack_env(&["up", "--wait", "--progress", "plain"], &env);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(!again.stderr.contains("building app"), "{}", again.all());
    assert_eq!(s.ids(), before);

    // A changed context with --build: a new image, and the container is
    // recreated on it.
    std::fs::write(s.path().join("app/included.txt"), "changed\n").unwrap();
    let rebuilt = s.aistack_env(&["up", "--build", "--wait", "--progress", "plain"], &env);
    assert_eq!(rebuilt.code, 0, "{}", rebuilt.all());
    assert!(
        rebuilt.stderr.contains("built app (image "),
        "{}",
        rebuilt.all()
    );
    assert_ne!(s.ids(), before, "{}", rebuilt.all());
    assert_eq!(s.exec("app", "cat /ctx/included.txt").1, "changed\n");

    // Rebuilt from an unchanged context: the same image, the same container.
    let after = s.ids();
    let cached = s.aistack_env(&["up", "--build", "--wait", "--progress", "plain"], &env);
    assert_eq!(cached.code, 0, "{}", cached.all());
    assert_eq!(s.ids(), after, "{}", cached.all());

    s.aistack(&["down"]).ok();
}

/// The image IDs (" ---> 0123456789ab") printed after the first step.
fn layers_after_step_one(output: &str) -> Vec<String> {
    output
        .lines()
        .skip_while(|l| !l.contains("| Step 2/"))
        .filter_map(|l| {
            l.split_once("|  ---> ")
                .map(|(_, id)| id.trim().to_string())
        })
        .filter(|id| id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

fn assert_names_service_and_step(out: &Out, image: &str) {
    assert_eq!(out.code, 1, "{}", out.all());
    let want = format!(
        "error: service \"bad\": building image \"{image}\" failed at \"Step 3/4 : RUN echo \"about to fail\" >&2; exit 3\": The command '/bin/sh -c echo \"about to fail\" >&2; exit 3' returned a non-zero code: 3"
    );
    assert!(out.stderr.contains(&want), "{}", out.all());
    // The step's output is there, prefixed with the service.
    assert!(out.stderr.contains("bad  | about to fail"), "{}", out.all());
    assert!(!out.stderr.contains("panicked"), "{}", out.all());
}

#[test]
fn runtime_failed_build_names_the_service_and_step_and_up_creates_nothing() {
    let mut images = Images(Vec::new());
    let Some(s) = stack("build-fail", "build/fail") else {
        return;
    };
    let image = format!("{}-bad", s.name);
    images.0.push(image.clone());

    let up = s.aistack(&["up", "-d"]);
    assert_names_service_and_step(&up, &image);
    // The layers of the steps that succeeded stay as build cache: remove
    // them too (never the base image, whose ID follows step 1).
    images.0.extend(layers_after_step_one(&up.stderr));
    s.assert_nothing_left();
    assert_ne!(docker(&["image", "inspect", &image]).code, 0);

    let build = s.aistack(&["build", "bad"]);
    assert_names_service_and_step(&build, &image);
}

#[test]
fn runtime_dockerfile_inline_builds_its_target_with_labels_and_tags() {
    let mut images = Images(Vec::new());
    let Some(s) = stack("build-inline", "build/inline") else {
        return;
    };
    let image = format!("aistack-test/{}:1", s.name);
    let extra = format!("{image}-extra");
    images.0.extend([image.clone(), extra.clone()]);
    let env = [("TOOL_IMAGE", image.as_str())];

    let quiet = s.aistack_env(&["build", "-q"], &env);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(quiet.stdout, "", "{}", quiet.all());
    assert_eq!(quiet.stderr, "", "{}", quiet.all());

    // The target stage ran; the generated Dockerfile stays out of COPY.
    let seen = docker_ok(&[
        "run",
        "--rm",
        &extra,
        "sh",
        "-c",
        "cat /stage && find /ctx | sort",
    ]);
    assert_eq!(
        seen.lines().collect::<Vec<_>>(),
        ["final", "/ctx", "/ctx/data.txt"]
    );
    assert_eq!(
        docker_ok(&[
            "image",
            "inspect",
            "-f",
            "{{index .Config.Labels \"org.example.kind\"}}",
            &image
        ]),
        "inline"
    );
    assert_eq!(
        docker_ok(&["image", "inspect", "-f", "{{.Id}}", &image]),
        docker_ok(&["image", "inspect", "-f", "{{.Id}}", &extra])
    );
}

#[test]
fn runtime_unpullable_image_names_the_service_and_image_and_creates_nothing() {
    let Some(s) = stack("build-pull", "build/app") else {
        return;
    };
    let missing = format!("aistack-test/{}-absent:1", s.name);
    std::fs::write(
        s.file(),
        format!(
            "services:\n  cache:\n    image: {missing}\n  local:\n    image: aistack-test/busybox:1\n    pull_policy: missing\n"
        ),
    )
    .unwrap();
    let want = format!(
        "error: service \"cache\": image \"{missing}\" is not present locally and could not be pulled: "
    );
    let pull = s.aistack(&["pull"]);
    assert_eq!(pull.code, 1, "{}", pull.all());
    assert!(pull.stderr.contains(&want), "{}", pull.all());
    assert!(
        pull.stderr
            .contains("skipped local: image is already present locally"),
        "{}",
        pull.all()
    );

    let up = s.aistack(&["up", "-d"]);
    assert_eq!(up.code, 1, "{}", up.all());
    assert!(up.stderr.contains(&want), "{}", up.all());
    s.assert_nothing_left();

    // pull_policy: never does not even try.
    s.edit(
        &format!("image: {missing}\n"),
        &format!("image: {missing}\n    pull_policy: never\n"),
    );
    let never = s.aistack(&["up", "-d"]);
    assert_eq!(never.code, 1, "{}", never.all());
    assert!(
        never
            .stderr
            .contains("is not present locally and its pull_policy is never"),
        "{}",
        never.all()
    );
    assert!(!never.stderr.contains("pulling"), "{}", never.all());
    s.assert_nothing_left();
}
