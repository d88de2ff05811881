//! The diagnosis block printed when a wait fails: which service, which
//! condition, the container's state and exit code, the last health-check
//! outputs and the last log lines. Gathers facts through the engine; the
//! text is rendered by `report`. Also turns the engine's cryptic refusal of
//! a taken host port into plain words (`port_conflict`, pure).

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

/// A start refused because a published host port is taken, in plain words:
/// which address and port, and what to do. `None` for any other error.
/// The engine says it two ways: "Bind for 0.0.0.0:8080 failed: port is
/// already allocated" (another container holds it) and "listen tcp4
/// 0.0.0.0:8080: bind: address already in use" (another process does).
pub fn port_conflict(engine_message: &str) -> Option<String> {
    let addr = if let Some(rest) = engine_message.split("Bind for ").nth(1) {
        rest.split(" failed").next()?
    } else if engine_message.contains("address already in use") {
        let rest = engine_message.split("listen ").nth(1)?;
        // "tcp4 0.0.0.0:8080: bind: ..." → "0.0.0.0:8080"
        let (_, rest) = rest.split_once(' ')?;
        rest.split(": bind").next()?
    } else {
        return None;
    };
    let (host, port) = addr.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "host port {port} is already in use ({host}:{port} is taken by another process or container), \
         so the container cannot publish it: free the port, or map the service to another host port in `ports:`"
    ))
}

#[cfg(test)]
mod tests {
    use super::port_conflict;

    #[test]
    fn a_port_held_by_a_process_is_named_with_its_address() {
        let m = "Docker API error 500: start container demo-web-1: driver failed programming external \
                 connectivity on endpoint demo-web-1 (2feb06de): Error starting userland proxy: listen \
                 tcp4 0.0.0.0:18234: bind: address already in use";
        let plain = port_conflict(m).unwrap();
        assert!(
            plain.starts_with("host port 18234 is already in use (0.0.0.0:18234 is taken"),
            "{plain}"
        );
    }

    #[test]
    fn a_port_held_by_another_container_and_ipv6_addresses_are_recognised() {
        let m = "Docker API error 500: start container demo-web-1: driver failed programming external \
                 connectivity on endpoint demo-web-1 (9a1b): Bind for 0.0.0.0:8080 failed: port is already allocated";
        assert!(port_conflict(m).unwrap().starts_with("host port 8080 "));
        let m =
            "Error starting userland proxy: listen tcp6 [::]:5432: bind: address already in use";
        assert!(port_conflict(m).unwrap().contains("([::]:5432 is taken"));
    }

    #[test]
    fn other_start_errors_are_left_alone() {
        assert_eq!(port_conflict("network demo_back not found"), None);
        assert_eq!(port_conflict("Bind for nonsense failed"), None);
        assert_eq!(port_conflict("listen: address already in use"), None);
    }
}
