/* SPDX-License-Identifier: MIT */
/*
 * elfsym - the values of a few named symbols of an ELF file's dynamic symbol table (.dynsym), read
 * with bounded reads from a descriptor (the file a profiled process mapped: untrusted). Only what a
 * lookup by name needs is parsed: the ELF header, the section headers, .dynsym and its string table.
 * x86-64 ELF64 little-endian only. Nothing is kept after a call.
 *
 * Functions return 0 or a negative errno: -EINVAL for a file that is not such an ELF or whose tables
 * are out of bounds, -EIO for a failed read, -ENOMEM.
 */
#ifndef SCORCH_ELFSYM_H
#define SCORCH_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/* Reads 'len' bytes at 'off' into 'buf': 0, or a negative errno (all or nothing). */
typedef int (*elfsym_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/* Limits on what is read: section headers, and the bytes of .dynsym and of its strings. */
#define ELFSYM_MAX_SECTIONS 4096
#define ELFSYM_MAX_TABLE (64u << 20)

struct elfsym_info {
	uint64_t load_vaddr; /* p_vaddr of the PT_LOAD at file offset 0, page-aligned down */
	int found_load;      /* such a PT_LOAD exists */
};

/*
 * Look 'n' names up: values[i] is the st_value of the defined symbol names[i] (0 when absent). 'info'
 * (may be NULL) says where the file's image starts, so that a caller turns a value into an address
 * (the mapping at file offset 0 starts at load_vaddr plus the load bias).
 */
int elfsym__lookup(elfsym_read_fn read, void *ctx, const char *const *names, size_t n, uint64_t *values,
		   struct elfsym_info *info);
/* The same on the file open at 'fd' (pread), or on the 'size' bytes of a file's image in memory. */
int elfsym__lookup_fd(int fd, const char *const *names, size_t n, uint64_t *values, struct elfsym_info *info);
int elfsym__lookup_mem(const void *image, size_t size, const char *const *names, size_t n, uint64_t *values,
		       struct elfsym_info *info);

#endif
