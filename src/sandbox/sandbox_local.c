// SPDX-License-Identifier: MIT
/*
 * The sandbox's in-process implementation (sandbox_int.h, --no-sandbox): the symbolizer and the
 * unwinding service called directly, with the files registered as the child would have them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safeopen.h"
#include "sandbox_int.h"
#include "unwindsvc.h"
#include "uwtable.h"

static struct symbolizer *sym(struct sandbox *sb)
{
	return sb->impl;
}

static int local_init(struct sandbox *sb)
{
	sb->impl = symbolizer__new(&sb->opts);
	return sb->impl ? 0 : -ENOMEM;
}

static void local_release(struct sandbox *sb)
{
	symbolizer__free(sym(sb));
}

static int local_start(struct sandbox *sb, char *why, size_t size)
{
	(void)sb, (void)why, (void)size;
	return 0;
}

static int local_start_failed(const struct sandbox *sb)
{
	(void)sb;
	return 0;
}

static void fill_local(struct sandbox_elf *e)
{
	size_t bl = strlen(symbolizer__build_id(e->local));

	while (e->nr_segs < SBPROTO_MAX_SEGS &&
	       symbolizer__load_segment(e->local, e->nr_segs, &e->segs[e->nr_segs][0],
					&e->segs[e->nr_segs][1], &e->segs[e->nr_segs][2]) == 0)
		e->nr_segs++;
	if (bl <= SBPROTO_MAX_BUILD_ID)
		memcpy(e->build_id, symbolizer__build_id(e->local), bl + 1);
}

static struct sandbox_elf *local_open_fd(struct sandbox *sb, int fd, const char *name, const char *root)
{
	struct sym_elf *l = symbolizer__open_fd(sym(sb), fd, name, root);
	struct sandbox_elf *e;

	if (!l) {
		safeopen__fd_error(-errno);
		return NULL;
	}
	e = sandbox_add_elf(sb, name, root);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->local = l;
	fill_local(e);
	/* Kept for the in-process unwinding service, under the handle the child would give it. */
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	e->handle = (uint32_t)(sb->nr_elfs - 1);
	return e;
}

static struct sandbox_elf *local_vdso(struct sandbox *sb)
{
	struct sym_elf *l = symbolizer__vdso(sym(sb));
	struct sandbox_elf *e;

	if (!l || !(e = sandbox_add_elf(sb, "[vdso]", NULL)))
		return NULL;
	e->local = l;
	e->is_vdso = 1;
	fill_local(e);
	return e;
}

static int local_lookup(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out,
			int max)
{
	return symbolizer__lookup(sym(sb), e->local, vaddr, out, max);
}

static int local_lookup_many(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n,
			     int max, struct sym_frame *frames, struct sandbox_frames *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int k = symbolizer__lookup(sym(sb), e->local, vaddrs[i], frames + i * (size_t)max, max);

		out[i].f = frames + i * (size_t)max;
		out[i].n = k < 0 ? 0 : k;
	}
	return 0;
}

static int local_has_dwarf(struct sandbox *sb, struct sandbox_elf *e)
{
	return symbolizer__has_dwarf(sym(sb), e->local);
}

static int local_share_cpu(struct sandbox *sb)
{
	(void)sb;
	return 0;
}

static int local_child_pid(struct sandbox *sb)
{
	(void)sb;
	return -ENOSYS;
}

static int local_test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg)
{
	(void)sb, (void)e, (void)what, (void)arg;
	return -ENOSYS;
}

/* --- unwinding: the service in this process ------------------------------------------------------ */

static int local_uw_init(struct sandbox *sb, struct sandbox_uw *uw)
{
	(void)sb;
	uw->impl = unwindsvc__new();
	uw->req = malloc(UW_REQ_CAP);
	uw->res = malloc(UW_RES_MAP);
	return uw->impl && uw->req && uw->res ? 0 : -ENOMEM;
}

static void local_uw_release(struct sandbox *sb, struct sandbox_uw *uw)
{
	(void)sb;
	unwindsvc__free(uw->impl);
	free(uw->req);
	free(uw->res);
}

