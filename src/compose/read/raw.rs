//! granit-parser events, reduced to what the fast reader uses, and the two
//! ways of getting them: straight from the parser, or from a parser running
//! on a helper thread.
//!
//! Scanning is most of the cost of reading a large file, and building the tree
//! from its events is most of the rest; on a large input the two run side by
//! side, the parser thread sending batches of events down a bounded channel.
//! This file owns only that plumbing and the event conversion (with serde-
//! saphyr's parser options). It must not keep state across events: anchors,
//! aliases and the budget are `events.rs`'s, on the reading side.

use std::borrow::Cow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde_saphyr::granit_parser::{
    Event, Options, Parser, ScalarStyle, ScanError, Span, StrInput, Tag as YamlTag,
};

use super::events::{Loc, NodeTag};

/// A tag as far as the fast reader is concerned: one it mirrors, with the
/// length serde-saphyr's budget charges for it, or one it does not.
pub(super) type RawTag = Option<(NodeTag, usize)>;

/// One parser event.
#[derive(Debug)]
pub(super) enum Raw<'a> {
    Scalar {
        value: Cow<'a, str>,
        plain: bool,
        tag: RawTag,
        anchor: usize,
    },
    SeqStart {
        tag: RawTag,
        anchor: usize,
    },
    MapStart {
        tag: RawTag,
        anchor: usize,
    },
    SeqEnd,
    MapEnd,
    Alias(usize),
    DocumentStart,
    DocumentEnd,
    StreamStart,
    StreamEnd,
    /// An event kind the fast reader does not expect.
    Other,
    /// A syntax error; the parser stops after it.
    Error(String),
    /// The parser has nothing more (after `StreamEnd` or `Error`).
    End,
}

/// An event and where it starts.
pub(super) type RawItem<'a> = (Raw<'a>, Loc);

/// A source of parser events.
pub(super) trait RawSource<'a> {
    fn next_raw(&mut self) -> RawItem<'a>;
}

/// serde-saphyr's parser options under the default budget: the
/// granit-parser defaults, without comment events.
fn options() -> Options {
    let mut options = Options::default();
    options.emit_comments = false;
    options
}

fn loc(span: &Span) -> Loc {
    Loc {
        line: span.start.line() as u32,
        column: span.start.col() as u32 + 1,
    }
}

/// The tag kinds the fast reader mirrors; any other spelling is `None`.
fn classify(tag: Option<&YamlTag>) -> RawTag {
    const CORE: &str = "tag:yaml.org,2002:";
    let Some(tag) = tag else {
        return Some((NodeTag::None, 0));
    };
    let (handle, suffix) = tag.parts();
    let kind = match (handle, suffix) {
        ("!", "reset") => NodeTag::Reset,
        ("!", "override") => NodeTag::Override,
        (CORE, "str") => NodeTag::Str,
        (CORE, "int") => NodeTag::Int,
        (CORE, "float") => NodeTag::Float,
        (CORE, "bool") => NodeTag::Bool,
        (CORE, "null") => NodeTag::Null,
        (CORE, "seq") => NodeTag::Seq,
        (CORE, "map") => NodeTag::Map,
        _ => return None,
    };
    Some((kind, handle.len() + suffix.len()))
}

fn convert<'a>(item: Option<Result<(Event<'a>, Span), ScanError>>) -> RawItem<'a> {
    let (event, span) = match item {
        None => return (Raw::End, Loc::default()),
        Some(Err(e)) => {
            let m = e.marker();
            let at = Loc {
                line: m.line() as u32,
                column: m.col() as u32 + 1,
            };
            return (Raw::Error(e.to_string()), at);
        }
        Some(Ok(pair)) => pair,
    };
    let raw = match event {
        Event::Scalar(value, style, anchor, tag) => Raw::Scalar {
            value,
            plain: style == ScalarStyle::Plain,
            tag: classify(tag.as_deref()),
            anchor,
        },
        Event::SequenceStart(_, anchor, tag) => Raw::SeqStart {
            tag: classify(tag.as_deref()),
            anchor,
        },
        Event::MappingStart(_, anchor, tag) => Raw::MapStart {
            tag: classify(tag.as_deref()),
            anchor,
        },
        Event::SequenceEnd => Raw::SeqEnd,
        Event::MappingEnd => Raw::MapEnd,
        Event::Alias(anchor) => Raw::Alias(anchor),
        Event::DocumentStart(..) => Raw::DocumentStart,
        Event::DocumentEnd => Raw::DocumentEnd,
        Event::StreamStart => Raw::StreamStart,
        Event::StreamEnd => Raw::StreamEnd,
        _ => Raw::Other,
    };
    (raw, loc(&span))
}

