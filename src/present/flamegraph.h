/* SPDX-License-Identifier: MIT */
/*
 * flamegraph - a self-contained interactive SVG flame graph (or icicle graph) built from stacks.
 *
 * The SVG needs no network: styles and script are inline. In a browser: click a frame to zoom to it,
 * click "Reset Zoom" (or press Escape) to zoom out, click "Search" (or press Ctrl-F) to highlight the
 * frames whose names match a regular expression, with the matched share shown bottom right; a frame's
 * tooltip gives its name, samples and share. The page also reads "?s=REGEX" (search) and "?zoom=NAME"
 * (zoom to the widest frame of that name) from its URL, so a view can be shared as a link.
 *
 * Usage:
 *   struct flamegraph *fg = flamegraph__new(&opts);
 *   flamegraph__add(fg, frames, depth, count, 0);     once per stack, frames root first
 *   flamegraph__write(fg, out);
 *   flamegraph__free(fg);
 *
 * Differential flame graphs (opts.differential = 1): pass each stack's samples in the older profile as
 * 'count' and in the newer one as 'count_after' (either may be 0). Stacks are merged by their frames'
 * (name, module, kind), so the two profiles need no alignment: add every stack of the older profile
 * with (n, 0) and every stack of the newer one with (0, n), e.g. from two views (view.h). Frame widths follow
 * the newer profile (frames only in the older one are not drawn); the colour is red where a frame's share of
 * all samples grew, blue where it shrank, and paler the smaller the change (white: unchanged), scaled to the
 * largest change in the graph. Tooltips give both counts and the change in share in percentage points.
 * Shares, not raw counts, are compared, so profiles of different lengths compare fairly.
 *
 * Ownership: the builder copies the names it is given; frames passed to flamegraph__add are borrowed for
 * the call only. Functions returning int return 0 or a negative errno (-ENOMEM, -EIO for a write error);
 * flamegraph__new returns NULL with errno set.
 */
#ifndef SCORCH_FLAMEGRAPH_H
#define SCORCH_FLAMEGRAPH_H

#include <stdint.h>
#include <stdio.h>

enum flamegraph_colors {
	FLAMEGRAPH_COLORS_KIND,    /* warm user code, blue kernel, aqua inlined, green JIT, purple Python */
	FLAMEGRAPH_COLORS_MODULE,  /* one hue per module (the 'module' of each frame) */
	FLAMEGRAPH_COLORS_OFF_CPU, /* time off CPU: blue user code, purple kernel, aqua inlined, teal JIT */
};

enum flamegraph_kind {
	FLAMEGRAPH_KIND_USER = 0,
	FLAMEGRAPH_KIND_KERNEL = 1,
	FLAMEGRAPH_KIND_INLINE = 2,
	FLAMEGRAPH_KIND_JIT = 3,
	FLAMEGRAPH_KIND_PYTHON = 4,
};

struct flamegraph_opts {
	const char *title;    /* default "Flame Graph" (or "Icicle Graph") */
	const char *subtitle; /* a second line under the title, or NULL */
	uint32_t width;       /* image width in pixels; 0 = 1200 */
	double min_width;     /* leave out frames narrower than this many pixels; < 0 = 0.1 */
	int icicle;           /* root at the top */
	int differential;     /* colour by change: see above */
	enum flamegraph_colors colors;
	const char *unit; /* what counts count; default "samples" */
};

struct flamegraph_frame {
	const char *name;   /* shown as given (escaped for XML; invalid UTF-8 becomes '?') */
	const char *module; /* for FLAMEGRAPH_COLORS_MODULE and the tooltip; may be NULL */
	uint32_t kind;      /* enum flamegraph_kind */
};

struct flamegraph;

struct flamegraph *flamegraph__new(const struct flamegraph_opts *opts);
/* Add 'count' samples (and 'count_after' for a differential graph) of a stack given root first. */
int flamegraph__add(struct flamegraph *fg, const struct flamegraph_frame *frames, uint32_t depth,
		    uint64_t count, uint64_t count_after);
struct view;
/*
 * Add every stack of a view (view.h), as 'count' (after = 0) or as 'count_after' (after = 1). Frames
 * carry their module unless no_modules (for profiles whose modules do not compare, such as folded
 * stacks against recorded ones).
 */
int flamegraph__add_view(struct flamegraph *fg, const struct view *v, int after, int no_modules);
/* Write the SVG. Returns 0, -ENOMEM, or -EIO when writing failed. */
int flamegraph__write(struct flamegraph *fg, FILE *out);
void flamegraph__free(struct flamegraph *fg);

/* Write 'len' bytes of 's' escaped for XML text and attributes; invalid UTF-8 and controls become '?'. */
void flamegraph__xml_escape(FILE *out, const char *s, size_t len);

#endif
