/* SPDX-License-Identifier: MIT */
/*
 * cfi - the bounded reading of an ELF file's call frame information, for uwtable: its .eh_frame and
 * .debug_frame (read with pread, or copied from an image in memory; every offset and size checked
 * against the file's size; a section compressed with zlib inflated), their entries (CIEs and FDEs,
 * 32- and 64-bit lengths), and a cursor that reads numbers, LEB128 and DW_EH_PE pointers and never
 * goes past its end. The bytes are untrusted: a read past the end marks the cursor bad and yields 0.
 *
 * Functions returning int return 0 or a negative errno, except where said otherwise.
 */
#ifndef SCORCH_CFI_H
#define SCORCH_CFI_H

#include <stddef.h>
#include <stdint.h>

/* Section headers read at most (a file with more is refused with -EFBIG). */
#define CFI_MAX_SHNUM (1u << 20)

/* DWARF's pointer encodings (DW_EH_PE_*) that cfi__pointer() reads. */
enum {
	PE_absptr = 0x00,
	PE_uleb128 = 0x01,
	PE_udata2 = 0x02,
	PE_udata4 = 0x03,
	PE_udata8 = 0x04,
	PE_signed = 0x08,
	PE_sleb128 = 0x09,
	PE_sdata2 = 0x0a,
	PE_sdata4 = 0x0b,
	PE_sdata8 = 0x0c,
	PE_pcrel = 0x10,
	PE_textrel = 0x20,
	PE_datarel = 0x30,
};

/* A bounded cursor: a read past 'end' sets 'bad' and yields 0. */
struct cfi_cur {
	const uint8_t *p, *end;
	int bad;
};

static inline int cfi__need(struct cfi_cur *c, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		c->p = c->end;
		return 0;
	}
	return 1;
}

static inline uint64_t cfi__rd(struct cfi_cur *c, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (!cfi__need(c, n))
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

/* A LEB128 number's bits, and (for the signed reading) how many there were and the last byte. */
static inline uint64_t cfi__leb(struct cfi_cur *c, unsigned *shift, uint8_t *last)
{
	uint64_t v = 0;
	uint8_t b;

	*shift = 0;
	do {
		if (!cfi__need(c, 1))
			return 0;
		b = *c->p++;
		if (*shift < 64)
			v |= (uint64_t)(b & 0x7f) << *shift;
		*shift += 7;
	} while (b & 0x80);
	*last = b;
	return v;
}

static inline uint64_t cfi__uleb(struct cfi_cur *c)
{
	unsigned shift;
	uint8_t last;

	return cfi__leb(c, &shift, &last);
}

static inline int64_t cfi__sleb(struct cfi_cur *c)
{
	unsigned shift;
	uint8_t last = 0;
	uint64_t v = cfi__leb(c, &shift, &last);

	if (c->bad)
		return 0;
	if (shift < 64 && (last & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

struct cfi_sec {
	uint8_t *data; /* owned */
	uint64_t size;
	uint64_t addr; /* sh_addr */
};

/* The sections of one file: either may be empty (size 0). */
struct cfi_file {
	struct cfi_sec eh, dbg;
	uint64_t got, text; /* bases of datarel and textrel pointers */
};

/* Where the file's bytes are. */
struct cfi_src {
	int fd;             /* or -1: img */
	const uint8_t *img; /* borrowed */
	uint64_t size;
};

/*
 * Read the sections of the x86-64 ELF file at s into f (cfi__release() frees them, also after an
 * error). -ENOEXEC: not an x86-64 ELF file, headers or a section past the end of the file, or neither
 * section; -EFBIG: a section over UWTABLE_MAX_SECTION or too many section headers; -EIO; -ENOMEM. A
 * .debug_frame that cannot be inflated is left out.
 */
int cfi__read(const struct cfi_src *s, struct cfi_file *f);
void cfi__release(struct cfi_file *f);

/*
 * One entry of a section: its offset, its body (after the length) and the CIE id or pointer field.
 * in_debug: .debug_frame's ids (0xffffffff, and 8 bytes in 64-bit DWARF) instead of .eh_frame's (0).
 */
struct cfi_entry {
	uint64_t off, next;
	uint64_t id_pos; /* offset of the id field */
	uint64_t id;
	int is_cie;
	struct cfi_cur body; /* after the id field, to the end of the entry */
};

/* The entry at 'off' of s (zero terminators skipped) into e: 1, or 0 at the end of what can be read. */
int cfi__next_entry(const struct cfi_sec *s, int in_debug, uint64_t off, struct cfi_entry *e);

/*
 * A pointer encoded as 'enc' at c->p, whose own address is 'here' (for pcrel): 0, or -1 for an
 * encoding we do not read (funcrel, aligned, indirect, omit) or a cursor that went bad.
 */
int cfi__pointer(const struct cfi_file *f, struct cfi_cur *c, uint8_t enc, uint64_t here, uint64_t *out);

#endif
