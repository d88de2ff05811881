//! Removing a network the daemon may still be releasing. The daemon frees a
//! stopped container's endpoints asynchronously, so a removal right after
//! the last stop can be refused ("has active endpoints"): retry with backoff
//! up to an explicit deadline, then say what is still attached and how to
//! remove it by hand. Must not: stop or disconnect containers itself (the
//! plan decided what to remove; a container still attached after the
//! deadline is not ours to kill silently).

use std::time::Duration;

use tokio::time::Instant;

use crate::engine::{Engine, EngineError};
use crate::plan::labels;

/// How long `down` keeps retrying a network the daemon still reports busy.
/// Endpoint release normally lands within tens of milliseconds; on a loaded
/// 2-core machine tearing down 200 containers it has taken seconds.
pub const RELEASE_DEADLINE: Duration = Duration::from_secs(30);

/// Remove network `name` (compose key `key`), retrying "active endpoints"
/// refusals until `deadline` has passed. The final error names what is still
/// attached and the commands that remove it.
pub async fn remove<E: Engine>(
    engine: &E,
    key: &str,
    name: &str,
    deadline: Duration,
) -> Result<(), String> {
    let until = Instant::now() + deadline;
    // Poll fast first (the usual case), then back off so a slow release does
    // not flood a daemon that is busy releasing.
    let mut pause = Duration::from_millis(10);
    loop {
        match engine.remove_network(name).await {
            Ok(()) => return Ok(()),
            Err(e) if busy(&e) && Instant::now() < until => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) if busy(&e) => {
                let attached = attached(engine, key, name).await;
                return Err(still_busy(name, deadline, &e, attached.as_deref()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// After an engine call got no answer: does the daemon's network controller
/// still answer? Engine 20.10 before 20.10.27 can deadlock it when many
/// containers on one network stop at once (moby/moby#46661, fixed by
/// moby/libnetwork#2679); from then on every network operation, container
/// start and stop hangs. `Some(explanation)` when it does not answer.
pub async fn daemon_wedged<E: Engine>(engine: &E) -> Option<String> {
    // A label no network carries: the daemon still takes the controller's
    // lock to answer, and answers at once when it is free.
    let probe = engine.list_networks(&[(labels::PROJECT, "aistack-probe-matches-nothing")]);
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Ok(_) => None,
        Err(_) => Some(
            "the daemon does not answer a network list either: its network controller is \
             deadlocked (Engine 20.10 before 20.10.27, moby/moby#46661); only restarting dockerd \
             recovers, then run `aistack down` again"
                .to_string(),
        ),
    }
}

fn busy(e: &EngineError) -> bool {
    e.to_string().contains("active endpoints")
}

/// The containers the daemon still lists on the network (`None`: could not ask).
async fn attached<E: Engine>(engine: &E, key: &str, name: &str) -> Option<Vec<String>> {
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        engine.list_networks(&[(labels::NETWORK, key)]),
    )
    .await
    .ok()?
    .ok()?;
    Some(
        found
            .into_iter()
            .find(|n| n.name == name)
            .map(|n| n.containers)
            .unwrap_or_default(),
    )
}

/// The final refusal, with what is left and how to remove it.
pub fn still_busy(
    name: &str,
    deadline: Duration,
    err: &EngineError,
    attached: Option<&[String]>,
) -> String {
    let head = format!(
        "network {name} still has active endpoints after retrying for {} s ({err})",
        deadline.as_secs()
    );
    match attached {
        Some(cs) if !cs.is_empty() => format!(
            "{head}\n  still attached: {}\n  remove them, then the network: `docker rm -f {}` and `docker network rm {name}`",
            cs.join(", "),
            cs.join(" ")
        ),
        Some(_) => format!(
            "{head}\n  the daemon lists no container on it: its endpoint count is stale (an Engine 20.10 \
             race after parallel removals, moby/moby#42119); restarting the Docker daemon clears it, \
             then `docker network rm {name}` (or `aistack down` again)"
        ),
        None => format!(
            "{head}\n  see what is attached with `docker network inspect {name}`, remove it \
             (`docker rm -f <container>`), then `docker network rm {name}`"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> EngineError {
        EngineError::Api {
            status: 403,
            message: "remove network demo_default: error while removing network: network demo_default id 1f2e has active endpoints".into(),
        }
    }

    #[test]
    fn the_final_error_names_what_is_attached_and_how_to_remove_it() {
        let cs = vec!["demo-web-1".to_string(), "intruder".to_string()];
        let m = still_busy(
            "demo_default",
            Duration::from_secs(30),
            &refusal(),
            Some(&cs),
        );
        assert!(
            m.starts_with(
                "network demo_default still has active endpoints after retrying for 30 s"
            ),
            "{m}"
        );
        assert!(m.contains("still attached: demo-web-1, intruder"), "{m}");
        assert!(
            m.contains("`docker rm -f demo-web-1 intruder` and `docker network rm demo_default`"),
            "{m}"
        );
    }

    #[test]
    fn a_network_with_no_listed_container_is_explained_as_a_stale_count() {
        let m = still_busy(
            "demo_default",
            Duration::from_secs(30),
            &refusal(),
            Some(&[]),
        );
        assert!(m.contains("moby/moby#42119"), "{m}");
        assert!(m.contains("`docker network rm demo_default`"), "{m}");
        let m = still_busy("demo_default", Duration::from_secs(30), &refusal(), None);
        assert!(m.contains("`docker network inspect demo_default`"), "{m}");
    }
}
