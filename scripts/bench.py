#!/usr/bin/env python3
"""Side-by-side command benchmark: runs each pair alternately (A, B, A, B, ...)
so both see the same machine state, and reports medians of wall time and peak
memory (max RSS of the process, from wait4) plus the ratio A/B per pair.

Usage: bench.py --runs N --name NAME --cwd DIR -- 'cmd A' -- 'cmd B' [--markdown FILE]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import time


def run_once(cmd, cwd, env):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {code}: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0  # MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--name", required=True)
    ap.add_argument("--cwd", default=".")
    ap.add_argument("--markdown")
    ap.add_argument("commands", nargs="+")
    args = ap.parse_args()
    cmds = [shlex.split(c) for c in " ".join(args.commands).split(" -- ") if c.strip() and c.strip() != "--"]
    if len(cmds) != 2:
        raise SystemExit("give exactly two commands separated by ' -- '")
    env = dict(os.environ)
    for _ in range(args.warmup):
        for c in cmds:
            run_once(c, args.cwd, env)
    walls = [[], []]
    rss = [[], []]
    for _ in range(args.runs):
        for i, c in enumerate(cmds):
            w, m = run_once(c, args.cwd, env)
            walls[i].append(w)
            rss[i].append(m)
    med = [statistics.median(w) for w in walls]
    mem = [statistics.median(m) for m in rss]
    row = (
        f"| {args.name} | {med[0]*1000:.1f} ms | {med[1]*1000:.1f} ms | {med[0]/med[1]:.3f} "
        f"| {mem[0]:.1f} MiB | {mem[1]:.1f} MiB | {args.runs} |"
    )
    print(f"A: {' '.join(cmds[0])}\nB: {' '.join(cmds[1])}")
    print("| case | A median | B median | A/B | A max RSS | B max RSS | runs |")
    print(row)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(row + "\n")


if __name__ == "__main__":
    main()
