/* SPDX-License-Identifier: MIT */
/*
 * maplog - what the BPF mapping events said about processes' mappings (snapshots taken when a target
 * exits and before it execs), for the processes that are gone before their /proc/PID/maps could be
 * read (a program that runs a few milliseconds).
 *
 * It keeps a bounded log of file mappings (pid, exec_seq, range, offset, device, inode), oldest
 * dropped first, and a bounded (device, inode) -> path table filled from the paths of the mapped files.
 * maplog__build() turns the log of one process into the procmaps that /proc/PID/maps would have shown
 * for the files it had code of. Such a path is the target's choice: safeopen__identified() opens it.
 *
 * The struct maplog owns its entries and path strings; maplog__free() frees everything (NULL-safe).
 * Functions returning int return 0 or a negative errno: -ENOMEM, or -EINVAL for a malformed event.
 */
#ifndef SCORCH_MAPLOG_H
#define SCORCH_MAPLOG_H

#include <stddef.h>
#include <stdint.h>

#include "procmaps.h"

/* Bounds: mapping entries kept (oldest dropped first), paths kept, and the bytes of those paths. */
#define MAPLOG_MAX_MAPS 65536u
#define MAPLOG_MAX_PATHS 65536u
#define MAPLOG_MAX_PATH_BYTES (16u << 20)
/* Mappings of one process (one exec) that maplog__build() considers, newest first. */
#define MAPLOG_MAX_PER_PROC 4096u

struct maplog_stats {
	uint64_t mmaps;         /* mapping events taken */
	uint64_t paths;         /* path events taken */
	uint64_t bad;           /* events refused as malformed */
	uint64_t maps_dropped;  /* mapping entries dropped to stay within MAPLOG_MAX_MAPS */
	uint64_t paths_dropped; /* paths dropped to stay within MAPLOG_MAX_PATHS / MAPLOG_MAX_PATH_BYTES */
};

struct maplog;

/* NULL on ENOMEM. */
struct maplog *maplog__new(void);
void maplog__free(struct maplog *l);

/*
 * Take one event as it came from the ring buffer ('size' bytes of struct scorch_mmap_event or
 * scorch_path_event, include/scorch_abi.h). The bytes are untrusted: a record that is too short, of an
 * unknown type, with an empty range, or whose names are longer than the record or malformed
 * (maplog__decode_path()) is refused (-EINVAL, counted in 'bad').
 */
int maplog__add_event(struct maplog *l, const void *data, size_t size);
/* A perms bit beside PROCMAPS_*: the vDSO (no file; maplog__build() names it "[vdso]"). */
#define MAPLOG_VDSO (1u << 8)

/* perms: PROCMAPS_* bits, and MAPLOG_VDSO. */
int maplog__add_mmap(struct maplog *l, uint32_t pid, uint32_t exec_seq, uint64_t start, uint64_t end,
		     uint64_t offset, uint32_t dev_major, uint32_t dev_minor, uint64_t ino, uint32_t perms);
/*
 * Turn the names of a path event (leaf first, each NUL-terminated, 'len' bytes; see scorch_abi.h) into
 * an absolute path in 'out'. Refuses (-EINVAL) an empty list, a list not ending in NUL, an empty name,
 * a name holding '/' or being "." or "..", or an 'out' smaller than len + 1. Returns the path's length.
 */
int maplog__decode_path(const char *names, size_t len, char *out, size_t out_size);
/* 'path' is 'len' bytes, not NUL-terminated; the caller has checked it (absolute, no NUL). */
int maplog__add_path(struct maplog *l, uint32_t dev_major, uint32_t dev_minor, uint64_t ino, const char *path,
		     size_t len);
/* The path last seen for (device, inode), or NULL. Borrowed until the next add. */
const char *maplog__path(const struct maplog *l, uint32_t dev_major, uint32_t dev_minor, uint64_t ino);

/*
 * Add to 'm' (empty) the file mappings of process 'pid' in its exec 'exec_seq' whose file path is
 * known and which belong to a file with an executable mapping among them (its other segments hold
 * its unwind tables): where mappings overlap, the newest wins. Entries are sorted by start. Their
 * paths are names, written as /proc/PID/maps writes them (a newline as "\012"); maplog__path() gives
 * the path to open. Returns the number of entries, or -ENOMEM.
 */
int maplog__build(const struct maplog *l, uint32_t pid, uint32_t exec_seq, struct procmaps *m);

/* Changes whenever a mapping is added: a build may then give more than before. */
uint64_t maplog__generation(const struct maplog *l);

void maplog__stats(const struct maplog *l, struct maplog_stats *out);

#endif
