// SPDX-License-Identifier: MIT
/*
 * The unwinding's rounds in the child (sandbox_proxy.h): the stacks go into a memfd that the child
 * maps read-only, the results come back through a second memfd that the parent copies before parsing
 * them defensively; the mappings of each process are sent before the first batch that needs them.
 * Also a file's unwind table built in the child (SBP_UW_TABLE), whose rows come back in a sealed
 * memfd of the child's that the parent reads and checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safeopen.h"
#include "sandbox_proxy.h"
#include "unwindsvc.h"
#include "uwtable.h"

struct proxy_uw {
	int req_fd, res_fd;                 /* the memfds of uw->req and uw->res */
	uint8_t *res_copy;                  /* the results, copied out of the child's reach before parsing */
	uint32_t setup_gen;                 /* the child generation that has mapped the buffers */
	uint64_t evicted_done, evicted_now; /* of children that are gone, of the current one */
};

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

int sandbox_proxy_uw_init(struct sandbox *sb, struct sandbox_uw *uw)
{
	struct proxy_uw *pu = calloc(1, sizeof(*pu));

	(void)sb;
	if (!pu)
		return -ENOMEM;
	uw->impl = pu;
	pu->req_fd = pu->res_fd = -1;
	pu->res_copy = malloc(UW_RES_CAP);
	if (!pu->res_copy)
		return -ENOMEM;
	/* Out of descriptors (EMFILE) is not out of memory: the caller goes on without unwinding. */
	uw->req = uw_memfd("scorch-unwind-req", UW_REQ_CAP, PROT_READ | PROT_WRITE, &pu->req_fd);
	if (!uw->req)
		return errno == EMFILE || errno == ENFILE ? -EMFILE : -ENOMEM;
	uw->res = uw_memfd("scorch-unwind-res", UW_RES_MAP, PROT_READ, &pu->res_fd);
	if (!uw->res)
		return errno == EMFILE || errno == ENFILE ? -EMFILE : -ENOMEM;
	return 0;
}

void sandbox_proxy_uw_release(struct sandbox *sb, struct sandbox_uw *uw)
{
	struct proxy_uw *pu = uw->impl;

	(void)sb;
	if (!pu)
		return;
	if (uw->req)
		munmap(uw->req, UW_REQ_CAP);
	if (uw->res)
		munmap(uw->res, UW_RES_MAP);
	if (pu->req_fd >= 0)
		close(pu->req_fd);
	if (pu->res_fd >= 0)
		close(pu->res_fd);
	free(pu->res_copy);
	free(pu);
}

uint32_t sandbox_proxy_uw_handle(struct sandbox *sb, struct sandbox_elf *e)
{
	return sandbox_proxy_open(sb, e) == 0 ? e->handle : UNWINDSVC_NOFILE;
}

uint64_t sandbox_proxy_uw_evicted(const struct sandbox *sb)
{
	struct proxy_uw *pu = sb->uw->impl;

	return pu->evicted_done + pu->evicted_now;
}

/* Send a small request and check its SBP_UW_ACK. */
static int uw_ask(struct sandbox *sb, uint32_t type, const void *body, size_t len, int fd)
{
	struct sbp_status st;
	int n = sandbox_proxy_request(sb, NULL, type, body, len, fd, SBP_UW_ACK);

	if (n < 0)
		return n;
	if (sbproto__decode_status(sandbox_proxy_msg(sb), (size_t)n, &st)) {
		sandbox_proxy_failed(sb, NULL, "sent a bad message");
		return -EPROTO;
	}
	return safeopen__fd_error(st.status); /* -EMFILE: the child out of descriptors */
}

