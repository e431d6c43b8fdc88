// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "array.h"
#include "elfsym.h"
#include "idxmap.h"
#include "log.h"
#include "pyframes.h"
#include "pyproc.h"
#include "safeopen.h"

/* Code objects cached per process; past this the cache starts again (a program that makes code). */
#define MAX_CODES 65536
/* The evaluator's function: its native frames are where Python frames go. */
#define EVAL_FUNC "_PyEval_EvalFrameDefault"

struct pycode {
	uint64_t addr;
	int32_t firstline; /* as the walk read it: another value means another code object */
	int bad;           /* could not be read as a code object */
	uint32_t name, file, mapping;
	int firstlineno;
	uint8_t *table; /* owned */
	size_t table_len;
};

struct pyp {
	uint32_t pid, exec_seq;
	int probed;     /* for exec_seq */
	uint64_t files; /* a digest of the files searched: they are searched again when it changes */
	int usable;     /* the walk is configured */
	int failed;     /* counted in python_probe_failed */
	int counted;    /* in python_processes */
	struct pyframes_layout l;
	struct scorch_py_proc cfg; /* what the BPF walk was given */
	uint64_t code_type;
	struct pycode *codes;
	size_t nr_codes, cap_codes;
	struct u64map code_idx; /* code address -> index in codes */
	struct u64map locs;     /* index << 32 | line -> location id */
};

struct pyproc {
	struct profile *p; /* borrowed */
	struct pyproc_sink sink;
	struct pyp **procs; /* owned */
	size_t nr_procs, cap_procs;
	struct u64map by_pid; /* pid -> index in procs */
	uint32_t unknown_loc; /* the "[python]" location of frames that could not be named */
	struct u64map eval;   /* location id -> 2 (an evaluator frame) or 1 (not) */
	uint64_t processes, probe_failed, samples, frames, frames_failed, walk_failed, walk_truncated,
		no_thread;
};

struct pyproc *pyproc__new(struct profile *p, const struct pyproc_sink *sink)
{
	struct pyproc *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return NULL;
	pp->p = p;
	if (sink)
		pp->sink = *sink;
	u64map__init(&pp->by_pid);
	u64map__init(&pp->eval);
	pp->unknown_loc = PROFILE_NONE;
	return pp;
}

static void reset_codes(struct pyp *y)
{
	size_t i;

	for (i = 0; i < y->nr_codes; i++)
		free(y->codes[i].table);
	y->nr_codes = 0;
	u64map__release(&y->code_idx);
	u64map__release(&y->locs);
	u64map__init(&y->code_idx);
	u64map__init(&y->locs);
}

static void free_proc(struct pyp *y)
{
	if (!y)
		return;
	reset_codes(y);
	free(y->codes);
	free(y);
}

void pyproc__free(struct pyproc *pp)
{
	size_t i;

	if (!pp)
		return;
	for (i = 0; i < pp->nr_procs; i++)
		free_proc(pp->procs[i]);
	free(pp->procs);
	u64map__release(&pp->by_pid);
	u64map__release(&pp->eval);
	free(pp);
}

static struct pyp *find_proc(const struct pyproc *pp, uint32_t pid)
{
	uint64_t v;

	if (!u64map__get(&pp->by_pid, pid, &v) || v >= pp->nr_procs || !pp->procs[v])
		return NULL;
	return pp->procs[v];
}

static struct pyp *get_proc(struct pyproc *pp, uint32_t pid)
{
	struct pyp *y = find_proc(pp, pid);

	if (y)
		return y;
	if (array__grow(&pp->procs, &pp->cap_procs, pp->nr_procs + 1, sizeof(*pp->procs)))
		return NULL;
	y = calloc(1, sizeof(*y));
	if (!y)
		return NULL;
	y->pid = pid;
	u64map__init(&y->code_idx);
	u64map__init(&y->locs);
	if (u64map__set(&pp->by_pid, pid, pp->nr_procs)) {
		free(y);
		return NULL;
	}
	pp->procs[pp->nr_procs++] = y;
	return y;
}

