//! Compose variable interpolation of one string value, as Docker Compose v2
//! (compose-go v2 `template`) does it.
//!
//! This module owns the `$` grammar only: `$$`, `$NAME`, `${NAME}` and the
//! operators `:-` `-` `:?` `?` `:+` `+`, with compose's quirks reproduced on
//! purpose (checked against `docker compose` v2.40.3). It must not know where a
//! value comes from (YAML path, `.env` line) or where variables come from: the
//! caller passes a lookup, receives the names that were unset, and decides how
//! to word and where to print warnings and errors. Nothing here panics on
//! input, and recursion is bounded.

use std::collections::HashSet;
use std::fmt::Write as _;

/// Nesting deeper than this (`${A:-${B:-${C:-…}}}`) is rejected as invalid
/// rather than risking the stack; compose has no limit but no real file needs
/// more than a handful of levels.
pub const MAX_DEPTH: usize = 100;

/// The most interpolation may produce for one file (a compose file, an env
/// file), all of its values together, nested arguments included: 64 MiB. A
/// real file's values expand to about the size of the file; without a bound,
/// `$BIG` repeated, or `.env` lines doubling an earlier key, grow
/// exponentially. Callers keep one budget per file (`substitute_within`).
pub const MAX_EXPANDED_BYTES: usize = 64 * 1024 * 1024;

/// The result of a successful substitution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Substituted {
    pub value: String,
    /// Names referenced without an operator (`$V`, `${V}`) that the lookup did
    /// not know, in order of first appearance, without duplicates. Compose
    /// warns "The \"V\" variable is not set. Defaulting to a blank string."
    /// for each of them. Names inside an operator's argument count too, even
    /// when the argument ends up unused, because compose expands it first.
    pub unset: Vec<String>,
}

/// Why a template could not be substituted.
///
/// `Display` is compose-go's own text, which is also what compose prints for a
/// bad `.env` value. For a value of a compose file, compose words it with the
/// value's path: use [`InterpolateError::at_path`].
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum InterpolateError {
    /// `${V:?msg}` / `${V?msg}` triggered; `message` is already expanded.
    #[error("{}", required_text(name, message))]
    Required { name: String, message: String },
    /// Malformed template; `template` is the (sub)string compose reports,
    /// which for a nested or trailing part is that part, not the whole value.
    #[error("Invalid template: {}", go_quote(template))]
    Invalid { template: String },
    /// The file's values together expand to more than `limit` bytes.
    #[error("{}", too_large_text(*limit))]
    TooLarge { limit: usize },
}

impl InterpolateError {
    /// Compose's message for a value of a compose file at `path`
    /// (e.g. `services.web.image`).
    pub fn at_path(&self, path: &str) -> String {
        match self {
            InterpolateError::Required { name, message } => format!(
                "error while interpolating {path}: {}",
                required_text(name, message)
            ),
            InterpolateError::Invalid { template } => format!(
                "invalid interpolation format for {path}.\n\
                 You may need to escape any $ with another $.\n{}",
                shortened(template)
            ),
            InterpolateError::TooLarge { limit } => {
                format!(
                    "error while interpolating {path}: {}",
                    too_large_text(*limit)
                )
            }
        }
    }
}

fn too_large_text(limit: usize) -> String {
    format!(
        "values expand to more than {} MiB in this file (a variable holding a huge value, or used very many times)",
        limit / (1024 * 1024)
    )
}

/// A template quoted in an error, cut after 400 characters: compose prints it
/// whole, but a hostile multi-megabyte value must not flood the terminal.
fn shortened(template: &str) -> String {
    const SHOWN: usize = 400;
    match template.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} bytes)", &template[..cut], template.len()),
        None => template.to_owned(),
    }
}

fn required_text(name: &str, message: &str) -> String {
    // Compose drops the ": " when the (expanded) message is empty.
    if message.is_empty() {
        format!("required variable {name} is missing a value")
    } else {
        format!("required variable {name} is missing a value: {message}")
    }
}

