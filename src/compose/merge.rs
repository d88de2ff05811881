//! Merging canonical compose documents: `-f a.yaml -f b.yaml` and `extends`.
//!
//! Mirrors compose-go `override/merge.go` (`mergeSpecials`) and
//! `override/uncity.go` (`EnforceUnicity`), plus the `!reset`/`!override`
//! handling of `loader/reset.go`. The default rule: mappings merge key by key,
//! sequences append, scalars are replaced, and an override of `null` keeps the
//! base. Per-path exceptions are listed in `rule`. Both sides must already be
//! canonical (see `canonical`), which is why `environment`, `depends_on`,
//! `networks`, … are always mappings here.
//!
//! It owns the tags: no `Tag` survives a merge. It must not canonicalize,
//! resolve paths or validate beyond "these two shapes cannot be merged".

mod unicity;

use std::collections::{HashMap, HashSet};

use super::error::LoadError;
use super::node::{Node, Tag, Value};

pub use unicity::enforce as enforce_unicity;

/// Merge the canonical document `over` (a later `-f` file) onto `base`, then
/// drop the sequence entries the merge made redundant (`EnforceUnicity`).
///
/// The first file should be merged into an empty mapping too, so that its own
/// `!reset` entries are dropped and its duplicates removed, as Compose does.
pub fn merge(base: &mut Node, over: Node) -> Result<(), LoadError> {
    resolve_tags(base);
    let mut path = Vec::new();
    merge_node(base, over, &mut path)?;
    enforce_unicity(base);
    Ok(())
}

/// `extends`: the service `over` on top of its resolved base service, with the
/// same per-attribute rules as `merge` (compose-go `override.ExtendService`).
pub fn merge_service(base: &Node, over: &Node) -> Result<Node, LoadError> {
    let mut merged = base.clone();
    resolve_tags(&mut merged);
    let mut path = vec!["services".to_string(), String::new()];
    merge_node(&mut merged, over.clone(), &mut path)?;
    unicity::service(&mut merged);
    Ok(merged)
}

/// Apply the tags of a document that is not merged onto anything: `!reset`
/// entries disappear, `!override` is just the value.
pub fn resolve_tags(node: &mut Node) {
    node.tag = None;
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|(_, v)| v.tag != Some(Tag::Reset));
            for (_, v) in entries.iter_mut() {
                resolve_tags(v);
            }
        }
        // compose-go cannot remove a sequence item: a tagged item is kept as is.
        Value::Seq(items) => items.iter_mut().for_each(resolve_tags),
        Value::Scalar(_) => {}
    }
}

fn stripped(mut node: Node) -> Node {
    resolve_tags(&mut node);
    node
}

/// How a path merges when both sides have a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Mappings by key, sequences appended, scalars replaced, null keeps base.
    Default,
    /// The later value wins outright, even null (`command`, `entrypoint`,
    /// `healthcheck.test`, `ulimits.*`).
    Replace,
    /// `KEY=VALUE` mappings: entries replaced by key, a null entry included.
    KeyValue,
    /// `extra_hosts`: appended, minus entries the base already has.
    ExtraHosts,
    /// `logging`: merged only when the driver is the same (or unset on a side).
    Logging,
    /// `networks.*.ipam.config`: compose-go's `mergeIPAMConfig`, verbatim.
    Ipam,
}

fn rule(path: &[String]) -> Rule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"]
        | ["services", _, "healthcheck", "test"]
        | ["services", _, "ulimits", _] => Rule::Replace,
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "sysctls",
        ]
        | [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => Rule::KeyValue,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => {
            Rule::ExtraHosts
        }
        ["services", _, "logging"] => Rule::Logging,
        ["networks", _, "ipam", "config"] => Rule::Ipam,
        _ => Rule::Default,
    }
}