void pyproc__prune(struct pyproc *pp, const struct proctab *pt)
{
	size_t i, j = 0;

	for (i = 0; i < pp->nr_procs; i++) {
		if (proctab__find(pt, pp->procs[i]->pid)) {
			pp->procs[j++] = pp->procs[i];
		} else {
			free_proc(pp->procs[i]);
		}
	}
	if (j == pp->nr_procs)
		return;
	pp->nr_procs = j;
	u64map__release(&pp->by_pid);
	u64map__init(&pp->by_pid);
	for (i = 0; i < j; i++)
		u64map__set(&pp->by_pid, pp->procs[i]->pid, i); /* fits: the map held more before */
}

/* Read the target's memory, all or nothing. */
static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct pyp *y = ctx;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	if (len > PYFRAMES_TABLE_MAX)
		return -EINVAL;
	n = process_vm_readv((pid_t)y->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* The version in a file name: "python3.11", "libpython3.9.so.1.0", "libpython3.12d.so". */
static int version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *base = strrchr(path, '/'), *s;
	char *end;
	unsigned long a, b;

	base = base ? base + 1 : path;
	s = strstr(base, "python");
	if (!s)
		return -EINVAL;
	s += 6;
	a = strtoul(s, &end, 10);
	if (end == s || *end != '.')
		return -EINVAL;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || a != 3 || b > 99)
		return -EINVAL;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

/* Whether a mapping's file may hold an interpreter: the executable, or a file named like Python's. */
static int candidate(const struct procmaps_entry *e, int first_file)
{
	const char *base;

	if (!e->path[0] || e->path[0] != '/' || e->offset != 0)
		return 0;
	base = strrchr(e->path, '/') + 1;
	return first_file || strstr(base, "python") != NULL;
}

/* A digest of the files of 'pr' that candidate() would search (inodes and devices). */
static uint64_t candidates(const struct proctab_proc *pr)
{
	uint64_t h = 0;
	int first = 1;
	size_t i;

	for (i = 0; i < pr->maps.nr; i++) {
		const struct procmaps_entry *e = &pr->maps.entries[i];

		if (!e->path[0] || e->path[0] != '/')
			continue;
		if (candidate(e, first))
			h = idxmap__hash_u64(h ^ e->inode ^
					     ((uint64_t)e->dev_major << 40 | (uint64_t)e->dev_minor << 20));
		first = 0;
	}
	return h | 1; /* never 0, the value of a process not searched yet */
}

static void copy_layout(const struct pyframes_layout *l, const struct pyp *y, uint64_t runtime,
			struct scorch_py_proc *c)
{
	memset(c, 0, sizeof(*c));
	c->interp_head = runtime + l->runtime_interp_head;
	c->exec_seq = y->exec_seq;
	c->version = (uint16_t)(l->major << 8 | l->minor);
	c->kind = l->kind == PYFRAMES_FRAMEOBJ ? SCORCH_PY_FRAMEOBJ
		  : l->kind == PYFRAMES_CFRAME ? SCORCH_PY_CFRAME
					       : SCORCH_PY_DIRECT;
	c->entry = l->entry == PYFRAMES_ENTRY_NONE   ? SCORCH_PY_ENTRY_NONE
		   : l->entry == PYFRAMES_ENTRY_FLAG ? SCORCH_PY_ENTRY_FLAG
						     : SCORCH_PY_ENTRY_OWNER;
	c->entry_owner = (uint8_t)l->entry_owner;
	c->interp_threads = (uint16_t)l->interp_threads;
	c->tstate_next = (uint16_t)l->tstate_next;
	c->tstate_thread_id = (uint16_t)l->tstate_thread_id;
	c->tstate_frame = (uint16_t)l->tstate_frame;
	c->cframe_current = (uint16_t)l->cframe_current;
	c->frame_code = (uint16_t)l->frame_code;
	c->frame_previous = (uint16_t)l->frame_previous;
	c->frame_instr = (uint16_t)l->frame_instr;
	c->frame_entry = (uint16_t)l->frame_entry;
	c->code_firstlineno = (uint16_t)l->co_firstlineno;
	c->code_adaptive = (uint16_t)l->co_code_adaptive;
}

