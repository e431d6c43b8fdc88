// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the .dynsym lookup (src/target/elfsym.h): any bytes as an ELF file. A lookup
 * ends (no loop follows the file's numbers beyond its limits), reads nothing outside the input (ASan),
 * and a value found belongs to a name that the input holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfsym.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_elfsym: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "_PyRuntime", "PyCode_Type", "Py_Version" };
	struct elfsym_info info;
	uint64_t v[3];
	size_t i;

	if (elfsym__lookup_mem(data, size, names, 3, v, &info))
		return 0;
	for (i = 0; i < 3; i++)
		if (v[i])
			CHECK(memmem(data, size, names[i], strlen(names[i]) + 1) != NULL);
	return 0;
}
