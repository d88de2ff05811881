//! aistack: a Compose-compatible stack orchestrator.
//!
//! The spine: `commands` → `compose` (files → one validated `Project`, pure)
//! → `plan` → `apply` → `engine` (the only module that talks to Docker);
//! `report` owns what the user reads. `exit` decides exit codes.
pub mod apply;
pub mod build;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod engine;
pub mod exit;
pub mod lint;
pub mod logging;
pub mod plan;
pub mod probe;
pub mod report;
#[cfg(test)]
pub(crate) mod testutil;
pub mod verify;

/// Context marker on errors whose diagnostic was already printed.
pub const REPORTED: &str = "(reported above)";
