// SPDX-License-Identifier: MIT
/*
 * Unit tests for re-symbolization (src/resymbolize.h): a profile recorded while the debuginfo of a
 * stripped binary was missing gets its function names, file:line and inline chains from --debug-dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "resymbolize.h"

static char dir[64], src[4096], build_id[256];
static uint64_t work_lo, work_size;

static int setup(void **state)
{
	const char *tests = getenv("TESTS");
	char cmd[8192];
	FILE *f;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/fixtures/symfix.c", tests ? tests : "tests");
	if (!realpath(cmd, src))
		return -1;
	strcpy(dir, "/tmp/scorch-resym.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "cd %s && gcc -O2 -g -Wl,--build-id -o app %s && nm -S app | awk '$4 == \"work\" { print $1, $2 }' > work && "
		 "readelf -n app | awk '/Build ID/ { print $3 }' > bid && id=$(cat bid) && "
		 "mkdir -p dbg/.build-id/${id%%${id#??}} && objcopy --only-keep-debug app dbg/.build-id/${id%%${id#??}}/${id#??}.debug && "
		 "strip --strip-all app",
		 dir, src);
	if (system(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/work", dir);
	f = fopen(cmd, "r");
	if (!f || fscanf(f, "%" SCNx64 " %" SCNx64, &work_lo, &work_size) != 2)
		return -1;
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/bid", dir);
	f = fopen(cmd, "r");
	if (!f || fscanf(f, "%255s", build_id) != 1)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/* A profile like one recorded without debuginfo: locations in work() with no frames. */
static void make_profile(struct profile *p, const char *bid, uint32_t *first)
{
	char path[128];
	uint32_t m, a;

	profile__init(p);
	snprintf(path, sizeof(path), "%s/app", dir);
	m = profile__intern_mapping(p, profile__intern_cstr(p, path), profile__intern_cstr(p, bid), PROFILE_MAP_FILE);
	assert_int_not_equal(m, PROFILE_NONE);
	*first = p->nr_locations;
	for (a = 0; a < work_size; a++)
		assert_int_not_equal(profile__add_location(p, m, work_lo + a, 0, NULL, 0), PROFILE_NONE);
	/* A file-offset location and a kernel one are not touched. */
	assert_int_not_equal(profile__add_location(p, m, 1, PROFILE_LOC_FILE_OFFSET, NULL, 0), PROFILE_NONE);
}

static void test_resymbolize(void **state)
{
	char dbg[128];
	const char *dirs[] = { dbg };
	struct profile p;
	uint32_t first, i;
	int n, chains = 0;

	(void)state;
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	make_profile(&p, build_id, &first);
	/* Without the directory: nothing to be found (the binary is stripped). */
	n = resymbolize__profile(&p, NULL, 0);
	assert_true(n >= 0);
	for (i = first; i < first + work_size; i++)
		assert_true(p.locations[i].nr_frames == 0 ||
			    strcmp(profile__str(&p, p.frames[p.locations[i].frame].function), "work") != 0);
	n = resymbolize__profile(&p, dirs, 1);
	assert_int_equal(n, (int)work_size);
	for (i = first; i < first + work_size; i++) {
		const struct profile_location *l = &p.locations[i];
		const struct profile_frame *f = &p.frames[l->frame];

		assert_true(l->nr_frames >= 1);
		assert_string_equal(profile__str(&p, f[l->nr_frames - 1].function), "work");
		assert_non_null(strstr(profile__str(&p, f[l->nr_frames - 1].file), "symfix.c"));
		if (l->nr_frames == 3 && !strcmp(profile__str(&p, f[0].function), "square") &&
		    (f[0].flags & PROFILE_FRAME_INLINE) && (f[1].flags & PROFILE_FRAME_INLINE))
			chains++;
	}
	assert_true(chains > 0);
	assert_int_equal(p.locations[first + work_size].nr_frames, 0);
	profile__release(&p);
}

static void test_wrong_build_id(void **state)
{
	char dbg[128];
	const char *dirs[] = { dbg };
	struct profile p;
	uint32_t first;

	(void)state;
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	/* The file at the recorded path is another build: it must not be used. */
	make_profile(&p, "00112233445566778899aabbccddeeff00112233", &first);
	assert_int_equal(resymbolize__profile(&p, dirs, 1), 0);
	profile__release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resymbolize),
		cmocka_unit_test(test_wrong_build_id),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
