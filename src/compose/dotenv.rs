//! The `.env` file dialect of Docker Compose v2 (compose-go v2 `dotenv`).
//!
//! This module owns turning the text of one env file into ordered key/value
//! pairs, with compose's quirks reproduced on purpose (checked against
//! `docker compose` v2.40.3): comments, `export`, `KEY=value` and `KEY: value`,
//! quoting and escapes, interpolation with the full operator set, bare keys,
//! line numbers in errors. It must not read files, touch the process
//! environment, merge several files or decide precedence against the compose
//! file: the caller passes lookups and does that. Nothing here panics on input.

use super::interpolate::{self, InterpolateError, go_quote};
use std::collections::{HashMap, HashSet};

/// Why an env file was rejected. `Display` is compose's text after its
/// "failed to read FILE: " prefix.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{}", self.render())]
pub struct DotenvError {
    /// 1-based line compose was at (for a bad value: where the key was).
    pub line: u32,
    pub message: String,
    pub kind: DotenvErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DotenvErrorKind {
    /// Syntax errors: compose prints "line N: message".
    Syntax,
    /// `export` followed only by blanks at the end of the file; compose
    /// prints "zero length string" without a line.
    ZeroLength,
    /// A value failed to interpolate; compose prints the interpolation error
    /// alone, without a line.
    Interpolation(InterpolateError),
}

impl DotenvError {
    fn render(&self) -> String {
        match self.kind {
            DotenvErrorKind::Syntax => format!("line {}: {}", self.line, self.message),
            _ => self.message.clone(),
        }
    }

    fn syntax(line: u32, message: String) -> Self {
        DotenvError {
            line,
            message,
            kind: DotenvErrorKind::Syntax,
        }
    }
}

/// One parsed env file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// Pairs in file order; a key defined twice keeps its first position and
    /// its last value (compose keeps a map, so only the value is observable).
    pub vars: Vec<(String, String)>,
    /// Variables referenced by values but set nowhere, deduplicated; compose
    /// warns "The \"V\" variable is not set. Defaulting to a blank string."
    pub unset: Vec<String>,
}

/// Parse one env file the way compose reads a single `.env`, with `lookup` as
/// the process environment.
///
/// Verified precedence: inside values, the process environment wins over keys
/// defined earlier in the same file (`A=file` then `B=${A}` gives `B` the
/// process value of `A` when there is one). A bare `KEY` line takes `KEY` from
/// `lookup`, and is skipped when `lookup` does not know it.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    parse_layered(text, lookup, &|_| None).map(|p| p.vars)
}

/// Parse one of several env files (`--env-file a --env-file b`) with compose's
/// full precedence for references inside values: `process_env`, then keys
/// defined earlier in this file, then `earlier_files` (the merged result of
/// the files before this one). A bare `KEY` line consults `process_env` only;
/// an earlier file's value of it survives anyway when the caller merges.
pub fn parse_layered(
    text: &str,
    process_env: &dyn Fn(&str) -> Option<String>,
    earlier_files: &dyn Fn(&str) -> Option<String>,
) -> Result<Parsed, DotenvError> {
    // Editors on Windows add a BOM; compose skips it at the very start only.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut parser = Parser {
        line: 1,
        vars: Vec::new(),
        index: HashMap::new(),
        unset: Vec::new(),
        unset_seen: HashSet::new(),
        process_env,
        earlier_files,
        budget: interpolate::MAX_EXPANDED_BYTES,
    };
    parser.run(text)?;
    Ok(Parsed {
        vars: parser.vars,
        unset: parser.unset,
    })
}

struct Parser<'a> {
    line: u32,
    vars: Vec<(String, String)>,
    index: HashMap<String, usize>,
    unset: Vec<String>,
    unset_seen: HashSet<String>,
    process_env: &'a dyn Fn(&str) -> Option<String>,
    earlier_files: &'a dyn Fn(&str) -> Option<String>,
    /// What interpolation may still produce for this file: each line may use
    /// the keys before it, so without a bound ten lines of `$A$A…` reach
    /// terabytes.
    budget: usize,
}

/// compose-go's `isSpace`: blanks that are not line breaks.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    )
}

fn count_newlines(s: &str) -> u32 {
    u32::try_from(s.bytes().filter(|&b| b == b'\n').count()).unwrap_or(u32::MAX)
}

struct Key<'t> {
    name: &'t str,
    rest: &'t str,
    /// The line ended right after the key: `KEY` alone, no `=`.
    bare: bool,
    /// The key's raw text (before trimming) has an ASCII space.
    raw_has_space: bool,
}

