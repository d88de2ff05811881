//! YAML events for the fast reading path: the live stream over the parser's
//! events (`raw.rs`) with anchors recorded and aliases replayed, replays of
//! captured nodes, and serde-saphyr's resource budget.
//!
//! This mirrors serde-saphyr 2.1's `LiveEvents`/`ReplayEvents` so that the
//! tree `build.rs` makes from these events is the one serde-saphyr makes: the
//! same alias expansion, the same *use-site* locations (a node reached through
//! `*alias` or a `<<` merge is located where it is used), and the same budget
//! counters and limits, so a document serde-saphyr refuses for its size is
//! refused here too. It must not interpret nodes (that is `build.rs` and
//! `scalar.rs`), and whatever it does not mirror exactly (tags other than
//! `!reset`, `!override` and the core schema, recursive aliases) it reports
//! as `FastError::Unsupported` so the reference path decides.

use std::borrow::Cow;
use std::ops::Range;
use std::rc::Rc;

use super::super::node::Tag;
use super::raw::{Raw, RawSource, RawTag};

/// A 1-based line and column, as serde-saphyr's `Location` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Loc {
    pub line: u32,
    pub column: u32,
}

/// Why the fast path gave up.
#[derive(Debug)]
pub(super) enum FastError {
    /// The input uses a construct this path does not mirror exactly; the
    /// reference path's result (value or error) is the answer.
    Unsupported,
    /// The input is invalid; the reference path is asked for its error.
    Invalid { loc: Loc, message: String },
}

pub(super) fn invalid(loc: Loc, message: impl Into<String>) -> FastError {
    FastError::Invalid {
        loc,
        message: message.into(),
    }
}

/// The tags the fast path understands. Anything else is `Unsupported`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NodeTag {
    None,
    Reset,
    Override,
    Str,
    Int,
    Float,
    Bool,
    Null,
    Seq,
    Map,
}

/// The YAML core-schema tag namespace (`!!x` resolves to it).
const CORE: &str = "tag:yaml.org,2002:";

impl NodeTag {
    pub(super) fn is_core(self) -> bool {
        !matches!(self, NodeTag::None | NodeTag::Reset | NodeTag::Override)
    }

    /// Bytes of the tag's resolved spelling (`raw_tag` in serde-saphyr).
    fn spelling_len(self) -> usize {
        match self {
            NodeTag::None => 0,
            NodeTag::Reset => "!reset".len(),
            NodeTag::Override => "!override".len(),
            NodeTag::Str | NodeTag::Int | NodeTag::Seq | NodeTag::Map => CORE.len() + 3,
            NodeTag::Bool | NodeTag::Null => CORE.len() + 4,
            NodeTag::Float => CORE.len() + 5,
        }
    }

    /// The tag kept on the `Node`: only the two Compose gives meaning to.
    pub(super) fn node_tag(self) -> Option<Tag> {
        match self {
            NodeTag::Reset => Some(Tag::Reset),
            NodeTag::Override => Some(Tag::Override),
            _ => None,
        }
    }
}

/// One parser event, reduced to what the tree needs.
#[derive(Clone, Debug)]
pub(super) enum Ev<'a> {
    Scalar {
        value: Cow<'a, str>,
        plain: bool,
        tag: NodeTag,
        loc: Loc,
    },
    SeqStart {
        tag: NodeTag,
        loc: Loc,
    },
    SeqEnd {
        loc: Loc,
    },
    MapStart {
        tag: NodeTag,
        loc: Loc,
    },
    MapEnd {
        loc: Loc,
    },
}

impl Ev<'_> {
    pub(super) fn loc(&self) -> Loc {
        match self {
            Ev::Scalar { loc, .. }
            | Ev::SeqStart { loc, .. }
            | Ev::SeqEnd { loc }
            | Ev::MapStart { loc, .. }
            | Ev::MapEnd { loc } => *loc,
        }
    }

    /// Bytes serde-saphyr counts against `max_recorded_anchor_bytes` when it
    /// copies this event into an anchor buffer: owned scalar text plus the tag
    /// spelling (always owned).
    fn owned_bytes(&self) -> usize {
        match self {
            Ev::Scalar { value, tag, .. } => {
                let value = match value {
                    Cow::Owned(s) => s.len(),
                    Cow::Borrowed(_) => 0,
                };
                value + tag.spelling_len()
            }
            Ev::SeqStart { tag, .. } | Ev::MapStart { tag, .. } => tag.spelling_len(),
            Ev::SeqEnd { .. } | Ev::MapEnd { .. } => 0,
        }
    }
}

