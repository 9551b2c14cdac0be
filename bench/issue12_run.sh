#!/usr/bin/env bash
# Every issue-12 target in one run, old binary against new, as ratios to a
# read pass of the same file measured in the same run (bench/README.md has
# the figures of each session's run).
#
# usage: bench/issue12_run.sh OLD_ICPHEAP OLD_BENCH_READER NEW_BUILD_DIR OUT
#   OLD_*: a copy of the binaries at the session's start (the "old" column);
#   NEW_BUILD_DIR: a build of the tree under test (src/cli/icpheap,
#   bench/bench_reader).  $BENCHDATA (default /work/benchdata) holds the
#   dumps; make them once with the build's own tools (about a minute):
#     B=NEW_BUILD_DIR; D=$BENCHDATA; mkdir -p $D/cold $D/kproc $D/randread $D/kpage-read
#     $B/tests/unit/hmodel/test_hmodel --big $D/mid.dmp 1500000
#     $B/tests/builder/segheap/mksegheapdump big 2000000 $D/cold/seg.dmp $D/cold/seg.expect
#     $B/tests/builder/pageheap/mkpageheapdump big 64m 100000 $D/cold/page.dmp $D/cold/page.expect
#     $B/tests/builder/kernel/mkkerneldump bench-heaps $D/kproc/kb.dmp $D/kproc/kb.expect $D/kproc/kb.heaps
#     $B/tests/builder/kernel/mkkerneldump bench-heaps-scatter $D/kproc/kbs.dmp $D/kproc/kbs.expect $D/kproc/kbs.heaps
#     $B/tests/builder/mkdump --big-minidump $D/randread/r4224.dmp 66m 16k
#     $B/tests/builder/mkdump --big-kernel $D/randread/k256.dmp 256m
#     $B/tests/builder/mkdump --big-kernel $D/kpage-read/k4k.dmp 256m 4k
# Run it on an idle machine: it takes about 8 minutes.
set -u
OLD=$1; OLDBR=$2; NB=$3; OUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
NEW=$NB/src/cli/icpheap; NEWBR=$NB/bench/bench_reader
D=${BENCHDATA:-/work/benchdata}
# the read pass of the build under test (abratio.py defaults to build/ beside bench/)
A="python3 $HERE/abratio.py --readpass $NB/bench/bench_readpass"
{
date -u; uptime
$A --state mmap --reps 11 --per "heap -s" $OLD $NEW $D/mid.dmp "heap -s;heap -stat;heap -v;analyze -q;info;--json heap -a"
$A --state mmap --reps 11 --outpass --per "heap -s" $OLD $NEW $D/cold/seg.dmp "heap -s;--json heap -a"
$A --state mmap --reps 11 --per "heap -s" $OLD $NEW $D/cold/page.dmp "heap -s;--json heap -a"
for st in mmap cat 4k; do $A --state $st --reps 7 $OLD $NEW $D/kproc/kb.dmp "analyze -q --processes all"; done
$A --state mmap --reps 7 $OLD $NEW $D/kproc/kbs.dmp "analyze -q --processes all"
$A --cold --reps 7 $OLD $NEW $D/mid.dmp "heap -s;heap -stat;heap -v;analyze -q"
$A --state mmap --reps 7 --dest pipe $OLD $NEW $D/cold/seg.dmp "--json heap -a;heap -a"
$A --state mmap --reps 7 --dest pipe $OLD $NEW $D/mid.dmp "--json heap -a"
P="python3 $HERE/pipe_wall.py --reps 7"
$P $OLD $NEW $D/cold/seg.dmp "--json heap -a"
$P $OLD $NEW $D/cold/seg.dmp "heap -a"
$P $OLD $NEW $D/mid.dmp "--json heap -a"
$P $OLD $NEW $D/mid.dmp "--json heap -a" "wc -c"
for r in 1 2 3; do
  for pair in "old $OLDBR" "new $NEWBR"; do set -- $pair
    for d in "$D/mid.dmp" "$D/randread/r4224.dmp" "$D/randread/k256.dmp 0xFFFFA00000000000 0x10000000" "$D/kpage-read/k4k.dmp 0xFFFFA00000000000 0x10000000"; do
      # shellcheck disable=SC2086 # $d carries a kernel dump's VA range
      echo "round $r $1 $(basename "${d%% *}"): $($2 -r 5 $d 2>&1 | grep 'summary indep')"
    done
  done
done
date -u
} > "$OUT" 2>&1
