// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the unwind table builder (src/unwind/uwtable.h), the parser of .eh_frame and
 * .debug_frame that runs on files the target chose. A table built must pass uwtable__validate (what the
 * root side checks before the rows reach the BPF map), hold at most max_rows rows, and be the same
 * whether built from memory or through a file descriptor (pread); a failure must leave it empty.
 *
 * Input: 1 byte of mode, 1 byte of max_rows (0: UWTABLE_MAX_ROWS), then
 *   mode % 4 == 0: a whole ELF file;
 *   mode % 4 == 1: an .eh_frame section (at address 0x2000), put into a minimal ELF file of ours;
 *   mode % 4 == 2: a .debug_frame section, the same way;
 *   mode % 4 == 3: 2 bytes of .eh_frame length, the .eh_frame, then the .debug_frame.
 * Bit 2 of mode marks the .debug_frame as SHF_COMPRESSED (then it must hold an Elf64_Chdr and zlib).
 * The seeds in tests/fuzz/seeds/uwtable: elf-* are a small program with its own _start, built with
 * 'gcc -nostdlib -Os -Wl,--build-id=none,-z,noseparate-code,-z,max-page-size=64,-z,norelro' (omitted
 * and kept frame pointers; -g -fno-asynchronous-unwind-tables -fno-unwind-tables for .debug_frame only,
 * its copy compressed by objcopy --compress-debug-sections=zlib; clang with lld) and stripped; eh-plt
 * is the .eh_frame of tests/fixtures/uwfix.c (gcc, ld.bfd: with the PLT's expression), dbg-* the
 * .debug_frame of the small program, both-max-rows-6 the two together with max_rows 6.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uwtable.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_uwtable: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

#define EH_ADDR 0x2000

/* An ELF file of ours around the two sections (either may be empty): malloc'd, its size in *size. */
static uint8_t *wrap(const uint8_t *eh, size_t eh_len, const uint8_t *dbg, size_t dbg_len, int compressed,
		     size_t *size)
{
	static const char names[] = "\0.eh_frame\0.debug_frame\0.shstrtab";
	size_t names_at = sizeof(Elf64_Ehdr), eh_at = names_at + sizeof(names), dbg_at = eh_at + eh_len;
	size_t sh_at = (dbg_at + dbg_len + 7) & ~(size_t)7;
	Elf64_Shdr sh[4];
	Elf64_Ehdr h;
	uint8_t *img;

	*size = sh_at + sizeof(sh);
	img = calloc(1, *size);
	if (!img)
		return NULL;
	memset(&h, 0, sizeof(h));
	memset(sh, 0, sizeof(sh));
	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = ELFCLASS64;
	h.e_ident[EI_DATA] = ELFDATA2LSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	h.e_type = ET_DYN;
	h.e_machine = EM_X86_64;
	h.e_version = EV_CURRENT;
	h.e_ehsize = sizeof(h);
	h.e_shentsize = sizeof(Elf64_Shdr);
	h.e_shnum = 4;
	h.e_shstrndx = 3;
	h.e_shoff = sh_at;
	sh[1] = (Elf64_Shdr){ .sh_name = 1,
			      .sh_type = eh_len ? SHT_PROGBITS : SHT_NULL,
			      .sh_addr = EH_ADDR,
			      .sh_offset = eh_at,
			      .sh_size = eh_len };
	sh[2] = (Elf64_Shdr){ .sh_name = 11,
			      .sh_type = dbg_len ? SHT_PROGBITS : SHT_NULL,
			      .sh_flags = compressed ? SHF_COMPRESSED : 0,
			      .sh_offset = dbg_at,
			      .sh_size = dbg_len };
	sh[3] = (Elf64_Shdr){
		.sh_name = 24, .sh_type = SHT_STRTAB, .sh_offset = names_at, .sh_size = sizeof(names)
	};
	memcpy(img, &h, sizeof(h));
	memcpy(img + names_at, names, sizeof(names));
	if (eh_len)
		memcpy(img + eh_at, eh, eh_len);
	if (dbg_len)
		memcpy(img + dbg_at, dbg, dbg_len);
	memcpy(img + sh_at, sh, sizeof(sh));
	return img;
}

static void check(const uint8_t *img, size_t size, uint32_t max_rows)
{
	struct uwtable t, u;
	int err, err_fd, fd;
	size_t i;

	err = uwtable__build(img, size, max_rows, &t);
	if (err) {
		CHECK(err == -ENOEXEC || err == -E2BIG || err == -EFBIG || err == -ENOMEM);
		CHECK(t.nr == 0 && t.rows == NULL);
	} else {
		CHECK(uwtable__validate(t.rows, t.nr) == 0);
		CHECK(t.nr >= 1 && t.nr <= max_rows);
		CHECK(t.st.bad_fdes <= t.st.fdes);
		CHECK(t.st.unknown <=
		      t.st.cfa_reg + t.st.cfa_expr + t.st.ra_rule + t.st.rbp_rule + t.st.too_large);
		for (i = 0; i < t.nr; i++)
			CHECK(t.rows[i].kind != SCORCH_UW_END ||
			      (t.rows[i].cfa_off == 0 && t.rows[i].rbp_off == 0));
	}
	/* the same through a file */
	fd = memfd_create("fuzz_uwtable", MFD_CLOEXEC);
	if (fd < 0 || write(fd, img, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		uwtable__release(&t);
		return;
	}
	err_fd = uwtable__build_fd(fd, max_rows, &u);
	close(fd);
	CHECK(err_fd == err);
	CHECK(u.nr == t.nr && u.base == t.base);
	CHECK(!t.nr || !memcmp(u.rows, t.rows, t.nr * sizeof(*t.rows)));
	CHECK(!memcmp(&u.st, &t.st, sizeof(t.st)));
	uwtable__release(&u);
	uwtable__release(&t);
	CHECK(t.nr == 0 && t.rows == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t eh_len = 0, img_size;
	uint32_t max_rows;
	uint8_t mode, *img;

	if (size < 2)
		return 0;
	mode = data[0];
	max_rows = data[1] ? data[1] : UWTABLE_MAX_ROWS;
	data += 2;
	size -= 2;
	switch (mode % 4) {
	case 0:
		check(data, size, max_rows);
		return 0;
	case 1:
		eh_len = size;
		break;
	case 2:
		eh_len = 0;
		break;
	case 3:
		if (size < 2)
			return 0;
		eh_len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (eh_len > size)
			eh_len = size;
		break;
	}
	img = wrap(data, eh_len, data + eh_len, size - eh_len, (mode & 4) != 0, &img_size);
	if (img)
		check(img, img_size, max_rows);
	free(img);
	return 0;
}
