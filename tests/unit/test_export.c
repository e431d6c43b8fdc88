// SPDX-License-Identifier: MIT
/*
 * Unit tests for the exporters (src/present/export.h) and the JSON writer (src/base/json.h): protobuf encoding, the
 * gzip stream, the structure of a pprof profile decoded back, and speedscope's samples and weights.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "export.h"
#include "json.h"
#include "profile.h"

static void test_varint(void **state)
{
	struct buf b = { 0 };

	(void)state;
	pbuf__varint(&b, 1);
	pbuf__varint(&b, 300);
	pbuf__varint(&b, UINT64_MAX);
	pbuf__uint(&b, 3, 0); /* a zero is the default: not written */
	pbuf__uint(&b, 2, 5);
	pbuf__bytes(&b, 6, "ab", 2);
	assert_int_equal(b.len, 1 + 2 + 10 + 2 + 4);
	assert_memory_equal(b.data, "\x01\xac\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x10\x05\x32\x02" "ab", 19);
	free(b.data);
}

/* Compress with export__gzip and inflate back with zlib. */
static void test_gzip_roundtrip(void **state)
{
	size_t n = 300000, i;
	char *in = malloc(n), *back = malloc(n + 1), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	z_stream z = { 0 };

	(void)state;
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (char)(i * 7 % 251);
	assert_int_equal(export__gzip(f, in, n), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 18 && (unsigned char)out[0] == 0x1f && (unsigned char)out[1] == 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)out;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)back;
	z.avail_out = (uInt)n + 1;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, n);
	assert_memory_equal(in, back, n);
	inflateEnd(&z);
	free(in);
	free(back);
	free(out);
}

/* --- a minimal protobuf reader for checking the pprof output --- */

struct field {
	uint32_t num, wire;
	uint64_t v;
	const uint8_t *data;
	size_t len;
};

static uint64_t rd_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	int shift = 0;

	while (*p < end) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
		shift += 7;
	}
	fail_msg("truncated varint");
	return 0;
}

static int next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t key;

	if (*p >= end)
		return 0;
	key = rd_varint(p, end);
	f->num = (uint32_t)(key >> 3);
	f->wire = key & 7;
	if (f->wire == 0) {
		f->v = rd_varint(p, end);
	} else if (f->wire == 2) {
		f->len = rd_varint(p, end);
		assert_true(f->len <= (size_t)(end - *p));
		f->data = *p;
		*p += f->len;
	} else {
		fail_msg("unexpected wire type %u", f->wire);
	}
	return 1;
}

/* The value of varint field 'num' in message (data, len), or 0. */
static uint64_t msg_uint(const uint8_t *data, size_t len, uint32_t num)
{
	const uint8_t *p = data;
	struct field f;

	while (next_field(&p, data + len, &f))
		if (f.num == num && f.wire == 0)
			return f.v;
	return 0;
}

