// SPDX-License-Identifier: MIT
/*
 * The sandbox's child (sandbox.h): it locks itself down, says so (M_READY), then serves the parent's
 * requests: opening files it is passed, lookups, the has-DWARF question, test requests, and the
 * batched unwinding (sandbox_uw.c is the parent's side of that).
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

#include "log.h"
#include "safeopen.h"
#include "sandbox_int.h"
#include "unwindsvc.h"

/* --- the child ---------------------------------------------------------------------------------- */

static int child_sock = -1;
static uint8_t child_buf[SANDBOX_MAX_MSG];

/* safeopen's broker in the child: the parent opens debuginfo candidates. */
static int child_broker(const char *root, const char *path)
{
	uint8_t req[2 * 4096 + 2];
	size_t rl = root ? strlen(root) : 0, pl = strlen(path), len;
	int32_t st;
	int type, fd;

	if (rl >= 4096 || pl >= 4096)
		return -ENAMETOOLONG;
	memcpy(req, root ? root : "", rl + 1);
	memcpy(req + rl + 1, path, pl + 1);
	if (sandbox_send_msg(child_sock, M_DEBUG_OPEN, req, rl + pl + 2, -1))
		_exit(3);
	type = sandbox_recv_msg(child_sock, child_buf, &len, &fd);
	if (type != M_FD || len != 4)
		_exit(3);
	memcpy(&st, child_buf, 4);
	if (st < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return st < 0 ? st : fd == SANDBOX_FD_LOST ? -EMFILE : -EIO;
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
		__NR_read, __NR_pread64, __NR_mmap, __NR_munmap, __NR_mprotect, __NR_brk, __NR_fstat,
		__NR_newfstatat, __NR_lseek, __NR_close, __NR_recvmsg, __NR_sendmsg, __NR_exit_group,
		__NR_exit, __NR_futex, __NR_madvise, __NR_mremap, __NR_rt_sigreturn, __NR_rt_sigprocmask,
		__NR_getrandom, __NR_fcntl, __NR_dup, __NR_dup3, __NR_clock_nanosleep, __NR_clock_gettime,
		__NR_getpid, __NR_gettid, __NR_sysinfo, __NR_sched_yield,
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
		__NR_openat, __NR_readlinkat,
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
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 0, 4);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
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
	if (getenv("SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL"))
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
static void child_ready(int sock, int32_t status, const char *step)
{
	uint8_t body[4 + 128];
	size_t sl = status ? strnlen(step, 127) : 0;

	memcpy(body, &status, 4);
	memcpy(body + 4, step, sl);
	body[4 + sl] = 0;
	if (sandbox_send_msg(sock, M_READY, body, 4 + sl + 1, -1) || status)
		_exit(2);
}

static void child_reply_opened(struct sym_elf **elfs, size_t nr, struct sym_elf *e, int err)
{
	uint8_t out[4 + 4 + MAX_SEGS * 24 + MAX_BUILD_ID];
	int32_t st = e ? (int32_t)(nr - 1) : -(err ? err : EINVAL);
	uint32_t ns = 0;
	size_t at = 8, bl;
	uint64_t g[3];

	(void)elfs;
	if (e) {
		while (ns < MAX_SEGS && symbolizer__load_segment(e, ns, &g[0], &g[1], &g[2]) == 0) {
			memcpy(out + at, g, sizeof(g));
			at += sizeof(g);
			ns++;
		}
		bl = strlen(symbolizer__build_id(e));
		if (bl > MAX_BUILD_ID)
			bl = 0;
		memcpy(out + at, symbolizer__build_id(e), bl);
		at += bl;
	}
	memcpy(out, &st, 4);
	memcpy(out + 4, &ns, 4);
	if (sandbox_send_msg(child_sock, M_OPENED, out, at, -1))
		_exit(3);
}

/* M_HAS_DWARF: loading the DWARF is parsing, so it happens here. */
static void child_has_dwarf(struct symbolizer *s, struct sym_elf **elfs, size_t nr, const uint8_t *body,
			    size_t len)
{
	uint32_t h;
	int32_t r;

	if (len != 4)
		_exit(3);
	memcpy(&h, body, 4);
	if (h >= nr)
		_exit(3);
	r = symbolizer__has_dwarf(s, elfs[h]) ? 1 : 0;
	if (sandbox_send_msg(child_sock, M_DWARF, &r, 4, -1))
		_exit(3);
}

/* tests only: the child aborts at its Nth lookup (SCORCH_TEST_SANDBOX_LOOKUP_CRASH=N) */
static unsigned long child_lookups, child_lookup_crash;

static int child_lookup(struct symbolizer *s, struct sym_elf *e, uint64_t v, struct sym_frame *f, int max)
{
	if (child_lookup_crash && ++child_lookups == child_lookup_crash)
		abort();
	return symbolizer__lookup(s, e, v, f, max);
}

/*
 * M_LOOKUP_MANY: answers for as many of the addresses as fit in one reply and as come within the
 * request's time budget (so that the parent's timeout stays one for a lookup, not for a batch).
 */
static void child_lookup_many(struct symbolizer *s, struct sym_elf **elfs, size_t nr, const unsigned char *stalls,
			      size_t len, uint8_t *out, size_t cap)
{
	uint32_t h, max, n, ms, k;
	struct sym_frame f[64];
	struct timespec t0, t;
	size_t at = 4, a;

	if (len < 16)
		_exit(3);
	memcpy(&h, child_buf, 4);
	memcpy(&max, child_buf + 4, 4);
	memcpy(&n, child_buf + 8, 4);
	memcpy(&ms, child_buf + 12, 4);
	if (h >= nr || !n || n > SANDBOX_LOOKUP_BATCH || len != 16 + (size_t)n * 8)
		_exit(3);
	if (max > 64)
		max = 64;
	while (stalls[h])
		nanosleep(&(struct timespec){ 1, 0 }, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < n; k++) {
		uint64_t v;
		int nf;

		if (k) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L >= (long)ms)
				break;
		}
		memcpy(&v, child_buf + 16 + (size_t)k * 8, 8);
		nf = child_lookup(s, elfs[h], v, f, (int)max);
		a = sandbox_put_answer(f, nf < 0 ? 0 : nf, out, cap, at, k == 0);
		if (a == SIZE_MAX)
			break;
		at = a;
	}
	memcpy(out, &k, 4);
	if (sandbox_send_msg(child_sock, M_FRAMES_MANY, out, at, -1))
		_exit(3);
}

