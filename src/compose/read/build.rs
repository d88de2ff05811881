//! Parser events → `Node` tree: mappings with `<<` merges and duplicate-key
//! checks, sequences, scalars, spans and tags.
//!
//! The tree is exactly the one serde-saphyr 2.1 deserializes into the
//! reference path's `Spanned<Tagged<…>>` (see `reference.rs`): the same entry
//! order (explicit keys first, then merged keys, earlier merge sources
//! winning), the same key identity, the same use-site spans, the same errors.
//! Merge sources are captured as events and read only for the entries that
//! survive, as serde-saphyr reads them, so an entry shadowed by an explicit key
//! is never resolved and cannot fail. This file only decides where the parser
//! runs; it must not read raw parser events (that is `raw.rs`), expand aliases
//! or keep the budget (that is `events.rs`), nor decide what a scalar means
//! (that is `scalar.rs`). On any error it stops, and `read.rs` asks the
//! reference path for the message.

use std::collections::HashSet;
use std::ops::Range;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use super::super::node::{Key, Node, Span, Value};
use super::events::{
    Captured, Ev, FastError, Live, Loc, NodeTag, Replay, Source, invalid, use_site,
};
use super::raw::{self, Direct, RawSource};
use super::scalar::{self, Fingerprint};

/// Work bound for hostile input on top of serde-saphyr's budget: nodes built,
/// alias copies and merged entries included.
const MAX_NODES: usize = 2_000_000;

/// Below this size a parser thread costs more than it saves; Compose files
/// are usually far below it.
const THREAD_MIN_BYTES: usize = 64 * 1024;

/// Read one YAML document into a tree, or say why not.
pub(super) fn parse_fast(text: &str, file: &Arc<str>) -> Result<Node, FastError> {
    parse_fast_in(text, file, text.len() >= THREAD_MIN_BYTES && parallel())
}

/// Whether a second thread can run beside this one. Asked once: on Linux
/// the answer comes from the affinity mask and cgroup files.
fn parallel() -> bool {
    static PARALLEL: OnceLock<bool> = OnceLock::new();
    *PARALLEL.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// `parse_fast`, with the parser on a thread of its own or not.
pub(super) fn parse_fast_in(
    text: &str,
    file: &Arc<str>,
    threaded: bool,
) -> Result<Node, FastError> {
    if !threaded {
        return build(Live::new(Direct::new(text)), file);
    }
    std::thread::scope(|scope| {
        let (producer, reader) = raw::channel();
        let parser = std::thread::Builder::new()
            .name("yaml-parser".into())
            .spawn_scoped(scope, move || producer.run(text));
        match parser {
            // Returning drops the reader, which stops the parser thread
            // early when reading stopped at an error.
            Ok(_) => build(Live::new(reader), file),
            Err(_) => build(Live::new(Direct::new(text)), file),
        }
    })
}

fn build<'a, R: RawSource<'a>>(mut live: Live<'a, R>, file: &Arc<str>) -> Result<Node, FastError> {
    let mut builder = Builder {
        file,
        nodes: 0,
        max_depth: serde_saphyr::Budget::default().max_depth,
        entries: Vec::new(),
        items: Vec::new(),
        seen: Vec::new(),
    };
    let root = builder.node(&mut live, 0)?;
    // serde-saphyr's `from_str` reads a single document: any further content
    // (or a syntax error after the first document) is an error.
    if let Some(ev) = live.peek()? {
        return Err(invalid(ev.loc(), "more than one YAML document"));
    }
    Ok(root)
}

fn eof() -> FastError {
    invalid(Loc::default(), "unexpected end of input")
}

/// A mapping entry waiting to be merged in (serde-saphyr's `PendingEntry`):
/// the key's event, use site and identity, and where its value's events are
/// (a range of a captured merge value, read as merged at `merge_at`).
struct Entry<'a> {
    key: Ev<'a>,
    key_at: Loc,
    fingerprint: Fingerprint<'a>,
    source: Rc<Captured<'a>>,
    value: Range<usize>,
    merge_at: Loc,
}

