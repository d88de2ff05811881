//! Connecting to the engine from a command: a runtime, the Docker connection,
//! and the one-line "daemon unreachable" error with its own exit code.

use anyhow::Result;

use crate::engine::{DockerEngine, EngineError};
use crate::exit::{Exit, ExitError};

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub async fn connect() -> Result<DockerEngine> {
    DockerEngine::connect().await.map_err(|e| match e {
        EngineError::Unreachable { .. } => {
            ExitError::new(Exit::DaemonUnreachable, e.to_string()).into()
        }
        other => anyhow::Error::new(other),
    })
}

/// An engine error as the command's error; a call that got no answer says
/// whether the daemon itself is wedged (see `apply::networks::daemon_wedged`).
pub async fn explained(engine: &DockerEngine, e: EngineError) -> anyhow::Error {
    if let EngineError::Timeout { .. } = e
        && let Some(hint) = crate::apply::networks::daemon_wedged(engine).await
    {
        return anyhow::anyhow!("{e}\n  {hint}");
    }
    anyhow::Error::new(e)
}

/// Whether `plan`'s container stops must run one at a time on this daemon
/// (`quirks::serial_stops`); asks the daemon's version only when the plan
/// stops something.
pub async fn serial_stops(engine: &DockerEngine, plan: &crate::plan::Plan) -> bool {
    use crate::engine::Engine;
    if !plan
        .nodes
        .iter()
        .any(|n| matches!(n.action, crate::plan::Action::StopContainer { .. }))
    {
        return false;
    }
    match engine.info().await {
        Ok(info) => crate::engine::quirks::serial_stops(&info.server_version),
        Err(_) => false,
    }
}
