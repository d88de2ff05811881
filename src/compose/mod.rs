//! Compose files → one validated `Project`. Pure and synchronous: no Docker,
//! no async, no terminal. Stages: `read` (YAML → `Node`), `interpolate`,
//! `canonical` (short → long syntax), `extends`, `merge` (several files),
//! then typing into `model` and `normalize`/`validate`.
pub mod canonical;
pub mod dotenv;
pub mod error;
pub mod extends;
pub mod graph;
pub mod interpolate;
pub mod merge;
pub mod node;
pub mod read;
pub mod typed;
pub mod units;
