/* SPDX-License-Identifier: MIT */
/*
 * profile - the in-memory model of a profile: what was sampled, how often, and what the addresses mean.
 *
 * Ownership: a struct profile owns everything reachable from it. Ids are indices into its arrays and
 * stay valid for the profile's lifetime; nothing is ever removed. Pointers returned by accessors are
 * borrowed and valid until the next call that adds to the profile. The model knows nothing of BPF,
 * DWARF or the file format.
 *
 * Shape:
 *   string     interned bytes; id 0 is always "".
 *   mapping    an object code owner: an ELF file, the kernel or a kernel module, the vDSO, anonymous
 *              memory, JIT code. Interned by (name, build id, kind).
 *   location   one sampled address within a mapping, with the frames it resolves to, innermost
 *              first (several frames when code was inlined, none when it could not be named).
 *              Interned by (mapping, addr).
 *   stack      a list of locations, leaf first (kernel locations before user ones). Interned.
 *   thread     (pid, tid, comm). Interned.
 *   count      the number of samples of one stack in one thread.
 *   wait       off-CPU time (record --off-cpu) of one stack in one thread, per event (sleeping,
 *              uninterruptible, runnable): nanoseconds and the number of waits. Counts stay CPU samples;
 *              profile__select_event() turns the counts into the time of the events a reader asks for.
 *   meta       ordered key/value strings (command, hostname, kernel, event, frequency, ...).
 *   counters   named 64-bit quality counters (samples, lost, stack errors, ...).
 *
 * Functions returning uint32_t return an id, or PROFILE_NONE with errno set (ENOMEM, or EINVAL for a
 * reference to an id that does not exist). Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_PROFILE_H
#define SCORCH_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "idxmap.h"

#define PROFILE_NONE UINT32_MAX

enum profile_mapping_kind {
	PROFILE_MAP_FILE = 0,   /* an ELF file; addresses are ELF virtual addresses */
	PROFILE_MAP_KERNEL = 1, /* the kernel or a module; addresses are runtime addresses */
	PROFILE_MAP_VDSO = 2,   /* the vDSO; addresses are offsets into its image */
	PROFILE_MAP_ANON = 3,   /* memory with no file; addresses are runtime addresses */
	PROFILE_MAP_JIT = 4,    /* JIT code named by a perf map; runtime addresses */
	PROFILE_MAP_PYTHON = 5, /* a Python source file (its path the name), or "[python]" for frames that
				 * could not be named; an address is (function string id << 32 | line) */
	PROFILE_MAP_KIND_MAX,
};

struct profile_mapping {
	uint32_t name;     /* string id: file path, "[kernel.kallsyms]", "[vdso]", "[anon]", ... */
	uint32_t build_id; /* string id: lowercase hex, or 0 when unknown */
	uint32_t kind;     /* enum profile_mapping_kind */
};

enum {
	PROFILE_FRAME_INLINE = 1u << 0, /* inlined into the next (outer) frame of the same location */
};

struct profile_frame {
	uint32_t function; /* string id, 0 when unknown */
	uint32_t file;     /* string id, 0 when unknown */
	uint32_t line;     /* 0 when unknown */
	uint32_t flags;    /* PROFILE_FRAME_* */
};

enum {
	PROFILE_LOC_KERNEL = 1u << 0,
	PROFILE_LOC_FILE_OFFSET = 1u << 1, /* a file mapping's address is a file offset (unreadable ELF) */
};

struct profile_location {
	uint32_t mapping;   /* mapping id */
	uint32_t flags;     /* PROFILE_LOC_* */
	uint64_t addr;      /* in the mapping's terms, see enum profile_mapping_kind */
	uint32_t frame;     /* id of the first (innermost) frame */
	uint32_t nr_frames; /* 0 when the address could not be named */
};

struct profile_stack {
	uint32_t first; /* index into stack_locs */
	uint32_t depth; /* number of locations, leaf first */
};

struct profile_thread {
	uint32_t pid, tid;
	uint32_t comm; /* string id */
};

struct profile_count {
	uint32_t stack, thread;
	uint64_t count;
};

/* What a count or a wait measures. */
enum profile_event {
	PROFILE_EV_CPU = 0,       /* on CPU: the samples (counts) */
	PROFILE_EV_OFF_SLEEP = 1, /* off CPU, sleeping (interruptible): locks, pipes, sockets, timers */
	PROFILE_EV_OFF_DISK = 2,  /* off CPU, uninterruptible: mostly disk I/O */
	PROFILE_EV_OFF_RUNQ = 3,  /* off CPU but runnable: waiting for a CPU (run-queue latency) */
	PROFILE_EV_MAX,
};

