//! One service's attributes, short → long (the `services.*.…` entries of
//! compose-go `transform/canonical.go`, plus the short forms `types` decodes:
//! `healthcheck.test` strings, `environment`/`labels` lists, `ulimits` ints).
//! Every error names the service.

use super::mapping::{Bare, extra_hosts, key_values, ssh};
use super::{boolean, int, invalid, key, ports, s, set, string_or_list, text, volumes};
use crate::compose::error::LoadError;
use crate::compose::node::{Key, Node, Scalar, Value};

pub(super) fn service(name: &str, svc: &mut Node) -> Result<(), LoadError> {
    let Some(entries) = svc.as_map_mut() else {
        return Ok(());
    };
    for (k, value) in entries.iter_mut() {
        if value.is_null() {
            continue;
        }
        attribute(&k.name, value).map_err(|e| e.with_service(name))?;
    }
    Ok(())
}

fn attribute(attr: &str, value: &mut Node) -> Result<(), LoadError> {
    match attr {
        "ports" => ports::ports(value),
        "volumes" => volumes::volumes(value),
        "environment" => key_values(value, attr, Bare::Null),
        "labels" | "annotations" | "sysctls" => key_values(value, attr, Bare::Empty),
        "extra_hosts" => extra_hosts(value),
        "depends_on" => depends_on(value),
        "env_file" => env_file(value),
        "dns" | "dns_search" | "tmpfs" | "label_file" => {
            string_or_list(value);
            Ok(())
        }
        "networks" | "models" => names_to_map(value, attr),
        "build" => build(value),
        "secrets" | "configs" => file_mounts(value, attr),
        "extends" => extends(value),
        "ulimits" => ulimits(value, "ulimits"),
        "healthcheck" => healthcheck(value),
        "devices" => devices(value),
        "gpus" => gpus(value),
        "expose" => expose(value),
        "deploy" => labels_at(value, "labels", "deploy.labels"),
        "develop" => develop(value),
        _ => Ok(()),
    }
}

/// `depends_on: [db]` → `{db: {condition: service_started, required: true}}`.
/// A mapping entry keeps only what is written: compose fills the defaults after
/// merging, so an override's `{required: false}` must not reset the condition.
fn depends_on(node: &mut Node) -> Result<(), LoadError> {
    match &node.value {
        Value::Seq(items) => {
            let mut out: Vec<(Key, Node)> = Vec::new();
            for item in items {
                let Some(name) = item.as_str() else {
                    return Err(invalid(
                        &item.span,
                        format!(
                            "`depends_on` entries must be service names, found {}",
                            item.kind()
                        ),
                    ));
                };
                if out.iter().any(|(k, _)| k.name == name) {
                    continue;
                }
                let sp = &item.span;
                let entry = Node::map(
                    vec![
                        (key("condition", sp), s("service_started", sp)),
                        (key("required", sp), boolean(true, sp)),
                    ],
                    sp.clone(),
                );
                out.push((key(name, sp), entry));
            }
            set(node, Value::Map(out));
            Ok(())
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                if v.as_map().is_none() {
                    return Err(invalid(&v.span, format!("`depends_on.{}` must be a mapping, found {}", k.name, v.kind()))
                        .with_hint("write `condition: service_started` (or service_healthy, service_completed_successfully)"));
                }
            }
            Ok(())
        }
        _ => Err(invalid(
            &node.span,
            format!(
                "`depends_on` must be a list or a mapping, found {}",
                node.kind()
            ),
        )
        .with_hint("write `depends_on: [db]`")),
    }
}

