// SPDX-License-Identifier: MIT
#include <string.h>

#include "utf8.h"

size_t utf8__seq(const unsigned char *s, size_t n, uint32_t *cpp)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80) {
		*cpp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return len;
}

int utf8__cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The length of the character at s (at most n bytes) and whether to print it as it is. */
static size_t next_char(const unsigned char *s, size_t n, int *safe)
{
	uint32_t cp;
	size_t len = utf8__seq(s, n, &cp);

	*safe = len && !utf8__cp_unsafe(cp);
	return len ? len : 1;
}

char *utf8__printable(const char *s, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0;

	while (i < n) {
		int safe;
		size_t len = next_char(u + i, n - i, &safe);
		size_t out = safe ? len : 1;

		if (o + out + 1 > size)
			break;
		if (safe)
			memcpy(buf + o, u + i, len);
		else
			buf[o] = '?';
		o += out;
		i += len;
	}
	buf[o] = '\0';
	return buf;
}

void utf8__fputs(const char *s, FILE *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		int safe;
		size_t len = next_char(u + i, n - i, &safe);

		if (safe)
			fwrite(u + i, 1, len, out);
		else
			fputc('?', out);
		i += len;
	}
}
