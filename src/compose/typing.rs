//! Merged canonical tree → typed `Project`, with errors that name the service,
//! tell a misspelling (did you mean) from an attribute aistack does not run yet,
//! and point at file:line:column.

use super::error::{ErrorKind, LoadError, Result};
use super::model::{Project, Service};
use std::sync::Arc;

use super::node::Node;
use super::suggest::did_you_mean;
use super::typed::{self, TypeError, TypeErrorKind};
use super::unsupported;

pub fn project(mut root: Node) -> Result<Project> {
    let services_node = root.remove("services");
    let mut project: Project =
        typed::from_node(&root).map_err(|e| convert(e, None, Section::Top))?;
    if let Some(services) = services_node {
        if services.is_null() {
            return Ok(project);
        }
        let Some(entries) = services.as_map() else {
            return Err(LoadError::invalid(
                &services.span,
                format!(
                    "`services` must be a mapping of service names, found {}",
                    services.kind()
                ),
            ));
        };
        for (key, node) in entries {
            if key.name.starts_with("x-") {
                continue;
            }
            let svc: Service = typed::from_node(node)
                .map_err(|e| convert(e, Some(&key.name), Section::Service))?;
            project.services.insert(key.name.clone(), svc);
        }
        project.meta.source = Some(Arc::new(services));
    }
    Ok(project)
}

#[derive(Clone, Copy)]
enum Section {
    Top,
    Service,
}

fn convert(e: TypeError, service: Option<&str>, section: Section) -> LoadError {
    let (kind, message, hint) = match &e.kind {
        TypeErrorKind::UnknownField { field, expected } => {
            let in_service = matches!(section, Section::Service) && expected.contains(&"image");
            // The `build:` mapping is the only one with `dockerfile_inline`.
            let in_build =
                matches!(section, Section::Service) && expected.contains(&"dockerfile_inline");
            let unsupported = (in_service && unsupported::is_compose_service_attribute(field))
                || (in_build && unsupported::is_compose_build_attribute(field));
            if unsupported {
                let name = if in_build {
                    format!("build.{field}")
                } else {
                    field.to_string()
                };
                (
                    ErrorKind::Unsupported,
                    format!(
                        "attribute `{name}` is valid Compose, but aistack does not support it yet"
                    ),
                    Some(
                        "remove it, or run this file with docker compose until aistack supports it"
                            .to_string(),
                    ),
                )
            } else {
                let hint = did_you_mean(field, expected.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("valid attributes here: {}", expected.join(", "))));
                (
                    ErrorKind::UnknownAttribute,
                    format!("unknown attribute `{field}`"),
                    hint,
                )
            }
        }
        TypeErrorKind::Missing { .. } => (ErrorKind::InvalidValue, e.message.clone(), None),
        TypeErrorKind::Other => (ErrorKind::InvalidValue, e.message.clone(), None),
    };
    let mut err = LoadError {
        kind,
        span: e.span.clone(),
        service: None,
        message,
        hint,
    };
    if let Some(s) = service {
        err = err.with_service(s);
    }
    err
}
