// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "log.h"
#include "sampler.h"
#include "sampler.skel.h"

#define MAX_CPUS 4096
/*
 * One poll reads samples for at most this long: libbpf's consume does not return while records keep
 * coming, and a caller whose samples cost more than they arrive must still see its clock and signals.
 */
#define CONSUME_BUDGET_NS (50 * 1000 * 1000ULL)

struct sampler {
	struct sampler_bpf *skel;
	struct ring_buffer *rb;
	struct ring_buffer *erb; /* mapping events, NULL when unavailable */
	int has_events;
	int *pfds;               /* per online CPU perf event fds, -1 when not opened */
	struct bpf_link **links; /* per online CPU */
	int nr_cpus;             /* online CPUs we attached to */
	const char *event;
	/* for the ring buffer callback */
	sampler_fn fn;
	sampler_event_fn efn;
	void *fn_ctx;
	int fn_ret;
	uint64_t consume_until; /* CLOCK_MONOTONIC ns at which a poll stops reading samples */
	int empty;              /* the last poll read the ring buffer to its end */
	uint64_t bad_records;
	uint64_t records, record_bytes; /* well-formed sample records read, and their bytes */
	size_t rb_bytes;                /* size of the samples ring buffer */
	uint32_t uw_rows; /* rows the unwind tables may take in all; 0: no in-kernel unwinding */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (log__level() < LOG_DEBUG)
		return 0;
	fputs("scorch: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* Parse a CPU list such as "0-3,5" into a boolean array of MAX_CPUS. */
static int online_cpus(unsigned char *online)
{
	char buf[4096], *p, *end;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0 || a >= MAX_CPUS)
			return -EINVAL;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= MAX_CPUS)
				return -EINVAL;
			p = end;
		}
		for (; a <= b; a++)
			online[a] = 1;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int perf_open(int type, unsigned long long config, uint32_t freq, int cpu)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (__u32)type;
	attr.config = config;
	attr.freq = 1;
	attr.sample_freq = freq;
	return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

uint32_t sampler__max_freq(void)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/perf_event_max_sample_rate", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (uint32_t)strtoul(buf, NULL, 10);
}

static int has_cap(unsigned long long caps, int cap)
{
	return (caps >> cap) & 1;
}

int sampler__check_privileges(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		pr_err("the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): recording needs a kernel "
		       "built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	f = fopen("/proc/self/status", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "CapEff: %llx", &caps) == 1)
				break;
		fclose(f);
	}
	/* CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39 */
	if (has_cap(caps, 21) || (has_cap(caps, 38) && has_cap(caps, 39)))
		return 0;
	pr_err("recording needs root, or the capabilities CAP_BPF and CAP_PERFMON (this process has %s%s)",
	       has_cap(caps, 39)   ? "CAP_BPF but not CAP_PERFMON"
	       : has_cap(caps, 38) ? "CAP_PERFMON but not CAP_BPF"
				   : "neither",
	       geteuid() ? "; try 'sudo scorch record ...'" : "");
	return -EPERM;
}

size_t sampler__default_ringbuf(int nr_cpus, uint32_t freq, uint32_t stack_bytes)
{
	/*
	 * Half a second of samples of every CPU at the full rate: the reader is woken when a quarter is
	 * full, and an unwinding batch or a maps read can keep it away for a while. At least 4 MiB, at
	 * most 256 MiB, rounded up to a power of two (the kernel's ring buffers are).
	 */
	uint64_t per_sample = SAMPLER_SAMPLE_BUDGET + stack_bytes;
	uint64_t sz = (uint64_t)(nr_cpus > 0 ? nr_cpus : 1) * freq * per_sample / 2;

	if (sz < SAMPLER_RINGBUF_DEFAULT_MIN)
		sz = SAMPLER_RINGBUF_DEFAULT_MIN;
	if (sz > SAMPLER_RINGBUF_DEFAULT_MAX)
		sz = SAMPLER_RINGBUF_DEFAULT_MAX;
	return sampler__round_ringbuf((size_t)sz);
}

