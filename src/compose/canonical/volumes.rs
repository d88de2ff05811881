//! `services.*.volumes` short syntax → long form (compose-go `format.ParseVolume`
//! then `transform/volume.go`).
//!
//! Quirks kept on purpose, as the oracle shows them: a single letter before `:`
//! is a Windows drive (`v:/n:z` is a bind of `v:/n` on target `z`), unknown
//! options are ignored, specs of one or two bytes are anonymous volumes, and
//! the target is `path.Clean`ed. Sources are kept as written: `./x`, `~/x` and
//! `../x` are resolved against the project directory later.

use super::{boolean, invalid, key, s};
use crate::compose::error::LoadError;
use crate::compose::node::{Node, Scalar, Span, Value};

const HINT: &str = "use [SOURCE:]TARGET[:MODE], for example \"./data:/data:ro\" or \"dbdata:/var/lib/db\", \
                    or the long syntax with `type:`, `source:` and `target:`";

#[derive(Debug, Default, PartialEq)]
struct Mount {
    bind_type: bool,
    source: String,
    target: String,
    read_only: bool,
    bind: Option<Bind>,
    nocopy: Option<bool>,
}

#[derive(Debug, Default, PartialEq)]
struct Bind {
    propagation: String,
    selinux: String,
    create_host_path: bool,
}

pub(super) fn volumes(node: &mut Node) -> Result<(), LoadError> {
    let Value::Seq(items) = &mut node.value else {
        return Err(invalid(
            &node.span,
            format!("`volumes` must be a list, found {}", node.kind()),
        )
        .with_hint(HINT));
    };
    for item in items.iter_mut() {
        match &item.value {
            Value::Scalar(Scalar::Str(spec)) => {
                let mount = parse(spec).map_err(|why| invalid(&item.span, why).with_hint(HINT))?;
                item.value = mount_value(mount, &item.span);
            }
            Value::Map(_) => {}
            _ => {
                return Err(invalid(
                    &item.span,
                    format!(
                        "a volume must be a string or a mapping, found {}",
                        item.kind()
                    ),
                )
                .with_hint(HINT));
            }
        }
    }
    Ok(())
}

fn mount_value(m: Mount, span: &Span) -> Value {
    let mut entries = vec![(
        key("type", span),
        s(if m.bind_type { "bind" } else { "volume" }, span),
    )];
    if !m.source.is_empty() {
        entries.push((key("source", span), s(m.source, span)));
    }
    if !m.target.is_empty() {
        entries.push((key("target", span), s(m.target, span)));
    }
    if m.read_only {
        entries.push((key("read_only", span), boolean(true, span)));
    }
    if let Some(b) = m.bind {
        let mut bind = Vec::new();
        if !b.propagation.is_empty() {
            bind.push((key("propagation", span), s(b.propagation, span)));
        }
        if b.create_host_path {
            bind.push((key("create_host_path", span), boolean(true, span)));
        }
        if !b.selinux.is_empty() {
            bind.push((key("selinux", span), s(b.selinux, span)));
        }
        entries.push((key("bind", span), Node::map(bind, span.clone())));
    }
    if let Some(nocopy) = m.nocopy {
        let volume = if nocopy {
            vec![(key("nocopy", span), boolean(true, span))]
        } else {
            Vec::new()
        };
        entries.push((key("volume", span), Node::map(volume, span.clone())));
    }
    Value::Map(entries)
}

fn parse(spec: &str) -> Result<Mount, String> {
    let mut m = Mount::default();
    match spec.len() {
        0 => return Err("invalid empty volume spec".into()),
        // compose-go returns early here: a volume without `volume: {}`.
        1 | 2 => {
            m.target = clean_path(spec);
            return Ok(m);
        }
        _ => {}
    }
    let bytes = spec.as_bytes();
    let mut buffer: Vec<char> = Vec::new();
    let mut in_var = 0usize;
    for (i, ch) in spec.char_indices() {
        // `${...}` (left by `$${...}` escapes) may hold colons that do not split.
        if ch == '$' && bytes.get(i + 1) == Some(&b'{') {
            in_var += 1;
            buffer.push(ch);
        } else if ch == '}' && in_var > 0 {
            in_var -= 1;
            buffer.push(ch);
        } else if is_windows_drive(&buffer, ch) {
            buffer.push(ch);
        } else if ch == ':' && in_var == 0 {
            field(false, &buffer, &mut m).map_err(|e| format!("invalid spec: {spec}: {e}"))?;
            buffer.clear();
        } else {
            buffer.push(ch);
        }
    }
    if in_var == 0 {
        field(true, &buffer, &mut m).map_err(|e| format!("invalid spec: {spec}: {e}"))?;
    }
    if is_file_path(&m.source) {
        m.bind_type = true;
        m.bind.get_or_insert_with(Bind::default).create_host_path = true;
    } else if m.nocopy.is_none() {
        m.nocopy = Some(false);
    }
    if !m.target.is_empty() {
        m.target = clean_path(&m.target);
    }
    Ok(m)
}

/// One `:`-separated field: source, then target, then the options.
fn field(at_end: bool, buffer: &[char], m: &mut Mount) -> Result<(), &'static str> {
    if buffer.is_empty() {
        return Err("empty section between colons");
    }
    let text: String = buffer.iter().collect();
    if m.source.is_empty() && at_end {
        m.target = text; // anonymous volume
    } else if m.source.is_empty() {
        m.source = text;
    } else if m.target.is_empty() {
        m.target = text;
    } else if !at_end {
        return Err("too many colons");
    } else {
        for option in text.split(',') {
            match option {
                "ro" => m.read_only = true,
                "rw" => m.read_only = false,
                "nocopy" => m.nocopy = Some(true),
                "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                    m.bind.get_or_insert_with(Bind::default).propagation = option.to_string();
                }
                "z" | "Z" => m.bind.get_or_insert_with(Bind::default).selinux = option.to_string(),
                // compose-go ignores options it does not know.
                _ => {}
            }
        }
    }
    Ok(())
}

