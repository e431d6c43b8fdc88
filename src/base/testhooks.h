/* SPDX-License-Identifier: MIT */
/*
 * testhooks - the environment variables that only the tests set, in one place (as git's GIT_TEST_*).
 *
 * No hook changes what a user sees unless set; a release build honours them all the same, since the
 * end-to-end tests run it. Each is read and checked once (testhooks__load): a malformed value is an
 * error, never a silent 0. Then testhooks__num() and testhooks__str() answer from that snapshot.
 *
 *   SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL   flag   the sandbox's child reports that it cannot lock itself
 *                                              down (sandbox_child.c)
 *   SCORCH_TEST_SANDBOX_STALL           string lookups in a file whose name holds this string hang in
 *                                              the child, as a parser might on hostile bytes
 *   SCORCH_TEST_SANDBOX_LOOKUP_CRASH    N      the child aborts at its Nth lookup
 *   SCORCH_TEST_SANDBOX_UNWIND_CRASH    N      the child aborts at its Nth unwinding batch
 *   SCORCH_TEST_SANDBOX_REQUESTS        flag   the child honours the test requests (sandbox__test:
 *                                              open, crash, sleep, broker); without it, it ends on one
 *   SCORCH_TEST_SANDBOX_UW_TABLE        string the child answers unwind tables (SBP_UW_TABLE) wrong:
 *                                              "size" (a memfd one row too long), "unsealed", "rows"
 *                                              (rows that fail uwtable__validate), "nofd" (no memfd),
 *                                              "count" (max_rows ignored: more rows than asked)
 *   SCORCH_TEST_UNWIND_CRASH_MARKER     string the unwinding service aborts when it hands over the
 *                                              bytes of a file that holds this string (unwindsvc.h)
 *   SCORCH_TEST_IMAGES_BUDGET           N      bytes of file images the unwinding service keeps
 *                                              (lowers UNWINDSVC_IMAGES_BUDGET)
 *   SCORCH_TEST_MAX_THREADS             N      threads the recorder follows at most (recorder.c)
 *   SCORCH_TEST_LAUNCH_SPIN_MS          N      a launched command spins this long before its exec
 *                                              (launcher.c)
 *   SCORCH_TEST_RELEASE_DELAY_MS        N      the launcher holds the command this long before its
 *                                              release, for a signal to land meanwhile
 *   SCORCH_TEST_FINISH_UNREAD_MS        N      at the end of a recording, sampling goes on this long
 *                                              and then nothing more is read: what the ring buffer
 *                                              holds is counted unread (capture__finish)
 *
 * A flag is set by any value but "" and "0"; N is a decimal number (no sign, no suffix, fits 64 bits).
 */
#ifndef SCORCH_TESTHOOKS_H
#define SCORCH_TESTHOOKS_H

#include <stdint.h>

enum testhook {
	TESTHOOK_SANDBOX_LOCKDOWN_FAIL,
	TESTHOOK_SANDBOX_STALL,
	TESTHOOK_SANDBOX_LOOKUP_CRASH,
	TESTHOOK_SANDBOX_UNWIND_CRASH,
	TESTHOOK_SANDBOX_REQUESTS,
	TESTHOOK_SANDBOX_UW_TABLE,
	TESTHOOK_UNWIND_CRASH_MARKER,
	TESTHOOK_IMAGES_BUDGET,
	TESTHOOK_MAX_THREADS,
	TESTHOOK_LAUNCH_SPIN_MS,
	TESTHOOK_RELEASE_DELAY_MS,
	TESTHOOK_FINISH_UNREAD_MS,
	TESTHOOK__NR
};

/*
 * Read every hook from the environment, replacing what an earlier call read (main() calls it first;
 * the sandbox's child again as it starts; unit tests after changing the environment). 0, or -EINVAL
 * after one error message per malformed hook (those read as unset).
 */
int testhooks__load(void);
/* Whether the hook is set (a flag: to a value but "" and "0"). Loads on first use. */
int testhooks__set(enum testhook h);
/* A number or flag (1 when set): 0 when unset. Loads on first use. */
uint64_t testhooks__num(enum testhook h);
/* A string hook: NULL when unset or empty. Loads on first use. */
const char *testhooks__str(enum testhook h);
/* The variable's name, e.g. "SCORCH_TEST_MAX_THREADS". */
const char *testhooks__name(enum testhook h);

#endif