fn merge_node(base: &mut Node, over: Node, path: &mut Vec<String>) -> Result<(), LoadError> {
    let rule = rule(path);
    if rule == Rule::Replace {
        *base = stripped(over);
        return Ok(());
    }
    // compose-go `mergeYaml`: `if o == nil { return e }`.
    if over.is_null() {
        return Ok(());
    }
    match (rule, &base.value, &over.value) {
        (Rule::KeyValue, Value::Map(_), Value::Map(_)) => {
            merge_entries(base, over, path, Entries::Replace)
        }
        (Rule::ExtraHosts, Value::Seq(_), Value::Seq(_)) => {
            extra_hosts(base, over);
            Ok(())
        }
        (Rule::Logging, Value::Map(_), Value::Map(_)) => {
            let driver = |n: &Node| n.get("driver").and_then(Node::scalar_text);
            match (driver(base), driver(&over)) {
                (Some(b), Some(o)) if b != o => {
                    *base = stripped(over);
                    Ok(())
                }
                _ => merge_entries(base, over, path, Entries::Recursive),
            }
        }
        (Rule::Ipam, Value::Seq(_), Value::Seq(_)) => ipam(base, over, path),
        (_, Value::Map(_), Value::Map(_)) => merge_entries(base, over, path, Entries::Recursive),
        (_, Value::Seq(_), Value::Seq(_)) => {
            if let (Value::Seq(items), Value::Seq(more)) = (&mut base.value, over.value) {
                items.extend(more.into_iter().map(stripped));
            }
            Ok(())
        }
        (_, Value::Map(_) | Value::Seq(_), _) => Err(cannot_merge(base, &over, path)),
        _ => {
            *base = stripped(over);
            Ok(())
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Entries {
    Recursive,
    Replace,
}

/// Merge the entries of mapping `over` into mapping `base`, honouring the tags
/// on `over`'s values: `!reset` removes the key, `!override` replaces it.
fn merge_entries(
    base: &mut Node,
    over: Node,
    path: &mut Vec<String>,
    mode: Entries,
) -> Result<(), LoadError> {
    let Value::Map(over_entries) = over.value else {
        return Ok(());
    };
    let Some(entries) = base.as_map_mut() else {
        return Ok(());
    };
    // Keys are looked up in an index, and `!reset` entries removed at the end,
    // so that two mappings of 100,000 keys merge in linear time. Small
    // mappings, the usual case, are searched directly.
    let mut index: HashMap<String, usize> = HashMap::new();
    let indexed = entries.len() > 16;
    if indexed {
        for (i, (bk, _)) in entries.iter().enumerate() {
            index.entry(bk.name.clone()).or_insert(i);
        }
    }
    let mut removed: HashSet<usize> = HashSet::new();
    for (k, v) in over_entries {
        let slot = if indexed {
            index.get(&k.name).copied()
        } else {
            entries
                .iter()
                .position(|(bk, _)| bk.name == k.name)
                .filter(|i| !removed.contains(i))
        };
        match (v.tag, slot) {
            (Some(Tag::Reset), Some(i)) => {
                removed.insert(i);
                index.remove(&k.name);
            }
            (Some(Tag::Reset), None) => {}
            (Some(Tag::Override), Some(i)) => entries[i].1 = stripped(v),
            (_, None) => {
                if indexed {
                    index.insert(k.name.clone(), entries.len());
                }
                entries.push((k, stripped(v)));
            }
            (None, Some(i)) => match mode {
                Entries::Replace => entries[i].1 = stripped(v),
                Entries::Recursive => {
                    path.push(k.name.clone());
                    let merged = merge_node(&mut entries[i].1, v, path);
                    path.pop();
                    merged?;
                }
            },
        }
    }
    if !removed.is_empty() {
        let mut position = 0;
        entries.retain(|_| {
            position += 1;
            !removed.contains(&(position - 1))
        });
    }
    Ok(())
}

/// compose-go `mergeExtraHosts`: the override's entries are appended unless the
/// base already has the same `host=ip`.
fn extra_hosts(base: &mut Node, over: Node) {
    let (Value::Seq(items), Value::Seq(more)) = (&mut base.value, over.value) else {
        return;
    };
    let known: HashSet<Option<String>> = items.iter().map(Node::scalar_text).collect();
    for item in more {
        if !known.contains(&item.scalar_text()) {
            items.push(stripped(item));
        }
    }
}

/// compose-go `mergeIPAMConfig`, reproduced with its aliasing: it mutates the
/// base entries while it walks them, so e.g. a base subnet absent from the
/// override is dropped. `docker compose config` prints exactly this, so we do.
fn ipam(base: &mut Node, over: Node, path: &mut Vec<String>) -> Result<(), LoadError> {
    // The walk below is cubic in the number of entries; a network has one or
    // two subnets, so a list long enough to make that cost is refused.
    const MAX_CONFIGS: usize = 64;
    if let (Value::Seq(configs), Value::Seq(overrides)) = (&base.value, &over.value)
        && configs.len().max(overrides.len()) > MAX_CONFIGS
    {
        let long = if configs.len() > MAX_CONFIGS {
            &*base
        } else {
            &over
        };
        return Err(LoadError::invalid(
            &long.span,
            format!("{} has more than {MAX_CONFIGS} entries", path.join(".")),
        ));
    }
    let (Value::Seq(configs), Value::Seq(overrides)) = (&base.value, over.value) else {
        return Ok(());
    };
    let originals = configs.len();
    let mut arena: Vec<Node> = configs.clone();
    arena.extend(overrides.into_iter().map(stripped));
    let subnet = |n: &Node| n.get("subnet").and_then(Node::scalar_text);
    let mut result: Vec<usize> = Vec::new();
    for right in 0..originals {
        for left in originals..arena.len() {
            let left_subnet = subnet(&arena[left]);
            if left_subnet != subnet(&arena[right])
                && !result.iter().any(|&i| subnet(&arena[i]) == left_subnet)
            {
                result.push(left);
                continue;
            }
            let l = arena[left].clone();
            if arena[right].as_map().is_some() && l.as_map().is_some() {
                merge_entries(&mut arena[right], l, path, Entries::Recursive)?;
            } else {
                arena[right] = l;
            }
            let merged_subnet = subnet(&arena[right]);
            match result
                .iter()
                .position(|&i| subnet(&arena[i]) == merged_subnet)
            {
                Some(j) => result[j] = right,
                None => result.push(right),
            }
        }
    }
    base.value = Value::Seq(result.into_iter().map(|i| arena[i].clone()).collect());
    Ok(())
}

fn cannot_merge(base: &Node, over: &Node, path: &[String]) -> LoadError {
    let shown = match path {
        [first, name, rest @ ..] if first == "services" && !name.is_empty() => rest.join("."),
        [first, _, rest @ ..] if first == "services" => rest.join("."),
        _ => path.join("."),
    };
    let mut e = LoadError::invalid(
        &over.span,
        format!(
            "cannot override `{shown}`: an earlier definition is {} and this one is {}",
            base.kind(),
            over.kind()
        ),
    )
    .with_hint(format!(
        "write `{}: !override …` to replace the earlier value",
        path.last().map_or("", String::as_str)
    ));
    if let [first, name, ..] = path
        && first == "services"
        && !name.is_empty()
    {
        e = e.with_service(name.clone());
    }
    e
}

#[cfg(test)]
mod tests;
