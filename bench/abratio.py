#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two icpheap binaries (before / after a change) as CPU-time ratios to one
mmap read pass over the same dump, interleaved in one run (issue 12).

  bench/abratio.py [--reps N] [--warmup N] [--state keep|4k|mmap|cat] [--cold]
                   [--readpass BIN] [--touched LIST]
                   [--dest null|pipe] [--outpass] [--per CMD] OLD NEW DUMP ["heap -s;..."]

Every repetition runs `bench_readpass mmap DUMP`, then each command with
OLD and NEW back to back (which one goes first alternates between
repetitions), each its own process; the CPU time (user + system, wait4) of
each run is divided by the read pass of its repetition.  Printed: the
median and min..max of those ratios per command and binary.  CPU rather
than wall time: the development machine's 2 cores are shared, and wall
ratios scatter 2-5x.  A binary given as VAR=VALUE:PATH runs with that
environment variable set (A/B of a run-time switch).

What a warm figure depends on (bench/README.md, "Measuring a warm ratio
stably"): the page-cache state of the dump (how it entered the cache: the
same mmap pass costs ~2.3x more over 4 KiB folios than over 2 MiB ones,
and the command's fixed costs do not shrink with it, so the ratio moves
by ~0.2), and the neighbours on the 2 shared cores (single repetitions
scatter by +-30%).  So: --state sets the state before the run (4k: 4 KiB
folios, as a freshly written dump; mmap: evicted and read back by one mmap
pass; cat: evicted and read back by cat, 2 MiB folios: the cheapest pass
and so the highest ratio; keep: as it is); --warmup repetitions run first
and are not counted (a dump idle for a minute is partly evicted by the VM's
reclaim, and the first run reads it back); the read pass's page faults are
printed (about size / 64 KiB: small folios, about size / 2 MiB: 2 MiB
folios) with each command's, the medians of the first and the second
half of the repetitions (they agree within ~0.03 at 21+ repetitions when
the machine's load stays under ~8), and the ratio of the lower quartiles
(command over read pass: the least disturbed costs; within ~0.02 of the
median when the run is quiet, more stable than it when it is not).

--dest: where every run's standard output goes, yardsticks included:
/dev/null (default), or a pipe that a `cat` drains into /dev/null (its
CPU is not counted; the writer's is, with the kernel's copy into the pipe).

--outpass: the physical limit of a command that prints is one pass over
the bytes it reads plus producing its output.  Before the repetitions,
each command's output is counted once (NEW, in bytes); every repetition
then also runs `bench_readpass out DUMP N` (the mmap pass, then N bytes
written to the same destination from a 64 KiB buffer, the JSON writer's
size, filled before each write) and `bench_readpass out /dev/null N` (the
output pass alone), and each command is also printed as a ratio to the
first: "/ read+out".  For a command whose output is small (heap -s) the
two ratios agree; for heap -a --json on a segment-heap dump (306 MB of
JSON from 34 MB) the output pass is most of the limit.

--per CMD: each command's CPU also as a ratio to CMD's (one of the
commands) in the same repetition and binary: issue 12's (-a --json)/(-s).

--cold: before every run the dump is evicted from the page cache
(`bench_readpass drop`, which checks with mincore that nothing stayed
cached), and the yardstick is a cold `cat DUMP` (twice a repetition: the
ratio is to the mean of the two, and cat vs cat is printed as the noise
floor).  Wall time, not CPU: a cold run waits for the disk.  Printed per
command: each binary's median ratio to cat (min..max), and the median of
NEW / OLD within a repetition; the load average is printed too (the disk
and the cores are shared: cold figures scatter most, take >= 21 reps).
"""
import argparse
import os
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


DEST = "null"


def start(argv, stdout=subprocess.DEVNULL):
    """Start argv, its output discarded; a first word VAR=VALUE:PATH runs
    PATH with VAR set to VALUE."""
    env = dict(os.environ)
    if "=" in argv[0] and ":" in argv[0]:
        var, path = argv[0].split(":", 1)
        k, v = var.split("=", 1)
        env[k] = v
        argv = [path] + argv[1:]
    return subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.DEVNULL)


def cpu(argv, faults=None):
    """CPU seconds (user + system) of argv and of the children it waited
    for (analyze's forked child is counted), its output to DEST; its minor
    faults appended to faults."""
    if DEST == "null":
        # p kept until wait4 returns: a dropped Popen's __del__ polls, and
        # reaps a child that already exited (wait4 then fails, ECHILD)
        p = start(argv)
        _, st, ru = os.wait4(p.pid, 0)
    else:
        r, w = os.pipe()
        sink = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.DEVNULL)
        os.close(r)
        p = start(argv, stdout=w)
        os.close(w)
        _, st, ru = os.wait4(p.pid, 0)
        sink.wait()
    # killed (SIGPIPE from a sink that stopped reading): no figure
    if os.WIFSIGNALED(st):
        raise RuntimeError(f"{argv}: killed by signal {os.WTERMSIG(st)}")
    if faults is not None:
        faults.append(ru.ru_minflt)
    return ru.ru_utime + ru.ru_stime


def set_state(state, readpass, dump):
    """Put DUMP in the page-cache state asked for (see the top)."""
    if state == "keep":
        return
    if state == "4k":
        subprocess.run([readpass, "load4k", dump], stdout=subprocess.DEVNULL, check=True)
        return
    subprocess.run([readpass, "drop", dump], stdout=subprocess.DEVNULL, check=True)
    if state == "mmap":
        subprocess.run([readpass, "mmap", dump], stdout=subprocess.DEVNULL, check=True)
    else:
        subprocess.run(["cat", dump], stdout=subprocess.DEVNULL, check=True)


def halves(x):
    """The medians of the first and the second half of x."""
    h = len(x) // 2
    return f"halves {statistics.median(x[:h]):.2f}/{statistics.median(x[h:]):.2f}" if h else ""


def q25(x):
    """The lower quartile of x: the neighbours only ever add CPU time (a
    shared cache, memory bandwidth), so the low quantiles of two series
    are their least disturbed costs."""
    return sorted(x)[(len(x) - 1) // 4]


def out_bytes(argv):
    """The bytes argv writes to its standard output."""
    p = start(argv, stdout=subprocess.PIPE)
    n = 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        n += len(b)
    p.wait()
    return n


def med(v):
    return f"{statistics.median(v):5.2f} ({min(v):.2f}..{max(v):.2f})"


def wall(argv, readpass, dump):
    """Evict DUMP, then the wall seconds of argv (VAR=VALUE:PATH as in cpu)."""
    subprocess.run([readpass, "drop", dump], stdout=subprocess.DEVNULL, check=True)
    t0 = time.perf_counter()
    p = start(argv)
    os.wait4(p.pid, 0)
    return time.perf_counter() - t0


def cold(a, cmds):
    res = {(c, b): [] for c in cmds for b in ("old", "new")}
    paired = {c: [] for c in cmds}
    cats, loads = [], []
    for r in range(a.reps):
        loads.append(os.getloadavg()[0])
        c0 = wall(["cat", a.dump], a.readpass, a.dump)
        row = {}
        for c in cmds:
            order = [("old", a.old), ("new", a.new)]
            if r % 2:
                order.reverse()
            for tag, b in order:
                row[(c, tag)] = wall([b] + c.split() + [a.dump], a.readpass, a.dump)
        c1 = wall(["cat", a.dump], a.readpass, a.dump)
        base = (c0 + c1) / 2
        cats.append((c0, c1, c1 / c0))
        for k, t in row.items():
            res[k].append(t / base)
        for c in cmds:
            paired[c].append(row[(c, "new")] / row[(c, "old")])
    print(f"{os.path.basename(a.dump)}: cold, {a.reps} repetitions, load average "
          f"{min(loads):.1f}..{max(loads):.1f}; cold cat median {statistics.median(x[0] for x in cats) * 1000:.1f} ms")
    cc = [x[2] for x in cats]
    print(f"{'cat / cat (noise floor)':40s}     {statistics.median(cc):5.2f} ({min(cc):.2f}..{max(cc):.2f})")
    print("wall-time ratio to cold cat, median (min..max); new/old paired")
    for c in cmds:
        o, n, p = res[(c, "old")], res[(c, "new")], paired[c]
        print(f"{c:40s} old {statistics.median(o):5.2f} ({min(o):.2f}..{max(o):.2f})"
              f"  new {statistics.median(n):5.2f} ({min(n):.2f}..{max(n):.2f})"
              f"  new/old {statistics.median(p):5.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--warmup", type=int, default=1, help="repetitions run first and not counted")
    ap.add_argument("--state", choices=("keep", "4k", "mmap", "cat"), default="keep",
                    help="page-cache state of the dump, set once before a warm run")
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--readpass", default=os.path.join(HERE, "..", "build", "bench", "bench_readpass"))
    ap.add_argument("--touched", metavar="LIST",
                    help="also the ratio to a pass over only the pages in LIST (bench_readpass pages; "
                         "bench_kheaps --list-touched writes it for analyze --processes all)")
    ap.add_argument("--dest", choices=("null", "pipe"), default="null")
    ap.add_argument("--outpass", action="store_true",
                    help="also the ratio to the read pass plus an output pass of the command's output size")
    ap.add_argument("--per", metavar="CMD", help="also each command's CPU over CMD's (same repetition and binary)")
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("dump")
    ap.add_argument("commands", nargs="?", default="heap -s;heap -stat;heap -v;analyze -q")
    a = ap.parse_args()
    cmds = [c.strip() for c in a.commands.split(";") if c.strip()]
    if a.cold:
        cold(a, cmds)
        return
    global DEST
    DEST = a.dest
    if a.per and a.per not in cmds:
        ap.error("--per: not one of the commands")
    set_state(a.state, a.readpass, a.dump)
    nbytes = {c: out_bytes([a.new] + c.split() + [a.dump]) for c in cmds} if a.outpass else {}
    res = {(c, b): [] for c in cmds for b in ("old", "new")}
    tres = {(c, b): [] for c in cmds for b in ("old", "new")}
    ores = {(c, b): [] for c in cmds for b in ("old", "new")}
    pres = {(c, b): [] for c in cmds for b in ("old", "new")}
    flt = {(c, b): [] for c in cmds for b in ("old", "new")}
    raw = {(c, b): [] for c in cmds for b in ("old", "new")}
    base, tbase, bflt, loads = [], [], [], []
    obase = {c: [] for c in cmds}
    oalone = {c: [] for c in cmds}
    for r in range(-a.warmup, a.reps):
        keep = r >= 0	# the warm-up repetitions run everything, count nothing
        loads.append(os.getloadavg()[0])
        m = cpu([a.readpass, "mmap", a.dump], bflt if keep else None)
        t = cpu([a.readpass, "pages", a.dump, a.touched]) if a.touched else None
        if keep:
            base.append(m)
            tbase.append(t)
        row = {}
        for c in cmds:
            ro = None
            if a.outpass:
                ro = cpu([a.readpass, "out", a.dump, str(nbytes[c])])
                if keep:
                    obase[c].append(ro)
                    oalone[c].append(cpu([a.readpass, "out", "/dev/null", str(nbytes[c])]))
            order = [("old", a.old), ("new", a.new)]
            if r % 2:
                order.reverse()
            for tag, b in order:
                x = cpu([b] + c.split() + [a.dump], flt[(c, tag)] if keep else None)
                if not keep:
                    continue
                raw[(c, tag)].append(x)
                row[(c, tag)] = x
                res[(c, tag)].append(x / m)
                if t:
                    tres[(c, tag)].append(x / t)
                if ro:
                    ores[(c, tag)].append(x / ro)
        if a.per and keep:
            for (c, tag), x in row.items():
                pres[(c, tag)].append(x / row[(a.per, tag)])
    print(f"{os.path.basename(a.dump)}: {a.reps} repetitions (+{a.warmup} not counted), page cache: {a.state}, "
          f"load average {min(loads):.1f}..{max(loads):.1f}, output to {DEST}; mmap pass CPU median "
          f"{statistics.median(base) * 1000:.1f} ms, {statistics.median(bflt):.0f} faults; CPU ratio to it, "
          f"median (min..max), medians of the two halves, lower quartile / the read pass's, faults")
    for c in cmds:
        o, n = res[(c, "old")], res[(c, "new")]
        qo, qn = q25(raw[(c, "old")]) / q25(base), q25(raw[(c, "new")]) / q25(base)
        print(f"{c:40s} old {med(o)} {halves(o)} q25 {qo:.2f} {statistics.median(flt[(c, 'old')]):.0f}f"
              f"  new {med(n)} {halves(n)} q25 {qn:.2f} {statistics.median(flt[(c, 'new')]):.0f}f")
    if a.outpass:
        print("read pass + output pass of the command's output size (bench_readpass out), one process")
        for c in cmds:
            print(f"  {c}: {nbytes[c]} bytes out; read+out {statistics.median(obase[c]) * 1000:.1f} ms, "
                  f"output pass alone {statistics.median(oalone[c]) * 1000:.1f} ms")
        print("CPU ratio to read pass + output pass, median (min..max)")
        for c in cmds:
            print(f"{c:40s} old {med(ores[(c, 'old')])}  new {med(ores[(c, 'new')])}")
    if a.per:
        print(f"CPU ratio to {a.per} of the same repetition and binary, median (min..max)")
        for c in cmds:
            if c != a.per:
                print(f"{c:40s} old {med(pres[(c, 'old')])}  new {med(pres[(c, 'new')])}")
    if a.touched:
        print(f"pass over the listed pages only: CPU median {statistics.median(tbase) * 1000:.1f} ms; ratio to it")
        for c in cmds:
            o, n = tres[(c, "old")], tres[(c, "new")]
            print(f"{c:40s} old {statistics.median(o):5.2f} ({min(o):.2f}..{max(o):.2f})"
                  f"  new {statistics.median(n):5.2f} ({min(n):.2f}..{max(n):.2f})")


if __name__ == "__main__":
    main()
