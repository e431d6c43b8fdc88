// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pyframes.h"

/*
 * The table: offsets read from CPython's headers of each version (Include/internal/pycore_frame.h,
 * pycore_runtime.h, pycore_interp.h, cpython/pystate.h, cpython/code.h, cpython/unicodeobject.h) for
 * the default (release, non-debug, GIL) build on x86-64, and checked against the DWARF of builds of
 * 3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1 and 3.13.0 (gdb 'ptype/o').
 */
static const struct pyframes_layout layouts[] = {
	{
		.major = 3,
		.minor = 8,
		.kind = PYFRAMES_FRAMEOBJ,
		.entry = PYFRAMES_ENTRY_NONE,
		.runtime_interp_head = 32,
		.interp_threads = 8,
		.tstate_next = 8,
		.tstate_thread_id = 176,
		.tstate_frame = 24,
		.frame_code = 32,
		.frame_previous = 24,
		.frame_instr = 104,
		.ob_type = 8,
		.co_filename = 104,
		.co_name = 112,
		.co_firstlineno = 40,
		.co_linetable = 120,
		.lines = PYFRAMES_LNOTAB,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 48,
		.str_compact_size = 72,
		.bytes_size = 16,
		.bytes_data = 32,
	},
	{
		.major = 3,
		.minor = 9,
		.kind = PYFRAMES_FRAMEOBJ,
		.entry = PYFRAMES_ENTRY_NONE,
		.runtime_interp_head = 32,
		.interp_threads = 8,
		.tstate_next = 8,
		.tstate_thread_id = 176,
		.tstate_frame = 24,
		.frame_code = 32,
		.frame_previous = 24,
		.frame_instr = 104,
		.ob_type = 8,
		.co_filename = 104,
		.co_name = 112,
		.co_firstlineno = 40,
		.co_linetable = 120,
		.lines = PYFRAMES_LNOTAB,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 48,
		.str_compact_size = 72,
		.bytes_size = 16,
		.bytes_data = 32,
	},
	{
		.major = 3,
		.minor = 10,
		.kind = PYFRAMES_FRAMEOBJ,
		.entry = PYFRAMES_ENTRY_NONE,
		.runtime_interp_head = 32,
		.interp_threads = 8,
		.tstate_next = 8,
		.tstate_thread_id = 176,
		.tstate_frame = 24,
		.frame_code = 32,
		.frame_previous = 24,
		.frame_instr = 96,
		.ob_type = 8,
		.co_filename = 104,
		.co_name = 112,
		.co_firstlineno = 40,
		.co_linetable = 120,
		.lines = PYFRAMES_LINETABLE,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 48,
		.str_compact_size = 72,
		.bytes_size = 16,
		.bytes_data = 32,
	},
	{
		.major = 3,
		.minor = 11,
		.kind = PYFRAMES_CFRAME,
		.entry = PYFRAMES_ENTRY_FLAG,
		.runtime_interp_head = 40,
		.interp_threads = 16,
		.tstate_next = 8,
		.tstate_thread_id = 152,
		.tstate_frame = 56,
		.cframe_current = 8,
		.frame_code = 32,
		.frame_previous = 48,
		.frame_instr = 56,
		.frame_entry = 68,
		.ob_type = 8,
		.co_filename = 112,
		.co_name = 120,
		.co_qualname = 128,
		.co_firstlineno = 72,
		.co_linetable = 136,
		.co_code_adaptive = 184,
		.lines = PYFRAMES_LOCTABLE,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 48,
		.str_compact_size = 72,
		.bytes_size = 16,
		.bytes_data = 32,
	},
	{
		.major = 3,
		.minor = 12,
		.kind = PYFRAMES_CFRAME,
		.entry = PYFRAMES_ENTRY_OWNER,
		.entry_owner = 3,
		.runtime_interp_head = 40,
		.interp_threads = 72,
		.tstate_next = 8,
		.tstate_thread_id = 136,
		.tstate_frame = 56,
		.cframe_current = 0,
		.frame_code = 0,
		.frame_previous = 8,
		.frame_instr = 56,
		.frame_entry = 70,
		.ob_type = 8,
		.co_filename = 112,
		.co_name = 120,
		.co_qualname = 128,
		.co_firstlineno = 68,
		.co_linetable = 136,
		.co_code_adaptive = 192,
		.lines = PYFRAMES_LOCTABLE,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 40,
		.str_compact_size = 56,
		.bytes_size = 16,
		.bytes_data = 32,
	},
	{
		.major = 3,
		.minor = 13,
		.kind = PYFRAMES_DIRECT,
		.entry = PYFRAMES_ENTRY_OWNER,
		.entry_owner = 3,
		.runtime_interp_head = 632,
		.interp_threads = 7344,
		.tstate_next = 8,
		.tstate_thread_id = 152,
		.tstate_frame = 72,
		.frame_code = 0,
		.frame_previous = 8,
		.frame_instr = 56,
		.frame_entry = 70,
		.ob_type = 8,
		.co_filename = 112,
		.co_name = 120,
		.co_qualname = 128,
		.co_firstlineno = 68,
		.co_linetable = 136,
		.co_code_adaptive = 200,
		.lines = PYFRAMES_LOCTABLE,
		.str_length = 16,
		.str_state = 32,
		.str_ascii_size = 40,
		.str_compact_size = 56,
		.bytes_size = 16,
		.bytes_data = 32,
	},
};

