//! `KEY=VALUE` lists ↔ mappings, and `extra_hosts`.
//!
//! Compose has three flavours of "list or mapping" and they differ only in what
//! `- KEY` (no `=`) or `KEY: null` becomes: `environment` and `build.args`
//! (`MappingWithEquals`) keep null, meaning "take it from the shell"; `labels`,
//! `annotations`, `sysctls` (`Labels`/`Mapping`) read it as "". Values are
//! text: `A: 1` is "1", `B: true` is "true". A key repeated in a list keeps its
//! first position and its last value, as compose's dedup does.

use super::{invalid, key, s, text};
use crate::compose::error::LoadError;
use crate::compose::node::{Key, Node, Scalar, Value};

/// What `- KEY` without `=` means.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Bare {
    /// `environment`, `build.args`: null.
    Null,
    /// labels and friends: "".
    Empty,
    /// `build.additional_contexts`: an error (compose-go `transformKeyValue`).
    Invalid,
}

pub(super) fn key_values(node: &mut Node, attr: &str, bare: Bare) -> Result<(), LoadError> {
    let mut out: Vec<(Key, Node)> = Vec::new();
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let value = match &v.value {
                    Value::Scalar(Scalar::Null) if bare == Bare::Empty => s("", &v.span),
                    Value::Scalar(Scalar::Null) => Node::null(v.span.clone()),
                    Value::Scalar(sc) => s(sc.to_text(), &v.span),
                    _ => {
                        return Err(invalid(
                            &v.span,
                            format!(
                                "`{attr}.{}` must be a string, number, boolean or null, found {}",
                                k.name,
                                v.kind()
                            ),
                        ));
                    }
                };
                let mut value = value;
                value.tag = v.tag;
                out.push((k.clone(), value));
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(entry) = item.as_str() else {
                    return Err(invalid(
                        &item.span,
                        format!(
                            "`{attr}` entries must be \"KEY=VALUE\" strings, found {}",
                            item.kind()
                        ),
                    ));
                };
                let (name, value) = match entry.split_once('=') {
                    Some((k, v)) => (k, s(v, &item.span)),
                    None => match bare {
                        Bare::Null => (entry, Node::null(item.span.clone())),
                        Bare::Empty => (entry, s("", &item.span)),
                        Bare::Invalid => {
                            return Err(invalid(
                                &item.span,
                                format!("invalid `{attr}` entry \"{entry}\", expected KEY=VALUE"),
                            ));
                        }
                    },
                };
                if attr == "environment" {
                    check_env_name(name, entry, item)?;
                }
                match out.iter_mut().find(|(k, _)| k.name == name) {
                    Some(slot) => slot.1 = value,
                    None => out.push((key(name, &item.span), value)),
                }
            }
        }
        _ => {
            return Err(invalid(
                &node.span,
                format!(
                    "`{attr}` must be a mapping or a list of \"KEY=VALUE\" strings, found {}",
                    node.kind()
                ),
            ));
        }
    }
    node.value = Value::Map(out);
    Ok(())
}

fn check_env_name(name: &str, entry: &str, item: &Node) -> Result<(), LoadError> {
    if name.is_empty() {
        return Err(invalid(
            &item.span,
            format!("environment entry \"{entry}\" has no variable name"),
        ));
    }
    // compose-go: "environment variable A  is declared with a trailing space".
    if name.ends_with(char::is_whitespace) {
        return Err(invalid(
            &item.span,
            format!("environment variable \"{name}\" is declared with a trailing space"),
        )
        .with_hint(format!(
            "remove the space: \"{}\"",
            entry.replacen(name, name.trim_end(), 1)
        )));
    }
    Ok(())
}

