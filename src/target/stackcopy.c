// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "scorch_abi.h"
#include "stackcopy.h"

/* The name and state of a thread, from /proc/PID/task/TID/stat: "tid (comm) S ...". */
static void read_thread_stat(uint32_t pid, struct stackcopy_thread *t)
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

/* PF_KTHREAD in the flags, the 9th field of /proc/PID/stat. */
int stackcopy__is_kernel_thread(uint32_t pid)
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

void stackcopy__grab(struct stackcopy_thread *t, uint32_t stack_size)
{
	stackcopy__grab_with(t, stack_size, NULL, NULL);
}

void stackcopy__grab_with(struct stackcopy_thread *t, uint32_t stack_size,
			  void (*fn)(void *ctx, struct stackcopy_thread *t), void *ctx)
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
	t->fs_base = ur.fs_base;
	t->stack_size = copy_stack(tid, ur.rsp, t->stack, stack_size);
	t->ok = 1;
	if (fn)
		fn(ctx, t);
detach:
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	t->stopped_ns = clock__mono_ns() - t0;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct stackcopy_thread *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

int stackcopy__list(uint32_t pid, struct stackcopy_thread **out, size_t *nr)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	struct stackcopy_thread *ts = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	ts = calloc(STACKCOPY_MAX_THREADS, sizeof(*ts));
	if (!ts) {
		closedir(d);
		return -ENOMEM;
	}
	while ((e = readdir(d)) && n < STACKCOPY_MAX_THREADS) {
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

void stackcopy__free(struct stackcopy_thread *ts, size_t nr)
{
	size_t i;

	for (i = 0; ts && i < nr; i++)
		free(ts[i].stack);
	free(ts);
}
