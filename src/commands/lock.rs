//! One `up`/`down` per project at a time on this machine: an exclusive lock on
//! a file named after the project, held until the command ends. Engine 20.10
//! would otherwise let two concurrent runs create duplicate networks (G3).
//! The file is removed when the lock is released, so nothing is left behind.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::{Context, Result};

/// Held for the command's lifetime; dropping it unlinks the file, then unlocks.
pub struct ProjectLock {
    path: PathBuf,
    _file: File,
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Unlinking while still holding the lock is what makes removal safe: a
        // waiter that opened the old file sees it unlinked and retries.
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn project(name: &str) -> Result<ProjectLock> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("aistack-{name}.lock"));
    let mut said = false;
    loop {
        let file = File::create(&path)
            .with_context(|| format!("creating lock file {}", path.display()))?;
        if file.try_lock().is_err() {
            if !said {
                eprintln!("waiting for another aistack run on project \"{name}\" to finish...");
                said = true;
            }
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        // The holder before us may have unlinked the file we locked: the lock
        // counts only if the path still names this very file.
        let ours = file.metadata().map(|m| (m.dev(), m.ino())).ok();
        let current = std::fs::metadata(&path).map(|m| (m.dev(), m.ino())).ok();
        if ours.is_some() && ours == current {
            return Ok(ProjectLock { path, _file: file });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_is_gone_once_the_command_ends_and_can_be_taken_again() {
        let name = format!("locktest-{}", std::process::id());
        let first = project(&name).unwrap();
        let path = first.path.clone();
        assert!(path.exists());
        drop(first);
        assert!(!path.exists(), "{} left behind", path.display());
        let again = project(&name).unwrap();
        drop(again);
        assert!(!path.exists());
    }

    #[test]
    fn a_second_holder_waits_until_the_first_releases() {
        let name = format!("locktest-wait-{}", std::process::id());
        let first = project(&name).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let n = name.clone();
        let t = std::thread::spawn(move || {
            let l = project(&n).unwrap();
            tx.send(()).unwrap();
            drop(l);
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "second holder got the lock while the first held it"
        );
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("second holder never got the lock");
        t.join().unwrap();
    }
}
