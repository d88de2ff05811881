//! tracing setup: quiet by default, `AISTACK_LOG=debug` (or RUST_LOG syntax) for more.

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AISTACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
