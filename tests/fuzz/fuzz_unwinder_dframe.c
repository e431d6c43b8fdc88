// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the unwinder's .debug_frame path: the input is a .debug_frame section (and a
 * stack), which the harness puts into a minimal ELF file of its own (one PT_LOAD from offset 0 at
 * IMG_BASE, no PT_GNU_EH_FRAME, section headers for .debug_frame and .shstrtab, the section last, so a
 * read past it is a read past the allocation). The FDE index, the CIE checks and the rewriting into
 * .eh_frame form then see every byte the fuzzer changes, which they rarely do through fuzz_unwinder's
 * whole files.
 *
 * Each input is unwound from a flushed libunwind cache: without an image_id (index built, not kept),
 * under an id never used before (index built and cached; past 64 inputs each one evicts another's),
 * and with the section compressed (SHF_COMPRESSED, zlib, as Go's linker writes it). All must give the
 * same stack: neither the cache nor the compression may change an answer. Last, the section's bytes
 * are given as a compressed section themselves (a fuzzed Elf64_Chdr and stream): any answer, no crash.
 *
 * Input: 4 bytes of RIP offset from IMG_BASE (taken modulo IMG_SPAN), 1 byte of flags (bit 0: the
 * frame-pointer fallback; the rest times 8: RBP above RSP), 2 bytes of stack length, the stack (RSP at
 * STACK_BASE), then the section. The seeds in tests/fuzz/seeds/unwinder_dframe are written by
 * tests/unit/test_unwinder (DF_WRITE_SEEDS=DIR): FDEs for [0x401010, 0x401034) and [0x401040, 0x40104b).
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "unwinder.h"

#define IMG_BASE 0x400000ULL
#define IMG_SPAN 0x10000ULL
#define STACK_BASE 0x7ff000000000ULL
#define MAX_IPS 64
#define HEAD 7

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_unwinder_dframe: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

struct img {
	const uint8_t *data;
	size_t size;
	uint64_t id;
};

static int find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	const struct img *im = ctx;

	if (addr < IMG_BASE || addr >= IMG_BASE + IMG_SPAN)
		return -ENOENT;
	out->start = IMG_BASE;
	out->end = IMG_BASE + IMG_SPAN;
	out->offset = 0;
	out->image = im->data;
	out->image_size = im->size;
	out->image_id = im->id;
	return 0;
}

static const char shstrtab[] = "\0.debug_frame\0.shstrtab"; /* names at 1 and 14 */

/* The section sec[0..len) compressed: an Elf64_Chdr and a zlib stream, in a new buffer of *zlen bytes. */
static uint8_t *compress_section(const uint8_t *sec, size_t len, size_t *zlen)
{
	Elf64_Chdr ch = { .ch_type = ELFCOMPRESS_ZLIB, .ch_size = len, .ch_addralign = 8 };
	uLongf n = compressBound(len);
	uint8_t *z = malloc(sizeof(ch) + n);

	if (!z)
		return NULL;
	if (compress2(z + sizeof(ch), &n, sec, len, 6) != Z_OK) {
		free(z);
		return NULL;
	}
	memcpy(z, &ch, sizeof(ch));
	*zlen = sizeof(ch) + n;
	return z;
}

/* The ELF file around sec[0..len): header, program header, names, section headers, the section. */
static uint8_t *make_elf(const uint8_t *sec, size_t len, uint64_t sh_flags, size_t *size)
{
	const size_t str_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), sh_off = str_off + 32,
		     sec_off = sh_off + 3 * sizeof(Elf64_Shdr);
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Shdr sh[3];
	uint8_t *img;

	_Static_assert(sizeof(shstrtab) <= 32, "the names fit before the section headers");
	*size = sec_off + len;
	img = calloc(1, *size);
	if (!img)
		return NULL;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = sh_off;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_vaddr = ph.p_paddr = IMG_BASE;
	ph.p_filesz = *size;
	ph.p_memsz = IMG_SPAN;
	ph.p_align = 0x1000;
	memset(sh, 0, sizeof(sh));
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_offset = sec_off;
	sh[1].sh_size = len;
	sh[1].sh_flags = sh_flags;
	sh[1].sh_addralign = 8;
	sh[2].sh_name = 14;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = str_off;
	sh[2].sh_size = sizeof(shstrtab);
	sh[2].sh_addralign = 1;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), &ph, sizeof(ph));
	memcpy(img + str_off, shstrtab, sizeof(shstrtab));
	memcpy(img + sh_off, sh, sizeof(sh));
	if (len)
		memcpy(img + sec_off, sec, len);
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unwinder *u;
	static uint64_t next_id;
	uint64_t regs[SCORCH_NR_REGS], ips[MAX_IPS], ips0[MAX_IPS];
	struct unwinder_result res, res0;
	struct unwinder_input in;
	struct img im;
	size_t stack_len, img_size;
	uint32_t rip;
	uint8_t flags, *img;

	if (size < HEAD)
		return 0;
	if (!u)
		u = unwinder__new();
	CHECK(u);
	memcpy(&rip, data, 4);
	flags = data[4];
	stack_len = (size_t)(data[5] | data[6] << 8);
	data += HEAD;
	size -= HEAD;
	if (stack_len > size)
		stack_len = size;
	img = make_elf(data + stack_len, size - stack_len, 0, &img_size);
	if (!img)
		return 0;
	memset(regs, 0, sizeof(regs));
	regs[SCORCH_REG_RIP] = IMG_BASE + rip % IMG_SPAN;
	regs[SCORCH_REG_RSP] = STACK_BASE;
	regs[SCORCH_REG_RBP] = STACK_BASE + 8 * (uint64_t)(flags >> 1);
	in.regs = regs;
	in.stack = data;
	in.stack_size = stack_len;
	in.find_map = find_map;
	in.ctx = &im;
	in.fp_fallback = flags & 1;
	im.data = img;
	im.size = img_size;

	im.id = 0;
	unwinder__flush(u, 1);
	CHECK(unwinder__unwind(u, 1, &in, ips0, MAX_IPS, &res0) == 0);
	im.id = ++next_id;
	unwinder__flush(u, 1);
	CHECK(unwinder__unwind(u, 1, &in, ips, MAX_IPS, &res) == 0);
	CHECK(res.nr >= 1 && res.nr <= MAX_IPS);
	CHECK(ips[0] == regs[SCORCH_REG_RIP]);
	CHECK(res.status <= UNWINDER_FAILED);
	CHECK(res.nr == res0.nr && res.status == res0.status && res.fail_ip == res0.fail_ip &&
	      res.fp_steps == res0.fp_steps && memcmp(ips, ips0, res.nr * sizeof(ips[0])) == 0);
	free(img);

	if (size - stack_len) {
		size_t zlen;
		uint8_t *z = compress_section(data + stack_len, size - stack_len, &zlen);

		CHECK(z);
		img = make_elf(z, zlen, SHF_COMPRESSED, &img_size);
		free(z);
		if (!img)
			return 0;
		im.data = img;
		im.size = img_size;
		im.id = ++next_id;
		unwinder__flush(u, 1);
		CHECK(unwinder__unwind(u, 1, &in, ips, MAX_IPS, &res) == 0);
		CHECK(res.nr == res0.nr && res.status == res0.status && res.fail_ip == res0.fail_ip &&
		      res.fp_steps == res0.fp_steps && memcmp(ips, ips0, res.nr * sizeof(ips[0])) == 0);
		free(img);
	}

	img = make_elf(data + stack_len, size - stack_len, SHF_COMPRESSED, &img_size);
	if (!img)
		return 0;
	im.data = img;
	im.size = img_size;
	im.id = ++next_id;
	unwinder__flush(u, 1);
	CHECK(unwinder__unwind(u, 1, &in, ips, MAX_IPS, &res) == 0);
	CHECK(res.nr >= 1 && res.nr <= MAX_IPS && res.status <= UNWINDER_FAILED);
	free(img);
	return 0;
}
