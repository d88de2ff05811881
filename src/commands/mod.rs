//! Command handlers: turn parsed arguments into calls on the layers below and
//! output through `report`. anyhow lives here, at the edge.

pub mod attach;
pub mod build;
pub mod config;
pub mod deploy;
pub mod down;
pub mod engine;
pub mod exec;
pub mod graph;
pub mod interrupt;
pub mod lifecycle;
pub mod lint;
pub mod lock;
pub mod logs;
pub mod ps;
pub mod run;
pub mod terminal;
pub mod test;
pub mod up;
pub mod variables;
pub mod verify;

use std::collections::BTreeMap;

use anyhow::Result;

use crate::cli::{Cli, Command, ProjectArgs};
use crate::compose::{self, LoadOptions, Loaded};
use crate::report::{diagnostic, redact};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config(args) => config::run(&cli.project, args),
        Command::Graph(args) => graph::run(&cli.project, args),
        Command::Up(args) => up::run(&cli.project, args),
        Command::Down(args) => down::run(&cli.project, args),
        Command::Deploy(args) => deploy::run(&cli.project, args),
        Command::Ps(args) => ps::run(&cli.project, args),
        Command::Logs(args) => logs::run(&cli.project, args),
        Command::Run(args) => run::run(&cli.project, args),
        Command::Exec(args) => exec::run(&cli.project, args),
        Command::Start(args) => lifecycle::start(&cli.project, args),
        Command::Stop(args) => lifecycle::stop(&cli.project, args),
        Command::Restart(args) => lifecycle::restart(&cli.project, args),
        Command::Kill(args) => lifecycle::kill(&cli.project, args),
        Command::Rm(args) => lifecycle::rm(&cli.project, args),
        Command::Build(args) => build::build(&cli.project, args),
        Command::Pull(args) => build::pull(&cli.project, args),
        Command::Test(args) => test::run(&cli.project, args),
        Command::Lint(args) => lint::run(&cli.project, args),
        Command::Verify(args) => verify::run(&cli.project, args),
        Command::Probe(args) => verify::probe_agent(args),
    }
}

/// Load options from the global arguments and this process's environment.
pub fn load_options(p: &ProjectArgs) -> Result<LoadOptions> {
    let cwd = std::env::current_dir()?;
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let mut opts = LoadOptions::new(cwd, env);
    opts.files = p.files.clone();
    opts.project_name = p.project_name.clone();
    opts.project_directory = p.project_directory.clone();
    opts.env_files = p.env_files.clone();
    opts.profiles = p.profiles.clone();
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        // Bounded and checked as any compose file is (`compose::text`).
        let kind = compose::text::Kind::ComposeFile;
        let text = compose::text::read_bounded(std::io::stdin().lock(), kind).map_err(|e| {
            let e = e.into_load_error("<stdin>");
            eprint!("{}", diagnostic::render(&e));
            anyhow::Error::new(e).context(crate::REPORTED)
        })?;
        opts.stdin = Some(text);
    }
    Ok(opts)
}

/// `compose::load`, and before anything is printed, the secret values it
/// reveals (when it fails: those of the env files, which its error may quote)
/// go to `report::redact`. Every command loads through here.
pub fn load_project(opts: &LoadOptions) -> std::result::Result<Loaded, compose::LoadError> {
    let loaded = compose::load(opts);
    redact::install(match &loaded {
        Ok(l) => compose::secrets::of_loaded(l),
        Err(_) => compose::secrets::of_options(opts),
    });
    loaded
}

/// Load the project, print warnings to stderr; on error, print the diagnostic
/// and return the error (so the exit code says "invalid project").
pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    match load_project(opts) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("WARN {}", redact::text(w));
            }
            Ok(loaded)
        }
        Err(e) => {
            eprint!("{}", diagnostic::render(&e));
            Err(anyhow::Error::new(e).context(crate::REPORTED))
        }
    }
}

/// How many engine calls may be in flight: `--parallel`, else
/// COMPOSE_PARALLEL_LIMIT (Compose's variable), else 8; zero or negative means
/// unlimited, as in Compose.
pub fn parallelism(p: &ProjectArgs) -> usize {
    let n = p.parallel.or_else(|| {
        std::env::var("COMPOSE_PARALLEL_LIMIT")
            .ok()
            .and_then(|v| v.trim().parse().ok())
    });
    match n {
        None => 8,
        Some(n) if n <= 0 => usize::MAX,
        Some(n) => n as usize,
    }
}

/// The project name: from the compose files when there are some, else `-p`.
pub fn project_name(p: &ProjectArgs) -> Result<String> {
    let opts = load_options(p)?;
    match load_project(&opts) {
        Ok(l) => Ok(l.project.name),
        Err(e) if p.project_name.is_some() && e.kind == compose::ErrorKind::Io => {
            Ok(p.project_name.clone().unwrap_or_default())
        }
        Err(e) => {
            eprint!("{}", diagnostic::render(&e));
            Err(anyhow::Error::new(e).context(crate::REPORTED))
        }
    }
}
