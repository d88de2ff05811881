//! Applying a Swarm deployment: walk a `plan::swarm::DeployPlan` against any
//! `SwarmEngine` (networks and objects first, then each service once the
//! services it depends on have their tasks running, healthy or completed,
//! then removals, then with `--wait` every service's convergence), and take
//! a deployed stack down. Makes no decisions beyond waiting: every call is
//! one the planner chose; `judge.rs` reads tasks, `diagnose.rs` gathers
//! what a failure needs, `observe.rs` takes the snapshot.

pub mod deploy;
pub mod diagnose;
pub mod judge;
pub mod observe;
pub mod remove;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{NoProgress, ProgressSink};

pub use deploy::deploy;
pub use diagnose::{ServiceReport, TaskReport};
pub use remove::remove;

/// How often task lists are read while waiting (Swarm has no per-task
/// health events worth subscribing to; a list is one cheap call).
pub const POLL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct DeployOptions {
    /// Create/update calls in flight at once (waits take no slot).
    pub concurrency: usize,
    /// Absolute deadline for dependency waits and `--wait`.
    pub deadline: Option<Instant>,
    /// Wait for every service to converge before returning.
    pub wait: bool,
    pub poll: Duration,
    pub progress: Arc<dyn ProgressSink>,
    /// The daemon's clock when the deploy started: task failures before it
    /// are history, not a verdict.
    pub started_at: i128,
    /// Log lines per task in a diagnosis.
    pub log_lines: usize,
    /// `--wait`: how long a service must stay converged before it counts
    /// (the docker CLI waits 5 s "to verify that tasks are stable").
    pub stable: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            concurrency: 8,
            deadline: None,
            wait: false,
            poll: POLL,
            progress: Arc::new(NoProgress),
            started_at: 0,
            log_lines: 10,
            stable: Duration::from_secs(3),
        }
    }
}

/// The first thing that went wrong, with what is known about it.
#[derive(Debug, Clone)]
pub struct SwarmFailure {
    /// The step's id ("service:gateway", "wait:redis:healthy", "network:demo_ai").
    pub step: String,
    /// The compose service concerned, if any.
    pub service: Option<String>,
    pub message: String,
    pub timed_out: bool,
    /// The failing service's recent tasks and their output.
    pub diagnosis: Option<ServiceReport>,
}

#[derive(Debug, Clone, Default)]
pub struct DeployReport {
    pub failure: Option<SwarmFailure>,
    /// Things that did not stop the deploy (an old secret still in use).
    pub notes: Vec<String>,
}
