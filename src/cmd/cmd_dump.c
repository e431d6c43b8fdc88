// SPDX-License-Identifier: MIT
/*
 * scorch dump: the current user stack of every thread of a live process, running or sleeping.
 *
 * Each thread is stopped alone and as briefly as possible: PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the
 * stop, PTRACE_GETREGS, one process_vm_readv of the stack from SP, PTRACE_DETACH. Only once every
 * thread runs again are the copies unwound (DWARF CFI, frame pointers where it runs out) and named
 * (functions, inlined frames, file:line), by the recorder as a sample each, into a profile in memory.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "profile.h"
#include "recorder.h"
#include "scorch_abi.h"
#include "utf8.h"

#define MAX_THREADS 4096

static const char usage[] =
	"Usage: scorch dump [options] -p PID\n"
	"\n"
	"Print the current stack of every thread of a running process, whether it runs or sleeps, with\n"
	"inlined functions and source lines. Each thread is stopped for a moment only (to copy its\n"
	"registers and stack); the stacks are unwound and named after all threads run again.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID            the process\n"
	"  -s, --stack-size BYTES   bytes of stack to copy per thread (default 65536, at most 1048576)\n"
	"      --json               write JSON instead of text\n"
	"      --no-demangle        keep mangled C++ and Rust names\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

struct dump_opts {
	uint32_t pid;
	uint32_t stack_size;
	int json;
	int no_demangle;
};

struct thread_copy {
	uint32_t tid;
	char comm[32];
	char state;            /* from /proc/PID/task/TID/stat before the stop */
	int ok;                /* registers read */
	uint64_t regs[SCORCH_NR_REGS];
	uint8_t *stack;        /* owned */
	uint32_t stack_size;
	uint64_t stopped_ns;   /* how long the thread was stopped */
	int err;               /* errno of what failed, 0 if nothing */
};

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
	enum { OPT_JSON = 256, OPT_NO_DEMANGLE };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "stack-size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, verbose = 0, quiet = 0;

	o->stack_size = 65536;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:s:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (cli__parse_u32(optarg, 1, INT_MAX, "-p", &o->pid))
				return -EINVAL;
			break;
		case 's':
			if (cli__parse_u32(optarg, 64, 1u << 20, "-s", &o->stack_size))
				return -EINVAL;
			o->stack_size &= ~7u;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_NO_DEMANGLE:
			o->no_demangle = 1;
			break;
		default: {
			int r = cli__option_tail(c, argv, usage, &verbose, &quiet);

			if (r)
				return r;
			break;
		}
		}
	}
	cli__verbosity(verbose, quiet);
	if (optind < argc) {
		pr_err("unexpected argument '%s': give the process with -p PID", argv[optind]);
		return -EINVAL;
	}
	if (!o->pid) {
		pr_err("no process: give -p PID");
		return -EINVAL;
	}
	return 0;
}

/* The name and state of a thread, from /proc/PID/task/TID/stat: "tid (comm) S ...". */
static void read_thread_stat(uint32_t pid, struct thread_copy *t)
{
	char path[96], buf[512], *open_p, *close_p;
	FILE *f;
	size_t n;

	snprintf(t->comm, sizeof(t->comm), "?");
	t->state = '?';
	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, t->tid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return;
	snprintf(t->comm, sizeof(t->comm), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	if (close_p[1] == ' ' && close_p[2])
		t->state = close_p[2];
}

/*
 * Whether 'pid' is a kernel thread (PF_KTHREAD in the flags, the 9th field of /proc/PID/stat): it has no
 * user stack, and ptrace refuses it with EPERM even to root.
 */
static int is_kernel_thread(uint32_t pid)
{
	char path[64], buf[512], *p;
	unsigned long long flags;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the comm may hold spaces and parentheses */
	if (!p)
		return 0;
	for (i = 0; i < 7 && p; i++) /* past state, ppid, pgrp, session, tty_nr, tpgid */
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, "%llu", &flags) != 1)
		return 0;
	return !!(flags & 0x00200000ULL); /* PF_KTHREAD */
}

