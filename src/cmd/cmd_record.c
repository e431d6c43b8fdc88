// SPDX-License-Identifier: MIT
/*
 * scorch record: sample processes into a profile file.
 *
 * Order matters: validate everything that can be validated (options, pids, privileges, the output
 * path) before starting anything; hold a launched command before exec until sampling is attached;
 * write a chunk every second so an interrupted recording leaves a readable prefix; on any stop (the
 * targets exit, the duration ends, SIGINT/SIGTERM/SIGHUP) drain the ring buffer and finish the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cgroup.h"
#include "cli.h"
#include "clock.h"
#include "launcher.h"
#include "log.h"
#include "options.h"
#include "outfile.h"
#include "pfile.h"
#include "pidwatch.h"
#include "profile.h"
#include "recorder.h"
#include "sampler.h"

#define MAX_PIDS 1024
#define MAX_DEBUG_DIRS 32
#define POLL_MS 100
/* At the end, the most time spent reading what the ring buffer still holds. */
#define FINISH_NS (3 * 1000 * 1000 * 1000ULL)
#define FLUSH_NS 1000000000ULL
/* After a stop signal, how long a launched command gets to exit before the file is finished. */
#define CHILD_GRACE_NS 1000000000ULL
/* How long jcmd may take to have a JVM write its perf map (--java-perfmap); it is a JVM itself. */
#define JCMD_TIMEOUT_MS 20000
/*
 * --off-cpu-min's default, 1 ms. A wait given a stack costs about as much as a CPU sample (a few
 * microseconds in BPF, and its unwinding and naming here); with waits of 1 ms or more, a thread can ask
 * for at most 1,000 stacks a second however it blocks, so their cost stays below 1% of the time they
 * stand for. Shorter waits (lock hand-offs, a pipe ping-pong at 100k switches a second) would cost more
 * than they show, and they are still counted, with their time, in off_cpu_below_min(_ns).
 */
#define RECORD_OFF_CPU_MIN_NS 1000000ULL
/* --off-cpu-rate's default: wait stacks per second in all, the bound that holds whatever the threshold. */
#define RECORD_OFF_CPU_RATE 2000

struct record_opts {
	uint32_t pids[MAX_PIDS];
	size_t nr_pids;
	uint32_t freq;
	uint64_t duration_ns;
	const char *output;
	const char *event;
	int no_inherit;
	int no_mapping_events;
	char **cmd;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
	int debuginfod;
	int no_demangle;
	int no_sandbox;
	int java_perfmap; /* --java-perfmap */
	int no_python;    /* --no-python */
	enum recorder_call_graph call_graph;
	uint32_t stack_size;        /* bytes of user stack per sample in dwarf, copy and auto modes */
	int copy_only;              /* -g copy: auto without the in-kernel unwinder */
	int all;                    /* -a or --cgroup */
	int idle;                   /* --idle */
	size_t buffer_size;         /* -m; 0: the default */
	size_t table_size;          /* --unwind-table-size: bytes of unwind table rows (-g auto) */
	const char *cgroup;         /* --cgroup PATH */
	char cgroup_path[PATH_MAX]; /* PATH resolved, perhaps under the cgroup v2 mount */
	uint64_t cgroup_id;
	uint32_t cgroup_level;
	int off_cpu;             /* --off-cpu */
	uint64_t off_cpu_min_ns; /* --off-cpu-min */
	uint32_t off_cpu_rate;   /* --off-cpu-rate */
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t child_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	stop_signal = sig;
	/* A signal sent to us alone (kill) is passed on; the terminal already signals the whole group. */
	if (child_pid > 0 && si && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
		kill((pid_t)child_pid, sig);
}

static int install_signals(void)
{
	struct sigaction sa;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Read the thread group id and name of a process; -ESRCH when there is none. */
static int read_status(uint32_t pid, uint32_t *tgid, char *comm, size_t size)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	*tgid = 0;
	comm[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Name:\t", 6) == 0) {
			snprintf(comm, size, "%.63s", line + 6);
			comm[strcspn(comm, "\n")] = '\0';
		}
		sscanf(line, "Tgid: %u", tgid);
	}
	fclose(f);
	return *tgid ? 0 : -ESRCH;
}

/* Option 'opt' SIZE: bytes, or K, M, G (powers of 1024), within [min, max] ('range' says it). */
static int parse_size(const char *opt, const char *arg, uint64_t min, uint64_t max, const char *range,
		      size_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (end == arg || *arg == '-' || *arg == '+' || errno) {
		pr_err("%s takes a size such as 8M, not '%s'", opt, arg);
		return -EINVAL;
	}
	if (*end && !end[1]) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1ULL << 10;
			end++;
			break;
		case 'm':
		case 'M':
			mul = 1ULL << 20;
			end++;
			break;
		case 'g':
		case 'G':
			mul = 1ULL << 30;
			end++;
			break;
		}
	}
	if (*end) {
		pr_err("%s takes a size such as 8M, not '%s'", opt, arg);
		return -EINVAL;
	}
	if (v > max / mul || v * mul < min) {
		pr_err("%s %s is out of range: use %s", opt, arg, range);
		return -EINVAL;
	}
	*out = (size_t)(v * mul);
	return 0;
}

