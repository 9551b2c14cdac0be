#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden text: run icpheap with each line of GOLDEN_DIR/CASES on DUMP and
compare stdout byte for byte with the hand-checked golden file (the exit
status is not compared: -l and -triage exit 1 on findings).

usage: test_golden_cases.py ICPHEAP DUMP GOLDEN_DIR
"""
import os
import subprocess
import sys

icp, dump, gdir = sys.argv[1:4]
dump = os.path.abspath(dump)
passed = failed = 0
for line in open(os.path.join(gdir, "CASES")):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    gold, args = (x.strip() for x in line.split("|", 1))
    # {dir}: the dump's directory (heap-diff's older dump lies beside it)
    argv = [a.replace("{dir}", os.path.dirname(os.path.abspath(dump))) for a in args.split()]
    r = subprocess.run([icp, *argv, dump], capture_output=True, text=True, timeout=60)
    if "{dir}" in args:
        want_path_dir = os.path.dirname(os.path.abspath(dump))
        r.stdout = r.stdout.replace(want_path_dir, "{dir}")
    want = open(os.path.join(gdir, gold)).read()
    if r.returncode in (0, 1) and r.stdout == want:
        passed += 1
    else:
        failed += 1
        print("FAIL %s (exit %d)\n--- want\n%s--- got\n%s%s" % (gold, r.returncode, want, r.stdout, r.stderr))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
