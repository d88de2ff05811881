//! What the user reads about image builds and pulls: each output line
//! prefixed with its service (as `logs` prefixes container output), one
//! line per state change, and failures that name the service, the image,
//! the Dockerfile step and the engine's message.
//!
//! Must not: decide anything; it renders what `apply::images` reports.

use std::io::{IsTerminal, Write};

use crate::apply::images::{FailureKind, ImageEvent, ImageFailure, ImageSink};
use crate::build::output::strip_colour;

use super::logs::Prefixer;

/// Writes to stderr: stdout stays free for what commands print as data.
pub struct ImageOutput {
    prefixer: Prefixer,
    services: Vec<String>,
    colour: bool,
    quiet: bool,
    pull_notices: bool,
}

impl ImageOutput {
    /// `services`: every name that may appear (for alignment and colours).
    pub fn new(services: Vec<String>, quiet: bool) -> Self {
        let colour = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        let mut prefixer = Prefixer::new(services.iter().map(String::as_str));
        if !colour {
            prefixer = prefixer.without_colour();
        }
        ImageOutput {
            prefixer,
            services,
            colour,
            quiet,
            pull_notices: true,
        }
    }

    /// No "pulling ..." line before a pull (`up`): the pull's own output
    /// shows progress, and a pull that fails at once leaves only its error.
    pub fn without_pull_notices(mut self) -> Self {
        self.pull_notices = false;
        self
    }

    fn write(&self, line: &str) {
        let line = super::redact::text(line);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

impl ImageSink for ImageOutput {
    fn output(&self, service: &str, line: &str) {
        if self.quiet {
            return;
        }
        let index = self.services.iter().position(|s| s == service).unwrap_or(0);
        // The classic builder colours RUN's stderr; keep that only on a terminal.
        let text = if self.colour {
            line.to_string()
        } else {
            strip_colour(line)
        };
        self.write(&self.prefixer.line(service, index, &text));
    }

    fn event(&self, service: &str, event: ImageEvent<'_>) {
        if let ImageEvent::PullFailed {
            image,
            reason,
            then_build,
        } = event
        {
            // A warning, shown even with --quiet.
            let then = if then_build { "; building it" } else { "" };
            self.write(&format!(
                "warning: service \"{service}\": could not pull image \"{image}\": {reason}{then}"
            ));
            return;
        }
        if self.quiet {
            return;
        }
        let line = match event {
            ImageEvent::Building { image } => format!("building {service} (image {image})"),
            ImageEvent::Built { image, id } => {
                let short = id.strip_prefix("sha256:").unwrap_or(id);
                let short = &short[..short.len().min(12)];
                format!("built {service} (image {image}, {short})")
            }
            ImageEvent::Pulling { .. } if !self.pull_notices => return,
            ImageEvent::Pulling { image } => format!("pulling {service} (image {image})"),
            ImageEvent::Pulled { image } => format!("pulled {service} (image {image})"),
            ImageEvent::Skipped { path } => format!(
                "note: service \"{service}\": {path} left out of the build context (not a file, directory or symlink)"
            ),
            ImageEvent::PullFailed { .. } => return,
        };
        self.write(&line);
    }
}

fn who(services: &[String]) -> String {
    let quoted: Vec<String> = services.iter().map(|s| format!("\"{s}\"")).collect();
    match quoted.len() {
        1 => format!("service {}", quoted[0]),
        _ => format!("services {}", quoted.join(", ")),
    }
}

/// One line naming the service(s), the image and what went wrong.
pub fn failure(f: &ImageFailure) -> String {
    super::redact::text(&unmasked_failure(f)).into_owned()
}

fn unmasked_failure(f: &ImageFailure) -> String {
    let who = who(&f.services);
    let image = &f.image;
    match &f.kind {
        FailureKind::Context(m) => format!("{who}: cannot build image \"{image}\": {m}"),
        FailureKind::Build {
            step: Some(step),
            message,
        } => format!("{who}: building image \"{image}\" failed at \"{step}\": {message}"),
        FailureKind::Build {
            step: None,
            message,
        } => format!("{who}: building image \"{image}\" failed: {message}"),
        FailureKind::Tag { tag, message } => {
            format!(
                "{who}: image \"{image}\" was built, but tagging it \"{tag}\" failed: {message}"
            )
        }
        FailureKind::Pull {
            message,
            present: false,
        } => format!(
            "{who}: image \"{image}\" is not present locally and could not be pulled: {message}"
        ),
        FailureKind::Pull {
            message,
            present: true,
        } => format!("{who}: image \"{image}\" could not be pulled: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_service_image_step_and_message() {
        let f = ImageFailure {
            services: vec!["bad".into()],
            image: "demo-bad".into(),
            kind: FailureKind::Build {
                step: Some("Step 3/4 : RUN exit 3".into()),
                message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3".into(),
            },
        };
        assert_eq!(
            failure(&f),
            "service \"bad\": building image \"demo-bad\" failed at \"Step 3/4 : RUN exit 3\": The command '/bin/sh -c exit 3' returned a non-zero code: 3"
        );
        let f = ImageFailure {
            services: vec!["a".into(), "b".into()],
            image: "redis:7".into(),
            kind: FailureKind::Pull {
                message: "no such host".into(),
                present: false,
            },
        };
        assert_eq!(
            failure(&f),
            "services \"a\", \"b\": image \"redis:7\" is not present locally and could not be pulled: no such host"
        );
    }
}
