// SPDX-License-Identifier: MIT
/*
 * The sandbox's sandboxed implementation (sandbox_int.h): the parent's side of the child
 * (sandbox_child.c), started, stopped and restarted here, asked over sbproto.h's messages, and served
 * when it asks for a debuginfo file. The unwinding's rounds in the child are sandbox_proxy_uw.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "log.h"
#include "safeopen.h"
#include "sandbox_int.h"
#include "sandbox_proxy.h"

struct proxy {
	pid_t pid; /* child, 0 when none */
	int sock;
	uint32_t gen; /* increments with each child */
	int timeout_ms;
	uid_t uid; /* the child's ids when started as root (sandbox_pick_ids), */
	gid_t gid; /* (uid_t)-1: keep ours */
	int ids_picked;
	int start_err;           /* a child could not lock itself down: none will (sticky, < 0) */
	char start_why[160];     /* why, for sandbox__start() */
	uint32_t outside_streak; /* outside kills in the current operation (see sandbox_proxy_request) */
	rlim_t cpu_limit;        /* the child's RLIMIT_CPU (soft), seconds */
	char **blocks; /* owned: sandbox__lookup_many's strings, SANDBOX_MAX_MSG bytes per round trip */
	size_t nr_blocks, cap_blocks;
	cpu_set_t saved_cpus; /* this process's affinity before sandbox__share_cpu() */
	int cpus_saved;
	uint8_t msg[SANDBOX_MAX_MSG];
	char strbuf[SANDBOX_MAX_MSG];
};

static struct proxy *px(const struct sandbox *sb)
{
	return sb->impl;
}

uint32_t sandbox_proxy_gen(const struct sandbox *sb)
{
	struct proxy *p = px(sb);

	return p->pid ? p->gen : 0;
}

int sandbox_proxy_cannot_start(const struct sandbox *sb)
{
	return px(sb)->start_err;
}

const uint8_t *sandbox_proxy_msg(const struct sandbox *sb)
{
	return px(sb)->msg;
}

void sandbox_proxy_new_operation(struct sandbox *sb)
{
	px(sb)->outside_streak = 0;
}

/* --- the parent --------------------------------------------------------------------------------- */

