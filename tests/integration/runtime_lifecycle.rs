//! The life of a stack with the real binary: idempotent up, recreate on
//! change, down (with and without the compose file, with `-v`), `--dry-run`,
//! Compose seeing an aistack stack, and the errors that must create nothing.

use std::time::{Duration, Instant};

use crate::runtime_support::{Stack, aistack_in, docker, docker_ok};

#[test]
fn runtime_second_up_on_an_unchanged_file_changes_nothing() {
    let Some(s) = Stack::new("noop", "basic") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let ids = s.ids();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let started = s.inspect("web", "{{.State.StartedAt}}");

    for args in [&["up", "--wait"][..], &["up", "-d"][..]] {
        let again = s.aistack(args).ok();
        assert!(
            again.stderr.contains("up to date"),
            "{args:?} does not say nothing changed:\n{}",
            again.all()
        );
        for verb in ["create", "start", "stop", "remove"] {
            assert!(
                !again.stderr.contains(&format!("{verb} {}", s.name)),
                "{args:?} did {verb}:\n{}",
                again.all()
            );
        }
        assert_eq!(s.ids(), ids);
        assert_eq!(s.inspect("web", "{{.State.StartedAt}}"), started);
    }
    // The plan holds no action: at most checks of dependencies' conditions
    // the snapshot does not show met yet (the engine's first health check
    // may still be pending), else nothing at all.
    let plan = s.aistack(&["up", "--dry-run"]).ok().stdout;
    assert!(
        plan.trim() == "nothing to do" || plan.lines().all(|l| l.contains(" Wait (")),
        "{plan}"
    );
}

#[test]
fn runtime_changed_service_is_recreated_and_unrelated_kept() {
    let Some(s) = Stack::new("recreate", "recreate") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let before = s.ids();
    let api_started = s.inspect("api", "{{.State.StartedAt}}");
    let worker_started = s.inspect("worker", "{{.State.StartedAt}}");

    s.edit("DB_MODE: one", "DB_MODE: two");
    let plan = s.aistack(&["up", "--wait", "--dry-run"]).ok().stdout;
    assert!(
        plan.contains(&format!(
            "create:{} CreateContainer (config changed)",
            s.container("db")
        )),
        "{plan}"
    );
    let since = docker_ok(&["system", "info", "--format", "{{.SystemTime}}"]);
    let up = s.aistack(&["up", "--wait", "--progress", "plain"]).ok();
    let after = s.ids();
    let (db, api, worker) = (s.container("db"), s.container("api"), s.container("worker"));
    // As Compose: api (restart: true) stopped before db's old container.
    let until = docker_ok(&["system", "info", "--format", "{{.SystemTime}}"]);
    let dies: Vec<String> = docker_ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        &format!("label=com.docker.compose.project={}", s.name),
        "--filter",
        "event=die",
        "--format",
        "{{.Actor.Attributes.name}}",
    ])
    .lines()
    .map(String::from)
    .collect();
    assert_eq!(dies.first(), Some(&api), "{dies:?}\n{}", up.all());
    assert!(dies.contains(&db), "{dies:?}");
    assert_ne!(
        before[&db],
        after[&db],
        "db was not recreated:\n{}",
        up.all()
    );
    assert_eq!(
        s.inspect("db", "{{range .Config.Env}}{{println .}}{{end}}")
            .lines()
            .find(|l| l.starts_with("DB_MODE=")),
        Some("DB_MODE=two")
    );
    // api depends on db with restart: true: same container, restarted.
    assert_eq!(before[&api], after[&api]);
    assert_ne!(s.inspect("api", "{{.State.StartedAt}}"), api_started);
    assert_eq!(s.inspect("api", "{{.State.Status}}"), "running");
    // worker is unrelated: same container, never restarted.
    assert_eq!(before[&worker], after[&worker]);
    assert_eq!(s.inspect("worker", "{{.State.StartedAt}}"), worker_started);

    // Editing the unrelated service recreates only it.
    s.edit("WORKER: \"1\"", "WORKER: \"2\"");
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let last = s.ids();
    assert_ne!(last[&worker], after[&worker]);
    assert_eq!(last[&db], after[&db]);
    assert_eq!(last[&api], after[&api]);
}

#[test]
fn runtime_down_v_leaves_nothing_labelled() {
    let Some(s) = Stack::new("downv", "basic") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let (containers, networks, volumes) = s.labelled();
    assert_eq!(containers, [s.container("cache"), s.container("web")]);
    assert_eq!(
        networks,
        [format!("{}_back", s.name), format!("{}_front", s.name)]
    );
    assert_eq!(volumes, [format!("{}_cache_data", s.name)]);
    // Write into the volume, so `down` without -v visibly keeps it.
    let (code, out) = s.exec("cache", "echo kept > /data/marker");
    assert_eq!(code, 0, "{out}");

    let started = Instant::now();
    s.aistack(&["down", "--progress", "quiet"]).ok();
    // Every PID 1 traps TERM: no stop waits out a grace period.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        s.labelled(),
        (vec![], vec![], vec![format!("{}_cache_data", s.name)])
    );
    // Up again: the data is still there.
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    assert_eq!(
        s.exec("cache", "cat /data/marker"),
        (0, "kept\n".to_string())
    );

    let down = s.aistack(&["down", "-v", "--progress", "plain"]).ok();
    assert!(
        down.stderr
            .contains(&format!("remove volume {}", "cache_data")),
        "{}",
        down.all()
    );
    s.assert_nothing_left();
    // Down on nothing is fine.
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
}

