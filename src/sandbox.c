// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
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
#include "sandbox.h"
#include "unwindsvc.h"

/* Message types. Parent to child: */
enum {
	M_OPEN = 1, /* fd + "name\0root\0" -> M_OPENED */
	M_VDSO,     /* -> M_OPENED */
	M_LOOKUP,   /* u32 handle, u64 vaddr, u32 max -> M_FRAMES */
	M_TEST,     /* u32 what, "arg\0" -> M_TESTED */
	M_FD,       /* i32 status (+ fd): answer to M_DEBUG_OPEN */
	/* child to parent: */
	M_OPENED = 16, /* i32 handle or -errno, u32 nsegs, nsegs x (u64 offset, vaddr, filesz), build id */
	M_FRAMES,      /* see sandbox__encode_frames */
	M_TESTED,      /* i32 result */
	M_DEBUG_OPEN,  /* "root\0path\0" -> M_FD */
	/* unwinding (see "unwinding" below): parent to child */
	M_UW_SETUP = 40, /* fd + u32 which (0 requests, read-only; 1 results), u32 0, u64 size -> M_UW_ACK */
	M_UW_MAPS,       /* u32 pid, u32 append, n x struct unwindsvc_map -> M_UW_ACK */
	M_UW_FORGET,     /* n x u32 pid -> M_UW_ACK */
	M_UW_BATCH,      /* u32 n, u32 0, u64 request bytes, n x u64 offset -> M_UW_DONE */
	/* child to parent */
	M_UW_ACK = 48,   /* i32 status */
	M_UW_DONE,       /* i32 status, u32 0, u64 result bytes, u64 images evicted */
};

/* Whether a file has DWARF (resymbolize), numbered apart from the others: */
enum {
	M_HAS_DWARF = 64, /* u32 handle -> M_DWARF */
	M_DWARF,          /* i32 0 or 1, see sandbox__decode_has_dwarf */
};

struct msg_hdr {
	uint32_t type, len;
};

#define MAX_SEGS 64
#define MAX_BUILD_ID 128
#define NULL_STR 0xffffffffu

struct sandbox_elf {
	struct sym_elf *local; /* disabled sandbox: the symbolizer's own */
	int fd;                /* owned dup, -1 for the vDSO */
	char *name, *root;     /* owned; root NULL for this process's root */
	uint32_t handle, gen;  /* the child's handle, valid in child generation 'gen' */
	int bad;               /* the child failed on it: no more lookups */
	int is_vdso;
	char build_id[MAX_BUILD_ID + 1];
	uint64_t segs[MAX_SEGS][3];
	size_t nr_segs;
	int uw_added;          /* disabled sandbox: registered with the in-process unwinding service */
	int uw_bad;            /* its file is one of the unwinding's dropped files (uw_dropped) */
	uint32_t uw_checked;   /* how many dropped files it was compared with */
};

struct sandbox_uw;
static void uw_free(struct sandbox_uw *uw);

struct sandbox {
	struct symbolizer_opts opts;
	int enabled;
	struct symbolizer *local; /* disabled: in-process */
	pid_t pid;                /* child, 0 when none */
	int sock;
	uint32_t gen;             /* increments with each child */
	int timeout_ms;
	struct sandbox_elf **elfs;
	size_t nr_elfs, cap_elfs;
	struct sandbox_elf *vdso;
	int vdso_tried;
	struct sandbox_stats stats;
	struct sandbox_uw *uw;    /* owned: batched unwinding, made on first use */
	cpu_set_t saved_cpus;     /* this process's affinity before sandbox__share_cpu() */
	int cpus_saved;
	uint8_t msg[SANDBOX_MAX_MSG];
	char strbuf[SANDBOX_MAX_MSG];
};

/* --- framing ------------------------------------------------------------------------------------ */

static int send_msg(int sock, uint32_t type, const void *body, size_t len, int fd)
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

/*
 * Receive one message into 'buf' (SANDBOX_MAX_MSG bytes); its body length in '*len', a passed
 * descriptor in '*fd' (when 'fd' is non-NULL; any other descriptor is closed). Returns the type,
 * 0 at end of file, or a negative errno (-EPROTO for a malformed message).
 */
