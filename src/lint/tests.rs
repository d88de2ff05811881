//! Lint on small projects loaded from YAML: severities, heuristics, disables
//! and what a report may never contain.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::compose::{self, LoadOptions};

/// Hardened attributes as a merge-key anchor: `@` in a fixture stands for
/// `<<: *h` (everything), `@base` for `<<: *base` (all but the restart policy).
const PRELUDE: &str = r#"x-base: &base
  image: example/app:1.2.3
  user: "10001:10001"
  read_only: true
  cap_drop: [ALL]
  security_opt: ["no-new-privileges:true"]
  logging: {driver: json-file, options: {max-size: "10m"}}
  deploy: {resources: {limits: {cpus: "0.5", memory: 64M}}}
x-hardened: &h
  <<: *base
  restart: unless-stopped
"#;

fn expand(yaml: &str) -> String {
    PRELUDE.to_string()
        + &yaml
            .replace("    @base\n", "    <<: *base\n")
            .replace("    @\n", "    <<: *h\n")
}

/// The 1-based line of the first line of `yaml` (expanded) containing `needle`.
fn line_of(yaml: &str, needle: &str) -> u32 {
    expand(yaml)
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle in fixture") as u32
        + 1
}

/// Lint `yaml` (see `expand`) with `settings`.
fn lint_yaml(yaml: &str, settings: Settings) -> Result<Report, ConfigError> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("compose.yaml"), expand(yaml)).expect("write");
    let loaded = compose::load(&LoadOptions::new(dir.path().to_path_buf(), BTreeMap::new()))
        .expect("fixture loads");
    let sources = Sources::read(&loaded.project, None);
    lint(
        &Input {
            project: &loaded.project,
            sources: &sources,
            dotenv: &[],
        },
        settings,
    )
}

fn report(yaml: &str) -> Report {
    lint_yaml(yaml, Settings::default()).expect("lint runs")
}

fn rules_of(r: &Report) -> Vec<(&'static str, Severity, Option<String>)> {
    r.findings
        .iter()
        .map(|f| (f.rule, f.severity, f.service.clone()))
        .collect()
}

#[test]
fn a_database_port_on_loopback_is_a_warning_and_on_all_interfaces_an_error() {
    let r = report(
        "services:\n  db:\n    @\n    image: postgres:16.4\n    ports: [\"127.0.0.1:5432:5432\"]\n  cache:\n    @\n    ports: [\"6379\"]\n",
    );
    assert_eq!(
        rules_of(&r),
        [
            ("db-port-published", Severity::Error, Some("cache".into())),
            ("db-port-published", Severity::Warning, Some("db".into())),
        ]
    );
    assert!(
        r.findings[0]
            .why
            .contains("6379 is Redis's well-known port")
    );
    assert!(r.findings[0].message.contains("a random port"));
}

#[test]
fn a_published_port_range_is_one_finding_at_its_entry() {
    let yaml = "services:\n  es:\n    @\n    image: elasticsearch:8.15.0\n    ports: [\"9200-9201:9200-9201\"]\n";
    let r = report(yaml);
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "db-port-published")
        .collect();
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("9200, 9201"), "{}", f[0].message);
    assert_eq!(f[0].span.line, line_of(yaml, "9200-9201"));
}

#[test]
fn interpolated_secrets_are_never_flagged_and_literal_keys_always_are() {
    let r = report(concat!(
        "services:\n  app:\n    @\n    environment:\n",
        "      - OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwxyz0123\n",
        "      - DB_PASSWORD=${DB_PASSWORD:-}\n",
        "      - TOKEN=$TOKEN\n",
        "    networks: [backend]\n",
        "networks:\n  backend: {internal: true}\n",
    ));
    assert_eq!(
        rules_of(&r),
        [("literal-secret", Severity::Error, Some("app".into()))]
    );
    assert!(r.findings[0].message.contains("OPENAI_API_KEY"));
    assert!(r.findings[0].message.contains("33 characters"));
}

#[test]
fn no_report_format_ever_contains_the_secret_value() {
    let secret = "sk-live0123456789abcdefghijklmnop";
    let r = report(&format!(
        "services:\n  app:\n    @\n    environment:\n      API_TOKEN: {secret}\n      DB_PASSWORD: ${{DB_PASSWORD:-hunter2hunter2}}\n    command: [\"--key\", \"{secret}\"]\n"
    ));
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.rule == "literal-secret")
            .count(),
        3
    );
    let base = Path::new("/");
    for out in [
        output::text(&r, base),
        output::json(&r, base),
        output::sarif(&r, base),
    ] {
        assert!(!out.contains("live0123456789"), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
    }
}

