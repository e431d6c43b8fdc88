// SPDX-License-Identifier: MIT
/* The sandbox's protocol (sbproto.h): framing, then one encoder and decoder per message. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sbproto.h"

#define NULL_STR 0xffffffffu

_Static_assert(sizeof(struct sbp_hdr) == 8, "the header is two u32");
_Static_assert(SBP__NR <= 256, "types fit the receiver's check");
_Static_assert(sizeof(struct uwtable_stats) == 8 * 4,
	       "struct uwtable_stats changed: update SBP_UW_TABLED (sbproto.h) and its encoder and decoder");

/* --- framing ------------------------------------------------------------------------------------ */

int sbproto__send(int sock, uint32_t type, const void *body, size_t len, int fd)
{
	uint8_t buf[SANDBOX_MAX_MSG];
	struct sbp_hdr h = { type, (uint32_t)len };
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov;
	struct msghdr mh = { 0 };

	if (len > sizeof(buf) - sizeof(h))
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	iov.iov_base = buf;
	iov.iov_len = sizeof(h) + len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.space;
		mh.msg_controllen = sizeof(u.space);
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&u.c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

		if (n >= 0)
			return n == (ssize_t)iov.iov_len ? 0 : -EPROTO;
		if (errno != EINTR)
			return -errno;
	}
}