impl Parser<'_> {
    fn run(&mut self, text: &str) -> Result<(), DotenvError> {
        let mut rest = text;
        loop {
            rest = self.statement_start(rest);
            if rest.is_empty() {
                return Ok(());
            }
            let key = self.key(rest)?;
            if key.name.contains(' ') {
                return Err(DotenvError::syntax(
                    self.line,
                    "key cannot contain a space".into(),
                ));
            }
            if key.bare {
                // Observed compose quirk: a bare key line written with a
                // trailing space (`KEY \n`) does not advance compose's line
                // counter, so later errors report one line less.
                if !key.raw_has_space {
                    self.line = self.line.saturating_add(1);
                }
                if let Some(v) = (self.process_env)(key.name) {
                    self.set(key.name, v);
                }
                rest = key.rest;
                continue;
            }
            let (value, after) = self.value(key.rest)?;
            self.set(key.name, value);
            rest = after;
        }
    }

    fn set(&mut self, key: &str, value: String) {
        match self.index.get(key) {
            Some(&i) => self.vars[i].1 = value,
            None => {
                self.index.insert(key.to_owned(), self.vars.len());
                self.vars.push((key.to_owned(), value));
            }
        }
    }

    /// Skip blank lines and `#` comment lines, counting lines.
    fn statement_start<'t>(&mut self, mut src: &'t str) -> &'t str {
        loop {
            let trimmed = src.trim_start();
            let skipped = &src[..src.len() - trimmed.len()];
            self.line = self.line.saturating_add(count_newlines(skipped));
            if !trimmed.starts_with('#') {
                return trimmed;
            }
            match trimmed.find('\n') {
                Some(nl) => src = &trimmed[nl..],
                None => return "",
            }
        }
    }

    fn key<'t>(&self, src: &'t str) -> Result<Key<'t>, DotenvError> {
        let src = strip_export(src);
        if src.is_empty() {
            // `export` and blanks at end of file.
            return Err(DotenvError {
                line: self.line,
                message: "zero length string".into(),
                kind: DotenvErrorKind::ZeroLength,
            });
        }
        for (i, c) in src.char_indices() {
            if is_blank(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    return Ok(Key {
                        name: src[..i].trim_end(),
                        rest: src[i + 1..].trim_start_matches(is_blank),
                        bare: c == '\n',
                        raw_has_space: src[..i].contains(' '),
                    });
                }
                '_' | '.' | '-' | '[' | ']' => {}
                // Go's unicode.IsLetter / IsNumber; Rust's is_alphabetic is
                // slightly wider (it also admits some combining marks).
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    let near = src.split('\n').next().unwrap_or(src);
                    return Err(DotenvError::syntax(
                        self.line,
                        format!(
                            "unexpected character {} in variable name {}",
                            go_quote(c.encode_utf8(&mut [0; 4])),
                            go_quote(near)
                        ),
                    ));
                }
            }
        }
        // No `=`, `:` or newline before the end of the file: compose reads
        // the whole remainder as the value of an empty key (`A` alone on the
        // last line becomes `=A`).
        Ok(Key {
            name: "",
            rest: src.trim_start_matches(is_blank),
            bare: false,
            raw_has_space: false,
        })
    }

    fn value<'t>(&mut self, src: &'t str) -> Result<(String, &'t str), DotenvError> {
        let key_line = self.line;
        let quote = match src.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                let (raw, rest) = src.split_once('\n').unwrap_or((src, ""));
                self.line = self.line.saturating_add(1);
                // Only " #" starts an inline comment: `a#b` and `a\t#b` keep it.
                let raw = raw.split_once(" #").map_or(raw, |(v, _)| v).trim_end();
                let value = self.expand(raw, key_line)?;
                return Ok((value, rest));
            }
        };

        let bytes = src.as_bytes();
        let mut chars: Vec<u8> = Vec::new();
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
            }
            if b != quote {
                if !escaped && b == b'\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    // Other escapes stay for expand_escapes (double quotes) or
                    // verbatim (single quotes).
                    escaped = false;
                    chars.push(b'\\');
                }
                chars.push(b);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(b);
                continue;
            }
            let raw = String::from_utf8_lossy(&chars).into_owned();
            let value = if quote == b'"' {
                self.expand(&expand_escapes(&raw), key_line)?
            } else {
                raw
            };
            // Whatever follows the closing quote on the line is read as the
            // next statement, as compose does (`A="x" B=2` sets B too).
            return Ok((value, &src[i + 1..]));
        }
        let shown = src.split('\n').next().unwrap_or(src);
        Err(DotenvError::syntax(
            self.line,
            format!("unterminated quoted value {shown}"),
        ))
    }

    fn expand(&mut self, raw: &str, line: u32) -> Result<String, DotenvError> {
        let vars = &self.vars;
        let index = &self.index;
        let process_env = self.process_env;
        let earlier_files = self.earlier_files;
        let lookup = |name: &str| {
            process_env(name)
                .or_else(|| index.get(name).map(|&i| vars[i].1.clone()))
                .or_else(|| earlier_files(name))
        };
        match interpolate::substitute_within(raw, &lookup, &mut self.budget) {
            Ok(s) => {
                for name in s.unset {
                    if self.unset_seen.insert(name.clone()) {
                        self.unset.push(name);
                    }
                }
                Ok(s.value)
            }
            // Not a compose message: say where it happened.
            Err(e @ InterpolateError::TooLarge { .. }) => {
                Err(DotenvError::syntax(line, e.to_string()))
            }
            Err(e) => Err(DotenvError {
                line,
                message: e.to_string(),
                kind: DotenvErrorKind::Interpolation(e),
            }),
        }
    }
}

