// SPDX-License-Identifier: MIT
/* The unwinding proxy of the sandbox (sandbox.h, "unwinding"): batches of samples unwound in the child. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "safeopen.h"
#include "sandbox_int.h"
#include "unwindsvc.h"

/* --- unwinding ---------------------------------------------------------------------------------- */

/* The request buffer holds a full batch of the largest stacks. */
#define UW_REQ_CAP ((size_t)SANDBOX_UW_MAX_BATCH * (sizeof(struct unwindsvc_req) + UNWINDSVC_MAX_STACK))
#define UW_RES_CAP ((size_t)SANDBOX_UW_MAX_BATCH * (sizeof(struct unwindsvc_res) + UNWINDSVC_MAX_DEPTH * 8))
/* The shared results buffer: the results, then the child's watch slot (unwindsvc__watch). */
#define UW_RES_MAP (UW_RES_CAP + 8)
#define UW_ROUNDS 16
/*
 * Batches in a row that the child may fail on without naming a file (see uw_blame) before the
 * unwinding is given up for the rest of the recording (the samples keep their frame-pointer stacks).
 */
#define UW_GIVE_UP 5
/* Files dropped from unwinding (see uw_blame); past this many the unwinding is given up. */
#define UW_MAX_DROPPED 64
/* Mappings per M_UW_MAPS message. */
#define UW_MAPS_CHUNK ((SANDBOX_MAX_MSG - 8 - 8) / sizeof(struct unwindsvc_map))

struct uw_proc {
	uint32_t pid;
	struct sandbox_uw_map *m; /* owned copy */
	size_t n, cap;
	uint32_t sent_gen;        /* the child generation that has them, 0: none */
};

struct sandbox_uw {
	struct unwindsvc *local;  /* disabled: in-process */
	uint8_t *req, *res;       /* shared with the child (memfds), or malloc'd when disabled */
	int req_fd, res_fd;       /* -1 when disabled */
	size_t req_used;
	uint8_t *res_copy;        /* the results, copied out of the child's reach before parsing */
	uint32_t setup_gen;       /* the child generation that has mapped the buffers */
	uint32_t n;
	uint64_t offs[SANDBOX_UW_MAX_BATCH];
	uint32_t max[SANDBOX_UW_MAX_BATCH], pids[SANDBOX_UW_MAX_BATCH];
	struct sandbox_uw_result res_out[SANDBOX_UW_MAX_BATCH];
	uint64_t ips[SANDBOX_UW_MAX_BATCH][UNWINDSVC_MAX_DEPTH];
	struct unwindsvc_result tmp[SANDBOX_UW_MAX_BATCH];
	uint64_t tmp_ips[SANDBOX_UW_MAX_BATCH * UNWINDSVC_MAX_DEPTH];
	struct uw_proc *procs;
	size_t nr_procs, cap_procs;
	uint32_t *forget;         /* pids to forget in the child */
	size_t nr_forget, cap_forget;
	uint64_t evicted_done, evicted_now; /* of children that are gone, of the current one */
	uint32_t failed_in_row;   /* batches failed in a row without a file to blame */
	struct stat dropped[UW_MAX_DROPPED]; /* files the child died reading (st_dev, st_ino) */
	uint32_t nr_dropped;
	int given_up;             /* UW_GIVE_UP reached: no more unwinding */
	struct sandbox_uw_stats stats;
};

void sandbox_uw_free(struct sandbox_uw *uw)
{
	size_t i;

	if (!uw)
		return;
	unwindsvc__free(uw->local);
	if (uw->req_fd >= 0) {
		munmap(uw->req, UW_REQ_CAP);
		munmap(uw->res, UW_RES_MAP);
		close(uw->req_fd);
		close(uw->res_fd);
	} else {
		free(uw->req);
		free(uw->res);
	}
	free(uw->res_copy);
	for (i = 0; i < uw->nr_procs; i++)
		free(uw->procs[i].m);
	free(uw->procs);
	free(uw->forget);
	free(uw);
}

/* A sealed memfd of 'size' bytes mapped here with 'prot'; NULL on failure (errno set). */
static void *uw_memfd(const char *name, size_t size, int prot, int *fd)
{
	void *p;

	*fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd < 0)
		return NULL;
	/* The child cannot shrink what we read (SIGBUS) or grow what we mapped. */
	if (ftruncate(*fd, (off_t)size) ||
	    fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) ||
	    (p = mmap(NULL, size, prot, MAP_SHARED, *fd, 0)) == MAP_FAILED) {
		int err = errno;

		close(*fd);
		*fd = -1;
		errno = err;
		return NULL;
	}
	return p;
}