int pyframes__layout(unsigned major, unsigned minor, struct pyframes_layout *out)
{
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i].major == major && layouts[i].minor == minor) {
			*out = layouts[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

static uint64_t get64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* Offsets in _Py_DebugOffsets (3.13), from Include/internal/pycore_runtime.h. */
enum {
	DO_VERSION = 8,
	DO_FREE_THREADED = 16,
	DO_INTERP_HEAD = 40,
	DO_THREADS_HEAD = 72,
	DO_TSTATE_NEXT = 168,
	DO_TSTATE_CURRENT_FRAME = 184,
	DO_TSTATE_THREAD_ID = 192,
	DO_FRAME_PREVIOUS = 232,
	DO_FRAME_EXECUTABLE = 240,
	DO_FRAME_INSTR_PTR = 248,
	DO_FRAME_OWNER = 264,
	DO_CODE_FILENAME = 280,
	DO_CODE_NAME = 288,
	DO_CODE_QUALNAME = 296,
	DO_CODE_LINETABLE = 304,
	DO_CODE_FIRSTLINENO = 312,
	DO_CODE_ADAPTIVE = 344,
	DO_OB_TYPE = 360,
	DO_BYTES_SIZE = 520,
	DO_BYTES_DATA = 528,
	DO_STR_STATE = 544,
	DO_STR_LENGTH = 552,
	DO_STR_ASCII_SIZE = 560,
};

/* Structures are small: an offset past this is not one. */
#define OFF_MAX 0xffffu

static int get_off(const uint8_t *b, size_t off, uint32_t *out)
{
	uint64_t v = get64(b, off);

	if (v > OFF_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int pyframes__layout_debug(const uint8_t *buf, size_t len, struct pyframes_layout *out)
{
	static const struct {
		size_t at;
		size_t field;
	} fields[] = {
#define F(at, f) { at, offsetof(struct pyframes_layout, f) }
		F(DO_INTERP_HEAD, runtime_interp_head),
		F(DO_THREADS_HEAD, interp_threads),
		F(DO_TSTATE_NEXT, tstate_next),
		F(DO_TSTATE_CURRENT_FRAME, tstate_frame),
		F(DO_TSTATE_THREAD_ID, tstate_thread_id),
		F(DO_FRAME_PREVIOUS, frame_previous),
		F(DO_FRAME_EXECUTABLE, frame_code),
		F(DO_FRAME_INSTR_PTR, frame_instr),
		F(DO_FRAME_OWNER, frame_entry),
		F(DO_CODE_FILENAME, co_filename),
		F(DO_CODE_NAME, co_name),
		F(DO_CODE_QUALNAME, co_qualname),
		F(DO_CODE_LINETABLE, co_linetable),
		F(DO_CODE_FIRSTLINENO, co_firstlineno),
		F(DO_CODE_ADAPTIVE, co_code_adaptive),
		F(DO_OB_TYPE, ob_type),
		F(DO_BYTES_SIZE, bytes_size),
		F(DO_BYTES_DATA, bytes_data),
		F(DO_STR_STATE, str_state),
		F(DO_STR_LENGTH, str_length),
		F(DO_STR_ASCII_SIZE, str_ascii_size),
#undef F
	};
	struct pyframes_layout l;
	uint64_t version;
	size_t i;

	if (len < PYFRAMES_DEBUG_OFFSETS_SIZE || memcmp(buf, "xdebugpy", 8) != 0)
		return -EINVAL;
	version = get64(buf, DO_VERSION);
	if ((version >> 24) != 3)
		return -EINVAL;
	/* Its layout changed in 3.14 (more fields, in the middle): only 3.13's is read. */
	if (((version >> 16) & 0xff) != 13)
		return -ENOTSUP;
	if (get64(buf, DO_FREE_THREADED))
		return -EINVAL; /* another object layout altogether */
	if (pyframes__layout(3, 13, &l))
		return -ENOTSUP;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (get_off(buf, fields[i].at, (uint32_t *)((char *)&l + fields[i].field)))
			return -EINVAL;
	/* PyCompactUnicodeObject: PyASCIIObject, then utf8_length and utf8. */
	l.str_compact_size = l.str_ascii_size + 16;
	*out = l;
	return 0;
}

/* 3.11+: Objects/locations.md. Unsigned varints of 6-bit groups, bit 6 set on all but the last. */
struct cursor {
	const uint8_t *p, *end;
	int bad;
};

static uint32_t next_byte(struct cursor *c)
{
	if (c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	return *c->p++;
}

static uint64_t varint(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint32_t b;

	do {
		b = next_byte(c);
		if (shift < 60)
			v |= (uint64_t)(b & 63) << shift;
		shift += 6;
	} while ((b & 64) && !c->bad);
	return v;
}

static int64_t svarint(struct cursor *c)
{
	uint64_t v = varint(c);

	return v & 1 ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

static int loctable_line(const uint8_t *tab, size_t len, int firstlineno, uint64_t offset)
{
	struct cursor c = { tab, tab + len, 0 };
	uint64_t unit = offset / 2, addr = 0;
	int64_t line = firstlineno;

	while (c.p < c.end && !c.bad) {
		uint32_t first = next_byte(&c), code, n;
		int has_line = 1;

		if (!(first & 0x80))
			return 0; /* not at the start of an entry: a corrupt table */
		code = (first >> 3) & 15;
		n = (first & 7) + 1;
		if (code == 15) {
			has_line = 0;
		} else if (code == 14) {
			line += svarint(&c);
			varint(&c); /* end line delta, start column + 1, end column + 1 */
			varint(&c);
			varint(&c);
		} else if (code == 13) {
			line += svarint(&c);
		} else if (code >= 10) {
			line += code - 10;
			next_byte(&c);
			next_byte(&c);
		} else {
			next_byte(&c);
		}
		if (c.bad)
			return 0;
		if (unit >= addr && unit < addr + n)
			return has_line && line > 0 && line <= INT32_MAX ? (int)line : 0;
		addr += n;
		/* A line that wanders off is a corrupt table; stop before it overflows. */
		if (line < -(int64_t)INT32_MAX || line > INT32_MAX)
			return 0;
	}
	return 0;
}

/* 3.10: Objects/lnotab_notes.txt of 3.10. */
static int linetable_line(const uint8_t *tab, size_t len, int firstlineno, uint64_t offset)
{
	uint64_t start = 0, end = 0;
	int64_t line = firstlineno;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		int8_t ld = (int8_t)tab[i + 1];
		int has = ld != -128;

		start = end;
		end += tab[i];
		if (has)
			line += ld;
		if (offset >= start && offset < end)
			return has && line > 0 && line <= INT32_MAX ? (int)line : 0;
	}
	return 0;
}

/* 3.8-3.9: PyCode_Addr2Line. */
static int lnotab_line(const uint8_t *tab, size_t len, int firstlineno, uint64_t offset)
{
	uint64_t addr = 0;
	int64_t line = firstlineno;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > offset)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line > 0 && line <= INT32_MAX ? (int)line : 0;
}

int pyframes__line(enum pyframes_lines fmt, const uint8_t *tab, size_t len, int firstlineno, uint64_t offset)
{
	static const uint8_t none[1];

	if (!tab) { /* no table: an empty one (NULL + 0 is undefined) */
		tab = none;
		len = 0;
	}
	switch (fmt) {
	case PYFRAMES_LNOTAB:
		return lnotab_line(tab, len, firstlineno, offset);
	case PYFRAMES_LINETABLE:
		return linetable_line(tab, len, firstlineno, offset);
	case PYFRAMES_LOCTABLE:
		return loctable_line(tab, len, firstlineno, offset);
	}
	return 0;
}

/*
 * Append code point 'cp' as UTF-8. A surrogate, one out of range, and NUL (which would end the name
 * early in every C string that carries it) become U+FFFD.
 */
static size_t put_utf8(char *out, size_t room, uint32_t cp)
{
	if (!cp || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80 && room >= 1) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800 && room >= 2) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 63));
		return 2;
	}
	if (cp >= 0x800 && cp < 0x10000 && room >= 3) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 63));
		out[2] = (char)(0x80 | (cp & 63));
		return 3;
	}
	if (cp >= 0x10000 && room >= 4) {
		out[0] = (char)(0xf0 | cp >> 18);
		out[1] = (char)(0x80 | ((cp >> 12) & 63));
		out[2] = (char)(0x80 | ((cp >> 6) & 63));
		out[3] = (char)(0x80 | (cp & 63));
		return 4;
	}
	return 0; /* no room: the string is cut here */
}

