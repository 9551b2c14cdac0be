#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Each icpheap path as a ratio to one read pass over the same file,
measured in the same run (issue 12).

Every repetition runs, back to back, the yardsticks (bench_readpass: mmap
pass, read() into a page-aligned and into an unaligned buffer; cat) and
every command, each as its own process timed from here, so the machine's
load hits a command and its yardstick alike.  Reported: the median over the
repetitions of each pair's ratio (command / yardstick of the same
repetition), and the spread (min..max) of that ratio to show the noise.

  bench/ratio.py [--reps N] [--cold] [--icpheap BIN] [--readpass BIN] DUMP

--cold evicts the file from the page cache (posix_fadvise DONTNEED) before
every run and compares with `cat FILE > /dev/null` (cold).  Output goes to
/dev/null: the figures are the cost of producing it.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

COMMANDS = [
    ("heap -s", ["heap", "-s"]),
    ("heap -stat", ["heap", "-stat"]),
    ("heap -v", ["heap", "-v"]),
    ("analyze", ["analyze", "-q"]),
    ("heap -a", ["heap", "-a"]),
    ("heap -a --json", ["--json", "heap", "-a"]),
    ("heap -l", ["heap", "-l"]),
]


CPU = {}


def timed(argv):
    """Wall seconds; the child's CPU seconds (user + system) go to CPU."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    CPU.setdefault(" ".join(argv), []).append(ru.ru_utime + ru.ru_stime)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--icpheap", default="build/src/cli/icpheap")
    ap.add_argument("--readpass", default="build/bench/bench_readpass")
    ap.add_argument("--only", help="comma-separated command labels")
    ap.add_argument("dump")
    a = ap.parse_args()
    cmds = COMMANDS
    if a.only:
        keep = a.only.split(",")
        cmds = [c for c in COMMANDS if c[0] in keep]
    rp, dump = a.readpass, a.dump
    yard = {
        "mmap pass": [rp, "mmap", dump],
        "read aligned": [rp, "read", dump, "0"],
        "read +64": [rp, "read", dump, "64"],
        "read +2048": [rp, "read", dump, "2048"],
        "cat": ["cat", dump],
    }
    if a.cold:
        yard = {"cat": ["cat", dump]}
    drop = [rp, "drop", dump]
    times = {k: [] for k in list(yard) + [c[0] for c in cmds]}
    cpu = {k: [] for k in times}
    for rep in range(a.reps):
        for label, argv in list(yard.items()) + [(c[0], [a.icpheap] + c[1] + [dump]) for c in cmds]:
            if a.cold:
                subprocess.run(drop, stdout=subprocess.DEVNULL)
            times[label].append(timed(argv))
            cpu[label].append(CPU[" ".join(argv)][-1])
    size = os.path.getsize(dump)
    base = "cat" if a.cold else "mmap pass"
    print("%s: %.1f MiB, %d repetitions, %s page cache; ratios to '%s' of the same repetition"
          % (dump, size / 2**20, a.reps, "cold" if a.cold else "warm", base))
    print("wall time (what a user waits) and CPU time (user + system: less")
    print("sensitive to other engineers' load on the shared cores)")
    print("%-16s %10s %8s %16s %10s %8s %16s" % ("path", "wall s", "ratio", "min..max", "cpu s", "ratio", "min..max"))
    for label, ts in times.items():
        rs = [t / b for t, b in zip(ts, times[base])]
        cs = [t / max(b, 1e-6) for t, b in zip(cpu[label], cpu[base])]
        print("%-16s %10.4f %8.2f %7.2f..%-7.2f %10.4f %8.2f %7.2f..%-7.2f" % (
            label, statistics.median(ts), statistics.median(rs), min(rs), max(rs),
            statistics.median(cpu[label]), statistics.median(cs), min(cs), max(cs)))
    if not a.cold and "heap -s" in times and "heap -a --json" in times:
        rs = [j / s for j, s in zip(times["heap -a --json"], times["heap -s"])]
        cs = [j / max(s, 1e-6) for j, s in zip(cpu["heap -a --json"], cpu["heap -s"])]
        print("%-16s %10s %8.2f %7.2f..%-7.2f %10s %8.2f %7.2f..%-7.2f" % (
            "-a --json / -s", "", statistics.median(rs), min(rs), max(rs), "",
            statistics.median(cs), min(cs), max(cs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
