/* SPDX-License-Identifier: MIT */
/*
 * proctab - the processes being recorded: their address spaces as /proc/PID/maps (or, once they are
 * gone, the mapping events) describe them, the files behind their mappings, whether they still live,
 * and what an exec or an exit does to all that.
 *
 * A process is added when first seen (its maps read then), its maps are read again when an address
 * falls outside them (at most every 20 ms, or at once for a gone process when mapping events came in
 * since), and everything known of its address space is dropped when its exec count changes. Each maps
 * entry is resolved on first use: its file opened the way a root profiler must (through
 * /proc/PID/map_files, or by the path a mapping event gave when (device, inode) still match), parsed
 * in the symbolizer's sandbox, and interned as a profile mapping. The unwinding service (sandbox.h) is
 * told a process's mappings once it has had samples to unwind, and again when they change.
 *
 * Ownership: the table owns its processes and everything in struct proctab_proc (maps, resolutions,
 * the address cache, the perf-map state); proctab__free() and proctab__forget_exited() free them. It
 * borrows the profile (mapping ids), the sandbox (files, unwinding service) and the mapping-event log,
 * which must outlive it. A struct proctab_proc pointer stays valid until the process is forgotten.
 *
 * Functions returning int return 0 or a negative errno: -ENOMEM is fatal; a process that is gone or a
 * file that cannot be read is not an error (it is counted in struct proctab_stats instead).
 */
#ifndef SCORCH_PROCTAB_H
#define SCORCH_PROCTAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "idxmap.h"
#include "maplog.h"
#include "perfmap.h"
#include "procmaps.h"
#include "profile.h"
#include "sandbox.h"

/* What one maps entry of a process resolves to, filled by proctab__resolve(). */
struct proctab_map {
	int resolved;
	uint32_t mapping;        /* profile mapping id */
	struct sandbox_elf *elf; /* borrowed from the sandbox; NULL when the file could not be read as ELF */
	int64_t ctime_sec;       /* the file's change time when opened (with elf), telling a file made */
	uint32_t ctime_nsec;     /* since under a reused inode number from this one */
};

/*
 * A process's JIT code and its perf map (/tmp/perf-PID.map). The table owns it: it releases it with
 * the process and empties it at an exec (the old image's map is not the new one's); jitmap.h reads and
 * writes it.
 */
struct proctab_jit {
	struct perfmap map; /* owned: the map as last read */
	int tried;          /* a read was attempted (its failure has been reported) */
	int want;           /* a sample missed the map: read it again, from the main loop */
	int big;            /* counted in perfmap_too_large */
	int foreign;        /* warned of a map owned by another user */
	uint64_t time;      /* clock__mono_ns() at the END of the last read attempt */
	uint32_t mapping;   /* profile mapping id, or PROFILE_NONE */
	uint32_t *unnamed;  /* owned: locations of its JIT code that the perf map did not name yet */
	size_t nr_unnamed, cap_unnamed;
	int busy;      /* its map is being read by the worker */
	int exited;    /* gone: kept until its map has been read a last time */
	int last_done; /* that last read is done */
};

struct proctab_proc {
	uint32_t pid;
	uint64_t serial;   /* unique among the processes of this table, never reused */
	uint32_t exec_seq; /* the exec count its caches belong to */
	uint32_t nspid;    /* its pid as it sees itself (names its perf map), 0 until needed */
	uid_t uid;         /* owner of /proc/PID when first seen: whom its perf map must belong to */
	gid_t gid;
	int uid_known;
	struct procmaps maps;   /* owned: as last read (or built from mapping events) */
	struct proctab_map *pm; /* owned, one per maps entry */
	struct u64map
		addrs; /* owned, filled by the caller: runtime address -> location id; emptied at exec */
	struct proctab_jit jit;
	int maps_ok;            /* maps were read (or built) once */
	uint64_t maps_time;     /* clock__mono_ns() of the last read */
	int gone;               /* its /proc/PID/maps could not be read at the last try */
	int from_events;        /* maps were built from the mapping events: the process was gone */
	uint32_t events_seq;    /* exec_seq + 1 of the last build from events counted in maps_from_events */
	int counted_unreadable; /* counted in maps_unreadable */
	uint64_t log_gen;       /* maplog__generation() at that try */
	int uw_sent;            /* the unwinding service has its maps */
	int uw_wanted;          /* it has had samples to unwind */
};

