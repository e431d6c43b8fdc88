/* SPDX-License-Identifier: MIT */
/*
 * unwind_int - what unwinder.c and dframe.c share, and nothing else includes: the unwinder's state,
 * one unwind's context, and the helpers both halves use. unwinder.c walks stacks through libunwind's
 * remote API and finds .eh_frame tables; dframe.c indexes an image's .debug_frame and serves libunwind
 * an FDE from it in .eh_frame form.
 */
#ifndef SCORCH_UNWIND_INT_H
#define SCORCH_UNWIND_INT_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include <libunwind.h>

#include "idxmap.h"
#include "unwinder.h"

/*
 * Exported by libunwind-x86_64 (it is what its own find_proc_info uses) but not declared by its
 * headers. Why we call it: our find_proc_info callback locates the FDE table itself (from
 * .eh_frame_hdr, or a table built from .debug_frame) at an address computed with the file's
 * vaddr-offset bias, and libunwind's public API has no way to hand it an unw_dyn_info_t of type
 * UNW_INFO_FORMAT_REMOTE_TABLE to search. perf's unwind-libunwind-local.c declares and calls it the
 * same way; a libunwind without it fails at link time, not at run time.
 */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
					      unw_proc_info_t *pi, int need_unwind_info, void *arg);

_Static_assert((int)SCORCH_REG_RIP == (int)UNW_X86_64_RIP && (int)SCORCH_REG_RSP == (int)UNW_X86_64_RSP &&
		       (int)SCORCH_REG_RBP == (int)UNW_X86_64_RBP &&
		       (int)SCORCH_NR_REGS == (int)UNW_X86_64_RIP + 1,
	       "enum scorch_reg must follow libunwind's x86-64 register numbers");

/* How far above the copy a read still counts as "the stack" (a truncated copy, not a bad address). */
#define STACK_REACH (8u << 20)

/* libunwind address spaces kept at once (each holds a cache of parsed CFI). */
#define MAX_SPACES 256

/* Images whose .debug_frame index is kept. */
#define MAX_DFRAMES 64
/*
 * A compressed .debug_frame (SHF_COMPRESSED, zlib: what Go's linker writes) is inflated into memory
 * held with its index: at most this much for one section, and for all indexes together.
 */
#define DFRAME_INFLATE_MAX (16u << 20)
#define DFRAME_INFLATE_TOTAL (64u << 20)
/* How far past the ELF entry point the entry routine is taken to reach (ld.so's is 61 bytes). */
#define ENTRY_ROUTINE_MAX 256
/* How far past the start of its routine a leaf without CFI is taken to be (glibc's clone3 is 71 bytes). */
#define LEAF_ROUTINE_MAX 4096

/*
 * Where the rewritten CIE and FDE of a .debug_frame lookup are served to libunwind: a non-canonical
 * address, which no process can map, so never confused with the target's memory.
 */
#define SCRATCH_BASE 0x8000000000000000ull

/* An FDE of a .debug_frame section: the code it covers (link-time addresses) and where it is. */
struct dframe_fde {
	uint64_t start, end;
	uint64_t fde_off, cie_off; /* offsets in the section */
};

/* The .debug_frame index of one image. */
struct dframe {
	uint64_t image_id, last_use;
	uint64_t sec_off, sec_size; /* the section in the file (inflated: its size); 0 when there is none */
	uint8_t *inflated;          /* owned: the section's bytes when it is compressed, else NULL */
	struct dframe_fde *fdes;    /* owned, sorted by start */
	size_t nr;
};

struct unwinder {
	unw_addr_space_t spaces[MAX_SPACES]; /* owned */
	uint32_t owners[MAX_SPACES];         /* the space id each one serves now */
	size_t nr_spaces, next_reuse;
	struct u64map space_idx;            /* space id -> index + 1 (the slot may since serve another) */
	struct dframe dframes[MAX_DFRAMES]; /* indexes of images with an image_id */
	size_t nr_dframes;
	struct dframe uncached;  /* the index of the last image without an image_id */
	uint64_t inflated_bytes; /* held by the indexes' inflated sections */
	uint64_t tick;
	struct unwinder_stats stats;
	uint8_t *scratch; /* owned: the rewritten CFI of the last .debug_frame lookup */
	size_t scratch_cap;
};

/* One unwind: what the accessors see through their 'arg'. */
struct unwind_ctx {
	struct unwinder *u;
	const struct unwinder_input *in;
	uint64_t regs[SCORCH_NR_REGS]; /* where unw_init_remote starts: the sample's, or a frame-pointer
					  step's */
	uint64_t sp;                   /* the sample's SP: where the stack copy starts */
	struct unwinder_map last[2];   /* the two mappings used last: code and its unwind tables */
	int nr_last, next_last;
	int stack_beyond;   /* a read fell above the copy of the stack */
	int no_info;        /* find_proc_info found no table */
	size_t scratch_len; /* bytes of u->scratch served at SCRATCH_BASE */
};

static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int unwinder__elf_header(const struct unwinder_map *m, Elf64_Ehdr *eh);
int unwinder__cie_ra_ok(const uint8_t *p, const uint8_t *end, int version);
int unwinder__scratch_reserve(struct unwinder *u, size_t need);

/* dframe.c: the .debug_frame index of image m (built on first use, least recently used dropped). */
void dframe__release(struct unwinder *u, struct dframe *d);
int dframe__find(struct unwind_ctx *c, unw_addr_space_t as, const struct unwinder_map *m, unw_word_t ip,
		 unw_proc_info_t *pi, int need_unwind_info, uint64_t bias);

#endif
