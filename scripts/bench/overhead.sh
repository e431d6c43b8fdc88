#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# overhead.sh - measure what profiling costs: scorch record versus perf record, with frame-pointer
# stacks (scorch -g fp, perf -g) and with DWARF stacks (scorch -g dwarf, perf --call-graph dwarf).
#
# Usage (as root, from anywhere in the repository):
#   scripts/bench/overhead.sh
#   ROUNDS=3 UNITS=320 FREQS="99 999" scripts/bench/overhead.sh
#
# Environment:
#   ROUNDS   interleaved rounds (default 5); every round runs each variant once
#   UNITS    work units of the fixed-work workload (default 320, about 3.4 s on a 2020s x86 core)
#   FREQS    sampling frequencies in Hz (default "99 999")
#   SCORCH   scorch binary (default build/scorch; built with make if missing)
#   PERF     perf binary (default perf; its rows are skipped, loudly, if it does not work)
#   CC       C compiler for the workload (default cc)
#
# It prints numbers and asserts nothing. It exits 0 unless something failed to run.
# See scripts/bench/README.md for what each number means.

set -euo pipefail

ROUNDS=${ROUNDS:-5}
UNITS=${UNITS:-320}
FREQS=${FREQS:-99 999}
CC=${CC:-cc}
PERF=${PERF:-perf}

