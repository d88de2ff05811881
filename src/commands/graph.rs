//! `aistack graph`: who waits for whom, on which condition, and which networks
//! each service is on; as text, Graphviz dot, or Mermaid.

use anyhow::Result;

use crate::cli::{GraphArgs, GraphFormat, ProjectArgs};
use crate::compose::graph::Graph;
use crate::compose::model::{Condition, Project};

pub fn run(p: &ProjectArgs, args: GraphArgs) -> Result<()> {
    let opts = super::load_options(p)?;
    let loaded = super::load(&opts)?;
    let out = match args.format {
        GraphFormat::Text => text(&loaded.project),
        GraphFormat::Dot => dot(&loaded.project),
        GraphFormat::Mermaid => mermaid(&loaded.project),
    };
    print!("{out}");
    Ok(())
}

fn short(c: Condition) -> &'static str {
    match c {
        Condition::ServiceStarted => "started",
        Condition::ServiceHealthy => "healthy",
        Condition::ServiceCompletedSuccessfully => "completed",
    }
}

fn placement(project: &Project, name: &str) -> String {
    let svc = &project.services[name];
    if !svc.network_mode.is_empty() {
        return format!("network_mode: {}", svc.network_mode);
    }
    let nets: Vec<&str> = svc.networks.keys().map(String::as_str).collect();
    format!("networks: {}", nets.join(", "))
}

fn levels(project: &Project) -> Vec<Vec<String>> {
    let mut g = Graph::new();
    for (name, svc) in &project.services {
        g.add_node(name);
        for dep in svc.depends_on.keys() {
            g.add_edge(name, dep);
        }
    }
    // The loader already rejected cycles.
    g.levels().unwrap_or_default()
}

pub fn text(project: &Project) -> String {
    let mut out = String::new();
    let width = project.services.keys().map(|s| s.len()).max().unwrap_or(0);
    for (i, level) in levels(project).iter().enumerate() {
        out.push_str(&format!("level {i}\n"));
        for name in level {
            let svc = &project.services[name];
            out.push_str(&format!("  {name:width$}  {}\n", placement(project, name)));
            for (dep, d) in &svc.depends_on {
                let mut cond = short(d.condition).to_string();
                if !d.required {
                    cond.push_str(", optional");
                }
                if d.restart {
                    cond.push_str(", restarts with it");
                }
                out.push_str(&format!("  {:width$}    waits for {dep} ({cond})\n", ""));
            }
        }
    }
    out
}

fn id(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

pub fn dot(project: &Project) -> String {
    let mut out = String::from("digraph stack {\n  rankdir=BT;\n  node [shape=box];\n");
    for name in project.services.keys() {
        out.push_str(&format!(
            "  {} [label=\"{}\\n{}\"];\n",
            id(name),
            name,
            placement(project, name).replace('"', "\\\"")
        ));
    }
    for (name, svc) in &project.services {
        for (dep, d) in &svc.depends_on {
            let style = if d.required { "" } else { ", style=dashed" };
            out.push_str(&format!(
                "  {} -> {} [label=\"{}\"{style}];\n",
                id(name),
                id(dep),
                short(d.condition)
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn mermaid(project: &Project) -> String {
    let mut out = String::from("graph BT\n");
    for name in project.services.keys() {
        out.push_str(&format!(
            "  {}[\"{}<br/>{}\"]\n",
            mermaid_id(name),
            name,
            placement(project, name).replace('"', "'")
        ));
    }
    for (name, svc) in &project.services {
        for (dep, d) in &svc.depends_on {
            let arrow = if d.required { "-->" } else { "-.->" };
            out.push_str(&format!(
                "  {} {arrow}|{}| {}\n",
                mermaid_id(name),
                short(d.condition),
                mermaid_id(dep)
            ));
        }
    }
    out
}
