//! Property tests on stable Rust: the whole loader (interpolation, `.env`,
//! extends, include, merge, typing, profiles, normalize, validate) on
//! (1) every valid fixture of `tests/fixtures/load`, mutated at the byte and
//! token level (flips, inserts, deletes, duplicated lines, indentation, `*alias`,
//! `<<:`, `${`, `!reset`, `!override`, NUL, 0xFF), and (2) generated YAML-ish
//! token streams with a generated `.env`. Every case runs in-process inside
//! `catch_unwind`, on a thread with a small stack, and must end in a project
//! (which must serialize) or an error whose rendering names a file of the case.
//!
//! Cases per property: `AISTACK_FUZZ_CASES` (default 512, about 10 s for both
//! on a CI machine); `AISTACK_FUZZ_CASES=20000` is the long local run.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;

use aistack::compose::{self, LoadOptions};
use aistack::report::diagnostic;

use super::SMALL_STACK;

fn cases() -> u32 {
    std::env::var("AISTACK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // A failure prints the mutated files whole; saved seeds would not
        // replay anyway once a fixture changes.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One valid fixture: its directories, its files (relative path → bytes)
/// and how it is loaded.
#[derive(Debug, Clone)]
struct Fixture {
    name: String,
    dirs: Vec<PathBuf>,
    files: Vec<(PathBuf, Vec<u8>)>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

fn fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load");
    let mut out = Vec::new();
    for dir in crate::support::fixtures("load") {
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        collect(&dir, &dir, &mut dirs, &mut files);
        let name = dir
            .strip_prefix(&root)
            .unwrap_or(&dir)
            .display()
            .to_string();
        out.push(Fixture {
            name,
            dirs,
            files,
            args: crate::support::case_args(&dir),
            env: crate::support::case_env(&dir)
                .into_iter()
                .filter(|(k, _)| k != "PATH")
                .chain([("HOME".to_string(), "/home/fuzz".to_string())])
                .collect(),
        });
    }
    assert!(
        out.len() >= 10,
        "fixtures not found under {}",
        root.display()
    );
    out
}

/// Every directory and file under `dir` but the golden output and the
/// harness's own files.
fn collect(root: &Path, dir: &Path, dirs: &mut Vec<PathBuf>, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if path.is_dir() {
            dirs.push(rel);
            collect(root, &path, dirs, out);
        } else if !["expected.json", "args", "env"].contains(&rel.to_str().unwrap_or("")) {
            out.push((rel, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

/// Files a mutation may target: what the loader reads as text.
fn is_text_input(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".env") || name == ".env"
}

/// Write `dirs` and `files` into a fresh directory.
fn materialize(files: &[(PathBuf, Vec<u8>)], dirs: &[PathBuf]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    for d in dirs {
        std::fs::create_dir_all(tmp.path().join(d)).expect("create dir");
    }
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, bytes).expect("write file");
    }
    tmp
}

/// `-f`, `--env-file`, `--profile`, `-p` from a fixture's `args` file.
fn options(dir: &Path, args: &[String], env: BTreeMap<String, String>) -> LoadOptions {
    let mut opts = LoadOptions::new(dir.to_path_buf(), env);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else { break };
        match flag.as_str() {
            "-f" => opts.files.push(PathBuf::from(value)),
            "--env-file" => opts.env_files.push(PathBuf::from(value)),
            "--profile" => opts.profiles.push(value.clone()),
            "-p" => opts.project_name = Some(value.clone()),
            other => panic!("fixture argument {other} is not understood by the fuzz harness"),
        }
    }
    opts
}

/// Load in-process on a small stack; `Err` is a panic or an error that names
/// no file of the case, rendered.
fn check_load(opts: LoadOptions, dir: &Path) -> Result<(), String> {
    let outcome = std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                compose::load(&opts).map(|loaded| {
                    // `aistack config` serializes what was loaded; that must not panic either.
                    serde_json::to_string(&loaded.project).map(|s| s.len())
                })
            }))
        })
        .expect("spawn loader thread")
        .join()
        .map_err(|_| "the loader thread died".to_string())?;
    match outcome {
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {what}"))
        }
        Ok(Ok(Ok(_))) => {
            eprintln!("STAT ok");
            Ok(())
        }
        Ok(Ok(Err(e))) => Err(format!("the loaded project does not serialize: {e}")),
        Ok(Err(e)) => {
            let shown = diagnostic::render(&e);
            eprintln!(
                "STAT err {}",
                shown
                    .lines()
                    .next()
                    .unwrap_or("")
                    .replace(&dir.display().to_string(), "$D")
                    .chars()
                    .take(90)
                    .collect::<String>()
            );
            let dir = dir.display().to_string();
            if shown.contains(&dir) {
                Ok(())
            } else {
                Err(format!("error names no file:\n{shown}"))
            }
        }
    }
}

