//! The probe's helper image, made locally from aistack's own executable so
//! the probe never depends on the tools of the user's images nor on a
//! registry: `FROM scratch` plus the running executable, its dynamic loader
//! and the shared libraries it has loaded, tagged
//! `aistack-probe:<identity>` so it is built once per aistack build.
//!
//! Which libraries: the ones this very process has mapped with execute
//! permission (`/proc/self/maps`), which is what the dynamic loader actually
//! resolved for this executable here (transitive dependencies included),
//! without running `ldd` or the loader and without re-implementing the
//! loader's search rules. The loader goes where the executable's
//! `PT_INTERP` says (the kernel looks there), the libraries at their real
//! paths, with `LD_LIBRARY_PATH` naming their directories. Libraries that
//! glibc opens lazily for name lookups (`libnss_dns`, `libnss_files`,
//! `libresolv`; built into libc since glibc 2.34) are added from libc's
//! directory when they exist. A static executable needs nothing else.
//!
//! Owns: that recipe, its identity, the build context, and making sure the
//! image exists. Must not: run containers (`run.rs`) or decide what to probe.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::elf;
use crate::build::context::MTIME;
use crate::engine::{BuildSpec, Engine, EngineError};

/// The image's repository; the tag is the recipe's identity.
pub const REPOSITORY: &str = "aistack-probe";
/// Label on the image, so `docker image ls --filter label=io.aistack.probe-image` finds them all.
pub const IMAGE_LABEL: &str = "io.aistack.probe-image";
/// Where the executable lives in the image.
pub const EXE: &str = "/aistack";
/// Bump when the image's layout changes, so a new recipe gets a new tag.
const RECIPE_FORMAT: &str = "aistack-probe-v1";
/// Looked up lazily by glibc before 2.34 (absent on newer systems: skipped).
const LAZY_LIBS: [&str; 3] = ["libnss_dns.so.2", "libnss_files.so.2", "libresolv.so.2"];

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot find aistack's own executable: {0}")]
    Exe(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("building the probe image {tag} failed: {reason}")]
    Build { tag: String, reason: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// One file of the image: where it comes from on this machine, where it goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageFile {
    pub source: PathBuf,
    /// Absolute path inside the image.
    pub dest: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub exe: ImageFile,
    /// The loader and the libraries, sorted by destination.
    pub libs: Vec<ImageFile>,
    /// `aistack-probe:<identity>`.
    pub tag: String,
}

/// Absolute paths of the files mapped executable in a `/proc/PID/maps` text,
/// in first-seen order, without duplicates, pseudo-entries or deleted files.
pub fn mapped_objects(maps: &str) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for line in maps.lines() {
        // address perms offset dev inode pathname (the path may hold spaces)
        let mut fields = line.splitn(6, ' ');
        let perms = fields.nth(1).unwrap_or("");
        let path = fields.nth(3).unwrap_or("").trim_start();
        if !perms.contains('x') || !path.starts_with('/') || path.ends_with(" (deleted)") {
            continue;
        }
        if seen.insert(path.to_string()) {
            out.push(PathBuf::from(path));
        }
    }
    out
}

/// The recipe for the running executable.
pub fn recipe() -> Result<Recipe, ImageError> {
    let exe = std::env::current_exe().map_err(|e| ImageError::Exe(e.to_string()))?;
    let exe = exe
        .canonicalize()
        .map_err(|e| ImageError::Exe(e.to_string()))?;
    let maps = read_text(Path::new("/proc/self/maps"))?;
    let info = elf::inspect(&exe).map_err(|e| read_error(&exe, e))?;
    let mut libs: Vec<ImageFile> = Vec::new();
    let mut add = |source: PathBuf, dest: String| {
        if !libs.iter().any(|l| l.dest == dest) {
            libs.push(ImageFile { source, dest });
        }
    };
    let mut libc_dir = None;
    for path in mapped_objects(&maps) {
        let real = path.canonicalize().unwrap_or(path);
        if real == exe || !starts_like_elf(&real) {
            continue;
        }
        if real.file_name().is_some_and(|n| n == "libc.so.6") {
            libc_dir = real.parent().map(Path::to_path_buf);
        }
        let dest = real.display().to_string();
        add(real, dest);
    }
    if let Some(dir) = libc_dir {
        for name in LAZY_LIBS {
            let p = dir.join(name);
            if p.is_file() {
                let dest = p.display().to_string();
                add(p, dest);
            }
        }
    }
    if let Some(interp) = &info.interpreter {
        let real = Path::new(interp)
            .canonicalize()
            .map_err(|e| read_error(Path::new(interp), e))?;
        add(real, interp.clone());
    }
    libs.sort_by(|a, b| a.dest.cmp(&b.dest));
    let exe = ImageFile {
        source: exe,
        dest: EXE.to_string(),
    };
    let tag = format!(
        "{REPOSITORY}:{}",
        identity(&exe, info.build_id.as_deref(), &libs)?
    );
    Ok(Recipe { exe, libs, tag })
}

