//! Differential tests: the fast reader against the serde-saphyr reference.
//!
//! Every document here is read three ways: `parse` (what callers get),
//! `parse_reference` (serde-saphyr) and `parse_fast` alone. `parse` must give
//! exactly the reference's answer (the same tree with spans and tags, or the
//! same error); the fast reader must build the same tree whenever it builds
//! one, and may refuse only what the reference refuses. These tests own no
//! behaviour of their own: when they fail, the reference is right.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use super::build::{parse_fast, parse_fast_in};
use super::events::FastError;
use super::reference::parse_reference;
use super::{parse, precheck};

const FILE: &str = "compose.yaml";

/// How the fast reader fared on a document the three readers agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Built the reference's tree.
    Built,
    /// Refused a document the reference refuses too.
    Refused,
    /// Handed the document to the reference (a construct it does not mirror).
    HandedOver,
}

/// Assert the readers agree on `text`, and say how the fast one got there.
fn agree(text: &str) -> Outcome {
    let reference = parse_reference(text, FILE);
    match (parse(text, FILE), &reference) {
        (Ok(a), Ok(b)) => assert_eq!(&a, b, "parse and reference differ on:\n{text}"),
        (Err(a), Err(b)) => assert_eq!(
            (a.line, a.column, &a.message),
            (b.line, b.column, &b.message),
            "parse reports another error than the reference on:\n{text}"
        ),
        (a, b) => panic!("parse gives {a:?}, reference {b:?} on:\n{text}"),
    }
    if precheck(text, FILE).is_some() {
        return Outcome::Built;
    }
    let file: Arc<str> = Arc::from(FILE);
    let fast = parse_fast_in(text, &file, false);
    // The parser thread changes where events are parsed, not what they are.
    match (&fast, parse_fast_in(text, &file, true)) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b, "threaded reading differs on:\n{text}"),
        (Err(FastError::Unsupported), Err(FastError::Unsupported))
        | (Err(FastError::Invalid { .. }), Err(FastError::Invalid { .. })) => {}
        (a, b) => panic!("direct reading gives {a:?}, threaded {b:?} on:\n{text}"),
    }
    match fast {
        Ok(node) => {
            match &reference {
                Ok(r) => assert_eq!(&node, r, "fast and reference trees differ on:\n{text}"),
                Err(e) => panic!("fast reader accepted what the reference refuses ({e}):\n{text}"),
            }
            Outcome::Built
        }
        Err(FastError::Invalid { message, .. }) => {
            assert!(
                reference.is_err(),
                "fast reader refused ({message}) what the reference accepts:\n{text}"
            );
            Outcome::Refused
        }
        Err(FastError::Unsupported) => Outcome::HandedOver,
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// The text of every YAML file under `tests/fixtures` and `stacks`.
fn fixture_texts() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("tests/fixtures"), &mut files);
    yaml_files(&root.join("stacks"), &mut files);
    files.sort();
    files
        .iter()
        .map(|path| String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned())
        .collect()
}

#[test]
fn fixtures_and_stacks_read_the_same() {
    let files = fixture_texts();
    assert!(files.len() > 20, "fixtures not found");
    let mut built = 0;
    for text in files {
        if agree(text) == Outcome::Built {
            built += 1;
        }
    }
    // Almost every fixture is valid YAML the fast reader must handle itself.
    assert!(built + 3 >= files.len(), "{built} of {} built", files.len());
}