/* The interpreter in the file of maps entry 'e' of 'pr', if any: 1 configured, 0 none, < 0 error. */
static int probe_file(struct pyproc *pp, struct pyp *y, const struct proctab_proc *pr,
		      const struct procmaps_entry *e)
{
	static const char *const names[] = { "_PyRuntime", "PyCode_Type", "Py_Version" };
	uint64_t vals[3], runtime, bias;
	struct elfsym_info info;
	struct pyframes_layout l;
	struct scorch_py_proc c;
	unsigned major = 0, minor = 0;
	uint32_t hex = 0;
	uint8_t dbg[PYFRAMES_DEBUG_OFFSETS_SIZE];
	int fd, err;

	fd = safeopen__mapping(pr->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor, e->inode);
	if (fd < 0)
		return 0;
	err = elfsym__lookup_fd(fd, names, 3, vals, &info);
	close(fd);
	if (err == -ENOMEM)
		return err;
	if (err || !vals[0] || !info.found_load)
		return 0;
	/* The file's first page is mapped at e->start. */
	bias = e->start - info.load_vaddr;
	runtime = vals[0] + bias;
	if (!vals[1]) {
		pr_debug("pid %u: '%s' has _PyRuntime but no PyCode_Type", pr->pid, e->path);
		goto failed;
	}
	if (vals[2] && read_mem(y, vals[2] + bias, &hex, sizeof(hex)) == 0 && hex >> 24 == 3) {
		major = 3;
		minor = (hex >> 16) & 0xff;
	} else if (version_from_name(e->path, &major, &minor)) {
		pr_debug("pid %u: no Python version in '%s'", pr->pid, e->path);
		goto failed;
	}
	if (minor >= 13) {
		if (read_mem(y, runtime, dbg, sizeof(dbg)) || pyframes__layout_debug(dbg, sizeof(dbg), &l)) {
			pr_debug("pid %u: Python %u.%u without usable _Py_DebugOffsets", pr->pid, major,
				 minor);
			goto failed;
		}
	} else if (pyframes__layout(major, minor, &l)) {
		pr_debug("pid %u: Python %u.%u is not supported", pr->pid, major, minor);
		goto failed;
	}
	y->l = l;
	y->code_type = vals[1] + bias;
	copy_layout(&l, y, runtime, &c);
	y->cfg = c;
	if (pp->sink.set_proc && (err = pp->sink.set_proc(pp->sink.ctx, pr->pid, &c))) {
		pr_debug("pid %u: cannot configure the Python walk: %s", pr->pid, strerror(-err));
		goto failed;
	}
	y->usable = 1;
	pr_debug("pid %u: Python %u.%u in '%s', _PyRuntime at %#llx", pr->pid, major, minor, e->path,
		 (unsigned long long)runtime);
	return 1;
failed:
	if (!y->failed) {
		y->failed = 1;
		pp->probe_failed++;
	}
	return 1; /* found, not usable: no other file is searched */
}

int pyproc__probe(struct pyproc *pp, struct proctab *pt, struct proctab_proc *pr)
{
	struct pyp *y = get_proc(pp, pr->pid);
	int first = 1, err = 0;
	size_t i;

	(void)pt;
	if (!y)
		return -ENOMEM;
	if (y->exec_seq != pr->exec_seq) {
		if (y->usable && pp->sink.set_proc)
			pp->sink.set_proc(pp->sink.ctx, pr->pid, NULL);
		y->exec_seq = pr->exec_seq;
		y->probed = y->usable = y->counted = y->failed = 0;
		reset_codes(y);
	}
	/* Once found, done; else again when the files that may hold one changed (libpython loaded). */
	if (y->probed && (y->usable || y->failed || y->files == candidates(pr)))
		return 0;
	y->probed = 1;
	y->files = candidates(pr);
	for (i = 0; i < pr->maps.nr && !err; i++) {
		const struct procmaps_entry *e = &pr->maps.entries[i];

		if (!e->path[0] || e->path[0] != '/')
			continue;
		if (candidate(e, first))
			err = probe_file(pp, y, pr, e);
		first = 0;
	}
	return err < 0 ? err : 0;
}