/// A hash of everything that goes into the image. A file's GNU build ID
/// stands for its content (hashing a 150 MB debug binary would cost
/// seconds); files without one are hashed whole.
fn identity(
    exe: &ImageFile,
    exe_build_id: Option<&[u8]>,
    libs: &[ImageFile],
) -> Result<String, ImageError> {
    let mut h = Sha256::new();
    h.update(RECIPE_FORMAT.as_bytes());
    let mut file = |f: &ImageFile, id: Option<Vec<u8>>| -> Result<(), ImageError> {
        h.update([0]);
        h.update(f.dest.as_bytes());
        h.update([0]);
        match id {
            Some(id) => h.update(&id),
            None => h.update(content_hash(&f.source)?),
        }
        Ok(())
    };
    file(exe, exe_build_id.map(<[u8]>::to_vec))?;
    for lib in libs {
        let id = elf::inspect(&lib.source).ok().and_then(|i| i.build_id);
        file(lib, id)?;
    }
    Ok(h.finalize()
        .iter()
        .take(10)
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn content_hash(path: &Path) -> Result<Vec<u8>, ImageError> {
    let mut f = std::fs::File::open(path).map_err(|e| read_error(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| read_error(path, e))?;
        if n == 0 {
            return Ok(h.finalize().to_vec());
        }
        h.update(&buf[..n]);
    }
}

fn starts_like_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && elf::is_elf(&magic)
}

fn read_text(path: &Path) -> Result<String, ImageError> {
    std::fs::read_to_string(path).map_err(|e| read_error(path, e))
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> ImageError {
    ImageError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The Dockerfile: the files, the library path, an unprivileged user, and
/// the agent as entrypoint (the request is the command).
pub fn dockerfile(recipe: &Recipe) -> String {
    let mut dirs: Vec<&str> = Vec::new();
    for l in &recipe.libs {
        if let Some((dir, _)) = l.dest.rsplit_once('/')
            && !dir.is_empty()
            && !dirs.contains(&dir)
        {
            dirs.push(dir);
        }
    }
    let mut s = String::from("FROM scratch\nCOPY rootfs/ /\n");
    // glibc waits 5 s for a lost DNS answer by default; Docker's embedded DNS
    // drops some under load. Shorter, repeated tries fit the lookup deadline.
    s.push_str("ENV RES_OPTIONS=\"timeout:1 attempts:4\"\n");
    if !dirs.is_empty() {
        s.push_str(&format!("ENV LD_LIBRARY_PATH={}\n", dirs.join(":")));
    }
    s.push_str(&format!(
        "LABEL {IMAGE_LABEL}=\"{}\"\nUSER 65534:65534\nENTRYPOINT [\"{EXE}\", \"__probe\"]\n",
        recipe.tag
    ));
    s
}

/// The build context: the Dockerfile, the files under `rootfs/`, and an
/// nsswitch.conf that asks the hosts file, then DNS (glibc's default order
/// without one is DNS first).
pub fn context(recipe: &Recipe) -> Result<Vec<u8>, ImageError> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut put = |path: &str, mode: u32, size: u64, data: &mut dyn Read| {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(mode);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, data)
    };
    let docker = dockerfile(recipe);
    let nss = "hosts: files dns\n";
    let tar_error = |e: std::io::Error| ImageError::Read {
        path: "the build context".into(),
        reason: e.to_string(),
    };
    put(
        "Dockerfile",
        0o644,
        docker.len() as u64,
        &mut docker.as_bytes(),
    )
    .map_err(tar_error)?;
    put(
        "rootfs/etc/nsswitch.conf",
        0o644,
        nss.len() as u64,
        &mut nss.as_bytes(),
    )
    .map_err(tar_error)?;
    for f in std::iter::once(&recipe.exe).chain(&recipe.libs) {
        let mut file = std::fs::File::open(&f.source).map_err(|e| read_error(&f.source, e))?;
        let size = file.metadata().map_err(|e| read_error(&f.source, e))?.len();
        let path = format!("rootfs{}", f.dest);
        put(&path, 0o755, size, &mut file).map_err(|e| read_error(&f.source, e))?;
    }
    tar.into_inner().map_err(tar_error)
}

/// The tag of the probe image, building it first if the engine lacks it.
pub async fn ensure<E: Engine>(engine: &E, recipe: &Recipe) -> Result<String, ImageError> {
    if engine.image_exists(&recipe.tag).await? {
        return Ok(recipe.tag.clone());
    }
    let context = context(recipe)?;
    let spec = BuildSpec {
        tag: recipe.tag.clone(),
        dockerfile: "Dockerfile".into(),
        ..Default::default()
    };
    let last = std::sync::Mutex::new(String::new());
    let keep = |line: &str| {
        tracing::debug!("probe image: {line}");
        *last.lock().unwrap_or_else(|p| p.into_inner()) = line.to_string();
    };
    engine
        .build_image(&spec, context, &keep)
        .await
        .map_err(|e| ImageError::Build {
            tag: recipe.tag.clone(),
            reason: e.to_string(),
        })?;
    Ok(recipe.tag.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_mappings_are_taken_once_and_data_files_are_not() {
        let maps = "\
55d0-55d1 r--p 00000000 08:01 123 /usr/bin/aistack
55d1-55d2 r-xp 00001000 08:01 123 /usr/bin/aistack
7f00-7f01 r--p 00000000 08:01 77 /usr/lib/locale/C.utf8/LC_CTYPE
7f01-7f02 r-xp 00028000 08:01 88 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r-xp 00028000 08:01 88 /usr/lib/x86_64-linux-gnu/libc.so.6
7f03-7f04 r-xp 00000000 08:01 99 /opt/my libs/libx.so (deleted)
7f04-7f05 r-xp 00000000 08:01 98 /opt/my libs/liby.so
7ffd-7ffe r-xp 00000000 00:00 0 [vdso]
7ffe-7fff rw-p 00000000 00:00 0
";
        assert_eq!(
            mapped_objects(maps),
            vec![
                PathBuf::from("/usr/bin/aistack"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/opt/my libs/liby.so"),
            ]
        );
    }

    #[test]
    fn the_recipe_of_this_process_holds_its_loader_and_libc() {
        let r = recipe().unwrap();
        assert!(r.tag.starts_with("aistack-probe:"), "{}", r.tag);
        assert_eq!(r.tag.len(), "aistack-probe:".len() + 20);
        let interp = elf::inspect(&std::env::current_exe().unwrap())
            .unwrap()
            .interpreter;
        if let Some(interp) = interp {
            assert!(r.libs.iter().any(|l| l.dest == interp), "{r:?}");
            assert!(
                r.libs.iter().any(|l| l.dest.ends_with("/libc.so.6")),
                "{r:?}"
            );
        }
        // Same process, same identity.
        assert_eq!(recipe().unwrap().tag, r.tag);
    }

    #[test]
    fn the_dockerfile_runs_the_agent_unprivileged_with_the_library_path() {
        let r = Recipe {
            exe: ImageFile {
                source: "/x".into(),
                dest: EXE.into(),
            },
            libs: vec![
                ImageFile {
                    source: "/a".into(),
                    dest: "/lib64/ld-linux-x86-64.so.2".into(),
                },
                ImageFile {
                    source: "/b".into(),
                    dest: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                },
            ],
            tag: "aistack-probe:0123".into(),
        };
        let d = dockerfile(&r);
        assert!(d.starts_with("FROM scratch\n"), "{d}");
        assert!(
            d.contains("ENV LD_LIBRARY_PATH=/lib64:/usr/lib/x86_64-linux-gnu\n"),
            "{d}"
        );
        assert!(d.contains("USER 65534:65534\n"), "{d}");
        assert!(d.contains("ENTRYPOINT [\"/aistack\", \"__probe\"]"), "{d}");
    }
}
