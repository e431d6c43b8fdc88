# record --off-cpu: the time a thread spends off CPU, split where it blocked, on a workload built
# without frame pointers (tests/workloads/offcpu.c): per loop, sleep_part sleeps 30 ms, pipe_part
# blocks 60 ms reading a pipe, mutex_part waits ~10 ms for a mutex another thread holds, cpu_part
# burns 50 ms of CPU. The workload times each part itself and prints it.
. "$(dirname "$0")/lib.bash"

# --off-cpu-min 0: every wait gets its stack, so that the totals can be held against the workload's own
# timing (with the default 1 ms, the sub-millisecond preemptions a loaded machine adds to each part are
# only counted, in off_cpu_below_min_ns); the default threshold is exercised by offcpu_burst.sh.
"$SCORCH" record -q --off-cpu --off-cpu-min 0 -F 199 -o "$TMP/o.prof" -- "$WL/offcpu" 4 50 >"$TMP/out" 2>"$TMP/err" ||
	{ cat "$TMP/err" >&2; fail "record --off-cpu failed"; }
# The programs of --off-cpu load with the in-kernel unwinder (they once passed the verifier's limit,
# and every stack fell back to its copy): waits and samples are unwound in the kernel.
! grep -q "cannot load the in-kernel unwinder" "$TMP/err" || fail "$(cat "$TMP/err")"
[ "$(counter "$TMP/o.prof" unwind_kernel)" -gt 0 ] || fail "--off-cpu: nothing unwound in the kernel"
read -r _ loops _ sleep_ns _ pipe_ns _ mutex_ns _ cpu_ns < <(grep '^loops' "$TMP/out") ||
	fail "the workload printed no times"
note "workload: $loops loops; measured sleep $((sleep_ns / 1000000)) ms, pipe $((pipe_ns / 1000000)) ms," \
	"mutex $((mutex_ns / 1000000)) ms, cpu $((cpu_ns / 1000000)) ms"
[ "$loops" -ge 10 ] || fail "only $loops loops"

# folded --event off-cpu: microseconds, of the main thread (the helpers are named "helper").
"$SCORCH" folded --event off-cpu --comm offcpu -i "$TMP/o.prof" >"$TMP/off.folded" || fail "folded --event off-cpu failed"
us() { awk -v re="$1" '$0 ~ re { t += $NF } END { print t + 0 }' "$TMP/off.folded"; }
s=$(us '(^|;)sleep_part;')
p=$(us '(^|;)pipe_part;')
m=$(us '(^|;)mutex_part;')
t=$((s + p + m))
[ "$t" -gt 0 ] || fail "no off-CPU time in the three parts"
note "scorch: sleep $((s / 1000)) ms, pipe $((p / 1000)) ms, mutex $((m / 1000)) ms" \
	"(designed $((loops * 30)) / $((loops * 60)) / $((loops * 10)) ms)"
note "counters: $(counter "$TMP/o.prof" off_cpu_waits) waits with stacks, $(counter "$TMP/o.prof" off_cpu_dropped) dropped," \
	"$(counter "$TMP/o.prof" off_cpu_untimed) untimed"
# Shares within 3 points of the designed 30/60/10.
between $((100 * s / t)) 27 33 "sleep_part's share of the waits (%)"
between $((100 * p / t)) 57 63 "pipe_part's share of the waits (%)"
between $((100 * m / t)) 7 13 "mutex_part's share of the waits (%)"
# The total within 5% of what the workload timed itself (the designed time plus its wake-up latencies).
between $((100 * t * 1000 / (sleep_ns + pipe_ns + mutex_ns))) 95 105 \
	"the three parts' off-CPU time as a share of their measured time (%)"
# Every stack of the main thread blocked in the parts reaches main.
bad=$(grep -E '(^|;)(sleep|pipe|mutex)_part;' "$TMP/off.folded" | grep -cvE '(^|;)main;(sleep|pipe|mutex)_part;')
[ "$bad" -eq 0 ] || fail "$bad blocked stacks do not reach main: $(grep -vE '(^|;)main;' "$TMP/off.folded" | head -3)"
# The main thread's other waits (ld.so's, before main) are complete too, all but a start-up wait or two
# taken before the process's unwind tables were loaded: 99% of the time in stacks from _start.
all=$(us '.')
rooted=$(us '(^|;)main;')
whole=$(us '^_start;')
note "main thread: $((100 * rooted / all))% of its off-CPU time in stacks that reach main," \
	"$((1000 * whole / all / 10))% in stacks from _start"
