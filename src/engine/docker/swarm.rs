//! `SwarmEngine` on bollard: the Swarm calls of `aistack deploy` against a
//! real manager. A child of `docker` so it shares the connection, the
//! per-call timeouts and the error classification (G14).
//!
//! Owns: one bollard call per method, label filters only (G13). Must not:
//! decide or wait (see `engine/swarm/mod.rs`).

use std::collections::HashMap;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::{
    ListConfigsOptions, ListSecretsOptions, ListServicesOptions, ListTasksOptions, LogsOptions,
    UpdateServiceOptions,
};
use futures_util::StreamExt;

use super::DockerEngine;
use crate::engine::lines::LineSplitter;
use crate::engine::swarm::{SwarmEngine, convert, types::*};
use crate::engine::types::{LogStream, NetworkSpec, ObservedNetwork, ObservedVolume};
use crate::engine::{Engine, EngineError, Result, convert as engine_convert};

/// How long `task_logs` collects output before giving up on the rest.
const LOGS_TIMEOUT: Duration = Duration::from_secs(5);

fn gone_is_ok(r: Result<()>) -> Result<()> {
    match r {
        Err(EngineError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

impl SwarmEngine for DockerEngine {
    async fn swarm_status(&self) -> Result<SwarmStatus> {
        let info = self.call("info", self.docker.info()).await?;
        Ok(convert::swarm_status(&info))
    }

    async fn is_swarm_manager(&self) -> Result<bool> {
        match self
            .call("inspect swarm", self.docker.inspect_swarm())
            .await
        {
            Ok(_) => Ok(true),
            Err(EngineError::Api { status: 503, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn list_services(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedService>> {
        let opts = ListServicesOptions {
            filters: Some(engine_convert::label_filters(labels)),
            ..Default::default()
        };
        let list = self
            .call("list services", self.docker.list_services(Some(opts)))
            .await?;
        let mut out: Vec<_> = list.into_iter().map(convert::observed_service).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn create_service(&self, spec: &ServiceSpec) -> Result<String> {
        let what = format!("create service {}", spec.name);
        let body = convert::service_spec(spec)?;
        let resp = self
            .call(&what, self.docker.create_service(body, None))
            .await?;
        for w in resp.warnings.unwrap_or_default() {
            tracing::warn!("{what}: {w}");
        }
        resp.id
            .ok_or_else(|| EngineError::Other(format!("{what}: no ID in the answer")))
    }

    async fn update_service(&self, id: &str, version: u64, spec: &ServiceSpec) -> Result<()> {
        let what = format!("update service {}", spec.name);
        let body = convert::service_spec(spec)?;
        let opts = UpdateServiceOptions {
            version: i32::try_from(version).unwrap_or(i32::MAX),
            ..Default::default()
        };
        let resp = self
            .call(&what, self.docker.update_service(id, body, opts, None))
            .await?;
        for w in resp.warnings.unwrap_or_default() {
            tracing::warn!("{what}: {w}");
        }
        Ok(())
    }

    async fn remove_service(&self, id: &str) -> Result<()> {
        let what = format!("remove service {id}");
        gone_is_ok(self.call(&what, self.docker.delete_service(id)).await)
    }

    async fn inspect_service(&self, id: &str) -> Result<ObservedService> {
        let what = format!("inspect service {id}");
        let s = self
            .call(&what, self.docker.inspect_service(id, None))
            .await?;
        Ok(convert::observed_service(s))
    }

    async fn list_tasks(&self, service_id: &str) -> Result<Vec<ObservedTask>> {
        let mut filters = HashMap::new();
        filters.insert("service".to_string(), vec![service_id.to_string()]);
        let opts = ListTasksOptions {
            filters: Some(filters),
        };
        let what = format!("list tasks of service {service_id}");
        let list = self.call(&what, self.docker.list_tasks(Some(opts))).await?;
        // The service filter also matches by name prefix: keep exact IDs only.
        Ok(list
            .into_iter()
            .map(convert::observed_task)
            .filter(|t| t.service_id == service_id)
            .collect())
    }

    async fn task_logs(&self, task_id: &str, tail: usize) -> Result<Vec<String>> {
        let opts = LogsOptions {
            stdout: true,
            stderr: true,
            tail: tail.to_string(),
            ..Default::default()
        };
        let what = format!("logs of task {task_id}");
        let frames = self.docker.task_logs(task_id, Some(opts));
        let collected = tokio::time::timeout(LOGS_TIMEOUT, frames.collect::<Vec<_>>()).await;
        let Ok(frames) = collected else {
            return Err(EngineError::Timeout {
                what,
                after: LOGS_TIMEOUT,
            });
        };
        let mut lines = LineSplitter::new(false);
        let mut out = Vec::new();
        for f in frames {
            let (stream, bytes) = match f.map_err(|e| self.classify(e, &what))? {
                LogOutput::StdErr { message } => (LogStream::Stderr, message),
                LogOutput::StdOut { message } => (LogStream::Stdout, message),
                LogOutput::Console { message } => (LogStream::Console, message),
                LogOutput::StdIn { .. } => continue,
            };
            out.extend(lines.push(stream, &bytes));
        }
        out.extend(lines.finish());
        Ok(out
            .into_iter()
            .map(|l| match l.stream {
                LogStream::Stderr => format!("stderr: {}", l.text),
                _ => l.text,
            })
            .collect())
    }

    async fn list_swarm_networks(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedNetwork>> {
        Engine::list_networks(self, labels).await
    }

    async fn create_swarm_network(&self, spec: &NetworkSpec) -> Result<String> {
        Engine::create_network(self, spec).await
    }

    async fn remove_swarm_network(&self, id: &str) -> Result<()> {
        Engine::remove_network(self, id).await
    }

    async fn list_objects(
        &self,
        kind: ObjectKind,
        labels: &[(&str, &str)],
    ) -> Result<Vec<ObservedObject>> {
        let filters = Some(engine_convert::label_filters(labels));
        let mut out: Vec<ObservedObject> = match kind {
            ObjectKind::Secret => self
                .call(
                    "list secrets",
                    self.docker
                        .list_secrets(Some(ListSecretsOptions { filters })),
                )
                .await?
                .into_iter()
                .map(convert::observed_secret)
                .collect(),
            ObjectKind::Config => self
                .call(
                    "list configs",
                    self.docker
                        .list_configs(Some(ListConfigsOptions { filters })),
                )
                .await?
                .into_iter()
                .map(convert::observed_config)
                .collect(),
        };
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn create_object(&self, spec: &ObjectSpec) -> Result<String> {
        let what = format!("create {} {}", spec.kind.word(), spec.name);
        let resp = match spec.kind {
            ObjectKind::Secret => {
                self.call(&what, self.docker.create_secret(convert::secret_spec(spec)))
                    .await?
            }
            ObjectKind::Config => {
                self.call(&what, self.docker.create_config(convert::config_spec(spec)))
                    .await?
            }
        };
        Ok(resp.id)
    }

    async fn remove_object(&self, kind: ObjectKind, id: &str) -> Result<()> {
        let what = format!("remove {} {id}", kind.word());
        let r = match kind {
            ObjectKind::Secret => self.call(&what, self.docker.delete_secret(id)).await,
            ObjectKind::Config => self.call(&what, self.docker.delete_config(id)).await,
        };
        gone_is_ok(r)
    }

    async fn list_local_containers(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        let list = Engine::list_containers_brief(self, labels, true).await?;
        Ok(list.into_iter().map(|c| c.name).collect())
    }

    async fn list_local_volumes(&self, labels: &[(&str, &str)]) -> Result<Vec<ObservedVolume>> {
        Engine::list_volumes(self, labels).await
    }

    async fn remove_local_volume(&self, name: &str) -> Result<()> {
        Engine::remove_volume(self, name, false).await
    }
}
