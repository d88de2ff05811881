//! SIGINT/SIGTERM while a command changes the stack (`up`, and `test`'s
//! bring-up): remember which signal came first and raise the executor's
//! cancel flag, instead of dying between an engine call and its answer. The
//! command then stops after the calls in flight and exits 130/143.
//!
//! Owns the signal listeners and the mapping signal → exit code. Must not:
//! decide what to do about the stack (the command does), or exit the process.

use std::sync::{Arc, Mutex};

use anyhow::Result;
use tokio::signal::unix::{SignalKind, signal};

use crate::apply::cancel::{self, Cancel};
use crate::exit::Exit;

/// Installed once per command; listening stops when dropped.
pub struct Interrupts {
    first: Arc<Mutex<Option<Exit>>>,
    cancel: Cancel,
    task: tokio::task::JoinHandle<()>,
}

impl Interrupts {
    /// Start listening (needs a tokio runtime). From here on the signals no
    /// longer kill the process: the command must look at `cancel()`.
    pub fn install() -> Result<Interrupts> {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (trigger, cancel) = cancel::pair();
        let first = Arc::new(Mutex::new(None));
        let seen = first.clone();
        let task = tokio::spawn(async move {
            loop {
                let exit = tokio::select! {
                    Some(()) = int.recv() => Exit::Interrupted,
                    Some(()) = term.recv() => Exit::Terminated,
                    else => return,
                };
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(exit);
                trigger.fire();
            }
        });
        Ok(Interrupts {
            first,
            cancel,
            task,
        })
    }

    /// The executor's flag.
    pub fn cancel(&self) -> Cancel {
        self.cancel.clone()
    }

    /// The exit code of the first signal, once one has arrived.
    pub fn exit(&self) -> Option<Exit> {
        *self.first.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves with the first signal's exit code.
    pub async fn wait(&self) -> Exit {
        self.cancel.cancelled().await;
        self.exit().unwrap_or(Exit::Interrupted)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_decides_the_exit_code_and_raises_the_flag() {
        let i = Interrupts::install().unwrap();
        assert_eq!(i.exit(), None);
        assert!(!i.cancel().is_cancelled());
        // SAFETY: raise() sends a signal to this very process; the handler
        // installed above keeps it from terminating the test binary.
        unsafe { libc::raise(libc::SIGTERM) };
        let exit = tokio::time::timeout(std::time::Duration::from_secs(5), i.wait())
            .await
            .expect("the signal was not seen");
        assert_eq!(exit, Exit::Terminated);
        assert!(i.cancel().is_cancelled());
    }
}
