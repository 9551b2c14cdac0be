#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile-input sweep: damaged and adversarial inputs through the binary.

Every seed dump is truncated at many offsets and has header bytes flipped;
besides those: gzip bombs (a small file that inflates far past the limit),
a kernel-dump header whose RequiredDumpSpace is far below what its gzip
stream inflates to, a FIFO, a directory, a missing path, an empty file and
huge claimed counts.  Each input runs through `analyze --json`,
`heap -a --json` and `icpleak --all --json`, and the sweep asserts, per run:

  * the exit code is 0..4 (no signal, no sanitizer abort),
  * stdout is valid JSON (a document, or JSON lines for --jsonl) or empty,
  * the run ends within a time bound and peak RSS stays under a bound,
  * a refusal's message names the file,
  * no temporary file is left in $TMPDIR (a private one per sweep).

usage: test_hostile.py ICPHEAP [--full] SEED...
The short form (meson test) takes a sample of the cuts and flips; --full
(meson test --benchmark, or by hand) takes them all.
"""
import concurrent.futures
import json
import os
import random
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ICP = os.path.abspath(sys.argv[1])
FULL = "--full" in sys.argv[2:]
SEEDS = [a for a in sys.argv[2:] if a != "--full"]
TIME_LIMIT = float(os.environ.get("HOSTILE_TIME_LIMIT", 60.0 if FULL else 30.0))     # seconds per run (sanitizer builds are slow)
RSS_LIMIT = 2 << 30                       # bytes of peak RSS per run
COMMANDS = [["analyze", "--json", "--timeout", "20"], ["heap", "-a", "--json"],
            ["icpleak", "--all", "--json"]]

failures = []
runs = 0


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run_one(args, path, env):
    """Run icpheap on path; returns (code, stdout, stderr, seconds, maxrss
    bytes).  code is None when the run was killed at the time limit."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen([ICP] + args + [path], stdout=fo, stderr=fe,
                             stdin=subprocess.DEVNULL, env=env)
        killed = []
        timer = threading.Timer(TIME_LIMIT, lambda: (killed.append(1), p.kill()))
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    code = None if killed else p.returncode
    return code, out, err, time.monotonic() - t0, ru.ru_maxrss * 1024


def valid_json_output(args, out):
    text = out.decode("utf-8", "replace").strip()
    if not text:
        return True
    try:
        json.loads(text)
        return True
    except ValueError:
        pass
    # JSON lines
    try:
        for line in text.splitlines():
            if line.strip():
                json.loads(line)
        return True
    except ValueError:
        return False


def check(args, path, label, env, want_name=True):
    global runs
    runs += 1
    code, out, err, secs, rss = run_one(args, path, env)
    what = "%s %s" % (" ".join(args), label)
    if code is None:
        fail("%s: no answer within %.0f s" % (what, TIME_LIMIT))
        return
    if code < 0 or code > 4:
        fail("%s: exit code %d (stderr: %s)" % (what, code, err.decode(errors="replace")[-300:]))
        return
    if rss > RSS_LIMIT:
        fail("%s: peak RSS %d MiB over the bound of %d MiB" % (what, rss >> 20, RSS_LIMIT >> 20))
    if b"AddressSanitizer" in err or b"runtime error:" in err or b"LeakSanitizer" in err:
        fail("%s: sanitizer report: %s" % (what, err.decode(errors="replace")[:400]))
    if not valid_json_output(args, out):
        fail("%s: --json output is not valid JSON: %r" % (what, out[:200]))
    if code == 3 and want_name:
        msg = (out + err).decode(errors="replace")
        if os.path.basename(path) not in msg:
            fail("%s: refusal does not name the file: %s" % (what, msg[:300]))


