// SPDX-License-Identifier: MIT
/*
 * Unit tests for the unwind tables built by the sandbox (sandbox__uw_table, src/sandbox/sandbox.h):
 * the messages' codec, the parent's check of the child's memfd, the same table sandboxed and
 * in-process (this test binary, libc and the vDSO), and children that answer wrong (the test hook
 * SCORCH_TEST_SANDBOX_UW_TABLE), hang or die.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safeopen.h"
#include "sandbox.h"
#include "sandbox_proxy.h"
#include "sbproto.h"
#include "under_valgrind.h"
#include "uwtable.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"

/* --- the messages ------------------------------------------------------------------------------- */

static void test_uw_table_codec(void **state)
{
	struct sbp_uw_table rq = { 7, 1000 }, rq2;
	struct sbp_uw_tabled d = { 0, 3, 0x401000, { 2, 1, 5, 1, 1, 1, 1, 1 } }, d2;
	uint8_t buf[64];
	size_t len;
	int32_t v;

	(void)state;
	len = sbproto__encode_uw_table(buf, sizeof(buf), &rq);
	assert_int_equal(len, 8);
	assert_int_equal(sbproto__decode_uw_table(buf, len, &rq2), 0);
	assert_int_equal(rq2.handle, 7);
	assert_int_equal(rq2.max_rows, 1000);
	assert_int_equal(sbproto__decode_uw_table(buf, len - 1, &rq2), -EPROTO);
	/* No rows, or more than any table may have, is no request. */
	rq.max_rows = 0;
	assert_int_equal(sbproto__decode_uw_table(buf, sbproto__encode_uw_table(buf, sizeof(buf), &rq), &rq2),
			 -EPROTO);
	rq.max_rows = UWTABLE_MAX_ROWS + 1;
	assert_int_equal(sbproto__decode_uw_table(buf, sbproto__encode_uw_table(buf, sizeof(buf), &rq), &rq2),
			 -EPROTO);

	len = sbproto__encode_uw_tabled(buf, sizeof(buf), &d);
	assert_int_equal(len, 48);
	assert_int_equal(sbproto__encode_uw_tabled(buf, 47, &d), 0);
	assert_int_equal(sbproto__decode_uw_tabled(buf, len, &d2), 0);
	assert_memory_equal(&d, &d2, sizeof(d));
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(sbproto__decode_uw_tabled(buf, cut, &d2), -EPROTO);
	assert_int_equal(sbproto__decode_uw_tabled(buf, len + 1, &d2), -EPROTO);
	/* A table of no rows, or of too many. */
	d.nr = 0;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 -EPROTO);
	d.nr = UWTABLE_MAX_ROWS + 1;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 -EPROTO);
	d.nr = UWTABLE_MAX_ROWS;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 0);
	/* A failure carries nothing else, and is an errno. */
	memset(&d, 0, sizeof(d));
	d.status = -ENOEXEC;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 0);
	assert_int_equal(d2.status, -ENOEXEC);
	d.nr = 1;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 -EPROTO);
	d.nr = 0;
	d.base = 1;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 -EPROTO);
	d.base = 0;
	d.st.too_large = 1;
	assert_int_equal(sbproto__decode_uw_tabled(buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
			 -EPROTO);
	d.st.too_large = 0;
	for (v = -5000; v <= 5; v += 1) {
		if (v == -4096 || v == -4095 || v == -1 || v == 0 || v == 1 || v == -5000) {
			d.status = v;
			d.nr = v == 0 ? 1 : 0;
			assert_int_equal(sbproto__decode_uw_tabled(
						 buf, sbproto__encode_uw_tabled(buf, sizeof(buf), &d), &d2),
					 v >= -4095 && v <= 0 ? 0 : -EPROTO);
		}
	}
}

/* --- the parent's check of the memfd ------------------------------------------------------------ */

static const struct scorch_uw_row good[3] = {
	{ 0x10, 8, 0, SCORCH_UW_CFA_RSP },
	{ 0x14, 16, -2, SCORCH_UW_CFA_RBP },
	{ 0x40, 0, 0, SCORCH_UW_UNKNOWN },
};

