// SPDX-License-Identifier: MIT
/*
 * The sandbox's child (sandbox.h): it locks itself down, says so (SBP_READY), then serves the parent's
 * requests (sbproto.h) through a table of handlers, one per request type: opening files it is passed,
 * lookups, the has-DWARF question, test requests, the batched unwinding, and building a file's (or the
 * vDSO's) unwind table for the in-kernel unwinder (its rows sent back in a sealed memfd). A request that
 * breaks the protocol ends the child (exit status 3; 4 when out of memory): the parent counts that as a
 * failure on the request's file.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "log.h"
#include "safeopen.h"
#include "sandbox_int.h"
#include "testhooks.h"
#include "unwindsvc.h"
#include "uwtable.h"

/* The child's state: one per process, made in sandbox_child_main(). */
struct child {
	int sock;
	struct symbolizer *sym;
	struct unwindsvc *uw;
	struct sym_elf **elfs; /* owned array: handle -> file */
	unsigned char *stalls; /* per handle: lookups hang (test hook) */
	size_t nr, cap;
	struct sym_elf *vdso;
	const uint8_t *req; /* the unwinding's shared buffers (SBP_UW_SETUP), mapped once */
	uint8_t *res;
	size_t req_size, res_size;
	/* test hooks (testhooks.h), read as the child starts */
	const char *stall;              /* SCORCH_TEST_SANDBOX_STALL */
	uint64_t lookup_crash, lookups; /* SCORCH_TEST_SANDBOX_LOOKUP_CRASH */
	uint64_t unwind_crash, batches; /* SCORCH_TEST_SANDBOX_UNWIND_CRASH */
	int test_requests;              /* SCORCH_TEST_SANDBOX_REQUESTS: SBP_TEST is honoured */
	const char *bad_table;          /* SCORCH_TEST_SANDBOX_UW_TABLE: how to answer tables wrong */
	uint8_t in[SANDBOX_MAX_MSG];    /* the request being served */
	uint8_t out[SBPROTO_MAX_BODY];  /* its answer */
	uint8_t brk[SANDBOX_MAX_MSG];   /* the parent's answers to child_broker, which comes mid-request */
};

/* A protocol violation (or a parent gone): the child ends here. */
static void __attribute__((noreturn)) bail(void)
{
	_exit(3);
}

static void reply(struct child *c, uint32_t type, size_t len)
{
	if (sbproto__send(c->sock, type, c->out, len, -1))
		bail();
}

/* safeopen's broker in the child: the parent opens debuginfo candidates. It has no context argument. */
static struct child *broker_child;

static int child_broker(const char *root, const char *path)
{
	struct child *c = broker_child;
	uint8_t req[2 * SBPROTO_MAX_PATH + 2];
	struct sbp_status st;
	size_t len;
	int type, fd;

	if ((root && strlen(root) >= SBPROTO_MAX_PATH) || strlen(path) >= SBPROTO_MAX_PATH)
		return -ENAMETOOLONG;
	len = sbproto__encode_debug_open(req, sizeof(req),
					 &(struct sbp_debug_open){ root ? root : "", path });
	if (sbproto__send(c->sock, SBP_DEBUG_OPEN, req, len, -1))
		bail();
	type = sbproto__recv(c->sock, c->brk, &len, &fd);
	if (type != SBP_FD || sbproto__decode_status(c->brk, len, &st))
		bail();
	if (st.status < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return st.status < 0 ? st.status : fd == SBPROTO_FD_LOST ? -EMFILE : -EIO;
	}
	return fd;
}

