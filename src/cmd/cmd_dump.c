// SPDX-License-Identifier: MIT
/*
 * scorch dump: the current user stack of every thread of a live process, running or sleeping.
 *
 * Each thread is stopped alone and as briefly as possible, its registers and stack copied
 * (stackcopy.h). Only once every thread runs again are the copies unwound (DWARF CFI, frame pointers where it
 * runs out) and named (functions, inlined frames, file:line), by the recorder as a sample each, into a
 * profile in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "options.h"
#include "profile.h"
#include "recorder.h"
#include "scorch_abi.h"
#include "stackcopy.h"
#include "utf8.h"

struct dump_opts {
	uint32_t pid;
	uint32_t stack_size;
	int json;
	int no_demangle;
	int no_python;
};

static const struct opts_entry dump_options[] = {
	OPTS_U32('p', "pid", "PID", "the process", struct dump_opts, pid, 1, INT_MAX),
	OPTS_U32('s', "stack-size", "BYTES",
		 "bytes of stack to copy per thread (default 65536, at most 1048576)", struct dump_opts,
		 stack_size, 64, 1u << 20),
	OPTS_FLAG(0, "json", "write JSON instead of text", struct dump_opts, json),
	OPTS_FLAG(0, "no-demangle", "keep mangled C++ and Rust names", struct dump_opts, no_demangle),
	OPTS_FLAG(0, "no-python", "do not read the Python frames of a CPython 3.8-3.13 process",
		  struct dump_opts, no_python),
	OPTS_END(),
};

static const struct opts_cmd dump_cmd = {
	.name = "dump",
	.usage = "scorch dump [options] -p PID",
	.description =
		"Print the current stack of every thread of a running process, whether it runs or sleeps, with\n"
		"inlined functions and source lines. Each thread is stopped for a moment only (to copy its\n"
		"registers and stack); the stacks are unwound and named after all threads run again.",
	.options = dump_options,
};

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
	int err, rest;

	o->stack_size = 65536;
	err = opts__parse(&dump_cmd, argc, argv, o, &rest);
	if (err)
		return err;
	o->stack_size &= ~7u;
	if (rest < argc) {
		pr_err("unexpected argument '%s': give the process with -p PID", argv[rest]);
		return -EINVAL;
	}
	if (!o->pid) {
		pr_err("no process: give -p PID");
		return -EINVAL;
	}
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

/* One frame of a dumped stack; the strings are borrowed from the profile or the walk. */
struct dump_frame {
	uint32_t n;           /* 0 for the innermost frame */
	const char *function; /* profile__frame_label() */
	const char *module;
	const char *file; /* NULL when unknown */
	uint32_t line;
	int inlined;
};

typedef void frame_printer(const struct dump_frame *fr, void *ctx);

/* Call 'print' on each frame of count 'c's stack, innermost first, inlined frames before their caller. */
static void walk_frames(const struct profile *p, uint32_t c, frame_printer *print, void *ctx)
{
	const uint32_t *locs = profile__stack_locs(p, p->counts[c].stack);
	uint32_t d = p->stacks[p->counts[c].stack].depth, i, f, n = 0;
	char label[4096];

	for (i = 0; i < d; i++) {
		const struct profile_location *l = &p->locations[locs[i]];
		uint32_t nf = l->nr_frames ? l->nr_frames : 1;

		for (f = 0; f < nf; f++) {
			const struct profile_frame *fr = l->nr_frames ? &p->frames[l->frame + f] : NULL;
			struct dump_frame df = {
				.n = n++,
				.function = profile__frame_label(p, locs[i], f, label, sizeof(label)),
				.module = profile__mapping_short_name(p, l->mapping),
				.file = fr && fr->file ? profile__str(p, fr->file) : NULL,
				.line = fr ? fr->line : 0,
				.inlined = fr && (fr->flags & PROFILE_FRAME_INLINE),
			};

			print(&df, ctx);
		}
	}
}

/* Names, files and paths are the target's: utf8__fputs() keeps the terminal from acting on them. */
static void frame_text(const struct dump_frame *fr, void *ctx)
{
	FILE *out = ctx;

	fprintf(out, "  #%-3u ", fr->n);
	utf8__fputs(fr->function, out);
	if (fr->inlined)
		fputs(" (inlined)", out);
	if (fr->file) {
		fputs(" at ", out);
		utf8__fputs(fr->file, out);
		fprintf(out, ":%u", fr->line);
	}
	fputs(" [", out);
	utf8__fputs(fr->module, out);
	fputs("]\n", out);
}

