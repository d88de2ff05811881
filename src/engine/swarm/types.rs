//! Engine-neutral Swarm data: what callers ask a Swarm manager to create
//! (`ServiceSpec`, overlay `NetworkSpec`s, `ObjectSpec` secrets and configs)
//! and what it reports back (`ObservedService`, `ObservedTask`, ...).
//!
//! Owns: plain data only, `Serialize` so the planner can hash a service spec.
//! Must not: import bollard, talk to Docker, or decide anything (names,
//! labels, modes and ports arrive here already decided by `plan::swarm`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// The node's place in a Swarm, as `GET /info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmStatus {
    /// "inactive", "pending", "active", "error", "locked" (the daemon's words).
    pub state: String,
    pub node_id: String,
    /// Whether this node is a manager (only managers take service calls).
    pub is_manager: bool,
    pub nodes: u32,
    /// The daemon's clock (nanoseconds since the epoch; 0 if unknown): task
    /// times are compared with it, never with this process's clock.
    pub now: i128,
}

impl SwarmStatus {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// Secrets and configs share one shape; the kind says which API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ObjectKind {
    Secret,
    Config,
}

impl ObjectKind {
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Secret => "secret",
            ObjectKind::Config => "config",
        }
    }
}

/// A Swarm secret or config to create. Both are immutable once created.
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    pub kind: ObjectKind,
    pub name: String,
    /// The content; never printed (see the `Debug` below).
    pub data: Vec<u8>,
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for ObjectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectSpec")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .field("labels", &self.labels)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedObject {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// How a service runs its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServiceMode {
    Replicated {
        replicas: u64,
    },
    Global,
    /// Runs `completions` tasks to completion, `max_concurrent` at a time.
    ReplicatedJob {
        completions: u64,
        max_concurrent: u64,
    },
    GlobalJob,
}

