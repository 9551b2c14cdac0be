#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The documentation's commands work when pasted.

1. Every command line in icpheap(1) EXAMPLES (and the many-machines recipe
   under JSON SCHEMAS, analyze) runs in a shell with `icpheap` on PATH and
   the example file names mapped to real dumps: no usage error (exit 2), no
   stray file made by an unquoted '>', and the --out report parses.
2. README's GitHub Actions step runs its `run:` script as Actions would
   (bash -e, GITHUB_STEP_SUMMARY set) on a folder of dumps: the SARIF file
   is written and parses, the step summary is Markdown, and the step's exit
   code is the documented one.

usage: test_docs.py ICPHEAP SOURCE_ROOT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICP, ROOT = os.path.abspath(sys.argv[1]), sys.argv[2]
REAL = os.path.join(ROOT, "testdata", "real")
SAMPLE = os.path.join(ROOT, "testdata", "sample", "x64-19045.dmp")
SKIPPED = []


def groff_text(s):
    return (s.replace("\\-", "-").replace("\\(aq", "'").replace("\\(dq", '"')
            .replace("\\e", "\\").replace("\\&", ""))


def man_commands():
    """Command lines of the .EX blocks in EXAMPLES and after 'Many machines'."""
    text = open(os.path.join(ROOT, "man", "icpheap.1"), encoding="utf-8").read()
    out = []
    for part in (text[text.index(".SH EXAMPLES"):], text[text.index("Many machines"):]):
        for block in re.findall(r"^\.EX\n(.*?)^\.EE", part, re.S | re.M)[:12 if part.startswith(".SH") else 1]:
            for line in block.splitlines():
                line = groff_text(line).strip()
                if re.match(r"^(icpheap|find|ls|parallel) ", line):
                    out.append(line)
    return out


