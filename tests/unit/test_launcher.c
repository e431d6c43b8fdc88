// SPDX-License-Identifier: MIT
/*
 * launcher: a stop signal that reaches the held child (a Ctrl-C signals the whole process group)
 * neither kills it before its release nor lets the command run: it ends the child at its release,
 * before the exec, and the child is reaped as killed by that signal.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "launcher.h"
#include "log.h"

/* Whether 'pid' has exited, waiting up to 'ms' milliseconds, without reaping it. */
static int exits_within(pid_t pid, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };
	siginfo_t si;
	int i;

	for (i = 0; i < ms / 10; i++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void held_child_survives(int sig)
{
	char mark[64], *argv[] = { "sh", "-c", NULL, NULL }, script[96];
	struct launcher l;
	struct stat st;

	snprintf(mark, sizeof(mark), "/tmp/test_launcher.%d.ran", (int)getpid());
	snprintf(script, sizeof(script), ": >%s", mark);
	argv[2] = script;
	unlink(mark);
	assert_int_equal(launcher__spawn(&l, argv, 0), 0);
	assert_int_equal(kill(l.pid, sig), 0);
	/* Unprotected, the child dies of it within a few milliseconds; give it plenty of time. */
	assert_false(exits_within(l.pid, 500));
	assert_int_equal(launcher__release(&l, "sh"), 0);
	assert_int_equal(launcher__wait(&l, 0), 0);
	assert_true(WIFSIGNALED(l.status));
	assert_int_equal(WTERMSIG(l.status), sig);
	/* It ended before its exec: the command never ran. */
	assert_int_equal(stat(mark, &st), -1);
}

static void test_sigint_while_held(void **state)
{
	(void)state;
	held_child_survives(SIGINT);
}

static void test_sigterm_while_held(void **state)
{
	(void)state;
	held_child_survives(SIGTERM);
}

/* Without a signal the command runs, with the signals it would have had. */
static void test_release_runs_the_command(void **state)
{
	char *argv[] = { "sh", "-c", "trap - INT; kill -INT $$; exit 3", NULL };
	struct launcher l;

	(void)state;
	assert_int_equal(launcher__spawn(&l, argv, 0), 0);
	assert_int_equal(launcher__release(&l, "sh"), 0);
	assert_int_equal(launcher__wait(&l, 0), 0);
	/* SIGINT is not left blocked in the command: it kills the shell. */
	assert_true(WIFSIGNALED(l.status));
	assert_int_equal(WTERMSIG(l.status), SIGINT);
}

/* A child killed while held (SIGKILL cannot wait): the release says so and reaps it. */
static void test_killed_while_held(void **state)
{
	char *argv[] = { "true", NULL };
	struct launcher l;

	(void)state;
	assert_int_equal(launcher__spawn(&l, argv, 0), 0);
	assert_int_equal(kill(l.pid, SIGKILL), 0);
	assert_true(exits_within(l.pid, 5000));
	assert_int_equal(launcher__release(&l, "true"), -EPIPE);
	assert_true(l.reaped);
	assert_true(WIFSIGNALED(l.status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigint_while_held),
		cmocka_unit_test(test_sigterm_while_held),
		cmocka_unit_test(test_release_runs_the_command),
		cmocka_unit_test(test_killed_while_held),
	};

	signal(SIGPIPE, SIG_IGN); /* as scorch record does: a dead child's pipe says EPIPE */
	log__set_level(LOG_QUIET);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