/// Where an event was reached from, which decides the span of the node it
/// starts (`NodeOrigin`): an alias replay is located at the `*alias`, a merged
/// entry at its `<<` value, anything else at itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    Direct,
    Alias(Loc),
    Merge(Loc),
}

/// The location serde-saphyr's `Spanned` records for a node that starts at
/// `own` and was reached from `origin`.
pub(super) fn use_site(own: Loc, origin: Origin) -> Loc {
    match origin {
        Origin::Alias(at) | Origin::Merge(at) => at,
        Origin::Direct => own,
    }
}

/// A stream of events with one event of lookahead.
pub(super) trait Source<'a> {
    fn peek(&mut self) -> Result<Option<&Ev<'a>>, FastError>;
    fn next(&mut self) -> Result<Option<Ev<'a>>, FastError>;
    /// The origin of the event the last `peek` returned.
    fn origin(&self) -> Origin;
}

/// serde-saphyr's `Budget` and alias limits, counted the way its
/// `BudgetEnforcer` and `LiveEvents` count them: every parser event, every
/// replayed alias event, every event copied into an anchor buffer.
struct Budget {
    limits: serde_saphyr::Budget,
    max_replayed: usize,
    events: usize,
    nodes: usize,
    depth: usize,
    scalar_bytes: usize,
    anchors: usize,
    aliases: usize,
    merge_keys: usize,
    documents: usize,
    recorded_events: usize,
    recorded_bytes: usize,
    replayed: usize,
    /// Open collections: `(is_mapping, expecting_key, is_mapping_value)`.
    containers: Vec<(bool, bool, bool)>,
}

type Breach = &'static str;

impl Budget {
    fn new() -> Self {
        let options = serde_saphyr::Options::default();
        Budget {
            limits: options.budget.unwrap_or_default(),
            max_replayed: options.alias_limits.max_total_replayed_events,
            events: 0,
            nodes: 0,
            depth: 0,
            scalar_bytes: 0,
            anchors: 0,
            aliases: 0,
            merge_keys: 0,
            documents: 0,
            recorded_events: 0,
            recorded_bytes: 0,
            replayed: 0,
            containers: Vec::new(),
        }
    }

    fn event(&mut self) -> Result<(), Breach> {
        self.events += 1;
        if self.events > self.limits.max_events {
            return Err("too many YAML events");
        }
        Ok(())
    }

    fn node(&mut self) -> Result<(), Breach> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err("too many YAML nodes");
        }
        Ok(())
    }

    fn bytes(&mut self, n: usize) -> Result<(), Breach> {
        self.scalar_bytes = self.scalar_bytes.saturating_add(n);
        if self.scalar_bytes > self.limits.max_total_scalar_bytes {
            return Err("too many scalar bytes");
        }
        Ok(())
    }

    fn anchor(&mut self, anchor: usize) -> Result<(), Breach> {
        // The parser numbers every anchor definition afresh, so each anchored
        // event is a distinct anchor.
        if anchor != 0 {
            self.anchors += 1;
            if self.anchors > self.limits.max_anchors {
                return Err("too many anchors");
            }
        }
        Ok(())
    }

    /// A scalar: a node, its bytes, and its place in the enclosing mapping
    /// (a plain untagged `<<` key counts against `max_merge_keys`).
    fn scalar(
        &mut self,
        value: &str,
        plain: bool,
        tag_len: usize,
        anchor: usize,
    ) -> Result<(), Breach> {
        self.event()?;
        self.node()?;
        self.bytes(value.len() + tag_len)?;
        self.anchor(anchor)?;
        if let Some((true, expecting_key, _)) = self.containers.last_mut() {
            if *expecting_key {
                if value == "<<" && tag_len == 0 && plain {
                    self.merge_keys += 1;
                    if self.merge_keys > self.limits.max_merge_keys {
                        return Err("too many merge keys");
                    }
                }
                *expecting_key = false;
            } else {
                *expecting_key = true;
            }
        }
        Ok(())
    }

    fn start(&mut self, mapping: bool, tag_len: usize, anchor: usize) -> Result<(), Breach> {
        self.event()?;
        self.node()?;
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err("document nests too deeply");
        }
        self.bytes(tag_len)?;
        let is_value = match self.containers.last_mut() {
            Some((true, expecting_key, _)) => !std::mem::replace(expecting_key, false),
            _ => false,
        };
        self.containers.push((mapping, true, is_value));
        self.anchor(anchor)
    }

    fn end(&mut self) -> Result<(), Breach> {
        self.event()?;
        self.depth = self.depth.checked_sub(1).ok_or("unbalanced collections")?;
        if let Some((_, _, true)) = self.containers.pop()
            && let Some((true, expecting_key, _)) = self.containers.last_mut()
        {
            *expecting_key = true;
        }
        Ok(())
    }

    fn alias(&mut self) -> Result<(), Breach> {
        self.event()?;
        self.aliases += 1;
        if self.aliases > self.limits.max_aliases {
            return Err("too many aliases");
        }
        Ok(())
    }

    fn document(&mut self) -> Result<(), Breach> {
        self.event()?;
        self.documents += 1;
        if self.documents > self.limits.max_documents {
            return Err("too many documents");
        }
        Ok(())
    }

    /// One event copied into an anchor buffer.
    fn copy(&mut self, ev: &Ev<'_>) -> Result<(), Breach> {
        self.recorded_events += 1;
        if self.recorded_events > self.limits.max_recorded_anchor_events {
            return Err("too many events recorded for anchors");
        }
        self.recorded_bytes = self.recorded_bytes.saturating_add(ev.owned_bytes());
        if self.recorded_bytes > self.limits.max_recorded_anchor_bytes {
            return Err("too many bytes recorded for anchors");
        }
        Ok(())
    }

    /// One event replayed for an alias; the budget sees it untagged.
    fn replay(&mut self, ev: &Ev<'_>) -> Result<(), Breach> {
        self.replayed += 1;
        if self.replayed > self.max_replayed {
            return Err("alias replay limit exceeded");
        }
        match ev {
            Ev::Scalar { value, plain, .. } => self.scalar(value, *plain, 0, 0),
            Ev::SeqStart { .. } => self.start(false, 0, 0),
            Ev::MapStart { .. } => self.start(true, 0, 0),
            Ev::SeqEnd { .. } | Ev::MapEnd { .. } => self.end(),
        }
    }
}