static int recv_msg(int sock, uint8_t *buf, size_t *len, int *fd)
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
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(h))
		bad = 1;
	if (!bad) {
		memcpy(&h, buf, sizeof(h));
		if (h.len != (size_t)n - sizeof(h) || h.type == 0 || h.type > 255)
			bad = 1;
	}
	if (bad) {
		if (fd && *fd >= 0) {
			close(*fd);
			*fd = -1;
		}
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

int sandbox__decode_frames(const uint8_t *buf, size_t len, struct sym_frame *out, int max, char *strbuf,
			   size_t cap)
{
	size_t at = 0, used = 0;
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
	return at == len ? (int)n : -EPROTO;
}

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
	if (send_msg(child_sock, M_DEBUG_OPEN, req, rl + pl + 2, -1))
		_exit(3);
	type = recv_msg(child_sock, child_buf, &len, &fd);
	if (type != M_FD || len != 4)
		_exit(3);
	memcpy(&st, child_buf, 4);
	if (st < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return st < 0 ? st : -EIO;
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

/* Drop everything the child does not need. Any failure is fatal: the child must not run half-jailed. */
static int lock_down(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct rlimit rl;
	int cap, rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	if (getuid() == 0 || geteuid() == 0) {
		for (cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
				return -errno;
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			return -errno;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl))
		return -errno;
	/* Files up to SAFEOPEN_MAX_SIZE are mapped whole, with DWARF indexes on top. */
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer reserves terabytes of shadow */
	rl.rlim_cur = rl.rlim_max = 16ULL << 30;
	if (setrlimit(RLIMIT_AS, &rl))
		return -errno;
#endif
	rl.rlim_cur = rl.rlim_max = 3600;
	if (setrlimit(RLIMIT_CPU, &rl))
		return -errno;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -errno;
	}
	/* Architectures without a filter here keep the rest of the jail. */
	rc = install_seccomp();
	return rc == -ENOSYS ? 0 : rc;
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
	if (send_msg(child_sock, M_OPENED, out, at, -1))
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
	if (send_msg(child_sock, M_DWARF, &r, 4, -1))
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
		if (send_msg(child_sock, M_UW_DONE, out, sizeof(out), -1))
			_exit(3);
		return;
	}
	if (send_msg(child_sock, M_UW_ACK, &st, 4, -1))
		_exit(3);
}

static void child_main(int sock, const struct symbolizer_opts *opts)
{
	struct symbolizer_opts o = *opts;
	struct symbolizer *s;
	struct sym_elf **elfs = NULL, *vdso;
	struct unwindsvc *uw;
	size_t nr = 0, cap = 0;
	static uint8_t out[SANDBOX_MAX_MSG - sizeof(struct msg_hdr)];
	/* tests only: lookups in a file whose name holds this string hang, as a parser might on hostile bytes */
	const char *stall = getenv("SCORCH_TEST_SANDBOX_STALL");
	unsigned char *stalls = NULL, stalls_next = 0;
	int nul;

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
	/* The terminal's ^C is for the recorder, which ends us by closing the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	o.debuginfod = 0; /* a network client has no place here */
	s = symbolizer__new(&o);
	if (!s)
		_exit(2);
	vdso = symbolizer__vdso(s); /* from our own memory, before the doors close */
	uw = unwindsvc__new();      /* copies the vDSO too */
	if (!uw)
		_exit(2);
	if (lock_down()) {
		pr_err("sandbox: cannot drop privileges: %s", strerror(errno));
		_exit(2);
	}
	safeopen__set_broker(child_broker);
	for (;;) {
		size_t len;
		int fd, type = recv_msg(sock, child_buf, &len, &fd);
		struct sym_elf *e;

		if (type <= 0)
			_exit(type == 0 ? 0 : 3);
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
			n = symbolizer__lookup(s, elfs[h], v, f, (int)max);
			len = sandbox__encode_frames(f, n < 0 ? 0 : n, out, sizeof(out));
			if (send_msg(sock, M_FRAMES, out, len, -1))
				_exit(3);
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
			if (send_msg(sock, M_TESTED, &r, 4, -1))
				_exit(3);
		} else if (type >= M_UW_SETUP && type <= M_UW_BATCH) {
			child_unwind(uw, type, len, fd);
		} else {
			_exit(3);
		}
	}
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

static int child_start(struct sandbox *sb)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1], &sb->opts);
		_exit(0);
	}
	close(sv[1]);
	sb->pid = pid;
	sb->sock = sv[0];
	sb->gen++;
	return 0;
}

