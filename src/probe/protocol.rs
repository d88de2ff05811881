//! What `aistack verify` asks the probe agent (`aistack __probe REQUEST`)
//! and what the agent answers on stdout, both as JSON.
//!
//! Owns: the two message types, shared by both sides so they cannot drift
//! apart. Must not: resolve, connect or talk to the engine.

use serde::{Deserialize, Serialize};

/// One probe run inside one source's network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Names to resolve with the libc resolver (service names and aliases).
    pub names: Vec<String>,
    /// Addresses to TCP-connect to: only addresses the engine reports for
    /// the project's own containers.
    pub connects: Vec<Connect>,
    /// Deadline of one connection attempt, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Deadline of one lookup, in milliseconds: the engine's DNS never
    /// answers for a name it does not know on an internal network.
    pub lookup_timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Connect {
    pub address: String,
    pub port: u16,
}

/// The agent's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Why names were not looked up at all (the namespace's resolver is not
    /// the engine's embedded DNS); `None` when they were.
    pub lookups_skipped: Option<String>,
    pub lookups: Vec<Lookup>,
    pub connects: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    pub name: String,
    /// The addresses it resolved to (empty: it did not resolve).
    pub addresses: Vec<String>,
    /// Why it did not resolve ("no such name", "no answer within 2 s").
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub address: String,
    pub port: u16,
    pub connected: bool,
    /// Why it did not connect ("refused", "timed out", ...).
    pub error: Option<String>,
}
