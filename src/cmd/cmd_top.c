// SPDX-License-Identifier: MIT
/*
 * scorch top: the hottest functions of running processes, live.
 *
 * The same capture as record (sampler + recorder into an in-memory profile); every refresh keeps a copy
 * of the count of each (stack, thread), so the table covers a sliding window: the counts now minus the
 * counts a window ago, aggregated through the view and the report's rows. On a terminal the screen is
 * redrawn in place (ASCII only, cut to the terminal's width and height) and keys are read without
 * echo; otherwise (or with --once) plain snapshots are printed with no escape sequences.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "capture.h"
#include "cli.h"
#include "clock.h"
#include "log.h"
#include "options.h"
#include "pidwatch.h"
#include "profile.h"
#include "report.h"
#include "utf8.h"
#include "view.h"

#define MAX_PIDS 64
#define MAX_WINDOW 600 /* refreshes kept */
/*
 * --once without -i: a table of 1 s at 99 Hz holds ~99 samples of a busy thread, too few to rank
 * anything but the hottest function. Sample until 1000 have come in (a share is then known to about
 * +-1.4 points at 5%), for 1 s at least and 10 s at most (an idle target).
 */
#define ONCE_SAMPLES 1000
#define ONCE_MIN_NS 1000000000ULL
#define ONCE_MAX_NS 10000000000ULL

struct top_opts {
	uint32_t pids[MAX_PIDS];
	size_t nr_pids;
	int all;
	uint32_t freq;
	uint64_t interval_ns;
	uint32_t window;
	enum report_sort sort;
	enum view_by by;
	uint32_t top;
	int once;
	int interval_given;
	uint64_t once_samples; /* --once without -i: stop at this many samples */
	int off_cpu;           /* --off-cpu: the table shows the waits' time, not the samples */
};

static int opt_pid(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct top_opts *o = base;

	(void)e;
	(void)name;
	return cli__parse_pids(arg, o->pids, MAX_PIDS, &o->nr_pids);
}

static int opt_interval(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct top_opts *o = base;

	(void)e;
	(void)name;
	if (cli__parse_seconds(arg, "-i", &o->interval_ns))
		return -EINVAL;
	o->interval_given = 1;
	if (o->interval_ns < 100000000ULL) {
		pr_err("-i %s is too short: at least 0.1 seconds", arg);
		return -EINVAL;
	}
	return 0;
}

static const char *const sort_names[] = { "self", "total", NULL };
static const char *const by_names[] = { "function", "line", "module", NULL };

static const struct opts_entry top_options[] = {
	OPTS_CALLBACK('p', "pid", "PID[,PID...]", "processes to sample (all threads)", struct top_opts, pids,
		      opt_pid),
	OPTS_FLAG('a', "all", "every process of the system", struct top_opts, all),
	OPTS_U32('F', "freq", "HZ", "samples per second per CPU (default 99)", struct top_opts, freq, 1,
		 1000000),
	OPTS_CALLBACK('i', "interval", "SECS", "refresh every SECS seconds (default 1)", struct top_opts,
		      interval_ns, opt_interval),
	OPTS_U32('w', "window", "N", "the table covers the last N refreshes (default 5)", struct top_opts,
		 window, 1, MAX_WINDOW),
	OPTS_CHOICE('s', "sort", "KEY", "self or total (default self)", struct top_opts, sort, sort_names,
		    "sort key"),
	OPTS_CHOICE(0, "by", "KEY", "function, line or module (default function)", struct top_opts, by,
		    by_names, "--by key"),
	OPTS_U32('n', "top", "N", "rows to show (default: what fits the terminal, else 20)", struct top_opts,
		 top, 1, 10000),
	OPTS_FLAG(0, "off-cpu",
		  "show where the threads wait: their time off CPU (waits of 1 ms or\n"
		  "more, with the kernel and user stacks where they blocked), not samples",
		  struct top_opts, off_cpu),
	OPTS_FLAG(0, "once",
		  "print one table and exit: of -i SECS if given, else of the first\n"
		  "1000 samples (1 to 10 seconds)",
		  struct top_opts, once),
	OPTS_END(),
};