/// An anchored collection being recorded until its end.
struct Recording<'a> {
    anchor: usize,
    depth: usize,
    events: Vec<Ev<'a>>,
}

/// An alias being replayed.
struct Injection<'a> {
    events: Rc<[Ev<'a>]>,
    next: usize,
    at: Loc,
}

/// The live event stream of one YAML text (serde-saphyr's `LiveEvents`).
pub(super) struct Live<'a, R> {
    raw: R,
    look: Option<(Ev<'a>, Origin)>,
    anchors: Vec<Option<Rc<[Ev<'a>]>>>,
    recording: Vec<Recording<'a>>,
    injection: Option<Injection<'a>>,
    budget: Budget,
    produced_any: bool,
    last_loc: Loc,
}

/// A tag the fast reader mirrors, or `Unsupported`.
fn mirrored(tag: RawTag) -> Result<(NodeTag, usize), FastError> {
    tag.ok_or(FastError::Unsupported)
}

impl<'a, R: RawSource<'a>> Live<'a, R> {
    pub(super) fn new(raw: R) -> Self {
        Live {
            raw,
            look: None,
            anchors: Vec::new(),
            recording: Vec::new(),
            injection: None,
            budget: Budget::new(),
            produced_any: false,
            last_loc: Loc::default(),
        }
    }

    /// Copy `ev` into every open anchor recording (but the newest one when it
    /// was just started with `ev`).
    #[inline(always)]
    fn record(&mut self, ev: &Ev<'a>, skip_newest: bool) -> Result<(), FastError> {
        if self.recording.is_empty() {
            return Ok(());
        }
        self.record_slow(ev, skip_newest)
    }

    #[inline(never)]
    fn record_slow(&mut self, ev: &Ev<'a>, skip_newest: bool) -> Result<(), FastError> {
        let n = self.recording.len() - usize::from(skip_newest);
        for i in 0..n {
            self.budget.copy(ev).map_err(|b| invalid(ev.loc(), b))?;
            self.recording[i].events.push(ev.clone());
        }
        Ok(())
    }

    fn store_anchor(&mut self, anchor: usize, events: Rc<[Ev<'a>]>) {
        if anchor >= self.anchors.len() {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(events);
    }

    fn start(&mut self, ev: &Ev<'a>, anchor: usize) -> Result<(), FastError> {
        for r in &mut self.recording {
            r.depth += 1;
        }
        if anchor != 0 {
            self.budget.copy(ev).map_err(|b| invalid(ev.loc(), b))?;
            self.recording.push(Recording {
                anchor,
                depth: 1,
                events: vec![ev.clone()],
            });
        }
        self.record(ev, anchor != 0)
    }

    fn end(&mut self, ev: &Ev<'a>) -> Result<(), FastError> {
        self.record(ev, false)?;
        for r in &mut self.recording {
            r.depth = r
                .depth
                .checked_sub(1)
                .ok_or_else(|| invalid(ev.loc(), "unbalanced anchor recording"))?;
        }
        while self.recording.last().is_some_and(|r| r.depth == 0) {
            if let Some(done) = self.recording.pop() {
                self.store_anchor(done.anchor, done.events.into());
            }
        }
        Ok(())
    }

    /// A document boundary forgets anchors and replay state, as serde-saphyr does.
    fn reset_document(&mut self) {
        self.injection = None;
        self.recording.clear();
        self.anchors.clear();
        self.budget.replayed = 0;
    }

    fn pump(&mut self) -> Result<Option<(Ev<'a>, Origin)>, FastError> {
        loop {
            if let Some(inj) = &mut self.injection {
                if let Some(ev) = inj.events.get(inj.next).cloned() {
                    inj.next += 1;
                    let at = inj.at;
                    self.budget.replay(&ev).map_err(|b| invalid(at, b))?;
                    self.record(&ev, false)?;
                    self.produced_any = true;
                    return Ok(Some((ev, Origin::Alias(at))));
                }
                self.injection = None;
            }
            let (raw, loc) = self.raw.next_raw();
            let breach = |b: Breach| invalid(loc, b);
            match raw {
                Raw::Scalar {
                    value,
                    plain,
                    tag,
                    anchor,
                } => {
                    let (tag, tag_len) = mirrored(tag)?;
                    if matches!(tag, NodeTag::Seq | NodeTag::Map) {
                        return Err(invalid(loc, "collection tag on a scalar"));
                    }
                    self.budget
                        .scalar(&value, plain, tag_len, anchor)
                        .map_err(breach)?;
                    let ev = Ev::Scalar {
                        value,
                        plain,
                        tag,
                        loc,
                    };
                    self.record(&ev, false)?;
                    if anchor != 0 {
                        self.budget.copy(&ev).map_err(breach)?;
                        self.store_anchor(anchor, Rc::from([ev.clone()]));
                    }
                    self.produced_any = true;
                    return Ok(Some((ev, Origin::Direct)));
                }
                Raw::SeqStart { tag, anchor } | Raw::MapStart { tag, anchor } => {
                    let mapping = matches!(raw, Raw::MapStart { .. });
                    let (tag, tag_len) = mirrored(tag)?;
                    let fits = match tag {
                        NodeTag::None | NodeTag::Reset | NodeTag::Override => true,
                        NodeTag::Seq => !mapping,
                        NodeTag::Map => mapping,
                        _ => false,
                    };
                    if !fits {
                        return Err(invalid(loc, "tag does not fit a collection"));
                    }
                    self.budget
                        .start(mapping, tag_len, anchor)
                        .map_err(breach)?;
                    let ev = if mapping {
                        Ev::MapStart { tag, loc }
                    } else {
                        Ev::SeqStart { tag, loc }
                    };
                    self.start(&ev, anchor)?;
                    self.produced_any = true;
                    return Ok(Some((ev, Origin::Direct)));
                }
                Raw::SeqEnd | Raw::MapEnd => {
                    self.budget.end().map_err(breach)?;
                    let ev = if matches!(raw, Raw::MapEnd) {
                        Ev::MapEnd { loc }
                    } else {
                        Ev::SeqEnd { loc }
                    };
                    self.end(&ev)?;
                    self.produced_any = true;
                    return Ok(Some((ev, Origin::Direct)));
                }
                Raw::Alias(anchor) => {
                    self.budget.alias().map_err(breach)?;
                    if self.recording.iter().any(|r| r.anchor == anchor) {
                        // A recursive alias: serde-saphyr accepts it only where the
                        // node is never read, which is not worth mirroring.
                        return Err(FastError::Unsupported);
                    }
                    let events = self
                        .anchors
                        .get(anchor)
                        .and_then(Clone::clone)
                        .ok_or_else(|| invalid(loc, "unknown anchor"))?;
                    self.injection = Some(Injection {
                        events,
                        next: 0,
                        at: loc,
                    });
                    continue;
                }
                Raw::DocumentStart => {
                    self.budget.document().map_err(breach)?;
                    self.reset_document();
                }
                Raw::DocumentEnd => {
                    self.budget.event().map_err(breach)?;
                    self.reset_document();
                }
                Raw::StreamStart | Raw::StreamEnd => {
                    self.budget.event().map_err(breach)?;
                }
                Raw::Error(message) => return Err(invalid(loc, message)),
                Raw::Other => return Err(FastError::Unsupported),
                Raw::End => break,
            }
            self.last_loc = loc;
        }
        if !self.produced_any {
            // A stream without documents reads as one null, located at its end.
            self.produced_any = true;
            let ev = Ev::Scalar {
                value: Cow::Borrowed(""),
                plain: true,
                tag: NodeTag::Null,
                loc: self.last_loc,
            };
            return Ok(Some((ev, Origin::Direct)));
        }
        Ok(None)
    }
}

impl<'a, R: RawSource<'a>> Source<'a> for Live<'a, R> {
    fn peek(&mut self) -> Result<Option<&Ev<'a>>, FastError> {
        if self.look.is_none() {
            self.look = self.pump()?;
        }
        Ok(self.look.as_ref().map(|(ev, _)| ev))
    }

    fn next(&mut self) -> Result<Option<Ev<'a>>, FastError> {
        match self.look.take() {
            Some((ev, _)) => Ok(Some(ev)),
            None => Ok(self.pump()?.map(|(ev, _)| ev)),
        }
    }

    fn origin(&self) -> Origin {
        self.look.as_ref().map_or(Origin::Direct, |(_, o)| *o)
    }
}

