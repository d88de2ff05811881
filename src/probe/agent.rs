//! The probe agent: what runs inside the helper container that shares a
//! source service's network namespace (`aistack __probe REQUEST`). It looks
//! names up with the libc resolver and TCP-connects to the addresses it is
//! given, all in parallel threads with short deadlines, and prints one JSON
//! `Response` on stdout.
//!
//! Owns: the lookups, the connection attempts and their deadlines. Must not:
//! talk to the engine, connect to a name (only to literal addresses, which
//! the caller took from the engine), or query a resolver other than the
//! engine's embedded DNS, so no probe traffic leaves the machine.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::protocol::{Attempt, Connect, Lookup, Request, Response};

/// The engine's embedded DNS server on user-defined networks.
pub const EMBEDDED_DNS: &str = "127.0.0.11";
/// Connection attempts in flight at once.
const WORKERS: usize = 64;

/// Parses `request` (JSON), probes, prints the response. Exit code 2 for a
/// request that cannot be read.
pub fn run(request: &str) -> i32 {
    let req: Request = match serde_json::from_str(request) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("aistack __probe: the request is not valid: {e}");
            return 2;
        }
    };
    let resolv = std::fs::read_to_string("/etc/resolv.conf").ok();
    let resp = answer(&req, resolv.as_deref());
    match serde_json::to_string(&resp) {
        Ok(s) => {
            println!("{s}");
            0
        }
        Err(e) => {
            eprintln!("aistack __probe: cannot write the response: {e}");
            1
        }
    }
}

/// Lookups and connections run side by side; each half has its own deadline.
pub fn answer(req: &Request, resolv_conf: Option<&str>) -> Response {
    let skipped = lookups_refused(resolv_conf);
    let names = if skipped.is_none() {
        req.names.clone()
    } else {
        Vec::new()
    };
    let lookup_deadline = Duration::from_millis(req.lookup_timeout_ms.max(1));
    let lookups = std::thread::spawn(move || lookup_all(&names, lookup_deadline));
    let connects = connect_all(
        &req.connects,
        Duration::from_millis(req.connect_timeout_ms.max(1)),
    );
    let lookups = lookups.join().unwrap_or_default();
    Response {
        lookups_skipped: skipped,
        lookups,
        connects,
    }
}

/// Why names must not be looked up in this namespace: a resolver other than
/// the engine's embedded DNS would carry the query off the machine.
pub fn lookups_refused(resolv_conf: Option<&str>) -> Option<String> {
    let Some(text) = resolv_conf else {
        return Some("the namespace has no /etc/resolv.conf".into());
    };
    let servers: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
        })
        .collect();
    if servers.is_empty() {
        return Some("the namespace's resolv.conf names no nameserver".into());
    }
    let foreign: Vec<&str> = servers
        .iter()
        .copied()
        .filter(|s| *s != EMBEDDED_DNS)
        .collect();
    (!foreign.is_empty()).then(|| {
        format!(
            "the namespace's resolver is not the engine's embedded DNS (nameserver {}); names were not looked up so that no query leaves the machine",
            foreign.join(", ")
        )
    })
}

fn lookup_all(names: &[String], deadline: Duration) -> Vec<Lookup> {
    let (tx, rx) = mpsc::channel::<(usize, Lookup)>();
    let started = Instant::now();
    // Under load Docker's embedded DNS may fail a lookup it answers a moment
    // later: a failure is asked again until shortly before the deadline, so a
    // "break" means the name never resolved, not that one answer was lost.
    let retry_until = started + deadline.saturating_sub(Duration::from_millis(500));
    for (i, name) in names.iter().enumerate() {
        let tx = tx.clone();
        let name = name.clone();
        // A lookup cannot be cancelled: one that never answers is left
        // behind when the deadline passes and dies with the process.
        std::thread::spawn(move || {
            let mut result = lookup(&name);
            while result.error.is_some() && Instant::now() < retry_until {
                std::thread::sleep(Duration::from_millis(250));
                result = lookup(&name);
            }
            let _ = tx.send((i, result));
        });
    }
    drop(tx);
    let mut out: Vec<Option<Lookup>> = vec![None; names.len()];
    collect(&rx, &mut out, started + deadline);
    out.into_iter()
        .zip(names)
        .map(|(l, name)| {
            l.unwrap_or_else(|| Lookup {
                name: name.clone(),
                addresses: Vec::new(),
                error: Some(format!("no answer within {} ms", deadline.as_millis())),
            })
        })
        .collect()
}