int sbproto__recv(int sock, uint8_t *buf, size_t *len, int *fd)
{
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = { buf, SANDBOX_MAX_MSG };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct sbp_hdr h;
	ssize_t n;
	int bad = 0;

	if (fd)
		*fd = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.space;
	mh.msg_controllen = sizeof(u.space);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k, nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfd; k++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (fd && *fd < 0 && k == 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return 0;
	if ((mh.msg_flags & MSG_TRUNC) || (size_t)n < sizeof(h))
		bad = 1;
	/*
	 * A descriptor sent but not received: the receiver is out of descriptors (its RLIMIT_NOFILE), which
	 * the message's handler answers as such (SBPROTO_FD_LOST). The child receives descriptors with
	 * requests, the parent with SBP_UW_TABLED only.
	 */
	if (mh.msg_flags & MSG_CTRUNC) {
		if (!fd)
			bad = 1;
		else {
			if (*fd >= 0)
				close(*fd);
			*fd = SBPROTO_FD_LOST;
		}
	}
	if (!bad) {
		memcpy(&h, buf, sizeof(h));
		if (h.len != (size_t)n - sizeof(h) || h.type == 0 || h.type > 255)
			bad = 1;
	}
	if (bad) {
		if (fd && *fd >= 0)
			close(*fd);
		if (fd)
			*fd = -1;
		return -EPROTO;
	}
	memmove(buf, buf + sizeof(h), h.len);
	*len = h.len;
	return (int)h.type;
}

/* --- cursors ------------------------------------------------------------------------------------ */

/* Append n bytes at 'at': the new end, or SIZE_MAX when they do not fit (or 'at' is SIZE_MAX). */
static size_t put(uint8_t *buf, size_t cap, size_t at, const void *p, size_t n)
{
	if (at > cap || cap - at < n)
		return SIZE_MAX;
	if (n)
		memcpy(buf + at, p, n);
	return at + n;
}

static size_t put32(uint8_t *buf, size_t cap, size_t at, uint32_t v)
{
	return put(buf, cap, at, &v, 4);
}

static size_t put64(uint8_t *buf, size_t cap, size_t at, uint64_t v)
{
	return put(buf, cap, at, &v, 8);
}

/* A string with its NUL. */
static size_t put_cstr(uint8_t *buf, size_t cap, size_t at, const char *s)
{
	return put(buf, cap, at, s, strlen(s) + 1);
}

/* The encoders' result: the length, or 0 when the message did not fit. */
static size_t done(size_t at)
{
	return at == SIZE_MAX ? 0 : at;
}

static int get(const uint8_t *buf, size_t len, size_t *at, void *p, size_t n)
{
	if (*at > len || len - *at < n)
		return -EPROTO;
	memcpy(p, buf + *at, n);
	*at += n;
	return 0;
}

/* A NUL-terminated string at *at, within the body. */
static int get_cstr(const uint8_t *buf, size_t len, size_t *at, const char **s)
{
	const uint8_t *z;

	if (*at >= len || !(z = memchr(buf + *at, 0, len - *at)))
		return -EPROTO;
	*s = (const char *)buf + *at;
	*at = (size_t)(z - buf) + 1;
	return 0;
}

/* --- messages ----------------------------------------------------------------------------------- */

size_t sbproto__encode_status(uint8_t *buf, size_t cap, const struct sbp_status *m)
{
	return done(put32(buf, cap, 0, (uint32_t)m->status));
}

int sbproto__decode_status(const uint8_t *buf, size_t len, struct sbp_status *m)
{
	if (len != 4)
		return -EPROTO;
	memcpy(&m->status, buf, 4);
	return 0;
}

size_t sbproto__encode_ready(uint8_t *buf, size_t cap, const struct sbp_ready *m)
{
	size_t sl = m->status && m->why ? strnlen(m->why, 127) : 0, at;

	at = put32(buf, cap, 0, (uint32_t)m->status);
	at = put(buf, cap, at, m->why, sl);
	return done(put(buf, cap, at, "", 1));
}

int sbproto__decode_ready(const uint8_t *buf, size_t len, struct sbp_ready *m)
{
	if (len < 5 || buf[len - 1] || memchr(buf + 4, 0, len - 5))
		return -EPROTO;
	memcpy(&m->status, buf, 4);
	if (m->status > 0 || m->status < -4095)
		m->status = -EPROTO;
	m->why = (const char *)buf + 4;
	return 0;
}

size_t sbproto__encode_open(uint8_t *buf, size_t cap, const struct sbp_open *m)
{
	size_t at = put_cstr(buf, cap, 0, m->name);

	return done(put_cstr(buf, cap, at, m->root ? m->root : ""));
}

int sbproto__decode_open(const uint8_t *buf, size_t len, struct sbp_open *m)
{
	size_t nl;

	if (!len || buf[len - 1] || !(nl = strnlen((const char *)buf, len)) || nl + 1 >= len)
		return -EPROTO;
	m->name = (const char *)buf;
	m->root = m->name[nl + 1] ? m->name + nl + 1 : NULL;
	return 0;
}

size_t sbproto__encode_opened(uint8_t *buf, size_t cap, const struct sbp_opened *m)
{
	uint32_t ns = m->status < 0 ? 0 : m->nr_segs, i;
	size_t at = put32(buf, cap, 0, (uint32_t)m->status);

	at = put32(buf, cap, at, ns);
	for (i = 0; i < ns; i++)
		at = put(buf, cap, at, m->segs[i], 24);
	if (m->status >= 0)
		at = put(buf, cap, at, m->build_id, strlen(m->build_id));
	return done(at);
}

int sbproto__decode_opened(const uint8_t *buf, size_t len, struct sbp_opened *m)
{
	uint32_t ns, i;
	size_t bl;

	if (len < 8)
		return -EPROTO;
	memcpy(&m->status, buf, 4);
	memcpy(&ns, buf + 4, 4);
	if (m->status < 0)
		return len == 8 ? 0 : -EPROTO;
	if (ns > SBPROTO_MAX_SEGS || len - 8 < (size_t)ns * 24 ||
	    (bl = len - 8 - (size_t)ns * 24) > SBPROTO_MAX_BUILD_ID)
		return -EPROTO;
	for (i = 0; i < bl; i++) {
		uint8_t c = buf[8 + ns * 24 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EPROTO;
	}
	for (i = 0; i < ns; i++)
		memcpy(m->segs[i], buf + 8 + (size_t)i * 24, 24);
	m->nr_segs = ns;
	memcpy(m->build_id, buf + 8 + ns * 24, bl);
	m->build_id[bl] = 0;
	return 0;
}

size_t sbproto__encode_lookup(uint8_t *buf, size_t cap, const struct sbp_lookup *m)
{
	size_t at = put32(buf, cap, 0, m->handle);

	at = put64(buf, cap, at, m->vaddr);
	return done(put32(buf, cap, at, m->max));
}

int sbproto__decode_lookup(const uint8_t *buf, size_t len, struct sbp_lookup *m)
{
	size_t at = 0;

	if (len != 16)
		return -EPROTO;
	get(buf, len, &at, &m->handle, 4);
	get(buf, len, &at, &m->vaddr, 8);
	return get(buf, len, &at, &m->max, 4);
}

size_t sbproto__encode_lookup_many(uint8_t *buf, size_t cap, const struct sbp_lookup_many *m)
{
	size_t at = put32(buf, cap, 0, m->handle);

	at = put32(buf, cap, at, m->max);
	at = put32(buf, cap, at, m->n);
	at = put32(buf, cap, at, m->ms);
	return done(put(buf, cap, at, m->vaddrs, (size_t)m->n * 8));
}

int sbproto__decode_lookup_many(const uint8_t *buf, size_t len, struct sbp_lookup_many *m)
{
	if (len < 16)
		return -EPROTO;
	memcpy(&m->handle, buf, 4);
	memcpy(&m->max, buf + 4, 4);
	memcpy(&m->n, buf + 8, 4);
	memcpy(&m->ms, buf + 12, 4);
	if (!m->n || m->n > SANDBOX_LOOKUP_BATCH || len != 16 + (size_t)m->n * 8)
		return -EPROTO;
	m->vaddrs = buf + 16;
	return 0;
}

uint64_t sbproto__vaddr(const struct sbp_lookup_many *m, uint32_t i)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)m->vaddrs + (size_t)i * 8, 8);
	return v;
}

