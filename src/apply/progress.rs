//! What the executor tells the outside world while it runs: one event per
//! state transition of a plan node. The sink is implemented by `report`
//! (terminal bars, plain CI lines, JSON); the executor never prints.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Started,
    Done,
    /// For waits: which check decided (`engine health check`, `eager probe`, `state`).
    DoneBy(String),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    /// The node id (`create:demo-web-1`, `wait:redis:healthy`).
    pub id: String,
    pub kind: &'static str,
    pub service: Option<String>,
    pub phase: Phase,
    /// Time since the executor started.
    pub elapsed: Duration,
}

pub trait ProgressSink: Send + Sync {
    fn event(&self, ev: ProgressEvent);
}

/// Discards events (for tests and `--progress quiet`).
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn event(&self, _ev: ProgressEvent) {}
}

/// Collects events (for tests).
#[derive(Default)]
pub struct Recorder(pub std::sync::Mutex<Vec<ProgressEvent>>);

impl ProgressSink for Recorder {
    fn event(&self, ev: ProgressEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(ev);
        }
    }
}