/// A node's events captured for later replay, each with its origin.
#[derive(Default, Debug)]
pub(super) struct Captured<'a> {
    pub events: Vec<Ev<'a>>,
    pub origins: Vec<Origin>,
}

impl<'a> Captured<'a> {
    /// Take one whole node (scalar or collection) from `src`.
    pub(super) fn take<S: Source<'a>>(src: &mut S) -> Result<Self, FastError> {
        let mut out = Captured::default();
        let mut depth = 0usize;
        loop {
            if src.peek()?.is_none() {
                return Err(invalid(Loc::default(), "unexpected end of input"));
            }
            let origin = src.origin();
            let Some(ev) = src.next()? else {
                return Err(invalid(Loc::default(), "unexpected end of input"));
            };
            match ev {
                Ev::SeqStart { .. } | Ev::MapStart { .. } => depth += 1,
                Ev::SeqEnd { loc } | Ev::MapEnd { loc } => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| invalid(loc, "unexpected collection end"))?;
                }
                Ev::Scalar { .. } => {}
            }
            out.events.push(ev);
            out.origins.push(origin);
            if depth == 0 {
                return Ok(out);
            }
        }
    }

    /// Read back `range` of the events; with `merge_at`, as merged at that site.
    pub(super) fn replay(&self, range: Range<usize>, merge_at: Option<Loc>) -> Replay<'_, 'a> {
        Replay {
            events: self.events.get(range.clone()).unwrap_or_default(),
            origins: self.origins.get(range).unwrap_or_default(),
            next: 0,
            merge_at,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.events.len()
    }
}

