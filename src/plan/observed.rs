//! The one snapshot a plan is built from: what the engine reports for this
//! project (found by label, names compared exactly), taken once before planning.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::types::{ContainerState, ObservedContainer, ObservedNetwork, ObservedVolume};

use super::labels;

#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Networks labelled with the project, plus external networks the project names.
    pub networks: Vec<ObservedNetwork>,
    pub volumes: Vec<ObservedVolume>,
    /// Containers labelled with the project (one-offs included; filter with `is_oneoff`).
    pub containers: Vec<ObservedContainer>,
    /// Image references present locally (for "missing image" errors before anything is created).
    pub images: BTreeSet<String>,
    /// Image reference → local image ID, where known: a container running
    /// another ID than its image's current one is recreated (a rebuild, a
    /// pull), as Compose does.
    pub image_ids: BTreeMap<String, String>,
}

impl Observed {
    /// Whether `c` runs an older image than `image` names now.
    pub fn image_changed(&self, c: &ObservedContainer, image: &str) -> bool {
        self.image_ids
            .get(image)
            .is_some_and(|id| !c.image_id.is_empty() && *id != c.image_id)
    }

    pub fn network(&self, name: &str) -> Option<&ObservedNetwork> {
        self.networks.iter().find(|n| n.name == name)
    }

    pub fn volume(&self, name: &str) -> Option<&ObservedVolume> {
        self.volumes.iter().find(|v| v.name == name)
    }

    /// The service containers of `service` (not one-offs), by container number.
    pub fn service_containers(&self, service: &str) -> Vec<&ObservedContainer> {
        let mut out: Vec<&ObservedContainer> = self
            .containers
            .iter()
            .filter(|c| {
                !is_oneoff(c) && c.labels.get(labels::SERVICE).map(String::as_str) == Some(service)
            })
            .collect();
        out.sort_by_key(|c| number(c));
        out
    }
}

pub fn is_oneoff(c: &ObservedContainer) -> bool {
    c.labels.get(labels::ONEOFF).map(String::as_str) == Some("True")
}

pub fn number(c: &ObservedContainer) -> u32 {
    c.labels
        .get(labels::NUMBER)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn hash(c: &ObservedContainer) -> &str {
    c.labels
        .get(labels::AISTACK_HASH)
        .or_else(|| c.labels.get(labels::COMPOSE_HASH))
        .map(String::as_str)
        .unwrap_or("")
}

pub fn is_running(c: &ObservedContainer) -> bool {
    matches!(
        c.state,
        ContainerState::Running | ContainerState::Restarting
    )
}
