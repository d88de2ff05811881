#!/usr/bin/env bash
# Benchmark the flagship stack (stacks/ai-stack) side by side with Docker
# Compose v2 on the same files:
#   - stacks/ai-stack/images.sh with the images present (the content-hash check);
#   - with COLD=1, one rebuild of every image (`images.sh --force`, the .deb
#     cache kept) and, with COLD=empty, one with an empty .deb cache too
#     (downloads everything from the Debian mirror again);
#   - `up --wait` of a fresh project, a no-op `up --wait`, `down -v`, RUNS
#     times, aistack and compose alternating (and which one goes first).
# Every run uses a fresh project name and its own free host port, and is
# swept by label afterwards. Prints markdown tables. Not run by the tests.
#
# Usage: scripts/bench-ai-stack.sh                  # RUNS=5 by default
#        COLD=1 RUNS=3 scripts/bench-ai-stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-$root/target}/release/aistack"
[ -x "$bin" ] || { echo "no release binary at $bin" >&2; exit 1; }
docker compose version >/dev/null

if [[ ${COLD:-} == empty ]]; then
  cache=$(mktemp -d)
  trap 'rm -rf "$cache"' EXIT
  start=$EPOCHREALTIME
  AISTACK_REAL_CACHE=$cache stacks/ai-stack/images.sh --force
  cold_empty=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
fi
if [[ -n ${COLD:-} ]]; then
  start=$EPOCHREALTIME
  stacks/ai-stack/images.sh --force
  cold=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
else
  stacks/ai-stack/images.sh
fi

SCRIPTS="$root/scripts" COLD_EMPTY=${cold_empty:-} COLD_CACHED=${cold:-} \
  RUNS=${RUNS:-5} WARMUP=${WARMUP:-1} python3 - "$bin" "$root" <<'PY'
import os, socket, statistics, sys

sys.path.insert(0, os.environ["SCRIPTS"])
from benchlib import leftovers, sweep, timed

bin, root = sys.argv[1], sys.argv[2]
runs, warmup = int(os.environ["RUNS"]), int(os.environ["WARMUP"])
stack = f"{root}/stacks/ai-stack"
files = ["-f", f"{stack}/compose.yaml", "--env-file", f"{stack}/.env.example"]
TOOLS = {
    "aistack": lambda p, *a: [bin, "-p", p, *files, *a],
    "compose": lambda p, *a: ["docker", "compose", "-p", p, *files, *a],
}
OPS = {
    "aistack": {"up": ["up", "--wait"], "noop": ["up", "--wait"], "down": ["down", "-v"]},
    "compose": {"up": ["up", "-d", "--wait"], "noop": ["up", "-d", "--wait"], "down": ["down", "-v"]},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


seq = 0
failed = []


def one_run(tool):
    global seq
    seq += 1
    project = f"bench-ai-{tool}-{os.getpid()}-{seq}"
    env = dict(os.environ, NGINX_PORT=str(free_port()))
    sweep(project)
    out = {}
    try:
        for op, args in OPS[tool].items():
            out[op] = timed(TOOLS[tool](project, *args), env=env)
    except RuntimeError as e:
        print(f"warning: {tool} failed, sample dropped: {str(e)[-600:]}", file=sys.stderr)
        failed.append(tool)
    finally:
        left = leftovers(project)
        sweep(project)
        if left:
            print(f"warning: {tool} down left {len(left)} containers of {project}", file=sys.stderr)
    return out


check = [timed([f"{stack}/images.sh"]) for _ in range(5)]
times = {t: {op: [] for op in ("up", "noop", "down")} for t in TOOLS}
for i in range(warmup + runs):
    for tool in (["aistack", "compose"] if i % 2 == 0 else ["compose", "aistack"]):
        r = one_run(tool)
        if i >= warmup and len(r) == 3:
            for op, w in r.items():
                times[tool][op].append(w)
    print(f"ai-stack: run {i + 1}/{warmup + runs} done", file=sys.stderr)

print("| step | time |")
print("|---|---|")
if os.environ["COLD_EMPTY"]:
    print(f"| `images.sh --force`, empty `.deb` cache (everything downloaded) | {os.environ['COLD_EMPTY']} s |")
if os.environ["COLD_CACHED"]:
    print(f"| `images.sh --force`, `.deb` cache warm | {os.environ['COLD_CACHED']} s |")
print(f"| `images.sh`, images present (median of 5) | {statistics.median(check):.2f} s |")
print()
print("| command | aistack median | docker compose median | aistack/compose | runs |")
print("|---|---|---|---|---|")
for op, label in (("up", "up --wait (fresh project)"), ("noop", "no-op up --wait"), ("down", "down -v")):
    a, c = times["aistack"][op], times["compose"][op]
    if a and c:
        am, cm = statistics.median(a), statistics.median(c)
        print(f"| {label} | {am:.2f} s | {cm:.2f} s | {am / cm:.2f} | {len(a)}/{len(c)} |")
if failed:
    print(f"\nRuns dropped after a failure: {', '.join(failed)}")
PY
