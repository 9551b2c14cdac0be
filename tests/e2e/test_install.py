#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`meson install` gives what users of a C library and a CLI expect.

Installs the build into a temporary DESTDIR, then checks: the binary and
the man page (`man icpheap` finds it through MANPATH), the public headers
with a version header, libicpheap.so exporting the API only (every
exported symbol is declared in include/icpheap/*.h; src/ internals such as
the JSON writer are hidden), and a pkg-config file with which a small
program builds against the installed headers and library and opens the
bundled sample.

usage: test_install.py BUILD_DIR SOURCE_ROOT
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402

BUILD, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


PROGRAM = r'''
#include <stdio.h>
#include <icpheap/dump.h>
#include <icpheap/triage.h>
#include <icpheap/version.h>
int main(int argc, char **argv)
{
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(argv[1], &d);
	if (err) { fprintf(stderr, "%s\n", err->message); return 1; }
	struct ich_crash c;
	ich_crash_read(d, &c);
	printf("%s %s %u %s %s\n", ICH_VERSION_STRING, ich_dump_kind_name(d), ich_dump_build(d),
	       c.name, ICH_VERSION_AT_LEAST(0, 0, 1) ? "ok" : "old");
	ich_dump_close(d);
	return argc > 2;
}
'''

with tempfile.TemporaryDirectory() as dest:
    r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "meson install (%s)" % r.stderr[-300:])
    prefix = subprocess.run(["meson", "introspect", BUILD, "--buildoptions"], capture_output=True, text=True)
    root = dest + [o for o in __import__("json").loads(prefix.stdout) if o["name"] == "prefix"][0]["value"]
    check(os.access(os.path.join(root, "bin", "icpheap"), os.X_OK), "bin/icpheap installed")
    man = os.path.join(root, "share", "man", "man1", "icpheap.1")
    check(os.path.exists(man), "man page installed")
    if shutil.which("man"):
        r = subprocess.run(["man", "-w", "icpheap"], capture_output=True, text=True,
                           env=dict(os.environ, MANPATH=os.path.join(root, "share", "man")))
        check(r.stdout.strip() == man, "`man icpheap` finds the installed page (%r)" % r.stdout.strip())
    hdrs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(root, "include", "icpheap", "*.h")))
    public = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "include", "icpheap", "*.h")))
    check(hdrs == sorted(public + ["version.h"]), "public headers and version.h installed (%s)" % hdrs)
    pcs = glob.glob(os.path.join(root, "lib*", "**", "icpheap.pc"), recursive=True)
    check(len(pcs) == 1, "pkg-config file installed (%s)" % pcs)
    libs = glob.glob(os.path.join(root, "lib*", "**", "libicpheap.so.*.*.*"), recursive=True)
    check(len(libs) == 1, "libicpheap.so installed (%s)" % libs)
    if not (pcs and libs):
        sys.exit(1)
    # Exports: only what the public headers declare.
    declared = set()
    for h in glob.glob(os.path.join(ROOT, "include", "icpheap", "*.h")):
        declared |= set(re.findall(r"\b(ich_[A-Za-z0-9_]+)\b", open(h).read()))
    out = subprocess.run(["nm", "-D", "--defined-only", libs[0]], capture_output=True, text=True).stdout
    exported = {l.split()[-1] for l in out.splitlines() if l.strip()}
    check(exported and exported <= declared, "every exported symbol is public API (extra: %s)"
          % sorted(exported - declared)[:5])
    check("ich_json_init" not in exported and "ich_dump_open" in exported,
          "internals hidden (ich_json_init), API exported (ich_dump_open)")
    # pkg-config: build and run a program against the installed library.
    pcdir = os.path.dirname(pcs[0])
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=dest)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "icpheap"], capture_output=True, text=True, env=env)
    check(flags.returncode == 0 and "-licpheap" in flags.stdout, "pkg-config --libs icpheap (%s)" % flags.stderr)
    src = os.path.join(dest, "use.c")
    open(src, "w").write(PROGRAM)
    exe = os.path.join(dest, "use")
    # A sanitized build installs a sanitized library: the program must link
    # the same sanitizer runtime (it has to come first), as any program
    # using that library would.
    opts = __import__("json").loads(prefix.stdout)
    san = [o["value"] for o in opts if o["name"] == "b_sanitize"]
    san_flags = ["-fsanitize=" + san[0]] if san and san[0] not in ("none", "") else []
    r = subprocess.run(["cc", "-std=c17", "-Wall", "-Werror", src, "-o", exe] + san_flags + flags.stdout.split(),
                       capture_output=True, text=True)
    check(r.returncode == 0, "a program builds with the installed headers and pkg-config (%s)" % r.stderr[-400:])
    if r.returncode == 0:
        r = subprocess.run([exe, os.path.join(ROOT, "testdata", "sample", "x64-19045.dmp")],
                           capture_output=True, text=True,
                           env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(libs[0])))
        ver = subprocess.run(["meson", "introspect", BUILD, "--projectinfo"], capture_output=True, text=True)
        want_v = __import__("json").loads(ver.stdout)["version"]
        # testdata/sample/README.md: minidump, build 19045, died of c0000374.
        check(r.stdout.strip() == "%s minidump 19045 STATUS_HEAP_CORRUPTION ok" % want_v,
              "the program reads the sample through libicpheap.so (%r %r)" % (r.stdout, r.stderr))

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
