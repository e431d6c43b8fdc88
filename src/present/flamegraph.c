// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "flamegraph.h"
#include "utf8.h"
#include "view.h"
#include "idxmap.h"

#define FRAME_H 16
#define FONT_SIZE 12
#define FONT_W 0.59 /* average glyph width as a share of the font size */
#define PAD_X 10
#define PAD_TOP (FONT_SIZE * 3 + 10)
#define PAD_BOTTOM (FONT_SIZE * 2 + 10)

struct node {
	uint32_t parent, name, module, kind;
	uint32_t depth;
	uint64_t value, value2;            /* 'count' and 'count_after' summed over the node's stacks */
	uint32_t first_child, nr_children; /* into 'children', after layout */
};

struct flamegraph {
	struct flamegraph_opts o;
	char *title, *subtitle, *unit; /* owned copies */
	char **strs;                   /* owned */
	uint32_t nr_strs;
	size_t cap_strs;
	struct idxmap str_idx;
	struct node *nodes;
	uint32_t nr_nodes;
	size_t cap_nodes;
	struct idxmap node_idx;
	uint32_t *children;
};

struct node_key {
	uint32_t parent, name, module, kind;
};

static int str_eq(const void *k, uint32_t id, void *ctx)
{
	const struct flamegraph *fg = ctx;

	return strcmp(fg->strs[id], k) == 0;
}

static uint32_t intern(struct flamegraph *fg, const char *s)
{
	uint64_t h = idxmap__hash_bytes(s, strlen(s), 3);
	uint32_t id = idxmap__find(&fg->str_idx, h, s, str_eq, fg);

	if (id != IDXMAP_NONE)
		return id;
	if (array__grow(&fg->strs, &fg->cap_strs, (size_t)fg->nr_strs + 1, sizeof(*fg->strs)))
		return IDXMAP_NONE;
	fg->strs[fg->nr_strs] = strdup(s);
	if (!fg->strs[fg->nr_strs] || idxmap__insert(&fg->str_idx, h, fg->nr_strs)) {
		free(fg->strs[fg->nr_strs]);
		return IDXMAP_NONE;
	}
	return fg->nr_strs++;
}

static int node_eq(const void *k, uint32_t id, void *ctx)
{
	const struct node_key *key = k;
	const struct node *n = &((const struct flamegraph *)ctx)->nodes[id];

	return n->parent == key->parent && n->name == key->name && n->module == key->module &&
	       n->kind == key->kind;
}

static uint32_t child(struct flamegraph *fg, const struct node_key *k)
{
	uint64_t h = idxmap__hash_u64(((uint64_t)k->parent << 32 | k->name) ^
				      idxmap__hash_u64((uint64_t)k->module << 8 | k->kind));
	uint32_t id = idxmap__find(&fg->node_idx, h, k, node_eq, fg);
	struct node *n;

	if (id != IDXMAP_NONE)
		return id;
	if (array__grow(&fg->nodes, &fg->cap_nodes, (size_t)fg->nr_nodes + 1, sizeof(*fg->nodes)))
		return IDXMAP_NONE;
	if (idxmap__insert(&fg->node_idx, h, fg->nr_nodes))
		return IDXMAP_NONE;
	n = &fg->nodes[fg->nr_nodes];
	memset(n, 0, sizeof(*n));
	n->parent = k->parent;
	n->name = k->name;
	n->module = k->module;
	n->kind = k->kind;
	n->depth = fg->nodes[k->parent].depth + 1;
	return fg->nr_nodes++;
}

static char *dup_or(const char *s, const char *def)
{
	return strdup(s && *s ? s : def);
}

struct flamegraph *flamegraph__new(const struct flamegraph_opts *opts)
{
	struct flamegraph *fg = calloc(1, sizeof(*fg));

