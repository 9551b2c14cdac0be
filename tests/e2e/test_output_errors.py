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
import json
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

# Files analyze writes itself: each dump's report in a temporary file (its
# child process) and --out FILE (temporary file, then rename).  A file size
# limit (RLIMIT_FSIZE, SIGXFSZ ignored: writes fail with EFBIG) below one
# dump's report fails the child's; one above every report but below the
# whole --out document fails only --out.  Each must be exit 4 with the
# reason on stderr, and --out must leave neither FILE nor its temporary.
import resource  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402


def limited(size):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return pre


r = subprocess.run([exe, "analyze", "--json", "--fail-on", "none", sample],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limited(1000), timeout=60)
err = r.stderr.decode("utf-8", "replace")
check(r.returncode == 4, "analyze with its report's temporary file cut at 1000 bytes exits 4 (%d)" % r.returncode)
check("cannot write the report to a temporary file: File too large" in err,
      "... and says the report could not be written (%r)" % err[-200:])
doc = json.loads(r.stdout)
check([d["verdict"] for d in doc["dumps"]] == ["crashed"],
      "... and its JSON records the dump as an internal error, not a cut report (%r)"
      % [d.get("verdict") for d in doc["dumps"]])

whole = subprocess.run([exe, "analyze", "--json", "-q", "--fail-on", "none", real],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300).stdout
biggest = max(len(json.dumps(d)) for d in json.loads(whole)["dumps"])
limit = max(4 * biggest, 16384)
if limit < len(whole):
    d = tempfile.mkdtemp()
    out = os.path.join(d, "report.json")
    r = subprocess.run([exe, "analyze", "--json", "-q", "--fail-on", "none", "--out", out, real],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limited(limit), timeout=300)
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 4, "analyze --out with FILE cut at %d of %d bytes exits 4 (%d)" % (limit, len(whole), r.returncode))
    check("cannot write %s: File too large" % out in err, "... and says so (%r)" % err[-200:])
    check(os.listdir(d) == [], "... and leaves neither FILE nor its temporary file (%r)" % os.listdir(d))
    shutil.rmtree(d, ignore_errors=True)  # also when the check above failed
else:
    check(False, "testdata/real's analyze document (%d bytes) is larger than 4x its biggest dump record" % len(whole))

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
