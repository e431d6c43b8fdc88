// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "idxmap.h"
#include "procmaps.h"
#include "unwinder.h"
#include "testhooks.h"
#include "unwindsvc.h"

/* Files larger than this are not read for their unwind tables. */
#define MAX_IMAGE (512u << 20)
#define MAX_HANDLE (1u << 24)

/* A file's bytes for the unwinder, read once per (device, inode, size, mtime). */
struct file {
	uint64_t dev, ino, size, mtime;
	int fd;            /* owned; -1 for the vDSO */
	uint8_t *data;     /* owned; NULL when not read, evicted or unreadable */
	int failed;        /* could not be read: not tried again */
	uint64_t last_use; /* the sample epoch that last used it */
	uint64_t id;       /* names the bytes in data for the unwinder's caches: new at every read */
	int test_crash;    /* holds the SCORCH_TEST_UNWIND_CRASH_MARKER bytes (tests only) */
};

struct proc {
	uint32_t pid;
	struct unwindsvc_map *m; /* owned, sorted by start */
	size_t n, cap;
};

struct unwindsvc {
	struct unwinder *u;
	struct file *files; /* owned */
	size_t nr_files, cap_files;
	uint32_t *handles; /* handle -> file index + 1 (0: none) */
	size_t cap_handles;
	struct file vdso;   /* dev 0, inode 0 */
	struct proc *procs; /* owned */
	size_t nr_procs, cap_procs;
	struct u64map proc_idx; /* pid -> index + 1 */
	uint64_t bytes, budget, evicted, epoch, ids;
	uint64_t ips[UNWINDSVC_MAX_DEPTH];
	volatile uint32_t *watch; /* borrowed: see unwindsvc__watch() */
	const char *crash_marker; /* tests only: abort when handing over an image that holds it */
};

/* The vDSO has no file: copy our own (its ELF image starts at AT_SYSINFO_EHDR and fills its mapping). */
static void copy_vdso(struct unwindsvc *s)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	const struct procmaps_entry *e;
	struct procmaps self;

	s->vdso.fd = -1;
	s->vdso.failed = 1;
	procmaps__init(&self);
	if (base && procmaps__read(&self, getpid()) == 0 && (e = procmaps__find(&self, base)) &&
	    e->start == base && (s->vdso.data = malloc(e->end - e->start))) {
		memcpy(s->vdso.data, (const void *)(uintptr_t)base, e->end - e->start);
		s->vdso.size = e->end - e->start;
		s->vdso.id = ++s->ids;
		s->vdso.failed = 0;
	}
	procmaps__release(&self);
}

static int no_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	(void)ctx;
	(void)addr;
	(void)out;
	return -ENOENT;
}

/*
 * libunwind initialises itself on first use, and 1.6.2 opens a pipe then (to validate addresses of
 * local unwinding, which we never do): one unwind of nothing now, before the sandbox's seccomp filter
 * would kill the child for pipe2.
 */
static void warm_up(struct unwindsvc *s)
{
	uint64_t regs[SCORCH_NR_REGS] = { 0 }, ip;
	struct unwinder_input in = { .regs = regs, .find_map = no_map };
	struct unwinder_result res;

	regs[SCORCH_REG_RIP] = 0x1000;
	unwinder__unwind(s->u, 0, &in, &ip, 1, &res);
	unwinder__flush(s->u, 0);
}

struct unwindsvc *unwindsvc__new(void)
{
	struct unwindsvc *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->u = unwinder__new();
	if (!s->u) {
		free(s);
		return NULL;
	}
	u64map__init(&s->proc_idx);
	s->budget = testhooks__set(TESTHOOK_IMAGES_BUDGET) ? testhooks__num(TESTHOOK_IMAGES_BUDGET)
							   : UNWINDSVC_IMAGES_BUDGET;
	s->crash_marker = testhooks__str(TESTHOOK_UNWIND_CRASH_MARKER);
	copy_vdso(s);
	warm_up(s);
	return s;
}

