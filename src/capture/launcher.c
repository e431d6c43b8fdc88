// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"
#include "log.h"
#include "testhooks.h"

/* tests only: the fork spins this long before its exec (as a slow start-up would), in user space. */
static void test_spin(long ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* The signals that stop a recording: held off in the child until it is released. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

int launcher__spawn(struct launcher *l, char *const argv[], int stdout_to_stderr)
{
	long spin_ms = (long)testhooks__num(TESTHOOK_LAUNCH_SPIN_MS);
	int go[2], ep[2], err;
	sigset_t stop, old;

	l->pid = -1;
	l->go_fd = l->err_fd = -1;
	l->reaped = 0;
	l->status = 0;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ep, O_CLOEXEC)) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	/*
	 * A Ctrl-C while the child is held reaches it too (the terminal signals the whole group): it
	 * stays pending, blocked from before the fork, until the child is released, and then ends the
	 * child before its exec. Killed at once, the child would make the release fail with EPIPE.
	 */
	stop_signals(&stop);
	sigprocmask(SIG_BLOCK, &stop, &old);
	l->pid = fork();
	if (l->pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (l->pid < 0) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		close(ep[0]);
		close(ep[1]);
		pr_err("cannot fork: %s", strerror(-err));
		return err;
	}
	if (l->pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(ep[0]);
		/* The recorder's signal dispositions must not leak into the command. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(127);                   /* the recorder gave up */
		sigprocmask(SIG_SETMASK, &old, NULL); /* a pending stop signal ends us here */
		if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		if (spin_ms > 0)
			test_spin(spin_ms);
		execvp(argv[0], argv);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ep[1]);
	l->go_fd = go[1];
	l->err_fd = ep[0];
	return 0;
}

/*
 * tests only: wait up to this long before the release, for a signal to arrive while the child is
 * held; after a signal, 0.5 s more, as the set-up of the sampler goes on after a real Ctrl-C.
 */
static void test_hold(const char *cmd)
{
	long ms = (long)testhooks__num(TESTHOOK_RELEASE_DELAY_MS);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L }, more = { 0, 500000000L };

	if (ms <= 0)
		return;
	pr_info("test: holding '%s' for %ld ms before its release", cmd, ms);
	if (nanosleep(&ts, NULL) && errno == EINTR)
		while (nanosleep(&more, &more) && errno == EINTR)
			;
}

int launcher__release(struct launcher *l, const char *cmd)
{
	char c = 1;
	int e = 0;
	ssize_t n;

	test_hold(cmd);
	if (write(l->go_fd, &c, 1) != 1) {
		int err = -errno;

		/* Only SIGKILL ends a held child (the stop signals wait): say what happened to it. */
		if (err == -EPIPE && launcher__wait(l, 0) == 0) {
			char desc[96];

			launcher__describe(l->status, desc, sizeof(desc));
			pr_err("cannot start '%s': it ended before its exec: %s", cmd, desc);
		} else {
			pr_err("cannot start '%s': %s", cmd, strerror(-err));
		}
		launcher__abort(l);
		return err;
	}
	close(l->go_fd);
	l->go_fd = -1;
	do
		n = read(l->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	if (n == (ssize_t)sizeof(e)) {
		pr_err("cannot execute '%s': %s", cmd, strerror(e));
		launcher__wait(l, 0);
		return -e;
	}
	return 0;
}

void launcher__abort(struct launcher *l)
{
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	l->go_fd = l->err_fd = -1;
	if (l->pid > 0 && !l->reaped) {
		kill(l->pid, SIGKILL);
		launcher__wait(l, 0);
	}
}

int launcher__wait(struct launcher *l, int nohang)
{
	pid_t r;

	if (l->reaped)
		return 0;
	do
		r = waitpid(l->pid, &l->status, nohang ? WNOHANG : 0);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -EAGAIN;
	if (r < 0)
		return -errno;
	l->reaped = 1;
	return 0;
}

void launcher__describe(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "ended with wait status 0x%x", status);
}
