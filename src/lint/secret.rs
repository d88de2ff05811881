//! Secret heuristics on text as written in a compose file: is a value literal
//! or interpolated, does its name or its shape say "secret". Pure string
//! functions; they report a reason and a length, never the value itself.

use super::rules::Severity;

/// A literal secret found in one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub severity: Severity,
    /// Why it looks like a secret ("its name says so", "the shape of ...").
    pub reason: String,
    /// Characters of the literal text (what the finding may say about it).
    pub chars: usize,
    /// Set when the literal is the default of `${VAR:-default}`: VAR.
    pub default_of: Option<String>,
}

/// How hard to look: environment values and build args are checked by name,
/// token shape and entropy; other strings (commands, labels) by token shape only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Full,
    ShapeOnly,
}

/// Check one value, written as `raw` in the file, assigned to `name` (a
/// variable or key, when there is one).
pub fn check(name: Option<&str>, raw: &str, depth: Depth) -> Option<Hit> {
    let pieces = split(raw);
    let interpolated = pieces.iter().any(|p| matches!(p, Piece::Var { .. }));
    if !interpolated {
        let literal: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Var { .. } => "",
            })
            .collect();
        return judge_literal(&[name], &literal, depth);
    }
    // A default written in the file is as literal as any other value.
    for p in &pieces {
        if let Piece::Var {
            name: var,
            default: Some(d),
        } = p
            && let Some(mut hit) = check_default(&[name, Some(var)], d, depth)
        {
            hit.default_of.get_or_insert_with(|| var.clone());
            return Some(hit);
        }
    }
    // Literal fragments around `${...}`: only unmistakable shapes, and a URL
    // whose password part is written out.
    for p in &pieces {
        if let Piece::Text(t) = p
            && let Some(reason) = known_shape(t)
        {
            return Some(Hit {
                severity: Severity::Error,
                reason,
                chars: t.chars().count(),
                default_of: None,
            });
        }
    }
    let skeleton: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Var { .. } => "\u{1}",
        })
        .collect();
    url_password(&skeleton).map(|pw| Hit {
        severity: Severity::Error,
        reason: "it is the password part of a URL".into(),
        chars: pw,
        default_of: None,
    })
}

fn check_default(names: &[Option<&str>], raw: &str, depth: Depth) -> Option<Hit> {
    let pieces = split(raw);
    if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
        let literal: String = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(t.as_str()),
                Piece::Var { .. } => None,
            })
            .collect();
        return judge_literal(names, &literal, depth);
    }
    pieces.iter().find_map(|p| match p {
        Piece::Var {
            name,
            default: Some(d),
        } => {
            let mut all = names.to_vec();
            all.push(Some(name));
            check_default(&all, d, depth).map(|mut h| {
                h.default_of.get_or_insert_with(|| name.clone());
                h
            })
        }
        _ => None,
    })
}

fn judge_literal(names: &[Option<&str>], literal: &str, depth: Depth) -> Option<Hit> {
    if literal.is_empty() {
        return None;
    }
    let chars = literal.chars().count();
    let hit = |severity, reason: String| {
        Some(Hit {
            severity,
            reason,
            chars,
            default_of: None,
        })
    };
    if let Some(reason) = known_shape(literal) {
        return hit(Severity::Error, reason);
    }
    if let Some(pw) = url_password(literal) {
        return Some(Hit {
            severity: Severity::Error,
            reason: "it is the password part of a URL".into(),
            chars: pw,
            default_of: None,
        });
    }
    if depth == Depth::ShapeOnly {
        return None;
    }
    if let Some(n) = names.iter().flatten().find(|n| name_looks_secret(n))
        && !is_flag_word(literal)
    {
        return hit(
            Severity::Error,
            format!("its name ({n}) says it is a secret"),
        );
    }
    if high_entropy(literal) {
        return hit(
            Severity::Warning,
            "it is a long random-looking string (high entropy)".into(),
        );
    }
    None
}

/// A piece of a value as written: text, or a `$VAR`/`${VAR...}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var {
        name: String,
        /// The raw text after `:-`, `-`, `:+` or `+` (values the file supplies).
        default: Option<String>,
    },
}