/* A memfd holding 'size' bytes of 'rows', with 'seals'. */
static int rows_memfd(const void *rows, size_t size, unsigned int seals)
{
	int fd = memfd_create("test-uwtable", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, rows, size, 0), (ssize_t)size);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static void test_uw_table_rows(void **state)
{
	struct scorch_uw_row bad[3], four[4];
	struct uwtable t;
	char path[] = "/tmp/test-uwtable-XXXXXX";
	int fd, p[2];

	(void)state;
	fd = rows_memfd(good, sizeof(good), SBPROTO_UW_TABLE_SEALS | F_SEAL_SEAL);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), 0);
	assert_int_equal(t.nr, 3);
	assert_memory_equal(t.rows, good, sizeof(good));
	uwtable__release(&t);
	/* The count must be the memfd's size exactly, either way. */
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 2, &t), -EPROTO);
	assert_null(t.rows);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 4, &t), -EPROTO);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 0, &t), -EPROTO);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, UWTABLE_MAX_ROWS + 1, &t), -EPROTO);
	close(fd);
	/* Each seal missing. */
	fd = rows_memfd(good, sizeof(good), 0);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	fd = rows_memfd(good, sizeof(good), F_SEAL_SHRINK | F_SEAL_GROW);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	fd = rows_memfd(good, sizeof(good), F_SEAL_WRITE | F_SEAL_GROW);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	fd = rows_memfd(good, sizeof(good), F_SEAL_WRITE | F_SEAL_SHRINK);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	/* A sealed memfd longer than the rows, with a trailing partial row. */
	memcpy(four, good, sizeof(good));
	memset(&four[3], 0, sizeof(four[3]));
	fd = rows_memfd(four, sizeof(four) - 4, SBPROTO_UW_TABLE_SEALS);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	/* Rows that fail uwtable__validate: pcs not increasing, the last not UNKNOWN, a CFA below SP. */
	memcpy(bad, good, sizeof(good));
	bad[1].pc = bad[0].pc;
	fd = rows_memfd(bad, sizeof(bad), SBPROTO_UW_TABLE_SEALS);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	assert_null(t.rows);
	close(fd);
	memcpy(bad, good, sizeof(good));
	bad[2].kind = SCORCH_UW_CFA_RSP;
	bad[2].cfa_off = 8;
	fd = rows_memfd(bad, sizeof(bad), SBPROTO_UW_TABLE_SEALS);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	memcpy(bad, good, sizeof(good));
	bad[0].cfa_off = 0;
	fd = rows_memfd(bad, sizeof(bad), SBPROTO_UW_TABLE_SEALS);
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	/* Not a memfd: a pipe, a file, no descriptor. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], good, sizeof(good)), (ssize_t)sizeof(good));
	assert_int_equal(sandbox_proxy_uw_table_rows(p[0], 3, &t), -EPROTO);
	close(p[0]);
	close(p[1]);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, good, sizeof(good)), (ssize_t)sizeof(good));
	assert_int_equal(sandbox_proxy_uw_table_rows(fd, 3, &t), -EPROTO);
	close(fd);
	assert_int_equal(sandbox_proxy_uw_table_rows(-1, 3, &t), -EPROTO);
}

/* --- tables through the sandbox ----------------------------------------------------------------- */

static void same_table(const struct uwtable *a, const struct uwtable *b)
{
	assert_int_equal(a->nr, b->nr);
	assert_int_equal(a->base, b->base);
	assert_memory_equal(&a->st, &b->st, sizeof(a->st));
	assert_memory_equal(a->rows, b->rows, a->nr * sizeof(*a->rows));
}

/* The table of 'path' sandboxed and in-process equals the builder's own, and validates. */
static void table_both_ways(const char *path)
{
	struct uwtable direct, t[2], scratch;
	struct sandbox_stats st;
	int fd = safeopen__file(path), enabled;

	assert_true(fd >= 0);
	assert_int_equal(uwtable__build_fd(fd, UWTABLE_MAX_ROWS, &direct), 0);
	assert_int_equal(uwtable__validate(direct.rows, direct.nr), 0);
	for (enabled = 0; enabled <= 1; enabled++) {
		struct sandbox *sb = sandbox__new(NULL, enabled);
		struct sandbox_elf *e;

		assert_non_null(sb);
		e = sandbox__open_fd(sb, fd, path, NULL);
		assert_non_null(e);
		assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t[enabled]), 0);
		assert_int_equal(uwtable__validate(t[enabled].rows, t[enabled].nr), 0);
		same_table(&direct, &t[enabled]);
		/* Asked again, the same (over the limit is capped to it). */
		{
			struct uwtable again;

			assert_int_equal(sandbox__uw_table(sb, e, UINT32_MAX, &again), 0);
			same_table(&t[enabled], &again);
			uwtable__release(&again);
		}
		/* Fewer rows allowed than the table has: the builder's -E2BIG, nothing marked bad. */
		assert_int_equal(sandbox__uw_table(sb, e, (uint32_t)direct.nr - 1, &t[enabled]), -E2BIG);
		assert_null(t[enabled].rows);
		assert_int_equal(t[enabled].nr, 0);
		assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t[enabled]), 0);
		/* Arguments checked. */
		assert_int_equal(sandbox__uw_table(sb, e, 0, &scratch), -EINVAL);
		assert_int_equal(sandbox__uw_table(sb, NULL, 10, &scratch), -EINVAL);
		assert_int_equal(sandbox__uw_table(sb, e, 10, NULL), -EINVAL);
		assert_null(scratch.rows);
		sandbox__stats(sb, &st);
		assert_int_equal(st.restarts, 0);
		assert_int_equal(st.bad_files, 0);
		sandbox__free(sb);
	}
	same_table(&t[0], &t[1]);
	uwtable__release(&t[0]);
	uwtable__release(&t[1]);
	uwtable__release(&direct);
	close(fd);
}