/// Substitute every `$` reference of `template`.
///
/// `lookup` answers `None` for an unset variable; `Some("")` is a variable set
/// to the empty string, which is "set" for `-`, `?` and `+`.
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, InterpolateError> {
    let mut budget = MAX_EXPANDED_BYTES;
    substitute_within(template, lookup, &mut budget)
}

/// `substitute`, charging every byte it produces (nested arguments included)
/// to `budget`, which the caller shares between the values of one file; fails
/// with `TooLarge` rather than exceed it.
pub fn substitute_within(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    budget: &mut usize,
) -> Result<Substituted, InterpolateError> {
    let mut unset = Unset::default();
    let mut charge = Charge { budget };
    let value = substitute_at(template, lookup, &mut unset, &mut charge, 0)?;
    Ok(Substituted {
        value,
        unset: unset.names,
    })
}

/// The byte budget of one substitution, charged as output is produced.
struct Charge<'b> {
    budget: &'b mut usize,
}

impl Charge<'_> {
    fn push(&mut self, out: &mut String, text: &str) -> Result<(), InterpolateError> {
        *self.budget = self
            .budget
            .checked_sub(text.len())
            .ok_or(InterpolateError::TooLarge {
                limit: MAX_EXPANDED_BYTES,
            })?;
        out.push_str(text);
        Ok(())
    }
}

/// Unset names in order, with a set so that a value naming thousands of
/// distinct variables stays linear.
#[derive(Default)]
struct Unset {
    names: Vec<String>,
    seen: HashSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    DefaultIfUnsetOrEmpty, // :-
    DefaultIfUnset,        // -
    ErrorIfUnsetOrEmpty,   // :?
    ErrorIfUnset,          // ?
    AltIfSetAndNonEmpty,   // :+
    AltIfSet,              // +
}

/// Where the last `}` of a line is, cached so that many `${V:-x}` on one long
/// line stay linear.
struct LineBraces {
    from: usize,
    line_end: usize,
    last_brace: Option<usize>,
}

fn substitute_at(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Unset,
    charge: &mut Charge<'_>,
    depth: usize,
) -> Result<String, InterpolateError> {
    if depth >= MAX_DEPTH {
        return Err(InterpolateError::Invalid {
            template: template.to_owned(),
        });
    }
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    let mut i = 0;
    // compose-go substitutes the text between an operator's closing brace and
    // the end of its greedy match (the last `}` of the line) as a new
    // template, so an invalid `${` there is reported with that tail only;
    // past that point the whole template is reported again.
    let mut reported_from = 0;
    let mut tail_end: Option<usize> = None;
    let mut line_cache: Option<LineBraces> = None;

    while i < bytes.len() {
        let Some(rel) = template[i..].find('$') else {
            charge.push(&mut out, &template[i..])?;
            break;
        };
        let dollar = i + rel;
        charge.push(&mut out, &template[i..dollar])?;
        if tail_end.is_some_and(|end| dollar > end) {
            reported_from = 0;
            tail_end = None;
        }
        let after = dollar + 1;
        match bytes.get(after) {
            Some(b'$') => {
                charge.push(&mut out, "$")?;
                i = after + 1;
            }
            Some(b'{') => {
                let reported_to = tail_end.map_or(template.len(), |end| end + 1);
                let invalid = || InterpolateError::Invalid {
                    template: template[reported_from..reported_to].to_owned(),
                };
                let name_start = after + 1;
                let name_end = scan_name(template, name_start).ok_or_else(invalid)?;
                let name = &template[name_start..name_end];
                if bytes.get(name_end) == Some(&b'}') {
                    charge.push(&mut out, &lookup_direct(name, lookup, unset))?;
                    i = name_end + 1;
                    continue;
                }
                let (op, arg_start) = scan_op(bytes, name_end).ok_or_else(invalid)?;
                // compose-go's pattern ends an operator's argument at the LAST
                // `}` of the line (greedy `.*}`), then cuts it back at the
                // first `}` that balances the `{` openings before it.
                let last =
                    last_brace_on_line(bytes, arg_start, &mut line_cache).ok_or_else(invalid)?;
                let (arg_end, next) = match balanced_close(bytes, dollar, last) {
                    Some(close) => {
                        reported_from = close + 1;
                        tail_end = Some(last);
                        (close, close + 1)
                    }
                    None => (last, last + 1),
                };
                let arg = &template[arg_start..arg_end];
                let value = apply(op, name, arg, lookup, unset, charge, depth)?;
                charge.push(&mut out, &value)?;
                i = next;
            }
            _ => {
                if let Some(name_end) = scan_name(template, after) {
                    let name = &template[after..name_end];
                    charge.push(&mut out, &lookup_direct(name, lookup, unset))?;
                    i = name_end;
                } else {
                    // A `$` not followed by a name, `{` or `$` is kept as is:
                    // compose only rejects a malformed `${`.
                    charge.push(&mut out, "$")?;
                    i = after;
                }
            }
        }
    }
    Ok(out)
}

