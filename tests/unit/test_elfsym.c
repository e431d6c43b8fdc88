// SPDX-License-Identifier: MIT
/* Unit tests for the .dynsym lookup (src/target/elfsym.h): a real library, and malformed files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"

struct found {
	const char *path;
	uint64_t base;
};

static int find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
	struct found *f = data;

	(void)size;
	if (strstr(info->dlpi_name, "/libc.so.6")) {
		f->path = info->dlpi_name;
		f->base = info->dlpi_addr;
		return 1;
	}
	return 0;
}

/* libc's malloc and getpid, looked up in its file, are where the dynamic linker put them. */
static void test_libc(void **state)
{
	static const char *const names[] = { "malloc", "getpid", "no_such_symbol_here" };
	struct found f = { 0 };
	struct elfsym_info info;
	uint64_t v[3];
	int fd;

	(void)state;
	dl_iterate_phdr(find_libc, &f);
	assert_non_null(f.path);
	fd = open(f.path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(elfsym__lookup_fd(fd, names, 3, v, &info), 0);
	close(fd);
	assert_true(info.found_load);
	assert_int_equal(info.load_vaddr, 0); /* a shared library starts at 0 */
	assert_int_equal(v[0] + f.base, (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "malloc"));
	assert_int_equal(v[1] + f.base, (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "getpid"));
	assert_int_equal(v[2], 0);
}

/*
 * A minimal ELF: header, one PT_LOAD, sections [null, .dynsym, .dynstr], two symbols ("", "_PyRuntime"
 * at 0x1234).
 */
struct mini {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr sh[3];
	Elf64_Sym sym[2];
	char str[16];
};

static void make_mini(struct mini *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_phoff = offsetof(struct mini, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 1;
	m->eh.e_shoff = offsetof(struct mini, sh);
	m->eh.e_shentsize = sizeof(Elf64_Shdr);
	m->eh.e_shnum = 3;
	m->ph.p_type = PT_LOAD;
	m->ph.p_vaddr = 0x400123;
	m->sh[1].sh_type = SHT_DYNSYM;
	m->sh[1].sh_offset = offsetof(struct mini, sym);
	m->sh[1].sh_size = sizeof(m->sym);
	m->sh[1].sh_entsize = sizeof(Elf64_Sym);
	m->sh[1].sh_link = 2;
	m->sh[2].sh_type = SHT_STRTAB;
	m->sh[2].sh_offset = offsetof(struct mini, str);
	m->sh[2].sh_size = sizeof(m->str);
	memcpy(m->str, "\0_PyRuntime", 12);
	m->sym[1].st_name = 1;
	m->sym[1].st_value = 0x1234;
	m->sym[1].st_shndx = 5;
}

static int lookup(struct mini *m, uint64_t *v, struct elfsym_info *info)
{
	static const char *const names[] = { "_PyRuntime" };

	return elfsym__lookup_mem(m, sizeof(*m), names, 1, v, info);
}

static void test_mini_and_broken(void **state)
{
	struct mini m;
	struct elfsym_info info;
	uint64_t v;
	size_t cut;

	(void)state;
	make_mini(&m);
	assert_int_equal(lookup(&m, &v, &info), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(info.load_vaddr, 0x400000);
	/* Undefined symbols are not definitions. */
	make_mini(&m);
	m.sym[1].st_shndx = SHN_UNDEF;
	assert_int_equal(lookup(&m, &v, NULL), 0);
	assert_int_equal(v, 0);
	/* A name that runs off the end of the string table (no NUL) is no match. */
	make_mini(&m);
	m.sh[2].sh_size = 11; /* "\0_PyRuntime" without its NUL */
	assert_int_equal(lookup(&m, &v, NULL), 0);
	assert_int_equal(v, 0);
	make_mini(&m);
	m.sym[1].st_name = 1000;
	assert_int_equal(lookup(&m, &v, NULL), 0);
	assert_int_equal(v, 0);
	/* Malformed: each refused. */
	make_mini(&m);
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.eh.e_shnum = 60000;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.eh.e_shentsize = 10;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.sh[1].sh_link = 7;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.sh[1].sh_link = 1; /* its strings are not a string table */
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.sh[1].sh_size = 1ULL << 40;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.sh[2].sh_offset = UINT64_MAX - 4;
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	make_mini(&m);
	m.sh[1].sh_offset = 1ULL << 33; /* past the end */
	assert_int_equal(lookup(&m, &v, NULL), -EIO);
	make_mini(&m);
	m.sh[1].sh_type = SHT_PROGBITS; /* no .dynsym */
	assert_int_equal(lookup(&m, &v, NULL), -EINVAL);
	/* Every truncation fails cleanly. */
	for (cut = 0; cut < sizeof(m); cut++) {
		static const char *const names[] = { "_PyRuntime" };

		make_mini(&m);
		assert_true(elfsym__lookup_mem(&m, cut, names, 1, &v, &info) < 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_mini_and_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
