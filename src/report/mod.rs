//! Everything the user reads: diagnostics with source excerpts, warnings,
//! progress (terminal and plain CI lines), log prefixes.
pub mod build;
pub mod diagnostic;
pub mod logs;
pub mod progress;
pub mod redact;
pub mod swarm;
pub mod verify;
