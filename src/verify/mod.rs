//! `aistack verify`, the pure part: from the compose files and one snapshot
//! of the engine (containers, their networks and addresses, the networks'
//! `internal` flags), which service should reach which, by which names and
//! on which ports; what to ask each source's probe; and, given the probes'
//! answers, the matrix of expected against observed with every difference
//! named (a leak: reachable but should not be; a break: should be reachable
//! but is not). Also the egress report, computed, never probed.
//!
//! Must not: talk to the engine, run the probes or print (the command and
//! `report::verify` do); no tokio, no bollard.

pub mod compare;
pub mod egress;
pub mod topology;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use compare::{compare, requests};
pub use egress::egress;
pub use topology::{Topology, topology};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Leak,
    Break,
    NotProbed,
}

/// What one service reaches of another, by names and ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// They share a network (expected), or anything of the target was
    /// reached at all (observed).
    pub reachable: bool,
    /// Names that resolve to the target.
    pub names: Vec<String>,
    /// Declared TCP ports that accept a connection on at least one address.
    pub ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub from: String,
    pub to: String,
    pub verdict: Verdict,
    /// Why the cell was not probed, or what was not (names behind a foreign resolver).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub expected: Reach,
    pub observed: Reach,
    /// Declared ports that are not TCP ("5353/udp"): not probed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_probed_ports: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Leak,
    Break,
}

/// One check whose observation differs from the expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub from: String,
    pub to: String,
    pub kind: Kind,
    /// The name looked up (a name check) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ... or the port connected to, at `address` on `network`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The sentence the text output prints.
    pub message: String,
}

/// A service whose row and column were not probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub service: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressRow {
    pub service: String,
    /// From the compose files: some network of its namespace is not internal.
    pub expected: Option<bool>,
    /// From the engine: the networks it is attached to and their flags.
    pub observed: Option<bool>,
    pub verdict: Verdict,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub project: String,
    /// Rows and columns, in order.
    pub services: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Every ordered pair of distinct services.
    pub cells: Vec<Cell>,
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<EgressRow>>,
    pub leaks: usize,
    pub breaks: usize,
}

impl Report {
    /// Whether anything differs from the expectation (exit code 5).
    pub fn has_findings(&self) -> bool {
        self.leaks + self.breaks > 0
    }

    /// Adds the egress rows; their differences count as findings too.
    pub fn add_egress(&mut self, rows: Vec<EgressRow>) {
        self.leaks += rows.iter().filter(|r| r.verdict == Verdict::Leak).count();
        self.breaks += rows.iter().filter(|r| r.verdict == Verdict::Break).count();
        self.egress = Some(rows);
    }

    pub fn cell(&self, from: &str, to: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.from == from && c.to == to)
    }
}
