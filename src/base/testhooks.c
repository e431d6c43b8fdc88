// SPDX-License-Identifier: MIT
/* The tests' hooks (testhooks.h): one table, read once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "testhooks.h"

enum kind { FLAG, NUM, STR };

static const struct {
	const char *name;
	enum kind kind;
} hooks[TESTHOOK__NR] = {
	[TESTHOOK_SANDBOX_LOCKDOWN_FAIL] = { "SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL", FLAG },
	[TESTHOOK_SANDBOX_STALL] = { "SCORCH_TEST_SANDBOX_STALL", STR },
	[TESTHOOK_SANDBOX_LOOKUP_CRASH] = { "SCORCH_TEST_SANDBOX_LOOKUP_CRASH", NUM },
	[TESTHOOK_SANDBOX_UNWIND_CRASH] = { "SCORCH_TEST_SANDBOX_UNWIND_CRASH", NUM },
	[TESTHOOK_SANDBOX_REQUESTS] = { "SCORCH_TEST_SANDBOX_REQUESTS", FLAG },
	[TESTHOOK_SANDBOX_UW_TABLE] = { "SCORCH_TEST_SANDBOX_UW_TABLE", STR },
	[TESTHOOK_UNWIND_CRASH_MARKER] = { "SCORCH_TEST_UNWIND_CRASH_MARKER", STR },
	[TESTHOOK_IMAGES_BUDGET] = { "SCORCH_TEST_IMAGES_BUDGET", NUM },
	[TESTHOOK_MAX_THREADS] = { "SCORCH_TEST_MAX_THREADS", NUM },
	[TESTHOOK_LAUNCH_SPIN_MS] = { "SCORCH_TEST_LAUNCH_SPIN_MS", NUM },
	[TESTHOOK_RELEASE_DELAY_MS] = { "SCORCH_TEST_RELEASE_DELAY_MS", NUM },
	[TESTHOOK_FINISH_UNREAD_MS] = { "SCORCH_TEST_FINISH_UNREAD_MS", NUM },
};

static int loaded;
static uint64_t nums[TESTHOOK__NR];
static int set[TESTHOOK__NR];
static const char *strs[TESTHOOK__NR]; /* borrowed from the environment */

/* A decimal number, all of it: 0, or -EINVAL. */
static int parse_num(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int testhooks__load(void)
{
	int err = 0, i;

	loaded = 1;
	for (i = 0; i < TESTHOOK__NR; i++) {
		const char *v = getenv(hooks[i].name);

		nums[i] = 0;
		strs[i] = NULL;
		set[i] = 0;
		if (!v)
			continue;
		if (hooks[i].kind == STR) {
			strs[i] = v[0] ? v : NULL;
			set[i] = strs[i] != NULL;
		} else if (hooks[i].kind == FLAG) {
			nums[i] = v[0] && strcmp(v, "0") != 0;
			set[i] = (int)nums[i];
		} else if (parse_num(v, &nums[i])) {
			pr_err("test hook %s: '%s' is not a decimal number", hooks[i].name, v);
			nums[i] = 0;
			err = -EINVAL;
		} else {
			set[i] = 1;
		}
	}
	return err;
}

int testhooks__set(enum testhook h)
{
	if (!loaded)
		testhooks__load();
	return (unsigned)h < TESTHOOK__NR ? set[h] : 0;
}

uint64_t testhooks__num(enum testhook h)
{
	if (!loaded)
		testhooks__load();
	return (unsigned)h < TESTHOOK__NR ? nums[h] : 0;
}

const char *testhooks__str(enum testhook h)
{
	if (!loaded)
		testhooks__load();
	return (unsigned)h < TESTHOOK__NR ? strs[h] : NULL;
}

const char *testhooks__name(enum testhook h)
{
	return (unsigned)h < TESTHOOK__NR ? hooks[h].name : "";
}