def workspace(tmp):
    """Files the examples name, made of real dumps."""
    os.makedirs(os.path.join(tmp, "dumps"))
    for n in ("electron__node-minidump__windows.dmp", "google__breakpad__tiny-exe-fastfail.dmp",
              "llvm-mirror__lldb__sigsegv.dmp"):
        shutil.copy(os.path.join(REAL, n), os.path.join(tmp, "dumps", n))
    shutil.copy(os.path.join(REAL, "electron__node-minidump__windows.dmp"), os.path.join(tmp, "crash.dmp"))
    subprocess.run("gzip -c crash.dmp > crash.dmp.gz", shell=True, cwd=tmp, check=True)
    shutil.copy(SAMPLE, os.path.join(tmp, "app.dmp"))
    shutil.copy(os.path.join(REAL, "rizinorg__rizin-testbins__triage_x64.dmp"), os.path.join(tmp, "MEMORY.DMP"))
    bindir = os.path.join(tmp, ".bin")
    os.mkdir(bindir)
    os.symlink(ICP, os.path.join(bindir, "icpheap"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    return env


def listing(tmp):
    return sorted(f for f in os.listdir(tmp) if not f.startswith("."))


# 1. The man page examples.
cmds = man_commands()
check(len(cmds) >= 6, "man page examples found (%d)" % len(cmds))
with tempfile.TemporaryDirectory() as tmp:
    env = workspace(tmp)
    for cmd in cmds:
        tool = cmd.split()[0] if not cmd.startswith(("find", "ls")) else None
        needs = [t for t in ("jq", "parallel") if re.search(r"\b%s\b" % t, cmd)]
        missing = [t for t in needs if not shutil.which(t)]
        if missing:
            SKIPPED.append("%s (needs %s)" % (cmd, ", ".join(missing)))
            continue
        before = listing(tmp)
        r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=120)
        # xargs exits 123 when an invocation exits 1..125 (a finding)
        ok_codes = (0, 1, 3, 123) if "xargs" in cmd else (0, 1, 3)
        check(r.returncode in ok_codes, "example exits 0/1/3, not a usage error: %r -> %d %s"
              % (cmd, r.returncode, r.stderr[:200]))
        new = [f for f in listing(tmp) if f not in before]
        check(all(f.endswith((".jsonl", ".json")) for f in new),
              "example makes no stray file (an unquoted '>'): %r -> %s" % (cmd, new))
        for f in new:
            with open(os.path.join(tmp, f)) as fh:
                ok = all(json.loads(l) for l in fh if l.strip())
            check(ok, "%s written by %r parses" % (f, cmd))
        if "--shard" in cmd:
            got = sorted(json.loads(l)["path"] for l in open(os.path.join(tmp, "results.jsonl")) if l.strip())
            check(got == sorted(os.path.join("dumps", n) for n in os.listdir(os.path.join(tmp, "dumps"))),
                  "the shard recipe covers every dump once (%s)" % got)
            os.unlink(os.path.join(tmp, "results.jsonl"))

# 2. README's GitHub Actions step.
readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
m = re.search(r"```yaml\n(.*?)```", readme, re.S)
check(m is not None, "README has a GitHub Actions recipe")
if m:
    y = m.group(1)
    run = re.search(r"run: \|\n((?:    .*\n)+)", y)
    check(run is not None, "the recipe has a run: script")
    script = "\n".join(l[4:] for l in run.group(1).splitlines())
    # Only documented options: every --option in the script is in the man page.
    man = groff_text(open(os.path.join(ROOT, "man", "icpheap.1"), encoding="utf-8").read())
    for opt in set(re.findall(r"(--[a-z-]+)", script)):
        check(opt in man, "recipe option %s is documented" % opt)
    for dumps, want in ((["electron__node-minidump__windows.dmp"], 0),
                        (["electron__node-minidump__windows.dmp", "google__breakpad__tiny-exe-fastfail.dmp"], 1)):
        with tempfile.TemporaryDirectory() as tmp:
            env = workspace(tmp)
            shutil.rmtree(os.path.join(tmp, "dumps"))
            os.mkdir(os.path.join(tmp, "dumps"))
            for n in dumps:
                shutil.copy(os.path.join(REAL, n), os.path.join(tmp, "dumps", n))
            summary = os.path.join(tmp, "summary.md")
            env["GITHUB_STEP_SUMMARY"] = summary
            # GitHub Actions runs `run:` with bash --noprofile --norc -eo pipefail {0}.
            with open(os.path.join(tmp, "step.sh"), "w") as fh:
                fh.write(script + "\n")
            r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "step.sh"],
                               cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
            check(r.returncode == want, "CI step on %s exits %d (%d %s)" % (dumps, want, r.returncode, r.stderr[:200]))
            sarif = json.load(open(os.path.join(tmp, "icpheap.sarif")))
            check(sarif["version"] == "2.1.0" and sarif["runs"][0]["results"], "CI step wrote SARIF with results")
            md = open(summary).read()
            check(md.startswith("## icpheap analyze") and "| `" in md, "CI step wrote the Markdown summary")

# 3. Every layout source id the code cites (S1..S11) is listed in
# docs/SOURCES.md.
srcs = open(os.path.join(ROOT, "docs", "SOURCES.md"), encoding="utf-8").read()
listed = set(re.findall(r"^\| (S\d+) \|", srcs, re.M))
cited = set()
for d, _, files in os.walk(os.path.join(ROOT, "src")):
    for f in files:
        if f.endswith((".c", ".h")):
            cited |= set(re.findall(r"\b(S(?:[1-9]|1[0-1]))\b", open(os.path.join(d, f), encoding="utf-8",
                                                                    errors="replace").read()))
check(cited and cited <= listed, "cited source ids %s all listed in docs/SOURCES.md (%s)"
      % (sorted(cited - listed), sorted(listed)))

for s in SKIPPED:
    print("skipped:", s)
print("%d passed, %d failed, %d skipped" % (PASSED[0], len(FAILS), len(SKIPPED)))
sys.exit(1 if FAILS else 0)