size_t sampler__round_ringbuf(size_t bytes)
{
	size_t p = SAMPLER_RINGBUF_MIN;

	while (p < bytes && p < SAMPLER_RINGBUF_MAX)
		p <<= 1;
	return p;
}

/* A wait has a known state and duration; a CPU sample has neither. */
static int offcpu_ok(const struct scorch_sample *h)
{
	if (!(h->flags & SCORCH_SAMPLE_OFF_CPU))
		return !h->off_ns && !h->off_state;
	return h->off_ns && h->off_state >= SCORCH_OFF_SLEEP && h->off_state <= SCORCH_OFF_RUNQ;
}

int sampler__parse_record(const void *data, size_t size, struct sampler_record *out)
{
	const struct scorch_sample *h = data;
	const uint64_t *a;
	uint64_t need;

	memset(out, 0, sizeof(*out));
	if (size < sizeof(*h))
		return -EINVAL;
	if (h->nr_kstack > SCORCH_MAX_STACK || h->nr_ustack > SCORCH_MAX_STACK)
		return -EINVAL;
	if (h->stack_size && !(h->flags & SCORCH_SAMPLE_REGS))
		return -EINVAL;
	if (!offcpu_ok(h) || h->nr_py > SCORCH_PY_MAX_FRAMES)
		return -EINVAL;
	/* At most 80 + 2 * 8 * 127 + 136 + 24 * 64 + 2^32 - 1: no overflow in 64 bits. */
	need = scorch_sample__size(h->nr_kstack, h->nr_ustack, h->nr_py, h->flags, h->stack_size);
	if (need != size)
		return -EINVAL;
	a = (const uint64_t *)(h + 1);
	out->hdr = h;
	out->kstack = a;
	out->ustack = a + h->nr_kstack;
	a = out->ustack + h->nr_ustack;
	out->py = (const struct scorch_py_frame *)a;
	a += h->nr_py * (SCORCH_PY_FRAME_BYTES / 8);
	if (h->flags & SCORCH_SAMPLE_REGS) {
		out->regs = a;
		a += SCORCH_NR_REGS;
	}
	out->stack = (const uint8_t *)a;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	struct sampler_record r;

	if (sampler__parse_record(data, size, &r)) {
		s->bad_records++;
		return 0;
	}
	s->records++;
	s->record_bytes += size;
	s->fn_ret = s->fn(s->fn_ctx, &r);
	/* Out of time: a negative return stops libbpf's loop after this record (consumed). */
	if (!s->fn_ret && clock__mono_ns() > s->consume_until)
		return -EAGAIN;
	return s->fn_ret;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;

	if (!s->efn)
		return 0;
	s->fn_ret = s->efn(s->fn_ctx, data, size);
	return s->fn_ret;
}

/*
 * Size the maps and set the constants of --off-cpu (or shrink its maps to nothing without it). A CPU
 * gets a second scratch entry for the waits' records; the stacks-per-second bound is split over the
 * CPUs and the tenths of a second (the BPF side keeps it per CPU per 100 ms).
 */
