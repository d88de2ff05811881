//! `extends`: a service defined on top of another one, in the same file or in
//! another file (compose-go `loader/extends.go`).
//!
//! Owns resolving the chain (base first, recursively, across files), cycle and
//! missing-service errors, and rebasing the relative paths of a base that comes
//! from another file so they stay relative to *that* file's directory once the
//! service lives in the extending file. Every attribute is inherited, including
//! `depends_on`, `links` and `volumes_from` (Compose v2 forbids none; checked
//! with the oracle). Merging is `merge::merge_service`; reading and
//! canonicalizing the other file is the caller's `load`. `extends` is resolved
//! per file, before `-f` files are merged, so a base overridden by a later
//! `-f` file does not change the services extending it (as in Compose).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::canonical::clean_path;
use super::error::{ErrorKind, LoadError};
use super::merge;
use super::node::{Node, Value};
use super::suggest::did_you_mean;

/// Longest `extends` chain followed (base of a base of …). Real chains are a
/// few links long; the bound keeps the recursion's stack small.
const MAX_CHAIN: usize = 64;

/// Nodes `extends` may copy from bases into the services extending them, for
/// one file: as many as the YAML reader accepts in a file (250,000). Each
/// extending service gets its own copy of its base, so a long chain or a large
/// base extended by thousands of services multiplies the file's size, like an
/// alias bomb the YAML budget cannot see.
const MAX_INHERITED_NODES: usize = 250_000;

/// Replace every service that has `extends: {service, file?}` by its base
/// merged with it. `file` is the path of the file `root` was read from; `load`
/// returns the interpolated, canonical root of another file, given its path
/// (already joined to the extending file's directory).
pub fn resolve_extends(
    root: &mut Node,
    file: &Path,
    load: &mut dyn FnMut(&Path) -> Result<Node, LoadError>,
) -> Result<(), LoadError> {
    let names: Vec<String> = match root.get("services").and_then(Node::as_map) {
        Some(services) if services.iter().any(|(_, s)| s.get("extends").is_some()) => {
            services.iter().map(|(k, _)| k.name.clone()).collect()
        }
        _ => return Ok(()),
    };
    let main = normalize(file);
    let mut resolver = Resolver {
        load,
        files: HashMap::new(),
        done: HashMap::new(),
        inherited: 0,
    };
    resolver.files.insert(main.clone(), root.clone());
    for name in names {
        let resolved = resolver.resolve(&main, &name, &mut Vec::new())?;
        if let Some(slot) = root.get_mut("services").and_then(|s| s.get_mut(&name)) {
            *slot = resolved;
        }
    }
    Ok(())
}

/// A service in a file: the unit `extends` chains and cycles are made of.
type Id = (PathBuf, String);

struct Resolver<'a> {
    load: &'a mut dyn FnMut(&Path) -> Result<Node, LoadError>,
    /// Canonical roots by normalized path, the extending file included.
    files: HashMap<PathBuf, Node>,
    /// Services already resolved (compose-go stores them back in the map).
    done: HashMap<Id, Node>,
    /// Nodes copied from bases so far (`MAX_INHERITED_NODES`).
    inherited: usize,
}

