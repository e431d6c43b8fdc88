// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "fileio.h"
#include "input.h"
#include "log.h"
#include "pfile.h"

struct folded_state {
	struct profile *p;
	const char *name;
	size_t line;
	uint32_t thread;
	uint32_t map_folded, map_kernel, map_jit;
	/* made at the first Python frame (PROFILE_NONE until then) */
	uint32_t map_python;
	uint32_t *locs; /* owned: the current line's locations, root first */
	size_t nr_locs, cap_locs;
};

static int line_err(const struct folded_state *s, const char *what)
{
	pr_err("'%s' line %zu: %s", s->name, s->line, what);
	return -EINVAL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The location for one frame name "[module`]name[_[k]|_[i]|_[j]|_[py]]". */
static uint32_t frame_location(struct folded_state *s, const char *f, size_t len)
{
	struct profile_frame fr = { 0 };
	uint32_t mapping = s->map_folded, loc_flags = 0, loc;
	const char *tick;
	uint64_t addr;

	if (len >= 5 && memcmp(f + len - 5, "_[py]", 5) == 0) {
		if (s->map_python == PROFILE_NONE)
			s->map_python = profile__intern_mapping(s->p, profile__intern_cstr(s->p, "[python]"),
								0, PROFILE_MAP_PYTHON);
		if (s->map_python == PROFILE_NONE)
			return PROFILE_NONE;
		mapping = s->map_python;
		len -= 5;
	} else if (len >= 4 && f[len - 4] == '_' && f[len - 3] == '[' && f[len - 1] == ']') {
		switch (f[len - 2]) {
		case 'k':
			mapping = s->map_kernel;
			loc_flags = PROFILE_LOC_KERNEL;
			len -= 4;
			break;
		case 'i':
			fr.flags = PROFILE_FRAME_INLINE;
			len -= 4;
			break;
		case 'j':
			mapping = s->map_jit;
			len -= 4;
			break;
		}
	}
	tick = memchr(f, '`', len);
	if (tick && tick > f && tick + 1 < f + len) {
		uint32_t mname = profile__intern_str(s->p, f, (size_t)(tick - f));

		if (mname == PROFILE_NONE)
			return PROFILE_NONE;
		mapping = profile__intern_mapping(s->p, mname, 0,
						  loc_flags                  ? PROFILE_MAP_KERNEL
						  : mapping == s->map_jit    ? PROFILE_MAP_JIT
						  : mapping == s->map_python ? PROFILE_MAP_PYTHON
									     : PROFILE_MAP_FILE);
		if (mapping == PROFILE_NONE)
			return PROFILE_NONE;
		len -= (size_t)(tick + 1 - f);
		f = tick + 1;
	}
	if (!len) {
		errno = EINVAL;
		return PROFILE_NONE;
	}
	fr.function = profile__intern_str(s->p, f, len);
	if (fr.function == PROFILE_NONE)
		return PROFILE_NONE;
	/* One location per (mapping, name, inline): the "address" is the name's string id. */
	addr = (uint64_t)fr.function << 1 | (fr.flags & PROFILE_FRAME_INLINE);
	loc = profile__find_location(s->p, mapping, addr);
	if (loc != PROFILE_NONE)
		return loc;
	return profile__add_location(s->p, mapping, addr, loc_flags, &fr, 1);
}

static int parse_line(struct folded_state *s, const char *l, size_t len, uint64_t max_total)
{
	size_t end = len, cstart, i, send, fstart;
	uint64_t count = 0;
	uint32_t stack;

	if (memchr(l, '\0', len))
		return line_err(s, "holds a NUL byte: not folded text");
	while (end && is_blank(l[end - 1]))
		end--;
	if (!end)
		return 0; /* blank line */
	cstart = end;
	while (cstart && !is_blank(l[cstart - 1]))
		cstart--;
	if (cstart == 0)
		return line_err(s, "no space before a sample count: want 'frame;...;frame COUNT'");
	if (end - cstart > 20)
		return line_err(s, "the sample count is not a positive whole number");
	for (i = cstart; i < end; i++) {
		unsigned d = (unsigned char)l[i] - '0';

		if (d > 9 || count > (UINT64_MAX - d) / 10)
			return line_err(s, "the sample count is not a positive whole number");
		count = count * 10 + d;
	}
	if (!count)
		return line_err(s, "the sample count is 0: counts must be positive");
	send = cstart;
	while (send && is_blank(l[send - 1]))
		send--;
	if (!send)
		return line_err(s, "a sample count without a stack");
	/* "stack 12 34" is differential folded output (difffolded.pl), not a profile. */
	i = send;
	while (i && l[i - 1] >= '0' && l[i - 1] <= '9')
		i--;
	if (i < send && i > 0 && is_blank(l[i - 1]))
		return line_err(
			s, "two counts: differential folded input ('stack BEFORE AFTER') is not a profile");
	if (count > max_total || s->p->total > max_total - count) {
		pr_err("'%s' line %zu: the sample counts add up to more than %" PRIu64, s->name, s->line,
		       max_total);
		return -EFBIG;
	}
	s->nr_locs = 0;
	for (fstart = 0, i = 0; i <= send; i++) {
		uint32_t loc;

		if (i < send && l[i] != ';')
			continue;
		if (i == fstart)
			return line_err(s, "an empty frame name");
		loc = frame_location(s, l + fstart, i - fstart);
		if (loc == PROFILE_NONE)
			return errno == EINVAL ? line_err(s, "an empty frame name") : -ENOMEM;
		if (array__grow(&s->locs, &s->cap_locs, s->nr_locs + 1, sizeof(*s->locs)))
			return -ENOMEM;
		s->locs[s->nr_locs++] = loc;
		fstart = i + 1;
	}
	/* Folded lines are root first; profile stacks are leaf first. */
	for (i = 0; i < s->nr_locs / 2; i++) {
		uint32_t t = s->locs[i];

		s->locs[i] = s->locs[s->nr_locs - 1 - i];
		s->locs[s->nr_locs - 1 - i] = t;
	}
	stack = profile__intern_stack(s->p, s->locs, (uint32_t)s->nr_locs);
	if (stack == PROFILE_NONE || profile__add_count(s->p, stack, s->thread, count) == PROFILE_NONE)
		return -ENOMEM;
	return 0;
}

int input__parse_folded(const char *buf, size_t len, const char *name, const struct input_opts *opts,
			struct profile *p)
{
	size_t max_line = opts && opts->max_line ? opts->max_line : INPUT_MAX_LINE_DEFAULT;
	uint64_t max_total = opts && opts->max_total ? opts->max_total : INPUT_MAX_TOTAL_DEFAULT;
	struct folded_state s = { .p = p, .name = name };
	size_t pos = 0;
	int err = -ENOMEM;

	s.map_folded = profile__intern_mapping(p, profile__intern_cstr(p, "[folded]"), 0, PROFILE_MAP_ANON);
	s.map_kernel = profile__intern_mapping(p, profile__intern_cstr(p, "[kernel.kallsyms]"), 0,
					       PROFILE_MAP_KERNEL);
	s.map_jit = profile__intern_mapping(p, profile__intern_cstr(p, "[jit]"), 0, PROFILE_MAP_JIT);
	s.map_python = PROFILE_NONE;
	s.thread = profile__intern_thread(p, 0, 0, profile__intern_cstr(p, "[folded]"));
	if (s.map_folded == PROFILE_NONE || s.map_kernel == PROFILE_NONE || s.map_jit == PROFILE_NONE ||
	    s.thread == PROFILE_NONE || profile__meta_set(p, "format", "folded"))
		goto out;
	while (pos < len) {
		const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;

		s.line++;
		pos += ll + (nl ? 1 : 0);
		if (ll && l[ll - 1] == '\r')
			ll--;
		if (ll > max_line) {
			pr_err("'%s' line %zu: longer than %zu bytes", name, s.line, max_line);
			err = -EINVAL;
			goto out;
		}
		err = parse_line(&s, l, ll, max_total);
		if (err)
			goto out;
	}
	err = profile__counter_set(p, "samples", p->total);
	/* The same budget as for a scorch profile of this size (pfile.h). */
	p->expand_limit = pfile__default_limit(len, PFILE_EXPAND_FLOOR);
out:
	if (err == -ENOMEM)
		pr_err("out of memory reading '%s'", name);
	free(s.locs);
	return err;
}

int input__load_mem(const void *buf, size_t len, const char *name, const struct input_opts *opts,
		    struct profile *p, enum input_format *format)
{
	struct pfile_read_opts ro = { .allow_partial = opts ? opts->allow_partial : 0 };
	int partial;

	if (len == 0) {
		pr_err("'%s' is empty: neither a scorch profile nor folded stacks", name);
		return -EINVAL;
	}
	if (pfile__is_profile(buf, len)) {
		if (format)
			*format = INPUT_SCORCH;
		return pfile__read_mem(buf, len, name, &ro, p, &partial);
	}
	if (format)
		*format = INPUT_FOLDED;
	/* Binary data would otherwise be reported as a bad line 1. */
	if (memchr(buf, '\0', len < 4096 ? len : 4096)) {
		pr_err("'%s' is neither a scorch profile nor folded stacks (it holds binary data)", name);
		return -EINVAL;
	}
	return input__parse_folded(buf, len, name, opts, p);
}

int input__load(const char *path, const struct input_opts *opts, struct profile *p, enum input_format *format)
{
	const char *name = fileio__name(path);
	char *data;
	size_t len;
	int err;

	err = fileio__load(path, &data, &len);
	if (err)
		return err;
	err = input__load_mem(data, len, name, opts, p, format);
	free(data);
	return err;
}
