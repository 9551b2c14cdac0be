# SPDX-License-Identifier: MIT
"""Minimal JSON shape checker for icpheap's --json output.

A schema is plain Python data mirroring the man page (icpheap(1), JSON
SCHEMAS):

  "str" "int" "bool" "num"   a value of that JSON type ("int": no bool)
  "addr"                     a string "0x..." in lowercase hex (ich_json_addr)
  "any"                      anything
  None                       JSON null
  ("str", None)              a tuple is a union: any member may match
  "=text"                    exactly the string "text" (a schema name)
  frozenset({"a", "b"})      one of these strings (an enum)
  ["int"]                    a list: an array whose every item matches
  {"*": schema}              a map: an object with any keys, every value matching
  {"key": schema, ...}       an object holding exactly these keys (extra keys
                             are reported too, so the man page stays complete);
                             a key ending in "?" may be absent

Usage:
  errors = check(value, INFO_SCHEMA)        # [] when the value fits
  assert_schema(value, INFO_SCHEMA, "info") # raises AssertionError listing them

Other commands' schemas (heap, icpleak, analyze) go next to INFO_SCHEMA
below, one per man page subsection.
"""

import re

_ADDR = re.compile(r"^0x[0-9a-f]+$")


def _type_ok(value, t):
    if isinstance(t, frozenset):
        return value in t
    if isinstance(t, str) and t.startswith("="):
        return value == t[1:]
    if t is None:
        return value is None
    if t == "any":
        return True
    if t == "str":
        return isinstance(value, str)
    if t == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "num":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "bool":
        return isinstance(value, bool)
    if t == "addr":
        return isinstance(value, str) and _ADDR.match(value) is not None
    raise ValueError("unknown schema type %r" % (t,))


def _describe(schema):
    if isinstance(schema, frozenset):
        return "one of " + "/".join(sorted(schema))
    if isinstance(schema, tuple):
        return " or ".join(_describe(s) for s in schema)
    if isinstance(schema, list):
        return "array"
    if isinstance(schema, dict):
        return "object"
    return "null" if schema is None else schema


def check(value, schema, path="$"):
    """Return a list of "path: problem" strings (empty when value fits)."""
    if isinstance(schema, tuple):
        best = None
        for s in schema:
            errs = check(value, s, path)
            if not errs:
                return []
            # Report against the alternative of the same JSON kind.
            if best is None or (isinstance(s, dict) and isinstance(value, dict)) or \
                    (isinstance(s, list) and isinstance(value, list)):
                best = errs
        if isinstance(value, (dict, list)) and best:
            return best
        return ["%s: expected %s, got %r" % (path, _describe(schema), _short(value))]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return ["%s: expected array, got %r" % (path, _short(value))]
        errs = []
        for i, item in enumerate(value):
            errs += check(item, schema[0], "%s[%d]" % (path, i))
            if len(errs) > 20:
                break
        return errs
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return ["%s: expected object, got %r" % (path, _short(value))]
        errs = []
        if list(schema) == ["*"]:  # a map: any keys, every value alike
            for k, v in value.items():
                errs += check(v, schema["*"], "%s.%s" % (path, k))
            return errs
        keys = set()
        for k, s in schema.items():
            optional = k.endswith("?")
            k = k.rstrip("?")
            keys.add(k)
            if k not in value:
                if not optional:
                    errs.append("%s: missing key %r" % (path, k))
                continue
            errs += check(value[k], s, "%s.%s" % (path, k))
        for k in value:
            if k not in keys:
                errs.append("%s: key %r is not in the schema" % (path, k))
        return errs
    if not _type_ok(value, schema):
        return ["%s: expected %s, got %r" % (path, _describe(schema), _short(value))]
    return []


def _short(v):
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


def assert_schema(value, schema, what="value"):
    errs = check(value, schema)
    if errs:
        raise AssertionError("%s does not match its schema:\n  %s" % (what, "\n  ".join(errs[:30])))


# ---------------------------------------------------------------------------
# icpheap info --json: an array, one element per dump argument (man page,
# JSON SCHEMAS, "info").  Keep in sync with src/cli/cmd_info.c and the man page.

_CODE = {"code": "int", "code_hex": "str", "name": ("str", None)}

