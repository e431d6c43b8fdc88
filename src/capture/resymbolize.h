/* SPDX-License-Identifier: MIT */
/*
 * resymbolize - name a recorded profile's code again, after the fact: for debuginfo that was missing
 * at record time (scorch report --resymbolize --debug-dir DIR).
 *
 * Profiles keep, for every location in an ELF file, its mapping's path and build id and the ELF
 * virtual address. For each such mapping with a build id, resymbolize__profile() looks for
 * DIR/.build-id/xx/rest.debug in each of 'debug_dirs', then in /usr/lib/debug, and else for the
 * mapped file itself at its recorded path (used only if its build id matches, with its debuginfo found
 * the usual ways); then it replaces the frames of every location of that mapping that the file names
 * (file:line and inline chains included). Locations recorded as file offsets (the file was unreadable)
 * and mappings without a build id are left alone. Files are opened with the care of safeopen.h.
 *
 * The paths come from the profile and the files' bytes from whoever wrote them: they are parsed by the
 * sandboxed symbolizer (sandbox.h), unless o->no_sandbox. A file on which the sandbox's child crashes
 * or times out is skipped with a warning: its locations keep the frames they had.
 *
 * JIT code recorded unnamed under a JIT mapping named "/tmp/perf-PID.map" is named from that perf map
 * when it exists now (written after the recording), read in our root (a containerised process's own
 * /tmp is out of reach) and only when it is a regular file of at most PERFMAP_MAX_SIZE bytes owned by
 * our effective user or root, as perf report does (a warning otherwise). Locations that have names
 * keep them.
 *
 * Returns the number of locations whose frames were replaced, or a negative errno (-ENOMEM).
 */
#ifndef SCORCH_RESYMBOLIZE_H
#define SCORCH_RESYMBOLIZE_H

#include <stddef.h>

#include "profile.h"

struct resymbolize_opts {
	const char *const *debug_dirs; /* borrowed: debuginfo directories searched first */
	size_t nr_debug_dirs;
	int no_sandbox; /* parse in this process, not in the sandbox's child */
};

int resymbolize__profile(struct profile *p, const struct resymbolize_opts *o);

#endif
