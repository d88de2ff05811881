//! `depends_on` conditions and `up --wait` against the real daemon: the three
//! conditions, both health probes, one-shot jobs, and the diagnosis when a
//! dependency turns unhealthy or exits non-zero.

use crate::runtime_support::{Stack, instant_key, progress_events};

/// (id, phase, detail) of the first terminal event of `id`.
fn outcome(events: &[(String, String, String, f64)], id: &str) -> (String, String) {
    events
        .iter()
        .find(|(i, p, ..)| i == id && p != "started")
        .map(|(_, p, d, _)| (p.clone(), d.clone()))
        .unwrap_or_else(|| panic!("no outcome for {id} in {events:?}"))
}

#[test]
fn runtime_waits_for_started_healthy_and_completed_conditions() {
    let Some(s) = Stack::new("cond", "conditions") else {
        return;
    };
    let up = s.aistack(&["up", "--wait", "--progress", "json"]).ok();
    let events = progress_events(&up.stderr);
    assert_eq!(outcome(&events, "wait:base:running").0, "done");
    // The database marks itself ready after 1.5 s; the eager probe sees it
    // before the engine's first check would.
    assert_eq!(
        outcome(&events, "wait:db:healthy"),
        ("done".into(), "eager probe".into())
    );
    assert_eq!(
        outcome(&events, "wait:job:completed"),
        ("done".into(), "exited 0".into())
    );
    // `app` checked the marker files itself and kept running.
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "running");
    let (code, logs) = {
        let o = s.aistack(&["logs", "app"]);
        (o.code, o.stdout)
    };
    assert_eq!(code, 0);
    assert!(logs.contains("all conditions met"), "{logs}");
    let at =
        |svc: &str, field: &str| instant_key(&s.inspect(svc, &format!("{{{{.State.{field}}}}}")));
    assert!(at("base", "StartedAt") <= at("app", "StartedAt"));
    assert!(at("job", "FinishedAt") <= at("app", "StartedAt"));
    assert_eq!(s.inspect("job", "{{.State.ExitCode}}"), "0");
}

#[test]
fn runtime_engine_health_probe_waits_for_the_engine_verdict() {
    let Some(s) = Stack::new("engprobe", "conditions") else {
        return;
    };
    let up = s
        .aistack(&[
            "up",
            "--wait",
            "--health-probe",
            "engine",
            "--progress",
            "json",
        ])
        .ok();
    let events = progress_events(&up.stderr);
    assert_eq!(
        outcome(&events, "wait:db:healthy"),
        ("done".into(), "engine health check".into())
    );
    assert_eq!(s.inspect("db", "{{.State.Health.Status}}"), "healthy");
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "running");
}

