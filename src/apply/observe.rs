//! Taking the one snapshot a plan is built from: the project's labelled
//! networks, volumes and containers, the external networks and volumes it
//! names, and which of its images exist. Only engine reads; no decisions.

use crate::compose::model::Project;
use crate::engine::{Engine, Result};
use crate::plan::{Observed, labels};

pub async fn project<E: Engine>(engine: &E, project: &Project) -> Result<Observed> {
    let mut o = by_name(engine, &project.name).await?;
    // External resources carry no project label: look them up by exact name.
    let externals: Vec<&str> = project
        .networks
        .values()
        .filter(|n| n.external)
        .map(|n| n.name.as_str())
        .collect();
    if !externals.is_empty() {
        for n in engine.list_networks(&[]).await? {
            if externals.contains(&n.name.as_str()) && !o.networks.iter().any(|m| m.id == n.id) {
                o.networks.push(n);
            }
        }
    }
    let ext_vols: Vec<&str> = project
        .volumes
        .values()
        .filter(|v| v.external)
        .map(|v| v.name.as_str())
        .collect();
    if !ext_vols.is_empty() {
        for v in engine.list_volumes(&[]).await? {
            if ext_vols.contains(&v.name.as_str()) && !o.volumes.iter().any(|m| m.name == v.name) {
                o.volumes.push(v);
            }
        }
    }
    for (name, svc) in &project.services {
        let image = svc.image_name(&project.name, name);
        if o.images.contains(&image) {
            continue;
        }
        if let Some(id) = engine.image_id(&image).await? {
            o.images.insert(image.clone());
            o.image_ids.insert(image, id);
        }
    }
    Ok(o)
}

/// What `down` needs: everything labelled with the project, containers from
/// the list alone (state, networks and volumes; no per-container inspect).
pub async fn for_down<E: Engine>(engine: &E, name: &str) -> Result<Observed> {
    let filter = [(labels::PROJECT, name)];
    Ok(Observed {
        networks: engine.list_networks(&filter).await?,
        volumes: engine.list_volumes(&filter).await?,
        containers: engine.list_containers_brief(&filter, true).await?,
        ..Default::default()
    })
}

/// Everything labelled with the project name (for `down -p NAME`, `ps`).
pub async fn by_name<E: Engine>(engine: &E, name: &str) -> Result<Observed> {
    let filter = [(labels::PROJECT, name)];
    Ok(Observed {
        networks: engine.list_networks(&filter).await?,
        volumes: engine.list_volumes(&filter).await?,
        containers: engine.list_containers(&filter, true).await?,
        images: Default::default(),
        image_ids: Default::default(),
    })
}
