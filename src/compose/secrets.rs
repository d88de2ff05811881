//! Which values of a project are secret-bearing: the contents of `secrets:`
//! (files, and the variables `environment:` secrets name), and the values of
//! `.env` / `--env-file` files and of services' `env_file:` files that the
//! rule below keeps. `report::redact` masks them in aistack's own output.
//!
//! The rule lives here, next to the loader, because only the loader knows
//! where a value came from; masking lives in `report` because that is what
//! the user reads. Pure: reads files, never prints, never decides how a value
//! is masked.
//!
//! The rule (documented in README, "Secrets in output"):
//! - `secrets:` contents (and each line of a multi-line one) are always
//!   secret, whatever their length;
//! - an env-file value is secret when its variable's name looks secret
//!   (`PASSWORD`, `PASSWD`, `PASSPHRASE`, `SECRET`, `TOKEN`, `KEY`,
//!   `CREDENTIAL`, `AUTH`, `PRIVATE`, `DSN`, `DATABASE_URL`, `CONNECTION`,
//!   `SALT`, `COOKIE`, `SIGNING`, or a `PASS`/`PWD`/`PW` word), unless it is a
//!   boolean or a number of fewer than four digits (flags and small counts
//!   such as `AUTH_ENABLED=1` or `TOKEN_TTL=60`, which would otherwise turn
//!   every exit code into a mask);
//! - any other env-file value is secret when it looks random: at least 8
//!   characters, no whitespace, not a number, boolean, path or URL, and either
//!   three kinds of character (lower case, upper case, digits, symbols other
//!   than `- _ . / : @`) or a run of 16 letters and digits mixed (hex and
//!   base32 tokens). Names, hostnames, image references, versions and paths
//!   stay readable;
//! - the password of a URL written in any such value (`scheme://user:pass@host`)
//!   is secret too.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::discover::{self, Environment, LoadOptions};
use super::load::Loaded;
use super::text;

/// A value that must not appear in aistack's own output, and the name the
/// mask may show instead (a variable name, or `secrets.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretValue {
    pub name: String,
    pub value: String,
}

/// The most of a secret file read: real secrets (passwords, keys,
/// certificates) are far smaller, and a huge file must not be read whole.
const MAX_SECRET_FILE: u64 = 256 * 1024;