die() {
	echo "overhead.sh: error: $*" >&2
	exit 1
}
note() { echo "overhead.sh: $*" >&2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
[[ $UNITS =~ ^[1-9][0-9]*$ ]] || die "UNITS must be a positive integer, not '$UNITS'"
for hz in $FREQS; do
	[[ $hz =~ ^[1-9][0-9]*$ ]] || die "FREQS must hold positive integers, not '$hz'"
done

if [[ $(id -u) -ne 0 ]]; then
	echo "overhead.sh: must run as root (scorch loads a BPF program, and perf must sample" >&2
	echo "overhead.sh: with the same privileges); try: sudo $0" >&2
	exit 1
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCORCH=${SCORCH:-$REPO/build/scorch}
BENCH_DIR=$REPO/build/bench
FW=$BENCH_DIR/fixedwork

if [[ ! -x $SCORCH ]]; then
	note "$SCORCH is missing; running make"
	make -C "$REPO" >&2 || die "make failed"
	[[ -x $SCORCH ]] || die "$SCORCH is still missing after make"
fi

mkdir -p "$BENCH_DIR"
"$CC" -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -Wall -Wextra \
	-o "$FW" "$REPO/scripts/bench/fixedwork.c" || die "cannot compile the workload with $CC"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scorch-overhead.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HAVE_PERF=1
if ! command -v "$PERF" >/dev/null 2>&1; then
	HAVE_PERF=0
	PERF_WHY="'$PERF' is not installed (Debian: apt-get install linux-perf)"
elif ! HOME=$TMP "$PERF" record -q -e cpu-clock -F 99 -o "$TMP/probe.data" -- true \
	>"$TMP/probe.log" 2>&1; then
	HAVE_PERF=0
	PERF_WHY="'$PERF record -e cpu-clock' does not work here: $(tr '\n' ' ' <"$TMP/probe.log")"
fi
if [[ $HAVE_PERF -eq 0 ]]; then
	{
		echo "################################################################"
		echo "## WARNING: $PERF_WHY"
		echo "## SKIPPING every perf row; only scorch is measured."
		echo "################################################################"
	} >&2
fi

MAXRATE=$(cat /proc/sys/kernel/perf_event_max_sample_rate 2>/dev/null || echo '?')
for hz in $FREQS; do
	if [[ $MAXRATE =~ ^[0-9]+$ ]] && ((hz > MAXRATE)); then
		die "$hz Hz is above kernel.perf_event_max_sample_rate ($MAXRATE)"
	fi
done

VARIANTS=(base)
for hz in $FREQS; do
	VARIANTS+=("scorch:$hz")
	if [[ $HAVE_PERF -eq 1 ]]; then VARIANTS+=("perf:$hz"); fi
	VARIANTS+=("scorch-dwarf:$hz" "scorch-dwarf8k:$hz")
	if [[ $HAVE_PERF -eq 1 ]]; then VARIANTS+=("perf-dwarf:$hz"); fi
done
# The profilers of the result table, in its order.
TOOLS=(scorch perf scorch-dwarf scorch-dwarf8k perf-dwarf)

# ---------------------------------------------------------------------------------------
# helpers

# "1m2.345s" -> milliseconds
tms() { awk -v t="$1" 'BEGIN { sub(/s$/, "", t); split(t, a, "m"); printf "%.0f", a[1] * 60000 + a[2] * 1000 }'; }

# The median of the numbers on standard input, "-" if there are none.
median() {
	sort -g | awk '{ a[NR] = $1 }
		END { if (NR == 0) { print "-"; exit }
		      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# field NAME FILE: the value of NAME=VALUE in the workload's report line
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" "$2" | tail -n 1; }

# Results, one line per run:
# variant hz round wall_ns cmd_ns wl_cpu_ms child_cpu_ms prof_cpu_ms bytes samples lost checksum
RESULTS=$TMP/results.tsv
: >"$RESULTS"

# run_one VARIANT ROUND [UNITS]: run one variant once and append a line to $RESULTS.
run_one() {
	local variant=$1 round=$2 units=${3:-$UNITS}
	local tool=${variant%%:*} hz=0 out=$TMP/run.out log=$TMP/run.log tfile=$TMP/run.times
	local prof=$TMP/run.prof rc=0 t0 t1
	if [[ $variant == *:* ]]; then hz=${variant#*:}; fi
	local -a cmd
	case $tool in
	base) cmd=("$FW" "$units") ;;
	scorch) cmd=("$SCORCH" record -g fp -e cpu-clock -F "$hz" -o "$prof" -- "$FW" "$units") ;;
	perf) cmd=(env "HOME=$TMP" "$PERF" record -e cpu-clock -g -F "$hz" -o "$prof" -- "$FW" "$units") ;;
	scorch-dwarf) cmd=("$SCORCH" record -g dwarf -e cpu-clock -F "$hz" -o "$prof" -- "$FW" "$units") ;;
	# the stack copy perf makes: 8 KiB
	scorch-dwarf8k) cmd=("$SCORCH" record -g dwarf,8192 -e cpu-clock -F "$hz" -o "$prof" -- "$FW" "$units") ;;
	perf-dwarf)
		cmd=(env "HOME=$TMP" "$PERF" record -e cpu-clock --call-graph dwarf -F "$hz" -o "$prof" -- "$FW" "$units")
		;;
	esac
	rm -f "$prof" "$out" "$log" "$tfile"
	t0=$(date +%s%N)
	# The subshell's "times" reports, on its second line, the CPU time of its children: the
	# profiler plus the workload it reaped (the kernel adds a reaped child's time to its parent).
	(
		"${cmd[@]}" >"$out" 2>"$log" || exit $?
		times >"$tfile"
	) || rc=$?
	t1=$(date +%s%N)
	if [[ $rc -ne 0 ]]; then
		echo "overhead.sh: '${cmd[*]}' failed with status $rc; its output:" >&2
		cat "$out" "$log" >&2 || true
		exit 1
	fi
	if grep -qiE 'error|warn|lost [1-9]|crash|segfault|abort' "$log"; then
		note "note: $variant round $round said:"
		sed 's/^/    /' "$log" >&2
	fi

	local wall_ns user_us sys_us wl_cpu_ms child_cpu_ms prof_cpu_ms checksum
	wall_ns=$(field wall_ns "$out")
	user_us=$(field user_us "$out")
	sys_us=$(field sys_us "$out")
	checksum=$(field checksum "$out")
	[[ -n $wall_ns && -n $user_us && -n $sys_us ]] ||
		die "$variant round $round: no report line from the workload in: $(cat "$out")"
	wl_cpu_ms=$(awk -v u="$user_us" -v s="$sys_us" 'BEGIN { printf "%.3f", (u + s) / 1000 }')
	local cu cs
	read -r cu cs < <(sed -n 2p "$tfile")
	child_cpu_ms=$(($(tms "$cu") + $(tms "$cs")))
	prof_cpu_ms=$(awk -v c="$child_cpu_ms" -v w="$wl_cpu_ms" 'BEGIN { printf "%.3f", c - w }')

	local bytes=0 samples=0 lost=0
	case $tool in
	scorch | scorch-dwarf | scorch-dwarf8k)
		bytes=$(stat -c %s "$prof")
		"$SCORCH" info -i "$prof" >"$TMP/info.txt" 2>&1 || {
			cat "$TMP/info.txt" >&2
			die "scorch info failed on the profile of $variant round $round"
		}
		samples=$(awk '/^\[counters\]/ { c = 1; next } /^\[/ { c = 0 } c && $1 == "samples" { print $2; exit }' "$TMP/info.txt")
		lost=$(awk '/^\[counters\]/ { c = 1; next } /^\[/ { c = 0 } c && $1 == "lost" { print $2; exit }' "$TMP/info.txt")
		;;
	perf | perf-dwarf)
		bytes=$(stat -c %s "$prof")
		HOME=$TMP "$PERF" report -i "$prof" --stats >"$TMP/stats.txt" 2>&1 || {
			cat "$TMP/stats.txt" >&2
			die "perf report --stats failed on the profile of $variant round $round"
		}
		# The first "SAMPLE events:" line is in "Aggregated stats", the count of sample records.
		samples=$(awk '$1 == "SAMPLE" && $2 == "events:" { print $3; exit }' "$TMP/stats.txt")
		lost=$(awk '$1 ~ /^LOST/ && $2 == "events:" { n += $3 } END { print n + 0 }' "$TMP/stats.txt")
		;;
	esac
	[[ -n $samples && -n $lost ]] || die "$variant round $round: cannot read the sample count"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$variant" "$hz" "$round" \
		"$wall_ns" "$((t1 - t0))" "$wl_cpu_ms" "$child_cpu_ms" "$prof_cpu_ms" \
		"$bytes" "$samples" "$lost" "$checksum" >>"$RESULTS"
	printf '  round %-2s %-17s workload %7.3f s  whole command %7.3f s  profiler CPU %8.1f ms  samples %6s\n' \
		"$round" "$variant" "$(awk -v n="$wall_ns" 'BEGIN { print n / 1e9 }')" \
		"$(awk -v n="$((t1 - t0))" 'BEGIN { print n / 1e9 }')" "$prof_cpu_ms" "$samples" >&2
}

