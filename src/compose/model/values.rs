//! Small value types with Compose's own text forms: durations (`1m30s`), byte
//! sizes (`512m`), shell-or-list commands, and string-or-list values.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::compose::units;

/// A Go-style duration in nanoseconds; printed as Go prints it (`1m30s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&units::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like 1m30s")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                units::parse_duration(v).map(Duration).map_err(E::custom)
            }
            // A bare number in YAML is seconds for Compose (compose-go `types.Duration`).
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                v.checked_mul(1_000_000_000)
                    .map(Duration)
                    .ok_or_else(|| E::custom("duration is out of range"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_i64(i64::try_from(v).map_err(|_| E::custom("duration is out of range"))?)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                let n = v * 1e9;
                if !n.is_finite() || n.abs() > 9.2e18 {
                    return Err(E::custom("duration is out of range"));
                }
                Ok(Duration(n as i64))
            }
        }
        d.deserialize_any(V)
    }
}

/// A byte count; YAML may write `512m` or a plain number. Compose prints it as a
/// string holding the number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub i64);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size like 512m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                units::parse_bytes(v).map(Bytes).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                if v < 0 {
                    return Err(E::custom(format!("size must not be negative, found {v}")));
                }
                Ok(Bytes(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                i64::try_from(v)
                    .map(Bytes)
                    .map_err(|_| E::custom("size is out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bytes, E> {
                if v < 0.0 || !v.is_finite() || v > 9.2e18 {
                    return Err(E::custom("size is out of range"));
                }
                Ok(Bytes(v as i64))
            }
        }
        d.deserialize_any(V)
    }
}

/// `command:` / `entrypoint:`: a shell string (split like a POSIX shell, as
/// Compose does) or a list. Compose prints the list form, and `null` when unset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct ShellCommand(pub Vec<String>);

impl<'de> Deserialize<'de> for ShellCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match StringOrList::deserialize(d)? {
            StringOrList::List(v) => Ok(ShellCommand(v)),
            StringOrList::One(s) => split_shell(&s).map(ShellCommand).map_err(de::Error::custom),
        }
    }
}

/// A string or a list of strings, always held as a list (`dns`, `tmpfs`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match StringOrList::deserialize(d)? {
            StringOrList::List(v) => StringList(v),
            StringOrList::One(s) => StringList(vec![s]),
        })
    }
}

enum StringOrList {
    One(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOrList, E> {
                Ok(StringOrList::One(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StringOrList, E> {
                Ok(StringOrList::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StringOrList, E> {
                Ok(StringOrList::One(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<StringOrList, E> {
                Ok(StringOrList::One(crate::compose::node::format_float(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<StringOrList, E> {
                Ok(StringOrList::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StringOrList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<ScalarString>()? {
                    out.push(s.0);
                }
                Ok(StringOrList::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any scalar as its text (`- 80` in a list of strings is "80").
pub struct ScalarString(pub String);

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(ScalarString)
    }
}

/// POSIX-shell-like word splitting as Compose applies to string commands
/// (go-shellwords: quotes group, backslash escapes, no expansion).
pub fn split_shell(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated single quote in command: {s}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => cur.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => {
                                return Err(format!("unterminated double quote in command: {s}"));
                            }
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated double quote in command: {s}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(ch) => cur.push(ch),
                    None => cur.push('\\'),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_command_splits_like_compose() {
        assert_eq!(
            split_shell(r#"sh -c "echo hi there" 'a b' c\ d"#).unwrap(),
            vec!["sh", "-c", "echo hi there", "a b", "c d"]
        );
        assert_eq!(split_shell("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_shell("a ''").unwrap(), vec!["a", ""]);
        assert!(split_shell("echo 'oops").is_err());
    }
}
