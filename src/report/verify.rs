//! The text of `aistack verify`: the matrix (rows: from, columns: to), a
//! legend, what was not probed and why, every difference in words, and
//! with `--egress` the egress table.
//!
//! Owns: layout only. Must not: judge anything (the verdicts come in).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::verify::{Cell, Kind, Report, Verdict};

const LEGEND: &str = "\
legend: ok P   reachable as the compose files say (P: declared TCP ports that accepted a connection)
        -      not reachable, as expected (shares no network)
        LEAK   reachable but should not be        BREAK  should be reachable but is not
        dns    by name resolution only (no port)  n/p    not probed (see below)
";

fn items(report: &Report, cell: &Cell, kind: Kind) -> String {
    let diffs: Vec<_> = report
        .differences
        .iter()
        .filter(|d| d.from == cell.from && d.to == cell.to && d.kind == kind)
        .collect();
    let ports: BTreeSet<u16> = diffs.iter().filter_map(|d| d.port).collect();
    if ports.is_empty() {
        return "dns".into();
    }
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The short text of one cell.
pub fn cell_text(report: &Report, cell: &Cell) -> String {
    let ports = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    match cell.verdict {
        Verdict::NotProbed => "n/p".into(),
        Verdict::Ok if cell.expected.reachable || !cell.expected.names.is_empty() => {
            if cell.observed.ports.is_empty() {
                "ok".into()
            } else {
                format!("ok {}", ports(&cell.observed.ports))
            }
        }
        Verdict::Ok => "-".into(),
        Verdict::Leak => {
            let leak = format!("LEAK {}", items(report, cell, Kind::Leak));
            let breaks = report
                .differences
                .iter()
                .any(|d| d.from == cell.from && d.to == cell.to && d.kind == Kind::Break);
            if breaks {
                format!("{leak} BREAK {}", items(report, cell, Kind::Break))
            } else {
                leak
            }
        }
        Verdict::Break => format!("BREAK {}", items(report, cell, Kind::Break)),
    }
}

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "verify: project {}, {} services, probed from inside each service's network namespace\n",
        report.project,
        report.services.len()
    );
    let corner = "from \\ to";
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec![corner.to_string()];
    head.extend(report.services.iter().cloned());
    rows.push(head);
    for from in &report.services {
        let mut row = vec![from.clone()];
        for to in &report.services {
            row.push(match report.cell(from, to) {
                Some(c) => cell_text(report, c),
                None => "·".into(),
            });
        }
        rows.push(row);
    }
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            line.push_str(cell);
            line.push_str(&" ".repeat(pad + 3));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    out.push_str(LEGEND);

    let mut notes: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.service, s.reason))
        .collect();
    let mut seen = BTreeSet::new();
    for c in &report.cells {
        if let Some(n) = &c.note
            && c.verdict != Verdict::NotProbed
            && seen.insert(n.clone())
        {
            notes.push(format!("from {}: {n}", c.from));
        }
        if c.verdict == Verdict::NotProbed
            && !report
                .skipped
                .iter()
                .any(|s| s.service == c.from || s.service == c.to)
            && let Some(n) = &c.note
            && seen.insert(n.clone())
        {
            notes.push(n.clone());
        }
    }
    let mut udp = BTreeSet::new();
    for c in &report.cells {
        for p in &c.not_probed_ports {
            udp.insert(format!("{} {p}", c.to));
        }
    }
    if !udp.is_empty() {
        notes.push(format!(
            "ports not probed (only TCP is): {}",
            udp.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !notes.is_empty() {
        out.push_str("\nnot probed:\n");
        for n in notes {
            let _ = writeln!(out, "  {n}");
        }
    }

    if !report.differences.is_empty() {
        out.push_str("\ndifferences:\n");
        for d in &report.differences {
            let tag = match d.kind {
                Kind::Leak => "LEAK ",
                Kind::Break => "BREAK",
            };
            let _ = writeln!(out, "  {tag} {}", d.message);
        }
    }

    if let Some(rows) = &report.egress {
        out.push_str("\negress (computed from the networks' settings, never probed):\n");
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        let w = rows.iter().map(|r| r.service.len()).max().unwrap_or(0);
        for r in rows {
            let mark = match r.verdict {
                Verdict::Ok => "",
                Verdict::Leak => "  LEAK: the compose files keep it inside",
                Verdict::Break => "  BREAK: the compose files let it out",
                Verdict::NotProbed => "  (unknown)",
            };
            let _ = writeln!(
                out,
                "  {:<w$}   {:<3}   {}{mark}",
                r.service,
                yes_no(r.observed.or(r.expected)),
                r.detail
            );
        }
    }

    let _ = if report.has_findings() {
        writeln!(
            out,
            "\nresult: {} leak(s), {} break(s)",
            report.leaks, report.breaks
        )
    } else {
        writeln!(out, "\nresult: no differences")
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Difference, Reach, Skipped};

    fn cell(from: &str, to: &str, verdict: Verdict, expected: Reach, observed: Reach) -> Cell {
        Cell {
            from: from.into(),
            to: to.into(),
            verdict,
            note: None,
            expected,
            observed,
            not_probed_ports: vec![],
        }
    }

    #[test]
    fn the_matrix_marks_leaks_and_lists_them_in_words() {
        let reach = |names: &[&str], ports: &[u16]| Reach {
            reachable: true,
            names: names.iter().map(|s| s.to_string()).collect(),
            ports: ports.to_vec(),
        };
        let report = Report {
            project: "demo".into(),
            services: vec!["job".into(), "proxy".into(), "redis".into()],
            skipped: vec![Skipped {
                service: "job".into(),
                reason: "a one-shot job (exited 0)".into(),
            }],
            cells: vec![
                cell("proxy", "redis", Verdict::Leak, Reach::default(), reach(&["redis"], &[6379])),
                cell("redis", "proxy", Verdict::Ok, Reach::default(), Reach::default()),
                cell("proxy", "job", Verdict::NotProbed, Reach::default(), Reach::default()),
            ],
            differences: vec![Difference {
                from: "proxy".into(),
                to: "redis".into(),
                kind: Kind::Leak,
                name: None,
                port: Some(6379),
                address: Some("10.0.0.3".into()),
                network: Some("ai".into()),
                message: "proxy reaches redis:6379 at 10.0.0.3 on ai but shares no network with it (leak)".into(),
            }],
            egress: None,
            leaks: 1,
            breaks: 0,
        };
        let text = text(&report);
        let row = text.lines().find(|l| l.starts_with("proxy")).unwrap();
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["proxy", "n/p", "·", "LEAK", "6379"]
        );
        let row = text.lines().find(|l| l.starts_with("redis")).unwrap();
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["redis", "·", "-", "·"]
        );
        assert!(
            text.contains("  job: a one-shot job (exited 0)\n"),
            "{text}"
        );
        assert!(
            text.contains("  LEAK  proxy reaches redis:6379 at 10.0.0.3 on ai"),
            "{text}"
        );
        assert!(text.ends_with("result: 1 leak(s), 0 break(s)\n"), "{text}");
    }
}