static void set_off_cpu(struct sampler *s, const struct sampler_opts *opts)
{
	__u32 ncpu = (__u32)libbpf_num_possible_cpus();
	uint64_t burst = opts->off_cpu_rate / 10 / (uint64_t)(s->nr_cpus > 0 ? s->nr_cpus : 1);

	bpf_map__set_max_entries(s->skel->maps.scratch, opts->off_cpu ? 2 * ncpu : ncpu);
	s->skel->rodata->scratch_off = ncpu;
	s->skel->rodata->off_cpu_min_ns = opts->off_cpu_min_ns;
	s->skel->rodata->off_cpu_burst = burst < 1 ? 1 : burst > UINT32_MAX ? UINT32_MAX : (__u32)burst;
	bpf_program__set_autoload(s->skel->progs.on_switch, opts->off_cpu);
	bpf_program__set_autoload(s->skel->progs.on_sys_exit_off, opts->off_cpu);
	/* Optional: a kernel without the tracepoint would refuse the whole object. */
	bpf_program__set_autoload(s->skel->progs.on_rseq_off,
				  opts->off_cpu &&
					  libbpf_find_vmlinux_btf_id("rseq_update", BPF_TRACE_RAW_TP) > 0);
	bpf_program__set_autoload(s->skel->progs.on_exit_off, opts->off_cpu);
	/* Without --off-cpu its maps are not created at all: a descriptor each (record under ulimit -n). */
	bpf_map__set_autocreate(s->skel->maps.off_start, opts->off_cpu);
	bpf_map__set_autocreate(s->skel->maps.off_pending, opts->off_cpu);
	bpf_map__set_autocreate(s->skel->maps.off_build, opts->off_cpu);
	bpf_map__set_autocreate(s->skel->maps.off_budget, opts->off_cpu);
}

/* The --off-cpu programs; rseq_update is optional (Linux 4.18, and only for threads with rseq). */
static int attach_off_cpu(struct sampler *s)
{
	int err;

	s->skel->links.on_switch = bpf_program__attach(s->skel->progs.on_switch);
	s->skel->links.on_sys_exit_off = bpf_program__attach(s->skel->progs.on_sys_exit_off);
	s->skel->links.on_exit_off = bpf_program__attach(s->skel->progs.on_exit_off);
	if (!s->skel->links.on_switch || !s->skel->links.on_sys_exit_off || !s->skel->links.on_exit_off) {
		err = -errno;
		pr_err("--off-cpu: cannot attach to the tracepoints sched_switch, sys_exit and sched_process_exit: "
		       "%s",
		       strerror(errno));
		return err;
	}
	if (bpf_program__fd(s->skel->progs.on_rseq_off) >= 0)
		s->skel->links.on_rseq_off = bpf_program__attach(s->skel->progs.on_rseq_off);
	else
		errno = ENOENT;
	if (!s->skel->links.on_rseq_off)
		pr_debug(
			"--off-cpu: no rseq_update tracepoint (%s): waits outside system calls are sent at the "
			"next switch",
			strerror(errno));
	pr_debug("off-CPU: waits of at least %llu ns get stacks, at most %u per CPU per 100 ms",
		 (unsigned long long)s->skel->rodata->off_cpu_min_ns, s->skel->rodata->off_cpu_burst);
	return 0;
}

/* Open and load the skeleton, with or without the mapping-event programs. */
static int load_skel(struct sampler *s, const struct sampler_opts *opts, size_t rb_bytes, int events,
		     uint32_t uw_rows)
{
	int err;

	s->skel = sampler_bpf__open();
	if (!s->skel) {
		err = -errno;
		pr_err("cannot open the BPF sampler: %s", strerror(errno));
		return err;
	}
	s->skel->rodata->filter_targets = !opts->all;
	s->skel->rodata->cgroup_id = opts->cgroup_id;
	s->skel->rodata->cgroup_level = opts->cgroup_level;
	s->skel->rodata->wakeup_bytes = rb_bytes / 4;
	bpf_map__set_max_entries(s->skel->maps.samples, (__u32)rb_bytes);
	s->skel->rodata->fp_stack = !opts->no_fp_stack;
	s->skel->rodata->keep_idle = opts->idle && opts->all;
	s->skel->rodata->stack_bytes =
		opts->stack_bytes > SCORCH_STACK_MAX ? SCORCH_STACK_MAX : opts->stack_bytes;
	set_off_cpu(s, opts);
	s->skel->rodata->uw_kernel = uw_rows != 0;
	s->skel->rodata->shed_copies = opts->shed_copies;
	/* Without a target filter (-a) neither the target set nor the forked children are used. */
	if (opts->all) {
		bpf_map__set_max_entries(s->skel->maps.targets, 1);
		bpf_map__set_max_entries(s->skel->maps.forked, 1);
	}
	bpf_program__set_autoload(s->skel->progs.on_fork, opts->follow_forks && !opts->all);
	/* Followed children that exit are forgotten by on_exit, or by this when on_exit is not there. */
	bpf_program__set_autoload(s->skel->progs.on_exit_forget, opts->follow_forks && !opts->all);
	bpf_program__set_autoload(s->skel->progs.on_exit, events);
	bpf_program__set_autoload(s->skel->progs.on_prepare_exec, events);
	return sampler_bpf__load(s->skel);
}

