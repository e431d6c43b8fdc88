// SPDX-License-Identifier: MIT
/*
 * The sandbox's batched unwinding (sandbox.h, "unwinding"): the queue of samples, the processes'
 * mappings, and the rounds, run by the implementation (sandbox_int.h: in-process or in the child),
 * with the failure accounting that decides which files are no longer unwound through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "log.h"
#include "sandbox_int.h"
#include "unwindsvc.h"

#define UW_ROUNDS 16
/*
 * Batches in a row that the child may fail on without naming a file (see uw_blame) before the
 * unwinding is given up for the rest of the recording (the samples keep their frame-pointer stacks).
 */
#define UW_GIVE_UP 5

void sandbox_uw_free(struct sandbox *sb, struct sandbox_uw *uw)
{
	size_t i;

	if (!uw)
		return;
	sb->ops->uw_release(sb, uw);
	for (i = 0; i < uw->nr_procs; i++)
		free(uw->procs[i].m);
	free(uw->procs);
	free(uw->forget);
	free(uw);
}

struct sandbox_uw *sandbox_uw_get(struct sandbox *sb)
{
	struct sandbox_uw *uw;
	int err;

	if (sb->uw)
		return sb->uw;
	uw = calloc(1, sizeof(*uw));
	sb->uw_err = -ENOMEM;
	if (!uw)
		return NULL;
	if ((err = sb->ops->uw_init(sb, uw))) {
		sb->uw_err = err < 0 ? err : -ENOMEM;
		sandbox_uw_free(sb, uw);
		return NULL;
	}
	sb->uw_err = 0;
	return sb->uw = uw;
}

struct uw_proc *sandbox_uw_proc(struct sandbox_uw *uw, uint32_t pid)
{
	size_t i;

	/* Few processes have samples in flight; most batches hold one. */
	for (i = 0; i < uw->nr_procs; i++)
		if (uw->procs[i].pid == pid)
			return &uw->procs[i];
	return NULL;
}

int sandbox__uw_maps(struct sandbox *sb, uint32_t pid, const struct sandbox_uw_map *m, size_t n)
{
	struct sandbox_uw *uw = sandbox_uw_get(sb);
	struct uw_proc *pr;

	if (!uw)
		return sb->uw_err;
	pr = sandbox_uw_proc(uw, pid);
	if (!n) {
		if (!pr)
			return 0;
		free(pr->m);
		*pr = uw->procs[--uw->nr_procs];
		if (array__grow(&uw->forget, &uw->cap_forget, uw->nr_forget + 1, sizeof(*uw->forget)))
			return 0; /* the child keeps a stale copy until the pid comes back */
		uw->forget[uw->nr_forget++] = pid;
		return 0;
	}
	if (!pr) {
		if (array__grow(&uw->procs, &uw->cap_procs, uw->nr_procs + 1, sizeof(*uw->procs)))
			return -ENOMEM;
		pr = &uw->procs[uw->nr_procs++];
		memset(pr, 0, sizeof(*pr));
		pr->pid = pid;
	}
	if (array__grow(&pr->m, &pr->cap, n, sizeof(*pr->m)))
		return -ENOMEM;
	memcpy(pr->m, m, n * sizeof(*m));
	pr->n = n;
	pr->sent_gen = 0;
	return 0;
}

int sandbox__uw_queue(struct sandbox *sb, uint32_t pid, const uint64_t *regs, const uint8_t *stack,
		      uint32_t stack_size, uint32_t max, int fp_fallback)
{
	struct sandbox_uw *uw = sandbox_uw_get(sb);
	struct unwindsvc_req rq = { 0 };
	size_t at;

	if (!uw)
		return sb->uw_err;
	if (!max || max > UNWINDSVC_MAX_DEPTH || !regs)
		return -EINVAL;
	if (uw->n == SANDBOX_UW_MAX_BATCH)
		return -ENOSPC;
	rq.pid = pid;
	rq.max = max;
	rq.flags = fp_fallback ? UNWINDSVC_FP_FALLBACK : 0;
	rq.stack_size = stack ? stack_size : 0;
	memcpy(rq.regs, regs, sizeof(rq.regs));
	at = unwindsvc__encode_request(uw->req, UW_REQ_CAP, uw->req_used, &rq, stack);
	if (!at)
		return -ENOSPC;
	uw->offs[uw->n] = uw->req_used;
	uw->max[uw->n] = max;
	uw->pids[uw->n] = pid;
	uw->req_used = at;
	return (int)uw->n++;
}

uint32_t sandbox__uw_queued(const struct sandbox *sb)
{
	return sb->uw ? sb->uw->n : 0;
}

const struct sandbox_uw_result *sandbox__uw_result(const struct sandbox *sb, uint32_t i)
{
	return &sb->uw->res_out[i];
}

void sandbox__uw_reset(struct sandbox *sb)
{
	if (!sb->uw)
		return;
	sb->uw->n = 0;
	sb->uw->req_used = 0;
}

void sandbox__uw_stats(const struct sandbox *sb, struct sandbox_uw_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!sb->uw)
		return;
	*st = sb->uw->stats;
	st->images_evicted = sb->ops->uw_evicted(sb);
	st->given_up = sb->uw->given_up != 0;
}

/*
 * Whether e's file is one the unwinding dropped: compared once with each dropped file, by device and
 * inode, as the same file comes back under new handles (each mapping, each process, each child).
 */