/* Copy as much of [sp, sp + size) as is mapped: the stack may end before 'size' bytes. */
static uint32_t copy_stack(pid_t tid, uint64_t sp, uint8_t *dst, uint32_t size)
{
	struct iovec local = { dst, size }, remote = { (void *)(uintptr_t)sp, size };
	ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	uint32_t got;

	if (n == (ssize_t)size)
		return size;
	/* A partial read stops at the first unmapped page; read up to the page where the stack ends. */
	got = n > 0 ? (uint32_t)n : 0;
	while (got < size) {
		uint64_t a = sp + got, end = (a | (SCORCH_PAGE_SIZE - 1)) + 1;
		uint32_t chunk = (uint32_t)(end - a) < size - got ? (uint32_t)(end - a) : size - got;

		local.iov_base = dst + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)a;
		remote.iov_len = chunk;
		n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			break;
		got += (uint32_t)n;
	}
	return got & ~7u;
}

/* Stop one thread, copy its registers and stack, let it go. */
static void grab_thread(struct thread_copy *t, uint32_t stack_size)
{
	pid_t tid = (pid_t)t->tid;
	struct user_regs_struct ur;
	uint64_t t0;
	int st;

	t->stack = malloc(stack_size);
	if (!t->stack) {
		t->err = ENOMEM;
		return;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
		t->err = errno;
		return;
	}
	t0 = clock__mono_ns();
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		t->err = errno;
		goto detach;
	}
	if (waitpid(tid, &st, __WALL) != tid) {
		t->err = errno;
		goto detach;
	}
	if (!WIFSTOPPED(st)) { /* exited */
		t->err = ESRCH;
		return;
	}
	if (ptrace(PTRACE_GETREGS, tid, NULL, &ur)) {
		t->err = errno;
		goto detach;
	}
	t->regs[SCORCH_REG_RAX] = ur.rax;
	t->regs[SCORCH_REG_RDX] = ur.rdx;
	t->regs[SCORCH_REG_RCX] = ur.rcx;
	t->regs[SCORCH_REG_RBX] = ur.rbx;
	t->regs[SCORCH_REG_RSI] = ur.rsi;
	t->regs[SCORCH_REG_RDI] = ur.rdi;
	t->regs[SCORCH_REG_RBP] = ur.rbp;
	t->regs[SCORCH_REG_RSP] = ur.rsp;
	t->regs[SCORCH_REG_R8] = ur.r8;
	t->regs[SCORCH_REG_R9] = ur.r9;
	t->regs[SCORCH_REG_R10] = ur.r10;
	t->regs[SCORCH_REG_R11] = ur.r11;
	t->regs[SCORCH_REG_R12] = ur.r12;
	t->regs[SCORCH_REG_R13] = ur.r13;
	t->regs[SCORCH_REG_R14] = ur.r14;
	t->regs[SCORCH_REG_R15] = ur.r15;
	t->regs[SCORCH_REG_RIP] = ur.rip;
	t->stack_size = copy_stack(tid, ur.rsp, t->stack, stack_size);
	t->ok = 1;
detach:
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	t->stopped_ns = clock__mono_ns() - t0;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct thread_copy *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads of 'pid', sorted by tid. */
static int list_threads(uint32_t pid, struct thread_copy **out, size_t *nr)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	struct thread_copy *ts = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	ts = calloc(MAX_THREADS, sizeof(*ts));
	if (!ts) {
		closedir(d);
		return -ENOMEM;
	}
	while ((e = readdir(d)) && n < MAX_THREADS) {
		char *end;
		unsigned long tid = strtoul(e->d_name, &end, 10);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || !tid || tid > INT_MAX)
			continue;
		ts[n].tid = (uint32_t)tid;
		read_thread_stat(pid, &ts[n]);
		n++;
	}
	closedir(d);
	qsort(ts, n, sizeof(*ts), cmp_tid);
	*out = ts;
	*nr = n;
	return 0;
}