static const struct opts_cmd top_cmd = {
	.name = "top",
	.usage = "scorch top [options] -p PID[,PID...]\n"
		 "scorch top [options] -a",
	.description =
		"Show the hottest functions of running processes live: self and total share of the samples of\n"
		"a sliding window, refreshed every second, with a trend arrow since the last refresh.\n"
		"Keys: s sort by self/total, g group by function/line/module, f freeze/unfreeze, q quit.",
	.options = top_options,
};

struct prev_row {
	char *name;
	double pct;
};

struct top {
	struct top_opts *o;
	struct profile prof;
	struct capture cap;
	uint64_t *snaps[MAX_WINDOW + 1]; /* ring of count copies, one per refresh */
	uint32_t snap_len[MAX_WINDOW + 1];
	uint32_t nr_snaps, next_snap;
	struct prev_row *prev;
	size_t nr_prev;
	int tty, color, frozen;
	uint64_t start_ns;
	struct profile_count *wsrc; /* --off-cpu: the waits as counts of microseconds (counts_of) */
	size_t wsrc_cap;
};

/*
 * What the table counts, in *src (borrowed, NULL when empty) and *n: the samples, or with --off-cpu the
 * waits' time in microseconds, one entry per wait id (ids only grow, as count ids do, so the snapshots
 * line up). 0 or -ENOMEM.
 */
static int counts_of(struct top *t, const struct profile_count **src, uint32_t *n)
{
	uint32_t i;

	*n = t->prof.nr_counts;
	*src = t->prof.counts;
	if (!t->o->off_cpu)
		return 0;
	*n = t->prof.nr_waits;
	if (array__grow(&t->wsrc, &t->wsrc_cap, *n ? *n : 1, sizeof(*t->wsrc)))
		return -ENOMEM;
	for (i = 0; i < *n; i++) {
		t->wsrc[i].stack = t->prof.waits[i].stack;
		t->wsrc[i].thread = t->prof.waits[i].thread;
		t->wsrc[i].count = t->prof.waits[i].ns / 1000;
	}
	*src = t->wsrc;
	return 0;
}

static volatile sig_atomic_t stop_signal;
static struct termios saved_tio;
static int tio_saved;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	int err, rest;

	o->freq = 99;
	o->interval_ns = 1000000000ULL;
	o->window = 5;
	err = opts__parse(&top_cmd, argc, argv, o, &rest);
	if (err)
		return err;
	if (o->once && !o->interval_given) {
		o->interval_ns = ONCE_MAX_NS;
		o->once_samples = ONCE_SAMPLES;
	}
	if (rest < argc) {
		pr_err("unexpected argument '%s': top samples running processes (-p PID or -a)", argv[rest]);
		return -EINVAL;
	}
	if (o->all && o->nr_pids) {
		pr_err("give either -p PID or -a, not both");
		return -EINVAL;
	}
	if (!o->all && !o->nr_pids) {
		pr_err("nothing to watch: give -p PID or -a");
		return -EINVAL;
	}
	return 0;
}

