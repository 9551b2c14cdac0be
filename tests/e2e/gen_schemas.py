#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write schemas/*.schema.json (JSON Schema 2020-12) from the shapes in
jsoncheck.py (info, heap, heap-diff, icpleak, ps, handles, types, poolused), which
mirror the man page; test_schemas.py checks the shipped files are what this
script writes and validates real output of every command with them.
(analyze's two schema files are written by hand.)

usage: gen_schemas.py [OUT_DIR]   (default: print to stdout)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsoncheck  # noqa: E402

TYPES = {"str": {"type": "string"}, "int": {"type": "integer"}, "num": {"type": "number"},
         "bool": {"type": "boolean"}, "addr": {"type": "string", "pattern": "^0x[0-9a-f]+$"},
         "any": {}}


def convert(s):
    if s is None:
        return {"type": "null"}
    if isinstance(s, frozenset):
        return {"enum": sorted(s)}
    if isinstance(s, str) and s.startswith("="):
        return {"const": s[1:]}
    if isinstance(s, str):
        return dict(TYPES[s])
    if isinstance(s, tuple):
        return {"anyOf": [convert(x) for x in s]}
    if isinstance(s, list):
        return {"type": "array", "items": convert(s[0])} if s else {"type": "array"}
    if isinstance(s, dict) and list(s) == ["*"]:
        return {"type": "object", "additionalProperties": convert(s["*"])}
    if isinstance(s, dict):
        props, req = {}, []
        for k, v in s.items():
            opt = k.endswith("?")
            name = k[:-1] if opt else k
            props[name] = convert(v)
            if not opt:
                req.append(name)
        return {"type": "object", "properties": props, "required": req, "additionalProperties": False}
    raise ValueError(s)


def info_schema():
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": "https://icpheap.invalid/schemas/info.schema.json",
           "title": "icpheap.info/1: icpheap info --json (an array, one object per dump)"}
    doc.update(convert(jsoncheck.INFO_SCHEMA))
    for alt in doc["items"]["anyOf"]:
        alt["properties"]["schema"] = {"const": "icpheap.info/1"}
    return doc


# The other commands: name -> (title, shape in jsoncheck.py).
DOCS = {
    "heap": ("icpheap.heap/1: icpheap heap --json, every mode (one object; the error document when the dump "
             "can not be read)", jsoncheck.HEAP_DOC),
    "heap-diff": ("icpheap.heap-diff/1: icpheap heap-diff --json", jsoncheck.HEAP_DIFF_DOC),
    "icpleak": ("icpheap.icpleak/1: icpheap icpleak --json (one object per dump; an array for several)",
                jsoncheck.ICPLEAK_DOC),
    "ps": ("icpheap.ps/1: icpheap ps --json (one object per dump; an array for several)", jsoncheck.PS_DOC),
    "handles": ("icpheap.handles/1: icpheap handles --json (kernel dumps: pid/process/object rows, "
                "minidumps: HandleData rows; an array for several dumps)", jsoncheck.HANDLES_DOC),
    "types": ("icpheap.types/1: icpheap types --json (the structure layout table)", jsoncheck.TYPES_DOC),
    "poolused": ("icpheap.poolused/1: icpheap poolused --json (one object per dump; an array for several)",
                 jsoncheck.POOLUSED_DOC),
}


def doc_schema(name):
    title, shape = DOCS[name]
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": "https://icpheap.invalid/schemas/%s.schema.json" % name,
           "title": title}
    doc.update(convert(shape))
    return doc


def analyze_section_schemas():
    """analyze's section properties, from jsoncheck.ANALYZE_SECTIONS."""
    return {k: convert(v) for k, v in jsoncheck.ANALYZE_SECTIONS.items()}


def update_analyze(d, batch):
    """Put the generated section schemas into a (hand-written) analyze schema."""
    dump = d["$defs"]["dump"] if batch else d
    dump["properties"].update(analyze_section_schemas())
    for k in ("heap", "problem"):
        d["$defs"].pop(k, None)


def texts():
    """{file name: text} of every generated schema file."""
    out = {"info.schema.json": json.dumps(info_schema(), indent=1, sort_keys=False) + "\n"}
    for name in DOCS:
        out[name + ".schema.json"] = json.dumps(doc_schema(name), indent=1, sort_keys=False) + "\n"
    return out


def text():
    return texts()["info.schema.json"]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        for fname, batch in (("analyze-dump.schema.json", False), ("analyze.schema.json", True)):
            path = os.path.join(sys.argv[1], fname)
            with open(path) as f:
                d = json.load(f)
            update_analyze(d, batch)
            with open(path, "w") as f:
                f.write(json.dumps(d, indent=1 if batch else 2) + "\n")
        for fname, t in texts().items():
            with open(os.path.join(sys.argv[1], fname), "w") as f:
                f.write(t)
    else:
        sys.stdout.write(text())
