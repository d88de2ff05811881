//! The build context: a tar of the context directory as the docker CLI sends
//! it to the classic builder, minus what `.dockerignore` excludes.
//!
//! Owns: the walk (lexical order, symlinks stored as symlinks and never
//! followed, excluded directories pruned unless an exception may reach
//! inside), the Dockerfile and `.dockerignore` always being sent, a
//! Dockerfile from outside the context or `dockerfile_inline` added under a
//! generated name (and listed in the tar's `.dockerignore` so `COPY .` skips
//! it, as the docker CLI does), and deterministic bytes: same context, same
//! tar (owner 0:0, fixed mtime, permission bits kept). Must not: talk to the
//! engine or print.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ignore::{self, IgnoreError, Matcher};

/// Every entry's mtime (2000-01-01T00:00:00Z): a fixed value keeps the tar
/// reproducible; the classic builder's cache ignores mtimes.
pub const MTIME: u64 = 946_684_800;

/// Where the Dockerfile comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dockerfile {
    /// A path relative to the context directory ('/'-separated).
    InContext(String),
    /// A file outside the context directory.
    Outside(PathBuf),
    /// `dockerfile_inline`.
    Inline(String),
}

impl Dockerfile {
    /// Compose's `dockerfile` is relative to the context; an absolute path
    /// inside the context is the same file.
    pub fn from_compose(context: &Path, dockerfile: &str, inline: &str) -> Dockerfile {
        if !inline.is_empty() {
            return Dockerfile::Inline(inline.to_string());
        }
        let name = if dockerfile.is_empty() {
            "Dockerfile"
        } else {
            dockerfile
        };
        let path = Path::new(name);
        if path.is_absolute() {
            return match path.strip_prefix(context) {
                Ok(rel) if !rel.as_os_str().is_empty() => {
                    Dockerfile::InContext(ignore::clean(&rel.to_string_lossy()))
                }
                _ => Dockerfile::Outside(path.to_path_buf()),
            };
        }
        let rel = ignore::clean(name);
        if rel == ".." || rel.starts_with("../") {
            Dockerfile::Outside(context.join(name))
        } else {
            Dockerfile::InContext(rel)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("build context {0} is not a directory")]
    NotADirectory(PathBuf),
    #[error(
        "Dockerfile {path} not found (the Dockerfile is relative to the build context {context})"
    )]
    DockerfileMissing { path: String, context: PathBuf },
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: {error}")]
    Ignore { path: PathBuf, error: IgnoreError },
    #[error("cannot add {path} to the build context: {message}")]
    Tar { path: String, message: String },
}

/// A ready-to-send context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub tar: Vec<u8>,
    /// The Dockerfile's path inside the tar (the build's `dockerfile` parameter).
    pub dockerfile: String,
    /// Entries left out because a tar cannot hold them (sockets, devices).
    pub skipped: Vec<String>,
}

enum Content {
    Dir,
    File(Vec<u8>),
    Symlink(PathBuf),
}

struct Entry {
    path: String,
    mode: u32,
    content: Content,
}

fn io_error(path: &Path, e: std::io::Error) -> ContextError {
    ContextError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Tars `dir` for a build with `dockerfile`.
pub fn create(dir: &Path, dockerfile: &Dockerfile) -> Result<Context, ContextError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(ContextError::NotADirectory(dir.to_path_buf())),
        Err(e) => return Err(io_error(dir, e)),
    }
    let ignore_path = dir.join(".dockerignore");
    let mut patterns = match std::fs::read(&ignore_path) {
        Ok(bytes) => ignore::read_patterns(&String::from_utf8_lossy(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(&ignore_path, e)),
    };
    let source = match dockerfile {
        Dockerfile::InContext(rel) => Source::Path(locate_dockerfile(dir, rel)?),
        Dockerfile::Inline(text) => Source::Generated(text.as_bytes().to_vec()),
        Dockerfile::Outside(path) => {
            Source::Generated(std::fs::read(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ContextError::DockerfileMissing {
                    path: path.display().to_string(),
                    context: dir.to_path_buf(),
                },
                _ => io_error(path, e),
            })?)
        }
    };
    // The daemon needs both files: the docker CLI re-includes them
    // (TrimBuildFilesFromExcludes); the daemon drops them from what COPY
    // sees when .dockerignore excludes them.
    let as_error = |error| ContextError::Ignore {
        path: ignore_path.clone(),
        error,
    };
    let first = Matcher::new(&patterns).map_err(as_error)?;
    if first.matches_or_parent_matches(".dockerignore") {
        patterns.push("!.dockerignore".into());
    }
    if let Source::Path(rel) = &source
        && first.matches_or_parent_matches(rel)
    {
        patterns.push(format!("!{rel}"));
    }
    let matcher = Matcher::new(&patterns).map_err(as_error)?;

    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    walk(dir, "", None, &matcher, &mut entries, &mut skipped)?;

    let name = match source {
        Source::Path(rel) => rel,
        Source::Generated(bytes) => add_dockerfile(&mut entries, bytes),
    };
    Ok(Context {
        tar: write_tar(&entries)?,
        dockerfile: name,
        skipped,
    })
}