#define PROFILE_EV_MASK(ev) (1u << (ev))
#define PROFILE_EV_OFF_CPU                                                              \
	(PROFILE_EV_MASK(PROFILE_EV_OFF_SLEEP) | PROFILE_EV_MASK(PROFILE_EV_OFF_DISK) | \
	 PROFILE_EV_MASK(PROFILE_EV_OFF_RUNQ))
#define PROFILE_EV_WALL (PROFILE_EV_MASK(PROFILE_EV_CPU) | PROFILE_EV_OFF_CPU)

struct profile_wait {
	uint32_t stack, thread;
	uint32_t event; /* enum profile_event, not PROFILE_EV_CPU */
	uint32_t pad;
	uint64_t waits; /* how many */
	uint64_t ns;    /* their time off CPU */
};

struct profile_kv {
	uint32_t key;   /* string id */
	uint32_t value; /* string id (meta) */
	uint64_t num;   /* value (counters) */
};

struct profile {
	/* Read-only for users of the model: change them through the functions below. */
	char **strs; /* owned, each NUL-terminated */
	uint32_t *str_lens;
	uint32_t nr_strs;
	struct profile_mapping *mappings;
	uint32_t nr_mappings;
	struct profile_frame *frames;
	uint32_t nr_frames;
	struct profile_location *locations;
	uint32_t nr_locations;
	struct profile_stack *stacks;
	uint32_t nr_stacks;
	uint32_t *stack_locs;
	size_t nr_stack_locs;
	struct profile_thread *threads;
	uint32_t nr_threads;
	struct profile_count *counts;
	uint32_t nr_counts;
	struct profile_kv *meta;
	uint32_t nr_meta;
	struct profile_kv *counters;
	uint32_t nr_counters;
	uint64_t total; /* sum of all counts */
	/*
	 * Bytes that readers may materialise from this profile (expanded stacks, frame names, output
	 * rows), so that a small hostile file cannot cost gigabytes; 0: no limit. Set by the readers of
	 * files from the file's size (pfile.h, input.h), honoured by view.h and the exporters.
	 */
	uint64_t expand_limit;

	/* private */
	size_t cap_strs, cap_str_lens, cap_mappings, cap_frames, cap_locations, cap_stacks, cap_stack_locs,
		cap_threads, cap_counts, cap_meta, cap_counters;
	struct idxmap str_idx, mapping_idx, location_idx, stack_idx, thread_idx, count_idx, meta_idx,
		counter_idx;
	/* Read-only too: the waits (record --off-cpu), their nanoseconds per event. */
	struct profile_wait *waits;
	uint32_t nr_waits;
	uint64_t wait_ns[PROFILE_EV_MAX];
	/*
	 * What the counts hold: PROFILE_EV_MASK(PROFILE_EV_CPU) (0 is the same), samples, as recorded;
	 * any other mask after profile__select_event(): microseconds of those events.
	 */
	uint32_t count_events;

	/* private */
	size_t cap_waits;
	struct idxmap wait_idx;
};

void profile__init(struct profile *p);
void profile__release(struct profile *p);

uint32_t profile__intern_str(struct profile *p, const char *s, size_t len);
static inline uint32_t profile__intern_cstr(struct profile *p, const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return profile__intern_str(p, s, n);
}
/* The string with id 'id', or "" for an id out of range. Borrowed. */
const char *profile__str(const struct profile *p, uint32_t id);

uint32_t profile__intern_mapping(struct profile *p, uint32_t name, uint32_t build_id, uint32_t kind);
/* The same, with its name and build id given as strings (interned first). PROFILE_NONE on failure. */
static inline uint32_t profile__intern_mapping_cstr(struct profile *p, const char *name, const char *build_id,
						    uint32_t kind)
{
	uint32_t n = profile__intern_cstr(p, name);
	uint32_t b = profile__intern_cstr(p, build_id);

	if (n == PROFILE_NONE || b == PROFILE_NONE)
		return PROFILE_NONE;
	return profile__intern_mapping(p, n, b, kind);
}
/* Location with this (mapping, addr), or PROFILE_NONE. */
uint32_t profile__find_location(const struct profile *p, uint32_t mapping, uint64_t addr);
/* Add a location with a copy of its frames. The (mapping, addr) must not exist yet (EEXIST). */
uint32_t profile__add_location(struct profile *p, uint32_t mapping, uint64_t addr, uint32_t flags,
			       const struct profile_frame *frames, uint32_t nr_frames);
