//! What the user reads about a Swarm deployment: findings (what Swarm cannot
//! honour, with the fix), a failed deploy with its tasks' states, errors,
//! exit codes and last output, and `ps` of a deployed stack (table or JSON).
//! Secret values are masked like everywhere else (`redact`).

use std::fmt::Write;

use crate::apply::swarm::{ServiceReport, SwarmFailure};
use crate::cli::PsFormat;
use crate::plan::swarm::{Finding, Severity};

/// Errors first, then warnings, one block each.
pub fn findings(list: &[Finding]) -> String {
    let mut out = String::new();
    for f in list {
        let _ = writeln!(out, "{f}");
    }
    super::redact::text(&out).into_owned()
}

pub fn count(list: &[Finding], severity: Severity) -> usize {
    list.iter().filter(|f| f.severity == severity).count()
}

/// The recent tasks of a service, indented under the line that introduced it.
pub fn service_report(r: &ServiceReport) -> String {
    let mut out = String::new();
    if r.tasks.is_empty() {
        let _ = writeln!(out, "  service {}: no task yet", r.service);
    }
    for t in &r.tasks {
        let _ = write!(
            out,
            "  task {}: {} (desired {})",
            t.name, t.state, t.desired_state
        );
        if let Some(code) = t.exit_code.filter(|c| *c != 0) {
            let _ = write!(out, ", exit code {code}");
        }
        if let Some(c) = &t.container {
            let _ = write!(out, ", container {c}");
        }
        let _ = writeln!(out);
        if !t.error.is_empty() {
            let _ = writeln!(out, "    error: {}", t.error);
        } else if !t.message.is_empty() && t.message != t.state {
            let _ = writeln!(out, "    message: {}", t.message);
        }
        if !t.logs.is_empty() {
            let _ = writeln!(out, "    last log lines:");
            for l in &t.logs {
                let _ = writeln!(out, "      {l}");
            }
        }
    }
    match super::redact::text(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(masked) => format!(
            "{masked}  (secret values redacted; `docker service logs {}` shows the tasks' own output)\n",
            r.service
        ),
    }
}

pub fn failure(f: &SwarmFailure) -> String {
    let mut out = String::from("error: ");
    if let Some(s) = &f.service {
        let _ = write!(out, "service \"{s}\": ");
    }
    let _ = writeln!(out, "{} ({})", f.message, f.step);
    let mut out = super::redact::text(&out).into_owned();
    if let Some(d) = &f.diagnosis {
        out.push_str(&service_report(d));
    }
    out
}

/// One row of `ps` for a deployed stack: a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: String,
    /// `<stack>_<service>.<slot>`.
    pub name: String,
    pub image: String,
    /// The compose service.
    pub service: String,
    pub state: String,
    pub desired_state: String,
    pub error: String,
    pub exit_code: Option<i64>,
    /// "0.0.0.0:32771->8080/tcp" (host mode) or "*:30001->80/tcp" (routing mesh).
    pub ports: Vec<String>,
}

fn status(r: &TaskRow) -> String {
    let mut s = r.state.clone();
    if let Some(code) = r.exit_code.filter(|c| *c != 0 && r.state != "running") {
        s.push_str(&format!(" ({code})"));
    }
    if r.desired_state != r.state && !(r.state == "complete" && r.desired_state == "shutdown") {
        s.push_str(&format!(", desired {}", r.desired_state));
    }
    if !r.error.is_empty() {
        s.push_str(&format!(": {}", r.error));
    }
    s
}

pub fn tasks(rows: &[TaskRow], format: PsFormat, quiet: bool, services: bool) -> String {
    if quiet {
        return rows.iter().map(|r| format!("{}\n", r.id)).collect();
    }
    if services {
        let mut s: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
        s.dedup();
        return s.iter().map(|s| format!("{s}\n")).collect();
    }
    let out = match format {
        PsFormat::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "ID": r.id, "Name": r.name, "Service": r.service, "Image": r.image,
                        "State": r.state, "DesiredState": r.desired_state, "Status": status(r),
                        "ExitCode": r.exit_code, "Error": r.error, "Ports": r.ports,
                    })
                })
                .collect();
            serde_json::to_string(&v).unwrap_or_default() + "\n"
        }
        PsFormat::Table => {
            let cells: Vec<[String; 5]> = rows
                .iter()
                .map(|r| {
                    [
                        r.name.clone(),
                        r.image.clone(),
                        r.service.clone(),
                        status(r),
                        r.ports.join(", "),
                    ]
                })
                .collect();
            let head = ["NAME", "IMAGE", "SERVICE", "STATUS", "PORTS"].map(String::from);
            let mut w = [0usize; 5];
            for row in std::iter::once(&head).chain(&cells) {
                for (i, c) in row.iter().enumerate() {
                    w[i] = w[i].max(c.chars().count());
                }
            }
            let mut out = String::new();
            for row in std::iter::once(&head).chain(&cells) {
                let mut line = String::new();
                for (i, c) in row.iter().enumerate() {
                    if i == 4 {
                        line.push_str(c);
                    } else {
                        let _ = write!(line, "{c:<width$}   ", width = w[i]);
                    }
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out
        }
    };
    super::redact::text(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::swarm::TaskReport;

    #[test]
    fn a_failed_task_shows_state_exit_code_error_and_output() {
        let f = SwarmFailure {
            step: "wait:migrate:completed".into(),
            service: Some("migrate".into()),
            message: "demo_migrate (migrate): task demo_migrate.1 failed with exit code 3".into(),
            timed_out: false,
            diagnosis: Some(ServiceReport {
                service: "demo_migrate".into(),
                tasks: vec![TaskReport {
                    name: "demo_migrate.1".into(),
                    state: "failed".into(),
                    desired_state: "shutdown".into(),
                    error: "task: non-zero exit (3)".into(),
                    message: "started".into(),
                    exit_code: Some(3),
                    container: Some("0123456789ab".into()),
                    logs: vec!["migration failed: boom".into()],
                }],
            }),
        };
        let text = failure(&f);
        assert_eq!(
            text,
            "\
error: service \"migrate\": demo_migrate (migrate): task demo_migrate.1 failed with exit code 3 (wait:migrate:completed)
  task demo_migrate.1: failed (desired shutdown), exit code 3, container 0123456789ab
    error: task: non-zero exit (3)
    last log lines:
      migration failed: boom
"
        );
    }

    #[test]
    fn ps_rows_show_state_and_ports_in_columns() {
        let rows = vec![TaskRow {
            id: "t1".into(),
            name: "demo_proxy.1".into(),
            image: "proxy:1".into(),
            service: "proxy".into(),
            state: "running".into(),
            desired_state: "running".into(),
            error: String::new(),
            exit_code: None,
            ports: vec!["0.0.0.0:32771->8080/tcp".into()],
        }];
        let t = tasks(&rows, PsFormat::Table, false, false);
        assert_eq!(
            t,
            "NAME           IMAGE     SERVICE   STATUS    PORTS\ndemo_proxy.1   proxy:1   proxy     running   0.0.0.0:32771->8080/tcp\n"
        );
        let j: serde_json::Value =
            serde_json::from_str(&tasks(&rows, PsFormat::Json, false, false)).unwrap();
        assert_eq!(j[0]["Service"], "proxy");
        assert_eq!(tasks(&rows, PsFormat::Table, true, false), "t1\n");
    }
}
