//! Attribute names Compose accepts that aistack does not run yet, so typing can
//! tell "misspelled" from "not supported" and never drop an attribute silently.

/// Service attributes in the Compose specification (compose-go `ServiceConfig`).
pub const COMPOSE_SERVICE_ATTRIBUTES: &[&str] = &[
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
    "command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
    "cpu_rt_period", "cpu_rt_runtime", "cpus", "cpuset", "cpu_shares", "credential_spec", "depends_on",
    "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
    "entrypoint", "env_file", "environment", "expose", "extends", "external_links", "extra_hosts",
    "gpus", "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file",
    "labels", "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "models", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
    "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles", "provider",
    "pull_policy", "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets",
    "security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt",
    "sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts",
    "volume_driver", "volumes", "volumes_from", "working_dir",
];

/// Top-level attributes of a compose file.
pub const COMPOSE_TOP_LEVEL: &[&str] =
    &["version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"];

/// Whether `field` is valid Compose in a service (so an unknown-field error means "unsupported").
pub fn is_compose_service_attribute(field: &str) -> bool {
    COMPOSE_SERVICE_ATTRIBUTES.contains(&field)
}