static int install_seccomp(void)
{
#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef SB_ARCH
	static const int allowed[] = {
		__NR_read,
		__NR_pread64,
		__NR_mmap,
		__NR_munmap,
		__NR_mprotect,
		__NR_brk,
		__NR_fstat,
		__NR_newfstatat,
		__NR_lseek,
		__NR_close,
		__NR_recvmsg,
		__NR_sendmsg,
		__NR_exit_group,
		__NR_exit,
		__NR_futex,
		__NR_madvise,
		__NR_mremap,
		__NR_rt_sigreturn,
		__NR_rt_sigprocmask,
		__NR_getrandom,
		__NR_fcntl,
		__NR_dup,
		__NR_dup3,
		__NR_clock_nanosleep,
		__NR_clock_gettime,
		__NR_getpid,
		__NR_gettid,
		__NR_sysinfo,
		__NR_sched_yield,
		/* SBP_UW_TABLE's rows go back in a memfd of our own (ftruncate on the files we are given
		 * fails: they are open read-only). */
		__NR_memfd_create,
		__NR_ftruncate,
#ifdef __NR_nanosleep
		__NR_nanosleep,
#endif
#ifdef __NR_statx
		__NR_statx,
#endif
#ifdef __SANITIZE_ADDRESS__
		/* AddressSanitizer asks whether it runs on the signal stack before a longjmp or a noreturn
		 * call (the demangler's), and would be killed for asking. */
		__NR_sigaltstack,
#endif
	};
	/* Path lookups fail (libraries probe, e.g. readlink): nothing by name is reachable. */
	static const int refused[] = {
		__NR_openat,    __NR_readlinkat,
#ifdef __NR_open
		__NR_open,
#endif
#ifdef __NR_readlink
		__NR_readlink,
#endif
#ifdef __NR_access
		__NR_access,
#endif
		__NR_faccessat,
#ifdef __NR_openat2
		__NR_openat2,
#endif
	};
	struct sock_filter f[160];
	struct sock_fprog prog;
	unsigned int k = 0, i, n = sizeof(allowed) / sizeof(allowed[0]);
	uint32_t self = (uint32_t)getpid();

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)refused[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES);
	}
	/* write: stderr only; tgkill: itself only (abort()). */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 4);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, args[0]));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 0, 4);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, args[0]));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog.len = (unsigned short)k;
	prog.filter = f;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) ? -errno : 0;
#else
	return -ENOSYS;
#endif
}

/*
 * Lower resource limit 'res' to at most 'want', soft and hard, never above what we inherited: a hard
 * limit set lower (ulimit -v, ulimit -t) is kept, and raising one would fail anyway (EPERM) once we
 * are no longer root.
 */
static int lower_limit(int res, rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(res, &rl))
		return -errno;
	if (rl.rlim_max > want)
		rl.rlim_max = want;
	if (rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(res, &rl) ? -errno : 0;
}

/*
 * Drop everything the child does not need, to uid 'uid' and gid 'gid' when root (-1: keep ours, see
 * sandbox_pick_ids). Any failure is fatal:
 * the child must not run half-jailed. On failure, '*step' names what failed.
 */
static int lock_down(uid_t uid, gid_t gid, const char **step)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct rlimit rl;
	int cap, rc;

	*step = "the test hook";
	if (testhooks__set(TESTHOOK_SANDBOX_LOCKDOWN_FAIL))
		return -EPERM; /* tests only: a child that cannot lock itself down */
	*step = "PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	*step = "PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	if (getuid() == 0 || geteuid() == 0) {
		*step = "dropping the capability bounding set";
		for (cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
				return -errno;
		*step = "changing to the sandbox's uid and gid";
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)))
			return -errno;
	}
	*step = "dropping capabilities";
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	*step = "lowering RLIMIT_CORE";
	if ((rc = lower_limit(RLIMIT_CORE, 0)))
		return rc;
		/* Files up to SAFEOPEN_MAX_SIZE are mapped whole, with DWARF indexes on top. */
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer reserves terabytes of shadow */
	*step = "lowering RLIMIT_AS";
	if ((rc = lower_limit(RLIMIT_AS, SANDBOX_MAX_AS)))
		return rc;
#endif
	*step = "lowering RLIMIT_CPU";
	if ((rc = lower_limit(RLIMIT_CPU, SANDBOX_MAX_CPU)))
		return rc;
	*step = "lowering RLIMIT_NOFILE";
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rc = lower_limit(RLIMIT_NOFILE, rl.rlim_cur)))
		return rc;
	/* Architectures without a filter here keep the rest of the jail. */
	*step = "installing the seccomp filter";
	rc = install_seccomp();
	return rc == -ENOSYS ? 0 : rc;
}

/* Tell the parent whether the child is ready (status 0) or why not; failing, the child then exits. */

