#!/usr/bin/env bash
# The test command (README): set the machine up, check formatting and lints,
# run every test, then the flagship AI stack end to end (offline images,
# `aistack test -- stacks/ai-stack/smoke.sh`). With CI=true, tests that need
# Docker or the Compose oracle fail instead of skipping when those are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
bash scripts/smoke-ai-stack.sh