/// Every secret-bearing value of a loaded project.
pub fn of_loaded(loaded: &Loaded) -> Vec<SecretValue> {
    let mut out = Vec::new();
    of_environment(&loaded.env, &mut out);
    for (key, obj) in &loaded.project.secrets {
        let label = format!("secrets.{key}");
        if !obj.file.is_empty()
            && let Some(content) = read_secret_file(Path::new(&obj.file))
        {
            push_secret_content(&label, &content, &mut out);
        }
        if let Some(v) = &obj.value {
            push_secret_content(&label, v, &mut out);
        }
    }
    for svc in loaded.project.services.values() {
        for name in &svc.env_file_vars {
            if let Some(Some(v)) = svc.environment.get(name) {
                push_by_rule(name, v, &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What can be known without a loaded project (loading failed, and its error
/// may quote a value interpolated from `.env`): the environment's env-file
/// values, or, when the env files themselves cannot be parsed, a tolerant
/// line-by-line reading of them, so their syntax errors are covered too.
pub fn of_options(opts: &LoadOptions) -> Vec<SecretValue> {
    let mut out = Vec::new();
    match super::load::environment(opts) {
        Ok(env) => of_environment(&env, &mut out),
        Err(_) => {
            for file in env_file_candidates(opts) {
                if let Ok(text) = text::read_file(&file, text::Kind::EnvFile) {
                    for (name, value) in rough_pairs(&text) {
                        push_by_rule(&name, &value, &mut out);
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn of_environment(env: &Environment, out: &mut Vec<SecretValue>) {
    for name in env.from_files.keys() {
        if let Some(v) = env.get(name) {
            push_by_rule(name, v, out);
        }
    }
}

fn push_secret_content(label: &str, content: &str, out: &mut Vec<SecretValue>) {
    let mut push = |v: &str| {
        if !v.trim().is_empty() {
            out.push(SecretValue {
                name: label.to_string(),
                value: v.to_string(),
            });
        }
    };
    push(content);
    // What a program prints of a secret file is usually its trimmed content,
    // or one line of it (a key or certificate).
    push(content.trim());
    if content.trim().contains('\n') {
        content
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 8)
            .for_each(push);
    }
    url_passwords(label, content, out);
}

fn push_by_rule(name: &str, value: &str, out: &mut Vec<SecretValue>) {
    if is_secret(name, value) {
        out.push(SecretValue {
            name: name.to_string(),
            value: value.to_string(),
        });
        if value.trim() != value && !value.trim().is_empty() {
            out.push(SecretValue {
                name: name.to_string(),
                value: value.trim().to_string(),
            });
        }
    }
    url_passwords(name, value, out);
}

/// Whether an env-file value is secret-bearing (the rule in the module header).
pub fn is_secret(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || is_boolean(v) {
        return false;
    }
    if is_secret_name(name) {
        return !(is_number(v) && v.len() < 4);
    }
    looks_random(v)
}

/// Variable names that announce a secret.
pub fn is_secret_name(name: &str) -> bool {
    const PARTS: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "TOKEN",
        "KEY",
        "CREDENTIAL",
        "AUTH",
        "PRIVATE",
        "DSN",
        "DATABASE_URL",
        "CONNECTION",
        "SALT",
        "COOKIE",
        "SIGNING",
    ];
    // Short words only as whole words: `DB_PASS` yes, `PASSENGER`/`PWDIR` no.
    const WORDS: &[&str] = &["PASS", "PWD", "PW"];
    let upper = name.to_ascii_uppercase();
    PARTS.iter().any(|p| upper.contains(p))
        || upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| WORDS.contains(&w))
}

fn is_boolean(v: &str) -> bool {
    ["true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|b| v.eq_ignore_ascii_case(b))
}

fn is_number(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_random(v: &str) -> bool {
    if v.chars().count() < 8
        || v.chars().any(char::is_whitespace)
        || is_number(v)
        || v.contains("://")
        || ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p))
    {
        return false;
    }
    let separator = |c: char| matches!(c, '-' | '_' | '.' | '/' | ':' | '@');
    let kinds = [
        v.chars().any(|c| c.is_lowercase()),
        v.chars().any(|c| c.is_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars()
            .any(|c| !c.is_alphanumeric() && !separator(c) && !c.is_whitespace()),
    ];
    if kinds.iter().filter(|k| **k).count() >= 3 {
        return true;
    }
    v.split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        run.len() >= 16
            && run.bytes().any(|b| b.is_ascii_digit())
            && run.bytes().any(|b| b.is_ascii_alphabetic())
    })
}

/// The password of every `scheme://user:password@host` in `text`.
fn url_passwords(name: &str, text: &str, out: &mut Vec<SecretValue>) {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && !password.is_empty()
        {
            out.push(SecretValue {
                name: name.to_string(),
                value: password.to_string(),
            });
        }
        rest = after;
    }
}

fn read_secret_file(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SECRET_FILE)
        .read_to_end(&mut bytes)
        .ok()?;
    // A binary secret cannot be matched in text output; nothing to mask.
    String::from_utf8(bytes).ok()
}

/// The env files `load` would read, for when it cannot: `--env-file`s, else
/// `.env` in the project directory, the working directory and the first
/// compose file's directory.
fn env_file_candidates(opts: &LoadOptions) -> Vec<PathBuf> {
    if !opts.env_files.is_empty() {
        return opts
            .env_files
            .iter()
            .map(|f| discover::absolute(&opts.cwd, f))
            .collect();
    }
    let mut dirs = vec![opts.cwd.clone()];
    if let Some(d) = &opts.project_directory {
        dirs.push(discover::absolute(&opts.cwd, d));
    }
    if let Some(f) = opts.files.iter().find(|f| f.as_os_str() != "-")
        && let Some(parent) = discover::absolute(&opts.cwd, f).parent()
    {
        dirs.push(parent.to_path_buf());
    }
    dirs.sort();
    dirs.dedup();
    dirs.into_iter().map(|d| d.join(".env")).collect()
}

/// `NAME=value` pairs of an env file read leniently (a quote is stripped
/// whether or not it is closed): only for masking values of a file the
/// real parser refused.
fn rough_pairs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let name = line[..split].trim();
        let mut value = line[split + 1..].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            continue;
        }
        if let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
            value = value[1..].strip_suffix(q).unwrap_or(&value[1..]);
        } else if let Some((before, _)) = value.split_once(" #") {
            value = before.trim_end();
        }
        out.push((name.to_string(), value.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn values(list: &[SecretValue]) -> Vec<&str> {
        list.iter().map(|s| s.value.as_str()).collect()
    }

    #[test]
    fn secret_looking_names_make_any_value_secret_except_flags_and_small_counts() {
        assert!(is_secret("DB_PASSWORD", "x"));
        assert!(is_secret("DB_PASS", "hunter"));
        assert!(is_secret("api_key", "abc"));
        assert!(is_secret("SENTRY_DSN", "https://k@sentry.example/1"));
        assert!(is_secret("PIN_SECRET", "123456"));
        assert!(!is_secret("AUTH_ENABLED", "true"));
        assert!(!is_secret("TOKEN_TTL", "60"));
        assert!(!is_secret("DB_PASSWORD", ""));
        assert!(!is_secret_name("PASSENGER_COUNT"));
        assert!(!is_secret_name("PWDIR"));
    }

    #[test]
    fn other_values_are_secret_only_when_they_look_random() {
        for harmless in [
            "aistackdemo",
            "Europe/Berlin",
            "postgres_data_v2",
            "redis:7.2-alpine",
            "kimi-k2-0711-preview",
            "http://llm:8000/v1",
            "/var/lib/data",
            "./config/app.yaml",
            "12345678",
            "3.14159265",
            "Welcome to the chat",
            "s1A!x",
        ] {
            assert!(!is_secret("SOME_SETTING", harmless), "{harmless}");
        }
        for random in [
            "s1A!xyz9",
            "Sup3rS3cret",
            "Kp9xW2mQ7v",
            "q8Zp/3xK+Lm0=",
            "3f9a8b7c6d5e4f30a1",
        ] {
            assert!(is_secret("SOME_SETTING", random), "{random}");
        }
    }

    #[test]
    fn url_passwords_are_secret_whatever_the_variable_is_called() {
        let mut out = Vec::new();
        push_by_rule("REDIS_URL", "redis://cache:p4ss@redis:6379/0", &mut out);
        assert_eq!(values(&out), ["p4ss"]);
    }

    #[test]
    fn a_loaded_project_yields_env_file_values_and_secret_contents() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join(".env"),
            "DB_PASSWORD=pw-from-dotenv\nPUBLIC_NAME=demo\nTAG=Zx9-Qw7-Er5\n",
        )
        .unwrap();
        std::fs::write(d.join("app.env"), "API_TOKEN=tok\nMODE=debug\n").unwrap();
        std::fs::write(d.join("db.txt"), "file-secret-1\n").unwrap();
        std::fs::write(
            d.join("compose.yaml"),
            r#"
services:
  app:
    image: busybox
    env_file: [app.env]
    environment: {MODE: release}
    secrets: [db, fromenv]
secrets:
  db: {file: ./db.txt}
  fromenv: {environment: DB_PASSWORD}
"#,
        )
        .unwrap();
        let loaded =
            crate::compose::load(&LoadOptions::new(d.to_path_buf(), BTreeMap::new())).unwrap();
        let got = of_loaded(&loaded);
        let mut v = values(&got);
        v.sort();
        v.dedup();
        assert_eq!(
            v,
            [
                "Zx9-Qw7-Er5",
                "file-secret-1",
                "file-secret-1\n",
                "pw-from-dotenv",
                "tok"
            ]
        );
        assert!(
            got.iter()
                .any(|s| s.name == "secrets.db" && s.value == "file-secret-1")
        );
    }

    #[test]
    fn a_project_that_fails_to_load_still_yields_its_dotenv_values() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(".env"), "DB_PASSWORD=pw-from-dotenv\n").unwrap();
        std::fs::write(d.join("compose.yaml"), "services: [broken\n").unwrap();
        let opts = LoadOptions::new(d.to_path_buf(), BTreeMap::new());
        assert_eq!(values(&of_options(&opts)), ["pw-from-dotenv"]);
    }

    #[test]
    fn an_env_file_with_a_syntax_error_is_read_leniently() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join(".env"),
            "export DB_PASSWORD=\"unterminated-pw\nNAME=x # c\n",
        )
        .unwrap();
        std::fs::write(d.join("compose.yaml"), "services: {}\n").unwrap();
        let opts = LoadOptions::new(d.to_path_buf(), BTreeMap::new());
        assert!(crate::compose::load(&opts).is_err());
        assert_eq!(values(&of_options(&opts)), ["unterminated-pw"]);
    }
}
