/* SPDX-License-Identifier: MIT */
/*
 * unwinder - user stacks from a register set and a copy of the stack, by the DWARF call frame
 * information of the mapped ELF files, with libunwind's remote API: .eh_frame through PT_GNU_EH_FRAME
 * first, then .debug_frame (found through the section headers) for code that .eh_frame does not cover.
 *
 * libunwind's own .debug_frame support opens and maps files by path; it is not used. Instead the
 * unwinder indexes the .debug_frame bytes of the image it is given (sorted FDEs, cached per image_id,
 * at most 64 images) and, for each lookup, rewrites the one CIE and FDE that cover the address into
 * .eh_frame form (CIE id 0, a relative CIE pointer, absolute runtime addresses), which it serves to
 * libunwind from an address range no process can map (the non-canonical 0x8000... half). Only 32-bit
 * DWARF, CIE versions 1, 3 and 4 with an empty augmentation and 8-byte addresses are used: what GCC and
 * clang emit; other entries are skipped (no information for their code). An address is looked up in
 * the FDE with the greatest start at or below it; when that one does not cover it (overlapping FDEs),
 * there is no information, an enclosing FDE is not searched for.
 *
 * libunwind 1.6 trusts a CIE's return address column and the second register of DW_CFA_register as
 * indexes into its 17 registers: in both sections the unwinder finds the one FDE for an address
 * itself, refuses it when its CIE names another column (or its 32-bit lengths run out of the file),
 * shows libunwind only that FDE, and refuses the frame when the CIE's or the FDE's CFA program names
 * such a register (or uses DW_CFA_set_loc). A refused frame has no information.
 *
 * This module is the only includer of <libunwind.h>. It is pure mechanism: it knows neither processes
 * nor how files are opened. For every address it needs outside the stack copy, it asks the caller's
 * find_map callback for the mapping that holds it and the bytes of the file behind it (borrowed for the
 * duration of the unwind). Memory is served from [SP, SP + stack_size) of the copy and from file-backed
 * mappings only; anything else fails the step. The bytes are untrusted: every read is bounds-checked,
 * and a loop guard (repeated or descending SP) and a depth cap end every unwind.
 *
 * A frame without CFI ends the unwind (no information; or, with fp_fallback, is stepped past by its
 * frame pointer), except: the routine at a file's ELF entry point (ld.so's _start, which glibc leaves
 * without CFI) is the outermost frame; a leaf is stepped past by the word at SP when that is a return
 * address just after a direct call to the leaf's routine (glibc's clone and clone3 have no CFI around
 * their syscall); and a leaf stopped after a syscall instruction that returned 0 (or after it and the
 * test of its result), with 0 at SP, is the outermost frame (the child of clone on its new stack).
 *
 * An unwinder owns one libunwind address space (with its cache of parsed CFI) per "space" id (a pid),
 * up to 256, then reuses them (flushed) round robin; unwinder__flush() empties the cache of one when
 * the mappings of that process change.
 * Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_UNWINDER_H
#define SCORCH_UNWINDER_H

#include <stddef.h>
#include <stdint.h>

#include "scorch_abi.h"

/* What the caller knows of the mapping that holds an address. */
struct unwinder_map {
	uint64_t start, end;  /* runtime [start, end) */
	uint64_t offset;      /* file offset of start */
	const uint8_t *image; /* the whole file, borrowed; NULL for memory that is not file-backed */
	size_t image_size;
	uint64_t image_id; /* names these exact bytes for the unwinder's caches (never reused for
			    * other bytes); 0: do not cache anything about the image */
};

/* Fill *out (zeroed by the caller) for the mapping containing addr: 0, or -ENOENT when none holds it. */
typedef int (*unwinder_find_map_fn)(void *ctx, uint64_t addr, struct unwinder_map *out);

struct unwinder_input {
	const uint64_t *regs; /* SCORCH_NR_REGS user registers, DWARF numbering (enum scorch_reg) */
	const uint8_t *stack; /* copy of the user stack from regs[SCORCH_REG_RSP] */
	size_t stack_size;
	unwinder_find_map_fn find_map;
	void *ctx;
	int fp_fallback; /* step past a frame without CFI by its frame pointer, then go on by CFI */
};

enum unwinder_status {
	UNWINDER_ROOT = 0,  /* reached the outermost frame (the CFI says there is no caller, or a
			     * frame without CFI is in the routine at its file's ELF entry point, or
			     * is the child of clone just back from the system call: see above) */
	UNWINDER_DEPTH,     /* stopped at the caller's depth cap */
	UNWINDER_TRUNCATED, /* needed stack beyond the copy */
	UNWINDER_NO_INFO,   /* no CFI for fail_ip (no mapping, no readable file, in neither .eh_frame
			     * nor .debug_frame) */
	UNWINDER_FAILED,    /* bad CFI, unreadable memory or a loop at fail_ip */
};

struct unwinder_result {
	uint32_t nr; /* addresses written, the first is regs[SCORCH_REG_RIP] */
	enum unwinder_status status;
	uint64_t fail_ip;  /* the frame that could not be stepped past (status >= TRUNCATED) */
	uint32_t fp_steps; /* frames stepped past by frame pointer (with fp_fallback) */
};

/* What the unwinder's .debug_frame index cache did (for tests: which image's index was replaced). */
struct unwinder_stats {
	uint64_t dframe_builds;     /* indexes built for images with an image_id (cache misses) */
	uint64_t dframe_evictions;  /* builds that replaced the least recently used index */
	uint64_t dframe_evicted_id; /* the image_id whose index the last eviction replaced (0: none yet) */
};

struct unwinder *unwinder__new(void);
void unwinder__free(struct unwinder *u);
/* Forget the cached unwind information of 'space' (its mappings changed). */
void unwinder__flush(struct unwinder *u, uint32_t space);
/* Copy the counters of u into *out. */
void unwinder__stats(const struct unwinder *u, struct unwinder_stats *out);

/*
 * Unwind into ips[0..max), leaf first: ips[0] is the interrupted IP, the rest are return addresses
 * (callers should look up ip - 1). Returns 0 with *res filled (a partial stack is not an error), or
 * -ENOMEM / -EINVAL.
 */
int unwinder__unwind(struct unwinder *u, uint32_t space, const struct unwinder_input *in, uint64_t *ips,
		     uint32_t max, struct unwinder_result *res);

#endif
