#!/usr/bin/env bash
# The main job (README): build aistack and load the flagship AI stack the way
# `docker compose` would, print its normalized model and dependency graph.
# Bringing the stack up arrives with the runtime (`aistack up`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
stack=stacks/ai-stack
env_file=$stack/.env
[ -f "$env_file" ] || env_file=$stack/.env.example
bin=target/release/aistack
"$bin" -f "$stack/compose.yaml" --env-file "$env_file" config
"$bin" -f "$stack/compose.yaml" --env-file "$env_file" graph
