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
    /// Engine calls in flight at once (default: COMPOSE_PARALLEL_LIMIT, else 8; -1 = unlimited).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub parallel: Option<i64>,
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
    /// Deploy the stack to the Docker Swarm the engine belongs to (services, overlay networks, secrets, configs).
    Deploy(DeployArgs),
    /// List the stack's containers.
    Ps(PsArgs),
    /// Show the containers' output.
    Logs(LogsArgs),
    /// Run a one-off command in a new container of a service (its dependencies first).
    Run(RunArgs),
    /// Run a command in a service's running container.
    Exec(ExecArgs),
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
    /// Build the images of services that have a `build:` section.
    Build(BuildArgs),
    /// Pull the images of services from their registries.
    Pull(PullArgs),
    /// CI smoke test: up --wait, run CMD on the host, always tear down; exit with CMD's code.
    Test(TestArgs),
    /// Static hardening checks on the compose files (no Docker); exit 5 on error findings.
    Lint(LintArgs),
    /// Probe which service reaches which on the running stack and compare with the compose files; exit 5 on a leak or break.
    Verify(VerifyArgs),
    /// The probe agent `verify` runs inside a helper container (internal).
    #[command(name = "__probe", hide = true)]
    Probe(ProbeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum VerifyFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output format (json: see docs/verify.md).
    #[arg(long, value_enum, default_value = "text")]
    pub format: VerifyFormat,
    /// Also report which services can reach outside the machine (computed from the networks, never probed).
    #[arg(long)]
    pub egress: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The request, as JSON.
    pub request: String,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Output format (json: docs/lint.md; sarif: SARIF 2.1.0).
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Warnings fail the run too (exit 5), not only errors.
    #[arg(long)]
    pub strict: bool,
    /// Turn a rule off for the whole project (repeatable).
    #[arg(long = "disable", value_name = "RULE")]
    pub disable: Vec<String>,
    /// Turn on a rule that is off by default, such as image-no-digest (repeatable).
    #[arg(long = "enable", value_name = "RULE")]
    pub enable: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Leave the stack up afterwards (for debugging) instead of tearing it down.
    #[arg(long)]
    pub keep: bool,
    /// Use the project name as is (default: a unique suffix per run, so parallel jobs never collide).
    #[arg(long)]
    pub no_isolate: bool,
    /// Keep fixed published host ports (default: free ports, given to CMD as AISTACK_PORT_<SERVICE>_<PORT>).
    #[arg(long)]
    pub fixed_ports: bool,
    /// Deadline in seconds for the stack to be ready.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub wait_timeout: u64,
    /// Deadline in seconds for CMD (then it is stopped and the exit code is 124).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Bring up only this service and its dependencies (repeatable; default all).
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Who decides that a service is healthy.
    #[arg(long, value_enum, default_value = "eager")]
    pub health_probe: ProbeArg,
    /// Progress output while bringing the stack up.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
    /// The command to run on the host once the stack is ready.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
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
pub struct BuildArgs {
    /// Do not use the build cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Pull newer versions of the base images first (needs a registry).
    #[arg(long)]
    pub pull: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// A build argument (KEY=VALUE, or KEY to take it from the environment); overrides build.args.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Only these services (default: every service with a build section).
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Print nothing but errors and warnings.
    #[arg(short, long)]
    pub quiet: bool,
    /// Report failed pulls as warnings instead of failing.
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Skip services that have a build section.
    #[arg(long)]
    pub ignore_buildable: bool,
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

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum ProbeArg {
    /// Run each service's health check ourselves right after start (fast).
    #[default]
    Eager,
    /// Wait for the engine's own health verdict.
    Engine,
}

#[derive(Debug, Args, Default)]
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
    /// Build every service that has a build section before starting.
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    /// Never build, even images that are missing (pulls still follow pull_policy).
    #[arg(long)]
    pub no_build: bool,
    /// Stop every container as soon as one exits (attached mode).
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    pub abort_on_container_exit: bool,
    /// Stop every container as soon as one exits with a non-zero code (attached mode).
    #[arg(long, conflicts_with_all = ["detach", "wait", "abort_on_container_exit"])]
    pub abort_on_container_failure: bool,
    /// Exit with this service's exit code (implies --abort-on-container-exit).
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    pub exit_code_from: Option<String>,
    /// Who decides that a service is healthy.
    #[arg(long, value_enum, default_value = "eager")]
    pub health_probe: ProbeArg,
    /// Progress output.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
    /// Services to bring up (with their dependencies); default all.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum EndpointModeArg {
    /// deploy.endpoint_mode, else vip; dnsrr where the engine's kernel cannot route virtual IPs.
    #[default]
    Auto,
    /// Every service gets a virtual IP (you vouch that the nodes have IPVS).
    Vip,
    /// Every service resolves to its tasks' addresses (DNS round-robin).
    Dnsrr,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Return once every service has converged: its tasks running (healthy, with a health check) or, for jobs, completed.
    #[arg(long)]
    pub wait: bool,
    /// Deadline in seconds for dependency waits and --wait.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub wait_timeout: u64,
    /// Print the findings and the steps (one line per Swarm object, with its cause) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove services of the stack that are no longer in the compose files.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Endpoint mode of the services.
    #[arg(long, value_enum, default_value = "auto")]
    pub endpoint_mode: EndpointModeArg,
    /// Progress output.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
    /// Services to deploy (with their dependencies); default all.
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

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background and print the container's ID.
    #[arg(short, long)]
    pub detach: bool,
    /// Build the image before starting (by default only a missing image is built or pulled).
    #[arg(long)]
    pub build: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Set an environment variable (`KEY` alone takes it from this environment).
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Add or override a label.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Do not start the service's dependencies (nor wait for them).
    #[arg(long)]
    pub no_deps: bool,
    /// Run as this user (name or UID[:GID]).
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Override the image's entrypoint (split into words as a shell would).
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Name the container (default: <project>-<service>-run-<12 hex>).
    #[arg(long)]
    pub name: Option<String>,
    /// Do not allocate a TTY (default: one when stdin and stdout are terminals).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Accepted for Compose compatibility: stdin is always kept open.
    #[arg(short = 'i', long, hide = true)]
    pub interactive: bool,
    /// Publish a container port: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL].
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "PORT",
        conflicts_with = "service_ports"
    )]
    pub publish: Vec<String>,
    /// Publish the service's own ports.
    #[arg(long)]
    pub service_ports: bool,
    /// Give the container the service's name and aliases on its networks.
    #[arg(long)]
    pub use_aliases: bool,
    /// Progress output while the dependencies come up.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: crate::report::progress::Mode,
    /// The service whose configuration the container gets.
    pub service: String,
    /// The command and its arguments (default: the service's command).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Start the command and return at once.
    #[arg(short, long)]
    pub detach: bool,
    /// Do not allocate a TTY (default: one when stdin and stdout are terminals).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Run as this user (name or UID[:GID]).
    #[arg(short, long)]
    pub user: Option<String>,
    /// Set an environment variable (`KEY` alone takes it from this environment).
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Which container of the service (its container number).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub index: u32,
    /// Give the command extended privileges.
    #[arg(long)]
    pub privileged: bool,
    /// Accepted for Compose compatibility: stdin is always attached.
    #[arg(short = 'i', long, hide = true)]
    pub interactive: bool,
    /// The service whose container runs the command.
    pub service: String,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
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