/* The mapping-event programs and their ring buffer; on failure recording goes on without them. */
static void attach_events(struct sampler *s)
{
	s->skel->links.on_exit = bpf_program__attach(s->skel->progs.on_exit);
	if (!s->skel->links.on_exit) {
		pr_debug("mapping events unavailable: cannot attach tp_btf/sched_process_exit: %s",
			 strerror(errno));
		return;
	}
	s->skel->links.on_prepare_exec = bpf_program__attach(s->skel->progs.on_prepare_exec);
	if (!s->skel->links.on_prepare_exec) {
		pr_debug("mapping events unavailable: cannot attach tp_btf/sched_prepare_exec: %s",
			 strerror(errno));
		goto detach;
	}
	s->erb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_event, s, NULL);
	if (!s->erb) {
		pr_debug("mapping events unavailable: cannot set up their ring buffer: %s", strerror(errno));
		goto detach;
	}
	s->has_events = 1;
	return;
detach:
	bpf_link__destroy(s->skel->links.on_exit);
	bpf_link__destroy(s->skel->links.on_prepare_exec);
	s->skel->links.on_exit = NULL;
	s->skel->links.on_prepare_exec = NULL;
}

struct sampler *sampler__open(const struct sampler_opts *opts)
{
	static unsigned char online[MAX_CPUS];
	struct sampler *s;
	size_t rb_bytes;
	uint32_t uw = opts->uw_rows;
	int cpu, err, type;
	unsigned long long config;

	libbpf_set_print(libbpf_print);
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	memset(online, 0, sizeof(online));
	err = online_cpus(online);
	if (err) {
		pr_err("cannot read the online CPUs from /sys/devices/system/cpu/online: %s", strerror(-err));
		goto fail;
	}
	s->pfds = malloc(MAX_CPUS * sizeof(*s->pfds));
	s->links = calloc(MAX_CPUS, sizeof(*s->links));
	if (!s->pfds || !s->links) {
		err = -ENOMEM;
		goto fail;
	}
	for (cpu = 0; cpu < MAX_CPUS; cpu++)
		s->pfds[cpu] = -1;

