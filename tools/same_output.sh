#!/bin/bash
# SPDX-License-Identifier: MIT
# same_output.sh OLD NEW [BUILD_DIR]: run two icpheap binaries on every
# testdata dump and every dump the builders wrote (BUILD_DIR/tests/builder,
# default build) with the heap listing, JSON, -l and analyze commands (the
# HTML report too: its heap maps), and
# report each run whose stdout, stderr or exit code differ.  Output must
# stay byte-identical unless a change means it (issue 12's speed work
# compared the binaries before and after each change this way).
# Exit 0 when all runs agree, 1 otherwise.
set -u
OLD=$1 NEW=$2 BUILD=${3:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
dumps=$( (find "$ROOT/testdata" -type f \( -name '*.dmp' -o -name '*.bin' -o -name '*.gz' -o -name '*.mdmp' \);
	  find "$ROOT/$BUILD/tests/builder" -name '*.dmp') | sort)
n=0 fail=0
while IFS= read -r cmd; do
	for d in $dumps; do
		n=$((n + 1))
		$OLD $cmd "$d" >"$T/o1" 2>"$T/e1"; r1=$?
		$NEW $cmd "$d" >"$T/o2" 2>"$T/e2"; r2=$?
		if [ $r1 != $r2 ] || ! cmp -s "$T/o1" "$T/o2" || ! cmp -s "$T/e1" "$T/e2"; then
			echo "differs: $cmd $d (exit $r1 / $r2)"
			fail=$((fail + 1))
		fi
	done
done <<'CMDS'
heap -s
heap -a
heap -h
heap -f
heap -v
heap -a -v
heap -s -a -c
heap -H l -a
heap -stat
heap -l
heap -l -v
heap -p -all
--json heap -a
--json --pretty heap -a
--json heap -l
--json --pretty heap -l
--json heap -s
--json heap -p -all
analyze -q
--json analyze -q
analyze -q --format html
CMDS
echo "$n runs, $fail differ"
[ $fail = 0 ]