# col VARIANT COLUMN: that column of every measured run of VARIANT, one a line
col() { awk -F'\t' -v v="$1" -v c="$2" '$1 == v && $3 > 0 { print $c }' "$RESULTS"; }
# total VARIANT COLUMN: the sum of that column over every measured run of VARIANT
total() { col "$1" "$2" | awk '{ s += $1 } END { printf "%.3f", s }'; }
# half the range (max - min) of the numbers on standard input, as a percentage of $1
halfrange() {
	awk -v b="$1" 'NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
		END { if (NR < 2 || b <= 0) print "-"; else printf "%.1f", (hi - lo) / 2 / b * 100 }'
}

# ---------------------------------------------------------------------------------------
# machine

CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
if [[ -d /sys/bus/event_source/devices/cpu ]]; then PMU="yes"; else PMU="no"; fi
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# How busy the machine is without us: the non-idle share of all CPUs over one second.
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r B0 I0 < <(cpu_ticks)
sleep 1
read -r B1 I1 < <(cpu_ticks)
BUSY=$(awk -v b="$((B1 - B0))" -v i="$((I1 - I0))" 'BEGIN { if (b + i > 0) printf "%.0f", 100 * b / (b + i); else print 0 }')
CMDLINE="ROUNDS=$ROUNDS"
if [[ $UNITS != 320 ]]; then CMDLINE+=" UNITS=$UNITS"; fi
if [[ $FREQS != "99 999" ]]; then CMDLINE+=" FREQS=\"$FREQS\""; fi
CMDLINE+=" scripts/bench/overhead.sh"