/// Split by Compose's interpolation syntax (`$$` is a literal `$`).
fn split(raw: &str) -> Vec<Piece> {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            text.push(chars[i]);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                text.push('$');
                i += 2;
            }
            Some('{') => {
                let mut depth = 1;
                let mut j = i + 2;
                while j < chars.len() && depth > 0 {
                    match chars[j] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                let inner_end = if depth == 0 { j - 1 } else { j };
                let inner: String = chars[i + 2..inner_end].iter().collect();
                push_text(&mut out, &mut text);
                out.push(braced(&inner));
                i = j;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                push_text(&mut out, &mut text);
                out.push(Piece::Var {
                    name: chars[i + 1..j].iter().collect(),
                    default: None,
                });
                i = j;
            }
            _ => {
                text.push('$');
                i += 1;
            }
        }
    }
    push_text(&mut out, &mut text);
    out
}

fn push_text(out: &mut Vec<Piece>, text: &mut String) {
    if !text.is_empty() {
        out.push(Piece::Text(std::mem::take(text)));
    }
}

fn braced(inner: &str) -> Piece {
    let end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(end);
    let default = [":-", ":+", "-", "+"]
        .iter()
        .find_map(|op| rest.strip_prefix(op))
        .map(str::to_string);
    Piece::Var {
        name: name.to_string(),
        default,
    }
}

/// Words of a variable name, upper-cased: `dbPassword` and `DB_PASSWORD` are both [DB, PASSWORD].
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "APIKEY",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
    "ACCESSKEY",
    "SECRETKEY",
    "MASTERKEY",
    "AUTHKEY",
];

/// A last word that makes the variable about a secret rather than the secret
/// itself (`DB_PASSWORD_FILE`, `TOKEN_TTL`, `API_KEY_HEADER`).
const NOT_THE_SECRET: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "URL",
    "URI",
    "HOST",
    "PORT",
    "USER",
    "USERNAME",
    "NAME",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "LIFETIME",
    "TIMEOUT",
    "LENGTH",
    "LEN",
    "SIZE",
    "MIN",
    "MAX",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "REQUIRED",
    "HEADER",
    "ENDPOINT",
    "TYPE",
    "MODE",
    "ALGORITHM",
    "METHOD",
    "VERSION",
    "ID",
    "PREFIX",
    "ISSUER",
    "AUDIENCE",
    "POLICY",
    "ROUNDS",
];

/// Whether a variable's name says it holds a secret (`*PASSWORD*`, `*SECRET*`,
/// `*TOKEN*`, `*API_KEY*`, `*_KEY`).
pub fn name_looks_secret(name: &str) -> bool {
    let w = words(name);
    let Some(last) = w.last() else {
        return false;
    };
    if NOT_THE_SECRET.contains(&last.as_str()) {
        return false;
    }
    w.iter().any(|x| SECRET_WORDS.contains(&x.as_str()))
        || last == "KEY"
        || last == "KEYS"
        || w.windows(2).any(|p| p[0] == "API" && p[1] == "KEY")
}

/// Values a secret-named switch may hold without being a secret (`REDIS_PASSWORD: "false"` is odd but not a leak).
fn is_flag_word(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null"
    )
}

/// Known token formats: the reason names the format, never the value.
pub fn known_shape(s: &str) -> Option<String> {
    const SHAPES: &[(&str, usize, &str)] = &[
        ("sk-", 20, "an OpenAI-style API key (sk-...)"),
        ("sk_live_", 16, "a Stripe secret key (sk_live_...)"),
        ("ghp_", 30, "a GitHub token (ghp_...)"),
        ("gho_", 30, "a GitHub token (gho_...)"),
        ("ghu_", 30, "a GitHub token (ghu_...)"),
        ("ghs_", 30, "a GitHub token (ghs_...)"),
        ("ghr_", 30, "a GitHub token (ghr_...)"),
        ("github_pat_", 20, "a GitHub token (github_pat_...)"),
        ("glpat-", 20, "a GitLab token (glpat-...)"),
        ("xoxb-", 10, "a Slack token (xoxb-...)"),
        ("xoxp-", 10, "a Slack token (xoxp-...)"),
        ("xoxa-", 10, "a Slack token (xoxa-...)"),
        ("hf_", 30, "a Hugging Face token (hf_...)"),
        ("AIza", 35, "a Google API key (AIza...)"),
    ];
    for (prefix, min, what) in SHAPES {
        if token_after(s, prefix, *min, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        }) {
            return Some(format!("it has the shape of {what}"));
        }
    }
    for prefix in ["AKIA", "ASIA"] {
        if token_after(s, prefix, 16, |c| {
            c.is_ascii_uppercase() || c.is_ascii_digit()
        }) {
            return Some(format!(
                "it has the shape of an AWS access key id ({prefix}...)"
            ));
        }
    }
    if s.contains("-----BEGIN") && s.contains("PRIVATE KEY") {
        return Some("it is a PEM private key".into());
    }
    None
}

