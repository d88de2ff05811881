//! `start`, `stop`, `restart`, `kill`, `rm` on a running stack, against the real daemon.

use crate::runtime_support::*;

#[test]
fn runtime_stop_start_restart_kill_and_rm_act_on_the_stacks_containers() {
    let Some(s) = Stack::new("lifecycle", "basic") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    let web = s.container("web");
    let cache = s.container("cache");
    let state = |c: &str| {
        docker_ok(&["inspect", "-f", "{{.State.Status}}", c])
            .trim()
            .to_string()
    };

    let stop = s.aistack(&["stop", "-t", "5"]).ok();
    assert_eq!(
        (state(&web).as_str(), state(&cache).as_str()),
        ("exited", "exited"),
        "{}",
        stop.all()
    );
    // Dependents stop first: web (depends on cache) before cache.
    let (w, c) = (
        stop.stderr.find(&format!("stopped {web}")),
        stop.stderr.find(&format!("stopped {cache}")),
    );
    assert!(w.is_some() && w < c, "{}", stop.all());

    let start = s.aistack(&["start"]).ok();
    assert_eq!(
        (state(&web).as_str(), state(&cache).as_str()),
        ("running", "running"),
        "{}",
        start.all()
    );
    let (c, w) = (
        start.stderr.find(&format!("started {cache}")),
        start.stderr.find(&format!("started {web}")),
    );
    assert!(
        c.is_some() && c < w,
        "dependencies start first: {}",
        start.all()
    );

    let before = s.inspect("web", "{{.State.StartedAt}}");
    s.aistack(&["restart", "web"]).ok();
    assert_eq!(state(&web), "running");
    assert_ne!(
        s.inspect("web", "{{.State.StartedAt}}"),
        before,
        "web was restarted"
    );

    s.aistack(&["kill", "-s", "SIGKILL", "web"]).ok();
    assert_eq!(state(&web), "exited");
    assert_eq!(state(&cache), "running", "only the named service is killed");

    // rm leaves running containers alone unless asked to stop them.
    s.aistack(&["rm", "-f"]).ok();
    let (containers, _, _) = s.labelled();
    assert_eq!(
        containers.len(),
        1,
        "only the stopped web container is removed: {containers:?}"
    );
    s.aistack(&["rm", "-f", "--stop"]).ok();
    let (containers, _, _) = s.labelled();
    assert!(containers.is_empty(), "{containers:?}");

    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
    s.assert_nothing_left();
}

#[test]
fn runtime_lifecycle_commands_name_an_unknown_service() {
    let Some(s) = Stack::new("lifecycle-unknown", "basic") else {
        return;
    };
    s.aistack(&["up", "-d", "--progress", "quiet"]).ok();
    let out = s.aistack(&["stop", "nosuch"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("no container of service \"nosuch\""),
        "{}",
        out.all()
    );
    s.aistack(&["down", "-v", "--progress", "quiet"]).ok();
}
