//! Top-level `include:`: each entry is loaded as its own sub-project (its own
//! project directory and `.env`), and its services, networks, volumes, secrets
//! and configs join the including project. A resource defined on both sides is
//! an error, as in Compose. Must not merge with override semantics.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::discover::{self, LoadOptions};
use super::error::{ErrorKind, LoadError, Result};
use super::file::Warnings;
use super::load;
use super::model::Project;
use super::node::Node;

/// Nesting of includes (a project including one that includes …).
const MAX_DEPTH: usize = 16;

/// Included projects one load reads in all, at every depth: an include list
/// naming the same file ten times, sixteen levels down, would otherwise mean
/// 10^16 loads. Real projects include a handful.
const MAX_INCLUDED: usize = 100;

pub fn apply(
    project: &mut Project,
    includes: &Node,
    project_dir: &Path,
    opts: &LoadOptions,
    warnings: &mut Warnings,
) -> Result<()> {
    if opts.include_chain.len() >= MAX_DEPTH {
        return Err(LoadError::at(
            ErrorKind::Cycle,
            &includes.span,
            format!("includes nest more than {MAX_DEPTH} levels deep"),
        ));
    }
    // This project's own first file ends the chain its includes must avoid.
    let mut chain = opts.include_chain.clone();
    chain.extend(
        project
            .meta
            .config_files
            .first()
            .map(|f| discover::clean(f)),
    );
    let Some(entries) = includes.as_seq() else {
        return Err(LoadError::invalid(
            &includes.span,
            "`include` must be a list",
        ));
    };
    for entry in entries {
        let (paths, sub_dir, env_files) = parse_entry(entry, project_dir)?;
        let first = paths
            .first()
            .cloned()
            .ok_or_else(|| LoadError::invalid(&entry.span, "include entry has no path"))?;
        if let Some(at) = chain.iter().position(|f| *f == discover::clean(&first)) {
            let shown: Vec<String> = chain[at..]
                .iter()
                .chain([&first])
                .map(|f| f.display().to_string())
                .collect();
            return Err(LoadError::at(
                ErrorKind::Cycle,
                &entry.span,
                format!("include cycle: {}", shown.join(" -> ")),
            )
            .with_hint("a file cannot include itself, directly or through other files"));
        }
        let loads = opts.include_count.fetch_add(1, Ordering::Relaxed) + 1;
        if loads > MAX_INCLUDED {
            return Err(LoadError::at(
                ErrorKind::InvalidValue,
                &entry.span,
                format!("more than {MAX_INCLUDED} included projects in all"),
            )
            .with_hint("is the same file included many times, at several levels?"));
        }
        let dir =
            sub_dir.unwrap_or_else(|| first.parent().map(Path::to_path_buf).unwrap_or_default());
        let mut sub = LoadOptions::new(opts.cwd.clone(), opts.process_env.clone());
        sub.files = paths;
        sub.project_directory = Some(dir);
        sub.env_files = env_files;
        sub.interpolate = opts.interpolate;
        sub.project_name = Some(project.name.clone());
        sub.profiles = opts.profiles.clone();
        sub.include_chain = chain.clone();
        sub.include_count = opts.include_count.clone();
        let loaded = load::load_unfinished(&sub).map_err(|e| {
            let mut e = e;
            e.message = format!("in included file {}: {}", first.display(), e.message);
            e
        })?;
        for w in loaded.1 {
            warnings.warn(w);
        }
        join(project, loaded.0, &entry.span)?;
    }
    Ok(())
}

fn parse_entry(
    entry: &Node,
    project_dir: &Path,
) -> Result<(Vec<PathBuf>, Option<PathBuf>, Vec<PathBuf>)> {
    let list = |n: &Node| -> Vec<String> {
        match n.as_seq() {
            Some(items) => items.iter().filter_map(|i| i.scalar_text()).collect(),
            None => n.scalar_text().into_iter().collect(),
        }
    };
    if let Some(p) = entry.scalar_text() {
        return Ok((
            vec![discover::absolute(project_dir, Path::new(&p))],
            None,
            vec![],
        ));
    }
    if entry.as_map().is_none() {
        return Err(LoadError::invalid(
            &entry.span,
            "an include entry is a path or a mapping with `path`",
        ));
    }
    let paths: Vec<PathBuf> = entry
        .get("path")
        .map(list)
        .unwrap_or_default()
        .iter()
        .map(|p| discover::absolute(project_dir, Path::new(p)))
        .collect();
    let dir = entry
        .get("project_directory")
        .and_then(|n| n.scalar_text())
        .map(|d| discover::absolute(project_dir, Path::new(&d)));
    let env_files = entry
        .get("env_file")
        .map(list)
        .unwrap_or_default()
        .iter()
        .map(|p| discover::absolute(project_dir, Path::new(p)))
        .collect();
    Ok((paths, dir, env_files))
}

fn join(project: &mut Project, sub: Project, span: &super::node::Span) -> Result<()> {
    fn conflict(kind: &str, name: &str, span: &super::node::Span) -> LoadError {
        LoadError::at(
            ErrorKind::Reference,
            span,
            format!("{kind} \"{name}\" is defined both here and in an included file"),
        )
        .with_hint("rename one of them; included resources cannot be overridden")
    }
    for (k, v) in sub.services {
        if project.services.contains_key(&k) {
            return Err(conflict("service", &k, span));
        }
        project.services.insert(k, v);
    }
    for (k, v) in sub.networks {
        if project.networks.get(&k).is_some_and(|n| *n != v) {
            return Err(conflict("network", &k, span));
        }
        project.networks.insert(k, v);
    }
    for (k, v) in sub.volumes {
        if project.volumes.get(&k).is_some_and(|n| *n != v) {
            return Err(conflict("volume", &k, span));
        }
        project.volumes.insert(k, v);
    }
    for (k, v) in sub.secrets {
        project.secrets.entry(k).or_insert(v);
    }
    for (k, v) in sub.configs {
        project.configs.entry(k).or_insert(v);
    }
    project.meta.config_files.extend(sub.meta.config_files);
    // Keep the included services' located trees too, so later checks (validate,
    // lint) can point into the included file.
    if let Some(sub_source) = sub.meta.source.as_deref().and_then(|n| n.as_map()) {
        let source = project.meta.source.get_or_insert_with(|| {
            std::sync::Arc::new(super::node::Node::map(Vec::new(), span.clone()))
        });
        let source = std::sync::Arc::make_mut(source);
        for (k, n) in sub_source {
            if source.get(&k.name).is_none() {
                source.insert(k.clone(), n.clone());
            }
        }
    }
    Ok(())
}