/* The profile count of thread 'tid', or PROFILE_NONE. */
static uint32_t count_of(const struct profile *p, uint32_t tid)
{
	uint32_t c;

	for (c = 0; c < p->nr_counts; c++)
		if (p->threads[p->counts[c].thread].tid == tid)
			return c;
	return PROFILE_NONE;
}

static void print_frames_text(FILE *out, const struct profile *p, uint32_t c)
{
	const uint32_t *locs = profile__stack_locs(p, p->counts[c].stack);
	uint32_t d = p->stacks[p->counts[c].stack].depth, i, f, n = 0;
	char label[4096];

	for (i = 0; i < d; i++) {
		const struct profile_location *l = &p->locations[locs[i]];
		uint32_t nf = l->nr_frames ? l->nr_frames : 1;

		for (f = 0; f < nf; f++) {
			const struct profile_frame *fr = l->nr_frames ? &p->frames[l->frame + f] : NULL;

			/* Names, files and paths are the target's: utf8__fputs() keeps the terminal from acting on them. */
			profile__frame_label(p, locs[i], f, label, sizeof(label));
			fprintf(out, "  #%-3u ", n++);
			utf8__fputs(label, out);
			if (fr && (fr->flags & PROFILE_FRAME_INLINE))
				fputs(" (inlined)", out);
			if (fr && fr->file) {
				fputs(" at ", out);
				utf8__fputs(profile__str(p, fr->file), out);
				fprintf(out, ":%u", fr->line);
			}
			fputs(" [", out);
			utf8__fputs(profile__mapping_short_name(p, l->mapping), out);
			fputs("]\n", out);
		}
	}
}

static void print_frames_json(struct json *j, const struct profile *p, uint32_t c)
{
	const uint32_t *locs = profile__stack_locs(p, p->counts[c].stack);
	uint32_t d = p->stacks[p->counts[c].stack].depth, i, f;
	char label[4096];

	json__key(j, "frames");
	json__arr(j);
	for (i = 0; i < d; i++) {
		const struct profile_location *l = &p->locations[locs[i]];
		uint32_t nf = l->nr_frames ? l->nr_frames : 1;

		for (f = 0; f < nf; f++) {
			const struct profile_frame *fr = l->nr_frames ? &p->frames[l->frame + f] : NULL;

			profile__frame_label(p, locs[i], f, label, sizeof(label));
			json__obj(j);
			json__key(j, "function"), json__str(j, label);
			json__key(j, "module"), json__str(j, profile__mapping_short_name(p, l->mapping));
			if (fr && fr->file) {
				json__key(j, "file"), json__str(j, profile__str(p, fr->file));
				json__key(j, "line"), json__u64(j, fr->line);
			}
			json__key(j, "inlined"), json__bool(j, fr && (fr->flags & PROFILE_FRAME_INLINE));
			json__end(j);
		}
	}
	json__end(j);
}

