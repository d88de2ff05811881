#!/usr/bin/env bash
# The flagship stack end to end, as CI runs it (issue 5): build the offline
# images (or find them: a content-hash check of ~0.2 s), then
# `aistack test -- stacks/ai-stack/smoke.sh`, which brings the stack up with
# --wait under its own project name, runs the checks (chat through nginx,
# SSE streaming, redis cache hit, postgres record, isolation, no published
# database port, non-root), and always tears it down. Finally checks that
# nothing labelled with that project is left.
#
# Usage: scripts/smoke-ai-stack.sh [AISTACK_BIN]   (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/aistack}
[ -x "$bin" ] || cargo build --locked -q
stack=stacks/ai-stack

stacks/ai-stack/images.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
timeout 900 "$bin" -f "$stack/compose.yaml" --env-file "$stack/.env.example" \
  test --timeout 300 --progress plain -- "$stack/smoke.sh" 2>&1 | tee "$out" || rc=$?
project=$(sed -n 's/^test: project //p' "$out" | head -n 1)
if [ -z "$project" ]; then
  echo "smoke-ai-stack: aistack test did not report its project" >&2
  exit 1
fi
left=$(
  timeout 60 docker ps -aq --filter "label=com.docker.compose.project=$project"
  timeout 60 docker network ls -q --filter "label=com.docker.compose.project=$project"
  timeout 60 docker volume ls -q --filter "label=com.docker.compose.project=$project"
)
if [ -n "$left" ]; then
  echo "smoke-ai-stack: resources of $project left behind: $(echo "$left" | tr '\n' ' ')" >&2
  exit 1
fi
echo "smoke-ai-stack: nothing of $project left behind"
exit "$rc"