/* -g fp | dwarf[,SIZE] | copy[,SIZE] | auto[,SIZE] */
static int parse_call_graph(struct record_opts *o, const char *arg)
{
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	o->stack_size = SCORCH_STACK_DEFAULT;
	o->copy_only = len == 4 && !strncmp(arg, "copy", 4);
	if (len == 2 && !strncmp(arg, "fp", 2) && !comma)
		o->call_graph = RECORDER_CG_FP;
	else if ((len == 4 && !strncmp(arg, "auto", 4)) || o->copy_only)
		o->call_graph = RECORDER_CG_AUTO;
	else if (len == 5 && !strncmp(arg, "dwarf", 5))
		o->call_graph = RECORDER_CG_DWARF;
	else {
		pr_err("unknown call-graph mode '%s': use fp, dwarf[,SIZE], copy[,SIZE] or auto[,SIZE]", arg);
		return -EINVAL;
	}
	if (comma && cli__parse_u32(comma + 1, 64, SCORCH_STACK_MAX, "-g MODE,SIZE", &o->stack_size))
		return -EINVAL;
	/* Whole words: the unwinder reads the copy 8 bytes at a time. */
	o->stack_size &= ~7u;
	return 0;
}

static int opt_pid(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return cli__parse_pids(arg, o->pids, MAX_PIDS, &o->nr_pids);
}

static int opt_cgroup(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	if (!*arg) {
		pr_err("--cgroup needs a cgroup directory");
		return -EINVAL;
	}
	o->cgroup = arg;
	o->all = 1;
	return 0;
}

static int opt_duration(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return cli__parse_seconds(arg, "-d", &o->duration_ns);
}

static int opt_off_cpu_min(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return cli__parse_duration(arg, "--off-cpu-min", &o->off_cpu_min_ns);
}

static int opt_output(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	if (!*arg) {
		pr_err("-o needs a file name");
		return -EINVAL;
	}
	o->output = arg;
	return 0;
}

static const char *const event_names[] = { "auto", "cpu-clock", "cycles", NULL };

static int opt_event(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;
	int v;

	(void)e;
	(void)name;
	if (cli__parse_choice(arg, "event", event_names, &v))
		return -EINVAL;
	o->event = event_names[v];
	return 0;
}

static int opt_call_graph(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	(void)e;
	(void)name;
	return parse_call_graph(base, arg);
}

static int opt_buffer_size(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return parse_size("-m", arg, SAMPLER_RINGBUF_MIN, SAMPLER_RINGBUF_MAX, "64K to 1G", &o->buffer_size);
}

static int opt_table_size(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return parse_size("--unwind-table-size", arg, 1u << 20, 1u << 30, "1M to 1G", &o->table_size);
}

static int opt_debug_dir(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct record_opts *o = base;

	(void)e;
	(void)name;
	return cli__add_debug_dir(arg, o->debug_dirs, MAX_DEBUG_DIRS, &o->nr_debug_dirs);
}