impl Resolver<'_> {
    fn service(&self, file: &Path, name: &str) -> Option<&Node> {
        self.files.get(file)?.get("services")?.get(name)
    }

    fn resolve(&mut self, file: &Path, name: &str, chain: &mut Vec<Id>) -> Result<Node, LoadError> {
        let id: Id = (file.to_path_buf(), name.to_string());
        if let Some(done) = self.done.get(&id) {
            return Ok(done.clone());
        }
        let Some(svc) = self.service(file, name).cloned() else {
            return Ok(Node::null(Default::default()));
        };
        let Some(ext) = svc.get("extends").filter(|e| !e.is_null()).cloned() else {
            self.done.insert(id, svc.clone());
            return Ok(svc);
        };
        let with_service = |e: LoadError| e.with_service(name);
        let Some(base_name) = ext
            .get("service")
            .and_then(Node::as_str)
            .map(str::to_string)
        else {
            return Err(with_service(
                LoadError::invalid(&ext.span, "`extends` needs `service:`, the name of the service to extend")
                    .with_hint("write `extends: {service: base}` or `extends: {file: base.yaml, service: base}`"),
            ));
        };
        let base_span = ext
            .get("service")
            .map_or(ext.span.clone(), |n| n.span.clone());
        let other = match ext.get("file").filter(|f| !f.is_null()) {
            None => None,
            Some(f) => match f.as_str() {
                Some(text) => Some((text.to_string(), f.span.clone())),
                None => {
                    return Err(with_service(LoadError::invalid(
                        &f.span,
                        "`extends.file` must be a path",
                    )));
                }
            },
        };

        let base_file = match &other {
            None => file.to_path_buf(),
            Some((text, span)) => {
                let path = normalize(&file.parent().unwrap_or(Path::new("")).join(text));
                if !self.files.contains_key(&path) {
                    let loaded = (self.load)(&path).map_err(|mut e| {
                        e.span.get_or_insert_with(|| span.clone());
                        with_service(e)
                    })?;
                    self.files.insert(path.clone(), loaded);
                }
                path
            }
        };
        if self.service(&base_file, &base_name).is_none() {
            return Err(with_service(
                self.not_found(name, &base_name, &base_file, &other, &base_span),
            ));
        }
        if chain.len() >= MAX_CHAIN {
            return Err(with_service(
                LoadError::at(
                    ErrorKind::Cycle,
                    &base_span,
                    format!("extends chain longer than {MAX_CHAIN} services"),
                )
                .with_hint("extend a service that extends fewer others"),
            ));
        }
        chain.push(id.clone());
        let base_id: Id = (base_file.clone(), base_name.clone());
        if chain.contains(&base_id) {
            let mut names: Vec<String> = chain.iter().map(|link| show(link, &chain[0].0)).collect();
            names.push(show(&base_id, &chain[0].0));
            return Err(with_service(
                LoadError::at(
                    ErrorKind::Cycle,
                    &base_span,
                    format!("extends cycle: {}", names.join(" -> ")),
                )
                .with_hint("a service cannot extend itself, directly or through other services"),
            ));
        }
        let mut base = self.resolve(&base_file, &base_name, chain)?;
        chain.pop();
        if let Some((text, _)) = &other {
            rebase(&mut base, &dir_of(text));
        }
        if base.as_map().is_none() {
            base = Node::map(Vec::new(), base.span.clone());
        }
        self.inherited = self.inherited.saturating_add(count_nodes(&base));
        if self.inherited > MAX_INHERITED_NODES {
            return Err(with_service(
                LoadError::at(
                    ErrorKind::InvalidValue,
                    &base_span,
                    format!(
                        "extends copies more than {MAX_INHERITED_NODES} values from base services into this file's services"
                    ),
                )
                .with_hint("a very long extends chain, or a huge base extended by very many services?"),
            ));
        }
        let mut merged = merge::merge_service(&base, &svc).map_err(with_service)?;
        merged.remove("extends");
        self.done.insert(id, merged.clone());
        Ok(merged)
    }

    fn not_found(
        &self,
        name: &str,
        base: &str,
        base_file: &Path,
        other: &Option<(String, super::node::Span)>,
        span: &super::node::Span,
    ) -> LoadError {
        let candidates: Vec<&str> = self
            .files
            .get(base_file)
            .and_then(|r| r.get("services"))
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .map(|(k, _)| k.name.as_str())
                    .filter(|n| *n != name || other.is_some())
                    .collect()
            })
            .unwrap_or_default();
        let in_file = other
            .as_ref()
            .map(|(f, _)| format!(" in {f}"))
            .unwrap_or_default();
        let hint = match did_you_mean(base, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if candidates.is_empty() && other.is_none() => {
                "no other service is defined in this file".to_string()
            }
            None if candidates.is_empty() => format!("no service is defined{in_file}"),
            None => format!("services defined{in_file}: {}", candidates.join(", ")),
        };
        LoadError::at(
            ErrorKind::Reference,
            span,
            format!("cannot extend service \"{name}\": service \"{base}\" not found{in_file}"),
        )
        .with_hint(hint)
    }
}

