//! One `up`/`down` per project at a time on this machine: an exclusive lock on
//! a file named after the project, held until the command ends. Engine 20.10
//! would otherwise let two concurrent runs create duplicate networks (G3).

use std::fs::File;

use anyhow::{Context, Result};

pub fn project(name: &str) -> Result<File> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("aistack-{name}.lock"));
    let file =
        File::create(&path).with_context(|| format!("creating lock file {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!("waiting for another aistack run on project \"{name}\" to finish...");
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
    }
    Ok(file)
}
