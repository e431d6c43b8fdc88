// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"
#include "fileio.h"

static int read_fd(void *ctx, uint64_t off, void *buf, size_t len)
{
	return fileio__pread_all(*(int *)ctx, off, buf, len);
}

int elfsym__lookup_fd(int fd, const char *const *names, size_t n, uint64_t *values, struct elfsym_info *info)
{
	return elfsym__lookup(read_fd, &fd, names, n, values, info);
}

struct mem {
	const uint8_t *p;
	size_t len;
};

static int read_mem(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct mem *m = ctx;

	if (off > m->len || len > m->len - off)
		return -EIO;
	memcpy(buf, m->p + off, len);
	return 0;
}

int elfsym__lookup_mem(const void *image, size_t size, const char *const *names, size_t n, uint64_t *values,
		       struct elfsym_info *info)
{
	struct mem m = { image, size };

	return elfsym__lookup(read_mem, &m, names, n, values, info);
}

/* Read 'size' bytes at 'off' into a new buffer, within the limits. */
static int read_table(elfsym_read_fn read, void *ctx, uint64_t off, uint64_t size, uint8_t **out)
{
	int err;

	*out = NULL;
	if (!size || size > ELFSYM_MAX_TABLE || off > UINT64_MAX - size)
		return -EINVAL;
	*out = malloc(size);
	if (!*out)
		return -ENOMEM;
	if ((err = read(ctx, off, *out, size))) {
		free(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

static int load_info(elfsym_read_fn read, void *ctx, const Elf64_Ehdr *eh, struct elfsym_info *info)
{
	Elf64_Phdr ph;
	unsigned i;
	int err;

	memset(info, 0, sizeof(*info));
	if (eh->e_phentsize != sizeof(ph) || eh->e_phnum > ELFSYM_MAX_SECTIONS)
		return -EINVAL;
	for (i = 0; i < eh->e_phnum; i++) {
		if ((err = read(ctx, eh->e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph))))
			return err;
		if (ph.p_type == PT_LOAD && ph.p_offset == 0) {
			info->load_vaddr = ph.p_vaddr & ~(uint64_t)0xfff;
			info->found_load = 1;
			break;
		}
	}
	return 0;
}

int elfsym__lookup(elfsym_read_fn read, void *ctx, const char *const *names, size_t n, uint64_t *values,
		   struct elfsym_info *info)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	uint8_t *syms = NULL, *strs = NULL;
	uint64_t nsyms, k;
	unsigned i;
	size_t j;
	int err;

	memset(values, 0, n * sizeof(*values));
	if ((err = read(ctx, 0, &eh, sizeof(eh))))
		return err;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return -EINVAL;
	if (info && (err = load_info(read, ctx, &eh, info)))
		return err;
	if (eh.e_shentsize != sizeof(sh) || eh.e_shnum > ELFSYM_MAX_SECTIONS)
		return -EINVAL;
	for (i = 0; i < eh.e_shnum; i++) {
		if ((err = read(ctx, eh.e_shoff + (uint64_t)i * sizeof(sh), &sh, sizeof(sh))))
			return err;
		if (sh.sh_type == SHT_DYNSYM)
			break;
	}
	if (i == eh.e_shnum)
		return -EINVAL; /* no dynamic symbols: nothing to find */
	if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh.e_shnum)
		return -EINVAL;
	if ((err = read(ctx, eh.e_shoff + (uint64_t)sh.sh_link * sizeof(str), &str, sizeof(str))))
		return err;
	if (str.sh_type != SHT_STRTAB)
		return -EINVAL;
	if ((err = read_table(read, ctx, sh.sh_offset, sh.sh_size, &syms)) ||
	    (err = read_table(read, ctx, str.sh_offset, str.sh_size, &strs)))
		goto out;
	nsyms = sh.sh_size / sizeof(Elf64_Sym);
	for (k = 0; k < nsyms; k++) {
		Elf64_Sym s;
		const char *name;
		size_t left;

		memcpy(&s, syms + k * sizeof(s), sizeof(s));
		if (s.st_shndx == SHN_UNDEF || s.st_name >= str.sh_size)
			continue;
		name = (const char *)strs + s.st_name;
		left = str.sh_size - s.st_name;
		for (j = 0; j < n; j++) {
			size_t len = strlen(names[j]);

			if (!values[j] && left > len && memcmp(name, names[j], len + 1) == 0)
				values[j] = s.st_value;
		}
	}
out:
	free(syms);
	free(strs);
	return err;
}
