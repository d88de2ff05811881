//! The compose files as written, before interpolation: lint needs them to tell
//! a literal value from one that came from `${VAR}`, and to point at top-level
//! keys (networks, `x-aistack`) that the typed model keeps no position for.
//!
//! Reads each file again through the loader's own reader (so spans match the
//! loaded tree exactly) and indexes every scalar by its position. It must not
//! interpolate, merge or judge anything.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::compose::file;
use crate::compose::model::Project;
use crate::compose::node::{Node, Span, Value};
use crate::compose::read;

/// Raw trees of the project's files, by the file name their spans carry.
#[derive(Debug, Default)]
pub struct Sources {
    /// Top-level trees of the `-f` files, in load order.
    top: Vec<Node>,
    /// (file, line, column) → the scalar's text as written.
    scalars: HashMap<(Arc<str>, u32, u32), String>,
}

impl Sources {
    /// Read every file the project came from: the compose files and any file
    /// a loaded node points into (`extends` from another file). A file that
    /// cannot be read again is skipped: lint then treats its values as unknown.
    pub fn read(project: &Project, stdin: Option<&str>) -> Sources {
        let mut names: Vec<String> = project
            .meta
            .config_files
            .iter()
            .map(|p| file::display_name(p))
            .collect();
        if stdin.is_some() {
            names.push(file::display_name(Path::new("-")));
        }
        let mut others = std::collections::BTreeSet::new();
        if let Some(services) = project.meta.source.as_deref() {
            collect_files(services, &mut others);
        }
        let top_count = names.len();
        for f in others {
            if !names.contains(&f) {
                names.push(f);
            }
        }
        let mut texts = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let text = if name == "<stdin>" {
                stdin.map(str::to_string)
            } else {
                file::read_text(Path::new(name), None).ok()
            };
            if let Some(t) = text {
                texts.insert(i, (name.clone(), t));
            }
        }
        let mut out = Sources::default();
        for (i, (name, text)) in texts {
            if let Ok(node) = read::parse(&text, &name) {
                out.add(node, i < top_count);
            }
        }
        out
    }

    fn add(&mut self, node: Node, top: bool) {
        index(&node, &mut self.scalars);
        if top {
            self.top.push(node);
        }
    }

    /// The text written at `span`, if a scalar starts there.
    pub fn raw_text(&self, span: &Span) -> Option<&str> {
        self.scalars
            .get(&(span.file.clone(), span.line, span.column))
            .map(String::as_str)
    }

    /// The first node at `path` (keys from the top of a file) in the compose
    /// files, in load order.
    pub fn top_level(&self, path: &[&str]) -> Option<(&Node, Option<Span>)> {
        self.top.iter().find_map(|root| {
            let mut node = root;
            let mut key_span = None;
            for k in path {
                key_span = node.key(k).map(|k| k.span.clone());
                node = node.get(k)?;
            }
            Some((node, key_span))
        })
    }
}

fn collect_files(node: &Node, out: &mut std::collections::BTreeSet<String>) {
    if node.span.is_known() {
        out.insert(node.span.file.to_string());
    }
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| collect_files(n, out)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| collect_files(n, out)),
        Value::Scalar(_) => {}
    }
}

fn index(node: &Node, out: &mut HashMap<(Arc<str>, u32, u32), String>) {
    match &node.value {
        Value::Scalar(s) => {
            if node.span.is_known() {
                out.entry((node.span.file.clone(), node.span.line, node.span.column))
                    .or_insert_with(|| s.to_text());
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| index(n, out)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| index(n, out)),
    }
}
