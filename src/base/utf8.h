/* SPDX-License-Identifier: MIT */
/*
 * utf8 - validation of UTF-8 sequences, for the writers of text formats (JSON, SVG/XML), and the one
 * filter that every plain-text printer applies to the strings a target controls (comm, paths, symbol
 * and file names, profile meta) before they reach a terminal.
 */
#ifndef SCORCH_UTF8_H
#define SCORCH_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at s, of at most n bytes (n >= 1), and its code
 * point in *cp; 0 when the bytes are not well-formed UTF-8 (overlong forms, surrogates and code points
 * past U+10FFFF are not).
 */
size_t utf8__seq(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Whether a terminal could act on code point cp instead of showing it: C0 controls (newline, ESC,
 * BEL...), DEL, C1 controls (U+0080-U+009F: 0x9b is CSI), and the Unicode controls that reorder text or
 * break lines (bidi embeddings, overrides and isolates, U+2028, U+2029).
 */
int utf8__cp_unsafe(uint32_t cp);

/*
 * Copy string 's' into 'buf' (size >= 1 bytes, always NUL-terminated) for printing as text: each unsafe
 * character (utf8__cp_unsafe) and each byte that is not part of well-formed UTF-8 (a lone 0x9b, Latin-1)
 * becomes one '?'; the rest is copied unchanged. A string too long for 'buf' is cut on a character
 * boundary. Returns buf.
 */
char *utf8__printable(const char *s, char *buf, size_t size);

/* The same as utf8__printable() written to 'out', of any length; write errors show in ferror(out). */
void utf8__fputs(const char *s, FILE *out);

#endif
