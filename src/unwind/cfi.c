// SPDX-License-Identifier: MIT
/* cfi - see cfi.h. Every size is checked against the file before anything is allocated for it. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "cfi.h"
#include "fileio.h"
#include "uwtable.h"

/* A pointer encoded as 'enc' (DW_EH_PE_*) at c->p, whose address is 'here'. -1: not one we read. */
int cfi__pointer(const struct cfi_file *f, struct cfi_cur *c, uint8_t enc, uint64_t here, uint64_t *out)
{
	uint64_t v;

	switch (enc & 0x0f) {
	case PE_absptr:
	case PE_udata8:
	case PE_signed:
	case PE_sdata8:
		v = cfi__rd(c, 8);
		break;
	case PE_uleb128:
		v = cfi__uleb(c);
		break;
	case PE_sleb128:
		v = (uint64_t)cfi__sleb(c);
		break;
	case PE_udata2:
		v = cfi__rd(c, 2);
		break;
	case PE_sdata2:
		v = (uint64_t)(int64_t)(int16_t)cfi__rd(c, 2);
		break;
	case PE_udata4:
		v = cfi__rd(c, 4);
		break;
	case PE_sdata4:
		v = (uint64_t)(int64_t)(int32_t)cfi__rd(c, 4);
		break;
	default:
		return -1;
	}
	switch (enc & 0xf0) {
	case PE_absptr:
		break;
	case PE_pcrel:
		v += here;
		break;
	case PE_datarel:
		v += f->got;
		break;
	case PE_textrel:
		v += f->text;
		break;
	default: /* funcrel, aligned, indirect: not for the addresses of code */
		return -1;
	}
	*out = v;
	return c->bad ? -1 : 0;
}

/* 'len' bytes at 'off' of the file: -ENOEXEC past its end, -EIO when the read fails. */
static int src_read(const struct cfi_src *s, uint64_t off, void *buf, size_t len)
{
	if (off > s->size || s->size - off < len)
		return -ENOEXEC;
	if (s->fd < 0) {
		memcpy(buf, s->img + off, len);
		return 0;
	}
	return fileio__pread_all(s->fd, off, buf, len);
}

static int src_has(const struct cfi_src *s, uint64_t off, uint64_t len)
{
	return off <= s->size && s->size - off >= len;
}

/* A compressed section (Elf64_Chdr, then a zlib stream) inflated in place of its bytes. */
static int inflate_sec(struct cfi_sec *s)
{
	Elf64_Chdr ch;
	z_stream z;
	uint8_t *out;
	int ret;

	if (s->size < sizeof(ch))
		return -ENOEXEC;
	memcpy(&ch, s->data, sizeof(ch));
	if (ch.ch_type != ELFCOMPRESS_ZLIB || s->size - sizeof(ch) > UINT32_MAX)
		return -ENOEXEC;
	if (ch.ch_size > UWTABLE_MAX_SECTION)
		return -EFBIG;
	/* zlib expands 1032 times at most: a larger claim is a lie, not worth its allocation */
	if (ch.ch_size > (s->size - sizeof(ch)) * 1032 + 64)
		return -ENOEXEC;
	out = malloc(ch.ch_size ? ch.ch_size : 1);
	if (!out)
		return -ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		free(out);
		return -ENOMEM;
	}
	z.next_in = s->data + sizeof(ch);
	z.avail_in = (uInt)(s->size - sizeof(ch));
	z.next_out = out;
	z.avail_out = (uInt)ch.ch_size;
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (ret != Z_STREAM_END || z.avail_out) {
		free(out);
		return -ENOEXEC;
	}
	free(s->data);
	s->data = out;
	s->size = ch.ch_size;
	return 0;
}

static int read_sec(const struct cfi_src *s, const Elf64_Shdr *sh, struct cfi_sec *out)
{
	int err;

	if (sh->sh_type == SHT_NOBITS)
		return 0;
	if (sh->sh_size > UWTABLE_MAX_SECTION)
		return -EFBIG;
	if (!src_has(s, sh->sh_offset, sh->sh_size))
		return -ENOEXEC;
	out->data = malloc(sh->sh_size ? sh->sh_size : 1);
	if (!out->data)
		return -ENOMEM;
	out->size = sh->sh_size;
	out->addr = sh->sh_addr;
	err = src_read(s, sh->sh_offset, out->data, sh->sh_size);
	if (!err && (sh->sh_flags & SHF_COMPRESSED))
		err = inflate_sec(out);
	return err;
}

