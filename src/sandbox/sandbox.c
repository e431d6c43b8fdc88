// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safeopen.h"
#include "sandbox_int.h"
#include "unwindsvc.h"

/* --- framing ------------------------------------------------------------------------------------ */

int sandbox_send_msg(int sock, uint32_t type, const void *body, size_t len, int fd)
{
	uint8_t buf[SANDBOX_MAX_MSG];
	struct msg_hdr h = { type, (uint32_t)len };
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

/* Any descriptor beyond the first one is closed. */
int sandbox_recv_msg(int sock, uint8_t *buf, size_t *len, int *fd)
{
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = { buf, SANDBOX_MAX_MSG };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct msg_hdr h;
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
	 * the message's handler answers as such (SANDBOX_FD_LOST). Only the child receives descriptors.
	 */
	if (mh.msg_flags & MSG_CTRUNC) {
		if (!fd)
			bad = 1;
		else {
			if (*fd >= 0)
				close(*fd);
			*fd = SANDBOX_FD_LOST;
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

/* --- frames ------------------------------------------------------------------------------------- */

static size_t put(uint8_t *buf, size_t cap, size_t at, const void *p, size_t n)
{
	if (at > cap || cap - at < n)
		return SIZE_MAX;
	memcpy(buf + at, p, n);
	return at + n;
}

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

size_t sandbox__encode_frames(const struct sym_frame *f, int n, uint8_t *buf, size_t cap)
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
		if (a != SIZE_MAX)
			a = put(buf, cap, a, &inl, 4);
		if (a != SIZE_MAX)
			a = put(buf, cap, a, &f[i].offset, 8);
		if (a != SIZE_MAX)
			a = put_str(buf, cap, a, f[i].function);
		if (a != SIZE_MAX)
			a = put_str(buf, cap, a, f[i].file);
		if (a == SIZE_MAX)
			break; /* full: the outer frames are dropped */
		at = a;
		cnt++;
	}
	memcpy(buf, &cnt, 4);
	return at;
}

size_t sandbox_put_answer(const struct sym_frame *f, int n, uint8_t *buf, size_t cap, size_t at, int first)
{
	size_t len;
	uint32_t cnt;

	if (at > cap || cap - at < 4)
		return SIZE_MAX;
	len = sandbox__encode_frames(f, n, buf + at, cap - at);
	memcpy(&cnt, buf + at, 4);
	if (!first && cnt < (uint32_t)n)
		return SIZE_MAX;
	return at + len;
}

size_t sandbox__encode_frames_many(const struct sym_frame *f, const int *nf, int max, uint32_t n, uint8_t *buf,
				   size_t cap)
{
	uint32_t k;
	size_t at = 4, a;

	if (cap < 4 || max < 0)
		return 0;
	for (k = 0; k < n; k++) {
		a = sandbox_put_answer(f + (size_t)k * (size_t)max, nf[k] < 0 ? 0 : nf[k], buf, cap, at, k == 0);
		if (a == SIZE_MAX)
			break;
		at = a;
	}
	memcpy(buf, &k, 4);
	return at;
}

static int get(const uint8_t *buf, size_t len, size_t *at, void *p, size_t n)
{
	if (*at > len || len - *at < n)
		return -EPROTO;
	memcpy(p, buf + *at, n);
	*at += n;
	return 0;
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
	if (n > SANDBOX_MAX_STR || len - *at < n || cap - *used < (size_t)n + 1 ||
	    memchr(buf + *at, 0, n))
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

int sandbox__decode_frames(const uint8_t *buf, size_t len, struct sym_frame *out, int max, char *strbuf,
			   size_t cap)
{
	size_t at = 0, used = 0;
	int n = decode_frames_at(buf, len, &at, out, max, strbuf, cap, &used);

	return n >= 0 && at == len ? n : -EPROTO;
}

int sandbox__decode_frames_many(const uint8_t *buf, size_t len, uint32_t asked, struct sym_frame *out, int max,
				int *counts, char *strbuf, size_t cap)
{
	size_t at = 0, used = 0;
	uint32_t k, i;

	if (get(buf, len, &at, &k, 4) || max < 0 || k == 0 || k > asked)
		return -EPROTO;
	for (i = 0; i < k; i++) {
		int n = decode_frames_at(buf, len, &at, out + (size_t)i * (size_t)max, max, strbuf, cap, &used);

		if (n < 0)
			return -EPROTO;
		counts[i] = n;
	}
	return at == len ? (int)k : -EPROTO;
}

/* --- the parent --------------------------------------------------------------------------------- */

static void child_stop(struct sandbox *sb)
{
	if (sb->pid > 0) {
		kill(sb->pid, SIGKILL);
		while (waitpid(sb->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (sb->sock >= 0)
		close(sb->sock);
	sb->pid = 0;
	sb->sock = -1;
}

/*
 * Reap a child whose socket closed (it is gone or going: give it a second, then kill it), and say
 * whether it was killed from outside: 1 when it died of SIGKILL below its CPU limit. The child's own
 * doing ends it otherwise: its RLIMIT_CPU with SIGKILL (at the limit), its seccomp filter with SIGSYS,
 * a crash with SIGSEGV or SIGABRT, an error with an exit status; its address space limit makes
 * allocations fail, not the kernel kill it. A SIGKILL below the CPU limit came from root or the OOM
 * killer (no other user can signal the child: its uid is its own), not from the file it parsed.
 */
static int child_reap(struct sandbox *sb)
{
	struct rusage ru;
	int status = 0, i, outside = 0;
	pid_t r = 0;

	for (i = 0; i < 1000; i++) {
		r = wait4(sb->pid, &status, WNOHANG, &ru);
		if (r != 0 && !(r < 0 && errno == EINTR))
			break;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if (r == sb->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		uint64_t cpu = (uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec + 1;

		outside = cpu < (uint64_t)sb->cpu_limit;
	}
	if (r == sb->pid)
		sb->pid = 0;
	child_stop(sb);
	return outside;
}

/* Whether no account has 'id' as its uid, or no group as its gid. */
static int uid_free(uint32_t id)
{
	return getpwuid((uid_t)id) == NULL;
}

static int gid_free(uint32_t id)
{
	return getgrgid((gid_t)id) == NULL;
}

/*
 * The ids systemd leaves unused by accounts and by its own allocations (its "UIDs and GIDs"
 * document: between the container range's base and the end of the signed 32-bit range).
 */
#define FREE_ID_LO 1879048192u
#define FREE_ID_HI 2147352575u
#define ID_TRIES 256

/*
 * An id for the child from 'map' (/proc/self/uid_map or gid_map: the ids this user namespace maps)
 * that 'is_free' says no account or group uses: the highest one of [FREE_ID_LO, FREE_ID_HI], else
 * (a user namespace mapping few ids) the highest mapped one but 0 and 65534; else 65534 if mapped
 * (nobody's, the old choice), else 0.
 */
static uint32_t pick_id(const char *map, int (*is_free)(uint32_t))
{
	unsigned long long in, out, count;
	uint32_t lo[64], hi[64], best = 0, nobody = 0;
	size_t n = 0, i;
	int pass, tries = 0;
	FILE *f = fopen(map, "re");

	if (f) {
		while (n < 64 && fscanf(f, "%llu %llu %llu", &in, &out, &count) == 3) {
			if (!count || in > UINT32_MAX - 1)
				continue;
			lo[n] = (uint32_t)in;
			hi[n] = (uint32_t)(in + count - 1 > UINT32_MAX - 1 ? UINT32_MAX - 1 : in + count - 1);
			if (lo[n] <= 65534 && 65534 <= hi[n])
				nobody = 65534;
			n++;
		}
		fclose(f);
	}
	for (pass = 0; pass < 2 && !best; pass++) {
		for (i = 0; i < n; i++) {
			uint32_t l = lo[i], h = hi[i], id;

			if (pass == 0) {
				l = l < FREE_ID_LO ? FREE_ID_LO : l;
				h = h > FREE_ID_HI ? FREE_ID_HI : h;
			}
			for (id = h; id >= l && id > best && tries < ID_TRIES; id--, tries++) {
				if (id != 0 && id != 65534 && is_free(id)) {
					best = id;
					break;
				}
				if (id == 0)
					break;
			}
		}
	}
	return best ? best : nobody;
}

/*
 * The child's uid and gid, chosen once (NSS lookups are not for every restart). A user namespace that
 * maps no other id (unshare -r) leaves the child ours, (uid_t)-1: it still drops every capability,
 * and other processes of ours could signal it no more than they can signal us.
 */
static void sandbox_pick_ids(struct sandbox *sb)
{
	uint32_t u, g;

	if (sb->ids_picked)
		return;
	sb->ids_picked = 1;
	u = pick_id("/proc/self/uid_map", uid_free);
	g = pick_id("/proc/self/gid_map", gid_free);
	sb->uid = u && g ? (uid_t)u : (uid_t)-1;
	sb->gid = u && g ? (gid_t)g : (gid_t)-1;
	if (sb->uid == (uid_t)-1)
		pr_debug("sandbox: no other id is mapped here: the child keeps our uid and gid");
	else
		pr_debug("sandbox: the child runs as uid %u, gid %u", (unsigned)sb->uid, (unsigned)sb->gid);
}

/* Wait for the new child's M_READY: 0, or a negative errno with the reason in sb->start_why. */
static int child_wait_ready(struct sandbox *sb)
{
	struct pollfd p = { sb->sock, POLLIN, 0 };
	size_t n = 0;
	int32_t st;
	int got;

	do
		got = poll(&p, 1, sb->timeout_ms);
	while (got < 0 && errno == EINTR);
	if (got == 0) {
		snprintf(sb->start_why, sizeof(sb->start_why), "the child did not answer in %d ms", sb->timeout_ms);
		return -ETIMEDOUT;
	}
	got = got < 0 ? -errno : sandbox_recv_msg(sb->sock, sb->msg, &n, NULL);
	if (got != M_READY || n < 5 || sb->msg[n - 1] || memchr(sb->msg + 4, 0, n - 5)) {
		snprintf(sb->start_why, sizeof(sb->start_why), "the child %s before it was ready",
			 got == 0 ? "exited" : "sent a bad message");
		return -EPROTO;
	}
	memcpy(&st, sb->msg, 4);
	if (st > 0 || st < -4095)
		st = -EPROTO;
	if (st)
		snprintf(sb->start_why, sizeof(sb->start_why), "%.100s: %s", (const char *)sb->msg + 4,
			 strerror(-st));
	return st;
}

int sandbox_child_start(struct sandbox *sb)
{
	struct rlimit cpu;
	int sv[2], err;
	pid_t pid;

	if (sb->start_err)
		return sb->start_err;
	if (getuid() == 0 || geteuid() == 0)
		sandbox_pick_ids(sb);
	/* The limit the child will have (lower_limit): a SIGKILL below it came from outside. */
	sb->cpu_limit = SANDBOX_MAX_CPU;
	if (getrlimit(RLIMIT_CPU, &cpu) == 0 && cpu.rlim_cur < sb->cpu_limit)
		sb->cpu_limit = cpu.rlim_cur;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		sandbox_child_main(sv[1], &sb->opts, sb->uid, sb->gid);
		_exit(0);
	}
	close(sv[1]);
	sb->pid = pid;
	sb->sock = sv[0];
	sb->gen++;
	err = child_wait_ready(sb);
	if (err) {
		child_stop(sb);
		sb->stats.start_failures++;
		/* Locking down fails the same way every time: no more children, no more forks. */
		sb->start_err = err;
		pr_debug("sandbox: cannot start the child: %s", sb->start_why);
	}
	return err;
}

int sandbox__start(struct sandbox *sb, char *why, size_t size)
{
	int err = 0;

	if (sb->enabled && !sb->pid)
		err = sandbox_child_start(sb);
	if (err && size)
		snprintf(why, size, "%s", sb->start_err ? sb->start_why : strerror(-err));
	return err;
}

void sandbox_child_failed(struct sandbox *sb, struct sandbox_elf *e, const char *why)
{
	child_stop(sb);
	sb->stats.restarts++;
	if (e && !e->bad) {
		e->bad = 1;
		sb->stats.bad_files++;
	}
	pr_warn("symbolizer child %s%s%s%s", why, e ? " on '" : "", e ? e->name : "", e ? "': file skipped" : "");
}

/*
 * The child's socket closed under a request: a child killed from outside (child_reap) is replaced
 * and the request sent again (-EAGAIN), SANDBOX_OUTSIDE_RETRIES times in a row at most; otherwise,
 * or past that, the child failed on 'e' (returns 'err').
 */
static int child_gone(struct sandbox *sb, struct sandbox_elf *e, const char *why, int err)
{
	if (child_reap(sb) && sb->outside_streak < SANDBOX_OUTSIDE_RETRIES) {
		sb->outside_streak++;
		sb->stats.outside_kills++;
		pr_warn("symbolizer child was killed from outside (SIGKILL from root or the OOM killer)%s%s%s: "
			"starting a new one", e ? " while on '" : "", e ? e->name : "", e ? "'" : "");
		return -EAGAIN;
	}
	sandbox_child_failed(sb, e, why);
	return err;
}

static int under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/*
 * Debuglink candidates beside a file the user named (root NULL: 'scorch symbolize -e', resymbolize):
 * FILEDIR/NAME and FILEDIR/.debug/NAME, where the in-process symbolizer looks too. The directory is
 * the one the caller's own path names; broker_open() passes only ELF files from there.
 */
static int beside_given_file(const struct sandbox *sb, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t i, dl;

	if (!slash || !slash[1] || !strcmp(slash + 1, ".") || !strcmp(slash + 1, ".."))
		return 0;
	dl = (size_t)(slash - path);
	for (i = 0; i < sb->nr_elfs; i++) {
		const struct sandbox_elf *e = sb->elfs[i];
		const char *es;
		size_t el;

		if (e->root || e->is_vdso || e->fd < 0 || !(es = strrchr(e->name, '/')))
			continue;
		el = (size_t)(es - e->name);
		if (strncmp(path, e->name, el) != 0)
			continue;
		if (dl == el || (dl == el + 7 && strncmp(path + el, "/.debug", 7) == 0))
			return 1;
	}
	return 0;
}

/*
 * Whether the child may have (root, path) opened: the target's root or a debug directory, no "..";
 * 2 for a debuglink candidate beside a file the user named (ELF files only).
 */
static int may_open(const struct sandbox *sb, const char *root, const char *path)
{
	unsigned int pid;
	int end = 0;
	size_t i;

	if (!root[0] && beside_given_file(sb, path))
		return 2;
	if (strstr(path, "/../") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0) ||
	    strncmp(path, "../", 3) == 0)
		return 0;
	if (root[0])
		return sscanf(root, "/proc/%u/root%n", &pid, &end) == 1 && end > 0 && !root[end];
	if (path[0] != '/')
		return 0;
	if (under_dir(path, "/usr/lib/debug"))
		return 1;
	for (i = 0; i < sb->opts.nr_debug_dirs; i++)
		if (under_dir(path, sb->opts.debug_dirs[i]))
			return 1;
	return 0;
}

static int broker_open(struct sandbox *sb, size_t len)
{
	const char *root = (const char *)sb->msg, *path;
	size_t rl;
	int32_t st;
	int fd = -1, err, allowed;

	if (!len || sb->msg[len - 1] || (rl = strnlen(root, len)) + 1 >= len)
		return -EPROTO;
	path = root + rl + 1;
	if (strlen(path) + rl + 2 != len)
		return -EPROTO;
	if ((allowed = may_open(sb, root, path))) {
		fd = safeopen__in_root(root[0] ? root : NULL, path);
		if (allowed == 2 && fd >= 0 && !safeopen__is_elf(fd)) {
			close(fd);
			fd = -ENOEXEC;
		}
		sb->stats.opens_brokered++;
	} else {
		pr_debug("sandbox: refused to open '%s' under '%s'", path, root);
		sb->stats.opens_refused++;
		fd = -EPERM;
	}
	st = fd < 0 ? fd : 0;
	err = sandbox_send_msg(sb->sock, M_FD, &st, 4, fd);
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Send a request and wait for the answer of type 'want' (its body in sb->msg, length returned),
 * serving the child's open requests meanwhile. On failure the child is gone and 'e' marked bad.
 */
int sandbox_request(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body, size_t len,
		    int fd, uint32_t want)
{
	struct timespec t0, t;
	int err;

	if (!sb->pid && (err = sandbox_child_start(sb)))
		return err;
	sb->stats.requests++;
	err = sandbox_send_msg(sb->sock, type, body, len, fd);
	if (err == -EPIPE || err == -ECONNRESET)
		return child_gone(sb, e, "is gone", -EPIPE);
	if (err) {
		sandbox_child_failed(sb, e, "cannot be sent a request");
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { sb->sock, POLLIN, 0 };
		long left;
		size_t n = 0;
		int got;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = sb->timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0 || (got = poll(&p, 1, (int)left)) == 0) {
			sb->stats.timeouts++;
			sandbox_child_failed(sb, e, "timed out");
			return -ETIMEDOUT;
		}
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			sandbox_child_failed(sb, e, "cannot be polled");
			return err;
		}
		got = sandbox_recv_msg(sb->sock, sb->msg, &n, NULL);
		if (got == 0 || got == -ECONNRESET)
			return child_gone(sb, e, "died", -EPIPE);
		if (got < 0) {
			sandbox_child_failed(sb, e, "sent a bad message");
			return got;
		}
		if ((uint32_t)got == want)
			return (int)n;
		if (got != M_DEBUG_OPEN || broker_open(sb, n)) {
			sandbox_child_failed(sb, e, "sent a bad message");
			return -EPROTO;
		}
	}
}

/* Decode an M_OPENED body into 'e'; returns the child's status (handle or -errno) or -EPROTO. */
static int decode_opened(struct sandbox *sb, struct sandbox_elf *e, size_t len)
{
	const uint8_t *b = sb->msg;
	int32_t st;
	uint32_t ns, i;
	size_t bl;

	if (len < 8)
		return -EPROTO;
	memcpy(&st, b, 4);
	memcpy(&ns, b + 4, 4);
	if (st < 0)
		return len == 8 ? st : -EPROTO;
	if (ns > MAX_SEGS || len - 8 < (size_t)ns * 24 || (bl = len - 8 - (size_t)ns * 24) > MAX_BUILD_ID)
		return -EPROTO;
	for (i = 0; i < bl; i++) {
		uint8_t c = b[8 + ns * 24 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EPROTO;
	}
	for (i = 0; i < ns; i++)
		memcpy(e->segs[i], b + 8 + (size_t)i * 24, 24);
	e->nr_segs = ns;
	memcpy(e->build_id, b + 8 + ns * 24, bl);
	e->build_id[bl] = 0;
	e->handle = (uint32_t)st;
	e->gen = sb->gen;
	return st;
}

/* Make 'e' known to the current child (after a restart, send it again). */
int sandbox_child_open(struct sandbox *sb, struct sandbox_elf *e)
{
	char body[2 * 4096 + 2];
	size_t nl = strlen(e->name), rl = e->root ? strlen(e->root) : 0;
	int n, st;

	if (e->bad)
		return -EIO;
	if (sb->pid && e->gen == sb->gen)
		return 0;
	if (!e->is_vdso && (nl == 0 || nl >= 4096 || rl >= 4096))
		return -ENAMETOOLONG;
	memcpy(body, e->name, nl + 1);
	memcpy(body + nl + 1, e->root ? e->root : "", rl + 1);
	do {
		if (e->is_vdso)
			n = sandbox_request(sb, e, M_VDSO, NULL, 0, -1, M_OPENED);
		else
			n = sandbox_request(sb, e, M_OPEN, body, nl + rl + 2, e->fd, M_OPENED);
	} while (n == -EAGAIN);
	if (n < 0)
		return n;
	st = decode_opened(sb, e, (size_t)n);
	if (st == -EPROTO)
		sandbox_child_failed(sb, e, "sent a bad message");
	safeopen__fd_error(st); /* the child out of descriptors */
	return st < 0 ? st : 0;
}

static struct sandbox_elf *add_elf(struct sandbox *sb, const char *name, const char *root)
{
	struct sandbox_elf *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fd = -1;
	e->name = strdup(name);
	e->root = root ? strdup(root) : NULL;
	if (!e->name || (root && !e->root) || sb->nr_elfs == sb->cap_elfs) {
		size_t ncap = sb->cap_elfs ? 2 * sb->cap_elfs : 64;
		struct sandbox_elf **n = e->name && (!root || e->root) ? realloc(sb->elfs, ncap * sizeof(*n)) : NULL;

		if (!n) {
			free(e->name);
			free(e->root);
			free(e);
			return NULL;
		}
		sb->elfs = n;
		sb->cap_elfs = ncap;
	}
	sb->elfs[sb->nr_elfs++] = e;
	return e;
}

static void fill_local(struct sandbox_elf *e)
{
	size_t bl = strlen(symbolizer__build_id(e->local));

	while (e->nr_segs < MAX_SEGS && symbolizer__load_segment(e->local, e->nr_segs, &e->segs[e->nr_segs][0],
								     &e->segs[e->nr_segs][1],
								     &e->segs[e->nr_segs][2]) == 0)
		e->nr_segs++;
	if (bl <= MAX_BUILD_ID)
		memcpy(e->build_id, symbolizer__build_id(e->local), bl + 1);
}

struct sandbox_elf *sandbox__open_fd(struct sandbox *sb, int fd, const char *name, const char *root)
{
	struct sandbox_elf *e;
	int err = 0;

	if (!sb->enabled) {
		struct sym_elf *l = symbolizer__open_fd(sb->local, fd, name, root);

		if (!l) {
			safeopen__fd_error(-errno);
			return NULL;
		}
		e = add_elf(sb, name, root);
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
	/* A file the symbolizer will not take is not worth a child's time. */
	if (!safeopen__is_elf(fd)) {
		errno = ENOEXEC;
		return NULL;
	}
	e = add_elf(sb, name, root);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	sb->outside_streak = 0;
	if (e->fd < 0)
		err = safeopen__fd_error(-errno);
	else
		err = sandbox_child_open(sb, e);
	if (err < 0) {
		e->bad = 1; /* kept in the list (freed with the sandbox), never used */
		errno = -err;
		return NULL;
	}
	return e;
}

struct sandbox_elf *sandbox__vdso(struct sandbox *sb)
{
	struct sandbox_elf *e;

	if (sb->vdso_tried)
		return sb->vdso;
	sb->vdso_tried = 1;
	if (!sb->enabled) {
		struct sym_elf *l = symbolizer__vdso(sb->local);

		if (!l || !(e = add_elf(sb, "[vdso]", NULL)))
			return NULL;
		e->local = l;
		fill_local(e);
		return sb->vdso = e;
	}
	e = add_elf(sb, "[vdso]", NULL);
	if (!e)
		return NULL;
	e->is_vdso = 1;
	sb->outside_streak = 0;
	if (sandbox_child_open(sb, e) < 0) {
		e->bad = 1;
		return NULL;
	}
	return sb->vdso = e;
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
	uint8_t body[16];
	uint32_t m = (uint32_t)(max > 64 ? 64 : max);
	int n;

	if (!sb->enabled)
		return symbolizer__lookup(sb->local, e->local, vaddr, out, max);
	if (max <= 0)
		return 0;
	sb->outside_streak = 0;
	do {
		if (sandbox_child_open(sb, e) < 0)
			return 0;
		memcpy(body, &e->handle, 4);
		memcpy(body + 4, &vaddr, 8);
		memcpy(body + 12, &m, 4);
		n = sandbox_request(sb, e, M_LOOKUP, body, sizeof(body), -1, M_FRAMES);
	} while (n == -EAGAIN);
	if (n < 0)
		return 0;
	n = sandbox__decode_frames(sb->msg, (size_t)n, out, (int)m, sb->strbuf, sizeof(sb->strbuf));
	if (n < 0) {
		sandbox_child_failed(sb, e, "sent a bad message");
		return 0;
	}
	sb->stats.lookups++;
	return n;
}

/* The i-th strings block of sandbox__lookup_many (SANDBOX_MAX_MSG bytes), kept for the next calls. */
static char *lookup_block(struct sandbox *sb, size_t i)
{
	if (i == sb->nr_blocks) {
		char **b = realloc(sb->blocks, (i + 1) * sizeof(*b));

		if (!b)
			return NULL;
		sb->blocks = b;
		if (!(b[i] = malloc(SANDBOX_MAX_MSG)))
			return NULL;
		sb->nr_blocks++;
	}
	return sb->blocks[i];
}

int sandbox__lookup_many(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n,
			 int max, struct sandbox_frames *out)
{
	static uint8_t body[16 + SANDBOX_LOOKUP_BATCH * 8];
	int counts[SANDBOX_LOOKUP_BATCH];
	size_t i, done = 0, blk = 0, m;

	for (i = 0; i < n; i++) {
		out[i].f = NULL;
		out[i].n = 0;
	}
	if (!n || max <= 0)
		return 0;
	m = (size_t)(sb->enabled && max > 64 ? 64 : max);
	if (n > SIZE_MAX / sizeof(*sb->many) / m)
		return -ENOMEM;
	if (n * m > sb->cap_many) {
		struct sym_frame *f = realloc(sb->many, n * m * sizeof(*f));

		if (!f)
			return -ENOMEM;
		sb->many = f;
		sb->cap_many = n * m;
	}
	if (!sb->enabled) {
		for (i = 0; i < n; i++) {
			int k = symbolizer__lookup(sb->local, e->local, vaddrs[i], sb->many + i * m, (int)m);

			out[i].f = sb->many + i * m;
			out[i].n = k < 0 ? 0 : k;
		}
		return 0;
	}
	/* After a failure the file is bad: the rest of its addresses get no frames, as one by one. */
	sb->outside_streak = 0;
	while (done < n && sandbox_child_open(sb, e) == 0) {
		uint32_t ask = (uint32_t)(n - done < SANDBOX_LOOKUP_BATCH ? n - done : SANDBOX_LOOKUP_BATCH);
		uint32_t mm = (uint32_t)m, ms = (uint32_t)(sb->timeout_ms / 10 > 0 ? sb->timeout_ms / 10 : 1);
		char *strs = lookup_block(sb, blk++);
		int len, k, j;

		if (!strs)
			return -ENOMEM;
		memcpy(body, &e->handle, 4);
		memcpy(body + 4, &mm, 4);
		memcpy(body + 8, &ask, 4);
		memcpy(body + 12, &ms, 4);
		memcpy(body + 16, vaddrs + done, (size_t)ask * 8);
		len = sandbox_request(sb, e, M_LOOKUP_MANY, body, 16 + (size_t)ask * 8, -1, M_FRAMES_MANY);
		if (len == -EAGAIN) {
			blk--; /* the same addresses again, to a new child */
			continue;
		}
		if (len < 0)
			break;
		k = sandbox__decode_frames_many(sb->msg, (size_t)len, ask, sb->many + done * m, (int)m, counts, strs,
						SANDBOX_MAX_MSG);
		if (k < 0) {
			sandbox_child_failed(sb, e, "sent a bad message");
			break;
		}
		for (j = 0; j < k; j++) {
			out[done + (size_t)j].f = sb->many + (done + (size_t)j) * m;
			out[done + (size_t)j].n = counts[j];
		}
		done += (size_t)k;
		sb->stats.lookups += (uint64_t)k;
	}
	return 0;
}

int sandbox__decode_has_dwarf(const uint8_t *buf, size_t len)
{
	int32_t r;

	if (len != 4)
		return -EPROTO;
	memcpy(&r, buf, 4);
	return r == 0 || r == 1 ? (int)r : -EPROTO;
}

int sandbox__has_dwarf(struct sandbox *sb, struct sandbox_elf *e)
{
	int n;

	if (!sb->enabled)
		return symbolizer__has_dwarf(sb->local, e->local);
	sb->outside_streak = 0;
	do {
		if (sandbox_child_open(sb, e) < 0)
			return 0;
		n = sandbox_request(sb, e, M_HAS_DWARF, &e->handle, 4, -1, M_DWARF);
	} while (n == -EAGAIN);
	if (n < 0)
		return 0;
	n = sandbox__decode_has_dwarf(sb->msg, (size_t)n);
	if (n < 0) {
		sandbox_child_failed(sb, e, "sent a bad message");
		return 0;
	}
	return n;
}

struct sandbox *sandbox__new(const struct symbolizer_opts *opts, int enabled)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));
	const char *t = getenv("SCORCH_SANDBOX_TIMEOUT_MS");

	if (!sb)
		return NULL;
	if (opts)
		sb->opts = *opts;
	sb->enabled = enabled;
	sb->sock = -1;
	sb->timeout_ms = t && atoi(t) > 0 ? atoi(t) : SANDBOX_TIMEOUT_MS;
	if (!enabled && !(sb->local = symbolizer__new(opts))) {
		free(sb);
		return NULL;
	}
	return sb;
}

int sandbox__share_cpu(struct sandbox *sb)
{
	cpu_set_t one;
	int cpu;

	if (!sb->enabled || sb->cpus_saved)
		return 0;
	cpu = sched_getcpu();
	if (cpu < 0 || sched_getaffinity(0, sizeof(sb->saved_cpus), &sb->saved_cpus))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;
	sb->cpus_saved = 1;
	return 0;
}

void sandbox__free(struct sandbox *sb)
{
	size_t i;

	if (!sb)
		return;
	/* The child (if any) keeps the pin until it is gone below; this process gets its CPUs back. */
	if (sb->cpus_saved && sched_setaffinity(0, sizeof(sb->saved_cpus), &sb->saved_cpus))
		pr_debug("sandbox: cannot restore the CPU affinity: %s", strerror(errno));
	if (sb->pid > 0) {
		/* End of file on its socket ends the child; it has nothing to flush. */
		close(sb->sock);
		sb->sock = -1;
		child_stop(sb);
	}
	for (i = 0; i < sb->nr_elfs; i++) {
		if (sb->elfs[i]->fd >= 0)
			close(sb->elfs[i]->fd);
		free(sb->elfs[i]->name);
		free(sb->elfs[i]->root);
		free(sb->elfs[i]);
	}
	free(sb->elfs);
	for (i = 0; i < sb->nr_blocks; i++)
		free(sb->blocks[i]);
	free(sb->blocks);
	free(sb->many);
	symbolizer__free(sb->local);
	sandbox_uw_free(sb->uw);
	free(sb);
}

void sandbox__stats(const struct sandbox *sb, struct sandbox_stats *st)
{
	*st = sb->stats;
}

int sandbox__child_pid(struct sandbox *sb)
{
	int err;

	if (!sb->enabled)
		return -ENOSYS;
	if (!sb->pid && (err = sandbox_child_start(sb)))
		return err;
	return sb->pid;
}

int sandbox__test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg)
{
	uint8_t body[4 + 4096];
	uint32_t w = (uint32_t)what;
	size_t al = strlen(arg);
	int32_t r;
	int n;

	if (!sb->enabled)
		return -ENOSYS;
	if (al >= 4096)
		return -ENAMETOOLONG;
	memcpy(body, &w, 4);
	memcpy(body + 4, arg, al + 1);
	sb->outside_streak = 0;
	do {
		if (e && sandbox_child_open(sb, e) < 0)
			return -EIO;
		n = sandbox_request(sb, e, M_TEST, body, 4 + al + 1, -1, M_TESTED);
	} while (n == -EAGAIN);
	if (n < 0)
		return n;
	if (n != 4)
		return -EPROTO;
	memcpy(&r, sb->msg, 4);
	return r;
}