fn lookup_direct(name: &str, lookup: &dyn Fn(&str) -> Option<String>, unset: &mut Unset) -> String {
    match lookup(name) {
        Some(value) => value,
        None => {
            if unset.seen.insert(name.to_owned()) {
                unset.names.push(name.to_owned());
            }
            String::new()
        }
    }
}

fn apply(
    op: Op,
    name: &str,
    arg: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Unset,
    charge: &mut Charge<'_>,
    depth: usize,
) -> Result<String, InterpolateError> {
    // compose expands the argument before looking at the variable, so its
    // errors and unset warnings happen even when the argument is not used.
    let arg = substitute_at(arg, lookup, unset, charge, depth + 1)?;
    let value = lookup(name);
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let required = |value: Option<String>| {
        value.ok_or_else(|| InterpolateError::Required {
            name: name.to_owned(),
            message: arg.clone(),
        })
    };
    match op {
        Op::DefaultIfUnsetOrEmpty => Ok(if non_empty {
            value.unwrap_or_default()
        } else {
            arg.clone()
        }),
        Op::DefaultIfUnset => Ok(value.unwrap_or_else(|| arg.clone())),
        Op::ErrorIfUnsetOrEmpty => required(value.filter(|v| !v.is_empty())),
        Op::ErrorIfUnset => required(value),
        Op::AltIfSetAndNonEmpty => Ok(if non_empty {
            arg.clone()
        } else {
            value.unwrap_or_default()
        }),
        Op::AltIfSet => Ok(if value.is_some() {
            arg.clone()
        } else {
            String::new()
        }),
    }
}

/// End of a variable name starting at `start`, if one starts there.
///
/// compose-go matches names with `(?i)[_a-z][_a-z0-9]*`; Go's case folding
/// makes `ſ` (U+017F, folds to s) and `K` (U+212A, Kelvin, folds to k) letters
/// too, and compose really accepts them.
fn scan_name(text: &str, start: usize) -> Option<usize> {
    let mut end = start;
    for c in text.get(start..)?.chars() {
        let ok = c == '_'
            || c.is_ascii_alphabetic()
            || c == '\u{17F}'
            || c == '\u{212A}'
            || (end > start && c.is_ascii_digit());
        if !ok {
            break;
        }
        end += c.len_utf8();
    }
    (end > start).then_some(end)
}

/// The operator right after a braced name, and where its argument starts.
fn scan_op(bytes: &[u8], at: usize) -> Option<(Op, usize)> {
    let colon = bytes.get(at) == Some(&b':');
    let sign_at = if colon { at + 1 } else { at };
    let op = match (colon, bytes.get(sign_at)?) {
        (true, b'-') => Op::DefaultIfUnsetOrEmpty,
        (false, b'-') => Op::DefaultIfUnset,
        (true, b'?') => Op::ErrorIfUnsetOrEmpty,
        (false, b'?') => Op::ErrorIfUnset,
        (true, b'+') => Op::AltIfSetAndNonEmpty,
        (false, b'+') => Op::AltIfSet,
        _ => return None,
    };
    Some((op, sign_at + 1))
}

