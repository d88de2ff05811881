//! Image builds and pulls, the pure parts: which images a command builds or
//! pulls (`jobs`), the build context tar (`context`, with `.dockerignore`
//! rules in `ignore`), and reading the classic builder's output (`output`).
//!
//! Must not: talk to the engine, print, or run async code; the executor is
//! `apply::images`, the handlers are `commands::build`.
pub mod context;
pub mod ignore;
pub mod jobs;
pub mod output;