int pyframes__str(const struct pyframes_layout *l, pyframes_read_fn read, void *ctx, uint64_t addr, char *out,
		  size_t size)
{
	uint8_t hdr[128], chars[4 * PYFRAMES_STR_MAX];
	uint64_t length, data;
	uint32_t state, kind, i, cp;
	size_t n = 0, want, k;
	int err;

	if (!size)
		return -EINVAL;
	out[0] = 0;
	if (l->str_length + 8 > sizeof(hdr) || l->str_state + 4 > sizeof(hdr) ||
	    l->str_compact_size > sizeof(hdr) || l->str_ascii_size > l->str_compact_size)
		return -EINVAL;
	if (!addr)
		return -EINVAL;
	if ((err = read(ctx, addr, hdr, l->str_state + 4)))
		return err;
	memcpy(&length, hdr + l->str_length, sizeof(length));
	memcpy(&state, hdr + l->str_state, sizeof(state));
	kind = (state >> 2) & 7;
	if (!(state & (1u << 5))) /* not compact: its characters are elsewhere */
		return -EINVAL;
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	if (state & (1u << 6) && kind != 1)
		return -EINVAL;
	if (length > ((uint64_t)1 << 40))
		return -EINVAL;
	data = addr + (state & (1u << 6) ? l->str_ascii_size : l->str_compact_size);
	/* Enough characters to fill 'out', at most. */
	want = length < PYFRAMES_STR_MAX ? (size_t)length : PYFRAMES_STR_MAX;
	if (want && (err = read(ctx, data, chars, want * kind)))
		return err;
	for (i = 0; i < want; i++) {
		if (kind == 1) {
			cp = chars[i];
		} else if (kind == 2) {
			uint16_t v;

			memcpy(&v, chars + 2 * i, 2);
			cp = v;
		} else {
			memcpy(&cp, chars + 4 * i, 4);
		}
		if (state & (1u << 6) && cp >= 0x80)
			return -EINVAL; /* "ASCII" that is not */
		k = put_utf8(out + n, size - 1 - n, cp);
		if (!k)
			break;
		n += k;
	}
	out[n] = 0;
	return (int)n;
}

