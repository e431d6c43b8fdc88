/* SPDX-License-Identifier: MIT */
/*
 * capture - the sampler and the recorder wired together: BPF samples become counts in a profile. Shared
 * by the commands that sample (record writes the profile to a file; top shows it live).
 *
 * Lifecycle: capture__open() loads the sampler (sampling starts) and makes the recorder that fills the
 * borrowed profile; capture__add_target() adds a process to both; capture__poll() moves the pending
 * samples into the profile; capture__close() frees both (safe on a zeroed or half-opened capture).
 * Functions return 0 or a negative errno, logged; a sample that cannot be recorded (out of memory) is
 * fatal and returned by capture__poll().
 */
#ifndef SCORCH_CAPTURE_H
#define SCORCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "recorder.h"
#include "sampler.h"

struct capture {
	struct sampler *smp;  /* owned */
	struct recorder *rec; /* owned */
	struct profile *p;    /* borrowed */
	int err;              /* first fatal error of the sample callback */
	int tables;           /* user stacks are unwound in the kernel from tables (-g auto) */
	uint32_t stack_need;  /* the most user stack a whole copy would have taken, over the samples
			       * whose copy was not cut short (struct scorch_sample stack_need); 0: none */
	uint64_t unread;      /* samples still in the ring buffer when capture__finish() gave up */
};

int capture__open(struct capture *c, struct profile *p, const struct sampler_opts *so,
		  const struct recorder_opts *ro);
int capture__add_target(struct capture *c, uint32_t pid);
int capture__poll(struct capture *c, int timeout_ms);
/*
 * Stop sampling and read what the ring buffer holds, for at most budget_ns; the samples left then
 * are counted in c->unread (a recorder far behind, on a busy machine), never dropped unsaid.
 */
int capture__finish(struct capture *c, uint64_t budget_ns);
void capture__close(struct capture *c);

/* The sampler callback: 'ctx' is a struct capture. */
int capture__on_sample(void *ctx, const struct sampler_record *r);
/* The sampler's mapping-event callback: 'ctx' is a struct capture. A malformed event is counted, not fatal.
 */
int capture__on_event(void *ctx, const void *data, size_t size);

#endif