static uint32_t unknown_location(struct pyproc *pp)
{
	uint32_t m;

	if (pp->unknown_loc != PROFILE_NONE)
		return pp->unknown_loc;
	m = profile__intern_mapping_cstr(pp->p, "[python]", "", PROFILE_MAP_PYTHON);
	if (m == PROFILE_NONE)
		return PROFILE_NONE;
	pp->unknown_loc = profile__find_location(pp->p, m, 0);
	if (pp->unknown_loc == PROFILE_NONE)
		pp->unknown_loc = profile__add_location(pp->p, m, 0, 0, NULL, 0);
	return pp->unknown_loc;
}

/* The cached code object at 'addr' whose first line the walk read as 'firstline', read if needed. */
static struct pycode *get_code(struct pyproc *pp, struct pyp *y, uint64_t addr, int32_t firstline, int *err)
{
	struct pyframes_code pc;
	struct pycode *c;
	uint64_t v;
	int rc;

	*err = 0;
	if (u64map__get(&y->code_idx, addr, &v) && v < y->nr_codes) {
		c = &y->codes[v];
		if (c->firstline == firstline)
			return c;
		/* Another code object at the same address: read again, in the same slot. */
		free(c->table);
		memset(c, 0, sizeof(*c));
	} else {
		if (y->nr_codes >= MAX_CODES)
			reset_codes(y);
		if (array__grow(&y->codes, &y->cap_codes, y->nr_codes + 1, sizeof(*y->codes)))
			goto nomem;
		v = y->nr_codes;
		c = &y->codes[y->nr_codes++];
		memset(c, 0, sizeof(*c));
		if (u64map__set(&y->code_idx, addr, v))
			goto nomem;
	}
	c->addr = addr;
	c->firstline = firstline;
	rc = pyframes__read_code(&y->l, read_mem, y, y->code_type, addr, &pc);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc || pc.firstlineno != firstline) {
		c->bad = 1;
		pyframes__code_release(&pc);
		return c;
	}
	c->name = profile__intern_cstr(pp->p, pc.name[0] ? pc.name : "<unnamed>");
	c->file = profile__intern_cstr(pp->p, pc.filename);
	c->mapping = profile__intern_mapping_cstr(pp->p, pc.filename[0] ? pc.filename : "[python]", "",
						  PROFILE_MAP_PYTHON);
	if (c->name == PROFILE_NONE || c->file == PROFILE_NONE || c->mapping == PROFILE_NONE) {
		pyframes__code_release(&pc);
		goto nomem;
	}
	c->firstlineno = pc.firstlineno;
	c->table = pc.table; /* taken */
	c->table_len = pc.table_len;
	return c;
nomem:
	*err = -ENOMEM;
	return NULL;
}

/* The byte offset the line table is indexed by. */
static uint64_t instr_offset(const struct pyframes_layout *l, uint32_t instr)
{
	if (l->kind != PYFRAMES_FRAMEOBJ)
		return instr;
	/* f_lasti: a byte offset up to 3.9, an index of 2-byte code units in 3.10. */
	return l->lines == PYFRAMES_LINETABLE ? (uint64_t)instr * 2 : instr;
}

static uint32_t code_location(struct pyproc *pp, struct pyp *y, const struct pycode *c, uint32_t instr)
{
	uint64_t idx = (uint64_t)(c - y->codes), v, addr;
	struct profile_frame fr;
	uint32_t loc;
	int line;

	line = pyframes__line(y->l.lines, c->table, c->table_len, c->firstlineno, instr_offset(&y->l, instr));
	if (line <= 0)
		line = c->firstlineno > 0 ? c->firstlineno : 0;
	if (u64map__get(&y->locs, idx << 32 | (uint32_t)line, &v))
		return (uint32_t)v;
	/* A location per (function, line) in the file's mapping. */
	addr = (uint64_t)c->name << 32 | (uint32_t)line;
	loc = profile__find_location(pp->p, c->mapping, addr);
	if (loc == PROFILE_NONE) {
		fr.function = c->name;
		fr.file = c->file;
		fr.line = (uint32_t)line;
		fr.flags = 0;
		loc = profile__add_location(pp->p, c->mapping, addr, 0, &fr, 1);
		if (loc == PROFILE_NONE)
			return PROFILE_NONE;
	}
	if (u64map__set(&y->locs, idx << 32 | (uint32_t)line, loc))
		return PROFILE_NONE;
	return loc;
}

