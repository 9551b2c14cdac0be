#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The command line's one option table per command (src/cli/parse_options.h).

usage: test_cli_options.py ICPHEAP SOURCE_ROOT

- man/icpheap.1 lists exactly the options each command's table declares
  (`icpheap CMD --list-options`), and GLOBAL OPTIONS exactly the global
  table (`icpheap --list-options`): an option in a .TP item of the
  command's subsection is the first word of each alternative (separated by
  "," or "|", text in [brackets] left out);
- every command's --help is generated from its table: it starts with
  "usage: icpheap CMD", shows every listed option (the ICH_OPTF_MORE ones
  only with -v), and no cmd_*.c carries a usage text of its own;
- one parser: permutation, --opt=val, combined short flags, "did you mean"
  for options and commands, one message style ("icpheap CMD: ..."), a
  missing dump is exit 2 in every command, -q silences notes;
- heap's WinDbg forms: the same output whatever the order the man page
  allows (heap DUMP -s == heap -s DUMP, ADDR -x == -x ADDR, -s 0 == -s).
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICPHEAP, ROOT = sys.argv[1], sys.argv[2]
SAMPLE = os.path.abspath(os.path.join(ROOT, "testdata", "sample", "x64-19045.dmp"))
REAL = os.path.join(ROOT, "testdata", "real")


