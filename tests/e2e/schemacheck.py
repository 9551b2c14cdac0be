# SPDX-License-Identifier: MIT
"""Validate JSON documents against the JSON Schema files shipped in schemas/.

Uses the `jsonschema` package when it is installed (Debian:
python3-jsonschema); otherwise a small validator for the subset of JSON
Schema 2020-12 the shipped files use: type, enum, const, properties,
required, additionalProperties, items, pattern, minimum, anyOf, $ref to
"#/$defs/...".  The subset validator refuses a schema that uses any other
keyword, so a schema can not silently outgrow it.
"""
import json
import re

try:
    import jsonschema  # type: ignore
except ImportError:  # pragma: no cover - depends on the machine
    jsonschema = None

KNOWN = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "enum", "const",
         "properties", "required", "additionalProperties", "items", "pattern", "minimum",
         "anyOf", "examples"}

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def load(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    _check_keywords(schema, path)
    return schema


def _check_keywords(s, where):
    if isinstance(s, dict):
        for k, v in s.items():
            if k not in KNOWN:
                raise ValueError("%s: keyword %r not supported by schemacheck" % (where, k))
            if k in ("properties", "$defs"):
                for name, sub in v.items():
                    _check_keywords(sub, where + "/" + name)
            elif k in ("items", "additionalProperties") and isinstance(v, dict):
                _check_keywords(v, where + "/" + k)
            elif k == "anyOf":
                for sub in v:
                    _check_keywords(sub, where + "/anyOf")


def validate(doc, schema):
    """List of error strings (empty when doc is valid)."""
    if jsonschema is not None:
        v = jsonschema.Draft202012Validator(schema)
        return ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in v.iter_errors(doc)]
    errs = []
    _validate(doc, schema, schema, "$", errs)
    return errs


def _resolve(root, ref):
    if not ref.startswith("#/$defs/"):
        raise ValueError("unsupported $ref %s" % ref)
    return root["$defs"][ref[len("#/$defs/"):]]


def _validate(v, s, root, path, errs):
    if "$ref" in s:
        _validate(v, _resolve(root, s["$ref"]), root, path, errs)
    if "anyOf" in s:
        if not any(not _sub(v, alt, root, path) for alt in s["anyOf"]):
            errs.append("%s: matches none of anyOf" % path)
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(TYPES[t](v) for t in ts):
            errs.append("%s: %r is not %s" % (path, v, "/".join(ts)))
            return
    if "const" in s and v != s["const"]:
        errs.append("%s: %r != %r" % (path, v, s["const"]))
    if "enum" in s and v not in s["enum"]:
        errs.append("%s: %r not in %r" % (path, v, s["enum"]))
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v):
        errs.append("%s: %r does not match %s" % (path, v, s["pattern"]))
    if "minimum" in s and isinstance(v, (int, float)) and v < s["minimum"]:
        errs.append("%s: %r < %r" % (path, v, s["minimum"]))
    if isinstance(v, dict):
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in v:
                errs.append("%s: missing %r" % (path, k))
        for k, val in v.items():
            if k in props:
                _validate(val, props[k], root, path + "." + k, errs)
            elif s.get("additionalProperties") is False:
                errs.append("%s: unexpected key %r" % (path, k))
            elif isinstance(s.get("additionalProperties"), dict):
                _validate(val, s["additionalProperties"], root, path + "." + k, errs)
    if isinstance(v, list) and isinstance(s.get("items"), dict):
        for i, val in enumerate(v):
            _validate(val, s["items"], root, "%s[%d]" % (path, i), errs)


def _sub(v, s, root, path):
    e = []
    _validate(v, s, root, path, e)
    return e