/* Copy the current counts into the next slot of the ring. */
static int take_snapshot(struct top *t)
{
	uint32_t slot = t->next_snap, i, nr;
	const struct profile_count *src;
	uint64_t *a;

	if (counts_of(t, &src, &nr))
		return -ENOMEM;
	a = realloc(t->snaps[slot], (nr ? nr : 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		a[i] = src[i].count;
	t->snaps[slot] = a;
	t->snap_len[slot] = nr;
	t->next_snap = (slot + 1) % (MAX_WINDOW + 1);
	if (t->nr_snaps < MAX_WINDOW + 1)
		t->nr_snaps++;
	return 0;
}

/* The snapshot taken 'back' refreshes before the newest (0: the newest), or NULL. */
static const uint64_t *snapshot(const struct top *t, uint32_t back, uint32_t *len)
{
	uint32_t slot;

	if (back >= t->nr_snaps)
		back = t->nr_snaps - 1;
	slot = (t->next_snap + 2 * (MAX_WINDOW + 1) - 1 - back) % (MAX_WINDOW + 1);
	*len = t->snap_len[slot];
	return t->snaps[slot];
}

static double prev_pct(const struct top *t, const char *name, int *found)
{
	size_t i;

	for (i = 0; i < t->nr_prev; i++)
		if (!strcmp(t->prev[i].name, name)) {
			*found = 1;
			return t->prev[i].pct;
		}
	*found = 0;
	return 0;
}

static void free_prev(struct prev_row *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++)
		free(p[i].name);
	free(p);
}

/*
 * A name fit for one cell of a terminal line, cut to 'width' characters ('+' marks the cut): what a
 * terminal could act on becomes '?', as utf8__printable() does.
 */
static void cell(char *dst, size_t size, const char *src, size_t width)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t len = strlen(src), i = 0, n = 0, chars = 0, last = 0;

	while (i < len && chars < width) {
		uint32_t cp;
		size_t l = utf8__seq(u + i, len - i, &cp);
		int safe = l && !utf8__cp_unsafe(cp);

		if (n + (safe ? l : 1) + 1 > size)
			break;
		last = n;
		if (safe)
			memcpy(dst + n, u + i, l);
		else
			dst[n] = '?';
		n += safe ? l : 1;
		i += l ? l : 1;
		chars++;
	}
	if (i < len && chars && chars == width) {
		n = last; /* cut */
		dst[n++] = '+';
	}
	dst[n] = '\0';
}

static const char *by_word(enum view_by by)
{
	return by == VIEW_BY_LINE ? "line" : by == VIEW_BY_MODULE ? "module" : "function";
}

