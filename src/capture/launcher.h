/* SPDX-License-Identifier: MIT */
/*
 * launcher - start a command held just before exec, so that sampling is attached before its first
 * instruction runs.
 *
 * launcher__spawn() forks; the child waits. launcher__release() lets it exec and reports whether the
 * exec worked. While it waits, the child holds SIGINT, SIGTERM and SIGHUP pending (a Ctrl-C reaches
 * the whole process group): one that arrived ends it at its release, before its exec, and it is then
 * reaped as killed by that signal. launcher__wait() reaps it. A struct launcher is embedded by the caller;
 * its fds are closed by launcher__release()/launcher__abort(). Functions return 0 or a negative errno, and
 * log.
 */
#ifndef SCORCH_LAUNCHER_H
#define SCORCH_LAUNCHER_H

#include <sys/types.h>

struct launcher {
	pid_t pid;
	int go_fd;  /* write end: one byte lets the child exec */
	int err_fd; /* read end: the child's errno if exec failed, EOF if it worked */
	int status; /* wait status once reaped */
	int reaped;
};

/* With stdout_to_stderr, the command's standard output goes to standard error (for '-o -'). */
int launcher__spawn(struct launcher *l, char *const argv[], int stdout_to_stderr);
/* Let the child exec. -ENOENT/-EACCES/...: the command could not be executed (already reaped). */
int launcher__release(struct launcher *l, const char *cmd);
/* Kill and reap a child that has not been released. */
void launcher__abort(struct launcher *l);
/* Reap the child. With nohang, returns -EAGAIN while it still runs. */
int launcher__wait(struct launcher *l, int nohang);
/* Describe a wait status: "exited with status 0", "killed by signal 9 (Killed)". */
void launcher__describe(int status, char *buf, size_t size);

#endif