static uint32_t local_uw_handle(struct sandbox *sb, struct sandbox_elf *e)
{
	struct sandbox_uw *uw = sb->uw;

	if (!e->uw_added && e->fd >= 0) {
		e->uw_added = 1;
		unwindsvc__add_file(uw->impl, e->handle, fcntl(e->fd, F_DUPFD_CLOEXEC, 3));
	}
	return e->uw_added ? e->handle : UNWINDSVC_NOFILE;
}

static int local_uw_round(struct sandbox *sb, const uint32_t *todo, uint32_t nt, uint32_t *gen)
{
	struct sandbox_uw *uw = sb->uw;
	uint32_t k, max[SANDBOX_UW_MAX_BATCH];
	uint64_t offs[SANDBOX_UW_MAX_BATCH];
	size_t len = 0;
	int err;

	*gen = 0;
	for (k = 0; k < nt; k++) {
		struct uw_proc *pr = sandbox_uw_proc(uw, uw->pids[todo[k]]);

		max[k] = uw->max[todo[k]];
		offs[k] = uw->offs[todo[k]];
		if (pr && pr->sent_gen != 1) {
			struct unwindsvc_map *w = malloc(pr->n * sizeof(*w));
			size_t i;

			if (!w)
				return -ENOMEM;
			for (i = 0; i < pr->n; i++)
				w[i] = sandbox_uw_wire_map(sb, &pr->m[i]);
			err = unwindsvc__set_maps(uw->impl, pr->pid, w, pr->n, 0);
			free(w);
			if (err)
				return err;
			pr->sent_gen = 1;
		}
	}
	err = unwindsvc__unwind_batch(uw->impl, uw->req, uw->req_used, offs, nt, uw->res, UW_RES_CAP, &len);
	if (err)
		return err;
	return unwindsvc__decode_results(uw->res, len, nt, max, uw->tmp, uw->tmp_ips,
					 sizeof(uw->tmp_ips) / 8);
}

static uint64_t local_uw_evicted(const struct sandbox *sb)
{
	return unwindsvc__images_evicted(sb->uw->impl);
}

/* --- unwind tables ------------------------------------------------------------------------------ */

/*
 * The builder reads our dup of the file with pread, so its offset is no one's concern; the vDSO from
 * the unwinding service's copy of its image, as the child does.
 */
static int local_uw_table(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out)
{
	struct sandbox_uw *uw;
	const uint8_t *img;
	size_t size;
	int err;

	if (e->is_vdso) {
		if (!(uw = sandbox_uw_get(sb)))
			return sb->uw_err;
		img = unwindsvc__vdso(uw->impl, &size);
		err = img ? uwtable__build(img, size, max_rows, out) : -ENOENT;
	} else if (e->fd < 0) {
		return -ENOENT; /* a file without a descriptor */
	} else {
		err = uwtable__build_fd(e->fd, max_rows, out);
	}
	if (err)
		return err;
	/* The same promise as the child's rows: a table that fails the check is not handed out. */
	if (out->nr > max_rows || uwtable__validate(out->rows, out->nr)) {
		uwtable__release(out);
		memset(out, 0, sizeof(*out));
		return -EPROTO;
	}
	return 0;
}

const struct symsvc_ops sandbox_local_ops = {
	.init = local_init,
	.release = local_release,
	.start = local_start,
	.start_failed = local_start_failed,
	.open_fd = local_open_fd,
	.vdso = local_vdso,
	.lookup = local_lookup,
	.lookup_many = local_lookup_many,
	.has_dwarf = local_has_dwarf,
	.share_cpu = local_share_cpu,
	.child_pid = local_child_pid,
	.test = local_test,
	.max_frames = INT32_MAX,
	.uw_init = local_uw_init,
	.uw_release = local_uw_release,
	.uw_handle = local_uw_handle,
	.uw_round = local_uw_round,
	.uw_evicted = local_uw_evicted,
	.uw_table = local_uw_table,
};