INFO_MINIDUMP = {
    "version": "int",
    "number_of_streams": "int",
    "timestamp": "int",
    "time": ("str", None),
    "flags": "int",
    "flag_names": ["str"],
    "streams": [{"type": "int", "name": ("str", None), "size": "int", "rva": "int"}],
    "system_info": ({
        "processor_architecture": "int", "processor_level": "int",
        "processor_revision": "int", "number_of_processors": "int",
        "product_type": "int", "product_type_name": ("str", None),
        "major_version": "int", "minor_version": "int", "build_number": "int",
        "platform_id": "int", "suite_mask": "int", "csd_version": "str",
    }, None),
    "misc_info": ({
        "size_of_info": "int", "flags1": "int",
        "process_id": ("int", None),
        "process_create_time": ("int", None),
        "process_user_time": ("int", None),
        "process_kernel_time": ("int", None),
        "processor_max_mhz": ("int", None),
        "processor_current_mhz": ("int", None),
        "time_zone_standard_name": ("str", None),
        "time_zone_bias": ("int", None),
        "build_string": ("str", None),
        "dbg_bld_str": ("str", None),
    }, None),
    "process": {"pid": ("int", None), "image": ("str", None),
                "image_path": ("str", None), "create_time": ("str", None)},
    "exception": (dict(_CODE, **{
        "thread_id": "int", "flags": "int", "record": "addr", "address": "addr",
        "parameters": ["addr"],
        # the shared exception record (src/cli/records.c), as analyze writes it
        "location": "str", "module": ("str", None), "module_offset": ("addr", None),
        "access": ({"kind": "str", "address": "addr"}, None),
        "fast_fail": ({"code": "int", "name": ("str", None)}, None),
    }), None),
    # ARM64 dumps only: the exception's ARM64_NT_CONTEXT (src/triage/crash.c)
    "arm64_context?": {"context_flags": "addr", "cpsr": "addr", "pc": "addr",
                       "sp": "addr", "fp": "addr", "lr": "addr"},
    "threads": [{
        "id": "int", "teb": "addr", "stack_start": "addr", "stack_end": "addr",
        "stack_size": "int", "suspend_count": "int", "priority_class": "int",
        "priority": "int", "name": ("str", None),
    }],
    "modules": [{
        "base": "addr", "end": "addr", "size": "int", "name": ("str", None),
        "path": ("str", None), "file_version": ("str", None),
        "product_version": ("str", None), "timestamp": "int", "checksum": "int",
    }],
    "unloaded_modules": [{
        "base": "addr", "end": "addr", "size": "int", "name": ("str", None),
        "timestamp": "int", "checksum": "int",
    }],
    "memory": {
        "ranges": "int", "bytes": "int", "regions": "int", "committed": "int",
        "reserved": "int", "free": "int", "image": "int", "mapped": "int",
        "private": "int",
    },
    "handles": {"count": "int", "by_type": [{"type": ("str", None), "count": "int"}]},
    "comments": ["str"],
}

INFO_KERNEL = {
    "signature": "str",
    "is64": "bool",
    "major_version": "int",
    "minor_version": "int",
    "dump_type": "int",
    "dump_type_name": ("str", None),
    "bitmap_signature": ("str", None),
    "machine_image_type": "int",
    "number_processors": "int",
    "pae_enabled": "bool",
    "product_type": "int",
    "suite_mask": "int",
    "bugcheck": dict(_CODE, parameters=["addr"]),
    "exception": dict(_CODE, address="addr"),
    "directory_table_base": "addr",
    "pfn_database": "addr",
    "ps_loaded_module_list": "addr",
    "ps_active_process_head": "addr",
    "kd_debugger_data_block": "addr",
    "required_dump_space": "int",
    "system_time_raw": "int",
    "system_time": ("str", None),
    "system_up_time_seconds": "int",
    "mini_dump_fields": "int",
    "writer_status": "int",
    "kd_secondary_version": "int",
    "attributes": "int",
    "boot_id": "int",
    "comment": "str",
    "physical_memory": {
        "runs": [{"base_page": "int", "page_count": "int"}],
        "run_pages": "int", "total_pages": "int", "present_pages": "int",
        "first_page_offset": "int",
    },
    "triage": ({k: "int" for k in (
        "service_pack_build", "size_of_dump", "valid_offset", "context_offset",
        "exception_offset", "mm_offset", "unloaded_drivers_offset", "prcb_offset",
        "process_offset", "thread_offset", "call_stack_offset",
        "size_of_call_stack", "driver_list_offset", "driver_count",
        "string_pool_offset", "string_pool_size", "broken_driver_offset",
        "triage_options", "debugger_data_offset", "debugger_data_size",
        "data_blocks_offset", "data_blocks_count", "data_block_bytes")}
        | {"top_of_stack": "addr"}, None),
    "truncated": "bool",
    "expected_file_size": "int",
}

