//! The fake behaves like the engine it stands in for, under paused time.

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn web(name: &str) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        image: "web:1".into(),
        labels: labels(&[("p", "demo")]),
        healthcheck: Some(HealthSpec {
            test: vec!["CMD".into(), "true".into()],
            ..Default::default()
        }),
        networks: vec![EndpointSpec {
            network: "demo_default".into(),
            aliases: vec!["web".into()],
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn with_network(e: &FakeEngine) {
    e.create_network(&NetworkSpec {
        name: "demo_default".into(),
        labels: labels(&[("p", "demo")]),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn scripted_health_and_exit_emit_events_in_order() {
    let e = FakeEngine::new();
    with_network(&e).await;
    e.on_start("demo-web-1", Script::Healthy(Duration::from_secs(2)));
    e.on_start("demo-web-1", Script::Exit(3, Duration::from_secs(1)));
    let mut events = e.events(&[("p", "demo")], None);
    let id = e.create_container(&web("demo-web-1")).await.unwrap();
    e.start_container(&id).await.unwrap();
    let d = e.inspect_container(&id).await.unwrap();
    assert_eq!(d.container.health, Some(HealthState::Starting));
    assert_eq!(d.container.networks["demo_default"].aliases, ["web"]);

    let t0 = tokio::time::Instant::now();
    let kinds: Vec<EventKind> = (&mut events)
        .take(3)
        .map(|r| r.unwrap().kind)
        .collect()
        .await;
    assert_eq!(
        kinds,
        [
            EventKind::Start,
            EventKind::HealthStatus(HealthState::Healthy),
            EventKind::Die { exit_code: 3 }
        ]
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    assert_eq!(e.wait_container("demo-web-1").await.unwrap(), 3);
    let list = e.list_containers(&[("p", "demo")], false).await.unwrap();
    assert!(list.is_empty(), "exited containers are not running");
    let list = e.list_containers(&[("p", "demo")], true).await.unwrap();
    assert_eq!(list[0].state, ContainerState::Exited);
    assert_eq!(list[0].exit_code, 3);
}

#[tokio::test(start_paused = true)]
async fn calls_are_recorded_and_failures_scripted() {
    let e = FakeEngine::new();
    with_network(&e).await;
    e.fail_next(
        "start_container",
        EngineError::Api {
            status: 500,
            message: "boom".into(),
        },
    );
    let id = e.create_container(&web("demo-web-1")).await.unwrap();
    assert!(e.start_container(&id).await.is_err());
    e.start_container(&id).await.unwrap();
    e.start_container(&id).await.unwrap(); // already running: fine
    e.stop_container(&id, Duration::from_secs(1)).await.unwrap();
    e.remove_container(&id, false, false).await.unwrap();
    e.remove_container(&id, false, false).await.unwrap(); // gone: fine
    let gone = format!("remove_container {id}");
    assert_eq!(
        e.calls(),
        [
            "create_network demo_default",
            "create_container demo-web-1",
            "start_container demo-web-1",
            "start_container demo-web-1",
            "start_container demo-web-1",
            "stop_container demo-web-1",
            "remove_container demo-web-1",
            gone.as_str(),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn latency_uses_tokio_time() {
    let e = FakeEngine::new();
    e.set_latency("create_network", Duration::from_millis(300));
    e.set_default_latency(Duration::from_millis(10));
    let t0 = tokio::time::Instant::now();
    with_network(&e).await;
    e.list_networks(&[]).await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(310));
}

#[tokio::test(start_paused = true)]
async fn engine_like_conflicts_and_not_found() {
    let e = FakeEngine::new();
    e.set_images(["web:1"]);
    with_network(&e).await;
    let dup = e
        .create_network(&NetworkSpec {
            name: "demo_default".into(),
            ..Default::default()
        })
        .await;
    assert!(dup.unwrap_err().is_conflict());
    let id = e.create_container(&web("demo-web-1")).await.unwrap();
    assert!(
        e.create_container(&web("demo-web-1"))
            .await
            .unwrap_err()
            .is_conflict()
    );
    let mut other = web("demo-other-1");
    other.image = "missing:1".into();
    assert_eq!(
        e.create_container(&other).await.unwrap_err().to_string(),
        "image missing:1 not found"
    );
    e.start_container(&id).await.unwrap();
    assert!(
        e.remove_container(&id, false, false)
            .await
            .unwrap_err()
            .is_conflict()
    );
    let busy = e.remove_network("demo_default").await.unwrap_err();
    assert!(matches!(busy, EngineError::Api { status: 403, .. }));
    // Networks are only checked at start, as on 20.10.
    let mut lost = web("demo-lost-1");
    lost.networks[0].network = "demo_gone".into();
    let lost = e.create_container(&lost).await.unwrap();
    assert_eq!(
        e.start_container(&lost).await.unwrap_err().to_string(),
        "network demo_gone not found"
    );
    e.remove_container(&lost, true, false).await.unwrap();
    let nets = e.list_networks(&[("p", "demo")]).await.unwrap();
    assert_eq!(nets[0].containers, ["demo-web-1"]);
    e.remove_container(&id, true, false).await.unwrap();
    e.remove_network("demo_default").await.unwrap();
    assert!(e.list_networks(&[]).await.unwrap().is_empty());
    assert!(e.inspect_container(&id).await.unwrap_err().is_not_found());
}

#[tokio::test(start_paused = true)]
async fn exec_logs_files_and_volumes() {
    let e = FakeEngine::new();
    with_network(&e).await;
    let id = e.create_container(&web("demo-web-1")).await.unwrap();
    e.copy_file_into(&id, "/run/secrets/t", b"x".to_vec(), 0o400, 1, 2)
        .await
        .unwrap();
    assert_eq!(e.file("demo-web-1", "/run/secrets/t").unwrap().mode, 0o400);
    let cmd = vec!["true".to_string()];
    assert!(
        e.exec(&id, &cmd, None, &[], Duration::from_secs(1))
            .await
            .unwrap_err()
            .is_conflict()
    );
    e.start_container(&id).await.unwrap();
    e.on_exec(
        "demo-web-1",
        ExecOutput {
            exit_code: 7,
            output: "no".into(),
        },
    );
    let out = e.exec(&id, &cmd, None, &[], Duration::from_secs(1)).await;
    assert_eq!(out.unwrap().exit_code, 7);
    e.set_latency("exec", Duration::from_secs(5));
    let slow = e.exec(&id, &cmd, None, &[], Duration::from_secs(1)).await;
    assert!(matches!(slow, Err(EngineError::Timeout { .. })));

    e.push_log("demo-web-1", LogStream::Stdout, "one");
    e.push_log("demo-web-1", LogStream::Stderr, "two");
    let mut follow = e.logs(&id, true, Some(1), true, None);
    assert_eq!(follow.next().await.unwrap().unwrap().text, "two");
    e.push_log("demo-web-1", LogStream::Stdout, "three");
    let line = follow.next().await.unwrap().unwrap();
    assert_eq!(line.text, "three");
    assert!(line.timestamp.unwrap().ends_with('Z'));
    e.stop_container(&id, Duration::from_secs(1)).await.unwrap();
    assert!(
        follow.next().await.is_none(),
        "a follower ends when the container stops"
    );

    let v = VolumeSpec {
        name: "demo_db".into(),
        labels: labels(&[("p", "demo")]),
        ..Default::default()
    };
    e.create_volume(&v).await.unwrap();
    e.create_volume(&v).await.unwrap();
    let mut other = v.clone();
    other.labels.clear();
    assert!(e.create_volume(&other).await.unwrap_err().is_conflict());
    assert_eq!(e.list_volumes(&[("p", "demo")]).await.unwrap().len(), 1);
    e.remove_volume("demo_db", false).await.unwrap();
    e.remove_volume("demo_db", false).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn events_since_replays_history() {
    let e = FakeEngine::new();
    with_network(&e).await;
    let before = SystemTime::UNIX_EPOCH;
    let id = e.create_container(&web("demo-web-1")).await.unwrap();
    e.start_container(&id).await.unwrap();
    let mut ev = e.events(&[("p", "demo")], Some(before));
    assert_eq!(ev.next().await.unwrap().unwrap().kind, EventKind::Start);
    let mut none = e.events(&[("p", "other")], Some(before));
    e.kill_container(&id, "SIGKILL").await.unwrap();
    assert_eq!(
        ev.next().await.unwrap().unwrap().kind,
        EventKind::Die { exit_code: 137 }
    );
    let nothing = tokio::time::timeout(Duration::from_secs(1), none.next()).await;
    assert!(nothing.is_err(), "other labels see nothing");
}

#[test]
fn rfc3339_formats_utc() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
    assert_eq!(
        rfc3339(1_700_000_000_123_456_789),
        "2023-11-14T22:13:20.123456789Z"
    );
    assert_eq!(
        rfc3339(951_782_400_000_000_000),
        "2000-02-29T00:00:00.000000000Z"
    );
}
