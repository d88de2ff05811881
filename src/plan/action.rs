//! The plan's vocabulary: one action per engine call (or per wait), each node
//! with an id, a cause and its dependencies; and the stable text form that
//! `--dry-run` prints and golden tests compare.

use std::fmt;
use std::time::Duration;

use crate::engine::types::{ContainerSpec, HealthSpec, NetworkSpec, VolumeSpec};

use super::spec::InjectedFile;

/// What a wait node waits for, on every container of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitFor {
    /// Started (and, for `--wait`, still running).
    Running,
    Healthy,
    /// Exited with status 0.
    CompletedSuccessfully,
}

impl WaitFor {
    pub fn as_str(&self) -> &'static str {
        match self {
            WaitFor::Running => "running",
            WaitFor::Healthy => "healthy",
            WaitFor::CompletedSuccessfully => "completed",
        }
    }

    /// The Compose `depends_on` condition this wait stands for.
    pub fn condition(&self) -> &'static str {
        match self {
            WaitFor::Running => "service_started",
            WaitFor::Healthy => "service_healthy",
            WaitFor::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    CreateNetwork {
        key: String,
        spec: NetworkSpec,
    },
    CreateVolume {
        key: String,
        spec: VolumeSpec,
    },
    CreateContainer {
        service: String,
        number: u32,
        spec: Box<ContainerSpec>,
        inject: Vec<InjectedFile>,
    },
    StartContainer {
        service: String,
        name: String,
        publishes_ports: bool,
    },
    Wait {
        service: String,
        containers: Vec<String>,
        until: WaitFor,
        required: bool,
        /// The service's own health check, for eager probes.
        health: Option<HealthSpec>,
        /// `--wait` on a job (`restart: "no"`): exiting 0 counts as success.
        allow_completed: bool,
    },
    StopContainer {
        service: String,
        name: String,
        timeout: Duration,
    },
    RemoveContainer {
        service: String,
        name: String,
        /// Also its anonymous volumes (`down -v`, as Compose does).
        anonymous_volumes: bool,
    },
    RemoveNetwork {
        key: String,
        name: String,
    },
    RemoveVolume {
        key: String,
        name: String,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CreateNetwork { .. } => "CreateNetwork",
            Action::CreateVolume { .. } => "CreateVolume",
            Action::CreateContainer { .. } => "CreateContainer",
            Action::StartContainer { .. } => "StartContainer",
            Action::Wait { .. } => "Wait",
            Action::StopContainer { .. } => "StopContainer",
            Action::RemoveContainer { .. } => "RemoveContainer",
            Action::RemoveNetwork { .. } => "RemoveNetwork",
            Action::RemoveVolume { .. } => "RemoveVolume",
        }
    }

    /// The service this action is about, if any (for progress lines and cancellation).
    pub fn service(&self) -> Option<&str> {
        match self {
            Action::CreateContainer { service, .. }
            | Action::StartContainer { service, .. }
            | Action::Wait { service, .. }
            | Action::StopContainer { service, .. }
            | Action::RemoveContainer { service, .. } => Some(service),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Stable, human-readable id: `network:ai-net`, `create:gateway-1`, `wait:redis:healthy`.
    pub id: String,
    pub action: Action,
    /// Why: "not found", "config changed", "depends_on redis (service_healthy)".
    pub cause: String,
    /// Indices of nodes that must finish first.
    pub deps: Vec<usize>,
}

/// A DAG of actions in a deterministic order (every node after its dependencies).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub nodes: Vec<Node>,
    /// Things the user should know that are not actions (orphans left alone, ...).
    pub notes: Vec<String>,
}

impl Plan {
    pub fn push(
        &mut self,
        id: String,
        action: Action,
        cause: impl Into<String>,
        deps: Vec<usize>,
    ) -> usize {
        let mut deps = deps;
        deps.sort_unstable();
        deps.dedup();
        self.nodes.push(Node {
            id,
            action,
            cause: cause.into(),
            deps,
        });
        self.nodes.len() - 1
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// One line per node: `#3 [1,2] create:web-1 CreateContainer (not found)`.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes.is_empty() {
            writeln!(f, "nothing to do")?;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let deps: Vec<String> = n.deps.iter().map(|d| d.to_string()).collect();
            writeln!(
                f,
                "#{i} [{}] {} {} ({})",
                deps.join(","),
                n.id,
                n.action.kind(),
                n.cause
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