static void child_stop(struct sandbox *sb)
{
	struct proxy *p = px(sb);

	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (p->sock >= 0)
		close(p->sock);
	p->pid = 0;
	p->sock = -1;
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
	struct proxy *p = px(sb);
	struct rusage ru;
	int status = 0, i, outside = 0;
	pid_t r = 0;

	for (i = 0; i < 1000; i++) {
		r = wait4(p->pid, &status, WNOHANG, &ru);
		if (r != 0 && !(r < 0 && errno == EINTR))
			break;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if (r == p->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		uint64_t cpu = (uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec + 1;

		outside = cpu < (uint64_t)p->cpu_limit;
	}
	if (r == p->pid)
		p->pid = 0;
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
	struct proxy *p = px(sb);
	uint32_t u, g;

	if (p->ids_picked)
		return;
	p->ids_picked = 1;
	u = pick_id("/proc/self/uid_map", uid_free);
	g = pick_id("/proc/self/gid_map", gid_free);
	p->uid = u && g ? (uid_t)u : (uid_t)-1;
	p->gid = u && g ? (gid_t)g : (gid_t)-1;
	if (p->uid == (uid_t)-1)
		pr_debug("sandbox: no other id is mapped here: the child keeps our uid and gid");
	else
		pr_debug("sandbox: the child runs as uid %u, gid %u", (unsigned)p->uid, (unsigned)p->gid);
}

/* Wait for the new child's SBP_READY: 0, or a negative errno with the reason in start_why. */
static int child_wait_ready(struct sandbox *sb)
{
	struct proxy *p = px(sb);
	struct pollfd pf = { p->sock, POLLIN, 0 };
	struct sbp_ready m;
	size_t n = 0;
	int got;

	do
		got = poll(&pf, 1, p->timeout_ms);
	while (got < 0 && errno == EINTR);
	if (got == 0) {
		snprintf(p->start_why, sizeof(p->start_why), "the child did not answer in %d ms",
			 p->timeout_ms);
		return -ETIMEDOUT;
	}
	got = got < 0 ? -errno : sbproto__recv(p->sock, p->msg, &n, NULL);
	if (got != SBP_READY || sbproto__decode_ready(p->msg, n, &m)) {
		snprintf(p->start_why, sizeof(p->start_why), "the child %s before it was ready",
			 got == 0 ? "exited" : "sent a bad message");
		return -EPROTO;
	}
	if (m.status)
		snprintf(p->start_why, sizeof(p->start_why), "%.100s: %s", m.why, strerror(-m.status));
	return m.status;
}

int sandbox_proxy_start(struct sandbox *sb)
{
	struct proxy *p = px(sb);
	struct rlimit cpu;
	int sv[2], err;
	pid_t pid;

	if (p->start_err)
		return p->start_err;
	if (getuid() == 0 || geteuid() == 0)
		sandbox_pick_ids(sb);
	/* The limit the child will have (lower_limit): a SIGKILL below it came from outside. */
	p->cpu_limit = SANDBOX_MAX_CPU;
	if (getrlimit(RLIMIT_CPU, &cpu) == 0 && cpu.rlim_cur < p->cpu_limit)
		p->cpu_limit = cpu.rlim_cur;
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
		sandbox_child_main(sv[1], &sb->opts, p->uid, p->gid);
		_exit(0);
	}
	close(sv[1]);
	p->pid = pid;
	p->sock = sv[0];
	p->gen++;
	err = child_wait_ready(sb);
	if (err) {
		child_stop(sb);
		sb->stats.start_failures++;
		/* Locking down fails the same way every time: no more children, no more forks. */
		p->start_err = err;
		pr_debug("sandbox: cannot start the child: %s", p->start_why);
	}
	return err;
}

static int proxy_start_op(struct sandbox *sb, char *why, size_t size)
{
	struct proxy *p = px(sb);
	int err = 0;

	if (!p->pid)
		err = sandbox_proxy_start(sb);
	if (err && size)
		snprintf(why, size, "%s", p->start_err ? p->start_why : strerror(-err));
	return err;
}

void sandbox_proxy_failed(struct sandbox *sb, struct sandbox_elf *e, const char *why)
{
	child_stop(sb);
	sb->stats.restarts++;
	if (e && !e->bad) {
		e->bad = 1;
		sb->stats.bad_files++;
	}
	pr_warn("symbolizer child %s%s%s%s", why, e ? " on '" : "", e ? e->name : "",
		e ? "': file skipped" : "");
}

/*
 * The child's socket closed under a request: a child killed from outside (child_reap) is replaced
 * and the request sent again (-EAGAIN), SANDBOX_OUTSIDE_RETRIES times in a row at most; otherwise,
 * or past that, the child failed on 'e' (returns 'err').
 */
static int child_gone(struct sandbox *sb, struct sandbox_elf *e, const char *why, int err)
{
	struct proxy *p = px(sb);

	if (child_reap(sb) && p->outside_streak < SANDBOX_OUTSIDE_RETRIES) {
		p->outside_streak++;
		sb->stats.outside_kills++;
		pr_warn("symbolizer child was killed from outside (SIGKILL from root or the OOM killer)%s%s%s: "
			"starting a new one",
			e ? " while on '" : "", e ? e->name : "", e ? "'" : "");
		return -EAGAIN;
	}
	sandbox_proxy_failed(sb, e, why);
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
	struct proxy *p = px(sb);
	struct sbp_debug_open m;
	uint8_t body[4];
	int fd = -1, err, allowed;

	if (sbproto__decode_debug_open(p->msg, len, &m))
		return -EPROTO;
	if ((allowed = may_open(sb, m.root, m.path))) {
		fd = safeopen__in_root(m.root[0] ? m.root : NULL, m.path);
		if (allowed == 2 && fd >= 0 && !safeopen__is_elf(fd)) {
			close(fd);
			fd = -ENOEXEC;
		}
		sb->stats.opens_brokered++;
	} else {
		pr_debug("sandbox: refused to open '%s' under '%s'", m.path, m.root);
		sb->stats.opens_refused++;
		fd = -EPERM;
	}
	len = sbproto__encode_status(body, sizeof(body), &(struct sbp_status){ fd < 0 ? fd : 0 });
	err = sbproto__send(p->sock, SBP_FD, body, len, fd);
	if (fd >= 0)
		close(fd);
	return err;
}

/* See sandbox_proxy.h. The answer's body is left in p->msg. */
int sandbox_proxy_request_fd(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body,
			     size_t len, int fd, uint32_t want, int *rfd)
{
	struct proxy *p = px(sb);
	struct timespec t0, t;
	int err;

	if (rfd)
		*rfd = -1;
	if (!p->pid && (err = sandbox_proxy_start(sb)))
		return err;
	sb->stats.requests++;
	err = sbproto__send(p->sock, type, body, len, fd);
	if (err == -EPIPE || err == -ECONNRESET)
		return child_gone(sb, e, "is gone", -EPIPE);
	if (err) {
		sandbox_proxy_failed(sb, e, "cannot be sent a request");
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf = { p->sock, POLLIN, 0 };
		long left;
		size_t n = 0;
		int got;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = p->timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0 || (got = poll(&pf, 1, (int)left)) == 0) {
			sb->stats.timeouts++;
			sandbox_proxy_failed(sb, e, "timed out");
			return -ETIMEDOUT;
		}
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			sandbox_proxy_failed(sb, e, "cannot be polled");
			return err;
		}
		got = sbproto__recv(p->sock, p->msg, &n, rfd);
		if (rfd && *rfd != -1 && (got <= 0 || (uint32_t)got != want)) {
			/* A descriptor is welcome only with the answer that takes one. */
			if (*rfd >= 0)
				close(*rfd);
			*rfd = -1;
		}
		if (got == 0 || got == -ECONNRESET)
			return child_gone(sb, e, "died", -EPIPE);
		if (got < 0) {
			sandbox_proxy_failed(sb, e, "sent a bad message");
			return got;
		}
		if ((uint32_t)got == want)
			return (int)n;
		if (got != SBP_DEBUG_OPEN || broker_open(sb, n)) {
			sandbox_proxy_failed(sb, e, "sent a bad message");
			return -EPROTO;
		}
	}
}