impl ServiceMode {
    /// Jobs end: their tasks complete instead of running.
    pub fn is_job(self) -> bool {
        matches!(
            self,
            ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RestartCondition {
    None,
    OnFailure,
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartSpec {
    pub condition: RestartCondition,
    pub delay: Option<Duration>,
    pub max_attempts: Option<u64>,
    pub window: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EndpointMode {
    Vip,
    Dnsrr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PublishMode {
    /// Through the routing mesh: every node answers (needs IPVS).
    Ingress,
    /// On the node running the task only.
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    pub name: Option<String>,
    /// "tcp", "udp", "sctp".
    pub protocol: String,
    pub target: u16,
    /// `None`: Swarm picks one (30000+ for ingress, an ephemeral port for host).
    pub published: Option<u16>,
    pub mode: PublishMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkAttachment {
    /// The network's name.
    pub target: String,
    pub aliases: Vec<String>,
    pub driver_opts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheckSpec {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    /// Needs API 1.44 (`plan::swarm` only sets it when the engine has it).
    pub start_interval: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SwarmMountKind {
    Bind,
    Volume,
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwarmMount {
    pub kind: SwarmMountKind,
    /// Host path (bind) or volume name (`None`: anonymous volume, tmpfs).
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub bind_propagation: Option<String>,
    pub volume_nocopy: bool,
    /// Labels the engine gives the volume when a task creates it on a node.
    pub volume_labels: BTreeMap<String, String>,
    pub volume_driver: Option<String>,
    pub volume_driver_opts: BTreeMap<String, String>,
    pub tmpfs_size: Option<i64>,
    pub tmpfs_mode: Option<u32>,
}

impl SwarmMount {
    pub fn new(kind: SwarmMountKind, source: Option<&str>, target: &str) -> Self {
        SwarmMount {
            kind,
            source: source.map(String::from),
            target: target.to_string(),
            read_only: false,
            bind_propagation: None,
            volume_nocopy: false,
            volume_labels: BTreeMap::new(),
            volume_driver: None,
            volume_driver_opts: BTreeMap::new(),
            tmpfs_size: None,
            tmpfs_mode: None,
        }
    }
}

/// A secret or config made visible as a file in the task's containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRefSpec {
    /// The Swarm object's name.
    pub object: String,
    /// Its ID, filled in by the executor once the object exists (not hashed).
    #[serde(skip)]
    pub object_id: String,
    /// Secrets: a name under /run/secrets (or an absolute path); configs: a path.
    pub target: String,
    pub uid: String,
    pub gid: String,
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UlimitSpec {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// What runs in each task's container. Fields left empty are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskContainerSpec {
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// Replaces the image's ENTRYPOINT (Swarm calls it `Command`).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD (Swarm calls it `Args`).
    pub args: Option<Vec<String>>,
    pub hostname: Option<String>,
    /// "KEY=VALUE".
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub tty: bool,
    pub open_stdin: bool,
    pub read_only: bool,
    pub mounts: Vec<SwarmMount>,
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<Duration>,
    pub healthcheck: Option<HealthCheckSpec>,
    /// "IP host [alias...]" (Swarm's /etc/hosts form).
    pub hosts: Vec<String>,
    pub dns_nameservers: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub secrets: Vec<FileRefSpec>,
    pub configs: Vec<FileRefSpec>,
    pub init: Option<bool>,
    pub sysctls: BTreeMap<String, String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub ulimits: Vec<UlimitSpec>,
    /// Needs API 1.46 (`plan::swarm` only sets it when the engine has it).
    pub no_new_privileges: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceSpec {
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub pids: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateSpec {
    pub parallelism: Option<u64>,
    pub delay: Option<Duration>,
    /// "continue", "pause", "rollback".
    pub failure_action: Option<String>,
    pub monitor: Option<Duration>,
    pub max_failure_ratio: Option<f64>,
    /// "stop-first", "start-first".
    pub order: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlacementSpec {
    pub constraints: Vec<String>,
    /// Spread descriptors ("node.labels.zone").
    pub spread: Vec<String>,
    pub max_replicas_per_node: Option<u64>,
    /// (os, architecture), e.g. ("linux", "amd64").
    pub platforms: Vec<(String, String)>,
}

/// One Swarm service: the whole spec the engine needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub mode: ServiceMode,
    pub container: TaskContainerSpec,
    pub limits: ResourceSpec,
    pub reservations: ResourceSpec,
    pub restart: RestartSpec,
    pub placement: PlacementSpec,
    pub networks: Vec<NetworkAttachment>,
    pub endpoint_mode: EndpointMode,
    pub ports: Vec<PortSpec>,
    pub update_config: Option<UpdateSpec>,
    pub rollback_config: Option<UpdateSpec>,
    pub log_driver: Option<String>,
    pub log_opts: BTreeMap<String, String>,
}

// ----- observed -----

/// A port as the engine reports it (service endpoint or task).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObservedPort {
    pub protocol: String,
    pub target: u16,
    pub published: u16,
    /// "ingress" or "host".
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedService {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The object version an update must quote.
    pub version: u64,
    /// Nanoseconds since the epoch, daemon clock (0 if unknown).
    pub created_at: i128,
    pub updated_at: i128,
    /// The desired replicas of a replicated service (`None` for other modes).
    pub replicas: Option<u64>,
    /// "replicated", "global", "replicated-job", "global-job".
    pub mode: String,
    pub image: String,
    /// Published ports through the routing mesh (host-mode ports are per task).
    pub ports: Vec<ObservedPort>,
    /// A rolling update's state ("updating", "paused", "completed",
    /// "rollback_started", "rollback_paused", "rollback_completed") and message.
    pub update_state: Option<String>,
    pub update_message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTask {
    pub id: String,
    pub service_id: String,
    /// Replicated services number their tasks (`<service>.<slot>`); global ones do not.
    pub slot: Option<u64>,
    pub node_id: String,
    /// The daemon's word: "new" ... "running", "complete", "failed", "rejected", ...
    pub state: String,
    pub desired_state: String,
    pub message: String,
    pub error: String,
    pub exit_code: Option<i64>,
    pub container_id: Option<String>,
    /// Nanoseconds since the epoch, daemon clock (0 if unknown).
    pub created_at: i128,
    /// When the task entered its current state.
    pub state_since: i128,
    /// Host-mode published ports of this task.
    pub ports: Vec<ObservedPort>,
}

impl ObservedTask {
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    pub fn completed_ok(&self) -> bool {
        self.state == "complete" && self.exit_code.unwrap_or(0) == 0
    }

    /// Ended badly: it will not run again as this task.
    pub fn failed(&self) -> bool {
        matches!(self.state.as_str(), "failed" | "rejected")
            || (self.state == "complete" && self.exit_code.unwrap_or(0) != 0)
    }
}

/// RFC 3339 in UTC as the daemon writes it ("2026-11-22T18:53:11.695599335Z",
/// or with a numeric offset) → nanoseconds since the epoch. `None` when it
/// is not such a time (Go's zero time "0001-01-01T00:00:00Z" parses, to a
/// large negative number, which compares as "long ago").
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Split the offset off: "Z", "+hh:mm" or "-hh:mm".
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0i64)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        let secs = h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
        (t, sign * secs)
    };
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: i64 = parts.next()?.parse().ok()?;
    if h > 23 || m > 59 || sec > 60 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i128 = 0;
    for (i, c) in frac.chars().take(9).enumerate() {
        nanos += i128::from(c.to_digit(10)?) * 10i128.pow(8 - i as u32);
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_timestamps_parse_to_comparable_nanoseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("1970-01-02T00:00:01.5Z"),
            Some(86_401_500_000_000)
        );
        let a = parse_rfc3339("2026-11-22T18:53:11.695599335Z").unwrap();
        let b = parse_rfc3339("2026-11-22T18:53:11.7Z").unwrap();
        assert!(a < b);
        assert_eq!(
            parse_rfc3339("2026-11-22T19:53:11.695599335+01:00"),
            Some(a)
        );
        // 2000-03-01 is day 11017 since the epoch (a leap-year February before it).
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(11_017 * 86_400 * 1_000_000_000)
        );
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap() < 0);
    }

    #[test]
    fn garbage_is_not_a_time() {
        for s in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22",
            "2026-11-22T25:00:00Z",
            "2026-11-22T10:00:00.x1Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn secret_content_never_shows_in_debug_output() {
        let o = ObjectSpec {
            kind: ObjectKind::Secret,
            name: "demo_pw".into(),
            data: b"hunter2-hunter2".to_vec(),
            labels: BTreeMap::new(),
        };
        let shown = format!("{o:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<15 bytes>"), "{shown}");
    }

    #[test]
    fn task_outcomes_read_state_and_exit_code() {
        let mut t = ObservedTask {
            id: "t".into(),
            service_id: "s".into(),
            slot: Some(1),
            node_id: "n".into(),
            state: "complete".into(),
            desired_state: "shutdown".into(),
            message: String::new(),
            error: String::new(),
            exit_code: Some(0),
            container_id: None,
            created_at: 0,
            state_since: 0,
            ports: vec![],
        };
        assert!(t.completed_ok() && !t.failed());
        t.exit_code = Some(3);
        assert!(!t.completed_ok() && t.failed());
        t.state = "rejected".into();
        assert!(t.failed());
        t.state = "running".into();
        t.exit_code = None;
        assert!(t.is_running() && !t.failed());
    }
}
