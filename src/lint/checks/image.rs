//! `image-unpinned` (no tag or `latest`) and `image-no-digest` (off by
//! default). Images the file builds, or never pulls, are produced locally:
//! reported as info with that reason.

use super::{Context, Finding, Severity, on_service};

/// (tag, digest) of an image reference; the tag is `None` when none is written.
fn tag_and_digest(image: &str) -> (Option<&str>, Option<&str>) {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, t)| t), digest)
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (name, svc) in &cx.project.services {
        // A build-only service's image is named by aistack itself: nothing to pin.
        if svc.image.is_empty() {
            continue;
        }
        let (tag, digest) = tag_and_digest(&svc.image);
        if digest.is_some() {
            continue;
        }
        let local = if svc.build.is_some() {
            Some("the file builds it (build:)".to_string())
        } else if matches!(svc.pull_policy.as_str(), "never" | "build") {
            Some(format!(
                "it is never pulled (pull_policy: {})",
                svc.pull_policy
            ))
        } else {
            None
        };
        let span = cx.at.attr(name, &["image"]);
        let floating = match tag {
            None => Some("no tag, so latest"),
            Some("latest") => Some("latest"),
            Some(_) => None,
        };
        if let Some(what) = floating {
            let message = format!("image {} has no pinned tag ({what})", svc.image);
            out.push(match &local {
                Some(reason) => on_service(
                    "image-unpinned",
                    Severity::Info,
                    name,
                    span.clone(),
                    message,
                    format!(
                        "the image is produced locally: {reason}, so no registry can change it; the tag only names the local build"
                    ),
                    "tag local builds with a version or a content hash when several may exist; else nothing to do",
                ),
                None => on_service(
                    "image-unpinned",
                    Severity::Warning,
                    name,
                    span.clone(),
                    message,
                    "the next pull may run a different image: deployments are not reproducible and updates arrive unreviewed",
                    "pin a version tag (e.g. python:3.12.4-slim instead of python:latest), or a digest",
                ),
            });
        }
        if local.is_none() {
            out.push(on_service(
                "image-no-digest",
                Severity::Info,
                name,
                span,
                format!("image {} is not pinned by digest", svc.image),
                "a tag can be pushed again with different content; only a digest names exactly one image",
                format!(
                    "append the digest: {}@sha256:<digest> (see `docker buildx imagetools inspect`)",
                    svc.image
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests_are_told_apart_from_registry_ports() {
        assert_eq!(tag_and_digest("redis"), (None, None));
        assert_eq!(tag_and_digest("redis:7.2"), (Some("7.2"), None));
        assert_eq!(tag_and_digest("localhost:5000/app"), (None, None));
        assert_eq!(tag_and_digest("localhost:5000/app:1"), (Some("1"), None));
        assert_eq!(
            tag_and_digest("app@sha256:abcd"),
            (None, Some("sha256:abcd"))
        );
    }
}
