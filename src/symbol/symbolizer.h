/* SPDX-License-Identifier: MIT */
/*
 * symbolizer - function, file:line and inline chains for addresses in ELF files, through elfutils
 * libdw/libdwfl.
 *
 * This module is the only includer of <elfutils/libdwfl.h>. A struct symbolizer owns a cache of opened
 * ELF files keyed by (device, inode, size, mtime) and by build id, so a library mapped by many processes
 * (or present in several containers) is read once,
 * and a cache of results per (file, address), so each address is resolved once. Each file keeps its
 * own sorted symbol table (libdwfl's lookup is a linear scan), its DWARF is loaded on the first lookup
 * only, and each compile unit gets, on first use, a sorted index of its functions and inlined
 * instances (so a lookup never walks the DIE tree, and binaries without .debug_aranges resolve too).
 *
 * Separate debuginfo is found by build id (DIR/.build-id/xx/rest.debug, for the directories given in
 * symbolizer_opts, then /usr/lib/debug inside the target's root, then /usr/lib/debug), then by
 * .gnu_debuglink (CRC-checked) next to the file, in its .debug/ directory and under the debug
 * directories; through debuginfod only when opts.debuginfod is set (and DEBUGINFOD_URLS names servers).
 *
 * The bytes come from files that the profiled process chose: they are untrusted. Callers pass file
 * descriptors they opened safely (see safeopen.h); the symbolizer checks the ELF magic before libdwfl
 * sees a byte, opens debuginfo files itself with the same care, and a malformed file yields no or
 * fewer frames, never a crash.
 *
 * Strings handed out (function names, file names, build ids) are borrowed from the symbolizer and
 * valid until symbolizer__free(). Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_SYMBOLIZER_H
#define SCORCH_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

struct symbolizer;
struct sym_elf;

struct symbolizer_opts {
	const char *const *debug_dirs; /* borrowed: extra debuginfo directories, searched first */
	size_t nr_debug_dirs;
	int no_demangle; /* keep raw (mangled) names */
	int debuginfod;  /* allow libdwfl's debuginfod client when nothing local matched */
};

struct sym_frame {
	const char *function; /* NULL when unknown */
	const char *file;     /* NULL when unknown; a full path when the DWARF gives one */
	uint32_t line;        /* 0 when unknown */
	int inlined;          /* inlined into the next frame */
	uint64_t offset;      /* address - start of the ELF symbol (outermost frame only, else 0) */
};

/* 'opts' may be NULL (defaults); it is copied, but the directory strings stay borrowed. */
struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts);
void symbolizer__free(struct symbolizer *s);

/*
 * The ELF file open on 'fd' (the symbolizer dups it; the caller keeps 'fd'), opening it on first use.
 * 'name' is the file's path as the target sees it (used in messages, as the module name and to find
 * debuglink files next to it); 'root' is the directory that path lives in ("/proc/PID/root"), or NULL
 * for this process's root. Returns NULL with errno set: ENOEXEC when the file is not ELF, EINVAL when
 * libdwfl rejects it, ENOMEM. A failure is cached too: it is reported once.
 */
struct sym_elf *symbolizer__open_fd(struct symbolizer *s, int fd, const char *name, const char *root);

/*
 * The vDSO, from this process's own image (every process of this kernel maps the same one): its
 * addresses are offsets into the image (translate with symbolizer__offset_to_vaddr). NULL if
 * unavailable.
 */
struct sym_elf *symbolizer__vdso(struct symbolizer *s);

/* Translate a file offset into the ELF virtual address, through the PT_LOAD segment that holds it. */
int symbolizer__offset_to_vaddr(const struct sym_elf *e, uint64_t offset, uint64_t *vaddr);
/* The i-th PT_LOAD segment (file offset, virtual address, size in the file); -ENOENT past the last. */
int symbolizer__load_segment(const struct sym_elf *e, size_t i, uint64_t *offset, uint64_t *vaddr,
			     uint64_t *filesz);
/* The GNU build id in lowercase hex, or "" when the file has none. Borrowed. */
const char *symbolizer__build_id(const struct sym_elf *e);
/* Whether DWARF was found for the file (loading it if not done yet). */
int symbolizer__has_dwarf(struct symbolizer *s, struct sym_elf *e);

/*
 * Resolve 'vaddr' (an ELF virtual address of 'e'; for a return address, pass the address minus one)
 * into at most 'max' frames, innermost first: the inline chain, then the function that holds it.
 * Returns the number of frames (0 when nothing covers the address).
 */
int symbolizer__lookup(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out,
		       int max);

/* Counters for benchmarks and tests: files opened, DWARF loaded, lookups, cache hits. */
struct symbolizer_stats {
	uint64_t elfs, dwarfs, lookups, cache_hits;
};
void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st);

#endif
