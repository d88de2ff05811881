//! Named Engine API version predicates: one function per behaviour that
//! depends on the version the client negotiated (`EngineInfo::api_version`),
//! and the few daemon bugs that only the server version reveals.
//!
//! Owns: the thresholds and why each exists. Must not: talk to Docker or
//! decide what to create. Compose keeps the same table in
//! `pkg/compose/api_versions.go`. Docker 20.10 speaks 1.41; Engine 25 is 1.44.

/// An Engine API version, `(major, minor)`.
pub type ApiVersion = (u32, u32);

/// Several `EndpointsConfig` entries at container create time. Before 1.44
/// the daemon rejects them ("Container cannot be connected to network
/// endpoints: a, b", G4): create with the first network and `connect` the rest.
pub fn multi_network_create(api: ApiVersion) -> bool {
    api >= (1, 44)
}

/// `HealthConfig.StartInterval`. Before 1.44 the daemon silently drops it
/// (G2), so a check the user tuned would run at `interval` instead: refuse.
pub fn start_interval(api: ApiVersion) -> bool {
    api >= (1, 44)
}

/// The `signal` query parameter of `POST /containers/{id}/stop`. Before 1.42
/// it is ignored; we rely on the container's `StopSignal` instead, which
/// every version honours.
pub fn stop_signal_query(api: ApiVersion) -> bool {
    api >= (1, 42)
}

/// `Mount.VolumeOptions.Subpath`. Before 1.45 it is silently ignored (G2),
/// which would mount the whole volume where a subdirectory was asked for:
/// refuse rather than expose more than requested.
pub fn volume_subpath(api: ApiVersion) -> bool {
    api >= (1, 45)
}

/// `Mount.BindOptions.CreateMountpoint`. Before 1.42 a bind mount through the
/// Mounts API fails on a missing host path; the legacy `Binds` strings create
/// it, which is what Compose's `bind.create_host_path` means, so such binds
/// always go through `Binds` (moby#43483).
pub fn bind_create_mountpoint(api: ApiVersion) -> bool {
    api >= (1, 42)
}

/// Per-endpoint `DNSNames` and `GwPriority` (1.45 / 1.48). Older daemons
/// derive DNS names from `Aliases` only; we send aliases and never these.
pub fn endpoint_dns_names(api: ApiVersion) -> bool {
    api >= (1, 45)
}

/// Whether container stops must run one at a time. Engine 20.10 before
/// 20.10.27 locks its network controller and a network in opposite orders
/// when one container's endpoint is deleted while another's leaves the same
/// network (moby/moby#46661, fixed by moby/libnetwork#2679): parallel stops
/// of many containers on one network deadlock the daemon until it is
/// restarted (seen on 20.10.24 with 200 services). Serial stops cost little
/// (the daemon serializes most of a stop anyway: 20 services, 1.5 s vs 1.7 s).
/// A server version, not an API version: 20.10.x all speak 1.41.
pub fn serial_stops(server_version: &str) -> bool {
    let mut parts = server_version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
    let (Some(major), Some(minor), Some(patch)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    (major, minor, patch) < (20, 10, 27)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_are_serial_only_on_engines_with_the_endpoint_delete_deadlock() {
        assert!(serial_stops("20.10.24+dfsg1"));
        assert!(serial_stops("20.10.5"));
        assert!(serial_stops("19.03.15"));
        assert!(!serial_stops("20.10.27"));
        assert!(!serial_stops("24.0.7"));
        assert!(!serial_stops("28.3.0"));
        // Unknown shapes keep the default (parallel).
        assert!(!serial_stops(""));
        assert!(!serial_stops("dev"));
    }

    #[test]
    fn docker_20_10_lacks_the_newer_features() {
        let api = (1, 41);
        assert!(!multi_network_create(api));
        assert!(!start_interval(api));
        assert!(!stop_signal_query(api));
        assert!(!volume_subpath(api));
        assert!(!bind_create_mountpoint(api));
        assert!(!endpoint_dns_names(api));
    }

    #[test]
    fn engine_25_and_later_have_them() {
        assert!(multi_network_create((1, 44)));
        assert!(start_interval((1, 53)));
        assert!(stop_signal_query((1, 42)));
        assert!(volume_subpath((1, 45)));
        assert!(!volume_subpath((1, 44)));
        assert!(multi_network_create((2, 0)));
    }
}
