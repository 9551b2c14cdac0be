#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""analyze --format html: one self-contained page, rendered in a real
headless browser (Debian's chromium).

Checks, on a batch of the bundled sample (c0000374), the independent
builder's corrupt-heap scenario, the electron crash and a hostile file:
the page parses as HTML, fetches nothing (no src/href to another
resource), holds a heap map (SVG) per walked heap and a corrupt-entry
marker on the corrupt heap; then chromium loads it headless: the inline
script ran without an error (it fills #maps with what it counted) and a
screenshot is written.  Without chromium the browser half is skipped
(exit 77) after the static checks: README's test command installs it.

usage: test_html.py ICPHEAP TESTDATA_DIR [CORRUPT_HEAP_DUMP]
"""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICP, TD = sys.argv[1], sys.argv[2]
CORRUPT = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.refs, self.classes = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.classes.append((tag, a.get("class", "")))
        for k in ("src", "href", "xlink:href"):
            if k in a:
                self.refs.append(a[k])


dumps = [os.path.join(TD, "sample", "x64-19045.dmp"),
         os.path.join(TD, "real", "electron__node-minidump__windows.dmp"),
         os.path.join(TD, "real", "rizinorg__rizin-testbins__npe_w_bin_mdmp.c-111_1.mdmp")]
if CORRUPT:
    dumps.append(CORRUPT)
with tempfile.TemporaryDirectory() as tmp:
    page = os.path.join(tmp, "report.html")
    r = subprocess.run([ICP, "analyze", "-q", "--format", "html", "--out", page] + dumps,
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 3, "exit code as for text (3: a hostile file) (%d)" % r.returncode)
    text = open(page, encoding="utf-8").read()
    p = Page()
    p.feed(text)
    check(text.startswith("<!DOCTYPE html>") and "</html>" in text, "a whole HTML document")
    check(p.refs == [], "self-contained: nothing fetched (%s)" % p.refs[:3])
    check("http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text,
          "no network URL in the page")
    maps = [c for t, c in p.classes if t == "svg" and c == "heapmap"]
    nheaps_walked = 1 + (1 if CORRUPT else 0)   # sample: 1 heap; corrupt scenario: 1 heap; others none
    check(len(maps) >= nheaps_walked, "a heap map per walked heap (%d)" % len(maps))
    markers = [c for t, c in p.classes if c == "corrupt-marker"]
    if CORRUPT:
        check(len(markers) >= 1, "the corrupt entry is marked (%d)" % len(markers))
    check(text.count('<section class="dump">') == len(dumps), "a section per dump")
    check("electron.exe+0xe8da4" in text, "the crash location is on the page")
    check(re.search(r"<table class=\"top\">.*?<td>", text, re.S) is not None, "top allocations table")

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("%d passed, %d failed; chromium not installed: browser checks skipped" % (PASSED[0], len(FAILS)))
        sys.exit(1 if FAILS else 77)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--user-data-dir=" + os.path.join(tmp, "profile")]
    r = subprocess.run([browser] + flags + ["--enable-logging=stderr", "--v=0", "--dump-dom",
                                            "file://" + page], capture_output=True, text=True, timeout=120)
    m = re.search(r'<span id="maps">(\d+) heap maps, (\d+) runs, (\d+) corrupt markers</span>', r.stdout)
    check(m is not None, "the page's script ran in chromium (%r)" % r.stderr[-300:])
    if m:
        check(int(m.group(1)) == len(maps) and int(m.group(2)) > 0, "chromium sees the maps drawn (%s)" % m.group(0))
        check(int(m.group(3)) == len(markers), "chromium sees the corrupt markers")
    check("Uncaught" not in r.stderr, "no script error in the console")
    shot = os.path.join(tmp, "shot.png")
    r = subprocess.run([browser] + flags + ["--screenshot=" + shot, "--window-size=1200,1600", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "screenshot written")
    if os.environ.get("ICPHEAP_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["ICPHEAP_KEEP_SCREENSHOT"])

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