	/* Choose the event: hardware cycles when asked for or available, else the cpu-clock timer. */
	type = PERF_TYPE_SOFTWARE;
	config = PERF_COUNT_SW_CPU_CLOCK;
	s->event = "cpu-clock";
	if (strcmp(opts->event, "cpu-clock") != 0) {
		int probe_cpu = 0, fd;

		while (probe_cpu < MAX_CPUS && !online[probe_cpu])
			probe_cpu++;
		fd = perf_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, opts->freq, probe_cpu);
		if (fd >= 0) {
			close(fd);
			type = PERF_TYPE_HARDWARE;
			config = PERF_COUNT_HW_CPU_CYCLES;
			s->event = "cycles";
		} else if (strcmp(opts->event, "cycles") == 0) {
			err = -errno;
			pr_err("cannot sample hardware cycles: %s (this machine may have no PMU: use -e cpu-clock)",
			       strerror(errno));
			goto fail;
		} else {
			pr_debug("hardware cycles unavailable (%s): sampling cpu-clock", strerror(errno));
		}
	}

	for (cpu = 0; cpu < MAX_CPUS; cpu++)
		s->nr_cpus += online[cpu];
	rb_bytes = opts->ringbuf_bytes ? sampler__round_ringbuf(opts->ringbuf_bytes)
				       : sampler__default_ringbuf(s->nr_cpus, opts->freq,
								  opts->uw_rows ? opts->stack_bytes / 4
										: opts->stack_bytes);
	/* And half a second of wait stacks at the full rate (each may carry a stack copy, as samples do). */
	if (!opts->ringbuf_bytes && opts->off_cpu)
		rb_bytes = sampler__round_ringbuf(rb_bytes +
						  (size_t)((uint64_t)opts->off_cpu_rate *
							   (SAMPLER_SAMPLE_BUDGET + opts->stack_bytes) / 2));
	s->rb_bytes = rb_bytes;
	if (libbpf_num_possible_cpus() <= 0) {
		err = -EINVAL;
		pr_err("cannot count the possible CPUs");
		goto fail;
	}
	err = load_skel(s, opts, rb_bytes, !opts->no_events, uw);
	if (err && uw && s->skel) {
		/* The in-kernel unwinder needs bpf_loop (5.17): without it, every stack from its copy. */
		pr_warn("cannot load the in-kernel unwinder (%s): user stacks are unwound from their copies",
			strerror(-err));
		sampler_bpf__destroy(s->skel);
		s->skel = NULL;
		uw = 0;
		err = load_skel(s, opts, rb_bytes, !opts->no_events, uw);
	}
	if (err && !opts->no_events && s->skel) {
		/* The mapping-event programs are optional: load again without them. */
		pr_debug("mapping events unavailable: cannot load their BPF programs (%s)", strerror(-err));
		sampler_bpf__destroy(s->skel);
		s->skel = NULL;
		err = load_skel(s, opts, rb_bytes, 0, uw);
	}
	if (!s->skel)
		goto fail;
	if (err) {
		pr_err("cannot load the BPF sampler: %s%s", strerror(-err),
		       err == -EPERM ? " (recording needs root, or CAP_BPF and CAP_PERFMON)"
				     : " (run with -v for the verifier log)");
		goto fail;
	}
	s->uw_rows = uw;
	s->skel->links.on_exec = bpf_program__attach(s->skel->progs.on_exec);
	if (!s->skel->links.on_exec) {
		err = -errno;
		pr_err("cannot attach the exec tracepoint: %s", strerror(errno));
		goto fail;
	}
	if (!opts->no_events && bpf_program__fd(s->skel->progs.on_exit) >= 0)
		attach_events(s);
	if (opts->off_cpu && (err = attach_off_cpu(s)))
		goto fail;
	if (opts->follow_forks && !opts->all) {
		s->skel->links.on_fork = bpf_program__attach(s->skel->progs.on_fork);
		if (!s->skel->links.on_fork) {
			err = -errno;
			pr_err("cannot attach the fork tracepoint: %s", strerror(errno));
			goto fail;
		}
		if (!s->has_events) {
			s->skel->links.on_exit_forget = bpf_program__attach(s->skel->progs.on_exit_forget);
			if (!s->skel->links.on_exit_forget)
				pr_debug(
					"cannot attach the exit tracepoint (%s): children that exit stay in the "
					"target table",
					strerror(errno));
		}
	}

	for (cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (!online[cpu])
			continue;
		s->pfds[cpu] = perf_open(type, config, opts->freq, cpu);
		if (s->pfds[cpu] < 0) {
			if (errno == ENODEV) { /* went offline meanwhile */
				s->nr_cpus--;
				continue;
			}
			err = -errno;
			pr_err("cannot open a %s perf event on CPU %d: %s%s", s->event, cpu, strerror(errno),
			       errno == EACCES || errno == EPERM
				       ? " (check kernel.perf_event_paranoid, or run as root)"
			       : errno == EINVAL ? " (is -F above kernel.perf_event_max_sample_rate?)"
						 : "");
			goto fail;
		}
		s->links[cpu] = bpf_program__attach_perf_event(s->skel->progs.on_sample, s->pfds[cpu]);
		if (!s->links[cpu]) {
			err = -errno;
			pr_err("cannot attach the BPF sampler to CPU %d: %s", cpu, strerror(errno));
			goto fail;
		}
	}

	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), on_record, s, NULL);
	if (!s->rb) {
		err = -errno;
		pr_err("cannot set up the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	pr_debug("sampling %s at %u Hz on %d CPUs, ring buffer %zu KiB, user stack copies of %u bytes",
		 s->event, opts->freq, s->nr_cpus, rb_bytes >> 10, opts->stack_bytes);
	return s;
fail:
	sampler__free(s);
	errno = -err;
	return NULL;
}

