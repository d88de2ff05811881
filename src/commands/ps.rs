//! `aistack ps`: the project's containers, found by label.

use anyhow::Result;

use crate::cli::{ProjectArgs, PsArgs, PsFormat};
use crate::engine::Engine;
use crate::engine::types::{ContainerState, HealthState, ObservedContainer};
use crate::plan::{labels, observed};

pub fn run(p: &ProjectArgs, args: PsArgs) -> Result<()> {
    let name = super::project_name(p)?;
    super::engine::runtime()?.block_on(async move {
        let engine = super::engine::connect().await?;
        // A stack deployed with `aistack deploy`: its Swarm tasks.
        if super::deploy::ps_if_deployed(&engine, &name, &args).await? {
            return Ok(());
        }
        let mut cs = engine
            .list_containers(&[(labels::PROJECT, name.as_str())], args.all)
            .await?;
        cs.retain(|c| !observed::is_oneoff(c));
        cs.sort_by(|a, b| a.name.cmp(&b.name));
        print!("{}", render(&cs, &args));
        Ok(())
    })
}

fn service(c: &ObservedContainer) -> &str {
    c.labels
        .get(labels::SERVICE)
        .map(String::as_str)
        .unwrap_or("")
}

pub fn status(c: &ObservedContainer) -> String {
    let base = match c.state {
        ContainerState::Running => "running".to_string(),
        ContainerState::Exited => format!("exited ({})", c.exit_code),
        other => format!("{other:?}").to_lowercase(),
    };
    match c.health {
        Some(HealthState::Healthy) => format!("{base} (healthy)"),
        Some(HealthState::Unhealthy) => format!("{base} (unhealthy)"),
        Some(HealthState::Starting) => format!("{base} (health: starting)"),
        None => base,
    }
}

fn ports(c: &ObservedContainer) -> String {
    c.ports
        .iter()
        .map(|p| {
            format!(
                "{}:{}->{}/{}",
                if p.host_ip.is_empty() {
                    "0.0.0.0"
                } else {
                    &p.host_ip
                },
                p.host_port,
                p.container_port,
                p.protocol
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(cs: &[ObservedContainer], args: &PsArgs) -> String {
    if args.quiet {
        return cs.iter().map(|c| format!("{}\n", c.id)).collect();
    }
    if args.services {
        let mut s: Vec<&str> = cs.iter().map(service).collect();
        s.dedup();
        return s.iter().map(|s| format!("{s}\n")).collect();
    }
    match args.format {
        PsFormat::Json => {
            let v: Vec<serde_json::Value> = cs
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "ID": c.id, "Name": c.name, "Service": service(c), "Image": c.image,
                        "State": format!("{:?}", c.state).to_lowercase(), "Status": status(c),
                        "ExitCode": c.exit_code, "Health": c.health.map(|h| format!("{h:?}").to_lowercase()),
                        "Publishers": c.ports.iter().map(|p| serde_json::json!({
                            "URL": p.host_ip, "TargetPort": p.container_port, "PublishedPort": p.host_port, "Protocol": p.protocol
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_string(&v).unwrap_or_default() + "\n"
        }
        PsFormat::Table => {
            let rows: Vec<[String; 5]> = cs
                .iter()
                .map(|c| {
                    [
                        c.name.clone(),
                        c.image.clone(),
                        service(c).to_string(),
                        status(c),
                        ports(c),
                    ]
                })
                .collect();
            let head = ["NAME", "IMAGE", "SERVICE", "STATUS", "PORTS"];
            let mut w = head.map(str::len);
            for r in &rows {
                for (i, cell) in r.iter().enumerate() {
                    w[i] = w[i].max(cell.len());
                }
            }
            let fmt = |cells: [&str; 5]| -> String {
                let mut line = String::new();
                for (i, c) in cells.iter().enumerate() {
                    if i == 4 {
                        line.push_str(c);
                    } else {
                        line.push_str(&format!("{c:<width$}   ", width = w[i]));
                    }
                }
                line.trim_end().to_string() + "\n"
            };
            let mut out = fmt(head);
            for r in &rows {
                out.push_str(&fmt([&r[0], &r[1], &r[2], &r[3], &r[4]]));
            }
            out
        }
    }
}