/*
 * Replace the frames of location 'loc' (re-symbolization) with a copy of 'frames'. The old frames stay
 * in the frame array, unreferenced. Returns 0, -EINVAL or -ENOMEM.
 */
int profile__set_location_frames(struct profile *p, uint32_t loc, const struct profile_frame *frames,
				 uint32_t nr_frames);
uint32_t profile__intern_stack(struct profile *p, const uint32_t *locs, uint32_t depth);
uint32_t profile__intern_thread(struct profile *p, uint32_t pid, uint32_t tid, uint32_t comm);
/* The thread (pid, tid, comm), or PROFILE_NONE when the profile has none. */
uint32_t profile__find_thread(const struct profile *p, uint32_t pid, uint32_t tid, uint32_t comm);
/* Add n samples of 'stack' in 'thread'; returns the count id. */
uint32_t profile__add_count(struct profile *p, uint32_t stack, uint32_t thread, uint64_t n);

/*
 * Add 'waits' waits of 'ns' nanoseconds in all, of 'event' (an off-CPU event), to 'stack' in 'thread'.
 * Returns the wait id, or PROFILE_NONE with errno set (EINVAL: a bad id or event; EOVERFLOW).
 */
uint32_t profile__add_wait(struct profile *p, uint32_t event, uint32_t stack, uint32_t thread, uint64_t waits,
			   uint64_t ns);
/* Whether the profile holds off-CPU time (a recording with --off-cpu, even one that saw no wait). */
int profile__has_off_cpu(const struct profile *p);
/*
 * Make the counts hold the time of the events in 'mask' (PROFILE_EV_MASK bits) per (stack, thread), in
 * microseconds (rounded up): the waits' time, and for PROFILE_EV_CPU the samples times the sampling
 * period (1 / meta 'frequency'), the CPU time they stand for. A mask of PROFILE_EV_CPU alone changes
 * nothing. The waits stay; p->total becomes the sum. Call it once, right after reading. Returns 0,
 * -ENOMEM, -EINVAL (logged by the caller) when the CPU time is asked for and the profile has no valid
 * frequency, or -EOVERFLOW when the time does not fit 64 bits of nanoseconds (a hostile file); on an
 * error the counts are left half built: release the profile.
 */
int profile__select_event(struct profile *p, uint32_t mask);
/*
 * Divide every count by 'div' (> 0), rounding up so that no count becomes 0; p->total becomes their
 * sum. For readers that take counts as samples (diff: milliseconds of time as its unit of evidence).
 */
void profile__scale_counts(struct profile *p, uint64_t div);
/* Whether the counts are microseconds (after profile__select_event() of off-CPU time). */
static inline int profile__counts_are_us(const struct profile *p)
{
	return p->count_events && p->count_events != PROFILE_EV_MASK(PROFILE_EV_CPU);
}
/* "cpu", "off-cpu", "wall", "off-cpu:sleep", ... for an event mask; "events" for another mix. */
const char *profile__events_name(uint32_t mask);

static inline const uint32_t *profile__stack_locs(const struct profile *p, uint32_t stack)
{
	return p->stack_locs ? p->stack_locs + p->stacks[stack].first : p->stack_locs;
}

/*
 * Meta keys and counter names are found through a hash index (constant time per set or get). A
 * profile holds at most PROFILE_MAX_KEYS of each: adding one more fails with -E2BIG, so that a file
 * cannot grow them without bound.
 */
#define PROFILE_MAX_KEYS 65536

/* Set meta 'key' to 'value', replacing an earlier value. 0, -ENOMEM or -E2BIG. */
int profile__meta_set(struct profile *p, const char *key, const char *value);
int profile__meta_setf(struct profile *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The value of meta 'key', or NULL. Borrowed. */
const char *profile__meta_get(const struct profile *p, const char *key);

/* Set counter 'name' to 'value', replacing an earlier value. 0, -ENOMEM or -E2BIG. */
int profile__counter_set(struct profile *p, const char *name, uint64_t value);
int profile__counter_add(struct profile *p, const char *name, uint64_t delta);
uint64_t profile__counter_get(const struct profile *p, const char *name);

/* The last path component of a mapping's name ("libc.so.6", "[kernel.kallsyms]"). Borrowed. */
const char *profile__mapping_short_name(const struct profile *p, uint32_t mapping);

/*
 * Write a display name for frame 'frame_idx' (0 = innermost) of location 'loc' into buf:
 * the function name, or "[module+0xaddr]" when the location has no frames. Returns buf.
 */
const char *profile__frame_label(const struct profile *p, uint32_t loc, uint32_t frame_idx, char *buf,
				 size_t size);

#endif
