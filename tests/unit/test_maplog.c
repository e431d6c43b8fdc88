// SPDX-License-Identifier: MIT
/*
 * Unit tests for the mapping-event log (src/capture/maplog.h): event bytes decoded defensively, the log and
 * the path table bounded, maps built per process and exec, and files named by events opened only when
 * they are still the mapped file and no symlink is on the way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "maplog.h"
#include "safeopen.h"
#include "scorch_abi.h"

static struct scorch_mmap_event mmap_ev(uint32_t pid, uint32_t seq, uint64_t start, uint64_t end, uint64_t ino,
					uint32_t prot)
{
	struct scorch_mmap_event e;

	memset(&e, 0, sizeof(e));
	e.h.type = SCORCH_EV_MMAP;
	e.h.pid = pid;
	e.exec_seq = seq;
	e.dev_major = 8;
	e.dev_minor = 1;
	e.start = start;
	e.end = end;
	e.pgoff = 0x1000;
	e.ino = ino;
	e.prot = prot;
	return e;
}

/* A path event whose names are given leaf first, as the BPF walk writes them. */
static size_t path_ev(struct scorch_path_event *e, uint64_t ino, const char *names, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->h.type = SCORCH_EV_PATH;
	e->h.pid = 1;
	e->dev_major = 8;
	e->dev_minor = 1;
	e->ino = ino;
	e->path_len = (uint32_t)len;
	memcpy(e->path, names, len);
	return offsetof(struct scorch_path_event, path) + len;
}

