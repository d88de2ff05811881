//! One snapshot of a stack on the Swarm: what carries its stack label, plus
//! the networks and objects the project names as external (looked up by
//! exact name, never by a name filter, G13).

use crate::engine::Result;
use crate::engine::swarm::{ObjectKind, SwarmEngine};
use crate::engine::types::ObservedVolume;
use crate::plan::swarm::{Deployment, Observed, labels};

/// For `deploy`: the stack's services, networks and objects, and the external ones.
pub async fn for_deploy<E: SwarmEngine>(engine: &E, d: &Deployment) -> Result<Observed> {
    let filter = labels::stack_filter(&d.stack);
    let mut o = Observed {
        services: engine.list_services(&filter).await?,
        networks: engine.list_swarm_networks(&filter).await?,
        objects: Vec::new(),
    };
    if d.networks.iter().any(|n| n.external) {
        for n in engine.list_swarm_networks(&[]).await? {
            let wanted = d
                .networks
                .iter()
                .any(|p| p.external && p.spec.name == n.name);
            if wanted && !o.networks.iter().any(|x| x.id == n.id) {
                o.networks.push(n);
            }
        }
    }
    for kind in [ObjectKind::Secret, ObjectKind::Config] {
        let external = d.objects.iter().any(|p| p.kind == kind && p.external);
        let list = if external {
            engine.list_objects(kind, &[]).await?
        } else {
            engine.list_objects(kind, &filter).await?
        };
        o.objects.extend(list.into_iter().map(|x| (kind, x)));
    }
    Ok(o)
}

/// For `down`: everything with the stack label, and its volumes when asked.
pub async fn for_down<E: SwarmEngine>(
    engine: &E,
    stack: &str,
    volumes: bool,
) -> Result<(Observed, Vec<ObservedVolume>)> {
    let filter = labels::stack_filter(stack);
    let mut o = Observed {
        services: engine.list_services(&filter).await?,
        networks: engine.list_swarm_networks(&filter).await?,
        objects: Vec::new(),
    };
    for kind in [ObjectKind::Secret, ObjectKind::Config] {
        o.objects.extend(
            engine
                .list_objects(kind, &filter)
                .await?
                .into_iter()
                .map(|x| (kind, x)),
        );
    }
    let vols = if volumes {
        engine.list_local_volumes(&filter).await?
    } else {
        Vec::new()
    };
    Ok((o, vols))
}

/// Is anything of this stack deployed on the engine's Swarm? False (not an
/// error) when the engine is in no Swarm or is not a manager.
pub async fn deployed<E: SwarmEngine>(engine: &E, stack: &str) -> Result<bool> {
    if !engine.is_swarm_manager().await? {
        return Ok(false);
    }
    let filter = labels::stack_filter(stack);
    Ok(!engine.list_services(&filter).await?.is_empty()
        || !engine.list_swarm_networks(&filter).await?.is_empty()
        || !engine
            .list_objects(ObjectKind::Secret, &filter)
            .await?
            .is_empty()
        || !engine
            .list_objects(ObjectKind::Config, &filter)
            .await?
            .is_empty())
}
