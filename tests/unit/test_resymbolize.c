// SPDX-License-Identifier: MIT
/*
 * Unit tests for re-symbolization (src/capture/resymbolize.h): a profile recorded while the debuginfo of a
 * stripped binary was missing gets its function names, file:line and inline chains from --debug-dir,
 * or from a .gnu_debuglink file beside the binary, through the sandbox and in-process alike; a file
 * that makes the sandbox's child time out (a C++ name whose demangling takes seconds and gigabytes)
 * is skipped and its locations keep their names.
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
#include <time.h>
#include <unistd.h>

#include "profile.h"
#include "resymbolize.h"
#include "under_valgrind.h"

static char dir[64], src[4096], build_id[256], link_build_id[256], bomb_build_id[256];
static uint64_t work_lo, work_size, link_work, bomb_addr;

/* Read "%SCNx64" values or a string from DIR/name. */
static int read_file(const char *name, const char *fmt, void *a, void *b)
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = b ? fscanf(f, fmt, a, b) : fscanf(f, fmt, a);
	fclose(f);
	return n == (b ? 2 : 1) ? 0 : -1;
}

/* A C++ name that demangles to 2^27 nested template arguments: seconds of CPU, gigabytes of memory. */
static void bomb_name(char *out, size_t cap, int levels)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t at = (size_t)snprintf(out, cap, "_Z1f1AIiiE");
	int i;

	for (i = 1; i < levels && at + 32 < cap; i++) {
		char sub[8];

		if (i - 1 < 36)
			snprintf(sub, sizeof(sub), "%c", digits[i - 1]);
		else
			snprintf(sub, sizeof(sub), "%c%c", digits[(i - 1) / 36], digits[(i - 1) % 36]);
		at += (size_t)snprintf(out + at, cap - at, "S_IS%s_S%s_E", sub, sub);
	}
}

