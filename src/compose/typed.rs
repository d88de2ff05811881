//! Typing: a canonical (long-syntax) `Node` → the typed model, through serde.
//!
//! This is a serde `Deserializer` over `Node`, so model structs are plain
//! `#[derive(Deserialize)]` with `deny_unknown_fields`. It owns the coercions
//! Compose applies after interpolation (`"true"` → bool, `"8080"` → number,
//! `1` → `"1"` where a string is expected) and attaches the span of the
//! offending node to every error. `x-` keys of a struct are gathered under the
//! synthetic field `__ext`. It must not know any Compose attribute by name.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::node::{Key, Node, Scalar, Span, Value};

/// The synthetic struct field that receives a mapping's `x-*` extension keys.
pub const EXTENSIONS_FIELD: &str = "__ext";

#[derive(Debug, Clone, PartialEq)]
pub enum TypeErrorKind {
    UnknownField {
        field: String,
        expected: Vec<&'static str>,
    },
    Missing {
        field: String,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeError {
    pub kind: TypeErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TypeError {}

impl de::Error for TypeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TypeError {
            kind: TypeErrorKind::Other,
            message: msg.to_string(),
            span: None,
        }
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        TypeError {
            kind: TypeErrorKind::UnknownField {
                field: field.to_string(),
                expected: expected
                    .iter()
                    .copied()
                    .filter(|f| *f != EXTENSIONS_FIELD)
                    .collect(),
            },
            message: format!("unknown attribute `{field}`"),
            span: None,
        }
    }
    fn missing_field(field: &'static str) -> Self {
        TypeError {
            kind: TypeErrorKind::Missing {
                field: field.to_string(),
            },
            message: format!("missing required attribute `{field}`"),
            span: None,
        }
    }
}

impl TypeError {
    fn at(mut self, span: &Span) -> Self {
        if self.span.is_none() && span.is_known() {
            self.span = Some(span.clone());
        }
        self
    }
}

/// Deserialize a typed value from a node.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, TypeError> {
    T::deserialize(NodeDe { node }).map_err(|e| e.at(&node.span))
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
}

impl<'a> NodeDe<'a> {
    fn invalid(&self, expected: &str) -> TypeError {
        let shown = match &self.node.value {
            Value::Scalar(Scalar::Str(s)) => format!("\"{}\"", truncate(s)),
            Value::Scalar(Scalar::Null) => "null".to_string(),
            Value::Scalar(s) => s.to_text(),
            _ => self.node.kind().to_string(),
        };
        TypeError {
            kind: TypeErrorKind::Other,
            message: format!("expected {expected}, found {shown}"),
            span: Some(self.node.span.clone()),
        }
    }

    fn text(&self) -> Option<String> {
        match &self.node.value {
            Value::Scalar(Scalar::Null) => None,
            Value::Scalar(s) => Some(s.to_text()),
            _ => None,
        }
    }

    fn int(&self) -> Result<i64, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Int(i)) => Ok(*i),
            Value::Scalar(Scalar::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                Ok(*f as i64)
            }
            Value::Scalar(Scalar::Str(s)) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| self.invalid("an integer")),
            _ => Err(self.invalid("an integer")),
        }
    }

    fn float(&self) -> Result<f64, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Int(i)) => Ok(*i as f64),
            Value::Scalar(Scalar::Float(f)) => Ok(*f),
            Value::Scalar(Scalar::Str(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| self.invalid("a number")),
            _ => Err(self.invalid("a number")),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}

/// Compose's `toBoolean` after interpolation accepts these spellings (compose-go
/// `interpolation.go`), so `read_only: ${RO:-yes}` works.
fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "on" => Some(true),
        "n" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

