/* SPDX-License-Identifier: MIT */
/*
 * Names of Windows numbers, owned here once for every command: NTSTATUS
 * exception codes (ntstatus.h / winnt.h symbols), bug check codes
 * (Microsoft's "Bug Check Code Reference",
 * learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-code-reference2),
 * FAST_FAIL_* codes (winnt.h; __fastfail puts the code in the first
 * exception parameter of STATUS_STACK_BUFFER_OVERRUN,
 * learn.microsoft.com/cpp/intrinsics/fastfail), and the verdict and status
 * words documented in icpheap(1).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <icpheap/triage.h>

struct code_name {
	uint32_t code;
	const char *name;
};

static const struct code_name ntstatus[] = {
	{ 0x40010005, "DBG_CONTROL_C" },
	{ 0x80000002, "STATUS_DATATYPE_MISALIGNMENT" },
	{ 0x80000003, "STATUS_BREAKPOINT" },
	{ 0x80000004, "STATUS_SINGLE_STEP" },
	{ 0xc0000005, "STATUS_ACCESS_VIOLATION" },
	{ 0xc0000006, "STATUS_IN_PAGE_ERROR" },
	{ 0xc0000008, "STATUS_INVALID_HANDLE" },
	{ 0xc000000d, "STATUS_INVALID_PARAMETER" },
	{ 0xc0000017, "STATUS_NO_MEMORY" },
	{ 0xc000001d, "STATUS_ILLEGAL_INSTRUCTION" },
	{ 0xc0000025, "STATUS_NONCONTINUABLE_EXCEPTION" },
	{ 0xc0000026, "STATUS_INVALID_DISPOSITION" },
	{ 0xc000008c, "STATUS_ARRAY_BOUNDS_EXCEEDED" },
	{ 0xc000008d, "STATUS_FLOAT_DENORMAL_OPERAND" },
	{ 0xc000008e, "STATUS_FLOAT_DIVIDE_BY_ZERO" },
	{ 0xc000008f, "STATUS_FLOAT_INEXACT_RESULT" },
	{ 0xc0000090, "STATUS_FLOAT_INVALID_OPERATION" },
	{ 0xc0000091, "STATUS_FLOAT_OVERFLOW" },
	{ 0xc0000092, "STATUS_FLOAT_STACK_CHECK" },
	{ 0xc0000093, "STATUS_FLOAT_UNDERFLOW" },
	{ 0xc0000094, "STATUS_INTEGER_DIVIDE_BY_ZERO" },
	{ 0xc0000095, "STATUS_INTEGER_OVERFLOW" },
	{ 0xc0000096, "STATUS_PRIVILEGED_INSTRUCTION" },
	{ 0xc00000fd, "STATUS_STACK_OVERFLOW" },
	{ 0xc0000135, "STATUS_DLL_NOT_FOUND" },
	{ 0xc0000142, "STATUS_DLL_INIT_FAILED" },
	{ 0xc000013a, "STATUS_CONTROL_C_EXIT" },
	{ 0xc0000194, "STATUS_POSSIBLE_DEADLOCK" },
	{ 0xc0000374, "STATUS_HEAP_CORRUPTION" },
	{ 0xc0000409, "STATUS_STACK_BUFFER_OVERRUN" },
	{ 0xc0000417, "STATUS_INVALID_CRUNTIME_PARAMETER" },
	{ 0xc0000420, "STATUS_ASSERTION_FAILURE" },
	{ 0xc0000602, "STATUS_FAIL_FAST_EXCEPTION" },
	{ 0xe06d7363, "CPP_EH_EXCEPTION" },	/* MSVC throw ("msc"); not in ntstatus.h */
};

const char *ich_ntstatus_name(uint32_t code)
{
	for (size_t i = 0; i < sizeof(ntstatus) / sizeof(ntstatus[0]); i++)
		if (ntstatus[i].code == code)
			return ntstatus[i].name;
	return NULL;
}

bool ich_ntstatus_code(const char *name, uint32_t *code)
{
	for (size_t i = 0; i < sizeof(ntstatus) / sizeof(ntstatus[0]); i++) {
		const char *n = ntstatus[i].name;
		if (!strcasecmp(n, name) ||
		    (!strncmp(n, "STATUS_", 7) && !strcasecmp(n + 7, name))) {
			*code = ntstatus[i].code;
			return true;
		}
	}
	return false;
}

