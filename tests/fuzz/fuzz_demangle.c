// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the demanglers. Symbol names come from untrusted ELF files: any input must
 * give NULL or a NUL-terminated string within DEMANGLE_MAX_OUTPUT, without crashing or hanging.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 3), *r;

	if (!name)
		return 0;
	/* Half the inputs as they come, half forced into the Rust v0 and legacy prefixes. */
	memcpy(name, data, size);
	name[size] = '\0';
	r = demangle__name(name);
	if (r && strlen(r) >= DEMANGLE_MAX_OUTPUT && strncmp(name, "_Z", 2) != 0)
		abort();
	free(r);
	memcpy(name, "_R", 2);
	if (size >= 2) {
		r = demangle__rust_v0(name);
		if (r && strlen(r) >= DEMANGLE_MAX_OUTPUT)
			abort();
		free(r);
		memcpy(name, "_ZN", size >= 3 ? 3 : 2);
		r = demangle__rust_legacy(name);
		free(r);
	}
	free(name);
	return 0;
}
