//! `ports:` short syntax → one long-form entry per container port.
//!
//! Mirrors compose-go `transform/ports.go` → `types.ParsePortConfig` →
//! go-connections `nat.ParsePortSpec`, quirks included: a range expands to one
//! entry per port, sorted as *text* ("10000/tcp" before "9999/tcp"), ports keep
//! no leading zeros ("01:080" → published "1", target 80), `1-2-3` reads as
//! `1-2`, and a single container port with a host range keeps the range as its
//! `published` value. Errors use go-connections' wording.

use std::net::IpAddr;

use super::{int, invalid, key, s};
use crate::compose::error::LoadError;
use crate::compose::node::{Node, Scalar, Span, Value};

const HINT: &str = "use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], for example \"8080:80\", \
                    \"127.0.0.1:8080:80/udp\" or \"9000-9001:9000-9001\", or the long syntax with `target:`";

/// Port bindings one file's `ports:` may expand to, all services together:
/// every port of one protocol. A range is one entry per port, so a few lines
/// of `"1-65535:1-65535"` would otherwise make millions of entries.
pub(super) const MAX_BINDINGS: usize = 65_536;

/// The error for a file whose `ports:` expand beyond `MAX_BINDINGS`.
pub(super) fn too_many(span: &Span) -> LoadError {
    invalid(
        span,
        format!("`ports` expand to more than {MAX_BINDINGS} port bindings in this file"),
    )
    .with_hint("each port of a range is one binding; publish each range once")
}

/// One binding parsed from the short syntax.
#[derive(Debug, PartialEq)]
struct Binding {
    host_ip: String,
    published: String,
    target: u16,
    protocol: String,
}

pub(super) fn ports(node: &mut Node) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut node.value else {
        return Err(invalid(
            &node.span,
            format!("`ports` must be a list, found {}", node.kind()),
        )
        .with_hint(HINT));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in std::mem::take(items) {
        let raw = match &item.value {
            Value::Scalar(Scalar::Str(text)) => text.clone(),
            // `- 80`, also through a YAML alias: compose reads the number as text.
            Value::Scalar(Scalar::Int(i)) => i.to_string(),
            Value::Map(_) => {
                out.push(long_form(item));
                continue;
            }
            _ => {
                return Err(invalid(
                    &item.span,
                    format!(
                        "a port must be a string, a number or a mapping, found {}",
                        item.kind()
                    ),
                )
                .with_hint(HINT));
            }
        };
        let bindings = parse(&raw).map_err(|why| {
            invalid(&item.span, format!("invalid port \"{raw}\": {why}")).with_hint(HINT)
        })?;
        if out.len() + bindings.len() > MAX_BINDINGS {
            return Err(too_many(&item.span));
        }
        out.extend(bindings.into_iter().map(|b| binding_node(b, &item.span)));
    }
    node.value = Value::Seq(out);
    Ok(())
}

/// Long syntax stays as written, except that `published` is text and a numeric
/// `target` is a number, so entries written either way compare equal in `merge`.
fn long_form(mut item: Node) -> Node {
    if let Some(p) = item.get_mut("published")
        && let Value::Scalar(Scalar::Int(i)) = p.value
    {
        p.value = Value::Scalar(Scalar::Str(i.to_string()));
    }
    if let Some(t) = item.get_mut("target")
        && let Some(n) = t.as_str().and_then(|s| s.parse::<i64>().ok())
    {
        t.value = Value::Scalar(Scalar::Int(n));
    }
    item
}

fn binding_node(b: Binding, span: &Span) -> Node {
    let mut entries = vec![(key("mode", span), s("ingress", span))];
    if !b.host_ip.is_empty() {
        entries.push((key("host_ip", span), s(b.host_ip, span)));
    }
    entries.push((key("target", span), int(i64::from(b.target), span)));
    if !b.published.is_empty() {
        entries.push((key("published", span), s(b.published, span)));
    }
    entries.push((key("protocol", span), s(b.protocol, span)));
    Node::map(entries, span.clone())
}

