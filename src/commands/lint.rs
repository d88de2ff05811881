//! `aistack lint`: load the project like `config`, gather what lint cannot
//! find out by itself (whether git ignores `.env`), run the checks, print the
//! report, and exit with the findings code when an error (or, with
//! `--strict`, a warning) remains.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::cli::{LintArgs, LintFormat, ProjectArgs};
use crate::compose::{ErrorKind, LoadError, Project};
use crate::exit::{Exit, ExitError};
use crate::lint::{self, ConfigError, DotEnv, Input, Settings, Sources, output};
use crate::report::diagnostic;

/// `git check-ignore` answers in milliseconds; a hung git (a network
/// filesystem, a lock) must not hang lint.
const GIT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(p: &ProjectArgs, args: LintArgs) -> Result<()> {
    let settings = Settings::from_flags(&args.disable, &args.enable)
        .map_err(|e| ExitError::new(Exit::Usage, e.to_string()))?;
    let opts = super::load_options(p)?;
    let loaded = super::load(&opts)?;
    let project = &loaded.project;
    let sources = Sources::read(project, opts.stdin.as_deref());
    let dotenv = dotenv_facts(project);
    let input = Input {
        project,
        sources: &sources,
        dotenv: &dotenv,
    };
    let report = match lint::lint(&input, settings) {
        Ok(r) => r,
        Err(ConfigError::InFile {
            span,
            message,
            hint,
        }) => {
            let mut err = LoadError::at(ErrorKind::Project, &span, message);
            if let Some(h) = hint {
                err = err.with_hint(h);
            }
            eprint!("{}", diagnostic::render(&err));
            return Err(anyhow::Error::new(err).context(crate::REPORTED));
        }
        Err(e) => return Err(ExitError::new(Exit::Usage, e.to_string()).into()),
    };
    let base = &opts.cwd;
    let text = match args.format {
        LintFormat::Text => output::text(&report, base),
        LintFormat::Json => output::json(&report, base),
        LintFormat::Sarif => output::sarif(&report, base),
    };
    print!("{text}");
    if report.fails(args.strict) {
        return Err(
            anyhow::Error::new(ExitError::new(Exit::Findings, "lint findings"))
                .context(crate::REPORTED),
        );
    }
    Ok(())
}

/// `.env` next to the compose files (and in the project directory), each with
/// git's verdict; files outside a git work tree, or when git cannot answer,
/// are left out.
fn dotenv_facts(project: &Project) -> Vec<DotEnv> {
    let mut dirs: Vec<PathBuf> = vec![project.meta.working_dir.clone()];
    for f in &project.meta.config_files {
        if let Some(d) = f.parent() {
            dirs.push(d.to_path_buf());
        }
    }
    dirs.dedup();
    let mut out: Vec<DotEnv> = Vec::new();
    for dir in dirs {
        let path = dir.join(".env");
        if !path.is_file() || out.iter().any(|e| e.path == path) {
            continue;
        }
        if let Some(ignored) = git_ignores(&dir, Path::new(".env")) {
            out.push(DotEnv { path, ignored });
        }
    }
    out
}

/// `git check-ignore -q`: 0 ignored, 1 not ignored (or tracked), anything
/// else (not a repository, no git, timeout) unknown.
fn git_ignores(dir: &Path, file: &Path) -> Option<bool> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-q", "--"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(0) => Some(true),
                    Some(1) => Some(false),
                    _ => None,
                };
            }
            Ok(None) if start.elapsed() < GIT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}
