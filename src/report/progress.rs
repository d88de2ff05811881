//! Progress while a plan runs: on a terminal, one live line per node
//! (indicatif); piped or in CI, one plain line per transition with the elapsed
//! time; `json`, one JSON object per transition; `quiet`, nothing.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::{Phase, ProgressEvent, ProgressSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Mode {
    #[default]
    Auto,
    Tty,
    Plain,
    Json,
    Quiet,
}

pub fn sink(mode: Mode) -> Box<dyn ProgressSink> {
    let resolved = match mode {
        Mode::Auto
            if std::io::stderr().is_terminal() && std::env::var("CI").as_deref() != Ok("true") =>
        {
            Mode::Tty
        }
        Mode::Auto => Mode::Plain,
        m => m,
    };
    let inner: Box<dyn ProgressSink> = match resolved {
        Mode::Tty => Box::new(Tty::new()),
        Mode::Json => Box::new(Json),
        Mode::Quiet => Box::new(crate::apply::NoProgress),
        _ => Box::new(Plain),
    };
    Box::new(Redacted(inner))
}

/// Every sink sees events with secret values masked (engine errors may quote
/// them): one place, whatever the mode.
struct Redacted(Box<dyn ProgressSink>);

impl ProgressSink for Redacted {
    fn event(&self, mut ev: ProgressEvent) {
        let r = |s: &str| super::redact::text(s).into_owned();
        ev.id = r(&ev.id);
        ev.service = ev.service.as_deref().map(r);
        ev.phase = match ev.phase {
            Phase::DoneBy(s) => Phase::DoneBy(r(&s)),
            Phase::Failed(s) => Phase::Failed(r(&s)),
            Phase::Skipped(s) => Phase::Skipped(r(&s)),
            p => p,
        };
        self.0.event(ev);
    }
}

fn words(ev: &ProgressEvent) -> String {
    let what = match ev.kind {
        "CreateNetwork" => "create network",
        "CreateVolume" => "create volume",
        "CreateContainer" => "create",
        "StartContainer" => "start",
        "Wait" => "wait",
        "StopContainer" => "stop",
        "RemoveContainer" => "remove",
        "RemoveNetwork" => "remove network",
        "RemoveVolume" => "remove volume",
        other => other,
    };
    let subject = ev.id.split_once(':').map(|(_, s)| s).unwrap_or(&ev.id);
    format!("{what} {subject}")
}

fn status(phase: &Phase) -> String {
    match phase {
        Phase::Started => "...".into(),
        Phase::Done => "done".into(),
        Phase::DoneBy(by) if by.is_empty() => "done".into(),
        Phase::DoneBy(by) => format!("done ({by})"),
        Phase::Failed(e) => format!("FAILED: {e}"),
        Phase::Skipped(why) => format!("skipped ({why})"),
    }
}

fn secs(d: Duration) -> String {
    format!("{:>7.2}s", d.as_secs_f64())
}

/// One line per transition; nothing redraws, so CI logs stay readable.
pub struct Plain;

impl ProgressSink for Plain {
    fn event(&self, ev: ProgressEvent) {
        if ev.phase == Phase::Started && ev.kind != "Wait" {
            return;
        }
        let line = format!(
            "{} {} {}\n",
            secs(ev.elapsed),
            words(&ev),
            status(&ev.phase)
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

pub struct Json;

impl ProgressSink for Json {
    fn event(&self, ev: ProgressEvent) {
        let (phase, detail) = match &ev.phase {
            Phase::Started => ("started", String::new()),
            Phase::Done => ("done", String::new()),
            Phase::DoneBy(b) => ("done", b.clone()),
            Phase::Failed(e) => ("failed", e.clone()),
            Phase::Skipped(w) => ("skipped", w.clone()),
        };
        let v = serde_json::json!({
            "elapsed": ev.elapsed.as_secs_f64(),
            "id": ev.id,
            "action": ev.kind,
            "service": ev.service,
            "phase": phase,
            "detail": detail,
        });
        let _ = writeln!(std::io::stderr().lock(), "{v}");
    }
}

/// A live line per node on a terminal.
pub struct Tty {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Tty {
    fn new() -> Self {
        Tty {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl ProgressSink for Tty {
    fn event(&self, ev: ProgressEvent) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let bar = bars.entry(ev.id.clone()).or_insert_with(|| {
            let b = self.multi.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template(" {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(100));
            b
        });
        let msg = format!("{} {}", words(&ev), status(&ev.phase));
        match ev.phase {
            Phase::Started => bar.set_message(msg),
            _ => bar.finish_with_message(format!("{msg} {}", secs(ev.elapsed).trim())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apply::progress::Recorder;
    use crate::compose::secrets::SecretValue;

    struct Shared(Arc<Recorder>);

    impl ProgressSink for Shared {
        fn event(&self, ev: ProgressEvent) {
            self.0.event(ev);
        }
    }

    #[test]
    fn progress_events_reach_every_sink_with_secret_values_masked() {
        // A value no other test prints: the redactor is process-wide.
        super::super::redact::install(vec![SecretValue {
            name: "PROGRESS_TOKEN".into(),
            value: "Pr0gress-unique-Vk3".into(),
        }]);
        let recorder = Arc::new(Recorder::default());
        let sink = Redacted(Box::new(Shared(recorder.clone())));
        sink.event(ProgressEvent {
            id: "create:demo-web-1".into(),
            kind: "CreateContainer",
            service: Some("web".into()),
            phase: Phase::Failed("invalid env Pr0gress-unique-Vk3 (x)".into()),
            elapsed: Duration::ZERO,
        });
        let seen = recorder.0.lock().unwrap();
        assert_eq!(
            seen[0].phase,
            Phase::Failed("invalid env <redacted:PROGRESS_TOKEN> (x)".into())
        );
        assert_eq!(seen[0].id, "create:demo-web-1");
    }
}