/// The last `}` at or after `from` and before the end of its line (Go's `.`
/// does not match `\n`).
fn last_brace_on_line(bytes: &[u8], from: usize, cache: &mut Option<LineBraces>) -> Option<usize> {
    if let Some(c) = cache
        .as_ref()
        .filter(|c| c.from <= from && from < c.line_end)
    {
        return c.last_brace.filter(|&b| b >= from);
    }
    let rest = bytes.get(from..)?;
    let line_end = rest
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p);
    let last_brace = bytes[from..line_end]
        .iter()
        .rposition(|&b| b == b'}')
        .map(|p| from + p);
    *cache = Some(LineBraces {
        from,
        line_end,
        last_brace,
    });
    last_brace
}

/// compose-go's cut of a greedy match `bytes[start..=end]`: the first `}`
/// where the count of `{` seen so far drops back to zero. Every `{` counts,
/// not only `${`, and the byte right after a `{` is skipped, so in `{}` the
/// `}` is not seen and in `{{` only one `{` counts; a `}` before any `{` just
/// makes the count negative. All of this is what compose really does.
fn balanced_close(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let mut open: i64 = 0;
    let mut i = start;
    while i <= end && i < bytes.len() {
        match bytes[i] {
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            b'{' => {
                open += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Go's `strconv.Quote` (`%q` / `%#v` of a string), used by compose-go in its
/// messages. Printability follows Go's `unicode.IsPrint` closely but not
/// exactly: unassigned code points are kept as is.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Approximation of Go's `unicode.IsPrint`: everything but controls, spaces
/// other than U+0020, format characters, private use and noncharacters.
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xFFFE..=0xFFFF | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0x110BD | 0x110CD
        | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001
        | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn run(template: &str, pairs: &[(&str, &str)]) -> Result<Substituted, InterpolateError> {
        let map = env(pairs);
        substitute(template, &|k| map.get(k).cloned())
    }

    fn value(template: &str, pairs: &[(&str, &str)]) -> String {
        match run(template, pairs) {
            Ok(s) => s.value,
            Err(e) => panic!("{template:?} failed: {e}"),
        }
    }

    fn unset(template: &str, pairs: &[(&str, &str)]) -> Vec<String> {
        match run(template, pairs) {
            Ok(s) => s.unset,
            Err(e) => panic!("{template:?} failed: {e}"),
        }
    }

    fn error(template: &str, pairs: &[(&str, &str)]) -> InterpolateError {
        match run(template, pairs) {
            Ok(s) => panic!("{template:?} gave {:?}, expected an error", s.value),
            Err(e) => e,
        }
    }

    fn invalid(template: &str) -> InterpolateError {
        InterpolateError::Invalid {
            template: template.to_owned(),
        }
    }

    // --- plain references -------------------------------------------------

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(value("$$", &[]), "$");
        assert_eq!(value("$$A", &[("A", "1")]), "$A");
        assert_eq!(value("a$${A}b", &[("A", "1")]), "a${A}b");
    }

    #[test]
    fn bare_and_braced_names_are_replaced() {
        assert_eq!(value("$A", &[("A", "1")]), "1");
        assert_eq!(value("${A}", &[("A", "1")]), "1");
        assert_eq!(value("x$A-${B}y", &[("A", "1"), ("B", "2")]), "x1-2y");
        assert_eq!(value("$A$B", &[("A", "1"), ("B", "2")]), "12");
    }

    #[test]
    fn bare_name_stops_at_first_non_name_character() {
        assert_eq!(value("$A.b", &[("A", "1")]), "1.b");
        assert_eq!(value("$A_b", &[("A_b", "2")]), "2");
        assert_eq!(value("$A9", &[("A9", "3")]), "3");
    }

    #[test]
    fn names_are_case_sensitive_and_lowercase_is_allowed() {
        assert_eq!(value("$a", &[("a", "lc"), ("A", "uc")]), "lc");
    }

    #[test]
    fn go_case_folding_letters_long_s_and_kelvin_are_name_characters() {
        assert_eq!(unset("$\u{17F}x", &[]), vec!["\u{17F}x".to_owned()]);
        assert_eq!(unset("a$\u{212A}B", &[]), vec!["\u{212A}B".to_owned()]);
    }

    #[test]
    fn unset_direct_reference_becomes_empty_and_is_recorded() {
        let s = run("a${A}b$B$A", &[]).unwrap();
        assert_eq!(s.value, "ab");
        assert_eq!(s.unset, vec!["A".to_owned(), "B".to_owned()]);
    }

    #[test]
    fn variable_set_to_empty_is_not_recorded_as_unset() {
        let s = run("${A}", &[("A", "")]).unwrap();
        assert_eq!(s.value, "");
        assert!(s.unset.is_empty());
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(value("$A", &[("A", "$B"), ("B", "no")]), "$B");
    }

    // --- lone and odd dollars ---------------------------------------------

    #[test]
    fn lone_dollar_at_end_is_kept() {
        assert_eq!(value("$", &[]), "$");
        assert_eq!(value("a$", &[]), "a$");
    }

    #[test]
    fn dollar_before_non_name_character_is_kept() {
        assert_eq!(value("$1", &[]), "$1");
        assert_eq!(value("$-", &[]), "$-");
        assert_eq!(value("$ x", &[]), "$ x");
        assert_eq!(value("$é", &[]), "$é");
        assert_eq!(value("}$A", &[]), "}");
    }

    #[test]
    fn empty_braces_are_invalid() {
        assert_eq!(error("${}", &[]), invalid("${}"));
    }

    #[test]
    fn unterminated_brace_is_invalid() {
        assert_eq!(error("${A", &[]), invalid("${A"));
        assert_eq!(error("x ${} y ${", &[]), invalid("x ${} y ${"));
    }

    #[test]
    fn spaces_digits_or_unknown_operators_in_braces_are_invalid() {
        for t in [
            "${ A}", "${A }", "${1A}", "${A:x}", "${A=x}", "${A:=x}", "${é}",
        ] {
            assert_eq!(error(t, &[]), invalid(t), "{t}");
        }
    }

    #[test]
    fn operator_argument_cannot_span_lines() {
        assert_eq!(error("${A:-x\ny}", &[]), invalid("${A:-x\ny}"));
        assert_eq!(value("${A:-x}\n${B:-y}", &[]), "x\ny");
    }

    // --- operators --------------------------------------------------------

    #[test]
    fn default_applies_when_variable_is_empty_with_colon_form() {
        assert_eq!(value("${A:-d}", &[("A", "")]), "d");
        assert_eq!(value("${A:-d}", &[]), "d");
        assert_eq!(value("${A:-d}", &[("A", "v")]), "v");
    }

    #[test]
    fn default_applies_only_when_unset_without_colon() {
        assert_eq!(value("${A-d}", &[("A", "")]), "");
        assert_eq!(value("${A-d}", &[]), "d");
        assert_eq!(value("${A-d}", &[("A", "v")]), "v");
    }

    #[test]
    fn empty_default_is_allowed() {
        assert_eq!(value("${A-}", &[]), "");
        assert_eq!(value("${A:-}", &[]), "");
    }

    #[test]
    fn operator_references_are_not_recorded_as_unset() {
        assert!(unset("${A:-x}${B-y}${C:+z}${D+w}", &[]).is_empty());
    }

    #[test]
    fn alternative_applies_when_set_and_non_empty_with_colon_form() {
        assert_eq!(value("${A:+alt}", &[("A", "v")]), "alt");
        assert_eq!(value("${A:+alt}", &[("A", "")]), "");
        assert_eq!(value("${A:+alt}", &[]), "");
        assert_eq!(value("${A:+}", &[("A", "1")]), "");
    }

    #[test]
    fn alternative_applies_when_set_without_colon() {
        assert_eq!(value("${A+alt}", &[("A", "")]), "alt");
        assert_eq!(value("${A+alt}", &[("A", "v")]), "alt");
        assert_eq!(value("${A+alt}", &[]), "");
    }

    #[test]
    fn required_with_colon_fails_when_unset_or_empty() {
        let e = error("${A:?msg here}", &[]);
        assert_eq!(
            e,
            InterpolateError::Required {
                name: "A".into(),
                message: "msg here".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "required variable A is missing a value: msg here"
        );
        assert_eq!(
            error("${A:?msg}", &[("A", "")]).to_string(),
            "required variable A is missing a value: msg"
        );
        assert_eq!(value("${A:?msg}", &[("A", "v")]), "v");
    }

    #[test]
    fn required_without_colon_fails_only_when_unset() {
        assert_eq!(value("${A?msg}", &[("A", "")]), "");
        assert_eq!(value("${A?}", &[("A", "")]), "");
        assert_eq!(
            error("${A?msg}", &[]).to_string(),
            "required variable A is missing a value: msg"
        );
    }

    #[test]
    fn required_with_empty_message_has_no_colon() {
        assert_eq!(
            error("${A:?}", &[]).to_string(),
            "required variable A is missing a value"
        );
        assert_eq!(
            error("${A?}", &[]).to_string(),
            "required variable A is missing a value"
        );
        // The message is expanded first; empty after expansion counts too.
        assert_eq!(
            error("${A:?${B}}", &[]).to_string(),
            "required variable A is missing a value"
        );
    }

    #[test]
    fn operator_characters_inside_argument_are_plain_text() {
        assert_eq!(value("x${A:-a:-b}", &[]), "xa:-b");
        assert_eq!(value("${A-a?b}", &[]), "a?b");
        assert_eq!(
            error("${A?a-b}", &[]).to_string(),
            "required variable A is missing a value: a-b"
        );
        assert_eq!(
            error("${A:?a:-b}", &[]).to_string(),
            "required variable A is missing a value: a:-b"
        );
    }

    // --- nesting ----------------------------------------------------------

    #[test]
    fn default_is_expanded_recursively() {
        assert_eq!(value("${A:-${B:-x}}", &[]), "x");
        assert_eq!(value("${A:-${B:-x}}", &[("B", "b")]), "b");
        assert_eq!(value("${A:-${B:-${C:-z}}}", &[]), "z");
        assert_eq!(value("${A:-$B}", &[("B", "bb")]), "bb");
        assert_eq!(value("${A:-a${B}b}", &[("B", "B")]), "aBb");
        assert_eq!(value("${A:-${B:-x}y}", &[]), "xy");
    }

    #[test]
    fn alternative_and_message_are_expanded_recursively() {
        assert_eq!(value("${A:+${B}}", &[("A", "1"), ("B", "b")]), "b");
        assert_eq!(
            error("${A:?need $B}", &[("B", "it")]).to_string(),
            "required variable A is missing a value: need it"
        );
    }

    #[test]
    fn text_after_an_operator_expression_is_expanded() {
        assert_eq!(value("${A:-${B}}y", &[("B", "b")]), "by");
        assert_eq!(value("${A:-x}${B:-y}", &[]), "xy");
        assert_eq!(value("${A:-x} $B", &[("B", "b")]), "x b");
    }

    #[test]
    fn braces_that_do_not_open_a_reference_are_kept() {
        assert_eq!(value("${A:-{x}}", &[]), "{x}");
        assert_eq!(value("${A:-a}b}", &[]), "ab}");
        assert_eq!(value("${A:-x}}", &[]), "x}");
    }

    #[test]
    fn argument_end_counts_every_brace_and_skips_the_byte_after_an_opening() {
        assert_eq!(value("${A:-{}x}", &[]), "{}x");
        assert_eq!(value("${A:-{x}y}z}", &[]), "{x}yz}");
        assert_eq!(value("${A:-{{x}}y}", &[]), "{{x}y}");
        assert_eq!(value("${A:-}}}", &[]), "}}");
        assert_eq!(value("${A:-x}${B}}", &[("B", "b")]), "xb}");
        assert_eq!(value("${A:-a}{b}", &[]), "a{b}");
        assert_eq!(value("${A:-$${B}}", &[]), "${B}");
        // An unbalanced `{` leaves the whole greedy match as the argument.
        let e = error("${A:-{$B}${C}", &[("A", "a"), ("B", "b"), ("C", "c")]);
        assert_eq!(e, invalid("{$B}${C"));
        assert_eq!(error("${A:-{a}${B:-b}", &[]), invalid("{a}${B:-b"));
    }

    #[test]
    fn escaped_dollar_inside_default_is_unescaped_once() {
        assert_eq!(value("${A:-$$}", &[]), "$");
        assert_eq!(value("${A:-$}", &[]), "$");
    }

    #[test]
    fn argument_is_expanded_even_when_unused() {
        let s = run("${A:-$B}", &[("A", "set")]).unwrap();
        assert_eq!(s.value, "set");
        assert_eq!(s.unset, vec!["B".to_owned()]);
        assert_eq!(run("${A:+${B}}", &[]).unwrap().unset, vec!["B".to_owned()]);
        assert_eq!(error("${A:-${}}", &[("A", "set")]), invalid("${}"));
    }

    #[test]
    fn invalid_nested_template_reports_the_nested_part() {
        assert_eq!(error("${A:-${B}", &[]), invalid("${B"));
        assert_eq!(error("${A:-x} ${C:-${}}", &[]), invalid("${}"));
    }

    #[test]
    fn invalid_text_after_an_operator_expression_reports_that_text() {
        assert_eq!(error("${A:-x} ${}", &[]), invalid(" ${}"));
    }

    #[test]
    fn invalid_text_past_the_greedy_match_reports_the_whole_value() {
        let t = "${C:+$$}$A{$$}${A";
        assert_eq!(error(t, &[("C", "")]), invalid(t));
        let t = "${B:-A'}${B:-";
        assert_eq!(error(t, &[]), invalid(t));
        // Inside the greedy match, the tail after the cut is reported.
        assert_eq!(error("${B:-x}${}}z", &[]), invalid("${}}"));
    }

    #[test]
    fn invalid_plain_reference_reports_the_whole_value() {
        assert_eq!(error("${A}\n${}", &[]), invalid("${A}\n${}"));
        assert_eq!(error("${} ${A:?m1}", &[]), invalid("${} ${A:?m1}"));
    }

    #[test]
    fn first_error_in_the_value_wins() {
        assert_eq!(
            error("${A:?m1}\n${B:?m2}", &[]).to_string(),
            "required variable A is missing a value: m1"
        );
        assert_eq!(
            error("${A:?m1}\n${}", &[]).to_string(),
            "required variable A is missing a value: m1"
        );
        assert_eq!(error("${}\n${A:?m1}", &[]), invalid("${}\n${A:?m1}"));
        assert_eq!(
            error("${A:-x} ${B:?req} ${}", &[]).to_string(),
            "required variable B is missing a value: req"
        );
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let deep = format!("{}x{}", "${A:-".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(matches!(
            run(&deep, &[]),
            Err(InterpolateError::Invalid { .. })
        ));
        let ok = format!(
            "{}x{}",
            "${A:-".repeat(MAX_DEPTH - 1),
            "}".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(value(&ok, &[]), "x");
    }

    #[test]
    fn a_huge_variable_repeated_is_refused_before_it_is_built() {
        let big = "x".repeat(1024 * 1024);
        let t = "$BIG".repeat(100);
        let e = run(&t, &[("BIG", &big)]).unwrap_err();
        assert_eq!(
            e,
            InterpolateError::TooLarge {
                limit: MAX_EXPANDED_BYTES
            }
        );
        assert!(
            e.at_path("services.web.command").starts_with(
                "error while interpolating services.web.command: values expand to more than 64 MiB"
            ),
            "{}",
            e.at_path("x")
        );
    }

    #[test]
    fn the_budget_is_shared_by_every_value_of_a_file() {
        let lookup = |k: &str| (k == "A").then(|| "abc".to_string());
        let mut budget = 10;
        assert_eq!(
            substitute_within("$A-$A", &lookup, &mut budget)
                .unwrap()
                .value,
            "abc-abc"
        );
        assert_eq!(budget, 3);
        assert!(substitute_within("${A}", &lookup, &mut budget).is_ok());
        assert_eq!(budget, 0);
        assert!(matches!(
            substitute_within("x", &lookup, &mut budget),
            Err(InterpolateError::TooLarge { .. })
        ));
    }

    #[test]
    fn unused_arguments_are_charged_too() {
        // compose expands an argument even when it is not used, so a bomb
        // hidden in one must not escape the budget.
        let lookup = |k: &str| (k == "BIG").then(|| "x".repeat(1024 * 1024));
        let t = format!("${{SET:+{}}}", "$BIG".repeat(100));
        let mut budget = MAX_EXPANDED_BYTES;
        assert!(matches!(
            substitute_within(&t, &lookup, &mut budget),
            Err(InterpolateError::TooLarge { .. })
        ));
    }

    #[test]
    fn long_invalid_templates_are_shortened_in_compose_file_errors() {
        let t = format!("${{{}", "a".repeat(100_000));
        let shown = invalid(&t).at_path("services.s.image");
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        assert!(shown.ends_with("… (100002 bytes)"), "{shown}");
    }

    #[test]
    fn many_operator_expressions_on_one_line_stay_fast() {
        let t = "${A:-x}".repeat(20_000);
        assert_eq!(value(&t, &[]), "x".repeat(20_000));
    }

    #[test]
    fn many_distinct_unset_names_stay_fast() {
        let t: String = (0..50_000).map(|i| format!("$V{i} ")).collect();
        let s = run(&t, &[]).unwrap();
        assert_eq!(s.unset.len(), 50_000);
        assert_eq!(s.unset[49_999], "V49999");
    }

    #[test]
    fn multibyte_text_is_preserved() {
        assert_eq!(value("é${A:-ü}€$B🎉", &[("B", "ß")]), "éü€ß🎉");
    }

    // --- messages ---------------------------------------------------------

    #[test]
    fn invalid_display_is_compose_go_text_with_go_quoting() {
        assert_eq!(invalid("${}").to_string(), r#"Invalid template: "${}""#);
        assert_eq!(
            invalid("${B:-x\ny}").to_string(),
            r#"Invalid template: "${B:-x\ny}""#
        );
        assert_eq!(
            invalid("a\"\\\u{feff}\u{1}").to_string(),
            r#"Invalid template: "a\"\\\ufeff\x01""#
        );
    }

    #[test]
    fn at_path_uses_compose_file_wording() {
        assert_eq!(
            invalid("${}").at_path("services.s.labels.v"),
            "invalid interpolation format for services.s.labels.v.\n\
             You may need to escape any $ with another $.\n${}"
        );
        assert_eq!(
            error("${A:?msg}", &[]).at_path("services.s.image"),
            "error while interpolating services.s.image: required variable A is missing a value: msg"
        );
    }

    // --- properties -------------------------------------------------------

    fn lookup_some(k: &str) -> Option<String> {
        match k.len() % 3 {
            0 => None,
            1 => Some(String::new()),
            _ => Some(format!("<{k}>")),
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_template_characters(s in r#"[${}:\-?+'"\\#=\nAB_1 é]{0,64}"#) {
            let _ = substitute(&s, &lookup_some);
        }

        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = substitute(&s, &lookup_some);
        }

        #[test]
        fn text_without_dollar_is_unchanged(s in "[^$]{0,64}") {
            let r = substitute(&s, &lookup_some).unwrap();
            prop_assert_eq!(r.value, s);
            prop_assert!(r.unset.is_empty());
        }

        #[test]
        fn doubled_dollars_round_trip(s in any::<String>()) {
            let escaped = s.replace('$', "$$");
            let r = substitute(&escaped, &lookup_some).unwrap();
            prop_assert_eq!(r.value, s);
        }
    }
}
