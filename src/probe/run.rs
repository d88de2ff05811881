//! Running one probe: a container of the helper image in the source's
//! network namespace, with nothing else (all capabilities dropped,
//! read-only, no new privileges, user 65534, no network of its own), its
//! output read through an attach opened before the start, and removed
//! afterwards. The engine removes it on exit by itself (auto-remove), and
//! the agent ends within its own deadlines, so an interrupted `verify`
//! leaves nothing running; a container created but never started carries
//! the project's label as a one-off, so `down` removes it.
//!
//! Owns: the container's spec, labels and lifecycle. Must not: decide
//! what to probe (the request comes in) or how to judge the answer.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;

use super::protocol::{Request, Response};
use crate::engine::types::{ContainerSpec, LogStream};
use crate::engine::{Engine, EngineError};
use crate::plan::labels;

/// Label on every probe container; its value is the source service.
pub const LABEL: &str = "io.aistack.probe";

/// Where a probe goes and how long it may take.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub project: &'a str,
    pub service: &'a str,
    /// `container:<id>` or `host`.
    pub join: &'a str,
    pub image: &'a str,
    /// From create to the last byte of output.
    pub deadline: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("no answer within {0:?}")]
    Deadline(Duration),
    #[error("the agent's answer cannot be read ({reason}); its output: {output}")]
    Answer { reason: String, output: String },
}

/// The probe container's spec. The name carries a per-run suffix so
/// parallel `verify` runs on one project never collide.
pub fn spec(t: &Target<'_>, request: &Request, suffix: &str) -> ContainerSpec {
    let mut l = BTreeMap::new();
    l.insert(labels::PROJECT.to_string(), t.project.to_string());
    // One-off, so `ps`, `logs` and `up` ignore it and `down` removes it.
    l.insert(labels::ONEOFF.to_string(), "True".to_string());
    l.insert(LABEL.to_string(), t.service.to_string());
    ContainerSpec {
        name: format!("{}-{}-probe-{suffix}", t.project, t.service),
        image: t.image.to_string(),
        command: Some(vec![serde_json::to_string(request).unwrap_or_default()]),
        labels: l,
        user: Some("65534:65534".into()),
        read_only: true,
        cap_drop: vec!["ALL".into()],
        security_opt: vec!["no-new-privileges:true".into()],
        network_mode: Some(t.join.to_string()),
        auto_remove: true,
        pids_limit: Some(256),
        ..Default::default()
    }
}

/// Runs the probe and returns the agent's answer. The container is gone
/// (or going: auto-remove) when this returns, whatever happened.
pub async fn probe<E: Engine>(
    engine: &E,
    t: &Target<'_>,
    request: &Request,
    suffix: &str,
) -> Result<Response, RunError> {
    let spec = spec(t, request, suffix);
    let id = engine.create_container(&spec).await?;
    let result = tokio::time::timeout(t.deadline, attach_and_run(engine, &id)).await;
    let result = match result {
        Ok(r) => r,
        Err(_) => Err(RunError::Deadline(t.deadline)),
    };
    if result.is_err() {
        // Never started, stuck, or unreadable: take it away now. A removal
        // the engine has already begun (auto-remove) is a conflict: fine.
        if let Err(e) = engine.remove_container(&id, true, false).await
            && !e.is_conflict()
        {
            tracing::warn!("removing probe container {}: {e}", spec.name);
        }
    }
    let (stdout, stderr) = result?;
    serde_json::from_str::<Response>(stdout.trim()).map_err(|e| RunError::Answer {
        reason: e.to_string(),
        output: format!("{}{}", stdout.trim(), stderr.trim())
            .chars()
            .take(500)
            .collect(),
    })
}

async fn attach_and_run<E: Engine>(engine: &E, id: &str) -> Result<(String, String), RunError> {
    let io = engine.attach_container(id, false).await?;
    engine.start_container(id).await?;
    let mut output = io.output;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(chunk) = output.next().await {
        let chunk = chunk?;
        match chunk.stream {
            LogStream::Stderr => stderr.extend_from_slice(&chunk.bytes),
            LogStream::Stdout | LogStream::Console => stdout.extend_from_slice(&chunk.bytes),
        }
    }
    Ok((
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_container_joins_the_source_and_holds_no_privilege() {
        let t = Target {
            project: "demo",
            service: "proxy",
            join: "container:abc",
            image: "aistack-probe:1",
            deadline: Duration::from_secs(1),
        };
        let req = Request {
            names: vec!["redis".into()],
            ..Default::default()
        };
        let s = spec(&t, &req, "0123abcd");
        assert_eq!(s.name, "demo-proxy-probe-0123abcd");
        assert_eq!(s.network_mode.as_deref(), Some("container:abc"));
        assert!(s.networks.is_empty() && s.port_bindings.is_empty());
        assert_eq!(s.cap_drop, ["ALL"]);
        assert!(s.cap_add.is_empty() && !s.privileged);
        assert_eq!(s.security_opt, ["no-new-privileges:true"]);
        assert_eq!(s.user.as_deref(), Some("65534:65534"));
        assert!(s.read_only && s.auto_remove);
        assert!(s.mounts.is_empty());
        // Found by `down` (project label, one-off) and by verify's own sweep.
        assert_eq!(s.labels[labels::PROJECT], "demo");
        assert_eq!(s.labels[labels::ONEOFF], "True");
        assert_eq!(s.labels[LABEL], "proxy");
        // The request travels as the one argument.
        let cmd = s.command.unwrap();
        assert_eq!(cmd.len(), 1);
        assert_eq!(serde_json::from_str::<Request>(&cmd[0]).unwrap(), req);
    }
}
