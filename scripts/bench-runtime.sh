#!/usr/bin/env bash
# Benchmark the runtime side by side with Docker Compose v2 on the same files:
# `up --wait` on a fresh project, a no-op `up --wait` on the running one, and
# `down -v`, for three stacks:
#   guide   the guide-shaped AI stack (tests/fixtures/runtime/guide), 1 s health intervals
#   flat50  50 independent services
#   chain10 a chain of 10 services, each waiting for the previous one to be healthy (1 s intervals)
# Runs alternate aistack / compose (and which one goes first) so both see the
# same machine state; every run uses a fresh project name and is torn down
# (and swept by label if anything is left). Prints a markdown table of
# medians and ratios. Uses the local test image aistack-test/busybox:1 (built
# here if missing; no registry). Not run by the tests.
#
# Usage: scripts/bench-runtime.sh            # RUNS=5 by default
#        RUNS=3 WARMUP=0 scripts/bench-runtime.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-$root/target}/release/aistack"
[ -x "$bin" ] || { echo "no release binary at $bin" >&2; exit 1; }
docker compose version >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

image=aistack-test/busybox:1
if ! docker image inspect "$image" >/dev/null 2>&1; then
  # The same image the integration tests build (tests/integration/runtime_support.rs).
  ctx="$work/image"
  mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/www"
  cp /bin/busybox "$ctx/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
  echo 'hello from aistack' >"$ctx/rootfs/www/index.html"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY rootfs/ /
RUN ["/bin/sh", "-c", "mkdir -p /tmp /data /home/app && chmod 1777 /tmp && chown 1000:1000 /data /home/app"]
EOF
  DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null
fi

mkdir -p "$work/guide" "$work/flat50" "$work/chain10"
cp tests/fixtures/runtime/guide/compose.yaml "$work/guide/compose.yaml"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
idle = """["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"""
with open(f"{work}/flat50/compose.yaml", "w") as f:
    f.write("services:\n")
    for i in range(50):
        f.write(f"  s{i:02}:\n    image: aistack-test/busybox:1\n    command: {idle}\n")
with open(f"{work}/chain10/compose.yaml", "w") as f:
    f.write("services:\n")
    for i in range(10):
        f.write(f"  s{i}:\n    image: aistack-test/busybox:1\n    command: {idle}\n")
        f.write("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1s\n      timeout: 2s\n      retries: 3\n")
        if i:
            f.write(f"    depends_on:\n      s{i-1}: {{condition: service_healthy}}\n")
PY

SCRIPTS="$root/scripts" FLOOR="$root/scripts/floor-client.py" RUNS=${RUNS:-5} WARMUP=${WARMUP:-1} python3 - "$bin" "$work" <<'PY'
import os, statistics, sys

sys.path.insert(0, os.environ["SCRIPTS"])
from benchlib import leftovers, sweep, timed

bin, work = sys.argv[1], sys.argv[2]
runs, warmup = int(os.environ["RUNS"]), int(os.environ["WARMUP"])
CASES = [
    ("guide", "guide stack (6 services, 3 networks, 1 s health intervals)"),
    ("flat50", "50 independent services"),
    ("chain10", "chain of 10 health-gated services (1 s intervals)"),
]
floor = os.environ["FLOOR"]
TOOLS = {
    "aistack": lambda p, f, *a: [bin, "-p", p, "-f", f, *a],
    "aistack-engine": lambda p, f, *a: [bin, "-p", p, "-f", f, *a],
    "compose": lambda p, f, *a: ["docker", "compose", "-p", p, "-f", f, *a],
    "floor": lambda p, f, *a: ["python3", floor, *a[:1], "-p", p, *(["-f", f] if a[0] == "up" else [])],
}
# Health-gated stacks also run aistack with `--health-probe engine`; every
# stack also runs the floor: a minimal event-driven Engine API client
# (scripts/floor-client.py) that waits for the engine's own verdicts, i.e. the
# least time the engine needs for the stack, whatever the client.
HEALTH_GATED = {"guide", "chain10"}
OPS = {
    "aistack": {"up": ["up", "--wait"], "noop": ["up", "--wait"], "down": ["down", "-v"]},
    "compose": {"up": ["up", "-d", "--wait"], "noop": ["up", "-d", "--wait"], "down": ["down", "-v"]},
    "aistack-engine": {"up": ["up", "--wait", "--health-probe", "engine"], "down": ["down", "-v"]},
    "floor": {"up": ["up"], "down": ["down"]},
}
seq = 0
FAILED = []


def one_run(tool, case):
    """up --wait, no-op up --wait, down -v on a fresh project: three wall times."""
    global seq
    seq += 1
    project = f"bench-{case}-{tool}-{os.getpid()}-{seq}"
    cwd = f"{work}/{case}"
    sweep(project)
    try:
        out = {}
        for op, args in OPS[tool].items():
            try:
                out[op] = timed(TOOLS[tool](project, "compose.yaml", *args), cwd, tool == "floor" and op == "up")
            except RuntimeError as e:
                # Engine 20.10 sometimes keeps a stale endpoint count and refuses
                # to remove a network (moby/moby#42119): report it, drop the
                # sample, sweep, and go on.
                print(f"warning: {tool} {op} failed, sample dropped: {str(e)[-400:]}", file=sys.stderr)
                FAILED.append(f"{case} {tool} {op}")
                break
        return out
    finally:
        left = leftovers(project)
        sweep(project)
        if left:
            print(f"warning: {tool} down left {len(left)} containers of {project}", file=sys.stderr)


rows, floor_rows = [], []
for case, title in CASES:
    times = {t: {op: [] for op in ("up", "noop", "down")} for t in TOOLS}
    for i in range(warmup + runs):
        order = ["aistack", "compose"] if i % 2 == 0 else ["compose", "aistack"]
        extra = ["aistack-engine", "floor"] if case in HEALTH_GATED else ["floor"]
        order += extra if i % 2 == 0 else extra[::-1]
        for tool in order:
            r = one_run(tool, case)
            if i >= warmup and len(r) == len(OPS[tool]):
                for op, w in r.items():
                    times[tool][op].append(w)
        print(f"{case}: run {i + 1}/{warmup + runs} done", file=sys.stderr)
    for op, label in (("up", "up --wait"), ("noop", "no-op up --wait"), ("down", "down -v")):
        a = statistics.median(times["aistack"][op])
        c = statistics.median(times["compose"][op])
        rows.append(f"| {title} | {label} | {a:.2f} s | {c:.2f} s | {a / c:.2f} | {runs} |")
    tool = "aistack-engine" if case in HEALTH_GATED else "aistack"
    e = statistics.median(times[tool]["up"])
    f = statistics.median(times["floor"]["up"])
    c = statistics.median(times["compose"]["up"])
    probe = "`--health-probe engine`" if case in HEALTH_GATED else "(no health checks)"
    floor_rows.append(f"| {title} | {probe} {e:.2f} s | {f:.2f} s | {e / f:.2f} | {f / c:.2f} | {runs} |")

print("| stack | command | aistack median | docker compose median | aistack/compose | runs |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
print()
print("| stack | aistack `up --wait` median | floor client median | aistack/floor | floor/compose | runs |")
print("|---|---|---|---|---|---|")
print("\n".join(floor_rows))
if FAILED:
    print(f"\nRuns dropped after an engine failure: {', '.join(FAILED)}")
PY
