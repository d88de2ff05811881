//! The two facts the probe image needs from an ELF executable or library:
//! its program interpreter (`PT_INTERP`, the dynamic loader the kernel runs)
//! and its GNU build ID (the linker's hash of the file, a cheap identity
//! for a 150 MB debug binary).
//!
//! Owns: reading the ELF header, program headers and notes, 32/64-bit and
//! either byte order, with every offset bounds-checked. Must not: load
//! anything, follow DT_NEEDED (the libraries come from what the running
//! process has mapped, see `image.rs`), or panic on a malformed file.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const NT_GNU_BUILD_ID: u32 = 3;
/// Segments larger than this are not the ones we look for.
const MAX_SEGMENT: u64 = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// e.g. "/lib64/ld-linux-x86-64.so.2"; `None` for a static executable.
    pub interpreter: Option<String>,
    pub build_id: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("truncated or malformed ELF file: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Io(String),
}

/// Reads `path`'s interpreter and build ID without reading the whole file.
pub fn inspect(path: &Path) -> Result<ElfInfo, ElfError> {
    let mut f = std::fs::File::open(path).map_err(|e| ElfError::Io(e.to_string()))?;
    parse(&mut |offset, len| {
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| ElfError::Io(e.to_string()))?;
        let mut buf = vec![0; len];
        f.read_exact(&mut buf)
            .map_err(|_| ElfError::Malformed("a header or segment lies past the end"))?;
        Ok(buf)
    })
}

