// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidwatch.h"

int pidwatch__gone(uint32_t pid)
{
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

void pidwatch__init(struct pidwatch *w)
{
	memset(w, 0, sizeof(*w));
}

int pidwatch__open(struct pidwatch *w, const uint32_t *pids, size_t n)
{
	size_t i;

	pidwatch__release(w);
	if (!n)
		return 0;
	w->pids = malloc(n * sizeof(*w->pids));
	w->fds = malloc(n * sizeof(*w->fds));
	w->alive = malloc(n * sizeof(*w->alive));
	if (!w->pids || !w->fds || !w->alive) {
		pidwatch__release(w);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		w->pids[i] = pids[i];
		w->fds[i] = (int)syscall(SYS_pidfd_open, (pid_t)pids[i], 0);
		w->alive[i] = 1;
	}
	w->nr = n;
	return 0;
}

int pidwatch__alive(struct pidwatch *w)
{
	size_t i;
	int any = 0;

	for (i = 0; i < w->nr; i++) {
		if (!w->alive[i])
			continue;
		if (w->fds[i] >= 0) {
			struct pollfd pfd = { .fd = w->fds[i], .events = POLLIN };

			if (poll(&pfd, 1, 0) > 0) {
				w->alive[i] = 0;
				continue;
			}
		} else if (pidwatch__gone(w->pids[i])) {
			w->alive[i] = 0;
			continue;
		}
		any = 1;
	}
	return any;
}

void pidwatch__release(struct pidwatch *w)
{
	size_t i;

	for (i = 0; w->fds && i < w->nr; i++)
		if (w->fds[i] >= 0)
			close(w->fds[i]);
	free(w->pids);
	free(w->fds);
	free(w->alive);
	pidwatch__init(w);
}
