// SPDX-License-Identifier: MIT
/*
 * Unit tests for the profile loader (src/profile/input.h): folded stacks from other tools become a profile
 * with the right shape (stacks leaf first, annotations as flags and mappings, modules), scorch
 * profiles are recognised, and every kind of bad folded line is refused with a message naming it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "pfile.h"
#include "profile.h"

static char errbuf[4096];

/* Load 'text' as a file's bytes, with stderr captured into errbuf. */
static int load_text(const char *text, size_t len, const struct input_opts *o, struct profile *p,
		     enum input_format *fmt)
{
	FILE *tmp = tmpfile();
	int saved, err;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	profile__init(p);
	err = input__load_mem(text, len, "t.folded", o, p, fmt);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, tmp);
	errbuf[n] = '\0';
	fclose(tmp);
	return err;
}

/* The folded names of stack 's', root first, joined by ';'. */
static const char *stack_names(const struct profile *p, uint32_t s, char *buf, size_t size)
{
	const uint32_t *locs = profile__stack_locs(p, s);
	uint32_t d = p->stacks[s].depth;
	size_t n = 0;

	buf[0] = '\0';
	while (d--) {
		const struct profile_location *l = &p->locations[locs[d]];

		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ";" : "",
				      profile__str(p, p->frames[l->frame].function));
	}
	return buf;
}

static uint64_t stack_count(const struct profile *p, uint32_t s)
{
	uint64_t c = 0;
	uint32_t i;

	for (i = 0; i < p->nr_counts; i++)
		if (p->counts[i].stack == s)
			c += p->counts[i].count;
	return c;
}

static void test_folded_basic(void **state)
{
	static const char text[] = "main;a;b 10\r\n\n  \nmain;a 5\nmain;a;b 7\t \nmain;operator new(unsigned long) 2";
	enum input_format fmt = 0;
	struct profile p;
	char buf[256];

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, NULL, &p, &fmt), 0);
	assert_int_equal(fmt, INPUT_FOLDED);
	assert_int_equal(p.total, 24);
	assert_int_equal(p.nr_stacks, 3);
	assert_int_equal(p.nr_threads, 1);
	assert_string_equal(stack_names(&p, 0, buf, sizeof(buf)), "main;a;b");
	assert_int_equal(stack_count(&p, 0), 17); /* the same stack twice */
	assert_int_equal(p.stacks[0].depth, 3);
	/* leaf first */
	assert_string_equal(profile__str(&p, p.frames[p.locations[profile__stack_locs(&p, 0)[0]].frame].function), "b");
	assert_string_equal(stack_names(&p, 2, buf, sizeof(buf)), "main;operator new(unsigned long)");
	/* "a" is one location in every stack */
	assert_int_equal(p.nr_locations, 4);
	assert_string_equal(profile__meta_get(&p, "format"), "folded");
	assert_int_equal(profile__counter_get(&p, "samples"), 24);
	profile__release(&p);
}

static void test_folded_annotations(void **state)
{
	static const char text[] = "main;read_[j];sys_read_[k];memcpy_[i] 4\nlibc.so.6`malloc;brk_[k] 1\n";
	struct profile p;
	const uint32_t *locs;
	const struct profile_location *l;

	(void)state;
	assert_int_equal(load_text(text, sizeof(text) - 1, NULL, &p, NULL), 0);
	locs = profile__stack_locs(&p, 0);
	assert_int_equal(p.stacks[0].depth, 4);
	l = &p.locations[locs[0]]; /* memcpy, inlined */
	assert_string_equal(profile__str(&p, p.frames[l->frame].function), "memcpy");
	assert_int_equal(p.frames[l->frame].flags & PROFILE_FRAME_INLINE, PROFILE_FRAME_INLINE);
	assert_string_equal(profile__mapping_short_name(&p, l->mapping), "[folded]");
	l = &p.locations[locs[1]]; /* sys_read, kernel */
	assert_string_equal(profile__str(&p, p.frames[l->frame].function), "sys_read");
	assert_int_equal(l->flags & PROFILE_LOC_KERNEL, PROFILE_LOC_KERNEL);
	assert_int_equal(p.mappings[l->mapping].kind, PROFILE_MAP_KERNEL);
	l = &p.locations[locs[2]]; /* read, JIT */
	assert_string_equal(profile__str(&p, p.frames[l->frame].function), "read");
	assert_int_equal(p.mappings[l->mapping].kind, PROFILE_MAP_JIT);
	locs = profile__stack_locs(&p, 1);
	l = &p.locations[locs[1]]; /* libc.so.6`malloc */
	assert_string_equal(profile__str(&p, p.frames[l->frame].function), "malloc");
	assert_string_equal(profile__mapping_short_name(&p, l->mapping), "libc.so.6");
	profile__release(&p);
}

struct bad {
	const char *text;
	int err;
	const char *msg; /* substring of the message */
};

