//! `.dockerignore`: reading the file and matching context paths with Docker's
//! rules, as the docker CLI applies them for the classic builder
//! (moby/patternmatcher and its `ignorefile` reader).
//!
//! Owns: the line rules (comments, trimming, `filepath.Clean`, leading `/`
//! dropped, `!` exceptions), pattern syntax (Go `filepath.Match` per segment
//! plus `**`), and the "last matching rule wins, a path is excluded when it or
//! a parent matches" evaluation. Must not: touch the file system or decide
//! what goes into a tar (that is `context.rs`).

/// A `.dockerignore` the daemon would refuse, as Docker words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    #[error("illegal exclusion pattern: \"!\"")]
    LoneExclamation,
    #[error("syntax error in pattern {0:?}")]
    BadPattern(String),
}

/// The patterns of a `.dockerignore` file, in order, exceptions keeping
/// their `!` (ignorefile.ReadAll).
pub fn read_patterns(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        // Comments are recognised before trimming: " # x" is a pattern.
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut pattern = String::new();
        if !p.is_empty() {
            pattern = clean(p);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
        }
        if invert {
            pattern.insert(0, '!');
        }
        out.push(pattern);
    }
    out
}

/// Go's `filepath.Clean` for '/'-separated paths.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `*`: any run of characters other than '/'.
    Star,
    /// `?`: one character other than '/'.
    Question,
    /// `[...]`: Go's class syntax; like Go's regexp, it may match '/'.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**` (and `**/`) inside a pattern: nothing, or anything ending in '/'.
    AnyDirs,
    /// A trailing `**` after another wildcard: anything.
    Any,
}

/// How moby decides a pattern matches: the three literal shortcuts behave
/// differently from the regexp (`**foo` is "ends with foo"), so keep them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Exact,
    /// `dir/**`: starts with `dir/`.
    Prefix,
    /// `**/name` or `**name`: ends with the rest (or is `name`).
    Suffix,
    Tokens(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Cleaned, without the `!`.
    text: String,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    /// The cleaned pattern without its `!`.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Tokens(tokens) => match_tokens(tokens, &path.chars().collect::<Vec<_>>()),
        }
    }
}

/// Go `filepath.Match`'s syntax check: classes are closed and non-empty,
/// range ends are present, no escape is left dangling.
fn check_syntax(p: &str) -> Result<(), IgnoreError> {
    let bad = || IgnoreError::BadPattern(p.to_string());
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    // One class bound: a character or an escaped one, never '-' or ']'.
    let bound = |i: &mut usize| -> Result<(), IgnoreError> {
        match chars.get(*i) {
            None | Some('-') | Some(']') => return Err(bad()),
            Some('\\') => {
                *i += 1;
                if *i >= chars.len() {
                    return Err(bad());
                }
            }
            _ => {}
        }
        *i += 1;
        // Go requires the class to continue after a bound.
        if *i >= chars.len() {
            return Err(bad());
        }
        Ok(())
    };
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return Err(bad());
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut ranges = 0;
                loop {
                    if chars.get(i) == Some(&']') && ranges > 0 {
                        i += 1;
                        break;
                    }
                    bound(&mut i)?;
                    if chars[i] == '-' {
                        i += 1;
                        bound(&mut i)?;
                    }
                    ranges += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn class_char(chars: &[char], i: &mut usize) -> char {
    if chars[*i] == '\\' && *i + 1 < chars.len() {
        *i += 1;
    }
    let c = chars[*i];
    *i += 1;
    c
}

/// The pattern's kind and tokens, as moby's `compile` classifies them.
fn compile(text: &str) -> Kind {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut kind = 0u8; // 0 exact, 1 prefix, 2 suffix, 3 regexp
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    if kind == 0 {
                        kind = 1;
                    } else {
                        tokens.push(Token::Any);
                        kind = 3;
                    }
                } else {
                    tokens.push(Token::AnyDirs);
                    kind = 3;
                }
                if first {
                    kind = 2;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                kind = 3;
            }
            '?' => {
                tokens.push(Token::Question);
                kind = 3;
            }
            '\\' if i < chars.len() => {
                tokens.push(Token::Literal(chars[i]));
                i += 1;
                kind = 3;
            }
            '[' => {
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                while i < chars.len() && (chars[i] != ']' || ranges.is_empty()) {
                    let lo = class_char(&chars, &mut i);
                    let mut hi = lo;
                    if i + 1 < chars.len() && chars[i] == '-' {
                        i += 1;
                        hi = class_char(&chars, &mut i);
                    }
                    ranges.push((lo, hi));
                }
                i += 1; // the closing ']'
                tokens.push(Token::Class { negated, ranges });
                kind = 3;
            }
            ']' => {
                tokens.push(Token::Literal(']'));
                kind = 3;
            }
            c => tokens.push(Token::Literal(c)),
        }
        first = false;
    }
    match kind {
        0 => Kind::Exact,
        1 => Kind::Prefix,
        2 => Kind::Suffix,
        _ => Kind::Tokens(tokens),
    }
}

