#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check icpheap's page heap, -p -a, +ust stacks and -l answers against an
.expect file of the independent page-heap scenario builder
(tests/builder/pageheap/README.md describes the format), block by block.

usage: test_pageheap_expect.py ICPHEAP DUMP EXPECT

Checked (whatever lines the .expect has):
  dph      every page heap found (handle, root, NormalHeap, ExtraFlags,
           busy/freed counts) by `heap -p --json`
  block    every page-heap block (node, user, requested size of busy blocks,
           virtual block and size, state) by `heap -p -all --json`, and
           every NT-heap block by `heap -a --json` (header, user, size,
           block_size, state, layer) where the walker lists that layer
  find     `heap -p -a ADDR --json`: heap, user, offset, state, layer, and
           the block's allocation / free stack frame by frame (address,
           module without its extension, offset)
  leak     `heap -l --json`: the exact leaked set (user, size, heap, layer)
Conventions that differ on purpose (documented in the man page): a freed
page-heap block's `size` in the walk is 0 (the shared block vocabulary), its
requested size is checked through `find`; a page-heap block's walk `header`
is its virtual block (the .expect's header is the _DPH_BLOCK_INFORMATION),
so `virt` is compared instead.
"""
import json
import subprocess
import sys


def parse(path):
    out = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        kind, rest = words[0], words[1:]
        d = {"_kind": kind, "_pos": []}
        for w in rest:
            if "=" in w:
                k, v = w.split("=", 1)
                d[k] = v
            else:
                d["_pos"].append(w)
        out.append(d)
    return out


def num(v):
    neg = v.startswith("-")
    v = v.lstrip("-")
    n = int(v, 16) if v.startswith("0x") else int(v)
    return -n if neg else n


def addr(v):
    return int(v, 16) if isinstance(v, str) else v


def run(icp, args):
    r = subprocess.run([icp, "--json", *args], capture_output=True, text=True, timeout=120)
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise SystemExit("icpheap %s: exit %d, not JSON:\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))


def main():
    icp, dump, expect = sys.argv[1:4]
    facts = parse(expect)
    fails = []
    checked = 0

    def check(what, got, want):
        nonlocal checked
        checked += 1
        if got != want:
            fails.append("%s: got %r, want %r" % (what, got, want))

    stacks = {}
    for f in facts:
        if f["_kind"] == "stack":
            stacks[f["id"]] = {"entry": num(f["entry"]), "frames": []}
    for f in facts:
        if f["_kind"] == "frame":
            stacks[f["stack"]]["frames"].append(f)

    # dph
    dph = [f for f in facts if f["_kind"] == "dph"]
    if dph:
        got = {addr(p["address"]): p for p in run(icp, ["heap", "-p", dump])["page_heaps"]}
        check("page heap count", len(got), len(dph))
        for f in dph:
            h = num(f["handle"])
            p = got.get(h)
            if not p:
                fails.append("page heap %#x not found" % h)
                continue
            check("page heap %#x root" % h, addr(p["root"]), num(f["root"]))
            check("page heap %#x normal" % h, addr(p["normal_heap"]), num(f["normal"]))
            check("page heap %#x extra" % h, addr(p["extra_flags"]), num(f["extra"]))
            check("page heap %#x busy" % h, p["busy_allocations"], int(f["busy"]))
            check("page heap %#x free" % h, p["freed_allocations"], int(f["free"]))
        # page-heap blocks
        allp = run(icp, ["heap", "-p", "-all", dump])["page_heaps"]
        walked = {}
        for p in allp:
            for b in p.get("blocks", []):
                walked[(addr(p["address"]), addr(b["user"]))] = b
        want_pb = [f for f in facts if f["_kind"] == "block" and f.get("layer") == "page-heap"
                   and f.get("kind") == "full"]
        check("page-heap block count", len(walked), len(want_pb))
        for f in want_pb:
            key = (num(f["heap"]), num(f["user"]))
            b = walked.get(key)
            if not b:
                fails.append("page-heap block user %#x of heap %#x not listed" % (key[1], key[0]))
                continue
            w = "block %#x" % key[1]
            check(w + " node", addr(b["node"]), num(f["node"]))
            check(w + " state", b["state"], f["state"])
            check(w + " virt", addr(b["virt"]), num(f["virt"]))
            check(w + " virt_size", b["virt_size"], num(f["virt_size"]))
            if f["state"] == "busy":
                check(w + " size", b["size"], num(f["size"]))

    # NT-heap blocks (the layers `heap -a` lists: back end and large blocks)
    nt = [f for f in facts if f["_kind"] == "block" and f.get("layer") in ("backend", "virtual")
          and "kind" not in f]
    if nt:
        got = {}
        for hp in run(icp, ["heap", "-a", dump]).get("heaps", []):
            for b in hp.get("blocks", []):
                got[(addr(hp["address"]), addr(b["user"]))] = b
        for f in nt:
            key = (num(f["heap"]), num(f["user"]))
            b = got.get(key)
            if not b:
                fails.append("NT block user %#x of heap %#x not listed" % (key[1], key[0]))
                continue
            w = "NT block %#x" % key[1]
            check(w + " state", b["state"], f["state"])
            check(w + " size", b["size"], num(f["size"]))
            check(w + " layer", b["layer"], f["layer"])

    # find (+ stacks)
    by_user = {(num(f["heap"]), num(f["user"])): f for f in facts if f["_kind"] == "block"}
    for f in facts:
        if f["_kind"] != "find":
            continue
        a = num(f["addr"])
        r = run(icp, ["heap", "-p", "-a", "%#x" % a, dump])
        w = "find %#x" % a
        if not r.get("found"):
            fails.append(w + ": not found")
            continue
        b = r["block"]
        check(w + " heap", addr(r.get("page_heap", r["heap"])), num(f["heap"]))
        check(w + " user", addr(b["user"]), num(f["user"]))
        check(w + " state", b["state"], f["state"])
        check(w + " layer", b["layer"], f["layer"])
        off = num(f["offset"])
        if 0 <= off < max(int(b["size"]), 1):
            check(w + " offset", b.get("offset"), off)
        blk = by_user.get((num(f["heap"]), num(f["user"])))
        if blk is not None and b["layer"] == "page-heap":
            check(w + " size", b["size"], num(blk["size"]))
        sid = None
        if blk is not None:
            sid = blk.get("free_stack") if f["state"] == "free" else blk.get("alloc_stack")
        if sid is not None and sid in stacks:
            want = stacks[sid]["frames"]
            got = r.get("stack") or []
            check(w + " stack depth", len(got), len(want))
            for i, (g, fr) in enumerate(zip(got, want)):
                check(w + " frame %d address" % i, addr(g["address"]), num(fr["addr"]))
                mod = fr["module"]
                if mod == "-":
                    check(w + " frame %d module" % i, g["module"], None)
                else:
                    check(w + " frame %d module" % i, g["module"], mod.rsplit(".", 1)[0])
                    check(w + " frame %d offset" % i, addr(g["offset"]), num(fr["offset"]))

    # leaks
    want_leaks = [f for f in facts if f["_kind"] == "leak"]
    count = [f for f in facts if f["_kind"] == "leaks"]
    if count:
        r = run(icp, ["heap", "-l", dump])
        got = sorted((addr(l["user"]), l["size"], addr(l["heap"]), l["layer"]) for l in r["leaks"])
        want = sorted((num(f["user"]), num(f["size"]), num(f["heap"]), f["layer"]) for f in want_leaks)
        check("leak count", r["leak_count"], int(count[0]["count"]))
        for x in sorted(set(got) ^ set(want)):
            fails.append("leak %s: %s" % ("unexpected" if x in got else "missed",
                                          "user=%#x size=%d heap=%#x layer=%s" % x))
        checked += len(want)

    for m in fails:
        print("FAIL", m)
    print("%s: %d checks, %d failed" % (expect, checked, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