/* Quality counters, under the names the recorder stores them as. */
struct proctab_stats {
	uint64_t maps_unreadable;   /* processes whose maps could be neither read nor built from events */
	uint64_t files_unreadable;  /* mapped files that could not be opened or parsed */
	uint64_t execs;             /* exec count changes seen (including processes first seen after one) */
	uint64_t maps_from_events;  /* process execs whose maps were built from mapping events */
	uint64_t files_from_events; /* files opened by the path a mapping event gave */
};

/*
 * Called before the maps of process 'pid' are read again: the samples still queued for it were taken
 * under the old ones (the recorder unwinds them first). Its error is returned by the read.
 */
typedef int (*proctab_maps_change_fn)(void *ctx, uint32_t pid);

struct proctab;

/* NULL with errno set on failure. All three borrowed, and must outlive the table. */
struct proctab *proctab__new(struct profile *p, struct sandbox *sym, const struct maplog *log);
/* NULL-safe. Tells the unwinding service nothing: the sandbox is freed with it. */
void proctab__free(struct proctab *pt);
void proctab__set_maps_change(struct proctab *pt, proctab_maps_change_fn fn, void *ctx);

/* The process 'pid' if known, else NULL. */
struct proctab_proc *proctab__find(const struct proctab *pt, uint32_t pid);
/*
 * The process 'pid', added (its owner noted, its maps read) when not known yet; a new one is taken to
 * be at exec 'exec_seq' (counted in execs when not 0). NULL with *err set to -ENOMEM, or to the error
 * of the maps-change hook.
 */
struct proctab_proc *proctab__get(struct proctab *pt, uint32_t pid, uint32_t exec_seq, int *err);
/*
 * The process exec'd (its count is now 'exec_seq'): forget its cached addresses and perf map, and read
 * its maps again. Locations already in the profile stay: they name addresses of the old image.
 */
int proctab__exec(struct proctab *pt, struct proctab_proc *pr, uint32_t exec_seq);
/*
 * The maps entry holding 'addr', reading the maps again first when 'addr' is outside them and they
 * are stale (mapped since: dlopen, exec). NULL when none holds it (and when *err is set).
 */
const struct procmaps_entry *proctab__find_map(struct proctab *pt, struct proctab_proc *pr, uint64_t addr,
					       int *err);
/* Resolve maps entry 'i' of 'pr' (its file opened and parsed, its mapping interned), once. */
int proctab__resolve(struct proctab *pt, struct proctab_proc *pr, size_t i);
/* 'pr' has samples to unwind: give the unwinding service its maps if it does not have them. */
int proctab__want_unwind(struct proctab *pt, struct proctab_proc *pr);
/*
 * For sandbox__uw_run() (ctx: the table): the unwinding service missed 'addr' of 'pid'. Reads the
 * maps again or opens the file (every mapping of it), as the in-process unwinder would. Returns 1 to
 * have the sample unwound again, 0 when nothing changed, or a negative errno.
 */
int proctab__uw_need(void *ctx, uint32_t pid, uint64_t addr);

/*
 * Forget the processes that are gone (pidwatch__gone(): a zombie still lives) and
 * that 'keep' (NULL: none) does not ask to keep for now, telling the unwinding service. Returns how
 * many were forgotten.
 */
size_t proctab__forget_exited(struct proctab *pt, int (*keep)(void *ctx, struct proctab_proc *pr), void *ctx);

/* The processes, in the order they were added (forgetting keeps the order of the others). */
size_t proctab__count(const struct proctab *pt);
struct proctab_proc *proctab__at(const struct proctab *pt, size_t i);
void proctab__stats(const struct proctab *pt, struct proctab_stats *out);

#endif