echo "# scorch overhead benchmark"
echo
echo "machine:   $(nproc) CPUs${CPU_MODEL:+ ($CPU_MODEL)}, Linux $(uname -r) $(uname -m)"
echo "PMU:       $PMU; event cpu-clock for both profilers (perf -e cpu-clock, scorch -e cpu-clock)"
echo "scorch:    $SCORCH ($("$SCORCH" --version 2>&1 | head -n 1))"
if [[ $HAVE_PERF -eq 1 ]]; then
	echo "perf:      $("$PERF" --version 2>&1 | head -n 1)"
else
	echo "perf:      NOT MEASURED: $PERF_WHY"
fi
echo "workload:  $FW $UNITS (fixed work; $CC -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer)"
echo "rounds:    $ROUNDS, interleaved: ${VARIANTS[*]}"
echo "load:      $START_LOAD (1/5/15 min) at start; perf_event_max_sample_rate $MAXRATE"
echo "busy:      ${BUSY}% of all CPUs busy before the benchmark started"
echo "command:   $CMDLINE"
echo
if ((BUSY > 10)); then
	echo "WARNING: other processes keep ${BUSY}% of the CPUs busy; the numbers will be noisy."
	echo "WARNING: the workload and the profiler may share a CPU with them."
	echo
	note "WARNING: the machine is ${BUSY}% busy before the benchmark; results will be noisy"
fi

# ---------------------------------------------------------------------------------------
# warm-up (not counted): checks that every variant works, fills caches

note "warm-up (not counted)"
for v in "${VARIANTS[@]}"; do
	run_one "$v" 0 20
done

note "measuring: $ROUNDS rounds of ${#VARIANTS[@]} runs each"
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${VARIANTS[@]}"; do
		run_one "$v" "$r"
	done
done

# The work is fixed: every run must have computed the same checksum.
NSUMS=$(awk -F'\t' '$3 > 0 { print $12 }' "$RESULTS" | sort -u | wc -l)
[[ $NSUMS -eq 1 ]] || die "the workload's checksum differed between runs; the work was not fixed"

END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
END_MAXRATE=$(cat /proc/sys/kernel/perf_event_max_sample_rate 2>/dev/null || echo '?')

# ---------------------------------------------------------------------------------------
# report

BASE_WALL=$(col base 4 | median)
BASE_CPU=$(col base 6 | median)
BASE_RESID=$(col base 8 | median)

