//! Hostile input (issue 6): alias and merge-key bombs, deep nesting, oversized
//! files, invalid UTF-8 and NUL bytes, and amplification through
//! interpolation, `.env`, `env_file`, `extends`, `include` and port ranges.
//! Each must end in a correct load or a clear error naming the file (exit 3),
//! in bounded time and memory: never a panic, never a signal. The real binary
//! runs under `ulimit -v` (1 GiB of address space) with a timeout; recursion
//! is checked in-process on a thread with a 512 KiB stack. The property tests
//! (mutated fixtures, generated token streams) are in `fuzz`.
//!
//! No test asserts a duration: each asserts the outcome, and the timeout only
//! turns a hang into a failure.

mod fuzz;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aistack::compose::{self, LoadError, LoadOptions, Loaded};

/// Address space the binary may use: the billion-laughs file Compose takes
/// 23 GB on must fail well within it.
const MEMORY_LIMIT_KIB: u64 = 1024 * 1024;

/// Stack for the in-process loads. The reader recurses once per nesting
/// level, up to the YAML budget's 64 levels, at about 4 KiB a level in a
/// debug build; recursion that followed the input instead would need tens of
/// MiB for the 10,000-level documents below and overflow this.
const SMALL_STACK: usize = 512 * 1024;

/// A temporary project directory.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, bytes) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create dir");
            }
            std::fs::write(path, bytes).expect("write file");
        }
        Project { dir }
    }

    fn compose(text: &str) -> Self {
        Project::new(&[("compose.yaml", text.as_bytes())])
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `aistack ARGS` here, with only PATH and HOME, under the memory limit.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[], None)
    }

    fn run_with(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        stdin: Option<&Path>,
    ) -> Output {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_aistack"))
            .args(args)
            .current_dir(self.path())
            .env_clear();
        for k in ["PATH", "HOME"] {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        match stdin {
            Some(file) => cmd.stdin(std::fs::File::open(file).expect("open stdin file")),
            None => cmd.stdin(Stdio::null()),
        };
        run_to_files(cmd, Duration::from_secs(120))
    }

    /// The whole loader, in this process, on a thread with a small stack.
    fn load_on_small_stack(&self, env: BTreeMap<String, String>) -> Result<Loaded, LoadError> {
        let opts = LoadOptions::new(self.path().to_path_buf(), env);
        std::thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(move || compose::load(&opts))
            .expect("spawn loader thread")
            .join()
            .expect("the loader overflowed or panicked")
    }
}

