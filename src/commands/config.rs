//! `aistack config`: the normalized project (YAML or JSON, shaped like
//! `docker compose config`), or one of its lists.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{ConfigArgs, ConfigFormat, ProjectArgs};
use crate::compose::graph::Graph;
use crate::compose::{Project, load::with_dependencies, read};

pub fn run(p: &ProjectArgs, args: ConfigArgs) -> Result<()> {
    let mut opts = super::load_options(p)?;
    opts.interpolate = !args.no_interpolate;
    opts.services = args.service_names.clone();
    if args.variables {
        return super::variables::print(&opts);
    }
    let loaded = super::load(&opts)?;
    let mut project = loaded.project;
    if !args.service_names.is_empty() {
        let keep = with_dependencies(&project, &args.service_names);
        if let Some(missing) = args
            .service_names
            .iter()
            .find(|s| !project.services.contains_key(*s))
        {
            anyhow::bail!(crate::exit::ExitError::new(
                crate::exit::Exit::InvalidProject,
                format!("no such service: {missing}")
            ));
        }
        project.services.retain(|k, _| keep.contains(k));
    }
    if args.quiet {
        return Ok(());
    }
    let text = render(&project, &args)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

fn render(project: &Project, args: &ConfigArgs) -> Result<String> {
    let lines = |items: Vec<String>| -> String { items.into_iter().map(|s| s + "\n").collect() };
    if args.services {
        return Ok(lines(start_order(project)));
    }
    if args.networks {
        return Ok(lines(project.networks.keys().cloned().collect()));
    }
    if args.volumes {
        return Ok(lines(project.volumes.keys().cloned().collect()));
    }
    if args.profiles {
        let mut all: BTreeSet<String> = BTreeSet::new();
        for s in project.services.values() {
            all.extend(s.profiles.iter().cloned());
        }
        for profiles in project.meta.disabled_services.values() {
            all.extend(profiles.iter().cloned());
        }
        return Ok(lines(all.into_iter().collect()));
    }
    if args.images {
        return Ok(lines(
            project
                .services
                .iter()
                .map(|(n, s)| s.image_name(&project.name, n))
                .collect(),
        ));
    }
    let mut value = project.to_json();
    if !args.no_interpolate {
        // Compose escapes every `$` of an interpolated project, so its output
        // can be loaded again without a second round of interpolation.
        escape_dollars(&mut value);
    }
    match args.format {
        ConfigFormat::Json => Ok(serde_json::to_string_pretty(&value)? + "\n"),
        ConfigFormat::Yaml => {
            yaml_omissions(&mut value);
            read::to_yaml(&value).map_err(|e| anyhow::anyhow!("rendering YAML: {e}"))
        }
    }
}

fn escape_dollars(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(escape_dollars),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                escape_dollars(&mut v);
                map.insert(k.replace('$', "$$"), v);
            }
        }
        _ => {}
    }
}

/// Compose's YAML output omits what its JSON output spells out: null
/// `command`/`entrypoint` and an empty `ipam`.
fn yaml_omissions(value: &mut serde_json::Value) {
    use serde_json::Value;
    if let Some(Value::Object(services)) = value.get_mut("services") {
        for svc in services.values_mut() {
            if let Value::Object(s) = svc {
                s.retain(|k, v| !((k == "command" || k == "entrypoint") && v.is_null()));
            }
        }
    }
    if let Some(Value::Object(networks)) = value.get_mut("networks") {
        for net in networks.values_mut() {
            if let Value::Object(n) = net {
                n.retain(|k, v| !(k == "ipam" && v.as_object().is_some_and(|o| o.is_empty())));
            }
        }
    }
}

/// Services in dependency order (dependencies first, ties by name), as
/// `docker compose config --services` prints them.
pub fn start_order(project: &Project) -> Vec<String> {
    let mut g = Graph::new();
    for (name, svc) in &project.services {
        g.add_node(name);
        for dep in svc.depends_on.keys() {
            g.add_edge(name, dep);
        }
    }
    match g.levels() {
        Ok(levels) => levels.into_iter().flatten().collect(),
        Err(_) => project.services.keys().cloned().collect(),
    }
}
