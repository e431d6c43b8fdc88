// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "clock.h"
#include "log.h"
#include "pyproc.h"
#include "testhooks.h"
#include "uwload.h"

int capture__on_sample(void *ctx, const struct sampler_record *r)
{
	struct capture *c = ctx;
	const struct scorch_sample *s = r->hdr;
	struct recorder_sample rs = {
		.pid = s->pid,
		.tid = s->tid,
		.exec_seq = s->exec_seq,
		.comm = s->comm,
		.kips = r->kstack,
		.nr_kips = s->nr_kstack,
		.uips = r->ustack,
		.nr_uips = s->nr_ustack,
		.kstack_error = !!(s->flags & SCORCH_SAMPLE_KSTACK_ERR),
		.ustack_error = !!(s->flags & SCORCH_SAMPLE_USTACK_ERR),
		.kstack_truncated = !!(s->flags & SCORCH_SAMPLE_KSTACK_FULL),
		.ustack_truncated = !!(s->flags & SCORCH_SAMPLE_USTACK_FULL),
		/* The record carries them only with a stack copy, never with a stack unwound in the kernel.
		 */
		.uregs = s->flags & SCORCH_SAMPLE_UNWOUND ? NULL : r->regs,
		.ustack_bytes = r->stack,
		.ustack_size = s->stack_size,
		.unwound = !!(s->flags & SCORCH_SAMPLE_UNWOUND),
		.uw_root = !!(s->flags & SCORCH_SAMPLE_UW_ROOT),
		.uw_fallback = c->tables && !(s->flags & SCORCH_SAMPLE_UNWOUND),
		.py = r->py,
		.nr_py = s->nr_py,
		.py_status = s->py_status,
		.off_ns = s->off_ns,
		.off_state = s->off_state,
	};
	int err;

	if (s->stack_need > c->stack_need)
		c->stack_need = s->stack_need;
	err = recorder__add_sample(c->rec, &rs);

	if (err) {
		pr_err("cannot record a sample: %s", strerror(-err));
		c->err = err;
	}
	return err;
}

int capture__on_event(void *ctx, const void *data, size_t size)
{
	struct capture *c = ctx;
	int err = recorder__add_event(c->rec, data, size);

	if (err == -EINVAL) /* counted by the recorder */
		return 0;
	if (err) {
		pr_err("cannot record a mapping event: %s", strerror(-err));
		c->err = err;
	}
	return err;
}

static int drain_events(void *ctx)
{
	struct capture *c = ctx;

	return sampler__drain_events(c->smp, capture__on_event, c);
}

static int set_proc(void *ctx, uint32_t pid, const struct scorch_uw_proc *p)
{
	return sampler__uw_set_proc(ctx, pid, p);
}

static int set_file(void *ctx, const struct scorch_uw_file_key *k, const struct scorch_uw_file *f)
{
	return sampler__uw_set_file(ctx, k, f);
}

static int set_table(void *ctx, uint32_t slot, const struct scorch_uw_row *rows, uint32_t nr)
{
	return sampler__uw_set_table(ctx, slot, rows, nr);
}

static int set_py_proc(void *ctx, uint32_t pid, const struct scorch_py_proc *p)
{
	return sampler__py_set_proc(ctx, pid, p);
}

static int drop_table(void *ctx, uint32_t slot)
{
	return sampler__uw_drop_table(ctx, slot);
}

int capture__open(struct capture *c, struct profile *p, const struct sampler_opts *so,
		  const struct recorder_opts *ro)
{
	struct uwload_sink sink = { 0 };
	struct pyproc_sink py = { 0 };

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->smp = sampler__open(so);
	if (!c->smp)
		return errno ? -errno : -EINVAL;
	c->rec = recorder__new(p, ro);
	if (!c->rec) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	recorder__start_sandbox(c->rec); /* warns: not fatal */
	sink.cap = sampler__uw_rows(c->smp);
	if (sink.cap) {
		sink.set_table = set_table;
		sink.drop_table = drop_table;
		sink.set_proc = set_proc;
		sink.set_file = set_file;
		sink.ctx = c->smp;
		if (recorder__enable_tables(c->rec, &sink)) {
			pr_err("out of memory");
			return -ENOMEM;
		}
		c->tables = 1;
	}
	py.set_proc = set_py_proc;
	py.ctx = c->smp;
	if (recorder__enable_python(c->rec, &py)) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	if (so->no_events)
		recorder__set_events(c->rec, RECORDER_EVENTS_OFF);
	else
		recorder__set_events(c->rec, sampler__has_events(c->smp) ? RECORDER_EVENTS_ON
									 : RECORDER_EVENTS_UNAVAILABLE);
	recorder__set_event_drain(c->rec, drain_events, c);
	return 0;
}

int capture__add_target(struct capture *c, uint32_t pid)
{
	int err = sampler__add_target(c->smp, pid, 0);

	if (err)
		return err;
	err = recorder__add_process(c->rec, pid);
	if (err == -ENOMEM) {
		pr_err("out of memory");
		return err;
	}
	return 0;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	int err = sampler__poll(c->smp, timeout_ms, capture__on_sample, capture__on_event, c);

	/*
	 * The unwind tables of the processes whose samples fell back are loaded first, so that the BPF
	 * program unwinds the next ones; then what was drained is unwound as one batch (at most a
	 * queue's worth waits here). Perf maps are read here too: never from the sample callback.
	 */
	if (!err && (err = recorder__load_tables(c->rec))) {
		pr_err("out of memory");
		c->err = err;
	}
	if (!err && (err = recorder__flush(c->rec))) {
		pr_err("cannot record a sample: %s", strerror(-err));
		c->err = err;
	}
	if (!err && (err = recorder__reload_perfmaps(c->rec))) {
		pr_err("out of memory");
		c->err = err;
	}
	return err;
}

int capture__finish(struct capture *c, uint64_t budget_ns)
{
	uint64_t until = clock__mono_ns() + budget_ns, ms = testhooks__num(TESTHOOK_FINISH_UNREAD_MS);
	int err;

	if (ms) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		sampler__stop(c->smp);
		c->unread = sampler__discard(c->smp);
		return 0;
	}
	sampler__stop(c->smp);
	do
		err = capture__poll(c, 0);
	while (!err && !sampler__empty(c->smp) && clock__mono_ns() < until);
	if (!err && !sampler__empty(c->smp))
		c->unread = sampler__discard(c->smp);
	return err;
}

void capture__close(struct capture *c)
{
	sampler__free(c->smp);
	recorder__free(c->rec);
	c->smp = NULL;
	c->rec = NULL;
}
