// SPDX-License-Identifier: MIT
/*
 * Unit tests for safeopen (src/safeopen.h): a path a target chose that names a FIFO or a device, directly
 * or through a symlink, is refused without being opened. Opening is observable without privileges: a
 * writer blocked in open() on a FIFO wakes when a reader opens it (even with O_NONBLOCK, even if the
 * reader closes at once), and /dev/tty, opened by a process without a controlling terminal, fails with
 * ENXIO, where an O_PATH lookup that refuses it before opening says EINVAL. Every check runs twice:
 * with openat2 and, in a child whose seccomp filter answers openat2 with ENOSYS, with the hand-made walk.
 * Other tests of safeopen live with its callers (test_symbolizer, test_maplog, test_perfmap).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "safeopen.h"

static char dir[64];

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Whether process 'pid' sits in system call 'nr' (/proc/PID/syscall), waiting up to two seconds. */
static int wait_in_syscall(pid_t pid, long nr)
{
	char path[64], buf[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		int got = f && fgets(buf, sizeof(buf), f) != NULL;

		if (f)
			fclose(f);
		if (got && strtol(buf, NULL, 10) == nr)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

enum opener { BY_FILE, IN_ROOT, IDENTIFIED };

/* Call the opener 'how' on the FIFO (through a symlink where the opener follows one). */
static int open_fifo(enum opener how)
{
	char path[160];
	struct stat st;

	switch (how) {
	case BY_FILE:
		snprintf(path, sizeof(path), "%s/rel_link", dir);
		return safeopen__file(path);
	case IN_ROOT:
		return safeopen__in_root(dir, "/abs_link");
	case IDENTIFIED:
		snprintf(path, sizeof(path), "%s/fifo", dir);
		if (stat(path, &st))
			return -errno;
		return safeopen__identified(path, major(st.st_dev), minor(st.st_dev), st.st_ino);
	}
	return -EINVAL;
}

/*
 * 0 when the opener 'how' refused the FIFO with -EINVAL and did not open it; else a code that says
 * what went wrong (printed). A writer blocks in open(O_WRONLY) first; if it wakes, a reader opened it.
 */
static int fifo_check(enum opener how)
{
	char path[160];
	pid_t w;
	int st, r, woke, fd;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	w = fork();
	if (w < 0)
		return 90;
	if (w == 0) {
		fd = open(path, O_WRONLY);
		_exit(fd >= 0 ? 0 : 1);
	}
	if (!wait_in_syscall(w, SYS_openat)) {
		kill(w, SIGKILL);
		waitpid(w, NULL, 0);
		return 91;
	}
	r = open_fifo(how);
	if (r >= 0)
		close(r);
	sleep_ms(100);
	woke = waitpid(w, &st, WNOHANG) == w;
	if (!woke) {
		/* Release the writer ourselves. */
		fd = open(path, O_RDONLY | O_NONBLOCK);
		waitpid(w, &st, 0);
		if (fd >= 0)
			close(fd);
	}
	if (woke || r != -EINVAL) {
		fprintf(stderr, "opener %d on a FIFO: %d%s\n", (int)how, r, woke ? ", and it opened the FIFO" : "");
		return 10 + (int)how;
	}
	return 0;
}

/*
 * 0 when every opener refuses /dev/tty (through a symlink where it follows one) with -EINVAL: in a
 * process without a controlling terminal (the caller's setsid()), opening it would fail with ENXIO.
 */
static int tty_checks(int no_openat2)
{
	char path[160];
	struct stat st;
	int r[4], i;

	snprintf(path, sizeof(path), "%s/tty_link", dir);
	r[0] = safeopen__file(path);
	r[1] = safeopen__in_root("/proc/self/root", "/dev/tty");
	if (stat("/dev/tty", &st))
		return 95;
	r[2] = safeopen__identified("/dev/tty", major(st.st_dev), minor(st.st_dev), st.st_ino);
	/* A mapping that names the device: no map_files entry at this range, so the path in our root. */
	r[3] = safeopen__mapping((uint32_t)getpid(), 0x1000, 0x2000, "/dev/tty", major(st.st_dev),
				 minor(st.st_dev), st.st_ino);
	if (no_openat2 && r[2] == -ENOSYS)
		r[2] = -EINVAL; /* safeopen__identified needs openat2 (and refuses without it) */
	for (i = 0; i < 4; i++) {
		if (r[i] >= 0)
			close(r[i]);
		if (r[i] != -EINVAL) {
			fprintf(stderr, "opener %d on /dev/tty: %d (%s)\n", i, r[i],
				r[i] == -ENXIO ? "it opened the device" : "want -EINVAL");
			return 20 + i;
		}
	}
	/* /dev/zero would open; a regular file still does. */
	snprintf(path, sizeof(path), "%s/zero_link", dir);
	if (safeopen__file(path) != -EINVAL || safeopen__in_root("/proc/self/root", "/dev/zero") != -EINVAL)
		return 30;
	snprintf(path, sizeof(path), "%s/plain", dir);
	r[0] = safeopen__file(path);
	r[1] = safeopen__in_root(dir, "/plain_link");
	for (i = 0; i < 2; i++) {
		if (r[i] < 0)
			return 40 + i;
		close(r[i]);
	}
	return 0;
}

/* All the checks, in a new session (no controlling terminal); the exit status says which failed. */
static int all_checks(int no_openat2)
{
	int rc;

	if (setsid() < 0)
		return 99;
	if ((rc = fifo_check(BY_FILE)) || (rc = fifo_check(IN_ROOT)))
		return rc;
	/* safeopen__identified needs openat2 (and refuses without it). */
	if (!no_openat2 && (rc = fifo_check(IDENTIFIED)))
		return rc;
	return tty_checks(no_openat2);
}

static int run_checks(int no_openat2)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (no_openat2 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
				   prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)))
			_exit(100);
		_exit(all_checks(no_openat2));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_not_opened_with_openat2(void **state)
{
	(void)state;
	assert_int_equal(run_checks(0), 0);
}

static void test_not_opened_without_openat2(void **state)
{
	(void)state;
	assert_int_equal(run_checks(1), 0);
}

static int setup(void **state)
{
	char path[160], target[160];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/scorch-safeopen-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600))
		return -1;
	snprintf(path, sizeof(path), "%s/rel_link", dir);
	if (symlink("fifo", path))
		return -1;
	snprintf(path, sizeof(path), "%s/abs_link", dir);
	if (symlink("/fifo", path)) /* absolute: inside the root */
		return -1;
	snprintf(path, sizeof(path), "%s/tty_link", dir);
	if (symlink("/dev/tty", path))
		return -1;
	snprintf(path, sizeof(path), "%s/zero_link", dir);
	if (symlink("/dev/zero", path))
		return -1;
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("plain\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/plain_link", dir);
	snprintf(target, sizeof(target), "/plain");
	return symlink(target, path);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_opened_with_openat2),
		cmocka_unit_test(test_not_opened_without_openat2),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