int pyproc__name(struct pyproc *pp, uint32_t pid, uint32_t exec_seq, const struct scorch_py_frame *f,
		 uint32_t n, uint32_t status, struct pyproc_frames *out)
{
	struct pyp *y = find_proc(pp, pid);
	struct pycode *c;
	uint32_t i, loc;
	int err;

	out->nr = 0;
	if (status == SCORCH_PY_READ)
		pp->walk_failed++;
	else if (status == SCORCH_PY_TRUNCATED)
		pp->walk_truncated++;
	else if (status == SCORCH_PY_NO_THREAD)
		pp->no_thread++;
	if (!n || !y || !y->usable || y->exec_seq != exec_seq)
		return 0;
	if (n > SCORCH_PY_MAX_FRAMES)
		n = SCORCH_PY_MAX_FRAMES;
	pp->samples++;
	if (!y->counted) {
		y->counted = 1;
		pp->processes++;
	}
	for (i = 0; i < n; i++) {
		c = get_code(pp, y, f[i].code, f[i].firstline, &err);
		if (err)
			return err;
		if (c->bad) {
			pp->frames_failed++;
			loc = unknown_location(pp);
		} else {
			pp->frames++;
			loc = code_location(pp, y, c, f[i].instr);
		}
		if (loc == PROFILE_NONE)
			return -ENOMEM;
		out->locs[i] = loc;
		out->entry[i] = !!(f[i].flags & SCORCH_PY_FRAME_ENTRY);
	}
	out->nr = n;
	return 0;
}

/* The thread state whose thread_id is 'fs_base' (256 at most searched, as the BPF walk does), or 0. */
static uint64_t thread_state(struct pyp *y, uint64_t fs_base)
{
	const struct scorch_py_proc *c = &y->cfg;
	uint64_t interp = 0, ts = 0, tid = 0;
	int i;

	if (read_mem(y, c->interp_head, &interp, 8) || !interp ||
	    read_mem(y, interp + c->interp_threads, &ts, 8))
		return 0;
	for (i = 0; i < 256 && ts; i++) {
		if (read_mem(y, ts + c->tstate_thread_id, &tid, 8))
			return 0;
		if (tid == fs_base)
			return ts;
		if (read_mem(y, ts + c->tstate_next, &ts, 8))
			return 0;
	}
	return 0;
}

uint32_t pyproc__walk(struct pyproc *pp, uint32_t pid, uint64_t fs_base, struct scorch_py_frame *out,
		      uint32_t *status)
{
	struct pyp *y = find_proc(pp, pid);
	const struct scorch_py_proc *c;
	uint64_t ts, f = 0, prev, code, ip;
	uint32_t n = 0, i;
	int32_t lasti, first;
	uint8_t mark = 0;

	*status = SCORCH_PY_NONE;
	if (!y || !y->usable)
		return 0;
	c = &y->cfg;
	ts = thread_state(y, fs_base);
	*status = SCORCH_PY_NO_THREAD;
	if (!ts)
		return 0;
	*status = SCORCH_PY_READ;
	if (read_mem(y, ts + c->tstate_frame, &f, 8) ||
	    (c->kind == SCORCH_PY_CFRAME && f && read_mem(y, f + c->cframe_current, &f, 8)))
		return 0;
	*status = f ? SCORCH_PY_TRUNCATED : SCORCH_PY_NO_FRAME;
	for (i = 0; f && i < 2 * SCORCH_PY_MAX_FRAMES; i++) {
		if (read_mem(y, f + c->frame_previous, &prev, 8) ||
		    (c->entry != SCORCH_PY_ENTRY_NONE && read_mem(y, f + c->frame_entry, &mark, 1))) {
			*status = SCORCH_PY_READ;
			return n;
		}
		if (c->entry == SCORCH_PY_ENTRY_OWNER && mark == c->entry_owner) {
			if (n)
				out[n - 1].flags |= SCORCH_PY_FRAME_ENTRY;
			f = prev;
			continue;
		}
		if (n == SCORCH_PY_MAX_FRAMES)
			return n;
		if (read_mem(y, f + c->frame_code, &code, 8)) {
			*status = SCORCH_PY_READ;
			return n;
		}
		if (c->kind == SCORCH_PY_FRAMEOBJ) {
			if (read_mem(y, f + c->frame_instr, &lasti, 4)) {
				*status = SCORCH_PY_READ;
				return n;
			}
			ip = (uint32_t)lasti;
		} else if (read_mem(y, f + c->frame_instr, &ip, 8) == 0) {
			ip = ip - code - c->code_adaptive;
		} else {
			*status = SCORCH_PY_READ;
			return n;
		}
		if (read_mem(y, code + c->code_firstlineno, &first, 4))
			first = 0;
		out[n].code = code;
		out[n].instr = (uint32_t)ip;
		out[n].firstline = first;
		out[n].flags = c->entry == SCORCH_PY_ENTRY_NONE || (c->entry == SCORCH_PY_ENTRY_FLAG && mark)
				       ? SCORCH_PY_FRAME_ENTRY
				       : 0;
		out[n].pad = 0;
		n++;
		f = prev;
	}
	if (!f)
		*status = SCORCH_PY_OK;
	return n;
}

