/* SPDX-License-Identifier: MIT */
/*
 * jitmap - the JIT code of the recorded processes, named by their perf maps (/tmp/perf-PID.map).
 *
 * JIT code (anonymous executable memory) is recorded under the process's JIT mapping, named like its
 * perf map "/tmp/perf-NSPID.map" as perf does, keeping the raw address. A sample never reads the perf
 * map (the file and its size are the target's choice): a sample whose JIT address the map held in
 * memory does not name only asks for it to be read again. jitmap__reload(), called between ring-buffer
 * reads, takes the result of the read in flight, if done, and starts the next one in a worker thread
 * (one at a time, its signals blocked), at most once a second per process counted from the END of its
 * previous read; a file unchanged since is not parsed again. Reading a map names the locations
 * recorded unnamed before it. A process that exited with JIT code unnamed is kept (jitmap__keep_exited())
 * until its map has been read a last time, and jitmap__final() reads the map of every process with
 * JIT code unnamed, so that a map written at exit (java -XX:+DumpPerfMapAtExit) names what was sampled.
 *
 * The jitmap borrows the profile and the process table (whose struct proctab_jit it reads and
 * writes); it owns the worker thread and the map being read, which jitmap__free() waits for and frees.
 * Functions returning int return 0 or -ENOMEM (a map that cannot be read is a warning or a counter).
 */
#ifndef SCORCH_JITMAP_H
#define SCORCH_JITMAP_H

#include <stdint.h>

#include "perfmap.h"
#include "procmaps.h"
#include "profile.h"
#include "proctab.h"

/* Quality counters, under the names the recorder stores them as. */
struct jitmap_stats {
	uint64_t jit_locations;  /* JIT locations named */
	uint64_t jit_named_late; /* named by a later read of the map */
	uint64_t perfmap_reads;
	uint64_t perfmap_too_large; /* processes whose map was over PERFMAP_MAX_SIZE, ignored */
};

struct jitmap;

/* NULL on failure (out of memory). Both borrowed, and must outlive it. */
struct jitmap *jitmap__new(struct profile *p, struct proctab *pt);
/* NULL-safe; waits for the read in flight. */
void jitmap__free(struct jitmap *jm);

/*
 * Whether entry 'e' is anonymous executable memory: JIT code, which only the process's perf map can
 * name ("[anon:NAME]" is anonymous memory that a process named with PR_SET_VMA_ANON_NAME).
 */
int jitmap__is_code(const struct procmaps_entry *e);
/* The JIT mapping of 'pr', interned on first use: its id, or PROFILE_NONE when out of memory. */
uint32_t jitmap__mapping(struct jitmap *jm, struct proctab_proc *pr);
/*
 * The perf-map region holding 'addr', in the map as last read (borrowed from 'pr', valid until the map
 * is read again). A miss only asks for the map to be read again: this never reads a file.
 */
const struct perfmap_entry *jitmap__find(struct jitmap *jm, struct proctab_proc *pr, uint64_t addr);
/* Add the location of 'addr' in 'mapping' named after 'je'. Its id, or PROFILE_NONE when out of memory. */
uint32_t jitmap__add_location(struct jitmap *jm, uint32_t mapping, uint64_t addr,
			      const struct perfmap_entry *je);
/* Give the unnamed location 'loc' the name of 'je'. */
int jitmap__name(struct jitmap *jm, uint32_t loc, const struct perfmap_entry *je);
/* Location 'loc' of 'pr' is JIT code left unnamed: name it when the map is read again. */
int jitmap__note_unnamed(struct jitmap *jm, struct proctab_proc *pr, uint32_t loc);
/*
 * For proctab__forget_exited() (ctx: the jitmap): whether to keep the exited 'pr' for now, because
 * its map is being read or is to be read a last time (which this asks for).
 */
int jitmap__keep_exited(void *ctx, struct proctab_proc *pr);

/* Between ring-buffer reads: take the read in flight if done, start the next one wanted. */
int jitmap__reload(struct jitmap *jm);
/*
 * At the end of the recording: wait for the read in flight, then read, in this thread, the map of every
 * process with JIT code unnamed, for at most ~5 s in all.
 */
int jitmap__final(struct jitmap *jm);
/*
 * For --java-perfmap: ask every live process that has libjvm.so mapped for its perf map (jcmd, see
 * perfmap__ask_jvm(), each for at most timeout_ms), then read it. Failures are warnings. Returns the
 * number of JVMs that answered, or -ENOMEM.
 */
int jitmap__ask_jvms(struct jitmap *jm, int timeout_ms);
void jitmap__stats(const struct jitmap *jm, struct jitmap_stats *out);

#endif