/// Events straight from the parser, on the reading thread.
pub(super) struct Direct<'a> {
    parser: Parser<'a, StrInput<'a>>,
}

impl<'a> Direct<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Direct {
            parser: Parser::with_options(StrInput::new(text), options()),
        }
    }
}

impl<'a> RawSource<'a> for Direct<'a> {
    fn next_raw(&mut self) -> RawItem<'a> {
        convert(self.parser.next())
    }
}

/// Events per message: large enough that the channel costs nothing next to
/// the parsing, small enough that the reader starts early.
const BATCH: usize = 256;
/// Batches in flight before the parser waits for the reader.
const IN_FLIGHT: usize = 16;

/// Batches go to the reader full and come back empty, so the two threads do
/// not allocate and free each other's memory for every batch.
type Batch<'a> = Vec<RawItem<'a>>;

/// The parser thread's ends of the two channels.
pub(super) struct Producer<'a> {
    full: SyncSender<Batch<'a>>,
    empty: Receiver<Batch<'a>>,
}

/// Channels between a parser thread and a `Threaded` reader.
pub(super) fn channel<'a>() -> (Producer<'a>, Threaded<'a>) {
    let (full, full_rx) = sync_channel(IN_FLIGHT);
    let (empty_tx, empty) = sync_channel(IN_FLIGHT + 2);
    (
        Producer { full, empty },
        Threaded {
            full: full_rx,
            empty: empty_tx,
            batch: Vec::new(),
            ended: false,
        },
    )
}

impl<'a> Producer<'a> {
    /// The parser thread's work: parse `text`, sending events in batches,
    /// until the stream ends or the reader hangs up (it stopped at an error).
    pub(super) fn run(self, text: &'a str) {
        let mut parser = Parser::with_options(StrInput::new(text), options());
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let item = convert(parser.next());
            let last = matches!(item.0, Raw::End | Raw::Error(_));
            batch.push(item);
            if last || batch.len() == BATCH {
                // The reader pops from the back.
                batch.reverse();
                let next = self
                    .empty
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let full = std::mem::replace(&mut batch, next);
                if self.full.send(full).is_err() || last {
                    return;
                }
            }
        }
    }
}

/// Events from the parser thread.
pub(super) struct Threaded<'a> {
    full: Receiver<Batch<'a>>,
    empty: SyncSender<Batch<'a>>,
    /// The current batch, in reverse order.
    batch: Batch<'a>,
    ended: bool,
}

impl<'a> RawSource<'a> for Threaded<'a> {
    fn next_raw(&mut self) -> RawItem<'a> {
        loop {
            if let Some(item) = self.batch.pop() {
                self.ended = matches!(item.0, Raw::End);
                return item;
            }
            if self.ended {
                // Like the parser itself, keep saying the stream ended.
                return (Raw::End, Loc::default());
            }
            match self.full.recv() {
                Ok(batch) => {
                    let done = std::mem::replace(&mut self.batch, batch);
                    // Should the parser have spares enough, this one is dropped.
                    let _ = self.empty.try_send(done);
                }
                // The parser thread is gone without saying the stream ended:
                // it panicked. Nothing here can be trusted.
                Err(_) => return (Raw::Other, Loc::default()),
            }
        }
    }
}