static void test_uw_table(void **state)
{
	(void)state;
	skip_under_valgrind();
	table_both_ways("/proc/self/exe");
	if (access(LIBC, R_OK) == 0)
		table_both_ways(LIBC);
}

/* The builder's table of this process's own vDSO image (AT_SYSINFO_EHDR), which every process shares. */
static void own_vdso_table(struct uwtable *t)
{
	const uint8_t *img = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	assert_non_null(img);
	assert_memory_equal(img, ELFMAG, SELFMAG);
	/* The image ends with its section headers (the vDSO's are last), within its mapping. */
	assert_int_equal(
		uwtable__build(img, eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize, UWTABLE_MAX_ROWS, t),
		0);
}

/*
 * The vDSO has no file: its table comes from the copy of the image that the child (or, in-process, the
 * unwinding service) holds. Sandboxed and in-process, it is the builder's table of our own vDSO, has
 * rows the kernel can follow (the vDSO's functions have CFI), validates, comes again after the child
 * was replaced, and maps through the vDSO's segments as a file's does.
 */
static void test_uw_table_vdso(void **state)
{
	struct uwtable direct, t[2], again;
	struct sandbox_stats st;
	int enabled;

	(void)state;
	skip_under_valgrind();
	own_vdso_table(&direct);
	assert_int_equal(uwtable__validate(direct.rows, direct.nr), 0);
	assert_true(direct.nr >= 2);
	assert_true(direct.st.fdes >= 1);
	print_message("  the vDSO: %zu rows, %u FDEs, %u unknown\n", direct.nr, direct.st.fdes,
		      direct.st.unknown);
	for (enabled = 0; enabled <= 1; enabled++) {
		struct sandbox *sb = sandbox__new(NULL, enabled);
		struct sandbox_elf *v;
		uint64_t vaddr;
		size_t i, known = 0;

		assert_non_null(sb);
		v = sandbox__vdso(sb);
		assert_non_null(v);
		assert_int_equal(sandbox__offset_to_vaddr(v, 0, &vaddr), 0);
		assert_int_equal(sandbox__uw_table(sb, v, UWTABLE_MAX_ROWS, &t[enabled]), 0);
		assert_int_equal(uwtable__validate(t[enabled].rows, t[enabled].nr), 0);
		same_table(&direct, &t[enabled]);
		for (i = 0; i < t[enabled].nr; i++)
			known += t[enabled].rows[i].kind != SCORCH_UW_UNKNOWN;
		assert_true(known >= 1);
		/* Fewer rows allowed than it has: the builder's -E2BIG, the vDSO not marked bad. */
		assert_int_equal(sandbox__uw_table(sb, v, (uint32_t)direct.nr - 1, &again), -E2BIG);
		assert_null(again.rows);
		if (enabled) {
			/* A new child is asked for the vDSO again, and builds the same table. */
			assert_true(sandbox__test(sb, NULL, SANDBOX_TEST_CRASH, "") < 0);
			assert_int_equal(sandbox__uw_table(sb, v, UWTABLE_MAX_ROWS, &again), 0);
			same_table(&direct, &again);
			uwtable__release(&again);
		}
		sandbox__stats(sb, &st);
		assert_int_equal(st.restarts, (uint64_t)enabled);
		assert_int_equal(st.bad_files, 0);
		sandbox__free(sb);
	}
	same_table(&t[0], &t[1]);
	uwtable__release(&t[0]);
	uwtable__release(&t[1]);
	uwtable__release(&direct);
}