int sandbox_proxy_request(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body,
			  size_t len, int fd, uint32_t want)
{
	return sandbox_proxy_request_fd(sb, e, type, body, len, fd, want, NULL);
}

int sandbox_proxy_open(struct sandbox *sb, struct sandbox_elf *e)
{
	struct proxy *p = px(sb);
	uint8_t body[2 * SBPROTO_MAX_PATH + 2];
	size_t nl = strlen(e->name), rl = e->root ? strlen(e->root) : 0, len;
	struct sbp_opened m;
	int n, st;

	if (e->bad)
		return -EIO;
	if (p->pid && e->gen == p->gen)
		return 0;
	if (!e->is_vdso && (nl == 0 || nl >= SBPROTO_MAX_PATH || rl >= SBPROTO_MAX_PATH))
		return -ENAMETOOLONG;
	len = e->is_vdso ? 0
			 : sbproto__encode_open(body, sizeof(body), &(struct sbp_open){ e->name, e->root });
	do {
		if (e->is_vdso)
			n = sandbox_proxy_request(sb, e, SBP_VDSO, NULL, 0, -1, SBP_OPENED);
		else
			n = sandbox_proxy_request(sb, e, SBP_OPEN, body, len, e->fd, SBP_OPENED);
	} while (n == -EAGAIN);
	if (n < 0)
		return n;
	if (sbproto__decode_opened(p->msg, (size_t)n, &m)) {
		sandbox_proxy_failed(sb, e, "sent a bad message");
		return -EPROTO;
	}
	st = m.status;
	if (st >= 0) {
		memcpy(e->segs, m.segs, (size_t)m.nr_segs * sizeof(m.segs[0]));
		e->nr_segs = m.nr_segs;
		memcpy(e->build_id, m.build_id, sizeof(e->build_id));
		e->handle = (uint32_t)st;
		e->gen = p->gen;
	}
	safeopen__fd_error(st); /* the child out of descriptors */
	return st < 0 ? st : 0;
}

static struct sandbox_elf *proxy_open_fd(struct sandbox *sb, int fd, const char *name, const char *root)
{
	struct sandbox_elf *e;
	int err = 0;

	/* A file the symbolizer will not take is not worth a child's time. */
	if (!safeopen__is_elf(fd)) {
		errno = ENOEXEC;
		return NULL;
	}
	e = sandbox_add_elf(sb, name, root);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	px(sb)->outside_streak = 0;
	if (e->fd < 0)
		err = safeopen__fd_error(-errno);
	else
		err = sandbox_proxy_open(sb, e);
	if (err < 0) {
		e->bad = 1; /* kept in the list (freed with the sandbox), never used */
		errno = -err;
		return NULL;
	}
	return e;
}