#[test]
fn runtime_compose_sees_an_aistack_stack() {
    let Some(s) = Stack::new("compose", "basic") else {
        return;
    };
    if !crate::support::compose_available() {
        eprintln!("skipping: no `docker compose`");
        return;
    }
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let empty = tempfile::tempdir().unwrap();
    let compose = |args: &[&str]| {
        let mut cmd = std::process::Command::new("docker");
        cmd.arg("compose")
            .arg("-p")
            .arg(&s.name)
            .args(args)
            .current_dir(empty.path());
        crate::runtime_support::run_or_panic(cmd, crate::runtime_support::CALL)
    };
    let ps = compose(&["ps", "--format", "json"]).ok();
    // Compose prints one JSON object per line.
    let rows: Vec<serde_json::Value> = ps
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let mut services: Vec<&str> = rows
        .iter()
        .map(|r| r["Service"].as_str().unwrap())
        .collect();
    services.sort();
    assert_eq!(services, ["cache", "web"], "{}", ps.stdout);
    for r in &rows {
        assert_eq!(r["State"], "running", "{r}");
        assert_eq!(r["Project"], s.name.as_str(), "{r}");
    }
    let web = rows.iter().find(|r| r["Service"] == "web").unwrap();
    assert!(web["Health"] == "" || web["Health"].is_null(), "{web}");
    let table = compose(&["ps"]).ok().stdout;
    assert!(
        table.contains(&s.container("web")) && table.contains(&s.container("cache")),
        "{table}"
    );
    let ls = compose(&["ls", "--all", "--format", "json"]).ok();
    assert!(
        ls.stdout.contains(&format!("\"Name\":\"{}\"", s.name)),
        "{}",
        ls.stdout
    );
    // And Compose can take it down again, volumes included.
    compose(&["down", "-v"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_down_works_without_the_compose_file() {
    let Some(s) = Stack::new("nofile", "basic") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let empty = tempfile::tempdir().unwrap();
    let plan = aistack_in(empty.path(), &["-p", &s.name, "down", "--dry-run"], &[]).ok();
    // Reverse dependency order from the depends_on label: web stops before cache.
    let web_stop = plan.stdout.find(&format!("stop:{}", s.container("web")));
    let cache_stop = plan.stdout.find(&format!("stop:{}", s.container("cache")));
    assert!(
        web_stop.is_some() && web_stop < cache_stop,
        "{}",
        plan.stdout
    );
    aistack_in(
        empty.path(),
        &["-p", &s.name, "down", "--progress", "quiet"],
        &[],
    )
    .ok();
    let (containers, networks, volumes) = s.labelled();
    assert!(
        containers.is_empty() && networks.is_empty(),
        "{containers:?} {networks:?}"
    );
    assert_eq!(volumes.len(), 1, "down without -v keeps volumes");
    aistack_in(
        empty.path(),
        &["-p", &s.name, "down", "-v", "--progress", "quiet"],
        &[],
    )
    .ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_dry_run_prints_the_plan_and_creates_nothing() {
    let Some(s) = Stack::new("dryrun", "basic") else {
        return;
    };
    let out = s.aistack(&["up", "--wait", "--dry-run"]).ok();
    let plan = &out.stdout;
    for line in [
        "network:front CreateNetwork (not found)",
        "network:back CreateNetwork (not found)",
        "volume:cache_data CreateVolume (not found)",
        &format!(
            "create:{} CreateContainer (not found)",
            s.container("cache")
        ),
        &format!("start:{} StartContainer (not found)", s.container("web")),
        "wait:cache:healthy Wait (depends_on cache (service_healthy))",
        "wait:web:running Wait (--wait)",
    ] {
        assert!(plan.contains(line), "missing {line:?} in\n{plan}");
    }
    // web starts only after the wait for cache's health.
    let index_of = |id: &str| {
        plan.lines()
            .find(|l| l.split(' ').nth(2) == Some(id))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("no {id} in\n{plan}"))
            .trim_start_matches('#')
            .to_string()
    };
    let wait_cache = index_of("wait:cache:healthy");
    let start_web = plan
        .lines()
        .find(|l| l.contains(&format!("start:{} ", s.container("web"))))
        .unwrap();
    let deps = start_web.split(' ').nth(1).unwrap();
    assert!(
        deps.trim_matches(['[', ']'])
            .split(',')
            .any(|d| d == wait_cache),
        "{start_web}"
    );
    s.assert_nothing_left();
    // The same for down: a plan, and nothing removed.
    s.aistack(&["up", "-d", "--progress", "quiet"]).ok();
    let before = s.labelled();
    let down = s.aistack(&["down", "-v", "--dry-run"]).ok();
    assert!(down.stdout.contains("RemoveVolume"), "{}", down.stdout);
    assert_eq!(s.labelled(), before);
}

#[test]
fn runtime_unreachable_daemon_is_exit_4_and_one_line() {
    // Needs no daemon: every command must fail the same way without one.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::runtime_support::fixture_dir("basic").join("compose.yaml"),
        dir.path().join("compose.yaml"),
    )
    .unwrap();
    let host = "unix:///nonexistent.sock";
    for args in [
        &["up", "--wait"][..],
        &["up", "--dry-run"],
        &["down"],
        &["ps"],
        &["logs"],
    ] {
        let mut full = vec!["-p", "aist-nodaemon"];
        full.extend_from_slice(args);
        let started = Instant::now();
        let out = aistack_in(dir.path(), &full, &[("DOCKER_HOST", host)]);
        assert_eq!(out.code, 4, "{args:?}: {}", out.all());
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(host), "{}", out.stderr);
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    }
}

#[test]
fn runtime_missing_image_names_service_and_image_and_creates_nothing() {
    let Some(s) = Stack::new("noimage", "basic") else {
        return;
    };
    let missing = "aistack-test/does-not-exist:0";
    assert_ne!(docker(&["image", "inspect", missing]).code, 0);
    // The second service's image: the first must not have been created either.
    let text = std::fs::read_to_string(s.file()).unwrap();
    let at = text.find("  cache:").unwrap();
    let (head, tail) = text.split_at(at);
    let tail = tail.replacen("aistack-test/busybox:1", missing, 1);
    std::fs::write(s.file(), format!("{head}{tail}")).unwrap();

    for args in [&["up", "--wait"][..], &["up", "--dry-run"]] {
        let out = s.aistack(args);
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("service \"cache\": image \"{missing}\"")),
            "{}",
            out.stderr
        );
        s.assert_nothing_left();
    }
}

