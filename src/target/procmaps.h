/* SPDX-License-Identifier: MIT */
/*
 * procmaps - parse /proc/PID/maps.
 *
 * The text comes from the kernel but names paths that the target chose, so the parser treats it as
 * untrusted: bounded lengths, every field checked, a bad line is an error (never skipped silently).
 * A struct procmaps owns its entries and their path strings; procmaps__release() frees them.
 * Functions return 0 or a negative errno (-EINVAL for malformed text, with the line number in *bad_line).
 */
#ifndef SCORCH_PROCMAPS_H
#define SCORCH_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCMAPS_MAX_LINE 8192

enum {
	PROCMAPS_R = 1 << 0,
	PROCMAPS_W = 1 << 1,
	PROCMAPS_X = 1 << 2,
	PROCMAPS_SHARED = 1 << 3,
};

struct procmaps_entry {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	uint32_t perms; /* PROCMAPS_* */
	int deleted;    /* path ended in " (deleted)", which has been removed from 'path' */
	char *path;     /* owned; "" for anonymous memory, "[vdso]", "[heap]", ... */
};

struct procmaps {
	struct procmaps_entry *entries; /* owned, sorted by start */
	size_t nr;
};

void procmaps__init(struct procmaps *m);
void procmaps__release(struct procmaps *m);
/* Parse maps text of 'len' bytes (need not be NUL-terminated), adding to the entries of 'm'. */
int procmaps__parse(struct procmaps *m, const char *text, size_t len, size_t *bad_line);
/* Read and parse /proc/PID/maps. -ESRCH when the process is gone. */
int procmaps__read(struct procmaps *m, pid_t pid);
/* The entry containing addr, or NULL. Borrowed. */
const struct procmaps_entry *procmaps__find(const struct procmaps *m, uint64_t addr);

#endif
