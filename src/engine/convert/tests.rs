//! Snapshot tests: spec → request JSON, responses → observed types.

use super::*;
use serde_json::json;

fn full_spec() -> ContainerSpec {
    let ep = |n: &str, a: &[&str]| EndpointSpec {
        network: n.into(),
        aliases: a.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    ContainerSpec {
        name: "demo-web-1".into(),
        image: "web:1".into(),
        command: Some(s(&["serve", "--port", "80"])),
        entrypoint: Some(vec![]),
        env: s(&["A=1", "B="]),
        labels: map(&[("com.docker.compose.project", "demo")]),
        user: Some("1000:1000".into()),
        working_dir: Some("/srv".into()),
        hostname: Some("web".into()),
        domainname: Some("example.test".into()),
        tty: true,
        stdin_open: true,
        stdin_once: true,
        auto_remove: true,
        stop_signal: Some("SIGINT".into()),
        stop_timeout: Some(20),
        healthcheck: Some(HealthSpec {
            test: s(&["CMD-SHELL", "wget -q --spider http://localhost/"]),
            interval: Some(Duration::from_millis(500)),
            timeout: Some(Duration::from_secs(2)),
            retries: Some(3),
            start_period: Some(Duration::from_secs(5)),
            start_interval: None,
        }),
        exposed_ports: vec![PortKey {
            port: 53,
            protocol: "udp".into(),
        }],
        port_bindings: [(
            PortKey::tcp(80),
            vec![
                HostBinding {
                    host_ip: "127.0.0.1".into(),
                    host_port: "8080".into(),
                },
                HostBinding::default(),
            ],
        )]
        .into_iter()
        .collect(),
        mounts: vec![
            MountSpec {
                bind_create_host_path: true,
                read_only: true,
                ..MountSpec::new(MountKind::Bind, Some("/srv/conf"), "/etc/conf")
            },
            MountSpec {
                bind_propagation: Some("rslave".into()),
                ..MountSpec::new(MountKind::Bind, Some("/data"), "/data")
            },
            MountSpec {
                volume_nocopy: true,
                ..MountSpec::new(MountKind::Volume, Some("demo_db"), "/var/lib/db")
            },
            MountSpec {
                tmpfs_size: Some(1 << 20),
                tmpfs_mode: Some(0o1777),
                ..MountSpec::new(MountKind::Tmpfs, None, "/scratch")
            },
        ],
        tmpfs: map(&[("/run", "size=64k")]),
        volumes_from: s(&["other"]),
        restart: Some(RestartPolicy::OnFailure {
            max_retries: Some(3),
        }),
        memory: Some(256 << 20),
        memory_reservation: Some(128 << 20),
        memswap: Some(512 << 20),
        nano_cpus: Some(500_000_000),
        cpu_shares: Some(512),
        cpu_period: Some(100_000),
        cpu_quota: Some(50_000),
        cpuset: Some("0".into()),
        pids_limit: Some(100),
        shm_size: Some(64 << 20),
        read_only: true,
        privileged: true,
        init: Some(true),
        cap_add: s(&["NET_ADMIN"]),
        cap_drop: s(&["ALL"]),
        security_opt: s(&["no-new-privileges:true"]),
        network_mode: None,
        networks: vec![
            EndpointSpec {
                ipv4_address: Some("10.1.0.5".into()),
                ..ep("demo_front", &["web", "demo-web-1"])
            },
            ep("demo_back", &["web"]),
        ],
        extra_hosts: s(&["db.local:10.0.0.2"]),
        dns: s(&["1.1.1.1"]),
        dns_search: s(&["example.test"]),
        dns_opt: s(&["ndots:1"]),
        ulimits: vec![Ulimit {
            name: "nofile".into(),
            soft: 1024,
            hard: 2048,
        }],
        sysctls: map(&[("net.core.somaxconn", "1024")]),
        log_driver: Some("json-file".into()),
        log_opts: map(&[("max-size", "10m")]),
        devices: vec![DeviceSpec {
            host_path: "/dev/fuse".into(),
            container_path: "/dev/fuse".into(),
            permissions: "rwm".into(),
        }],
        group_add: s(&["audio"]),
        ipc: Some("private".into()),
        pid: Some("host".into()),
        userns_mode: Some("host".into()),
        oom_score_adj: Some(-500),
        cgroup_parent: Some("/aistack".into()),
        platform: Some("linux/amd64".into()),
    }
}

#[test]
fn container_body_uses_every_field() {
    let body = container_create(&full_spec(), (1, 41)).unwrap();
    let got = serde_json::to_value(&body).unwrap();
    let want: serde_json::Value = serde_json::from_str(
        r#"{
        "Hostname": "web",
        "Domainname": "example.test",
        "User": "1000:1000",
        "ExposedPorts": {"53/udp": {}, "80/tcp": {}},
        "Tty": true,
        "OpenStdin": true,
        "StdinOnce": true,
        "AttachStdin": true,
        "AttachStdout": true,
        "AttachStderr": true,
        "Env": ["A=1", "B="],
        "Cmd": ["serve", "--port", "80"],
        "Healthcheck": {
            "Test": ["CMD-SHELL", "wget -q --spider http://localhost/"],
            "Interval": 500000000,
            "Timeout": 2000000000,
            "Retries": 3,
            "StartPeriod": 5000000000
        },
        "Image": "web:1",
        "WorkingDir": "/srv",
        "Entrypoint": [],
        "Labels": {"com.docker.compose.project": "demo"},
        "StopSignal": "SIGINT",
        "StopTimeout": 20,
        "HostConfig": {
            "CpuShares": 512,
            "Memory": 268435456,
            "CgroupParent": "/aistack",
            "CpuPeriod": 100000,
            "CpuQuota": 50000,
            "CpusetCpus": "0",
            "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
            "MemoryReservation": 134217728,
            "MemorySwap": 536870912,
            "NanoCpus": 500000000,
            "Init": true,
            "PidsLimit": 100,
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
            "Binds": ["/srv/conf:/etc/conf:ro"],
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
            "NetworkMode": "demo_front",
            "PortBindings": {"80/tcp": [
                {"HostIp": "127.0.0.1", "HostPort": "8080"},
                {"HostIp": "", "HostPort": ""}
            ]},
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "VolumesFrom": ["other"],
            "Mounts": [
                {"Target": "/data", "Source": "/data", "Type": "bind",
                 "BindOptions": {"Propagation": "rslave"}},
                {"Target": "/var/lib/db", "Source": "demo_db", "Type": "volume",
                 "VolumeOptions": {"NoCopy": true}},
                {"Target": "/scratch", "Type": "tmpfs",
                 "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}}
            ],
            "CapAdd": ["NET_ADMIN"],
            "CapDrop": ["ALL"],
            "Dns": ["1.1.1.1"],
            "DnsOptions": ["ndots:1"],
            "DnsSearch": ["example.test"],
            "ExtraHosts": ["db.local:10.0.0.2"],
            "GroupAdd": ["audio"],
            "IpcMode": "private",
            "OomScoreAdj": -500,
            "PidMode": "host",
            "Privileged": true,
            "ReadonlyRootfs": true,
            "SecurityOpt": ["no-new-privileges:true"],
            "Tmpfs": {"/run": "size=64k"},
            "UsernsMode": "host",
            "ShmSize": 67108864,
            "Sysctls": {"net.core.somaxconn": "1024"},
            "AutoRemove": true
        },
        "NetworkingConfig": {"EndpointsConfig": {
            "demo_front": {
                "IPAMConfig": {"IPv4Address": "10.1.0.5"},
                "Aliases": ["web", "demo-web-1"]
            }
        }}
    }"#,
    )
    .unwrap();
    assert_eq!(
        got,
        want,
        "got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    let opts = create_options(&full_spec());
    assert_eq!(opts.name.as_deref(), Some("demo-web-1"));
    assert_eq!(opts.platform, "linux/amd64");
}

#[test]
fn only_the_first_network_is_given_at_create_before_1_44() {
    let spec = full_spec();
    assert_eq!(networks_at_create(&spec, (1, 41)).len(), 1);
    assert_eq!(
        networks_after_create(&spec, (1, 41))[0].network,
        "demo_back"
    );
    assert_eq!(networks_at_create(&spec, (1, 44)).len(), 2);
    assert!(networks_after_create(&spec, (1, 44)).is_empty());
    let body = container_create(&spec, (1, 44)).unwrap();
    let eps = body.networking_config.unwrap().endpoints_config.unwrap();
    assert_eq!(eps.len(), 2);
}

#[test]
fn a_minimal_spec_sends_almost_nothing() {
    let spec = ContainerSpec {
        name: "x".into(),
        image: "busybox".into(),
        ..Default::default()
    };
    let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
    assert_eq!(got, json!({"Image": "busybox", "HostConfig": {}}));
}

#[test]
fn bindings_are_always_exposed() {
    let spec = ContainerSpec {
        image: "i".into(),
        port_bindings: [(PortKey::tcp(8080), vec![HostBinding::default()])]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
    assert_eq!(got["ExposedPorts"], json!({"8080/tcp": {}}));
}

#[test]
fn features_an_old_daemon_would_drop_are_refused() {
    let mut spec = full_spec();
    spec.healthcheck.as_mut().unwrap().start_interval = Some(Duration::from_secs(1));
    let err = container_create(&spec, (1, 41)).unwrap_err().to_string();
    assert!(
        err.contains("start_interval") && err.contains("1.41"),
        "{err}"
    );
    let body = container_create(&spec, (1, 44)).unwrap();
    assert_eq!(
        body.healthcheck.unwrap().start_interval,
        Some(1_000_000_000)
    );

    let mut spec = full_spec();
    spec.mounts[2].volume_subpath = Some("sub".into());
    assert!(container_create(&spec, (1, 41)).is_err());
    let got = serde_json::to_value(container_create(&spec, (1, 45)).unwrap()).unwrap();
    assert_eq!(
        got["HostConfig"]["Mounts"][1]["VolumeOptions"],
        json!({"NoCopy": true, "Subpath": "sub"})
    );

    let mut spec = full_spec();
    spec.mounts[1].bind_propagation = Some("sideways".into());
    assert!(container_create(&spec, (1, 41)).is_err());
}

#[test]
fn disabled_healthcheck_and_restart_policies() {
    let spec = ContainerSpec {
        image: "i".into(),
        healthcheck: Some(HealthSpec {
            test: vec!["NONE".into()],
            ..Default::default()
        }),
        restart: Some(RestartPolicy::UnlessStopped),
        network_mode: Some("none".into()),
        ..Default::default()
    };
    let got = serde_json::to_value(container_create(&spec, (1, 41)).unwrap()).unwrap();
    assert_eq!(got["Healthcheck"], json!({"Test": ["NONE"]}));
    assert_eq!(
        got["HostConfig"]["RestartPolicy"],
        json!({"Name": "unless-stopped"})
    );
    assert_eq!(got["HostConfig"]["NetworkMode"], json!("none"));
    assert!(got.get("NetworkingConfig").is_none());
}

#[test]
fn network_body() {
    let spec = NetworkSpec {
        name: "demo_back".into(),
        driver: Some("bridge".into()),
        internal: true,
        attachable: false,
        enable_ipv6: Some(false),
        driver_opts: [(
            "com.docker.network.bridge.name".to_string(),
            "br-demo".to_string(),
        )]
        .into_iter()
        .collect(),
        ipam_driver: Some("default".into()),
        ipam: vec![IpamPool {
            subnet: Some("10.99.0.0/24".into()),
            gateway: Some("10.99.0.1".into()),
            ip_range: Some("10.99.0.128/25".into()),
            aux: [("router".to_string(), "10.99.0.2".to_string())]
                .into_iter()
                .collect(),
        }],
        labels: [("com.docker.compose.network".to_string(), "back".to_string())]
            .into_iter()
            .collect(),
    };
    let got = serde_json::to_value(network_create(&spec)).unwrap();
    assert_eq!(
        got,
        json!({
            "Name": "demo_back",
            "Driver": "bridge",
            "Internal": true,
            "Attachable": false,
            "IPAM": {"Driver": "default", "Config": [{
                "Subnet": "10.99.0.0/24",
                "IPRange": "10.99.0.128/25",
                "Gateway": "10.99.0.1",
                "AuxiliaryAddresses": {"router": "10.99.0.2"}
            }]},
            "EnableIPv6": false,
            "Options": {"com.docker.network.bridge.name": "br-demo"},
            "Labels": {"com.docker.compose.network": "back"}
        })
    );
}

#[test]
fn volume_body() {
    let spec = VolumeSpec {
        name: "demo_db".into(),
        driver: None,
        driver_opts: [("type".to_string(), "tmpfs".to_string())]
            .into_iter()
            .collect(),
        labels: [("com.docker.compose.volume".to_string(), "db".to_string())]
            .into_iter()
            .collect(),
    };
    assert_eq!(
        serde_json::to_value(volume_create(&spec)).unwrap(),
        json!({
            "Name": "demo_db",
            "DriverOpts": {"type": "tmpfs"},
            "Labels": {"com.docker.compose.volume": "db"}
        })
    );
}

#[test]
fn inspect_response_is_observed() {
    // Trimmed from a real 20.10 inspect of a healthy busybox container.
    let raw = json!({
        "Id": "abc123",
        "Name": "/demo-web-1",
        "Image": "sha256:feed",
        "RestartCount": 2,
        "State": {
            "Status": "running", "Running": true, "OOMKilled": false, "ExitCode": 0,
            "Error": "", "StartedAt": "2026-11-22T10:00:00.5Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {"Status": "healthy", "FailingStreak": 0, "Log": [
                {"Start": "2026-11-22T10:00:01Z", "End": "2026-11-22T10:00:01.1Z",
                 "ExitCode": 0, "Output": "ok\n"}
            ]}
        },
        "Config": {"Image": "web:1", "Labels": {"a": "b"}},
        "NetworkSettings": {
            "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "53/udp": null},
            "Networks": {"demo_front": {"IPAddress": "10.1.0.5", "Aliases": ["web", "abc123"]}}
        }
    });
    let resp: ContainerInspectResponse = serde_json::from_value(raw).unwrap();
    let d = container_details(resp);
    let c = &d.container;
    assert_eq!(c.name, "demo-web-1");
    assert_eq!(c.image, "web:1");
    assert_eq!(c.image_id, "sha256:feed");
    assert_eq!(c.state, ContainerState::Running);
    assert_eq!(c.health, Some(HealthState::Healthy));
    assert_eq!(c.started_at.as_deref(), Some("2026-11-22T10:00:00.5Z"));
    assert_eq!(c.restart_count, 2);
    assert_eq!(c.networks["demo_front"].ip, "10.1.0.5");
    assert_eq!(c.labels["a"], "b");
    assert_eq!(
        c.ports,
        vec![PublishedPort {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: 32768
        }]
    );
    assert_eq!(d.finished_at, None);
    assert_eq!(d.health_log.len(), 1);
    assert_eq!(d.health_log[0].output, "ok\n");
}

#[test]
fn events_are_classified() {
    let ev = |action: &str, attrs: serde_json::Value| -> EngineEvent {
        let raw = json!({
            "Type": "container", "Action": action,
            "Actor": {"ID": "abc", "Attributes": attrs},
            "time": 1, "timeNano": 1_000_000_123i64
        });
        engine_event(serde_json::from_value(raw).unwrap()).unwrap()
    };
    let e = ev(
        "die",
        json!({"name": "demo-web-1", "image": "web:1", "exitCode": "3", "execDuration": "1", "p": "demo"}),
    );
    assert_eq!(e.kind, EventKind::Die { exit_code: 3 });
    assert_eq!(e.container_name, "demo-web-1");
    assert_eq!(e.container_id, "abc");
    assert_eq!(
        e.labels,
        [("p".to_string(), "demo".to_string())]
            .into_iter()
            .collect()
    );
    assert_eq!(e.time_nano, 1_000_000_123);
    assert_eq!(
        ev("health_status: healthy", json!({})).kind,
        EventKind::HealthStatus(HealthState::Healthy)
    );
    assert_eq!(
        ev("health_status: unhealthy", json!({})).kind,
        EventKind::HealthStatus(HealthState::Unhealthy)
    );
    assert_eq!(ev("start", json!({})).kind, EventKind::Start);
    assert_eq!(ev("oom", json!({})).kind, EventKind::Oom);
    assert_eq!(ev("destroy", json!({})).kind, EventKind::Destroy);
    assert_eq!(
        ev("exec_start: sh", json!({})).kind,
        EventKind::Other("exec_start: sh".into())
    );
    let net: EventMessage =
        serde_json::from_value(json!({"Type": "network", "Action": "create"})).unwrap();
    assert!(engine_event(net).is_none());
}

#[test]
fn label_filters_render_key_equals_value() {
    let f = label_filters(&[("a", "1"), ("b", "2")]);
    assert_eq!(f["label"], vec!["a=1".to_string(), "b=2".to_string()]);
    assert!(label_filters(&[]).is_empty());
}