static struct sandbox_uw *uw_get(struct sandbox *sb)
{
	struct sandbox_uw *uw;

	if (sb->uw)
		return sb->uw;
	uw = calloc(1, sizeof(*uw));
	if (!uw)
		return NULL;
	uw->req_fd = uw->res_fd = -1;
	uw->res_copy = malloc(UW_RES_CAP);
	if (!uw->res_copy)
		goto fail;
	if (!sb->enabled) {
		uw->local = unwindsvc__new();
		uw->req = malloc(UW_REQ_CAP);
		uw->res = malloc(UW_RES_CAP);
		if (!uw->local || !uw->req || !uw->res)
			goto fail;
	} else {
		uw->req = uw_memfd("scorch-unwind-req", UW_REQ_CAP, PROT_READ | PROT_WRITE, &uw->req_fd);
		if (!uw->req)
			goto fail;
		uw->res = uw_memfd("scorch-unwind-res", UW_RES_MAP, PROT_READ, &uw->res_fd);
		if (!uw->res) {
			munmap(uw->req, UW_REQ_CAP);
			close(uw->req_fd);
			uw->req_fd = -1;
			uw->req = NULL;
			goto fail;
		}
	}
	return sb->uw = uw;
fail:
	if (uw->req_fd < 0) {
		free(uw->req);
		uw->req = NULL;
	}
	sandbox_uw_free(uw);
	return NULL;
}