fn is_windows_drive(buffer: &[char], ch: char) -> bool {
    ch == ':' && buffer.len() == 1 && buffer[0].is_alphabetic()
}

/// A bind mount source: `.`, `/`, `~`, `\\pipe` or `C:`.
fn is_file_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) || source.starts_with("\\\\") {
        return true;
    }
    let mut chars = source.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(':')) => first.is_alphabetic(),
        _ => false,
    }
}

/// Go's `path.Clean`: lexical, `/`-separated.
pub(crate) fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::canonicalize;
    use super::super::testutil::{attr, parse};
    use super::clean_path;

    fn volumes(list: &str) -> serde_json::Value {
        let mut n = parse(&format!(
            "services:\n  a:\n    image: x\n    volumes: {list}\n"
        ));
        canonicalize(&mut n).unwrap();
        attr(&n, "a", "volumes")
    }

    fn volume_error(item: &str) -> crate::compose::error::LoadError {
        let mut n = parse(&format!(
            "services:\n  a:\n    image: x\n    volumes:\n      - {item}\n"
        ));
        canonicalize(&mut n).unwrap_err()
    }

    #[test]
    fn bind_named_and_anonymous_volumes_are_told_apart() {
        assert_eq!(
            volumes(
                r#"["/abs:/data:ro,z", "./rel:/rel", "~/home:/home/x:rw", "named:/named:nocopy", "/anon", "named2:/n2:ro"]"#
            ),
            json!([
                {"type": "bind", "source": "/abs", "target": "/data", "read_only": true,
                 "bind": {"selinux": "z", "create_host_path": true}},
                {"type": "bind", "source": "./rel", "target": "/rel", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "~/home", "target": "/home/x", "bind": {"create_host_path": true}},
                {"type": "volume", "source": "named", "target": "/named", "volume": {"nocopy": true}},
                {"type": "volume", "target": "/anon", "volume": {}},
                {"type": "volume", "source": "named2", "target": "/n2", "read_only": true, "volume": {}},
            ])
        );
    }

    #[test]
    fn relative_sources_are_kept_and_targets_cleaned() {
        assert_eq!(
            volumes(
                r#"["../up:/up/:ro", ".:/dot", "/a/./b/../c:/x/./y/", "/x:/y:shared", "/x:/z:foo"]"#
            ),
            json!([
                {"type": "bind", "source": "../up", "target": "/up", "read_only": true, "bind": {"create_host_path": true}},
                {"type": "bind", "source": ".", "target": "/dot", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "/a/./b/../c", "target": "/x/y", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "/x", "target": "/y", "bind": {"propagation": "shared", "create_host_path": true}},
                {"type": "bind", "source": "/x", "target": "/z", "bind": {"create_host_path": true}},
            ])
        );
    }

    #[test]
    fn short_specs_and_drive_letters_follow_compose_quirks() {
        assert_eq!(
            volumes(
                r#"["/a", "ab", "a:b", "v:/n:z", "C:\\foo:/win", "/x:/y:nocopy", "vol:relative"]"#
            ),
            json!([
                {"type": "volume", "target": "/a"},
                {"type": "volume", "target": "ab"},
                {"type": "volume", "target": "a:b", "volume": {}},
                {"type": "bind", "source": "v:/n", "target": "z", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "C:\\foo", "target": "/win", "bind": {"create_host_path": true}},
                {"type": "bind", "source": "/x", "target": "/y", "bind": {"create_host_path": true},
                 "volume": {"nocopy": true}},
                {"type": "volume", "source": "vol", "target": "relative", "volume": {}},
            ])
        );
    }

    #[test]
    fn long_syntax_volumes_are_untouched() {
        assert_eq!(
            volumes("[{type: bind, source: ./x, target: /y/}]"),
            json!([{"type": "bind", "source": "./x", "target": "/y/"}])
        );
    }

    #[test]
    fn bad_volume_specs_are_errors_with_compose_wording() {
        let cases = [
            ("\":/x\"", "invalid spec: :/x: empty section between colons"),
            (
                "\"/a::/b\"",
                "invalid spec: /a::/b: empty section between colons",
            ),
            (
                "\"/a:/b:ro:x\"",
                "invalid spec: /a:/b:ro:x: too many colons",
            ),
            (
                "\"/a:/b:\"",
                "invalid spec: /a:/b:: empty section between colons",
            ),
            ("\"\"", "invalid empty volume spec"),
            (
                "1",
                "a volume must be a string or a mapping, found an integer",
            ),
        ];
        for (input, want) in cases {
            let e = volume_error(input);
            assert_eq!(e.message, want, "{input}");
            assert_eq!(e.service.as_deref(), Some("a"));
            assert_eq!(e.span.as_ref().map(|s| s.line), Some(5));
            assert!(e.hint.is_some());
        }
    }

    #[test]
    fn clean_path_matches_go_path_clean() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("/up/", "/up"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("./a/./b/", "a/b"),
            ("../../x", "../../x"),
            ("sub/../../x", "../x"),
        ] {
            assert_eq!(clean_path(input), want, "{input}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_volume_text_parses_or_errors_without_panicking(text in "\\PC{0,24}") {
            let _ = super::parse(&text);
        }
    }
}