/* Build the window's view and print the table; remember each row's share for the next trend. */
static int draw(struct top *t, FILE *out)
{
	struct top_opts *o = t->o;
	struct profile wp = t->prof;
	struct profile_count *wc = NULL;
	struct view_opts vo = { .by = o->by };
	struct view v;
	struct report_row *rows = NULL;
	struct prev_row *now = NULL;
	const uint64_t *old;
	const struct profile_count *src;
	uint32_t old_len, i, nr_src;
	size_t nr = 0, shown, limit = 0;
	unsigned cols = 0, lines = 0;
	uint64_t total = 0;
	double secs = (double)(t->nr_snaps > o->window ? o->window : t->nr_snaps - 1) *
		      (double)o->interval_ns / 1e9;
	char name[512], mod[128];
	int err;

	if (t->tty) {
		struct winsize ws;

		if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
			cols = ws.ws_col;
			lines = ws.ws_row;
		} else {
			cols = 80;
			lines = 24;
		}
	}
	/* The window: counts now minus counts 'window' refreshes ago. */
	old = snapshot(t, o->window, &old_len);
	if (counts_of(t, &src, &nr_src))
		return -ENOMEM;
	wc = malloc((nr_src ? nr_src : 1) * sizeof(*wc));
	if (!wc)
		return -ENOMEM;
	for (i = 0; i < nr_src; i++) {
		wc[i] = src[i];
		if (old && i < old_len)
			wc[i].count -= old[i];
		total += wc[i].count;
	}
	wp.counts = wc;
	wp.nr_counts = nr_src;
	wp.total = total;
	err = view__build(&v, &wp, &vo);
	if (err) {
		free(wc);
		return err;
	}
	rows = report__aggregate_view(&v, o->sort, &nr);
	if (!rows && nr == 0 && errno == ENOMEM) {
		err = -ENOMEM;
		goto out;
	}
	limit = o->top ? o->top : t->tty ? (lines > 5 ? lines - 5 : 1) : 20;
	if (limit > nr)
		limit = nr;
	now = calloc(limit ? limit : 1, sizeof(*now));
	if (!now) {
		err = -ENOMEM;
		goto out;
	}

	if (t->tty)
		fputs("\033[H", out);
	{
		char head[256];

		if (o->off_cpu)
			snprintf(
				head, sizeof(head),
				"scorch top: %.1f ms off CPU in %.1f s (waits of 1 ms or more), by %s, sort %s%s",
				(double)total / 1e3, secs, by_word(o->by),
				o->sort == REPORT_SORT_TOTAL ? "total" : "self",
				t->frozen ? " [frozen]" : "");
		else
			snprintf(head, sizeof(head),
				 "scorch top: %" PRIu64 " samples in %.1f s at %u Hz, by %s, sort %s%s",
				 total, secs, o->freq, by_word(o->by),
				 o->sort == REPORT_SORT_TOTAL ? "total" : "self",
				 t->frozen ? " [frozen]" : "");
		cell(name, sizeof(name), head, cols ? cols : sizeof(name));
		fprintf(out, "%s%s\n", name, t->tty ? "\033[K" : "");
		if (t->tty) {
			cell(name, sizeof(name), "keys: s sort  g grouping  f freeze  q quit", cols);
			fprintf(out, "%s\033[K\n", name);
		}
	}
	{
		char hdr[512];
		size_t nw = cols ? (cols > 40 ? cols - 40 : 8) : 60;

		snprintf(hdr, sizeof(hdr), "%7s %7s %1s  %-*s %s", "Self%", "Total%", "",
			 (int)(nw > 200 ? 200 : nw),
			 o->by == VIEW_BY_LINE     ? "Line"
			 : o->by == VIEW_BY_MODULE ? "Module"
						   : "Function",
			 "Module");
		cell(name, sizeof(name), hdr, cols ? cols : sizeof(name));
		if (t->tty && t->color)
			fprintf(out, "\033[7m%s\033[K\033[0m\n", name);
		else
			fprintf(out, "%s%s\n", name, t->tty ? "\033[K" : "");
	}
	for (shown = 0; shown < limit; shown++) {
		const struct report_row *r = &rows[shown];
		const char *fname = v.funcs[r->func].name;
		double self = total ? 100.0 * (double)r->self / (double)total : 0;
		double tot = total ? 100.0 * (double)r->total / (double)total : 0;
		double key = o->sort == REPORT_SORT_TOTAL ? tot : self, before;
		size_t nw = cols ? (cols > 40 ? cols - 40 : 8) : 60;
		const char *arrow;
		int found;
		char line[1024];

		before = prev_pct(t, fname, &found);
		arrow = !found ? "+" : key > before + 0.5 ? "^" : key < before - 0.5 ? "v" : "=";
		now[shown].name = strdup(fname);
		now[shown].pct = key;
		if (!now[shown].name) {
			err = -ENOMEM;
			goto out;
		}
		cell(name, sizeof(name), fname, nw > 200 ? 200 : nw);
		cell(mod, sizeof(mod), profile__mapping_short_name(&t->prof, r->mapping), 30);
		snprintf(line, sizeof(line), "%6.2f%% %6.2f%% %s  %-*s %s", self, tot, arrow,
			 (int)(nw > 200 ? 200 : nw), name, mod);
		cell(name, sizeof(name), line, cols ? cols : sizeof(name));
		fprintf(out, "%s%s\n", name, t->tty ? "\033[K" : "");
	}
	if (!nr)
		fprintf(out, "(no samples in the window)%s\n", t->tty ? "\033[K" : "");
	if (t->tty)
		fputs("\033[J", out);
	else
		fputc('\n', out);
	fflush(out);
	free_prev(t->prev, t->nr_prev);
	t->prev = now;
	t->nr_prev = limit;
	now = NULL;
	err = 0;
out:
	free_prev(now, limit);
	free(rows);
	view__release(&v);
	free(wc);
	return err;
}

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
}

/* Read the pending keys; returns 1 when asked to quit, 2 when the screen must be redrawn now. */
static int read_keys(struct top *t)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[32];
	ssize_t n, i;
	int ret = 0;

	while (poll(&pfd, 1, 0) > 0) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0)
			return n == 0 ? 1 : ret;
		for (i = 0; i < n; i++) {
			switch (buf[i]) {
			case 'q':
			case 'Q':
				return 1;
			case 's':
				t->o->sort =
					t->o->sort == REPORT_SORT_SELF ? REPORT_SORT_TOTAL : REPORT_SORT_SELF;
				ret = 2;
				break;
			case 'g':
				t->o->by = t->o->by == VIEW_BY_FUNCTION ? VIEW_BY_LINE
					   : t->o->by == VIEW_BY_LINE   ? VIEW_BY_MODULE
									: VIEW_BY_FUNCTION;
				ret = 2;
				break;
			case 'f':
				t->frozen = !t->frozen;
				ret = 2;
				break;
			default:
				break;
			}
		}
	}
	return ret;
}

