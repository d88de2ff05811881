//! The rule catalogue: every lint rule's stable id, default severity, one-line
//! title and help text (SARIF `tool.driver.rules`, README, `--disable`
//! validation). Owns names only; the checks themselves live in `checks/`.

use serde::Serialize;

use crate::compose::suggest::did_you_mean;

/// How much a finding matters. Only `Error` (and `Warning` with `--strict`)
/// makes `aistack lint` exit with the findings code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    /// The severity most of its findings get; a finding may be lower (a port
    /// published on 127.0.0.1, an image the file builds itself).
    pub severity: Severity,
    /// Off unless asked for with `--enable`.
    pub default_off: bool,
    pub title: &'static str,
    pub help: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "db-port-published",
        severity: Severity::Error,
        default_off: false,
        title: "A database or cache publishes a port on the host",
        help: "Databases and caches (postgres, mysql, mongo, redis, qdrant, elasticsearch, ...) are reached by service name on a shared network; remove their `ports:`. Publishing on 127.0.0.1 is reported as a warning.",
    },
    Rule {
        id: "privileged",
        severity: Severity::Error,
        default_off: false,
        title: "A service runs privileged",
        help: "`privileged: true` gives the container every capability and the host's devices; remove it and add only the capabilities the service needs with `cap_add`.",
    },
    Rule {
        id: "runs-as-root",
        severity: Severity::Warning,
        default_off: false,
        title: "A service runs as root",
        help: "Set `user:` to a non-root uid:gid. The image may set USER itself, but lint only sees the compose file.",
    },
    Rule {
        id: "image-unpinned",
        severity: Severity::Warning,
        default_off: false,
        title: "An image has no pinned tag",
        help: "Use a specific tag (python:3.12.4-slim, not python or python:latest) so a pull cannot change what runs. Images the file builds, or with pull_policy never/build, are reported as info.",
    },
    Rule {
        id: "image-no-digest",
        severity: Severity::Info,
        default_off: true,
        title: "An image is not pinned by digest",
        help: "Off by default (`--enable image-no-digest`). Add @sha256:... to the image so even a re-pushed tag cannot change what runs.",
    },
    Rule {
        id: "read-only-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "The root filesystem is writable",
        help: "Set `read_only: true` and give the service tmpfs or volumes for the paths it writes.",
    },
    Rule {
        id: "cap-drop-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "Capabilities are not dropped",
        help: "Set `cap_drop: [ALL]` and add back only what the service needs with `cap_add`.",
    },
    Rule {
        id: "no-new-privileges-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "Processes may gain new privileges",
        help: "Add `no-new-privileges:true` to `security_opt` so setuid binaries cannot raise privileges.",
    },
    Rule {
        id: "resource-limits-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "No memory or CPU limit",
        help: "Set deploy.resources.limits.memory and .cpus (or mem_limit and cpus) so one runaway container cannot starve the others.",
    },
    Rule {
        id: "restart-policy-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "A long-running service has no restart policy",
        help: "Set `restart: unless-stopped` (or deploy.restart_policy) so the service survives crashes and reboots.",
    },
    Rule {
        id: "log-rotation-missing",
        severity: Severity::Warning,
        default_off: false,
        title: "Logs are not rotated",
        help: "With the json-file driver (Docker's default) set logging.options max-size and max-file, or use the local driver, which rotates by default.",
    },
    Rule {
        id: "healthcheck-missing",
        severity: Severity::Error,
        default_off: false,
        title: "A service others wait on as healthy has no health check",
        help: "Define a healthcheck on every service that others wait on with `condition: service_healthy`. If the image has its own HEALTHCHECK, disable this rule for the service.",
    },
    Rule {
        id: "healthcheck-slow-start",
        severity: Severity::Warning,
        default_off: false,
        title: "A health check with a long interval and no start period",
        help: "The first probe runs only after `interval` (30s by default): set start_period and start_interval, or a shorter interval.",
    },
    Rule {
        id: "literal-secret",
        severity: Severity::Error,
        default_off: false,
        title: "A secret is written literally in the compose file",
        help: "Take secrets from the environment or .env by interpolation (${VAR:?set VAR}), from env_file, or from `secrets:`; never write them in the compose file. The value is never printed.",
    },
    Rule {
        id: "env-file-not-ignored",
        severity: Severity::Error,
        default_off: false,
        title: "A .env file next to the compose file is not ignored by git",
        help: "Add .env to .gitignore (and remove it from the index if it was committed); commit a .env.example instead.",
    },
    Rule {
        id: "network-not-internal",
        severity: Severity::Warning,
        default_off: false,
        title: "A backend network is not internal",
        help: "A network whose services publish no port and need no outside access should be `internal: true`, so a compromised container cannot reach the internet or the host.",
    },
];

pub fn get(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The closest rule id, for "did you mean" hints.
pub fn nearest(id: &str) -> Option<&'static str> {
    did_you_mean(id, RULES.iter().map(|r| r.id)).or_else(|| {
        // Ids are long; a prefix or a word in common is the likelier intent.
        RULES
            .iter()
            .find(|r| r.id.starts_with(id) || (id.len() >= 4 && r.id.contains(id)))
            .map(|r| r.id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn a_misspelled_rule_id_gets_the_nearest_one() {
        assert_eq!(nearest("privilegd"), Some("privileged"));
        assert_eq!(nearest("db-ports-published"), Some("db-port-published"));
        assert_eq!(nearest("literal-secrets"), Some("literal-secret"));
        assert_eq!(nearest("healthcheck"), Some("healthcheck-missing"));
        assert_eq!(nearest("zzz"), None);
    }
}