static void test_decode_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(maplog__decode_path("c\0b\0a", 6, out, sizeof(out)), 6);
	assert_string_equal(out, "/a/b/c");
	assert_int_equal(maplog__decode_path("true\0", 5, out, sizeof(out)), 5);
	assert_string_equal(out, "/true");
	/* Empty, not NUL-terminated, an empty name, a '/', ".", "..", no room. */
	assert_int_equal(maplog__decode_path("", 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("abc", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("a\0\0", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("\0", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("a/b\0", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("a\0.\0", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("a\0..\0", 5, out, sizeof(out)), -EINVAL);
	assert_int_equal(maplog__decode_path("c\0b\0a", 6, out, 6), -EINVAL);
}

static void test_bad_events(void **state)
{
	struct maplog *l = maplog__new();
	struct scorch_mmap_event m = mmap_ev(10, 0, 0x1000, 0x2000, 5, SCORCH_PROT_EXEC);
	struct scorch_path_event *p = malloc(sizeof(*p));
	struct maplog_stats st;
	uint32_t bogus = 77;
	size_t n;

	(void)state;
	assert_non_null(l);
	assert_non_null(p);
	assert_int_equal(maplog__add_event(l, &m, sizeof(m)), 0);
	assert_int_equal(maplog__add_event(l, &m, sizeof(m) - 1), -EINVAL);        /* short */
	assert_int_equal(maplog__add_event(l, &m, 4), -EINVAL);                     /* no header */
	memcpy(&m.h.type, &bogus, sizeof(bogus));
	assert_int_equal(maplog__add_event(l, &m, sizeof(m)), -EINVAL);             /* unknown type */
	m = mmap_ev(10, 0, 0x2000, 0x2000, 5, SCORCH_PROT_EXEC);
	assert_int_equal(maplog__add_event(l, &m, sizeof(m)), -EINVAL);             /* empty range */

	n = path_ev(p, 5, "x\0", 2);
	assert_int_equal(maplog__add_event(l, p, n), 0);
	assert_string_equal(maplog__path(l, 8, 1, 5), "/x");
	assert_int_equal(maplog__add_event(l, p, n - 1), -EINVAL);                  /* names cut by the record */
	p->path_len = SCORCH_PATH_MAX + 1;
	assert_int_equal(maplog__add_event(l, p, sizeof(*p)), -EINVAL);            /* longer than the field */
	p->path_len = 0xffffffffu;
	assert_int_equal(maplog__add_event(l, p, sizeof(*p)), -EINVAL);
	/* A full field with no NUL at its end. */
	memset(p->path, 'a', SCORCH_PATH_MAX);
	p->path_len = SCORCH_PATH_MAX;
	assert_int_equal(maplog__add_event(l, p, sizeof(*p)), -EINVAL);
	n = path_ev(p, 6, "..\0", 3);
	assert_int_equal(maplog__add_event(l, p, n), -EINVAL);
	assert_int_equal(maplog__add_event(l, p, 8), -EINVAL);                      /* header only */
	maplog__stats(l, &st);
	assert_int_equal(st.mmaps, 1);
	assert_int_equal(st.paths, 1);
	assert_int_equal(st.bad, 10);
	free(p);
	maplog__free(l);
}

static void test_build(void **state)
{
	struct maplog *l = maplog__new();
	struct procmaps m;
	struct scorch_path_event *p = malloc(sizeof(*p));
	size_t n;

	(void)state;
	assert_non_null(l);
	assert_non_null(p);
	n = path_ev(p, 5, "prog\0bin\0", 9);
	assert_int_equal(maplog__add_event(l, p, n), 0);
	n = path_ev(p, 6, "data\0", 5);
	assert_int_equal(maplog__add_event(l, p, n), 0);
	/* pid 10, exec 1: the program's text and its read-only segment, a data file, a file with no path. */
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0x5000, 0x6000, 0, 8, 1, 5, PROCMAPS_R), 0);
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0x6000, 0x8000, 0x1000, 8, 1, 5, PROCMAPS_R | PROCMAPS_X), 0);
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0x9000, 0xa000, 0, 8, 1, 6, PROCMAPS_R), 0);
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0xb000, 0xc000, 0, 8, 1, 7, PROCMAPS_R | PROCMAPS_X), 0);
	/* Exec 0 of the same pid, and another pid. */
	assert_int_equal(maplog__add_mmap(l, 10, 0, 0x1000, 0x2000, 0, 8, 1, 5, PROCMAPS_R | PROCMAPS_X), 0);
	assert_int_equal(maplog__add_mmap(l, 11, 1, 0x3000, 0x4000, 0, 8, 1, 5, PROCMAPS_R | PROCMAPS_X), 0);
	/* Sent again later (at exit after before exec, say), overlapping the text: the newest wins. */
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0x6000, 0x7000, 0x1000, 8, 1, 5, PROCMAPS_R | PROCMAPS_X), 0);

	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 10, 1, &m), 2);
	assert_int_equal(m.entries[0].start, 0x5000);
	assert_int_equal(m.entries[0].perms, PROCMAPS_R);
	assert_string_equal(m.entries[0].path, "/bin/prog");
	assert_int_equal(m.entries[1].start, 0x6000);
	assert_int_equal(m.entries[1].end, 0x7000);
	assert_int_equal(m.entries[1].offset, 0x1000);
	assert_int_equal(m.entries[1].inode, 5);
	assert_int_equal(m.entries[1].dev_major, 8);
	assert_int_equal(m.entries[1].dev_minor, 1);
	assert_ptr_equal(procmaps__find(&m, 0x6800), &m.entries[1]);
	procmaps__release(&m);
	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 10, 0, &m), 1);
	assert_int_equal(m.entries[0].start, 0x1000);
	procmaps__release(&m);
	/* The vDSO has no file and no path event: it is named as /proc/PID/maps names it. */
	m = (struct procmaps){ 0 };
	{
		struct scorch_mmap_event v = mmap_ev(11, 1, 0x7000, 0x8000, 0, SCORCH_PROT_READ | SCORCH_PROT_EXEC | SCORCH_PROT_VDSO);

		v.dev_major = v.dev_minor = 0;
		assert_int_equal(maplog__add_event(l, &v, sizeof(v)), 0);
	}
	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 11, 1, &m), 2);
	assert_string_equal(m.entries[0].path, "/bin/prog");
	assert_string_equal(m.entries[1].path, "[vdso]");
	assert_int_equal(m.entries[1].inode, 0);
	assert_int_equal(m.entries[1].perms, PROCMAPS_R | PROCMAPS_X);
	procmaps__release(&m);
	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 10, 2, &m), 0);
	assert_int_equal(maplog__build(l, 12, 0, &m), 0);
	procmaps__release(&m);
	free(p);
	maplog__free(l);
}

/* A newline in a path: the name /proc/PID/maps shows ("\012"), and the raw path to open. */
static void test_build_newline(void **state)
{
	struct maplog *l = maplog__new();
	struct procmaps m;
	struct scorch_path_event *p = malloc(sizeof(*p));
	size_t n;

	(void)state;
	assert_non_null(l);
	assert_non_null(p);
	n = path_ev(p, 5, "lib\nevil.so\0x\ny\0", 16);
	assert_int_equal(maplog__add_event(l, p, n), 0);
	assert_string_equal(maplog__path(l, 8, 1, 5), "/x\ny/lib\nevil.so");
	assert_int_equal(maplog__add_mmap(l, 10, 1, 0x5000, 0x6000, 0, 8, 1, 5, PROCMAPS_R | PROCMAPS_X), 0);
	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 10, 1, &m), 1);
	assert_string_equal(m.entries[0].path, "/x\\012y/lib\\012evil.so");
	procmaps__release(&m);
	maplog__free(l);
	free(p);
}

