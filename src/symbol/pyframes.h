/* SPDX-License-Identifier: MIT */
/*
 * pyframes - naming CPython frames from the memory of a live interpreter (3.8-3.13): where its
 * structures keep what a frame walk follows and what names a frame (a layout per version, from a table
 * derived from CPython's headers, or from 3.13 on from the interpreter's own _Py_DebugOffsets), and the
 * decoders of what a code object holds (its name and file as str objects, its line table).
 *
 * Everything read is the target's memory: untrusted. Reads go through a callback and are bounded; the
 * decoders take bytes and lengths and never read past them; strings come out as valid UTF-8. Nothing
 * here allocates except pyframes__read_code(), whose result the caller releases.
 *
 * Functions returning int return 0 or a negative errno: -EINVAL for bytes that are not what they
 * should be, -EFAULT for a read that failed, -ENOTSUP for a version not known.
 */
#ifndef SCORCH_PYFRAMES_H
#define SCORCH_PYFRAMES_H

#include <stddef.h>
#include <stdint.h>

/* The line table formats. */
enum pyframes_lines {
	PYFRAMES_LNOTAB = 1,    /* 3.8-3.9 co_lnotab: (byte offset delta, line delta) pairs */
	PYFRAMES_LINETABLE = 2, /* 3.10 co_linetable: (byte offset delta, line delta or -128) pairs */
	PYFRAMES_LOCTABLE = 3,  /* 3.11+ co_linetable: the location table, in code units */
};

/* How a walk finds frames (as scorch_abi.h's enum scorch_py_kind, which the recorder copies). */
enum pyframes_kind {
	PYFRAMES_FRAMEOBJ = 1, /* 3.8-3.10 */
	PYFRAMES_CFRAME = 2,   /* 3.11-3.12 */
	PYFRAMES_DIRECT = 3,   /* 3.13 */
};

enum pyframes_entry {
	PYFRAMES_ENTRY_NONE = 0,  /* every frame is a call of the evaluator */
	PYFRAMES_ENTRY_FLAG = 1,  /* 3.11 is_entry */
	PYFRAMES_ENTRY_OWNER = 2, /* 3.12+ owner == FRAME_OWNED_BY_CSTACK */
};

/* Offsets in bytes of one CPython version's structures. */
struct pyframes_layout {
	unsigned major, minor;
	/* the walk */
	enum pyframes_kind kind;
	enum pyframes_entry entry;
	uint32_t entry_owner;         /* FRAME_OWNED_BY_CSTACK */
	uint32_t runtime_interp_head; /* _PyRuntime.interpreters.head */
	uint32_t interp_threads;      /* PyInterpreterState: first PyThreadState */
	uint32_t tstate_next, tstate_thread_id, tstate_frame, cframe_current;
	uint32_t frame_code, frame_previous, frame_instr, frame_entry;
	/* code objects */
	uint32_t ob_type;
	uint32_t co_filename, co_name, co_qualname; /* co_qualname 0: none (before 3.11) */
	uint32_t co_firstlineno, co_linetable;      /* co_linetable is co_lnotab before 3.10 */
	uint32_t co_code_adaptive;                  /* 0 before 3.11 */
	enum pyframes_lines lines;
	/* str and bytes objects */
	uint32_t str_length, str_state, str_ascii_size, str_compact_size;
	uint32_t bytes_size, bytes_data;
};

/* The layout of CPython major.minor from the table (3.8-3.13). -ENOTSUP for another version. */
int pyframes__layout(unsigned major, unsigned minor, struct pyframes_layout *out);

/* Bytes of _Py_DebugOffsets (3.13) that pyframes__layout_debug() reads. */
#define PYFRAMES_DEBUG_OFFSETS_SIZE 584

/*
 * The layout from the _Py_DebugOffsets at the start of _PyRuntime ('len' bytes of it, 3.13+: cookie
 * "xdebugpy", then PY_VERSION_HEX). -EINVAL without the cookie, for a free-threaded build, or with an
 * offset out of reason; -ENOTSUP for a version whose _Py_DebugOffsets this does not know (3.14+).
 */
int pyframes__layout_debug(const uint8_t *buf, size_t len, struct pyframes_layout *out);

/*
 * The line of the instruction at 'offset' (bytes from the start of the code: f_lasti as a byte offset
 * before 3.11, the distance from co_code_adaptive from 3.11) in line table 'tab' of 'len' bytes, whose
 * code starts at line 'firstlineno'. Returns the line (> 0), or 0 when the table gives none.
 */
int pyframes__line(enum pyframes_lines fmt, const uint8_t *tab, size_t len, int firstlineno, uint64_t offset);

/* Reads 'len' bytes at 'addr' of the target into 'buf': 0, or a negative errno (all or nothing). */
typedef int (*pyframes_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Longest name or file name kept (bytes of UTF-8, without the NUL); longer ones are cut. */
#define PYFRAMES_STR_MAX 1023
/* Longest line table read; a longer one gives no lines. */
#define PYFRAMES_TABLE_MAX (256u << 10)

/*
 * Decode the str object of 'hdr_len' bytes of header 'hdr' (as read at its address 'addr') into 'out'
 * (size >= 1) as UTF-8, reading its characters through 'read'. Only compact strings (all names and
 * file names are) are read. Returns the bytes written (NUL not counted), or a negative errno.
 */
int pyframes__str(const struct pyframes_layout *l, pyframes_read_fn read, void *ctx, uint64_t addr, char *out,
		  size_t size);

/* What names the frames of one code object. */
struct pyframes_code {
	char name[PYFRAMES_STR_MAX + 1];     /* co_qualname, or co_name before 3.11 */
	char filename[PYFRAMES_STR_MAX + 1]; /* co_filename */
	int firstlineno;
	uint8_t *table; /* owned: the line table */
	size_t table_len;
};

/*
 * Read the code object at 'code': its type must be 'code_type' (the address of PyCode_Type). Fills
 * 'out' (release with pyframes__code_release()). -EINVAL when it is not a code object or its fields
 * make no sense, -EFAULT when a read failed, -ENOMEM.
 */
int pyframes__read_code(const struct pyframes_layout *l, pyframes_read_fn read, void *ctx, uint64_t code_type,
			uint64_t code, struct pyframes_code *out);
void pyframes__code_release(struct pyframes_code *c);

#endif
