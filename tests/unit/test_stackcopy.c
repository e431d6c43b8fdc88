// SPDX-License-Identifier: MIT
/*
 * Unit tests for copying a target's threads (src/target/stackcopy.h): the threads of a process listed
 * in tid order with their names, one stopped and copied (its registers, a stack from SP) and left
 * running, and a process that does not exist reported as -ENOENT. Copying needs ptrace rights over a
 * child (kernel.yama.ptrace_scope 0 or 1, or root): without them that test is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stackcopy.h"

static void test_list_and_grab(void **state)
{
	struct stackcopy_thread *ts = NULL;
	size_t nr = 0;
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0) {
		prctl(PR_SET_NAME, "copyme");
		for (;;)
			pause();
	}
	/* Its name is set once /proc shows it. */
	for (int i = 0; i < 200; i++) {
		stackcopy__free(ts, nr);
		ts = NULL;
		assert_int_equal(stackcopy__list((uint32_t)child, &ts, &nr), 0);
		if (nr == 1 && strcmp(ts[0].comm, "copyme") == 0)
			break;
		usleep(5000);
	}
	assert_int_equal(nr, 1);
	assert_int_equal(ts[0].tid, (uint32_t)child);
	assert_string_equal(ts[0].comm, "copyme");
	assert_false(stackcopy__is_kernel_thread((uint32_t)child));
	stackcopy__grab(&ts[0], 4096);
	if (!ts[0].ok && ts[0].err == EPERM) {
		stackcopy__free(ts, nr);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		skip();
	}
	assert_true(ts[0].ok);
	assert_int_equal(ts[0].err, 0);
	assert_true(ts[0].regs[SCORCH_REG_RSP] != 0);
	assert_true(ts[0].regs[SCORCH_REG_RIP] != 0);
	assert_true(ts[0].stack_size > 0 && ts[0].stack_size <= 4096);
	assert_int_equal(ts[0].stack_size % 8, 0);
	/* Detached: it runs on, and is still ours to kill and reap. */
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	stackcopy__free(ts, nr);
}

static void test_no_process(void **state)
{
	struct stackcopy_thread *ts = NULL;
	size_t nr = 0;
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(stackcopy__list((uint32_t)child, &ts, &nr), -ENOENT);
	assert_null(ts);
	stackcopy__free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_grab),
		cmocka_unit_test(test_no_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