/// `prefix` at a word start, followed by at least `min` characters of `body`.
fn token_after(s: &str, prefix: &str, min: usize, body: impl Fn(char) -> bool) -> bool {
    let mut from = 0;
    while let Some(pos) = s[from..].find(prefix) {
        let at = from + pos;
        let boundary = s[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let rest = &s[at + prefix.len()..];
        if boundary && rest.chars().take_while(|c| body(*c)).count() >= min {
            return true;
        }
        from = at + prefix.len();
    }
    false
}

/// `scheme://user:password@host`: the password's length, when it is written
/// out (`\u{1}` marks an interpolated part, which is not).
fn url_password(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = s[from..].find("://") {
        let start = from + pos + 3;
        let rest = &s[start..];
        let authority_end = rest.find(['/', '?', '#', ' ']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some((_, pw)) = authority[..at].split_once(':')
            && !pw.is_empty()
            && !pw.contains('\u{1}')
        {
            return Some(pw.chars().count());
        }
        from = start;
    }
    None
}

/// A long token of key-like characters that looks random: at least 32
/// characters of [A-Za-z0-9+/=_-], letters and digits, and Shannon entropy of
/// 3.5 bits per character or more (English words and paths stay below).
pub fn high_entropy(s: &str) -> bool {
    let n = s.chars().count();
    if n < 32 || s.starts_with('/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
    {
        return false;
    }
    if !s.chars().any(|c| c.is_ascii_digit()) || !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(name: &str, raw: &str) -> Option<Hit> {
        check(Some(name), raw, Depth::Full)
    }

    #[test]
    fn interpolated_values_are_not_flagged_whatever_their_name() {
        assert_eq!(full("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}"), None);
        assert_eq!(full("API_KEY", "$API_KEY"), None);
        assert_eq!(full("API_KEY", "${API_KEY:?set API_KEY in .env}"), None);
        assert_eq!(
            full("LLM_API_KEY", "${LLM_API_KEY:-${MOONSHOT_API_KEY:?set it}}"),
            None
        );
        assert_eq!(
            full(
                "DATABASE_URL",
                "postgresql://${POSTGRES_USER:?u}:${POSTGRES_PASSWORD:?p}@postgres:5432/db"
            ),
            None
        );
    }

    #[test]
    fn a_literal_openai_key_is_an_error_whatever_the_name() {
        let hit = full("SETTING", "sk-proj-abcdefghijklmnopqrstuvwxyz012345").unwrap();
        assert_eq!(hit.severity, Severity::Error);
        assert!(hit.reason.contains("sk-"), "{}", hit.reason);
        assert_eq!(hit.chars, 40);
        // Even in a command line, shape alone is enough.
        assert!(
            check(
                None,
                "--api-key=sk-abcdefghijklmnopqrstuvwxyz",
                Depth::ShapeOnly
            )
            .is_some()
        );
    }

    #[test]
    fn the_reason_never_contains_the_value() {
        let value = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
        let hit = full("OPENAI_API_KEY", value).unwrap();
        assert!(!hit.reason.contains("abcdefghij"));
        let hit = full("DB_PASSWORD", "hunter2").unwrap();
        assert!(!hit.reason.contains("hunter2"));
    }

    #[test]
    fn secret_names_with_literal_values_are_errors() {
        for name in [
            "POSTGRES_PASSWORD",
            "JWT_SECRET",
            "GITHUB_TOKEN",
            "OPENAI_API_KEY",
            "LITELLM_MASTER_KEY",
            "apiKey",
            "dbPassword",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            let hit = full(name, "hunter2").unwrap_or_else(|| panic!("{name} not flagged"));
            assert_eq!(hit.severity, Severity::Error, "{name}");
            assert_eq!(hit.chars, 7);
        }
    }

    #[test]
    fn names_about_a_secret_but_not_holding_one_are_not_flagged() {
        for name in [
            "POSTGRES_PASSWORD_FILE",
            "TOKEN_TTL",
            "API_KEY_HEADER",
            "POSTGRES_USER",
            "MOONSHOT_API_BASE",
            "REDIS_URL",
            "KEY_PREFIX",
        ] {
            assert_eq!(full(name, "/run/secrets/x"), None, "{name}");
        }
        assert_eq!(full("REDIS_PASSWORD", "false"), None);
        assert_eq!(full("DB_PASSWORD", ""), None);
    }

    #[test]
    fn escaped_dollars_are_literal_text() {
        let hit = full("DB_PASSWORD", "pa$$word").unwrap();
        assert_eq!(hit.chars, 7, "$$ is one literal $");
    }

    #[test]
    fn a_literal_default_of_a_secret_variable_is_flagged_with_its_variable() {
        let hit = full("DB_PASS", "${DB_PASSWORD:-postgres}").unwrap();
        assert_eq!(hit.default_of.as_deref(), Some("DB_PASSWORD"));
        assert_eq!(hit.chars, 8);
        let hit = full("X", "${A:-${TOKEN:-abc}}").unwrap();
        assert_eq!(hit.default_of.as_deref(), Some("TOKEN"));
        // Defaults of ordinary variables are configuration, not secrets.
        assert_eq!(
            full("LLM_BASE_URL", "${LLM_BASE_URL:-http://llm:8000/v1}"),
            None
        );
        assert_eq!(full("DELAY", "${DELAY:-50}"), None);
    }

    #[test]
    fn a_password_written_into_a_url_is_flagged_even_around_interpolation() {
        let hit = full("DATABASE_URL", "postgresql://app:hunter2@db:5432/app").unwrap();
        assert_eq!(hit.chars, 7);
        assert!(full("DATABASE_URL", "postgresql://${USER}:hunter2@db/app").is_some());
        assert_eq!(full("DATABASE_URL", "postgresql://app@db/app"), None);
        assert_eq!(full("URL", "http://example.com/a:b@c"), None);
    }

    #[test]
    fn cloud_and_forge_token_shapes_are_recognized() {
        assert!(known_shape("AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(known_shape("ghp_abcdefghijklmnopqrstuvwxyz0123456789").is_some());
        assert!(known_shape("hf_abcdefghijklmnopqrstuvwxyz0123456789").is_some());
        assert!(known_shape("-----BEGIN RSA PRIVATE KEY-----\nabc").is_some());
        // A prefix inside a word, or too short a body, is not a token.
        assert!(known_shape("task-runner-with-a-very-long-name-here").is_none());
        assert!(known_shape("sk-short").is_none());
    }

    #[test]
    fn long_random_strings_are_warnings_and_ordinary_text_is_not() {
        let hit = full("SETTING", "q8Zr2LmX0pVt7YwK3nB5cH9dJ4fG6sA1eR").unwrap();
        assert_eq!(hit.severity, Severity::Warning);
        assert_eq!(
            full("SETTING", "/usr/local/lib/python3.12/site-packages"),
            None
        );
        assert_eq!(
            full("SETTING", "this is a sentence with 1 number in it"),
            None
        );
        assert_eq!(
            full("SETTING", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"),
            None
        );
        // Shape-only checks skip entropy (commands are full of long words).
        assert_eq!(
            check(None, "q8Zr2LmX0pVt7YwK3nB5cH9dJ4fG6sA1eR", Depth::ShapeOnly),
            None
        );
    }

    #[test]
    fn words_split_snake_and_camel_case() {
        assert_eq!(words("dbPassword"), ["DB", "PASSWORD"]);
        assert_eq!(words("LITELLM_MASTER_KEY"), ["LITELLM", "MASTER", "KEY"]);
        assert_eq!(words("x.api-key"), ["X", "API", "KEY"]);
    }
}
