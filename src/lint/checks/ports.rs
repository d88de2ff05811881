//! `db-port-published`: a database or cache (by image name or well-known
//! port) publishes a port on the host.

use std::collections::BTreeMap;

use crate::compose::model::Port;
use crate::compose::node::Span;

use super::{Context, Finding, Severity, on_service};

/// Image names (last path component, no tag) of databases, caches and vector stores.
const IMAGES: &[(&str, &str)] = &[
    ("postgres", "PostgreSQL"),
    ("postgresql", "PostgreSQL"),
    ("postgis", "PostgreSQL"),
    ("pgvector", "PostgreSQL"),
    ("timescaledb", "TimescaleDB"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("percona-server", "MySQL"),
    ("mongo", "MongoDB"),
    ("mongodb", "MongoDB"),
    ("mongodb-community-server", "MongoDB"),
    ("redis", "Redis"),
    ("redis-stack", "Redis"),
    ("redis-stack-server", "Redis"),
    ("valkey", "Valkey"),
    ("keydb", "KeyDB"),
    ("dragonfly", "Dragonfly"),
    ("memcached", "Memcached"),
    ("qdrant", "Qdrant"),
    ("milvus", "Milvus"),
    ("weaviate", "Weaviate"),
    ("chroma", "Chroma"),
    ("elasticsearch", "Elasticsearch"),
    ("opensearch", "OpenSearch"),
    ("cassandra", "Cassandra"),
    ("scylla", "ScyllaDB"),
    ("couchdb", "CouchDB"),
    ("neo4j", "Neo4j"),
    ("influxdb", "InfluxDB"),
    ("clickhouse-server", "ClickHouse"),
    ("cockroach", "CockroachDB"),
    ("etcd", "etcd"),
];

/// Container ports that belong to a database or cache whatever the image.
const PORTS: &[(u32, &str)] = &[
    (5432, "PostgreSQL"),
    (3306, "MySQL"),
    (33060, "MySQL"),
    (27017, "MongoDB"),
    (6379, "Redis"),
    (11211, "Memcached"),
    (6333, "Qdrant"),
    (6334, "Qdrant"),
    (19530, "Milvus"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch"),
    (9042, "Cassandra"),
    (5984, "CouchDB"),
    (7687, "Neo4j"),
    (8086, "InfluxDB"),
    (26257, "CockroachDB"),
    (1433, "SQL Server"),
    (1521, "Oracle Database"),
    (2379, "etcd"),
];

/// The database an image runs, by its name without registry, path or tag.
pub fn image_kind(image: &str) -> Option<&'static str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let name = last.split(':').next().unwrap_or(last).to_ascii_lowercase();
    IMAGES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

fn port_kind(port: u32) -> Option<&'static str> {
    PORTS.iter().find(|(p, _)| *p == port).map(|(_, k)| *k)
}

fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1" || ip == "[::1]"
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (name, svc) in &cx.project.services {
        let by_image = image_kind(&svc.image);
        // One finding per `ports:` entry (a range is one entry, many ports).
        let mut entries: BTreeMap<(u32, u32), (Span, Vec<&Port>, &'static str)> = BTreeMap::new();
        for p in &svc.ports {
            let Some(kind) = by_image.or_else(|| port_kind(p.target)) else {
                continue;
            };
            let span = port_span(cx, name, p);
            entries
                .entry((span.line, span.column))
                .or_insert_with(|| (span.clone(), Vec::new(), kind))
                .1
                .push(p);
        }
        for (_, (span, ports, kind)) in entries {
            let loopback = ports.iter().all(|p| is_loopback(&p.host_ip));
            let targets: Vec<String> = ports.iter().map(|p| p.target.to_string()).collect();
            let first = ports[0];
            let host = if first.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                first.host_ip.as_str()
            };
            let published = if first.published.is_empty() {
                "a random port".to_string()
            } else {
                format!("{host}:{}", first.published)
            };
            let reason = if by_image.is_some() {
                format!("by its image, {}", svc.image)
            } else {
                format!(
                    "container port {} is {kind}'s well-known port",
                    first.target
                )
            };
            let (severity, message, exposure) = if loopback {
                (
                    Severity::Warning,
                    format!(
                        "{kind} port {} is published on the host's loopback ({published})",
                        targets.join(", ")
                    ),
                    "only this host can reach it, but that is every local user and process, around the network isolation",
                )
            } else {
                (
                    Severity::Error,
                    format!(
                        "{kind} port {} is published on the host ({published})",
                        targets.join(", ")
                    ),
                    "anything that can reach the host can talk to it directly, around the network isolation",
                )
            };
            out.push(on_service(
                "db-port-published",
                severity,
                name,
                span,
                message,
                format!("{name} runs {kind}, a database or cache ({reason}); {exposure}"),
                format!(
                    "remove the entry from `ports:`: services on a shared network reach it as {name}:{}; for local debugging use `aistack exec {name} ...`",
                    first.target
                ),
            ));
        }
    }
}

/// The `ports:` item a published port came from.
fn port_span(cx: &Context, service: &str, p: &Port) -> Span {
    let item = cx
        .at
        .service_node(service)
        .and_then(|s| s.get("ports"))
        .and_then(|n| n.as_seq())
        .and_then(|items| {
            items.iter().find(|i| {
                i.get("target").and_then(|t| t.scalar_text()) == Some(p.target.to_string())
                    && i.get("published")
                        .and_then(|t| t.scalar_text())
                        .unwrap_or_default()
                        == p.published
            })
        });
    match item {
        Some(i) => i.span.clone(),
        None => cx.at.attr(service, &["ports"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_images_are_known_by_name_whatever_the_registry_and_tag() {
        assert_eq!(image_kind("postgres:16-alpine"), Some("PostgreSQL"));
        assert_eq!(image_kind("docker.io/library/redis:7"), Some("Redis"));
        assert_eq!(image_kind("qdrant/qdrant@sha256:abc"), Some("Qdrant"));
        assert_eq!(image_kind("localhost:5000/mysql"), Some("MySQL"));
        assert_eq!(image_kind("nginx:1.27"), None);
        assert_eq!(image_kind("mongo-express"), None);
    }
}