static int targets_alive(const struct top_opts *o, struct pidwatch *targets)
{
	return o->all || pidwatch__alive(targets);
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o;
	struct top t;
	struct sampler_opts so = { 0 };
	struct recorder_opts ro = { 0 };
	struct pidwatch targets; /* the -p targets, alive or not */
	struct sigaction sa;
	uint64_t last;
	size_t i;
	int err, ret = EXIT_ERROR, keys = 0;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	t.o = &o;
	pidwatch__init(&targets);
	err = parse_args(argc, argv, &o);
	if (err)
		return cli__parse_status(err, "top");
	for (i = 0; i < o.nr_pids; i++)
		if (pidwatch__gone(o.pids[i])) {
			pr_err("no process with pid %u", o.pids[i]);
			return EXIT_ERROR;
		}
	if (sampler__check_privileges())
		return EXIT_ERROR;

	t.tty = !o.once && isatty(STDOUT_FILENO);
	t.color = t.tty && !getenv("NO_COLOR") && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	profile__init(&t.prof);
	so.freq = o.freq;
	so.event = "auto";
	so.off_cpu = o.off_cpu;
	so.off_cpu_min_ns = 1000000;
	so.off_cpu_rate = 2000;
	so.all = o.all;
	/* Frame pointers, and a few words at SP to repair the leaf's caller: the cheapest walk, for a view
	 * that runs for long. */
	so.stack_bytes = SCORCH_STACK_FP_REPAIR;
	ro.call_graph = RECORDER_CG_FP;
	unsetenv("DEBUGINFOD_URLS");
	cli__raise_nofile();
	if (capture__open(&t.cap, &t.prof, &so, &ro))
		goto out;
	for (i = 0; i < o.nr_pids; i++)
		if (capture__add_target(&t.cap, o.pids[i]))
			goto out;
	if (pidwatch__open(&targets, o.pids, o.nr_pids))
		goto nomem;
	if (take_snapshot(&t))
		goto nomem;
	if (t.tty && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		struct termios raw = saved_tio;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)) {
			tio_saved = 1;
			keys = 1;
		}
	}
	if (t.tty)
		fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear */
	t.start_ns = last = clock__mono_ns();
	for (;;) {
		uint64_t now;
		int k = 0, drawn = 0;

		if (stop_signal)
			break;
		err = capture__poll(&t.cap, 100);
		if (err)
			goto out;
		if (keys) {
			k = read_keys(&t);
			if (k == 1)
				break;
		}
		now = clock__mono_ns();
		/* --once: enough samples end the one interval early; the header then gives its true length.
		 */
		if (o.once_samples && now - last >= ONCE_MIN_NS && t.prof.total >= o.once_samples)
			o.interval_ns = now - last;
		if (now - last >= o.interval_ns) {
			last = now;
			if (take_snapshot(&t))
				goto nomem;
			/* Every process: forget the caches of those that exited. */
			if (o.all)
				recorder__forget_exited(t.cap.rec);
			if (!t.frozen || o.once) {
				err = draw(&t, stdout);
				if (err)
					goto err;
				drawn = 1;
			}
			if (o.once)
				break;
			if (!targets_alive(&o, &targets)) {
				pr_info("the target%s exited", o.nr_pids > 1 ? "s" : "");
				break;
			}
		}
		/* A key changed what is shown (sort, grouping, frozen): show it now, even when frozen. */
		if (k == 2 && !drawn) {
			err = draw(&t, stdout);
			if (err)
				goto err;
		}
		if (ferror(stdout))
			break;
	}
	ret = EXIT_OK;
	goto out;
err:
	if (err != -ENOMEM)
		goto out;
nomem:
	pr_err("out of memory");
out:
	restore_tty();
	if (t.tty)
		fputs("\033[?25h", stdout); /* show the cursor */
	capture__close(&t.cap);
	pidwatch__release(&targets);
	profile__release(&t.prof);
	for (i = 0; i <= MAX_WINDOW; i++)
		free(t.snaps[i]);
	free_prev(t.prev, t.nr_prev);
	free(t.wsrc);
	return ret;
}
