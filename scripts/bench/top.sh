#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# top.sh - what a live view costs: the CPU time of `scorch top` next to `perf top`'s, both watching
# the same busy workload at the same frequency for the same time, each in an 80x24 tmux terminal (perf
# top needs one), one after the other.
#
# Usage (as root, from anywhere in the repository):
#   scripts/bench/top.sh
#   SECS=20 HZ=99 MODE=all scripts/bench/top.sh
#
# Environment:
#   SECS     seconds each tool runs (default 15)
#   HZ       sampling frequency (default 99)
#   MODE     pid (watch the workload, -p) or all (the whole system, -a) (default pid)
#   SCORCH   scorch binary (default build/scorch)
#   PERF     perf binary (default perf); its row is skipped, loudly, if it does not work
#
# The CPU % is (user + system time of the tool's process) / wall time, from /proc/PID/stat, read just
# before the tool is stopped; perf top is run with -e cpu-clock (there may be no PMU) and -g (stacks,
# as scorch top always takes them). It prints numbers and asserts nothing.
set -euo pipefail

SECS=${SECS:-15}
HZ=${HZ:-99}
MODE=${MODE:-pid}
PERF=${PERF:-perf}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCORCH=${SCORCH:-$ROOT/build/scorch}
die() { echo "top.sh: error: $*" >&2; exit 1; }
[ -x "$SCORCH" ] || make -C "$ROOT" >/dev/null || die "cannot build scorch"
command -v tmux >/dev/null || die "tmux is needed"
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$ROOT/build/workloads/demo" ] || make -C "$ROOT" workloads >/dev/null

TMP=$(mktemp -d)
sock="$TMP/tmux.sock"
"$ROOT/build/workloads/demo" 0 &
wl=$!
trap 'kill $wl 2>/dev/null; tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
target="-p $wl"
[ "$MODE" = all ] && target="-a"
tck=$(getconf CLK_TCK)

# cpu_of PID: user+system clock ticks of a process
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME COMMAND...: run under tmux for SECS, print the tool's CPU %.
run() {
	local name=$1 pid t0 c0 c1 t1
	shift
	tmux -S "$sock" new-session -d -x 80 -y 24 "exec $*" || die "cannot start $name under tmux"
	sleep 1
	pid=$(tmux -S "$sock" list-panes -F '#{pane_pid}')
	t0=$(date +%s%N)
	c0=$(cpu_of "$pid")
	sleep "$SECS"
	c1=$(cpu_of "$pid" 2>/dev/null) || { echo "$name exited early" >&2; tmux -S "$sock" kill-server; return 1; }
	t1=$(date +%s%N)
	tmux -S "$sock" kill-server 2>/dev/null || true
	sleep 0.5
	awk -v n="$name" -v c=$((c1 - c0)) -v tck="$tck" -v ns=$((t1 - t0)) \
		'BEGIN { printf "%-12s %6.2f %% of one CPU\n", n, 100 * c / tck / (ns / 1e9) }'
}

echo "# CPU of the live view, $MODE mode, $HZ Hz, ${SECS} s each, $(nproc) CPUs, $(uname -r)"
run "scorch top" "$SCORCH" top -F "$HZ" $target
if "$PERF" --version >/dev/null 2>&1; then
	run "perf top" "$PERF" top -e cpu-clock -F "$HZ" -g $target || echo "perf top: failed to run" >&2
else
	echo "perf top: SKIPPED, '$PERF' does not run" >&2
fi