static struct sandbox_elf *proxy_vdso(struct sandbox *sb)
{
	struct sandbox_elf *e = sandbox_add_elf(sb, "[vdso]", NULL);

	if (!e)
		return NULL;
	e->is_vdso = 1;
	px(sb)->outside_streak = 0;
	if (sandbox_proxy_open(sb, e) < 0) {
		e->bad = 1;
		return NULL;
	}
	return e;
}

static int proxy_lookup(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out,
			int max)
{
	struct proxy *p = px(sb);
	struct sbp_lookup m = { 0, vaddr, (uint32_t)(max > SBPROTO_MAX_FRAMES ? SBPROTO_MAX_FRAMES : max) };
	uint8_t body[16];
	int n;

	if (max <= 0)
		return 0;
	p->outside_streak = 0;
	do {
		if (sandbox_proxy_open(sb, e) < 0)
			return 0;
		m.handle = e->handle;
		n = sandbox_proxy_request(sb, e, SBP_LOOKUP, body,
					  sbproto__encode_lookup(body, sizeof(body), &m), -1, SBP_FRAMES);
	} while (n == -EAGAIN);
	if (n < 0)
		return 0;
	n = sbproto__decode_frames(p->msg, (size_t)n, out, (int)m.max, p->strbuf, sizeof(p->strbuf));
	if (n < 0) {
		sandbox_proxy_failed(sb, e, "sent a bad message");
		return 0;
	}
	sb->stats.lookups++;
	return n;
}

/* The i-th strings block of sandbox__lookup_many (SANDBOX_MAX_MSG bytes), kept for the next calls. */
static char *lookup_block(struct proxy *p, size_t i)
{
	if (i == p->nr_blocks) {
		if (array__grow(&p->blocks, &p->cap_blocks, i + 1, sizeof(*p->blocks)) ||
		    !(p->blocks[i] = malloc(SANDBOX_MAX_MSG)))
			return NULL;
		p->nr_blocks++;
	}
	return p->blocks[i];
}

static int proxy_lookup_many(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n,
			     int max, struct sym_frame *frames, struct sandbox_frames *out)
{
	static uint8_t body[16 + SANDBOX_LOOKUP_BATCH * 8];
	struct proxy *p = px(sb);
	int counts[SANDBOX_LOOKUP_BATCH];
	size_t done = 0, blk = 0, m = (size_t)max;

	/* After a failure the file is bad: the rest of its addresses get no frames, as one by one. */
	p->outside_streak = 0;
	while (done < n && sandbox_proxy_open(sb, e) == 0) {
		struct sbp_lookup_many rq = {
			.handle = e->handle,
			.max = (uint32_t)m,
			.n = (uint32_t)(n - done < SANDBOX_LOOKUP_BATCH ? n - done : SANDBOX_LOOKUP_BATCH),
			.ms = (uint32_t)(p->timeout_ms / 10 > 0 ? p->timeout_ms / 10 : 1),
			.vaddrs = vaddrs + done,
		};
		char *strs = lookup_block(p, blk++);
		int len, k, j;

		if (!strs)
			return -ENOMEM;
		len = sandbox_proxy_request(sb, e, SBP_LOOKUP_MANY, body,
					    sbproto__encode_lookup_many(body, sizeof(body), &rq), -1,
					    SBP_FRAMES_MANY);
		if (len == -EAGAIN) {
			blk--; /* the same addresses again, to a new child */
			continue;
		}
		if (len < 0)
			break;
		k = sbproto__decode_frames_many(p->msg, (size_t)len, rq.n, frames + done * m, (int)m, counts,
						strs, SANDBOX_MAX_MSG);
		if (k < 0) {
			sandbox_proxy_failed(sb, e, "sent a bad message");
			break;
		}
		for (j = 0; j < k; j++) {
			out[done + (size_t)j].f = frames + (done + (size_t)j) * m;
			out[done + (size_t)j].n = counts[j];
		}
		done += (size_t)k;
		sb->stats.lookups += (uint64_t)k;
	}
	return 0;
}

