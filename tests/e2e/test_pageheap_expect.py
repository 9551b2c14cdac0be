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
  leak     `heap -l --json`: the exact leaked set (user, size, heap, layer);
           with `listed=N` the first N leaks, the count and the bytes
  ust      the +ust database's EntryIndexArray and entries (`heap -p --json`),
           and each NT block's +ust allocation stack (`heap -p -a`)
  triage   `heap -triage --json`: each finding's block, the count, and the
           recorded heap failure (record, type, heap, address, neighbours,
           stack)
  diff     `heap-diff --json -n 0 diff-old-*.dmp diff-new-*.dmp`: every
           per-size and per-stack row, and the size order
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
    ust = [f for f in facts if f["_kind"] == "ust"]
    nt_all = None

    def nt_blocks():
        nonlocal nt_all
        if nt_all is None:
            nt_all = {}
            for hp in run(icp, ["heap", "-a", dump]).get("heaps", []):
                nt_all[addr(hp["address"])] = hp.get("blocks", [])
        return nt_all

    if ust:
        db = run(icp, ["heap", "-p", dump]).get("stack_trace_database")
        if db is None:
            fails.append("stack trace database not found")
        else:
            check("ust EntryIndexArray", addr(db["index_array"]), num(ust[0]["index_array"]))
            check("ust entries", db["entries"], int(ust[0]["entries"]))
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
            if f.get("kind") == "light":
                # light blocks live in the NormalHeap: count them there
                lb = [b for b in nt_blocks().get(num(f["normal"]), []) if b["layer"] == "page-heap"]
                check("page heap %#x light busy" % h, sum(b["state"] == "busy" for b in lb), int(f["busy"]))
                check("page heap %#x light free" % h, sum(b["state"] == "free" for b in lb), int(f["free"]))
            else:
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

    # light page-heap blocks: seen in their NormalHeap's walk as page-heap blocks
    for f in facts:
        if f["_kind"] != "block" or f.get("kind") != "light":
            continue
        lb = {addr(b["user"]): b for b in nt_blocks().get(num(f["normal"]), [])}
        b = lb.get(num(f["user"]))
        w = "light block %#x" % num(f["user"])
        if not b:
            fails.append(w + " not listed in its NormalHeap")
            continue
        check(w + " layer", b["layer"], "page-heap")
        check(w + " state", b["state"], f["state"])
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
            if f.get("corrupt") == "1":
                check(w + " state (a corrupt entry)", b["state"], "corrupt")
            else:
                check(w + " state", b["state"], f["state"])
                check(w + " size", b["size"], num(f["size"]))
            check(w + " layer", b["layer"], f["layer"])
            # +ust: the allocation stack from the trace database
            sid = f.get("alloc_stack")
            if sid is not None and f.get("trace_index") and sid in stacks:
                r = run(icp, ["heap", "-p", "-a", "%#x" % key[1], dump])
                want = stacks[sid]["frames"]
                got_st = r.get("stack") or []
                check(w + " +ust stack depth", len(got_st), len(want))
                for i, (g, fr) in enumerate(zip(got_st, want)):
                    check(w + " +ust frame %d" % i, addr(g["address"]), num(fr["addr"]))

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
        # a freed full-page block: the allocation stack from its block
        # information when its pages are in the dump (alloc_stack present)
        if (blk is not None and f["state"] == "free" and b["layer"] == "page-heap"
                and blk.get("kind") == "full"):
            aid = blk.get("alloc_stack")
            got_a = r.get("alloc_stack")
            if aid is None:
                check(w + " alloc stack (pages not captured)", got_a, None)
            else:
                want_a = [num(fr["addr"]) for fr in stacks[aid]["frames"]]
                check(w + " alloc stack", [addr(g["address"]) for g in (got_a or [])], want_a)
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
        if "bytes" in count[0]:
            check("leak bytes", sum(l["size"] for l in r["leaks"]), int(count[0]["bytes"]))
        listed = int(count[0].get("listed", len(want)))
        if listed < int(count[0]["count"]):
            # the .expect lists the first `listed` leaks (address order)
            for x in sorted(set(want) - set(got)):
                fails.append("leak missed: user=%#x size=%d heap=%#x layer=%s" % x)
            check("first leaks in address order", got[:len(want)], want)
        else:
            for x in sorted(set(got) ^ set(want)):
                fails.append("leak %s: %s" % ("unexpected" if x in got else "missed",
                                              "user=%#x size=%d heap=%#x layer=%s" % x))
        checked += len(want)

    # -triage: findings and the recorded heap failure
    tri = [f for f in facts if f["_kind"] == "triage"]
    failure = [f for f in facts if f["_kind"] == "failure"]
    if tri or failure:
        r = run(icp, ["heap", "-triage", dump])
        found_at = {addr(x["address"]) for x in r["findings"]}
        for f in tri:
            if "block" in f:
                w = "triage %s at %#x" % (f.get("finding"), num(f["block"]))
                checked += 1
                if num(f["block"]) not in found_at:
                    fails.append(w + ": not reported")
            elif "findings" in f:
                check("triage finding count", len(r["findings"]), int(f["findings"]))
        for f in failure:
            fr = r.get("failure")
            if not fr:
                fails.append("failure record %s not found" % f["record"])
                continue
            check("failure record", addr(fr["record"]), num(f["record"]))
            check("failure type", fr["type"], int(f["type"]))
            check("failure type name", (fr["type_name"] or "").lower(), f["type_name"].lower())
            check("failure heap", addr(fr["heap"]), num(f["heap"]))
            check("failure address", addr(fr["address"]), num(f["address"]))
            check("failure previous block", addr(fr["previous_block"]), num(f["previous"]))
            check("failure next block", addr(fr["next_block"]), num(f["next"]))
            want = stacks.get(f.get("stack"), {}).get("frames", [])
            check("failure stack depth", len(fr["stack"] or []), len(want))
            for i, (g, w2) in enumerate(zip(fr["stack"] or [], want)):
                check("failure frame %d" % i, addr(g["address"]), num(w2["addr"]))

    # heap-diff: the older dump lies beside this one (diff-old-* for diff-new-*)
    dsz = [f for f in facts if f["_kind"] == "diff_size"]
    dst = [f for f in facts if f["_kind"] == "diff_stack"]
    old_dump = dump.replace("diff-new", "diff-old")
    if (dsz or dst) and old_dump != dump:
        r = subprocess.run([icp, "--json", "heap-diff", "-n", "0", old_dump, dump], capture_output=True,
                           text=True, timeout=120)
        d = json.loads(r.stdout)
        rows = {x["size"]: x for x in d["sizes"]}
        keys = ("old_count", "old_bytes", "new_count", "new_bytes")
        for f in dsz:
            x = rows.get(num(f["size"]))
            w = "diff size %s" % f["size"]
            if not x:
                fails.append(w + ": no row")
                continue
            for k in keys:
                check(w + " " + k, x[k], int(f[k]))
            check(w + " count growth", x["count_growth"], int(f["grow_count"]))
            check(w + " bytes growth", x["bytes_growth"], int(f["grow_bytes"]))
        check("diff size order", [x["size"] for x in d["sizes"]][:len(dsz)], [num(f["size"]) for f in dsz])
        by_frames = {tuple(addr(g["address"]) for g in x["frames"]): x for x in d["stacks"]}
        for f in dst:
            fr = tuple(num(w2["addr"]) for w2 in stacks[f["stack"]]["frames"])
            x = by_frames.get(fr)
            w = "diff stack %s" % f["stack"]
            if not x:
                fails.append(w + ": no row")
                continue
            for k in keys:
                check(w + " " + k, x[k], int(f[k]))
            check(w + " bytes growth", x["bytes_growth"], int(f["grow_bytes"]))

    for m in fails:
        print("FAIL", m)
    print("%s: %d checks, %d failed" % (expect, checked, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
