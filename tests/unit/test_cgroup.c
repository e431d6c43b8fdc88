// SPDX-License-Identifier: MIT
/*
 * Unit tests for naming a cgroup (src/target/cgroup.h): a directory that is not on a cgroup v2 file
 * system and a path that does not exist are refused with -EINVAL; the cgroup v2 root, where one is
 * mounted, resolves to itself at depth 0 with its inode as id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

static void test_not_a_cgroup(void **state)
{
	char resolved[PATH_MAX], dir[] = "/tmp/scorch-cg-XXXXXX";
	uint64_t id = 7;
	uint32_t level = 7;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cgroup__resolve(dir, resolved, &id, &level), -EINVAL);
	assert_int_equal(id, 7);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(cgroup__resolve("/nonexistent/scorch/cgroup", resolved, &id, &level), -EINVAL);
}

static void test_root(void **state)
{
	char resolved[PATH_MAX], mnt[PATH_MAX] = "", real[PATH_MAX];
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	struct stat st;
	uint64_t id = 0;
	uint32_t level = 9;

	(void)state;
	assert_non_null(f);
	while ((m = getmntent(f)))
		if (strcmp(m->mnt_type, "cgroup2") == 0) {
			snprintf(mnt, sizeof(mnt), "%s", m->mnt_dir);
			break;
		}
	endmntent(f);
	if (!mnt[0])
		skip(); /* no cgroup v2 here */
	assert_int_equal(cgroup__resolve(mnt, resolved, &id, &level), 0);
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(id, (uint64_t)st.st_ino);
	assert_int_equal(level, 0);
	assert_non_null(realpath(mnt, real));
	assert_string_equal(resolved, real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_a_cgroup),
		cmocka_unit_test(test_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
