#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two icpheap binaries (before / after a change) as CPU-time ratios to one
mmap read pass over the same dump, interleaved in one run (issue 12).

  bench/abratio.py [--reps N] [--readpass BIN] OLD NEW DUMP ["heap -s;heap -stat;..."]

Every repetition runs `bench_readpass mmap DUMP`, then each command with
OLD and NEW back to back (which one goes first alternates between
repetitions), each its own process; the CPU time (user + system, wait4) of
each run is divided by the read pass of its repetition.  Printed: the
median and min..max of those ratios per command and binary.  CPU rather
than wall time: the development machine's 2 cores are shared, and wall
ratios scatter 2-5x.  A binary given as VAR=VALUE:PATH runs with that
environment variable set (A/B of a run-time switch).
"""
import argparse
import os
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu(argv):
    env = dict(os.environ)
    if "=" in argv[0] and ":" in argv[0]:
        var, path = argv[0].split(":", 1)
        k, v = var.split("=", 1)
        env[k] = v
        argv = [path] + argv[1:]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--readpass", default=os.path.join(HERE, "..", "build", "bench", "bench_readpass"))
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("dump")
    ap.add_argument("commands", nargs="?", default="heap -s;heap -stat;heap -v;analyze -q")
    a = ap.parse_args()
    cmds = [c.strip() for c in a.commands.split(";") if c.strip()]
    res = {(c, b): [] for c in cmds for b in ("old", "new")}
    base = []
    for r in range(a.reps):
        m = cpu([a.readpass, "mmap", a.dump])
        base.append(m)
        for c in cmds:
            order = [("old", a.old), ("new", a.new)]
            if r % 2:
                order.reverse()
            for tag, b in order:
                res[(c, tag)].append(cpu([b] + c.split() + [a.dump]) / m)
    print(f"{os.path.basename(a.dump)}: {a.reps} repetitions, mmap pass CPU median "
          f"{statistics.median(base) * 1000:.1f} ms; CPU ratio to it, median (min..max)")
    for c in cmds:
        o, n = res[(c, "old")], res[(c, "new")]
        print(f"{c:40s} old {statistics.median(o):5.2f} ({min(o):.2f}..{max(o):.2f})"
              f"  new {statistics.median(n):5.2f} ({min(n):.2f}..{max(n):.2f})")


if __name__ == "__main__":
    main()