fn lookup(name: &str) -> Lookup {
    // The trailing dot makes the name absolute: no search domain is appended,
    // so the only question asked is the project's own name.
    let absolute = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    match (absolute.as_str(), 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let mut addresses: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
            addresses.sort();
            addresses.dedup();
            Lookup {
                name: name.to_string(),
                addresses,
                error: None,
            }
        }
        Err(e) => Lookup {
            name: name.to_string(),
            addresses: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

fn connect_all(targets: &[Connect], timeout: Duration) -> Vec<Attempt> {
    let queue: Arc<Mutex<VecDeque<(usize, Connect)>>> =
        Arc::new(Mutex::new(targets.iter().cloned().enumerate().collect()));
    let (tx, rx) = mpsc::channel::<(usize, Attempt)>();
    for _ in 0..targets.len().min(WORKERS) {
        let queue = Arc::clone(&queue);
        let tx = tx.clone();
        std::thread::spawn(move || {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some((i, c)) = next else { return };
                if tx.send((i, attempt(&c, timeout))).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    // Every worker finishes its share within rounds × timeout; the slack
    // covers thread start-up on a loaded machine.
    let rounds = targets.len().div_ceil(WORKERS) as u32;
    let deadline = Instant::now() + timeout * rounds + Duration::from_secs(1);
    let mut out: Vec<Option<Attempt>> = vec![None; targets.len()];
    collect(&rx, &mut out, deadline);
    out.into_iter()
        .zip(targets)
        .map(|(a, c)| {
            a.unwrap_or_else(|| Attempt {
                address: c.address.clone(),
                port: c.port,
                connected: false,
                error: Some("no result before the probe's deadline".into()),
            })
        })
        .collect()
}

fn attempt(c: &Connect, timeout: Duration) -> Attempt {
    let result = match c.address.parse::<IpAddr>() {
        // Literal addresses only: a name here could resolve to anything.
        Err(_) => Err("not an IP address; not connected".to_string()),
        Ok(ip) => TcpStream::connect_timeout(&SocketAddr::new(ip, c.port), timeout)
            .map(drop)
            .map_err(|e| match e.kind() {
                ErrorKind::ConnectionRefused => "refused".to_string(),
                ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out".to_string(),
                ErrorKind::HostUnreachable => "host unreachable".to_string(),
                ErrorKind::NetworkUnreachable => "network unreachable".to_string(),
                _ => e.to_string(),
            }),
    };
    Attempt {
        address: c.address.clone(),
        port: c.port,
        connected: result.is_ok(),
        error: result.err(),
    }
}

/// Fills `out` from `rx` until every slot is set or `deadline` passes.
fn collect<T>(rx: &mpsc::Receiver<(usize, T)>, out: &mut [Option<T>], deadline: Instant) {
    let mut missing = out.len();
    while missing > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, v)) => {
                if let Some(slot) = out.get_mut(i)
                    && slot.is_none()
                {
                    *slot = Some(v);
                    missing -= 1;
                }
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn only_the_embedded_dns_is_asked() {
        assert_eq!(
            lookups_refused(Some("nameserver 127.0.0.11\noptions ndots:0\n")),
            None
        );
        let r = lookups_refused(Some("search corp\nnameserver 10.0.0.2\n")).unwrap();
        assert!(r.contains("10.0.0.2"), "{r}");
        assert!(lookups_refused(Some("nameserver 127.0.0.11\nnameserver 1.1.1.1\n")).is_some());
        assert!(lookups_refused(Some("# nothing\n")).is_some());
        assert!(lookups_refused(None).is_some());
    }

    #[test]
    fn names_are_not_looked_up_behind_a_foreign_resolver() {
        let req = Request {
            names: vec!["redis".into()],
            connect_timeout_ms: 100,
            lookup_timeout_ms: 100,
            ..Default::default()
        };
        let resp = answer(&req, Some("nameserver 192.0.2.1\n"));
        assert!(resp.lookups.is_empty());
        assert!(resp.lookups_skipped.is_some());
    }

    #[test]
    fn an_open_port_connects_and_a_closed_one_is_refused() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let req = Request {
            connects: vec![
                Connect {
                    address: "127.0.0.1".into(),
                    port: open.local_addr().unwrap().port(),
                },
                Connect {
                    address: "127.0.0.1".into(),
                    port: closed_port,
                },
                Connect {
                    address: "localhost".into(),
                    port: 1,
                },
            ],
            connect_timeout_ms: 1000,
            lookup_timeout_ms: 100,
            ..Default::default()
        };
        let resp = answer(&req, Some("nameserver 127.0.0.11\n"));
        assert!(resp.connects[0].connected, "{resp:?}");
        assert!(!resp.connects[1].connected);
        assert_eq!(resp.connects[1].error.as_deref(), Some("refused"));
        // A name is never connected to, even "localhost".
        assert!(!resp.connects[2].connected);
        assert!(
            resp.connects[2]
                .error
                .as_deref()
                .unwrap()
                .contains("not an IP")
        );
    }

    #[test]
    fn a_bad_request_is_exit_code_2() {
        assert_eq!(run("{not json"), 2);
    }
}
