#!/usr/bin/env bash
# The main job (README): the flagship AI stack (stacks/ai-stack) on this
# machine, offline. Builds aistack and the stack's images (once per machine:
# content-hash tags make later runs a ~0.2 s check), brings the stack up with
# `aistack up --wait`, and sends a chat through nginx, which answers with the
# model's reply. The stack stays up; the last line says how to remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -q
bin=${CARGO_TARGET_DIR:-target}/release/aistack
stack=stacks/ai-stack
env_file=$stack/.env
[ -f "$env_file" ] || env_file=$stack/.env.example
aistack() { "$bin" -f "$stack/compose.yaml" --env-file "$env_file" "$@"; }

"$stack/images.sh"
aistack up --wait --wait-timeout 300
port=$(sed -n 's/^NGINX_PORT=//p' "$env_file" | tail -n 1)
port=${port:-8080}
echo "POST http://127.0.0.1:$port/chat"
curl -sS -m 30 -H 'content-type: application/json' \
  -d '{"message": "hello from aistack"}' "http://127.0.0.1:$port/chat"
echo
echo "The stack is up (aistack ps: $bin -f $stack/compose.yaml --env-file $env_file ps)."
echo "Remove it with: $bin -f $stack/compose.yaml --env-file $env_file down -v"
