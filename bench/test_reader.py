#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_reader's smoke test (review4): no test ran the benchmark, so a
change to the reader's API or to the program could break it unnoticed.
Each run uses tiny counts (-n, -r: well under a second in all) and checks
only what does not depend on the machine's speed: exit code 0, the two
summary lines scripts read (with the round count asked for), no failed
read, every path's sum equal to the raw loads', the three sequential
placements.

  test_reader.py BENCH_READER MINIDUMP KERNEL_DUMP VA_BASE VA_SIZE

The minidump is read with ranges picked alike and by size (-b); the
kernel dump over [VA_BASE, VA_BASE + VA_SIZE), which must be captured
(bench_reader draws an address it cannot peek again).
"""
import os
import re
import subprocess
import sys

br, minidump, kdump, va_base, va_size = sys.argv[1:6]
# the tests' one assertion helper (tests/e2e/e2echeck.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from e2echeck import FAILS, check  # noqa: E402


NUM = r"(?:[0-9.]+|-?inf|-?nan)"  # a rate from a few microseconds may be inf
for args, rounds in (([minidump], 3), ([minidump, "-b"], 2), ([kdump, va_base, va_size], 3)):
    argv = [br] + args + ["-n", "1000", "-r", str(rounds)]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, text=True)
    print(" ".join(argv))
    print(p.stdout, end="")
    check(p.returncode == 0, f"{argv}: exit {p.returncode}, stderr {p.stderr!r}")
    for dep in ("indep", "dep"):
        m = re.search(rf"^    summary {dep} raw {NUM} read {NUM} u64 {NUM} peek {NUM} raw2 {NUM} "
                      rf"kept (\d+)/(\d+)$", p.stdout, re.M)
        check(m is not None, f"{argv}: no '{dep}' summary line")
        if m:
            check(int(m[2]) == rounds and 1 <= int(m[1]) <= rounds, f"{argv}: {dep} kept {m[1]}/{m[2]}")
    check(re.search(r"^  failed reads 0, rounds whose sum differs from the raw loads' 0$", p.stdout, re.M)
          is not None, f"{argv}: failed reads or differing sums (or no such line)")
    check(len(re.findall(r"^  sequential ich_as_read into a buffer at page offset +(0|64|2048): ",
                         p.stdout, re.M)) == 3, f"{argv}: not three sequential placements")
# no dump: the usage, exit 2
p = subprocess.run([br], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, text=True)
check(p.returncode == 2 and "usage:" in p.stderr, f"no argument: exit {p.returncode}, stderr {p.stderr!r}")
sys.exit(1 if FAILS else 0)
