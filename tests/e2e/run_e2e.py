#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests: run the icpheap binary on dumps and check what it says.

Facts come from independent sources, never from icpheap's own output:
  * testdata/real/MANIFEST.md (read by an independent parser) for the real
    dumps; the MANIFEST is parsed here, so a fact added there is checked;
  * the builder sample descriptions (tests/builder/samples/*.txt) for the
    dumps mkdump writes: the description is what the builder put in.

Usage:
  run_e2e.py --icpheap BIN --testdata DIR [--mkdump BIN --samples DIR]
             [--only GROUP[,GROUP...]] [--list]
"""

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsoncheck  # noqa: E402

ARGS = None


# --------------------------------------------------------------------------
# Running icpheap

class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def __repr__(self):
        return "rc=%d (%.2fs)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            self.rc, self.seconds, self.out[-3000:], self.err[-3000:])


def run(*args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([ARGS.icpheap] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)


def expect(cond, msg, res=None):
    if not cond:
        raise AssertionError(msg + ("\n" + repr(res) if res is not None else ""))


# The kernel reader is written in parallel; until it lands, src/reader/kdump.c
# refuses kernel dumps with exactly this message, and the kernel checks are
# reported as skipped (never passed).
KERNEL_PLACEHOLDER = "are not readable by this build of icpheap"
SKIPPED = []


def kernel_reader_missing(res, what):
    if res.rc == 3 and KERNEL_PLACEHOLDER in res.err:
        SKIPPED.append(what)
        print("  SKIP %s: the kernel dump reader is not in this build" % what)
        return True
    return False


def info_json(*paths):
    res = run("info", "--json", *paths)
    path = " ".join(paths)
    try:
        doc = json.loads(res.out)
    except ValueError as e:
        raise AssertionError("info --json output is not JSON: %s" % e + "\n" + repr(res))
    jsoncheck.assert_schema(doc, jsoncheck.INFO_SCHEMA, "info --json " + path)
    return res, doc


# --------------------------------------------------------------------------
# MANIFEST.md

def parse_manifest(path):
    """{file name: {"kind": str, "lines": [str]}} from MANIFEST.md."""
    entries = {}
    cur = None
    in_code = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^## (\S+)\s*$", line)
            if m and not in_code:
                cur = entries.setdefault(m.group(1), {"kind": "", "lines": []})
                continue
            if cur is None:
                continue
            if line.startswith("```"):
                in_code = not in_code
                continue
            if in_code:
                cur["lines"].append(line.strip())
            elif line.startswith("- kind:"):
                cur["kind"] = line[len("- kind:"):].strip()
    return entries


def hostile(entry):
    return entry["kind"].startswith("FUZZED") or entry["kind"].startswith("HAND-MADE")


def field(lines, prefix):
    for l in lines:
        if l.startswith(prefix):
            return l[len(prefix):].strip()
    return None


def kv(text):
    """key=value pairs of a MANIFEST line (values without blanks)."""
    return dict(re.findall(r"([A-Za-z()]+)=(\S+)", text))


# MINIDUMP_STREAM_TYPE values (minidumpapiset.h) and Breakpad's
# (minidump_format.h), to find the MANIFEST's named streams in the JSON.
STREAM_TYPES = {
    "ThreadList": 3, "ModuleList": 4, "MemoryList": 5, "Exception": 6,
    "SystemInfo": 7, "ThreadExList": 8, "Memory64List": 9, "CommentA": 10,
    "CommentW": 11, "HandleData": 12, "FunctionTable": 13,
    "UnloadedModuleList": 14, "MiscInfo": 15, "MemoryInfoList": 16,
    "ThreadInfoList": 17, "HandleOperationList": 18, "Token": 19,
    "JavaScriptData": 20, "SystemMemoryInfo": 21, "ProcessVmCounters": 22,
    "IptTrace": 23, "ThreadNames": 24,
    "BreakpadInfo": 0x47670001, "BreakpadAssertionInfo": 0x47670002,
}

ARCH = {"AMD64": "x64", "x86": "x86", "ARM64": "arm64"}
MACHINE = {"AMD64": "x64", "x86": "x86", "i386": "x86", "ARM64": "arm64"}
MD_FLAG_BITS = {  # MANIFEST flag names are MINIDUMP_TYPE without "MiniDumpWith"
    "DataSegs": 0x1, "FullMemory": 0x2, "HandleData": 0x4, "UnloadedModules": 0x20,
    "ProcessThreadData": 0x100, "ThreadInfo": 0x1000, "TokenInformation": 0x40000,
    "AvxXStateContext": 0x200000,
}


def addr_windbg(v, ptr64):
    """WinDbg lm/~ address form, as the man page documents for info."""
    return "%08x`%08x" % (v >> 32, v & 0xffffffff) if ptr64 else "%08x" % v


def check_minidump(name, entry, d, text):
    L = entry["lines"]
    md = d["minidump"]
    expect(d["format"] == "minidump" and md is not None, name + ": not a minidump")
    hdr = kv(field(L, "MINIDUMP:"))
    expect(md["version"] == int(hdr["version"], 16), name + ": version")
    expect(md["number_of_streams"] == int(hdr["streams"]), name + ": streams")
    expect(md["timestamp"] == int(hdr["time"]), name + ": time")
    # RFC 3339 UTC, the same instant as the MANIFEST's time stamp
    import datetime
    want_t = datetime.datetime.fromtimestamp(int(hdr["time"]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    expect(md["time"] == want_t, name + ": time is RFC 3339 UTC (%r, want %r)" % (md["time"], want_t))
    expect(md["flags"] == int(hdr["flags"], 16), name + ": flags")
    expect("0x%08x" % md["version"] in text, name + ": version in text")
    for fname, bit in MD_FLAG_BITS.items():
        if "(" in field(L, "MINIDUMP:") and fname in field(L, "MINIDUMP:").split("(")[-1]:
            expect(md["flags"] & bit, name + ": flag " + fname)
            expect("With" + fname in text, name + ": flag name %s in text" % fname)

    streams = field(L, "streams:")
    for sname, size in re.findall(r"(\w+)\((\d+)\)", streams or ""):
        t = STREAM_TYPES.get(sname)
        if t is None:
            continue
        hits = [s for s in md["streams"] if s["type"] == t and s["size"] == int(size)]
        expect(hits, "%s: stream %s(%s) missing in %r" % (name, sname, size, md["streams"]))
        expect("%s(%s)" % (sname, size) in text, "%s: %s(%s) in text" % (name, sname, size))

    si = field(L, "SystemInfo:")
    if si:
        s = kv(si)
        sinfo = md["system_info"]
        expect(sinfo is not None, name + ": system_info")
        expect(d["arch"] == ARCH[s["arch"]], "%s: arch %s vs %s" % (name, d["arch"], s["arch"]))
        expect(sinfo["number_of_processors"] == int(s["ncpu"]), name + ": ncpu")
        expect(sinfo["product_type"] == int(s["productType"]), name + ": product type")
        major, minor, build = (int(x) for x in s["OS"].split("."))
        expect((sinfo["major_version"], sinfo["minor_version"], sinfo["build_number"]) ==
               (major, minor, build), name + ": OS version")
        expect(d["build"] == build, name + ": build")
        expect(sinfo["platform_id"] == 2 and s["platform"] == "WinNT", name + ": platform")
        csd = re.search(r'csd="([^"]*)"', si).group(1)
        expect(sinfo["csd_version"] == csd, "%s: csd %r" % (name, sinfo["csd_version"]))
        expect("Windows %s" % s["OS"] in text, name + ": OS in text")
        expect("%s processors" % s["ncpu"] in text, name + ": processors in text")
        if csd:
            expect("CSD:         " + csd in text, name + ": CSD in text")

    ml = field(L, "MemoryList:")
    if ml:
        m = re.match(r"(\d+) ranges, (\d+) bytes", ml)
        expect(md["memory"]["ranges"] == int(m.group(1)), name + ": ranges")
        expect(md["memory"]["bytes"] == int(m.group(2)), name + ": captured bytes")
        expect("%s ranges, %s bytes captured" % m.groups() in text, name + ": memory in text")

    mods = field(L, "ModuleList:")
    if mods:
        m = re.match(r"(\d+) modules: (.*)$", mods)
        names = [x.strip() for x in m.group(2).split(",") if x.strip() and x.strip() != "..."]
        names[-1] = names[-1].replace(" ...", "")
        expect(len(md["modules"]) == int(m.group(1)), name + ": module count")
        got = [x["name"] for x in md["modules"][:len(names)]]
        expect(got == names, "%s: modules %r vs %r" % (name, got, names))
        expect(d["minidump"]["process"]["image"] == names[0], name + ": process image")
        expect("Modules: %s" % m.group(1) in text, name + ": module count in text")
        for n in names:
            expect(re.search(r"\s%s\s" % re.escape(n), text), "%s: module %s in text" % (name, n))

    mi = field(L, "MiscInfo:")
    if mi:
        s = kv(mi)
        misc = md["misc_info"]
        expect(misc["size_of_info"] == int(s["size"]), name + ": misc size")
        expect(misc["flags1"] == int(s["flags"], 16), name + ": misc flags")
        expect(misc["process_id"] == int(s["pid"]), name + ": pid")
        expect(md["process"]["pid"] == int(s["pid"]), name + ": process pid")
        expect("pid %s " % s["pid"] in text, name + ": pid in text")

    ex = field(L, "Exception:")
    if ex:
        s = kv(ex)
        e = md["exception"]
        expect(e is not None, name + ": exception")
        expect(e["thread_id"] == int(s["tid"]), name + ": exception thread")
        expect(e["code"] == int(s["code"], 16), name + ": exception code")
        expect(e["code_hex"] == "0x%08x" % int(s["code"], 16), name + ": code_hex")
        expect(int(e["address"], 16) == int(s["addr"], 16), name + ": exception address")
        line = [l for l in text.splitlines() if l.startswith("Exception:")]
        expect(line and s["code"] in line[0] and s["addr"] in line[0] and
               "thread %s " % s["tid"] in line[0], name + ": exception in text: %r" % line)
        # ntstatus.h symbols (the library's one name table, shared with analyze)
        known = {0xc0000005: "STATUS_ACCESS_VIOLATION", 0xc0000409: "STATUS_STACK_BUFFER_OVERRUN",
                 0xc00000fd: "STATUS_STACK_OVERFLOW", 0x80000003: "STATUS_BREAKPOINT",
                 0xc000000d: "STATUS_INVALID_PARAMETER"}
        code = int(s["code"], 16)
        if code in known:
            expect(e["name"] == known[code] and known[code] in line[0], name + ": code name")
    elif si:  # a complete record with no Exception line: none in the dump
        expect(md["exception"] is None, name + ": unexpected exception")
        expect("Exception:   none" in text, name + ": no exception in text")

    tl = field(L, "ThreadList:")
    if tl:
        m = re.match(r"(\d+) threads; TEBs: (.*)$", tl)
        expect(len(md["threads"]) == int(m.group(1)), name + ": thread count")
        expect("Threads: %s" % m.group(1) in text, name + ": thread count in text")
        by_id = {t["id"]: t for t in md["threads"]}
        ptr64 = d["arch"] in ("x64", "arm64")
        for tid, teb in re.findall(r"(\d+):(0x[0-9a-f]+)", m.group(2)):
            t = by_id.get(int(tid))
            expect(t is not None and int(t["teb"], 16) == int(teb, 16),
                   "%s: thread %s TEB %s" % (name, tid, teb))
            expect(re.search(r"^.\s+%s\s+[0-9a-f]+\s+%s\s" % (tid, addr_windbg(int(teb, 16), ptr64)),
                             text, re.M), "%s: thread %s row in text" % (name, tid))


def check_kernel(name, entry, d, text):
    L = entry["lines"]
    k = d["kernel"]
    expect(d["format"] == "kernel" and k is not None, name + ": not a kernel dump")
    head = field(L, "KERNEL DUMP")
    s = kv(head)
    expect(k["is64"] == ("PAGEDU64" in head), name + ": is64")
    expect(k["major_version"] == int(s["Major"], 16), name + ": major")
    build = int(s["Minor(build)"])
    expect(k["minor_version"] == build and d["build"] == build, name + ": build")
    expect(d["arch"] == MACHINE[s["MachineImageType"]], name + ": arch")
    expect(k["number_processors"] == int(s["NumberProcessors"]), name + ": ncpu")
    bc = int(s["BugCheck"], 16)
    expect(k["bugcheck"]["code"] == bc, name + ": bugcheck")
    params = [int(x, 16) for x in re.search(r"params=\(([^)]*)\)", head).group(1).split(",")]
    expect([int(x, 16) for x in k["bugcheck"]["parameters"]] == params, name + ": params")
    bline = [l for l in text.splitlines() if l.startswith("Bugcheck:")]
    expect(bline and ("0x%x" % bc) in bline[0] and
           all(("0x%x" % p) in bline[0] for p in params), name + ": bugcheck in text")
    expect("%s processors" % s["NumberProcessors"] in text, name + ": processors in text")
    expect("build %d" % build in text, name + ": build in text")

    ptrs = kv(field(L, "DirectoryTableBase=") and "DirectoryTableBase=" + field(L, "DirectoryTableBase="))
    for mkey, jkey in (("DirectoryTableBase", "directory_table_base"), ("PfnDataBase", "pfn_database"),
                       ("PsLoadedModuleList", "ps_loaded_module_list"),
                       ("PsActiveProcessHead", "ps_active_process_head"),
                       ("KdDebuggerDataBlock", "kd_debugger_data_block")):
        v = int(ptrs[mkey], 16)
        expect(int(k[jkey], 16) == v, "%s: %s" % (name, mkey))
        expect(re.search(r"^%s:\s+0x%x$" % (mkey, v), text, re.M), "%s: %s in text" % (name, mkey))

    dt = kv(field(L, "DumpType=") and "DumpType=" + field(L, "DumpType="))
    expect(k["dump_type"] == int(dt["DumpType"]), name + ": dump type")
    expect(k["required_dump_space"] == int(dt["RequiredDumpSpace"], 16), name + ": required space")
    expect(d["file_size"] == int(dt["fileLen"], 16), name + ": file size")
    expect("DumpType %s " % dt["DumpType"] in text, name + ": dump type in text")

    pm = field(L, "PhysicalMemoryBlock:")
    if pm:
        m = re.match(r"(\d+) runs, (\d+) pages", pm)
        runs = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\[(0x[0-9a-f]+)\+(0x[0-9a-f]+)\]", pm)]
        got = [(r["base_page"], r["page_count"]) for r in k["physical_memory"]["runs"]]
        expect(len(got) == int(m.group(1)) and got == runs, "%s: runs %r" % (name, got))
        expect(k["physical_memory"]["run_pages"] == int(m.group(2)), name + ": run pages")
        expect("%s runs, %s pages" % m.groups() in text, name + ": runs in text")
        for a, b in runs:
            expect("[0x%x+0x%x]" % (a, b) in text, name + ": run in text")
        exp = re.search(r"expected file size (0x[0-9a-f]+)", pm)
        if exp and int(exp.group(1), 16) > d["file_size"]:
            # The file is shorter than the header promises: say so.
            expect(k["truncated"] is True, name + ": truncated flag")
            expect(k["expected_file_size"] == int(exp.group(1), 16), name + ": expected size")
            expect(re.search(r"^Truncated:\s+yes", text, re.M), name + ": truncation in text")

    tr = field(L, "TRIAGE_DUMP64:")
    if tr:
        t = k["triage"]
        expect(t is not None, name + ": triage")
        camel = {"ServicePackBuild": "service_pack_build", "SizeOfDump": "size_of_dump",
                 "ValidOffset": "valid_offset", "ContextOffset": "context_offset",
                 "ExceptionOffset": "exception_offset", "MmOffset": "mm_offset",
                 "UnloadedDriversOffset": "unloaded_drivers_offset", "PrcbOffset": "prcb_offset",
                 "ProcessOffset": "process_offset", "ThreadOffset": "thread_offset",
                 "CallStackOffset": "call_stack_offset", "SizeOfCallStack": "size_of_call_stack",
                 "DriverListOffset": "driver_list_offset", "DriverCount": "driver_count",
                 "StringPoolOffset": "string_pool_offset", "StringPoolSize": "string_pool_size",
                 "BrokenDriverOffset": "broken_driver_offset", "TriageOptions": "triage_options",
                 "DebuggerDataOffset": "debugger_data_offset",
                 "DebuggerDataSize": "debugger_data_size", "DataBlocksOffset": "data_blocks_offset"}
        vals = dict(re.findall(r"(\w+)=(0x[0-9a-f]+)", tr + " " + (field(L, "DebuggerDataOffset=") and
                    "DebuggerDataOffset=" + field(L, "DebuggerDataOffset=") or "")))
        for ck, jk in camel.items():
            if ck in vals:
                expect(t[jk] == int(vals[ck], 16), "%s: triage %s" % (name, ck))
        top = re.search(r"TopOfStack=(0x[0-9a-f]+)", tr)
        if top:
            expect(int(t["top_of_stack"], 16) == int(top.group(1), 16), name + ": TopOfStack")
        db = field(L, "DataBlocks:")
        if db:
            m = re.match(r"(\d+) blocks, (\d+) bytes", db)
            expect(t["data_blocks_count"] == int(m.group(1)), name + ": data block count")
            expect(t["data_block_bytes"] == int(m.group(2)), name + ": data block bytes")
            expect("%s data blocks (%s bytes" % m.groups() in text, name + ": data blocks in text")


# --------------------------------------------------------------------------
# Test groups

TESTS = {}


class Skip(Exception):
    """The whole group cannot run in this build (meson shows SKIP)."""


def test(name):
    def deco(fn):
        TESTS[name] = fn
        return fn
    return deco


def real_dir():
    return os.path.join(ARGS.testdata, "real")


def manifest():
    return parse_manifest(os.path.join(real_dir(), "MANIFEST.md"))


@test("manifest-complete")
def t_manifest_complete():
    """Every file in testdata/real/ has a MANIFEST entry (and vice versa)."""
    m = manifest()
    files = sorted(f for f in os.listdir(real_dir()) if f != "MANIFEST.md")
    expect(files, "no files in " + real_dir())
    expect(sorted(m) == files, "MANIFEST entries %r vs files %r" % (sorted(m), files))


def real_group(kernel):
    """info on every real (non-hostile) dump of one kind: MANIFEST facts in
    text and JSON."""
    checked = 0
    for name, entry in sorted(manifest().items()):
        if hostile(entry) or (field(entry["lines"], "MINIDUMP:") is None) != kernel:
            continue
        path = os.path.join(real_dir(), name)
        res_t = run("info", path)
        if kernel and res_t.rc == 3 and KERNEL_PLACEHOLDER in res_t.err:
            raise Skip("the kernel dump reader is not in this build")
        expect(res_t.rc == 0, name + ": info exit code", res_t)
        res_j, doc = info_json(path)
        expect(res_j.rc == 0 and len(doc) == 1 and doc[0]["ok"], name + ": info --json", res_j)
        d = doc[0]
        expect(d["path"] == path and d["gzip"] is False, name + ": path/gzip")
        expect(d["file_size"] == os.path.getsize(path), name + ": file size")
        expect("gzip: no" in res_t.out, name + ": gzip in text")
        try:
            if kernel:
                check_kernel(name, entry, d, res_t.out)
            else:
                check_minidump(name, entry, d, res_t.out)
        except AssertionError as e:
            raise AssertionError(str(e) + "\n--- text ---\n" + res_t.out[:4000])
        if not kernel:
            # -v lists every captured range (MANIFEST: "MemoryList: N ranges").
            ml = field(entry["lines"], "MemoryList:")
            res_v = run("info", "-v", path)
            expect(res_v.rc == 0 and res_v.out.startswith(res_t.out.split("\nThreads:")[0]), name + ": -v", res_v)
            if ml:
                n = int(ml.split()[0])
                expect("\nMemory ranges: %d\n" % n in res_v.out, name + ": -v ranges", res_v)
                expect(len(re.findall(r"^  \S+-\S+ +\d+ bytes at file offset 0x", res_v.out, re.M)) == n,
                       name + ": -v range rows", res_v)
        checked += 1
    expect(checked >= (2 if kernel else 13), "only %d real dumps checked" % checked)
    print("  %d real %s dumps checked against MANIFEST.md" % (checked, "kernel" if kernel else "mini"))


@test("real-minidump")
def t_real_minidump():
    real_group(False)


@test("real-kernel")
def t_real_kernel():
    """Includes the 16 KiB head of a full kernel dump: header facts and the
    truncation (check_kernel)."""
    real_group(True)


@test("hostile")
def t_hostile():
    """FUZZED and HAND-MADE files: exit 3, one clear message, well under 1 s."""
    n = 0
    for name, entry in sorted(manifest().items()):
        if not hostile(entry):
            continue
        path = os.path.join(real_dir(), name)
        for args in (("info", path), ("info", "--json", path)):
            res = run(*args)
            expect(res.rc == 3, name + ": exit code", res)
            expect(res.seconds < 1.0, "%s: took %.2fs" % (name, res.seconds), res)
            lines = res.err.strip().splitlines()
            expect(len(lines) == 1 and lines[0].startswith("icpheap: ") and name in lines[0],
                   name + ": one 'icpheap: <path>: ...' line on stderr", res)
            expect(len(lines[0]) > len("icpheap: ") + len(path) + 10, name + ": message says why", res)
            if "--json" in args:
                doc = json.loads(res.out)
                jsoncheck.assert_schema(doc, jsoncheck.INFO_SCHEMA)
                expect(doc[0]["ok"] is False and doc[0]["error"]["message"], name + ": JSON error")
        n += 1
    expect(n >= 3, "expected the 3 hostile files, found %d" % n)


@test("multi")
def t_multi():
    """Several dumps in one call: a section each, bad ones do not stop the rest."""
    good = os.path.join(real_dir(), "google__breakpad__minidump2.dmp")
    kern = os.path.join(real_dir(), "rizinorg__rizin-testbins__triage_x64.dmp")
    bad = os.path.join(real_dir(), "rizinorg__rizin-testbins__npe_r_mdmp.c-364_1.mdmp")
    if kernel_reader_missing(run("info", kern), "multi with a kernel dump"):
        kern = os.path.join(real_dir(), "rizinorg__rizin-testbins__calc.dmp")
    res = run("info", good, bad, kern)
    expect(res.rc == 3, "good+bad: exit 3", res)
    for p in (good, bad, kern):
        expect("==> %s <==" % p in res.out, "section header for " + p, res)
    expect(res.out.index(good) < res.out.index(bad) < res.out.index(kern), "order", res)
    expect("pid 3932 " in res.out and ("Bugcheck:    0x1000007e" in res.out or "pid 3368 " in res.out),
           "facts of both good dumps", res)
    expect(res.err.count("icpheap: ") == 1 and bad in res.err, "one error message", res)
    res = run("info", good, kern)
    expect(res.rc == 0, "two good dumps: exit 0", res)
    res, doc = info_json(good, bad, kern)
    expect(res.rc == 3 and [x["ok"] for x in doc] == [True, False, True], "JSON good,bad,good", res)
    expect([x["path"] for x in doc] == [good, bad, kern], "JSON order", res)
    expect(doc[1]["error"]["code"] in ("format", "unsupported"), "error code", res)


@test("gzip")
def t_gzip():
    """A gzip-compressed copy gives the same info (gzip: yes)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("electron__node-minidump__windows.dmp", "rizinorg__rizin-testbins__triage_x64.dmp",
                     "WerWolv__ImHex-Patterns__dmp64.hexpat.bin"):
            src = os.path.join(real_dir(), name)
            dst = os.path.join(tmp, name + ".gz")
            with open(src, "rb") as f, gzip.open(dst, "wb") as g:
                shutil.copyfileobj(f, g)
            if kernel_reader_missing(run("info", src), name):
                continue
            _, a = info_json(src)
            res, b = info_json(dst)
            expect(res.rc == 0 and b[0]["ok"] and b[0]["gzip"] is True, name + ": gz opens", res)
            for d in (a[0], b[0]):
                d.pop("path")
                d.pop("gzip")
            expect(a[0] == b[0], name + ": gz info differs from plain")
            res = run("info", dst)
            expect(res.rc == 0 and "gzip: yes" in res.out, name + ": gzip: yes", res)


@test("missing")
def t_missing():
    """A missing file: exit 3 and a message naming it."""
    path = os.path.join(tempfile.gettempdir(), "icpheap-e2e-no-such-file.dmp")
    res = run("info", path)
    expect(res.rc == 3 and res.err.startswith("icpheap: ") and path in res.err, "missing file", res)
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.dmp")
        open(empty, "wb").close()
        res = run("info", empty)
        expect(res.rc == 3 and res.err.startswith("icpheap: ") and empty in res.err, "empty file", res)
        text = os.path.join(tmp, "notes.txt")
        with open(text, "w") as f:
            f.write("this is not a dump\n" * 10)
        res = run("info", text)
        expect(res.rc == 3 and "not a Windows dump" in res.err, "text file", res)
        # A folder: dumps recognised by content, others skipped with a note.
        shutil.copy(os.path.join(real_dir(), "google__breakpad__minidump2.dmp"), os.path.join(tmp, "a.bin"))
        res = run("info", tmp)
        expect(res.rc == 0 and "pid 3932 " in res.out and "skipped" in res.err, "folder", res)
        # -r walks sub-folders; without it they are not entered.
        sub = os.path.join(tmp, "sub", "deeper")
        os.makedirs(sub)
        shutil.copy(os.path.join(real_dir(), "rizinorg__rizin-testbins__calc.dmp"), os.path.join(sub, "c"))
        res = run("info", "-r", tmp)
        expect(res.rc == 0 and "pid 3932 " in res.out and "pid 3368 " in res.out, "folder -r", res)
        expect(res.out.count("==> ") == 2, "folder -r: two sections", res)
        res = run("info", tmp)
        expect(res.rc == 0 and "pid 3368 " not in res.out, "folder without -r", res)
    # --layout with a file that cannot be read: exit 3 naming it.
    res = run("--layout", "/nonexistent/icpheap-layout.txt", "info",
              os.path.join(real_dir(), "google__breakpad__minidump2.dmp"))
    expect(res.rc == 3 and "/nonexistent/icpheap-layout.txt" in res.err, "--layout missing file", res)


@test("usage")
def t_usage():
    """Command line: help, version, bad usage exits 2."""
    res = run("--help")
    expect(res.rc == 0 and "usage: icpheap" in res.out and "info" in res.out and "types" in res.out,
           "--help", res)
    expect(len(res.out.splitlines()) < 40, "--help is short", res)
    res = run("info", "--help")
    expect(res.rc == 0 and res.out.startswith("usage: icpheap info"), "info --help", res)
    res = run("help", "info")
    expect(res.rc == 0 and res.out.startswith("usage: icpheap info"), "help info", res)
    res = run("--version")
    expect(res.rc == 0 and re.match(r"icpheap \d+\.\d+", res.out), "--version", res)
    for args in ((), ("bogus",), ("--bogus", "info"), ("info",), ("info", "--bogus", "x.dmp"),
                 ("--build", "abc", "info", "x.dmp"), ("--build",), ("types", "extra"),
                 ("help", "bogus")):
        res = run(*args)
        expect(res.rc == 2, "usage %r: exit 2" % (args,), res)
        expect(res.err.strip(), "usage %r: message on stderr" % (args,), res)
        expect(not res.out, "usage %r: nothing on stdout" % (args,), res)
    # Global options before or after the command.
    p = os.path.join(real_dir(), "google__breakpad__minidump2.dmp")
    for args in (("--json", "info", p), ("info", "--json", p), ("-q", "--build", "2600", "info", "--json", p),
                 ("info", "--build=2600", "--json", p)):
        res = run(*args)
        expect(res.rc == 0 and json.loads(res.out)[0]["ok"], "%r" % (args,), res)


@test("man")
def t_man():
    """The man page's info schema names exactly the keys jsoncheck.INFO_SCHEMA
    (and so icpheap info --json) has; every command of --help is documented."""
    man_path = os.path.join(os.path.dirname(os.path.abspath(ARGS.testdata)), "man", "icpheap.1")
    man = open(man_path, encoding="utf-8").read()
    a = man.index(".SS info\n.B icpheap info \\-\\-json")
    b = man.index(".SS heap", a)
    keys = set(re.findall(r'"([a-z0-9_]+)":', man[a:b]))

    def walk(sch, out):
        if isinstance(sch, tuple):
            for x in sch:
                walk(x, out)
        elif isinstance(sch, list):
            walk(sch[0], out)
        elif isinstance(sch, dict):
            for k, v in sch.items():
                out.add(k.rstrip("?"))
                walk(v, out)
    want = set()
    walk(jsoncheck.INFO_SCHEMA, want)
    expect(keys == want, "man page info schema vs jsoncheck: only in man %r, only in schema %r"
           % (sorted(keys - want), sorted(want - keys)))
    res = run("--help")
    cmds = re.findall(r"^  (\w+) ", res.out.split("commands:")[1].split("global options:")[0], re.M)
    expect(len(cmds) >= 2, "commands in --help", res)
    for c in cmds:
        expect(".SS %s\n" % c in man, "command %s has no man page subsection" % c)


@test("types")
def t_types():
    """icpheap types prints the layout table; --json is JSON."""
    res = run("types")
    if res.rc == 4 and "not part of this build" in res.err:
        raise Skip("the type table is not in this build")
    expect(res.rc == 0 and res.out.strip(), "types", res)
    expect("19045" in res.out, "types lists build 19045 (the bundled samples' build)", res)
    res = run("types", "--json")
    expect(res.rc == 0, "types --json", res)
    json.loads(res.out)
    # --layout (format: man page, LAYOUT FILE FORMAT): a good row is listed,
    # a bad field is a usage error naming file and line.
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good.layout")
        with open(good, "w") as f:
            f.write('# e2e\n[ntdll x64 27000 "e2e test row"]\nbase = ntdll x64 22621\n'
                    "source = e2e test\nHEAP.Flags = 0x70\n")
        res = run("--layout", good, "types")
        expect(res.rc == 0 and "e2e test row" in res.out and "[loaded]" in res.out, "--layout good", res)
        bad = os.path.join(tmp, "bad.layout")
        with open(bad, "w") as f:
            f.write('[ntdll x64 27000 "x"]\nHEAP.NoSuchField = 1\n')
        res = run("--layout", bad, "types")
        expect(res.rc == 2 and bad + ":2:" in res.err, "--layout bad", res)
    res = run("--version")
    expect(res.rc == 0 and "type table" in res.out and "not part of this build" not in res.out,
           "--version shows the coverage", res)


def builder_group(kernel):
    """info on the builder samples of one kind: facts from their descriptions
    and tests/builder/README.md."""
    if not ARGS.mkdump or not ARGS.samples:
        raise Skip("no mkdump")
    samples = sorted(f for f in os.listdir(ARGS.samples)
                     if f.endswith(".txt") and f.startswith("kernel") == kernel)
    expect(samples, "no samples in " + ARGS.samples)
    with tempfile.TemporaryDirectory() as tmp:
        for s in samples:
            desc = os.path.join(ARGS.samples, s)
            out = os.path.join(tmp, s[:-4] + ".dmp")
            p = subprocess.run([ARGS.mkdump, desc, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            expect(p.returncode == 0, "mkdump %s: %s" % (s, p.stderr.decode(errors="replace")))
            res_t = run("info", out)
            if kernel and res_t.rc == 3 and KERNEL_PLACEHOLDER in res_t.err:
                raise Skip("the kernel dump reader is not in this build")
            expect(res_t.rc == 0, s + ": info", res_t)
            res_j, doc = info_json(out)
            expect(res_j.rc == 0 and doc[0]["ok"], s + ": info --json", res_j)
            try:
                check_builder(s, desc, doc[0], res_t.out)
            except AssertionError as e:
                raise AssertionError(str(e) + "\n--- text ---\n" + res_t.out[:4000])
    print("  %d builder samples checked" % len(samples))


@test("builder-minidump")
def t_builder_minidump():
    builder_group(False)


@test("builder-kernel")
def t_builder_kernel():
    builder_group(True)


def _tokens(line):
    return re.findall(r'(?:[^\s"]+="[^"]*"|"[^"]*"|\S+)', line)


def _opts(tokens):
    o = {}
    for t in tokens:
        if "=" in t:
            k, v = t.split("=", 1)
            o[k] = v.strip('"')
    return o


def _num(s):
    return int(s, 0)


# Facts tests/builder/README.md ("Samples and their facts") states that the
# description files do not (read back by the builder's independent mdinfo.py /
# kwalk.py).  Keys are dotted paths into the info --json object.
README_FACTS = {
    "x64_19045": {"minidump.version": 0x4A61A793, "minidump.flags": 0x826,
                  "minidump.number_of_streams": 16, "file_size": 61632,
                  "minidump.misc_info.flags1": 0x357, "minidump.misc_info.size_of_info": 1364,
                  "minidump.memory.regions": 3, "minidump.handles.count": 4},
    "x86_7601": {"minidump.version": 0xA793, "minidump.flags": 0x4,
                 "minidump.number_of_streams": 7, "minidump.system_info.csd_version": "Service Pack 1",
                 "minidump.misc_info.size_of_info": 44, "minidump.misc_info.flags1": 0x7,
                 "minidump.process.pid": 0x9f0, "minidump.exception.code": 0x80000003,
                 "minidump.exception.address": "0x77a6000c"},
    "wow64_19045": {"wow64": True, "arch": "x64", "build": 19045},
    "kernel_x64_full": {"file_size": 33161216, "kernel.dump_type": 1,
                        "kernel.directory_table_base": "0x1000"},
    "kernel_x64_bitmap": {"kernel.dump_type": 5, "kernel.bitmap_signature": "SDMP",
                          "kernel.physical_memory.total_pages": 0x4000,
                          "kernel.physical_memory.present_pages": 529,
                          "kernel.physical_memory.first_page_offset": 0x3000,
                          "kernel.bugcheck.code": 0xe2},
    "kernel_x64_rdmp": {"kernel.dump_type": 8, "kernel.bugcheck.code": 0x161,
                        "kernel.physical_memory.first_page_offset": 0x3000},
    "kernel_x86_pae": {"kernel.pae_enabled": True, "kernel.is64": False, "build": 7601,
                       "kernel.bugcheck.code": 0xd1, "kernel.kd_debugger_data_block": "0x80110000",
                       "kernel.physical_memory.run_pages": 0x9e + 0xf00},
    "kernel_x64_triage": {"kernel.dump_type": 4, "build": 19041, "file_size": 0x20d8,
                          "kernel.triage.size_of_dump": 0x20d8, "kernel.triage.valid_offset": 0x20d4,
                          "kernel.triage.process_offset": 0x2080, "kernel.triage.string_pool_offset": 0x2088,
                          "kernel.triage.string_pool_size": 5, "kernel.triage.driver_count": 0x97,
                          "kernel.triage.triage_options": 0xFFFFFFFF,
                          "kernel.triage.top_of_stack": "0xffff850429890ee8",
                          "kernel.triage.data_blocks_offset": 0x2090, "kernel.triage.data_blocks_count": 2,
                          "kernel.triage.data_block_bytes": 0x10 + 0x11,
                          "kernel.number_processors": 16,
                          "kernel.kd_debugger_data_block": "0xfffff8047c600b20"},
    "kernel_x86": {"kernel.pae_enabled": False, "kernel.is64": False, "build": 2600,
                   "kernel.bugcheck.code": 0x7f},
}


def check_builder(s, desc, d, text):
    """Facts stated by the sample description (mkdump.c documents the commands)."""
    for key, want in README_FACTS.get(s[:-4], {}).items():
        v = d
        for part in key.split("."):
            v = v[part] if v is not None else None
        expect(v == want, "%s: %s is %r, README says %r" % (s, key, v, want))
    with open(desc, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    first = _tokens(lines[0])
    if first[0] == "minidump":
        md = d["minidump"]
        expect(md is not None, s + ": minidump")
        # arch is the OS's: a WOW64 dump is x64 with wow64 true (dump.h).
        arch = {"x64": "x64", "x86": "x86", "wow64": "x64"}[first[1]]
        expect(d["arch"] == arch and d["wow64"] == (first[1] == "wow64"), s + ": arch/wow64")
        expect(d["build"] == int(first[2].split(".")[2]), s + ": build")
        expect("Windows " + first[2] in text, s + ": OS in text")
        mods = [l for l in lines if l.startswith("module ")]
        threads = [l for l in lines if l.startswith("thread ")]
        handles = [l for l in lines if l.startswith("handle ")]
        # A WOW64 description lists only the 32-bit image; the builder adds
        # the WOW64 system modules (README: 6 modules).
        expect(len(md["modules"]) == len(mods) + (5 if first[1] == "wow64" else 0), s + ": module count")
        by_path = {x["path"]: x for x in md["modules"]}
        for m in mods:
            t = _tokens(m)
            o = _opts(t)
            got = by_path.get(t[1].strip('"'))
            expect(got is not None, s + ": module path " + t[1])
            expect(int(got["base"], 16) == _num(o["base"]) and got["size"] == _num(o["size"]),
                   s + ": module base/size " + t[1])
            if "version" in o:
                expect(got["file_version"] == o["version"], s + ": module version " + t[1])
                expect(o["version"] in text, s + ": version in text")
        expect(len(md["threads"]) == len(threads), s + ": thread count")
        for th, got in zip(threads, md["threads"]):
            t = _tokens(th)
            o = _opts(t)
            expect(got["id"] == _num(t[1]) and int(got["teb"], 16) == _num(o["teb"]), s + ": thread " + t[1])
            if "name" in o:
                expect(got["name"] == o["name"] and o["name"] in text, s + ": thread name " + o["name"])
            st, size = o["stack"].split("+")
            expect(int(got["stack_start"], 16) == _num(st) and got["stack_size"] == _num(size),
                   s + ": thread stack " + t[1])
        if handles:
            expect(md["handles"]["count"] == len(handles), s + ": handle count")
            expect("Handles:     %d" % len(handles) in text, s + ": handles in text")
        for l in lines:
            t = _tokens(l)
            o = _opts(t)
            if t[0] == "exception":
                e = md["exception"]
                expect(e["code"] == _num(o["code"]) and e["thread_id"] == _num(o["thread"]), s + ": exception")
                if "address" in o:
                    expect(int(e["address"], 16) == _num(o["address"]), s + ": exception address")
            elif t[0] == "misc" and "pid" in o:
                expect(md["process"]["pid"] == _num(o["pid"]), s + ": pid")
                expect("pid %d " % _num(o["pid"]) in text, s + ": pid in text")
            elif t[0] in ("comment-a", "comment-w"):
                c = l.split(None, 1)[1]
                expect(c in md["comments"], s + ": comment %r" % c)
            elif t[0] == "sysinfo" and "ncpu" in o:
                expect(md["system_info"]["number_of_processors"] == _num(o["ncpu"]), s + ": ncpu")
            elif t[0] == "unloaded":
                expect(any(u["name"] == t[1] for u in md["unloaded_modules"]), s + ": unloaded " + t[1])
    else:
        k = d["kernel"]
        expect(k is not None, s + ": kernel")
        expect(d["build"] == int(first[2], 0), s + ": build")
        arch = {"x64": "x64", "pae": "x86", "x86": "x86"}[first[1]]
        expect(d["arch"] == arch and k["is64"] == (first[1] == "x64"), s + ": arch")
        if first[1] != "x64":
            expect(k["pae_enabled"] == (first[1] == "pae"), s + ": PAE")
        for l in lines:
            t = _tokens(l)
            o = _opts(t)
            if t[0] == "bugcheck":
                vals = [_num(x) for x in t[1:]]
                expect(k["bugcheck"]["code"] == vals[0], s + ": bugcheck code")
                expect([int(x, 16) for x in k["bugcheck"]["parameters"]][:len(vals) - 1] == vals[1:],
                       s + ": bugcheck parameters")
            elif t[0] == "header":
                for key, jk in (("psactiveprocesshead", "ps_active_process_head"),
                                ("psloadedmodulelist", "ps_loaded_module_list"),
                                ("kdbg", "kd_debugger_data_block")):
                    if key in o:
                        expect(int(k[jk], 16) == _num(o[key]), s + ": " + key)
                if "ncpu" in o:
                    expect(k["number_processors"] == _num(o["ncpu"]), s + ": ncpu")
                if "comment" in o:
                    expect(k["comment"] == o["comment"], s + ": comment")
            elif t[0] == "runs" and k["dump_type"] == 1:
                want = []
                for r in t[1:]:
                    a, b = (_num(x) for x in r.split("-"))
                    want.append((a, b - a))
                got = [(r["base_page"], r["page_count"]) for r in k["physical_memory"]["runs"]]
                expect(got == want, s + ": runs %r vs %r" % (got, want))


# --------------------------------------------------------------------------

def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--icpheap", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--mkdump")
    ap.add_argument("--samples")
    ap.add_argument("--only")
    ap.add_argument("--list", action="store_true")
    ARGS = ap.parse_args()
    if ARGS.list:
        print("\n".join(TESTS))
        return 0
    names = ARGS.only.split(",") if ARGS.only else list(TESTS)
    failed = skipped = 0
    for n in names:
        if n not in TESTS:
            print("unknown test group %r" % n)
            return 2
        t0 = time.monotonic()
        try:
            TESTS[n]()
            print("ok   %-18s %.2fs" % (n, time.monotonic() - t0))
        except Skip as e:
            skipped += 1
            print("skip %-18s %s" % (n, e))
        except Exception:
            failed += 1
            print("FAIL %s" % n)
            traceback.print_exc(file=sys.stdout)
    if failed:
        return 1
    return 77 if skipped == len(names) else 0  # 77: meson's "skipped"


if __name__ == "__main__":
    sys.exit(main())