/// Keys seen in one mapping, kept on the builder's `seen` stack from `base`
/// up. Most Compose mappings are small, where a scan beats hashing; large
/// ones (`services`) move to a set.
struct Seen<'a> {
    base: usize,
    many: Option<HashSet<Fingerprint<'a>>>,
}

impl<'a> Seen<'a> {
    fn new(stack: &[Fingerprint<'a>]) -> Self {
        Seen {
            base: stack.len(),
            many: None,
        }
    }

    /// Whether `fp` is new (and now seen).
    fn insert(&mut self, stack: &mut Vec<Fingerprint<'a>>, fp: Fingerprint<'a>) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(fp);
        }
        let mine = stack.get(self.base..).unwrap_or_default();
        if mine.contains(&fp) {
            return false;
        }
        stack.push(fp);
        if stack.len() - self.base > 16 {
            self.many = Some(stack.drain(self.base..).collect());
        }
        true
    }

    fn release(self, stack: &mut Vec<Fingerprint<'a>>) {
        stack.truncate(self.base);
    }
}

/// A plain untagged `<<` key (a `!!merge` tag is not mirrored and never gets here).
fn is_merge_key(ev: &Ev<'_>) -> bool {
    matches!(ev, Ev::Scalar { value, plain: true, tag: NodeTag::None, .. } if value == "<<")
}

/// The use site of the node `src` is about to yield.
fn peek_site<'a, S: Source<'a>>(src: &mut S) -> Result<Loc, FastError> {
    let own = src.peek()?.ok_or_else(eof)?.loc();
    Ok(use_site(own, src.origin()))
}

/// Builds nodes. The `entries`, `items` and `seen` stacks are scratch space
/// shared by all collections being built: a collection pushes above what its
/// ancestors pushed and takes its part off when done, so each collection is
/// allocated once at its final size.
struct Builder<'f, 'a> {
    file: &'f Arc<str>,
    nodes: usize,
    max_depth: usize,
    entries: Vec<(Key, Node)>,
    items: Vec<Node>,
    seen: Vec<Fingerprint<'a>>,
}

