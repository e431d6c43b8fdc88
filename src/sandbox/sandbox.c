// SPDX-License-Identifier: MIT
/*
 * The sandbox's front (sandbox.h): the files it was given and the calls, passed to the implementation
 * chosen at sandbox__new() (sandbox_int.h: in-process or in the child).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "sandbox_int.h"
#include "uwtable.h"

struct sandbox *sandbox__new(const struct symbolizer_opts *opts, int enabled)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	if (opts)
		sb->opts = *opts;
	sb->ops = enabled ? &sandbox_proxy_ops : &sandbox_local_ops;
	if (sb->ops->init(sb)) {
		free(sb);
		return NULL;
	}
	return sb;
}

int sandbox__start(struct sandbox *sb, char *why, size_t size)
{
	return sb->ops->start(sb, why, size);
}

void sandbox__free(struct sandbox *sb)
{
	size_t i;

	if (!sb)
		return;
	sandbox_uw_free(sb, sb->uw);
	sb->ops->release(sb);
	for (i = 0; i < sb->nr_elfs; i++) {
		if (sb->elfs[i]->fd >= 0)
			close(sb->elfs[i]->fd);
		free(sb->elfs[i]->name);
		free(sb->elfs[i]->root);
		free(sb->elfs[i]);
	}
	free(sb->elfs);
	free(sb->many);
	free(sb);
}

struct sandbox_elf *sandbox_add_elf(struct sandbox *sb, const char *name, const char *root)
{
	struct sandbox_elf *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fd = -1;
	e->name = strdup(name);
	e->root = root ? strdup(root) : NULL;
	if (!e->name || (root && !e->root) ||
	    array__grow(&sb->elfs, &sb->cap_elfs, sb->nr_elfs + 1, sizeof(*sb->elfs))) {
		free(e->name);
		free(e->root);
		free(e);
		return NULL;
	}
	sb->elfs[sb->nr_elfs++] = e;
	return e;
}

struct sandbox_elf *sandbox__open_fd(struct sandbox *sb, int fd, const char *name, const char *root)
{
	return sb->ops->open_fd(sb, fd, name, root);
}

struct sandbox_elf *sandbox__vdso(struct sandbox *sb)
{
	if (!sb->vdso_tried) {
		sb->vdso_tried = 1;
		sb->vdso = sb->ops->vdso(sb);
	}
	return sb->vdso;
}

int sandbox__offset_to_vaddr(const struct sandbox_elf *e, uint64_t offset, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < e->nr_segs; i++) {
		const uint64_t *g = e->segs[i];

		if (offset >= g[0] && offset - g[0] < g[2]) {
			*vaddr = offset - g[0] + g[1];
			return 0;
		}
	}
	return -ENOENT;
}

const char *sandbox__build_id(const struct sandbox_elf *e)
{
	return e->build_id;
}

int sandbox__lookup(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out, int max)
{
	return sb->ops->lookup(sb, e, vaddr, out, max);
}

int sandbox__lookup_many(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n, int max,
			 struct sandbox_frames *out)
{
	size_t i, m;

	for (i = 0; i < n; i++) {
		out[i].f = NULL;
		out[i].n = 0;
	}
	if (!n || max <= 0)
		return 0;
	m = (size_t)(max > sb->ops->max_frames ? sb->ops->max_frames : max);
	if (n > SIZE_MAX / sizeof(*sb->many) / m)
		return -ENOMEM;
	if (array__grow(&sb->many, &sb->cap_many, n * m, sizeof(*sb->many)))
		return -ENOMEM;
	return sb->ops->lookup_many(sb, e, vaddrs, n, (int)m, sb->many, out);
}

int sandbox__has_dwarf(struct sandbox *sb, struct sandbox_elf *e)
{
	return sb->ops->has_dwarf(sb, e);
}

int sandbox__share_cpu(struct sandbox *sb)
{
	return sb->ops->share_cpu(sb);
}

void sandbox__stats(const struct sandbox *sb, struct sandbox_stats *st)
{
	*st = sb->stats;
}

int sandbox__child_pid(struct sandbox *sb)
{
	return sb->ops->child_pid(sb);
}

int sandbox__test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg)
{
	return sb->ops->test(sb, e, what, arg);
}

int sandbox__uw_table(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!e || !max_rows)
		return -EINVAL;
	return sb->ops->uw_table(sb, e, max_rows > UWTABLE_MAX_ROWS ? UWTABLE_MAX_ROWS : max_rows, out);
}