static int uw_dropped(struct sandbox_uw *uw, struct sandbox_elf *e)
{
	struct stat st;
	uint32_t i;

	if (e->uw_bad || e->uw_checked == uw->nr_dropped)
		return e->uw_bad;
	if (e->fd >= 0 && fstat(e->fd, &st) == 0) {
		for (i = e->uw_checked; i < uw->nr_dropped; i++)
			if (st.st_dev == uw->dropped[i].st_dev && st.st_ino == uw->dropped[i].st_ino)
				e->uw_bad = 1;
	}
	e->uw_checked = uw->nr_dropped;
	return e->uw_bad;
}

struct unwindsvc_map sandbox_uw_wire_map(struct sandbox *sb, const struct sandbox_uw_map *m)
{
	struct unwindsvc_map w = { m->start, m->end, m->offset, UNWINDSVC_NOFILE, 0 };
	struct sandbox_elf *e = m->elf;

	if (m->kind == SANDBOX_UW_UNRESOLVED)
		w.handle = UNWINDSVC_UNRESOLVED;
	else if (m->kind == SANDBOX_UW_VDSO)
		w.handle = UNWINDSVC_VDSO;
	else if (m->kind == SANDBOX_UW_FILE && e && !e->is_vdso && !uw_dropped(sb->uw, e))
		w.handle = sb->ops->uw_handle(sb, e);
	else if (m->kind == SANDBOX_UW_FILE && e)
		w.handle = UNWINDSVC_VDSO;
	return w;
}

/*
 * After the child of generation 'gen' failed a batch: the file it was reading call frame information
 * from (the watch slot, see unwindsvc__watch) is not unwound through any more, so that one hostile
 * file costs one restart, not one per batch. A child that fails without naming a file UW_GIVE_UP
 * times in a row, or names a file past UW_MAX_DROPPED dropped ones, ends the unwinding.
 */
static void uw_blame(struct sandbox *sb, uint32_t gen)
{
	struct sandbox_uw *uw = sb->uw;
	uint32_t h;
	size_t i;

	if (!gen)
		return;
	h = *(volatile const uint32_t *)(uw->res + UW_RES_CAP);
	for (i = 0; h < UNWINDSVC_VDSO && i < sb->nr_elfs; i++) {
		struct sandbox_elf *e = sb->elfs[i];

		if (e->gen != gen || e->handle != h || e->is_vdso || uw_dropped(uw, e) || e->fd < 0)
			continue;
		if (uw->nr_dropped == UW_MAX_DROPPED) {
			/* A target that keeps mapping new hostile files would cost a restart each. */
			uw->given_up = 1;
			pr_warn("sandbox: the unwinder died reading the call frame information of '%s', "
				"past %u such files: DWARF unwinding stops here (samples keep their "
				"frame-pointer stacks)",
				e->name, UW_MAX_DROPPED);
			return;
		}
		if (fstat(e->fd, &uw->dropped[uw->nr_dropped]) == 0) {
			uw->nr_dropped++;
			e->uw_bad = 1;
			uw->stats.files_dropped++;
			uw->failed_in_row = 0;
			pr_warn("sandbox: the unwinder died reading the call frame information of '%s': "
				"its frames are no longer unwound through",
				e->name);
			return;
		}
	}
	if (++uw->failed_in_row >= UW_GIVE_UP) {
		uw->given_up = 1;
		pr_warn("sandbox: the unwinder failed %u batches in a row: DWARF unwinding stops here "
			"(samples keep their frame-pointer stacks)",
			uw->failed_in_row);
	}
}

int sandbox__uw_run(struct sandbox *sb, sandbox_uw_need_fn need, void *ctx)
{
	struct sandbox_uw *uw = sb->uw;
	uint32_t todo[SANDBOX_UW_MAX_BATCH], nt, k, round, gen;
	int err;

	if (!uw || !uw->n)
		return 0;
	for (k = 0; k < uw->n; k++) {
		todo[k] = k;
		memset(&uw->res_out[k], 0, sizeof(uw->res_out[k]));
		uw->res_out[k].ips = uw->ips[k];
		uw->res_out[k].lost = uw->given_up;
	}
	if (uw->given_up) {
		uw->stats.failures += uw->n;
		return 0;
	}
	nt = uw->n;
	for (round = 0; nt && round < UW_ROUNDS; round++) {
		uint32_t next = 0;

		gen = 0;
		err = sb->ops->uw_round(sb, todo, nt, &gen);
		if (err == -ENOMEM)
			return err;
		if (err) {
			for (k = 0; k < nt; k++)
				uw->res_out[todo[k]].lost = 1;
			uw->stats.failures += nt;
			if (sb->ops->start_failed(sb)) {
				/* No child will start: said once, when the recorder started it. */
				uw->given_up = 1;
				return 0;
			}
			pr_warn("sandbox: %u samples could not be unwound (kept with their frame-pointer stacks)",
				nt);
			uw_blame(sb, gen);
			return 0;
		}
		uw->failed_in_row = 0;
		for (k = 0; k < nt; k++) {
			struct sandbox_uw_result *o = &uw->res_out[todo[k]];
			const struct unwindsvc_result *t = &uw->tmp[k];

			o->status = t->r.status;
			o->nr = t->r.nr;
			o->fp_steps = t->r.fp_steps;
			o->fail_ip = t->r.fail_ip;
			memcpy(uw->ips[todo[k]], t->ips, (size_t)t->r.nr * 8);
			if (t->r.need && round + 1 < UW_ROUNDS) {
				err = need(ctx, uw->pids[todo[k]], t->r.need_addr);
				if (err < 0)
					return err;
				if (err)
					todo[next++] = todo[k];
			}
		}
		if (round)
			uw->stats.retries += nt;
		nt = next;
	}
	return 0;
}
