//! `config --variables`: every variable the compose files reference, whether it
//! is required (`:?`), its default (`:-`, `-`) and alternate (`:+`, `+`) value.
//! Reads the files without interpolating them.

use std::collections::BTreeMap;

use super::discover::{self, LoadOptions};
use super::error::Result;
use super::file;
use super::node::{Node, Scalar, Value};
use super::read;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub required: bool,
    pub default: String,
    pub alternate: String,
}

pub fn variables(opts: &LoadOptions) -> Result<Vec<Variable>> {
    let base = opts
        .project_directory
        .clone()
        .unwrap_or_else(|| opts.cwd.clone());
    let env = discover::environment(&opts.process_env, &opts.env_files, &base)?;
    let files = discover::compose_files(opts, &env, &base)?;
    let mut out: BTreeMap<String, Variable> = BTreeMap::new();
    for path in files {
        let text = file::read_text(&path, opts.stdin.as_deref())?;
        let name = file::display_name(&path);
        let node = read::parse(&text, &name).map_err(|e| file::yaml_error(&name, e))?;
        collect(&node, &mut out);
    }
    Ok(out.into_values().collect())
}

fn collect(node: &Node, out: &mut BTreeMap<String, Variable>) {
    match &node.value {
        Value::Scalar(Scalar::Str(s)) => scan(s, out),
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter().for_each(|n| collect(n, out)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| collect(n, out)),
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Find `$NAME` and `${NAME<op><word>}` references, recursing into words.
pub fn scan(s: &str, out: &mut BTreeMap<String, Variable>) {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => i += 2,
            Some('{') => {
                let start = i + 2;
                let mut j = start;
                while j < chars.len() && is_name_char(chars[j]) {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                let mut depth = 1;
                let mut k = j;
                while k < chars.len() {
                    match chars[k] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                let rest: String = chars[j..k.min(chars.len())].iter().collect();
                if !name.is_empty() && name.chars().next().is_some_and(is_name_start) {
                    let entry = out.entry(name.clone()).or_insert_with(|| Variable {
                        name,
                        ..Default::default()
                    });
                    for (op, kind) in [
                        (":?", 0),
                        ("?", 0),
                        (":-", 1),
                        ("-", 1),
                        (":+", 2),
                        ("+", 2),
                    ] {
                        if let Some(word) = rest.strip_prefix(op) {
                            match kind {
                                0 => entry.required = true,
                                1 => entry.default = word.to_string(),
                                _ => entry.alternate = word.to_string(),
                            }
                            scan(word, out);
                            break;
                        }
                    }
                }
                i = k + 1;
            }
            Some(c) if is_name_start(*c) => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && is_name_char(chars[j]) {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                out.entry(name.clone()).or_insert_with(|| Variable {
                    name,
                    ..Default::default()
                });
                i = j;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_with_operators_are_reported_with_their_words() {
        let mut out = BTreeMap::new();
        scan("${A:-x} $B ${C:?need C} ${D:+alt} $$E ${F:-${G}}", &mut out);
        assert_eq!(out["A"].default, "x");
        assert!(out.contains_key("B"));
        assert!(out["C"].required);
        assert_eq!(out["D"].alternate, "alt");
        assert!(!out.contains_key("E"));
        assert_eq!(out["F"].default, "${G}");
        assert!(out.contains_key("G"));
    }
}
