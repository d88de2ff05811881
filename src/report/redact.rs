//! Keeps secret values out of what aistack itself prints: every occurrence of
//! a value `compose::secrets` calls secret-bearing becomes `<redacted:NAME>`,
//! and the password of any `scheme://user:password@host` becomes
//! `<redacted>`, whatever its origin.
//!
//! One process-wide redactor, filled by `commands` right after loading (or
//! after loading failed), is applied where aistack's text leaves the process:
//! the progress sinks, load diagnostics, failure diagnoses, build output and
//! the top-level error printer, so a new message is covered without anyone
//! remembering to. Must not: decide which values are secret (that is
//! `compose::secrets`), nor touch the containers' own output that `logs` and
//! attached runs stream (the user's business), nor `config`'s output.

use std::borrow::Cow;
use std::sync::RwLock;

use crate::compose::secrets::SecretValue;

/// Values shorter than this (in characters) are masked only as whole words:
/// a 3-letter password must not turn every "exit" into a mask.
const WHOLE_WORD_BELOW: usize = 6;

/// The values to mask, longest first (so a value wins over its prefixes when
/// both match at one place).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    values: Vec<SecretValue>,
}

impl Redactor {
    pub const fn empty() -> Self {
        Redactor { values: Vec::new() }
    }

    pub fn new(values: impl IntoIterator<Item = SecretValue>) -> Self {
        let mut r = Redactor::empty();
        r.extend(values);
        r
    }

