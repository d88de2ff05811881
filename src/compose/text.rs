//! Reading the loader's text inputs (compose files, `.env`, `--env-file`,
//! `env_file:` files, standard input) with the limits hostile input needs:
//! never more than `MAX_TEXT_BYTES` read (a FIFO or `/dev/zero` cannot make
//! the loader read forever), UTF-8 only, no NUL byte, and the first offending
//! byte located by line:column so the error can point at it.
//!
//! It must not parse anything (YAML is `read.rs`, `.env` is `dotenv.rs`) nor
//! word the caller's errors beyond "what is wrong with this text".

use std::io::Read;
use std::path::Path;

use super::error::{ErrorKind, LoadError};
use super::node::Span;

/// The largest text file the loader reads: 16 MiB. Compose files are small
/// (the largest real ones are a few hundred KiB) and the YAML budget of
/// 250,000 nodes binds long before this for ordinary YAML; the margin is
/// for long inline values (`configs.content`, certificates in `.env`). It
/// also caps what one file can make the loader hold: the text, its tree and
/// at most 64 MiB of interpolated values stay within a few hundred MiB.
pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// Why a text input was refused.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("file is larger than {} MiB, the most aistack reads", limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("not valid UTF-8 (byte 0x{byte:02x} at offset {offset}); {what} must be UTF-8 text")]
    NotUtf8 {
        at: Position,
        offset: usize,
        byte: u8,
        what: &'static str,
    },
    #[error("contains a NUL byte (offset {offset}); {what} are text")]
    Nul {
        at: Position,
        offset: usize,
        what: &'static str,
    },
}

/// 1-based line and column (in characters), as the YAML parser counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// What kind of text is read, for the wording of errors.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    ComposeFile,
    EnvFile,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::ComposeFile => "compose files",
            Kind::EnvFile => "env files",
        }
    }
}

impl TextError {
    /// Where in the text the problem is, when it is at one place.
    pub fn position(&self) -> Option<Position> {
        match self {
            TextError::NotUtf8 { at, .. } | TextError::Nul { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// The loader's error for `file`, located at the offending byte.
    pub fn into_load_error(self, file: &str) -> LoadError {
        match self.position() {
            Some(at) => LoadError::at(
                ErrorKind::Io,
                &Span::new(file.into(), at.line, at.column),
                self.to_string(),
            ),
            None => LoadError::new(ErrorKind::Io, format!("{file}: {self}")),
        }
    }
}

/// Read a file as text, reading at most `MAX_TEXT_BYTES + 1` bytes.
pub fn read_file(path: &Path, kind: Kind) -> Result<String, TextError> {
    let file = std::fs::File::open(path)?;
    read_bounded(file, kind)
}

/// Read any source (standard input) as text, at most `MAX_TEXT_BYTES + 1` bytes.
pub fn read_bounded(source: impl Read, kind: Kind) -> Result<String, TextError> {
    let mut bytes = Vec::new();
    source
        .take(MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(TextError::TooLarge {
            limit: MAX_TEXT_BYTES,
        });
    }
    decode(bytes, kind)
}

/// Bytes → text: UTF-8 without NUL bytes, or where the first bad byte is.
pub fn decode(bytes: Vec<u8>, kind: Kind) -> Result<String, TextError> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // The prefix up to `offset` is valid UTF-8 by definition.
            let before = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
            return Err(TextError::NotUtf8 {
                at: position(before, offset),
                offset,
                byte: bytes[offset],
                what: kind.plural(),
            });
        }
    };
    if let Some(offset) = text.find('\0') {
        return Err(TextError::Nul {
            at: position(&text, offset),
            offset,
            what: kind.plural(),
        });
    }
    Ok(text)
}

/// Line and column of byte `offset` of `text` (which must be a char boundary).
pub fn position(text: &str, offset: usize) -> Position {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> TextError {
        decode(bytes.to_vec(), Kind::ComposeFile).unwrap_err()
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_column() {
        let e = err(b"services:\n  web:\n    image: \xc3\xa9\xff\n");
        assert_eq!(
            e.position(),
            Some(Position {
                line: 3,
                column: 13
            })
        );
        let text = e.to_string();
        assert!(
            text.contains("0xff") && text.contains("offset 30"),
            "{text}"
        );
    }

    #[test]
    fn a_truncated_multibyte_sequence_at_the_end_is_invalid() {
        let e = err(b"a: \xe2\x82");
        assert_eq!(e.position(), Some(Position { line: 1, column: 4 }));
    }

    #[test]
    fn nul_bytes_are_refused_with_their_position() {
        let e = err(b"a: 1\nb: x\0y\n");
        assert_eq!(e.position(), Some(Position { line: 2, column: 5 }));
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn oversized_input_is_refused_without_reading_it_all() {
        // An endless source: only MAX_TEXT_BYTES + 1 bytes are ever read.
        let endless = std::io::repeat(b'a');
        let e = read_bounded(endless, Kind::EnvFile).unwrap_err();
        assert!(matches!(e, TextError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn text_at_the_limit_is_accepted() {
        let text = read_bounded(
            std::io::repeat(b'a').take(MAX_TEXT_BYTES as u64),
            Kind::EnvFile,
        )
        .unwrap();
        assert_eq!(text.len(), MAX_TEXT_BYTES);
    }

    #[test]
    fn errors_name_the_file_and_point_at_the_byte() {
        let e = err(b"x\n\xff").into_load_error("dir/compose.yaml");
        assert_eq!(
            e.to_string().lines().next().unwrap(),
            format!("dir/compose.yaml:2:1: {}", e.message)
        );
        let e = TextError::TooLarge { limit: 1 }.into_load_error("big.env");
        assert!(e.to_string().starts_with("big.env: file is larger"), "{e}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(position("é\nàb", 5), Position { line: 2, column: 2 });
        assert_eq!(position("", 0), Position { line: 1, column: 1 });
    }
}
