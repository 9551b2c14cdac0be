# SPDX-License-Identifier: MIT
"""The e2e tests' one assertion helper: check(cond, what) counts a pass or
records and prints the failure; a test ends with
print("%d passed, %d failed" % (PASSED[0], len(FAILS))) and exits 1 when
FAILS is not empty."""

FAILS = []
PASSED = [0]


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what)