/// The Dockerfile as the build will find it.
enum Source {
    /// Sent as part of the context, at this path.
    Path(String),
    /// Added to the context under a generated name.
    Generated(Vec<u8>),
}

/// The Dockerfile's path in the context; like the docker CLI, the default
/// name falls back to a lowercase `dockerfile`.
fn locate_dockerfile(dir: &Path, rel: &str) -> Result<String, ContextError> {
    if dir.join(rel).is_file() {
        return Ok(rel.to_string());
    }
    if rel == "Dockerfile" && dir.join("dockerfile").is_file() {
        return Ok("dockerfile".to_string());
    }
    Err(ContextError::DockerfileMissing {
        path: rel.to_string(),
        context: dir.to_path_buf(),
    })
}

/// Adds a generated Dockerfile named after its content and lists it in the
/// tar's `.dockerignore` (creating one that also ignores itself), as the
/// docker CLI's `AddDockerfileToBuildContext` does.
fn add_dockerfile(entries: &mut Vec<Entry>, content: Vec<u8>) -> String {
    let digest = Sha256::digest(&content);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!(".dockerfile.{}", &hex[..20]);
    match entries.iter_mut().find(|e| e.path == ".dockerignore") {
        Some(Entry {
            content: Content::File(bytes),
            ..
        }) => bytes.extend_from_slice(format!("\n{name}\n").as_bytes()),
        _ => entries.push(Entry {
            path: ".dockerignore".into(),
            mode: 0o600,
            content: Content::File(format!(".dockerignore\n{name}\n").into_bytes()),
        }),
    }
    entries.push(Entry {
        path: name.clone(),
        mode: 0o600,
        content: Content::File(content),
    });
    name
}

fn walk(
    dir: &Path,
    rel_dir: &str,
    parent: Option<&[bool]>,
    matcher: &Matcher,
    entries: &mut Vec<Entry>,
    skipped: &mut Vec<String>,
) -> Result<(), ContextError> {
    let abs = if rel_dir.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(rel_dir)
    };
    let mut children: BTreeMap<Vec<u8>, PathBuf> = BTreeMap::new();
    for child in std::fs::read_dir(&abs).map_err(|e| io_error(&abs, e))? {
        let child = child.map_err(|e| io_error(&abs, e))?;
        children.insert(child.file_name().as_bytes().to_vec(), child.path());
    }
    // Byte order of names, as Go's WalkDir sorts them.
    for (name, path) in children {
        let name = String::from_utf8_lossy(&name);
        let rel = if rel_dir.is_empty() {
            name.into_owned()
        } else {
            format!("{rel_dir}/{name}")
        };
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        let ft = meta.file_type();
        let (excluded, info) = matcher.matches_using_parent(&rel, parent);
        if excluded {
            if ft.is_dir() && matcher.has_exclusions() && matcher.exception_under(&rel) {
                // Not sent itself, but an exception may re-include something inside.
                walk(dir, &rel, Some(&info), matcher, entries, skipped)?;
            }
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| io_error(&path, e))?;
            entries.push(Entry {
                path: rel,
                mode,
                content: Content::Symlink(target),
            });
        } else if ft.is_dir() {
            entries.push(Entry {
                path: rel.clone(),
                mode,
                content: Content::Dir,
            });
            walk(dir, &rel, Some(&info), matcher, entries, skipped)?;
        } else if ft.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
            entries.push(Entry {
                path: rel,
                mode,
                content: Content::File(bytes),
            });
        } else {
            skipped.push(rel);
        }
    }
    Ok(())
}

fn write_tar(entries: &[Entry]) -> Result<Vec<u8>, ContextError> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let tar_error = |err: std::io::Error| ContextError::Tar {
            path: e.path.clone(),
            message: err.to_string(),
        };
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        match &e.content {
            Content::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                builder
                    .append_data(&mut h, format!("{}/", e.path), std::io::empty())
                    .map_err(tar_error)?;
            }
            Content::File(bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(bytes.len() as u64);
                builder
                    .append_data(&mut h, &e.path, bytes.as_slice())
                    .map_err(tar_error)?;
            }
            Content::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                builder
                    .append_link(&mut h, &e.path, target)
                    .map_err(tar_error)?;
            }
        }
    }
    builder.into_inner().map_err(|err| ContextError::Tar {
        path: String::new(),
        message: err.to_string(),
    })
}

#[cfg(test)]
mod tests;