/// `export KEY=…`: compose strips `export` only when followed by ASCII
/// whitespace (Go's `\s`, so not `\v`), and only once.
fn strip_export(src: &str) -> &str {
    let Some(after) = src.strip_prefix("export") else {
        return src;
    };
    if after.starts_with([' ', '\t', '\n', '\u{C}', '\r']) {
        after.trim_start_matches(is_blank)
    } else {
        src
    }
}

/// Escapes of double-quoted values: `\a \b \f \n \r \t \v \\ \"`, `\$` (kept
/// as `$$` so interpolation leaves a literal `$`) and `\0` plus up to three
/// digits (an octal escape once the `0` is dropped). Anything else, including
/// a malformed octal, stays as written, as Go's `UnquoteChar` failure does in
/// compose.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let Some(c) = after.chars().next() else {
            out.push('\\');
            rest = after;
            break;
        };
        let simple = match c {
            'a' => Some("\u{7}"),
            'b' => Some("\u{8}"),
            'f' => Some("\u{C}"),
            'n' => Some("\n"),
            'r' => Some("\r"),
            't' => Some("\t"),
            'v' => Some("\u{B}"),
            '\\' => Some("\\"),
            '"' => Some("\""),
            '$' => Some("$$"),
            _ => None,
        };
        if let Some(rep) = simple {
            out.push_str(rep);
            rest = &after[1..];
            continue;
        }
        if c == '0' {
            let digits: &str = {
                let tail = &after[1..];
                let n = tail.bytes().take(3).take_while(u8::is_ascii_digit).count();
                &tail[..n]
            };
            match octal(digits) {
                Some(ch) => out.push(ch),
                None => {
                    out.push('\\');
                    out.push_str(digits);
                }
            }
            rest = &after[1 + digits.len()..];
            continue;
        }
        // Not an escape compose knows: keep the backslash, rescan from the
        // next character.
        out.push('\\');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Go's `\ooo`: exactly three octal digits, at most 255, read as a code point.