/// A `--publish` value (`docker run -p`, `compose run -p`) → ports, read as
/// compose-go's `ParsePortConfig` reads the short syntax; errors are
/// go-connections' text.
pub fn published(raw: &str) -> Result<Vec<crate::compose::model::Port>, String> {
    Ok(parse(raw)?
        .into_iter()
        .map(|b| crate::compose::model::Port {
            mode: "ingress".into(),
            host_ip: b.host_ip,
            target: u32::from(b.target),
            published: b.published,
            protocol: b.protocol,
            ..Default::default()
        })
        .collect())
}

/// `[ip:][host:]container[/proto]` → bindings, or go-connections' error text.
fn parse(raw: &str) -> Result<Vec<Binding>, String> {
    let (ip, host, container) = split_parts(raw);
    let (container, protocol) = match container.split_once('/') {
        Some((port, proto)) => (port, if proto.is_empty() { "tcp" } else { proto }),
        None => (container, "tcp"),
    };
    // An empty container port yields an empty protocol in go-connections, which
    // is why `"80:"` fails with "invalid proto: ".
    let protocol = if container.is_empty() {
        String::new()
    } else {
        protocol.to_lowercase()
    };
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {protocol}"));
    }
    let ip = host_ip(&ip)?;
    let (start, end) =
        port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        let r = port_range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?;
        // A host range is allowed against a single container port (Docker picks
        // a free one); two ranges must have the same length.
        if end - start != r.1 - r.0 && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container} and {host}"
            ));
        }
        r
    };
    let count = u32::from(end - start) + 1;
    let mut bindings = Vec::with_capacity(count as usize);
    for i in 0..count {
        let target = u32::from(start) + i;
        if target == 0 {
            return Err("the container port must be between 1 and 65535".into());
        }
        let published = if host.is_empty() {
            String::new()
        } else if count == 1 && host_start != host_end {
            format!("{host_start}-{host_end}")
        } else {
            (u32::from(host_start) + i).to_string()
        };
        bindings.push(Binding {
            host_ip: ip.clone(),
            published,
            target: u16::try_from(target).unwrap_or(u16::MAX),
            protocol: protocol.clone(),
        });
    }
    // compose-go sorts the "port/proto" keys as strings.
    bindings.sort_by_key(|b| format!("{}/{}", b.target, b.protocol));
    Ok(bindings)
}

/// Split on `:` the way go-connections does: the last two fields are the host
/// and container ports, everything before is the IP (IPv6 keeps its colons).
fn split_parts(raw: &str) -> (String, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        [c] => (String::new(), "", c),
        [h, c] => (String::new(), h, c),
        [ip @ .., h, c] => (ip.join(":"), h, c),
        [] => (String::new(), "", ""),
    }
}

fn host_ip(ip: &str) -> Result<String, String> {
    let ip = if let Some(rest) = ip.strip_prefix('[') {
        // `[::1]`: brackets are stripped, as net.SplitHostPort does.
        match rest.strip_suffix(']') {
            Some(inner) if !inner.contains(['[', ']']) => inner,
            _ => return Err(format!("invalid IP address {ip}: missing ']' in address")),
        }
    } else {
        ip
    };
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    Ok(ip.to_string())
}

/// go-connections `ParsePortRange`: "80" or "8000-8010"; only the first two
/// `-` fields count.
fn port_range(text: &str) -> Option<(u16, u16)> {
    if !text.contains('-') {
        let p = port_number(text)?;
        return Some((p, p));
    }
    let mut parts = text.split('-');
    let start = port_number(parts.next()?)?;
    let end = port_number(parts.next()?)?;
    (end >= start).then_some((start, end))
}

