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
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME, the file's `name:`, or the directory name).
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Project directory (default: the directory of the first compose file).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Environment file(s) for interpolation, instead of .env; later files win.
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Enable a profile (repeatable; default: COMPOSE_PROFILES).
    #[arg(long = "profile", global = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the normalized project, as `docker compose config` does.
    Config(ConfigArgs),
    /// Show the dependency graph: conditions and networks per service.
    Graph(GraphArgs),
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
