//! Image calls of `DockerEngine`: build (classic builder), tag, pull.
//!
//! Owns: the build and create-image query parameters, reading their JSON
//! progress streams into output lines, and G11 (a framing error after the
//! build has finished is not a failure). Must not: decide what to build or
//! pull, or format what the user reads.

use std::collections::HashMap;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, CreateImageOptions, TagImageOptions,
};
use futures_util::StreamExt;

use super::DockerEngine;
use crate::engine::types::BuildSpec;
use crate::engine::{EngineError, Result, one_line};

/// `name[:tag][@digest]` → (repository, tag or digest); no tag is "latest"
/// (the API pulls every tag of a repository when the tag is left empty).
pub(crate) fn split_reference(reference: &str) -> (String, String) {
    let (name, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    let tag = digest.or(tag).unwrap_or("latest");
    (repo.to_string(), tag.to_string())
}

pub(super) fn build_options(spec: &BuildSpec) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: spec.dockerfile.clone(),
        t: Some(spec.tag.clone()),
        extrahosts: spec.extra_hosts.first().cloned(),
        q: false,
        nocache: spec.no_cache,
        cachefrom: (!spec.cache_from.is_empty()).then(|| spec.cache_from.clone()),
        pull: spec.pull.then(|| "1".to_string()),
        rm: true,
        forcerm: true,
        buildargs: (!spec.args.is_empty())
            .then(|| spec.args.clone().into_iter().collect::<HashMap<_, _>>()),
        shmsize: spec.shm_size.map(|s| i32::try_from(s).unwrap_or(i32::MAX)),
        labels: (!spec.labels.is_empty())
            .then(|| spec.labels.clone().into_iter().collect::<HashMap<_, _>>()),
        networkmode: spec.network.clone(),
        platform: spec.platform.clone().unwrap_or_default(),
        target: spec.target.clone().unwrap_or_default(),
        version: BuilderVersion::BuilderV1,
        ..Default::default()
    }
}

/// Chunks of `stream` text → whole lines (a chunk can hold several lines or
/// part of one).
#[derive(Default)]
struct Lines {
    partial: String,
}

impl Lines {
    fn push(&mut self, chunk: &str, output: &(dyn Fn(&str) + Send + Sync)) {
        self.partial.push_str(chunk);
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            output(line.trim_end_matches(['\n', '\r']));
        }
    }

    fn finish(&mut self, output: &(dyn Fn(&str) + Send + Sync)) {
        if !self.partial.is_empty() {
            output(self.partial.trim_end_matches('\r'));
            self.partial.clear();
        }
    }
}

/// "id: status" for progress messages, without the per-layer byte counts.
fn status_line(id: Option<&str>, status: &str) -> Option<String> {
    if ["Downloading", "Extracting", "Waiting", "Verifying Checksum"]
        .iter()
        .any(|p| status.starts_with(p))
    {
        return None;
    }
    Some(match id {
        Some(id) if !id.is_empty() => format!("{id}: {status}"),
        _ => status.to_string(),
    })
}

