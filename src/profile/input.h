/* SPDX-License-Identifier: MIT */
/*
 * input - load any profile a reading command accepts into a struct profile: a scorch profile
 * (man/scorch-format.5) or folded stacks written by any tool ("root;...;leaf COUNT" per line, as by
 * flamegraph.pl's stackcollapse scripts, inferno, or scorch folded).
 *
 * Folded text is untrusted input and is parsed strictly: blank lines and CRLF line ends are
 * tolerated; every other line must end in a positive decimal count after a space; lines are capped
 * in length and counts in total. An error names the file and the line number.
 *
 * How folded stacks become a profile:
 *   - each distinct frame name is one location with one named frame, in the pseudo-mapping
 *     "[folded]" (kind ANON), or in the mapping named by a "module`function" prefix (DTrace style);
 *   - a trailing "_[k]" marks a kernel frame (mapping "[kernel.kallsyms]", PROFILE_LOC_KERNEL),
 *     "_[i]" an inlined frame (PROFILE_FRAME_INLINE), "_[j]" JIT code (mapping "[jit]", kind JIT);
 *     the annotation is removed from the name;
 *   - counts go to one synthetic thread (pid 0, comm "[folded]"); meta "format" is "folded".
 *
 * The caller owns the profile (initialised, empty); on error it may hold part of the input: release
 * it. Errors are logged here with the file name and returned as negative errno.
 */
#ifndef SCORCH_INPUT_H
#define SCORCH_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

#define INPUT_MAX_LINE_DEFAULT ((size_t)1 << 20)    /* 1 MiB */
#define INPUT_MAX_TOTAL_DEFAULT ((uint64_t)1 << 53) /* counts stay exact as doubles */

enum input_format {
	INPUT_SCORCH = 1,
	INPUT_FOLDED = 2,
};

struct input_opts {
	int allow_partial;  /* accept an unfinished scorch recording (warns) */
	size_t max_line;    /* longest folded line in bytes, 0 = INPUT_MAX_LINE_DEFAULT */
	uint64_t max_total; /* largest sum of folded counts, 0 = INPUT_MAX_TOTAL_DEFAULT */
};

/*
 * Load the file at 'path' ("-" for standard input) into 'p'. *format (may be NULL) says what it was.
 * Returns 0; -EINVAL for an empty file, a bad folded line or a corrupt scorch profile; the errors of
 * pfile__read_mem(); -EFBIG for a file over 4 GiB or counts over the total cap; open/read errors.
 */
int input__load(const char *path, const struct input_opts *opts, struct profile *p,
		enum input_format *format);

/* The same on bytes in memory; 'name' is used in messages. */
int input__load_mem(const void *buf, size_t len, const char *name, const struct input_opts *opts,
		    struct profile *p, enum input_format *format);

/* Parse folded text only (no format detection). Errors as above. */
int input__parse_folded(const char *buf, size_t len, const char *name, const struct input_opts *opts,
			struct profile *p);

#endif