/// Whole-string match; one pass per token over the reachable positions, so
/// no pattern can make it exponential.
fn match_tokens(tokens: &[Token], s: &[char]) -> bool {
    let n = s.len();
    let mut cur = vec![false; n + 1];
    cur[0] = true;
    for t in tokens {
        let mut next = vec![false; n + 1];
        match t {
            Token::Literal(c) => {
                for j in 0..n {
                    next[j + 1] = cur[j] && s[j] == *c;
                }
            }
            Token::Question => {
                for j in 0..n {
                    next[j + 1] = cur[j] && s[j] != '/';
                }
            }
            Token::Class { negated, ranges } => {
                for j in 0..n {
                    let inside = ranges.iter().any(|(lo, hi)| *lo <= s[j] && s[j] <= *hi);
                    next[j + 1] = cur[j] && inside != *negated;
                }
            }
            Token::Star => {
                let mut reach = false;
                for j in 0..=n {
                    reach |= cur[j];
                    next[j] = reach;
                    if j < n && s[j] == '/' {
                        reach = false;
                    }
                }
            }
            Token::Any => {
                let mut reach = false;
                for j in 0..=n {
                    reach |= cur[j];
                    next[j] = reach;
                }
            }
            Token::AnyDirs => {
                let mut reach = false;
                for j in 0..=n {
                    next[j] = cur[j] || (reach && j > 0 && s[j - 1] == '/');
                    reach |= cur[j];
                }
            }
        }
        if !next.iter().any(|b| *b) {
            return false;
        }
        cur = next;
    }
    cur[n]
}

/// Compiled patterns in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

/// Which patterns matched a directory, handed to its entries
/// (moby's `MatchInfo`): a pattern that matched the parent matches the child.
pub type ParentMatches = Vec<bool>;

impl Matcher {
    /// Compiles patterns as `read_patterns` returns them (NewPatternMatcher).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Matcher, IgnoreError> {
        let mut out = Vec::new();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let p = clean(p);
            let (exclusion, text) = match p.strip_prefix('!') {
                Some("") => return Err(IgnoreError::LoneExclamation),
                Some(rest) => (true, rest.to_string()),
                None => (false, p),
            };
            check_syntax(&text)?;
            let kind = compile(&text);
            out.push(Pattern {
                text,
                exclusion,
                kind,
            });
        }
        Ok(Matcher { patterns: out })
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether any `!` exception exists (then excluded directories are
    /// still walked when an exception may reach inside).
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Is `path` ('/'-separated, relative to the context) excluded: the last
    /// pattern that matches it or one of its parent directories decides.
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        self.matches_using_parent(path, None).0
    }

    /// Like `matches_or_parent_matches`, reusing the parent directory's
    /// results (moby's `MatchesUsingParentResults`, which is what the docker
    /// CLI's context walk uses); also returns this path's results for its
    /// own entries.
    pub fn matches_using_parent(
        &self,
        path: &str,
        parent: Option<&[bool]>,
    ) -> (bool, ParentMatches) {
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p.get(i).copied().unwrap_or(false));
            if !hit {
                // An inclusion cannot change an excluded path, nor an
                // exception an included one: skip them.
                if pattern.exclusion != matched {
                    continue;
                }
                hit = pattern.matches(path);
                if !hit && parent.is_none() {
                    hit = parent_dirs(path).any(|dir| pattern.matches(dir));
                }
            }
            info[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        (matched, info)
    }

    /// Could an exception re-include something under the excluded directory
    /// `dir`? Docker checks only exceptions that start with `dir/` literally,
    /// so `!*.md` does not save `docs/x.md` once `docs` is excluded.
    pub fn exception_under(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&prefix))
    }
}

/// "a/b/c" → "a", "a/b" (the parents, outermost first).
fn parent_dirs(path: &str) -> impl Iterator<Item = &str> {
    let parent = path.rfind('/').map(|i| &path[..i]).unwrap_or("");
    parent
        .char_indices()
        .filter(|(_, c)| *c == '/')
        .map(|(i, _)| i)
        .chain((!parent.is_empty()).then_some(parent.len()))
        .map(move |i| &parent[..i])
}

#[cfg(test)]
mod tests;
