//! All integration tests in one binary (one link step on a 2-core machine).
//! Loader tests run the real `aistack` binary on fixture directories; the
//! oracle tests run `docker compose` on the same fixtures and compare.

mod support;

mod architecture;
mod cli_config;
mod cli_graph;
mod cli_lint;
mod config_golden;
mod config_oracle;
mod config_roundtrip;
mod engine_docker;
mod hostile_input;
mod runtime_build;
mod runtime_ci;
mod runtime_commands;
mod runtime_conditions;
mod runtime_faults;
mod runtime_guide;
mod runtime_lifecycle;
mod runtime_ps_logs;
mod runtime_run_exec;
mod runtime_secrets;
mod runtime_support;
mod runtime_swarm;
mod runtime_verify;