INFO_DUMP_OK = {
    "schema": "str",  # "icpheap.info/1"
    "path": "str", "ok": "bool", "format": "str", "kind": "str", "gzip": "bool",
    "file_size": "int", "arch": "str", "wow64": "bool", "build": "int",
    "release": ("str", None),
    "minidump": (INFO_MINIDUMP, None),
    "kernel": (INFO_KERNEL, None),
    "warnings": ["str"],
}

INFO_DUMP_ERROR = {
    "schema": "str",
    "path": "str", "ok": "bool",
    "error": {"code": "str", "message": "str"},
}

INFO_SCHEMA = [(INFO_DUMP_OK, INFO_DUMP_ERROR)]

# ---------------------------------------------------------------------------
# The other commands' documents (man page, JSON SCHEMAS; src/cli/records.c
# and the cmd_*.c writers).  gen_schemas.py turns each into
# schemas/<command>.schema.json.  Every object is closed: a renamed or new
# key fails the check until the shape (and the man page) says it.

# ich_error_code_name (src/core/error.c): the error codes of the man page
ERROR_CODES = frozenset({"nomem", "os", "format", "unsupported", "fault", "not_found", "invalid_argument",
                         "layout", "internal"})
ERROR = {"code": ERROR_CODES, "message": "str"}
STATUS = frozenset({"complete", "partial", "no-data", "failed"})


def error_doc(schema):
    """The one error document of every command in --json mode."""
    return {"schema": "=" + schema, "path": "str", "error": ERROR}


BLOCK = {"header": "addr", "user": "addr", "size": "int", "block_size": "int", "unused": "int",
         "state": frozenset({"busy", "free", "internal", "corrupt"}),
         "layer": frozenset({"backend", "lfh", "virtual", "segment-vs", "segment-lfh",
                             "segment-backend", "segment-large", "page-heap"}),
         "segment?": "addr", "container?": "addr", "subsegment?": "addr",
         "large_alloc_data?": "addr", "virtual_alloc_entry?": "addr"}
PROBLEM = {"address": "addr", "what": "str"}
HEAP_PROBLEM = {"heap": "addr", "address": "addr", "what": "str"}
HEAP_SUMMARY = {
    "address": "addr", "kind": frozenset({"nt", "segment", "page", "unknown"}),
    "status": STATUS, "reason?": "str", "flags?": "int", "layout?": "str", "lfh?": "bool",
    "unlisted?": "bool",
    "segments?": [{"base": "addr", "first_entry": "addr", "last_valid_entry": "addr",
                   "uncommitted": [{"address": "addr", "size": "int"}]}],
    "blocks?": [BLOCK],
    "totals?": {"busy_count": "int", "busy_bytes": "int", "free_count": "int", "free_bytes": "int",
                "committed": "int", "reserved": "int", "virtual_blocks": "int",
                "uncommitted_ranges": "int", "corrupt_count": "int"},
    "problems?": [PROBLEM],
    "unreadable?": [{"address": "addr", "end": "addr", "page": "addr", "reason": "str",
                     "resynced": "bool", "pte?": "addr"}],
    "partial?": "bool"}
# The -stat table: one record in heap -stat (per heap) and analyze's heap_stat.
STAT_TABLE = {"group_by": frozenset({"TOTSIZE", "ALLOCATIONSIZE", "BLOCKCOUNT"}), "busy_bytes": "int",
              "sizes": [{"size": "int", "blocks": "int", "total": "int"}]}
STAT_HEAP = dict(STAT_TABLE, address="addr")
FRAME = {"address": "addr", "module": ("str", None), "offset?": "addr"}
STACK = ([FRAME], None)
PAGE_BLOCK = {"node": "addr", "user": "addr", "size": "int", "virt": "addr", "virt_size": "int",
              "state": frozenset({"busy", "free"})}
# -p -a: a page-heap block (its DPH_HEAP_BLOCK node and virtual range), or
# the block record of an NT heap block; offset of the address in the user data
FOUND_BLOCK = ({"node": "addr", "user": "addr", "size": "int", "virt": "addr", "virt_size": "int",
                "state": frozenset({"busy", "free"}), "layer": "=page-heap", "offset": ("int", None)},
               dict(BLOCK, offset=("int", None)))
