//! `ps` and `logs` on a running aistack stack: table, json, `-a`,
//! `--services`, `-q`; prefixed lines, service filter, `--tail`,
//! `--timestamps`, `-f`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::runtime_support::{Stack, docker_ok};

#[test]
fn runtime_ps_lists_the_stack_in_every_format() {
    let Some(s) = Stack::new("ps", "logs") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    docker_ok(&["wait", &s.container("once")]);
    let (ticker, once) = (s.container("ticker"), s.container("once"));

    let table = s.aistack(&["ps"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("SERVICE") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert!(
        lines[1].starts_with(&ticker) && lines[1].contains("running"),
        "{table}"
    );

    let all = s.aistack(&["ps", "-a"]).ok().stdout;
    assert_eq!(all.lines().count(), 3, "{all}");
    let once_row = all
        .lines()
        .find(|l| l.starts_with(&once))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(once_row.contains("exited (0)"), "{all}");

    assert_eq!(s.aistack(&["ps", "--services"]).ok().stdout, "ticker\n");
    assert_eq!(
        s.aistack(&["ps", "-a", "--services"]).ok().stdout,
        "once\nticker\n"
    );

    let ids = s.ids();
    let quiet = s.aistack(&["ps", "-q"]).ok().stdout;
    assert_eq!(quiet.trim(), ids[&ticker]);

    let json = s.aistack(&["ps", "-a", "--format", "json"]).ok().stdout;
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    let once_json = rows.iter().find(|r| r["Service"] == "once").unwrap();
    assert_eq!(once_json["Name"], once.as_str());
    assert_eq!(once_json["State"], "exited");
    assert_eq!(once_json["ExitCode"], 0);
    assert_eq!(once_json["ID"], ids[&once].as_str());
}

#[test]
fn runtime_logs_prefix_filter_tail_timestamps_and_follow() {
    let Some(s) = Stack::new("logs", "logs") else {
        return;
    };
    s.aistack(&["up", "--wait", "--progress", "quiet"]).ok();
    docker_ok(&["wait", &s.container("once")]);
    let (ticker, once) = (s.container("ticker"), s.container("once"));

    // Prefixes are aligned to the longest container name of the selection.
    let out = s.aistack(&["logs", "once"]).ok().stdout;
    let mine: Vec<&str> = out.lines().collect();
    assert_eq!(mine.len(), 4, "{out}");
    for text in ["warn: on stderr", "one", "two", "three"] {
        assert!(
            mine.contains(&format!("{once}  | {text}").as_str()),
            "{text:?} in\n{out}"
        );
    }
    assert!(!out.contains("tick"), "service filter: {out}");

    let both = s.aistack(&["logs"]).ok().stdout;
    let pad = " ".repeat(ticker.len().max(once.len()) - once.len());
    assert!(both.contains(&format!("{once}{pad}  | three")), "{both}");
    assert!(both.contains(&format!("{ticker}  | tick 1")), "{both}");

    assert_eq!(
        s.aistack(&["logs", "--tail", "1", "once"]).ok().stdout,
        format!("{once}  | three\n")
    );
    let stamped = s
        .aistack(&["logs", "-t", "--tail", "2", "once"])
        .ok()
        .stdout;
    for line in stamped.lines() {
        let text = line
            .split_once("  | ")
            .map(|x| x.1)
            .unwrap_or_else(|| panic!("{stamped}"));
        // `2026-11-22T14:14:01.123456789Z two`
        let (ts, rest) = text.split_once(' ').unwrap();
        assert!(
            ts.len() >= 20 && ts.as_bytes()[4] == b'-' && ts.contains('T'),
            "{line}"
        );
        assert!(rest == "two" || rest == "three", "{line}");
    }

    // -f on a container that has exited returns when its stream ends.
    let started = Instant::now();
    let f = s.aistack(&["logs", "-f", "once"]).ok();
    assert!(f.stdout.contains("three"), "{}", f.stdout);
    assert!(started.elapsed() < Duration::from_secs(20));

    // -f on the ticker keeps printing new lines until interrupted.
    let mut child = Command::new(env!("CARGO_BIN_EXE_aistack"))
        .args([
            "-p",
            &s.name,
            "-f",
            "compose.yaml",
            "logs",
            "-f",
            "--tail",
            "1",
            "ticker",
        ])
        .current_dir(s.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let mut followed = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut followed)
        .unwrap();
    assert!(alive, "logs -f exited while the ticker runs: {followed}");
    let ticks: Vec<u64> = followed
        .lines()
        .filter_map(|l| l.rsplit_once("tick ").and_then(|(_, n)| n.parse().ok()))
        .collect();
    assert!(ticks.len() >= 3, "followed only {ticks:?}:\n{followed}");
    assert!(ticks.windows(2).all(|w| w[1] == w[0] + 1), "{ticks:?}");
}