    /// Adds values (duplicates are kept once).
    pub fn extend(&mut self, values: impl IntoIterator<Item = SecretValue>) {
        self.values
            .extend(values.into_iter().filter(|v| !v.value.trim().is_empty()));
        self.values.sort_by(|a, b| {
            b.value
                .len()
                .cmp(&a.value.len())
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.name.cmp(&b.name))
        });
        self.values.dedup_by(|a, b| a.value == b.value);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret value and URL password masked. Where matches
    /// overlap, their union is masked once, so no part of any value survives.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // (start, end, label) byte ranges, on char boundaries: both the
        // values and `text` are UTF-8, so a match starts and ends on one.
        let mut hits: Vec<(usize, usize, &str)> = Vec::new();
        for v in &self.values {
            let whole_word = v.value.chars().count() < WHOLE_WORD_BELOW;
            let mut from = 0;
            while let Some(i) = text[from..].find(v.value.as_str()) {
                let start = from + i;
                let end = start + v.value.len();
                if !whole_word || is_whole_word(text, start, end) {
                    hits.push((start, end, v.name.as_str()));
                }
                // Overlapping occurrences (`aa` in `aaa`) count too.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        url_passwords(text, &mut hits);
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        hits.sort_by_key(|h| (h.0, std::cmp::Reverse(h.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < hits.len() {
            let (start, mut end, label) = hits[i];
            i += 1;
            while i < hits.len() && hits[i].0 < end {
                end = end.max(hits[i].1);
                i += 1;
            }
            out.push_str(&text[at..start]);
            if label.is_empty() {
                out.push_str("<redacted>");
            } else {
                out.push_str("<redacted:");
                out.push_str(label);
                out.push('>');
            }
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Word boundaries as a regex's `\b`: only an edge that is a word character
/// needs a non-word character (or the end of the text) beside it.
fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let m = &text[start..end];
    let first_word = m.chars().next().is_some_and(is_word_char);
    let last_word = m.chars().next_back().is_some_and(is_word_char);
    let before = text[..start].chars().next_back().is_some_and(is_word_char);
    let after = text[end..].chars().next().is_some_and(is_word_char);
    let glued = (first_word && before) || (last_word && after);
    !glued
}

/// The password part of every `scheme://user:password@host` in `text`, with
/// an empty label.
fn url_passwords(text: &str, hits: &mut Vec<(usize, usize, &str)>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let auth_start = from + i + 3;
        let rest = &text[auth_start..];
        let auth_len = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        let authority = &rest[..auth_len];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
        {
            hits.push((auth_start + colon + 1, auth_start + at, ""));
        }
        from = auth_start;
    }
}

static GLOBAL: RwLock<Redactor> = RwLock::new(Redactor::empty());

/// Adds `values` to the process-wide redactor (values already known stay:
/// loading twice, as `test` does, never forgets one).
pub fn install(values: Vec<SecretValue>) {
    let mut g = GLOBAL.write().unwrap_or_else(|p| p.into_inner());
    g.extend(values);
}

/// `text` as aistack may print it.
pub fn text(text: &str) -> Cow<'_, str> {
    let g = GLOBAL.read().unwrap_or_else(|p| p.into_inner());
    match g.redact(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, value: &str) -> SecretValue {
        SecretValue {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn every_occurrence_of_a_secret_value_is_masked_with_its_name() {
        let r = Redactor::new([secret("DB_PASSWORD", "hunter2-long")]);
        assert_eq!(
            r.redact("login hunter2-long failed; retry hunter2-long"),
            "login <redacted:DB_PASSWORD> failed; retry <redacted:DB_PASSWORD>"
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_longest_value_wins_and_overlapping_values_leave_nothing_behind() {
        let r = Redactor::new([
            secret("SHORTER", "abcdef"),
            secret("LONGER", "abcdefghij"),
            secret("OVERLAP", "hijklmno"),
        ]);
        assert_eq!(r.redact("x abcdefghij y"), "x <redacted:LONGER> y");
        assert_eq!(r.redact("x abcdef y"), "x <redacted:SHORTER> y");
        // abcdefghij and hijklmno overlap: masked as one, no tail left.
        assert_eq!(r.redact("abcdefghijklmno!"), "<redacted:LONGER>!");
        let r = Redactor::new([secret("A", "aaaaaa")]);
        assert_eq!(r.redact("aaaaaaa."), "<redacted:A>.");
    }

    #[test]
    fn short_values_are_masked_only_as_whole_words() {
        let r = Redactor::new([secret("PIN", "ex1")]);
        assert_eq!(r.redact("ex1"), "<redacted:PIN>");
        assert_eq!(r.redact("user:ex1@host"), "user:<redacted:PIN>@host");
        assert_eq!(r.redact("next1 rex1 ex12"), "next1 rex1 ex12");
        let r = Redactor::new([secret("PW", "a!")]);
        // Only an edge that is a word character needs a boundary.
        assert_eq!(r.redact("say a! now, ba!"), "say <redacted:PW> now, ba!");
        assert_eq!(r.redact("a!b"), "<redacted:PW>b");
    }

    #[test]
    fn url_credentials_are_masked_in_any_message() {
        let r = Redactor::empty();
        assert_eq!(
            r.redact("cannot reach postgres://app:s3cr3t@db:5432/chat (refused)"),
            "cannot reach postgres://app:<redacted>@db:5432/chat (refused)"
        );
        assert_eq!(
            r.redact("\"redis://:pw@cache\" and https://user@host/x and https://h/a:b@c"),
            "\"redis://:<redacted>@cache\" and https://user@host/x and https://h/a:b@c"
        );
        assert_eq!(r.redact("a://b:@c"), "a://b:@c");
    }

    #[test]
    fn a_url_password_that_is_also_a_known_value_keeps_the_name() {
        let r = Redactor::new([secret("DB_PASSWORD", "s3cr3t-pw")]);
        assert_eq!(
            r.redact("postgres://app:s3cr3t-pw@db/chat"),
            "postgres://app:<redacted:DB_PASSWORD>@db/chat"
        );
    }

    #[test]
    fn multibyte_values_and_text_are_masked_on_character_boundaries() {
        let r = Redactor::new([secret("K", "pässwörd-ü"), secret("S", "日本")]);
        assert_eq!(
            r.redact("ü pässwörd-ü ü 日本語 日本"),
            "ü <redacted:K> ü 日本語 <redacted:S>"
        );
        let r = Redactor::new([secret("E", "🔑🔑🔑🔑🔑🔑")]);
        assert_eq!(r.redact("x🔑🔑🔑🔑🔑🔑🔑y"), "x<redacted:E>y");
    }

    #[test]
    fn diagnoses_are_masked_by_the_installed_redactor_and_say_so() {
        use crate::apply::diagnose::Diagnosis;
        use crate::report::diagnostic::diagnosis;
        // A value no other test prints: the redactor is process-wide.
        install(vec![secret("DIAG_PASSWORD", "D1ag-unique-pw-Qz8")]);
        let d = Diagnosis {
            container: "demo-db-1".into(),
            state: "running".into(),
            health: vec![(1, "login D1ag-unique-pw-Qz8 refused".into())],
            last_logs: vec!["stderr: D1ag-unique-pw-Qz8".into()],
            ..Default::default()
        };
        let text = diagnosis(&d);
        assert!(!text.contains("D1ag-unique-pw-Qz8"), "{text}");
        assert!(
            text.contains("exit 1: login <redacted:DIAG_PASSWORD> refused"),
            "{text}"
        );
        assert!(text.contains("secret values redacted"), "{text}");
        let clean = Diagnosis {
            health: vec![(1, "refused".into())],
            last_logs: vec!["nothing secret".into()],
            ..d
        };
        assert!(!diagnosis(&clean).contains("redacted"));
    }

    #[test]
    fn blank_values_are_never_masked_and_duplicates_are_kept_once() {
        let mut r = Redactor::new([secret("A", ""), secret("B", "  ")]);
        assert!(r.is_empty());
        r.extend([secret("C", "same-value"), secret("D", "same-value")]);
        r.extend([secret("C", "same-value")]);
        assert_eq!(r.len(), 1);
        assert_eq!(r.redact("same-value"), "<redacted:C>");
    }
}