#[test]
fn runtime_selection_force_no_recreate_and_orphans() {
    let Some(s) = Stack::new("options", "recreate") else {
        return;
    };
    let (db, api, worker) = (s.container("db"), s.container("api"), s.container("worker"));
    // A service name brings up that service and what it depends on.
    s.aistack(&["up", "--wait", "--progress", "quiet", "api"])
        .ok();
    let first = s.ids();
    assert_eq!(first.keys().collect::<Vec<_>>(), [&api, &db], "{first:?}");
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let all = s.ids();
    assert_eq!(all.len(), 3);
    assert_eq!((&all[&db], &all[&api]), (&first[&db], &first[&api]));

    // --force-recreate: new containers for everything.
    s.aistack(&["up", "--wait", "--force-recreate", "--progress", "quiet"])
        .ok();
    let forced = s.ids();
    for c in [&db, &api, &worker] {
        assert_ne!(forced[c], all[c], "{c} was not recreated");
    }
    // --no-recreate: a changed service keeps its container.
    s.edit("WORKER: \"1\"", "WORKER: \"2\"");
    let kept = s.aistack(&["up", "--wait", "--no-recreate"]).ok();
    assert!(kept.stderr.contains("up to date"), "{}", kept.all());
    assert_eq!(s.ids(), forced);

    // worker leaves the file: reported as an orphan, left alone...
    let text = std::fs::read_to_string(s.file()).unwrap();
    let cut = text.find("  worker:").unwrap();
    std::fs::write(s.file(), &text[..cut]).unwrap();
    let up = s.aistack(&["up", "--wait"]).ok();
    assert!(
        up.stderr.contains("orphan containers") && up.stderr.contains(&worker),
        "{}",
        up.all()
    );
    assert_eq!(s.ids(), forced);
    // ...and `down` leaves it and the network it uses, without failing.
    let started = Instant::now();
    let down = s.aistack(&["down"]).ok();
    assert!(started.elapsed() < Duration::from_secs(8), "{}", down.all());
    assert!(
        down.stderr.contains(&format!(
            "network {}_default kept: still in use by {worker}",
            s.name
        )),
        "{}",
        down.all()
    );
    let (containers, networks, _) = s.labelled();
    assert_eq!(containers, vec![worker]);
    assert_eq!(networks, [format!("{}_default", s.name)]);
    // --remove-orphans takes the rest.
    s.aistack(&["down", "--remove-orphans", "-v", "--progress", "quiet"])
        .ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_down_honours_timeout_and_stop_grace_period() {
    let Some(s) = Stack::new("stoptime", "stubborn") else {
        return;
    };
    // -t 1 bounds both stops (they run in parallel): about a second, not ten.
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let started = Instant::now();
    s.aistack(&["down", "-t", "1", "--progress", "quiet"]).ok();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "{took:?}"
    );
    s.assert_nothing_left();
    // Without -t each service's stop_grace_period applies (10 s default).
    s.aistack(&["up", "--wait", "--progress", "quiet", "slowstop"])
        .ok();
    let started = Instant::now();
    s.aistack(&["down", "--progress", "quiet"]).ok();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(7),
        "{took:?}"
    );
    assert_eq!(s.labelled().0, Vec::<String>::new());
}