/// Documents the fast reader must build itself (or refuse, with the reference).
const TRICKY: &[&str] = &[
    "a: 1\nb: [1, 2]\nc: {d: e}\n",
    // Anchors and aliases, in lists, as values, as keys, anchored keys.
    "base: &b [1, 2]\nlist:\n  - *b\n  - &c x\n  - *c\n",
    "a: &x {b: {c: 1}, d: [1, {e: f}]}\nd: *x\ne: [*x, *x]\n",
    "k: &k key\n*k : v\n",
    "&k a: 1\nb: *k\n",
    "a: &s hello\nb: *s\nc: {*s : 1}\n",
    "a: &a\n  - &b {x: 1}\n  - *b\nc: *a\n",
    // Merge keys: alias, list of aliases, inline, nested, precedence.
    "x: &a {k: 1, j: 2}\ny:\n  <<: [*a, {j: 3, m: 4}]\n  n: 5\n",
    "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n",
    "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n  z: 3\n",
    "c:\n  <<: {x: 1, y: {z: 2}}\n  y: 3\n",
    "a: &a {x: 1}\nc:\n  <<: [[*a], {y: 2}, ~]\n",
    "c:\n  <<: ~\n  x: 1\n",
    "c:\n  <<:\n  x: 1\n",
    "c:\n  <<: 5\n",
    "c:\n  <<: [5]\n",
    "a: &a {x: 1}\nc:\n  x: 0\n  <<: *a\n",
    "a: &a {x: 1}\nb: &b {x: 2, y: 3}\nc:\n  <<: *a\n  <<: *b\n",
    "c:\n  <<: {x: 1, x: 2}\n",
    "c:\n  x: 1\n  <<: {x: .inf}\n",
    "c:\n  <<: {x: .inf}\n",
    "l: &l [{x: 1}, {y: 2}]\nm:\n  <<: *l\n",
    "a: &a\n  <<: {x: 1}\n  y: 2\nb:\n  <<: *a\nc: *a\n",
    "a: &a {x: 1}\nb: {<<: *a, y: 2}\n",
    "a:\n  '<<': 1\n  \"<<\": 2\n",
    "a: &a {x: {y: 1}}\nb:\n  <<: *a\n  x: 2\n",
    "a: &a {x: 1}\nb:\n  <<: {<<: *a, y: 2}\n",
    "a: &a {x: 1}\nb:\n  <<: {<<: {z: *a}, y: 2}\n",
    "a: &a [1]\nb:\n  <<: *a\n",
    "a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n  x: 2\n",
    "services:\n  a: &d {image: x, environment: {A: 1}}\n  b:\n    <<: *d\n    environment: {B: 2}\n",
    // Duplicate keys and key identity.
    "a: 1\na: 2\n",
    "{a: 1, a: 2}\n",
    "1: a\n0x1: b\n",
    "1: a\n+1: b\n",
    "1: a\n'1': b\n",
    "a: 1\n'a': 2\n",
    "~: a\nnull: b\n",
    "~: a\n~: b\n",
    "true: a\nTrue: b\n",
    "1.0: a\n1.00: b\n",
    "01: a\n1: b\n",
    "0755: a\n1.50: b\n1e3: c\n.5: d\n-1: e\n+2: f\n0x10: g\ntrue: h\n: i\n",
    "!reset a: 1\na: 2\n",
    "!!str 1: a\n1: b\n",
    "!!int 1: a\n0x1: b\n",
    "? a\n: b\n",
    "? [a, b]\n: v\n",
    "{[a]: 1}\n",
    "? {a: 1}\n: v\n",
    ".inf: a\n",
    "1e999: a\n",
    "18446744073709551616: a\n-9223372036854775809: b\n",
    // Scalars.
    "a: 'x'\nb: \"1\"\nc: 1\nd: 1.0\ne: true\nf: yes\ng: ~\nh: null\ni: ''\nj:\nk: 0o17\nl: 0b101\nm: 1_000\n",
    "a: 9223372036854775807\nb: 9223372036854775808\nc: -9223372036854775808\nd: -9223372036854775809\ne: 18446744073709551616\nf: 0x8000000000000000\ng: -0x8000000000000000\n",
    "a: .inf\n",
    "a: -.Inf\n",
    "a: .nan\n",
    "a: 1e999\n",
    "a: nan\nb: inf\nc: infinity\nd: NaN\n",
    "a: 1__0\nb: _1\nc: 1_\nd: 0x\ne: 0b2\nf: 0o8\ng: 0xG\nh: 1e\ni: +\nj: -\nk: .\nl: +.5\nm: -5.\nn: 1E3\no: 1e+3\n",
    "a: 007\nb: -007\nc: +007\nd: 0\ne: -0\nf: +0\ng: 00\nh: 0.0\ni: 00.5\n",
    "a: True\nb: TRUE\nc: tRUE\nd: on\ne: off\nf: y\ng: n\nh: NULL\ni: Null\nj: nULL\n",
    "a: 2001-12-14\nb: 12:30\nc: 1:2:3\nd: 0x1_F\n",
    "a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\nc: |-\n  strip\nd: |+\n  keep\n\ne: >2\n   indented\nf: |\n  123\n",
    "a: >-\n  true\nb: |\n  ~\n",
    "a: \"x\\ty\\n\\u263A\"\nb: 'it''s'\nc: \"multi\n  line\"\nd: plain\n  continued\n",
    "a: hello world # comment\nb: 'x' #c\n",
    // Flow collections and empty values.
    "a: {b: [1, {c: d}], e: []}\nf: [{}, [], '']\n",
    "a: [a, b, ]\nb: {a: 1, }\n",
    "a: {b, c: }\nd: [e: f, g]\n",
    "a:\nb: \nc: []\nd: {}\n",
    "- \n- a\n-\n",
    "[1, [2, [3, [4]]]]\n",
    // Comments.
    "# head\na: 1 # trailing\n# between\nb:\n  # inner\n  - x # item\n  # last\n",
    "# only a comment\n",
    "   \n# c\n",
    // Document markers and directives.
    "---\na: 1\n",
    "---\na: 1\n...\n",
    "a: 1\n...\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n--- \n",
    "--- \n",
    "---\n...\n",
    "...\n",
    "--- a\n",
    "--- |\n  text\n",
    "%YAML 1.2\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "a: 1\n...\n---\n",
    "a: 1\n...\n# trailing comment\n",
    "a: 1\n---\n]\n",
    // Tags.
    "a: !reset []\nb: !override {x: 1}\nc: !reset null\nd: !reset\ne: !override 5\nf: !reset '5'\n",
    "a: !!str 1\nb: !!int '12'\nc: !!float 1\nd: !!bool 'true'\ne: !!null x\nf: !!str\ng: !!str null\n",
    "a: !!seq [1]\nb: !!map {x: 1}\n",
    "a: !!int x\n",
    "a: !!int -0x10\nb: !!int +5\nc: !!int 18446744073709551615\n",
    "a: !!float .inf\n",
    "a: !!float x\n",
    "a: !!bool yes\n",
    "a: !!str [1]\n",
    "a: !!seq x\n",
    "a: !!map [1]\n",
    "a: !custom x\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!timestamp 2001-12-14\n",
    "a: !<tag:yaml.org,2002:str> 1\n",
    "a: ! 12\n",
    "a: &x !reset [1]\nb: *x\n",
    "a: !reset &x [1]\nb: *x\n",
    "a: &x !override {k: v}\nb:\n  <<: *x\n",
    // Roots that are not mappings.
    "hello\n",
    "42\n",
    "[1, 2]\n",
    "- a\n- b\n",
    "&a [1, *a]\n",
    // Errors.
    "a: *nope\n",
    "a: &a [*a]\n",
    "a: &a {b: *a}\n",
    "a: [1\n",
    "a: b: c\n",
    "a:\n  - b\n  c: d\n",
    "\ta: 1\n",
    "a: 'unterminated\n",
    "a: 1\n b: 2\n",
    // Odd input.
    "a: 1\r\nb: 2\r\n",
    "\u{feff}a: 1\n",
    "a:\t1\n",
    "ключ: значение\nemoji: \"\\u263A\"\n😀: x\n",
    "a: \"\\x41\\U0001F600\"\n",
];