	if (!fg)
		return NULL;
	fg->o = *opts;
	idxmap__init(&fg->str_idx);
	idxmap__init(&fg->node_idx);
	if (!fg->o.width)
		fg->o.width = 1200;
	if (fg->o.min_width < 0)
		fg->o.min_width = 0.1;
	fg->title = dup_or(opts->title, opts->icicle ? "Icicle Graph" : "Flame Graph");
	fg->subtitle = dup_or(opts->subtitle, "");
	fg->unit = dup_or(opts->unit, "samples");
	if (!fg->title || !fg->subtitle || !fg->unit ||
	    array__grow(&fg->nodes, &fg->cap_nodes, 1024, sizeof(*fg->nodes)) || intern(fg, "all") != 0 ||
	    intern(fg, "") != 1) {
		flamegraph__free(fg);
		errno = ENOMEM;
		return NULL;
	}
	memset(&fg->nodes[0], 0, sizeof(fg->nodes[0]));
	fg->nodes[0].parent = IDXMAP_NONE;
	fg->nodes[0].name = 0;
	fg->nodes[0].module = 1;
	fg->nr_nodes = 1;
	return fg;
}

int flamegraph__add(struct flamegraph *fg, const struct flamegraph_frame *frames, uint32_t depth,
		    uint64_t count, uint64_t count_after)
{
	uint32_t cur = 0, i;

	fg->nodes[0].value += count;
	fg->nodes[0].value2 += count_after;
	for (i = 0; i < depth; i++) {
		struct node_key k = { cur, intern(fg, frames[i].name), 1, frames[i].kind };

		if (frames[i].module && *frames[i].module)
			k.module = intern(fg, frames[i].module);
		if (k.name == IDXMAP_NONE || k.module == IDXMAP_NONE)
			return -ENOMEM;
		cur = child(fg, &k);
		if (cur == IDXMAP_NONE)
			return -ENOMEM;
		fg->nodes[cur].value += count;
		fg->nodes[cur].value2 += count_after;
	}
	return 0;
}

void flamegraph__free(struct flamegraph *fg)
{
	uint32_t i;

	if (!fg)
		return;
	for (i = 0; i < fg->nr_strs; i++)
		free(fg->strs[i]);
	free(fg->strs);
	free(fg->nodes);
	free(fg->children);
	free(fg->title);
	free(fg->subtitle);
	free(fg->unit);
	idxmap__release(&fg->str_idx);
	idxmap__release(&fg->node_idx);
	free(fg);
}

/* Length of the UTF-8 sequence at s that XML can carry (no U+FFFE/U+FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len = utf8__seq(s, n, &cp);

	return !len || cp == 0xfffe || cp == 0xffff ? 0 : len;
}

void flamegraph__xml_escape(FILE *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = u[i];

		switch (c) {
		case '&':
			fputs("&amp;", out);
			i++;
			continue;
		case '<':
			fputs("&lt;", out);
			i++;
			continue;
		case '>':
			fputs("&gt;", out);
			i++;
			continue;
		case '"':
			fputs("&quot;", out);
			i++;
			continue;
		case '\'':
			fputs("&apos;", out);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fputc('?', out);
			i++;
			continue;
		}
		n = utf8_len(u + i, len - i);
		if (!n) {
			fputc('?', out);
			i++;
			continue;
		}
		fwrite(u + i, 1, n, out);
		i += n;
	}
}

static void xml(FILE *out, const char *s)
{
	flamegraph__xml_escape(out, s, strlen(s));
}

/* Three deterministic pseudo-random numbers in [0, 1) from a name, for stable colours. */
static void name_hash(const char *s, double v[3])
{
	uint64_t h = idxmap__stable_hash_bytes(s, strlen(s), 11);
	int i;

	for (i = 0; i < 3; i++) {
		v[i] = (double)(h & 0xffff) / 65536.0;
		h >>= 16;
	}
}

/*
 * The off-CPU palette, told apart from a CPU flame graph's warm one at a glance (as flamegraph.pl's
 * "io" and off-CPU graphs are blue): user code blue, kernel purple, inlined aqua, JIT teal, each varied
 * per function by 'v' (name_hash).
 */
