//! Removing a deployed stack: what `down` takes away, found by the stack
//! label alone (the compose files are not needed, and whatever an older
//! deploy left, such as a secret generation, goes too). Pure; `Display` is
//! `down --dry-run` for a deployed stack.

use std::fmt;

use crate::engine::swarm::ObjectKind;
use crate::engine::types::ObservedVolume;

use super::Observed;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    pub stack: String,
    /// (name, id), in name order. Services go first, all at once: Swarm stops
    /// their tasks itself, and nothing depends on the order any more.
    pub services: Vec<(String, String)>,
    /// Then networks, once the tasks' containers are gone.
    pub networks: Vec<(String, String)>,
    pub objects: Vec<(ObjectKind, String, String)>,
    /// Named volumes the tasks created, with `-v` only.
    pub volumes: Vec<String>,
}

impl Removal {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.networks.is_empty()
            && self.objects.is_empty()
            && self.volumes.is_empty()
    }
}

/// `observed` holds what carries the stack label; `volumes` too (pass an
/// empty list without `-v`).
pub fn removal(stack: &str, observed: &Observed, volumes: &[ObservedVolume]) -> Removal {
    let mut r = Removal {
        stack: stack.to_string(),
        services: observed
            .services
            .iter()
            .map(|s| (s.name.clone(), s.id.clone()))
            .collect(),
        networks: observed
            .networks
            .iter()
            .map(|n| (n.name.clone(), n.id.clone()))
            .collect(),
        objects: observed
            .objects
            .iter()
            .map(|(k, o)| (*k, o.name.clone(), o.id.clone()))
            .collect(),
        volumes: volumes.iter().map(|v| v.name.clone()).collect(),
    };
    r.services.sort();
    r.networks.sort();
    r.objects.sort();
    r.volumes.sort();
    r
}

impl fmt::Display for Removal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, _) in &self.services {
            writeln!(f, "service {name}: remove")?;
        }
        for (name, _) in &self.networks {
            writeln!(f, "network {name}: remove (once the tasks are gone)")?;
        }
        for (kind, name, _) in &self.objects {
            writeln!(f, "{} {name}: remove", kind.word())?;
        }
        for name in &self.volumes {
            writeln!(f, "volume {name}: remove")?;
        }
        Ok(())
    }
}
