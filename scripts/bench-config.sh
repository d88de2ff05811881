#!/usr/bin/env bash
# Benchmark `aistack config -q` against `docker compose config -q` on a
# generated 1,000-service file. Prints a markdown table row per case.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/gen-stack.py 1000 "$work/s1000"
python3 scripts/gen-stack.py 100 "$work/s100"
bin="$PWD/target/release/aistack"
runs=${RUNS:-15}
echo "| case | aistack median | docker compose median | ratio | aistack max RSS | compose max RSS | runs |"
echo "|---|---|---|---|---|---|---|"
for n in 1000 100; do
  python3 scripts/bench.py --runs "$runs" --name "config -q, $n services" --cwd "$work/s$n" \
    -- "$bin config -q" -- "docker compose config -q" | tail -1
done
python3 scripts/bench.py --runs "$runs" --name "config --format json, 1000 services" --cwd "$work/s1000" \
  -- "$bin config --format json" -- "docker compose config --format json" | tail -1