static void test_folded_bad(void **state)
{
	static const struct bad cases[] = {
		{ "main;a\n", -EINVAL, "line 1: no space before a sample count" },
		{ "main;a 0\n", -EINVAL, "line 1: the sample count is 0" },
		{ "main;a -3\n", -EINVAL, "line 1: the sample count is not a positive whole number" },
		{ "main;a 1.5\n", -EINVAL, "not a positive whole number" },
		{ "main;a 12x\n", -EINVAL, "not a positive whole number" },
		{ "main;a 99999999999999999999\n", -EINVAL, "not a positive whole number" },
		{ "main;a 999999999999999999999\n", -EINVAL, "not a positive whole number" },
		{ "ok 1\n\nmain;;a 3\n", -EINVAL, "line 3: an empty frame name" },
		{ ";a 3\n", -EINVAL, "an empty frame name" },
		{ "a; 3\n", -EINVAL, "an empty frame name" },
		{ "a;_[k] 3\n", -EINVAL, "line 1: an empty frame name" },
		{ "ok 1\n 5\n", -EINVAL, "line 2: a sample count without a stack" },
		{ "a;b 3 4\n", -EINVAL, "line 1: two counts" },
		{ "ok 1\nab\0c 1\n", -EINVAL, "binary data" },
		{ "", -EINVAL, "is empty" },
		{ "a 9007199254740993\n", -EFBIG, "add up to more than" },
	};
	struct profile p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);
		int err;

		if (i == 13)
			len = 12; /* the case with a NUL byte */
		err = load_text(cases[i].text, len, NULL, &p, NULL);
		profile__release(&p);
		if (err != cases[i].err || !strstr(errbuf, cases[i].msg))
			fail_msg("case %zu: err %d, message '%.200s', want %d '%s'", i, err, errbuf, cases[i].err,
				 cases[i].msg);
		if (!strstr(errbuf, "'t.folded'"))
			fail_msg("case %zu: the message does not name the file: '%.200s'", i, errbuf);
	}
}

static void test_folded_limits(void **state)
{
	struct input_opts o = { .max_line = 16, .max_total = 10 };
	static const char longl[] = "a 1\naaaaaaaaaaaaaaaaaaaaaa 1\n";
	static const char many[] = "a 6\nb 4\nc 1\n";
	struct profile p;

	(void)state;
	assert_int_equal(load_text(longl, sizeof(longl) - 1, &o, &p, NULL), -EINVAL);
	assert_non_null(strstr(errbuf, "line 2: longer than 16 bytes"));
	profile__release(&p);
	/* The limit counts the line without its CRLF. */
	assert_int_equal(load_text("aaaaaaaaaaaaaa 1\r\n", 18, &o, &p, NULL), 0);
	profile__release(&p);
	assert_int_equal(load_text(many, sizeof(many) - 1, &o, &p, NULL), -EFBIG);
	assert_non_null(strstr(errbuf, "line 3: the sample counts add up to more than 10"));
	profile__release(&p);
}

static void test_load_files(void **state)
{
	char dir[] = "/tmp/test_input.XXXXXX", path[256];
	struct profile p, q;
	struct pfile_writer *w;
	enum input_format fmt = 0;
	uint32_t loc, st, th, m;
	struct profile_frame f = { 0 };
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* A scorch profile is recognised by its magic. */
	profile__init(&q);
	m = profile__intern_mapping(&q, profile__intern_cstr(&q, "/bin/x"), 0, PROFILE_MAP_FILE);
	f.function = profile__intern_cstr(&q, "f");
	loc = profile__add_location(&q, m, 0x10, 0, &f, 1);
	st = profile__intern_stack(&q, &loc, 1);
	th = profile__intern_thread(&q, 1, 1, 0);
	assert_int_not_equal(profile__add_count(&q, st, th, 42), PROFILE_NONE);
	snprintf(path, sizeof(path), "%s/x.prof", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	w = pfile__writer_new(fd, path);
	assert_int_equal(pfile__writer_finish(w, &q), 0);
	pfile__writer_free(w);
	close(fd);
	profile__release(&q);
	profile__init(&p);
	assert_int_equal(input__load(path, NULL, &p, &fmt), 0);
	assert_int_equal(fmt, INPUT_SCORCH);
	assert_int_equal(p.total, 42);
	profile__release(&p);
	unlink(path);
	/* Open errors are passed up. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(load_text("", 0, NULL, &p, NULL), -EINVAL);
	profile__release(&p);
	profile__init(&p);
	fflush(stderr);
	{
		int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		assert_int_equal(input__load(path, NULL, &p, NULL), -ENOENT);
		assert_int_equal(input__load(dir, NULL, &p, NULL), -EISDIR);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
	}
	profile__release(&p);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_basic),  cmocka_unit_test(test_folded_annotations),
		cmocka_unit_test(test_folded_bad),    cmocka_unit_test(test_folded_limits),
		cmocka_unit_test(test_load_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
