//! Where a finding points: file:line:column of a service, one of its
//! attributes, or a top-level key. Reads the located tree the loader keeps
//! (`ProjectMeta::source`) and the raw files; never changes them.

use crate::compose::model::Project;
use crate::compose::node::{Node, Span};

use super::source::Sources;

pub struct Locator<'a> {
    services: Option<&'a Node>,
    sources: &'a Sources,
    fallback: Span,
}

impl<'a> Locator<'a> {
    pub fn new(project: &'a Project, sources: &'a Sources) -> Self {
        let fallback = project
            .meta
            .config_files
            .first()
            .map(|p| Span::new(p.display().to_string().into(), 0, 0))
            .unwrap_or_default();
        Locator {
            services: project.meta.source.as_deref(),
            sources,
            fallback,
        }
    }

    /// The loaded (interpolated, canonical) tree of one service.
    pub fn service_node(&self, service: &str) -> Option<&'a Node> {
        self.services?.get(service)
    }

    /// The service's name in the file, else the first compose file.
    pub fn service(&self, service: &str) -> Span {
        self.services
            .and_then(|s| s.key(service))
            .map(|k| k.span.clone())
            .unwrap_or_else(|| self.fallback.clone())
    }

    /// The deepest key of `path` under the service that the file has, else the service.
    pub fn attr(&self, service: &str, path: &[&str]) -> Span {
        let mut span = self.service(service);
        let Some(mut node) = self.service_node(service) else {
            return span;
        };
        for k in path {
            match (node.key(k), node.get(k)) {
                (Some(key), Some(next)) => {
                    span = key.span.clone();
                    node = next;
                }
                _ => break,
            }
        }
        span
    }

    /// A top-level key path (`networks.<name>`) in the compose files, else the first file.
    pub fn top(&self, path: &[&str]) -> Span {
        self.sources
            .top_level(path)
            .and_then(|(_, span)| span)
            .unwrap_or_else(|| self.fallback.clone())
    }

    pub fn sources(&self) -> &'a Sources {
        self.sources
    }
}