/* Tell the parent whether the child is ready (status 0) or why not; failing, the child then exits. */
static void child_ready(struct child *c, int32_t status, const char *step)
{
	size_t len = sbproto__encode_ready(c->out, sizeof(c->out), &(struct sbp_ready){ status, step });

	if (sbproto__send(c->sock, SBP_READY, c->out, len, -1) || status)
		_exit(2);
}

/* --- handlers: one per request type ------------------------------------------------------------- */

static void reply_opened(struct child *c, struct sym_elf *e, int err)
{
	static struct sbp_opened m;
	size_t bl;

	m.status = e ? (int32_t)(c->nr - 1) : -(err ? err : EINVAL);
	m.nr_segs = 0;
	m.build_id[0] = 0;
	if (e) {
		while (m.nr_segs < SBPROTO_MAX_SEGS &&
		       symbolizer__load_segment(e, m.nr_segs, &m.segs[m.nr_segs][0], &m.segs[m.nr_segs][1],
						&m.segs[m.nr_segs][2]) == 0)
			m.nr_segs++;
		bl = strlen(symbolizer__build_id(e));
		if (bl <= SBPROTO_MAX_BUILD_ID)
			memcpy(m.build_id, symbolizer__build_id(e), bl + 1);
	}
	reply(c, SBP_OPENED, sbproto__encode_opened(c->out, sizeof(c->out), &m));
}

static void add_elf(struct child *c, struct sym_elf *e, unsigned char stall)
{
	if (c->nr == c->cap) {
		size_t cap = c->cap; /* elfs and stalls share c->cap: both grow from it */

		if (array__grow(&c->elfs, &cap, c->nr + 1, sizeof(*c->elfs)) ||
		    array__grow(&c->stalls, &c->cap, c->nr + 1, sizeof(*c->stalls)))
			_exit(4);
	}
	c->stalls[c->nr] = stall;
	c->elfs[c->nr++] = e;
}

static void on_open(struct child *c, size_t len, int fd)
{
	struct sbp_open m;
	struct sym_elf *e;

	if (fd == SBPROTO_FD_LOST) {
		/* Out of descriptors: say so; it is not the file's fault. */
		reply_opened(c, NULL, EMFILE);
		return;
	}
	if (fd < 0 || sbproto__decode_open(c->in, len, &m))
		bail();
	e = symbolizer__open_fd(c->sym, fd, m.name, m.root);
	/* The unwinding service reads the same file, under the same handle. */
	if (e && unwindsvc__add_file(c->uw, (uint32_t)c->nr, fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -ENOMEM)
		_exit(4);
	close(fd);
	if (e)
		add_elf(c, e, c->stall && c->stall[0] && strstr(m.name, c->stall));
	reply_opened(c, e, errno);
}

static void on_vdso(struct child *c, size_t len, int fd)
{
	(void)len, (void)fd;
	if (c->vdso)
		add_elf(c, c->vdso, 0);
	reply_opened(c, c->vdso, ENOENT);
}

static struct sym_elf *handle_elf(struct child *c, uint32_t h)
{
	if (h >= c->nr)
		bail();
	while (c->stalls[h])
		nanosleep(&(struct timespec){ 1, 0 }, NULL);
	return c->elfs[h];
}

static int lookup(struct child *c, struct sym_elf *e, uint64_t v, struct sym_frame *f, int max)
{
	if (c->lookup_crash && ++c->lookups == c->lookup_crash)
		abort(); /* tests only: the child aborts at its Nth lookup */
	return symbolizer__lookup(c->sym, e, v, f, max);
}

static void on_lookup(struct child *c, size_t len, int fd)
{
	struct sym_frame f[SBPROTO_MAX_FRAMES];
	struct sbp_lookup m;
	struct sym_elf *e;
	int n;

	(void)fd;
	if (sbproto__decode_lookup(c->in, len, &m))
		bail();
	e = handle_elf(c, m.handle);
	n = lookup(c, e, m.vaddr, f, (int)(m.max > SBPROTO_MAX_FRAMES ? SBPROTO_MAX_FRAMES : m.max));
	reply(c, SBP_FRAMES, sbproto__encode_frames(f, n < 0 ? 0 : n, c->out, sizeof(c->out)));
}

/*
 * Answers for as many of the addresses as fit in one reply and as come within the request's time
 * budget (so that the parent's timeout stays one for a lookup, not for a batch).
 */
static void on_lookup_many(struct child *c, size_t len, int fd)
{
	struct sym_frame f[SBPROTO_MAX_FRAMES];
	struct sbp_lookup_many m;
	struct timespec t0, t;
	struct sym_elf *e;
	size_t at = 4, a;
	uint32_t k;

	(void)fd;
	if (sbproto__decode_lookup_many(c->in, len, &m))
		bail();
	e = handle_elf(c, m.handle);
	if (m.max > SBPROTO_MAX_FRAMES)
		m.max = SBPROTO_MAX_FRAMES;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < m.n; k++) {
		int nf;

		if (k) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L >=
			    (long)m.ms)
				break;
		}
		nf = lookup(c, e, sbproto__vaddr(&m, k), f, (int)m.max);
		a = sbproto__put_answer(f, nf < 0 ? 0 : nf, c->out, sizeof(c->out), at, k == 0);
		if (a == SIZE_MAX)
			break;
		at = a;
	}
	sbproto__frames_many_done(c->out, k);
	reply(c, SBP_FRAMES_MANY, at);
}

