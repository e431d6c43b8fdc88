# record -p PID: threads started after attach are sampled; the recording ends when the process exits.
. "$(dirname "$0")/lib.bash"

"$WL/threads" 1 2 >"$TMP/out" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/out" && break; sleep 0.1; done
start=$(date +%s%N)
"$SCORCH" record -q -F 199 -p "$pid" -o "$TMP/t.prof" || fail "record failed"
took=$((($(date +%s%N) - start) / 1000000))
note "recording ended after ${took} ms (the target ran ~3 s)"
[ "$took" -lt 8000 ] || fail "recording did not end when the target exited"
# Every thread is sampled, those started after the attach too (how the scheduler shares two CPUs
# between four threads is not asserted): each has ~45 samples here.
for f in worker_a worker_b worker_c main_loop; do
	s=$(matching "$TMP/t.prof" "(^|;)$f;burn")
	note "$f: $s samples"
	[ "$s" -ge 10 ] || fail "$f: only $s samples"
done
threads=$("$SCORCH" info -i "$TMP/t.prof" | awk '$1 == "threads" { print $2 }')
[ "$threads" -ge 4 ] || fail "expected 4 threads, got $threads"
exit 0
