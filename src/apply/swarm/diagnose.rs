//! The diagnosis of a service that failed or did not converge: its most
//! recent tasks with state, desired state, the engine's error, the exit
//! code, the container, and the last lines each task wrote. Gathers facts
//! through the engine; the text is rendered by `report::swarm`.

use crate::engine::swarm::SwarmEngine;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskReport {
    /// `<service>.<slot>` (or the service name for global services).
    pub name: String,
    pub state: String,
    pub desired_state: String,
    pub error: String,
    pub message: String,
    pub exit_code: Option<i64>,
    /// Short container ID, when the task got one.
    pub container: Option<String>,
    pub logs: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceReport {
    /// The Swarm service name.
    pub service: String,
    /// Newest first.
    pub tasks: Vec<TaskReport>,
}

/// How many of the newest tasks a diagnosis shows.
const TASKS: usize = 3;

pub async fn gather<E: SwarmEngine>(
    engine: &E,
    name: &str,
    id: &str,
    log_lines: usize,
) -> ServiceReport {
    let mut report = ServiceReport {
        service: name.to_string(),
        tasks: Vec::new(),
    };
    let Ok(mut tasks) = engine.list_tasks(id).await else {
        return report;
    };
    tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    for t in tasks.into_iter().take(TASKS) {
        let logs = if t.container_id.is_some() {
            engine.task_logs(&t.id, log_lines).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        report.tasks.push(TaskReport {
            name: match t.slot {
                Some(n) => format!("{name}.{n}"),
                None => name.to_string(),
            },
            state: t.state,
            desired_state: t.desired_state,
            error: t.error,
            message: t.message,
            exit_code: t.exit_code,
            container: t.container_id.map(|c| c.chars().take(12).collect()),
            logs,
        });
    }
    report
}