/* The child's side of batched unwinding: the shared buffers, mapped once per child. */
static const uint8_t *child_req;
static uint8_t *child_res;
static size_t child_req_size, child_res_size;
static unsigned long child_batches;

static void child_unwind(struct unwindsvc *uw, int type, size_t len, int fd)
{
	const char *crash = getenv("SCORCH_TEST_SANDBOX_UNWIND_CRASH");
	int32_t st = 0;

	if (type == M_UW_SETUP) {
		uint32_t which;
		uint64_t size;
		void *p;

		if (len != 16 || fd < 0)
			_exit(3);
		memcpy(&which, child_buf, 4);
		memcpy(&size, child_buf + 8, 8);
		if (which > 1 || !size || size > (1ull << 30) || (which ? child_res : child_req))
			_exit(3);
		p = mmap(NULL, size, which ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			_exit(4);
		if (which) {
			/* The last word is the watch slot (unwindsvc__watch): results go before it. */
			if (size < 64)
				_exit(3);
			child_res = p;
			child_res_size = size - 8;
			unwindsvc__watch(uw, (volatile uint32_t *)(child_res + child_res_size));
		} else {
			child_req = p;
			child_req_size = size;
		}
	} else if (fd >= 0) {
		_exit(3);
	} else if (type == M_UW_MAPS) {
		uint32_t pid, append;
		struct unwindsvc_map m[(SANDBOX_MAX_MSG - 8) / sizeof(struct unwindsvc_map)];
		size_t n = (len - 8) / sizeof(m[0]);

		if (len < 8 || (len - 8) % sizeof(m[0]))
			_exit(3);
		memcpy(&pid, child_buf, 4);
		memcpy(&append, child_buf + 4, 4);
		memcpy(m, child_buf + 8, n * sizeof(m[0]));
		st = unwindsvc__set_maps(uw, pid, m, n, append != 0);
	} else if (type == M_UW_FORGET) {
		size_t i;

		for (i = 0; i + 4 <= len; i += 4) {
			uint32_t pid;

			memcpy(&pid, child_buf + i, 4);
			unwindsvc__set_maps(uw, pid, NULL, 0, 0);
		}
	} else if (type == M_UW_BATCH) {
		uint8_t out[24] = { 0 };
		uint64_t offs[SANDBOX_UW_MAX_BATCH], req_len, res_len = 0, ev;
		uint32_t n;

		if (len < 16 || !child_req || !child_res)
			_exit(3);
		memcpy(&n, child_buf, 4);
		memcpy(&req_len, child_buf + 8, 8);
		if (n > SANDBOX_UW_MAX_BATCH || len != 16 + (size_t)n * 8 || req_len > child_req_size)
			_exit(3);
		memcpy(offs, child_buf + 16, (size_t)n * 8);
		*(volatile uint32_t *)(child_res + child_res_size) = UNWINDSVC_NOFILE;
		if (crash && ++child_batches == strtoul(crash, NULL, 10))
			abort(); /* for the tests: a child that dies while unwinding */
		st = unwindsvc__unwind_batch(uw, child_req, req_len, offs, n, child_res, child_res_size, &res_len);
		if (st == -ENOMEM)
			_exit(4);
		ev = unwindsvc__images_evicted(uw);
		memcpy(out, &st, 4);
		memcpy(out + 8, &res_len, 8);
		memcpy(out + 16, &ev, 8);
		if (sandbox_send_msg(child_sock, M_UW_DONE, out, sizeof(out), -1))
			_exit(3);
		return;
	}
	if (sandbox_send_msg(child_sock, M_UW_ACK, &st, 4, -1))
		_exit(3);
}

void sandbox_child_main(int sock, const struct symbolizer_opts *opts, uid_t uid, gid_t gid)
{
	struct symbolizer_opts o = *opts;
	struct symbolizer *s;
	struct sym_elf **elfs = NULL, *vdso;
	struct unwindsvc *uw;
	size_t nr = 0, cap = 0;
	static uint8_t out[SANDBOX_MAX_MSG - sizeof(struct msg_hdr)];
	/* tests only: lookups in a file whose name holds this string hang, as a parser might on hostile bytes */
	const char *stall = getenv("SCORCH_TEST_SANDBOX_STALL");
	const char *crash = getenv("SCORCH_TEST_SANDBOX_LOOKUP_CRASH");
	const char *step = "";
	unsigned char *stalls = NULL, stalls_next = 0;
	int nul, rc;

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
	child_sock = sock;
	child_lookup_crash = crash ? strtoul(crash, NULL, 10) : 0;
	/* The terminal's ^C is for the recorder, which ends us by closing the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	o.debuginfod = 0; /* a network client has no place here */
	s = symbolizer__new(&o);
	if (!s)
		child_ready(sock, -ENOMEM, "creating the symbolizer");
	vdso = symbolizer__vdso(s); /* from our own memory, before the doors close */
	uw = unwindsvc__new();      /* copies the vDSO too */
	if (!uw)
		child_ready(sock, -ENOMEM, "creating the unwinder");
	if ((rc = lock_down(uid, gid, &step)))
		child_ready(sock, rc, step);
	child_ready(sock, 0, "");
	safeopen__set_broker(child_broker);
	for (;;) {
		size_t len;
		int fd, type = sandbox_recv_msg(sock, child_buf, &len, &fd);
		struct sym_elf *e;

		if (type <= 0)
			_exit(type == 0 ? 0 : 3);
		if (fd == SANDBOX_FD_LOST) {
			/* Out of descriptors: say so; it is not the file's fault. */
			int32_t st = -EMFILE;

			if (type == M_OPEN)
				child_reply_opened(elfs, nr, NULL, EMFILE);
			else if (type != M_UW_SETUP || sandbox_send_msg(sock, M_UW_ACK, &st, 4, -1))
				_exit(3);
			continue;
		}
		if (type == M_OPEN || type == M_VDSO) {
			char *name = (char *)child_buf, *root;
			size_t nl;

			if (type == M_VDSO) {
				stalls_next = 0;
				e = vdso;
				errno = ENOENT;
			} else {
				if (fd < 0 || !len || child_buf[len - 1] || !(nl = strnlen(name, len)) || nl + 1 >= len)
					_exit(3);
				root = name + nl + 1;
				stalls_next = stall && stall[0] && strstr(name, stall);
				e = symbolizer__open_fd(s, fd, name, root[0] ? root : NULL);
				/* The unwinding service reads the same file, under the same handle. */
				if (e && unwindsvc__add_file(uw, (uint32_t)nr, fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -ENOMEM)
					_exit(4);
				close(fd);
			}
			if (e) {
				if (nr == cap) {
					cap = cap ? 2 * cap : 64;
					elfs = realloc(elfs, cap * sizeof(*elfs));
					stalls = realloc(stalls, cap);
					if (!elfs || !stalls)
						_exit(4);
				}
				stalls[nr] = stalls_next;
				elfs[nr++] = e;
			}
			child_reply_opened(elfs, nr, e, errno);
		} else if (type == M_LOOKUP && len == 16) {
			uint32_t h, max;
			uint64_t v;
			struct sym_frame f[64];
			int n = 0;

			if (fd >= 0)
				close(fd);
			memcpy(&h, child_buf, 4);
			memcpy(&v, child_buf + 4, 8);
			memcpy(&max, child_buf + 12, 4);
			if (h >= nr)
				_exit(3);
			if (max > 64)
				max = 64;
			while (stalls[h])
				nanosleep(&(struct timespec){ 1, 0 }, NULL);
			n = child_lookup(s, elfs[h], v, f, (int)max);
			len = sandbox__encode_frames(f, n < 0 ? 0 : n, out, sizeof(out));
			if (sandbox_send_msg(sock, M_FRAMES, out, len, -1))
				_exit(3);
		} else if (type == M_LOOKUP_MANY) {
			if (fd >= 0)
				close(fd);
			child_lookup_many(s, elfs, nr, stalls, len, out, sizeof(out));
		} else if (type == M_HAS_DWARF) {
			if (fd >= 0)
				close(fd);
			child_has_dwarf(s, elfs, nr, child_buf, len);
		} else if (type == M_TEST && len > 4 && !child_buf[len - 1]) {
			uint32_t what;
			int32_t r = 0;
			char *arg = (char *)child_buf + 4;

			if (fd >= 0)
				close(fd);
			memcpy(&what, child_buf, 4);
			if (what == SANDBOX_TEST_OPEN) {
				int t = open(arg, O_RDONLY | O_CLOEXEC); /* the filter kills us here */

				r = t < 0 ? -errno : 0;
			} else if (what == SANDBOX_TEST_CRASH) {
				abort();
			} else if (what == SANDBOX_TEST_BROKER) {
				char *nl = strchr(arg, '\n');
				int t;

				if (!nl)
					_exit(3);
				*nl = 0;
				t = safeopen__in_root(arg[0] ? arg : NULL, nl + 1);
				r = t < 0 ? t : 0;
				if (t >= 0)
					close(t);
			} else if (what == SANDBOX_TEST_SLEEP) {
				struct timespec ts = { atoi(arg) / 1000, (atoi(arg) % 1000) * 1000000L };

				nanosleep(&ts, NULL);
			}
			if (sandbox_send_msg(sock, M_TESTED, &r, 4, -1))
				_exit(3);
		} else if (type >= M_UW_SETUP && type <= M_UW_BATCH) {
			child_unwind(uw, type, len, fd);
		} else {
			_exit(3);
		}
	}
}