size_t sbproto__encode_handle(uint8_t *buf, size_t cap, const struct sbp_handle *m)
{
	return done(put32(buf, cap, 0, m->handle));
}

int sbproto__decode_handle(const uint8_t *buf, size_t len, struct sbp_handle *m)
{
	if (len != 4)
		return -EPROTO;
	memcpy(&m->handle, buf, 4);
	return 0;
}

size_t sbproto__encode_has_dwarf(uint8_t *buf, size_t cap, int has)
{
	return done(put32(buf, cap, 0, has ? 1 : 0));
}

int sbproto__decode_has_dwarf(const uint8_t *buf, size_t len)
{
	int32_t r;

	if (len != 4)
		return -EPROTO;
	memcpy(&r, buf, 4);
	return r == 0 || r == 1 ? (int)r : -EPROTO;
}

size_t sbproto__encode_debug_open(uint8_t *buf, size_t cap, const struct sbp_debug_open *m)
{
	size_t at = put_cstr(buf, cap, 0, m->root ? m->root : "");

	return done(put_cstr(buf, cap, at, m->path));
}

int sbproto__decode_debug_open(const uint8_t *buf, size_t len, struct sbp_debug_open *m)
{
	size_t at = 0;

	if (get_cstr(buf, len, &at, &m->root) || get_cstr(buf, len, &at, &m->path) || at != len)
		return -EPROTO;
	return 0;
}

size_t sbproto__encode_test(uint8_t *buf, size_t cap, const struct sbp_test *m)
{
	return done(put_cstr(buf, cap, put32(buf, cap, 0, m->what), m->arg));
}

int sbproto__decode_test(const uint8_t *buf, size_t len, struct sbp_test *m)
{
	if (len <= 4 || buf[len - 1])
		return -EPROTO;
	memcpy(&m->what, buf, 4);
	m->arg = (const char *)buf + 4;
	return 0;
}