void unwindsvc__free(struct unwindsvc *s)
{
	size_t i;

	if (!s)
		return;
	unwinder__free(s->u);
	for (i = 0; i < s->nr_files; i++) {
		if (s->files[i].fd >= 0)
			close(s->files[i].fd);
		free(s->files[i].data);
	}
	free(s->files);
	free(s->handles);
	free(s->vdso.data);
	for (i = 0; i < s->nr_procs; i++)
		free(s->procs[i].m);
	free(s->procs);
	u64map__release(&s->proc_idx);
	free(s);
}

int unwindsvc__add_file(struct unwindsvc *s, uint32_t handle, int fd)
{
	struct file f = { 0 };
	struct stat st;
	size_t k;

	if (handle >= MAX_HANDLE || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (array__grow(&s->handles, &s->cap_handles, (size_t)handle + 1, sizeof(*s->handles))) {
		close(fd);
		return -ENOMEM;
	}
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.size = (uint64_t)st.st_size;
	f.mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	f.fd = fd;
	f.failed = st.st_size <= 0 || f.size > MAX_IMAGE;
	for (k = 0; k < s->nr_files; k++) {
		const struct file *c = &s->files[k];

		if (c->dev == f.dev && c->ino == f.ino && c->size == f.size && c->mtime == f.mtime) {
			close(fd); /* the same file, mapped again or by another process */
			s->handles[handle] = (uint32_t)k + 1;
			return 0;
		}
	}
	if (array__grow(&s->files, &s->cap_files, s->nr_files + 1, sizeof(*s->files))) {
		close(fd);
		return -ENOMEM;
	}
	s->files[s->nr_files++] = f;
	s->handles[handle] = (uint32_t)s->nr_files;
	return 0;
}

int unwindsvc__set_maps(struct unwindsvc *s, uint32_t pid, const struct unwindsvc_map *m, size_t n,
			int append)
{
	struct proc *pr;
	uint64_t idx;

	if (!u64map__get(&s->proc_idx, pid, &idx)) {
		if (!n)
			return 0;
		if (array__grow(&s->procs, &s->cap_procs, s->nr_procs + 1, sizeof(*s->procs)) ||
		    u64map__set(&s->proc_idx, pid, s->nr_procs + 1))
			return -ENOMEM;
		idx = ++s->nr_procs;
		s->procs[idx - 1].pid = pid;
	}
	pr = &s->procs[idx - 1];
	if (!append) {
		pr->n = 0;
		unwinder__flush(s->u, pid);
	}
	if (!n && !append) {
		free(pr->m);
		pr->m = NULL;
		pr->cap = 0;
		return 0;
	}
	if (array__grow(&pr->m, &pr->cap, pr->n + n, sizeof(*pr->m)))
		return -ENOMEM;
	memcpy(pr->m + pr->n, m, n * sizeof(*m));
	pr->n += n;
	return 0;
}

void unwindsvc__watch(struct unwindsvc *s, volatile uint32_t *slot)
{
	s->watch = slot;
}

uint64_t unwindsvc__images_evicted(const struct unwindsvc *s)
{
	return s->evicted;
}

int unwindsvc__file_fd(const struct unwindsvc *s, uint32_t handle)
{
	if (handle >= s->cap_handles || !s->handles[handle])
		return -ENOENT;
	return s->files[s->handles[handle] - 1].fd;
}

const uint8_t *unwindsvc__vdso(const struct unwindsvc *s, size_t *size)
{
	*size = s->vdso.data ? s->vdso.size : 0;
	return s->vdso.data;
}

/* Drop least recently used images until 'need' more bytes fit the budget. */
static void make_room(struct unwindsvc *s, uint64_t need)
{
	while (s->bytes + need > s->budget) {
		size_t k, victim = SIZE_MAX;

		for (k = 0; k < s->nr_files; k++) {
			const struct file *c = &s->files[k];

			/* Not an image the current sample uses (the unwinder holds pointers into those). */
			if (!c->data || c->last_use == s->epoch)
				continue;
			if (victim == SIZE_MAX || c->last_use < s->files[victim].last_use)
				victim = k;
		}
		if (victim == SIZE_MAX)
			return;
		free(s->files[victim].data);
		s->files[victim].data = NULL;
		s->bytes -= s->files[victim].size;
		s->evicted++;
	}
}

/*
 * The bytes of a file: read (not mmapped: a target that truncates its file would turn our reads into
 * SIGBUS) when first needed and again after an eviction; a failure is kept.
 */
static const struct file *file_image(struct unwindsvc *s, struct file *f)
{
	size_t got = 0;

	f->last_use = s->epoch;
	if (f->data || f->failed)
		return f->data ? f : NULL;
	make_room(s, f->size);
	f->data = malloc(f->size);
	while (f->data && got < f->size) {
		ssize_t n = pread(f->fd, f->data + got, f->size - got, (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < f->size) {
		free(f->data);
		f->data = NULL;
		f->failed = 1;
		return NULL;
	}
	f->id = ++s->ids;
	s->bytes += f->size;
	if (s->crash_marker && memmem(f->data, f->size, s->crash_marker, strlen(s->crash_marker)))
		f->test_crash = 1;
	return f;
}

struct find_ctx {
	struct unwindsvc *s;
	const struct proc *pr; /* NULL: the process is unknown */
	struct unwindsvc_res *res;
	int need_unresolved; /* res->need_addr is in a mapping whose file is not resolved */
};

/*
 * Report the first miss, but one in a mapping whose file is unresolved before any miss outside every
 * mapping: a frame without CFI (JIT code, or a file not resolved yet) makes libunwind guess from RBP,
 * and its reads of garbage addresses (0x18) must not hide the file the unwind really needs (libc's,
 * for start_thread) and leave the sample cut there, unretried.
 */
static void miss(struct find_ctx *fc, uint64_t addr, int unresolved)
{
	if (!fc->res->need || (unresolved && !fc->need_unresolved)) {
		fc->res->need = 1;
		fc->res->need_addr = addr;
		fc->need_unresolved = unresolved;
	}
}

static int find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	struct find_ctx *fc = ctx;
	const struct unwindsvc_map *m = NULL;
	const struct file *f = NULL;
	size_t lo = 0, hi = fc->pr ? fc->pr->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fc->pr->m[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < fc->pr->m[lo - 1].end)
		m = &fc->pr->m[lo - 1];
	if (!m || m->handle == UNWINDSVC_UNRESOLVED) {
		miss(fc, addr, m != NULL);
		return -ENOENT;
	}
	out->start = m->start;
	out->end = m->end;
	out->offset = m->offset;
	if (m->handle == UNWINDSVC_VDSO)
		f = fc->s->vdso.data ? &fc->s->vdso : NULL;
	else if (m->handle < fc->s->cap_handles && fc->s->handles[m->handle])
		f = file_image(fc->s, &fc->s->files[fc->s->handles[m->handle] - 1]);
	if (f && fc->s->watch)
		*fc->s->watch = m->handle;
	if (f && f->test_crash)
		abort(); /* for the tests: a file whose bytes bring the unwinder down */
	if (f) {
		out->image = f->data;
		out->image_size = f->size;
		out->image_id = f->id;
	}
	return 0;
}

size_t unwindsvc__request_size(uint32_t stack_size)
{
	if (stack_size > UNWINDSVC_MAX_STACK)
		stack_size = UNWINDSVC_MAX_STACK;
	return sizeof(struct unwindsvc_req) + (((size_t)stack_size + 7) & ~(size_t)7);
}

size_t unwindsvc__result_size(uint32_t max)
{
	return sizeof(struct unwindsvc_res) + (size_t)max * 8;
}

size_t unwindsvc__encode_request(uint8_t *buf, size_t cap, size_t at, const struct unwindsvc_req *rq,
				 const uint8_t *stack)
{
	struct unwindsvc_req r = *rq;
	size_t need;

	if (r.stack_size > UNWINDSVC_MAX_STACK)
		r.stack_size = UNWINDSVC_MAX_STACK;
	need = unwindsvc__request_size(r.stack_size);
	if (at % 8 || at > cap || cap - at < need)
		return 0;
	memcpy(buf + at, &r, sizeof(r));
	if (r.stack_size)
		memcpy(buf + at + sizeof(r), stack, r.stack_size);
	memset(buf + at + sizeof(r) + r.stack_size, 0, need - sizeof(r) - r.stack_size);
	return at + need;
}

size_t unwindsvc__encode_result(uint8_t *buf, size_t cap, size_t at, const struct unwindsvc_res *r,
				const uint64_t *ips)
{
	size_t need = unwindsvc__result_size(r->nr);

	if (at > cap || cap - at < need)
		return 0;
	memcpy(buf + at, r, sizeof(*r));
	if (r->nr)
		memcpy(buf + at + sizeof(*r), ips, (size_t)r->nr * 8);
	return at + need;
}

int unwindsvc__unwind_batch(struct unwindsvc *s, const uint8_t *req, size_t req_len, const uint64_t *offsets,
			    uint32_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t at = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct unwindsvc_req rq;
		struct unwindsvc_res res = { 0 };
		struct unwinder_result ur = { 0 };
		struct find_ctx fc = { s, NULL, &res };
		struct unwinder_input in = { 0 };
		uint64_t off = offsets[i], idx;
		int err;

		if (off % 8 || off > req_len || req_len - off < sizeof(rq))
			return -EINVAL;
		memcpy(&rq, req + off, sizeof(rq));
		if (rq.stack_size > UNWINDSVC_MAX_STACK ||
		    req_len - off < unwindsvc__request_size(rq.stack_size) || !rq.max ||
		    rq.max > UNWINDSVC_MAX_DEPTH)
			return -EINVAL;
		if (u64map__get(&s->proc_idx, rq.pid, &idx))
			fc.pr = &s->procs[idx - 1];
		in.regs = rq.regs;
		in.stack = req + off + sizeof(rq);
		in.stack_size = rq.stack_size;
		in.find_map = find_map;
		in.ctx = &fc;
		in.fp_fallback = !!(rq.flags & UNWINDSVC_FP_FALLBACK);
		s->epoch++; /* the images this sample uses are not evicted while it is unwound */
		if (s->watch)
			*s->watch = UNWINDSVC_NOFILE;
		err = unwinder__unwind(s->u, rq.pid, &in, s->ips, rq.max, &ur);
		if (err == -ENOMEM)
			return err;
		if (!err) {
			res.status = (uint32_t)ur.status;
			res.nr = ur.nr <= rq.max ? ur.nr : rq.max;
			res.fp_steps = ur.fp_steps;
			res.fail_ip = ur.fail_ip;
		} else {
			res.status = UNWINDER_FAILED; /* nr 0: the caller keeps what it had */
		}
		at = unwindsvc__encode_result(out, cap, at, &res, s->ips);
		if (!at)
			return -ENOSPC;
	}
	*out_len = at;
	return 0;
}

int unwindsvc__decode_results(const uint8_t *buf, size_t len, uint32_t n, const uint32_t *max,
			      struct unwindsvc_result *out, uint64_t *ips, size_t ips_cap)
{
	size_t at = 0, used = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct unwindsvc_res r;

		if (len - at < sizeof(r))
			return -EPROTO;
		memcpy(&r, buf + at, sizeof(r));
		at += sizeof(r);
		if (r.status > UNWINDER_FAILED || r.nr > max[i] || r.need > 1 ||
		    (size_t)r.nr > ips_cap - used || (len - at) / 8 < r.nr)
			return -EPROTO;
		memcpy(ips + used, buf + at, (size_t)r.nr * 8);
		at += (size_t)r.nr * 8;
		out[i].r = r;
		out[i].ips = ips + used;
		used += r.nr;
	}
	return at == len ? 0 : -EPROTO;
}
