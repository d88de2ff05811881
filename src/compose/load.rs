//! The loader's entry point: options → one validated, normalized `Project`.
//!
//! Order follows compose-go: environment and files are decided first, each
//! file is read/interpolated/canonicalized, `extends` resolved, files merged
//! in order, the result typed, `include`d projects added, then profiles,
//! normalization and validation. Must stay pure: no Docker, no terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::discover::{self, Environment, LoadOptions};
use super::error::{ErrorKind, LoadError, Result};
use super::extends;
use super::file::{self, Warnings};
use super::include;
use super::merge;
use super::model::Project;
use super::node::Node;
use super::{normalize, profiles, typing, validate};

/// A loaded project plus what the user should be told about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
    pub env: Environment,
}

pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    let (mut project, env, warnings) = load_files(opts)?;
    let active = profiles::active(opts, &env);
    profiles::apply(&mut project, &active, &opts.services)?;
    normalize::finish(&mut project, &env)?;
    validate::validate(&project)?;
    Ok(Loaded {
        project,
        warnings: warnings.lines(),
        env,
    })
}

/// Everything up to the project-wide steps: used for `include`d sub-projects,
/// whose relative paths must resolve against their own directory.
pub(crate) fn load_unfinished(opts: &LoadOptions) -> Result<(Project, Vec<String>)> {
    let (project, _, warnings) = load_files(opts)?;
    Ok((project, warnings.lines()))
}

/// What `load_files` decides before reading a compose file.
struct Sources {
    env: Environment,
    env_files: Vec<PathBuf>,
    files: Vec<PathBuf>,
    project_dir: PathBuf,
}

/// The interpolation environment `load` would use, without reading a compose
/// file (the `.env` next to them is found all the same): what
/// `compose::secrets` needs when loading fails.
pub fn environment(opts: &LoadOptions) -> Result<Environment> {
    sources(opts).map(|s| s.env)
}

fn sources(opts: &LoadOptions) -> Result<Sources> {
    // Compose reads `.env` from the working (or --project-directory) directory
    // first, so COMPOSE_FILE and COMPOSE_PROJECT_NAME may come from it.
    let first_dir = opts
        .project_directory
        .as_ref()
        .map(|d| discover::absolute(&opts.cwd, d));
    let base_dir = first_dir.clone().unwrap_or_else(|| opts.cwd.clone());
    let env_files: Vec<PathBuf> = opts
        .env_files
        .iter()
        .map(|f| discover::absolute(&opts.cwd, f))
        .collect();
    let mut env = discover::environment(&opts.process_env, &env_files, &base_dir)?;
    let files = discover::compose_files(opts, &env, &base_dir)?;
    let project_dir = match &first_dir {
        Some(d) => d.clone(),
        None => files
            .iter()
            .find(|f| f.as_os_str() != "-")
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| opts.cwd.clone()),
    };
    if project_dir != base_dir && env_files.is_empty() {
        env = discover::environment(&opts.process_env, &env_files, &project_dir)?;
    }
    Ok(Sources {
        env,
        env_files,
        files,
        project_dir,
    })
}

fn load_files(opts: &LoadOptions) -> Result<(Project, Environment, Warnings)> {
    let mut warnings = Warnings::default();
    let Sources {
        env,
        env_files,
        files,
        project_dir,
    } = sources(opts)?;

    let mut root: Option<Node> = None;
    for path in &files {
        let mut node = file::load_file(
            path,
            opts.stdin.as_deref(),
            &env,
            opts.interpolate,
            &mut warnings,
        )?;
        let dir = if path.as_os_str() == "-" {
            project_dir.clone()
        } else {
            parent(path)
        };
        let mut other_files: BTreeMap<PathBuf, Node> = BTreeMap::new();
        let mut loader = |p: &Path| -> Result<Node> {
            let abs = discover::absolute(&dir, p);
            if let Some(n) = other_files.get(&abs) {
                return Ok(n.clone());
            }
            let n = file::load_file(&abs, None, &env, opts.interpolate, &mut Warnings::default())?;
            other_files.insert(abs, n.clone());
            Ok(n)
        };
        let file_path = if path.as_os_str() == "-" {
            project_dir.join("-")
        } else {
            path.clone()
        };
        extends::resolve_extends(&mut node, &file_path, &mut loader)?;
        // The first file is merged into an empty mapping too, so its `!reset`
        // tags resolve and duplicates are removed as for any later file.
        let base = root.get_or_insert_with(|| Node::map(Vec::new(), node.span.clone()));
        merge::merge(base, node)?;
    }
    let mut root = root.ok_or_else(|| LoadError::new(ErrorKind::Io, "no compose file to load"))?;
    let includes = root.remove("include");

    let name = project_name(opts, &env, &root, &project_dir)?;
    let mut project = typing::project(root)?;
    project.name = name;
    project.meta.working_dir = project_dir.clone();
    project.meta.config_files = files
        .iter()
        .filter(|f| f.as_os_str() != "-")
        .cloned()
        .collect();
    project.meta.env_files = env_files;
    if project.version.is_some() {
        warnings.warn(
            "the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
        );
    }
    normalize::services(&mut project, &env)?;
    if let Some(includes) = includes {
        include::apply(&mut project, &includes, &project_dir, opts, &mut warnings)?;
    }
    Ok((project, env, warnings))
}

fn parent(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `-p` > `COMPOSE_PROJECT_NAME` > top-level `name:` > directory basename.
fn project_name(opts: &LoadOptions, env: &Environment, root: &Node, dir: &Path) -> Result<String> {
    if let Some(p) = &opts.project_name {
        discover::validate_project_name(p)?;
        return Ok(p.clone());
    }
    if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|s| !s.is_empty()) {
        discover::validate_project_name(p)?;
        return Ok(p.to_string());
    }
    if let Some(n) = root
        .get("name")
        .and_then(|n| n.scalar_text())
        .filter(|s| !s.is_empty())
    {
        let normalized = discover::normalize_project_name(&n);
        if normalized.is_empty() {
            return Err(LoadError::at(
                ErrorKind::Project,
                &root.get("name").map(|n| n.span.clone()).unwrap_or_default(),
                format!("project name \"{n}\" has no letter or digit left after normalization"),
            ));
        }
        return Ok(normalized);
    }
    let base = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let normalized = discover::normalize_project_name(&base);
    if normalized.is_empty() {
        return Err(LoadError::new(
            ErrorKind::Project,
            format!(
                "cannot derive a project name from directory \"{}\"",
                dir.display()
            ),
        )
        .with_hint("name the project with -p NAME or a top-level `name:`"));
    }
    Ok(normalized)
}

/// Services a set of names depends on, transitively (for `up web`).
pub fn with_dependencies(project: &Project, names: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = names.to_vec();
    while let Some(n) = stack.pop() {
        if !out.insert(n.clone()) {
            continue;
        }
        if let Some(s) = project.services.get(&n) {
            stack.extend(s.depends_on.keys().cloned());
        }
    }
    out
}
