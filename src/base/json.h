/* SPDX-License-Identifier: MIT */
/*
 * json - a small streaming JSON writer: it places commas and escapes strings, nothing more.
 *
 *   struct json j; json__init(&j, out);
 *   json__obj(&j); json__key(&j, "rows"); json__arr(&j); ... json__end(&j); json__end(&j);
 *
 * Strings are written as UTF-8 with control characters escaped (C0, DEL, C1 and the bidi controls of
 * utf8__cp_unsafe(), so the file is safe to show on a terminal too); bytes that are not valid UTF-8
 * become U+FFFD, so the output is always valid JSON. Nesting is limited to JSON_MAX_DEPTH. The struct is
 * embedded by the caller and borrows 'out'; write errors show in ferror(out).
 */
#ifndef SCORCH_JSON_H
#define SCORCH_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	int count[JSON_MAX_DEPTH];  /* values written at each level */
	char close[JSON_MAX_DEPTH]; /* '}' or ']' */
	int after_key;
	int pretty;
};

void json__init(struct json *j, FILE *out, int pretty);
void json__obj(struct json *j);
void json__arr(struct json *j);
void json__end(struct json *j); /* closes the innermost object or array */
void json__key(struct json *j, const char *key);
void json__str(struct json *j, const char *s);
void json__strn(struct json *j, const char *s, size_t len);
void json__u64(struct json *j, uint64_t v);
void json__double(struct json *j, double v, int decimals);
/* v with 6 significant digits ("%.6g": 2, 0.0125, 3.2e-17); null when not finite. */
void json__g(struct json *j, double v);
void json__bool(struct json *j, int v);
void json__null(struct json *j);

#endif
