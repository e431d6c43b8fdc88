/* SPDX-License-Identifier: MIT */
/*
 * unwinder - user stacks from a register set and a copy of the stack, by the DWARF call frame
 * information (.eh_frame through PT_GNU_EH_FRAME) of the mapped ELF files, with libunwind's remote API.
 *
 * This module is the only includer of <libunwind.h>. It is pure mechanism: it knows neither processes
 * nor how files are opened. For every address it needs outside the stack copy, it asks the caller's
 * find_map callback for the mapping that holds it and the bytes of the file behind it (borrowed for the
 * duration of the unwind). Memory is served from [SP, SP + stack_size) of the copy and from file-backed
 * mappings only; anything else fails the step. The bytes are untrusted: every read is bounds-checked,
 * and a loop guard (repeated or descending SP) and a depth cap end every unwind.
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
};

/* Fill *out for the mapping containing addr: 0, or -ENOENT when no mapping holds it. */
typedef int (*unwinder_find_map_fn)(void *ctx, uint64_t addr, struct unwinder_map *out);

struct unwinder_input {
	const uint64_t *regs;   /* SCORCH_NR_REGS user registers, DWARF numbering (enum scorch_reg) */
	const uint8_t *stack;   /* copy of the user stack from regs[SCORCH_REG_RSP] */
	size_t stack_size;
	unwinder_find_map_fn find_map;
	void *ctx;
	int fp_fallback;        /* step past a frame without CFI by its frame pointer, then go on by CFI */
};

enum unwinder_status {
	UNWINDER_ROOT = 0,   /* reached the outermost frame (the CFI says there is no caller) */
	UNWINDER_DEPTH,      /* stopped at the caller's depth cap */
	UNWINDER_TRUNCATED,  /* needed stack beyond the copy */
	UNWINDER_NO_INFO,    /* no CFI for fail_ip (no mapping, no readable file, or no .eh_frame_hdr) */
	UNWINDER_FAILED,     /* bad CFI, unreadable memory or a loop at fail_ip */
};

struct unwinder_result {
	uint32_t nr;            /* addresses written, the first is regs[SCORCH_REG_RIP] */
	enum unwinder_status status;
	uint64_t fail_ip;       /* the frame that could not be stepped past (status >= TRUNCATED) */
	uint32_t fp_steps;      /* frames stepped past by frame pointer (with fp_fallback) */
};

struct unwinder *unwinder__new(void);
void unwinder__free(struct unwinder *u);
/* Forget the cached unwind information of 'space' (its mappings changed). */
void unwinder__flush(struct unwinder *u, uint32_t space);

/*
 * Unwind into ips[0..max), leaf first: ips[0] is the interrupted IP, the rest are return addresses
 * (callers should look up ip - 1). Returns 0 with *res filled (a partial stack is not an error), or
 * -ENOMEM / -EINVAL.
 */
int unwinder__unwind(struct unwinder *u, uint32_t space, const struct unwinder_input *in, uint64_t *ips,
		     uint32_t max, struct unwinder_result *res);

#endif
