//! The fake daemon's state: containers, networks, volumes, recorded calls
//! and scripts, plus the daemon-like lookups (ID, ID prefix or name).
//!
//! Owns: plain data and pure helpers. Must not: await, or touch channels
//! (that is `fake.rs`, which holds this behind a `Mutex`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::AbortHandle;

use super::{FakeFile, Script};
use crate::engine::quirks::ApiVersion;
use crate::engine::types::*;
use crate::engine::{EngineError, ExecOutput};

#[derive(Debug, Clone)]
pub(super) struct StoredLine {
    pub(super) time_nano: i64,
    pub(super) stream: LogStream,
    pub(super) text: String,
}

pub(super) struct FakeContainer {
    pub(super) id: String,
    pub(super) spec: ContainerSpec,
    pub(super) state: ContainerState,
    pub(super) exit_code: i64,
    pub(super) health: Option<HealthState>,
    pub(super) started_at: Option<String>,
    pub(super) finished_at: Option<String>,
    /// Network name → endpoint.
    pub(super) networks: BTreeMap<String, Endpoint>,
    pub(super) logs: Vec<StoredLine>,
    pub(super) files: BTreeMap<String, FakeFile>,
    /// Script tasks of the current run (aborted on stop/kill/remove).
    pub(super) tasks: Vec<AbortHandle>,
    /// Incremented on each start so a stale script step does nothing.
    pub(super) run: u64,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) calls: Vec<String>,
    pub(super) failures: HashMap<String, VecDeque<EngineError>>,
    pub(super) latency: HashMap<String, Duration>,
    pub(super) default_latency: Duration,
    pub(super) scripts: HashMap<String, Vec<Script>>,
    pub(super) exec_results: HashMap<String, VecDeque<ExecOutput>>,
    pub(super) images: Option<BTreeSet<String>>,
    /// Build scripts and the record of builds (`images.rs`).
    pub(super) images_fake: super::images::Images,
    pub(super) api: Option<ApiVersion>,
    pub(super) next_id: u64,
    /// id → (spec, id)
    pub(super) networks: BTreeMap<String, NetworkSpec>,
    pub(super) volumes: BTreeMap<String, VolumeSpec>,
    pub(super) containers: BTreeMap<String, FakeContainer>,
    pub(super) history: Vec<EngineEvent>,
    pub(super) interactive: super::interactive::Sessions,
}

impl State {
    pub(super) fn new_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}{:060}", self.next_id)
    }

    /// A container by ID, unique ID prefix or exact name, like the daemon.
    pub(super) fn container_id(&self, key: &str) -> Option<String> {
        if self.containers.contains_key(key) {
            return Some(key.to_string());
        }
        if let Some(c) = self.containers.values().find(|c| c.spec.name == key) {
            return Some(c.id.clone());
        }
        let mut by_prefix = self.containers.keys().filter(|id| id.starts_with(key));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(id), None) if !key.is_empty() => Some(id.clone()),
            _ => None,
        }
    }

    pub(super) fn network_id(&self, key: &str) -> Option<String> {
        if self.networks.contains_key(key) {
            return Some(key.to_string());
        }
        self.networks
            .iter()
            .find(|(_, n)| n.name == key)
            .map(|(id, _)| id.clone())
    }

    pub(super) fn container_name(&self, key: &str) -> String {
        self.container_id(key)
            .and_then(|id| self.containers.get(&id))
            .map_or_else(|| key.to_string(), |c| c.spec.name.clone())
    }

    pub(super) fn network_name(&self, key: &str) -> String {
        self.network_id(key)
            .and_then(|id| self.networks.get(&id))
            .map_or_else(|| key.to_string(), |n| n.name.clone())
    }
}

pub(super) fn labels_match(labels: &BTreeMap<String, String>, filter: &[(&str, &str)]) -> bool {
    filter
        .iter()
        .all(|(k, v)| labels.get(*k).is_some_and(|x| x == v))
}

pub(super) fn owned_filter(filter: &[(&str, &str)]) -> Vec<(String, String)> {
    filter
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn borrowed(filter: &[(String, String)]) -> Vec<(&str, &str)> {
    filter
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

pub(super) fn nanos_of(t: SystemTime) -> i64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// RFC 3339 in UTC with nanoseconds, as the daemon writes times.
pub(super) fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{sub:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(super) fn exit_code_for(signal: &str) -> i64 {
    let s = signal.trim_start_matches("SIG");
    match s {
        "HUP" | "1" => 129,
        "INT" | "2" => 130,
        "TERM" | "15" => 143,
        _ => 137,
    }
}

pub(super) fn has_healthcheck(spec: &ContainerSpec) -> bool {
    spec.healthcheck
        .as_ref()
        .is_some_and(|h| !h.test.is_empty() && h.test[0] != "NONE")
}