/// Nodes in a tree, counted without recursion.
fn count_nodes(node: &Node) -> usize {
    let mut stack = vec![node];
    let mut count = 0;
    while let Some(n) = stack.pop() {
        count += 1;
        match &n.value {
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            Value::Scalar(_) => {}
        }
    }
    count
}

/// `a`, or `a (other.yaml)` for a service of another file than the chain's first.
fn show(id: &Id, first: &Path) -> String {
    if id.0 == first {
        id.1.clone()
    } else {
        format!("{} ({})", id.1, id.0.display())
    }
}

/// The directory part of `extends.file` as written ("" for the same directory).
fn dir_of(file: &str) -> String {
    match file.rfind(['/', '\\']) {
        Some(0) => "/".to_string(),
        Some(i) => file[..i].to_string(),
        None => String::new(),
    }
}

/// Lexical normalization, so one file reached by two spellings is one file.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Make the relative paths of a service read from `dir/…` relative to the
/// extending file's directory (compose-go `paths.ResolveRelativePaths` on the
/// extended file, but lexical: absolute resolution happens later).
fn rebase(svc: &mut Node, dir: &str) {
    if dir.is_empty() {
        return;
    }
    let join = |node: &mut Node, is_context: bool| {
        if let Value::Scalar(super::node::Scalar::Str(p)) = &mut node.value
            && !keeps_as_written(p, is_context)
        {
            *p = clean_path(&format!("{dir}/{p}"));
        }
    };
    if let Some(build) = svc.get_mut("build") {
        if let Some(ctx) = build.get_mut("context") {
            join(ctx, true);
        }
        if let Some(extra) = build
            .get_mut("additional_contexts")
            .and_then(Node::as_map_mut)
        {
            extra.iter_mut().for_each(|(_, v)| join(v, true));
        }
    }
    for entry in items(svc, "env_file") {
        if let Some(path) = entry.get_mut("path") {
            join(path, false);
        }
    }
    for entry in items(svc, "label_file") {
        join(entry, false);
    }
    if let Some(develop) = svc.get_mut("develop") {
        for watch in items(develop, "watch") {
            if let Some(path) = watch.get_mut("path") {
                join(path, false);
            }
        }
    }
    for mount in items(svc, "volumes") {
        if mount.get("type").and_then(Node::as_str) == Some("bind")
            && let Some(source) = mount.get_mut("source")
        {
            join(source, false);
        }
    }
}

fn items<'a>(node: &'a mut Node, attr: &str) -> impl Iterator<Item = &'a mut Node> {
    node.get_mut(attr)
        .and_then(|n| match &mut n.value {
            Value::Seq(items) => Some(items.iter_mut()),
            _ => None,
        })
        .into_iter()
        .flatten()
}

/// Absolute paths, `~` paths and (for build contexts) remote or named contexts.
fn keeps_as_written(p: &str, is_context: bool) -> bool {
    let windows_abs = {
        let b = p.as_bytes();
        p.starts_with("\\\\")
            || (b.len() >= 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && matches!(b[2], b'\\' | b'/'))
    };
    let remote = is_context
        && (p.contains("://")
            || p.starts_with("service:")
            || ["github.com/", "git@"]
                .iter()
                .any(|prefix| p.starts_with(prefix)));
    p.is_empty() || p.starts_with('/') || p.starts_with('~') || windows_abs || remote
}

#[cfg(test)]
mod tests;
