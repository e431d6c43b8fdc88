/* SPDX-License-Identifier: MIT */
/*
 * view - a profile seen as the readers want it: each sampled (stack, thread) as a list of named frames,
 * root first, after the user's filters (threads, kernel frames, inlined frames, --focus/--ignore) and
 * grouping (--by function, line or module). report, folded, flamegraph, the speedscope exporter and diff
 * all read a view, so they agree on names, filters and counts.
 *
 * Ownership: a struct view is embedded by the caller (view__build / view__release) and owns its arrays
 * and frame names; it borrows the profile, which must outlive it. Functions return 0 or a negative
 * errno (-ENOMEM, or -EINVAL for a bad regular expression, logged).
 */
#ifndef SCORCH_VIEW_H
#define SCORCH_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "idxmap.h"
#include "profile.h"

enum view_by {
	VIEW_BY_FUNCTION, /* one frame per function (or "[module+0xaddr]" when unnamed) */
	VIEW_BY_LINE,     /* one frame per source line: "function file:line" */
	VIEW_BY_MODULE,   /* one frame per module; consecutive frames of one module merge */
	VIEW_BY_PROCESS,  /* one frame per stack: its process, "comm (pid)" (comm of the main thread when
			   * it was sampled, else of the first thread seen); --focus/--ignore match functions
			   */
};

enum view_kind {
	VIEW_KIND_USER = 0,
	VIEW_KIND_KERNEL = 1, /* a PROFILE_LOC_KERNEL location or a kernel mapping: "_[k]" */
	VIEW_KIND_INLINE = 2, /* a PROFILE_FRAME_INLINE frame: "_[i]" */
	VIEW_KIND_JIT = 3,    /* a PROFILE_MAP_JIT mapping: "_[j]" */
	VIEW_KIND_PYTHON = 4, /* a PROFILE_MAP_PYTHON mapping (a Python frame): "_[py]" */
};

#define VIEW_MAX_IDS 64

struct view_opts {
	enum view_by by;
	int no_inline;                        /* fold inlined frames into their caller */
	int no_kernel;                        /* leave out kernel frames */
	int python_only;                      /* leave out every frame but Python frames */
	uint32_t pids[VIEW_MAX_IDS], nr_pids; /* keep only these processes (none: all) */
	uint32_t tids[VIEW_MAX_IDS], nr_tids; /* keep only these threads (none: all) */
	const char *comms[VIEW_MAX_IDS];      /* keep only threads with these names (borrowed) */
	uint32_t nr_comms;
	const char *focus;  /* POSIX extended regex: keep stacks with a frame that matches */
	const char *ignore; /* POSIX extended regex: drop stacks with a frame that matches */
};

struct view_func {
	char *name;        /* owned; display name (not sanitized for folded output) */
	uint32_t mapping;  /* mapping id in the profile */
	uint32_t kind;     /* enum view_kind */
	uint32_t base;     /* id of the first func with the same (name, mapping), any kind */
	uint32_t file;     /* string id in the profile, 0 when unknown */
	uint32_t line;     /* 0 when unknown */
	uint32_t function; /* string id of the function in the profile, 0 when unnamed (or --by module) */
	uint32_t loc, frame_idx; /* where the func was first seen: location id and frame index */
	/*
	 * The first label_len bytes of name name the frame alone: its function, or "[module+0xaddr]" when
	 * unnamed. That is the whole name but under --by line, where " file:line" follows.
	 */
	uint32_t label_len;
};

/*
 * A path: the frames of one stack, root first, after the filters and grouping. Each profile stack is
 * expanded once, however many threads and counts refer to it (under --by process, one path per
 * process), so a view's memory is proportional to the profile's distinct stacks, not to stacks times
 * threads. Readers that do not care about threads should walk the paths.
 */
struct view_path {
	size_t first;   /* index into funcs_of */
	uint32_t depth; /* number of frames, root first */
	uint64_t count; /* samples of all the view stacks on this path */
};

/* One sampled (stack, thread) that passed the filters: its path's frames, its thread and count. */
struct view_stack {
	size_t first;    /* index into funcs_of: the same as its path's */
	uint32_t depth;  /* number of frames, root first */
	uint32_t thread; /* thread id in the profile */
	uint64_t count;
	uint32_t path; /* index into paths */
};

struct view {
	const struct profile *p; /* borrowed */
	struct view_func *funcs;
	uint32_t nr_funcs;
	struct view_stack *stacks;
	uint32_t nr_stacks;
	struct view_path *paths;
	uint32_t nr_paths;
	uint32_t *funcs_of; /* frames of all paths: func ids */
	size_t nr_funcs_of;
	uint64_t total; /* samples that passed the filters */
	/*
	 * Bytes that the view and its readers may still materialise: frames, names, output rows
	 * (view__charge). Starts at the profile's expand_limit (unlimited when that is 0).
	 */
	uint64_t budget;

	/* private */
	size_t cap_funcs, cap_stacks, cap_paths, cap_funcs_of;
	struct idxmap func_idx, base_idx;
	int over_budget;
};

/*
 * Build the view of 'p' under 'o'. 0, -ENOMEM, -EINVAL (bad regular expression, logged) or -E2BIG
 * when the expansion passes the profile's expand_limit (logged).
 */
int view__build(struct view *v, const struct profile *p, const struct view_opts *o);
void view__release(struct view *v);

/*
 * Charge 'bytes' materialised from the view (by the view itself or a reader: output rows, copies) to
 * its budget. 0, or -E2BIG once the budget is spent (logged once, saying which limit).
 */
int view__charge(struct view *v, uint64_t bytes);
/* Log that p->expand_limit was reached, for readers that charge it without a view. -E2BIG. */
int view__budget_error(const struct profile *p);

/* The frames of stack or path 's', root first. Not to be read past the depth (none when it is 0). */
static inline const uint32_t *view__stack_funcs(const struct view *v, uint32_t s)
{
	/* While no path has a frame, funcs_of is NULL: no offset may be applied to it. */
	return v->funcs_of ? v->funcs_of + v->stacks[s].first : v->funcs_of;
}

static inline const uint32_t *view__path_funcs(const struct view *v, uint32_t s)
{
	return v->funcs_of ? v->funcs_of + v->paths[s].first : v->funcs_of;
}

/* 1 when thread 'thread' of the profile passes the pid/tid/comm filters of 'o'. */
int view__thread_selected(const struct profile *p, uint32_t thread, const struct view_opts *o);

/* The folded-stack suffix of a kind: "_[k]", "_[i]", "_[j]", "_[py]" or "". */
const char *view__kind_suffix(uint32_t kind);

#endif