static int setup(void **state)
{
	const char *tests = getenv("TESTS");
	char cmd[8192], bomb[1024];

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
	/* Another build (-O1: another build id), stripped, with a .gnu_debuglink to linked.debug beside it. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && gcc -O1 -g -Wl,--build-id -o linked %s && nm linked | awk '$3 == \"work\" { print $1 }' > lwork && "
		 "readelf -n linked | awk '/Build ID/ { print $3 }' > lbid && objcopy --only-keep-debug linked linked.debug && "
		 "strip --strip-all linked && objcopy --add-gnu-debuglink=linked.debug linked",
		 dir, src);
	if (system(cmd))
		return -1;
	bomb_name(bomb, sizeof(bomb), 28);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'void b(void) __asm__(\"%s\");\\nvoid b(void) {}\\nint main(void) { b(); return 0; }\\n' > bomb.c && "
		 "gcc -O0 -Wl,--build-id -o bomb bomb.c && nm bomb | awk '$3 ~ /^_Z1f/ { print $1 }' > baddr && "
		 "readelf -n bomb | awk '/Build ID/ { print $3 }' > bbid",
		 dir, bomb);
	if (system(cmd))
		return -1;
	if (read_file("work", "%" SCNx64 " %" SCNx64, &work_lo, &work_size) ||
	    read_file("bid", "%255s", build_id, NULL) || read_file("lwork", "%" SCNx64, &link_work, NULL) ||
	    read_file("lbid", "%255s", link_build_id, NULL) || read_file("baddr", "%" SCNx64, &bomb_addr, NULL) ||
	    read_file("bbid", "%255s", bomb_build_id, NULL))
		return -1;
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

/* A profile of one location at 'addr' in DIR/name, named 'recorded'. */
static uint32_t one_location(struct profile *p, const char *name, const char *bid, uint64_t addr)
{
	struct profile_frame f = { 0 };
	char path[128];
	uint32_t m, l;

	profile__init(p);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	m = profile__intern_mapping(p, profile__intern_cstr(p, path), profile__intern_cstr(p, bid), PROFILE_MAP_FILE);
	assert_int_not_equal(m, PROFILE_NONE);
	f.function = profile__intern_cstr(p, "recorded");
	l = profile__add_location(p, m, addr, 0, &f, 1);
	assert_int_not_equal(l, PROFILE_NONE);
	return l;
}

static const char *outer_name(const struct profile *p, uint32_t l)
{
	const struct profile_location *loc = &p->locations[l];

	assert_true(loc->nr_frames >= 1);
	return profile__str(p, p->frames[loc->frame + loc->nr_frames - 1].function);
}

static void check_resymbolize(int no_sandbox)
{
	char dbg[128];
	const char *dirs[] = { dbg };
	struct resymbolize_opts none = { .no_sandbox = no_sandbox }, with = { dirs, 1, no_sandbox };
	struct profile p;
	uint32_t first, i;
	int n, chains = 0;

	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	make_profile(&p, build_id, &first);
	/* Without the directory: nothing to be found (the binary is stripped). */
	n = resymbolize__profile(&p, &none);
	assert_true(n >= 0);
	for (i = first; i < first + work_size; i++)
		assert_true(p.locations[i].nr_frames == 0 ||
			    strcmp(profile__str(&p, p.frames[p.locations[i].frame].function), "work") != 0);
	n = resymbolize__profile(&p, &with);
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

static void test_resymbolize(void **state)
{
	(void)state;
	skip_under_valgrind();
	check_resymbolize(0);
}

static void test_resymbolize_in_process(void **state)
{
	(void)state;
	check_resymbolize(1);
}

/* The debug file named by .gnu_debuglink beside the binary: the sandbox's broker lets the child have it. */
static void test_debuglink(void **state)
{
	struct profile p;
	uint32_t l;

	(void)state;
	/* Under valgrind in-process only (under_valgrind.h). */
	for (int no_sandbox = under_valgrind(); no_sandbox <= 1; no_sandbox++) {
		struct resymbolize_opts o = { .no_sandbox = no_sandbox };

		l = one_location(&p, "linked", link_build_id, link_work);
		assert_int_equal(resymbolize__profile(&p, &o), 1);
		assert_string_equal(outer_name(&p, l), "work");
		profile__release(&p);
	}
}

/* A file that keeps the sandbox's child busy past its timeout: skipped, the recorded name stays. */
static void test_child_timeout(void **state)
{
	struct resymbolize_opts o = { 0 };
	struct timespec t0, t1;
	struct profile p;
	uint32_t l;

	(void)state;
	l = one_location(&p, "bomb", bomb_build_id, bomb_addr);
	setenv("SCORCH_SANDBOX_TIMEOUT_MS", "300", 1);
	/* The child hangs on this file (the test hook stands in for a parser stuck on hostile bytes). */
	setenv("SCORCH_TEST_SANDBOX_STALL", "/bomb", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(resymbolize__profile(&p, &o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("SCORCH_SANDBOX_TIMEOUT_MS");
	unsetenv("SCORCH_TEST_SANDBOX_STALL");
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_string_equal(outer_name(&p, l), "recorded");
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
	for (int no_sandbox = 0; no_sandbox <= 1; no_sandbox++) {
		struct resymbolize_opts o = { dirs, 1, no_sandbox };

		assert_int_equal(resymbolize__profile(&p, &o), 0);
	}
	profile__release(&p);
}

/*
 * Locations of two files interleaved, more than a batch (SANDBOX_LOOKUP_BATCH) of each: the sandbox's
 * batched lookups give the in-process answers, down to the string ids (names interned in the same
 * order).
 */
#define INTERLEAVED 1500

static void interleaved_profile(struct profile *p)
{
	char app[128], linked[128];
	uint32_t ma, ml;

	profile__init(p);
	snprintf(app, sizeof(app), "%s/app", dir);
	snprintf(linked, sizeof(linked), "%s/linked", dir);
	ma = profile__intern_mapping(p, profile__intern_cstr(p, app), profile__intern_cstr(p, build_id),
				     PROFILE_MAP_FILE);
	ml = profile__intern_mapping(p, profile__intern_cstr(p, linked), profile__intern_cstr(p, link_build_id),
				     PROFILE_MAP_FILE);
	for (uint32_t a = 0; a < INTERLEAVED; a++) {
		assert_int_not_equal(profile__add_location(p, ma, work_lo - INTERLEAVED / 2 + a, 0, NULL, 0),
				     PROFILE_NONE);
		assert_int_not_equal(profile__add_location(p, ml, link_work - INTERLEAVED / 2 + a, 0, NULL, 0),
				     PROFILE_NONE);
	}
}

static void test_interleaved_batches(void **state)
{
	char dbg[128];
	const char *dirs[] = { dbg };
	struct profile p[2];
	int n[2], named = 0;

	(void)state;
	skip_under_valgrind();
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	for (int no_sandbox = 0; no_sandbox <= 1; no_sandbox++) {
		struct resymbolize_opts o = { dirs, 1, no_sandbox };

		interleaved_profile(&p[no_sandbox]);
		n[no_sandbox] = resymbolize__profile(&p[no_sandbox], &o);
	}
	assert_true(n[0] > 0);
	assert_int_equal(n[0], n[1]);
	assert_int_equal(p[0].nr_locations, p[1].nr_locations);
	for (uint32_t i = 0; i < p[0].nr_locations; i++) {
		const struct profile_location *a = &p[0].locations[i], *b = &p[1].locations[i];

		if (a->nr_frames != b->nr_frames)
			fail_msg("location %u: %u frames, %u in-process", i, a->nr_frames, b->nr_frames);
		for (uint32_t k = 0; k < a->nr_frames; k++) {
			const struct profile_frame *fa = &p[0].frames[a->frame + k], *fb = &p[1].frames[b->frame + k];

			if (fa->function != fb->function || fa->file != fb->file || fa->line != fb->line ||
			    fa->flags != fb->flags)
				fail_msg("location %u: frame %u differs", i, k);
		}
		named += a->nr_frames && !strcmp(outer_name(&p[0], i), "work");
	}
	/* work() of both files: named through the build-id directory and through the debuglink. */
	assert_true(named >= 2);
	profile__release(&p[0]);
	profile__release(&p[1]);
}


/*
 * JIT code recorded unnamed under its JIT mapping "/tmp/perf-PID.map" is named from that file when it
 * exists now (a map written after the recording), if it belongs to us or root; named locations stay.
 */
static void test_perfmap(void **state)
{
	struct resymbolize_opts o = { 0 };
	struct profile_frame f = { 0 };
	struct profile p;
	char path[64];
	uint32_t m, unnamed, named, missed;
	FILE *fp;

	(void)state;
	/* A pid no process has (above pid_max), so no real map is in the way. */
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", 4000000000u - (unsigned)getpid());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("5000 100 Resym::jitted\n6000 100 Resym::other\n", fp);
	fclose(fp);
	profile__init(&p);
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, path), 0, PROFILE_MAP_JIT);
	unnamed = profile__add_location(&p, m, 0x5010, 0, NULL, 0);
	f.function = profile__intern_cstr(&p, "Recorded::name");
	named = profile__add_location(&p, m, 0x6010, 0, &f, 1);
	missed = profile__add_location(&p, m, 0x9000, 0, NULL, 0);
	assert_int_not_equal(missed, PROFILE_NONE);
	o.no_sandbox = 1;
	assert_int_equal(resymbolize__profile(&p, &o), 1);
	assert_int_equal(p.locations[unnamed].nr_frames, 1);
	assert_string_equal(profile__str(&p, p.frames[p.locations[unnamed].frame].function), "Resym::jitted");
	assert_string_equal(profile__str(&p, p.frames[p.locations[named].frame].function), "Recorded::name");
	assert_int_equal(p.locations[missed].nr_frames, 0);
	profile__release(&p);
	/* Owned by another user (not root): not read. */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		profile__init(&p);
		m = profile__intern_mapping(&p, profile__intern_cstr(&p, path), 0, PROFILE_MAP_JIT);
		unnamed = profile__add_location(&p, m, 0x5010, 0, NULL, 0);
		assert_int_equal(resymbolize__profile(&p, &o), 0);
		assert_int_equal(p.locations[unnamed].nr_frames, 0);
		profile__release(&p);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resymbolize),
		cmocka_unit_test(test_resymbolize_in_process),
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_child_timeout),
		cmocka_unit_test(test_wrong_build_id),
		cmocka_unit_test(test_interleaved_batches),
		cmocka_unit_test(test_perfmap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
