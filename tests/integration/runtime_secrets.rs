//! Secret values (from `.env`, an `env_file:` and a file secret) never appear
//! in aistack's own output: diagnoses of a failed health check and of a failed
//! job, `aistack test`'s report, `up --dry-run`, and a load error that would
//! quote an interpolated value. The containers' own output (`logs`) keeps them.

use crate::runtime_support::{Out, Stack};

const DB_PASSWORD: &str = "Dbpw-7Qx2-distinct-41";
const LISTEN_SPEC: &str = "Kp9xW2mQ7v-listen";
const API_TOKEN: &str = "tok-Zr8Lq3-distinct-77";
const FILE_SECRET: &str = "filesecret-Hs4Vn9-distinct-13";

#[track_caller]
fn assert_no_secret(out: &Out) {
    for v in [DB_PASSWORD, LISTEN_SPEC, API_TOKEN, FILE_SECRET] {
        assert!(!out.stdout.contains(v), "{v} leaked:\n{}", out.all());
        assert!(!out.stderr.contains(v), "{v} leaked:\n{}", out.all());
    }
}

#[test]
fn runtime_secret_values_never_appear_in_aistacks_own_output() {
    let Some(s) = Stack::new("secrets", "secrets") else {
        return;
    };

    // A health check that prints all three: the diagnosis names the service
    // and shows the output, masked, and says it was.
    let up = s.aistack(&["up", "--wait", "--progress", "plain", "app"]);
    assert_eq!(up.code, 1, "{}", up.all());
    assert_no_secret(&up);
    let err = &up.stderr;
    let db = s.container("db");
    assert!(
        err.contains(&format!(
            "error: service \"db\": {db} health check reports unhealthy"
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "db check: <redacted:DB_PASSWORD> <redacted:API_TOKEN> <redacted:secrets.db_secret>"
        ),
        "{err}"
    );
    assert!(
        err.contains("db: booting with <redacted:DB_PASSWORD>"),
        "{err}"
    );
    assert!(err.contains("secret values redacted"), "{err}");
    // The container really printed them: `logs` is the user's business.
    let logs = s.aistack(&["logs", "db"]).ok();
    assert!(logs.stdout.contains(DB_PASSWORD), "{}", logs.all());

    // A job that logs them (one in a URL) and exits 1.
    let up = s.aistack(&["up", "--wait", "--progress", "json", "worker"]);
    assert_eq!(up.code, 1, "{}", up.all());
    assert_no_secret(&up);
    let err = &up.stderr;
    let migrate = s.container("migrate");
    assert!(
        err.contains(&format!(
            "error: service \"migrate\": {migrate} exited with code 1"
        )),
        "{err}"
    );
    assert!(
        err.contains("migrate: login <redacted:DB_PASSWORD> token <redacted:API_TOKEN>"),
        "{err}"
    );
    assert!(
        err.contains("postgres://app:<redacted:secrets.db_secret>@db/x <redacted:LISTEN_SPEC>"),
        "{err}"
    );

    // The plan of what is there now.
    let plan = s.aistack(&["up", "--dry-run"]).ok();
    assert_no_secret(&plan);
    s.aistack(&["down", "--progress", "quiet"]).ok();

    // `aistack test`: the report of unready services before the teardown.
    let test = s.aistack(&[
        "test",
        "--no-isolate",
        "--progress",
        "quiet",
        "--",
        "echo",
        "never",
    ]);
    assert_eq!(test.code, 1, "{}", test.all());
    assert_no_secret(&test);
    assert!(
        test.stderr.contains("test: service \"db\" is not healthy"),
        "{}",
        test.all()
    );
    assert!(
        test.stderr.contains("<redacted:API_TOKEN>"),
        "{}",
        test.all()
    );
    s.assert_nothing_left();

    // A load error that would quote a value interpolated from `.env`.
    s.edit(
        "      db: {condition: service_healthy}\n",
        "      db: {condition: service_healthy}\n    ports: [\"${LISTEN_SPEC}:80\"]\n",
    );
    let bad = s.aistack(&["up", "--dry-run"]);
    assert_eq!(bad.code, 3, "{}", bad.all());
    assert_no_secret(&bad);
    assert!(
        bad.stderr
            .contains("service \"app\": invalid port \"<redacted:LISTEN_SPEC>:80\""),
        "{}",
        bad.all()
    );
    s.assert_nothing_left();
}
