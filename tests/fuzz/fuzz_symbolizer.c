// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the symbolizer on untrusted ELF/DWARF bytes (a profiled process chooses the
 * files a root profiler reads). The input is the file; lookups at addresses across its segments must
 * return at most the frames asked for, with NUL-terminated strings, and never crash or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symbolizer.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_symbolizer: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct symbolizer *s;
	struct sym_elf *e;
	struct sym_frame f[8];
	uint64_t v;
	int fd, i, n, k;

	fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	s = symbolizer__new(NULL);
	if (!s) {
		close(fd);
		return 0;
	}
	e = symbolizer__open_fd(s, fd, "/fuzz/input", NULL);
	close(fd);
	if (e) {
		symbolizer__has_dwarf(s, e);
		CHECK(strlen(symbolizer__build_id(e)) <= 128);
		for (i = 0; i < 64; i++) {
			uint64_t off = (uint64_t)i * (size / 64 + 1);

			v = off;
			symbolizer__offset_to_vaddr(e, off, &v);
			n = symbolizer__lookup(s, e, v, f, 8);
			CHECK(n >= 0 && n <= 8);
			for (k = 0; k < n; k++) {
				CHECK(!f[k].function || strlen(f[k].function) < (1u << 20));
				CHECK(!f[k].file || strlen(f[k].file) < (1u << 20));
			}
		}
	}
	symbolizer__free(s);
	return 0;
}