/// `extra_hosts` → a list of `host=ip` strings, one per address, the way
/// Compose prints them: `host:ip` and `host=ip` both accepted (`=` wins when
/// both appear, so `h:::1` is host `h`, address `::1`), a list entry may hold
/// `ip1,ip2`, a mapping value may be a string or a list, brackets around an
/// address are dropped (compose-go `types.HostsList`).
pub(super) fn extra_hosts(node: &mut Node) -> Result<(), LoadError> {
    const HINT: &str = "use \"HOST=IP\" (or \"HOST:IP\") entries, or a mapping HOST: IP";
    let mut out: Vec<Node> = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for item in items {
                let Some(entry) = text(item) else {
                    return Err(invalid(
                        &item.span,
                        format!(
                            "an `extra_hosts` entry must be a string, found {}",
                            item.kind()
                        ),
                    )
                    .with_hint(HINT));
                };
                let Some((host, ips)) = entry.split_once('=').or_else(|| entry.split_once(':'))
                else {
                    return Err(invalid(
                        &item.span,
                        format!("invalid additional host, missing IP: {entry}"),
                    )
                    .with_hint(HINT));
                };
                for ip in ips.split(',') {
                    out.push(host_entry(host, ip, item)?);
                }
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                match &v.value {
                    Value::Scalar(Scalar::Str(ip)) => out.push(host_entry(&k.name, ip, v)?),
                    Value::Seq(ips) => {
                        for ip in ips {
                            let Some(t) = text(ip) else {
                                return Err(invalid(
                                    &ip.span,
                                    format!("`extra_hosts.{}` entries must be strings", k.name),
                                ));
                            };
                            out.push(host_entry(&k.name, &t, ip)?);
                        }
                    }
                    _ => {
                        return Err(invalid(
                            &v.span,
                            format!(
                                "`extra_hosts.{}` must be a string, found {}",
                                k.name,
                                v.kind()
                            ),
                        )
                        .with_hint(HINT));
                    }
                }
            }
        }
        _ => {
            return Err(invalid(
                &node.span,
                format!(
                    "`extra_hosts` must be a list or a mapping, found {}",
                    node.kind()
                ),
            )
            .with_hint(HINT));
        }
    }
    node.value = Value::Seq(out);
    Ok(())
}

fn host_entry(host: &str, ip: &str, at: &Node) -> Result<Node, LoadError> {
    if host.is_empty() || host.contains([':', '=']) {
        return Err(invalid(&at.span, format!("bad host name '{host}'")));
    }
    let ip = match ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => ip,
    };
    Ok(s(format!("{host}={ip}"), &at.span))
}

