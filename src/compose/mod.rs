//! Compose files → one validated `Project`. Pure and synchronous: no Docker,
//! no async, no terminal.
//!
//! Stages, in order: `discover` (files, environment, project name) → per file
//! `file` (`read` YAML → `Node`, `interpolate`, `canonical` short → long
//! syntax) → `extends` → `merge` (several `-f` files) → `typing` (into
//! `model`) → `include` → `profiles` → `normalize` → `validate`.
pub mod canonical;
pub mod discover;
pub mod dotenv;
pub mod error;
pub mod extends;
pub mod file;
pub mod graph;
pub mod include;
pub mod interpolate;
pub mod load;
pub mod merge;
pub mod model;
pub mod node;
pub mod normalize;
pub mod profiles;
pub mod read;
pub mod secrets;
pub mod suggest;
pub mod text;
pub mod typed;
pub mod typing;
pub mod units;
pub mod unsupported;
pub mod validate;
pub mod variables;

pub use discover::LoadOptions;
pub use error::{ErrorKind, LoadError};
pub use load::{Loaded, load};
pub use model::Project;