static const struct code_name bugchecks[] = {
	{ 0x01, "APC_INDEX_MISMATCH" },
	{ 0x0a, "IRQL_NOT_LESS_OR_EQUAL" },
	{ 0x13, "EMPTY_THREAD_REAPER_LIST" },
	{ 0x19, "BAD_POOL_HEADER" },
	{ 0x1a, "MEMORY_MANAGEMENT" },
	{ 0x1e, "KMODE_EXCEPTION_NOT_HANDLED" },
	{ 0x24, "NTFS_FILE_SYSTEM" },
	{ 0x3b, "SYSTEM_SERVICE_EXCEPTION" },
	{ 0x4e, "PFN_LIST_CORRUPT" },
	{ 0x50, "PAGE_FAULT_IN_NONPAGED_AREA" },
	{ 0x7a, "KERNEL_DATA_INPAGE_ERROR" },
	{ 0x7e, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
	{ 0x7f, "UNEXPECTED_KERNEL_MODE_TRAP" },
	{ 0x9f, "DRIVER_POWER_STATE_FAILURE" },
	{ 0xc2, "BAD_POOL_CALLER" },
	{ 0xc4, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
	{ 0xc5, "DRIVER_CORRUPTED_EXPOOL" },
	{ 0xd1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
	{ 0xe2, "MANUALLY_INITIATED_CRASH" },
	{ 0xef, "CRITICAL_PROCESS_DIED" },
	{ 0xf4, "CRITICAL_OBJECT_TERMINATION" },
	{ 0x101, "CLOCK_WATCHDOG_TIMEOUT" },
	{ 0x124, "WHEA_UNCORRECTABLE_ERROR" },
	{ 0x133, "DPC_WATCHDOG_VIOLATION" },
	{ 0x139, "KERNEL_SECURITY_CHECK_FAILURE" },
	{ 0x13a, "KERNEL_MODE_HEAP_CORRUPTION" },
	{ 0x161, "LIVE_SYSTEM_DUMP" },
};

const char *ich_bugcheck_name(uint32_t code, char *buf, size_t n)
{
	/* 0x1000007e is SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M: same check,
	 * raised through the "_M" path (the reference lists both). */
	uint32_t base = code & ~0x10000000u;
	for (size_t i = 0; i < sizeof(bugchecks) / sizeof(bugchecks[0]); i++)
		if (bugchecks[i].code == base) {
			snprintf(buf, n, "%s%s", bugchecks[i].name, base != code ? "_M" : "");
			return buf;
		}
	return NULL;
}

/* winnt.h FAST_FAIL_* values, in order from 0. */
static const char *const fast_fail[] = {
	"FAST_FAIL_LEGACY_GS_VIOLATION", "FAST_FAIL_VTGUARD_CHECK_FAILURE",
	"FAST_FAIL_STACK_COOKIE_CHECK_FAILURE", "FAST_FAIL_CORRUPT_LIST_ENTRY",
	"FAST_FAIL_INCORRECT_STACK", "FAST_FAIL_INVALID_ARG",
	"FAST_FAIL_GS_COOKIE_INIT", "FAST_FAIL_FATAL_APP_EXIT",
	"FAST_FAIL_RANGE_CHECK_FAILURE", "FAST_FAIL_UNSAFE_REGISTRY_ACCESS",
	"FAST_FAIL_GUARD_ICALL_CHECK_FAILURE", "FAST_FAIL_GUARD_WRITE_CHECK_FAILURE",
	"FAST_FAIL_INVALID_FIBER_SWITCH", "FAST_FAIL_INVALID_SET_OF_CONTEXT",
	"FAST_FAIL_INVALID_REFERENCE_COUNT", NULL, NULL, NULL,
	"FAST_FAIL_INVALID_JUMP_BUFFER", "FAST_FAIL_MRDATA_MODIFIED",
	"FAST_FAIL_CERTIFICATION_FAILURE", "FAST_FAIL_INVALID_EXCEPTION_CHAIN",
	"FAST_FAIL_CRYPTO_LIBRARY", "FAST_FAIL_INVALID_CALL_IN_DLL_CALLOUT",
	"FAST_FAIL_INVALID_IMAGE_BASE", "FAST_FAIL_DLOAD_PROTECTION_FAILURE",
	"FAST_FAIL_UNSAFE_EXTENSION_CALL", "FAST_FAIL_DEPRECATED_SERVICE_INVOKED",
	"FAST_FAIL_INVALID_BUFFER_ACCESS", "FAST_FAIL_INVALID_BALANCED_TREE",
	"FAST_FAIL_INVALID_NEXT_THREAD", "FAST_FAIL_GUARD_ICALL_CHECK_SUPPRESSED",
	"FAST_FAIL_APCS_DISABLED", "FAST_FAIL_INVALID_IDLE_STATE",
	"FAST_FAIL_MRDATA_PROTECTION_FAILURE", "FAST_FAIL_UNEXPECTED_HEAP_EXCEPTION",
	"FAST_FAIL_INVALID_LOCK_STATE", "FAST_FAIL_GUARD_JUMPTABLE",
	"FAST_FAIL_INVALID_LONGJUMP_TARGET", "FAST_FAIL_INVALID_DISPATCH_CONTEXT",
	"FAST_FAIL_INVALID_THREAD", "FAST_FAIL_INVALID_SYSCALL_NUMBER",
	"FAST_FAIL_INVALID_FILE_OPERATION", "FAST_FAIL_LPAC_ACCESS_DENIED",
	"FAST_FAIL_GUARD_SS_FAILURE", "FAST_FAIL_LOADER_CONTINUITY_FAILURE",
	"FAST_FAIL_GUARD_EXPORT_SUPPRESSION_FAILURE", "FAST_FAIL_INVALID_CONTROL_STACK",
	"FAST_FAIL_SET_CONTEXT_DENIED", "FAST_FAIL_INVALID_IAT",
	"FAST_FAIL_HEAP_METADATA_CORRUPTION", "FAST_FAIL_PAYLOAD_RESTRICTION_VIOLATION",
	"FAST_FAIL_LOW_LABEL_ACCESS_DENIED", "FAST_FAIL_ENCLAVE_CALL_FAILURE",
	"FAST_FAIL_UNHANDLED_LSS_EXCEPTON", "FAST_FAIL_ADMINLESS_ACCESS_DENIED",
	"FAST_FAIL_UNEXPECTED_CALL", "FAST_FAIL_CONTROL_INVALID_RETURN_ADDRESS",
	"FAST_FAIL_UNEXPECTED_HOST_BEHAVIOR", "FAST_FAIL_FLAGS_CORRUPTION",
	"FAST_FAIL_VEH_CORRUPTION", "FAST_FAIL_ETW_CORRUPTION",
	"FAST_FAIL_RIO_ABORT", "FAST_FAIL_INVALID_PFN",
};

const char *ich_fast_fail_name(uint64_t code)
{
	if (code == 0xffffffffu)
		return "FAST_FAIL_INVALID_FAST_FAIL_CODE";
	if (code < sizeof(fast_fail) / sizeof(fast_fail[0]))
		return fast_fail[code];
	return NULL;
}

const char *ich_verdict_name(enum ich_verdict v)
{
	switch (v) {
	case ICH_VERDICT_OK: return "ok";
	case ICH_VERDICT_FINDINGS: return "findings";
	case ICH_VERDICT_NO_HEAP_DATA: return "no-heap-data";
	case ICH_VERDICT_UNREADABLE: return "unreadable";
	case ICH_VERDICT_TIMEOUT: return "timeout";
	case ICH_VERDICT_CRASHED: return "crashed";
	}
	return "crashed";
}

const char *ich_status_name(enum ich_status s)
{
	switch (s) {
	case ICH_STATUS_COMPLETE: return "complete";
	case ICH_STATUS_PARTIAL: return "partial";
	case ICH_STATUS_NO_DATA: return "no-data";
	case ICH_STATUS_FAILED: return "failed";
	case ICH_STATUS_SKIPPED: return "skipped";
	}
	return "failed";
}

const char *ich_frame_trust_name(enum ich_frame_trust t)
{
	switch (t) {
	case ICH_FRAME_CONTEXT: return "context";
	case ICH_FRAME_CFI: return "cfi";
	case ICH_FRAME_SCAN: return "scan";
	case ICH_FRAME_FP: return "frame-pointer";
	}
	return "scan";
}

const char *ich_crash_relation_name(enum ich_crash_relation r)
{
	switch (r) {
	case ICH_REL_NONE: return NULL;
	case ICH_REL_FAULT_IN_BLOCK: return "fault-in-block";
	case ICH_REL_FAULT_NEAR: return "fault-near";
	case ICH_REL_STACK_BLOCK: return "stack-block";
	case ICH_REL_STACK_HEAP: return "stack-heap";
	}
	return NULL;
}

const char *ich_access_name(enum ich_access a)
{
	switch (a) {
	case ICH_ACCESS_READ: return "read";
	case ICH_ACCESS_WRITE: return "write";
	case ICH_ACCESS_EXECUTE: return "execute";
	case ICH_ACCESS_NONE: break;
	}
	return NULL;
}

const char *ich_severity_name(enum ich_severity s)
{
	switch (s) {
	case ICH_SEV_ERROR: return "error";
	case ICH_SEV_WARNING: return "warning";
	case ICH_SEV_NOTE: return "note";
	}
	return "note";
}