int cfi__read(const struct cfi_src *s, struct cfi_file *b)
{
	Elf64_Shdr *sh = NULL, *eh = NULL, *dbg = NULL;
	Elf64_Ehdr h;
	uint64_t shnum, shstrndx, i;
	char *names = NULL;
	size_t names_size;
	int err;

	err = src_read(s, 0, &h, sizeof(h));
	if (err)
		return err == -EIO ? err : -ENOEXEC;
	if (memcmp(h.e_ident, ELFMAG, SELFMAG) || h.e_ident[EI_CLASS] != ELFCLASS64 ||
	    h.e_ident[EI_DATA] != ELFDATA2LSB || h.e_machine != EM_X86_64 || !h.e_shoff ||
	    h.e_shentsize != sizeof(Elf64_Shdr))
		return -ENOEXEC;
	shnum = h.e_shnum;
	shstrndx = h.e_shstrndx;
	if (!shnum || shstrndx == SHN_XINDEX) {
		Elf64_Shdr first;

		err = src_read(s, h.e_shoff, &first, sizeof(first));
		if (err)
			return err;
		if (!shnum)
			shnum = first.sh_size;
		if (shstrndx == SHN_XINDEX)
			shstrndx = first.sh_link;
	}
	if (shnum > CFI_MAX_SHNUM)
		return -EFBIG;
	if (!shnum || shstrndx >= shnum || !src_has(s, h.e_shoff, shnum * sizeof(Elf64_Shdr)))
		return -ENOEXEC;
	sh = malloc(shnum * sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	err = src_read(s, h.e_shoff, sh, shnum * sizeof(*sh));
	if (err)
		goto out;
	err = -EFBIG;
	if (sh[shstrndx].sh_size > UWTABLE_MAX_SECTION || sh[shstrndx].sh_type == SHT_NOBITS)
		goto out;
	names_size = sh[shstrndx].sh_size;
	err = -ENOEXEC;
	if (!src_has(s, sh[shstrndx].sh_offset, names_size))
		goto out;
	err = -ENOMEM;
	names = malloc(names_size + 1);
	if (!names)
		goto out;
	err = src_read(s, sh[shstrndx].sh_offset, names, names_size);
	if (err)
		goto out;
	names[names_size] = 0; /* every name now ends within the table */
	for (i = 0; i < shnum; i++) {
		const char *n;

		if (sh[i].sh_name >= names_size)
			continue;
		n = names + sh[i].sh_name;
		if (!strcmp(n, ".eh_frame") &&
		    (sh[i].sh_type == SHT_PROGBITS || sh[i].sh_type == SHT_X86_64_UNWIND))
			eh = eh ? eh : &sh[i];
		else if (!strcmp(n, ".debug_frame") && sh[i].sh_type == SHT_PROGBITS)
			dbg = dbg ? dbg : &sh[i];
		else if (!strcmp(n, ".got") && !b->got)
			b->got = sh[i].sh_addr;
		else if (!strcmp(n, ".text") && !b->text)
			b->text = sh[i].sh_addr;
	}
	err = eh || dbg ? 0 : -ENOEXEC;
	if (!err && eh)
		err = read_sec(s, eh, &b->eh);
	if (!err && dbg) {
		/* a .debug_frame we cannot read (compressed otherwise than with zlib, corrupt) is left out */
		err = read_sec(s, dbg, &b->dbg);
		if (err == -ENOEXEC) {
			free(b->dbg.data);
			memset(&b->dbg, 0, sizeof(b->dbg));
			err = 0;
		}
	}
	if (!err && !b->eh.size && !b->dbg.size)
		err = -ENOEXEC;
out:
	free(names);
	free(sh);
	return err;
}

/* The entry at *off, or 0 at the end of the section (or where it stops making sense). */
int cfi__next_entry(const struct cfi_sec *s, int in_debug, uint64_t off, struct cfi_entry *e)
{
	struct cfi_cur c;
	uint64_t len;
	size_t idlen = 4;

	for (;;) {
		if (s->size - off < 4)
			return 0;
		c = (struct cfi_cur){ s->data + off, s->data + s->size, 0 };
		len = cfi__rd(&c, 4);
		if (len == 0) { /* a zero terminator: skipped, as readelf does */
			off += 4;
			continue;
		}
		if (len == 0xffffffff) {
			len = cfi__rd(&c, 8);
			if (in_debug)
				idlen = 8;
		}
		if (c.bad || len > (uint64_t)(c.end - c.p) || len < idlen)
			return 0;
		break;
	}
	e->off = off;
	e->next = (uint64_t)(c.p - s->data) + len;
	e->id_pos = (uint64_t)(c.p - s->data);
	c.end = c.p + len;
	e->id = cfi__rd(&c, idlen);
	if (in_debug)
		e->is_cie = idlen == 8 ? e->id == UINT64_MAX : e->id == 0xffffffff;
	else
		e->is_cie = e->id == 0;
	e->body = c;
	return 1;
}

void cfi__release(struct cfi_file *f)
{
	free(f->eh.data);
	free(f->dbg.data);
	memset(f, 0, sizeof(*f));
}