static void off_cpu_color(uint32_t kind, const double v[3], char *buf, size_t size)
{
	int r, g, b;

	switch (kind) {
	case FLAMEGRAPH_KIND_KERNEL:
		r = 150 + (int)(40 * v[0]), g = 110 + (int)(40 * v[0]), b = 200 + (int)(50 * v[1]);
		break;
	case FLAMEGRAPH_KIND_INLINE:
		r = 60 + (int)(40 * v[0]), g = 190 + (int)(50 * v[0]), b = 230 + (int)(25 * v[1]);
		break;
	case FLAMEGRAPH_KIND_JIT:
		r = 40 + (int)(40 * v[0]), g = 150 + (int)(50 * v[0]), b = 150 + (int)(50 * v[1]);
		break;
	default:
		r = (int)(80 * v[2]), g = 90 + (int)(100 * v[0]), b = 200 + (int)(55 * v[1]);
		break;
	}
	snprintf(buf, size, "rgb(%d,%d,%d)", r, g, b);
}

static void color_of(const struct flamegraph *fg, const struct node *n, double max_delta, char *buf,
		     size_t size)
{
	double v[3];
	int r, g, b;

	if (fg->o.differential) {
		const struct node *root = &fg->nodes[0];
		double before = root->value ? (double)n->value / (double)root->value : 0;
		double after = root->value2 ? (double)n->value2 / (double)root->value2 : 0;
		double d = max_delta > 0 ? (after - before) / max_delta : 0;
		int fade = (int)(210 * (1 - fabs(d)));

		if (d > 0)
			r = 255, g = b = fade;
		else if (d < 0)
			r = g = fade, b = 255;
		else
			r = g = b = 250;
		snprintf(buf, size, "rgb(%d,%d,%d)", r, g, b);
		return;
	}
	if (n->parent == IDXMAP_NONE) {
		snprintf(buf, size, "rgb(210,210,210)");
		return;
	}
	if (fg->o.colors == FLAMEGRAPH_COLORS_MODULE) {
		/* A hue per module, from a fixed set of readable ones, varied a little per function. */
		static const int hues[][3] = { { 230, 120, 50 },  { 80, 160, 220 }, { 110, 190, 90 },
					       { 200, 110, 200 }, { 230, 190, 60 }, { 90, 200, 190 },
					       { 220, 100, 110 }, { 150, 140, 230 } };
		double m[3];
		const int *h;

		name_hash(fg->strs[n->module], m);
		name_hash(fg->strs[n->name], v);
		h = hues[(int)(m[0] * 8) & 7];
		r = h[0] + (int)(25 * v[0]), g = h[1] + (int)(25 * v[0]), b = h[2] + (int)(25 * v[0]);
		snprintf(buf, size, "rgb(%d,%d,%d)", r > 255 ? 255 : r, g > 255 ? 255 : g, b > 255 ? 255 : b);
		return;
	}
	name_hash(fg->strs[n->name], v);
	if (fg->o.colors == FLAMEGRAPH_COLORS_OFF_CPU) {
		off_cpu_color(n->kind, v, buf, size);
		return;
	}
	switch (n->kind) {
	case FLAMEGRAPH_KIND_KERNEL: /* cool blue, far from the warm user colours */
		r = 130 + (int)(50 * v[0]), g = 150 + (int)(50 * v[0]), b = 225 + (int)(30 * v[1]);
		break;
	case FLAMEGRAPH_KIND_INLINE: /* aqua */
		r = 80 + (int)(60 * v[0]), g = 200 + (int)(55 * v[0]), b = 200 + (int)(55 * v[0]);
		break;
	case FLAMEGRAPH_KIND_JIT: /* green */
		r = 50 + (int)(60 * v[0]), g = 190 + (int)(60 * v[0]), b = 50 + (int)(60 * v[0]);
		break;
	case FLAMEGRAPH_KIND_PYTHON: /* purple: interpreted code, apart from the interpreter's own */
		r = 170 + (int)(50 * v[0]), g = 120 + (int)(40 * v[1]), b = 220 + (int)(35 * v[0]);
		break;
	default: /* warm: red to yellow */
		r = 205 + (int)(50 * v[2]), g = (int)(230 * v[0]), b = (int)(55 * v[1]);
		break;
	}
	snprintf(buf, size, "rgb(%d,%d,%d)", r, g, b);
}

