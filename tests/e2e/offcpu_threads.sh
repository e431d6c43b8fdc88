# record --off-cpu -p PID: threads started after the attach have their waits recorded; a process that
# exits while a thread is blocked has that last wait recorded, and the recording ends cleanly.
. "$(dirname "$0")/lib.bash"

# threads: main sleeps 3 s, then starts 3 threads that burn 2 s while main burns too: on 2 CPUs the
# four are preempted in turn, so each worker waits for a CPU (off-cpu:runq).
"$WL/threads" 3 2 >"$TMP/out" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/out" && break; sleep 0.1; done
"$SCORCH" record -q --off-cpu -p "$pid" -o "$TMP/t.prof" || fail "record failed"
"$SCORCH" folded --event off-cpu:runq -i "$TMP/t.prof" >"$TMP/runq.folded" || fail "folded --event off-cpu:runq failed"
for f in worker_a worker_b worker_c; do
	us=$(awk -v re="(^|;)$f;" '$0 ~ re { t += $NF } END { print t + 0 }' "$TMP/runq.folded")
	note "$f: $((us / 1000)) ms waiting for a CPU"
	[ "$us" -gt 0 ] || fail "$f, started after the attach, has no off-CPU time"
done
# offcpu ... exit-blocked: after its loops, main blocks reading a pipe nobody writes to, and another
# thread exits the process 200 ms later.
"$SCORCH" record -q --off-cpu -o "$TMP/e.prof" -- "$WL/offcpu" 1 20 exit-blocked >"$TMP/e.out" ||
	fail "record of a process that exits while blocked failed"
grep -q exiting "$TMP/e.out" || fail "the workload did not exit as designed"
us=$("$SCORCH" folded --event off-cpu -i "$TMP/e.prof" | awk '/(^|;)main;block_forever;/ { t += $NF } END { print t + 0 }')
note "the wait the exit ended: $((us / 1000)) ms"
[ "$us" -ge 100000 ] || fail "the last wait of the blocked thread is missing ($us us)"
exit 0
