//! The serde-saphyr reading path: the reference for what a YAML file means.
//!
//! `read.rs` builds trees from parser events directly because this path is
//! slow (a deserializer per node, spans and tags through serde wrappers). This
//! file keeps the original path alive as the authority: `parse` re-runs it to
//! report errors (its messages and positions are the best we have), falls back
//! to it for constructs the fast path does not mirror, and the differential
//! tests compare the two. It must not be "fixed" on its own: a change in meaning
//! here must be mirrored in `build.rs`, `events.rs` or `scalar.rs`.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};

use super::super::node::{Key, Node, Scalar, Span, Tag, Value};
use super::{MAX_DEPTH, ReadError, precheck};

/// serde-saphyr recurses several frames per nesting level (tens of KiB each
/// in a debug build), so 64 levels overflow a 2 MiB thread. It gets a stack
/// of its own, sized for its 64-level budget with a wide margin.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// Read `text` with serde-saphyr, under the options Compose files are read with.
pub(crate) fn parse_reference(text: &str, file: &str) -> Result<Node, ReadError> {
    let failed = |message: String| ReadError {
        file: file.to_string(),
        line: 0,
        column: 0,
        message,
    };
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("yaml-reference".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || read(text, file));
        match reader {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(failed("the YAML reader failed unexpectedly".into()))),
            // No thread to be had (resource limits): read on this one.
            Err(_) => read(text, file),
        }
    })
}

fn read(text: &str, file: &str) -> Result<Node, ReadError> {
    if let Some(early) = precheck(text, file) {
        return early;
    }
    // One anchor used by every service (`<<: *defaults`) is the normal Compose
    // idiom, so the alias/anchor ratio check is off; alias bombs are still
    // stopped by the replayed-events and node budgets.
    let mut budget = serde_saphyr::Budget::default();
    budget.enforce_alias_anchor_ratio = false;
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: Some(budget),
    };
    let raw: RawNode = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        ReadError {
            file: file.to_string(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let file: Arc<str> = Arc::from(file);
    convert(raw, &file, 0).map_err(|(span, message)| ReadError {
        file: file.to_string(),
        line: span.line,
        column: span.column,
        message,
    })
}

fn convert(raw: RawNode, file: &Arc<str>, depth: usize) -> Result<Node, (Span, String)> {
    let loc = raw.0.referenced;
    let span = Span::new(file.clone(), loc.line() as u32, loc.column() as u32);
    if depth > MAX_DEPTH {
        return Err((
            span,
            format!("document nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let Tagged(value, tag) = raw.0.value;
    let tag = match tag.as_deref() {
        None => None,
        Some("!reset") => Some(Tag::Reset),
        Some("!override") => Some(Tag::Override),
        // Core-schema tags such as `!!str` only steer YAML typing.
        Some(t) if t.starts_with("tag:yaml.org,2002:") || t.starts_with("!!") => None,
        Some(other) => {
            return Err((
                span,
                format!(
                    "unknown YAML tag `{other}`; Compose understands only !reset and !override"
                ),
            ));
        }
    };
    let value = match value {
        RawValue::Scalar(s) => Value::Scalar(s),
        RawValue::Seq(items) => Value::Seq(
            items
                .into_iter()
                .map(|n| convert(n, file, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        RawValue::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let kloc = k.referenced;
                let key = Key::new(
                    k.value.0,
                    Span::new(file.clone(), kloc.line() as u32, kloc.column() as u32),
                );
                out.push((key, convert(v, file, depth + 1)?));
            }
            Value::Map(out)
        }
    };
    Ok(Node { value, span, tag })
}

struct RawNode(Spanned<Tagged<RawValue>>);

enum RawValue {
    Scalar(Scalar),
    Seq(Vec<RawNode>),
    Map(Vec<(Spanned<KeyText>, RawNode)>),
}

/// A mapping key as text, whatever scalar type YAML resolved it to.
struct KeyText(String);

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RawNode(Spanned::deserialize(d)?))
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(match i64::try_from(v) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(v as f64),
        }))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(match i64::try_from(v) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(v as f64),
        }))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        self.visit_i128(v.min(i128::MAX as u128) as i128)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Str(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Str(
            String::from_utf8_lossy(v).into_owned(),
        )))
    }
    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Null))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Scalar::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawNode>()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<RawNode>()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(super::super::node::format_float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyText, E> {
                Ok(KeyText(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(String::new()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}