impl<'a> Builder<'_, 'a> {
    fn span(&self, loc: Loc) -> Span {
        Span::new(self.file.clone(), loc.line, loc.column)
    }

    /// Build the next node of `src`; `depth` counts the enclosing collections.
    fn node<S: Source<'a>>(&mut self, src: &mut S, depth: usize) -> Result<Node, FastError> {
        let at = peek_site(src)?;
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(invalid(
                at,
                "document expands to too many nodes (alias bomb?)",
            ));
        }
        let ev = src.next()?.ok_or_else(eof)?;
        let (value, tag) = match ev {
            Ev::Scalar {
                value,
                plain,
                tag,
                loc,
            } => {
                let scalar =
                    scalar::resolve_value(value, plain, tag).map_err(|m| invalid(loc, m))?;
                (Value::Scalar(scalar), tag)
            }
            Ev::SeqStart { tag, loc } => {
                let level = self.enter(depth, loc)?;
                let base = self.items.len();
                loop {
                    match src.peek()? {
                        None => return Err(eof()),
                        Some(Ev::SeqEnd { .. }) => {
                            src.next()?;
                            break;
                        }
                        Some(_) => {
                            let item = self.node(src, level)?;
                            self.items.push(item);
                        }
                    }
                }
                (Value::Seq(self.items.drain(base..).collect()), tag)
            }
            Ev::MapStart { tag, loc } => {
                let level = self.enter(depth, loc)?;
                (Value::Map(self.map(src, level)?), tag)
            }
            Ev::SeqEnd { loc } | Ev::MapEnd { loc } => {
                return Err(invalid(loc, "unexpected collection end"));
            }
        };
        Ok(Node {
            value,
            span: self.span(at),
            tag: tag.node_tag(),
        })
    }

    /// Enter a collection (serde-saphyr's `Cfg::enter_container`).
    fn enter(&self, depth: usize, loc: Loc) -> Result<usize, FastError> {
        let level = depth + 1;
        if level > self.max_depth {
            return Err(invalid(loc, "document nests too deeply"));
        }
        Ok(level)
    }

    /// The entries of a mapping whose start was just read: explicit keys in
    /// order, then the merged keys no explicit or earlier merged key shadows.
    fn map<S: Source<'a>>(
        &mut self,
        src: &mut S,
        level: usize,
    ) -> Result<Vec<(Key, Node)>, FastError> {
        let base = self.entries.len();
        let mut seen = Seen::new(&self.seen);
        let mut merged: Vec<Entry<'a>> = Vec::new();
        loop {
            let key_at = match src.peek()? {
                None => return Err(eof()),
                Some(Ev::MapEnd { .. }) => {
                    src.next()?;
                    break;
                }
                Some(_) => peek_site(src)?,
            };
            let key = src.next()?.ok_or_else(eof)?;
            if is_merge_key(&key) {
                let at = peek_site(src)?;
                self.merge_entries(src, at, &mut merged)?;
                continue;
            }
            let Ev::Scalar {
                value,
                plain,
                tag,
                loc,
            } = key
            else {
                // serde-saphyr reads keys as text; a collection key cannot be.
                return Err(invalid(key.loc(), "a mapping key must be a scalar"));
            };
            if !seen.insert(&mut self.seen, scalar::fingerprint(&value, plain, tag)) {
                return Err(invalid(loc, "duplicate mapping key"));
            }
            let name = scalar::key_text(value, plain, tag).map_err(|m| invalid(loc, m))?;
            let value = self.node(src, level)?;
            let key = Key::new(name, self.span(key_at));
            self.entries.push((key, value));
        }
        for entry in merged {
            if !seen.insert(&mut self.seen, entry.fingerprint) {
                continue;
            }
            let Ev::Scalar {
                value,
                plain,
                tag,
                loc,
            } = entry.key
            else {
                return Err(invalid(entry.key.loc(), "a mapping key must be a scalar"));
            };
            let name = scalar::key_text(value, plain, tag).map_err(|m| invalid(loc, m))?;
            let mut replay = entry.source.replay(entry.value, Some(entry.merge_at));
            let node = self.node(&mut replay, level)?;
            let key = Key::new(name, self.span(entry.key_at));
            self.entries.push((key, node));
        }
        seen.release(&mut self.seen);
        Ok(self.entries.drain(base..).collect())
    }

    /// Append the entries a `<<` value contributes, in precedence order
    /// (`pending_entries_from_live_events`): null contributes nothing, a
    /// mapping its entries, a sequence its elements' entries in turn.
    /// `at` is where the value is used; merged nodes are located there.
    fn merge_entries<S: Source<'a>>(
        &mut self,
        src: &mut S,
        at: Loc,
        out: &mut Vec<Entry<'a>>,
    ) -> Result<(), FastError> {
        match src.peek()?.ok_or_else(eof)? {
            Ev::Scalar {
                value,
                plain,
                tag,
                loc,
            } => {
                if !scalar::is_null(value, *plain, *tag) {
                    return Err(invalid(
                        *loc,
                        "a merge value must be a mapping or a list of mappings",
                    ));
                }
                src.next()?;
            }
            Ev::MapStart { .. } => {
                let captured = Rc::new(Captured::take(src)?);
                self.merge_from_captured(&captured, 0..captured.len(), at, out)?;
            }
            Ev::SeqStart { .. } => {
                src.next()?;
                loop {
                    match src.peek()? {
                        None => return Err(eof()),
                        Some(Ev::SeqEnd { .. }) => {
                            src.next()?;
                            break;
                        }
                        Some(_) => {
                            let element_at = peek_site(src)?;
                            let element = Rc::new(Captured::take(src)?);
                            self.merge_from_captured(&element, 0..element.len(), element_at, out)?;
                        }
                    }
                }
            }
            Ev::SeqEnd { loc } | Ev::MapEnd { loc } => {
                return Err(invalid(*loc, "unexpected collection end"));
            }
        }
        Ok(())
    }

    /// `pending_entries_from_events`: append the entries of a captured merge
    /// value (the node at `range` of `source`), every node of which is now
    /// located at `at` unless it came from an alias.
    fn merge_from_captured(
        &mut self,
        source: &Rc<Captured<'a>>,
        range: Range<usize>,
        at: Loc,
        out: &mut Vec<Entry<'a>>,
    ) -> Result<(), FastError> {
        let start = range.start;
        let mut replay = source.replay(range, Some(at));
        match replay.peek()?.ok_or_else(eof)? {
            Ev::Scalar {
                value,
                plain,
                tag,
                loc,
            } => {
                if !scalar::is_null(value, *plain, *tag) {
                    return Err(invalid(
                        *loc,
                        "a merge value must be a mapping or a list of mappings",
                    ));
                }
            }
            Ev::MapStart { .. } => self.entries_of_map(source, start, &mut replay, at, out)?,
            Ev::SeqStart { .. } => {
                replay.next()?;
                loop {
                    match replay.peek()? {
                        None => return Err(eof()),
                        Some(Ev::SeqEnd { .. }) => break,
                        Some(_) => {
                            let element_at = peek_site(&mut replay)?;
                            let from = start + replay.position();
                            replay.skip_node()?;
                            let to = start + replay.position();
                            self.merge_from_captured(source, from..to, element_at, out)?;
                        }
                    }
                }
            }
            Ev::SeqEnd { loc } | Ev::MapEnd { loc } => {
                return Err(invalid(*loc, "unexpected collection end"));
            }
        }
        Ok(())
    }

    /// `collect_entries_from_map`: a merge source's own entries (duplicates
    /// among them are an error), then whatever its own `<<` keys merge in.
    /// `replay` reads `source` from `start` on, as merged at `at`.
    fn entries_of_map(
        &mut self,
        source: &Rc<Captured<'a>>,
        start: usize,
        replay: &mut Replay<'_, 'a>,
        at: Loc,
        out: &mut Vec<Entry<'a>>,
    ) -> Result<(), FastError> {
        replay.next()?;
        let mut nested = Vec::new();
        let mut seen = Seen::new(&self.seen);
        loop {
            let key_at = match replay.peek()? {
                None => return Err(eof()),
                Some(Ev::MapEnd { .. }) => {
                    replay.next()?;
                    break;
                }
                Some(_) => peek_site(replay)?,
            };
            let key = replay.next()?.ok_or_else(eof)?;
            if is_merge_key(&key) {
                let nested_at = peek_site(replay)?;
                self.merge_entries(replay, nested_at, &mut nested)?;
                continue;
            }
            let fingerprint = match &key {
                Ev::Scalar {
                    value, plain, tag, ..
                } => scalar::fingerprint(value, *plain, *tag),
                // Such a key can neither be read nor shadowed without being read.
                _ => return Err(invalid(key.loc(), "a mapping key must be a scalar")),
            };
            if !seen.insert(&mut self.seen, fingerprint.clone()) {
                return Err(invalid(key.loc(), "duplicate mapping key"));
            }
            let from = start + replay.position();
            replay.skip_node()?;
            let to = start + replay.position();
            out.push(Entry {
                key,
                key_at,
                fingerprint,
                source: Rc::clone(source),
                value: from..to,
                merge_at: at,
            });
        }
        seen.release(&mut self.seen);
        out.append(&mut nested);
        Ok(())
    }
}
