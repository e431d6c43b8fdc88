// SPDX-License-Identifier: MIT
/* Unit tests for the flame graph builder (src/present/flamegraph.h): layout, pruning, escaping, differential. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"

static char *render(struct flamegraph *fg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(flamegraph__write(fg, f), 0);
	assert_int_equal(fclose(f), 0);
	flamegraph__free(fg);
	return out;
}

/* Add a stack given as "a;b;c" (root first). */
static void add(struct flamegraph *fg, const char *stack, uint64_t n, uint64_t n2)
{
	struct flamegraph_frame fr[16];
	char buf[256], *save = NULL, *tok;
	uint32_t d = 0;

	snprintf(buf, sizeof(buf), "%s", stack);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		size_t l = strlen(tok);

		fr[d].kind = l > 4 && !strcmp(tok + l - 4, "_[k]") ? FLAMEGRAPH_KIND_KERNEL : FLAMEGRAPH_KIND_USER;
		if (fr[d].kind)
			tok[l - 4] = 0;
		fr[d].name = tok;
		fr[d].module = "app";
		d++;
	}
	assert_int_equal(flamegraph__add(fg, fr, d, n, n2), 0);
}

static void has(const char *svg, const char *want)
{
	if (!strstr(svg, want))
		fail_msg("the SVG lacks '%.300s'", want);
}

static void test_layout(void **state)
{
	struct flamegraph_opts o = { .width = 1020, .min_width = -1, .title = "T" };
	struct flamegraph *fg = flamegraph__new(&o);
	char *svg;
	const char *a, *b;

	(void)state;
	assert_non_null(fg);
	add(fg, "main;zeta", 1, 0);
	add(fg, "main;alpha;leaf", 3, 0);
	svg = render(fg);
	/* 1000 usable pixels for 4 samples; 16-pixel rows, the root at the bottom above a 34-pixel margin. */
	has(svg, "<svg version=\"1.1\" width=\"1020\" height=\"144\"");
	has(svg, "<g data-name=\"all\"><title>all (4 samples, 100.00%)</title><rect x=\"10.00\" y=\"94\" width=\"1000.00\"");
	has(svg, "<g data-name=\"alpha\"><title>alpha (3 samples, 75.00%) in app</title><rect x=\"10.00\" y=\"62\" width=\"750.00\"");
	has(svg, "<g data-name=\"zeta\"><title>zeta (1 samples, 25.00%) in app</title><rect x=\"760.00\" y=\"62\" width=\"250.00\"");
	has(svg, ">leaf</text>");
	/* Children left to right by name. */
	a = strstr(svg, "data-name=\"alpha\"");
	b = strstr(svg, "data-name=\"zeta\"");
	assert_true(a && b && a < b);
	has(svg, "<script");
	assert_null(strstr(svg, "src=\"http")); /* nothing loaded from the network */
	free(svg);
}

static void test_icicle_and_prune(void **state)
{
	struct flamegraph_opts o = { .width = 1020, .min_width = 1, .icicle = 1 };
	struct flamegraph *fg = flamegraph__new(&o);
	char *svg;

	(void)state;
	add(fg, "main;big", 9981, 0);
	add(fg, "main;tiny;under", 10, 0); /* 1 pixel wide: drawn */
	add(fg, "main;speck;under", 9, 0); /* 0.9 pixels: left out with its children */
	svg = render(fg);
	has(svg, "Icicle Graph");
	/* Root at the top. */
	has(svg, "<g data-name=\"all\"><title>all (10000 samples, 100.00%)</title><rect x=\"10.00\" y=\"46\"");
	has(svg, "data-name=\"tiny\"");
	assert_null(strstr(svg, "data-name=\"speck\""));
	/* 'under' of tiny (1 px) is drawn once; that of speck is not. */
	assert_non_null(strstr(svg, "data-name=\"under\""));
	assert_null(strstr(strstr(svg, "data-name=\"under\"") + 1, "data-name=\"under\""));
	free(svg);
}

static void test_escaping(void **state)
{
	struct flamegraph_opts o = { .title = "a<b>&\"c\"" };
	struct flamegraph *fg = flamegraph__new(&o);
	struct flamegraph_frame fr[2] = { { "op<T&>\x01x", NULL, 0 }, { "bad\xff\xfe utf8 \xc3\xa9", NULL, 0 } };
	char *svg;

	(void)state;
	assert_int_equal(flamegraph__add(fg, fr, 2, 5, 0), 0);
	svg = render(fg);
	has(svg, ">a&lt;b&gt;&amp;&quot;c&quot;</text>");
	has(svg, "data-name=\"op&lt;T&amp;&gt;?x\"");
	/* Invalid UTF-8 becomes '?', valid multi-byte characters stay. */
	has(svg, "data-name=\"bad?? utf8 \xc3\xa9\"");
	free(svg);
}

static void test_differential(void **state)
{
	struct flamegraph_opts o = { .differential = 1, .width = 1020 };
	struct flamegraph *fg = flamegraph__new(&o);
	char *svg, *g;

	(void)state;
	/* Before: grow 10%, same 50%, shrink 40%; after: grow 40%, same 50%, shrink 10%. */
	add(fg, "main;grow", 10, 40);
	add(fg, "main;same", 50, 50);
	add(fg, "main;shrink", 40, 10);
	svg = render(fg);
	has(svg, "<title>grow (10 -> 40 samples, 10.00% -> 40.00%, +30.00 points) in app</title>");
	/* Widths follow the newer profile. */
	has(svg, "<title>shrink (40 -> 10 samples, 40.00% -> 10.00%, -30.00 points) in app</title><rect x=\"910.00\" y=\"46\" width=\"100.00\"");
	g = strstr(svg, "data-name=\"grow\"");
	assert_non_null(g);
	assert_non_null(strstr(g, "fill=\"rgb(255,0,0)\"")); /* the largest growth: full red */
	g = strstr(svg, "data-name=\"shrink\"");
	assert_non_null(strstr(g, "fill=\"rgb(0,0,255)\""));
	g = strstr(svg, "data-name=\"same\"");
	assert_non_null(strstr(g, "fill=\"rgb(250,250,250)\""));
	free(svg);
}

/* Stacks of the two profiles added separately merge by name: the same graph as with paired counts. */
static void test_differential_separate_adds(void **state)
{
	struct flamegraph_opts o = { .differential = 1, .width = 1020 };
	struct flamegraph *a = flamegraph__new(&o), *b = flamegraph__new(&o);
	char *sa, *sb;

	(void)state;
	add(a, "main;grow", 10, 40);
	add(a, "main;shrink", 40, 10);
	add(b, "main;shrink", 40, 0);
	add(b, "main;grow", 10, 0);
	add(b, "main;grow", 0, 40);
	add(b, "main;shrink", 0, 10);
	sa = render(a);
	sb = render(b);
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
}

static void test_xml_escape(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	/* Overlong encodings, surrogates and a cut sequence are not valid UTF-8. */
	flamegraph__xml_escape(f, "'\xc0\xaf|\xed\xa0\x80|\xe2\x82", 10);
	fclose(f);
	assert_string_equal(out, "&apos;??|???|??");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_icicle_and_prune),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_differential_separate_adds),
		cmocka_unit_test(test_xml_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
