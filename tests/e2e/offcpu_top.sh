# top --off-cpu: live waits. On the designed workload the table's time is the waits', and its rows
# have where they block in the kernel, the pipe read (60 ms a loop) above the sleep (30 ms). (top walks
# user stacks by frame pointers, which this workload has not: its user frames are not asserted.)
. "$(dirname "$0")/lib.bash"

"$WL/offcpu" 30 >"$TMP/out" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/out" && break; sleep 0.1; done
"$SCORCH" top --off-cpu --once -i 3 -n 200 -s total -p "$pid" >"$TMP/top" 2>"$TMP/err" ||
	fail "top --off-cpu failed: $(cat "$TMP/err")"
head -1 "$TMP/top" | grep -q '^scorch top: [0-9.]* ms off CPU in' || fail "the header does not say off-CPU time: $(head -1 "$TMP/top")"
ms=$(head -1 "$TMP/top" | awk '{ print int($3) }')
note "top --off-cpu: $ms ms off CPU in 3 s"
[ "$ms" -ge 1000 ] || fail "only $ms ms off CPU in 3 s (three threads mostly blocked)"
pipe=$(awk '$4 == "anon_pipe_read" || $4 == "pipe_read" { print int($2) }' "$TMP/top")
sleep=$(awk '$4 == "hrtimer_nanosleep" || $4 == "do_nanosleep" { print int($2); exit }' "$TMP/top")
note "pipe read $pipe%, nanosleep $sleep% of the total"
[ -n "$pipe" ] && [ -n "$sleep" ] || fail "the pipe read or the sleep is missing: $(cat "$TMP/top")"
[ "$pipe" -gt "$sleep" ] || fail "the pipe read ($pipe%) does not wait longer than the sleep ($sleep%)"
exit 0