/* The largest offset a layout reads in a code object, plus what it reads there. */
static uint32_t code_bytes(const struct pyframes_layout *l)
{
	uint32_t m = l->ob_type + 8, f[] = { l->co_filename + 8, l->co_name + 8, l->co_qualname + 8,
					     l->co_firstlineno + 4, l->co_linetable + 8 };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i] > m)
			m = f[i];
	return m;
}

int pyframes__read_code(const struct pyframes_layout *l, pyframes_read_fn read, void *ctx, uint64_t code_type,
			uint64_t code, struct pyframes_code *out)
{
	uint8_t buf[512], bhdr[64];
	uint64_t type, name, file, table;
	uint64_t tlen;
	uint32_t need = code_bytes(l);
	int32_t first;
	int err;

	memset(out, 0, sizeof(*out));
	if (!code || need > sizeof(buf) || l->bytes_size + 8 > sizeof(bhdr) || l->bytes_data > sizeof(bhdr))
		return -EINVAL;
	if ((err = read(ctx, code, buf, need)))
		return err;
	memcpy(&type, buf + l->ob_type, 8);
	if (type != code_type)
		return -EINVAL;
	memcpy(&name, buf + (l->co_qualname ? l->co_qualname : l->co_name), 8);
	memcpy(&file, buf + l->co_filename, 8);
	memcpy(&first, buf + l->co_firstlineno, 4);
	memcpy(&table, buf + l->co_linetable, 8);
	out->firstlineno = first;
	if ((err = pyframes__str(l, read, ctx, name, out->name, sizeof(out->name))) < 0)
		return err;
	if ((err = pyframes__str(l, read, ctx, file, out->filename, sizeof(out->filename))) < 0)
		return err;
	/* The line table: a bytes object. Without one the frames have no line, not no name. */
	if (!table || read(ctx, table, bhdr, l->bytes_data))
		return 0;
	memcpy(&tlen, bhdr + l->bytes_size, 8);
	if (!tlen || tlen > PYFRAMES_TABLE_MAX)
		return 0;
	out->table = malloc(tlen);
	if (!out->table)
		return -ENOMEM;
	if (read(ctx, table + l->bytes_data, out->table, tlen)) {
		free(out->table);
		out->table = NULL;
		return 0;
	}
	out->table_len = tlen;
	return 0;
}

void pyframes__code_release(struct pyframes_code *c)
{
	free(c->table);
	c->table = NULL;
	c->table_len = 0;
}