static struct uw_proc *uw_proc_find(struct sandbox_uw *uw, uint32_t pid)
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
	struct sandbox_uw *uw = uw_get(sb);
	struct uw_proc *pr;

	if (!uw)
		return -ENOMEM;
	pr = uw_proc_find(uw, pid);
	if (!n) {
		if (!pr)
			return 0;
		free(pr->m);
		*pr = uw->procs[--uw->nr_procs];
		if (uw->nr_forget == uw->cap_forget) {
			size_t ncap = uw->cap_forget ? 2 * uw->cap_forget : 64;
			uint32_t *f = realloc(uw->forget, ncap * sizeof(*f));

			if (!f)
				return 0; /* the child keeps a stale copy until the pid comes back */
			uw->forget = f;
			uw->cap_forget = ncap;
		}
		uw->forget[uw->nr_forget++] = pid;
		return 0;
	}
	if (!pr) {
		if (uw->nr_procs == uw->cap_procs) {
			size_t ncap = uw->cap_procs ? 2 * uw->cap_procs : 16;
			struct uw_proc *p = realloc(uw->procs, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			uw->procs = p;
			uw->cap_procs = ncap;
		}
		pr = &uw->procs[uw->nr_procs++];
		memset(pr, 0, sizeof(*pr));
		pr->pid = pid;
	}
	if (n > pr->cap) {
		struct sandbox_uw_map *c = realloc(pr->m, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		pr->m = c;
		pr->cap = n;
	}
	memcpy(pr->m, m, n * sizeof(*m));
	pr->n = n;
	pr->sent_gen = 0;
	return 0;
}

int sandbox__uw_queue(struct sandbox *sb, uint32_t pid, const uint64_t *regs, const uint8_t *stack,
		      uint32_t stack_size, uint32_t max, int fp_fallback)
{
	struct sandbox_uw *uw = uw_get(sb);
	struct unwindsvc_req rq = { 0 };
	size_t at;

	if (!uw)
		return -ENOMEM;
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
	st->images_evicted = sb->uw->local ? unwindsvc__images_evicted(sb->uw->local)
					   : sb->uw->evicted_done + sb->uw->evicted_now;
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

/* The wire form of a mapping: the file's handle in the current child (or in the local service). */
static struct unwindsvc_map uw_wire_map(struct sandbox *sb, const struct sandbox_uw_map *m)
{
	struct unwindsvc_map w = { m->start, m->end, m->offset, UNWINDSVC_NOFILE, 0 };
	struct sandbox_elf *e = m->elf;

	if (m->kind == SANDBOX_UW_UNRESOLVED) {
		w.handle = UNWINDSVC_UNRESOLVED;
	} else if (m->kind == SANDBOX_UW_VDSO) {
		w.handle = UNWINDSVC_VDSO;
	} else if (m->kind == SANDBOX_UW_FILE && e && !e->is_vdso && !uw_dropped(sb->uw, e)) {
		if (!sb->enabled) {
			if (!e->uw_added && e->fd >= 0) {
				e->uw_added = 1;
				unwindsvc__add_file(sb->uw->local, e->handle, fcntl(e->fd, F_DUPFD_CLOEXEC, 3));
			}
			w.handle = e->uw_added ? e->handle : UNWINDSVC_NOFILE;
		} else if (sandbox_child_open(sb, e) == 0) {
			w.handle = e->handle;
		}
	} else if (m->kind == SANDBOX_UW_FILE && e) {
		w.handle = UNWINDSVC_VDSO;
	}
	return w;
}

/* Send a small request and check its M_UW_ACK. */
static int uw_ask(struct sandbox *sb, uint32_t type, const void *body, size_t len, int fd)
{
	int32_t st;
	int n = sandbox_request(sb, NULL, type, body, len, fd, M_UW_ACK);

	if (n < 0)
		return n;
	if (n != 4) {
		sandbox_child_failed(sb, NULL, "sent a bad message");
		return -EPROTO;
	}
	memcpy(&st, sb->msg, 4);
	return safeopen__fd_error(st); /* -EMFILE: the child out of descriptors */
}

static int uw_send_maps(struct sandbox *sb, struct uw_proc *pr)
{
	static uint8_t body[SANDBOX_MAX_MSG];
	size_t i = 0;
	int err;

	do {
		uint32_t append = i != 0, k = 0;

		memcpy(body, &pr->pid, 4);
		memcpy(body + 4, &append, 4);
		for (; i < pr->n && k < UW_MAPS_CHUNK; i++, k++) {
			struct unwindsvc_map w = uw_wire_map(sb, &pr->m[i]);

			memcpy(body + 8 + (size_t)k * sizeof(w), &w, sizeof(w));
		}
		if (!sb->pid)
			return -EPIPE; /* a file's open killed the child */
		err = uw_ask(sb, M_UW_MAPS, body, 8 + (size_t)k * sizeof(struct unwindsvc_map), -1);
		if (err)
			return err;
	} while (i < pr->n);
	return 0;
}

/* Make the current child ready for a batch with the samples todo[0..nt): buffers and maps. */
static int uw_prepare_child(struct sandbox *sb, const uint32_t *todo, uint32_t nt)
{
	struct sandbox_uw *uw = sb->uw;
	uint32_t k;
	int err;

	if (!sb->pid && (err = sandbox_child_start(sb)))
		return err;
	if (uw->setup_gen != sb->gen) {
		char path[64];
		uint8_t body[16] = { 0 };
		uint64_t size = UW_REQ_CAP;
		int ro;

		/* A new child: what the old one had evicted is history, and it has none of our maps. */
		uw->evicted_done += uw->evicted_now;
		uw->evicted_now = 0;
		uw->nr_forget = 0;
		/* Read-only to the child: a description opened O_RDONLY cannot be mapped writable. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", uw->req_fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
		if (ro < 0)
			return safeopen__fd_error(-errno);
		memcpy(body + 8, &size, 8);
		err = uw_ask(sb, M_UW_SETUP, body, sizeof(body), ro);
		close(ro);
		if (err)
			return err;
		body[0] = 1;
		size = UW_RES_MAP;
		memcpy(body + 8, &size, 8);
		if ((err = uw_ask(sb, M_UW_SETUP, body, sizeof(body), uw->res_fd)))
			return err;
		uw->setup_gen = sb->gen;
	}
	if (uw->nr_forget) {
		size_t max = SANDBOX_MAX_MSG / 8 / 4 * 4, n = uw->nr_forget < max ? uw->nr_forget : max;

		if ((err = uw_ask(sb, M_UW_FORGET, uw->forget + uw->nr_forget - n, n * 4, -1)))
			return err;
		uw->nr_forget -= n;
	}
	for (k = 0; k < nt; k++) {
		struct uw_proc *pr = uw_proc_find(uw, uw->pids[todo[k]]);

		if (pr && pr->sent_gen != sb->gen) {
			if ((err = uw_send_maps(sb, pr)))
				return err;
			pr->sent_gen = sb->gen;
		}
	}
	return 0;
}

/*
 * One round: unwind todo[0..nt) and decode their results into uw->tmp (in todo order). *gen is the
 * generation of the child that was asked (0 when none was).
 */
static int uw_round(struct sandbox *sb, const uint32_t *todo, uint32_t nt, uint32_t *gen)
{
	struct sandbox_uw *uw = sb->uw;
	static uint8_t body[16 + SANDBOX_UW_MAX_BATCH * 8];
	uint32_t k, max[SANDBOX_UW_MAX_BATCH];
	uint64_t res_len = 0, offs[SANDBOX_UW_MAX_BATCH];
	size_t len = 0;
	int32_t st;
	int n, err;

	for (k = 0; k < nt; k++)
		max[k] = uw->max[todo[k]];
	if (!sb->enabled) {
		for (k = 0; k < nt; k++) {
			struct uw_proc *pr = uw_proc_find(uw, uw->pids[todo[k]]);

			if (pr && pr->sent_gen != 1) {
				struct unwindsvc_map *w = malloc(pr->n * sizeof(*w));
				size_t i;

				if (!w)
					return -ENOMEM;
				for (i = 0; i < pr->n; i++)
					w[i] = uw_wire_map(sb, &pr->m[i]);
				err = unwindsvc__set_maps(uw->local, pr->pid, w, pr->n, 0);
				free(w);
				if (err)
					return err;
				pr->sent_gen = 1;
			}
		}
		for (k = 0; k < nt; k++)
			offs[k] = uw->offs[todo[k]];
		err = unwindsvc__unwind_batch(uw->local, uw->req, uw->req_used, offs, nt, uw->res, UW_RES_CAP, &len);
		if (err)
			return err;
		return unwindsvc__decode_results(uw->res, len, nt, max, uw->tmp, uw->tmp_ips,
						 sizeof(uw->tmp_ips) / 8);
	}
again:
	/*
	 * A child that dies while we open a file for it is started again once, with everything resent;
	 * one killed from outside (sandbox_request's -EAGAIN), as many times as that allows.
	 */
	err = uw_prepare_child(sb, todo, nt);
	if (err == -EPIPE || err == -EAGAIN || (err && !sb->pid && !sb->start_err))
		err = uw_prepare_child(sb, todo, nt);
	if (err == -EAGAIN)
		goto again;
	if (err)
		return err == -ENOMEM ? err : -EIO;
	memcpy(body, &nt, 4);
	memset(body + 4, 0, 4);
	res_len = uw->req_used;
	memcpy(body + 8, &res_len, 8);
	for (k = 0; k < nt; k++)
		memcpy(body + 16 + (size_t)k * 8, &uw->offs[todo[k]], 8);
	uw->stats.batches++;
	uw->stats.samples += nt;
	*gen = sb->gen;
	n = sandbox_request(sb, NULL, M_UW_BATCH, body, 16 + (size_t)nt * 8, -1, M_UW_DONE);
	if (n == -EAGAIN)
		goto again;
	if (n < 0)
		return -EIO;
	if (n != 24)
		goto bad;
	memcpy(&st, sb->msg, 4);
	memcpy(&res_len, sb->msg + 8, 8);
	memcpy(&uw->evicted_now, sb->msg + 16, 8);
	if (st || res_len > UW_RES_CAP)
		goto bad;
	/* Parse a private copy: the child can still write the shared one. */
	memcpy(uw->res_copy, uw->res, res_len);
	if (unwindsvc__decode_results(uw->res_copy, res_len, nt, max, uw->tmp, uw->tmp_ips,
				      sizeof(uw->tmp_ips) / 8) == 0)
		return 0;
bad:
	sandbox_child_failed(sb, NULL, "sent a bad unwinding result");
	return -EIO;
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
				"frame-pointer stacks)", e->name, UW_MAX_DROPPED);
			return;
		}
		if (fstat(e->fd, &uw->dropped[uw->nr_dropped]) == 0) {
			uw->nr_dropped++;
			e->uw_bad = 1;
			uw->stats.files_dropped++;
			uw->failed_in_row = 0;
			pr_warn("sandbox: the unwinder died reading the call frame information of '%s': "
				"its frames are no longer unwound through", e->name);
			return;
		}
	}
	if (++uw->failed_in_row >= UW_GIVE_UP) {
		uw->given_up = 1;
		pr_warn("sandbox: the unwinder failed %u batches in a row: DWARF unwinding stops here "
			"(samples keep their frame-pointer stacks)", uw->failed_in_row);
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
		sb->outside_streak = 0;
		err = uw_round(sb, todo, nt, &gen);
		if (err == -ENOMEM)
			return err;
		if (err) {
			for (k = 0; k < nt; k++)
				uw->res_out[todo[k]].lost = 1;
			uw->stats.failures += nt;
			if (sb->start_err) {
				/* No child will start: said once, when the recorder started it. */
				uw->given_up = 1;
				return 0;
			}
			pr_warn("sandbox: %u samples could not be unwound (kept with their frame-pointer stacks)", nt);
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
