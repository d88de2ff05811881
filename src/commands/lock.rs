//! One `up`/`down` per project at a time on this machine: an exclusive lock on
//! a file named after the project, held until the command ends. Engine 20.10
//! would otherwise let two concurrent runs create duplicate networks (G3).
//! The file is removed when the lock is released, so nothing is left behind.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::apply::cancel::Cancel;

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

fn lock_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("aistack-{name}.lock"))
}

fn waiting(name: &str) {
    eprintln!("waiting for another aistack run on project \"{name}\" to finish...");
}

/// The lock counts only if the path still names the file we locked: the
/// holder before us may have unlinked it.
fn still_ours(path: &std::path::Path, file: &File) -> bool {
    let ours = file.metadata().map(|m| (m.dev(), m.ino())).ok();
    let current = std::fs::metadata(path).map(|m| (m.dev(), m.ino())).ok();
    ours.is_some() && ours == current
}

pub fn project(name: &str) -> Result<ProjectLock> {
    let path = lock_path(name);
    let mut said = false;
    loop {
        let file = File::create(&path)
            .with_context(|| format!("creating lock file {}", path.display()))?;
        if file.try_lock().is_err() {
            if !said {
                waiting(name);
                said = true;
            }
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        if still_ours(&path, &file) {
            return Ok(ProjectLock { path, _file: file });
        }
    }
}

/// Like `project`, but waits without blocking a thread and gives up (`None`)
/// when `cancel` is raised: a signal must not be stuck behind another run.
pub async fn project_or_cancel(name: &str, cancel: &Cancel) -> Result<Option<ProjectLock>> {
    let path = lock_path(name);
    let mut said = false;
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let file = File::create(&path)
            .with_context(|| format!("creating lock file {}", path.display()))?;
        if file.try_lock().is_ok() {
            if still_ours(&path, &file) {
                return Ok(Some(ProjectLock { path, _file: file }));
            }
            continue;
        }
        drop(file);
        if !said {
            waiting(name);
            said = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
            _ = cancel.cancelled() => return Ok(None),
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

    #[tokio::test]
    async fn a_waiting_run_gives_up_when_cancelled_and_gets_the_lock_once_free() {
        let name = format!("locktest-cancel-{}", std::process::id());
        let first = project(&name).unwrap();
        let (trigger, cancel) = crate::apply::cancel::pair();
        let n = name.clone();
        let c = cancel.clone();
        let waiter =
            tokio::spawn(async move { project_or_cancel(&n, &c).await.unwrap().is_some() });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !waiter.is_finished(),
            "got the lock while the first run held it"
        );
        trigger.fire();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("a cancelled waiter must return at once")
            .unwrap();
        assert!(!got);
        drop(first);
        let never = crate::apply::cancel::Cancel::default();
        let again = project_or_cancel(&name, &never).await.unwrap();
        assert!(again.is_some());
    }
}