/// Captured events read back (serde-saphyr's `ReplayEvents`). With `merge_at`
/// every event not reached through an alias is located at the merge site.
pub(super) struct Replay<'c, 'a> {
    events: &'c [Ev<'a>],
    origins: &'c [Origin],
    next: usize,
    merge_at: Option<Loc>,
}

impl Replay<'_, '_> {
    /// Index of the next event within the replayed range.
    pub(super) fn position(&self) -> usize {
        self.next
    }

    /// Step over one whole node.
    pub(super) fn skip_node(&mut self) -> Result<(), FastError> {
        let mut depth = 0usize;
        loop {
            let ev = self
                .events
                .get(self.next)
                .ok_or_else(|| invalid(Loc::default(), "unexpected end of input"))?;
            self.next += 1;
            match ev {
                Ev::SeqStart { .. } | Ev::MapStart { .. } => depth += 1,
                Ev::SeqEnd { loc } | Ev::MapEnd { loc } => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| invalid(*loc, "unexpected collection end"))?;
                }
                Ev::Scalar { .. } => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

impl<'a> Source<'a> for Replay<'_, 'a> {
    fn peek(&mut self) -> Result<Option<&Ev<'a>>, FastError> {
        Ok(self.events.get(self.next))
    }

    fn next(&mut self) -> Result<Option<Ev<'a>>, FastError> {
        let ev = self.events.get(self.next).cloned();
        self.next += 1;
        Ok(ev)
    }

    fn origin(&self) -> Origin {
        let origin = self
            .origins
            .get(self.next)
            .copied()
            .unwrap_or(Origin::Direct);
        match (origin, self.merge_at) {
            (Origin::Alias(_), _) => origin,
            (_, Some(at)) => Origin::Merge(at),
            (_, None) => origin,
        }
    }
}