static void test_pprof_structure(void **state)
{
	struct profile p;
	struct profile_frame fr[2] = { 0 };
	uint32_t app, l_in, l_main, t, s;
	char *out = NULL;
	size_t len = 0, n_str = 0, n_loc = 0, n_fn = 0, n_map = 0, n_sample = 0;
	FILE *f;
	uint8_t *raw = malloc(1 << 16);
	uLongf raw_len = 1 << 16;
	z_stream z = { 0 };
	const uint8_t *pp, *end;
	struct field fl;
	char *strs[64];
	uint64_t values[2] = { 0 };

	(void)state;
	profile__init(&p);
	profile__meta_set(&p, "frequency", "250");
	app = profile__intern_mapping(&p, profile__intern_cstr(&p, "/bin/app"), profile__intern_cstr(&p, "beef"),
				      PROFILE_MAP_FILE);
	fr[0] = (struct profile_frame){ profile__intern_cstr(&p, "inl"), profile__intern_cstr(&p, "a.c"), 5,
					PROFILE_FRAME_INLINE };
	fr[1] = (struct profile_frame){ profile__intern_cstr(&p, "outer"), profile__intern_cstr(&p, "a.c"), 9, 0 };
	l_in = profile__add_location(&p, app, 0x1234, 0, fr, 2);
	fr[0] = (struct profile_frame){ profile__intern_cstr(&p, "main"), 0, 0, 0 };
	l_main = profile__add_location(&p, app, 0x1000, 0, fr, 1);
	t = profile__intern_thread(&p, 7, 8, profile__intern_cstr(&p, "app"));
	s = profile__intern_stack(&p, (uint32_t[]){ l_in, l_main }, 2);
	profile__add_count(&p, s, t, 3);

	f = open_memstream(&out, &len);
	assert_int_equal(export__pprof(f, &p, NULL), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)out;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = (uInt)raw_len;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	raw_len = z.total_out;
	inflateEnd(&z);

	/* First pass: the string table. */
	for (pp = raw, end = raw + raw_len; next_field(&pp, end, &fl);)
		if (fl.num == 6) {
			assert_true(n_str < 64);
			strs[n_str++] = strndup((const char *)fl.data, fl.len);
		}
	assert_true(n_str > 10);
	assert_string_equal(strs[0], ""); /* pprof requires string_table[0] == "" */
	for (pp = raw; next_field(&pp, end, &fl);) {
		const uint8_t *q, *qe;
		struct field g;

		switch (fl.num) {
		case 3: /* mapping */
			n_map++;
			assert_int_equal(msg_uint(fl.data, fl.len, 1), 1);
			assert_string_equal(strs[msg_uint(fl.data, fl.len, 5)], "/bin/app");
			assert_string_equal(strs[msg_uint(fl.data, fl.len, 6)], "beef");
			break;
		case 4: /* location: the inlined one has two lines, innermost first */
			n_loc++;
			if (msg_uint(fl.data, fl.len, 3) == 0x1234) {
				uint64_t fns[2] = { 0 }, lines[2] = { 0 };
				int nl = 0;

				for (q = fl.data, qe = fl.data + fl.len; next_field(&q, qe, &g);)
					if (g.num == 4) {
						assert_true(nl < 2);
						fns[nl] = msg_uint(g.data, g.len, 1);
						lines[nl++] = msg_uint(g.data, g.len, 2);
					}
				assert_int_equal(nl, 2);
				assert_int_equal(lines[0], 5);
				assert_int_equal(lines[1], 9);
				assert_int_not_equal(fns[0], fns[1]);
			}
			break;
		case 5:
			n_fn++;
			break;
		case 2: /* sample: locations leaf first, two values, three labels */
			n_sample++;
			for (q = fl.data, qe = fl.data + fl.len; next_field(&q, qe, &g);) {
				if (g.num == 1) {
					const uint8_t *r = g.data;

					assert_int_equal(rd_varint(&r, g.data + g.len), l_in + 1);
					assert_int_equal(rd_varint(&r, g.data + g.len), l_main + 1);
				} else if (g.num == 2) {
					const uint8_t *r = g.data;

					values[0] = rd_varint(&r, g.data + g.len);
					values[1] = rd_varint(&r, g.data + g.len);
				}
			}
			break;
		case 11: /* period type */
			assert_string_equal(strs[msg_uint(fl.data, fl.len, 1)], "cpu");
			assert_string_equal(strs[msg_uint(fl.data, fl.len, 2)], "nanoseconds");
			break;
		case 12:
			assert_int_equal(fl.v, 4000000); /* 250 Hz */
			break;
		}
	}
	assert_int_equal(n_map, 1);
	assert_int_equal(n_loc, 2);
	assert_int_equal(n_fn, 3);
	assert_int_equal(n_sample, 1);
	assert_int_equal(values[0], 3);
	assert_int_equal(values[1], 12000000);
	while (n_str)
		free(strs[--n_str]);
	free(raw);
	free(out);
	profile__release(&p);
}

/* Export 'p' to pprof and inflate it: the raw profile.proto in *raw (malloc'd), its length returned. */
static size_t export_raw(const struct profile *p, uint8_t **raw)
{
	char *out = NULL;
	size_t len = 0, cap = 1 << 20;
	FILE *f = open_memstream(&out, &len);
	z_stream z = { 0 };

	assert_int_equal(export__pprof(f, p, NULL), 0);
	assert_int_equal(fclose(f), 0);
	*raw = malloc(cap);
	assert_non_null(*raw);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)out;
	z.avail_in = (uInt)len;
	z.next_out = *raw;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	len = z.total_out;
	inflateEnd(&z);
	free(out);
	return len;
}