static void child_failed(struct sandbox *sb, struct sandbox_elf *e, const char *why)
{
	child_stop(sb);
	sb->stats.restarts++;
	if (e && !e->bad) {
		e->bad = 1;
		sb->stats.bad_files++;
	}
	pr_warn("symbolizer child %s%s%s%s", why, e ? " on '" : "", e ? e->name : "", e ? "': file skipped" : "");
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
	err = send_msg(sb->sock, M_FD, &st, 4, fd);
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Send a request and wait for the answer of type 'want' (its body in sb->msg, length returned),
 * serving the child's open requests meanwhile. On failure the child is gone and 'e' marked bad.
 */
static int request(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body, size_t len,
		   int fd, uint32_t want)
{
	struct timespec t0, t;
	int err;

	if (!sb->pid && (err = child_start(sb)))
		return err;
	sb->stats.requests++;
	if (send_msg(sb->sock, type, body, len, fd)) {
		child_failed(sb, e, "is gone");
		return -EPIPE;
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
			child_failed(sb, e, "timed out");
			return -ETIMEDOUT;
		}
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			child_failed(sb, e, "cannot be polled");
			return err;
		}
		got = recv_msg(sb->sock, sb->msg, &n, NULL);
		if (got <= 0) {
			child_failed(sb, e, got == 0 ? "died" : "sent a bad message");
			return got == 0 ? -EPIPE : got;
		}
		if ((uint32_t)got == want)
			return (int)n;
		if (got != M_DEBUG_OPEN || broker_open(sb, n)) {
			child_failed(sb, e, "sent a bad message");
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
static int child_open(struct sandbox *sb, struct sandbox_elf *e)
{
	char body[2 * 4096 + 2];
	size_t nl = strlen(e->name), rl = e->root ? strlen(e->root) : 0;
	int n, st;

	if (e->bad)
		return -EIO;
	if (sb->pid && e->gen == sb->gen)
		return 0;
	if (e->is_vdso) {
		n = request(sb, e, M_VDSO, NULL, 0, -1, M_OPENED);
	} else {
		if (nl == 0 || nl >= 4096 || rl >= 4096)
			return -ENAMETOOLONG;
		memcpy(body, e->name, nl + 1);
		memcpy(body + nl + 1, e->root ? e->root : "", rl + 1);
		n = request(sb, e, M_OPEN, body, nl + rl + 2, e->fd, M_OPENED);
	}
	if (n < 0)
		return n;
	st = decode_opened(sb, e, (size_t)n);
	if (st == -EPROTO)
		child_failed(sb, e, "sent a bad message");
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

		if (!l)
			return NULL;
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
	if (e->fd < 0 || (err = child_open(sb, e)) < 0) {
		e->bad = 1; /* kept in the list (freed with the sandbox), never used */
		errno = e->fd < 0 ? EMFILE : -err;
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
	if (child_open(sb, e) < 0) {
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
	if (max <= 0 || child_open(sb, e) < 0)
		return 0;
	memcpy(body, &e->handle, 4);
	memcpy(body + 4, &vaddr, 8);
	memcpy(body + 12, &m, 4);
	n = request(sb, e, M_LOOKUP, body, sizeof(body), -1, M_FRAMES);
	if (n < 0)
		return 0;
	n = sandbox__decode_frames(sb->msg, (size_t)n, out, (int)m, sb->strbuf, sizeof(sb->strbuf));
	if (n < 0) {
		child_failed(sb, e, "sent a bad message");
		return 0;
	}
	return n;
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
	if (child_open(sb, e) < 0)
		return 0;
	n = request(sb, e, M_HAS_DWARF, &e->handle, 4, -1, M_DWARF);
	if (n < 0)
		return 0;
	n = sandbox__decode_has_dwarf(sb->msg, (size_t)n);
	if (n < 0) {
		child_failed(sb, e, "sent a bad message");
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
	symbolizer__free(sb->local);
	uw_free(sb->uw);
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
	if (!sb->pid && (err = child_start(sb)))
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
	if (e && child_open(sb, e) < 0)
		return -EIO;
	memcpy(body, &w, 4);
	memcpy(body + 4, arg, al + 1);
	n = request(sb, e, M_TEST, body, 4 + al + 1, -1, M_TESTED);
	if (n < 0)
		return n;
	if (n != 4)
		return -EPROTO;
	memcpy(&r, sb->msg, 4);
	return r;
}

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

static void uw_free(struct sandbox_uw *uw)
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
	uw_free(uw);
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
		} else if (child_open(sb, e) == 0) {
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
	int n = request(sb, NULL, type, body, len, fd, M_UW_ACK);

	if (n < 0)
		return n;
	if (n != 4) {
		child_failed(sb, NULL, "sent a bad message");
		return -EPROTO;
	}
	memcpy(&st, sb->msg, 4);
	return st;
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

	if (!sb->pid && (err = child_start(sb)))
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
			return -errno;
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
	/* A child that dies while we open a file for it is started again once, with everything resent. */
	err = uw_prepare_child(sb, todo, nt);
	if (err == -EPIPE || (err && !sb->pid))
		err = uw_prepare_child(sb, todo, nt);
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
	n = request(sb, NULL, M_UW_BATCH, body, 16 + (size_t)nt * 8, -1, M_UW_DONE);
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
	child_failed(sb, NULL, "sent a bad unwinding result");
	return -EIO;
}

/*
 * After the child of generation 'gen' failed a batch: the file it was reading call frame information
 * from (the watch slot, see unwindsvc__watch) is not unwound through any more, so that one hostile
 * file costs one restart, not one per batch. A child that fails without naming a file UW_GIVE_UP
 * times in a row ends the unwinding.
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

		if (e->gen == gen && e->handle == h && !e->is_vdso && !uw_dropped(uw, e) && e->fd >= 0 &&
		    uw->nr_dropped < UW_MAX_DROPPED && fstat(e->fd, &uw->dropped[uw->nr_dropped]) == 0) {
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
		err = uw_round(sb, todo, nt, &gen);
		if (err == -ENOMEM)
			return err;
		if (err) {
			for (k = 0; k < nt; k++)
				uw->res_out[todo[k]].lost = 1;
			uw->stats.failures += nt;
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
