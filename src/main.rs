//! The `aistack` binary: parse arguments, run the command, map the outcome to
//! an exit code (decided in `exit.rs`).

use clap::Parser;

// Loading a large project allocates many small nodes; mimalloc makes that
// markedly cheaper than glibc malloc (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aistack::cli::Cli;
use aistack::exit::{Exit, exit_for};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = if e.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            };
            std::process::exit(code);
        }
    };
    aistack::logging::init();
    match aistack::commands::run(cli) {
        Ok(()) => std::process::exit(Exit::Ok.code()),
        Err(e) => {
            // Errors already shown with a full diagnostic carry this marker.
            if !e.chain().any(|c| c.to_string() == aistack::REPORTED) {
                let text = format!("{e:#}");
                eprintln!("error: {}", aistack::report::redact::text(&text));
            }
            std::process::exit(exit_for(&e).code());
        }
    }
}