/// `build.ssh: [default, "key=/path"]` → `{default: null, key: /path}`
/// (compose-go `transform/ssh.go`).
pub(super) fn ssh(node: &mut Node) -> Result<(), LoadError> {
    let Value::Seq(items) = &node.value else {
        if node.as_map().is_some() {
            return Ok(());
        }
        return Err(invalid(
            &node.span,
            format!(
                "`build.ssh` must be a list or a mapping, found {}",
                node.kind()
            ),
        ));
    };
    let mut out: Vec<(Key, Node)> = Vec::new();
    for item in items {
        let Some(entry) = item.as_str() else {
            return Err(invalid(
                &item.span,
                format!("invalid ssh key type: {}", item.kind()),
            ));
        };
        let (id, value) = match entry.split_once('=') {
            Some((id, path)) => (id, s(path, &item.span)),
            None if entry == "default" => (entry, Node::null(item.span.clone())),
            None => {
                return Err(invalid(&item.span, format!("invalid ssh key \"{entry}\""))
                    .with_hint("use \"default\" or \"ID=/path/to/key\""));
            }
        };
        out.push((key(id, &item.span), value));
    }
    node.value = Value::Map(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testutil::attr;
    use super::super::testutil::{canonical_error as error, canonical_service as service};

    #[test]
    fn environment_list_becomes_map_with_null_for_bare_names() {
        let n = service("    environment: [A=1, B, \"C=\", D=x=y, A=2]\n");
        assert_eq!(
            attr(&n, "a", "environment"),
            json!({"A": "2", "B": null, "C": "", "D": "x=y"})
        );
    }

    #[test]
    fn environment_map_values_become_text_and_null_stays() {
        let n = service("    environment: {A: 1, B: true, C: null, D: 1.5, E: \"\"}\n");
        assert_eq!(
            attr(&n, "a", "environment"),
            json!({"A": "1", "B": "true", "C": null, "D": "1.5", "E": ""})
        );
    }

    #[test]
    fn labels_annotations_and_sysctls_read_bare_names_as_empty() {
        let n = service(
            "    labels: [l1=a, l2]\n    annotations: {an: null}\n    sysctls: [net.core.somaxconn=1024, x]\n",
        );
        assert_eq!(attr(&n, "a", "labels"), json!({"l1": "a", "l2": ""}));
        assert_eq!(attr(&n, "a", "annotations"), json!({"an": ""}));
        assert_eq!(
            attr(&n, "a", "sysctls"),
            json!({"net.core.somaxconn": "1024", "x": ""})
        );
    }

    #[test]
    fn build_args_keep_null_and_build_labels_read_empty() {
        let n = service("    build: {context: ., args: [K=V, K2], labels: [bl]}\n");
        assert_eq!(
            attr(&n, "a", "build"),
            json!({"context": ".", "args": {"K": "V", "K2": null}, "labels": {"bl": ""}})
        );
    }

    #[test]
    fn environment_errors_name_the_entry() {
        let e = error("    environment: [1]\n");
        assert!(
            e.message
                .contains("\"KEY=VALUE\" strings, found an integer"),
            "{}",
            e.message
        );
        assert_eq!(e.service.as_deref(), Some("a"));
        let e = error("    environment: [\"A =1\"]\n");
        assert!(e.message.contains("trailing space"), "{}", e.message);
        let e = error("    environment: [\"B \"]\n");
        assert!(e.message.contains("trailing space"), "{}", e.message);
        let e = error("    environment: {A: [1]}\n");
        assert!(
            e.message.contains("`environment.A` must be a string"),
            "{}",
            e.message
        );
        let e = error("    environment: \"A=1\"\n");
        assert!(
            e.message.contains("must be a mapping or a list"),
            "{}",
            e.message
        );
    }

    #[test]
    fn extra_hosts_become_host_equals_ip_entries() {
        let n = service(
            "    extra_hosts: [\"h1:1.2.3.4\", \"h2=::1\", \"h3:::1\", \"x=[1.2.3.4]\", \"m=1.1.1.1,2.2.2.2\"]\n",
        );
        assert_eq!(
            attr(&n, "a", "extra_hosts"),
            json!([
                "h1=1.2.3.4",
                "h2=::1",
                "h3=::1",
                "x=1.2.3.4",
                "m=1.1.1.1",
                "m=2.2.2.2"
            ])
        );
        let n = service("    extra_hosts: {h1: [1.1.1.1, 2.2.2.2], h2: \"[::1]\"}\n");
        assert_eq!(
            attr(&n, "a", "extra_hosts"),
            json!(["h1=1.1.1.1", "h1=2.2.2.2", "h2=::1"])
        );
    }

    #[test]
    fn extra_hosts_errors_match_compose() {
        assert!(
            error("    extra_hosts: [nohost]\n")
                .message
                .contains("invalid additional host, missing IP: nohost")
        );
        assert!(
            error("    extra_hosts: [\"=1.1.1.1\"]\n")
                .message
                .contains("bad host name ''")
        );
        assert!(
            error("    extra_hosts: {h: null}\n")
                .message
                .contains("`extra_hosts.h` must be a string")
        );
    }

    #[test]
    fn build_ssh_list_becomes_map() {
        let n = service("    build: {context: ., ssh: [default, \"k=/p\"]}\n");
        assert_eq!(
            attr(&n, "a", "build")["ssh"],
            json!({"default": null, "k": "/p"})
        );
        assert!(
            error("    build: {ssh: [nope]}\n")
                .message
                .contains("invalid ssh key \"nope\"")
        );
    }

    #[test]
    fn additional_contexts_require_key_equals_value() {
        let n = service("    build: {additional_contexts: [foo=./foo]}\n");
        assert_eq!(
            attr(&n, "a", "build")["additional_contexts"],
            json!({"foo": "./foo"})
        );
        assert!(
            error("    build: {additional_contexts: [foo]}\n")
                .message
                .contains("expected KEY=VALUE")
        );
    }

    #[test]
    fn override_tag_survives_list_to_map_rewrite() {
        let n = service("    environment: !override [A=1]\n");
        let env = n
            .get("services")
            .and_then(|s| s.get("a"))
            .and_then(|a| a.get("environment"))
            .unwrap();
        assert_eq!(env.tag, Some(crate::compose::node::Tag::Override));
    }
}