# Per variant: slowdown, bytes/sample, profiler CPU per 1000 samples, ...
declare -A SPREAD SLOW SLOWCPU BPS CPUK MED_WALL MED_CMD MED_CPU MED_PCPU MED_SAMPLES LOST
for v in "${VARIANTS[@]}"; do
	MED_WALL[$v]=$(col "$v" 4 | median)
	MED_CMD[$v]=$(col "$v" 5 | median)
	MED_CPU[$v]=$(col "$v" 6 | median)
	MED_PCPU[$v]=$(col "$v" 8 | median)
	MED_SAMPLES[$v]=$(col "$v" 10 | median)
	SLOW[$v]=$(awk -v a="${MED_WALL[$v]}" -v b="$BASE_WALL" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')
	SPREAD[$v]=$(col "$v" 4 | halfrange "$BASE_WALL")
	SLOWCPU[$v]=$(awk -v a="${MED_CPU[$v]}" -v b="$BASE_CPU" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')
	if [[ $v != base ]]; then
		tb=$(total "$v" 9)
		ts=$(total "$v" 10)
		tc=$(total "$v" 8)
		LOST[$v]=$(total "$v" 11 | awk '{ printf "%d", $1 }')
		BPS[$v]=$(awk -v b="$tb" -v s="$ts" 'BEGIN { if (s > 0) printf "%.1f", b / s; else print "-" }')
		CPUK[$v]=$(awk -v c="$tc" -v s="$ts" 'BEGIN { if (s > 0) printf "%.1f", c / s * 1000; else print "-" }')
	fi
done

echo
echo "## Details (medians over $ROUNDS rounds)"
echo
echo "workload time = the workload's own CLOCK_MONOTONIC time around its compute loop, printed by"
echo "  the workload; it excludes process and profiler start-up and shutdown (the slowdown uses it)."
echo "+-            = half the range (max - min) of the workload time over the rounds, in % of"
echo "  base: slowdowns that differ by less than this are within the run-to-run noise."
echo "whole command = the wall time of the whole profiler command, start-up and shutdown included."
echo "workload CPU  = the workload's getrusage(RUSAGE_SELF) user+sys at exit; the in-kernel cost of"
echo "  taking samples in the workload's context (timer interrupt, BPF program or perf's unwinder)"
echo "  is charged here, so it is part of the slowdown."
echo "profiler CPU  = user+sys CPU of the profiler process alone: bash 'times' for the children"
echo "  of a subshell (the profiler and the workload it reaped) minus the workload's own rusage."
echo "  For 'base' this is the measurement's own error ($BASE_RESID ms)."
echo
printf '%-17s %12s %8s %7s %14s %13s %9s %14s %10s %6s\n' variant "workload s" "slow %" "+-" "whole cmd s" \
	"workload CPU s" "CPU slow %" "profiler CPU ms" samples lost
for v in "${VARIANTS[@]}"; do
	printf '%-17s %12.3f %8s %7s %14.3f %13.3f %9s %14.1f %10s %6s\n' "$v" \
		"$(awk -v n="${MED_WALL[$v]}" 'BEGIN { print n / 1e9 }')" "${SLOW[$v]}" "${SPREAD[$v]}" \
		"$(awk -v n="${MED_CMD[$v]}" 'BEGIN { print n / 1e9 }')" \
		"$(awk -v n="${MED_CPU[$v]}" 'BEGIN { print n / 1e3 }')" "${SLOWCPU[$v]}" \
		"${MED_PCPU[$v]}" "${MED_SAMPLES[$v]}" "${LOST[$v]:--}"
done
echo
echo "bytes/sample = total profile file bytes / total samples over all rounds. scorch's samples"
echo "  are its 'samples' counter from 'scorch info'; perf's are the SAMPLE records counted by"
echo "  'perf report --stats' (perf.data as written by default: uncompressed, with build-ids)."
echo "  scorch stores each distinct stack once with a count and compresses the file, so its"
echo "  bytes/sample depends on how many distinct stacks there are: this workload has few, which"
echo "  is scorch's best case; perf writes every sample as its own record. perf.data also has"
echo "  a header of some 30 KB, larger when other BPF programs are loaded (perf records each),"
echo "  which dominates at 99 Hz."
# shellcheck disable=SC2086 # split FREQS into words on purpose
set -- $FREQS
if [[ $# -ge 2 ]]; then
	LO=$1
	HI=${!#}
	echo "profiler CPU split into a fixed part per run (start-up, shutdown, symbols, build-ids)"
	echo "  and a marginal part per 1000 samples, from the medians at $LO and $HI Hz (a rough"
	echo "  estimate: both profilers read /proc/kallsyms, tens of ms of sys time, only in runs"
	echo "  where some sample has kernel frames, which at low rates is a matter of chance):"
	for tool in "${TOOLS[@]}"; do
		if [[ $tool == perf* && $HAVE_PERF -eq 0 ]]; then continue; fi
		awk -v t="$tool" -v c1="${MED_PCPU[$tool:$LO]}" -v c2="${MED_PCPU[$tool:$HI]}" \
			-v s1="${MED_SAMPLES[$tool:$LO]}" -v s2="${MED_SAMPLES[$tool:$HI]}" 'BEGIN {
			if (s2 - s1 <= 0) { printf "  %-12s -\n", t; exit }
			m = (c2 - c1) / (s2 - s1); f = c1 - m * s1
			printf "  %-12s marginal %.1f ms per 1000 samples, fixed %.1f ms per run\n", t, m * 1000, f }'
	done
fi
echo "perf/scorch size ratio:"
for hz in $FREQS; do
	for kind in "" -dwarf; do
		if [[ $HAVE_PERF -eq 1 ]]; then
			echo "  $hz Hz${kind:+ (dwarf)}: $(awk -v p="${BPS[perf$kind:$hz]}" -v s="${BPS[scorch$kind:$hz]}" \
				'BEGIN { if (s + 0 > 0) printf "%.1fx (perf %s, scorch %s bytes/sample)", p / s, p, s; else print "-" }')"
		else
			echo "  $hz Hz${kind:+ (dwarf)}: - (perf not measured)"
		fi
	done
done
echo "dwarf rows: scorch -g dwarf copies the registers and up to 16 KiB of user stack per sample"
echo "  (less near the stack's top) and unwinds them while it records; perf --call-graph dwarf copies"
echo "  8 KiB per sample into perf.data and leaves the unwinding to perf report; scorch-dwarf8k is"
echo "  scorch -g dwarf,8192, the same copy size as perf's."
echo "Note: scorch opens a cpu-clock event on every CPU and filters by pid in BPF, so it also"
echo "  takes interrupts on CPUs that do not run the workload; that cost is in neither column."
echo "  perf record -- CMD samples only the command's threads."
echo "load at end: $END_LOAD (1/5/15 min); perf_event_max_sample_rate $END_MAXRATE at end"
if ((BUSY > 10)); then
	echo "WARNING: the machine was ${BUSY}% busy with other work before the benchmark started."
fi
if [[ $END_MAXRATE != "$MAXRATE" ]]; then
	echo "WARNING: the kernel lowered perf_event_max_sample_rate during the run ($MAXRATE -> $END_MAXRATE)"
fi
for v in "${VARIANTS[@]}"; do
	if [[ $v != base && ${LOST[$v]:-0} != 0 ]]; then
		echo "WARNING: $v lost ${LOST[$v]} samples over $ROUNDS rounds"
	fi
done

echo
echo "## Result"
echo
echo "Machine: $(nproc) CPUs, Linux $(uname -r), event cpu-clock (PMU: $PMU). Slowdown from the"
echo "workload's own elapsed time (medians of $ROUNDS interleaved rounds, $UNITS units of fixed work)."
if ((BUSY > 10)); then
	echo "WARNING: measured while other processes kept ${BUSY}% of the CPUs busy: do not publish."
fi
echo
echo "| profiler | Hz | slowdown % (+- half range) | bytes/sample | profiler CPU ms per 1000 samples | command |"
echo "|---|---:|---:|---:|---:|---|"
for hz in $FREQS; do
	for tool in "${TOOLS[@]}"; do
		v=$tool:$hz
		if [[ $tool == perf* && $HAVE_PERF -eq 0 ]]; then
			echo "| $tool | $hz | not measured | - | - | \`$CMDLINE\` |"
			continue
		fi
		echo "| $tool | $hz | ${SLOW[$v]} (+-${SPREAD[$v]}) | ${BPS[$v]} | ${CPUK[$v]} | \`$CMDLINE\` |"
	done
done
if [[ $HAVE_PERF -eq 0 ]]; then
	echo
	echo "WARNING: perf rows were skipped: $PERF_WHY" >&2
fi
exit 0
