#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# unwind.sh - what each way of walking user stacks gets and costs, next to perf: scorch -g auto
# (in-kernel unwinding from tables built from the CFI), -g copy / -g dwarf (a stack copy unwound by
# libunwind in the recorder), -g fp (frame pointers), perf -g and perf --call-graph dwarf.
#
# Usage (as root, from anywhere in the repository):
#   scripts/bench/unwind.sh                      # ROUNDS=3, about 5 minutes on a quiet machine
#   ROUNDS=1 ALL_SECS=5 scripts/bench/unwind.sh  # quicker, noisier
#
# Five parts, then a summary table:
#   1. deep stacks: clang-14 compiling a generated C file whose code generation recurses deeply;
#      share of the samples with a user stack whose stack reaches the root; profile size
#   1b. the same on a file five times as long: how the start (tables being built) weighs
#   2. lost samples: record -a -F 999 while two 'deep' workloads keep both CPUs busy and 'forker'
#      forks a short-lived child after another
#   2b. the same while two loops run the compiler on a small file: a new process after another
#      (each one's first samples carry stack copies until its tables are loaded)
#   3. recorder CPU per 1,000 samples and the target's slowdown on fixedwork.c (overhead.sh's method)
#   4. BPF cost per sample of scorch's on_sample program (kernel.bpf_stats_enabled: run_time_ns and
#      run_cnt, the numbers bpftool prog show prints, read while recording); the sysctl is
#      restored at exit
#   5. BPF map memory (memlock, as bpftool map show prints it) of scorch's maps during the -a
#      recordings of part 2 and the -p recordings of part 4, and the unwind rows actually used
#      (unwind_table_rows_peak * 8)
#
# Environment:
#   ROUNDS     rounds of parts 1 and 3 (default 3; medians are printed)
#   ALL_SECS   seconds of each -a recording of part 2 (default 10)
#   BPF_SECS   seconds of each -p recording of part 4 (default 5)
#   HZ         sampling frequency of every part (default 999)
#   UNITS      work units of fixedwork (default 320, about 3.4 s)
#   GEN_FUNCS, GEN_TERMS  the generated C file: functions, and terms of the sum each returns
#              (defaults 40 and 4000: a left-deep expression tree thousands of nodes deep)
#   LONG_FUNCS functions of the long compile of part 1b (default 200: five times the file, ~12 s;
#              one round; 0 skips it)
#   COMPILE_SECS  seconds of the -a recordings of part 2b, under a compile loop (default ALL_SECS)
#   CLANG      the compiler measured in part 1 (default /usr/lib/llvm-14/bin/clang)
#   SCORCH, PERF, BPFTOOL, CC   the binaries (defaults build/scorch, perf, bpftool, cc)
#
# It prints numbers and asserts nothing; what cannot be measured is said so, never made up.
# It exits 0 unless something failed to run. See scripts/bench/README.md.

set -euo pipefail

ROUNDS=${ROUNDS:-3}
ALL_SECS=${ALL_SECS:-10}
BPF_SECS=${BPF_SECS:-5}
HZ=${HZ:-999}
UNITS=${UNITS:-320}
GEN_FUNCS=${GEN_FUNCS:-40}
GEN_TERMS=${GEN_TERMS:-4000}
LONG_FUNCS=${LONG_FUNCS:-200}
COMPILE_SECS=${COMPILE_SECS:-$ALL_SECS}
CLANG=${CLANG:-/usr/lib/llvm-14/bin/clang}
PERF=${PERF:-perf}
CC=${CC:-cc}

die() {
	echo "unwind.sh: error: $*" >&2
	exit 1
}
note() { echo "unwind.sh: $*" >&2; }

for v in ROUNDS ALL_SECS BPF_SECS HZ UNITS GEN_FUNCS GEN_TERMS COMPILE_SECS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ $LONG_FUNCS =~ ^[0-9]+$ ]] || die "LONG_FUNCS must be a number, not '$LONG_FUNCS'"
[[ $(id -u) -eq 0 ]] || die "must run as root (BPF, perf -a, sysctl); try: sudo $0"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCORCH=${SCORCH:-$REPO/build/scorch}
WL=$REPO/build/workloads
BENCH_DIR=$REPO/build/bench
FW=$BENCH_DIR/fixedwork

if [[ ! -x $SCORCH || ! -x $WL/deep || ! -x $WL/forker ]]; then
	note "building scorch and the workloads"
	make -C "$REPO" all workloads >&2 || die "make failed"
fi
mkdir -p "$BENCH_DIR"
"$CC" -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -Wall -Wextra \
	-o "$FW" "$REPO/scripts/bench/fixedwork.c" || die "cannot compile the workload with $CC"

BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
[[ -x $BPFTOOL ]] || die "bpftool not found (Debian: apt-get install bpftool); set BPFTOOL"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scorch-unwind.XXXXXX")
STATS_SYSCTL=/proc/sys/kernel/bpf_stats_enabled
STATS_WAS=$(cat "$STATS_SYSCTL" 2>/dev/null || echo '')
BG_PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ -n $STATS_WAS ]]; then echo "$STATS_WAS" >"$STATS_SYSCTL" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HAVE_PERF=1
PERF_WHY=
if ! command -v "$PERF" >/dev/null 2>&1; then
	HAVE_PERF=0
	PERF_WHY="'$PERF' is not installed (Debian: apt-get install linux-perf)"
