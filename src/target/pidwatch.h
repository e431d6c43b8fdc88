/* SPDX-License-Identifier: MIT */
/*
 * pidwatch - whether target processes are still alive: the one way every command and the process
 * table tell.
 *
 * pidwatch__gone() asks about one pid now (kill(pid, 0)): a zombie is not gone, its pid is still
 * taken. A struct pidwatch follows a set of targets for the length of a recording: each through a
 * pidfd (pidfd_open(2), Linux 5.3), which becomes readable when the process exits and cannot be
 * fooled by the pid being reused; where no pidfd can be opened, through kill(pid, 0). A target seen
 * gone stays gone. The struct owns its arrays and pidfds; pidwatch__release() frees and closes them.
 */
#ifndef SCORCH_PIDWATCH_H
#define SCORCH_PIDWATCH_H

#include <stddef.h>
#include <stdint.h>

/* Whether no process has pid 'pid' any more (kill(2) gives ESRCH). */
int pidwatch__gone(uint32_t pid);

struct pidwatch {
	size_t nr;
	uint32_t *pids; /* owned */
	int *fds;       /* owned: a pidfd per target, or -1 */
	int *alive;     /* owned: not seen gone yet */
};

/* Empty: pidwatch__alive() says 0, pidwatch__release() does nothing. */
void pidwatch__init(struct pidwatch *w);
/* Follow the 'n' targets 'pids' (all taken to be alive now). 0 or -ENOMEM. */
int pidwatch__open(struct pidwatch *w, const uint32_t *pids, size_t n);
/* Whether any target is still alive (checked now, without waiting). */
int pidwatch__alive(struct pidwatch *w);
void pidwatch__release(struct pidwatch *w);

#endif
