# record --off-cpu under a burst of context switches (two threads ping-ponging a byte over pipes,
# 100k+ switches a second here): the recorder stays bounded, the stacks per second stay under
# --off-cpu-rate, every wait is accounted for (with a stack, below the threshold, or dropped), no crash.
. "$(dirname "$0")/lib.bash"

# run NAME ARGS...: record the ping-pong for 4 s; sets switches, recorder_ms (the recorder's own CPU
# time: all the children's but the workload's, which it prints) and wall_ms.
run() {
	local name=$1 line total
	shift
	start=$(date +%s%N)
	total=$({ "$SCORCH" record -q --off-cpu "$@" -o "$TMP/$name.prof" -- "$WL/pingpong" 4 >"$TMP/$name.out" ||
		echo "FAILED"; times; } | awk '/FAILED/ { print "FAILED"; exit } NR == 2 {
		split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }')
	[ "$total" != FAILED ] || fail "$name: record failed"
	wall_ms=$((($(date +%s%N) - start) / 1000000))
	line=$(grep '^switches' "$TMP/$name.out") || fail "$name: the workload did not finish"
	read -r _ switches _ per_sec _ cpu_ms <<<"$line"
	recorder_ms=$((total - cpu_ms))
	note "$name: $switches switches ($per_sec/s), recorder CPU $recorder_ms ms over $wall_ms ms"
	"$SCORCH" report --event off-cpu -i "$TMP/$name.prof" >/dev/null || fail "$name: report --event off-cpu failed"
}

c() { counter "$TMP/$1.prof" "$2"; }

# The default threshold: nearly every wait is below 1 ms, counted with its time, given no stack.
run default
[ "$switches" -gt 20000 ] || fail "only $switches switches: no burst"
below=$(c default off_cpu_below_min)
note "default: $below waits below 1 ms ($(($(c default off_cpu_below_min_ns) / 1000000)) ms), $(c default off_cpu_waits) with stacks"
[ $((below + $(c default off_cpu_waits) + $(c default off_cpu_dropped))) -ge $((switches * 9 / 10)) ] ||
	fail "waits not accounted for: $below below the threshold of $switches switches"
[ $((recorder_ms * 2)) -le "$wall_ms" ] || fail "the recorder used $recorder_ms ms of CPU in $wall_ms ms"

# No threshold: every wait asks for a stack; the rate bound holds and the rest is counted as dropped.
run nomin --off-cpu-min 0 --off-cpu-rate 1000
waits=$(c nomin off_cpu_waits)
dropped=$(c nomin off_cpu_dropped)
secs=$(($(meta "$TMP/nomin.prof" duration_ns) / 1000000000 + 1))
note "no threshold: $waits waits with stacks, $dropped dropped ($(($(c nomin off_cpu_dropped_ns) / 1000000)) ms) in ${secs} s"
[ "$dropped" -gt 0 ] || fail "nothing dropped at --off-cpu-rate 1000 with $switches switches"
[ "$(c nomin off_cpu_dropped_ns)" -gt 0 ] || fail "the dropped waits' time is not counted"
[ "$waits" -le $((secs * 1000 * 3 / 2 + 200)) ] || fail "$waits stacks in $secs s at --off-cpu-rate 1000"
[ $((waits + dropped)) -ge $((switches * 9 / 10)) ] || fail "waits not accounted for: $waits + $dropped of $switches"
[ $((recorder_ms * 2)) -le "$wall_ms" ] || fail "the recorder used $recorder_ms ms of CPU in $wall_ms ms"
exit 0