macro_rules! de_int {
    ($method:ident, $visit:ident, $ty:ty, $what:expr) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
            let i = self.int()?;
            let v = <$ty>::try_from(i).map_err(|_| self.invalid($what))?;
            visitor.$visit(v)
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = TypeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Null) => visitor.visit_unit(),
            Value::Scalar(Scalar::Bool(b)) => visitor.visit_bool(*b),
            Value::Scalar(Scalar::Int(i)) => visitor.visit_i64(*i),
            Value::Scalar(Scalar::Float(f)) => visitor.visit_f64(*f),
            Value::Scalar(Scalar::Str(s)) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(Seq { iter: items.iter() }),
            Value::Map(entries) => visitor.visit_map(Map::new(entries, false, false)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Bool(b)) => visitor.visit_bool(*b),
            Value::Scalar(Scalar::Str(s)) => match parse_bool(s) {
                Some(b) => visitor.visit_bool(b),
                None => Err(self.invalid("true or false")),
            },
            _ => Err(self.invalid("true or false")),
        }
    }

    de_int!(deserialize_i8, visit_i8, i8, "a small integer");
    de_int!(deserialize_i16, visit_i16, i16, "an integer");
    de_int!(deserialize_i32, visit_i32, i32, "an integer");
    de_int!(deserialize_u8, visit_u8, u8, "an integer from 0 to 255");
    de_int!(
        deserialize_u16,
        visit_u16,
        u16,
        "an integer from 0 to 65535"
    );
    de_int!(deserialize_u32, visit_u32, u32, "a non-negative integer");
    de_int!(deserialize_u64, visit_u64, u64, "a non-negative integer");

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        visitor.visit_i64(self.int()?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        visitor.visit_f32(self.float()? as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Str(s)) => visitor.visit_borrowed_str(s),
            Value::Scalar(Scalar::Null) => Err(self.invalid("a string")),
            Value::Scalar(_) => visitor.visit_string(self.text().unwrap_or_default()),
            _ => Err(self.invalid("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid("null"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Seq(items) => visitor.visit_seq(Seq { iter: items.iter() }),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Map(entries) => visitor.visit_map(Map::new(entries, false, false)),
            _ => Err(self.invalid("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Map(entries) => {
                // Compose allows `x-` fields in any structure; a struct without
                // an extensions field simply ignores them.
                let keep = fields.contains(&EXTENSIONS_FIELD);
                visitor.visit_map(Map::new(entries, true, keep))
            }
            // `volumes: {data:}`: Compose reads a null entry as an empty mapping.
            Value::Scalar(Scalar::Null) => visitor.visit_map(Map::new(&[], false, false)),
            _ => Err(self.invalid("a mapping")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Null) => Err(self.invalid(&one_of(variants))),
            Value::Scalar(s) => {
                let text = s.to_text();
                if !variants.contains(&text.as_str()) {
                    return Err(self.invalid(&one_of(variants)));
                }
                visitor.visit_enum(text.into_deserializer())
            }
            _ => Err(self.invalid(&one_of(variants))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        visitor.visit_unit()
    }
}

fn one_of(variants: &[&str]) -> String {
    let quoted: Vec<String> = variants.iter().map(|v| format!("\"{v}\"")).collect();
    format!("one of {}", quoted.join(", "))
}

struct Seq<'a> {
    iter: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = TypeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TypeError> {
        match self.iter.next() {
            Some(node) => seed
                .deserialize(NodeDe { node })
                .map(Some)
                .map_err(|e| e.at(&node.span)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Map access that, for structs, hides `x-` keys from the derived visitor and
/// hands them over as one synthetic `__ext` entry at the end.
struct Map<'a> {
    entries: &'a [(Key, Node)],
    pos: usize,
    gather: bool,
    extensions: Option<Node>,
    ext_pending: bool,
    current: Option<&'a Node>,
}

impl<'a> Map<'a> {
    fn new(entries: &'a [(Key, Node)], gather: bool, keep: bool) -> Self {
        let extensions = if gather && keep {
            let ext: Vec<(Key, Node)> = entries
                .iter()
                .filter(|(k, _)| k.name.starts_with("x-"))
                .cloned()
                .collect();
            (!ext.is_empty()).then(|| Node::map(ext, Span::default()))
        } else {
            None
        };
        let ext_pending = extensions.is_some();
        Map {
            entries,
            pos: 0,
            gather,
            extensions,
            ext_pending,
            current: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = TypeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TypeError> {
        while let Some((key, value)) = self.entries.get(self.pos) {
            self.pos += 1;
            if self.gather && key.name.starts_with("x-") {
                continue;
            }
            self.current = Some(value);
            let k = seed
                .deserialize(KeyDe { key: &key.name })
                .map_err(|e| e.at(&key.span))?;
            return Ok(Some(k));
        }
        if self.ext_pending {
            self.ext_pending = false;
            self.current = None;
            return seed
                .deserialize(KeyDe {
                    key: EXTENSIONS_FIELD,
                })
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TypeError> {
        match self.current.take() {
            Some(node) => seed
                .deserialize(NodeDe { node })
                .map_err(|e| e.at(&node.span)),
            None => {
                let ext = self
                    .extensions
                    .take()
                    .unwrap_or_else(|| Node::map(vec![], Span::default()));
                // The synthetic node is owned here; deserialize it into an owned value.
                let value = seed.deserialize(OwnedNodeDe(ext))?;
                Ok(value)
            }
        }
    }
}

/// Extensions are generic JSON-like data (`IndexMap<String, serde_json::Value>`), so an
/// owned deserializer that replays the node through `deserialize_any` suffices.
struct OwnedNodeDe(Node);

impl<'de> de::Deserializer<'de> for OwnedNodeDe {
    type Error = TypeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match self.0.value {
            Value::Scalar(Scalar::Null) => visitor.visit_unit(),
            Value::Scalar(Scalar::Bool(b)) => visitor.visit_bool(b),
            Value::Scalar(Scalar::Int(i)) => visitor.visit_i64(i),
            Value::Scalar(Scalar::Float(f)) => visitor.visit_f64(f),
            Value::Scalar(Scalar::Str(s)) => visitor.visit_string(s),
            Value::Seq(items) => visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(OwnedNodeDe),
            )),
            Value::Map(entries) => visitor.visit_map(de::value::MapDeserializer::new(
                entries.into_iter().map(|(k, v)| (k.name, OwnedNodeDe(v))),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, TypeError> for OwnedNodeDe {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

struct KeyDe<'a> {
    key: &'a str,
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = TypeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        visitor.visit_borrowed_str(self.key)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::read;
    use indexmap::IndexMap;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Svc {
        image: Option<String>,
        read_only: Option<bool>,
        scale: Option<u32>,
        cpus: Option<f64>,
        #[serde(default)]
        environment: IndexMap<String, Option<String>>,
        #[serde(rename = "__ext", default)]
        ext: IndexMap<String, serde_json::Value>,
    }

    fn svc(yaml: &str) -> Result<Svc, TypeError> {
        let n = read::parse(yaml, "c.yaml").unwrap();
        // Leak for the borrow: tests only.
        let n: &'static Node = Box::leak(Box::new(n));
        from_node(n)
    }

    #[test]
    fn interpolated_strings_coerce_to_the_field_type() {
        let s = svc("image: x\nread_only: \"yes\"\nscale: \"3\"\ncpus: \"0.5\"\n").unwrap();
        assert_eq!(s.read_only, Some(true));
        assert_eq!(s.scale, Some(3));
        assert_eq!(s.cpus, Some(0.5));
    }

    #[test]
    fn numbers_become_strings_where_strings_are_expected() {
        let s = svc("image: 5\nenvironment:\n  A: 1\n  B: true\n  C: 1.5\n  D:\n").unwrap();
        assert_eq!(s.image.as_deref(), Some("5"));
        assert_eq!(s.environment["A"].as_deref(), Some("1"));
        assert_eq!(s.environment["B"].as_deref(), Some("true"));
        assert_eq!(s.environment["C"].as_deref(), Some("1.5"));
        assert_eq!(s.environment["D"], None);
    }

    #[test]
    fn unknown_attribute_reports_name_and_location() {
        let e = svc("image: x\nimgae: y\n").unwrap_err();
        assert!(
            matches!(e.kind, TypeErrorKind::UnknownField { ref field, .. } if field == "imgae")
        );
        assert_eq!(e.span.unwrap().line, 2);
    }

    #[test]
    fn wrong_type_reports_value_location() {
        let e = svc("image: x\nscale: lots\n").unwrap_err();
        assert_eq!(e.span.unwrap().line, 2);
        assert!(e.message.contains("\"lots\""), "{}", e.message);
    }

    #[test]
    fn extension_keys_in_structs_without_extensions_are_ignored() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Check {
            test: String,
        }
        let n = read::parse("test: x\nx-note: hi\n", "c.yaml").unwrap();
        let c: Check = from_node(&n).unwrap();
        assert_eq!(c.test, "x");
    }

    #[test]
    fn extension_keys_are_gathered_not_rejected() {
        let s = svc("image: x\nx-aistack:\n  probe: engine\n").unwrap();
        assert_eq!(s.ext["x-aistack"]["probe"], "engine");
    }
}
