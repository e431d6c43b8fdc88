// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void json__init(struct json *j, FILE *out, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
}

static void indent(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Before any value: a comma and indentation unless it follows a key. */
static void value(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0) {
		if (j->count[j->depth - 1]++)
			fputc(',', j->out);
		indent(j);
	}
}

static void open_container(struct json *j, char c)
{
	value(j);
	fputc(c, j->out);
	if (j->depth < JSON_MAX_DEPTH) {
		j->count[j->depth] = 0;
		j->close[j->depth] = c == '{' ? '}' : ']';
	}
	j->depth++;
}

void json__obj(struct json *j)
{
	open_container(j, '{');
}

void json__arr(struct json *j)
{
	open_container(j, '[');
}

void json__end(struct json *j)
{
	int lvl = j->depth - 1;

	if (lvl < 0)
		return;
	j->depth--;
	if (lvl < JSON_MAX_DEPTH && j->count[lvl])
		indent(j);
	fputc(lvl < JSON_MAX_DEPTH ? j->close[lvl] : '}', j->out);
	if (j->depth == 0 && j->pretty)
		fputc('\n', j->out);
}

static void write_str(struct json *j, const char *s, size_t len);

void json__key(struct json *j, const char *key)
{
	value(j);
	write_str(j, key, strlen(key));
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = 1;
}

static void write_str(struct json *j, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	fputc('"', j->out);
	while (i < len) {
		unsigned char c = u[i];

		if (c == '"' || c == '\\') {
			fputc('\\', j->out);
			fputc(c, j->out);
			i++;
		} else if (c < 0x20) {
			static const char *esc[] = {
				['\n'] = "\\n", ['\t'] = "\\t", ['\r'] = "\\r", ['\b'] = "\\b", ['\f'] = "\\f"
			};

			if (c < sizeof(esc) / sizeof(esc[0]) && esc[c])
				fputs(esc[c], j->out);
			else
				fprintf(j->out, "\\u%04x", c);
			i++;
		} else if ((n = utf8__seq(u + i, len - i, &cp))) {
			/* C1 and bidi controls are valid JSON, but act on a terminal that shows the file. */
			if (utf8__cp_unsafe(cp))
				fprintf(j->out, "\\u%04x", (unsigned)cp);
			else
				fwrite(u + i, 1, n, j->out);
			i += n;
		} else {
			fputs("\\ufffd", j->out);
			i++;
		}
	}
	fputc('"', j->out);
}

void json__strn(struct json *j, const char *s, size_t len)
{
	value(j);
	write_str(j, s, len);
}

void json__str(struct json *j, const char *s)
{
	json__strn(j, s, strlen(s));
}

void json__u64(struct json *j, uint64_t v)
{
	value(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json__double(struct json *j, double v, int decimals)
{
	value(j);
	if (!isfinite(v))
		fputs("null", j->out);
	else
		fprintf(j->out, "%.*f", decimals, v);
}

void json__g(struct json *j, double v)
{
	value(j);
	if (!isfinite(v))
		fputs("null", j->out);
	else
		fprintf(j->out, "%.6g", v);
}

void json__bool(struct json *j, int v)
{
	value(j);
	fputs(v ? "true" : "false", j->out);
}

void json__null(struct json *j)
{
	value(j);
	fputs("null", j->out);
}