HEAP_OK = {
    "schema": "=icpheap.heap/1", "path": "str", "notes": ["str"],
    # list, -s, -a/-h/-f, -v, -stat (STAT_HEAP rows)
    "heaps?": [(HEAP_SUMMARY, STAT_HEAP)],
    # -flt, -srch
    "blocks?": [BLOCK], "count?": "int",
    # -x, -i
    "heap?": "addr", "block?": (BLOCK,) + FOUND_BLOCK + (None,),
    # -flt / -stat: busy blocks by allocation stack
    "stacks?": [{"entry": "addr", "index": "int", "blocks": "int", "bytes": "int", "frames": [FRAME]}],
    "blocks_without_stack?": "int", "stack_note?": "str",
    # -p
    "global_flag?": "int",
    "stack_trace_database?": ({"index_array": "addr", "entries": "int"}, None),
    "page_heaps?": [{"address": "addr", "root": "addr", "normal_heap": "addr", "extra_flags": "int",
                     "full_page": "bool", "busy_allocations": "int", "freed_allocations": "int",
                     "blocks?": [PAGE_BLOCK]}],
    # -p -a ADDRESS
    "address?": "addr", "found?": "bool",
    "heap_kind?": frozenset({"page", "nt", "nt-light-page-heap"}),
    "root?": "addr", "page_heap?": "addr",
    "stack_kind?": frozenset({"allocation", "free"}), "stack?": STACK, "alloc_stack?": STACK,
    # -l
    "busy_blocks?": "int", "busy_bytes?": "int", "root_bytes_scanned?": "int",
    "block_bytes_scanned?": "int", "heaps_walked?": "int", "heaps_skipped?": "int",
    "leak_count?": "int",
    "leaks?": [dict(BLOCK, heap="addr")],
    # -triage
    "heaps_checked?": "int", "blocks_checked?": "int", "lfh_blocks_checked?": "int",
    "userblocks_checked?": "int", "userblocks_headers_undecodable?": "int",
    "findings?": [HEAP_PROBLEM],
    "failure?": ({"record": "addr", "version": "int", "type": "int", "type_name": ("str", None),
                  "heap": "addr", "address": "addr", "param1": "addr", "param2": "addr",
                  "param3": "addr", "previous_block": "addr", "next_block": "addr",
                  "found_in": "str", "stack": STACK,
                  "block": (dict(BLOCK, heap="addr"), None)}, None),
}
HEAP_DOC = (HEAP_OK, error_doc("icpheap.heap/1"))

DIFF_ROW = {"size?": "int", "frames?": [FRAME], "old_count": "int", "old_bytes": "int",
            "new_count": "int", "new_bytes": "int", "count_growth": "int", "bytes_growth": "int"}
DIFF_TOTALS = {"old_count": "int", "old_bytes": "int", "new_count": "int", "new_bytes": "int",
               "count_growth": "int", "bytes_growth": "int",
               "old_heaps_skipped": "int", "new_heaps_skipped": "int"}
HEAP_DIFF_DOC = (dict({"schema": "=icpheap.heap-diff/1", "old": "str", "new": "str"}, **DIFF_TOTALS,
                      sizes=[DIFF_ROW], stacks=[DIFF_ROW]), error_doc("icpheap.heap-diff/1"))

ICP_TYPE = {"address": "addr", "index": "int", "total_objects": "int", "total_handles": "int",
            "type_list_maintained": "bool"}
ICP_SOURCE = frozenset({"type_list", "handle_tables"})
ICP_OBJECT = {"address": "addr", "queued": "int", "entry_list_length": "int", "maximum": "int",
              "threads": "int", "pool_bytes": "int", "pool_blocks": "int", "pool_tag?": "str",
              "pool_unknown_packets?": "int", "problem?": "str",
              "holders?": [{"pid": "int", "process": "str", "handle": "addr", "access": "int"}]}
ICPLEAK_ONE = ({
    "schema": "=icpheap.icpleak/1", "path": "str", "type": ICP_TYPE,
    "source": ICP_SOURCE, "partial": "bool", "max": ("addr", None),
    "objects": [ICP_OBJECT], "warnings": ["str"]}, error_doc("icpheap.icpleak/1"))
ICPLEAK_DOC = ICPLEAK_ONE + ([ICPLEAK_ONE],)

