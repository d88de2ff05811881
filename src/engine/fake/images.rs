//! The fake daemon's image calls: build, tag, pull, with scripted build
//! output and failures, and a record of every build's spec and context.
//!
//! Owns: image behaviour of `FakeEngine` only. Must not: decide anything for
//! callers; like the daemon, a build or pull makes the image exist, a
//! failing build step is `Other` with the builder's message.

use std::collections::HashMap;

use super::FakeEngine;
use crate::engine::types::BuildSpec;
use crate::engine::{EngineError, Result};

/// What a build of one tag prints, and the error it then fails with.
#[derive(Debug, Clone, Default)]
pub(super) struct BuildScript {
    lines: Vec<String>,
    error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Images {
    scripts: HashMap<String, BuildScript>,
    /// Every build that ran: its spec and context tar.
    builds: Vec<(BuildSpec, Vec<u8>)>,
}

impl FakeEngine {
    /// Builds of `tag` print `lines`, then fail with `error` if given.
    pub fn script_build(&self, tag: &str, lines: &[&str], error: Option<&str>) {
        self.lock().images_fake.scripts.insert(
            tag.to_string(),
            BuildScript {
                lines: lines.iter().map(|l| l.to_string()).collect(),
                error: error.map(String::from),
            },
        );
    }

    /// Every build so far, in order: its spec and its context tar.
    pub fn builds(&self) -> Vec<(BuildSpec, Vec<u8>)> {
        self.lock().images_fake.builds.clone()
    }

    fn add_image(&self, reference: &str) {
        if let Some(images) = self.lock().images.as_mut() {
            images.insert(reference.to_string());
        }
    }

    pub(super) async fn fake_build(
        &self,
        spec: &BuildSpec,
        context: Vec<u8>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String> {
        self.enter("build_image", &spec.tag).await?;
        let (script, n) = {
            let mut st = self.lock();
            let script = st.images_fake.scripts.get(&spec.tag).cloned();
            st.images_fake.builds.push((spec.clone(), context));
            (script, st.images_fake.builds.len())
        };
        let script = script.unwrap_or_else(|| BuildScript {
            lines: vec!["Step 1/1 : FROM scratch".to_string()],
            error: None,
        });
        for l in &script.lines {
            output(l);
        }
        if let Some(e) = script.error {
            return Err(EngineError::Other(e));
        }
        let id = format!("sha256:fake-build-{n}");
        output(&format!("Successfully built {}", &id[7..]));
        self.add_image(&spec.tag);
        Ok(id)
    }

    /// IDs follow the fake's containers ("sha256:fake-<image>"), so a
    /// rebuild is not modelled as a new ID.
    pub(super) async fn fake_image_id(&self, reference: &str) -> Result<Option<String>> {
        self.enter("image_id", reference).await?;
        let exists = self
            .lock()
            .images
            .as_ref()
            .is_none_or(|i| i.contains(reference));
        Ok(exists.then(|| format!("sha256:fake-{reference}")))
    }

    pub(super) async fn fake_tag(&self, source: &str, target: &str) -> Result<()> {
        self.enter("tag_image", &format!("{source} {target}"))
            .await?;
        let known = source.starts_with("sha256:")
            || self
                .lock()
                .images
                .as_ref()
                .is_none_or(|i| i.contains(source));
        if !known {
            return Err(EngineError::NotFound {
                what: format!("image {source}"),
            });
        }
        self.add_image(target);
        Ok(())
    }

    pub(super) async fn fake_pull(
        &self,
        reference: &str,
        _platform: Option<&str>,
        output: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        self.enter("pull_image", reference).await?;
        output(&format!("Status: Downloaded newer image for {reference}"));
        self.add_image(reference);
        Ok(())
    }
}