/* Whether location 'loc' is the evaluator (any of its frames, inlined or not). */
static int is_eval(struct pyproc *pp, uint32_t loc)
{
	const struct profile_location *l = &pp->p->locations[loc];
	uint64_t v;
	uint32_t i;
	int yes = 0;

	if (u64map__get(&pp->eval, loc, &v))
		return v == 2;
	for (i = 0; i < l->nr_frames && !yes; i++)
		yes = strcmp(profile__str(pp->p, pp->p->frames[l->frame + i].function), EVAL_FUNC) == 0;
	u64map__set(&pp->eval, loc, yes ? 2 : 1); /* a cache: out of memory only costs a strcmp later */
	return yes;
}

int pyproc__merge(struct pyproc *pp, uint32_t *locs, uint32_t depth, uint32_t first, uint32_t cap,
		  const struct pyproc_frames *py)
{
	uint32_t out[2 * 256 + SCORCH_PY_MAX_FRAMES], o = 0, i, k = 0, after = UINT32_MAX;

	if (!py || !py->nr)
		return (int)depth;
	if (depth > 2 * 256 || first > depth)
		return -EINVAL;
	for (i = first; i < depth; i++) {
		if (k < py->nr && is_eval(pp, locs[i])) {
			/* The run of this evaluator call: up to its entry frame. */
			do {
				out[o++] = py->locs[k];
			} while (!py->entry[k++] && k < py->nr);
			after = o;
			continue;
		}
		out[o++] = locs[i];
	}
	if (k < py->nr) {
		/* Frames of callers whose evaluator frames the native stack did not reach. */
		uint32_t at = after == UINT32_MAX ? o : after, rest = py->nr - k;

		memmove(out + at + rest, out + at, (o - at) * sizeof(*out));
		memcpy(out + at, py->locs + k, rest * sizeof(*out));
		o += rest;
	}
	if (first + o > cap)
		o = cap - first;
	memcpy(locs + first, out, o * sizeof(*out));
	return (int)(first + o);
}

int pyproc__store_counters(struct pyproc *pp)
{
	struct profile *p = pp->p;

	if (profile__counter_set(p, "python_processes", pp->processes) ||
	    profile__counter_set(p, "python_probe_failed", pp->probe_failed) ||
	    profile__counter_set(p, "python_samples", pp->samples) ||
	    profile__counter_set(p, "python_frames", pp->frames) ||
	    profile__counter_set(p, "python_frames_failed", pp->frames_failed) ||
	    profile__counter_set(p, "python_walk_failed", pp->walk_failed) ||
	    profile__counter_set(p, "python_walk_truncated", pp->walk_truncated) ||
	    profile__counter_set(p, "python_no_thread", pp->no_thread))
		return -ENOMEM;
	return 0;
}
