/* SPDX-License-Identifier: MIT */
/*
 * diff - compare two sets of profiles (a base side and a new side, one or more runs each) row by row
 * (function, source line, module or whole stack) and decide, per row, whether its share of samples
 * regressed, improved, did not change, or had too few samples to say (man/scorch-diff.1).
 *
 * Shares, not counts, are compared, so runs of different lengths or frequencies compare fairly.
 * With one run on either side, the test is a two-proportion z-test (pooled variance) on the counts
 * summed per side; with two or more runs on both sides, Welch's t-test on the per-run shares, which
 * measures the run-to-run variance instead of assuming binomial sampling. p-values are adjusted with
 * Benjamini-Hochberg over the rows tested for a metric. A row regressed when its adjusted p-value is
 * at most alpha AND its share grew by at least 'threshold' points (improved: shrank by as much).
 * A row is not tested ("too few samples") when the count expected from the pooled share is below
 * 'min_expected' on both sides.
 *
 * Rows are named as report, folded and the other readers name frames: diff__add reads each run through
 * a view (view.h) of all its frames, grouped by function, line or module.
 *
 * Usage: diff__init, then diff__add once per run (every base run, then every new run, or in any
 * order: each names its side), then diff__finish, then read 'rows' or print; diff__release frees
 * everything. The diff copies what it needs: the profiles may be released after diff__add.
 * Functions return 0 or a negative errno (-ENOMEM, -EINVAL for calls out of order).
 */
#ifndef SCORCH_DIFF_H
#define SCORCH_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "idxmap.h"
#include "profile.h"

enum diff_by {
	DIFF_BY_FUNCTION, /* function name (and module, see use_modules) */
	DIFF_BY_LINE,     /* function and source file:line of the frame */
	DIFF_BY_MODULE,   /* module (mapping short name) */
	DIFF_BY_STACK,    /* the whole stack, folded ("root;...;leaf") */
};

enum diff_metric {
	DIFF_SELF = 0,  /* samples whose innermost frame is in the row */
	DIFF_TOTAL = 1, /* samples whose stack holds the row anywhere (once per stack) */
};

enum diff_verdict {
	DIFF_REGRESSED,
	DIFF_IMPROVED,
	DIFF_UNCHANGED,
	DIFF_TOO_FEW,
};

enum diff_method {
	DIFF_Z_TEST,
	DIFF_WELCH,
};

enum diff_format {
	DIFF_FMT_TABLE,
	DIFF_FMT_MARKDOWN,
	DIFF_FMT_JSON,
	DIFF_FMT_FOLDED,
};

/* A CI gate runs on every change: a false alarm costs more than a small regression found later. */
#define DIFF_ALPHA_DEFAULT 0.01
#define DIFF_THRESHOLD_DEFAULT 1.0 /* percentage points */
#define DIFF_MIN_EXPECTED_DEFAULT 5.0
#define DIFF_POWER 0.8 /* for the minimum detectable effect */

struct diff_opts {
	enum diff_by by;
	enum diff_metric metric; /* the one that decides the summary and the exit status */
	double alpha;            /* false discovery rate, 0 < alpha < 1 */
	double threshold;        /* points of share, >= 0 */
	double min_expected;     /* samples */
	int use_modules;         /* key functions and lines by module too (off when any input is folded) */
};

struct diff_cell {
	uint64_t count[2]; /* samples, summed over the runs of each side */
	double share[2];   /* percent: pooled over runs (z-test) or mean of the runs' shares (Welch) */
	double delta;      /* share[1] - share[0], points */
	double stat;       /* z or t; NaN when not tested */
	double p, q;       /* raw and Benjamini-Hochberg adjusted p-values; NaN when not tested */
	double mde;        /* smallest change in points the data could detect (power 0.8) */
	enum diff_verdict verdict;
};

struct diff_row {
	char *name;            /* owned: function, "function (file:line)", module or folded stack */
	char *module;          /* owned: module short name, "" for stack rows */
	struct diff_cell m[2]; /* indexed by enum diff_metric */
};

struct diff_input {
	const char *name; /* borrowed: how to call the input in output (file name) */
	uint64_t samples;
};

struct diff {
	struct diff_opts opts;
	enum diff_method method;
	uint32_t nr_runs[2];          /* expected runs per side */
	uint32_t added[2];            /* runs added so far */
	uint64_t n[2];                /* samples per side */
	struct diff_input *inputs[2]; /* owned arrays of nr_runs[side] */
	struct diff_row *rows;        /* owned; sorted by diff__finish */
	size_t nr_rows;
	size_t nr_verdict[2][4]; /* [metric][verdict] */
	int finished;

	/* private */
	size_t cap_rows;
	uint64_t *runs_counts; /* [row][run][metric], runs numbered base first */
	uint64_t *stamp;       /* per row: last stack that counted towards its total */
	size_t *name_lens;     /* per row: strlen(name) */
	uint64_t next_stamp;
	struct idxmap idx;
};

int diff__init(struct diff *d, const struct diff_opts *opts, uint32_t runs_base, uint32_t runs_new);
/* Add one run to side 0 (base) or 1 (new); 'name' is kept as a borrowed pointer. */
int diff__add(struct diff *d, int side, const struct profile *p, const char *name);
/* Compute shares, tests, adjusted p-values and verdicts; sort the rows (regressed first). */
int diff__finish(struct diff *d);
void diff__release(struct diff *d);

/*
 * Print the finished diff. 'top' limits the rows of table and markdown (0 = all; folded and json
 * always hold every row). Returns 0, or -EIO when writing failed.
 */
int diff__print(FILE *out, const struct diff *d, enum diff_format fmt, size_t top);

const char *diff__verdict_name(enum diff_verdict v);

#endif
