//! Log frames → lines. Docker sends one frame per write of the container
//! (with timestamps, one "TIMESTAMP text" frame per log entry), so a line
//! can span frames and a frame can hold several lines.
//!
//! Owns: splitting and timestamp handling, per stream. Must not: do I/O.

use std::collections::HashMap;

use super::types::{LogLine, LogStream};

/// Each stream keeps its partial last line (and the timestamp of its first
/// frame) until a newline or `finish`.
#[derive(Debug, Default)]
pub struct LineSplitter {
    timestamps: bool,
    partial: HashMap<LogStream, (Vec<u8>, Option<String>)>,
}

fn looks_like_timestamp(s: &[u8]) -> bool {
    s.len() >= 20 && s[0].is_ascii_digit() && s.contains(&b'T')
}

fn line(stream: LogStream, bytes: &[u8], timestamp: Option<String>) -> LogLine {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    LogLine {
        stream,
        text: String::from_utf8_lossy(bytes).into_owned(),
        timestamp,
    }
}

impl LineSplitter {
    /// `timestamps`: the frames start with the daemon's "TIMESTAMP ".
    pub fn new(timestamps: bool) -> Self {
        LineSplitter {
            timestamps,
            partial: HashMap::new(),
        }
    }

    /// One frame in, the lines it completes out.
    pub fn push(&mut self, stream: LogStream, mut frame: &[u8]) -> Vec<LogLine> {
        let (buf, ts) = self.partial.entry(stream).or_default();
        if self.timestamps
            && let Some(space) = frame.iter().position(|b| *b == b' ')
            && looks_like_timestamp(&frame[..space])
        {
            // A continuation of a partial line keeps its first timestamp.
            if buf.is_empty() {
                *ts = Some(String::from_utf8_lossy(&frame[..space]).into_owned());
            }
            frame = &frame[space + 1..];
        }
        buf.extend_from_slice(frame);
        let mut out = Vec::new();
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let rest = buf.split_off(nl + 1);
            out.push(line(stream, &buf[..nl], ts.clone()));
            *buf = rest;
        }
        if buf.is_empty() {
            *ts = None;
        }
        out
    }

    /// End of stream: partial lines become lines.
    pub fn finish(&mut self) -> Vec<LogLine> {
        [LogStream::Stdout, LogStream::Stderr, LogStream::Console]
            .into_iter()
            .filter_map(|s| {
                let (buf, ts) = self.partial.remove(&s)?;
                (!buf.is_empty()).then(|| line(s, &buf, ts))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_frames_and_streams() {
        let mut s = LineSplitter::new(false);
        assert!(s.push(LogStream::Stdout, b"hel").is_empty());
        let err = s.push(LogStream::Stderr, b"oops\r\n");
        assert_eq!(err[0].text, "oops");
        assert_eq!(err[0].stream, LogStream::Stderr);
        let out = s.push(LogStream::Stdout, b"lo\nworld\npart");
        let texts: Vec<_> = out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["hello", "world"]);
        let rest = s.finish();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].text, "part");
        assert!(s.finish().is_empty());
    }

    #[test]
    fn timestamps_are_split_off_and_kept_for_partial_lines() {
        let mut s = LineSplitter::new(true);
        let out = s.push(LogStream::Stdout, b"2026-11-22T10:00:00.000000001Z one\n");
        assert_eq!(out[0].text, "one");
        assert_eq!(
            out[0].timestamp.as_deref(),
            Some("2026-11-22T10:00:00.000000001Z")
        );
        assert!(
            s.push(LogStream::Stdout, b"2026-11-22T10:00:01.000000001Z tw")
                .is_empty()
        );
        let out = s.push(LogStream::Stdout, b"2026-11-22T10:00:02.000000001Z o\n");
        assert_eq!(out[0].text, "two");
        assert_eq!(
            out[0].timestamp.as_deref(),
            Some("2026-11-22T10:00:01.000000001Z")
        );
        // A line whose first word is not a timestamp is left alone.
        let out = s.push(LogStream::Stdout, b"hello world\n");
        assert_eq!(out[0].text, "hello world");
    }
}
