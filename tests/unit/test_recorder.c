// SPDX-License-Identifier: MIT
/*
 * Unit tests for the recorder (src/recorder.h) that need no BPF: forgetting the processes that exited
 * (record -a keeps its caches bounded that way), and samples of a forgotten process still recorded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profile.h"
#include "recorder.h"

static pid_t dead_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	return pid;
}

static void test_forget_exited(void **state)
{
	struct profile p;
	struct recorder *r;
	uint64_t ips[1];
	struct recorder_sample s = { .comm = "x", .uips = ips, .nr_uips = 1 };
	pid_t child = dead_child();

	(void)state;
	profile__init(&p);
	r = recorder__new(&p, NULL);
	assert_non_null(r);
	assert_int_equal(recorder__add_process(r, (uint32_t)getpid()), 0);
	assert_int_equal(recorder__add_process(r, (uint32_t)child), 0);
	/* Alive (a zombie still has its pid): nothing to forget. */
	assert_int_equal(recorder__forget_exited(r), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(recorder__forget_exited(r), 1);
	assert_int_equal(recorder__forget_exited(r), 0);
	/* This process is still known, and a sample of the forgotten one is still counted. */
	ips[0] = (uint64_t)(uintptr_t)test_forget_exited;
	s.pid = s.tid = (uint32_t)getpid();
	assert_int_equal(recorder__add_sample(r, &s), 0);
	s.pid = s.tid = (uint32_t)child;
	assert_int_equal(recorder__add_sample(r, &s), 0);
	assert_int_equal(p.total, 2);
	recorder__free(r);
	profile__release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forget_exited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