/// Whether `bytes` start like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn u16(&self, b: &[u8], at: usize) -> Result<u16, ElfError> {
        let s: [u8; 2] = field(b, at)?;
        Ok(if self.big {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    fn u32(&self, b: &[u8], at: usize) -> Result<u32, ElfError> {
        let s: [u8; 4] = field(b, at)?;
        Ok(if self.big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    /// A 64-bit field in ELF64, a 32-bit one in ELF32.
    fn word(&self, b: &[u8], at: usize) -> Result<u64, ElfError> {
        if !self.wide {
            return self.u32(b, at).map(u64::from);
        }
        let s: [u8; 8] = field(b, at)?;
        Ok(if self.big {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    }
}

fn field<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], ElfError> {
    b.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or(ElfError::Malformed(
            "a field lies past the end of its header",
        ))
}

/// `read(offset, len)` returns exactly `len` bytes at `offset`.
pub fn parse(
    read: &mut dyn FnMut(u64, usize) -> Result<Vec<u8>, ElfError>,
) -> Result<ElfInfo, ElfError> {
    let ident = read(0, 16).map_err(|_| ElfError::NotElf)?;
    if !is_elf(&ident) {
        return Err(ElfError::NotElf);
    }
    let l = Layout {
        wide: match ident[4] {
            1 => false,
            2 => true,
            _ => return Err(ElfError::Malformed("unknown ELF class")),
        },
        big: match ident[5] {
            1 => false,
            2 => true,
            _ => return Err(ElfError::Malformed("unknown byte order")),
        },
    };
    let header = read(0, if l.wide { 64 } else { 52 })?;
    let (phoff, phentsize, phnum) = if l.wide {
        (
            l.word(&header, 0x20)?,
            l.u16(&header, 0x36)?,
            l.u16(&header, 0x38)?,
        )
    } else {
        (
            l.word(&header, 0x1c)?,
            l.u16(&header, 0x2a)?,
            l.u16(&header, 0x2c)?,
        )
    };
    let min_entry = if l.wide { 56 } else { 32 };
    if phnum > 0 && usize::from(phentsize) < min_entry {
        return Err(ElfError::Malformed("program header entries are too small"));
    }
    let table = read(phoff, usize::from(phentsize) * usize::from(phnum))?;
    let mut info = ElfInfo::default();
    for i in 0..usize::from(phnum) {
        let e = &table[i * usize::from(phentsize)..(i + 1) * usize::from(phentsize)];
        let kind = l.u32(e, 0)?;
        let (offset, size) = if l.wide {
            (l.word(e, 8)?, l.word(e, 32)?)
        } else {
            (l.word(e, 4)?, l.word(e, 16)?)
        };
        if (kind != PT_INTERP && kind != PT_NOTE) || size > MAX_SEGMENT {
            continue;
        }
        let bytes = read(offset, size as usize)?;
        if kind == PT_INTERP {
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            let path = String::from_utf8(bytes[..end].to_vec())
                .map_err(|_| ElfError::Malformed("the interpreter path is not UTF-8"))?;
            info.interpreter = Some(path);
        } else if info.build_id.is_none() {
            info.build_id = build_id(&l, &bytes)?;
        }
    }
    Ok(info)
}

/// The GNU build ID among the notes of one PT_NOTE segment.
fn build_id(l: &Layout, notes: &[u8]) -> Result<Option<Vec<u8>>, ElfError> {
    let pad = |n: usize| n.div_ceil(4) * 4;
    let mut at = 0;
    while at + 12 <= notes.len() {
        let namesz = l.u32(notes, at)? as usize;
        let descsz = l.u32(notes, at + 4)? as usize;
        let kind = l.u32(notes, at + 8)?;
        let name_at = at + 12;
        let desc_at = name_at.saturating_add(pad(namesz));
        let desc_end = desc_at.saturating_add(descsz);
        // The last note's padding may lie outside the segment.
        if desc_end > notes.len() {
            return Err(ElfError::Malformed(
                "a note lies past the end of its segment",
            ));
        }
        if kind == NT_GNU_BUILD_ID && notes.get(name_at..name_at + namesz) == Some(b"GNU\0") {
            return Ok(Some(notes[desc_at..desc_end].to_vec()));
        }
        let next = desc_at.saturating_add(pad(descsz));
        at = next;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_bytes(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
        parse(&mut |offset, len| {
            let start = usize::try_from(offset).map_err(|_| ElfError::Malformed("offset"))?;
            bytes
                .get(start..start.saturating_add(len))
                .map(<[u8]>::to_vec)
                .ok_or(ElfError::Malformed("past the end"))
        })
    }

    /// A minimal little-endian ELF64 with a PT_INTERP and a PT_NOTE segment.
    fn elf64(interp: &str, id: &[u8]) -> Vec<u8> {
        let mut note = Vec::new();
        note.extend(4u32.to_le_bytes());
        note.extend((id.len() as u32).to_le_bytes());
        note.extend(NT_GNU_BUILD_ID.to_le_bytes());
        note.extend(b"GNU\0");
        note.extend(id);
        let interp_at = 64 + 2 * 56;
        let note_at = interp_at + interp.len() + 1;
        let mut f = vec![0u8; 64];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        f[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        for (kind, at, size) in [
            (PT_INTERP, interp_at, interp.len() + 1),
            (PT_NOTE, note_at, note.len()),
        ] {
            let mut ph = vec![0u8; 56];
            ph[0..4].copy_from_slice(&kind.to_le_bytes());
            ph[8..16].copy_from_slice(&(at as u64).to_le_bytes());
            ph[32..40].copy_from_slice(&(size as u64).to_le_bytes());
            f.extend(ph);
        }
        f.extend(interp.as_bytes());
        f.push(0);
        f.extend(note);
        f
    }

    #[test]
    fn interpreter_and_build_id_are_read() {
        let info = from_bytes(&elf64("/lib/ld.so", &[1, 2, 3, 4, 5])).unwrap();
        assert_eq!(info.interpreter.as_deref(), Some("/lib/ld.so"));
        assert_eq!(info.build_id, Some(vec![1, 2, 3, 4, 5]));
    }

    #[test]
    fn the_running_test_binary_is_understood() {
        let exe = std::env::current_exe().unwrap();
        let info = inspect(&exe).unwrap();
        if let Some(interp) = &info.interpreter {
            assert!(Path::new(interp).exists(), "{interp}");
        }
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        assert_eq!(from_bytes(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(from_bytes(b""), Err(ElfError::NotElf));
        let good = elf64("/lib/ld.so", &[9; 20]);
        for cut in [6, 20, 63, 64, 100, 64 + 112, good.len() - 3] {
            assert!(from_bytes(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_class = good.clone();
        bad_class[4] = 7;
        assert!(from_bytes(&bad_class).is_err());
        let mut huge_note = good.clone();
        let note_at = 64 + 112 + "/lib/ld.so".len() + 1;
        huge_note[note_at + 4..note_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(from_bytes(&huge_note).is_err());
    }
}