static int proxy_has_dwarf(struct sandbox *sb, struct sandbox_elf *e)
{
	struct proxy *p = px(sb);
	uint8_t body[4];
	int n;

	p->outside_streak = 0;
	do {
		if (sandbox_proxy_open(sb, e) < 0)
			return 0;
		n = sandbox_proxy_request(
			sb, e, SBP_HAS_DWARF, body,
			sbproto__encode_handle(body, sizeof(body), &(struct sbp_handle){ e->handle }), -1,
			SBP_DWARF);
	} while (n == -EAGAIN);
	if (n < 0)
		return 0;
	n = sbproto__decode_has_dwarf(p->msg, (size_t)n);
	if (n < 0) {
		sandbox_proxy_failed(sb, e, "sent a bad message");
		return 0;
	}
	return n;
}

static int proxy_init(struct sandbox *sb)
{
	struct proxy *p = calloc(1, sizeof(*p));
	const char *t = getenv("SCORCH_SANDBOX_TIMEOUT_MS");

	if (!p)
		return -ENOMEM;
	p->sock = -1;
	p->timeout_ms = t && atoi(t) > 0 ? atoi(t) : SANDBOX_TIMEOUT_MS;
	sb->impl = p;
	return 0;
}

static int proxy_share_cpu(struct sandbox *sb)
{
	struct proxy *p = px(sb);
	cpu_set_t one;
	int cpu;

	if (p->cpus_saved)
		return 0;
	cpu = sched_getcpu();
	if (cpu < 0 || sched_getaffinity(0, sizeof(p->saved_cpus), &p->saved_cpus))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;
	p->cpus_saved = 1;
	return 0;
}

static void proxy_release(struct sandbox *sb)
{
	struct proxy *p = px(sb);
	size_t i;

	/* The child (if any) keeps the pin until it is gone below; this process gets its CPUs back. */
	if (p->cpus_saved && sched_setaffinity(0, sizeof(p->saved_cpus), &p->saved_cpus))
		pr_debug("sandbox: cannot restore the CPU affinity: %s", strerror(errno));
	if (p->pid > 0) {
		/* End of file on its socket ends the child; it has nothing to flush. */
		close(p->sock);
		p->sock = -1;
		child_stop(sb);
	}
	for (i = 0; i < p->nr_blocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	free(p);
}

static int proxy_child_pid(struct sandbox *sb)
{
	struct proxy *p = px(sb);
	int err;

	if (!p->pid && (err = sandbox_proxy_start(sb)))
		return err;
	return p->pid;
}

static int proxy_test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg)
{
	struct proxy *p = px(sb);
	uint8_t body[4 + SBPROTO_MAX_PATH];
	struct sbp_status r;
	size_t len;
	int n;

	if (strlen(arg) >= SBPROTO_MAX_PATH)
		return -ENAMETOOLONG;
	len = sbproto__encode_test(body, sizeof(body), &(struct sbp_test){ (uint32_t)what, arg });
	p->outside_streak = 0;
	do {
		if (e && sandbox_proxy_open(sb, e) < 0)
			return -EIO;
		n = sandbox_proxy_request(sb, e, SBP_TEST, body, len, -1, SBP_TESTED);
	} while (n == -EAGAIN);
	if (n < 0)
		return n;
	if (sbproto__decode_status(p->msg, (size_t)n, &r))
		return -EPROTO;
	return r.status;
}

const struct symsvc_ops sandbox_proxy_ops = {
	.init = proxy_init,
	.release = proxy_release,
	.start = proxy_start_op,
	.start_failed = sandbox_proxy_cannot_start,
	.open_fd = proxy_open_fd,
	.vdso = proxy_vdso,
	.lookup = proxy_lookup,
	.lookup_many = proxy_lookup_many,
	.has_dwarf = proxy_has_dwarf,
	.share_cpu = proxy_share_cpu,
	.child_pid = proxy_child_pid,
	.test = proxy_test,
	.max_frames = SBPROTO_MAX_FRAMES,
	.uw_init = sandbox_proxy_uw_init,
	.uw_release = sandbox_proxy_uw_release,
	.uw_handle = sandbox_proxy_uw_handle,
	.uw_round = sandbox_proxy_uw_round,
	.uw_evicted = sandbox_proxy_uw_evicted,
	.uw_table = sandbox_proxy_uw_table,
};
