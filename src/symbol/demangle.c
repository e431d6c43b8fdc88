// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "buf.h"
#include "demangle.h"

/*
 * The output: a buffer bounded to DEMANGLE_MAX_OUTPUT bytes (buf.h). Once it overflows, every append
 * fails and the result is rejected.
 */
static void put(struct buf *o, const char *s, size_t n)
{
	buf__put(o, s, n);
}

static void puts_(struct buf *o, const char *s)
{
	buf__puts(o, s);
}

static struct buf *out_new(void)
{
	struct buf *o = malloc(sizeof(*o));

	if (o)
		buf__init(o, DEMANGLE_MAX_OUTPUT);
	return o;
}

static void out_free(struct buf *o)
{
	if (o)
		buf__release(o);
	free(o);
}

static char *finish(struct buf *o)
{
	char *r;

	if (o->err == -E2BIG) {
		errno = EINVAL;
		return NULL;
	}
	if (o->err) {
		errno = ENOMEM;
		return NULL;
	}
	r = strdup(buf__str(o));
	if (!r)
		errno = ENOMEM;
	return r;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Append a code point as UTF-8. */
static void put_utf8(struct buf *o, uint32_t c)
{
	char b[4];

	if (c < 0x80) {
		b[0] = (char)c;
		put(o, b, 1);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		put(o, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		put(o, b, 3);
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		put(o, b, 4);
	}
}

/* Decode one legacy component: "$LT$" escapes, ".." for "::". Returns 0 or -1 on a bad escape. */
static int legacy_component(struct buf *o, const char *s, size_t n)
{
	static const struct {
		const char *esc, *text;
	} escapes[] = {
		{ "$SP$", "@" }, { "$BP$", "*" }, { "$RF$", "&" }, { "$LT$", "<" },
		{ "$GT$", ">" }, { "$LP$", "(" }, { "$RP$", ")" }, { "$C$", "," },
	};
	size_t i = 0, k;

	/* A leading "_$" protects a component that starts with an escape. */
	if (n >= 2 && s[0] == '_' && s[1] == '$')
		i = 1;
	while (i < n) {
		if (s[i] == '$') {
			const char *end = memchr(s + i + 1, '$', n - i - 1);
			size_t len;

			if (!end)
				return -1;
			len = (size_t)(end - (s + i)) + 1;
			for (k = 0; k < sizeof(escapes) / sizeof(escapes[0]); k++)
				if (strlen(escapes[k].esc) == len && memcmp(s + i, escapes[k].esc, len) == 0)
					break;
			if (k < sizeof(escapes) / sizeof(escapes[0])) {
				puts_(o, escapes[k].text);
			} else if (len > 3 && len <= 10 && s[i + 1] == 'u' && is_hex(s + i + 2, len - 3)) {
				char hex[9] = { 0 };
				unsigned long c;

				memcpy(hex, s + i + 2, len - 3);
				c = strtoul(hex, NULL, 16);
				if (c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
					return -1;
				put_utf8(o, (uint32_t)c);
			} else {
				return -1;
			}
			i += len;
		} else if (s[i] == '.' && i + 1 < n && s[i + 1] == '.') {
			puts_(o, "::");
			i += 2;
		} else {
			put(o, s + i, 1);
			i++;
		}
	}
	return 0;
}

char *demangle__rust_legacy(const char *name)
{
	struct buf *o;
	const char *p;
	size_t total = strlen(name), nr = 0;
	char *r;

	if (total > DEMANGLE_MAX_INPUT || strncmp(name, "_ZN", 3) != 0) {
		errno = EINVAL;
		return NULL;
	}
	o = out_new();
	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	p = name + 3;
	while (*p && *p != 'E') {
		size_t len = 0;

		if (!isdigit((unsigned char)*p) || *p == '0')
			goto bad;
		while (isdigit((unsigned char)*p)) {
			len = len * 10 + (size_t)(*p - '0');
			if (len > total)
				goto bad;
			p++;
		}
		if (len > strlen(p))
			goto bad;
		/* The last component "h" + 16 hex digits is the hash: dropped. */
		if (len == 17 && p[0] == 'h' && is_hex(p + 1, 16) && p[17] == 'E') {
			p += len;
			break;
		}
		if (nr++)
			puts_(o, "::");
		if (legacy_component(o, p, len))
			goto bad;
		p += len;
	}
	if (*p != 'E' || p[1] != '\0' || !nr)
		goto bad;
	r = finish(o);
	out_free(o);
	return r;
bad:
	out_free(o);
	errno = EINVAL;
	return NULL;
}

/* Whether a _ZN name is a Rust legacy one: its last component is a 17h<16 hex> hash. */
static int is_rust_legacy(const char *name)
{
	size_t n = strlen(name);

	return n > 3 + 20 && strncmp(name, "_ZN", 3) == 0 && name[n - 1] == 'E' &&
	       memcmp(name + n - 20, "17h", 3) == 0 && is_hex(name + n - 17, 16);
}

/* A C++ demangling in progress: the output so far, and where to go when it grows too long. */
struct cxx_out {
	struct buf o;
	jmp_buf too_long;
};

static void cxx_put(const char *s, size_t n, void *opaque)
{
	struct cxx_out *c = opaque;

	put(&c->o, s, n);
	if (c->o.err)
		longjmp(c->too_long, 1);
}

/*
 * C++ through libiberty's streaming demangler (what __cxa_demangle and c++filt use, same output).
 * Not __cxa_demangle itself: it builds the whole name in memory, and a few hundred bytes of nested
 * substitutions expand to gigabytes (13 s and 2.2 GB for a 270-byte symbol). The callback form works
 * on the stack without malloc, so leaving it by longjmp once DEMANGLE_MAX_OUTPUT is reached (or our
 * buffer could not grow) is safe: the only memory to free is our buffer, freed after the jump.
 */
static char *cxx(const char *name)
{
	struct cxx_out *c = malloc(sizeof(*c));
	char *r;

	if (!c)
		return NULL;
	buf__init(&c->o, DEMANGLE_MAX_OUTPUT);
	if (setjmp(c->too_long)) {
		int err = c->o.err;

		buf__release(&c->o);
		free(c);
		errno = err == -E2BIG ? E2BIG : ENOMEM;
		return NULL;
	}
	if (!cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_TYPES, cxx_put, c) || !c->o.len) {
		buf__release(&c->o);
		free(c);
		errno = EINVAL;
		return NULL;
	}
	r = finish(&c->o);
	buf__release(&c->o);
	free(c);
	return r;
}

char *demangle__name(const char *name)
{
	char *r;

	if (!name || strlen(name) > DEMANGLE_MAX_INPUT) {
		errno = EINVAL;
		return NULL;
	}
	if (name[0] == '_' && name[1] == 'R')
		return demangle__rust_v0(name);
	if (is_rust_legacy(name)) {
		r = demangle__rust_legacy(name);
		if (r)
			return r;
	}
	if (name[0] != '_' || name[1] != 'Z') {
		errno = EINVAL;
		return NULL;
	}
	return cxx(name);
}

/* --- Rust v0 (RFC 2603) ------------------------------------------------------------------------- */

#define V0_MAX_DEPTH 64

struct v0 {
	const char *sym; /* after "_R" */
	size_t len, pos;
	int depth;
	int bad;
	struct buf *o;
};

static int v0_peek(struct v0 *p)
{
	return p->pos < p->len ? (unsigned char)p->sym[p->pos] : 0;
}

static int v0_eat(struct v0 *p, char c)
{
	if (v0_peek(p) == (unsigned char)c) {
		p->pos++;
		return 1;
	}
	return 0;
}

/* base-62-number = {0-9a-zA-Z} "_": "_" is 0, otherwise the digits' value plus one. */
static uint64_t v0_base62(struct v0 *p)
{
	uint64_t v = 0;
	int c;

	if (v0_eat(p, '_'))
		return 0;
	while ((c = v0_peek(p)) && c != '_') {
		uint64_t d;

		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'z')
			d = (uint64_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'Z')
			d = (uint64_t)(c - 'A' + 36);
		else
			break;
		if (v > (UINT64_MAX - d) / 62) {
			p->bad = 1;
			return 0;
		}
		v = v * 62 + d;
		p->pos++;
	}
	if (!v0_eat(p, '_') || v == UINT64_MAX) {
		p->bad = 1;
		return 0;
	}
	return v + 1;
}

static uint64_t v0_opt_disambiguator(struct v0 *p)
{
	return v0_eat(p, 's') ? v0_base62(p) + 1 : 0;
}

static uint64_t v0_decimal(struct v0 *p)
{
	uint64_t v = 0;
	int c, n = 0;

	if (v0_peek(p) == '0') {
		p->pos++;
		return 0;
	}
	while ((c = v0_peek(p)) >= '0' && c <= '9') {
		if (++n > 18) {
			p->bad = 1;
			return 0;
		}
		v = v * 10 + (uint64_t)(c - '0');
		p->pos++;
	}
	if (!n)
		p->bad = 1;
	return v;
}

/* undisambiguated-identifier = ["u"] decimal ["_"] bytes. Punycode ("u") is not decoded: rejected. */
static void v0_ident(struct v0 *p, const char **s, size_t *n)
{
	uint64_t len;

	*s = "";
	*n = 0;
	if (v0_eat(p, 'u')) {
		p->bad = 1;
		return;
	}
	len = v0_decimal(p);
	v0_eat(p, '_');
	if (p->bad || len > p->len - p->pos) {
		p->bad = 1;
		return;
	}
	*s = p->sym + p->pos;
	*n = (size_t)len;
	p->pos += (size_t)len;
}

static void v0_path(struct v0 *p, int in_value);
static void v0_type(struct v0 *p);

/* Items up to the closing 'E', printed by 'item' and separated by ", ". Returns how many there were. */
static int v0_list(struct v0 *p, void (*item)(struct v0 *p))
{
	int n = 0;

	while (!p->bad && !v0_eat(p, 'E')) {
		if (n++)
			puts_(p->o, ", ");
		item(p);
		if (p->pos >= p->len)
			p->bad = 1;
	}
	return n;
}

/* Run 'fn' at a back reference, then come back. */
static void v0_backref(struct v0 *p, void (*fn)(struct v0 *, int), int arg)
{
	size_t start = p->pos - 1, saved;
	uint64_t target = v0_base62(p);

	if (p->bad || target >= start || p->depth >= V0_MAX_DEPTH) {
		p->bad = 1;
		return;
	}
	saved = p->pos;
	p->pos = (size_t)target;
	p->depth++;
	fn(p, arg);
	p->depth--;
	p->pos = saved;
}

static void v0_type_arg(struct v0 *p, int unused)
{
	(void)unused;
	v0_type(p);
}

static void v0_lifetime(struct v0 *p)
{
	v0_base62(p);
	puts_(p->o, "'_");
}

static void v0_const(struct v0 *p, int unused)
{
	int c, neg = 0;
	size_t start;
	uint64_t v = 0;

	(void)unused;
	if (v0_eat(p, 'p')) {
		puts_(p->o, "_");
		return;
	}
	if (v0_eat(p, 'B')) {
		v0_backref(p, v0_const, 0);
		return;
	}
	c = v0_peek(p);
	p->pos++; /* the type: a basic type letter */
	if (v0_eat(p, 'n'))
		neg = 1;
	start = p->pos;
	while (isxdigit(v0_peek(p)))
		p->pos++;
	if (!v0_eat(p, '_')) {
		p->bad = 1;
		return;
	}
	if (p->pos - 1 - start > 16) {
		puts_(p->o, "0x");
		put(p->o, p->sym + start, p->pos - 1 - start);
		return;
	}
	for (; start < p->pos - 1; start++) {
		int d = p->sym[start];

		v = v * 16 + (uint64_t)(isdigit(d) ? d - '0' : (d | 0x20) - 'a' + 10);
	}
	if (c == 'b') {
		puts_(p->o, v ? "true" : "false");
	} else if (c == 'c' && v < 0x80 && isprint((int)v)) {
		char q[4] = { '\'', (char)v, '\'', 0 };

		puts_(p->o, q);
	} else {
		char num[32];

		snprintf(num, sizeof(num), "%s%llu", neg ? "-" : "", (unsigned long long)v);
		puts_(p->o, num);
	}
}

static void v0_generic_arg(struct v0 *p)
{
	if (v0_eat(p, 'L'))
		v0_lifetime(p);
	else if (v0_eat(p, 'K'))
		v0_const(p, 0);
	else
		v0_type(p);
}

static const char *v0_basic(int c)
{
	switch (c) {
	case 'a':
		return "i8";
	case 'b':
		return "bool";
	case 'c':
		return "char";
	case 'd':
		return "f64";
	case 'e':
		return "str";
	case 'f':
		return "f32";
	case 'h':
		return "u8";
	case 'i':
		return "isize";
	case 'j':
		return "usize";
	case 'l':
		return "i32";
	case 'm':
		return "u32";
	case 'n':
		return "i128";
	case 'o':
		return "u128";
	case 's':
		return "i16";
	case 't':
		return "u16";
	case 'u':
		return "()";
	case 'v':
		return "...";
	case 'x':
		return "i64";
	case 'y':
		return "u64";
	case 'z':
		return "!";
	case 'p':
		return "_";
	default:
		return NULL;
	}
}

static void v0_type(struct v0 *p)
{
	int c = v0_peek(p), n = 0;
	const char *basic = c ? v0_basic(c) : NULL;

	if (p->bad || ++p->depth > V0_MAX_DEPTH) {
		p->bad = 1;
		return;
	}
	if (basic) {
		p->pos++;
		puts_(p->o, basic);
	} else if (v0_eat(p, 'R') || v0_eat(p, 'Q')) {
		puts_(p->o, p->sym[p->pos - 1] == 'R' ? "&" : "&mut ");
		if (v0_eat(p, 'L')) {
			uint64_t l = v0_base62(p);

			if (l)
				puts_(p->o, "'_ ");
		}
		v0_type(p);
	} else if (v0_eat(p, 'P') || v0_eat(p, 'O')) {
		puts_(p->o, p->sym[p->pos - 1] == 'P' ? "*const " : "*mut ");
		v0_type(p);
	} else if (v0_eat(p, 'A') || v0_eat(p, 'S')) {
		int array = p->sym[p->pos - 1] == 'A';

		puts_(p->o, "[");
		v0_type(p);
		if (array) {
			puts_(p->o, "; ");
			v0_const(p, 0);
		}
		puts_(p->o, "]");
	} else if (v0_eat(p, 'T')) {
		puts_(p->o, "(");
		n = v0_list(p, v0_type);
		if (n == 1)
			puts_(p->o, ",");
		puts_(p->o, ")");
	} else if (v0_eat(p, 'F')) {
		if (v0_eat(p, 'G'))
			v0_base62(p);
		if (v0_eat(p, 'U'))
			puts_(p->o, "unsafe ");
		if (v0_eat(p, 'K')) {
			puts_(p->o, "extern \"");
			if (v0_eat(p, 'C')) {
				puts_(p->o, "C");
			} else {
				const char *s;
				size_t len, i;

				v0_ident(p, &s, &len);
				for (i = 0; i < len; i++)
					put(p->o, s[i] == '_' ? "-" : s + i, 1);
			}
			puts_(p->o, "\" ");
		}
		puts_(p->o, "fn(");
		v0_list(p, v0_type);
		puts_(p->o, ")");
		if (v0_peek(p) == 'u') {
			p->pos++;
		} else {
			puts_(p->o, " -> ");
			v0_type(p);
		}
	} else if (v0_eat(p, 'D')) {
		puts_(p->o, "dyn ");
		if (v0_eat(p, 'G'))
			v0_base62(p);
		while (!p->bad && !v0_eat(p, 'E')) {
			if (n++)
				puts_(p->o, " + ");
			v0_path(p, 0);
			while (!p->bad && v0_eat(p, 'p')) {
				const char *s;
				size_t len;

				v0_ident(p, &s, &len);
				puts_(p->o, "<");
				put(p->o, s, len);
				puts_(p->o, " = ");
				v0_type(p);
				puts_(p->o, ">");
			}
			if (p->pos >= p->len)
				p->bad = 1;
		}
		if (v0_eat(p, 'L'))
			v0_base62(p);
	} else if (v0_eat(p, 'B')) {
		v0_backref(p, v0_type_arg, 0);
	} else {
		v0_path(p, 0);
	}
	p->depth--;
}

static void v0_path(struct v0 *p, int in_value)
{
	int c = v0_peek(p);

	if (p->bad || ++p->depth > V0_MAX_DEPTH || !c) {
		p->bad = 1;
		return;
	}
	p->pos++;
	switch (c) {
	case 'C': {
		const char *s;
		size_t n;

		v0_opt_disambiguator(p);
		v0_ident(p, &s, &n);
		put(p->o, s, n);
		break;
	}
	case 'N': {
		int ns = v0_peek(p);
		uint64_t dis;
		const char *s;
		size_t n;

		p->pos++;
		if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z'))) {
			p->bad = 1;
			break;
		}
		v0_path(p, in_value);
		dis = v0_opt_disambiguator(p);
		v0_ident(p, &s, &n);
		if (ns >= 'A' && ns <= 'Z') {
			char num[32];

			/* A special namespace: closures and shims are shown as {closure#N}. */
			puts_(p->o, "::{");
			puts_(p->o, ns == 'C' ? "closure" : ns == 'S' ? "shim" : "?");
			if (n) {
				puts_(p->o, ":");
				put(p->o, s, n);
			}
			snprintf(num, sizeof(num), "#%llu}", (unsigned long long)dis);
			puts_(p->o, num);
		} else if (n) {
			puts_(p->o, "::");
			put(p->o, s, n);
		}
		break;
	}
	case 'M':
	case 'X':
	case 'Y': {
		size_t saved_len;

		/* The impl path says where the impl block is: parsed, not shown. */
		if (c != 'Y') {
			saved_len = p->o->len;
			v0_opt_disambiguator(p);
			v0_path(p, 0);
			buf__truncate(p->o, saved_len);
		}
		puts_(p->o, "<");
		v0_type(p);
		if (c != 'M') {
			puts_(p->o, " as ");
			v0_path(p, 0);
		}
		puts_(p->o, ">");
		break;
	}
	case 'I': {
		v0_path(p, in_value);
		puts_(p->o, in_value ? "::<" : "<");
		v0_list(p, v0_generic_arg);
		puts_(p->o, ">");
		break;
	}
	case 'B':
		v0_backref(p, v0_path, in_value);
		break;
	default:
		p->bad = 1;
	}
	p->depth--;
}

