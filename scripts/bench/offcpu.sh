#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# offcpu.sh - off-CPU profiling, scorch record --off-cpu beside bcc's offcputime (offcputime-bpfcc,
# Debian's bpfcc-tools), side by side in one run:
#   - completeness: the share of the blocked time (and of the distinct blocked stacks) of the
#     designed workload (tests/workloads/offcpu.c, built without frame pointers, as distributions
#     build) whose user stack reaches main;
#   - slowdown: context switches per second a two-thread pipe ping-pong (tests/workloads/pingpong.c)
#     achieves alone and with each tool attached;
#   - scorch's BPF cost per context switch (kernel.bpf_stats_enabled: run time over run count of its
#     sched_switch program, and of the sys_exit and rseq_update programs that send the stacks), and the
#     stacks it sends per second.
#
# Usage (as root, from anywhere in the repository):
#   scripts/bench/offcpu.sh
#   SECS=10 scripts/bench/offcpu.sh
#
# Environment:
#   SECS     seconds of each measurement (default 5)
#   SCORCH   scorch binary (default build/scorch; built with make if missing)
#
# offcputime-bpfcc is installed with apt-get when missing; where it cannot be installed or cannot run
# (bcc needs the kernel's headers or its kheaders module), its rows say NOT MEASURED and why.
# It prints numbers and asserts nothing. It exits 0 unless something of scorch's failed to run.

set -euo pipefail

SECS=${SECS:-5}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || {
	echo "offcpu.sh: SECS must be a positive integer, not '$SECS'" >&2
	exit 1
}
die() {
	echo "offcpu.sh: error: $*" >&2
	exit 1
}
note() { echo "offcpu.sh: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "must run as root (both tools load BPF programs); try: sudo $0"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCORCH=${SCORCH:-$REPO/build/scorch}
WL=$REPO/build/workloads
if [[ ! -x $SCORCH || ! -x $WL/offcpu || ! -x $WL/pingpong ]]; then
	note "building scorch and the workloads"
	make -C "$REPO" all workloads >&2 || die "make failed"
fi
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# The peer: offcputime-bpfcc, installed if it can be.
OFFCPU=$(command -v offcputime-bpfcc || true)
OFFCPU_WHY=""
if [[ -z $OFFCPU ]]; then
	note "offcputime-bpfcc missing: apt-get install bpfcc-tools"
	if DEBIAN_FRONTEND=noninteractive apt-get install -y bpfcc-tools >"$TMP/apt.log" 2>&1; then
		OFFCPU=$(command -v offcputime-bpfcc || true)
	fi
	[[ -n $OFFCPU ]] || OFFCPU_WHY="bpfcc-tools could not be installed: $(tail -1 "$TMP/apt.log")"
fi
if [[ -n $OFFCPU ]] && ! timeout 60 "$OFFCPU" -f 1 >"$TMP/probe.out" 2>"$TMP/probe.err"; then
	OFFCPU_WHY="offcputime-bpfcc does not run here: $(grep -v '^$' "$TMP/probe.err" | tail -1)"
	OFFCPU=""
fi
[[ -z $OFFCPU_WHY ]] || note "$OFFCPU_WHY"

# start WORKLOAD ARGS...: start it in the background, wait for its "ready"; sets WPID.
start() {
	"$@" >"$TMP/wl.out" &
	WPID=$!
	PIDS+=("$WPID")
	for _ in $(seq 100); do grep -q ready "$TMP/wl.out" && return 0; sleep 0.1; done
	die "$1 did not start"
}

# share FOLDED: "TIME% STACKS%": of the weight, and of the distinct stacks, that reach main.
share() {
	awk '{ n = $NF; t += n; s++; if ($0 ~ /(^|;)main(;|$| )/) { m += n; ms++ } }
	     END { if (!t) print "- -"; else printf "%.1f %.1f\n", 100 * m / t, 100 * ms / s }' "$1"
}

echo "== completeness: blocked stacks of the no-frame-pointer workload that reach main ($SECS s)"
start "$WL/offcpu" $((SECS + 30)) 50
"$SCORCH" record -q --off-cpu -d "$SECS" -p "$WPID" -o "$TMP/s.prof" || die "scorch record failed"
"$SCORCH" folded --event off-cpu --comm offcpu -i "$TMP/s.prof" >"$TMP/s.folded"
read -r s_time s_stacks < <(share "$TMP/s.folded")
printf "%-22s %8s%% of the time  %8s%% of the stacks\n" "scorch --off-cpu" "$s_time" "$s_stacks"
if [[ -n $OFFCPU ]]; then
	# -f: folded; the main thread is the process's first (its tid is the pid); -U: user stacks only.
	timeout $((SECS + 60)) "$OFFCPU" -f -U -t "$WPID" "$SECS" >"$TMP/b.folded" 2>"$TMP/b.err" || true
	read -r b_time b_stacks < <(share "$TMP/b.folded")
	printf "%-22s %8s%% of the time  %8s%% of the stacks\n" "offcputime-bpfcc" "$b_time" "$b_stacks"
else
	printf "%-22s NOT MEASURED (%s)\n" "offcputime-bpfcc" "$OFFCPU_WHY"
fi
kill "$WPID" 2>/dev/null || true

echo "== slowdown: context switches per second of the pipe ping-pong ($SECS s each)"
pingpong() { # TOOL: runs the ping-pong with TOOL attached ("none", "scorch", "offcputime")
	local tool=$1 tp=""
	start "$WL/pingpong" "$SECS"
	case $tool in
	scorch) "$SCORCH" record -q --off-cpu -p "$WPID" -o "$TMP/pp.prof" & tp=$! ;;
	offcputime) timeout $((SECS + 30)) "$OFFCPU" -f -p "$WPID" >"$TMP/pp.folded" 2>/dev/null & tp=$! ;;
	esac
	wait "$WPID" || true
	[[ -z $tp ]] || wait "$tp" || true
	awk '/^switches/ { print $4 }' "$TMP/wl.out"
}
base=$(pingpong none)
printf "%-22s %10s switches/s\n" "no tool" "$base"
# The tools attach while the ping-pong runs: their start-up (loading BPF) eats into its seconds, so the
# ping-pong runs the same length in every case and the rate is its average, start-up included.
s_rate=$(pingpong scorch)
printf "%-22s %10s switches/s  (%s%% of no tool; the first ~2 s are scorch's start-up)\n" "scorch --off-cpu" \
	"$s_rate" "$(awk -v a="$s_rate" -v b="$base" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')"