/* The string table of a raw profile: up to 'max' strings, strndup'd; returns how many. */
static size_t string_table(const uint8_t *raw, size_t len, char **strs, size_t max)
{
	const uint8_t *pp = raw;
	struct field fl;
	size_t n = 0;

	while (next_field(&pp, raw + len, &fl))
		if (fl.num == 6) {
			assert_true(n < max);
			strs[n++] = strndup((const char *)fl.data, fl.len);
		}
	return n;
}

/* Sample values are int64 in pprof: count * period saturates at 2^63-1 instead of wrapping. */
static void test_pprof_value_saturates(void **state)
{
	struct profile p;
	struct profile_frame fr = { 0 };
	uint32_t m, l, t, s, s2;
	uint8_t *raw;
	size_t len;
	const uint8_t *pp, *end;
	struct field fl, g;
	uint64_t values[2][2] = { { 0 } };
	int n = 0;

	(void)state;
	profile__init(&p);
	profile__meta_set(&p, "frequency", "99"); /* period 10101010 ns */
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, "/bin/app"), 0, PROFILE_MAP_FILE);
	fr.function = profile__intern_cstr(&p, "main");
	l = profile__add_location(&p, m, 0x10, 0, &fr, 1);
	t = profile__intern_thread(&p, 1, 1, profile__intern_cstr(&p, "app"));
	s = profile__intern_stack(&p, &l, 1);
	s2 = profile__intern_stack(&p, NULL, 0);
	assert_int_not_equal(profile__add_count(&p, s, t, (uint64_t)1 << 53), PROFILE_NONE);
	assert_int_not_equal(profile__add_count(&p, s2, t, ((uint64_t)1 << 63) + 5), PROFILE_NONE);
	len = export_raw(&p, &raw);
	for (pp = raw, end = raw + len; next_field(&pp, end, &fl);) {
		const uint8_t *q, *qe;

		if (fl.num != 2)
			continue;
		assert_true(n < 2);
		for (q = fl.data, qe = fl.data + fl.len; next_field(&q, qe, &g);)
			if (g.num == 2) {
				const uint8_t *r = g.data;

				values[n][0] = rd_varint(&r, g.data + g.len);
				values[n][1] = rd_varint(&r, g.data + g.len);
			}
		n++;
	}
	assert_int_equal(n, 2);
	assert_true(values[0][0] == (uint64_t)1 << 53);
	assert_true(values[0][1] == (uint64_t)INT64_MAX); /* 2^53 * 10101010 wrapped to a negative value */
	assert_true(values[1][0] == (uint64_t)INT64_MAX);
	assert_true(values[1][1] == (uint64_t)INT64_MAX);
	free(raw);
	profile__release(&p);
}

/*
 * Unnamed addresses of a stripped binary: each location is its own function, named as report names
 * it ("[postgres+0x58ad9e]"), not one "[postgres]" function shared by all (a fake root in pprof -top).
 */
static void test_pprof_unnamed_addresses(void **state)
{
	struct profile p;
	struct profile_frame fr = { 0 };
	uint32_t m, l1, l2, l3, t, s;
	uint8_t *raw;
	size_t len, n_str, i;
	const uint8_t *pp, *end;
	struct field fl, g;
	char *strs[64];
	uint64_t fn_name[8] = { 0 }, loc_fn[8] = { 0 };
	size_t n_fn = 0;

	(void)state;
	profile__init(&p);
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, "/usr/lib/postgresql/bin/postgres"), 0,
				    PROFILE_MAP_FILE);
	l1 = profile__add_location(&p, m, 0x58ad9e, 0, NULL, 0);
	l2 = profile__add_location(&p, m, 0x10, 0, NULL, 0);
	fr.function = profile__intern_cstr(&p, "PostgresMain");
	l3 = profile__add_location(&p, m, 0x20, 0, &fr, 1);
	t = profile__intern_thread(&p, 1, 1, profile__intern_cstr(&p, "postgres"));
	s = profile__intern_stack(&p, (uint32_t[]){ l1, l2, l3 }, 3);
	assert_int_not_equal(profile__add_count(&p, s, t, 5), PROFILE_NONE);
	len = export_raw(&p, &raw);
	n_str = string_table(raw, len, strs, 64);
	for (pp = raw, end = raw + len; next_field(&pp, end, &fl);) {
		const uint8_t *q, *qe;
		uint64_t id;

		if (fl.num == 5) { /* function */
			id = msg_uint(fl.data, fl.len, 1);
			assert_true(id >= 1 && id < 8);
			fn_name[id] = msg_uint(fl.data, fl.len, 2);
			assert_true(fn_name[id] < n_str);
			n_fn++;
		} else if (fl.num == 4) { /* location: exactly one line each */
			int lines = 0;

			id = msg_uint(fl.data, fl.len, 1);
			assert_true(id >= 1 && id < 8);
			for (q = fl.data, qe = fl.data + fl.len; next_field(&q, qe, &g);)
				if (g.num == 4) {
					loc_fn[id] = msg_uint(g.data, g.len, 1);
					lines++;
				}
			assert_int_equal(lines, 1);
		}
	}
	assert_int_equal(n_fn, 3);
	assert_string_equal(strs[fn_name[loc_fn[l1 + 1]]], "[postgres+0x58ad9e]");
	assert_string_equal(strs[fn_name[loc_fn[l2 + 1]]], "[postgres+0x10]");
	assert_string_equal(strs[fn_name[loc_fn[l3 + 1]]], "PostgresMain");
	for (i = 0; i < n_str; i++)
		free(strs[i]);
	free(raw);
	profile__release(&p);
}

