"""Helpers shared by the side-by-side benchmarks (scripts/bench-*.sh).

Owns: label sweeps of a benchmark project and timing one command with a
deadline. Must not decide what is measured or how it is reported.
"""

import subprocess
import time

LIMIT = 600  # seconds for any one command


def sweep(project):
    """Remove whatever is left of a project, by Compose's project label."""
    label = f"label=com.docker.compose.project={project}"
    for ls, rm in (
        (["ps", "-aq", "--filter", label], ["rm", "-f", "-v"]),
        (["network", "ls", "-q", "--filter", label], ["network", "rm"]),
        (["volume", "ls", "-q", "--filter", label], ["volume", "rm", "-f"]),
    ):
        ids = subprocess.run(["docker", *ls], capture_output=True, text=True, timeout=120).stdout.split()
        if ids:
            subprocess.run(["docker", *rm, *ids], capture_output=True, timeout=120)


def leftovers(project):
    """Containers still labelled with the project."""
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, timeout=120,
    ).stdout.split()


def timed(cmd, cwd=None, own_clock=False, env=None):
    """Wall time of cmd; with own_clock, the seconds it prints itself as the
    last word of its output. Raises RuntimeError (with the tail of stderr)
    when the command fails."""
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=LIMIT)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return float(p.stdout.split()[-1]) if own_clock else wall
