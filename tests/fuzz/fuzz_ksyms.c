// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the /proc/kallsyms parser. ksyms__find() must return a symbol that starts at
 * or below the address, with a non-empty name and a module that is NULL or non-empty, and nothing at
 * address 0; a failed parse must say EINVAL (or ENOMEM).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_ksyms: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

static void check_find(const struct ksyms *k, uint64_t addr)
{
	const struct ksym *s = ksyms__find(k, addr), *again;

	if (!s)
		return;
	CHECK(s->addr <= addr);
	CHECK(s->name && s->name[0]);
	CHECK(!s->module || s->module[0]);
	/* The symbol found for its own start address starts there too... */
	again = ksyms__find(k, s->addr);
	CHECK(again && again->addr == s->addr);
	/* ...and one byte below it, any symbol found starts lower. */
	again = ksyms__find(k, s->addr - 1);
	CHECK(!again || again->addr < s->addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ksyms *k;
	uint64_t addr = 0;
	size_t i;

	errno = 0;
	k = ksyms__parse((const char *)data, size);
	if (!k) {
		CHECK(errno == EINVAL || errno == ENOMEM);
		return 0;
	}
	CHECK(ksyms__count(k) <= size / 4);
	/* Zero addresses are skipped: nothing starts at 0. */
	CHECK(ksyms__find(k, 0) == NULL);
	for (i = 0; i < size && i < 8; i++)
		addr = addr << 8 | data[i];
	check_find(k, addr);
	check_find(k, 0);
	check_find(k, 1);
	check_find(k, 0xffffffff81000000ULL);
	check_find(k, UINT64_MAX);
	ksyms__free(k);
	return 0;
}
