//! aistack: a Compose-compatible stack orchestrator.
pub mod compose;