impl DockerEngine {
    pub(super) async fn build(
        &self,
        spec: &BuildSpec,
        context: Vec<u8>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String> {
        let what = format!("build image {}", spec.tag);
        let mut stream = self.docker.build_image(
            build_options(spec),
            None,
            Some(bollard::body_full(context.into())),
        );
        let mut lines = Lines::default();
        let mut image_id: Option<String> = None;
        let mut finished = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = &info.stream {
                        lines.push(text, output);
                        finished |= text.starts_with("Successfully built ");
                    }
                    if let Some(status) = &info.status
                        && let Some(line) = status_line(info.id.as_deref(), status)
                    {
                        output(&line);
                    }
                    if let Some(id) = info.aux.and_then(|a| a.id) {
                        image_id = Some(id);
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    lines.finish(output);
                    return Err(EngineError::Other(one_line(&error)));
                }
                // G11: bollard 0.21.1 can fail on the stream's framing after
                // the last message; once the image exists that is no failure.
                Err(e) if finished || image_id.is_some() => {
                    tracing::debug!("{what}: ignoring an error after the build finished: {e}");
                    break;
                }
                Err(e) => {
                    lines.finish(output);
                    return Err(self.classify(e, &what));
                }
            }
        }
        lines.finish(output);
        if let Some(id) = image_id {
            return Ok(id);
        }
        // Older daemons send no aux ID: ask for the tag's.
        let image = self
            .call(&what, self.docker.inspect_image(&spec.tag))
            .await
            .map_err(|e| match e {
                EngineError::NotFound { .. } => EngineError::Other(format!(
                    "{what}: the builder ended without an image and without an error"
                )),
                other => other,
            })?;
        Ok(image.id.unwrap_or_default())
    }

    pub(super) async fn tag(&self, source: &str, target: &str) -> Result<()> {
        let what = format!("tag image {source} as {target}");
        let (repo, tag) = split_reference(target);
        let opts = TagImageOptions {
            repo: Some(repo),
            tag: Some(tag),
        };
        self.call(&what, self.docker.tag_image(source, Some(opts)))
            .await
    }

    pub(super) async fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        let what = format!("pull image {reference}");
        let (repo, tag) = split_reference(reference);
        let opts = CreateImageOptions {
            from_image: Some(repo),
            tag: Some(tag),
            platform: platform.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let mut stream = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(status) = &info.status
                        && let Some(line) = status_line(info.id.as_deref(), status)
                    {
                        output(&line);
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    return Err(EngineError::Other(one_line(&error)));
                }
                Err(BollardError::DockerResponseServerError {
                    status_code,
                    message,
                }) => {
                    // A 404 here is the registry's "not found", not a local
                    // object: keep the daemon's words.
                    return Err(EngineError::Api {
                        status: status_code,
                        message: one_line(&message),
                    });
                }
                Err(e) => return Err(self.classify(e, &what)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        for (r, repo, tag) in [
            ("redis", "redis", "latest"),
            ("redis:7", "redis", "7"),
            ("localhost:5000/app", "localhost:5000/app", "latest"),
            ("localhost:5000/app:v2", "localhost:5000/app", "v2"),
            ("a/b@sha256:abc", "a/b", "sha256:abc"),
            ("a/b:1@sha256:abc", "a/b", "sha256:abc"),
        ] {
            assert_eq!(
                split_reference(r),
                (repo.to_string(), tag.to_string()),
                "{r}"
            );
        }
    }

    #[test]
    fn build_options_send_the_classic_builder_and_only_what_is_set() {
        let spec = BuildSpec {
            tag: "demo-web".into(),
            dockerfile: "Dockerfile".into(),
            args: [("A".to_string(), "1".to_string())].into(),
            target: Some("prod".into()),
            no_cache: true,
            extra_hosts: vec!["db:10.0.0.2".into()],
            ..Default::default()
        };
        let o = build_options(&spec);
        assert_eq!(o.version, BuilderVersion::BuilderV1);
        assert_eq!(o.t.as_deref(), Some("demo-web"));
        assert_eq!(o.target, "prod");
        assert!(o.nocache && o.rm);
        assert_eq!(o.pull, None);
        assert_eq!(o.labels, None);
        assert_eq!(o.extrahosts.as_deref(), Some("db:10.0.0.2"));
        assert_eq!(o.buildargs.unwrap()["A"], "1");
    }

    #[test]
    fn stream_chunks_become_lines() {
        let seen = std::sync::Mutex::new(Vec::<String>::new());
        let out = |l: &str| seen.lock().unwrap().push(l.to_string());
        let mut lines = Lines::default();
        lines.push("Step 1/2 : FROM x\n ---> ab", &out);
        lines.push("c\r\n", &out);
        lines.push("tail", &out);
        lines.finish(&out);
        assert_eq!(
            *seen.lock().unwrap(),
            ["Step 1/2 : FROM x", " ---> abc", "tail"]
        );
    }

    #[test]
    fn layer_progress_is_not_a_line() {
        assert_eq!(status_line(Some("abc"), "Downloading"), None);
        assert_eq!(
            status_line(Some("7"), "Pulling from library/redis").as_deref(),
            Some("7: Pulling from library/redis")
        );
        assert_eq!(
            status_line(None, "Status: Downloaded newer image for redis:7").as_deref(),
            Some("Status: Downloaded newer image for redis:7")
        );
    }
}
