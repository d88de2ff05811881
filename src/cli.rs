//! The command line: global project options (as `docker compose` has them)
//! and one subcommand per verb. Parsing only; handlers live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "aistack",
    version,
    about = "Compose-compatible stacks: same files, faster up, verified isolation"
)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose file(s); `-` reads standard input. Default: compose.yaml (and its override) here or in a parent directory.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME, the file's `name:`, or the directory name).
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project_name: Option<String>,
    /// Project directory (default: the directory of the first compose file).
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Environment file(s) for interpolation, instead of .env; later files win.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Enable a profile (repeatable; default: COMPOSE_PROFILES).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the normalized project, as `docker compose config` does.
    Config(ConfigArgs),
    /// Show the dependency graph: conditions and networks per service.
    Graph(GraphArgs),
    /// Create and start the stack (networks, volumes, containers in dependency order).
    Up(UpArgs),
    /// Stop and remove the stack's containers and networks (`-v`: volumes too).
    Down(DownArgs),
    /// List the stack's containers.
    Ps(PsArgs),
    /// Show the containers' output.
    Logs(LogsArgs),
    /// Start the stack's existing containers (dependencies first).
    Start(ServicesArgs),
    /// Stop the stack's running containers (dependents first).
    Stop(StopArgs),
    /// Stop, then start the stack's containers.
    Restart(StopArgs),
    /// Send a signal to the stack's running containers.
    Kill(KillArgs),
    /// Remove the stack's stopped containers.
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// Only these services (default: all).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing (default: each service's stop_grace_period, else 10).
    #[arg(short, long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Only these services (default: all).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal to send.
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    /// Only these services (default: all).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Stop running containers first.
    #[arg(short, long)]
    pub stop: bool,
    /// Accepted for Compose compatibility: aistack never asks for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// Also remove the containers' anonymous volumes.
    #[arg(short, long)]
    pub volumes: bool,
    /// Only these services (default: all).
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ProbeArg {
    /// Run each service's health check ourselves right after start (fast).
    Eager,
    /// Wait for the engine's own health verdict.
    Engine,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Return once the containers are started (do not attach to logs).
    #[arg(short, long)]
    pub detach: bool,
    /// Return once every service is running or healthy and every job completed (implies -d).
    #[arg(long)]
    pub wait: bool,
    /// Deadline in seconds for --wait (and for dependency waits).
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Print the plan (one line per action, with its cause) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Recreate containers even if their configuration is unchanged.
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Never recreate existing containers.
    #[arg(long)]
    pub no_recreate: bool,
    /// Remove containers of services that are no longer in the compose files.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Who decides that a service is healthy.
    #[arg(long, value_enum, default_value = "eager")]
    pub health_probe: ProbeArg,
    /// Progress output.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
    /// Services to bring up (with their dependencies); default all.
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also remove the project's named volumes.
    #[arg(short, long)]
    pub volumes: bool,
    /// Also remove containers of services that are not in the compose files.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Stop timeout in seconds (default: each service's stop_grace_period, else 10).
    #[arg(short, long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Progress output.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PsFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Include stopped containers.
    #[arg(short, long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: PsFormat,
    /// Print only service names.
    #[arg(long)]
    pub services: bool,
    /// Print only container IDs.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow the output.
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end of each container's log ("all" or a number).
    #[arg(long, default_value = "all")]
    pub tail: String,
    /// Show timestamps.
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only these services.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ConfigFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: ConfigFormat,
    /// Only validate; print nothing (exit status says whether the project is valid).
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the service names, one per line.
    #[arg(long)]
    pub services: bool,
    /// Print the network names.
    #[arg(long)]
    pub networks: bool,
    /// Print the volume names.
    #[arg(long)]
    pub volumes: bool,
    /// Print the profile names.
    #[arg(long = "profiles", id = "list_profiles")]
    pub profiles: bool,
    /// Print the image names.
    #[arg(long)]
    pub images: bool,
    /// Print the variables the files use, with their defaults.
    #[arg(long)]
    pub variables: bool,
    /// Do not interpolate variables.
    #[arg(long)]
    pub no_interpolate: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Services to include (default: all enabled).
    pub service_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
