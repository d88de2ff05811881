//! The config hash that decides "unchanged or recreate": sha256 of the
//! canonical JSON of what makes a container. Stable across Rust versions
//! (never `DefaultHasher`), and versioned so a change of what it covers is a
//! deliberate, documented recreate.

use sha2::{Digest, Sha256};

use crate::compose::model::Service;

/// Bump when the hashed form changes, so upgrades recreate on purpose, not by accident.
const HASH_FORMAT: &str = "aistack-hash-v1";

/// Hash of a service's container-relevant configuration. Fields that do not
/// change a container (scale, replicas, depends_on, profiles, build, pull
/// policy, extensions) are left out, as Compose leaves them out.
pub fn service(svc: &Service) -> String {
    let mut s = svc.clone();
    s.scale = None;
    if let Some(d) = &mut s.deploy {
        d.replicas = None;
    }
    s.depends_on.clear();
    s.profiles.clear();
    s.build = None;
    s.pull_policy.clear();
    s.extensions.clear();
    let json = serde_json::to_vec(&s).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(HASH_FORMAT.as_bytes());
    h.update([0]);
    h.update(&json);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_and_dependencies_do_not_change_the_hash() {
        let mut a = Service {
            image: "busybox".into(),
            ..Default::default()
        };
        let h = service(&a);
        a.scale = Some(3);
        a.profiles.push("debug".into());
        assert_eq!(service(&a), h);
        a.environment.insert("A".into(), Some("1".into()));
        assert_ne!(service(&a), h);
    }

    #[test]
    fn hash_is_64_hex_chars() {
        let h = service(&Service::default());
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
