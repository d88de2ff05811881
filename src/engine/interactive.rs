//! Engine-neutral types for processes a user talks to: what to start with
//! `exec`, and the attached standard streams of a container or an exec.
//!
//! Owns: data and stream types only. Must not: import bollard, touch the
//! terminal, or decide anything (whether to allocate a TTY, whether to
//! attach stdin, is the caller's choice).

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::AsyncWrite;

use super::Result;
use super::types::LogStream;

/// A process to start in a running container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    /// "KEY=VALUE", on top of the container's environment.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub privileged: bool,
    /// Allocate a pseudo-terminal: output then arrives as one stream
    /// (`LogStream::Console`), not split into stdout and stderr.
    pub tty: bool,
    /// Connect the caller's input to the process's stdin.
    pub stdin: bool,
}

/// What the engine says about an exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecStatus {
    pub running: bool,
    /// `None` while it runs or before it started.
    pub exit_code: Option<i64>,
}

/// Output as the process wrote it: not split into lines, so prompts and
/// progress bars reach the user as they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    pub stream: LogStream,
    pub bytes: Bytes,
}

/// The standard streams of an attached container or exec.
pub struct AttachedIo {
    /// Ends when the process exits or the engine closes the connection.
    pub output: Pin<Box<dyn Stream<Item = Result<OutputChunk>> + Send>>,
    /// The process's stdin. Shutting it down closes the process's stdin
    /// (for containers: when created with `stdin_once`).
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

impl std::fmt::Debug for AttachedIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachedIo")
    }
}