static void frame_json(const struct dump_frame *fr, void *ctx)
{
	struct json *j = ctx;

	json__obj(j);
	json__key(j, "function"), json__str(j, fr->function);
	json__key(j, "module"), json__str(j, fr->module);
	if (fr->file) {
		json__key(j, "file"), json__str(j, fr->file);
		json__key(j, "line"), json__u64(j, fr->line);
	}
	json__key(j, "inlined"), json__bool(j, fr->inlined);
	json__end(j);
}

/* The Python frames of each thread, read while it is stopped. */
struct dump_py {
	struct recorder *rec;
	uint32_t pid;
	const struct stackcopy_thread *ts; /* the threads, whose indexes py[] follows */
	struct {
		struct scorch_py_frame frames[SCORCH_PY_MAX_FRAMES];
		uint32_t nr, status;
	} * py;
};

static void walk_python(void *ctx, struct stackcopy_thread *t)
{
	struct dump_py *dp = ctx;
	size_t i = (size_t)(t - dp->ts);

	dp->py[i].nr =
		recorder__python_walk(dp->rec, dp->pid, t->fs_base, dp->py[i].frames, &dp->py[i].status);
}

int cmd_dump(int argc, char **argv)
{
	struct dump_opts o;
	struct dump_py dp = { 0 };
	struct stackcopy_thread *ts = NULL;
	struct profile prof;
	struct recorder *rec = NULL;
	struct recorder_opts ro = { 0 };
	size_t nr = 0, i, grabbed = 0;
	uint64_t max_stop = 0;
	int err, ret = EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	err = parse_args(argc, argv, &o);
	if (err)
		return cli__parse_status(err, "dump");
	profile__init(&prof);
	err = stackcopy__list(o.pid, &ts, &nr);
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
	if (stackcopy__is_kernel_thread(o.pid)) {
		pr_err("pid %u is a kernel thread: it has no user stack to dump", o.pid);
		goto out;
	}
	/* The interpreter of a Python process is found before any thread is stopped. */
	unsetenv("DEBUGINFOD_URLS");
	ro.call_graph = RECORDER_CG_AUTO;
	ro.no_kernel = 1;
	ro.no_python = o.no_python;
	ro.sym.no_demangle = o.no_demangle;
	rec = recorder__new(&prof, &ro);
	if (!rec || recorder__enable_python(rec, NULL))
		goto nomem;
	if (recorder__add_process(rec, o.pid) == -ENOMEM)
		goto nomem;
	dp.rec = rec;
	dp.pid = o.pid;
	dp.ts = ts;
	dp.py = calloc(nr ? nr : 1, sizeof(*dp.py));
	if (!dp.py)
		goto nomem;
	/* Stop, copy (and walk the Python frames), release: one thread at a time. */
	for (i = 0; i < nr; i++) {
		stackcopy__grab_with(&ts[i], o.stack_size, o.no_python ? NULL : walk_python, &dp);
		if (ts[i].ok) {
			grabbed++;
			if (ts[i].stopped_ns > max_stop)
				max_stop = ts[i].stopped_ns;
		}
	}
	if (!grabbed) {
		int e = nr ? ts[0].err : ESRCH;

		pr_err("cannot stop any thread of pid %u: %s%s", o.pid, strerror(e),
		       e == EPERM ? " (needs CAP_SYS_PTRACE, or the same user and kernel.yama.ptrace_scope 0)"
				  : "");
		goto out;
	}
	pr_debug("copied %zu of %zu threads; the longest stop took %.3f ms", grabbed, nr,
		 (double)max_stop / 1e6);

	for (i = 0; i < nr; i++) {
		struct recorder_sample s = {
			.pid = o.pid,
			.tid = ts[i].tid,
			.comm = ts[i].comm,
			.uregs = ts[i].regs,
			.ustack_bytes = ts[i].stack,
			.ustack_size = ts[i].stack_size,
			.py = dp.py[i].frames,
			.nr_py = dp.py[i].nr,
			.py_status = dp.py[i].status,
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
				json__key(&j, "frames");
				json__arr(&j);
				walk_frames(&prof, c, frame_json, &j);
				json__end(&j);
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
				walk_frames(&prof, c, frame_text, stdout);
		}
	}
	ret = EXIT_OK;
	goto out;
nomem:
	pr_err("out of memory");
out:
	recorder__free(rec);
	profile__release(&prof);
	stackcopy__free(ts, nr);
	free(dp.py);
	return ret;
}
