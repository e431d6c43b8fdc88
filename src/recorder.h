/* SPDX-License-Identifier: MIT */
/*
 * recorder - turns raw samples into a profile.
 *
 * For each sample it maps every address to a mapping through the process's /proc/PID/maps (read when a
 * process is first seen, and again when an address falls outside what is known), names it through the
 * symbolizer (user code) or kallsyms (kernel), and interns locations, stacks and threads so that a
 * steady workload costs only a count increment per sample. Files are opened the way a root profiler
 * must: through /proc/PID/map_files (or /proc/PID/root), regular files only, never blocking, and only
 * when their (device, inode) matches the maps line.
 *
 * The recorder borrows the profile it fills; it owns its caches, its symbolizer and its kernel symbols.
 * Functions returning int return 0 or a negative errno (only -ENOMEM and -EINVAL are fatal; a process
 * that is gone or a file that cannot be read give unnamed frames and a counter, not an error).
 */
#ifndef SCORCH_RECORDER_H
#define SCORCH_RECORDER_H

#include <stdint.h>

#include "profile.h"
#include "symbolizer.h"

struct recorder_opts {
	int no_kernel; /* drop kernel frames */
	int no_user;   /* drop user frames */
	struct symbolizer_opts sym; /* debuginfo directories, demangling, debuginfod */
};

/* One sample, neutral of how it was taken: addresses leaf first, as the CPU saw them. */
struct recorder_sample {
	uint32_t pid, tid;
	const char *comm;
	const uint64_t *kips;
	uint32_t nr_kips;
	const uint64_t *uips;
	uint32_t nr_uips;
	int kstack_error, ustack_error;         /* the stack could not be read */
	int kstack_truncated, ustack_truncated; /* the stack filled its buffer */
};

struct recorder;

struct recorder *recorder__new(struct profile *p, const struct recorder_opts *opts);
void recorder__free(struct recorder *r);
/* Read a process's maps now (for targets known before sampling starts). */
int recorder__add_process(struct recorder *r, uint32_t pid);
int recorder__add_sample(struct recorder *r, const struct recorder_sample *s);
/* Store the recorder's quality counters in the profile. */
int recorder__store_counters(struct recorder *r);

#endif
