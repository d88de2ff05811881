//! Exit codes: decided here and nowhere else, and documented in README.md.

use crate::compose::LoadError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for happened.
    Ok = 0,
    /// The engine refused or a service failed (a container exited, a health check failed).
    Failure = 1,
    /// The command line is wrong (unknown flag, missing argument).
    Usage = 2,
    /// The project is invalid: a compose file, `.env` or env file cannot be loaded.
    InvalidProject = 3,
    /// The Docker daemon cannot be reached.
    DaemonUnreachable = 4,
    /// `lint`/`verify` found problems (error-level findings, isolation leaks).
    Findings = 5,
    /// A wait (`--wait-timeout`) ran out before the stack was ready.
    Timeout = 124,
    /// Interrupted by SIGINT (128 + 2).
    Interrupted = 130,
    /// Terminated by SIGTERM (128 + 15).
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that already knows which exit code it means. Command handlers
/// return `anyhow::Error`; `exit_for` looks for this (or a `LoadError`) in its chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitError {
    pub exit: Exit,
    pub message: String,
}

impl ExitError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        ExitError {
            exit,
            message: message.into(),
        }
    }
}

pub fn exit_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<ExitError>() {
            return e.exit;
        }
        if cause.downcast_ref::<LoadError>().is_some() {
            return Exit::InvalidProject;
        }
    }
    Exit::Failure
}
