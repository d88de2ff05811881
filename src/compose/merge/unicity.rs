//! Sequence entries that redefine an earlier one replace it in place
//! (compose-go `override/uncity.go` `EnforceUnicity`): the first position is
//! kept, the last value wins. Compose runs this after every merge, so a
//! single file's own duplicates go too (`ports: ["80:80", "80:80"]`).

use std::collections::HashMap;

use crate::compose::node::{Node, Value};

/// Deduplicate every service of a merged document.
pub fn enforce(root: &mut Node) {
    if let Some(services) = root.get_mut("services").and_then(Node::as_map_mut) {
        for (_, svc) in services.iter_mut() {
            service(svc);
        }
    }
}

/// Deduplicate one service's sequences, by the key Compose indexes them with.
pub(super) fn service(svc: &mut Node) {
    let Some(entries) = svc.as_map_mut() else {
        return;
    };
    for (k, v) in entries.iter_mut() {
        match k.name.as_str() {
            "ports" => dedup(v, port_key),
            "volumes" | "devices" => dedup(v, |n| field(n, "target")),
            "secrets" => dedup(v, |n| mount_key(n, "/run/secrets")),
            "configs" => dedup(v, |n| mount_key(n, "")),
            "env_file" => dedup(v, |n| field(n, "path").or_else(|| n.scalar_text())),
            "expose" => dedup(v, Node::scalar_text),
            "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search" | "links" | "profiles"
            | "tmpfs" => dedup(v, key_value_key),
            "networks" => {
                for (_, net) in v.as_map_mut().into_iter().flatten() {
                    for attr in ["aliases", "link_local_ips"] {
                        if let Some(list) = net.get_mut(attr) {
                            dedup(list, key_value_key);
                        }
                    }
                }
            }
            "build" => {
                if let Some(tags) = v.get_mut("tags") {
                    dedup(tags, key_value_key);
                }
            }
            _ => {}
        }
    }
}

/// Entries without a key (malformed, left for validation) are kept as they are.
fn dedup(node: &mut Node, key: impl Fn(&Node) -> Option<String>) {
    let Value::Seq(items) = &mut node.value else {
        return;
    };
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in std::mem::take(items) {
        match key(&item) {
            Some(k) => match seen.get(&k) {
                Some(&i) => out[i] = item,
                None => {
                    seen.insert(k, out.len());
                    out.push(item);
                }
            },
            None => out.push(item),
        }
    }
    *items = out;
}

fn field(node: &Node, name: &str) -> Option<String> {
    node.get(name).and_then(Node::scalar_text)
}

/// `host_ip:published:target/protocol`, with compose-go's defaults for the
/// missing parts (`0.0.0.0`, `tcp`); `mode` is not part of the key.
fn port_key(node: &Node) -> Option<String> {
    if node.as_map().is_none() {
        return node.scalar_text();
    }
    let target = field(node, "target")?;
    let host = field(node, "host_ip").unwrap_or_else(|| "0.0.0.0".into());
    let published = field(node, "published").unwrap_or_default();
    let protocol = field(node, "protocol").unwrap_or_else(|| "tcp".into());
    Some(format!("{host}:{published}:{target}/{protocol}"))
}

/// A secret or config mount: its target, else where it would be mounted.
fn mount_key(node: &Node, default_dir: &str) -> Option<String> {
    match node.as_map() {
        Some(_) => field(node, "target")
            .or_else(|| Some(format!("{default_dir}/{}", field(node, "source")?))),
        None => Some(format!("{default_dir}/{}", node.scalar_text()?)),
    }
}