static void test_bounds(void **state)
{
	struct maplog *l = maplog__new();
	struct maplog_stats st;
	struct procmaps m;
	char *big;
	uint32_t i;

	(void)state;
	assert_non_null(l);
	assert_int_equal(maplog__add_path(l, 8, 1, 5, "/p", 2), 0);
	/* pid 1 first, then a flood from other pids: pid 1's entry is the one dropped. */
	assert_int_equal(maplog__add_mmap(l, 1, 0, 0x1000, 0x2000, 0, 8, 1, 5, PROCMAPS_X), 0);
	for (i = 0; i < MAPLOG_MAX_MAPS + 9; i++)
		assert_int_equal(maplog__add_mmap(l, 100 + i, 0, 0x1000, 0x2000, 0, 8, 1, 5, PROCMAPS_X), 0);
	maplog__stats(l, &st);
	assert_int_equal(st.maps_dropped, 10);
	procmaps__init(&m);
	assert_int_equal(maplog__build(l, 1, 0, &m), 0);
	assert_int_equal(maplog__build(l, 100 + MAPLOG_MAX_MAPS + 8, 0, &m), 1);
	procmaps__release(&m);

	/* Paths: by count, then by bytes. */
	for (i = 0; i < MAPLOG_MAX_PATHS; i++)
		assert_int_equal(maplog__add_path(l, 9, 1, 1000 + i, "/q", 2), 0);
	maplog__stats(l, &st);
	assert_int_equal(st.paths_dropped, 1);
	assert_null(maplog__path(l, 8, 1, 5));
	assert_string_equal(maplog__path(l, 9, 1, 1000), "/q");
	big = malloc(MAPLOG_MAX_PATH_BYTES / 2);
	assert_non_null(big);
	memset(big, 'b', MAPLOG_MAX_PATH_BYTES / 2);
	big[0] = '/';
	assert_int_equal(maplog__add_path(l, 9, 2, 1, big, MAPLOG_MAX_PATH_BYTES / 2 - 1), 0);
	assert_int_equal(maplog__add_path(l, 9, 2, 2, big, MAPLOG_MAX_PATH_BYTES / 2 - 1), 0);
	/* A third would pass the byte bound: the oldest go, down to the first big one. */
	assert_int_equal(maplog__add_path(l, 9, 2, 3, big, MAPLOG_MAX_PATH_BYTES / 2 - 1), 0);
	assert_null(maplog__path(l, 9, 2, 1));
	assert_non_null(maplog__path(l, 9, 2, 2));
	assert_non_null(maplog__path(l, 9, 2, 3));
	assert_null(maplog__path(l, 9, 1, 1000));
	assert_int_equal(maplog__add_path(l, 9, 2, 4, big, MAPLOG_MAX_PATH_BYTES / 2 + 1), -EINVAL);
	free(big);
	maplog__free(l);
}

static void test_open(void **state)
{
	char dir[] = "/tmp/scorch-maplog-XXXXXX", file[128], link[128], linkdir[128], via[160], fifo[128];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/f", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	snprintf(linkdir, sizeof(linkdir), "%s/d", dir);
	snprintf(via, sizeof(via), "%s/d/f", dir);
	snprintf(fifo, sizeof(fifo), "%s/p", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(symlink(dir, linkdir), 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);

	fd = safeopen__identified(file, major(st.st_dev), minor(st.st_dev), st.st_ino);
	assert_true(fd >= 0);
	close(fd);
	/* Another inode: a chrooted target's path naming some other file in our root. */
	assert_int_equal(safeopen__identified(file, major(st.st_dev), minor(st.st_dev), st.st_ino + 1), -ESTALE);
	assert_int_equal(safeopen__identified(file, major(st.st_dev) + 1, minor(st.st_dev), st.st_ino), -ESTALE);
	/* A symlink, last or on the way, is refused even when it leads to the right file. */
	assert_int_equal(safeopen__identified(link, major(st.st_dev), minor(st.st_dev), st.st_ino), -ELOOP);
	assert_int_equal(safeopen__identified(via, major(st.st_dev), minor(st.st_dev), st.st_ino), -ELOOP);
	/* Not a regular file (and a FIFO does not block), relative, missing. */
	assert_int_equal(stat(fifo, &st), 0);
	assert_int_equal(safeopen__identified(fifo, major(st.st_dev), minor(st.st_dev), st.st_ino), -EINVAL);
	assert_int_equal(safeopen__identified("tmp/x", 0, 0, 0), -EINVAL);
	assert_int_equal(safeopen__identified("/nonexistent/scorch", 0, 0, 0), -ENOENT);

	unlink(fifo);
	unlink(linkdir);
	unlink(link);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_path),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_newline),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
