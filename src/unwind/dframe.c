// SPDX-License-Identifier: MIT
/*
 * dframe - call frame information from .debug_frame, for code .eh_frame does not cover (built with
 * -fno-asynchronous-unwind-tables -g, or Go's linker): each image's FDEs indexed by address (the
 * section inflated first when compressed), and the FDE found for an address rewritten with its CIE
 * in .eh_frame form into the unwinder's scratch, where libunwind's table search reads it.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libunwind.h>
#include <zlib.h>

#include "array.h"
#include "unwind_int.h"

/* A .debug_frame CIE that libunwind can take in .eh_frame form. */
struct dframe_cie {
	uint8_t version;     /* as it is written back: 1, or 3 for versions 3 and 4 */
	const uint8_t *rest; /* code alignment factor to the end: copied as is */
	size_t rest_len;
};

/* The CIE at 'off' in the section: 32-bit DWARF, version 1, 3 or 4, no augmentation, 8-byte addresses. */
static int dframe_cie(const uint8_t *sec, uint64_t sec_size, uint64_t off, struct dframe_cie *cie)
{
	const uint8_t *p, *end;
	uint32_t len;
	uint8_t version;

	if (off > sec_size || sec_size - off < 8)
		return -1;
	len = le32(sec + off);
	if (len < 6 || len == 0xffffffff || len > sec_size - off - 4 || le32(sec + off + 4) != 0xffffffff)
		return -1;
	p = sec + off + 8;
	end = sec + off + 4 + len;
	version = *p++;
	if ((version != 1 && version != 3 && version != 4) || *p++ != 0)
		return -1;
	if (version == 4) {
		/* address_size 8, segment_selector_size 0 */
		if (end - p < 2 || p[0] != 8 || p[1] != 0)
			return -1;
		p += 2;
	}
	if (p >= end || !unwinder__cie_ra_ok(p, end, version))
		return -1;
	cie->version = version == 1 ? 1 : 3;
	cie->rest = p;
	cie->rest_len = (size_t)(end - p);
	return 0;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct dframe_fde *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The .debug_frame section of the image: its offset, size and flags in the file, or -1. */
static int dframe_section(const struct unwinder_map *m, uint64_t *off, uint64_t *size, uint64_t *flags)
{
	static const char name[] = ".debug_frame";
	const Elf64_Shdr *sh;
	Elf64_Shdr str, s;
	Elf64_Ehdr eh;
	size_t i;

	if (unwinder__elf_header(m, &eh) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shoff > m->image_size || (m->image_size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum ||
	    eh.e_shstrndx >= eh.e_shnum)
		return -1;
	sh = (const void *)(m->image + eh.e_shoff);
	memcpy(&str, &sh[eh.e_shstrndx], sizeof(str));
	if (str.sh_type == SHT_NOBITS || str.sh_offset > m->image_size ||
	    m->image_size - str.sh_offset < str.sh_size)
		return -1;
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&s, &sh[i], sizeof(s));
		if (s.sh_type != SHT_PROGBITS || s.sh_name >= str.sh_size ||
		    str.sh_size - s.sh_name < sizeof(name) ||
		    memcmp(m->image + str.sh_offset + s.sh_name, name, sizeof(name)))
			continue;
		if (s.sh_offset > m->image_size || m->image_size - s.sh_offset < s.sh_size)
			return -1;
		*off = s.sh_offset;
		*size = s.sh_size;
		*flags = s.sh_flags;
		return 0;
	}
	return -1;
}

/*
 * Inflate a compressed section (an Elf64_Chdr, then a zlib stream) of 'size' bytes at 'p' into a new
 * buffer of exactly ch_size bytes: the buffer, or NULL (another format, too large for the budget,
 * corrupt, or short).
 */
