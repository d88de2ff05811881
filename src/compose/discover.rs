//! Which files, which project directory, which environment, which name: the
//! decisions Compose makes before reading a single service.
//!
//! Owns file discovery (`-f`, `COMPOSE_FILE`, default names in the working
//! directory and its parents, override files), the interpolation environment
//! (`.env` / `--env-file`, the process environment wins) and the project name
//! rules. Reads files; must not parse YAML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::dotenv;
use super::error::{ErrorKind, LoadError, Result};
use super::text::{self, TextError};

/// Default compose file names, in Compose's order of preference.
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
pub const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// What the user asked for on the command line; the process environment is
/// passed in rather than read, so loading stays pure and testable.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in order; `-` reads standard input (given in `stdin`).
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled implicitly.
    pub services: Vec<String>,
    /// `false` for `--no-interpolate`.
    pub interpolate: bool,
    pub process_env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub stdin: Option<String>,
    /// Set by `include` for a sub-project: the first file of every project
    /// including it, outermost first (cycles, depth). Empty at the top.
    pub include_chain: Vec<PathBuf>,
    /// Included projects loaded so far, shared by the sub-loads of one load,
    /// so includes fanning out cannot multiply without bound.
    pub include_count: Arc<AtomicUsize>,
}

impl LoadOptions {
    pub fn new(cwd: PathBuf, process_env: BTreeMap<String, String>) -> Self {
        LoadOptions {
            interpolate: true,
            cwd,
            process_env,
            ..Default::default()
        }
    }
}

/// The variables interpolation sees, and where each came from.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    /// Variables that came from env files rather than the process (for `--variables`).
    pub from_files: BTreeMap<String, PathBuf>,
}

impl Environment {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Build the environment: the process environment, plus env files for keys the
/// process does not set (Compose: the shell always wins over `.env`).
pub fn environment(
    process_env: &BTreeMap<String, String>,
    env_files: &[PathBuf],
    default_dir: &Path,
) -> Result<Environment> {
    let mut env = Environment {
        vars: process_env.clone(),
        from_files: BTreeMap::new(),
    };
    let explicit = !env_files.is_empty();
    let files: Vec<PathBuf> = if explicit {
        env_files.to_vec()
    } else {
        vec![default_dir.join(".env")]
    };
    // Among several env files the later one wins, but never over the process.
    let mut file_vars: BTreeMap<String, String> = BTreeMap::new();
    for file in &files {
        let text = match text::read_file(file, text::Kind::EnvFile) {
            Ok(text) => text,
            Err(TextError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                continue;
            }
            Err(TextError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::new(
                    ErrorKind::Io,
                    format!("couldn't find env file: {}", file.display()),
                )
                .with_hint("check the --env-file path; it is relative to the current directory"));
            }
            Err(e) => return Err(e.into_load_error(&file.display().to_string())),
        };
        if file.is_dir() {
            continue;
        }
        // Compose resolves references inside an env file from the process
        // environment first, then this file's earlier keys, then earlier files.
        let process = |k: &str| process_env.get(k).cloned();
        let earlier = |k: &str| file_vars.get(k).cloned();
        let pairs = dotenv::parse_layered(&text, &process, &earlier).map(|p| p.vars).map_err(|e| {
            LoadError::new(ErrorKind::InvalidValue, format!("{}: {e}", file.display()))
                .with_hint("see https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax")
        })?;
        for (k, v) in pairs {
            file_vars.insert(k.clone(), v);
            env.from_files.insert(k, file.clone());
        }
    }
    for (k, v) in file_vars {
        if !process_env.contains_key(&k) {
            env.vars.insert(k, v);
        } else {
            env.from_files.remove(&k);
        }
    }
    Ok(env)
}

/// Find the compose files: `-f`, else `COMPOSE_FILE`, else the default names in
/// `dir` or the nearest parent that has one, plus its override file.
pub fn compose_files(opts: &LoadOptions, env: &Environment, dir: &Path) -> Result<Vec<PathBuf>> {
    if !opts.files.is_empty() {
        return Ok(opts
            .files
            .iter()
            .map(|f| {
                if f.as_os_str() == "-" {
                    f.clone()
                } else {
                    absolute(&opts.cwd, f)
                }
            })
            .collect());
    }
    if let Some(list) = env.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .unwrap_or(":");
        return Ok(list
            .split(sep)
            .filter(|s| !s.is_empty())
            .map(|f| absolute(dir, Path::new(f)))
            .collect());
    }
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if let Some(found) = DEFAULT_FILES
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.is_file())
        {
            let mut files = vec![found];
            if let Some(over) = OVERRIDE_FILES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                files.push(over);
            }
            return Ok(files);
        }
        cur = d.parent();
    }
    Err(LoadError::new(
        ErrorKind::Io,
        format!(
            "no configuration file provided: not found (looked for {} in {} and its parents)",
            DEFAULT_FILES.join(", "),
            dir.display()
        ),
    )
    .with_hint("create compose.yaml, or name a file with -f"))
}

pub fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    clean(&joined)
}

/// Lexical path cleaning (Go's `filepath.Clean`): drop `.`, fold `..`.
pub fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Compose's project name rule for explicit names (`-p`, `COMPOSE_PROJECT_NAME`).
pub fn validate_project_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LoadError::new(
            ErrorKind::Project,
            format!(
                "invalid project name \"{name}\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
            ),
        ))
    }
}

/// Compose's normalization for derived names (top-level `name:`, directory basename).
pub fn normalize_project_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let kept: String = lower
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    kept.trim_start_matches(['-', '_']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_are_lowercased_and_stripped() {
        assert_eq!(normalize_project_name("My Dir.x"), "mydirx");
        assert_eq!(normalize_project_name("_abc"), "abc");
    }

    #[test]
    fn explicit_names_must_already_be_valid() {
        assert!(validate_project_name("my-app_1").is_ok());
        assert!(validate_project_name("Foo").is_err());
        assert!(validate_project_name("_abc").is_err());
        assert!(validate_project_name("").is_err());
    }

    #[test]
    fn process_environment_wins_over_env_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "A=file\nB=file\n").unwrap();
        let mut process = BTreeMap::new();
        process.insert("A".to_string(), "shell".to_string());
        let env = environment(&process, &[], dir.path()).unwrap();
        assert_eq!(env.get("A"), Some("shell"));
        assert_eq!(env.get("B"), Some("file"));
    }

    #[test]
    fn later_env_file_wins_over_earlier() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "A=1\n").unwrap();
        std::fs::write(dir.path().join("b.env"), "A=2\n").unwrap();
        let files = vec![dir.path().join("a.env"), dir.path().join("b.env")];
        let env = environment(&BTreeMap::new(), &files, dir.path()).unwrap();
        assert_eq!(env.get("A"), Some("2"));
    }

    #[test]
    fn missing_explicit_env_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e =
            environment(&BTreeMap::new(), &[dir.path().join("nope.env")], dir.path()).unwrap_err();
        assert!(e.message.contains("couldn't find env file"));
    }
}