static const struct flamegraph *sort_fg;

static int cmp_child(const void *a, const void *b)
{
	const struct node *x = &sort_fg->nodes[*(const uint32_t *)a],
			  *y = &sort_fg->nodes[*(const uint32_t *)b];
	int c = strcmp(sort_fg->strs[x->name], sort_fg->strs[y->name]);

	if (c)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(sort_fg->strs[x->module], sort_fg->strs[y->module]);
}

/* Children of every node in one array; flamegraph__write sorts those of the frames it draws. */
static int layout(struct flamegraph *fg)
{
	uint32_t i, *fill;

	free(fg->children);
	fg->children = malloc((fg->nr_nodes ? fg->nr_nodes : 1) * sizeof(*fg->children));
	fill = calloc(fg->nr_nodes, sizeof(*fill));
	if (!fg->children || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (i = 0; i < fg->nr_nodes; i++)
		fg->nodes[i].nr_children = 0;
	for (i = 1; i < fg->nr_nodes; i++)
		fg->nodes[fg->nodes[i].parent].nr_children++;
	for (i = 0, fill[0] = 0; i < fg->nr_nodes; i++) {
		fg->nodes[i].first_child = i ? fill[i - 1] : 0;
		fill[i] = fg->nodes[i].first_child + fg->nodes[i].nr_children;
	}
	for (i = 0; i < fg->nr_nodes; i++)
		fill[i] = fg->nodes[i].first_child;
	for (i = 1; i < fg->nr_nodes; i++)
		fg->children[fill[fg->nodes[i].parent]++] = i;
	free(fill);
	return 0;
}

static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"'use strict';\n"
	"var svg, frames, details, unzoomBtn, searchBtn, matchedTxt, W, PAD = 10, FONT = 12, CW = 0.59;\n"
	"var zoomed = null, searching = null;\n"
	"function init(evt) {\n"
	"  svg = document.documentElement; frames = document.getElementById('frames');\n"
	"  details = document.getElementById('details').firstChild; unzoomBtn = document.getElementById('unzoom');\n"
	"  searchBtn = document.getElementById('search'); matchedTxt = document.getElementById('matched');\n"
	"  W = +svg.getAttribute('width');\n"
	"  for (var g of frames.children) { var r = g.querySelector('rect');\n"
	"    g._x = +r.getAttribute('x'); g._w = +r.getAttribute('width'); g._y = +r.getAttribute('y');\n"
	"    g._name = g.getAttribute('data-name'); g._fill = r.getAttribute('fill'); }\n"
	"  frames.addEventListener('click', function (e) { var g = e.target.closest('g'); if (g && g.parentNode === frames) zoom(g); });\n"
	"  frames.addEventListener('mouseover', function (e) { var g = e.target.closest('g');\n"
	"    if (g && g.parentNode === frames) details.nodeValue = g.querySelector('title').textContent; });\n"
	"  frames.addEventListener('mouseout', function () { details.nodeValue = ' '; });\n"
	"  unzoomBtn.addEventListener('click', unzoom);\n"
	"  searchBtn.addEventListener('click', searchPrompt);\n"
	"  window.addEventListener('keydown', function (e) {\n"
	"    if (e.key === 'Escape') { unzoom(); resetSearch(); }\n"
	"    else if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); searchPrompt(); } });\n"
	"  var q = new URLSearchParams(document.location.search);\n"
	"  if (q.get('zoom')) { var best = null; for (var g2 of frames.children)\n"
	"      if (g2._name === q.get('zoom') && (!best || g2._w > best._w)) best = g2;\n"
	"    if (best) zoom(best); }\n"
	"  if (q.get('s')) search(q.get('s'));\n"
	"}\n"
	"function fitText(g, x, w) { var t = g.querySelector('text'), n = Math.floor((w - 6) / (FONT * CW));\n"
	"  t.setAttribute('x', (x + 3).toFixed(2));\n"
	"  t.textContent = n < 3 ? '' : (g._name.length <= n ? g._name : g._name.substring(0, n - 2) + '..'); }\n"
	"function place(g, x, w) { var r = g.querySelector('rect'); r.setAttribute('x', x.toFixed(2));\n"
	"  r.setAttribute('width', Math.max(w, 0).toFixed(2)); fitText(g, x, w); }\n"
	"function isAncestor(a, g) { return " /* a is below g towards the root and spans it */
	"ICICLE ? a._y < g._y : a._y > g._y; }\n"
	"function zoom(z) {\n"
	"  zoomed = z; var scale = (W - 2 * PAD) / z._w, eps = 1e-6;\n"
	"  for (var g of frames.children) {\n"
	"    var inside = g._x >= z._x - eps && g._x + g._w <= z._x + z._w + eps;\n"
	"    if (g === z || (inside && !isAncestor(g, z))) { g.classList.remove('hide'); g.classList.remove('parent');\n"
	"      place(g, PAD + (g._x - z._x) * scale, g._w * scale); }\n"
	"    else if (isAncestor(g, z) && g._x <= z._x + eps && g._x + g._w >= z._x + z._w - eps) {\n"
	"      g.classList.remove('hide'); g.classList.add('parent'); place(g, PAD, W - 2 * PAD); }\n"
	"    else g.classList.add('hide'); }\n"
	"  unzoomBtn.classList.remove('hide'); if (searching) search(searching);\n"
	"}\n"
	"function unzoom() { zoomed = null;\n"
	"  for (var g of frames.children) { g.classList.remove('hide'); g.classList.remove('parent'); place(g, g._x, g._w); }\n"
	"  unzoomBtn.classList.add('hide'); if (searching) search(searching); }\n"
	"function resetSearch() { searching = null; for (var g of frames.children) g.querySelector('rect').setAttribute('fill', g._fill);\n"
	"  matchedTxt.textContent = ' '; searchBtn.textContent = 'Search'; searchBtn.classList.remove('active'); }\n"
	"function searchPrompt() { if (searching) { resetSearch(); return; }\n"
	"  var term = prompt('Search for (regular expression):', ''); if (term) search(term); }\n"
	"function search(term) {\n"
	"  var re; try { re = new RegExp(term); } catch (e) { matchedTxt.textContent = 'Bad expression'; return; }\n"
	"  resetSearch(); searching = term; var spans = [], lo = zoomed ? zoomed._x : PAD, hi = zoomed ? zoomed._x + zoomed._w : W - PAD;\n"
	"  for (var g of frames.children) { if (!re.test(g._name)) continue;\n"
	"    g.querySelector('rect').setAttribute('fill', 'rgb(230,0,230)');\n"
	"    var a = Math.max(g._x, lo), b = Math.min(g._x + g._w, hi); if (b > a) spans.push([a, b]); }\n"
	"  spans.sort(function (p, q) { return p[0] - q[0]; });\n"
	"  var covered = 0, end = -Infinity; for (var s of spans) { if (s[1] <= end) continue;\n"
	"    covered += s[1] - Math.max(s[0], end); end = s[1]; }\n"
	"  var pct = 100 * covered / (hi - lo);\n"
	"  matchedTxt.textContent = 'Matched: ' + (pct >= 99.995 ? '100' : pct.toFixed(2)) + '%';\n"
	"  searchBtn.textContent = 'Reset Search'; searchBtn.classList.add('active');\n"
	"}\n"
	"]]></script>\n";

static double pct_of(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

int flamegraph__write(struct flamegraph *fg, FILE *out)
{
	const struct node *root = &fg->nodes[0];
	double W = fg->o.width, usable = W - 2 * PAD_X, scale, max_delta = 0;
	uint64_t total = fg->o.differential ? root->value2 : root->value;
	uint32_t *stack = NULL, sp = 0, i, max_depth = 0;
	double *xs = NULL;
	int H, err = layout(fg);

	if (err)
		return err;
	scale = total ? usable / (double)total : 0;
	/* What will be drawn: depth-first, children left to right; a pruned frame's children are pruned. */
	stack = malloc(fg->nr_nodes * sizeof(*stack));
	xs = malloc(fg->nr_nodes * sizeof(*xs));
	if (!stack || !xs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < fg->nr_nodes; i++) {
		const struct node *n = &fg->nodes[i];
		uint64_t v = fg->o.differential ? n->value2 : n->value;

		if ((double)v * scale >= fg->o.min_width && n->depth > max_depth)
			max_depth = n->depth;
		if (fg->o.differential) {
			double d = fabs((root->value2 ? (double)n->value2 / (double)root->value2 : 0) -
					(root->value ? (double)n->value / (double)root->value : 0));

			if (d > max_delta)
				max_delta = d;
		}
	}
	H = PAD_TOP + PAD_BOTTOM + (int)(max_depth + 1) * FRAME_H;
	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%d\" onload=\"init(evt)\" viewBox=\"0 0 %u %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
		fg->o.width, H, fg->o.width, H);
	fputs("<!-- written by scorch " SCORCH_VERSION " -->\n", out);
	fprintf(out,
		"<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		"<stop stop-color=\"%s\" offset=\"5%%\"/><stop stop-color=\"%s\" offset=\"95%%\"/>"
		"</linearGradient></defs>\n",
		fg->o.differential ? "#f8f8f8" : "#eeeeee", fg->o.differential ? "#e8e8e8" : "#eeeeb0");
	fprintf(out,
		"<style type=\"text/css\">\n"
		"text { font-family: Verdana, sans-serif; font-size: %dpx; fill: rgb(0,0,0); }\n"
		"#title { text-anchor: middle; font-size: 17px; }\n"
		"#subtitle { text-anchor: middle; fill: rgb(90,90,90); }\n"
		"#search, #unzoom { cursor: pointer; }\n"
		"#search.active { fill: rgb(230,0,230); }\n"
		"#matched { text-anchor: end; }\n"
		"#frames > g { cursor: pointer; }\n"
		"#frames > g:hover > rect { stroke: black; stroke-width: 0.5; }\n"
		"#frames text { pointer-events: none; }\n"
		".hide { display: none; }\n"
		".parent { opacity: 0.5; }\n"
		"</style>\n",
		FONT_SIZE);
	fprintf(out, "<script type=\"text/ecmascript\">var ICICLE = %s;</script>\n",
		fg->o.icicle ? "true" : "false");
	fputs(script, out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"url(#background)\"/>\n");
	fprintf(out, "<text id=\"title\" x=\"%.1f\" y=\"24\">", W / 2);
	xml(out, fg->title);
	fputs("</text>\n", out);
	if (*fg->subtitle) {
		fprintf(out, "<text id=\"subtitle\" x=\"%.1f\" y=\"%d\">", W / 2, 24 + FONT_SIZE + 4);
		xml(out, fg->subtitle);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", PAD_X, H - 17);
	fprintf(out, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n", PAD_X);
	fprintf(out, "<text id=\"search\" x=\"%.1f\" y=\"24\">Search</text>\n", W - PAD_X - 100);
	fprintf(out, "<text id=\"matched\" x=\"%.1f\" y=\"%d\"> </text>\n", W - PAD_X, H - 17);
	fputs("<g id=\"frames\">\n", out);

	xs[0] = PAD_X;
	stack[sp++] = 0;
	while (sp) {
		const struct node *n = &fg->nodes[stack[--sp]];
		uint32_t id = (uint32_t)(n - fg->nodes);
		uint64_t v = fg->o.differential ? n->value2 : n->value;
		double w = (double)v * scale, x = xs[id], cx;
		int y = fg->o.icicle ? PAD_TOP + (int)n->depth * FRAME_H
				     : H - PAD_BOTTOM - (int)(n->depth + 1) * FRAME_H;
		const char *name = fg->strs[n->name];
		size_t nchars = (size_t)((w - 6) / (FONT_SIZE * FONT_W)), len = strlen(name);
		char fill[64];

		if (w < fg->o.min_width || (!v && id))
			continue;
		color_of(fg, n, max_delta, fill, sizeof(fill));
		fputs("<g data-name=\"", out);
		xml(out, name);
		fputs("\"><title>", out);
		xml(out, name);
		if (fg->o.differential) {
			double d = pct_of(n->value2, root->value2) - pct_of(n->value, root->value);

			fprintf(out, " (%" PRIu64 " -> %" PRIu64 " %s, %.2f%% -> %.2f%%, %+.2f points)",
				n->value, n->value2, fg->unit, pct_of(n->value, root->value),
				pct_of(n->value2, root->value2), d);
		} else {
			fprintf(out, " (%" PRIu64 " %s, %.2f%%)", v, fg->unit, pct_of(v, total));
		}
		if (fg->strs[n->module][0]) {
			fputs(" in ", out);
			xml(out, fg->strs[n->module]);
		}
		fprintf(out,
			"</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\"/>"
			"<text x=\"%.2f\" y=\"%.1f\">",
			x, y, w, FRAME_H - 1, fill, x + 3, y + FRAME_H - 4.5);
		if (nchars >= 3 && w > 6) {
			if (len <= nchars) {
				xml(out, name);
			} else {
				/* Cut on a character boundary, then mark the cut. */
				size_t cut = nchars - 2;

				while (cut && ((unsigned char)name[cut] & 0xc0) == 0x80)
					cut--;
				flamegraph__xml_escape(out, name, cut);
				fputs("..", out);
			}
		}
		fputs("</text></g>\n", out);
		/* Children by name, as flamegraph.pl orders them; pushed right to left to come out left to
		 * right. */
		sort_fg = fg;
		if (n->nr_children > 1)
			qsort(fg->children + n->first_child, n->nr_children, sizeof(*fg->children),
			      cmp_child);
		cx = x;
		for (i = 0; i < n->nr_children; i++) {
			uint32_t c = fg->children[n->first_child + i];

			xs[c] = cx;
			cx += (double)(fg->o.differential ? fg->nodes[c].value2 : fg->nodes[c].value) * scale;
		}
		for (i = n->nr_children; i--;)
			stack[sp++] = fg->children[n->first_child + i];
	}
	fputs("</g>\n</svg>\n", out);
	if (fflush(out) || ferror(out))
		err = -EIO;
out:
	free(stack);
	free(xs);
	return err;
}

int flamegraph__add_view(struct flamegraph *fg, const struct view *v, int after, int no_modules)
{
	static const struct flamegraph_frame none = { "[no stack]", NULL, 0 };
	struct flamegraph_frame *frames = NULL;
	uint32_t s, k;
	size_t cap = 0;
	int err = 0;

	for (s = 0; s < v->nr_paths && !err; s++) {
		const uint32_t *fs = view__path_funcs(v, s);
		uint32_t d = v->paths[s].depth;
		uint64_t n = v->paths[s].count;

		if (array__grow(&frames, &cap, d, sizeof(*frames))) {
			err = -ENOMEM;
			break;
		}
		for (k = 0; k < d; k++) {
			const struct view_func *f = &v->funcs[fs[k]];

			frames[k].name = f->name;
			frames[k].module = no_modules ? NULL : profile__mapping_short_name(v->p, f->mapping);
			frames[k].kind = f->kind; /* enum view_kind and enum flamegraph_kind agree */
		}
		err = flamegraph__add(fg, d ? frames : &none, d ? d : 1, after ? 0 : n, after ? n : 0);
	}
	free(frames);
	return err;
}
