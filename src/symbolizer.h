/* SPDX-License-Identifier: MIT */
/*
 * symbolizer - function names for addresses in ELF files, through elfutils libdwfl.
 *
 * This module is the only includer of <elfutils/libdwfl.h>. A struct symbolizer owns a cache of opened
 * ELF files keyed by (device, inode, size, mtime), so a library mapped by many processes is read once.
 * Each file keeps its own sorted symbol table (libdwfl's own lookup is a linear scan).
 *
 * The bytes come from files that the profiled process chose: they are untrusted. Callers pass file
 * descriptors they opened safely (regular files, O_NONBLOCK); the symbolizer checks the ELF magic
 * before libdwfl sees a byte, and a malformed file yields no frames, never a crash.
 *
 * Strings handed out (function names, build ids) are borrowed from the symbolizer and valid until
 * symbolizer__free(). Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_SYMBOLIZER_H
#define SCORCH_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

struct symbolizer;
struct sym_elf;

struct sym_frame {
	const char *function; /* NULL when unknown */
	const char *file;     /* NULL when unknown */
	uint32_t line;        /* 0 when unknown */
	int inlined;          /* inlined into the next frame */
};

struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);

/*
 * The ELF file open on 'fd' (the symbolizer dups it; the caller keeps 'fd'), opening it on first use.
 * 'name' is used in messages and as the module name. Returns NULL with errno set: ENOEXEC when the file
 * is not ELF, EINVAL when libdwfl rejects it, ENOMEM. A failure is cached too: it is reported once.
 */
struct sym_elf *symbolizer__open_fd(struct symbolizer *s, int fd, const char *name);

/* Translate a file offset into the ELF virtual address, through the PT_LOAD segment that holds it. */
int symbolizer__offset_to_vaddr(const struct sym_elf *e, uint64_t offset, uint64_t *vaddr);
/* The GNU build id in lowercase hex, or "" when the file has none. Borrowed. */
const char *symbolizer__build_id(const struct sym_elf *e);

/*
 * Resolve 'vaddr' (an ELF virtual address of 'e') into at most 'max' frames, innermost first.
 * Returns the number of frames (0 when no symbol covers the address).
 */
int symbolizer__lookup(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out,
		       int max);

#endif