#[test]
fn a_backend_network_is_flagged_with_its_services_and_an_egress_need_spares_it() {
    let yaml = "services:\n  worker:\n    @\n    networks: [backend]\n  cache:\n    @\n    networks: [backend]\nnetworks:\n  backend: {}\n";
    let r = report(yaml);
    let f = &r.findings[0];
    assert_eq!(
        (f.rule, f.network.as_deref()),
        ("network-not-internal", Some("backend"))
    );
    assert!(
        f.why.contains("only cache and worker are on it"),
        "{}",
        f.why
    );
    assert_eq!(f.span.line, line_of(yaml, "backend: {}"));

    let r = report(
        "services:\n  worker:\n    @\n    environment: {API_BASE: \"https://api.example.com/v1\"}\n    networks: [backend]\nnetworks:\n  backend: {}\n",
    );
    assert!(rules_of(&r).is_empty(), "{:?}", rules_of(&r));

    let r = report(
        "services:\n  worker:\n    @\n    networks: [backend]\nnetworks:\n  backend:\n    x-aistack: {lint: {disable: [network-not-internal]}}\n",
    );
    assert!(rules_of(&r).is_empty(), "{:?}", rules_of(&r));
    assert_eq!(r.suppressed, 1);
}

#[test]
fn one_shot_jobs_need_no_restart_policy() {
    let r = report(concat!(
        "services:\n  app:\n    @\n    depends_on: {migrate: {condition: service_completed_successfully}}\n",
        "    networks: [b]\n",
        "  migrate:\n    @base\n    networks: [b]\n",
        "networks:\n  b: {internal: true}\n",
    ));
    assert!(rules_of(&r).is_empty(), "{:?}", rules_of(&r));
}

#[test]
fn a_service_waited_on_as_healthy_without_healthcheck_is_an_error_naming_the_waiters() {
    let r = report(concat!(
        "services:\n  web:\n    @\n    ports: [\"8080:80\"]\n",
        "    depends_on: {api: {condition: service_healthy}}\n",
        "    healthcheck: {test: [\"CMD\", \"true\"], interval: 2s}\n",
        "  api:\n    @\n",
    ));
    assert_eq!(
        rules_of(&r),
        [("healthcheck-missing", Severity::Error, Some("api".into()))]
    );
    assert!(r.findings[0].message.contains("web waits for it"));
}

#[test]
fn disables_in_the_file_suppress_per_service_and_per_project() {
    let r = report(concat!(
        "x-aistack: {lint: {disable: [read-only-missing]}}\n",
        "services:\n  app:\n    @\n    read_only: false\n    user: root\n",
        "    x-aistack: {lint: {disable: [runs-as-root]}}\n",
        "    networks: [b]\n",
        "  other:\n    @\n    user: root\n    networks: [b]\n",
        "networks:\n  b: {internal: true}\n",
    ));
    assert_eq!(
        rules_of(&r),
        [("runs-as-root", Severity::Warning, Some("other".into()))]
    );
    assert_eq!(r.suppressed, 2);
}

#[test]
fn an_unknown_rule_id_in_the_file_is_an_error_at_its_line_with_a_hint() {
    let yaml =
        "services:\n  app:\n    @\n    x-aistack:\n      lint:\n        disable: [runs-as-rot]\n";
    let e = lint_yaml(yaml, Settings::default()).unwrap_err();
    match e {
        ConfigError::InFile {
            span,
            message,
            hint,
        } => {
            assert_eq!(span.line, line_of(yaml, "runs-as-rot"));
            assert!(message.contains("runs-as-rot"));
            assert_eq!(hint.as_deref(), Some("did you mean `runs-as-root`?"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_line_disables_and_enables_are_checked() {
    assert!(Settings::from_flags(&["privileged".into()], &[]).is_ok());
    let e = Settings::from_flags(&[], &["image-no-digst".into()]).unwrap_err();
    assert!(
        e.to_string().contains("did you mean `image-no-digest`?"),
        "{e}"
    );
}

#[test]
fn strict_counts_warnings_and_info_never_fails() {
    let r = report(
        "services:\n  app:\n    @\n    user: root\n    networks: [b]\nnetworks:\n  b: {internal: true}\n",
    );
    assert!(!r.fails(false));
    assert!(r.fails(true));
    let r = report(
        "services:\n  app:\n    @\n    image: example/app\n    pull_policy: never\n    networks: [b]\nnetworks:\n  b: {internal: true}\n",
    );
    assert_eq!(
        rules_of(&r),
        [("image-unpinned", Severity::Info, Some("app".into()))]
    );
    assert!(!r.fails(true));
}

#[test]
fn services_from_an_included_file_are_located_and_checked_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/compose.yaml"),
        expand("services:\n  db:\n    @\n    environment:\n      DB_PASSWORD: hunter22\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        expand("include: [sub/compose.yaml]\nservices:\n  app:\n    @\n"),
    )
    .unwrap();
    let loaded = compose::load(&LoadOptions::new(dir.path().to_path_buf(), BTreeMap::new()))
        .expect("fixture loads");
    let sources = Sources::read(&loaded.project, None);
    let input = Input {
        project: &loaded.project,
        sources: &sources,
        dotenv: &[],
    };
    let r = lint(&input, Settings::default()).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "literal-secret")
        .expect("the included literal is found");
    assert!(f.span.file.ends_with("sub/compose.yaml"), "{}", f.span);
    assert_eq!(
        f.span.line,
        line_of(
            "services:\n  db:\n    @\n    environment:\n      DB_PASSWORD: hunter22\n",
            "hunter22"
        )
    );
}