size_t sbproto__encode_uw_setup(uint8_t *buf, size_t cap, const struct sbp_uw_setup *m)
{
	size_t at = put32(buf, cap, 0, m->which);

	at = put32(buf, cap, at, 0);
	return done(put64(buf, cap, at, m->size));
}

int sbproto__decode_uw_setup(const uint8_t *buf, size_t len, struct sbp_uw_setup *m)
{
	if (len != 16)
		return -EPROTO;
	memcpy(&m->which, buf, 4);
	memcpy(&m->size, buf + 8, 8);
	return m->which > 1 || !m->size ? -EPROTO : 0;
}

size_t sbproto__encode_uw_maps(uint8_t *buf, size_t cap, const struct sbp_uw_maps *m)
{
	size_t at = put32(buf, cap, 0, m->pid);

	at = put32(buf, cap, at, m->append ? 1 : 0);
	return done(put(buf, cap, at, m->maps, m->n * sizeof(struct unwindsvc_map)));
}

int sbproto__decode_uw_maps(const uint8_t *buf, size_t len, struct sbp_uw_maps *m)
{
	uint32_t append;

	if (len < 8 || (len - 8) % sizeof(struct unwindsvc_map))
		return -EPROTO;
	memcpy(&m->pid, buf, 4);
	memcpy(&append, buf + 4, 4);
	m->append = append != 0;
	m->n = (len - 8) / sizeof(struct unwindsvc_map);
	m->maps = buf + 8;
	return 0;
}

void sbproto__uw_maps_get(const struct sbp_uw_maps *m, struct unwindsvc_map *out)
{
	memcpy(out, m->maps, m->n * sizeof(*out));
}

size_t sbproto__encode_uw_forget(uint8_t *buf, size_t cap, const struct sbp_uw_forget *m)
{
	return done(put(buf, cap, 0, m->pids, m->n * 4));
}

int sbproto__decode_uw_forget(const uint8_t *buf, size_t len, struct sbp_uw_forget *m)
{
	/* A trailing partial pid is ignored, as it always was. */
	m->n = len / 4;
	m->pids = buf;
	return 0;
}

uint32_t sbproto__uw_forget_pid(const struct sbp_uw_forget *m, size_t i)
{
	uint32_t pid;

	memcpy(&pid, (const uint8_t *)m->pids + i * 4, 4);
	return pid;
}

size_t sbproto__encode_uw_batch(uint8_t *buf, size_t cap, const struct sbp_uw_batch *m)
{
	size_t at = put32(buf, cap, 0, m->n);

	if (m->n > SANDBOX_UW_MAX_BATCH)
		return 0;
	at = put32(buf, cap, at, 0);
	at = put64(buf, cap, at, m->req_len);
	return done(put(buf, cap, at, m->offs, (size_t)m->n * 8));
}

int sbproto__decode_uw_batch(const uint8_t *buf, size_t len, struct sbp_uw_batch *m)
{
	if (len < 16)
		return -EPROTO;
	memcpy(&m->n, buf, 4);
	memcpy(&m->req_len, buf + 8, 8);
	if (m->n > SANDBOX_UW_MAX_BATCH || len != 16 + (size_t)m->n * 8)
		return -EPROTO;
	memcpy(m->offs, buf + 16, (size_t)m->n * 8);
	return 0;
}

size_t sbproto__encode_uw_done(uint8_t *buf, size_t cap, const struct sbp_uw_done *m)
{
	size_t at = put32(buf, cap, 0, (uint32_t)m->status);

	at = put32(buf, cap, at, 0);
	at = put64(buf, cap, at, m->res_len);
	return done(put64(buf, cap, at, m->evicted));
}

int sbproto__decode_uw_done(const uint8_t *buf, size_t len, struct sbp_uw_done *m)
{
	if (len != 24)
		return -EPROTO;
	memcpy(&m->status, buf, 4);
	memcpy(&m->res_len, buf + 8, 8);
	memcpy(&m->evicted, buf + 16, 8);
	return 0;
}

