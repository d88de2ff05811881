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
