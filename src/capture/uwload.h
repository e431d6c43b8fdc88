/* SPDX-License-Identifier: MIT */
/*
 * uwload - the unwind tables of the in-kernel unwinder (-g auto), loaded lazily and bounded: for each
 * process with samples, the tables of the files its executable mappings map, and of its vDSO, are
 * built in the sandbox (sandbox__uw_table), checked (uwtable__validate), loaded as BPF maps of their
 * own (one per table, as large as it, within 'cap' rows in all), and the process's mappings with tables
 * handed to the BPF program (struct scorch_uw_proc).
 *
 * A file's table is built once and shared by every process that maps it: files are told apart by
 * device, inode and build id, so a file replaced under the same path is another file. The vDSO has no
 * file: its one table (the sandbox's copy of this kernel's vDSO, sandbox__vdso) is kept apart from
 * the files' by a flag, and shared by all processes (but those none of whose files has a table, such
 * as 32-bit ones, which map another vDSO). Tables no
 * process uses stay for the processes to come (fork-heavy servers) until their rows are needed: then
 * the least recently used go first. A file whose table cannot be built is not asked again, and one
 * that does not fit waits until that many rows can be had; meanwhile its mappings are left out, and
 * the BPF walk falls back to the stack copy there.
 *
 * A loaded table is also made findable by its file (device, inode and change time, from
 * /proc/PID/map_files), so that the BPF walk uses it in a process whose entry is not written yet: one
 * exec'd a moment ago (a build's compilers), or a mapping made since the entry. A file whose executable
 * mappings need two different adjustments is left to the process entries.
 *
 * The BPF side is behind struct uwload_sink, so the loader is tested without BPF (tests/unit).
 * Ownership: the loader borrows the sandbox and the processes it is given.
 * Functions returning int return 0 or a negative errno: only -ENOMEM is fatal.
 */
#ifndef SCORCH_UWLOAD_H
#define SCORCH_UWLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "proctab.h"
#include "sandbox.h"
#include "scorch_abi.h"

struct uwload_sink {
	uint32_t cap; /* rows of all tables at once */
	/* Load table 'slot' (< SCORCH_UW_TABLES) with nr rows (copied), replacing what was there. */
	int (*set_table)(void *ctx, uint32_t slot, const struct scorch_uw_row *rows, uint32_t nr);
	/* Empty table 'slot': no process entry names it any more. */
	int (*drop_table)(void *ctx, uint32_t slot);
	/* Replace the process's entry (p->nr 0: delete it). */
	int (*set_proc)(void *ctx, uint32_t pid, const struct scorch_uw_proc *p);
	/* Make a loaded table findable by its file (f NULL: no more). Optional: NULL for none. */
	int (*set_file)(void *ctx, const struct scorch_uw_file_key *k, const struct scorch_uw_file *f);
	void *ctx;
};

struct uwload_stats {
	uint64_t tables;         /* tables built and loaded */
	uint64_t tables_failed;  /* files whose table could not be built (per file in the profile too) */
	uint64_t tables_evicted; /* tables dropped to make room */
	uint64_t tables_no_room; /* files whose table did not fit, even after eviction (once each) */
	uint64_t rows_no_room;   /* ... and the rows they would have taken */
	uint64_t rows;           /* rows loaded now */
	uint64_t rows_peak;      /* the most rows loaded at once */
	uint64_t procs;          /* process entries written */
	uint64_t maps_left_out;  /* executable mappings beyond SCORCH_UW_MAPS in a process */
	uint64_t files_keyed;    /* tables made findable by their file (set_file) */
};

struct uwload;

/* NULL on ENOMEM. The sink is copied; its context must outlive the loader. */
struct uwload *uwload__new(struct sandbox *sb, const struct uwload_sink *sink);
void uwload__free(struct uwload *u);

/*
 * Give the BPF program the tables of process 'pr' if its mappings changed since the last time (or it
 * was never given them): resolves its executable file and vDSO mappings (proctab__resolve), builds or reuses
 * their tables, writes its entry. Cheap when nothing changed.
 */
int uwload__proc(struct uwload *u, struct proctab *pt, struct proctab_proc *pr);
/* Forget the entries of processes no longer in 'pt' (deleting them from the BPF side). */
void uwload__prune(struct uwload *u, struct proctab *pt);

void uwload__stats(const struct uwload *u, struct uwload_stats *st);
/*
 * The files whose table could not be built, or that had rows the kernel walk cannot follow: for each,
 * fn(ctx, name, unknown_rows, err) (err 0 when built; name as the process mapped it). Stops at, and
 * returns, the first non-zero return.
 */
int uwload__each_file(const struct uwload *u,
		      int (*fn)(void *ctx, const char *name, uint64_t unknown, int err), void *ctx);

#endif