fn octal(digits: &str) -> Option<char> {
    if digits.len() != 3 {
        return None;
    }
    let v = digits.bytes().try_fold(0u32, |acc, d| {
        (b'0'..=b'7')
            .contains(&d)
            .then(|| acc * 8 + u32::from(d - b'0'))
    })?;
    if v > 255 { None } else { char::from_u32(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn ok(text: &str) -> Vec<(String, String)> {
        match parse(text, &none) {
            Ok(v) => v,
            Err(e) => panic!("{text:?} failed: {e}"),
        }
    }

    fn with_env(text: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
        let env = pairs(env);
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match parse(text, &lookup) {
            Ok(v) => v,
            Err(e) => panic!("{text:?} failed: {e}"),
        }
    }

    fn one(text: &str) -> String {
        let vars = ok(text);
        assert_eq!(vars.len(), 1, "{text:?} gave {vars:?}");
        vars[0].1.clone()
    }

    fn err(text: &str) -> String {
        match parse(text, &none) {
            Ok(v) => panic!("{text:?} gave {v:?}, expected an error"),
            Err(e) => e.to_string(),
        }
    }

    // --- lines, comments, keys --------------------------------------------

    #[test]
    fn simple_pairs_in_file_order() {
        assert_eq!(ok("B=2\nA=1\n"), pairs(&[("B", "2"), ("A", "1")]));
    }

    #[test]
    fn empty_and_blank_files_give_nothing() {
        assert!(ok("").is_empty());
        assert!(ok("   \n\t\n").is_empty());
        assert!(ok("#only").is_empty());
    }

    #[test]
    fn comment_lines_are_skipped_even_indented() {
        assert_eq!(ok("#c\n  # c2\nA=1\n"), pairs(&[("A", "1")]));
    }

    #[test]
    fn export_prefix_is_stripped_once_when_followed_by_whitespace() {
        assert_eq!(ok("export A=1\n"), pairs(&[("A", "1")]));
        assert_eq!(ok("  export   A=1\n"), pairs(&[("A", "1")]));
        assert_eq!(ok("export\tA=1\n"), pairs(&[("A", "1")]));
        assert_eq!(ok("exportA=1\n"), pairs(&[("exportA", "1")]));
        assert_eq!(ok("export=1\n"), pairs(&[("export", "1")]));
        assert_eq!(ok("export:1\n"), pairs(&[("export", "1")]));
        assert_eq!(ok("export\u{B}A=1\n"), pairs(&[("export\u{B}A", "1")]));
        assert_eq!(
            err("export export A=1\n"),
            "line 1: key cannot contain a space"
        );
        assert_eq!(err("EXPORT A=1\n"), "line 1: key cannot contain a space");
    }

    #[test]
    fn export_alone_on_a_line_is_a_bare_empty_key() {
        assert!(ok("export\n").is_empty());
    }

    #[test]
    fn export_with_only_blanks_at_end_of_file_is_zero_length_error() {
        assert_eq!(err("export "), "zero length string");
        assert_eq!(err("A=1\nexport \t"), "zero length string");
    }

    #[test]
    fn yaml_style_colon_separator_is_accepted() {
        assert_eq!(one("A: 1\n"), "1");
        assert_eq!(one("A:1\n"), "1");
        assert_eq!(one("A: 'x'\n"), "x");
        assert_eq!(ok("A:B=1\n"), pairs(&[("A", "B=1")]));
    }

    #[test]
    fn only_the_first_separator_splits() {
        assert_eq!(one("A=b=c\n"), "b=c");
    }

    #[test]
    fn whitespace_around_key_and_value_is_trimmed() {
        assert_eq!(ok("A =  1\n"), pairs(&[("A", "1")]));
        assert_eq!(ok("export  A = 1  \n"), pairs(&[("A", "1")]));
        assert_eq!(one("A=\t 1\t \n"), "1");
        assert_eq!(one("A=1 2 3\n"), "1 2 3");
        assert_eq!(one("A=\u{A0}x\n"), "x");
        // U+3000 is not one of compose's value blanks, but trailing Unicode
        // space is trimmed.
        assert_eq!(one("A=\u{3000}x\n"), "\u{3000}x");
        assert_eq!(one("A=x\u{3000}\n"), "x");
    }

    #[test]
    fn keys_accept_letters_digits_and_punctuation_compose_allows() {
        for key in ["1A", "A-B", "A.B", "A[0]", "Aé", "Ⅻ", "A²", "A-", "."] {
            assert_eq!(ok(&format!("{key}=1\n")), pairs(&[(key, "1")]), "{key}");
        }
        // compose only rejects the ASCII space; other blanks stay in the key.
        assert_eq!(ok("A\tB=1\n"), pairs(&[("A\tB", "1")]));
        assert_eq!(ok("A\u{A0}=1\n"), pairs(&[("A", "1")]));
    }

    #[test]
    fn empty_key_is_accepted() {
        assert_eq!(ok("=1\n"), pairs(&[("", "1")]));
        assert_eq!(ok("  =1\n"), pairs(&[("", "1")]));
    }

    #[test]
    fn invalid_key_character_reports_line_and_go_quoted_text() {
        assert_eq!(
            err("A$=1\nB=2\nC=3\n"),
            r#"line 1: unexpected character "$" in variable name "A$=1""#
        );
        assert_eq!(
            err("\n\nA$=1\n"),
            r#"line 3: unexpected character "$" in variable name "A$=1""#
        );
        assert_eq!(
            err("export A$=1\nB=2\n"),
            r#"line 1: unexpected character "$" in variable name "A$=1""#
        );
        assert_eq!(
            err("A/B=1\n"),
            r#"line 1: unexpected character "/" in variable name "A/B=1""#
        );
        assert_eq!(
            err("A#B=1\n"),
            r##"line 1: unexpected character "#" in variable name "A#B=1""##
        );
        assert_eq!(
            err("A\u{3000}B=1\n"),
            r#"line 1: unexpected character "\u3000" in variable name "A\u3000B=1""#
        );
    }

    #[test]
    fn bom_is_skipped_at_start_only() {
        assert_eq!(ok("\u{FEFF}A=1\n"), pairs(&[("A", "1")]));
        assert_eq!(
            err("A=1\n\u{FEFF}B=2\n"),
            r#"line 2: unexpected character "\ufeff" in variable name "\ufeffB=2""#
        );
    }

    #[test]
    fn key_with_space_is_an_error_with_its_line() {
        assert_eq!(err("A B=1\n"), "line 1: key cannot contain a space");
        assert_eq!(err("A B\n"), "line 1: key cannot contain a space");
        assert_eq!(err("X\nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(
            err("A=1\n\n# c\n  \nC D=1\n"),
            "line 5: key cannot contain a space"
        );
        assert_eq!(err("A =1\nB C =2\n"), "line 2: key cannot contain a space");
    }

    #[test]
    fn bare_key_with_trailing_space_does_not_count_its_line() {
        assert_eq!(err("X \nA B\n"), "line 1: key cannot contain a space");
        assert_eq!(err("X\t \nA B\n"), "line 1: key cannot contain a space");
        assert_eq!(
            err("X \nY \nZ \nA B\n"),
            "line 1: key cannot contain a space"
        );
        assert_eq!(err("X \nY\nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(err("X\t\nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(err("X\u{A0}\nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(err("X\r\nA B\r\n"), "line 2: key cannot contain a space");
        assert_eq!(
            err("export X \nA B\n"),
            "line 1: key cannot contain a space"
        );
        assert_eq!(err("export X\nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(err("export \nA B\n"), "line 2: key cannot contain a space");
        assert_eq!(
            err("X \nB='a\nb'\nA$\n"),
            r#"line 3: unexpected character "$" in variable name "A$""#
        );
    }

    #[test]
    fn line_numbers_count_newlines_inside_quoted_values() {
        assert_eq!(
            err("A=1\nB=\"x\ny\"\nC D=1\n"),
            "line 4: key cannot contain a space"
        );
        assert_eq!(
            err("X=\"a\nb\"\nY\nA B\n"),
            "line 4: key cannot contain a space"
        );
        assert_eq!(
            err("A=1\nB=\"x\ny\"\nC$=1\n"),
            r#"line 4: unexpected character "$" in variable name "C$=1""#
        );
        assert_eq!(
            err("A=\"x\ny\" B=2\nC D=1"),
            "line 3: key cannot contain a space"
        );
    }

    #[test]
    fn crlf_line_endings_are_handled() {
        assert_eq!(ok("A=1\r\nB=2\r\n"), pairs(&[("A", "1"), ("B", "2")]));
        assert_eq!(one("A=\"x\"\r\n"), "x");
        assert_eq!(ok("A\r\n"), pairs(&[]));
        // Inside quotes the CR is content.
        assert_eq!(one("A=\"x\r\ny\"\n"), "x\r\ny");
    }

    #[test]
    fn later_duplicate_wins_at_first_position() {
        assert_eq!(
            ok("A=1\nB=x\nA=2\nC=$A\n"),
            pairs(&[("A", "2"), ("B", "x"), ("C", "2")])
        );
    }

    #[test]
    fn last_line_without_separator_becomes_value_of_empty_key() {
        assert_eq!(ok("A"), pairs(&[("", "A")]));
        assert_eq!(ok("B=1\nA"), pairs(&[("B", "1"), ("", "A")]));
        assert_eq!(ok("A "), pairs(&[("", "A")]));
        assert_eq!(ok("A B"), pairs(&[("", "A B")]));
        assert_eq!(ok("export A"), pairs(&[("", "A")]));
        assert_eq!(ok("export"), pairs(&[("", "export")]));
    }

    // --- bare keys --------------------------------------------------------

    #[test]
    fn bare_key_takes_value_from_lookup() {
        assert_eq!(with_env("A\n", &[("A", "proc")]), pairs(&[("A", "proc")]));
        assert_eq!(with_env("export A\n", &[("A", "p")]), pairs(&[("A", "p")]));
    }

    #[test]
    fn bare_key_unknown_to_lookup_is_skipped() {
        assert_eq!(ok("A\nB=x\n"), pairs(&[("B", "x")]));
    }

    #[test]
    fn bare_key_keeps_earlier_value_when_lookup_does_not_know_it() {
        assert_eq!(ok("A=1\nA\n"), pairs(&[("A", "1")]));
    }

    // --- unquoted values --------------------------------------------------

    #[test]
    fn empty_values() {
        assert_eq!(one("A=\n"), "");
        assert_eq!(one("A=\"\"\n"), "");
        assert_eq!(one("A=''\n"), "");
    }

    #[test]
    fn inline_comment_needs_a_space_before_hash() {
        assert_eq!(one("A=  x y  # comment\n"), "x y");
        assert_eq!(one("A=x #y\n"), "x");
        assert_eq!(one("A=x  #y\n"), "x");
        assert_eq!(one("A=x #y #z\n"), "x");
        assert_eq!(one("A=1 #\n"), "1");
        assert_eq!(one("A=x#y\n"), "x#y");
        assert_eq!(one("A=1#\n"), "1#");
        assert_eq!(one("A=x\t#y\n"), "x\t#y");
        assert_eq!(one("A=x\u{A0}#y\n"), "x\u{A0}#y");
        // Leading blanks are gone before the comment is looked for.
        assert_eq!(one("A= #y\n"), "#y");
        assert_eq!(one("A=#y\n"), "#y");
        assert_eq!(one("A=x \\#y\n"), "x \\#y");
    }

    #[test]
    fn inline_comment_is_cut_before_interpolation() {
        assert_eq!(one("A=${B:-#}\n"), "#");
        assert_eq!(one("A=x ${B:-#}\n"), "x #");
        assert_eq!(err("A=${B:- #}\n"), r#"Invalid template: "${B:-""#);
        assert_eq!(err("A=${B:-x #y}\n"), r#"Invalid template: "${B:-x""#);
    }

    #[test]
    fn unquoted_values_keep_backslashes_and_inner_quotes() {
        assert_eq!(one("A=a\\nb\n"), "a\\nb");
        assert_eq!(one("A=a\"b\n"), "a\"b");
        assert_eq!(one("A=a'b\n"), "a'b");
        assert_eq!(one("A=x\"\n"), "x\"");
        assert_eq!(one("A=\\\"x\\\"\n"), "\\\"x\\\"");
    }

    #[test]
    fn unquoted_values_end_at_newline_only() {
        assert_eq!(one("A=1\rB=2\n"), "1\rB=2");
    }

    // --- quoted values ----------------------------------------------------

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(with_env("A='$B'\n", &[("B", "b")])[0].1, "$B");
        assert_eq!(one("A='a\\nb\"c'\n"), "a\\nb\"c");
        assert_eq!(one("A='x #y'\n"), "x #y");
        assert_eq!(one("A='\"x\"'\n"), "\"x\"");
        assert_eq!(one("A=  'x y'  \n"), "x y");
    }

    #[test]
    fn single_quotes_unescape_only_the_quote() {
        assert_eq!(one("A='x\\'y'\n"), "x'y");
        assert_eq!(one("A='a\\\\b'\n"), "a\\\\b");
        assert_eq!(one("A='a\\\\'\n"), "a\\\\");
    }

    #[test]
    fn double_quotes_keep_spaces_and_hashes() {
        assert_eq!(one("A=\"  x  \"\n"), "  x  ");
        assert_eq!(one("A=\"x #y\" #z\n"), "x #y");
        assert_eq!(one("A= \"x\"\n"), "x");
        assert_eq!(one("A=\"'x'\"\n"), "'x'");
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(one("A=\"\\n\\t\\\\\\\"\\'\"\n"), "\n\t\\\"\\'");
        assert_eq!(one("A=\"\\a\\b\\f\\v\\r\"\n"), "\u{7}\u{8}\u{C}\u{B}\r");
        assert_eq!(one("A=\"x\\\"y\"\n"), "x\"y");
        assert_eq!(one("A=\"a\\\\nb\"\n"), "a\\nb");
        assert_eq!(one("A=\"a\\\\\"\n"), "a\\");
        assert_eq!(one("A=\"a\\\\\\\\nb\"\n"), "a\\\\nb");
    }

    #[test]
    fn double_quote_unknown_escapes_are_kept() {
        assert_eq!(
            one("A=\"\\c\\e\\x41\\u00e9\\z\\101\\U0001F600\"\n"),
            "\\c\\e\\x41\\u00e9\\z\\101\\U0001F600"
        );
    }

    #[test]
    fn double_quote_zero_prefixed_octal_escapes() {
        assert_eq!(
            one("A=\"\\0101\\012\\01234\\09\\0400\\0\"\n"),
            "A\\12S4\\9\\400\\"
        );
        assert_eq!(one("A=\"\\0351\"\n"), "é");
    }

    #[test]
    fn escaped_dollar_in_double_quotes_is_not_interpolated() {
        assert_eq!(with_env("A=\"$B\\$B${B}\"\n", &[("B", "b")])[0].1, "b$Bb");
        assert_eq!(one("A=\"$$\"\n"), "$");
        assert_eq!(with_env("A=\"a\\\\$B\"\n", &[("B", "b")])[0].1, "a\\b");
    }

    #[test]
    fn quoted_values_span_lines() {
        assert_eq!(ok("A=\"x\ny\"\nB=2\n"), pairs(&[("A", "x\ny"), ("B", "2")]));
        assert_eq!(ok("A='x\ny'\nB=2\n"), pairs(&[("A", "x\ny"), ("B", "2")]));
    }

    #[test]
    fn text_after_closing_quote_is_the_next_statement() {
        assert_eq!(ok("A=\"x\" B=2\n"), pairs(&[("A", "x"), ("B", "2")]));
        assert_eq!(ok("A='x' B=2 C=3\n"), pairs(&[("A", "x"), ("B", "2 C=3")]));
        assert_eq!(ok("A=\"x\"#c\nB=2\n"), pairs(&[("A", "x"), ("B", "2")]));
        assert_eq!(
            ok("A=\"x\" trailing\nB=2\n"),
            pairs(&[("A", "x"), ("B", "2")])
        );
        assert_eq!(
            with_env("A=\"x\" trailing\n", &[("trailing", "T")]),
            pairs(&[("A", "x"), ("trailing", "T")])
        );
        assert_eq!(ok("A=\"\"x\n"), pairs(&[("A", "")]));
        assert_eq!(
            err("A=\"x\"\"y\"\n"),
            r#"line 1: unexpected character "\"" in variable name "\"y\"""#
        );
        assert_eq!(
            err("A=''x'\n"),
            r#"line 1: unexpected character "'" in variable name "x'""#
        );
    }

    #[test]
    fn unterminated_quote_reports_line_after_rest_of_file() {
        assert_eq!(err("A=\"x"), "line 1: unterminated quoted value \"x");
        assert_eq!(err("A=\"x\n"), "line 2: unterminated quoted value \"x");
        assert_eq!(err("A=\"x\ny\nz"), "line 3: unterminated quoted value \"x");
        assert_eq!(
            err("A=\"x\ny\nz\n\n"),
            "line 5: unterminated quoted value \"x"
        );
        assert_eq!(err("\n\nA='x\n"), "line 4: unterminated quoted value 'x");
        assert_eq!(
            err("A='x\\'y\n"),
            "line 2: unterminated quoted value 'x\\'y"
        );
        assert_eq!(
            err("A=1\nB='x\ny'\n# c\nC=\"unterminated\n\n"),
            "line 7: unterminated quoted value \"unterminated"
        );
    }

    // --- interpolation ----------------------------------------------------

    #[test]
    fn unquoted_and_double_quoted_values_are_interpolated() {
        assert_eq!(
            ok("A=1\nB=${A}2\nC=\"$A-${X:-d}\"\n"),
            pairs(&[("A", "1"), ("B", "12"), ("C", "1-d")])
        );
        assert_eq!(one("A=${B:-x y}\n"), "x y");
        assert_eq!(one("A=$\n"), "$");
        assert_eq!(one("A=$$\n"), "$");
        assert_eq!(with_env("A=$B\\$B\n", &[("B", "b")])[0].1, "b\\b");
    }

    #[test]
    fn full_operator_set_works_in_values() {
        let text =
            "E=\nS=s\nA=${U:-d}|${E:-d}|${E-d}|${S:+alt}|${E:+alt}|${E+alt}|${S:?m}|${E?m}\n";
        assert_eq!(ok(text)[2].1, "d|d||alt||alt|s|");
    }

    #[test]
    fn earlier_key_of_the_file_is_visible_later() {
        assert_eq!(ok("A=file\nB=${A}\n")[1].1, "file");
        assert_eq!(ok("A=1\nA=${A}2\n"), pairs(&[("A", "12")]));
        assert_eq!(ok("A=${A:-x}\n"), pairs(&[("A", "x")]));
    }

    #[test]
    fn later_key_of_the_file_is_not_visible_earlier() {
        assert_eq!(ok("A=$B\nB=2\n"), pairs(&[("A", ""), ("B", "2")]));
    }

    #[test]
    fn process_environment_wins_over_earlier_key_of_the_file() {
        let vars = with_env("A=file\nB=${A}\n", &[("A", "proc")]);
        assert_eq!(vars, pairs(&[("A", "file"), ("B", "proc")]));
        // Even when set to the empty string.
        let vars = with_env("A=file\nB=${A:-d}\n", &[("A", "")]);
        assert_eq!(vars[1].1, "d");
    }

    #[test]
    fn layered_precedence_is_process_then_this_file_then_earlier_files() {
        let earlier = |k: &str| (k == "A").then(|| "1".to_owned());
        let p = parse_layered("B=${A}\nA=2\nC=${A}\n", &none, &earlier).unwrap();
        assert_eq!(p.vars, pairs(&[("B", "1"), ("A", "2"), ("C", "2")]));
        let proc = |k: &str| (k == "A").then(|| "proc".to_owned());
        let p = parse_layered("B=${A}\nA=2\nC=${A}\n", &proc, &earlier).unwrap();
        assert_eq!(p.vars, pairs(&[("B", "proc"), ("A", "2"), ("C", "proc")]));
    }

    #[test]
    fn layered_bare_key_ignores_earlier_files() {
        let earlier = |k: &str| (k == "A").then(|| "1".to_owned());
        let p = parse_layered("A=2\nA\nB=${A}\n", &none, &earlier).unwrap();
        assert_eq!(p.vars, pairs(&[("A", "2"), ("B", "2")]));
    }

    #[test]
    fn unset_references_are_reported_once() {
        let p = parse_layered("A=$B\nC=${B}${D:-x}$E\n", &none, &none).unwrap();
        assert_eq!(p.unset, vec!["B".to_owned(), "E".to_owned()]);
    }

    #[test]
    fn interpolation_errors_have_no_line_in_display() {
        let e = parse("A=1\n\nB=${C:?m}\n", &none).unwrap_err();
        assert_eq!(e.to_string(), "required variable C is missing a value: m");
        assert_eq!(e.line, 3);
        assert!(matches!(e.kind, DotenvErrorKind::Interpolation(_)));
        assert_eq!(err("A=${B:?}\n"), "required variable B is missing a value");
        assert_eq!(err("A=${}\n"), r#"Invalid template: "${}""#);
        assert_eq!(err("A=\"${}\"\n"), r#"Invalid template: "${}""#);
        assert_eq!(
            err("A=\"${B:-x\ny}\"\n"),
            r#"Invalid template: "${B:-x\ny}""#
        );
        assert_eq!(err("A=\"${B:?\"}\"\n"), r#"Invalid template: "${B:?""#);
        assert_eq!(
            err("A=\"${B:?\\\"}\"\n"),
            r#"required variable B is missing a value: ""#
        );
    }

    #[test]
    fn large_file_parses_in_order() {
        let text: String = (0..50_000).map(|i| format!("K{i}=\"v$K{i}\"\n")).collect();
        let p = parse_layered(&text, &none, &none).unwrap();
        assert_eq!(p.vars.len(), 50_000);
        assert_eq!(p.vars[49_999], ("K49999".to_owned(), "v".to_owned()));
        assert_eq!(p.unset.len(), 50_000);
    }

    #[test]
    fn keys_doubling_earlier_keys_are_refused_before_memory_runs_out() {
        // Billion laughs in .env: A11 alone would be 10^12 bytes.
        let mut text = String::from("A0=xxxxxxxxxx\n");
        for i in 1..12 {
            text.push_str(&format!("A{i}={}\n", format!("${{A{}}}", i - 1).repeat(10)));
        }
        let e = parse_layered(&text, &none, &none).unwrap_err();
        assert_eq!(e.kind, DotenvErrorKind::Syntax);
        // 10^7 bytes fit in the 64 MiB budget, 10^8 do not.
        assert_eq!(e.line, 8, "{e}");
        assert!(
            e.to_string()
                .starts_with("line 8: values expand to more than 64 MiB"),
            "{e}"
        );
    }

    // --- properties -------------------------------------------------------

    fn lookup_some(k: &str) -> Option<String> {
        k.len().is_multiple_of(2).then(|| format!("<{k}>"))
    }

    proptest! {
        #[test]
        fn never_panics_on_dotenv_characters(s in r#"[${}:\-?+'"\\#= \t\r\nAB_1é\u{FEFF}]{0,80}"#) {
            let _ = parse_layered(&s, &lookup_some, &lookup_some);
        }

        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = parse_layered(&s, &lookup_some, &lookup_some);
        }

        #[test]
        fn plain_unquoted_value_is_returned_unchanged(
            key in "[A-Za-z_][A-Za-z0-9_]{0,8}",
            value in "[A-Za-z0-9_./,:;@%^&*()!~-][A-Za-z0-9_./,:;@%^&*()!~ -]{0,30}[A-Za-z0-9_./,:;@%^&*()!~-]",
        ) {
            let vars = parse(&format!("{key}={value}\n"), &none).unwrap();
            prop_assert_eq!(vars, vec![(key, value)]);
        }

        #[test]
        fn single_quoted_value_without_quote_or_backslash_is_literal(
            value in r#"[^'\\]{0,40}"#,
        ) {
            let vars = parse(&format!("K='{value}'\n"), &lookup_some).unwrap();
            prop_assert_eq!(vars, vec![("K".to_owned(), value)]);
        }
    }
}