char *demangle__rust_v0(const char *name)
{
	struct v0 p = { 0 };
	char *r;

	if (!name || strncmp(name, "_R", 2) != 0 || strlen(name) > DEMANGLE_MAX_INPUT) {
		errno = EINVAL;
		return NULL;
	}
	p.o = out_new();
	if (!p.o) {
		errno = ENOMEM;
		return NULL;
	}
	p.sym = name + 2;
	p.len = strlen(p.sym);
	/* An optional encoding version (only 0 exists, written as nothing). */
	if (isdigit(v0_peek(&p)))
		p.bad = 1;
	v0_path(&p, 1);
	/* An optional instantiating crate follows; anything else after the path is an error. */
	if (!p.bad && p.pos < p.len && p.sym[p.pos] != '.') {
		size_t saved = p.o->len;

		v0_path(&p, 0);
		buf__truncate(p.o, saved);
	}
	/* rustc appends ".llvm.NNN" style suffixes; keep such a suffix verbatim. */
	if (!p.bad && p.pos < p.len && p.sym[p.pos] == '.')
		puts_(p.o, p.sym + p.pos), p.pos = p.len;
	if (p.bad || p.pos != p.len) {
		out_free(p.o);
		errno = EINVAL;
		return NULL;
	}
	r = finish(p.o);
	out_free(p.o);
	return r;
}
