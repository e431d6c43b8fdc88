/* SPDX-License-Identifier: MIT */
/*
 * For unit tests that cannot run under valgrind (make test-valgrind): a test that starts the sandbox's
 * child, whose seccomp filter would kill valgrind's own system calls in that child (the ASan build
 * covers the child's code: make SANITIZE=address,undefined test), or that needs the vDSO, which
 * valgrind hides. Such a test calls skip_under_valgrind() first, which skips it there, visibly.
 */
#ifndef SCORCH_TEST_UNDER_VALGRIND_H
#define SCORCH_TEST_UNDER_VALGRIND_H

#include <stdlib.h>
#include <string.h>

/* Whether valgrind runs this process: its preload libraries are in LD_PRELOAD. */
static inline int under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "/vgpreload_") != NULL;
}

#define skip_under_valgrind()                                                                  \
	do {                                                                                   \
		if (under_valgrind())                                                          \
			skip();                                                                \
	} while (0)

#endif