/* Loading the DWARF is parsing, so it happens here. */
static void on_has_dwarf(struct child *c, size_t len, int fd)
{
	struct sbp_handle m;

	(void)fd;
	if (sbproto__decode_handle(c->in, len, &m) || m.handle >= c->nr)
		bail();
	reply(c, SBP_DWARF,
	      sbproto__encode_has_dwarf(c->out, sizeof(c->out),
					symbolizer__has_dwarf(c->sym, c->elfs[m.handle])));
}

static void on_test(struct child *c, size_t len, int fd)
{
	struct sbp_test m;
	int32_t r = 0;

	(void)fd;
	/* Test requests are for a child started with the hook set: any other ends here. */
	if (!c->test_requests || sbproto__decode_test(c->in, len, &m))
		bail();
	if (m.what == SANDBOX_TEST_OPEN) {
		int t = open(m.arg, O_RDONLY | O_CLOEXEC); /* the filter kills us here */

		r = t < 0 ? -errno : 0;
	} else if (m.what == SANDBOX_TEST_CRASH) {
		abort();
	} else if (m.what == SANDBOX_TEST_BROKER) {
		char *arg = (char *)c->in + 4, *nl = strchr(arg, '\n');
		int t;

		if (!nl)
			bail();
		*nl = 0;
		t = safeopen__in_root(arg[0] ? arg : NULL, nl + 1);
		r = t < 0 ? t : 0;
		if (t >= 0)
			close(t);
	} else if (m.what == SANDBOX_TEST_SLEEP) {
		struct timespec ts = { atoi(m.arg) / 1000, (atoi(m.arg) % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	reply(c, SBP_TESTED, sbproto__encode_status(c->out, sizeof(c->out), &(struct sbp_status){ r }));
}

static void uw_ack(struct child *c, int32_t st)
{
	reply(c, SBP_UW_ACK, sbproto__encode_status(c->out, sizeof(c->out), &(struct sbp_status){ st }));
}

static void on_uw_setup(struct child *c, size_t len, int fd)
{
	struct sbp_uw_setup m;
	void *p;

	if (fd == SBPROTO_FD_LOST) {
		uw_ack(c, -EMFILE);
		return;
	}
	if (fd < 0 || sbproto__decode_uw_setup(c->in, len, &m) || m.size > (1ull << 30) ||
	    (m.which ? c->res != NULL : c->req != NULL))
		bail();
	p = mmap(NULL, m.size, m.which ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		_exit(4);
	if (m.which) {
		/* The last word is the watch slot (unwindsvc__watch): results go before it. */
		if (m.size < 64)
			bail();
		c->res = p;
		c->res_size = m.size - 8;
		unwindsvc__watch(c->uw, (volatile uint32_t *)(c->res + c->res_size));
	} else {
		c->req = p;
		c->req_size = m.size;
	}
	uw_ack(c, 0);
}

static void on_uw_maps(struct child *c, size_t len, int fd)
{
	static struct unwindsvc_map w[SBPROTO_UW_MAPS_CHUNK + 1];
	struct sbp_uw_maps m;

	(void)fd;
	if (sbproto__decode_uw_maps(c->in, len, &m) || m.n > sizeof(w) / sizeof(w[0]))
		bail();
	sbproto__uw_maps_get(&m, w);
	uw_ack(c, unwindsvc__set_maps(c->uw, m.pid, w, m.n, m.append != 0));
}

static void on_uw_forget(struct child *c, size_t len, int fd)
{
	struct sbp_uw_forget m;
	size_t i;

	(void)fd;
	if (sbproto__decode_uw_forget(c->in, len, &m))
		bail();
	for (i = 0; i < m.n; i++)
		unwindsvc__set_maps(c->uw, sbproto__uw_forget_pid(&m, i), NULL, 0, 0);
	uw_ack(c, 0);
}

static void on_uw_batch(struct child *c, size_t len, int fd)
{
	static struct sbp_uw_batch m;
	struct sbp_uw_done d = { 0 };

	(void)fd;
	if (sbproto__decode_uw_batch(c->in, len, &m) || !c->req || !c->res || m.req_len > c->req_size)
		bail();
	*(volatile uint32_t *)(c->res + c->res_size) = UNWINDSVC_NOFILE;
	if (c->unwind_crash && ++c->batches == c->unwind_crash)
		abort(); /* for the tests: a child that dies while unwinding */
	d.status = unwindsvc__unwind_batch(c->uw, c->req, m.req_len, m.offs, m.n, c->res, c->res_size,
					   &d.res_len);
	if (d.status == -ENOMEM)
		_exit(4);
	d.evicted = unwindsvc__images_evicted(c->uw);
	reply(c, SBP_UW_DONE, sbproto__encode_uw_done(c->out, sizeof(c->out), &d));
}

/* A test hook's wrong answer (SCORCH_TEST_SANDBOX_UW_TABLE), made before the rows go out. */
static int bad_table(const struct child *c, const char *how)
{
	return c->bad_table && strcmp(c->bad_table, how) == 0;
}

/*
 * The rows in a memfd of exactly their size, sealed so that the parent reads what we wrote and cannot
 * be made to fault: its descriptor, or a negative errno.
 */
static int table_memfd(const struct child *c, const struct uwtable *t)
{
	size_t size = t->nr * sizeof(*t->rows) + (bad_table(c, "size") ? sizeof(*t->rows) : 0);
	unsigned int seals = bad_table(c, "unsealed") ? 0 : SBPROTO_UW_TABLE_SEALS | F_SEAL_SEAL;
	int fd = memfd_create("scorch-uwtable", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) ||
	    (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		goto fail;
	memcpy(p, t->rows, t->nr * sizeof(*t->rows));
	if (bad_table(c, "rows") && t->nr >= 2)
		((struct scorch_uw_row *)p)[1].pc = ((struct scorch_uw_row *)p)[0].pc; /* not increasing */
	munmap(p, size); /* F_SEAL_WRITE wants no writable mapping */
	if (seals && fcntl(fd, F_ADD_SEALS, seals))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/*
 * The table of the file under m->handle: the builder reads the file by the unwinding service's
 * descriptor of it (pread: no offset shared); the vDSO, which has no file, from the service's copy of
 * its image (the one it unwinds with, taken before the lock-down).
 */
static int build_table(struct child *c, const struct sbp_uw_table *m, struct uwtable *t)
{
	const uint8_t *img;
	size_t size;
	int ffd;

	if (c->vdso && c->elfs[m->handle] == c->vdso) {
		img = unwindsvc__vdso(c->uw, &size);
		return img ? uwtable__build(img, size, m->max_rows, t) : -ENOENT;
	}
	ffd = unwindsvc__file_fd(c->uw, m->handle);
	return ffd < 0 ? ffd : uwtable__build_fd(ffd, m->max_rows, t);
}

static void on_uw_table(struct child *c, size_t len, int fd)
{
	struct sbp_uw_tabled d = { 0 };
	struct sbp_uw_table m;
	struct uwtable t = { 0 };
	int mfd = -1;

	(void)fd;
	if (sbproto__decode_uw_table(c->in, len, &m))
		bail();
	handle_elf(c, m.handle); /* in range; a stalled file hangs here (test hook) */
	if (bad_table(c, "count"))
		m.max_rows = UWTABLE_MAX_ROWS; /* a child that ignores the limit */
	d.status = build_table(c, &m, &t);
	if (d.status == 0 && (mfd = table_memfd(c, &t)) < 0)
		d.status = mfd;
	if (d.status == 0) {
		d.nr = (uint32_t)t.nr;
		d.base = t.base;
		d.st = t.st;
	}
	uwtable__release(&t);
	if (bad_table(c, "nofd") && mfd >= 0) {
		close(mfd);
		mfd = -1;
	}
	len = sbproto__encode_uw_tabled(c->out, sizeof(c->out), &d);
	if (sbproto__send(c->sock, SBP_UW_TABLED, c->out, len, mfd))
		bail();
	if (mfd >= 0)
		close(mfd);
}

/* The parent's requests. fd: whether one comes with a descriptor (a lost one included). */
static const struct {
	void (*fn)(struct child *c, size_t len, int fd);
	int fd;
} handlers[SBP__NR] = {
	[SBP_OPEN] = { on_open, 1 },           [SBP_VDSO] = { on_vdso, 0 },
	[SBP_LOOKUP] = { on_lookup, 0 },       [SBP_LOOKUP_MANY] = { on_lookup_many, 0 },
	[SBP_HAS_DWARF] = { on_has_dwarf, 0 }, [SBP_TEST] = { on_test, 0 },
	[SBP_UW_SETUP] = { on_uw_setup, 1 },   [SBP_UW_MAPS] = { on_uw_maps, 0 },
	[SBP_UW_FORGET] = { on_uw_forget, 0 }, [SBP_UW_BATCH] = { on_uw_batch, 0 },
	[SBP_UW_TABLE] = { on_uw_table, 0 },
};

void sandbox_child_main(int sock, const struct symbolizer_opts *opts, uid_t uid, gid_t gid)
{
	static struct child child;
	struct child *c = &child;
	struct symbolizer_opts o = *opts;
	const char *step = "";
	int nul, rc, hooks;

	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(2);
		sock = 3;
	}
	syscall(SYS_close_range, 4, ~0U, 0);
	nul = open("/dev/null", O_RDWR);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0)
		_exit(2);
	if (nul > 3)
		close(nul);
	c->sock = sock;
	/* The hooks as they are now, for this child's life (the unwinding service reads its own too). */
	hooks = testhooks__load();
	c->stall = testhooks__str(TESTHOOK_SANDBOX_STALL);
	c->lookup_crash = testhooks__num(TESTHOOK_SANDBOX_LOOKUP_CRASH);
	c->unwind_crash = testhooks__num(TESTHOOK_SANDBOX_UNWIND_CRASH);
	c->test_requests = testhooks__set(TESTHOOK_SANDBOX_REQUESTS);
	c->bad_table = testhooks__str(TESTHOOK_SANDBOX_UW_TABLE);
	/* The terminal's ^C is for the recorder, which ends us by closing the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	o.debuginfod = 0; /* a network client has no place here */
	if (hooks)
		child_ready(c, hooks, "reading the test hooks");
	c->sym = symbolizer__new(&o);
	if (!c->sym)
		child_ready(c, -ENOMEM, "creating the symbolizer");
	c->vdso = symbolizer__vdso(c->sym); /* from our own memory, before the doors close */
	c->uw = unwindsvc__new();           /* copies the vDSO too */
	if (!c->uw)
		child_ready(c, -ENOMEM, "creating the unwinder");
	if ((rc = lock_down(uid, gid, &step)))
		child_ready(c, rc, step);
	child_ready(c, 0, "");
	broker_child = c;
	safeopen__set_broker(child_broker);
	for (;;) {
		size_t len;
		int fd, type = sbproto__recv(sock, c->in, &len, &fd);

		if (type <= 0)
			_exit(type == 0 ? 0 : 3);
		if (type >= SBP__NR || !handlers[type].fn || (fd != -1 && !handlers[type].fd))
			bail();
		handlers[type].fn(c, len, fd);
	}
}
