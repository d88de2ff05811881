//! Reading the classic builder's output: where a build is (its last
//! "Step N/M : ..." line, for failure reports) and the terminal colour codes
//! it wraps around the stderr of RUN steps.
//!
//! Must not: print or decide what a failure means.

/// Follows a build's output lines and remembers the last step.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Steps {
    last: Option<String>,
}

impl Steps {
    pub fn observe(&mut self, line: &str) {
        let line = strip_colour(line);
        if is_step(&line) {
            self.last = Some(line.trim_end().to_string());
        }
    }

    /// The last "Step N/M : INSTRUCTION" seen.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }
}

fn is_step(line: &str) -> bool {
    line.strip_prefix("Step ")
        .and_then(|rest| rest.split_once(" : "))
        .is_some_and(|(n, _)| {
            n.split_once('/').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            })
        })
}

/// Drops ANSI SGR sequences ("\x1b[91m", "\x1b[0m").
pub fn strip_colour(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_step_is_remembered() {
        let mut s = Steps::default();
        assert_eq!(s.last(), None);
        for l in [
            "Step 1/4 : FROM aistack-test/busybox:1",
            " ---> 68027146875b",
            "Step 3/4 : RUN echo failing >&2; exit 3",
            " ---> Running in f2876fc1758e",
            "\x1b[91mfailing",
            "\x1b[0mStep 9 is not a step",
            "Stepping : no",
        ] {
            s.observe(l);
        }
        assert_eq!(s.last(), Some("Step 3/4 : RUN echo failing >&2; exit 3"));
    }

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(strip_colour("\x1b[91mfailing\x1b[0m"), "failing");
        assert_eq!(strip_colour("plain [text]"), "plain [text]");
    }
}