[ $((1000 * whole / all)) -ge 990 ] ||
	fail "only $((1000 * whole / all / 10))% of the main thread's waits in stacks from _start: $(grep -v '^_start;' "$TMP/off.folded" | head -3)"
# The helpers' waits are in their own functions, under start_thread.
"$SCORCH" folded --event off-cpu --comm helper -i "$TMP/o.prof" >"$TMP/helper.folded" || fail "folded failed"
h=$(awk '{ t += $NF; if ($0 ~ /start_thread;(pipe|lock)_helper;/) m += $NF } END { printf "%d\n", t ? 100 * m / t : 0 }' "$TMP/helper.folded")
between "$h" 99 100 "share of the helpers' waits in pipe_helper and lock_helper (%)"
# The kernel stacks show where the threads blocked.
grep -q 'nanosleep' "$TMP/off.folded" || fail "no kernel nanosleep frame under sleep_part"
[ "$(counter "$TMP/o.prof" off_cpu_waits)" -gt 0 ] || fail "off_cpu_waits is 0"

# wall: cpu_part's CPU time (from the samples) and its waits (preempted) against the parts' waits,
# in the proportion the workload measured.
"$SCORCH" folded --event wall --comm offcpu -i "$TMP/o.prof" >"$TMP/wall.folded" || fail "folded --event wall failed"
c=$(awk '$0 ~ /(^|;)cpu_part(;|$| )/ { t += $NF } END { print t + 0 }' "$TMP/wall.folded")
w=$(awk '$0 ~ /(^|;)(sleep|pipe|mutex|cpu)_part(;|$| )/ { t += $NF } END { print t + 0 }' "$TMP/wall.folded")
want=$((100 * cpu_ns / (sleep_ns + pipe_ns + mutex_ns + cpu_ns)))
note "wall: cpu_part $((100 * c / w))% (measured $want%)"
between $((100 * c / w)) $((want - 5)) $((want + 5)) "cpu_part's share of the wall-clock time (%)"

# The report says which event and the unit; a CPU-only report is unchanged by the waits.
"$SCORCH" report --event off-cpu -i "$TMP/o.prof" >"$TMP/report" || fail "report --event off-cpu failed"
grep -q '^# event:    off-cpu, time in ms' "$TMP/report" || fail "the report header does not say the event: $(head -12 "$TMP/report")"
grep -q 'Self ms' "$TMP/report" || fail "the report's columns are not in ms"
"$SCORCH" report -i "$TMP/o.prof" >"$TMP/cpu" || fail "report failed"
grep -q '^# samples:' "$TMP/cpu" || fail "the CPU report lost its samples line"
[ "$(within "$TMP/o.prof" 'main;' '(^|;)cpu_part(;| )')" -ge 80 ] || fail "CPU samples of main are not in cpu_part"

# flamegraph --event off-cpu: its own palette (no warm user colours) and unit.
"$SCORCH" flamegraph --event off-cpu -i "$TMP/o.prof" -o "$TMP/off.svg" || fail "flamegraph --event off-cpu failed"
grep -q ' us, ' "$TMP/off.svg" || fail "the off-CPU flame graph does not count microseconds"
# pprof: each off-CPU state a sample type of its own, read by the real pprof when it is built
# (tests/reports/pprof.sh builds it into $OUT/tools).
"$SCORCH" export -f pprof -i "$TMP/o.prof" -o "$TMP/o.pb.gz" || fail "export -f pprof failed"
if [ -x "${OUT:-build}/tools/pprof" ]; then
	"${OUT:-build}/tools/pprof" -top -sample_index=off_cpu_sleep "$TMP/o.pb.gz" >"$TMP/pprof.top" 2>&1 ||
		fail "pprof cannot read the off_cpu_sleep samples: $(head -3 "$TMP/pprof.top")"
	grep -q 'Type: off_cpu_sleep' "$TMP/pprof.top" || fail "no off_cpu_sleep sample type: $(head -5 "$TMP/pprof.top")"
	grep -q 'sleep_part' "$TMP/pprof.top" || "${OUT:-build}/tools/pprof" -top -cum -nodecount=100 \
		-sample_index=off_cpu_sleep "$TMP/o.pb.gz" 2>/dev/null | grep -q sleep_part ||
		fail "pprof's off_cpu_sleep has no sleep_part"
else
	note "pprof not built (tests/reports/pprof.sh builds it): the export is not read back"
fi
exit 0
