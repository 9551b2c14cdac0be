#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Output that cannot be written is an error, never a silent cut.

Every command's text and JSON (compact, pretty, JSONL) goes to /dev/full,
whose writes fail with ENOSPC: the run must exit 4 (icpheap(1) EXIT
STATUS: "cannot write the output") and say so on stderr.  Before this test
the JSON writer's direct write(2) dropped the failure, so
`icpheap --json heap -s DUMP > full-disk/out.json` exited 0 with a cut
document.  The same commands to /dev/null must still exit as they do
normally (0 or their findings code), so the check is about the write, not
the command.

  test_output_errors.py ICPHEAP ROOT
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import check, FAILS, PASSED  # noqa: E402

exe, root = sys.argv[1], sys.argv[2]
sample = os.path.join(root, "testdata", "sample", "x64-19045.dmp")
real = os.path.join(root, "testdata", "real")

if not os.path.exists("/dev/full"):
    print("SKIP: no /dev/full on this system")
    sys.exit(77)

RUNS = [
    ["info"],
    ["--json", "info"],
    ["heap", "-s"],
    ["--json", "heap", "-s"],
    ["--json", "--pretty", "heap", "-s"],
    ["heap", "-a"],
    ["--json", "heap", "-a"],
    ["--json", "--pretty", "heap", "-a"],
    ["heap", "-stat"],
    ["--json", "heap", "-stat"],
    ["heap", "-l"],
    ["--json", "heap", "-l"],
    ["analyze", "--fail-on", "none"],
    ["--json", "analyze", "--fail-on", "none"],
    ["analyze", "--jsonl", "--fail-on", "none"],
]

for args in RUNS:
    what = " ".join(args)
    with open("/dev/null", "wb") as null:
        ok = subprocess.run([exe] + args + [sample], stdout=null, stderr=subprocess.PIPE, timeout=60)
    check(ok.returncode in (0, 1), "%s > /dev/null exits 0 or 1 (%d)" % (what, ok.returncode))
    with open("/dev/full", "wb") as full:
        r = subprocess.run([exe] + args + [sample], stdout=full, stderr=subprocess.PIPE, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 4, "%s > /dev/full exits 4 (%d)" % (what, r.returncode))
    check("writing output" in err and "No space left on device" in err,
          "%s > /dev/full says it could not write (%r)" % (what, err[-200:]))

# A folder of dumps, written as it goes (JSONL: one line per dump).
with open("/dev/full", "wb") as full:
    r = subprocess.run([exe, "analyze", "--jsonl", "-q", "--fail-on", "none", real],
                       stdout=full, stderr=subprocess.PIPE, timeout=300)
check(r.returncode == 4, "--jsonl analyze FOLDER > /dev/full exits 4 (%d)" % r.returncode)

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
