#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The output-pass yardstick (issue 12): bench_readpass out writes exactly
the bytes asked for, refilling its buffer before each write, after a read
pass over the whole file; abratio.py --outpass sizes it by the command's
real output and prints the ratios it promises.

  test_outpass.py BENCH_READPASS ICPHEAP ABRATIO DUMP
"""
import os
import re
import subprocess
import sys

rp, icpheap, abratio, dump = sys.argv[1:5]
# the tests' one assertion helper (tests/e2e/e2echeck.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from e2echeck import FAILS, check  # noqa: E402


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, f"{argv}: exit {p.returncode}")
    return p.stdout, p.stderr.decode()


# the output pass alone: N bytes, chunk c (the JSON writer's ICH_JSON_BUF,
# 256 KiB) filled with '0' + c % 64
CHUNK = 262144
for n in (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 16 * CHUNK + 3, 70 * CHUNK):
    out, err = run([rp, "out", "/dev/null", str(n)])
    check(len(out) == n, f"out /dev/null {n}: {len(out)} bytes written")
    want = b"".join(bytes([0x30 + c % 64]) * min(CHUNK, n - c * CHUNK) for c in range((n + CHUNK - 1) // CHUNK))
    check(out == want, f"out /dev/null {n}: not one memset byte per {CHUNK // 1024} KiB chunk")
    check(re.fullmatch(r"out \d+\.\d+ 0\n", err) is not None, f"out /dev/null {n}: stderr {err!r}")

# read pass + output pass: the mmap pass's checksum (every line of the dump)
m, _ = run([rp, "mmap", dump])
msum = m.decode().split()[2]
out, err = run([rp, "out", dump, "100000"])
check(len(out) == 100000, f"out DUMP 100000: {len(out)} bytes")
check(err.split()[2:3] == [msum], f"out DUMP: checksum {err.split()[2:3]} != mmap pass {msum}")

# abratio --outpass: each command's byte count is its real output's
jout, _ = run([icpheap, "--json", "heap", "-a", dump])
sout, _ = run([icpheap, "heap", "-s", dump])
for dest in ("null", "pipe"):
    txt, _ = run([sys.executable, abratio, "--reps", "1", "--readpass", rp, "--outpass", "--per", "heap -s",
                  "--dest", dest, icpheap, icpheap, dump, "heap -s;--json heap -a"])
    txt = txt.decode()
    print(txt)
    check(f"--json heap -a: {len(jout)} bytes out" in txt, f"{dest}: -a --json's byte count ({len(jout)}) not printed")
    check(f"heap -s: {len(sout)} bytes out" in txt, f"{dest}: -s's byte count ({len(sout)}) not printed")
    for head in ("CPU ratio to read pass + output pass", "CPU ratio to heap -s of the same repetition"):
        check(head in txt, f"{dest}: no '{head}' section")
    ratios = re.findall(r"^(--json heap -a|heap -s) +old +([0-9.]+) .*new +([0-9.]+)", txt, re.M)
    # -s, -a: to the read pass, to read+out; -a: to -s
    check(len(ratios) == 5 and all(float(o) > 0 and float(n) > 0 for _, o, n in ratios),
          f"{dest}: ratios {ratios}")
sys.exit(1 if FAILS else 0)
