#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write schemas/info.schema.json (JSON Schema 2020-12) from the info shape
in jsoncheck.py, which mirrors the man page; test_schemas.py checks the
shipped file is what this script writes and validates real output with it.

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
    if isinstance(s, str):
        return dict(TYPES[s])
    if isinstance(s, tuple):
        return {"anyOf": [convert(x) for x in s]}
    if isinstance(s, list):
        return {"type": "array", "items": convert(s[0])} if s else {"type": "array"}
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


def text():
    return json.dumps(info_schema(), indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        with open(os.path.join(sys.argv[1], "info.schema.json"), "w") as f:
            f.write(text())
    else:
        sys.stdout.write(text())