int sampler__add_target(struct sampler *s, uint32_t pid, int from_exec)
{
	__u8 state = from_exec ? SCORCH_TARGET_AT_EXEC : SCORCH_TARGET_ON;
	int err = bpf_map__update_elem(s->skel->maps.targets, &pid, sizeof(pid), &state, sizeof(state),
				       BPF_ANY);

	if (err)
		pr_err("cannot add pid %u to the sampler's targets: %s", pid, strerror(-err));
	return err;
}

int sampler__poll(struct sampler *s, int timeout_ms, sampler_fn fn, sampler_event_fn efn, void *ctx)
{
	struct epoll_event ev;
	int err;

	s->fn = fn;
	s->efn = efn;
	s->fn_ctx = ctx;
	s->fn_ret = 0;
	/*
	 * Samples are submitted without wakeups, so the wait mostly times out: then drain the events
	 * first (a sample's mappings were sent before it), then the samples. The wait does not consume.
	 */
	err = epoll_wait(ring_buffer__epoll_fd(s->rb), &ev, 1, timeout_ms);
	if (err < 0)
		err = -errno;
	if (err >= 0 && s->erb)
		err = ring_buffer__consume(s->erb);
	s->consume_until = clock__mono_ns() + CONSUME_BUDGET_NS;
	s->empty = 0;
	if (err >= 0 && !s->fn_ret) {
		err = ring_buffer__consume(s->rb);
		s->empty = err >= 0;
	}
	if (s->fn_ret)
		return s->fn_ret;
	if (err == -EINTR || err == -EAGAIN) /* -EAGAIN: the budget ran out, the rest is read next time */
		return 0;
	if (err < 0)
		pr_err("cannot read the BPF ring buffer: %s", strerror(-err));
	return err < 0 ? err : 0;
}

void sampler__stop(struct sampler *s)
{
	int cpu;

	if (!s->links)
		return;
	for (cpu = 0; cpu < MAX_CPUS; cpu++) {
		bpf_link__destroy(s->links[cpu]);
		s->links[cpu] = NULL;
	}
}

int sampler__empty(const struct sampler *s)
{
	return s->empty;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data, (void)size;
	(*(uint64_t *)ctx)++;
	return 0;
}

uint64_t sampler__discard(struct sampler *s)
{
	uint64_t n = 0;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), count_record, &n, NULL);

	if (!rb)
		return 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