static uint8_t *dframe_inflate(struct unwinder *u, const uint8_t *p, uint64_t size, uint64_t *out_size)
{
	Elf64_Chdr ch;
	z_stream z;
	uint8_t *buf;
	int ret;

	if (size < sizeof(ch))
		return NULL;
	memcpy(&ch, p, sizeof(ch));
	if (ch.ch_type != ELFCOMPRESS_ZLIB || !ch.ch_size || ch.ch_size > DFRAME_INFLATE_MAX ||
	    u->inflated_bytes + ch.ch_size > DFRAME_INFLATE_TOTAL || size - sizeof(ch) > UINT32_MAX)
		return NULL;
	buf = malloc(ch.ch_size);
	if (!buf)
		return NULL;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		free(buf);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)(p + sizeof(ch));
	z.avail_in = (uInt)(size - sizeof(ch));
	z.next_out = buf;
	z.avail_out = (uInt)ch.ch_size;
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (ret != Z_STREAM_END || z.avail_out) {
		free(buf);
		return NULL;
	}
	u->inflated_bytes += ch.ch_size;
	*out_size = ch.ch_size;
	return buf;
}

/* The bytes of the indexed .debug_frame of the image at m. */
static const uint8_t *dframe_bytes(const struct dframe *d, const struct unwinder_map *m)
{
	return d->inflated ? d->inflated : m->image + d->sec_off;
}

/* Index the FDEs of the image's .debug_frame into d (left empty when it has none or no memory). */
static void dframe_build(struct unwinder *u, const struct unwinder_map *m, struct dframe *d)
{
	const uint8_t *sec;
	struct dframe_cie cie;
	uint64_t off = 0, last_cie = UINT64_MAX, start, range, flags;
	size_t cap = 0;
	int cie_ok = 0;
	uint32_t len, id;

	d->nr = 0;
	d->sec_off = d->sec_size = 0;
	if (dframe_section(m, &d->sec_off, &d->sec_size, &flags))
		return;
	if (flags & SHF_COMPRESSED) {
		d->inflated = dframe_inflate(u, m->image + d->sec_off, d->sec_size, &d->sec_size);
		if (!d->inflated) {
			d->sec_size = 0;
			return;
		}
	}
	sec = dframe_bytes(d, m);
	while (d->sec_size - off >= 4) {
		len = le32(sec + off);
		if (len == 0xffffffff) {
			/* 64-bit DWARF: skipped */
			if (d->sec_size - off < 12 || le64(sec + off + 4) > d->sec_size - off - 12)
				break;
			off += 12 + le64(sec + off + 4);
			continue;
		}
		if (len > d->sec_size - off - 4)
			break;
		id = len >= 4 ? le32(sec + off + 4) : 0xffffffff;
		if (len >= 20 && id != 0xffffffff) {
			if (id != last_cie) {
				last_cie = id;
				cie_ok = dframe_cie(sec, d->sec_size, id, &cie) == 0;
			}
			start = le64(sec + off + 8);
			range = le64(sec + off + 16);
			if (cie_ok && range && start + range > start) {
				if (array__grow(&d->fdes, &cap, d->nr + 1, sizeof(*d->fdes))) {
					d->nr = 0;
					return;
				}
				d->fdes[d->nr++] = (struct dframe_fde){ start, start + range, off, id };
			}
		}
		off += 4 + (uint64_t)len;
	}
	if (d->nr)
		qsort(d->fdes, d->nr, sizeof(*d->fdes), fde_cmp);
}

void dframe__release(struct unwinder *u, struct dframe *d)
{
	if (d->inflated)
		u->inflated_bytes -= d->sec_size;
	free(d->inflated);
	free(d->fdes);
	memset(d, 0, sizeof(*d));
}

