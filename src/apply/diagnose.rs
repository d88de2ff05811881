//! The diagnosis block printed when a wait fails: which service, which
//! condition, the container's state and exit code, the last health-check
//! outputs and the last log lines. Gathers facts through the engine; the
//! text is rendered by `report`.

use futures_util::StreamExt;

use crate::engine::Engine;
use crate::engine::types::LogStream;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnosis {
    pub container: String,
    pub state: String,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub restart_count: i64,
    /// (exit code, output) of the last health probes, oldest first.
    pub health: Vec<(i64, String)>,
    pub last_logs: Vec<String>,
}

pub async fn gather<E: Engine>(engine: &E, container: &str, log_lines: usize) -> Diagnosis {
    let mut d = Diagnosis {
        container: container.to_string(),
        ..Default::default()
    };
    if let Ok(details) = engine.inspect_container(container).await {
        d.state = format!("{:?}", details.container.state).to_lowercase();
        d.exit_code = details.container.exit_code;
        d.oom_killed = details.oom_killed;
        d.restart_count = details.container.restart_count;
        let n = details.health_log.len();
        d.health = details.health_log[n.saturating_sub(3)..]
            .iter()
            .map(|p| (p.exit_code, p.output.trim().to_string()))
            .collect();
    }
    let logs = engine.logs(container, false, Some(log_lines), false, None);
    let lines = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        logs.take(log_lines).collect::<Vec<_>>(),
    )
    .await;
    if let Ok(lines) = lines {
        d.last_logs = lines
            .into_iter()
            .filter_map(|l| l.ok())
            .map(|l| match l.stream {
                LogStream::Stderr => format!("stderr: {}", l.text),
                _ => l.text,
            })
            .collect();
    }
    d
}