/// `env_file: .env` → `[{path: .env, required: true}]`.
fn env_file(node: &mut Node) -> Result<(), LoadError> {
    string_or_list(node);
    let Value::Seq(items) = &mut node.value else {
        return Err(invalid(
            &node.span,
            format!(
                "`env_file` must be a string or a list, found {}",
                node.kind()
            ),
        ));
    };
    for item in items.iter_mut() {
        let sp = item.span.clone();
        match &item.value {
            Value::Scalar(Scalar::Str(path)) => {
                let path = s(path.clone(), &sp);
                item.value = Value::Map(vec![
                    (key("path", &sp), path),
                    (key("required", &sp), boolean(true, &sp)),
                ]);
            }
            Value::Map(_) => {
                if item.get("required").is_none() {
                    item.insert(key("required", &sp), boolean(true, &sp));
                }
            }
            _ => {
                return Err(invalid(
                    &sp,
                    format!(
                        "an `env_file` entry must be a path or a mapping, found {}",
                        item.kind()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `networks: [front]` → `{front: null}`.
fn names_to_map(node: &mut Node, attr: &str) -> Result<(), LoadError> {
    let Value::Seq(items) = &node.value else {
        return Ok(());
    };
    let mut out: Vec<(Key, Node)> = Vec::new();
    for item in items {
        let Some(name) = item.as_str() else {
            return Err(invalid(
                &item.span,
                format!("`{attr}` entries must be names, found {}", item.kind()),
            ));
        };
        if !out.iter().any(|(k, _)| k.name == name) {
            out.push((key(name, &item.span), Node::null(item.span.clone())));
        }
    }
    set(node, Value::Map(out));
    Ok(())
}

/// `build: ./dir` → `{context: ./dir}`. No default `context` is added to a
/// mapping: an override's `build: {dockerfile: x}` must keep the base context.
fn build(node: &mut Node) -> Result<(), LoadError> {
    if let Value::Scalar(Scalar::Str(_)) = node.value {
        let context = Node::new(node.value.clone(), node.span.clone());
        set(
            node,
            Value::Map(vec![(key("context", &node.span), context)]),
        );
        return Ok(());
    }
    if node.as_map().is_none() {
        return Err(invalid(
            &node.span,
            format!("`build` must be a path or a mapping, found {}", node.kind()),
        ));
    }
    let sub = |n: &mut Node, attr: &str| -> Result<(), LoadError> {
        match attr {
            "args" => key_values(n, "build.args", Bare::Null),
            "labels" => key_values(n, "build.labels", Bare::Empty),
            "additional_contexts" => key_values(n, "build.additional_contexts", Bare::Invalid),
            "extra_hosts" => extra_hosts(n),
            "ssh" => ssh(n),
            "secrets" => file_mounts(n, "build.secrets"),
            "ulimits" => ulimits(n, "build.ulimits"),
            _ => Ok(()),
        }
    };
    if let Some(entries) = node.as_map_mut() {
        for (k, v) in entries.iter_mut() {
            if !v.is_null() {
                sub(v, &k.name)?;
            }
        }
    }
    Ok(())
}

/// `secrets: [db_pass]` → `[{source: db_pass}]`; the target default is applied later.
fn file_mounts(node: &mut Node, attr: &str) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut node.value else {
        return Err(invalid(
            &node.span,
            format!("`{attr}` must be a list, found {}", node.kind()),
        ));
    };
    for item in items.iter_mut() {
        match &item.value {
            Value::Scalar(Scalar::Str(source)) => {
                let source = s(source.clone(), &item.span);
                item.value = Value::Map(vec![(key("source", &item.span), source)]);
            }
            Value::Map(_) => {}
            _ => {
                return Err(invalid(
                    &item.span,
                    format!(
                        "`{attr}` entries must be names or mappings, found {}",
                        item.kind()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `extends: base` → `{service: base}`.
fn extends(node: &mut Node) -> Result<(), LoadError> {
    match &node.value {
        Value::Scalar(Scalar::Str(_)) => {
            let service = Node::new(node.value.clone(), node.span.clone());
            set(
                node,
                Value::Map(vec![(key("service", &node.span), service)]),
            );
            Ok(())
        }
        Value::Map(_) => Ok(()),
        _ => Err(invalid(
            &node.span,
            format!(
                "`extends` must be a service name or a mapping, found {}",
                node.kind()
            ),
        )
        .with_hint("write `extends: base` or `extends: {file: base.yaml, service: base}`")),
    }
}

/// `ulimits: {nproc: 65535}` → `{nproc: {single: 65535}}` (soft = hard = 65535).
fn ulimits(node: &mut Node, attr: &str) -> Result<(), LoadError> {
    let Some(entries) = node.as_map_mut() else {
        return Err(invalid(
            &node.span,
            format!("`{attr}` must be a mapping, found {}", node.kind()),
        ));
    };
    for (k, v) in entries.iter_mut() {
        let n = match &v.value {
            Value::Map(_) | Value::Scalar(Scalar::Null) => continue,
            Value::Scalar(Scalar::Int(n)) => Some(*n),
            // Interpolation leaves text: `nofile: ${NOFILE}`.
            Value::Scalar(Scalar::Str(t)) => t.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(n) = n else {
            return Err(invalid(
                &v.span,
                format!(
                    "`{attr}.{}` must be a number or {{soft, hard}}, found {}",
                    k.name,
                    v.kind()
                ),
            )
            .with_hint("write `nofile: 65535` or `nofile: {soft: 1024, hard: 65535}`"));
        };
        let sp = v.span.clone();
        // compose-go keeps a bare number as `single` and prints it back bare.
        set(v, Value::Map(vec![(key("single", &sp), int(n, &sp))]));
    }
    Ok(())
}

/// `healthcheck.test: curl -f x` → `["CMD-SHELL", "curl -f x"]`.
fn healthcheck(node: &mut Node) -> Result<(), LoadError> {
    if let Some(test) = node.get_mut("test")
        && let Value::Scalar(Scalar::Str(cmd)) = &test.value
    {
        let sp = test.span.clone();
        let items = vec![s("CMD-SHELL", &sp), s(cmd.clone(), &sp)];
        set(test, Value::Seq(items));
    }
    Ok(())
}

/// `devices: ["/dev/a:/dev/b:r"]` → `{source, target, permissions}`
/// (compose-go `transform/device.go`: permissions default to `rwm`).
fn devices(node: &mut Node) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut node.value else {
        return Err(invalid(
            &node.span,
            format!("`devices` must be a list, found {}", node.kind()),
        ));
    };
    for item in items.iter_mut() {
        let Some(spec) = item.as_str().map(str::to_string) else {
            if item.as_map().is_some() {
                continue;
            }
            return Err(invalid(
                &item.span,
                format!(
                    "a device must be a string or a mapping, found {}",
                    item.kind()
                ),
            ));
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, target, permissions) = match parts.as_slice() {
            [src] => (*src, *src, "rwm"),
            [src, dst] => (*src, *dst, "rwm"),
            [src, dst, perm] => (*src, *dst, *perm),
            _ => {
                return Err(invalid(
                    &item.span,
                    format!("confusing device mapping, please use long syntax: {spec}"),
                )
                .with_hint("write `{source: /dev/x, target: /dev/y, permissions: rwm}`"));
            }
        };
        let target = if target.is_empty() { source } else { target };
        let sp = item.span.clone();
        item.value = Value::Map(vec![
            (key("source", &sp), s(source, &sp)),
            (key("target", &sp), s(target, &sp)),
            (key("permissions", &sp), s(permissions, &sp)),
        ]);
    }
    Ok(())
}

/// `gpus: all` → `[{count: all}]` (compose-go `transform/gpus.go`).
fn gpus(node: &mut Node) -> Result<(), LoadError> {
    if node.as_str().is_some() {
        let sp = node.span.clone();
        set(
            node,
            Value::Seq(vec![Node::map(
                vec![(key("count", &sp), s("all", &sp))],
                sp.clone(),
            )]),
        );
    }
    Ok(())
}

/// `expose: [80, "81"]` → text, so `80` and `"80"` are the same port when merged.
fn expose(node: &mut Node) -> Result<(), LoadError> {
    if let Value::Seq(items) = &mut node.value {
        for item in items.iter_mut() {
            if let Value::Scalar(Scalar::Int(_)) = item.value
                && let Some(t) = text(item)
            {
                item.value = Value::Scalar(Scalar::Str(t));
            }
        }
    }
    Ok(())
}

fn labels_at(node: &mut Node, child: &str, attr: &str) -> Result<(), LoadError> {
    match node.get_mut(child) {
        Some(labels) if !labels.is_null() => key_values(labels, attr, Bare::Empty),
        _ => Ok(()),
    }
}

/// `develop.watch` entries with a list of paths become one entry per path.
fn develop(node: &mut Node) -> Result<(), LoadError> {
    let Some(Value::Seq(items)) = node.get_mut("watch").map(|w| &mut w.value) else {
        return Ok(());
    };
    let mut out = Vec::with_capacity(items.len());
    for item in std::mem::take(items) {
        match item.get("path").and_then(Node::as_seq) {
            Some(paths) => {
                for p in paths.clone() {
                    let mut one = item.clone();
                    one.insert(key("path", &p.span), p);
                    out.push(one);
                }
            }
            None => out.push(item),
        }
    }
    *items = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::canonicalize;
    use super::super::testutil::{attr, parse};

    use super::super::testutil::{canonical_error as error, canonical_service as service};

    #[test]
    fn depends_on_list_becomes_map_with_started_and_required() {
        let n = service("    depends_on: [b, c]\n");
        let want = json!({"condition": "service_started", "required": true});
        assert_eq!(attr(&n, "a", "depends_on"), json!({"b": want, "c": want}));
    }

    #[test]
    fn depends_on_mapping_keeps_only_what_is_written() {
        let n = service("    depends_on: {b: {condition: service_healthy}}\n");
        assert_eq!(
            attr(&n, "a", "depends_on"),
            json!({"b": {"condition": "service_healthy"}})
        );
        assert!(
            error("    depends_on: {b: null}\n")
                .message
                .contains("`depends_on.b` must be a mapping")
        );
        assert!(
            error("    depends_on: b\n")
                .message
                .contains("must be a list or a mapping")
        );
    }

    #[test]
    fn env_file_string_and_list_become_path_required_entries() {
        let n = service("    env_file: .env\n");
        assert_eq!(
            attr(&n, "a", "env_file"),
            json!([{"path": ".env", "required": true}])
        );
        let n = service(
            "    env_file: [a.env, {path: b.env, required: false}, {path: c.env, format: raw}]\n",
        );
        assert_eq!(
            attr(&n, "a", "env_file"),
            json!([
                {"path": "a.env", "required": true},
                {"path": "b.env", "required": false},
                {"path": "c.env", "format": "raw", "required": true},
            ])
        );
        assert!(
            error("    env_file: 1\n")
                .message
                .contains("`env_file` must be a string or a list")
        );
    }

    #[test]
    fn networks_list_becomes_map_with_null_values() {
        let n = service("    networks: [n1, n2]\n");
        assert_eq!(attr(&n, "a", "networks"), json!({"n1": null, "n2": null}));
        let n = service("    networks: {n1: {aliases: [x]}, n2: null}\n");
        assert_eq!(
            attr(&n, "a", "networks"),
            json!({"n1": {"aliases": ["x"]}, "n2": null})
        );
    }

    #[test]
    fn build_string_becomes_context_and_mapping_gets_no_default_context() {
        assert_eq!(
            attr(&service("    build: ./ctx\n"), "a", "build"),
            json!({"context": "./ctx"})
        );
        assert_eq!(
            attr(&service("    build: {dockerfile: D}\n"), "a", "build"),
            json!({"dockerfile": "D"})
        );
        assert!(
            error("    build: 1\n")
                .message
                .contains("`build` must be a path or a mapping")
        );
    }

    #[test]
    fn secrets_and_configs_names_become_source_entries() {
        let n = service(
            "    secrets: [s1, {source: s2, target: /t}]\n    configs: [c1]\n    build: {secrets: [bs]}\n",
        );
        assert_eq!(
            attr(&n, "a", "secrets"),
            json!([{"source": "s1"}, {"source": "s2", "target": "/t"}])
        );
        assert_eq!(attr(&n, "a", "configs"), json!([{"source": "c1"}]));
        assert_eq!(attr(&n, "a", "build")["secrets"], json!([{"source": "bs"}]));
    }

    #[test]
    fn extends_string_becomes_service_mapping() {
        assert_eq!(
            attr(&service("    extends: b\n"), "a", "extends"),
            json!({"service": "b"})
        );
        assert!(
            error("    extends: [b]\n")
                .message
                .contains("`extends` must be a service name")
        );
    }

    #[test]
    fn ulimits_int_becomes_single_limit() {
        let n = service("    ulimits: {nproc: 65535, nofile: {soft: 1, hard: 2}, core: \"0\"}\n");
        assert_eq!(
            attr(&n, "a", "ulimits"),
            json!({"nproc": {"single": 65535}, "nofile": {"soft": 1, "hard": 2}, "core": {"single": 0}})
        );
        assert!(
            error("    ulimits: {nproc: lots}\n")
                .message
                .contains("`ulimits.nproc` must be a number")
        );
    }

    #[test]
    fn string_or_list_attributes_become_lists() {
        let n = service(
            "    dns: 8.8.8.8\n    dns_search: example.com\n    tmpfs: /run\n    label_file: ./l\n",
        );
        assert_eq!(attr(&n, "a", "dns"), json!(["8.8.8.8"]));
        assert_eq!(attr(&n, "a", "dns_search"), json!(["example.com"]));
        assert_eq!(attr(&n, "a", "tmpfs"), json!(["/run"]));
        assert_eq!(attr(&n, "a", "label_file"), json!(["./l"]));
    }

    #[test]
    fn healthcheck_test_string_becomes_cmd_shell() {
        let n = service("    healthcheck: {test: curl -f http://localhost, interval: 10s}\n");
        assert_eq!(
            attr(&n, "a", "healthcheck"),
            json!({"test": ["CMD-SHELL", "curl -f http://localhost"], "interval": "10s"})
        );
        let n = service("    healthcheck: {test: [CMD, x]}\n");
        assert_eq!(attr(&n, "a", "healthcheck"), json!({"test": ["CMD", "x"]}));
    }

    #[test]
    fn devices_become_source_target_permissions() {
        let n = service("    devices: [\"/dev/a\", \"/dev/b:/dev/c\", \"/dev/d:/dev/e:r\"]\n");
        assert_eq!(
            attr(&n, "a", "devices"),
            json!([
                {"source": "/dev/a", "target": "/dev/a", "permissions": "rwm"},
                {"source": "/dev/b", "target": "/dev/c", "permissions": "rwm"},
                {"source": "/dev/d", "target": "/dev/e", "permissions": "r"},
            ])
        );
        assert!(
            error("    devices: [\"a:b:c:d\"]\n")
                .message
                .contains("confusing device mapping")
        );
    }

    #[test]
    fn gpus_expose_deploy_labels_and_watch_paths() {
        let n = service(
            "    gpus: all\n    expose: [80, \"81\"]\n    deploy: {labels: [a=1]}\n    develop: {watch: [{path: [./a, ./b], action: sync}]}\n",
        );
        assert_eq!(attr(&n, "a", "gpus"), json!([{"count": "all"}]));
        assert_eq!(attr(&n, "a", "expose"), json!(["80", "81"]));
        assert_eq!(attr(&n, "a", "deploy"), json!({"labels": {"a": "1"}}));
        assert_eq!(
            attr(&n, "a", "develop"),
            json!({"watch": [{"path": "./a", "action": "sync"}, {"path": "./b", "action": "sync"}]})
        );
    }

    #[test]
    fn null_and_reset_values_are_left_for_merge() {
        let mut n = parse(
            "services:\n  a:\n    ports: !reset null\n    build:\n    environment: !reset []\n  b: !reset\n",
        );
        canonicalize(&mut n).unwrap();
        let a = n.get("services").and_then(|s| s.get("a")).unwrap();
        assert!(
            a.get("ports")
                .is_some_and(|p| p.is_null() && p.tag == Some(crate::compose::node::Tag::Reset))
        );
        assert!(a.get("build").is_some_and(|b| b.is_null()));
        assert_eq!(
            a.get("environment").map(|e| e.tag),
            Some(Some(crate::compose::node::Tag::Reset))
        );
    }

    #[test]
    fn new_nodes_take_the_span_of_their_source() {
        let n = service("    depends_on:\n      - b\n    build: ./ctx\n");
        let a = n.get("services").and_then(|s| s.get("a")).unwrap();
        let dep = a.get("depends_on").and_then(|d| d.get("b")).unwrap();
        assert_eq!(dep.span.line, 5);
        assert_eq!(dep.get("condition").map(|c| c.span.line), Some(5));
        assert_eq!(
            a.get("build")
                .and_then(|b| b.get("context"))
                .map(|c| c.span.line),
            Some(6)
        );
    }
}