// --- mutations --------------------------------------------------------------

/// Bytes worth inserting: YAML and Compose syntax, and what text must not hold.
const TOKENS: &[&[u8]] = &[
    b"*a",
    b"&a ",
    b"<<: *a\n",
    b"<<: [*a, *a]\n",
    b"<<: ",
    b"${",
    b"${A:-",
    b"${A:?",
    b"}",
    b"$$",
    b"$",
    b"!reset ",
    b"!override ",
    b"!!str ",
    b"!unknown ",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\n",
    b"\t",
    b"  ",
    b"- ",
    b": ",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"'",
    b"\"",
    b"#",
    b"---\n",
    b"...\n",
    b"? ",
    b"|\n",
    b">-\n",
    b"~",
    b"null",
    b"extends: a\n",
    b"include: [a.yaml]\n",
    b"1-65535:1-65535",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"%YAML 1.2\n",
    b"0x1F",
    b"1e400",
    b"-9223372036854775809",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { at: Index, bit: u8 },
    Insert { at: Index, token: Index },
    InsertLine { line: Index, token: Index },
    Delete { at: Index, len: usize },
    DuplicateLine { line: Index },
    Indent { line: Index, by: i8 },
    SwapLines { a: Index, b: Index },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<Index>(), any::<Index>())
            .prop_map(|(line, token)| Mutation::InsertLine { line, token }),
        (any::<Index>(), 1usize..24).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<Index>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<Index>(), -4i8..=4).prop_map(|(line, by)| Mutation::Indent { line, by }),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

/// Byte offsets where lines start.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i <= bytes.len())
        .collect()
}