if [[ -n $OFFCPU ]]; then
	b_rate=$(pingpong offcputime)
	printf "%-22s %10s switches/s  (%s%% of no tool)\n" "offcputime-bpfcc" "$b_rate" \
		"$(awk -v a="$b_rate" -v b="$base" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')"
else
	printf "%-22s NOT MEASURED (%s)\n" "offcputime-bpfcc" "$OFFCPU_WHY"
fi

echo "== scorch's BPF cost per event, and stacks per second (ping-pong, $SECS s)"
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
sysctl -q -w kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
start "$WL/pingpong" $((SECS + 10))
"$SCORCH" record -q --off-cpu -d "$SECS" -p "$WPID" -o "$TMP/c.prof" &
rec=$!
sleep $((SECS / 2 + 3)) # past the start-up
bpftool -j prog show >"$TMP/progs.json" 2>/dev/null || true
wait "$rec" || die "scorch record failed"
sysctl -q -w kernel.bpf_stats_enabled="$old_stats" || true
kill "$WPID" 2>/dev/null || true
python3 - "$TMP/progs.json" <<'EOF' || note "bpftool's program list could not be read"
import json, sys
progs = json.load(open(sys.argv[1]))
for p in progs:
    name = p.get("name", "")
    if name in ("on_switch", "on_sys_exit_off", "on_rseq_off", "on_exit_off", "on_sample"):
        cnt, ns = p.get("run_cnt", 0), p.get("run_time_ns", 0)
        print("%-22s %12d runs  %8.0f ns per run" % (name, cnt, ns / cnt if cnt else 0))
EOF
secs=$(awk '$1 == "duration_ns" { print $2 / 1e9 }' < <("$SCORCH" info -i "$TMP/c.prof"))
waits=$("$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "off_cpu_waits" { print $2 }')
below=$("$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "off_cpu_below_min" { print $2 }')
printf "%-22s %s stacks in %s s (%s per second); %s waits below --off-cpu-min counted without one\n" \
	"scorch --off-cpu" "$waits" "$secs" "$(awk -v w="$waits" -v s="$secs" 'BEGIN { printf "%.0f", s ? w / s : 0 }')" "$below"
