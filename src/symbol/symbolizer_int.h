/* SPDX-License-Identifier: MIT */
/*
 * symbolizer_int - what symbolizer.c and debuginfo.c share, and nothing else includes: the state of
 * the symbolizer and of each file it opened, and the libdwfl callback that finds separate debuginfo.
 */
#ifndef SCORCH_SYMBOLIZER_INT_H
#define SCORCH_SYMBOLIZER_INT_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>

#include "idxmap.h"
#include "symbolizer.h"

/* Bounds that keep malformed DWARF from costing unbounded time or memory. */
#define MAX_CHAIN 32           /* frames of one inline chain */
#define MAX_DIE_DEPTH 128      /* nesting of DIEs we descend into */
#define MAX_CU_DIES (8u << 20) /* DIEs visited while indexing one CU */
#define MAX_DIE_RANGES 4096    /* address ranges of one DIE */
#define MAX_CUS (1u << 20)
#define SYSTEM_DEBUG_DIR "/usr/lib/debug"

struct sym_entry {
	uint64_t addr;
	uint64_t size;
	const char *name; /* borrowed from libdwfl's copy of the ELF string table */
	uint32_t index;   /* in the symbol table */
	uint8_t binding;  /* 3 global, 2 weak, 1 local */
	uint8_t label;    /* an untyped symbol in code (an assembler label), not a function */
};

struct load_seg {
	uint64_t offset, vaddr, filesz;
};

/* A function (DW_TAG_subprogram) or an inlined instance (DW_TAG_inlined_subroutine) of a CU. */
struct fn_node {
	Dwarf_Die die;
	uint32_t parent;         /* node index, or UINT32_MAX */
	uint32_t rfirst, rcount; /* its ranges in sym_cu.node_ranges */
	uint32_t call_file, call_line;
	uint16_t depth;
	uint8_t inlined;
	uint8_t name_done;
	const char *name; /* resolved lazily; borrowed from libdw or the symbolizer's strings */
};

struct addr_range {
	uint64_t lo, hi; /* DWARF addresses [lo, hi) */
	uint32_t idx;    /* node or CU index */
	uint32_t depth;
};

struct sym_cu {
	Dwarf_Die die;
	int indexed;
	struct fn_node *nodes; /* owned */
	uint32_t nr_nodes;
	size_t cap_nodes;
	struct addr_range *node_ranges; /* owned, grouped by node */
	uint32_t nr_node_ranges;
	size_t cap_node_ranges;
	struct addr_range *sorted; /* owned, by (lo, depth) */
	Dwarf_Files *files;        /* borrowed from libdw */
	size_t nr_files;
	int files_done;
	uint32_t visits;
};

struct sym_elf {
	struct symbolizer *s; /* borrowed: the owner */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime;
	uid_t uid;
	int ok;                 /* 0: the file could not be used; lookups give no frames */
	Dwfl *dwfl;             /* owned */
	Dwfl_Module *mod;       /* borrowed from dwfl */
	struct sym_entry *syms; /* owned, sorted by addr */
	size_t nr_syms;
	int syms_loaded;
	struct load_seg *segs; /* owned */
	size_t nr_segs;
	char build_id[2 * 64 + 1];
	char *name; /* owned */
	char *root; /* owned, NULL for our own root */
	/* DWARF, loaded on first lookup */
	int dwarf_tried;
	Dwarf *dw; /* borrowed from dwfl */
	Dwarf_Addr dwbias;
	struct sym_cu *cus; /* owned */
	size_t nr_cus;
	struct addr_range *cu_ranges; /* owned, sorted by lo */
	size_t nr_cu_ranges;
	struct u64map cu_by_off; /* CU DIE offset -> index + 1 */
	struct u64map results;   /* vaddr -> (first frame << 8 | count) + 1 in symbolizer.frames */
};

struct symbolizer {
	struct symbolizer_opts opts;
	struct sym_elf **elfs; /* owned */
	size_t nr_elfs, cap_elfs;
	struct u64map by_key;     /* hash of (dev, ino, size, mtime) -> index + 1 */
	struct sym_frame *frames; /* owned: cached results */
	size_t nr_frames, cap_frames;
	char **strs; /* owned: demangled names */
	size_t nr_strs, cap_strs;
	struct u64map demangled;   /* raw name pointer -> index + 1 in strs, or 0 when not mangled */
	struct u64map by_build_id; /* hash of the build id -> index + 1 of the first file with it */
	struct sym_elf *vdso;      /* borrowed from elfs */
	int vdso_tried;
	struct symbolizer_stats stats;
};

/*
 * debuginfo.c: libdwfl's find_debuginfo callback. Separate debuginfo of the file *userdata (a struct
 * sym_elf) by build id, then by .gnu_debuglink (CRC checked), in the debug directories and inside the
 * target's root, each candidate opened by us (safeopen.h), never by a name libdwfl or the target chose;
 * debuginfod only when the options allow it. Returns a descriptor libdwfl then owns, or -1.
 */
int debuginfo__find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		    char **debuginfo_file_name);

#endif
