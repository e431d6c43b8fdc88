// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the mapping-event decoder (maplog__add_event(), maplog__decode_path()): any
 * bytes as a ring-buffer record. A record taken must give a path that is absolute, as long as the names
 * it came from, without empty, "." or ".." components; a mapping taken must have a non-empty range and
 * come back from maplog__build() only when its file's path is known (or it is the vDSO).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maplog.h"
#include "scorch_abi.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_maplog: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

static void check_path(const char *p, size_t n)
{
	size_t i;

	CHECK(n > 1 && p[0] == '/' && strlen(p) == n && p[n - 1] != '/');
	CHECK(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
	for (i = 0; i < n; i++)
		CHECK(p[i] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[SCORCH_PATH_MAX + 1];
	struct maplog *l = maplog__new();
	struct maplog_stats st;
	struct scorch_event_hdr h;
	int n;

	if (!l)
		return 0;
	n = maplog__decode_path((const char *)data, size, out, sizeof(out));
	if (n >= 0) {
		CHECK((size_t)n == size);
		check_path(out, (size_t)n);
	}
	if (maplog__add_event(l, data, size) == 0) {
		maplog__stats(l, &st);
		memcpy(&h, data, sizeof(h));
		if (h.type == SCORCH_EV_PATH) {
			const struct scorch_path_event *e = (const void *)data;
			uint32_t dmaj, dmin;
			uint64_t ino;
			const char *p;

			CHECK(st.paths == 1 && size >= offsetof(struct scorch_path_event, path));
			memcpy(&dmaj, &e->dev_major, sizeof(dmaj));
			memcpy(&dmin, &e->dev_minor, sizeof(dmin));
			memcpy(&ino, &e->ino, sizeof(ino));
			p = maplog__path(l, dmaj, dmin, ino);
			CHECK(p);
			check_path(p, strlen(p));
		} else {
			struct scorch_mmap_event e;
			struct procmaps m;
			int built;

			CHECK(h.type == SCORCH_EV_MMAP && st.mmaps == 1 && size >= sizeof(e));
			memcpy(&e, data, sizeof(e));
			CHECK(e.start < e.end);
			procmaps__init(&m);
			/* No path is known: only an executable vDSO is built, named "[vdso]". */
			built = maplog__build(l, h.pid, e.exec_seq, &m);
			if ((e.prot & SCORCH_PROT_VDSO) && (e.prot & SCORCH_PROT_EXEC)) {
				CHECK(built == 1 && strcmp(m.entries[0].path, "[vdso]") == 0 && m.entries[0].inode == 0);
				CHECK(m.entries[0].start == e.start && m.entries[0].end == e.end);
			} else {
				CHECK(built == 0);
			}
			procmaps__release(&m);
		}
	} else {
		maplog__stats(l, &st);
		CHECK(st.bad == 1 && st.paths == 0 && st.mmaps == 0);
	}
	maplog__free(l);
	return 0;
}
