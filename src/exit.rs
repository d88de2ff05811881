//! Exit codes: decided here and nowhere else, and documented in README.md.

use crate::compose::LoadError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for happened.
    Ok,
    /// The engine refused or a service failed (a container exited, a health check failed).
    Failure,
    /// The command line is wrong (unknown flag, missing argument).
    Usage,
    /// The project is invalid: a compose file, `.env` or env file cannot be loaded.
    InvalidProject,
    /// The Docker daemon cannot be reached.
    DaemonUnreachable,
    /// `lint`/`verify` found problems (error-level findings, isolation leaks).
    Findings,
    /// A wait (`--wait-timeout`) ran out before the stack was ready.
    Timeout,
    /// Interrupted by SIGINT (128 + 2).
    Interrupted,
    /// Terminated by SIGTERM (128 + 15).
    Terminated,
    /// The exit code of what the user ran (`run`, `exec`, `test`,
    /// `--exit-code-from`), passed through unchanged.
    Passthrough(i32),
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::InvalidProject => 3,
            Exit::DaemonUnreachable => 4,
            Exit::Findings => 5,
            Exit::Timeout => 124,
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
            Exit::Passthrough(code) => code,
        }
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