/* The index of the image at m: cached by image_id (least recently used dropped past MAX_DFRAMES). */
static const struct dframe *dframe_get(struct unwinder *u, const struct unwinder_map *m)
{
	struct dframe *d = NULL;
	size_t i;

	if (!m->image_id) {
		dframe__release(u, &u->uncached);
		dframe_build(u, m, &u->uncached);
		return &u->uncached;
	}
	u->tick++;
	for (i = 0; i < u->nr_dframes; i++) {
		if (u->dframes[i].image_id == m->image_id) {
			u->dframes[i].last_use = u->tick;
			return &u->dframes[i];
		}
	}
	if (u->nr_dframes < MAX_DFRAMES) {
		d = &u->dframes[u->nr_dframes++];
	} else {
		d = &u->dframes[0];
		for (i = 1; i < MAX_DFRAMES; i++)
			if (u->dframes[i].last_use < d->last_use)
				d = &u->dframes[i];
		u->stats.dframe_evictions++;
		u->stats.dframe_evicted_id = d->image_id;
		dframe__release(u, d);
	}
	u->stats.dframe_builds++;
	dframe_build(u, m, d);
	d->image_id = m->image_id;
	d->last_use = u->tick;
	return d;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * Through .debug_frame: find the FDE that covers ip, write it and its CIE in .eh_frame form into the
 * scratch (a one-entry search table first), and let libunwind parse them from SCRATCH_BASE.
 */
int dframe__find(struct unwind_ctx *c, unw_addr_space_t as, const struct unwinder_map *m, unw_word_t ip,
		 unw_proc_info_t *pi, int need_unwind_info, uint64_t bias)
{
	uint64_t pc, rt_start, rt_end;
	const struct dframe *d;
	const struct dframe_fde *f;
	const uint8_t *sec;
	struct dframe_cie cie;
	size_t lo, hi, mid, cie_pos = 8, fde_pos, instr_len, total;
	uint32_t fde_len;
	unw_dyn_info_t di;
	uint8_t *w;

	d = dframe_get(c->u, m);
	if (!d->nr)
		return -UNW_ENOINFO;
	pc = ip - bias;
	for (lo = 0, hi = d->nr; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (d->fdes[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -UNW_ENOINFO;
	f = &d->fdes[lo - 1];
	rt_start = f->start + bias;
	rt_end = f->end + bias;
	if (pc >= f->end || rt_start > ip || ip >= rt_end)
		return -UNW_ENOINFO;
	sec = dframe_bytes(d, m);
	if (dframe_cie(sec, d->sec_size, f->cie_off, &cie))
		return -UNW_ENOINFO;
	fde_len = le32(sec + f->fde_off);
	instr_len = fde_len - 20; /* after the CIE pointer, the start and the range */
	fde_pos = cie_pos + 4 + 6 + cie.rest_len;
	total = fde_pos + 4 + 20 + instr_len;
	if (unwinder__scratch_reserve(c->u, total))
		return -UNW_ENOMEM;
	w = c->u->scratch;
	memset(w, 0, total + 8);
	/* the search table: one entry, IP offset 0 from di.start_ip, the FDE at fde_pos from segbase */
	put32(w, 0);
	put32(w + 4, (uint32_t)fde_pos);
	/* the CIE: length, id 0, version, empty augmentation, then the rest as it was */
	put32(w + cie_pos, (uint32_t)(6 + cie.rest_len));
	w[cie_pos + 8] = cie.version;
	memcpy(w + cie_pos + 10, cie.rest, cie.rest_len);
	/* the FDE: length, CIE pointer relative to itself, absolute runtime addresses, instructions */
	put32(w + fde_pos, fde_len);
	put32(w + fde_pos + 4, (uint32_t)(fde_pos + 4 - cie_pos));
	put64(w + fde_pos + 8, rt_start);
	put64(w + fde_pos + 16, rt_end - rt_start);
	memcpy(w + fde_pos + 24, sec + f->fde_off + 24, instr_len);
	c->scratch_len = total;

	memset(&di, 0, sizeof(di));
	di.start_ip = rt_start;
	di.end_ip = rt_end;
	di.format = UNW_INFO_FORMAT_IP_OFFSET;
	di.u.rti.segbase = SCRATCH_BASE;
	di.u.rti.table_data = SCRATCH_BASE;
	di.u.rti.table_len = 8 / sizeof(unw_word_t);
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, c);
}
