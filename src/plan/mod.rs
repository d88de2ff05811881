//! Planning: the loaded project plus one observed snapshot of the engine → a
//! DAG of actions, each one engine call with a cause. Pure and deterministic:
//! no Docker, no async, no terminal.
pub mod action;
pub mod down;
pub mod hash;
pub mod labels;
pub mod observed;
pub mod oneoff;
pub mod spec;
pub mod swarm;
pub mod up;

pub use action::{Action, Node, Plan, WaitFor};
pub use down::{DownOptions, down};
pub use observed::Observed;
pub use up::{UpOptions, up};

/// Why no plan can be made; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no such service: {0}")]
    NoSuchService(String),
    #[error(
        "network \"{key}\" is declared external, but network \"{name}\" does not exist; create it with `docker network create {name}`"
    )]
    ExternalNetworkMissing { key: String, name: String },
    #[error(
        "volume \"{key}\" is declared external, but volume \"{name}\" does not exist; create it with `docker volume create {name}`"
    )]
    ExternalVolumeMissing { key: String, name: String },
    #[error("service \"{service}\": image \"{image}\" is not present locally{}", if *.buildable { "; build it with `aistack build` (or `aistack up` without --no-build)" } else { "; pull it with `aistack pull`, or load or build it (`docker load`, `docker build -t ...`)" })]
    ImageMissing {
        service: String,
        image: String,
        buildable: bool,
    },
}
#[cfg(test)]
mod tests;