static int uw_send_maps(struct sandbox *sb, struct uw_proc *pr)
{
	static uint8_t body[SBPROTO_MAX_BODY];
	static struct unwindsvc_map w[SBPROTO_UW_MAPS_CHUNK];
	size_t i = 0;
	int err;

	do {
		struct sbp_uw_maps m = { .pid = pr->pid, .append = i != 0, .maps = w };

		for (; i < pr->n && m.n < SBPROTO_UW_MAPS_CHUNK; i++)
			w[m.n++] = sandbox_uw_wire_map(sb, &pr->m[i]);
		if (!sandbox_proxy_gen(sb))
			return -EPIPE; /* a file's open killed the child */
		err = uw_ask(sb, SBP_UW_MAPS, body, sbproto__encode_uw_maps(body, sizeof(body), &m), -1);
		if (err)
			return err;
	} while (i < pr->n);
	return 0;
}

/* Make the current child ready for a batch with the samples todo[0..nt): buffers and maps. */
static int uw_prepare_child(struct sandbox *sb, const uint32_t *todo, uint32_t nt)
{
	struct sandbox_uw *uw = sb->uw;
	struct proxy_uw *pu = uw->impl;
	uint32_t k;
	int err;

	if (!sandbox_proxy_gen(sb) && (err = sandbox_proxy_start(sb)))
		return err;
	if (pu->setup_gen != sandbox_proxy_gen(sb)) {
		char path[64];
		uint8_t body[16];
		int ro;

		/* A new child: what the old one had evicted is history, and it has none of our maps. */
		pu->evicted_done += pu->evicted_now;
		pu->evicted_now = 0;
		uw->nr_forget = 0;
		/* Read-only to the child: a description opened O_RDONLY cannot be mapped writable. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pu->req_fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
		if (ro < 0)
			return safeopen__fd_error(-errno);
		err = uw_ask(
			sb, SBP_UW_SETUP, body,
			sbproto__encode_uw_setup(body, sizeof(body), &(struct sbp_uw_setup){ 0, UW_REQ_CAP }),
			ro);
		close(ro);
		if (err)
			return err;
		err = uw_ask(
			sb, SBP_UW_SETUP, body,
			sbproto__encode_uw_setup(body, sizeof(body), &(struct sbp_uw_setup){ 1, UW_RES_MAP }),
			pu->res_fd);
		if (err)
			return err;
		pu->setup_gen = sandbox_proxy_gen(sb);
	}
	if (uw->nr_forget) {
		static uint8_t body[SBPROTO_MAX_BODY];
		size_t n = uw->nr_forget < SBPROTO_UW_FORGET_MAX ? uw->nr_forget : SBPROTO_UW_FORGET_MAX;
		struct sbp_uw_forget m = { n, uw->forget + uw->nr_forget - n };

		if ((err = uw_ask(sb, SBP_UW_FORGET, body, sbproto__encode_uw_forget(body, sizeof(body), &m),
				  -1)))
			return err;
		uw->nr_forget -= n;
	}
	for (k = 0; k < nt; k++) {
		struct uw_proc *pr = sandbox_uw_proc(uw, uw->pids[todo[k]]);

		if (pr && pr->sent_gen != sandbox_proxy_gen(sb)) {
			if ((err = uw_send_maps(sb, pr)))
				return err;
			pr->sent_gen = sandbox_proxy_gen(sb);
		}
	}
	return 0;
}

int sandbox_proxy_uw_round(struct sandbox *sb, const uint32_t *todo, uint32_t nt, uint32_t *gen)
{
	static uint8_t body[16 + SANDBOX_UW_MAX_BATCH * 8];
	static struct sbp_uw_batch rq;
	struct sandbox_uw *uw = sb->uw;
	struct proxy_uw *pu = uw->impl;
	uint32_t k, max[SANDBOX_UW_MAX_BATCH];
	struct sbp_uw_done d;
	int n, err;

	sandbox_proxy_new_operation(sb);
	for (k = 0; k < nt; k++)
		max[k] = uw->max[todo[k]];
again:
	/*
	 * A child that dies while we open a file for it is started again once, with everything resent;
	 * one killed from outside (sandbox_proxy_request's -EAGAIN), as many times as that allows.
	 */
	err = uw_prepare_child(sb, todo, nt);
	if (err == -EPIPE || err == -EAGAIN ||
	    (err && !sandbox_proxy_gen(sb) && !sandbox_proxy_cannot_start(sb)))
		err = uw_prepare_child(sb, todo, nt);
	if (err == -EAGAIN)
		goto again;
	if (err)
		return err == -ENOMEM ? err : -EIO;
	rq.n = nt;
	rq.req_len = uw->req_used;
	for (k = 0; k < nt; k++)
		rq.offs[k] = uw->offs[todo[k]];
	uw->stats.batches++;
	uw->stats.samples += nt;
	*gen = sandbox_proxy_gen(sb);
	n = sandbox_proxy_request(sb, NULL, SBP_UW_BATCH, body,
				  sbproto__encode_uw_batch(body, sizeof(body), &rq), -1, SBP_UW_DONE);
	if (n == -EAGAIN)
		goto again;
	if (n < 0)
		return -EIO;
	if (sbproto__decode_uw_done(sandbox_proxy_msg(sb), (size_t)n, &d))
		goto bad;
	pu->evicted_now = d.evicted;
	if (d.status || d.res_len > UW_RES_CAP)
		goto bad;
	/* Parse a private copy: the child can still write the shared one. */
	memcpy(pu->res_copy, uw->res, d.res_len);
	if (unwindsvc__decode_results(pu->res_copy, d.res_len, nt, max, uw->tmp, uw->tmp_ips,
				      sizeof(uw->tmp_ips) / 8) == 0)
		return 0;
bad:
	sandbox_proxy_failed(sb, NULL, "sent a bad unwinding result");
	return -EIO;
}

/* --- unwind tables ------------------------------------------------------------------------------ */

int sandbox_proxy_uw_table_rows(int fd, uint32_t nr, struct uwtable *out)
{
	size_t size = (size_t)nr * sizeof(*out->rows), got = 0;
	struct stat st;
	int seals;

	memset(out, 0, sizeof(*out));
	if (fd < 0 || !nr || nr > UWTABLE_MAX_ROWS)
		return -EPROTO;
	/* Sealed (only memfds and tmpfs files can be): nobody changes what we read, or its size. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SBPROTO_UW_TABLE_SEALS) != SBPROTO_UW_TABLE_SEALS || fstat(fd, &st) ||
	    !S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size != size)
		return -EPROTO;
	out->rows = malloc(size);
	if (!out->rows)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = pread(fd, (uint8_t *)out->rows + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != size || uwtable__validate(out->rows, nr)) {
		free(out->rows);
		out->rows = NULL;
		return -EPROTO;
	}
	out->nr = nr;
	return 0;
}

int sandbox_proxy_uw_table(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out)
{
	struct sbp_uw_table rq = { 0, max_rows };
	struct sbp_uw_tabled d;
	uint8_t body[8];
	int n, fd = -1, err;

	sandbox_proxy_new_operation(sb);
	do {
		if ((err = sandbox_proxy_open(sb, e)) < 0)
			return err;
		rq.handle = e->handle;
		n = sandbox_proxy_request_fd(sb, e, SBP_UW_TABLE, body,
					     sbproto__encode_uw_table(body, sizeof(body), &rq), -1,
					     SBP_UW_TABLED, &fd);
	} while (n == -EAGAIN);
	if (n < 0)
		return n;
	if (fd == SBPROTO_FD_LOST)
		return safeopen__fd_error(
			-EMFILE); /* this process out of descriptors: not the child's doing */
	if (sbproto__decode_uw_tabled(sandbox_proxy_msg(sb), (size_t)n, &d))
		err = -EPROTO;
	else if (d.status < 0)
		err = fd >= 0 ? -EPROTO : d.status;
	else if (d.nr > max_rows)
		err = -EPROTO;
	else
		err = sandbox_proxy_uw_table_rows(fd, d.nr, out);
	if (fd >= 0)
		close(fd);
	if (err == -EPROTO)
		sandbox_proxy_failed(sb, e, "sent a bad unwind table");
	if (err)
		return err;
	out->base = d.base;
	out->st = d.st;
	return 0;
}