int sampler__counters(struct sampler *s, uint64_t out[SCORCH_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), i, c;
	__u64 *vals;

	memset(out, 0, SCORCH_CNT_MAX * sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < SCORCH_CNT_MAX; i++) {
		__u32 key = (__u32)i;

		if (bpf_map__lookup_elem(s->skel->maps.counters, &key, sizeof(key), vals,
					 (size_t)ncpu * sizeof(*vals), 0))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int sampler__drain_events(struct sampler *s, sampler_event_fn efn, void *ctx)
{
	int outer_ret = s->fn_ret, ret, err;

	if (!s->erb)
		return 0;
	/* May run from inside the sample callback (the recorder flushing a full queue): keep its state. */
	s->efn = efn;
	s->fn_ctx = ctx;
	s->fn_ret = 0;
	err = ring_buffer__consume(s->erb);
	ret = s->fn_ret;
	s->fn_ret = outer_ret;
	if (ret)
		return ret;
	if (err < 0 && err != -EINTR) {
		pr_err("cannot read the BPF event ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int sampler__has_events(const struct sampler *s)
{
	return s->has_events;
}

const char *sampler__event(const struct sampler *s)
{
	return s->event;
}

size_t sampler__ringbuf_bytes(const struct sampler *s)
{
	return s->rb_bytes;
}

int sampler__nr_cpus(const struct sampler *s)
{
	return s->nr_cpus;
}

uint32_t sampler__uw_rows(const struct sampler *s)
{
	return s->uw_rows;
}

int sampler__uw_set_table(struct sampler *s, uint32_t slot, const struct scorch_uw_row *rows, uint32_t nr)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t bytes = (size_t)nr * sizeof(*rows), page = (size_t)sysconf(_SC_PAGESIZE);
	void *m;
	int fd, err = 0;

	if (!s->uw_rows || !nr)
		return -EINVAL;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "uw_rows", sizeof(__u32), sizeof(*rows), nr, &o);
	if (fd < 0)
		return -errno;
	/* Written through a mapping: one copy, not a system call per row. */
	m = mmap(NULL, (bytes + page - 1) / page * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
	} else {
		memcpy(m, rows, bytes);
		munmap(m, (bytes + page - 1) / page * page);
		if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.uw_tables), &slot, &fd, BPF_ANY))
			err = -errno;
	}
	close(fd); /* uw_tables holds it */
	return err;
}

int sampler__uw_drop_table(struct sampler *s, uint32_t slot)
{
	if (!s->uw_rows)
		return -EINVAL;
	return bpf_map_delete_elem(bpf_map__fd(s->skel->maps.uw_tables), &slot) && errno != ENOENT ? -errno
												   : 0;
}

int sampler__uw_set_file(struct sampler *s, const struct scorch_uw_file_key *k,
			 const struct scorch_uw_file *f)
{
	int fd = bpf_map__fd(s->skel->maps.uw_files);

	if (!s->uw_rows)
		return -ENOTSUP;
	if (!f)
		return bpf_map_delete_elem(fd, k) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, k, f, BPF_ANY) ? -errno : 0;
}

int sampler__uw_set_proc(struct sampler *s, uint32_t pid, const struct scorch_uw_proc *p)
{
	int fd = bpf_map__fd(s->skel->maps.uw_procs);

	if (!s->uw_rows)
		return -ENOTSUP;
	if (!p->nr)
		return bpf_map_delete_elem(fd, &pid) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &pid, p, BPF_ANY) ? -errno : 0;
}

int sampler__py_set_proc(struct sampler *s, uint32_t pid, const struct scorch_py_proc *p)
{
	int fd = bpf_map__fd(s->skel->maps.py_procs);

	if (!p)
		return bpf_map_delete_elem(fd, &pid) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &pid, p, BPF_ANY) ? -errno : 0;
}

void sampler__free(struct sampler *s)
{
	int cpu;

	if (!s)
		return;
	if (s->bad_records) /* the BPF program and this side disagree on the record's layout */
		pr_warn("%llu malformed sample records were ignored", (unsigned long long)s->bad_records);
	if (s->records)
		pr_debug("%llu sample records read, %llu bytes per record on average",
			 (unsigned long long)s->records, (unsigned long long)(s->record_bytes / s->records));
	ring_buffer__free(s->rb);
	ring_buffer__free(s->erb);
	if (s->links)
		for (cpu = 0; cpu < MAX_CPUS; cpu++)
			bpf_link__destroy(s->links[cpu]);
	if (s->pfds)
		for (cpu = 0; cpu < MAX_CPUS; cpu++)
			if (s->pfds[cpu] >= 0)
				close(s->pfds[cpu]);
	sampler_bpf__destroy(s->skel);
	free(s->links);
	free(s->pfds);
	free(s);
}