def truncations(data, rng):
    n = len(data)
    cuts = {0, 1, 4, 8, 31, 32, 33, 0x20, 0x3f, 0x100, 0x1000, 0x1fff, 0x2000, 0x2038,
            n // 2, n - 1}
    step = max(n // (64 if FULL else 8), 1)
    cuts.update(range(0, n, step))
    cuts = sorted(c for c in cuts if 0 <= c < n)
    if not FULL:
        cuts = sorted(rng.sample(cuts, min(len(cuts), 10)))
    return cuts


def flips(data, rng):
    n = min(len(data), 0x2100)
    k = 48 if FULL else 6
    out = []
    for _ in range(k):
        at = rng.randrange(n) if n else 0
        kind = rng.randrange(3)
        out.append((at, kind))
    return out


def apply_flip(data, at, kind):
    b = bytearray(data)
    if not b:
        return bytes(b)
    if kind == 0:
        b[at] ^= 0x80
    elif kind == 1:
        b[at:at + 4] = (0xFFFFFFFF).to_bytes(4, "little")[:len(b[at:at + 4])]
    else:
        b[at:at + 4] = (0x7FFFFFF0).to_bytes(4, "little")[:len(b[at:at + 4])]
    return bytes(b)


def gzip_members(path, member_bytes, count):
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = co.compress(bytes(member_bytes)) + co.flush()
    with open(path, "wb") as f:
        for _ in range(count):
            f.write(member)


def main():
    rng = random.Random(20261130)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = os.path.join(tmp, "tmpdir")     # the tool's $TMPDIR
        os.mkdir(tmpdir)
        env = dict(os.environ, TMPDIR=tmpdir)
        jobs = []

        def add(path, label, want_name=True, cmds=COMMANDS, e=env):
            for args in cmds:
                jobs.append((args, path, label, e, want_name))

        for seed in SEEDS:
            data = open(seed, "rb").read()
            base = os.path.basename(seed)
            for c in truncations(data, rng):
                p = os.path.join(tmp, "cut-%x-%s" % (c, base))
                with open(p, "wb") as f:
                    f.write(data[:c])
                add(p, "(%s cut at 0x%x)" % (base, c))
            for i, (at, kind) in enumerate(flips(data, rng)):
                p = os.path.join(tmp, "flip-%d-%x-%s" % (kind, at, base))
                with open(p, "wb") as f:
                    f.write(apply_flip(data, at, kind))
                add(p, "(%s flip %d at 0x%x)" % (base, kind, at))

        # Huge claimed counts in a minidump header and in a kernel header.
        md = bytearray(b"MDMP" + (0xA793).to_bytes(4, "little") + (0xFFFFFFFF).to_bytes(4, "little")
                       + (0x20).to_bytes(4, "little") + bytes(16))
        p = os.path.join(tmp, "huge-streams.dmp")
        open(p, "wb").write(bytes(md) + bytes(64))
        add(p, "(minidump claiming 2^32-1 streams)")
        kd = bytearray(0x2000)
        kd[0:8] = b"PAGEDU64"
        kd[0x30:0x32] = (0x8664).to_bytes(2, "little")
        kd[0x88:0x8C] = (0xFFFFFFFF).to_bytes(4, "little")   # NumberOfRuns
        kd[0x90:0x98] = (1 << 60).to_bytes(8, "little")       # NumberOfPages
        kd[0xF98:0xF9C] = (1).to_bytes(4, "little")           # full dump
        p = os.path.join(tmp, "huge-runs.dmp")
        open(p, "wb").write(bytes(kd))
        add(p, "(kernel dump claiming 2^32-1 runs)")

        # Empty file, FIFO, directory, missing path.
        p = os.path.join(tmp, "empty.dmp")
        open(p, "wb").close()
        add(p, "(empty file)")
        fifo = os.path.join(tmp, "fifo.dmp")
        os.mkfifo(fifo)
        add(fifo, "(FIFO)")
        d = os.path.join(tmp, "adir.dmp")
        os.mkdir(d)
        add(d, "(directory)", cmds=COMMANDS[1:])   # analyze takes folders
        add(os.path.join(tmp, "missing.dmp"), "(missing path)")

        # Gzip bomb: 512 MiB of zeros in 512 KiB of gzip, under a 64 MiB limit.
        bomb = os.path.join(tmp, "bomb.dmp.gz")
        gzip_members(bomb, 64 << 20, 8)
        add(bomb, "(gzip bomb, ICPHEAP_GZIP_MAX=64M)", e=dict(env, ICPHEAP_GZIP_MAX="64M"))
        # A kernel header claiming 1 MiB, inflating to 1 MiB + 160 MiB of zeros.
        khdr = bytearray(kd)
        khdr[0x88:0x8C] = (1).to_bytes(4, "little")
        khdr[0x90:0x98] = (1).to_bytes(8, "little")
        khdr[0xFA0:0xFA8] = (1 << 20).to_bytes(8, "little")   # RequiredDumpSpace
        kbomb = os.path.join(tmp, "kbomb.dmp")
        co = zlib.compressobj(9, zlib.DEFLATED, 31)
        with open(kbomb, "wb") as f:
            f.write(co.compress(bytes(khdr)))
            for _ in range(161):
                f.write(co.compress(bytes(1 << 20)))
            f.write(co.flush())
        add(kbomb, "(gzip kernel dump inflating 160 MiB past its header's size)")

        t0 = time.monotonic()
        workers = 2
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            list(ex.map(lambda j: check(*j), jobs))
        secs = time.monotonic() - t0

        # The bombs are refused with a message that says why.
        r = subprocess.run([ICP, "info", bomb], capture_output=True, env=dict(env, ICPHEAP_GZIP_MAX="64M"))
        msg = r.stderr.decode(errors="replace")
        if r.returncode != 3 or "ICPHEAP_GZIP_MAX" not in msg or "bomb.dmp.gz" not in msg:
            fail("gzip bomb: exit 3 naming the limit and the file (%d: %s)" % (r.returncode, msg[:300]))
        r = subprocess.run([ICP, "info", kbomb], capture_output=True, env=env)
        msg = r.stderr.decode(errors="replace")
        if r.returncode != 3 or "RequiredDumpSpace" not in msg:
            fail("kernel gzip bomb: exit 3 naming RequiredDumpSpace (%d: %s)" % (r.returncode, msg[:300]))
        # ... and nothing is left in $TMPDIR, whatever happened.
        left = os.listdir(tmpdir)
        if left:
            fail("files left in $TMPDIR: %s" % left)
        # A FIFO is answered at once, not waited for.
        t = time.monotonic()
        try:
            r = subprocess.run([ICP, "heap", "-s", fifo], capture_output=True, timeout=10)
            if r.returncode != 3 or b"FIFO" not in r.stderr or time.monotonic() - t > 5:
                fail("FIFO: exit 3 at once naming it (%d, %.1f s)" % (r.returncode, time.monotonic() - t))
        except subprocess.TimeoutExpired:
            fail("FIFO: heap -s still waiting after 10 s")

    print("hostile sweep: %d runs over %d inputs in %.1f s%s" %
          (runs, runs // 3, secs, " (full)" if FULL else ""))
    print("%d passed, %d failed" % (runs + 4 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
