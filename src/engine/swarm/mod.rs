//! The Swarm side of the engine: a second small trait, `SwarmEngine`, for the
//! calls `aistack deploy` makes on a Swarm manager (services, tasks, overlay
//! networks, secrets and configs), with the real implementation on
//! `DockerEngine` (in `engine/docker/swarm.rs`, the only bollard user) and
//! `FakeSwarm` (in memory, for executor tests).
//!
//! Owns: the trait, its data (`types.rs`), the bollard conversions
//! (`convert.rs`) and the host-kernel facts deploy needs (`kernel.rs`).
//! Must not: decide what to create or in which order (`plan::swarm` does),
//! or wait for anything (`apply::swarm` does). One method is one engine call.

use std::future::Future;

pub mod convert;
pub mod fake;
pub mod kernel;
pub mod types;

pub use fake::{FakeSwarm, TaskScript};
pub use types::*;

use super::types::{NetworkSpec, ObservedNetwork, ObservedVolume};
use super::{EngineError, Result};

/// Label filters are `(key, value)` pairs that must all match, as in
/// `Engine`; lists never filter by name (G13).
pub trait SwarmEngine: Send + Sync {
    /// Whether the engine is in a Swarm, and a manager; with the daemon's clock.
    fn swarm_status(&self) -> impl Future<Output = Result<SwarmStatus>> + Send;
    /// Just "is this engine a Swarm manager?", from the cheap `GET /swarm`
    /// (which answers 503 on workers and outside a Swarm), for commands that
    /// only need to know whether to look for a deployed stack.
    fn is_swarm_manager(&self) -> impl Future<Output = Result<bool>> + Send;

    fn list_services(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedService>>> + Send;
    /// Returns the new service's ID. A name in use is a `Conflict`.
    fn create_service(&self, spec: &ServiceSpec) -> impl Future<Output = Result<String>> + Send;
    /// Replaces the spec of service `id`, whose current object version is
    /// `version` (a stale version is a `Conflict`: someone else updated it).
    fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &ServiceSpec,
    ) -> impl Future<Output = Result<()>> + Send;
    /// A service that is already gone is not an error.
    fn remove_service(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    fn inspect_service(&self, id: &str) -> impl Future<Output = Result<ObservedService>> + Send;

    /// Every task of the service the manager still remembers (running ones
    /// and the recent history Swarm keeps), in no particular order.
    fn list_tasks(
        &self,
        service_id: &str,
    ) -> impl Future<Output = Result<Vec<ObservedTask>>> + Send;
    /// The last `tail` lines the task's container wrote (stdout and stderr).
    fn task_logs(
        &self,
        task_id: &str,
        tail: usize,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Networks with these labels (swarm-scoped or not).
    fn list_swarm_networks(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedNetwork>>> + Send;
    /// Returns the network's ID; a name in use is a `Conflict`.
    fn create_swarm_network(
        &self,
        spec: &NetworkSpec,
    ) -> impl Future<Output = Result<String>> + Send;
    /// Gone already is fine; tasks still attached make it `Api { status: 403 }`.
    fn remove_swarm_network(&self, id: &str) -> impl Future<Output = Result<()>> + Send;

    fn list_objects(
        &self,
        kind: ObjectKind,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedObject>>> + Send;
    /// Returns the object's ID; a name in use is a `Conflict`.
    fn create_object(&self, spec: &ObjectSpec) -> impl Future<Output = Result<String>> + Send;
    /// Gone already is fine; still used by a service is a `Conflict`/`Api` error.
    fn remove_object(&self, kind: ObjectKind, id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Names of the containers on this node carrying these labels (task
    /// containers linger a little after their service is removed).
    fn list_local_containers(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    fn list_local_volumes(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ObservedVolume>>> + Send;
    /// Gone already is fine; in use is a `Conflict`.
    fn remove_local_volume(&self, name: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Is this failure "the object is still in use, try again shortly"? Networks
/// answer 403 "has active endpoints" while task containers go away; volumes
/// and secrets answer 409 "in use".
pub fn is_in_use(e: &EngineError) -> bool {
    match e {
        EngineError::Conflict { .. } => true,
        EngineError::Api { status, message } => {
            *status == 403 || message.contains("in use") || message.contains("active endpoints")
        }
        _ => false,
    }
}