/// Go's `strconv.ParseUint(s, 10, 16)`: ASCII digits only, no sign.
fn port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::canonicalize;
    use super::super::testutil::{attr, parse};
    use crate::compose::error::ErrorKind;

    fn ports(list: &str) -> serde_json::Value {
        let mut n = parse(&format!(
            "services:\n  a:\n    image: x\n    ports: {list}\n"
        ));
        canonicalize(&mut n).unwrap();
        attr(&n, "a", "ports")
    }

    fn port_error(list: &str) -> crate::compose::error::LoadError {
        let mut n = parse(&format!(
            "services:\n  a:\n    image: x\n    ports:\n      - {list}\n"
        ));
        canonicalize(&mut n).unwrap_err()
    }

    #[test]
    fn one_full_range_expands_but_a_second_is_refused_before_it_is_built() {
        let p = ports(r#"["1-65535:1-65535"]"#);
        assert_eq!(p.as_array().map(Vec::len), Some(65_535));
        let e = port_error(
            r#""1-65535:1-65535"
      - "1-65535:1-65535/udp""#,
        );
        assert!(e.message.contains("more than 65536 port bindings"), "{e}");
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(6), "{e}");
    }

    #[test]
    fn the_binding_limit_counts_every_service_of_the_file() {
        let mut text = String::from("services:\n");
        for i in 0..3 {
            text.push_str(&format!(
                "  s{i}:\n    image: x\n    ports: [\"1-30000:1-30000\"]\n"
            ));
        }
        let e = canonicalize(&mut parse(&text)).unwrap_err();
        assert_eq!(e.service.as_deref(), Some("s2"), "{e}");
        assert!(e.message.contains("more than 65536 port bindings"), "{e}");
    }

    #[test]
    fn short_forms_become_long_entries_as_the_oracle_prints_them() {
        assert_eq!(
            ports(
                r#"["8080", "8080:80", "127.0.0.1:8080:80/udp", "[::1]:80:80", 81, "127.0.0.1::80", "80/sctp"]"#
            ),
            json!([
                {"mode": "ingress", "target": 8080, "protocol": "tcp"},
                {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
                {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "udp"},
                {"mode": "ingress", "host_ip": "::1", "target": 80, "published": "80", "protocol": "tcp"},
                {"mode": "ingress", "target": 81, "protocol": "tcp"},
                {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "protocol": "tcp"},
                {"mode": "ingress", "target": 80, "protocol": "sctp"},
            ])
        );
    }

    #[test]
    fn ports_range_expands_to_one_entry_per_port() {
        assert_eq!(
            ports(r#"["9000-9001:9000-9001", "1.2.3.4:8080-8081:80-81/tcp"]"#),
            json!([
                {"mode": "ingress", "target": 9000, "published": "9000", "protocol": "tcp"},
                {"mode": "ingress", "target": 9001, "published": "9001", "protocol": "tcp"},
                {"mode": "ingress", "host_ip": "1.2.3.4", "target": 80, "published": "8080", "protocol": "tcp"},
                {"mode": "ingress", "host_ip": "1.2.3.4", "target": 81, "published": "8081", "protocol": "tcp"},
            ])
        );
    }

    #[test]
    fn ports_range_is_sorted_as_text_like_compose() {
        let p = ports(r#"["9999-10001:9999-10001"]"#);
        let targets: Vec<_> = p
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["target"].clone())
            .collect();
        assert_eq!(targets, vec![json!(10000), json!(10001), json!(9999)]);
    }

    #[test]
    fn host_range_on_one_container_port_is_kept_as_published_range() {
        assert_eq!(
            ports(r#"["8000-8002:80", "1-2-3:80", "01:080", ":80"]"#),
            json!([
                {"mode": "ingress", "target": 80, "published": "8000-8002", "protocol": "tcp"},
                {"mode": "ingress", "target": 80, "published": "1-2", "protocol": "tcp"},
                {"mode": "ingress", "target": 80, "published": "1", "protocol": "tcp"},
                {"mode": "ingress", "target": 80, "protocol": "tcp"},
            ])
        );
    }

    #[test]
    fn protocol_is_lowercased() {
        assert_eq!(
            ports(r#"["80/TCP"]"#),
            json!([{"mode": "ingress", "target": 80, "protocol": "tcp"}])
        );
    }

    #[test]
    fn long_syntax_is_kept_with_published_as_text() {
        assert_eq!(
            ports(
                "[{target: 80, published: 8080, host_ip: 0.0.0.0}, {target: \"81\", published: \"9000-9001\"}]"
            ),
            json!([
                {"target": 80, "published": "8080", "host_ip": "0.0.0.0"},
                {"target": 81, "published": "9000-9001"},
            ])
        );
    }

    #[test]
    fn ports_through_yaml_alias_ints_are_handled() {
        let mut n = parse("x-p: &p 80\nservices:\n  a:\n    image: x\n    ports: [*p]\n");
        canonicalize(&mut n).unwrap();
        assert_eq!(
            attr(&n, "a", "ports"),
            json!([{"mode": "ingress", "target": 80, "protocol": "tcp"}])
        );
    }

    #[test]
    fn bad_container_port_is_an_error_at_the_value_naming_the_service() {
        let e = port_error("\"80:abc\"");
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert_eq!(e.service.as_deref(), Some("a"));
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(5));
        assert!(
            e.message.contains("invalid containerPort: abc"),
            "{}",
            e.message
        );
        assert!(e.hint.as_deref().unwrap_or("").contains("HOST_PORT"));
    }

    #[test]
    fn bad_port_messages_match_compose_wording() {
        let cases = [
            ("\"1-a:80\"", "invalid hostPort: 1-a"),
            ("\"80/xyz\"", "invalid proto: xyz"),
            ("\"1.2.3.4.5:80:80\"", "invalid IP address: 1.2.3.4.5"),
            ("\"70000\"", "invalid containerPort: 70000"),
            ("\"80-70:80-70\"", "invalid containerPort: 80-70"),
            (
                "\"80:80-81\"",
                "invalid ranges specified for container and host Ports: 80-81 and 80",
            ),
            (
                "\"80-81:90-92\"",
                "invalid ranges specified for container and host Ports: 90-92 and 80-81",
            ),
            ("\"80:\"", "invalid proto: "),
            ("\"\"", "invalid proto: "),
            ("\"+80\"", "invalid containerPort: +80"),
            ("\" 80\"", "invalid containerPort:  80"),
            ("-1", "invalid containerPort: -1"),
            ("\"[::1:80:80\"", "invalid IP address [::1"),
            ("\"0\"", "between 1 and 65535"),
        ];
        for (input, want) in cases {
            let e = port_error(input);
            assert!(e.message.contains(want), "{input}: {}", e.message);
        }
    }

    #[test]
    fn ports_of_wrong_type_are_errors_not_panics() {
        assert!(
            port_error("1.5")
                .message
                .contains("must be a string, a number or a mapping")
        );
        assert!(port_error("true").message.contains("found a boolean"));
        let mut n = parse("services:\n  a:\n    ports: \"80:80\"\n");
        assert!(
            canonicalize(&mut n)
                .unwrap_err()
                .message
                .contains("must be a list")
        );
    }

    #[test]
    fn ports_tag_is_kept_on_the_rewritten_list() {
        let mut n = parse("services:\n  a:\n    ports: !override [\"80:80\"]\n");
        canonicalize(&mut n).unwrap();
        let p = n
            .get("services")
            .and_then(|s| s.get("a"))
            .and_then(|a| a.get("ports"))
            .unwrap();
        assert_eq!(p.tag, Some(crate::compose::node::Tag::Override));
        assert_eq!(p.as_seq().map(|s| s[0].span.line), Some(3));
    }

    proptest::proptest! {
        #[test]
        fn any_port_text_parses_or_errors_without_panicking(text in "[0-9a-z:/\\[\\]. -]{0,24}") {
            let _ = super::parse(&text);
        }
    }
}