int cmd_dump(int argc, char **argv)
{
	struct dump_opts o;
	struct thread_copy *ts = NULL;
	struct profile prof;
	struct recorder *rec = NULL;
	struct recorder_opts ro = { 0 };
	size_t nr = 0, i, grabbed = 0;
	uint64_t max_stop = 0;
	int err, ret = EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	err = parse_args(argc, argv, &o);
	if (err > 0)
		return EXIT_OK;
	if (err)
		return cli__usage_error("dump");
	profile__init(&prof);
	err = list_threads(o.pid, &ts, &nr);
	if (err == -ENOENT) {
		pr_err("no process with pid %u", o.pid);
		goto out;
	}
	if (err) {
		pr_err("cannot list the threads of pid %u: %s", o.pid, strerror(-err));
		goto out;
	}
	if (o.pid == (uint32_t)getpid()) {
		pr_err("cannot dump scorch itself");
		goto out;
	}
	if (is_kernel_thread(o.pid)) {
		pr_err("pid %u is a kernel thread: it has no user stack to dump", o.pid);
		goto out;
	}
	/* Stop, copy, release: one thread at a time, nothing else in between. */
	for (i = 0; i < nr; i++) {
		grab_thread(&ts[i], o.stack_size);
		if (ts[i].ok) {
			grabbed++;
			if (ts[i].stopped_ns > max_stop)
				max_stop = ts[i].stopped_ns;
		}
	}
	if (!grabbed) {
		int e = nr ? ts[0].err : ESRCH;

		pr_err("cannot stop any thread of pid %u: %s%s", o.pid, strerror(e),
		       e == EPERM ? " (needs CAP_SYS_PTRACE, or the same user and kernel.yama.ptrace_scope 0)" : "");
		goto out;
	}
	pr_debug("copied %zu of %zu threads; the longest stop took %.3f ms", grabbed, nr, (double)max_stop / 1e6);

	unsetenv("DEBUGINFOD_URLS");
	ro.call_graph = RECORDER_CG_AUTO;
	ro.no_kernel = 1;
	ro.sym.no_demangle = o.no_demangle;
	rec = recorder__new(&prof, &ro);
	if (!rec)
		goto nomem;
	if (recorder__add_process(rec, o.pid) == -ENOMEM)
		goto nomem;
	for (i = 0; i < nr; i++) {
		struct recorder_sample s = {
			.pid = o.pid,
			.tid = ts[i].tid,
			.comm = ts[i].comm,
			.uregs = ts[i].regs,
			.ustack_bytes = ts[i].stack,
			.ustack_size = ts[i].stack_size,
		};

		if (!ts[i].ok)
			continue;
		err = recorder__add_sample(rec, &s);
		if (err == -ENOMEM)
			goto nomem;
	}
	if (recorder__flush(rec) == -ENOMEM)
		goto nomem;

	if (o.json) {
		struct json j;

		json__init(&j, stdout, 1);
		json__obj(&j);
		json__key(&j, "pid"), json__u64(&j, o.pid);
		json__key(&j, "threads");
		json__arr(&j);
		for (i = 0; i < nr; i++) {
			uint32_t c = count_of(&prof, ts[i].tid);
			char st[2] = { ts[i].state, 0 };

			json__obj(&j);
			json__key(&j, "tid"), json__u64(&j, ts[i].tid);
			json__key(&j, "comm"), json__str(&j, ts[i].comm);
			json__key(&j, "state"), json__str(&j, st);
			if (!ts[i].ok) {
				json__key(&j, "error"), json__str(&j, strerror(ts[i].err));
			} else if (c != PROFILE_NONE) {
				print_frames_json(&j, &prof, c);
			}
			json__end(&j);
		}
		json__end(&j);
		json__end(&j);
	} else {
		for (i = 0; i < nr; i++) {
			uint32_t c = count_of(&prof, ts[i].tid);

			char comm[sizeof(ts[i].comm)];

			printf("%sthread %u (%s) state %c\n", i ? "\n" : "", ts[i].tid,
			       utf8__printable(ts[i].comm, comm, sizeof(comm)), ts[i].state);
			if (!ts[i].ok)
				printf("  (not copied: %s)\n", strerror(ts[i].err));
			else if (c == PROFILE_NONE)
				printf("  (no frames)\n");
			else
				print_frames_text(stdout, &prof, c);
		}
	}
	ret = EXIT_OK;
	goto out;
nomem:
	pr_err("out of memory");
out:
	recorder__free(rec);
	profile__release(&prof);
	for (i = 0; ts && i < nr; i++)
		free(ts[i].stack);
	free(ts);
	return ret;
}