static const struct opts_entry record_options[] = {
	OPTS_CALLBACK('p', "pid", "PID[,PID...]",
		      "processes to sample (all threads, including later ones, and the\n"
		      "child processes they fork from then on)",
		      struct record_opts, pids, opt_pid),
	OPTS_FLAG('a', "all", "every process of the system (until Ctrl-C or -d)", struct record_opts, all),
	OPTS_CALLBACK(0, "cgroup", "PATH",
		      "every process in the cgroup v2 directory PATH or below it (implies -a);\n"
		      "or else PATH under the cgroup v2 mount (as in /proc/self/mounts)",
		      struct record_opts, cgroup, opt_cgroup),
	OPTS_FLAG(0, "idle",
		  "with -a: also keep the samples of the idle task (pid 0, 'swapper'), so\n"
		  "shares are of all CPU time, as perf's are",
		  struct record_opts, idle),
	OPTS_U32('F', "freq", "HZ", "samples per second per CPU (default 99)", struct record_opts, freq, 1,
		 1000000),
	OPTS_CALLBACK('d', "duration", "SECS",
		      "stop after SECS seconds (default: until Ctrl-C or the targets exit)",
		      struct record_opts, duration_ns, opt_duration),
	OPTS_CALLBACK('o', "output", "FILE",
		      "profile file to write, '-' for standard output (default scorch.prof)",
		      struct record_opts, output, opt_output),
	OPTS_CALLBACK('e', "event", "EVENT",
		      "auto, cpu-clock or cycles (default auto: cycles if the CPU has a PMU)",
		      struct record_opts, event, opt_event),
	OPTS_CALLBACK('g', "call-graph", "MODE",
		      "how user stacks are walked: fp (frame pointers), dwarf[,SIZE] (copy SIZE\n"
		      "bytes of user stack per sample, default 16384, at most 65536, and unwind\n"
		      "it by the DWARF CFI), copy[,SIZE] (dwarf, and frame pointers where the\n"
		      "CFI runs out), or auto[,SIZE] (the default: unwind in the kernel from\n"
		      "tables built from the CFI, with no stack copy; copy where they cannot)",
		      struct record_opts, call_graph, opt_call_graph),
	OPTS_CALLBACK('m', "buffer-size", "SIZE",
		      "ring buffer of samples: bytes, or with a K, M or G suffix, rounded up\n"
		      "to a power of two, 64K to 1G (default: half a second of samples of\n"
		      "every CPU, at least 4M, at most 256M)",
		      struct record_opts, buffer_size, opt_buffer_size),
	OPTS_CALLBACK(0, "unwind-table-size", "SIZE",
		      "with -g auto, the most BPF memory the unwind tables may take: bytes, or\n"
		      "with a K, M or G suffix, 1M to 1G (default 64M; each file's table takes\n"
		      "8 bytes a row as it is loaded: libc 0.2M, LLVM's libraries 16M); what\n"
		      "does not fit is unwound from the copy",
		      struct record_opts, table_size, opt_table_size),
	OPTS_FLAG(0, "off-cpu",
		  "also record where the threads wait: the time each spends off CPU, with\n"
		  "the kernel and user stacks where it blocked (report --event off-cpu)",
		  struct record_opts, off_cpu),
	OPTS_CALLBACK(0, "off-cpu-min", "DURATION",
		      "with --off-cpu, waits shorter than DURATION (ns, us, ms or s; default\n"
		      "1ms) are only counted, with their time, not given stacks",
		      struct record_opts, off_cpu_min_ns, opt_off_cpu_min),
	OPTS_U32(0, "off-cpu-rate", "N",
		 "with --off-cpu, at most about N wait stacks per second (default 2000);\n"
		 "the waits past it are counted, with their time",
		 struct record_opts, off_cpu_rate, 1, 1000000),
	OPTS_FLAG(0, "no-inherit", "do not follow the child processes of the targets", struct record_opts,
		  no_inherit),
	OPTS_FLAG(0, "no-mapping-events",
		  "do not snapshot the mappings of targets as they exit or exec (those\n"
		  "gone before their maps are read then keep unknown user frames)",
		  struct record_opts, no_mapping_events),
	OPTS_CALLBACK(0, "debug-dir", "DIR", "also look for separate debuginfo in DIR (repeatable)",
		      struct record_opts, debug_dirs, opt_debug_dir),
	OPTS_FLAG(0, "debuginfod", "ask debuginfod servers (DEBUGINFOD_URLS) when nothing local matches",
		  struct record_opts, debuginfod),
	OPTS_FLAG(0, "no-demangle", "keep mangled C++ and Rust names", struct record_opts, no_demangle),
	OPTS_FLAG(0, "no-sandbox", "parse ELF/DWARF in this process, not in an unprivileged child",
		  struct record_opts, no_sandbox),
	OPTS_FLAG(0, "no-python", "do not walk the Python frames of CPython 3.8-3.13 processes",
		  struct record_opts, no_python),
	OPTS_FLAG(0, "java-perfmap",
		  "at the end, ask the JVMs recorded for their perf map (jcmd PID\n"
		  "Compiler.perfmap, JDK 17+), to name their Java frames",
		  struct record_opts, java_perfmap),
	OPTS_END(),
};

static const struct opts_cmd record_cmd = {
	.name = "record",
	.usage = "scorch record [options] -p PID[,PID...]\n"
		 "scorch record [options] -- COMMAND [ARGS...]\n"
		 "scorch record [options] -a|--cgroup PATH",
	.description =
		"Sample the kernel and user stacks of running processes (all their threads), of a command\n"
		"started for the purpose, of every process, or of every process in a cgroup, into a profile file.",
	.options = record_options,
	.verbose_help = "print debug messages (and libbpf's)",
	/* Stop at the first operand, which starts the command. */
	.in_order = 1,
};

static int parse_args(int argc, char **argv, struct record_opts *o)
{
	int err, rest;

	o->freq = 99;
	o->output = "scorch.prof";
	o->event = "auto";
	o->call_graph = RECORDER_CG_AUTO;
	o->stack_size = SCORCH_STACK_DEFAULT;
	o->table_size = (size_t)SCORCH_UW_ROWS_MAX * sizeof(struct scorch_uw_row);
	o->off_cpu_min_ns = RECORD_OFF_CPU_MIN_NS;
	o->off_cpu_rate = RECORD_OFF_CPU_RATE;
	err = opts__parse(&record_cmd, argc, argv, o, &rest);
	if (err)
		return err;
	if (!o->off_cpu &&
	    (o->off_cpu_min_ns != RECORD_OFF_CPU_MIN_NS || o->off_cpu_rate != RECORD_OFF_CPU_RATE)) {
		pr_err("--off-cpu-min and --off-cpu-rate apply to --off-cpu only");
		return -EINVAL;
	}
	if (rest < argc)
		o->cmd = argv + rest;
	if (o->cmd && o->nr_pids) {
		pr_err("give either -p PID or a command, not both");
		return -EINVAL;
	}
	if (o->all && (o->cmd || o->nr_pids)) {
		pr_err("%s samples every process%s: give no -p PID and no command with it",
		       o->cgroup ? "--cgroup" : "-a", o->cgroup ? " of the cgroup" : "");
		return -EINVAL;
	}
	if (o->no_inherit && o->all) {
		pr_err("--no-inherit applies to -p PID and a command, not to %s",
		       o->cgroup ? "--cgroup" : "-a");
		return -EINVAL;
	}
	if (o->idle && (!o->all || o->cgroup)) {
		pr_err("--idle applies to -a only (the idle task is in no process and no cgroup)");
		return -EINVAL;
	}
	if (!o->cmd && !o->nr_pids && !o->all) {
		pr_err("nothing to record: give -p PID, -- COMMAND, -a or --cgroup PATH");
		return -EINVAL;
	}
	return 0;
}