#[test]
fn runtime_unhealthy_dependency_fails_up_wait_with_a_diagnosis() {
    let Some(s) = Stack::new("unhealthy", "unhealthy") else {
        return;
    };
    let started = std::time::Instant::now();
    let up = s.aistack(&["up", "--wait", "--progress", "plain"]);
    assert_eq!(up.code, 1, "{}", up.all());
    // Fails as soon as the engine says unhealthy (2 retries at 1 s), not at a deadline.
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let err = &up.stderr;
    let db = s.container("db");
    assert!(
        err.contains(&format!(
            "error: service \"db\": {db} health check reports unhealthy"
        )),
        "{err}"
    );
    assert!(
        err.contains("service_healthy"),
        "the condition is not named:\n{err}"
    );
    assert!(err.contains("last health checks:"), "{err}");
    assert!(
        err.contains("db check: connection refused on 5432"),
        "{err}"
    );
    assert!(err.contains("last log lines:"), "{err}");
    assert!(err.contains("db: booting"), "{err}");
    assert!(
        err.contains("db: cannot open /data/pg: permission denied"),
        "{err}"
    );
    // The dependent was created but never started.
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "created");
    // A failed up leaves nothing that down cannot find.
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_job_exiting_non_zero_fails_up_wait_with_a_diagnosis() {
    let Some(s) = Stack::new("jobfail", "job-fails") else {
        return;
    };
    let up = s.aistack(&["up", "--wait", "--progress", "plain"]);
    assert_eq!(up.code, 1, "{}", up.all());
    let err = &up.stderr;
    let migrate = s.container("migrate");
    assert!(
        err.contains(&format!(
            "error: service \"migrate\": {migrate} exited with code 3"
        )),
        "{err}"
    );
    assert!(
        err.contains("service_completed_successfully"),
        "the condition is not named:\n{err}"
    );
    assert!(
        err.contains(&format!("container {migrate}: exited, exit code 3")),
        "{err}"
    );
    assert!(err.contains("migrate: applying 0001_init"), "{err}");
    assert!(
        err.contains("migrate: relation users already exists"),
        "{err}"
    );
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "created");
    s.aistack(&["down", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_one_shot_job_completes_and_is_not_rerun() {
    let Some(s) = Stack::new("job", "job") else {
        return;
    };
    let up = s.aistack(&["up", "--wait", "--progress", "json"]).ok();
    let events = progress_events(&up.stderr);
    assert_eq!(
        outcome(&events, "wait:migrate:completed"),
        ("done".into(), "exited 0".into())
    );
    assert_eq!(
        s.inspect("migrate", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 0"
    );
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "running");
    let logs = s.aistack(&["logs", "migrate"]).ok().stdout;
    assert!(logs.contains("migrate: done"), "{logs}");
    let first_run = s.inspect("migrate", "{{.State.StartedAt}}");
    let ids = s.ids();

    // Up again: the job completed, so it is not run a second time.
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    assert_eq!(s.ids(), ids);
    assert_eq!(s.inspect("migrate", "{{.State.StartedAt}}"), first_run);
    assert_eq!(s.inspect("app", "{{.State.Status}}"), "running");
}

#[test]
fn runtime_crash_looping_dependency_fails_up_wait() {
    let Some(s) = Stack::new("crashloop", "crashloop") else {
        return;
    };
    let started = std::time::Instant::now();
    let up = s.aistack(&["up", "--wait", "--progress", "plain"]);
    assert_eq!(up.code, 1, "{}", up.all());
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let err = &up.stderr;
    let flaky = s.container("flaky");
    assert!(
        err.contains(&format!(
            "error: service \"flaky\": {flaky} crash loop: restarted"
        )),
        "{err}"
    );
    assert!(
        err.contains("(condition service_healthy, required by api)"),
        "{err}"
    );
    assert!(err.contains("flaky: no such file"), "{err}");
    // The state line says how often it restarted.
    let state = err
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("container {flaky}:")))
        .unwrap_or_else(|| panic!("no state line for {flaky}:\n{err}"));
    assert!(state.contains("restarted"), "{state}");
    assert_eq!(s.inspect("api", "{{.State.Status}}"), "created");
    s.aistack(&["down", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_wait_timeout_is_exit_124_with_the_last_state() {
    let Some(s) = Stack::new("timeout", "slow") else {
        return;
    };
    let started = std::time::Instant::now();
    let up = s.aistack(&["up", "--wait", "--wait-timeout", "3", "--progress", "plain"]);
    let took = started.elapsed();
    assert_eq!(up.code, 124, "{}", up.all());
    assert!(took.as_secs_f64() >= 3.0 && took.as_secs() < 15, "{took:?}");
    let err = &up.stderr;
    assert!(
        err.contains(&format!(
            "{} was not healthy before the deadline (last state: running, health: starting)",
            s.container("slow")
        )),
        "{err}"
    );
    assert!(
        err.contains("(condition service_healthy, for --wait)"),
        "{err}"
    );
    assert!(err.contains("exit 1: still warming"), "{err}");
    assert!(err.contains("slow: warming caches"), "{err}");
    // What the timed-out up created is all found by down.
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}