def run(*args, timeout=60):
    p = subprocess.run([ICPHEAP] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- tables

rc, out, err = run("--help")
check(rc == 0, "--help")
commands = re.findall(r"^  ([\w-]+) ", out.split("commands:")[1].split("global options")[0], re.M)
check(len(commands) >= 8, "commands in --help: %r" % commands)


def table(*args):
    rc, out, err = run(*args)
    check(rc == 0, "%s: exit %d (%s)" % (" ".join(args), rc, err.strip()))
    opts = {}
    for line in out.splitlines():
        name, _, argh = line.partition("\t")
        opts[name] = argh
    return opts


def roff_text(line):
    """A man page line as it reads: no request, quotes, fonts or escapes."""
    line = re.sub(r"^\.[BIR]+\s*", "", line)
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace('"', "")
    return line


def man_options(section):
    """Options of the .TP items of one man page section."""
    lines = section.split("\n")
    found = set()
    for i, l in enumerate(lines):
        if l != ".TP" or i + 1 >= len(lines):
            continue
        text = roff_text(lines[i + 1])
        while True:
            t = re.sub(r"\[[^\[\]]*\]", "", text)
            if t == text:
                break
            text = t
        for alt in re.split(r"[,|]", text):
            words = alt.split()
            if words and words[0].startswith("-") and len(words[0]) > 1:
                found.add(words[0])
    return found


man = open(os.path.join(ROOT, "man", "icpheap.1"), encoding="utf-8").read()
cmds_part = man[man.index(".SH COMMANDS"):man.index("\n.SH ", man.index(".SH COMMANDS") + 1)]
sections = {}
for part in re.split(r"^\.SS ", cmds_part, flags=re.M)[1:]:
    name = part.split("\n", 1)[0].strip().replace("\\-", "-")
    sections[name] = part
g_start = man.index(".SH GLOBAL OPTIONS")
g_part = man[g_start:man.index("\n.SH ", g_start + 1)]

globals_ = table("--list-options")
check(set(globals_) == man_options(g_part),
      "GLOBAL OPTIONS vs the global table: only in man %r, only in table %r"
      % (sorted(man_options(g_part) - set(globals_)), sorted(set(globals_) - man_options(g_part))))

for c in commands:
    t = table(c, "--list-options")
    check(c in sections, "man page has a subsection for %s" % c)
    m = man_options(sections.get(c, ""))
    check(set(t) == m, "%s: man page vs option table: only in man %r, only in table %r"
          % (c, sorted(m - set(t)), sorted(set(t) - m)))
    # --help is generated from the table
    rc, h, err = run(c, "--help")
    check(rc == 0 and h.startswith("usage: icpheap %s " % c), "%s --help: usage line (%r)" % (c, h[:40]))
    rc, hv, err = run(c, "--help", "-v")
    for name in t:
        check(re.search(r"(^|[\s,])%s([\s,\[]|$)" % re.escape(name), hv, re.M),
              "%s --help -v shows %s" % (c, name))
    rc, h2, err = run("help", c)
    check(rc == 0 and h2 == h, "help %s == %s --help" % (c, c))

srcdir = os.path.join(ROOT, "src", "cli")
for f in sorted(os.listdir(srcdir)):
    if f.startswith("cmd_") and f.endswith(".c"):
        text = open(os.path.join(srcdir, f), encoding="utf-8").read()
        check('"usage: icpheap' not in text and "getopt" not in text,
              "%s: no usage text or getopt of its own (the table generates --help)" % f)
main_c = open(os.path.join(srcdir, "main.c"), encoding="utf-8").read()
check("weak" not in main_c, "main.c: an explicit command table, no weak symbols")
check("weak" not in open(os.path.join(srcdir, "cmd_types.c"), encoding="utf-8").read(),
      "cmd_types.c: no #pragma weak")
meson_cli = open(os.path.join(srcdir, "meson.build"), encoding="utf-8").read()
check("run_command" not in meson_cli, "src/cli/meson.build lists its sources (no glob)")
for f in sorted(os.listdir(srcdir)):
    if f.endswith(".c"):
        check("'%s'" % f in meson_cli, "src/cli/meson.build lists %s" % f)
for c in commands:
    ident = "ich_cmd_" + c.replace("-", "_")
    check("&%s," % ident in main_c, "main.c's command table has %s" % ident)

# ---------------------------------------------------------------- parsing

# A missing dump is a usage error in every command that takes one.
for c in commands:
    if c == "types":
        continue
    rc, out, err = run(c)
    check(rc == 2 and err.startswith("icpheap %s: " % c), "%s without a dump: exit 2, 'icpheap %s:' (%d %r)"
          % (c, c, rc, err[:60]))
    rc, out, err = run(c, "-q")
    check(rc == 2 and not out, "%s -q without a dump: exit 2 (%d)" % (c, rc))

# -q is accepted by every command (a global option after the command).
for c in commands:
    args = {"types": [], "heap-diff": [SAMPLE, SAMPLE]}.get(c, [SAMPLE])
    rc, out, err = run(c, "-q", *args)
    check(rc != 2, "%s -q: not a usage error (%d %r)" % (c, rc, err[:80]))

# One message style and "did you mean" for every command.
for c in commands:
    rc, out, err = run(c, "--jsno", SAMPLE)
    check(rc == 2 and err.startswith("icpheap %s: unknown option '--jsno'" % c)
          and "did you mean '--json'" in err, "%s --jsno: did you mean --json (%r)" % (c, err[:90]))
    check(not out, "%s --jsno: nothing on stdout" % c)
rc, out, err = run("heap", "-stt", SAMPLE)
check(rc == 2 and "did you mean '-stat'" in err, "heap -stt: did you mean -stat (%r)" % err)
rc, out, err = run("heap", "-trage", SAMPLE)
check(rc == 2 and "did you mean '-triage'" in err, "heap -trage: did you mean -triage (%r)" % err)
rc, out, err = run("analyze", "-json", SAMPLE)
check(rc == 2 and "did you mean '--json'" in err, "analyze -json: did you mean --json (%r)" % err)
rc, out, err = run("hep", SAMPLE)
check(rc == 2 and "did you mean 'heap'" in err, "hep: did you mean heap (%r)" % err)
rc, out, err = run("--jsno", "info", SAMPLE)
check(rc == 2 and err.startswith("icpheap: unknown option '--jsno'") and "did you mean '--json'" in err,
      "global --jsno (%r)" % err)
rc, out, err = run("analyze", "--out", SAMPLE)
check(rc == 2 and "no dump or folder given" in err, "analyze --out DUMP: the dump became --out's value")
rc, out, err = run("analyze", "--timeout")
check(rc == 2 and "option '--timeout' needs an argument" in err, "--timeout without a value (%r)" % err)
rc, out, err = run("info", "--json=yes", SAMPLE)
check(rc == 2 and "takes no value" in err, "--json=yes (%r)" % err)

# Permutation, --opt=val, --opt val, combined short flags.
base = run("info", "--json", SAMPLE)
check(base[0] == 0, "info --json")
for args in (("info", SAMPLE, "--json"), ("--json", "info", SAMPLE), ("info", "--build=0", SAMPLE, "--json"),
             ("info", "--build", "0", "--json", SAMPLE)):
    check(run(*args)[:2] == base[:2], "%r == info --json DUMP" % (args,))
with tempfile.TemporaryDirectory() as tmp:
    os.mkdir(os.path.join(tmp, "sub"))
    os.symlink(SAMPLE, os.path.join(tmp, "sub", "a.dmp"))
    with open(os.path.join(tmp, "sub", "notes.txt"), "w") as f:
        f.write("not a dump\n")
    a = run("analyze", "-r", "-q", "--fail-on=none", "--jsonl", tmp)
    b = run("analyze", tmp, "-rq", "--jsonl", "--fail-on", "none")
    check(a[0] == 0 and a[1].count("\n") == 1, "analyze -r -q --fail-on=none: one dump (%d %r)" % (a[0], a[2]))
    check(a[:2] == b[:2], "analyze -rq and options after the folder: same report")
    check(not a[2] and not b[2], "analyze -q: no notes on stderr (%r)" % (a[2] + b[2]))
    rc, out, err = run("info", "-r", tmp)
    check("note:" in err and "notes.txt" in err, "info -r: a note for the file that is not a dump (%r)" % err)
    for args in (("info", "-r", "-q", tmp), ("info", "-rq", tmp), ("-q", "info", "-r", tmp),
                 ("info", tmp, "-r", "--quiet")):
        rc, out, err = run(*args)
        check(rc == 0 and "note:" not in err, "%r: -q silences the note (%r)" % (args[:-1], err))
rc, out, err = run("analyze", "-j", "1", "-q", "--fail-on", "none", SAMPLE)
rc2, out2, err2 = run("analyze", "-j1", "-q", "--fail-on", "none", SAMPLE)
check(rc == rc2 == 0 and out == out2, "-j 1 == -j1")
rc, out, err = run("analyze", "--", "-q")
check(rc == 3 and "-q" in err, "after --, -q is a path (%d %r)" % (rc, err))

# heap: WinDbg forms keep their meaning in every order the man page allows.
heap = lambda *a: run("heap", *a)
ref = heap("-s", SAMPLE)
check(ref[0] == 0 and "NT HEAP STATS" in ref[1], "heap -s")
for args in ((SAMPLE, "-s"), ("-s", "0", SAMPLE), ("-q", "-s", SAMPLE), ("-s", SAMPLE, "-q")):
    check(heap(*args)[:2] == ref[:2], "heap %r == heap -s DUMP" % (args,))
ref = heap("-x", "1c3a0001310", SAMPLE)
check(ref[0] == 0 and ref[1], "heap -x ADDR")
check(heap("1c3a0001310", "-x", SAMPLE)[:2] == ref[:2], "heap ADDR -x == heap -x ADDR")
ref = heap("-stat", "-h", "1c3a0000000", SAMPLE)
check(ref[0] == 0 and ref[1], "heap -stat -h HEAP")
check(heap("-stat", "-h", "1c3a0000000", "-grp", "s", "14", SAMPLE)[:2] == ref[:2],
      "-stat -h HEAP -grp s 14 (MAX hex 0x14 = the default 20)")
check(heap("--json", "-flt", "s", "20", SAMPLE)[:2] == heap("-flt", "s", "20", "--json", SAMPLE)[:2],
      "heap --json anywhere")
rc, out, err = heap("-flt", "s", SAMPLE)
check(rc == 2 and err.startswith("icpheap heap: -flt"), "heap -flt s DUMP: the dump is not the size (%r)" % err)
rc, out, err = heap("-p", "-a", SAMPLE)
check(rc == 2 and "-p -a needs an address" in err, "heap -p -a DUMP (%r)" % err)
for live in ("-b", "-B", "-E", "-D", "-e", "-d"):
    rc, out, err = heap(live, SAMPLE)
    check(rc == 2 and "live process" in err, "heap %s: exit 2, live process only" % live)
rc, out, err = heap("-s")
check(rc == 2 and err.startswith("icpheap heap: no dump given"), "heap -s: no dump given (%r)" % err)
rc, out, err = heap("-?", SAMPLE)
check(rc == 0 and out.startswith("Platform dependent usage:"), "heap -? is !heap's own help")
rc, out, err = heap("--help")
check(rc == 0 and out.startswith("usage: icpheap heap"), "heap --help is icpheap's")

print("%d checks, %d failed" % (PASSED[0] + len(FAILS), len(FAILS)))
sys.exit(1 if FAILS else 0)