/// `KEY=VALUE` entries are keyed by `KEY`; other strings by themselves.
fn key_value_key(node: &Node) -> Option<String> {
    let text = node.scalar_text()?;
    Some(match text.split_once('=') {
        Some((k, _)) => k.to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::enforce;
    use crate::compose::canonical::canonicalize;
    use crate::compose::canonical::testutil::{attr, parse};

    fn unique(body: &str) -> crate::compose::node::Node {
        let mut n = parse(&format!("services:\n  a:\n{body}"));
        canonicalize(&mut n).unwrap();
        enforce(&mut n);
        n
    }

    #[test]
    fn duplicate_ports_in_one_file_collapse_to_the_first_position() {
        let n = unique(
            "    ports: [\"80:80\", \"81:81\", {target: 80, published: \"80\", host_ip: 0.0.0.0, protocol: tcp}]\n",
        );
        assert_eq!(
            attr(&n, "a", "ports"),
            json!([
                {"target": 80, "published": "80", "host_ip": "0.0.0.0", "protocol": "tcp"},
                {"mode": "ingress", "target": 81, "published": "81", "protocol": "tcp"},
            ])
        );
    }

    #[test]
    fn ports_differing_in_protocol_or_host_ip_are_kept() {
        let n =
            unique("    ports: [\"7000:70/udp\", \"7000:70\", \"127.0.0.1:7000:70\", \"70\"]\n");
        assert_eq!(attr(&n, "a", "ports").as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn volumes_and_devices_are_unique_by_target() {
        let n = unique(
            "    volumes: [\"/a:/data\", \"vol:/data:ro\", \"/b:/other\"]\n    devices: [\"/dev/a:/dev/x\", \"/dev/b:/dev/x\"]\n",
        );
        assert_eq!(
            attr(&n, "a", "volumes"),
            json!([
                {"type": "volume", "source": "vol", "target": "/data", "read_only": true, "volume": {}},
                {"type": "bind", "source": "/b", "target": "/other", "bind": {"create_host_path": true}},
            ])
        );
        assert_eq!(
            attr(&n, "a", "devices"),
            json!([{"source": "/dev/b", "target": "/dev/x", "permissions": "rwm"}])
        );
    }

    #[test]
    fn secrets_key_on_default_target_and_configs_on_slash_source() {
        let n = unique(
            "    secrets: [s1, {source: s2, target: /run/secrets/s1}, {source: s3, target: s1}]\n    configs: [c1, {source: c2, target: /c1}]\n",
        );
        assert_eq!(
            attr(&n, "a", "secrets"),
            json!([{"source": "s2", "target": "/run/secrets/s1"}, {"source": "s3", "target": "s1"}])
        );
        assert_eq!(
            attr(&n, "a", "configs"),
            json!([{"source": "c2", "target": "/c1"}])
        );
    }

    #[test]
    fn string_lists_dedup_by_key_before_equals() {
        let n = unique(
            "    dns_search: [a.com, b.com, a.com]\n    cap_add: [NET_ADMIN, NET_ADMIN]\n    expose: [80, \"80\"]\n    tmpfs: [\"/t:size=1\", \"/t:size=2\"]\n    networks: {n: {aliases: [x, x, y]}}\n    env_file: [a.env, {path: a.env, required: false}]\n",
        );
        assert_eq!(attr(&n, "a", "dns_search"), json!(["a.com", "b.com"]));
        assert_eq!(attr(&n, "a", "cap_add"), json!(["NET_ADMIN"]));
        assert_eq!(attr(&n, "a", "expose"), json!(["80"]));
        // compose keys these on the text before `=`: "/t:size".
        assert_eq!(attr(&n, "a", "tmpfs"), json!(["/t:size=2"]));
        assert_eq!(
            attr(&n, "a", "networks"),
            json!({"n": {"aliases": ["x", "y"]}})
        );
        assert_eq!(
            attr(&n, "a", "env_file"),
            json!([{"path": "a.env", "required": false}])
        );
    }

    #[test]
    fn security_opt_and_group_add_are_not_deduplicated() {
        let n = unique("    security_opt: [a, a]\n");
        assert_eq!(attr(&n, "a", "security_opt"), json!(["a", "a"]));
    }
}