/// Run `cmd` with its output going to files (megabytes of `config` output
/// would fill a pipe nobody reads while waiting), killed after `limit`.
fn run_to_files(mut cmd: Command, limit: Duration) -> Output {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    cmd.stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// Refused as an invalid project (exit 3, not a signal, not a panic), with a
/// diagnostic that contains `located` (a file, usually with line:column) and `words`.
fn assert_refused(out: &Output, located: &str, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "expected exit 3, got {:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(located), "no `{located}` in:\n{stderr}");
    assert!(stderr.contains(words), "no `{words}` in:\n{stderr}");
}

/// The error of an in-process load, rendered, with its file named.
fn refused(result: Result<Loaded, LoadError>) -> String {
    match result {
        Ok(_) => panic!("hostile input was accepted"),
        Err(e) => {
            let shown = e.to_string();
            assert!(
                e.span.as_ref().is_some_and(|s| !s.file.is_empty()) || shown.contains(".yaml"),
                "the error names no file: {shown}"
            );
            shown
        }
    }
}

/// A YAML billion laughs: nine levels of nine aliases, 10^9 strings from 2 KB.
fn billion_laughs() -> String {
    let mut s = String::from("x-lol: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let items = vec![format!("*a{}", i - 1); 9].join(", ");
        s.push_str(&format!("x-l{i}: &a{i} [{items}]\n"));
    }
    s.push_str("services:\n  web:\n    image: busybox\n    command: *a9\n");
    s
}

// --- alias and merge-key bombs ---------------------------------------------

#[test]
fn billion_laughs_is_refused_within_a_memory_limit() {
    let text = billion_laughs();
    assert!(text.len() < 2_048, "{} bytes", text.len());
    let out = Project::compose(&text).run(&["config"]);
    assert_refused(
        &out,
        "compose.yaml:",
        "it expands to more than 250,000 values",
    );
}

#[test]
fn a_nested_mapping_alias_bomb_is_refused_within_a_memory_limit() {
    // Ten levels of ten keys, each level's values the level below.
    let keys = |v: &str| {
        (0..10)
            .map(|j| format!("k{j}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!("x-0: &m0 {{{}}}\n", keys("v"));
    for i in 1..10 {
        s.push_str(&format!(
            "x-{i}: &m{i} {{{}}}\n",
            keys(&format!("*m{}", i - 1))
        ));
    }
    s.push_str("services:\n  web:\n    image: busybox\n    labels: *m9\n");
    let out = Project::compose(&s).run(&["config", "--format", "json"]);
    assert_refused(&out, "compose.yaml:", "too big to read");
}

#[test]
fn nested_merge_key_bombs_are_refused_within_a_memory_limit() {
    let mut s = String::from("x-0: &m0 {a0: 1, a1: 1, a2: 1, a3: 1, a4: 1, a5: 1, a6: 1, a7: 1}\n");
    for i in 1..12 {
        let sources = vec![format!("*m{}", i - 1); 10].join(", ");
        s.push_str(&format!("x-{i}: &m{i}\n  <<: [{sources}]\n  b{i}: 1\n"));
    }
    s.push_str("services:\n  web:\n    image: busybox\n    labels: *m11\n");
    let out = Project::compose(&s).run(&["config", "-q"]);
    assert_refused(&out, "compose.yaml:", "too big to read");
}

#[test]
fn bombs_are_refused_in_process_on_a_small_stack() {
    for text in [billion_laughs(), long_anchor_chain(10_000)] {
        let shown = refused(Project::compose(&text).load_on_small_stack(BTreeMap::new()));
        assert!(shown.contains("too big to read"), "{shown}");
    }
}

/// `a1: &a1 [*a0]`, `a2: &a2 [*a1]`, …: each alias one level deeper.
fn long_anchor_chain(len: usize) -> String {
    let mut s = String::from("x-a0: &a0 x\n");
    for i in 1..len {
        s.push_str(&format!("x-a{i}: &a{i} [*a{}]\n", i - 1));
    }
    s.push_str("services: {}\n");
    s
}

// --- deep nesting, many keys, long values: no recursion on input ------------

#[test]
fn ten_thousand_levels_of_nesting_are_refused_on_a_small_stack() {
    let n = 10_000;
    let documents = [
        format!("services: {}{}\n", "[".repeat(n), "]".repeat(n)),
        format!("services: {}b{}\n", "{a: ".repeat(n), "}".repeat(n)),
        format!("services:\n  {}x\n", "- ".repeat(n)),
        // Block mappings with one-space indentation: 12.5 MB for 5,000 levels.
        (0..5_000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect(),
    ];
    for text in documents {
        let shown = refused(Project::compose(&text).load_on_small_stack(BTreeMap::new()));
        assert!(
            shown.contains("nests more than 64 levels"),
            "{}",
            &shown[..shown.len().min(300)]
        );
    }
}

#[test]
fn sixty_levels_of_nesting_still_load_on_a_small_stack() {
    let text = format!(
        "services:\n  web:\n    image: busybox\nx-deep: {}1{}\n",
        "{a: ".repeat(60),
        "}".repeat(60)
    );
    let loaded = Project::compose(&text)
        .load_on_small_stack(BTreeMap::new())
        .expect("loads");
    assert!(loaded.project.services.contains_key("web"));
}

#[test]
fn many_keys_and_long_values_load_correctly_on_a_small_stack() {
    let mut text = String::from("services:\n  web:\n    image: busybox\n    labels:\n");
    for i in 0..100_000 {
        text.push_str(&format!("      k{i}: v{i}\n"));
    }
    let long = "x".repeat(8 * 1024 * 1024);
    text.push_str(&format!("    command: [\"{long}\"]\n"));
    let loaded = Project::compose(&text)
        .load_on_small_stack(BTreeMap::new())
        .expect("loads");
    let web = &loaded.project.services["web"];
    assert_eq!(web.labels.len(), 100_000);
    assert_eq!(web.labels.get("k99999").map(String::as_str), Some("v99999"));
    assert_eq!(
        web.command
            .as_ref()
            .map(|c| c.0.iter().map(String::len).sum::<usize>()),
        Some(long.len())
    );
}

#[test]
fn hostile_interpolation_is_refused_on_a_small_stack() {
    let cases = [
        // 10,000 nested defaults.
        format!(
            "services:\n  web:\n    image: \"{}x{}\"\n",
            "${A:-".repeat(10_000),
            "}".repeat(10_000)
        ),
        // `${` never closed, 100,000 times.
        format!(
            "services:\n  web:\n    image: \"{}\"\n",
            "${".repeat(100_000)
        ),
    ];
    for text in cases {
        let shown = refused(Project::compose(&text).load_on_small_stack(BTreeMap::new()));
        assert!(
            shown.contains("invalid interpolation format"),
            "{}",
            &shown[..shown.len().min(300)]
        );
        // The template is quoted shortened, not whole.
        assert!(shown.len() < 2_000, "{} bytes of error", shown.len());
    }
}

#[test]
fn a_variable_repeated_into_gigabytes_is_refused_before_it_is_built() {
    let mut text = String::from("services:\n  web:\n    image: busybox\n    command: \"");
    text.push_str(&"$BIG".repeat(100_000));
    text.push_str("\"\n");
    let big = format!("BIG={}\n", "x".repeat(1024 * 1024));
    let out = Project::new(&[("compose.yaml", text.as_bytes()), (".env", big.as_bytes())])
        .run(&["config", "-q"]);
    assert_refused(&out, "compose.yaml:4:", "values expand to more than 64 MiB");
}

#[test]
fn an_env_file_doubling_earlier_keys_is_refused_before_it_is_built() {
    let mut env = String::from("A0=xxxxxxxxxx\n");
    for i in 1..12 {
        env.push_str(&format!("A{i}={}\n", format!("${{A{}}}", i - 1).repeat(10)));
    }
    let p = Project::new(&[
        ("compose.yaml", b"services:\n  web:\n    image: busybox\n"),
        (".env", env.as_bytes()),
    ]);
    assert_refused(
        &p.run(&["config", "-q"]),
        ".env: line 8:",
        "values expand to more than 64 MiB",
    );
}

// --- sizes -----------------------------------------------------------------

#[test]
fn a_file_over_sixteen_mib_is_refused_before_it_is_parsed() {
    let mut text = String::from("services:\n  web:\n    image: busybox\n");
    text.push_str(&format!("x-pad: \"{}\"\n", "x".repeat(16 * 1024 * 1024)));
    let out = Project::compose(&text).run(&["config", "-q"]);
    assert_refused(
        &out,
        "compose.yaml: file is larger than 16 MiB",
        "the most aistack reads",
    );
}

#[test]
fn endless_inputs_are_read_only_up_to_the_limit() {
    let p = Project::compose("services:\n  web:\n    image: busybox\n    env_file: /dev/zero\n");
    assert_refused(
        &p.run(&["config", "-q"]),
        "/dev/zero: file is larger than 16 MiB",
        "service \"web\"",
    );
    let p = Project::compose("services: {}\n");
    let out = p.run_with(
        &["-f", "-", "config", "-q"],
        &[],
        Some(Path::new("/dev/zero")),
    );
    assert_refused(&out, "<stdin>: file is larger than 16 MiB", "error");
    let out = p.run(&["--env-file", "/dev/zero", "config", "-q"]);
    assert_refused(&out, "/dev/zero: file is larger than 16 MiB", "error");
}

/// 5,000 services of about 800 bytes each: a 4 MB file that must load whole.
fn five_thousand_services() -> String {
    let mut s = String::from(
        "x-common: &common\n  restart: unless-stopped\n  labels:\n    tier: generated\nservices:\n",
    );
    for i in 0..5_000 {
        s.push_str(&format!(
            "  svc{i}:\n    <<: *common\n    image: registry.example.com/team/app-{i}:1.{i}\n    \
             command: [\"sh\", \"-c\", \"echo service {i} && exec sleep infinity\"]\n    \
             environment:\n      INDEX: \"{i}\"\n      HOME_COPY: ${{HOME}}/svc{i}\n      \
             DESCRIPTION: \"{}\"\n    ports:\n      - \"{}:80\"\n    healthcheck:\n      \
             test: [\"CMD\", \"true\"]\n      interval: 30s\n{}",
            "generated padding ".repeat(25),
            10_000 + i,
            if i > 0 {
                format!("    depends_on: [svc{}]\n", i - 1)
            } else {
                String::new()
            }
        ));
    }
    s
}

#[test]
fn a_multi_megabyte_file_of_five_thousand_services_loads_correctly() {
    let text = five_thousand_services();
    assert!(text.len() > 3_000_000, "{} bytes", text.len());
    let p = Project::compose(&text);
    let out = p.run(&["config", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let services = json["services"].as_object().expect("services");
    assert_eq!(services.len(), 5_000);
    let last = &services["svc4999"];
    assert_eq!(last["image"], "registry.example.com/team/app-4999:1.4999");
    assert_eq!(last["restart"], "unless-stopped");
    assert_eq!(last["labels"]["tier"], "generated");
    assert_eq!(last["ports"][0]["published"], "14999");
    assert_eq!(
        last["depends_on"]["svc4998"]["condition"],
        "service_started"
    );
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(last["environment"]["HOME_COPY"], format!("{home}/svc4999"));
}

// --- invalid UTF-8 and NUL bytes, wherever text is read ---------------------

const BAD: &[u8] = b"services:\n  web:\n    image: bu\xffsybox\n";
const NUL: &[u8] = b"services:\n  web:\n    image: bu\0sybox\n";

#[test]
fn invalid_utf8_and_nul_in_a_compose_file_are_located() {
    let out = Project::new(&[("compose.yaml", BAD)]).run(&["config", "-q"]);
    assert_refused(
        &out,
        "compose.yaml:3:14",
        "not valid UTF-8 (byte 0xff at offset 30)",
    );
    let out = Project::new(&[("compose.yaml", NUL)]).run(&["config", "-q"]);
    assert_refused(&out, "compose.yaml:3:14", "contains a NUL byte");
}

#[test]
fn invalid_utf8_and_nul_on_standard_input_are_located() {
    for (bytes, words) in [(BAD, "not valid UTF-8"), (NUL, "NUL byte")] {
        let p = Project::new(&[("stdin.yaml", bytes)]);
        let out = p.run_with(
            &["-f", "-", "config", "-q"],
            &[],
            Some(&p.path().join("stdin.yaml")),
        );
        assert_refused(&out, "<stdin>:3:14", words);
    }
}

#[test]
fn invalid_utf8_and_nul_in_env_files_are_located() {
    let compose = b"services:\n  web:\n    image: busybox\n    env_file: svc.env\n" as &[u8];
    for (bytes, words) in [
        (&b"A=1\nB=\xfe\n"[..], "not valid UTF-8"),
        (&b"A=1\nB=\0\n"[..], "NUL byte"),
    ] {
        let out = Project::new(&[
            ("compose.yaml", compose),
            ("svc.env", b"A=1\n"),
            (".env", bytes),
        ])
        .run(&["config", "-q"]);
        assert_refused(&out, ".env:2:3", words);
        let out =
            Project::new(&[("compose.yaml", compose), ("svc.env", bytes)]).run(&["config", "-q"]);
        assert_refused(&out, "svc.env:2:3", words);
        let out = Project::new(&[
            ("compose.yaml", compose),
            ("svc.env", b"A=1\n"),
            ("other.env", bytes),
        ])
        .run(&["--env-file", "other.env", "config", "-q"]);
        assert_refused(&out, "other.env:2:3", words);
    }
}

#[test]
fn invalid_utf8_in_extended_and_included_files_is_located() {
    let extends = b"services:\n  web:\n    extends: {file: base.yaml, service: web}\n" as &[u8];
    let out = Project::new(&[("compose.yaml", extends), ("base.yaml", BAD)]).run(&["config", "-q"]);
    assert_refused(&out, "base.yaml:3:14", "not valid UTF-8");
    let include = b"include: [sub/compose.yaml]\nservices: {}\n" as &[u8];
    let out = Project::new(&[("compose.yaml", include), ("sub/compose.yaml", NUL)])
        .run(&["config", "-q"]);
    assert_refused(&out, "sub/compose.yaml:3:14", "NUL byte");
}

#[test]
fn non_utf8_process_variables_are_treated_as_unset() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::compose("services:\n  web:\n    image: \"busybox${TAG:-:1}\"\n");
    let out = p.run_with(
        &["config", "--format", "json"],
        &[("TAG", std::ffi::OsStr::from_bytes(b":\xff"))],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["services"]["web"]["image"], "busybox:1");
}

// --- amplification after parsing -------------------------------------------

#[test]
fn port_ranges_expanding_to_millions_of_bindings_are_refused() {
    let mut text = String::from("services:\n  web:\n    image: busybox\n    ports:\n");
    for i in 1..=16 {
        text.push_str(&format!("      - \"10.0.0.{i}:1-65535:1-65535\"\n"));
    }
    let out = Project::compose(&text).run(&["config", "-q"]);
    assert_refused(&out, "compose.yaml:6:", "more than 65536 port bindings");
}

#[test]
fn include_cycles_and_fan_out_are_refused() {
    let p = Project::new(&[
        ("compose.yaml", b"include: [a.yaml]\nservices: {}\n"),
        ("a.yaml", b"include: [compose.yaml]\nservices: {}\n"),
    ]);
    assert_refused(&p.run(&["config", "-q"]), "a.yaml:1:", "include cycle: ");
    // Ten includes of the next level, eight levels down: 10^7 loads unbounded.
    let mut files = Vec::new();
    for level in 0..8 {
        let name = if level == 0 {
            "compose.yaml".to_string()
        } else {
            format!("l{level}.yaml")
        };
        let mut text = String::new();
        if level < 7 {
            text.push_str("include:\n");
            for _ in 0..10 {
                text.push_str(&format!(
                    "  - path: l{}.yaml\n    project_directory: .\n",
                    level + 1
                ));
            }
        }
        text.push_str("networks:\n  n: {}\n");
        files.push((name, text));
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let out = Project::new(&files).run(&["config", "-q"]);
    assert_refused(&out, ".yaml:", "more than 100 included projects");
}

#[test]
fn one_env_file_copied_into_thousands_of_services_is_bounded() {
    // 1 MiB of variables, named by 2,000 services through one alias: 2 GB of copies.
    let env: String = (0..1_024)
        .map(|i| format!("V{i}={}\n", "x".repeat(1_000)))
        .collect();
    let mut text = String::from("x-env: &env [big.env]\nservices:\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "  s{i}:\n    image: busybox\n    env_file: *env\n"
        ));
    }
    let p = Project::new(&[
        ("compose.yaml", text.as_bytes()),
        ("big.env", env.as_bytes()),
    ]);
    assert_refused(
        &p.run(&["config", "-q"]),
        "big.env: env files and environment values",
        "add up to more than 64 MiB",
    );
}