#[test]
fn tricky_documents_read_the_same() {
    let mut handed_over = Vec::new();
    for text in TRICKY {
        if agree(text) == Outcome::HandedOver {
            handed_over.push(*text);
        }
    }
    // Only tags outside the core schema, recursive aliases and %TAG
    // directives are handed over.
    assert!(handed_over.len() <= 12, "handed over: {handed_over:#?}");
}

#[test]
fn nesting_at_and_beyond_serde_saphyrs_limit() {
    for depth in [63, 64, 65, 70, 300] {
        let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        agree(&flow);
        let mut block = String::new();
        for i in 0..depth {
            block.push_str(&" ".repeat(i * 2));
            block.push_str("k:\n");
        }
        block.push_str(&" ".repeat(depth * 2));
        block.push_str("v\n");
        agree(&block);
    }
}

#[test]
fn alias_expansion_and_budgets() {
    // A large but legitimate use of one anchor.
    let mut many = String::from("x-d: &d {a: 1, b: [1, 2, 3], c: {d: e}}\nservices:\n");
    for i in 0..2000 {
        many.push_str(&format!("  s{i}:\n    <<: *d\n    n: {i}\n    l: *d\n"));
    }
    assert_eq!(agree(&many), Outcome::Built);
    // Billion laughs, and one that stays just within the budgets.
    for (width, levels) in [(10, 12), (4, 8), (9, 5)] {
        let mut s = String::from("a0: &a0 [x]\n");
        for i in 1..levels {
            let p = i - 1;
            let items = vec![format!("*a{p}"); width].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        agree(&s);
    }
}

// ---------------------------------------------------------------------------
// Generated documents.

/// A generated node: anchor, tag, flow style and shape.
#[derive(Clone, Debug)]
struct GenNode {
    anchor: Option<u8>,
    tag: Option<&'static str>,
    flow: bool,
    kind: GenKind,
}

#[derive(Clone, Debug)]
enum GenKind {
    Scalar(&'static str),
    Literal(&'static str),
    Alias(u8),
    Seq(Vec<GenNode>),
    Map(Vec<(GenKey, GenNode)>),
}

#[derive(Clone, Debug)]
enum GenKey {
    Text(&'static str),
    Merge,
    Alias(u8),
}

/// Scalars that read fine, and some that make reading fail.
const SCALARS: &[&str] = &[
    "a",
    "b",
    "x y",
    "1",
    "-2",
    "+3",
    "0x1F",
    "0o17",
    "0b11",
    "1_000",
    "0755",
    "007",
    "1.5",
    "1.50",
    ".5",
    "1e3",
    "-1e-3",
    "9223372036854775808",
    "true",
    "True",
    "FALSE",
    "yes",
    "on",
    "~",
    "null",
    "Null",
    "'q'",
    "\"1\"",
    "''",
    "\"\"",
    "'<<'",
    "\"a\\tb\"",
    "nan",
    "<<",
    "0",
    "-0",
    "a:b",
    "http://x/y",
    "'a b'",
    "\"\\u00e9\"",
];
const RISKY_SCALARS: &[&str] = &[".nan", ".inf", "-.inf", "1e999", "!!int x", "*nowhere"];
const KEYS: &[&str] = &[
    "a", "b", "c", "1", "01", "0x1", "+1", "'a'", "\"1\"", "~", "null", "true", "True", "1.0",
    "1.00", "x y", "'<<'", "-0", "0",
];
const TAGS: &[&str] = &[
    "!reset",
    "!override",
    "!reset",
    "!override",
    "!!str",
    "!!int",
    "!!null",
];
const RISKY_TAGS: &[&str] = &["!!seq", "!!map", "!custom"];
const LITERALS: &[&str] = &["|", ">", "|-", ">+", "|+"];

/// A generated document: three anchored definitions `d<i>: &a<i> …` first
/// (so aliases and merges mostly find what they refer to; `*a3` and `*a4`
/// only do when the body anchors them), then the body.
#[derive(Clone, Debug)]
struct GenDoc {
    defs: Vec<GenNode>,
    body: GenNode,
}

fn gen_doc() -> impl Strategy<Value = GenDoc> {
    // Definitions are mostly mappings: merges need them.
    let def = prop_oneof![
        4 => (
            prop::collection::vec((prop::sample::select(KEYS).prop_map(GenKey::Text), gen_node()), 0..4),
            prop::bool::ANY,
        )
            .prop_map(|(entries, flow)| GenNode {
                flow,
                ..plain(GenKind::Map(entries))
            }),
        1 => gen_node(),
    ];
    (prop::collection::vec(def, 3), gen_node()).prop_map(|(mut defs, mut body)| {
        for (i, def) in defs.iter_mut().enumerate() {
            aim_aliases(def, i as u8, false);
        }
        aim_aliases(&mut body, 4, false);
        GenDoc { defs, body }
    })
}

/// Point aliases at the `available` anchors defined before them (where there
/// are none, a text, or an empty mapping in a merge), so most documents are valid.
fn aim_aliases(n: &mut GenNode, available: u8, merged: bool) {
    match &mut n.kind {
        GenKind::Alias(_) if available == 0 => {
            n.kind = if merged {
                GenKind::Map(Vec::new())
            } else {
                GenKind::Scalar("x")
            };
            n.flow = true;
        }
        GenKind::Alias(a) => *a %= available,
        GenKind::Seq(items) => items
            .iter_mut()
            .for_each(|i| aim_aliases(i, available, merged)),
        GenKind::Map(entries) => {
            for (k, v) in entries {
                match k {
                    GenKey::Alias(_) if available == 0 => *k = GenKey::Text("k"),
                    GenKey::Alias(a) => *a %= available,
                    GenKey::Text(_) | GenKey::Merge => {}
                }
                let merge = matches!(k, GenKey::Merge);
                aim_aliases(v, available, merge);
            }
        }
        GenKind::Scalar(_) | GenKind::Literal(_) => {}
    }
}

fn gen_node() -> impl Strategy<Value = GenNode> {
    let leaf = prop_oneof![
        40 => prop::sample::select(SCALARS).prop_map(GenKind::Scalar),
        1 => prop::sample::select(RISKY_SCALARS).prop_map(GenKind::Scalar),
        6 => prop::sample::select(LITERALS).prop_map(GenKind::Literal),
        8 => (0u8..5).prop_map(GenKind::Alias),
    ];
    let kind = leaf.prop_recursive(3, 24, 4, |inner| {
        let node = wrap(inner);
        let map_node = prop::collection::vec(
            (
                prop::sample::select(KEYS).prop_map(GenKey::Text),
                node.clone(),
            ),
            0..3,
        )
        .prop_map(|entries| plain(GenKind::Map(entries)));
        let merge_value = prop_oneof![
            4 => (0u8..5).prop_map(|a| plain(GenKind::Alias(a))),
            3 => prop::collection::vec(
                prop_oneof![
                    3 => (0u8..5).prop_map(|a| plain(GenKind::Alias(a))),
                    1 => map_node.clone().prop_map(|m| GenNode { flow: true, ..m }),
                ],
                0..3,
            )
            .prop_map(|items| flow_node(GenKind::Seq(items))),
            3 => map_node,
            1 => node.clone(),
        ];
        let entry = prop_oneof![
            12 => (prop::sample::select(KEYS).prop_map(GenKey::Text), node.clone()),
            6 => merge_value.prop_map(|v| (GenKey::Merge, v)),
            1 => ((0u8..5).prop_map(GenKey::Alias), node.clone()),
        ];
        prop_oneof![
            2 => prop::collection::vec(node, 0..4).prop_map(GenKind::Seq),
            3 => prop::collection::vec(entry, 0..5).prop_map(GenKind::Map),
        ]
    });
    wrap(kind)
}

fn plain(kind: GenKind) -> GenNode {
    GenNode {
        anchor: None,
        tag: None,
        flow: false,
        kind,
    }
}

fn flow_node(kind: GenKind) -> GenNode {
    GenNode {
        flow: true,
        ..plain(kind)
    }
}

fn wrap(kind: impl Strategy<Value = GenKind> + Clone) -> impl Strategy<Value = GenNode> + Clone {
    let tag = prop_oneof![
        12 => prop::sample::select(TAGS),
        1 => prop::sample::select(RISKY_TAGS),
    ];
    (
        prop::option::weighted(0.15, 0u8..6),
        prop::option::weighted(0.08, tag),
        prop::bool::weighted(0.3),
        kind,
    )
        .prop_map(|(anchor, tag, flow, kind)| {
            let (anchor, tag) = match kind {
                // An alias takes no properties.
                GenKind::Alias(_) => (None, None),
                // Scalar tags on collections are errors; keep one as such.
                GenKind::Seq(_) | GenKind::Map(_) => match tag {
                    Some("!!str" | "!!int" | "!!float" | "!!bool") => (anchor, Some("!override")),
                    _ => (anchor, tag),
                },
                _ => (anchor, tag),
            };
            GenNode {
                anchor,
                tag,
                flow,
                kind,
            }
        })
}

fn props(n: &GenNode) -> String {
    let mut s = String::new();
    if let Some(a) = n.anchor {
        s.push_str(&format!("&a{a} "));
    }
    if let Some(t) = n.tag {
        s.push_str(t);
        s.push(' ');
    }
    s
}

fn flow_key(k: &GenKey) -> String {
    match k {
        GenKey::Text(t) => (*t).to_string(),
        GenKey::Merge => "<<".into(),
        GenKey::Alias(a) => format!("*a{a} "),
    }
}

fn flow(n: &GenNode) -> String {
    let body = match &n.kind {
        GenKind::Scalar(s) => (*s).to_string(),
        GenKind::Literal(_) => "'lit'".into(),
        GenKind::Alias(a) => format!("*a{a}"),
        GenKind::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        GenKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_key(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!("{}{body}", props(n))
}

/// Render `n` after a `key:` or `-` indicator, its block content at `indent`.
fn block(n: &GenNode, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match &n.kind {
        GenKind::Literal(style) => {
            out.push_str(&format!(
                " {}{style}\n{pad}line one\n{pad}line two\n\n",
                props(n)
            ));
        }
        GenKind::Seq(items) if !n.flow && !items.is_empty() => {
            out.push_str(&format!(" {}\n", props(n).trim_end()));
            for item in items {
                out.push_str(&pad);
                out.push('-');
                block(item, indent + 2, out);
            }
        }
        GenKind::Map(entries) if !n.flow && !entries.is_empty() => {
            out.push_str(&format!(" {}\n", props(n).trim_end()));
            for (k, v) in entries {
                out.push_str(&pad);
                out.push_str(&flow_key(k));
                out.push(':');
                block(v, indent + 2, out);
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&flow(n));
            out.push('\n');
        }
    }
}

fn render(doc: &GenDoc) -> String {
    let mut out = String::new();
    for (i, def) in doc.defs.iter().enumerate() {
        let anchored = GenNode {
            anchor: (!matches!(def.kind, GenKind::Alias(_))).then_some(i as u8),
            ..def.clone()
        };
        out.push_str(&format!("d{i}:"));
        block(&anchored, 2, &mut out);
    }
    let root = &doc.body;
    match &root.kind {
        GenKind::Map(entries) if !root.flow && root.anchor.is_none() && root.tag.is_none() => {
            for (k, v) in entries {
                out.push_str(&flow_key(k));
                out.push(':');
                block(v, 2, &mut out);
            }
        }
        _ => {
            out.push_str("body:");
            block(root, 2, &mut out);
        }
    }
    out
}

/// Characters that make YAML interesting, for byte-level fuzzing.
const YAML_CHARS: &[char] = &[
    'a', 'b', '1', '0', 'x', ' ', ' ', '\n', '\n', ':', '-', '[', ']', '{', '}', ',', '&', '*',
    '!', '|', '>', '\'', '"', '#', '?', '<', '.', '~', '%', '@', '\t', '\\', 'é',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_documents_read_the_same(doc in gen_doc()) {
        agree(&render(&doc));
    }

    #[test]
    fn yaml_shaped_noise_reads_the_same(chars in prop::collection::vec(prop::sample::select(YAML_CHARS), 0..80)) {
        let text: String = chars.into_iter().collect();
        agree(&text);
    }

    #[test]
    fn edited_fixtures_read_the_same(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(YAML_CHARS), 0u8..3),
            1..6,
        ),
    ) {
        let texts = fixture_texts();
        let mut text: Vec<char> = texts[pick.index(texts.len())].chars().collect();
        for (at, c, op) in edits {
            let i = at.index(text.len() + 1);
            match op {
                0 => text.insert(i, c),
                1 if i < text.len() => { text.remove(i); }
                _ if i < text.len() => text[i] = c,
                _ => text.push(c),
            }
        }
        agree(&text.into_iter().collect::<String>());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text, FILE);
        let _ = parse_fast(&text, &Arc::from(FILE));
        let _ = parse_fast_in(&text, &Arc::from(FILE), true);
    }
}

/// By hand: `cargo test --release --lib compose::read::differential::timing -- --ignored --nocapture`
/// after `python3 scripts/gen-stack.py 1000 /tmp/s1000`. The first `parse`
/// runs on fresh memory, as in a one-shot `aistack config`; the others are the
/// best of 15 runs, each tree dropped outside the timed part.
#[test]
#[ignore = "timing, run by hand in release"]
fn timing() {
    let path = std::env::var("AISTACK_READ_BENCH").unwrap_or("/tmp/s1000/compose.yaml".into());
    let text = std::fs::read_to_string(&path).expect("generate the stack first");
    let file: Arc<str> = Arc::from(FILE);
    let started = std::time::Instant::now();
    let first = parse(&text, FILE).expect("parses");
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    drop(first);
    let best = |f: &dyn Fn() -> Option<super::Node>| {
        let mut best = f64::MAX;
        for _ in 0..15 {
            let t = std::time::Instant::now();
            let tree = f();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            drop(tree);
        }
        best
    };
    let fast = best(&|| parse(&text, FILE).ok());
    let direct = best(&|| parse_fast_in(&text, &file, false).ok());
    let reference = best(&|| parse_reference(&text, FILE).ok());
    let events = best(&|| {
        let mut p = serde_saphyr::granit_parser::Parser::new_from_str(&text);
        while let Some(Ok(_)) = p.next() {}
        None
    });
    println!(
        "{path}: parse {fast:.1} ms (first call {first_ms:.1} ms), one thread {direct:.1} ms, \
         serde-saphyr reference {reference:.1} ms, granit events alone {events:.1} ms"
    );
}
