/* SPDX-License-Identifier: MIT */
/*
 * export - a profile in the formats other tools read.
 *
 * pprof: gzip'd profile.proto (github.com/google/pprof/proto/profile.proto), for pprof, Pyroscope,
 *   Grafana and Parca. Sample types "samples/count" and "cpu/nanoseconds" (samples times the sampling
 *   period, 1e9 / the recorded frequency); one Sample per (stack, thread) with labels "pid" and "tid"
 *   (numbers) and "comm" (string); one Location per profile location, its frames as several Lines,
 *   innermost first (pprof's order for inlined calls); one Function per (name, file); Mappings with their
 *   file names and build ids, the first file mapping first (pprof takes mapping 1 as the main binary).
 *   Addresses are written as the profile holds them (ELF virtual addresses for file mappings, see
 *   profile.h), with no memory ranges.
 *
 * speedscope: the speedscope file format (https://www.speedscope.app/file-format-schema.json): shared
 *   frames (name, and file/line when known), one "sampled" profile per thread, named "comm (pid/tid)",
 *   with root-first samples and their sample counts as weights; the busiest thread is shown first.
 *   Built from a view, so names, --by and the filters are those of report and folded.
 *
 * Both write to 'out' and return 0, -ENOMEM, -EINVAL (bad filter expression) or -EIO (write or
 * compression failure). 'view' holds the filters (for pprof only the pid/tid/comm ones apply).
 */
#ifndef SCORCH_EXPORT_H
#define SCORCH_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "profile.h"
#include "view.h"

int export__pprof(FILE *out, const struct profile *p, const struct view_opts *view);
int export__speedscope(FILE *out, const struct profile *p, const struct view_opts *view, const char *name);

/* Protobuf encoding into a byte buffer (buf.h: errors sticky in b->err), exposed for the unit tests. */
void pbuf__varint(struct buf *b, uint64_t v);
/* Field 'field' as a varint (wire type 0), skipped when 'v' is 0 (proto3 default). */
void pbuf__uint(struct buf *b, uint32_t field, uint64_t v);
/* Field 'field' as length-delimited bytes (wire type 2). */
void pbuf__bytes(struct buf *b, uint32_t field, const void *data, size_t len);
/* Compress 'len' bytes as one gzip member and write them to 'out'. Returns 0 or -EIO / -ENOMEM. */
int export__gzip(FILE *out, const void *data, size_t len);

#endif