struct session {
	struct record_opts *o;
	struct profile prof;
	struct capture cap; /* the sampler and the recorder */
	struct pfile_writer *w;
	struct outfile out;
	struct launcher child;
	int have_child;
	struct pidwatch targets; /* the -p targets, alive or not */
};

/* Whether every target is gone. */
static int targets_gone(struct session *ss)
{
	if (ss->o->all)
		return 0;
	if (ss->have_child) {
		if (launcher__wait(&ss->child, 1) == 0) {
			child_pid = 0;
			return 1;
		}
		return 0;
	}
	return !pidwatch__alive(&ss->targets);
}

/* The -g mode's name, without the size. */
static const char *call_graph_mode(const struct record_opts *o)
{
	if (o->call_graph == RECORDER_CG_FP)
		return "fp";
	if (o->call_graph == RECORDER_CG_DWARF)
		return "dwarf";
	return o->copy_only ? "copy" : "auto";
}

static const char *call_graph_name(const struct record_opts *o)
{
	static char buf[32];

	if (o->call_graph == RECORDER_CG_FP)
		return "fp";
	snprintf(buf, sizeof(buf), "%s,%u", call_graph_mode(o), o->stack_size);
	return buf;
}

/* The waits' counters (--off-cpu only): those with stacks, and those only counted, each with its time. */
static int store_off_cpu_counters(struct profile *p, const uint64_t *c)
{
	if (profile__counter_set(p, "off_cpu_waits", c[SCORCH_CNT_OFF_WAITS]) ||
	    profile__counter_set(p, "off_cpu_ns", c[SCORCH_CNT_OFF_NS]) ||
	    profile__counter_set(p, "off_cpu_below_min", c[SCORCH_CNT_OFF_SHORT]) ||
	    profile__counter_set(p, "off_cpu_below_min_ns", c[SCORCH_CNT_OFF_SHORT_NS]) ||
	    profile__counter_set(p, "off_cpu_dropped", c[SCORCH_CNT_OFF_DROPPED]) ||
	    profile__counter_set(p, "off_cpu_dropped_ns", c[SCORCH_CNT_OFF_DROPPED_NS]) ||
	    profile__counter_set(p, "off_cpu_untimed", c[SCORCH_CNT_OFF_UNTIMED]))
		return -ENOMEM;
	return 0;
}

