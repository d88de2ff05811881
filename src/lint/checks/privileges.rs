//! What a container may do to its host and itself: `runs-as-root`,
//! `privileged`, `read-only-missing`, `cap-drop-missing`,
//! `no-new-privileges-missing`.

use super::{Context, Finding, Severity, on_service};

fn is_root(user: &str) -> bool {
    let who = user.split(':').next().unwrap_or(user);
    who == "root" || who == "0"
}

fn no_new_privileges(opts: &[String]) -> bool {
    opts.iter().any(|o| {
        let o = o.trim();
        o == "no-new-privileges"
            || o.strip_prefix("no-new-privileges")
                .and_then(|v| v.strip_prefix([':', '=']))
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    })
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (name, svc) in &cx.project.services {
        let at = |path: &[&str]| cx.at.attr(name, path);
        if svc.privileged {
            out.push(on_service(
                "privileged",
                Severity::Error,
                name,
                at(&["privileged"]),
                "runs privileged (privileged: true)",
                "a privileged container has every capability and the host's devices: a compromise of it is a compromise of the host",
                "remove `privileged: true`; add only the capabilities it needs with `cap_add`",
            ));
        }
        if svc.user.is_empty() {
            out.push(on_service(
                "runs-as-root",
                Severity::Warning,
                name,
                cx.at.service(name),
                "no user: set in the compose file",
                "unless the image sets USER, the process runs as root, which widens what a compromise can do",
                "set `user:` to a non-root uid:gid (e.g. \"10001:10001\"); if the image already sets a non-root USER, disable this rule for the service",
            ));
        } else if is_root(&svc.user) {
            out.push(on_service(
                "runs-as-root",
                Severity::Warning,
                name,
                at(&["user"]),
                format!("runs as root (user: {})", svc.user),
                "a process running as root widens what a compromise can do",
                "set `user:` to a non-root uid:gid and give it ownership of what it writes",
            ));
        }
        if !svc.read_only {
            out.push(on_service(
                "read-only-missing",
                Severity::Warning,
                name,
                at(&["read_only"]),
                "the root filesystem is writable (no read_only: true)",
                "an attacker with code execution can modify the container's files and plant tools",
                "set `read_only: true` and mount tmpfs (e.g. /tmp) or volumes where it writes",
            ));
        }
        if !svc.cap_drop.iter().any(|c| c.eq_ignore_ascii_case("ALL")) {
            out.push(on_service(
                "cap-drop-missing",
                Severity::Warning,
                name,
                at(&["cap_drop"]),
                "Linux capabilities are not dropped (no cap_drop: [ALL])",
                "the default set includes capabilities (NET_RAW, CHOWN, SETUID, ...) most services never need",
                "set `cap_drop: [ALL]` and add back only what it needs with `cap_add`",
            ));
        }
        if !no_new_privileges(&svc.security_opt) {
            out.push(on_service(
                "no-new-privileges-missing",
                Severity::Warning,
                name,
                at(&["security_opt"]),
                "processes may gain privileges (no no-new-privileges in security_opt)",
                "setuid binaries in the image can raise a process's privileges after a compromise",
                "add `no-new-privileges:true` to `security_opt`",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_recognized_by_name_and_uid() {
        assert!(is_root("root"));
        assert!(is_root("0:0"));
        assert!(is_root("0"));
        assert!(!is_root("10001:0"));
        assert!(!is_root("www-data"));
    }

    #[test]
    fn no_new_privileges_accepts_the_forms_docker_accepts() {
        assert!(no_new_privileges(&["no-new-privileges:true".into()]));
        assert!(no_new_privileges(&["no-new-privileges=true".into()]));
        assert!(no_new_privileges(&["no-new-privileges".into()]));
        assert!(!no_new_privileges(&["no-new-privileges:false".into()]));
        assert!(!no_new_privileges(&["seccomp=unconfined".into()]));
    }
}