elif ! HOME=$TMP "$PERF" record -q -e cpu-clock -F 99 -o "$TMP/probe.data" -- true >"$TMP/probe.log" 2>&1; then
	HAVE_PERF=0
	PERF_WHY="'$PERF record -e cpu-clock' does not work here: $(tr '\n' ' ' <"$TMP/probe.log")"
fi
[[ $HAVE_PERF -eq 1 ]] || note "WARNING: $PERF_WHY; every perf row says NOT MEASURED"
HAVE_CLANG=1
[[ -x $CLANG ]] || HAVE_CLANG=0

# ---------------------------------------------------------------------------------------
# helpers

# The median of the numbers on standard input, "-" if there are none.
median() {
	sort -g | awk '{ a[NR] = $1 }
		END { if (NR == 0) { print "-"; exit }
		      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# "1m2.345s" -> milliseconds
tms() { awk -v t="$1" 'BEGIN { sub(/s$/, "", t); split(t, a, "m"); printf "%.0f", a[1] * 60000 + a[2] * 1000 }'; }
# field NAME FILE: the value of NAME=VALUE in fixedwork's report line
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" "$2" | tail -n 1; }
# pct A B: 100 * A / B with one decimal, "-" when B is 0 or not a number
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.1f", 100 * a / b; else print "-" }'; }
# mib BYTES
mib() { awk -v b="$1" 'BEGIN { if (b == "-" || b == "") print "-"; else printf "%.1f", b / 1048576 }'; }

# scorch_info PROFILE: scorch info into $TMP/info.txt
scorch_info() {
	"$SCORCH" info -i "$1" >"$TMP/info.txt" 2>&1 || {
		cat "$TMP/info.txt" >&2
		die "scorch info failed on $1"
	}
}
# counter NAME: a counter of the last scorch_info, 0 if absent
counter() {
	awk -v n="$1" '/^\[counters\]/ { c = 1; next } /^\[/ { c = 0 }
		c && $1 == n { print $2; f = 1; exit } END { if (!f) print 0 }' "$TMP/info.txt"
}
# perf_stats PERFDATA: "samples lost" from perf report --stats
perf_stats() {
	HOME=$TMP "$PERF" report -i "$1" --stats >"$TMP/stats.txt" 2>&1 || {
		cat "$TMP/stats.txt" >&2
		die "perf report --stats failed on $1"
	}
	# The first "SAMPLE events:" line is in "Aggregated stats".
	awk '$1 == "SAMPLE" && $2 == "events:" && !s { s = $3 } END { print s + 0 }' "$TMP/stats.txt"
}
# perf_lost PERFDATA: the number of samples perf says it lost (the sum of the LOST records' counts)
perf_lost() {
	HOME=$TMP "$PERF" script -i "$1" --show-lost-events -F event 2>/dev/null |
		awk '/PERF_RECORD_LOST/ && $NF ~ /^[0-9]+$/ { n += $NF } END { print n + 0 }'
}
# perf_root PERFDATA: "with_user_stack reaching_root" from perf script: a stack reaches the root
# when its outermost user frame is a thread's or process's first function
perf_root() {
	HOME=$TMP "$PERF" script -i "$1" -F ip,sym --no-inline 2>/dev/null | awk 'BEGIN { RS = "" }
		{ n = split($0, L, "\n"); u = 0; last = ""
		  for (i = 1; i <= n; i++) { m = split(L[i], f, " ")
		    if (m >= 1 && f[1] !~ /^ffffffff/) { u = 1; last = f[2] } }
		  if (u) { us++; if (last ~ /^(_start|__libc_start_main|__libc_start_call_main|start_thread|clone|clone3|__clone|__clone3)$/) r++ } }
		END { print us + 0, r + 0 }'
}

# bpf_snapshot PID OUT: scorch's BPF programs ("prog NAME ID run_time_ns run_cnt") and maps ("map
# NAME ID memlock"), found through the process's own descriptors (other scorch instances may run at
# the same time), written to OUT only if on_sample is there. The numbers are the kernel's fdinfo
# fields, the ones bpftool prints (reading them directly takes one process: on a loaded machine a
# bpftool call per object takes seconds); the names come from one 'bpftool prog/map show' listing.
bpf_snapshot() {
	local pid=$1 out=$2 fdinfo names
	fdinfo=$(cat /proc/"$pid"/fdinfo/* 2>/dev/null) || true
	[[ $fdinfo == *prog_id* ]] || return 0
	names=$(
		"$BPFTOOL" prog show 2>/dev/null | awk '/^[0-9]+:/ { for (i = 2; i < NF; i++) if ($i == "name") print "p" $1, $(i + 1) }' || true
		"$BPFTOOL" map show 2>/dev/null | awk '/^[0-9]+:/ { for (i = 2; i < NF; i++) if ($i == "name") print "m" $1, $(i + 1) }' || true
	)
	awk -v names="$names" '
		BEGIN { n = split(names, a, "\n"); for (i = 1; i <= n; i++) { split(a[i], f, " "); sub(/:$/, "", f[1]); nm[f[1]] = f[2] } }
		function flush() {
			if (pid != "" && !(("p" pid) in seen)) { seen["p" pid] = 1
				name = (("p" pid) in nm) ? nm["p" pid] : (ptype == 7 ? "on_sample" : "?")
				print "prog", name, pid, (rt == "" ? "-" : rt), (rc == "" ? "-" : rc) }
			if (mid != "" && !(("m" mid) in seen)) { seen["m" mid] = 1
				print "map", (("m" mid) in nm) ? nm["m" mid] : "?", mid, ml + 0 }
			pid = mid = rt = rc = ml = ptype = "" }
		$1 == "pos:" { flush() }
		$1 == "prog_id:" { pid = $2 } $1 == "map_id:" { mid = $2 } $1 == "memlock:" { ml = $2 }
		$1 == "run_time_ns:" { rt = $2 } $1 == "run_cnt:" { rc = $2 } $1 == "prog_type:" { ptype = $2 }
		END { flush() }' <<<"$fdinfo" >"$out.tmp"
	if grep -q '^prog on_sample ' "$out.tmp"; then mv "$out.tmp" "$out"; fi
}
# watch_bpf PID OUT: snapshot every 0.3 s while PID lives (run in the background); the last
# complete snapshot, taken at most 0.3 s before the end, stays in OUT.
watch_bpf() {
	while kill -0 "$1" 2>/dev/null; do
		bpf_snapshot "$1" "$2"
		sleep 0.3
	done
}
# map_total SNAPSHOT: total memlock bytes of the maps in a snapshot
map_total() { awk '$1 == "map" { s += $4 } END { print s + 0 }' "$1"; }
# map_list SNAPSHOT: "name=KiB ..." of the maps, largest first
map_list() { awk '$1 == "map" { print $4, $2 }' "$1" | sort -rn | awk '{ printf "%s%s=%.0fK", (NR > 1) ? " " : "", $2, $1 / 1024 }'; }

# perf_all OUT SECS: perf record -a --call-graph dwarf for SECS seconds into OUT
perf_all() {
	HOME=$TMP "$PERF" record -q -a -e cpu-clock -F "$HZ" --call-graph dwarf -o "$1" -- sleep "$2" >"$TMP/log" 2>&1 || {
		cat "$TMP/log" >&2
		die "perf record -a failed"
	}
}

# start_load SECS: two deep-stack workloads (both CPUs busy) and the fork-heavy one
LOAD_PIDS=()
start_load() {
	LOAD_PIDS=()
	"$WL/deep" "$1" 100 >/dev/null 2>&1 &
	LOAD_PIDS+=($!)
	"$WL/deep" "$1" 100 >/dev/null 2>&1 &
	LOAD_PIDS+=($!)
	"$WL/forker" "$1" >/dev/null 2>&1 &
	LOAD_PIDS+=($!)
	BG_PIDS+=("${LOAD_PIDS[@]}")
}
stop_load() {
	local p
	for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	LOAD_PIDS=()
}

# gen_c FUNCS: FUNCS functions each returning a sum of GEN_TERMS terms. The parser builds a sum in a
# loop, but clang's code generation recurses once per '+', so the stack is thousands of frames and
# hundreds of KiB deep while it emits them.
gen_c() {
	awk -v nf="$1" -v nt="$GEN_TERMS" 'BEGIN {
		for (k = 0; k < nf; k++) {
			printf "int f%d(int a, int b)\n{\n\treturn a", k
			for (i = 1; i < nt; i++) printf " + %s", (i % 2) ? "b" : "a"
			printf ";\n}\n"
		} }'
}

# start_compile_load SECS: two loops running the compiler on fixedwork.c (a new process after another)
start_compile_load() {
	local j
	LOAD_PIDS=()
	for j in 1 2; do
		(
			end=$((SECONDS + $1))
			while ((SECONDS < end)); do "$CC" -O2 -c -o "$TMP/load$j.o" "$REPO/scripts/bench/fixedwork.c" || exit 1; done
		) >/dev/null 2>&1 &
		LOAD_PIDS+=($!)
	done
	BG_PIDS+=("${LOAD_PIDS[@]}")
}

# ---------------------------------------------------------------------------------------
# machine

CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r B0 I0 < <(cpu_ticks)
sleep 1
read -r B1 I1 < <(cpu_ticks)
BUSY=$(awk -v b="$((B1 - B0))" -v i="$((I1 - I0))" 'BEGIN { if (b + i > 0) printf "%.0f", 100 * b / (b + i); else print 0 }')
CMDLINE="ROUNDS=$ROUNDS ALL_SECS=$ALL_SECS BPF_SECS=$BPF_SECS HZ=$HZ LONG_FUNCS=$LONG_FUNCS COMPILE_SECS=$COMPILE_SECS scripts/bench/unwind.sh"

echo "# scorch unwinding benchmark"
echo
echo "machine:   $(nproc) CPUs${CPU_MODEL:+ ($CPU_MODEL)}, Linux $(uname -r) $(uname -m)"
echo "scorch:    $SCORCH ($("$SCORCH" --version 2>&1 | head -n 1))"
if [[ $HAVE_PERF -eq 1 ]]; then
	echo "perf:      $("$PERF" --version 2>&1 | head -n 1)"
else
	echo "perf:      NOT MEASURED: $PERF_WHY"
fi
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); ${BUSY}% of all CPUs busy before the start"
echo "command:   $CMDLINE"
echo "event:     cpu-clock at $HZ Hz for every profiler"
if ((BUSY > 10)); then
	echo
	echo "WARNING: other processes keep ${BUSY}% of the CPUs busy: every number below is noisy, and"
	echo "WARNING: the lost-sample and CPU figures depend on what else runs. Do not publish as is."
fi

declare -A R # results for the summary: R[part:variant]

# ---------------------------------------------------------------------------------------
# 1. deep stacks: clang compiling a generated file

echo
echo "## 1. Deep stacks: $(basename "$CLANG") -c -O1 of a generated C file, medians of $ROUNDS rounds"
echo
# shellcheck disable=SC2054 # 'dwarf,65536' is one -g argument
D1=(auto dwarf dwarf,65536 perf-dwarf)
if [[ $HAVE_CLANG -eq 0 ]]; then
	echo "NOT MEASURED: $CLANG is missing (Debian: apt-get install clang-14)"
	for v in "${D1[@]}"; do R[root:$v]="not measured"; done
else
	GEN=$TMP/gen.c
	gen_c "$GEN_FUNCS" >"$GEN"
	echo "file: $GEN_FUNCS functions, each returning a sum of $GEN_TERMS terms ($(stat -c %s "$GEN") bytes)"
	note "part 1: clang, $ROUNDS rounds of ${D1[*]}"
	for ((r = 1; r <= ROUNDS; r++)); do
		for v in "${D1[@]}"; do
			prof=$TMP/p1.$r.${v//,/_}
			cc=("$CLANG" -c -O1 -o "$TMP/gen.o" "$GEN")
			if [[ $v == perf-dwarf ]]; then
				[[ $HAVE_PERF -eq 1 ]] || continue
				HOME=$TMP "$PERF" record -q -e cpu-clock -F "$HZ" --call-graph dwarf -o "$prof" -- "${cc[@]}" \
					>"$TMP/log" 2>&1 || {
					cat "$TMP/log" >&2
					die "perf record of clang failed"
				}
				read -r us ro < <(perf_root "$prof")
				echo "$v $us $ro $(stat -c %s "$prof") $(perf_stats "$prof")" >>"$TMP/p1.tsv"
			else
				"$SCORCH" record -q -g "$v" -e cpu-clock -F "$HZ" -o "$prof" -- "${cc[@]}" >"$TMP/log" 2>&1 || {
					cat "$TMP/log" >&2
					die "scorch record -g $v of clang failed"
				}
				scorch_info "$prof"
				echo "$v $(counter user_stacks) $(counter user_stacks_root) $(stat -c %s "$prof") $(counter samples)" \
					"$(counter unwind_kernel) $(counter unwind_fallback)" >>"$TMP/p1.tsv"
			fi
			rm -f "$prof"
		done
	done
	printf '%-16s %9s %13s %11s %12s %13s %15s\n' variant samples "user stacks" "root %" "profile KB" \
		"kernel walk" "fallback (copy)"
	for v in "${D1[@]}"; do
		if [[ $v == perf-dwarf && $HAVE_PERF -eq 0 ]]; then
			printf '%-16s NOT MEASURED: %s\n' "perf --call-graph dwarf" "$PERF_WHY"
			R[root:$v]="not measured"
			continue
		fi
		rootp=$(awk -v v="$v" '$1 == v && $2 > 0 { printf "%.2f\n", 100 * $3 / $2 }' "$TMP/p1.tsv" | median)
		us=$(awk -v v="$v" '$1 == v { print $2 }' "$TMP/p1.tsv" | median)
		size=$(awk -v v="$v" '$1 == v { print $4 / 1000 }' "$TMP/p1.tsv" | median)
		smp=$(awk -v v="$v" '$1 == v { print $5 }' "$TMP/p1.tsv" | median)
		kw=$(awk -v v="$v" '$1 == v { print ($6 == "" ? "-" : $6) }' "$TMP/p1.tsv" | median)
		fb=$(awk -v v="$v" '$1 == v { print ($7 == "" ? "-" : $7) }' "$TMP/p1.tsv" | median)
		if [[ $v == perf-dwarf ]]; then
			name="perf dwarf"
			kw="-" fb="-"
		else name="scorch -g $v"; fi
		printf '%-16s %9s %13s %10s%% %12.0f %13s %15s\n' "$name" "$smp" "$us" "$rootp" "$size" "$kw" "$fb"
		R[root:$v]="$rootp% (${size%.*} KB)"
	done
	echo
	echo "root % = samples with a user stack whose outermost frame is the root (scorch: user_stacks_root /"
	echo "  user_stacks from 'scorch info'; perf: 'perf script' stacks whose outermost user frame is"
	echo "  _start, __libc_start_main, __libc_start_call_main, start_thread or clone)."
	echo "kernel walk / fallback = scorch's unwind_kernel and unwind_fallback counters (-g auto only):"
	echo "  samples walked in the BPF program, and samples it sent as a stack copy instead."
	echo "perf --call-graph dwarf copies 8 KiB of stack per sample (its default)."
fi

# ---------------------------------------------------------------------------------------
# 1b. the long compile: the tables' start-up cost against the whole run

if [[ $HAVE_CLANG -eq 1 && $LONG_FUNCS -gt 0 ]]; then
	echo
	echo "## 1b. The same, $LONG_FUNCS functions (one round)"
	echo
	GENL=$TMP/genl.c
	gen_c "$LONG_FUNCS" >"$GENL"
	note "part 1b: clang on $LONG_FUNCS functions, auto and perf-dwarf"
	printf '%-16s %9s %13s %11s %12s %13s %15s %10s\n' variant samples "user stacks" "root %" "profile KB" \
		"kernel walk" "fallback (copy)" "depth cap"
	for v in auto perf-dwarf; do
		prof=$TMP/p1b.$v
		cc=("$CLANG" -c -O1 -o "$TMP/genl.o" "$GENL")
		if [[ $v == perf-dwarf ]]; then
			if [[ $HAVE_PERF -eq 0 ]]; then
				printf '%-16s NOT MEASURED: %s\n' "perf dwarf" "$PERF_WHY"
				R[rootl:$v]="not measured"
				continue
			fi
			HOME=$TMP "$PERF" record -q -e cpu-clock -F "$HZ" --call-graph dwarf -o "$prof" -- "${cc[@]}" \
				>"$TMP/log" 2>&1 || {
				cat "$TMP/log" >&2
				die "perf record of clang failed"
			}
			read -r us ro < <(perf_root "$prof")
			smp=$(perf_stats "$prof") kw="-" fb="-" cap="-" name="perf dwarf"
		else
			"$SCORCH" record -q -g "$v" -e cpu-clock -F "$HZ" -o "$prof" -- "${cc[@]}" >"$TMP/log" 2>&1 || {
				cat "$TMP/log" >&2
				die "scorch record -g $v of clang failed"
			}
			scorch_info "$prof"
			us=$(counter user_stacks) ro=$(counter user_stacks_root) smp=$(counter samples)
			kw=$(counter unwind_kernel) fb=$(counter unwind_fallback) cap=$(counter unwind_kernel_depth_cap)
			name="scorch -g $v"
		fi
		rootp=$(pct "$ro" "$us")
		printf '%-16s %9s %13s %10s%% %12.0f %13s %15s %10s\n' "$name" "$smp" "$us" "$rootp" \
			"$(($(stat -c %s "$prof") / 1000))" "$kw" "$fb" "$cap"
		R[rootl:$v]="$rootp%"
		rm -f "$prof"
	done
	echo
	echo "depth cap = stacks the BPF walk cut at 127 frames (unwind_kernel_depth_cap): deeper than the"
	echo "  limit every profiler here keeps (perf's kernel.perf_event_max_stack is 127 too)."
fi

# ---------------------------------------------------------------------------------------
# 2. lost samples, -a, both CPUs busy in deep stacks, plus forks

echo
echo "## 2. Lost samples: record -a -F $HZ for $ALL_SECS s; load: 2 x 'deep $((ALL_SECS + 5)) 100' and 'forker'"
echo
D2=(auto copy dwarf perf-dwarf)
if [[ -w $STATS_SYSCTL ]]; then echo 1 >"$STATS_SYSCTL"; fi
note "part 2: -a recordings of ${D2[*]}, $ALL_SECS s each"
printf '%-26s %9s %8s %8s %12s %10s\n' variant samples lost "lost %" "profile KB" "BPF MiB"
for v in "${D2[@]}"; do
	prof=$TMP/p2.${v//,/_}
	if [[ $v == perf-dwarf && $HAVE_PERF -eq 0 ]]; then
		printf '%-26s NOT MEASURED: %s\n' "perf -a --call-graph dwarf" "$PERF_WHY"
		R[lost:$v]="not measured"
		continue
	fi
	start_load "$((ALL_SECS + 5))"
	sleep 1
	if [[ $v == perf-dwarf ]]; then
		perf_all "$prof" "$ALL_SECS"
		stop_load
		smp=$(perf_stats "$prof")
		lost=$(perf_lost "$prof")
		name="perf -a --call-graph dwarf"
		mem="n/a"
	else
		"$SCORCH" record -q -a -g "$v" -e cpu-clock -F "$HZ" -d "$ALL_SECS" -o "$prof" >"$TMP/log" 2>&1 &
		spid=$!
		BG_PIDS+=("$spid")
		watch_bpf "$spid" "$TMP/snap.a.$v"
		wait "$spid" || {
			cat "$TMP/log" >&2
			die "scorch record -a -g $v failed"
		}
		stop_load
		scorch_info "$prof"
		smp=$(counter samples)
		lost=$(counter lost)
		R[rows:a:$v]=$(counter unwind_table_rows_peak)
		R[tables:a:$v]=$(counter unwind_tables)
		name="scorch -a -g $v"
		mem="not measured"
		if [[ -s $TMP/snap.a.$v ]]; then mem=$(mib "$(map_total "$TMP/snap.a.$v")"); fi
	fi
	lp=$(pct "$lost" "$((smp + lost))")
	printf '%-26s %9s %8s %7s%% %12.0f %10s\n' "$name" "$smp" "$lost" "$lp" "$(($(stat -c %s "$prof") / 1000))" "$mem"
	R[lost:$v]="$lost ($lp%)"
	rm -f "$prof"
done
echo
echo "lost % = lost / (samples + lost). scorch: its 'lost' counter (samples the BPF program could not"
echo "  put in the ring buffer); perf: the sum of its PERF_RECORD_LOST counts ('perf script"
echo "  --show-lost-events'). Both record every process of the machine, so other work counts too."

# ---------------------------------------------------------------------------------------
# 2b. lost samples, -a, under a compile loop: new processes all the time

echo
echo "## 2b. Lost samples: record -a -F $HZ for $COMPILE_SECS s; load: two loops of '$(basename "$CC") -O2 -c fixedwork.c'"
echo
note "part 2b: -a recordings of auto and perf-dwarf under a compile loop, $COMPILE_SECS s each"
printf '%-26s %9s %8s %8s %12s %8s %8s\n' variant samples lost "lost %" "no copy" execs "root %"
for v in auto perf-dwarf; do
	prof=$TMP/p2b.$v
	if [[ $v == perf-dwarf && $HAVE_PERF -eq 0 ]]; then
		printf '%-26s NOT MEASURED: %s\n' "perf -a --call-graph dwarf" "$PERF_WHY"
		R[lostc:$v]="not measured"
		continue
	fi
	start_compile_load "$((COMPILE_SECS + 3))"
	sleep 1
	if [[ $v == perf-dwarf ]]; then
		perf_all "$prof" "$COMPILE_SECS"
		stop_load
		smp=$(perf_stats "$prof") lost=$(perf_lost "$prof") shed="-" ex="-" rootp="-"
		name="perf -a --call-graph dwarf"
	else
		"$SCORCH" record -q -a -g "$v" -e cpu-clock -F "$HZ" -d "$COMPILE_SECS" -o "$prof" >"$TMP/log" 2>&1 || {
			cat "$TMP/log" >&2
			die "scorch record -a -g $v failed"
		}
		stop_load
		scorch_info "$prof"
		smp=$(counter samples) lost=$(counter lost) shed=$(counter stack_copies_shed) ex=$(counter execs)
		rootp=$(pct "$(counter user_stacks_root)" "$(counter user_stacks)")
		name="scorch -a -g $v"
	fi
	lp=$(pct "$lost" "$((smp + lost))")
	printf '%-26s %9s %8s %7s%% %12s %8s %8s\n' "$name" "$smp" "$lost" "$lp" "$shed" "$ex" "$rootp"
	R[lostc:$v]="$lost ($lp%)"
	rm -f "$prof"
done
echo
echo "no copy = samples sent without their stack copy because the ring buffer was more than 3/4 full"
echo "  (stack_copies_shed: kept, with the frame-pointer walk, rather than lost). execs = execs seen."

# ---------------------------------------------------------------------------------------
# 3. recorder CPU per 1,000 samples on fixedwork

echo
echo "## 3. Recorder CPU and slowdown: fixedwork $UNITS at $HZ Hz, medians of $ROUNDS interleaved rounds"
echo
D3=(base auto copy fp perf-fp perf-dwarf)
: >"$TMP/p3.tsv"
# run_fixed VARIANT ROUND [UNITS]: one run; appends "variant round wall_ns wl_cpu_ms prof_cpu_ms samples"
run_fixed() {
	local v=$1 r=$2 units=${3:-$UNITS} prof=$TMP/p3.prof rc=0 cu cs
	local -a cmd
	case $v in
	base) cmd=("$FW" "$units") ;;
	perf-fp) cmd=(env "HOME=$TMP" "$PERF" record -q -e cpu-clock -g -F "$HZ" -o "$prof" -- "$FW" "$units") ;;
	perf-dwarf) cmd=(env "HOME=$TMP" "$PERF" record -q -e cpu-clock --call-graph dwarf -F "$HZ" -o "$prof" -- "$FW" "$units") ;;
	*) cmd=("$SCORCH" record -q -g "$v" -e cpu-clock -F "$HZ" -o "$prof" -- "$FW" "$units") ;;
	esac
	rm -f "$prof"
	# "times" in the subshell reports the CPU of its children: the profiler and the workload it
	# reaped; the workload's own rusage is subtracted (overhead.sh's method).
	(
		"${cmd[@]}" >"$TMP/fw.out" 2>"$TMP/fw.log" || exit $?
		times >"$TMP/fw.times"
	) || rc=$?
	if [[ $rc -ne 0 ]]; then
		cat "$TMP/fw.out" "$TMP/fw.log" >&2
		die "'${cmd[*]}' failed with status $rc"
	fi
	local wall_ns user_us sys_us wl_ms child_ms samples=0
	wall_ns=$(field wall_ns "$TMP/fw.out")
	user_us=$(field user_us "$TMP/fw.out")
	sys_us=$(field sys_us "$TMP/fw.out")
	[[ -n $wall_ns && -n $user_us && -n $sys_us ]] || die "$v: no report line from fixedwork"
	wl_ms=$(awk -v u="$user_us" -v s="$sys_us" 'BEGIN { printf "%.3f", (u + s) / 1000 }')
	read -r cu cs < <(sed -n 2p "$TMP/fw.times")
	child_ms=$(($(tms "$cu") + $(tms "$cs")))
	case $v in
	base) ;;
	perf-*) samples=$(perf_stats "$prof") ;;
	*)
		scorch_info "$prof"
		samples=$(counter samples)
		;;
	esac
	echo "$v $r $wall_ns $wl_ms $(awk -v c="$child_ms" -v w="$wl_ms" 'BEGIN { printf "%.3f", c - w }') $samples" \
		>>"$TMP/p3.tsv"
}
V3=()
for v in "${D3[@]}"; do
	if [[ $v == perf-* && $HAVE_PERF -eq 0 ]]; then continue; fi
	V3+=("$v")
done
note "part 3: warm-up, then $ROUNDS rounds of ${V3[*]}"
for v in "${V3[@]}"; do run_fixed "$v" 0 20; done
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${V3[@]}"; do run_fixed "$v" "$r"; done
done
col3() { awk -v v="$1" -v c="$2" '$1 == v && $2 > 0 { print $c }' "$TMP/p3.tsv"; }
BASE_WALL=$(col3 base 3 | median)
BASE_CPU=$(col3 base 4 | median)
printf '%-22s %10s %7s %11s %12s %8s %10s %10s %10s\n' variant "workload s" "slow %" "CPU slow %" \
	"profiler ms" samples "ms/1000" "fixed ms" "marg. ms"
for v in "${D3[@]}"; do
	case $v in
	base) name="no profiler" ;;
	perf-fp) name="perf -g" ;;
	perf-dwarf) name="perf --call-graph dwarf" ;;
	*) name="scorch -g $v" ;;
	esac
	if [[ $v == perf-* && $HAVE_PERF -eq 0 ]]; then
		printf '%-22s NOT MEASURED: %s\n' "$name" "$PERF_WHY"
		R[cpu:$v]="not measured"
		R[slow:$v]="not measured"
		continue
	fi
	w=$(col3 "$v" 3 | median)
	slow=$(awk -v a="$w" -v b="$BASE_WALL" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')
	cslow=$(awk -v a="$(col3 "$v" 4 | median)" -v b="$BASE_CPU" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')
	pc=$(col3 "$v" 5 | median)
	smp=$(col3 "$v" 6 | median)
	# per 1000 samples: the sums over the rounds, as overhead.sh does
	perk=$(awk -v v="$v" '$1 == v && $2 > 0 { c += $5; s += $6 } END { if (s > 0) printf "%.1f", c / s * 1000; else print "-" }' "$TMP/p3.tsv")
	# fixed and marginal parts: the line through the short warm-up run and the median of the rounds
	read -r fixed marg < <(awk -v v="$v" -v c2="$pc" -v s2="$smp" '$1 == v && $2 == 0 { c1 = $5; s1 = $6 }
		END { if (s2 - s1 > 0) { m = (c2 - c1) / (s2 - s1); printf "%.0f %.1f\n", c1 - m * s1, m * 1000 } else print "- -" }' "$TMP/p3.tsv")
	if [[ $v == base ]]; then
		printf '%-22s %10.3f %7s %11s %12s %8s %10s %10s %10s\n' "$name" "$(awk -v n="$w" 'BEGIN { print n / 1e9 }')" - - \
			"($pc)" - - - -
		continue
	fi
	printf '%-22s %10.3f %7s %11s %12.1f %8s %10s %10s %10s\n' "$name" "$(awk -v n="$w" 'BEGIN { print n / 1e9 }')" "$slow" \
		"$cslow" "$pc" "$smp" "$perk" "$fixed" "$marg"
	R[cpu:$v]=$perk
	R[slow:$v]="$slow% (CPU $cslow%)"
done
echo
echo "profiler ms = user+sys CPU of the profiler process alone (its reaped children, sandbox included,"
echo "  minus the workload's own rusage), start-up and shutdown included; the base row's figure in"
echo "  brackets is the method's own error. ms/1000 = that per 1000 samples (sums over the rounds);"
echo "  fixed / marg. = split into a fixed cost per run and a marginal cost per 1000 samples, from the"
echo "  line through the warm-up run (fixedwork 20, one run: rough) and the median of the rounds;"
echo "  a negative marginal cost means the run-to-run noise of the fixed cost is larger than it."
echo "slow % = the workload's own elapsed time over the median without a profiler; CPU slow % = the"
echo "  same for its CPU time (which includes the in-kernel sampling cost charged to it): on a busy"
echo "  machine the elapsed time mostly measures waiting for a CPU, so read the CPU slowdown."
echo "fixedwork is built with frame pointers and has few distinct stacks."

# ---------------------------------------------------------------------------------------
# 4. BPF cost per sample, and the maps of a -p recording

echo
echo "## 4. BPF cost per sample: scorch record -p PID -F $HZ for $BPF_SECS s of 'deep $((BPF_SECS + 3)) 40'"
echo
D4=(fp copy dwarf auto)
if [[ ! -w $STATS_SYSCTL ]]; then
	echo "NOT MEASURED: $STATS_SYSCTL is not writable"
	for v in "${D4[@]}"; do R[bpf:$v]="not measured"; done
else
	echo 1 >"$STATS_SYSCTL"
	note "part 4: -p recordings of ${D4[*]}, $BPF_SECS s each"
	printf '%-16s %12s %14s %10s %16s %16s %9s\n' variant run_cnt run_time_ms "ns/run" samples "ns/kept sample" "BPF MiB"
	for v in "${D4[@]}"; do
		prof=$TMP/p4.$v
		"$WL/deep" "$((BPF_SECS + 3))" 40 >/dev/null 2>&1 &
		dpid=$!
		BG_PIDS+=("$dpid")
		sleep 0.5
		"$SCORCH" record -q -p "$dpid" -g "$v" -e cpu-clock -F "$HZ" -d "$BPF_SECS" -o "$prof" >"$TMP/log" 2>&1 &
		spid=$!
		BG_PIDS+=("$spid")
		watch_bpf "$spid" "$TMP/snap.p.$v"
		wait "$spid" || {
			cat "$TMP/log" >&2
			die "scorch record -p -g $v failed"
		}
		kill "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
		scorch_info "$prof"
		smp=$(counter samples)
		R[rows:p:$v]=$(counter unwind_table_rows_peak)
		R[tables:p:$v]=$(counter unwind_tables)
		if [[ ! -s $TMP/snap.p.$v ]]; then
			printf '%-16s NOT MEASURED: no bpftool snapshot of the program was taken\n' "scorch -g $v"
			R[bpf:$v]="not measured"
			continue
		fi
		read -r rt rc < <(awk '$1 == "prog" && $2 == "on_sample" { print $4, $5 }' "$TMP/snap.p.$v")
		if [[ ! ${rc:-} =~ ^[0-9]+$ || $rc -eq 0 ]]; then
			printf '%-16s NOT MEASURED: bpftool shows no run_cnt for on_sample\n' "scorch -g $v"
			R[bpf:$v]="not measured"
			continue
		fi
		nsr=$(awk -v t="$rt" -v c="$rc" 'BEGIN { printf "%.0f", t / c }')
		nss=$(awk -v t="$rt" -v s="$smp" 'BEGIN { if (s > 0) printf "%.0f", t / s; else print "-" }')
		printf '%-16s %12s %14.1f %10s %16s %16s %9s\n' "scorch -g $v" "$rc" "$(awk -v t="$rt" 'BEGIN { print t / 1e6 }')" \
			"$nsr" "$smp" "$nss" "$(mib "$(map_total "$TMP/snap.p.$v")")"
		R[bpf:$v]="$nsr ns/run, $nss ns/sample"
		rm -f "$prof"
	done
	echo
	echo "run_cnt, run_time_ns: of scorch's on_sample program with kernel.bpf_stats_enabled=1 (the fdinfo"
	echo "  fields bpftool prog show prints), read about every 0.3 s while recording; the last reading is"
	echo "  used, so slightly below the whole run's. The program"
	echo "  runs on every CPU's cpu-clock event and drops samples of other processes early, so ns/run"
	echo "  mixes those cheap runs with full ones; ns/kept sample = run_time_ns / samples kept (the"
	echo "  'samples' counter) charges all of it to the kept samples: the truth lies between the two."
	echo "  'deep 40' is 40 frames of 1 KiB below main: deeper than the 16 KiB copy of -g copy/dwarf."
fi
if [[ -n $STATS_WAS ]]; then echo "$STATS_WAS" >"$STATS_SYSCTL" 2>/dev/null || true; fi

# ---------------------------------------------------------------------------------------
# 5. BPF map memory

echo
echo "## 5. BPF map memory (memlock, as bpftool map show prints it, of the maps of scorch's descriptors)"
echo
printf '%-24s %10s %10s %16s %14s  %s\n' recording "total MiB" tables "rows peak" "rows used MiB" "largest maps (KiB)"
for kind in a p; do
	for v in auto copy dwarf fp; do
		snap=$TMP/snap.$kind.$v
		[[ -s $snap ]] || continue
		if [[ $kind == a ]]; then name="-a -g $v (part 2)"; else name="-p -g $v (part 4)"; fi
		rows=${R[rows:$kind:$v]:-0}
		printf '%-24s %10s %10s %16s %14s  %s\n' "$name" "$(mib "$(map_total "$snap")")" "${R[tables:$kind:$v]:-0}" \
			"$rows" "$(mib "$((rows * 8))")" "$(map_list "$snap" | cut -d' ' -f1-6)"
		R[mem:$kind:$v]="$(mib "$(map_total "$snap")") MiB, rows used $(mib "$((rows * 8))") MiB"
	done
done
echo
echo "total = the maps as allocated (memlock; each table is a map of its own, made as it is loaded). rows used ="
echo "  unwind_table_rows_peak * 8 bytes: the part of the row array the tables filled at most."

# ---------------------------------------------------------------------------------------
# summary

echo
echo "## Summary"
echo
echo "Machine: $(nproc) CPUs, Linux $(uname -r); ${BUSY}% busy with other work at the start; $HZ Hz cpu-clock."
echo
echo "| | scorch -g auto | scorch -g copy | scorch -g dwarf | scorch -g dwarf,65536 | scorch -g fp | perf -g | perf --call-graph dwarf |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
echo "| clang deep stacks: root % (profile) | ${R[root:auto]:--} | - | ${R[root:dwarf]:--} | ${R[root:dwarf,65536]:--} | - | - | ${R[root:perf-dwarf]:--} |"
echo "| clang, $LONG_FUNCS functions: root % | ${R[rootl:auto]:--} | - | - | - | - | - | ${R[rootl:perf-dwarf]:--} |"
echo "| -a, 2 CPUs busy + forks: lost (%) | ${R[lost:auto]:--} | ${R[lost:copy]:--} | ${R[lost:dwarf]:--} | - | - | - | ${R[lost:perf-dwarf]:--} |"
echo "| -a, compile loop: lost (%) | ${R[lostc:auto]:--} | - | - | - | - | - | ${R[lostc:perf-dwarf]:--} |"
echo "| fixedwork: recorder CPU ms / 1000 samples | ${R[cpu:auto]:--} | ${R[cpu:copy]:--} | - | - | ${R[cpu:fp]:--} | ${R[cpu:perf-fp]:--} | ${R[cpu:perf-dwarf]:--} |"
echo "| fixedwork: slowdown (elapsed, CPU) | ${R[slow:auto]:--} | ${R[slow:copy]:--} | - | - | ${R[slow:fp]:--} | ${R[slow:perf-fp]:--} | ${R[slow:perf-dwarf]:--} |"
echo "| BPF on_sample (deep 40, -p) | ${R[bpf:auto]:--} | ${R[bpf:copy]:--} | ${R[bpf:dwarf]:--} | - | ${R[bpf:fp]:--} | n/a | n/a |"
echo "| BPF maps, -a | ${R[mem:a:auto]:--} | ${R[mem:a:copy]:--} | ${R[mem:a:dwarf]:--} | - | - | n/a | n/a |"
echo "| BPF maps, -p | ${R[mem:p:auto]:--} | ${R[mem:p:copy]:--} | ${R[mem:p:dwarf]:--} | - | ${R[mem:p:fp]:--} | n/a | n/a |"
echo
echo "'-' = not part of this benchmark; n/a = perf has no BPF program or maps."
if ((BUSY > 10)); then
	echo "WARNING: measured while other processes kept ${BUSY}% of the CPUs busy: noisy."
fi
exit 0