static void watchdog(int sig)
{
	(void)sig;
	fail_msg("the speedscope export took more than 60 s: not linear in threads + stacks");
}

/*
 * speedscope with 300,000 threads, one stack each: every thread's profile holds exactly its own
 * sample. Writing it walks the stacks once per thread group, not once per thread (300,000 squared
 * would take minutes: the watchdog fails the test long before).
 */
static void test_speedscope_many_threads(void **state)
{
	const uint32_t n = 300000;
	struct profile p;
	struct profile_frame fr = { 0 };
	uint32_t m, l, s, i, t;
	char *out = NULL, *q;
	size_t len = 0, profiles = 0;
	FILE *f;

	(void)state;
	profile__init(&p);
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, "/bin/app"), 0, PROFILE_MAP_FILE);
	fr.function = profile__intern_cstr(&p, "work");
	l = profile__add_location(&p, m, 0x10, 0, &fr, 1);
	s = profile__intern_stack(&p, &l, 1);
	for (i = 0; i < n; i++) {
		t = profile__intern_thread(&p, 1, 1 + i, 0);
		assert_int_not_equal(profile__add_count(&p, s, t, i == 1234 ? 7 : 1), PROFILE_NONE);
	}
	signal(SIGALRM, watchdog);
	alarm(60);
	f = open_memstream(&out, &len);
	assert_int_equal(export__speedscope(f, &p, NULL, "many"), 0);
	assert_int_equal(fclose(f), 0);
	alarm(0);
	for (q = out; (q = strstr(q, "\"type\":\"sampled\"")); q++)
		profiles++;
	assert_int_equal(profiles, n);
	/* The busiest thread first, with its one sample and its weight; every thread the same. */
	q = strstr(out, "\"type\":\"sampled\"");
	assert_non_null(strstr(q, "\"name\":\" (1/1235)\""));
	assert_true(strstr(q, "\"samples\":[[0]],\"weights\":[7]}") < strstr(q + 1, "\"type\""));
	assert_non_null(strstr(out, "\"name\":\" (1/300000)\",\"unit\":\"none\",\"startValue\":0,\"endValue\":1,"
				    "\"samples\":[[0]],\"weights\":[1]}"));
	free(out);
	profile__release(&p);
}

static void test_json_writer(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct json j;

	(void)state;
	json__init(&j, f, 0);
	json__obj(&j);
	json__key(&j, "a\"b"), json__str(&j, "x\n\x01\xff\xc3\xa9");
	json__key(&j, "list");
	json__arr(&j);
	json__u64(&j, 1);
	json__arr(&j);
	json__end(&j);
	json__obj(&j);
	json__end(&j);
	json__double(&j, 1.5, 2);
	json__bool(&j, 0);
	json__null(&j);
	json__end(&j);
	json__end(&j);
	fclose(f);
	assert_string_equal(out, "{\"a\\\"b\":\"x\\n\\u0001\\ufffd\xc3\xa9\",\"list\":[1,[],{},1.50,false,null]}");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_gzip_roundtrip),
		cmocka_unit_test(test_pprof_structure),
		cmocka_unit_test(test_pprof_value_saturates),
		cmocka_unit_test(test_pprof_unnamed_addresses),
		cmocka_unit_test(test_speedscope_many_threads),
		cmocka_unit_test(test_json_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
