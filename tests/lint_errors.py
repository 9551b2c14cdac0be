#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An error-returning read tested with `!` leaks the error it returns (and
hides a failure that is not a fault).  Such reads go through
ich_error_catch / ich_error_ok (include/icpheap/error.h), or assign the
error.  The compiler catches a result dropped altogether (ICH_MUST_CHECK);
this catches the `if (!ich_as_read_u32(...))` shape it cannot see.

usage: lint_errors.py SRC_DIR INCLUDE_DIR"""
import os
import re
import sys

# Every public function that returns struct ich_error *, from the headers.
names = set()
decl = re.compile(r"struct\s+ich_error\s*\*\s*(ich_\w+)\s*\(")
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        if f.endswith(".h"):
            names.update(decl.findall(open(os.path.join(root, f), encoding="utf-8").read()))
names.discard("ich_error_create")
if not names:
    sys.exit("no error-returning functions found under " + sys.argv[2])
PAT = re.compile(r"!\s*(" + "|".join(sorted(names)) + r")\s*\(")
bad = []
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(root, f)
        for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            if PAT.search(line):
                bad.append("%s:%d: %s" % (path, n, line.strip()))
for b in bad:
    print("error result tested with '!' (leaks it; use ich_error_ok or ich_error_catch): " + b)
print("%d passed, %d failed" % (1 if not bad else 0, len(bad)))
sys.exit(1 if bad else 0)