/* A file that is no ELF file is refused at the open, so the builder's errors come from a truncated one. */
static void test_uw_table_builder_error(void **state)
{
	char path[] = "/tmp/test-uwtable-XXXXXX";
	struct uwtable t;
	int fd, enabled;

	(void)state;
	skip_under_valgrind();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF\002\001\001", 7), 7); /* the magic, then nothing */
	for (enabled = 0; enabled <= 1; enabled++) {
		struct sandbox *sb = sandbox__new(NULL, enabled);
		struct sandbox_elf *e;
		struct sandbox_stats st;

		assert_non_null(sb);
		e = sandbox__open_fd(sb, fd, path, NULL);
		if (e) { /* the symbolizer may refuse it already */
			int err = sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t);

			assert_true(err < 0 && err != -EPROTO);
			assert_null(t.rows);
			sandbox__stats(sb, &st);
			assert_int_equal(st.bad_files, 0);
		}
		sandbox__free(sb);
	}
	close(fd);
	unlink(path);
}

/*
 * A child that answers wrong, one way each (the test hook): the answer is refused with -EPROTO, the
 * child killed and counted, the file marked bad (then -EIO); the next child serves other files.
 */
static void test_uw_table_bad_child(void **state)
{
	static const char *const how[] = { "size", "unsealed", "rows", "nofd", "count" };
	struct uwtable direct, t;
	int fd, fd2;
	size_t i;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	fd2 = safeopen__file(LIBC);
	assert_int_equal(uwtable__build_fd(fd, UWTABLE_MAX_ROWS, &direct), 0);
	assert_true(direct.nr >= 2);
	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		struct sandbox *sb;
		struct sandbox_elf *e, *e2 = NULL;
		struct sandbox_stats st;
		uint32_t max = strcmp(how[i], "count") == 0 ? (uint32_t)direct.nr - 1 : UWTABLE_MAX_ROWS;

		setenv("SCORCH_TEST_SANDBOX_UW_TABLE", how[i], 1);
		sb = sandbox__new(NULL, 1);
		assert_non_null(sb);
		e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
		assert_non_null(e);
		if (fd2 >= 0)
			e2 = sandbox__open_fd(sb, fd2, LIBC, NULL);
		unsetenv("SCORCH_TEST_SANDBOX_UW_TABLE"); /* the children after this one answer right */
		print_message("  a child answering with '%s'\n", how[i]);
		assert_int_equal(sandbox__uw_table(sb, e, max, &t), -EPROTO);
		assert_null(t.rows);
		sandbox__stats(sb, &st);
		assert_int_equal(st.restarts, 1);
		assert_int_equal(st.bad_files, 1);
		assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t), -EIO);
		if (e2) {
			assert_int_equal(sandbox__uw_table(sb, e2, UWTABLE_MAX_ROWS, &t), 0);
			assert_int_equal(uwtable__validate(t.rows, t.nr), 0);
			uwtable__release(&t);
		}
		sandbox__free(sb);
	}
	uwtable__release(&direct);
	if (fd2 >= 0)
		close(fd2);
	close(fd);
}

/* A child that hangs on the file times out; one that died before is replaced and given the file again. */
static void test_uw_table_timeout_restart(void **state)
{
	struct sandbox *sb;
	struct sandbox_elf *e;
	struct sandbox_stats st;
	struct uwtable t;
	int fd;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);

	sb = sandbox__new(NULL, 1);
	assert_non_null(sb);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	assert_non_null(e);
	assert_true(sandbox__test(sb, NULL, SANDBOX_TEST_CRASH, "") < 0);
	assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(uwtable__validate(t.rows, t.nr), 0);
	uwtable__release(&t);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.bad_files, 0);
	sandbox__free(sb);

	setenv("SCORCH_SANDBOX_TIMEOUT_MS", "300", 1);
	setenv("SCORCH_TEST_SANDBOX_STALL", "self/exe", 1);
	sb = sandbox__new(NULL, 1);
	unsetenv("SCORCH_SANDBOX_TIMEOUT_MS");
	assert_non_null(sb);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	unsetenv("SCORCH_TEST_SANDBOX_STALL");
	assert_non_null(e);
	assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t), -ETIMEDOUT);
	assert_null(t.rows);
	sandbox__stats(sb, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.bad_files, 1);
	assert_int_equal(sandbox__uw_table(sb, e, UWTABLE_MAX_ROWS, &t), -EIO);
	sandbox__free(sb);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uw_table_codec),
		cmocka_unit_test(test_uw_table_rows),
		cmocka_unit_test(test_uw_table),
		cmocka_unit_test(test_uw_table_vdso),
		cmocka_unit_test(test_uw_table_builder_error),
		cmocka_unit_test(test_uw_table_bad_child),
		cmocka_unit_test(test_uw_table_timeout_restart),
	};

	/* The children honour test requests (sandbox__test) only with this hook (testhooks.h). */
	setenv("SCORCH_TEST_SANDBOX_REQUESTS", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