size_t sbproto__encode_uw_table(uint8_t *buf, size_t cap, const struct sbp_uw_table *m)
{
	return done(put32(buf, cap, put32(buf, cap, 0, m->handle), m->max_rows));
}

int sbproto__decode_uw_table(const uint8_t *buf, size_t len, struct sbp_uw_table *m)
{
	if (len != 8)
		return -EPROTO;
	memcpy(&m->handle, buf, 4);
	memcpy(&m->max_rows, buf + 4, 4);
	return m->max_rows && m->max_rows <= UWTABLE_MAX_ROWS ? 0 : -EPROTO;
}

/* The counts in their order on the wire. */
static uint32_t *tabled_count(struct uwtable_stats *st, int i)
{
	uint32_t *const f[8] = { &st->fdes,     &st->bad_fdes, &st->unknown,  &st->cfa_reg,
				 &st->cfa_expr, &st->ra_rule,  &st->rbp_rule, &st->too_large };

	return f[i];
}

size_t sbproto__encode_uw_tabled(uint8_t *buf, size_t cap, const struct sbp_uw_tabled *m)
{
	struct uwtable_stats st = m->st;
	size_t at = put32(buf, cap, 0, (uint32_t)m->status);
	int i;

	at = put32(buf, cap, at, m->nr);
	at = put64(buf, cap, at, m->base);
	for (i = 0; i < 8; i++)
		at = put32(buf, cap, at, *tabled_count(&st, i));
	return done(at);
}

int sbproto__decode_uw_tabled(const uint8_t *buf, size_t len, struct sbp_uw_tabled *m)
{
	size_t at = 16;
	int i, zero = 1;

	if (len != 48)
		return -EPROTO;
	memcpy(&m->status, buf, 4);
	memcpy(&m->nr, buf + 4, 4);
	memcpy(&m->base, buf + 8, 8);
	for (i = 0; i < 8; i++) {
		get(buf, len, &at, tabled_count(&m->st, i), 4);
		zero &= *tabled_count(&m->st, i) == 0;
	}
	if (m->status == 0)
		return m->nr && m->nr <= UWTABLE_MAX_ROWS ? 0 : -EPROTO;
	/* A failure carries nothing: no rows, no base, no counts. */
	if (m->status < -4095 || m->status > 0 || m->nr || m->base || !zero)
		return -EPROTO;
	return 0;
}

/* --- frames ------------------------------------------------------------------------------------- */

static size_t put_str(uint8_t *buf, size_t cap, size_t at, const char *s)
{
	uint32_t n = NULL_STR;

	if (s) {
		size_t l = strlen(s);

		n = (uint32_t)(l > SANDBOX_MAX_STR ? SANDBOX_MAX_STR : l);
	}
	at = put(buf, cap, at, &n, 4);
	if (at == SIZE_MAX || n == NULL_STR)
		return at;
	return put(buf, cap, at, s, n);
}

size_t sbproto__encode_frames(const struct sym_frame *f, int n, uint8_t *buf, size_t cap)
{
	uint32_t cnt = 0;
	size_t at = 4;
	int i;

	if (cap < 4)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t line = f[i].line, inl = f[i].inlined ? 1 : 0;
		size_t a = at;

		a = put(buf, cap, a, &line, 4);
		a = put(buf, cap, a, &inl, 4);
		a = put(buf, cap, a, &f[i].offset, 8);
		a = put_str(buf, cap, a, f[i].function);
		a = put_str(buf, cap, a, f[i].file);
		if (a == SIZE_MAX)
			break; /* full: the outer frames are dropped */
		at = a;
		cnt++;
	}
	memcpy(buf, &cnt, 4);
	return at;
}

