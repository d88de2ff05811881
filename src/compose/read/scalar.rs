//! What a YAML scalar means: null, boolean, integer, float or string, and the
//! identity a mapping key has for duplicate detection.
//!
//! The rules are serde-saphyr 2.1's (`parse_scalars.rs`, `deserialize_any`,
//! `key_nodes.rs`) under the options Compose files are read with
//! (`strict_booleans`, `leading_zero_numbers_as_strings`, non-finite floats
//! rejected), ported line by line so the fast path and the reference path agree
//! on every scalar. This file must not invent rules of its own: when
//! serde-saphyr's resolution changes, port the change here and let the
//! differential tests in `tests.rs` confirm it.

use std::borrow::Cow;

use super::super::node::{Scalar, format_float};
use super::events::NodeTag;

/// Why a scalar cannot be read; the reference path renders the real message.
pub(super) type ScalarError = &'static str;

/// `yaml_trim`: YAML's white space, not Unicode's. (Byte-wise: `trim_matches`
/// with a char set costs more than all the other scalar work here.)
fn yaml_trim(s: &str) -> &str {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    // Both ends sit next to ASCII bytes, hence on character boundaries.
    s.get(start..end).unwrap_or_default()
}

/// The six YAML 1.2 core-schema spellings (`strict_booleans`); `yes`/`on` stay strings.
fn parse_bool(s: &str) -> Option<bool> {
    match yaml_trim(s) {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn nullish(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// `scalar_is_null`: an explicit `!!null`, or a plain null spelling that no
/// core tag claims (`!reset null` is null, `!!str null` is the text "null").
pub(super) fn is_null(value: &str, plain: bool, tag: NodeTag) -> bool {
    tag == NodeTag::Null || (!tag.is_core() && plain && nullish(value))
}

/// Digits with `_` separators between digits (never leading, trailing or doubled).
fn parse_digits_u128(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        let d = match b {
            b'_' => {
                let prev_ok = i > 0 && bytes[i - 1] != b'_';
                let next_ok = i + 1 < bytes.len() && bytes[i + 1] != b'_';
                if !prev_ok || !next_ok {
                    return None;
                }
                continue;
            }
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' if radix > 10 => 10 + u32::from(b - b'a'),
            b'A'..=b'F' if radix > 10 => 10 + u32::from(b - b'A'),
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        val = val
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

/// `0x`/`0o`/`0b` prefixes select the radix; legacy `0755` octal is off.
fn radix_and_digits(rest: &str) -> (u32, &str) {
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = rest.strip_prefix("0b").or_else(|| rest.strip_prefix("0B")) {
        (2, r)
    } else {
        (10, rest)
    }
}

/// `parse_int_signed` into i128: optional sign, radix prefix, no leading zeros.
fn parse_int_signed(s: &str) -> Option<i128> {
    let t = yaml_trim(s);
    let (neg, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        },
    };
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    let mag = parse_digits_u128(digits, radix)?;
    if neg {
        if mag == (i128::MAX as u128) + 1 {
            Some(i128::MIN)
        } else {
            i128::try_from(mag).ok()?.checked_neg()
        }
    } else {
        i128::try_from(mag).ok()
    }
}

/// `parse_int_unsigned` into u128: like the signed form but `-` is refused.
fn parse_int_unsigned(s: &str) -> Option<u128> {
    let t = yaml_trim(s);
    if t.starts_with('-') {
        return None;
    }
    let rest = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    parse_digits_u128(digits, radix)
}

/// `parse_yaml12_float` for f64: YAML's `.inf`/`.nan` spellings, else Rust's
/// float syntax, which must give a finite value.
fn parse_float(s: &str) -> Option<f64> {
    let t = yaml_trim(s);
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `try_parse_float_incl_overflow`: as `parse_float`, plus digit-led literals
/// that overflow f64 (`1e999`), which come back infinite.
fn parse_float_incl_overflow(s: &str) -> Option<f64> {
    if let Some(v) = parse_float(s) {
        return Some(v);
    }
    let t = yaml_trim(s);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_infinite())
}

/// `0755`, `-007`: kept as strings (`leading_zero_numbers_as_strings`).
fn leading_zero_decimal(t: &str) -> bool {
    let s = yaml_trim(t);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a plain scalar can possibly be a number: every integer and float
/// spelling begins with a digit, a sign or a dot. Most Compose values (images,
/// paths, commands) fail this first-byte test, which spares them the parsers.
fn may_be_number(t: &str) -> bool {
    matches!(t.as_bytes().first(), Some(b'0'..=b'9' | b'+' | b'-' | b'.'))
}

/// A scalar as typed by `deserialize_any`, before it is handed to a visitor.
enum Typed<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'a, str>),
}

/// serde-saphyr's `deserialize_any` for a scalar: explicit core tags decide,
/// then null spellings, then quoted/`!!str` text, then plain-scalar inference
/// (bool, integer, float, string). Non-finite floats are an error (the
/// `NonFiniteFloatPolicy::Reject` default).
fn type_scalar(value: Cow<'_, str>, plain: bool, tag: NodeTag) -> Result<Typed<'_>, ScalarError> {
    match tag {
        NodeTag::Null => return Ok(Typed::Null),
        NodeTag::Bool => return parse_bool(&value).map(Typed::Bool).ok_or("invalid !!bool"),
        NodeTag::Int => {
            return if yaml_trim(&value).starts_with('-') {
                parse_int_signed(&value)
                    .and_then(|v| i64::try_from(v).ok())
                    .map(Typed::I64)
                    .ok_or("invalid !!int")
            } else {
                parse_int_unsigned(&value)
                    .and_then(|v| u64::try_from(v).ok())
                    .map(Typed::U64)
                    .ok_or("invalid !!int")
            };
        }
        NodeTag::Float => {
            return match parse_float_incl_overflow(&value) {
                Some(v) if v.is_finite() => Ok(Typed::F64(v)),
                Some(_) => Err("non-finite float"),
                None => Err("invalid !!float"),
            };
        }
        _ => {}
    }
    if is_null(&value, plain, tag) {
        return Ok(Typed::Null);
    }
    if !plain || tag == NodeTag::Str {
        return Ok(Typed::Str(value));
    }
    let t = yaml_trim(&value);
    if !may_be_number(t) {
        // No number starts like this; a boolean may (`true`, `False`).
        return Ok(match parse_bool(t) {
            Some(b) => Typed::Bool(b),
            None => Typed::Str(value),
        });
    }
    // No boolean starts like a number, so the boolean test is done.
    if leading_zero_decimal(t) {
        return Ok(Typed::Str(value));
    }
    if t.starts_with('-') {
        if let Some(v) = parse_int_signed(t).and_then(|v| i64::try_from(v).ok()) {
            return Ok(Typed::I64(v));
        }
    } else if let Some(v) = parse_int_unsigned(t).and_then(|v| u64::try_from(v).ok()) {
        return Ok(Typed::U64(v));
    }
    match parse_float_incl_overflow(&value) {
        Some(v) if v.is_finite() => Ok(Typed::F64(v)),
        Some(_) => Err("non-finite float"),
        None => Ok(Typed::Str(value)),
    }
}

/// A node's scalar value, as the reference's `RawVisitor` receives it: u64
/// beyond i64 becomes a float.
pub(super) fn resolve_value(
    value: Cow<'_, str>,
    plain: bool,
    tag: NodeTag,
) -> Result<Scalar, ScalarError> {
    Ok(match type_scalar(value, plain, tag)? {
        Typed::Null => Scalar::Null,
        Typed::Bool(b) => Scalar::Bool(b),
        Typed::I64(i) => Scalar::Int(i),
        Typed::U64(u) => match i64::try_from(u) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(u as f64),
        },
        Typed::F64(f) => Scalar::Float(f),
        Typed::Str(s) => Scalar::Str(s.into_owned()),
    })
}

/// A mapping key's text, as the reference's `KeyText` visitor builds it
/// (`0x10` → "16", `1.50` → "1.5", `~` → "").
pub(super) fn key_text(
    value: Cow<'_, str>,
    plain: bool,
    tag: NodeTag,
) -> Result<String, ScalarError> {
    Ok(match type_scalar(value, plain, tag)? {
        Typed::Null => String::new(),
        Typed::Bool(b) => b.to_string(),
        Typed::I64(i) => i.to_string(),
        Typed::U64(u) => u.to_string(),
        Typed::F64(f) => format_float(f),
        Typed::Str(s) => s.into_owned(),
    })
}

/// How a key's tag takes part in its identity (`CanonicalKeyTag`): untagged
/// and `!!str` keys compare as strings, `!reset`/`!override` by their name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyClass {
    Str,
    Null,
    Int,
    Float,
    Bool,
    Reset,
    Override,
}

/// A mapping key's identity for duplicate detection (`KeyFingerprint`):
/// integers by value (`1`, `0x1` and `+1` are the same key), other scalars by
/// their source text and tag class (`null` and `~` are different keys, `a`
/// and `"a"` the same).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Fingerprint<'a> {
    Int {
        negative: bool,
        magnitude: u128,
    },
    Text {
        class: KeyClass,
        value: Cow<'a, str>,
    },
}

pub(super) fn fingerprint<'a>(value: &Cow<'a, str>, plain: bool, tag: NodeTag) -> Fingerprint<'a> {
    let t = yaml_trim(value);
    // Only a digit or a sign can start an integer.
    if (tag == NodeTag::Int || (tag == NodeTag::None && plain))
        && matches!(t.as_bytes().first(), Some(b'0'..=b'9' | b'+' | b'-'))
    {
        let int = if t.starts_with('-') {
            parse_int_signed(t).map(|v| (v < 0, v.unsigned_abs()))
        } else {
            parse_int_unsigned(t).map(|v| (false, v))
        };
        if let Some((negative, magnitude)) = int {
            return Fingerprint::Int {
                negative,
                magnitude,
            };
        }
    }
    let class = match tag {
        NodeTag::None if is_null(value, plain, tag) => KeyClass::Null,
        NodeTag::None | NodeTag::Str => KeyClass::Str,
        NodeTag::Reset => KeyClass::Reset,
        NodeTag::Override => KeyClass::Override,
        NodeTag::Null => KeyClass::Null,
        NodeTag::Int => KeyClass::Int,
        NodeTag::Float => KeyClass::Float,
        NodeTag::Bool => KeyClass::Bool,
        // A `!!seq`/`!!map` scalar is refused when the event is read.
        NodeTag::Seq | NodeTag::Map => KeyClass::Str,
    };
    Fingerprint::Text {
        class,
        value: value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Result<Scalar, ScalarError> {
        resolve_value(Cow::Borrowed(s), true, NodeTag::None)
    }

    #[test]
    fn plain_scalars_resolve_like_serde_saphyr() {
        assert_eq!(v("1_000"), Ok(Scalar::Int(1000)));
        assert_eq!(v("0b101"), Ok(Scalar::Int(5)));
        assert_eq!(v("0x_1"), Ok(Scalar::Str("0x_1".into())));
        assert_eq!(v("+1"), Ok(Scalar::Int(1)));
        assert_eq!(v("-0x10"), Ok(Scalar::Int(-16)));
        assert_eq!(v(".5"), Ok(Scalar::Float(0.5)));
        assert_eq!(v("1e3"), Ok(Scalar::Float(1000.0)));
        assert_eq!(v("0755"), Ok(Scalar::Str("0755".into())));
        assert_eq!(
            v("9223372036854775808"),
            Ok(Scalar::Float(9223372036854775808.0))
        );
        assert_eq!(v("yes"), Ok(Scalar::Str("yes".into())));
        assert_eq!(v("nan"), Ok(Scalar::Str("nan".into())));
        assert!(v(".inf").is_err());
        assert!(v("1e999").is_err());
        assert_eq!(v("~"), Ok(Scalar::Null));
    }

    #[test]
    fn keys_compare_integers_by_value() {
        let a = fingerprint(&Cow::Borrowed("0x1"), true, NodeTag::None);
        let b = fingerprint(&Cow::Borrowed("1"), true, NodeTag::None);
        let c = fingerprint(&Cow::Borrowed("1"), false, NodeTag::None);
        assert_eq!(a, b);
        assert_ne!(b, c);
    }
}