PS_ONE = ({
    "schema": "=icpheap.ps/1", "path": "str", "partial": "bool",
    "processes": [{"eprocess": "addr", "pid": "int", "ppid": "int", "image": "str", "dtb": "addr",
                   "table_base": "addr", "pcid?": "int", "object_table": "addr", "peb": "addr"}],
    "warnings": ["str"]}, error_doc("icpheap.ps/1"))
PS_DOC = PS_ONE + ([PS_ONE],)

HANDLES_ONE = ({
    "schema": "=icpheap.handles/1", "path": "str",
    "handles": [({"pid": "int", "process": "str", "handle": "addr", "object": "addr", "type": "str",
                  "access": "int"},
                 {"handle": "addr", "type": "str", "name": ("str", None), "access": "int",
                  "handle_count": "int", "pointer_count": "int"})],
    "count": "int", "partial?": "bool", "error?": ERROR}, error_doc("icpheap.handles/1"))
HANDLES_DOC = HANDLES_ONE + ([HANDLES_ONE],)

POOL = {"allocs": "int", "frees": "int", "outstanding": "int", "bytes": "int"}
POOL_TAG = {"tag": "str", "key": "addr", "nonpaged": POOL, "paged": POOL}
POOLUSED_ONE = ({
    "schema": "=icpheap.poolused/1", "path": "str", "arch": "str", "build": "int",
    "kdbg_pool_track_table": "addr", "pool_track_table_variable": "addr", "pool_track_table": "addr",
    "entries": "int",
    "layout": {"label": "str", "entry_size": "int", "derived": "bool", "source": "str"},
    "processors": "int", "tables": "int", "tag_tables": ("addr", None), "partial": "bool",
    "unreadable_entries": "int", "sort": frozenset({"tag", "nonpaged", "paged"}),
    "filter": ("str", None), "tags": [POOL_TAG], "total": {"nonpaged": POOL, "paged": POOL},
    "overflow": POOL_TAG, "warnings": ["str"]}, error_doc("icpheap.poolused/1"))
POOLUSED_DOC = POOLUSED_ONE + ([POOLUSED_ONE],)

TYPES_DOC = {"schema": "=icpheap.types/1",
             "layouts": [{"module": "str", "arch": "str", "build": "int", "label": "str", "source": "str",
                          "derived": "bool", "loaded": "bool", "fields": {"*": "int"}}]}


# analyze's sections (an analyze.dump record's "heaps", "heap_stat", ...):
# the same records as the commands' documents.  gen_schemas.py writes them
# into schemas/analyze-dump.schema.json and analyze.schema.json.
SECTION = {"status": STATUS | {"skipped"}, "seconds?": "num", "error?": ERROR}


def _opt(shape):
    return {k if k.endswith("?") else k + "?": v for k, v in shape.items()}


ANALYZE_SECTIONS = {
    "heaps": dict(SECTION, **{"heaps?": [HEAP_SUMMARY]}),
    "heap_stat": dict(SECTION, **_opt(STAT_TABLE)),
    "heap_validation": dict(SECTION, **{"problems?": [HEAP_PROBLEM]}),
    "heap_growth": dict(SECTION, **_opt(DIFF_TOTALS), **{"baseline?": "str", "sizes?": [DIFF_ROW],
                                                          "stacks?": [DIFF_ROW]}),
    "processes": dict(SECTION, **{"count?": "int", "warnings?": ["str"]}),
    "icpleak": dict(SECTION, **{"type?": ICP_TYPE, "source?": ICP_SOURCE, "partial?": "bool",
                                "objects_found?": "int", "objects?": [ICP_OBJECT],
                                # the queues' pool tag in the pool tracker table (!poolused)
                                "pool_tracker?": {"tag": "str", "error?": ERROR, "nonpaged_bytes?": "int",
                                                  "nonpaged_outstanding?": "int", "paged_bytes?": "int",
                                                  "partial?": "bool", "queued_packets_bytes": "int",
                                                  "queued_packets_blocks": "int"}}),
    "process_heaps": dict(SECTION, **{"processes?": [{
        "pid": "int", "image": "str", "eprocess": "addr", "wow64": "bool", "error?": ERROR,
        "heaps?": "int", "committed?": "int", "walked?": "bool", "committed_from_headers?": "int",
        "busy_count?": "int", "busy_bytes?": "int",
        "problems?": "int", "unreadable_ranges?": "int", "partial?": "bool",
        "heap_rows?": [{"address": "addr", "committed": "int", "busy_bytes": "int", "problems": "int",
                        "unreadable_ranges": "int"}]}]}),
}