static int store_meta(struct session *ss, uint64_t start_real_ns, int argc, char **argv)
{
	struct profile *p = &ss->prof;
	struct utsname u;
	char host[256] = "", when[64], *cmdline = NULL, *targets = NULL;
	size_t cl = 0, tl = 0, i;
	FILE *f;
	time_t t = (time_t)(start_real_ns / 1000000000ULL);
	struct tm tm;
	int err = 0;

	gethostname(host, sizeof(host) - 1);
	uname(&u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	f = open_memstream(&cmdline, &cl);
	if (!f)
		return -ENOMEM;
	for (i = 0; ss->o->cmd && ss->o->cmd[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", ss->o->cmd[i]);
	fclose(f);
	f = open_memstream(&targets, &tl);
	if (!f) {
		free(cmdline);
		return -ENOMEM;
	}
	for (i = 0; i < ss->o->nr_pids; i++) {
		char comm[64];
		uint32_t tgid;

		if (read_status(ss->o->pids[i], &tgid, comm, sizeof(comm)))
			snprintf(comm, sizeof(comm), "?");
		fprintf(f, "%s%u (%s)", i ? ", " : "", ss->o->pids[i], comm);
	}
	if (ss->have_child)
		fprintf(f, "%d (%s)", (int)ss->child.pid, ss->o->cmd[0]);
	if (ss->o->cgroup)
		fprintf(f, "cgroup %s", ss->o->cgroup_path);
	else if (ss->o->all)
		fprintf(f, "all processes");
	fclose(f);

	(void)argc;
	(void)argv;
	if (profile__meta_set(p, "command", cmdline) || profile__meta_set(p, "targets", targets) ||
	    profile__meta_set(p, "hostname", host) || profile__meta_set(p, "kernel", u.release) ||
	    profile__meta_set(p, "machine", u.machine) || profile__meta_set(p, "start_time", when) ||
	    profile__meta_setf(p, "start_ns", "%" PRIu64, start_real_ns) ||
	    profile__meta_set(p, "event", sampler__event(ss->cap.smp)) ||
	    profile__meta_setf(p, "frequency", "%u", ss->o->freq) ||
	    profile__meta_set(p, "call_graph", call_graph_name(ss->o)) ||
	    profile__meta_setf(p, "cpus", "%d", sampler__nr_cpus(ss->cap.smp)) ||
	    profile__meta_set(p, "scorch_version", SCORCH_VERSION) ||
	    profile__meta_set(p, "duration_ns", "0") ||
	    (ss->o->off_cpu && (profile__meta_set(p, "off_cpu", "yes") ||
				profile__meta_setf(p, "off_cpu_min_ns", "%" PRIu64, ss->o->off_cpu_min_ns) ||
				profile__meta_setf(p, "off_cpu_rate", "%u", ss->o->off_cpu_rate))))
		err = -ENOMEM;
	free(cmdline);
	free(targets);
	return err;
}

static int store_counters(struct session *ss)
{
	uint64_t c[SCORCH_CNT_MAX];
	struct profile *p = &ss->prof;

	if (sampler__counters(ss->cap.smp, c))
		return 0; /* the file still says what the recorder saw */
	if (profile__counter_set(p, "samples", p->total) ||
	    profile__counter_set(p, "lost", c[SCORCH_CNT_LOST_RINGBUF] + ss->cap.unread) ||
	    profile__counter_set(p, "lost_unread", ss->cap.unread) ||
	    profile__counter_set(p, "children_followed", c[SCORCH_CNT_FORKS]) ||
	    profile__counter_set(p, "children_not_followed", c[SCORCH_CNT_LOST_TARGETS]) ||
	    profile__counter_set(p, "stack_copies_short", c[SCORCH_CNT_STACK_CUT]) ||
	    profile__counter_set(p, "user_regs_unreadable", c[SCORCH_CNT_NO_REGS]) ||
	    profile__counter_set(p, "samples_in_exec", c[SCORCH_CNT_IN_EXEC]) ||
	    profile__counter_set(p, "mapping_events_lost", c[SCORCH_CNT_LOST_EVENTS]) ||
	    profile__counter_set(p, "mapping_walks_refused", c[SCORCH_CNT_WALKS_REFUSED]) ||
	    profile__counter_set(p, "stack_size_needed", ss->cap.stack_need) ||
	    profile__counter_set(p, "unwind_kernel", c[SCORCH_CNT_UW_DONE]) ||
	    profile__counter_set(p, "unwind_kernel_depth_cap", c[SCORCH_CNT_UW_DEPTH]) ||
	    profile__counter_set(p, "stack_copies_shed", c[SCORCH_CNT_COPY_SHED]) ||
	    profile__counter_set(p, "unwind_kernel_by_file", c[SCORCH_CNT_UW_BY_FILE]) ||
	    profile__counter_set(p, "unwind_fallback",
				 c[SCORCH_CNT_UW_NO_PROC] + c[SCORCH_CNT_UW_NO_TABLE] +
					 c[SCORCH_CNT_UW_UNKNOWN] + c[SCORCH_CNT_UW_READ] +
					 c[SCORCH_CNT_UW_BAD]) ||
	    profile__counter_set(p, "unwind_fallback_no_tables", c[SCORCH_CNT_UW_NO_PROC]) ||
	    profile__counter_set(p, "unwind_fallback_no_table", c[SCORCH_CNT_UW_NO_TABLE]) ||
	    profile__counter_set(p, "unwind_fallback_unknown_row", c[SCORCH_CNT_UW_UNKNOWN]) ||
	    profile__counter_set(p, "unwind_fallback_read", c[SCORCH_CNT_UW_READ]) ||
	    profile__counter_set(p, "unwind_fallback_bad_step", c[SCORCH_CNT_UW_BAD]) ||
	    recorder__store_counters(ss->cap.rec))
		return -ENOMEM;
	return ss->o->off_cpu ? store_off_cpu_counters(p, c) : 0;
}

/*
 * The one-line status on a terminal: elapsed time, samples, lost, the targets' state. Redrawn in place
 * twice a second; erased before anything else is printed.
 */
static void status_line(struct session *ss, uint64_t elapsed_ns, int erase)
{
	uint64_t c[SCORCH_CNT_MAX] = { 0 };

	if (erase) {
		fputs("\r\033[K", stderr);
		return;
	}
	sampler__counters(ss->cap.smp, c);
	fprintf(stderr, "\r\033[Kscorch: %.1f s  %" PRIu64 " samples  %" PRIu64 " lost  %s",
		(double)elapsed_ns / 1e9, ss->prof.total, c[SCORCH_CNT_LOST_RINGBUF],
		stop_signal ? "stopping" : "recording");
	if (ss->o->duration_ns)
		fprintf(stderr, " (%.0f s left)",
			(double)(ss->o->duration_ns -
				 (elapsed_ns < ss->o->duration_ns ? elapsed_ns : ss->o->duration_ns)) /
				1e9);
	fflush(stderr);
}

/* Losses past 1%: what to change. */
static void warn_lost(struct session *ss, uint64_t lost)
{
	size_t rb = sampler__ringbuf_bytes(ss->cap.smp);
	double share = 100.0 * (double)lost / (double)(lost + ss->prof.total);
	uint64_t unread = ss->cap.unread;

	if (unread) {
		pr_warn("%" PRIu64 " samples were still in the ring buffer when the recording ended, and the "
			"recorder could not read them within %.0f s (lost_unread): it was behind; record "
			"with a lower -F, fewer processes, or on a less busy machine",
			unread, (double)FINISH_NS / 1e9);
		lost -= unread;
		if (!lost)
			return;
		share = 100.0 * (double)lost / (double)(lost + unread + ss->prof.total);
	}

	if (share <= 1.0) {
		pr_warn("%" PRIu64 " samples (%.2f%%) were lost because the ring buffer was full", lost,
			share);
		return;
	}
	if (rb < SAMPLER_RINGBUF_MAX)
		pr_warn("%" PRIu64
			" samples (%.1f%%) were lost because the ring buffer (%zu KiB) was full: record "
			"with a larger one, such as --buffer-size %zuM, or lower -F%s",
			lost, share, rb >> 10, rb * 4 > ((size_t)1 << 20) ? (rb * 4) >> 20 : 1,
			ss->o->call_graph == RECORDER_CG_FP ? "" : " or the stack copy (-g MODE,SIZE)");
	else
		pr_warn("%" PRIu64
			" samples (%.1f%%) were lost because the ring buffer (%zu KiB, the largest) was "
			"full: lower -F%s",
			lost, share, rb >> 10,
			ss->o->call_graph == RECORDER_CG_FP ? "" : " or the stack copy (-g MODE,SIZE)");
}

/* DWARF unwinds cut by the stack copy, past 3% of the user stacks: the size that would have done. */
static void warn_truncated(struct session *ss)
{
	struct profile *p = &ss->prof;
	uint64_t cut = profile__counter_get(p, "unwind_truncated"),
		 stacks = profile__counter_get(p, "user_stacks");
	uint32_t need = ss->cap.stack_need, have = ss->o->stack_size, size;
	const char *mode = call_graph_mode(ss->o);
	char tail[128];
	double share;

	if (ss->o->call_graph == RECORDER_CG_FP || !stacks || cut * 100 <= stacks * 3)
		return;
	share = 100.0 * (double)cut / (double)stacks;
	/* Whole pages, as the copy goes page by page. */
	size = need > SCORCH_STACK_MAX - SCORCH_PAGE_SIZE
		       ? SCORCH_STACK_MAX
		       : (need + SCORCH_PAGE_SIZE - 1) & ~(SCORCH_PAGE_SIZE - 1);
	if (need > have && need <= SCORCH_STACK_MAX) {
		pr_warn("%.0f%% of the user stacks were cut where the %u-byte stack copy ended (unwind_truncated): "
			"the deepest needed %u bytes (stack_size_needed); record with -g %s,%u",
			share, have, need, mode, size);
		return;
	}
	snprintf(tail, sizeof(tail), "%s%s%s", have < SCORCH_STACK_MAX ? "record with -g " : "",
		 have < SCORCH_STACK_MAX ? mode : "",
		 have < SCORCH_STACK_MAX ? ",65536 (the most), or with -g fp for code "
					   "built with frame pointers"
					 : "record with -g fp for code built with frame pointers");
	if (need > SCORCH_STACK_MAX)
		pr_warn("%.0f%% of the user stacks were cut where the %u-byte stack copy ended (unwind_truncated): "
			"the deepest needed %u bytes (stack_size_needed), more than can be copied; %s",
			share, have, need, tail);
	else if (!need) /* no depth known: the kernel has no bpf_find_vma(), or its mmap lock was busy */
		pr_warn("%.0f%% of the user stacks were cut where the %u-byte stack copy ended (unwind_truncated); %s",
			share, have, tail);
	else /* the deepest stack seen fitted: the unwinds read past its top */
		pr_warn("%.0f%% of the user stacks were cut where the %u-byte stack copy ended (unwind_truncated), "
			"though no stack seen was deeper than %u bytes (stack_size_needed); %s",
			share, have, need, tail);
}

/* Unwind tables that did not fit: what they cost, and the size that would have held them all. */
static void warn_tables(struct session *ss)
{
	struct profile *p = &ss->prof;
	uint64_t no_room = profile__counter_get(p, "unwind_tables_no_room");
	uint64_t rows = profile__counter_get(p, "unwind_table_rows_peak") +
			profile__counter_get(p, "unwind_table_rows_no_room");
	uint64_t need = (rows * sizeof(struct scorch_uw_row) + (1u << 20) - 1) >> 20;
	size_t size = ss->o->table_size;

	if (!no_room)
		return;
	if (need > 1024)
		pr_warn("the unwind tables of %" PRIu64 " file%s did not fit in %zuM: samples in %s were "
			"unwound from the stack copy; they take %" PRIu64 "M with the others, more than "
			"--unwind-table-size allows (1G)",
			no_room, no_room > 1 ? "s" : "", size >> 20, no_room > 1 ? "them" : "it", need);
	else
		pr_warn("the unwind tables of %" PRIu64 " file%s did not fit in %zuM: samples in %s were "
			"unwound from the stack copy; record with --unwind-table-size %" PRIu64 "M",
			no_room, no_room > 1 ? "s" : "", size >> 20, no_room > 1 ? "them" : "it", need);
}

/* Stack copies left out for room in the ring buffer: the samples are there, with shorter stacks. */
static void warn_shed(struct session *ss)
{
	uint64_t shed = profile__counter_get(&ss->prof, "stack_copies_shed");
	size_t rb = sampler__ringbuf_bytes(ss->cap.smp);

	if (!shed)
		return;
	pr_warn("%" PRIu64 " sample%s (%.1f%%) went without %s stack copy because the ring buffer (%zu KiB) "
		"was more than 3/4 full (stack_copies_shed): %s kept the frame-pointer walk%s",
		shed, shed > 1 ? "s" : "",
		100.0 * (double)shed / (double)(ss->prof.total ? ss->prof.total : 1),
		shed > 1 ? "their" : "its", rb >> 10, shed > 1 ? "they" : "it",
		rb < SAMPLER_RINGBUF_MAX ? "; a larger --buffer-size keeps the copies" : "");
}

static void print_summary(struct session *ss, double secs)
{
	struct profile *p = &ss->prof;
	uint64_t lost = profile__counter_get(p, "lost");
	uint64_t bytes = pfile__writer_bytes(ss->w);

	pr_info("recorded %" PRIu64 " samples in %.1f s (lost %" PRIu64
		") into '%s' (%.1f KiB, %.1f bytes/sample)",
		p->total, secs, lost, ss->o->output, (double)bytes / 1024.0,
		p->total ? (double)bytes / (double)p->total : 0.0);
	if (lost)
		warn_lost(ss, lost);
	warn_shed(ss);
	warn_truncated(ss);
	warn_tables(ss);
	if (!ss->out.in_place)
		pr_info("next: scorch report -i %s", ss->o->output);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	struct session ss;
	struct sampler_opts so = { 0 };
	struct recorder_opts ro = { 0 };
	uint64_t start, last_flush, start_real, stop_time = 0, last_status = 0;
	int show_status = isatty(STDERR_FILENO) && log__level() >= LOG_INFO;
	struct timespec rt;
	uint32_t max_freq;
	size_t i;
	int err = 0, ret = EXIT_ERROR, opened = 0;

	memset(&o, 0, sizeof(o));
	memset(&ss, 0, sizeof(ss));
	ss.o = &o;
	pidwatch__init(&ss.targets);

	err = parse_args(argc, argv, &o);
	if (err)
		return cli__parse_status(err, "record");

	max_freq = sampler__max_freq();
	if (max_freq && o.freq > max_freq) {
		pr_err("-F %u is above the kernel's limit of %u Hz (kernel.perf_event_max_sample_rate)",
		       o.freq, max_freq);
		return EXIT_USAGE;
	}
	for (i = 0; i < o.nr_pids; i++) {
		char comm[64];
		uint32_t tgid;

		if (read_status(o.pids[i], &tgid, comm, sizeof(comm))) {
			pr_err("no process with pid %u", o.pids[i]);
			return EXIT_ERROR;
		}
		if (tgid != o.pids[i]) {
			pr_info("pid %u is a thread of process %u: sampling the whole process", o.pids[i],
				tgid);
			o.pids[i] = tgid;
		}
	}
	if (o.cgroup && cgroup__resolve(o.cgroup, o.cgroup_path, &o.cgroup_id, &o.cgroup_level))
		return EXIT_ERROR;
	if (sampler__check_privileges())
		return EXIT_ERROR;
	if (install_signals()) {
		pr_err("cannot install signal handlers: %s", strerror(errno));
		return EXIT_ERROR;
	}

	profile__init(&ss.prof);
	if (outfile__open(&ss.out, o.output, 1))
		goto out;
	opened = 1;
	if (o.cmd) {
		if (launcher__spawn(&ss.child, o.cmd, ss.out.shares_stdout))
			goto out;
		ss.have_child = 1;
		child_pid = ss.child.pid;
	}
	/* After the fork: the command keeps the limit it was given. */
	cli__raise_nofile();

	so.freq = o.freq;
	so.event = o.event;
	so.follow_forks = !o.no_inherit; /* as perf does, for -p too; not with -a (everything is sampled) */
	so.idle = o.idle;
	so.ringbuf_bytes = o.buffer_size;
	so.no_events = o.no_mapping_events;
	so.all = o.all;
	so.cgroup_id = o.cgroup_id;
	so.cgroup_level = o.cgroup_level;
	so.off_cpu = o.off_cpu;
	so.off_cpu_min_ns = o.off_cpu_min_ns;
	so.off_cpu_rate = o.off_cpu_rate;
	/* fp: a few words at SP to repair the leaf's caller; dwarf: no frame-pointer walk at all. */
	so.no_fp_stack = o.call_graph == RECORDER_CG_DWARF;
	so.stack_bytes = o.call_graph == RECORDER_CG_FP ? SCORCH_STACK_FP_REPAIR : o.stack_size;
	/* auto and copy keep the walk to fall back on; -g dwarf asked for copies, and gets them or none. */
	so.shed_copies = o.call_graph == RECORDER_CG_AUTO;
	/* auto: in the kernel from the unwind tables; the copy and the walk only where that fails. */
	so.uw_rows = o.call_graph == RECORDER_CG_AUTO && !o.copy_only
			     ? (uint32_t)(o.table_size / sizeof(struct scorch_uw_row))
			     : 0;
	ro.sym.debug_dirs = o.debug_dirs;
	ro.sym.nr_debug_dirs = o.nr_debug_dirs;
	ro.sym.no_demangle = o.no_demangle;
	ro.no_python = o.no_python;
	ro.no_sandbox = o.no_sandbox || o.debuginfod; /* debuginfod is a network client: not in the jail */
	ro.sym.debuginfod = o.debuginfod;
	/* debuginfod is a network client: only when asked for. */
	if (!o.debuginfod)
		unsetenv("DEBUGINFOD_URLS");
	ro.call_graph = o.call_graph;
	if (capture__open(&ss.cap, &ss.prof, &so, &ro))
		goto out;
	/* The held child is sampled from its exec on: until then it runs this program's image. */
	if (ss.have_child && sampler__add_target(ss.cap.smp, (uint32_t)ss.child.pid, 1))
		goto out;
	for (i = 0; i < o.nr_pids; i++)
		if (capture__add_target(&ss.cap, o.pids[i]))
			goto out;
	if (pidwatch__open(&ss.targets, o.pids, o.nr_pids))
		goto nomem;

	clock_gettime(CLOCK_REALTIME, &rt);
	start_real = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
	if (store_meta(&ss, start_real, argc, argv))
		goto nomem;
	ss.w = pfile__writer_new(ss.out.fd, ss.out.path);
	if (!ss.w)
		goto out;
	if (pfile__writer_flush(ss.w, &ss.prof))
		goto out;

	start = last_flush = clock__mono_ns();
	if (ss.have_child) {
		if (launcher__release(&ss.child, o.cmd[0])) {
			ss.have_child = 0;
			child_pid = 0;
			goto out;
		}
	}
	if (o.cmd)
		pr_info("recording '%s' (pid %d) at %u Hz", o.cmd[0], (int)ss.child.pid, o.freq);
	else if (o.all)
		pr_info("recording %s at %u Hz%s", o.cgroup ? "the processes of the cgroup" : "every process",
			o.freq, o.duration_ns ? "" : "; Ctrl-C to stop");
	else
		pr_info("recording %zu process%s at %u Hz%s", o.nr_pids, o.nr_pids > 1 ? "es" : "", o.freq,
			o.duration_ns ? "" : "; Ctrl-C to stop");

	for (;;) {
		uint64_t now;

		if (stop_signal) {
			/* The command got the signal too (from the terminal, or passed on): let it finish. */
			if (!ss.have_child || ss.child.reaped)
				break;
			if (!stop_time)
				stop_time = clock__mono_ns();
			else if (clock__mono_ns() - stop_time > CHILD_GRACE_NS)
				break;
		}

		err = capture__poll(&ss.cap, POLL_MS);
		if (err)
			goto out;
		now = clock__mono_ns();
		if (now - last_flush >= FLUSH_NS) {
			if (store_counters(&ss) ||
			    profile__meta_setf(&ss.prof, "duration_ns", "%" PRIu64, now - start))
				goto nomem;
			if (pfile__writer_flush(ss.w, &ss.prof))
				goto out;
			last_flush = now;
			/* Every process, or followed children: the caches of those that exited would grow
			 * without bound (and a pid given again to a new child must not keep the old maps). */
			if (o.all || so.follow_forks)
				recorder__forget_exited(ss.cap.rec);
		}
		if (show_status && now - last_status >= 500000000ULL) {
			status_line(&ss, now - start, 0);
			last_status = now;
		}
		if (o.duration_ns && now - start >= o.duration_ns)
			break;
		if (targets_gone(&ss))
			break;
	}
	if (show_status)
		status_line(&ss, 0, 1);
	/* Whatever is still in the ring buffer belongs to this recording: read it, within reason. */
	err = capture__finish(&ss.cap, FINISH_NS);
	if (err)
		goto out;
	/* JIT code recorded unnamed: the perf maps as they are now (a JVM writes its map at exit). */
	if (o.java_perfmap && recorder__ask_jvms(ss.cap.rec, JCMD_TIMEOUT_MS) == -ENOMEM)
		goto nomem;
	if (recorder__final_perfmaps(ss.cap.rec))
		goto nomem;
	if (stop_signal)
		pr_info("stopping on %s", strsignal(stop_signal));
	{
		uint64_t elapsed = clock__mono_ns() - start;

		if (store_counters(&ss) || profile__meta_setf(&ss.prof, "duration_ns", "%" PRIu64, elapsed))
			goto nomem;
		if (ss.have_child && ss.child.reaped) {
			char desc[96];

			launcher__describe(ss.child.status, desc, sizeof(desc));
			if (profile__meta_set(&ss.prof, "exit_status", desc))
				goto nomem;
		}
		if (pfile__writer_finish(ss.w, &ss.prof))
			goto out;
		opened = 0;
		if (outfile__commit(&ss.out))
			goto out;
		print_summary(&ss, (double)elapsed / 1e9);
	}
	if (ss.have_child) {
		char desc[96];

		if (ss.child.reaped) {
			launcher__describe(ss.child.status, desc, sizeof(desc));
			pr_info("'%s' %s", o.cmd[0], desc);
		} else {
			pr_info("'%s' (pid %d) is still running", o.cmd[0], (int)ss.child.pid);
		}
	}
	if (!ss.prof.total)
		pr_warn("no samples were taken: was the target idle, or did it exit at once?");
	ret = EXIT_OK;
	goto out;
nomem:
	pr_err("out of memory");
out:
	if (ret != EXIT_OK && show_status)
		status_line(&ss, 0, 1);
	if (opened)
		outfile__abort(&ss.out);
	if (ss.have_child && ss.child.go_fd >= 0)
		launcher__abort(&ss.child); /* never released: it must not run unprofiled */
	pfile__writer_free(ss.w);
	capture__close(&ss.cap);
	profile__release(&ss.prof);
	pidwatch__release(&ss.targets);
	return ret;
}