fn line_range(bytes: &[u8], line: &Index) -> std::ops::Range<usize> {
    let starts = line_starts(bytes);
    let start = starts[line.index(starts.len())];
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| start + p + 1);
    start..end
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, len: usize| i.index(len + 1);
    match m {
        Mutation::FlipBit { at: i, bit } => {
            if !bytes.is_empty() {
                let i = i.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
        }
        Mutation::Insert { at: i, token } => {
            let i = at(i, bytes.len());
            let t = TOKENS[token.index(TOKENS.len())];
            bytes.splice(i..i, t.iter().copied());
        }
        Mutation::InsertLine { line, token } => {
            let start = line_range(bytes, line).start;
            let indent: Vec<u8> = bytes[start..]
                .iter()
                .take_while(|&&b| b == b' ')
                .copied()
                .collect();
            let mut t = indent;
            t.extend_from_slice(TOKENS[token.index(TOKENS.len())]);
            if t.last() != Some(&b'\n') {
                t.push(b'\n');
            }
            bytes.splice(start..start, t);
        }
        Mutation::Delete { at: i, len } => {
            let i = at(i, bytes.len());
            let end = (i + len).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::DuplicateLine { line } => {
            let r = line_range(bytes, line);
            let copy = bytes[r.clone()].to_vec();
            bytes.splice(r.end..r.end, copy);
        }
        Mutation::Indent { line, by } => {
            let start = line_range(bytes, line).start;
            if *by > 0 {
                bytes.splice(start..start, std::iter::repeat_n(b' ', *by as usize));
            } else {
                let spaces = bytes[start..].iter().take_while(|&&b| b == b' ').count();
                let n = spaces.min(by.unsigned_abs() as usize);
                bytes.drain(start..start + n);
            }
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<Vec<u8>> = bytes
                .split_inclusive(|&b| b == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            if lines.len() > 1 {
                let (x, y) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(x, y);
                *bytes = lines.concat();
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_fixtures_load_or_fail_with_a_located_error(
        which in any::<Index>(),
        target in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let all = fixtures();
        let fixture = &all[which.index(all.len())];
        let mut files = fixture.files.clone();
        let texts: Vec<usize> = (0..files.len()).filter(|&i| is_text_input(&files[i].0)).collect();
        prop_assume!(!texts.is_empty());
        let chosen = texts[target.index(texts.len())];
        for m in &mutations {
            apply(&mut files[chosen].1, m);
        }
        let dir = materialize(&files, &fixture.dirs);
        let opts = options(dir.path(), &fixture.args, fixture.env.clone());
        if let Err(why) = check_load(opts, dir.path()) {
            let text = String::from_utf8_lossy(&files[chosen].1);
            prop_assert!(false, "{} ({}): {why}\n--- mutated file:\n{text}", fixture.name, files[chosen].0.display());
        }
    }

    #[test]
    fn generated_token_streams_load_or_fail_with_a_located_error(
        top in top_level(),
        services in services(),
        env in proptest::collection::vec(env_line(), 0..8),
        hazards in proptest::collection::vec(mutation(), 0..2),
    ) {
        let mut compose = b"x-a: &a\n  restart: always\n  labels: {x: y}\n".to_vec();
        compose.extend(top.concat());
        compose.extend_from_slice(b"services:\n");
        compose.extend(services);
        for m in &hazards {
            apply(&mut compose, m);
        }
        let env: Vec<u8> = env.concat();
        let files = vec![
            (PathBuf::from("compose.yaml"), compose.clone()),
            (PathBuf::from(".env"), env.clone()),
            (PathBuf::from("a.yaml"), b"services:\n  a:\n    image: x\n".to_vec()),
        ];
        let dir = materialize(&files, &[]);
        let process = BTreeMap::from([("SET".to_string(), "v".to_string())]);
        let opts = LoadOptions::new(dir.path().to_path_buf(), process);
        if let Err(why) = check_load(opts, dir.path()) {
            prop_assert!(
                false,
                "{why}\n--- compose.yaml:\n{}\n--- .env:\n{}",
                String::from_utf8_lossy(&compose),
                String::from_utf8_lossy(&env)
            );
        }
    }
}

/// Top-level sections, each key at most once.
fn top_level() -> impl Strategy<Value = Vec<&'static [u8]>> {
    const GROUPS: &[&[&[u8]]] = &[
        &[b"networks:\n  front: {}\n  back: {internal: true}\n"],
        &[b"volumes:\n  data: {}\n"],
        &[b"include: [a.yaml]\n"],
        &[b"name: fuzz\n", b"name: ${SET}-x\n"],
        &[b"secrets:\n  s: {file: ./s.txt}\n  e: {environment: UNSET}\n"],
        &[b"configs:\n  c: {content: hello}\n"],
        &[b"version: \"3\"\n"],
    ];
    one_of_each(GROUPS, 5)
}

/// Up to `max` of `groups`, in order, with one alternative of each.
fn one_of_each(
    groups: &'static [&'static [&'static [u8]]],
    max: usize,
) -> impl Strategy<Value = Vec<&'static [u8]>> {
    (
        proptest::sample::subsequence(groups, 0..=max),
        proptest::collection::vec(any::<Index>(), max),
    )
        .prop_map(|(chosen, picks)| {
            chosen
                .iter()
                .zip(picks)
                .map(|(alternatives, pick)| alternatives[pick.index(alternatives.len())])
                .collect()
        })
}

/// Up to four services, each with up to eight distinct attributes: mostly
/// valid, some in conflict (a service extending itself, a missing variable,
/// `mem_limit` against `deploy`, a fixed container name with `scale`).
fn services() -> impl Strategy<Value = Vec<u8>> {
    const NAMES: &[&str] = &["web", "db", "a", "cache"];
    const ATTRIBUTES: &[&[&[u8]]] = &[
        &[
            b"    image: busybox\n",
            b"    image: ${IMAGE:-busybox}\n",
            b"    image: ${MISSING:?set it}\n",
        ],
        &[
            b"    ports: [\"8080:80\", \"127.0.0.1:53:53/udp\"]\n",
            b"    ports:\n      - 9000-9100:9000-9100\n",
            b"    ports: [{target: 80, published: \"8081\"}]\n",
        ],
        &[
            b"    depends_on: [db]\n",
            b"    depends_on:\n      web: {condition: service_healthy}\n",
        ],
        &[
            b"    extends: web\n",
            b"    extends: {file: a.yaml, service: a}\n",
        ],
        &[
            b"    environment:\n      A: $SET\n      B: ${B:-$$x}\n",
            b"    environment: [B, C=1]\n",
        ],
        &[
            b"    env_file: .env\n",
            b"    env_file: [{path: none.env, required: false}]\n",
        ],
        &[b"    labels: &l {a: b}\n", b"    labels: *l\n"],
        &[b"    <<: *a\n"],
        &[
            b"    networks: [front]\n",
            b"    networks: {back: {aliases: [b]}}\n",
        ],
        &[b"    volumes: [data:/data, ./x:/x:ro]\n"],
        &[
            b"    healthcheck: {test: [CMD, \"true\"], interval: 1s}\n",
            b"    healthcheck: {test: exit 0, timeout: 1h2m}\n",
        ],
        &[b"    deploy: {resources: {limits: {memory: 1g, cpus: \"0.5\"}}}\n"],
        &[b"    mem_limit: 512m\n"],
        &[
            b"    command: !reset []\n",
            b"    command: !override [a, b]\n",
            b"    command: echo \"$$HOME\"\n",
        ],
        &[b"    profiles: [p]\n"],
        &[b"    scale: 3\n"],
        &[b"    network_mode: service:db\n"],
        &[b"    links: [db:database]\n"],
        &[b"    volumes_from: [db]\n"],
        &[b"    build: .\n", b"    build: {context: ., args: [X]}\n"],
        &[b"    restart: on-failure:3\n"],
        &[b"    ulimits: {nofile: {soft: 1, hard: 2}}\n"],
        &[b"    secrets: [s]\n", b"    secrets: [e]\n"],
        &[b"    configs: [c]\n"],
        &[b"    container_name: fixed\n"],
        &[b"    extra_hosts: [\"h:1.2.3.4\", \"h=1.2.3.4\"]\n"],
        &[b"    stop_grace_period: 10s\n"],
    ];
    (
        proptest::sample::subsequence(NAMES, 0..=4),
        proptest::collection::vec(one_of_each(ATTRIBUTES, 8), 4),
    )
        .prop_map(|(names, bodies)| {
            let mut out = Vec::new();
            for (name, lines) in names.iter().zip(bodies) {
                out.extend(format!("  {name}:\n").into_bytes());
                for line in lines {
                    out.extend_from_slice(line);
                }
            }
            out
        })
}

/// `.env` lines: mostly valid, with Compose's operators, quoting and escapes.
fn env_line() -> impl Strategy<Value = Vec<u8>> {
    let fixed: &[&[u8]] = &[
        b"IMAGE=alpine\n",
        b"A=${SET}\n",
        b"B=\"x ${A:-y}\"\n",
        b"C='lit $A'\n",
        b"export D=1\n",
        b"# c\n",
        b"E=$A$A$A$A\n",
        b"F=\"\\101\\n\"\n",
        b"G: yaml-style\n",
        b"H\n",
        b"I=\"multi\nline\"\n",
        b"J=${A:+alt}\n",
        b"K=${MISSING-}\n",
        b"L=a #comment\n",
    ];
    proptest::sample::select(fixed).prop_map(<[u8]>::to_vec)
}