size_t sbproto__put_answer(const struct sym_frame *f, int n, uint8_t *buf, size_t cap, size_t at, int first)
{
	size_t len;
	uint32_t cnt;

	if (at > cap || cap - at < 4)
		return SIZE_MAX;
	len = sbproto__encode_frames(f, n, buf + at, cap - at);
	memcpy(&cnt, buf + at, 4);
	if (!first && cnt < (uint32_t)n)
		return SIZE_MAX;
	return at + len;
}

void sbproto__frames_many_done(uint8_t *buf, uint32_t k)
{
	memcpy(buf, &k, 4);
}

size_t sbproto__encode_frames_many(const struct sym_frame *f, const int *nf, int max, uint32_t n,
				   uint8_t *buf, size_t cap)
{
	uint32_t k;
	size_t at = 4, a;

	if (cap < 4 || max < 0)
		return 0;
	for (k = 0; k < n; k++) {
		a = sbproto__put_answer(f + (size_t)k * (size_t)max, nf[k] < 0 ? 0 : nf[k], buf, cap, at,
					k == 0);
		if (a == SIZE_MAX)
			break;
		at = a;
	}
	sbproto__frames_many_done(buf, k);
	return at;
}

static int get_str(const uint8_t *buf, size_t len, size_t *at, char *strbuf, size_t cap, size_t *used,
		   const char **out)
{
	uint32_t n;

	if (get(buf, len, at, &n, 4))
		return -EPROTO;
	if (n == NULL_STR) {
		*out = NULL;
		return 0;
	}
	if (n > SANDBOX_MAX_STR || len - *at < n || cap - *used < (size_t)n + 1 || memchr(buf + *at, 0, n))
		return -EPROTO;
	memcpy(strbuf + *used, buf + *at, n);
	strbuf[*used + n] = 0;
	*out = strbuf + *used;
	*used += (size_t)n + 1;
	*at += n;
	return 0;
}

/* Decode a FRAMES body at *at (advanced past it), strings appended at strbuf + *used. */
static int decode_frames_at(const uint8_t *buf, size_t len, size_t *pat, struct sym_frame *out, int max,
			    char *strbuf, size_t cap, size_t *pused)
{
	size_t at = *pat, used = *pused;
	uint32_t n, i;

	if (get(buf, len, &at, &n, 4) || max < 0 || n > (uint32_t)max)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		uint32_t line, inl;
		struct sym_frame *f = &out[i];

		if (get(buf, len, &at, &line, 4) || get(buf, len, &at, &inl, 4) ||
		    get(buf, len, &at, &f->offset, 8) || inl > 1 ||
		    get_str(buf, len, &at, strbuf, cap, &used, &f->function) ||
		    get_str(buf, len, &at, strbuf, cap, &used, &f->file))
			return -EPROTO;
		f->line = line;
		f->inlined = (int)inl;
	}
	*pat = at;
	*pused = used;
	return (int)n;
}

int sbproto__decode_frames(const uint8_t *buf, size_t len, struct sym_frame *out, int max, char *strbuf,
			   size_t cap)
{
	size_t at = 0, used = 0;
	int n = decode_frames_at(buf, len, &at, out, max, strbuf, cap, &used);

	return n >= 0 && at == len ? n : -EPROTO;
}

int sbproto__decode_frames_many(const uint8_t *buf, size_t len, uint32_t asked, struct sym_frame *out,
				int max, int *counts, char *strbuf, size_t cap)
{
	size_t at = 0, used = 0;
	uint32_t k, i;

	if (get(buf, len, &at, &k, 4) || max < 0 || k == 0 || k > asked)
		return -EPROTO;
	for (i = 0; i < k; i++) {
		int n = decode_frames_at(buf, len, &at, out + (size_t)i * (size_t)max, max, strbuf, cap,
					 &used);

		if (n < 0)
			return -EPROTO;
		counts[i] = n;
	}
	return at == len ? (int)k : -EPROTO;
}
