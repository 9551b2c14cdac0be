#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The JSON Schemas shipped in schemas/ hold for real output.

Every schemas/*.schema.json but analyze's is what gen_schemas.py writes
from the shapes in jsoncheck.py (which mirror the man page).  `info --json`
on every bundled dump (real, hostile, the sample) validates against
info.schema.json; every other command's --json, in every mode, on the
builders' dumps (NT heap, segment heap, page heap, kernel dumps: --dump
NAME PATH) and the sample validates against its file, and so do its error
documents (a file that is not a dump, a minidump where a kernel dump is
needed).  The schemas are strict: a renamed key, a new key or a status word
outside the vocabulary fails.  (analyze's schemas: test_analyze.py.)

One vocabulary for ids: a PID as JSON writes it (decimal) is accepted by
the commands that take one (handles), as are 0x-hex and WinDbg's hex Cid.

usage: test_schemas.py ICPHEAP TESTDATA_DIR SCHEMAS_DIR [KERNEL_DUMP]
                       [--dump NAME PATH]...
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_schemas  # noqa: E402
import jsoncheck  # noqa: E402
import schemacheck  # noqa: E402
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICP, TD, SCHEMAS = sys.argv[1:4]
KDUMP = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] and sys.argv[4] != "--dump" else None
_rest = sys.argv[4 + (len(sys.argv) > 4 and sys.argv[4] != "--dump"):]
DUMPS = {_rest[k + 1]: _rest[k + 2] for k in range(0, len(_rest) - 2, 3) if _rest[k] == "--dump"}


for fname, want in gen_schemas.texts().items():
    shipped = open(os.path.join(SCHEMAS, fname)).read()
    check(shipped == want, "schemas/%s is up to date (run tests/e2e/gen_schemas.py schemas)" % fname)
# analyze's hand-written schemas hold the heap records as heap's schema does
# (one writer per record, src/cli/records.c), and the batch schema's dump
# is the JSONL line's.
an_dump = json.load(open(os.path.join(SCHEMAS, "analyze-dump.schema.json")))
an_batch = json.load(open(os.path.join(SCHEMAS, "analyze.schema.json")))
for sec, want in gen_schemas.analyze_section_schemas().items():
    check(an_dump["properties"].get(sec) == want,
          "analyze-dump.schema.json: section %s is jsoncheck.ANALYZE_SECTIONS' (run gen_schemas.py schemas)" % sec)
check(an_batch["$defs"]["dump"]["properties"] == an_dump["properties"],
      "analyze.schema.json's dump is analyze-dump.schema.json's")
schema = schemacheck.load(os.path.join(SCHEMAS, "info.schema.json"))
real = os.path.join(TD, "real")
paths = [os.path.join(real, n) for n in sorted(os.listdir(real)) if not n.endswith(".md")]
paths.append(os.path.join(TD, "sample", "x64-19045.dmp"))
r = subprocess.run([ICP, "info", "--json"] + paths, capture_output=True, text=True, timeout=120)
doc = json.loads(r.stdout)
errs = schemacheck.validate(doc, schema)
check(not errs, "info --json of %d dumps validates: %s" % (len(paths), errs[:5]))
check(len(doc) == len(paths) and all(d["schema"] == "icpheap.info/1" for d in doc), "every object names its schema")
# One dump: still one array (the man page's shape).
r = subprocess.run([ICP, "info", "--json", paths[-1]], capture_output=True, text=True, timeout=60)
one = json.loads(r.stdout)
check(not schemacheck.validate(one, schema), "info --json of one dump validates (%s)" % type(one).__name__)
if KDUMP:
    ps = json.loads(subprocess.run([ICP, "ps", "--json", KDUMP], capture_output=True, text=True).stdout)
    procs = [p for p in ps["processes"] if p["pid"] > 9]
    check(procs, "the kernel scenario has processes")
    for p in procs[:2]:
        for arg in (str(p["pid"]), "0x%x" % p["pid"]):
            r = subprocess.run([ICP, "handles", "--json", arg, KDUMP], capture_output=True, text=True)
            got = json.loads(r.stdout) if r.returncode == 0 else {}
            check(r.returncode == 0 and got.get("handles") and all(h["pid"] == p["pid"] for h in got["handles"]),
                  "handles %s (pid %d from ps --json) selects that process (%d %s)"
                  % (arg, p["pid"], r.returncode, r.stderr[:100]))

# ---- every other command, every mode -------------------------------------
SCHEMA = {n: schemacheck.load(os.path.join(SCHEMAS, n + ".schema.json"))
          for n in ("heap", "heap-diff", "icpleak", "ps", "handles", "types", "poolused")}
RUNS = [0]


def run_json(name, args, want_rc=(0, 1)):
    """Run `icpheap --json ARGS`, validate stdout against NAME's schema."""
    r = subprocess.run([ICP, "--json"] + args, capture_output=True, text=True, timeout=120)
    RUNS[0] += 1
    what = "%s (exit %d)" % (" ".join(args), r.returncode)
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        check(False, "%s: stdout is one JSON document (%s; stderr %s)" % (what, e, r.stderr[:200]))
        return None
    errs = schemacheck.validate(doc, SCHEMA[name])
    check(not errs, "%s validates against schemas/%s.schema.json: %s" % (what, name, errs[:4]))
    check(r.returncode in want_rc, "%s: exit code in %s (%s)" % (what, want_rc, r.stderr[:200]))
    docs = doc if isinstance(doc, list) else [doc]
    check(all(d.get("schema") == SCHEMA[name]["title"].split(":")[0] for d in docs),
          "%s: every document names its schema" % what)
    return doc


SAMPLE = os.path.join(TD, "sample", "x64-19045.dmp")
# not dumps: the manifest, and the sample cut after its header
TMP = tempfile.mkdtemp(prefix="icpheap-schemas-")
cut = os.path.join(TMP, "cut.dmp")
with open(SAMPLE, "rb") as f, open(cut, "wb") as g:
    g.write(f.read(200))
hostile = [os.path.join(real, "MANIFEST.md"), cut]
# heap -s on every real minidump (most hold no heap memory: error documents
# or heaps with status no-data)
for path in paths:
    run_json("heap", ["heap", "-s", path], want_rc=(0, 1, 3))
user_dumps = [("sample", SAMPLE)] + [(n, p) for n, p in sorted(DUMPS.items()) if not n.startswith("kernel")]
for name, path in user_dumps:
    a = run_json("heap", ["heap", "-a", path])
    for mode in ([], ["-s"], ["-stat"], ["-stat", "-grp", "B"], ["-v"], ["-p"], ["-p", "-all"], ["-l"],
                 ["-triage"], ["-flt", "s", "20"]):
        run_json("heap", ["heap"] + mode + [path])
    blocks = [b for h in (a or {}).get("heaps", []) for b in h.get("blocks", [])]
    for b in blocks[:1] + [b for b in blocks if b["state"] == "busy"][-1:]:
        run_json("heap", ["heap", "-x", b["user"], path])
        run_json("heap", ["heap", "-p", "-a", b["user"], path])
    run_json("heap", ["heap", "-p", "-a", "0x10", path])   # found nowhere
    check(a is not None and a.get("heaps"), "%s: heap -a lists heaps" % name)
# page heaps: the root's blocks (-p -h ADDR), a block of a page heap (-p -a)
for name, path in sorted(DUMPS.items()):
    if not name.startswith("dph"):
        continue
    p = run_json("heap", ["heap", "-p", "-all", path]) or {}
    ph = p.get("page_heaps", [])
    check(ph and (name.startswith("dph-light") or any(x.get("blocks") for x in ph)),
          "%s: -p -all lists page heaps (full page heaps with their blocks)" % name)
    for x in ph[:1]:
        for b in x.get("blocks", [])[:2]:
            d = run_json("heap", ["heap", "-p", "-a", b["user"], path]) or {}
            check(d.get("found") is True and d.get("heap_kind") == "page", "%s: -p -a %s finds its page block"
                  % (name, b["user"]))
if "diff-old-x64" in DUMPS and "diff-new-x64" in DUMPS:
    run_json("heap-diff", ["heap-diff", DUMPS["diff-old-x64"], DUMPS["diff-new-x64"]])
run_json("heap-diff", ["heap-diff", SAMPLE, SAMPLE])
run_json("types", ["types"])
kernels = [p for n, p in sorted(DUMPS.items()) if n.startswith("kernel")] + ([KDUMP] if KDUMP else [])
for path in kernels:
    ps = run_json("ps", ["ps", path]) or {}
    run_json("handles", ["handles", path])
    run_json("icpleak", ["icpleak", path])
    run_json("icpleak", ["icpleak", "1", path])
    run_json("poolused", ["poolused", path], want_rc=(0, 3))
    run_json("poolused", ["poolused", "-f", "1", "-t", "Io*", path], want_rc=(0, 3))
    for p in [p for p in ps.get("processes", []) if p["pid"] > 9][:1]:
        run_json("handles", ["handles", str(p["pid"]), path])
        run_json("heap", ["heap", "--pid", str(p["pid"]), "-s", path], want_rc=(0, 1, 3))
if "kernel-heaps" in DUMPS:
    # --pid on a kernel dump with process heaps: the heaps are walked
    ps = run_json("ps", ["ps", DUMPS["kernel-heaps"]]) or {}
    walked = 0
    for p in ps.get("processes", []):
        d = run_json("heap", ["heap", "--pid", str(p["pid"]), "-a", DUMPS["kernel-heaps"]], want_rc=(0, 1, 3))
        walked += bool(d and any(h["status"] in ("complete", "partial") for h in d.get("heaps", [])))
    check(walked, "kernel-heaps: heap --pid walks some process's heaps")
# several dumps: one array, an element per dump (the error document for a
# dump that can not answer)
if kernels:
    d = run_json("icpleak", ["icpleak", SAMPLE, kernels[0]], want_rc=(3,))
    check(isinstance(d, list) and len(d) == 2 and "error" in d[0] and "objects" in d[1],
          "icpleak sample+kernel: [error document, report]")
    d = run_json("ps", ["ps", kernels[0], kernels[0]])
    check(isinstance(d, list) and len(d) == 2, "ps of two dumps: an array of two")
    d = run_json("handles", ["handles", SAMPLE, kernels[0]], want_rc=(3,))
    check(isinstance(d, list) and len(d) == 2 and d[0]["error"]["code"] == "not_found",
          "handles: a minidump without HandleData is an error document (%s)" % (d and d[0]))
# error documents: one shape, the message naming the file
for h in hostile:
    for name, args in (("heap", ["heap", "-s"]), ("ps", ["ps"]), ("icpleak", ["icpleak"]),
                       ("handles", ["handles"]), ("poolused", ["poolused"])):
        d = run_json(name, args + [h], want_rc=(3,)) or {}
        check(set(d) == {"schema", "path", "error"} and set(d["error"]) == {"code", "message"}
              and h in d["error"]["message"], "%s %s: the error document names the file (%s)" % (name, h, d))
d = run_json("heap-diff", ["heap-diff", SAMPLE, cut], want_rc=(3,))
# strict: a renamed key, an unknown key, a status word outside the vocabulary
doc = json.loads(subprocess.run([ICP, "--json", "heap", "-s", SAMPLE], capture_output=True, text=True).stdout)
check(not schemacheck.validate(doc, SCHEMA["heap"]), "heap -s of the sample validates")
for label, mutate in (
        ("totals.busy_count renamed", lambda d: d["heaps"][0]["totals"].update(
            busy_blocks=d["heaps"][0]["totals"].pop("busy_count"))),
        ("heap status 'ok'", lambda d: d["heaps"][0].update(status="ok")),
        ("unknown top-level key", lambda d: d.update(extra=1)),
        ("flags as a string", lambda d: d["heaps"][0].update(flags="0x2")),
        ("schema version", lambda d: d.update(schema="icpheap.heap/0"))):
    m = json.loads(json.dumps(doc))
    mutate(m)
    check(schemacheck.validate(m, SCHEMA["heap"]), "heap schema refuses: %s" % label)
# analyze on the same dumps: every JSONL line against analyze-dump's schema,
# whose sections hold the commands' records (checked above); heap_growth
# through --heap-baseline.
AN = schemacheck.load(os.path.join(SCHEMAS, "analyze-dump.schema.json"))
an_paths = [p for _, p in user_dumps] + kernels
an_args = ["analyze", "-q", "--jsonl", "--fail-on", "none"]
r = subprocess.run([ICP] + an_args + an_paths, capture_output=True, text=True, timeout=300)
lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
check(len(lines) == len(an_paths), "analyze: a line per dump (%d of %d)" % (len(lines), len(an_paths)))
sections = set()
for d in lines:
    errs = schemacheck.validate(d, AN)
    check(not errs, "analyze %s validates: %s" % (d.get("path"), errs[:4]))
    sections |= {k for k in jsoncheck.ANALYZE_SECTIONS if k in d}
if "diff-old-x64" in DUMPS:
    r = subprocess.run([ICP] + an_args + ["--heap-baseline", DUMPS["diff-old-x64"], DUMPS["diff-new-x64"]],
                       capture_output=True, text=True, timeout=120)
    d = json.loads(r.stdout)
    check(not schemacheck.validate(d, AN) and d["heap_growth"]["status"] == "complete"
          and d["heap_growth"]["bytes_growth"] > 0, "analyze --heap-baseline: heap_growth validates and grew")
    sections.add("heap_growth")
check(sections == set(jsoncheck.ANALYZE_SECTIONS) or not kernels,
      "every analyze section was checked (%s)" % sorted(sections))
sample = next(d for d in lines if d["path"] == SAMPLE)
check(sample["heap_stat"]["group_by"] == "TOTSIZE" and sample["heap_stat"]["sizes"]
      and sample["heaps"]["heaps"][0]["status"] == "complete", "analyze: the -stat record and heap record")
for label, mutate in (("heap_stat.sizes renamed top", lambda d: d["heap_stat"].update(top=d["heap_stat"].pop("sizes"))),
                      ("a heap's flags as a string", lambda d: d["heaps"]["heaps"][0].update(flags="0x2")),
                      ("a section error as a string", lambda d: d["heaps"].update(error="x"))):
    m = json.loads(json.dumps(sample))
    mutate(m)
    check(schemacheck.validate(m, AN), "analyze-dump schema refuses: %s" % label)
shutil.rmtree(TMP)
print("%d command runs" % RUNS[0])
print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
