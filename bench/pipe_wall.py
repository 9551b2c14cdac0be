#!/usr/bin/env python3
"""pipe_wall.py [--reps N] OLD NEW DUMP "CMD" ["CONSUMER"]

Wall time and CPU of a pipeline `icpheap CMD DUMP | CONSUMER` (default
consumer: `cat >/dev/null`) for two binaries, run alternately (OLD, NEW,
then NEW, OLD, ...; one round not counted first).  CPU is both processes'
(user + system of the shell's children), wall the pipeline's.  abratio.py
--dest pipe counts the writer's CPU only; the cost of a pipe is mostly in
how often the two processes wait for each other, which wall time and the
consumer's CPU show (issue 12: the writer grows its pipe to 1 MiB).

Printed per binary: the median wall time (min), the median CPU, and NEW
over OLD for both.
"""
import argparse
import os
import statistics
import time


def run(binary, cmd, dump, consumer):
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/sh", ["sh", "-c", f"'{binary}' {cmd} '{dump}' | {consumer}"])
    _, st, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
        raise RuntimeError(f"{binary} {cmd} {dump} | {consumer}: status {st:#x}")
    return wall * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("dump")
    ap.add_argument("cmd")
    ap.add_argument("consumer", nargs="?", default="cat >/dev/null")
    a = ap.parse_args()
    res = {a.old: ([], []), a.new: ([], [])}
    for r in range(a.reps + 1):
        for b in (a.old, a.new) if r % 2 == 0 else (a.new, a.old):
            w, c = run(b, a.cmd, a.dump, a.consumer)
            if r:
                res[b][0].append(w)
                res[b][1].append(c)
    print(f"{os.path.basename(a.dump)}: {a.cmd} | {a.consumer}, {a.reps} repetitions")
    med = {}
    for name, b in (("old", a.old), ("new", a.new)):
        w, c = res[b]
        med[name] = (statistics.median(w), statistics.median(c))
        print(f"  {name}  wall {med[name][0]:7.1f} ms (min {min(w):7.1f})  CPU {med[name][1]:7.1f} ms")
    print(f"  new/old  wall {med['new'][0] / med['old'][0]:.2f}  CPU {med['new'][1] / med['old'][1]:.2f}")


if __name__ == "__main__":
    main()
