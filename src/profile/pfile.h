/* SPDX-License-Identifier: MIT */
/*
 * pfile - the scorch profile file: reading and writing a struct profile (man/scorch-format.5).
 *
 * Layout: a 16-byte header ("SCORCHPF", u16 major, u16 minor, u32 reserved), then a sequence of
 * independent zstd frames ("chunks") with content checksums. Each chunk holds records
 * [u8 type][varint length][payload]; ids are implicit (order of appearance). A recording writes a chunk
 * for everything added since the previous chunk, so a file cut anywhere still holds a readable prefix
 * of whole chunks; the last chunk of a finished recording ends with an END record.
 *
 * This module is the only includer of <zstd.h>. It neither owns nor closes the file descriptors and
 * profiles it is given. Errors are logged here, with the file name, and returned as negative errno.
 */
#ifndef SCORCH_PFILE_H
#define SCORCH_PFILE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

#define PFILE_MAGIC "SCORCHPF"
#define PFILE_MAJOR 1
#define PFILE_MINOR 2

struct pfile_writer;

/* Start writing to 'fd' (written sequentially; it may be a pipe). 'name' is used in messages. */
struct pfile_writer *pfile__writer_new(int fd, const char *name);
/*
 * Write one chunk with everything added to 'p' since the previous chunk (meta, strings, mappings,
 * locations, stacks, threads, count deltas and counter values). 'p' must only have grown since.
 */
int pfile__writer_flush(struct pfile_writer *w, const struct profile *p);
/* Write the final chunk (full meta, counters, END). No more writes after it. */
int pfile__writer_finish(struct pfile_writer *w, const struct profile *p);
/* Bytes written so far, compressed, header included. */
uint64_t pfile__writer_bytes(const struct pfile_writer *w);
void pfile__writer_free(struct pfile_writer *w);

struct pfile_read_opts {
	/* Accept a file whose recording did not finish: read its whole chunks, warn, set *partial. */
	int allow_partial;
	/*
	 * Limits that keep a small hostile file from costing gigabytes or minutes (0 = the defaults).
	 * Both totals grow with the file: PFILE_LIMIT_RATIO times its size, but never below a floor.
	 */
	size_t max_chunk_bytes;    /* decompressed size of one chunk, default 256 MiB */
	uint64_t max_total_bytes;  /* decompressed size of all chunks: max(64 MiB, 64 x file size) */
	uint64_t max_expand_bytes; /* the profile's expand_limit: max(128 MiB, 64 x file size) */
};

#define PFILE_LIMIT_RATIO 64
#define PFILE_TOTAL_FLOOR ((uint64_t)64 << 20)
#define PFILE_EXPAND_FLOOR ((uint64_t)128 << 20)

/* The defaults above for a file of 'len' bytes. */
uint64_t pfile__default_limit(size_t len, uint64_t floor);

/*
 * Read a profile from memory into 'p' (initialised by the caller, empty). 'name' is used in messages.
 * Returns 0, -EINVAL for a file that is not a scorch profile or is corrupt, -EPROTONOSUPPORT for an
 * unsupported major version, -ENODATA for an unfinished recording when partial files are not allowed,
 * -E2BIG past a limit (decompressed total, meta keys or counters), -ENOMEM. On success p->expand_limit
 * is set (max_expand_bytes). On error 'p' may hold part of the file: release it.
 */
int pfile__read_mem(const void *buf, size_t len, const char *name, const struct pfile_read_opts *opts,
		    struct profile *p, int *partial);
/* Whether buf starts like a scorch profile. */
int pfile__is_profile(const void *buf, size_t len);

#endif
