// SPDX-License-Identifier: MIT
/*
 * Unit tests for target liveness (src/target/pidwatch.h): a zombie is not gone but a reaped process
 * is; a watched set is alive while any target runs, and a target that exited stays gone (through
 * pidfds, or kill(2) where pidfd_open(2) fails, as under valgrind).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidwatch.h"

static pid_t sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_gone(void **state)
{
	siginfo_t si;
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_false(pidwatch__gone((uint32_t)getpid()));
	/* Wait for it to exit without reaping it: a zombie's pid is still taken. */
	assert_int_equal(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
	assert_false(pidwatch__gone((uint32_t)child));
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(pidwatch__gone((uint32_t)child));
}

static void test_watch(void **state)
{
	struct pidwatch w;
	uint32_t pids[2];
	pid_t a = sleeper(), b = sleeper();

	(void)state;
	pidwatch__init(&w);
	assert_false(pidwatch__alive(&w));
	pids[0] = (uint32_t)a;
	pids[1] = (uint32_t)b;
	assert_int_equal(pidwatch__open(&w, pids, 2), 0);
	assert_true(pidwatch__alive(&w));
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, NULL, 0), a);
	assert_true(pidwatch__alive(&w));
	assert_int_equal(kill(b, SIGKILL), 0);
	assert_int_equal(waitpid(b, NULL, 0), b);
	assert_false(pidwatch__alive(&w));
	assert_false(pidwatch__alive(&w));
	pidwatch__release(&w);
	pidwatch__release(&w); /* released twice: nothing left to free */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
