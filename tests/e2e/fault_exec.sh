# The target execs a different binary while it is recorded with -p: the frames before the exec are
# named from the old binary and the frames after it from the new one (the cached maps are replaced).
. "$(dirname "$0")/lib.bash"

cat >"$TMP/execer.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static volatile uint64_t sink;
__attribute__((noinline)) void before_exec_work(double secs) {
	struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
	do { uint64_t x = sink, i; for (i = 0; i < 100000; i++) x = x * 33 + i; sink = x; clock_gettime(CLOCK_MONOTONIC, &b); }
	while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
}
int main(int argc, char **argv) {
	(void)argc;
	printf("ready\n"); fflush(stdout);
	usleep(500000);
	before_exec_work(1.5);
	execl(argv[1], argv[1], "2", (char *)NULL);
	return 1;
}
C
# Both binaries static and non-PIE: the new image is mapped at the very addresses of the old one and
# no library moves, so without the exec count stale maps would name the new code after the old
# binary's functions.
flags="-O0 -g -fno-omit-frame-pointer -fno-inline -no-pie -static"
cc $flags -o "$TMP/execer" "$TMP/execer.c" || fail "cannot build the workload"
cc $flags -o "$TMP/demo" "$TESTS/workloads/demo.c" || fail "cannot build the demo"
"$TMP/execer" "$TMP/demo" >"$TMP/out" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/out" && break; sleep 0.1; done
"$SCORCH" record -q -F 299 -p "$pid" -o "$TMP/e.prof" || fail "record failed"
before=$(share "$TMP/e.prof" "main;before_exec_work( |$)")
after=$(share "$TMP/e.prof" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")
note "before the exec: $before%, after it (demo's chain): $after%"
between "$before" 25 60 "share of the old binary's chain"
between "$after" 35 75 "share of the new binary's chain"
between $((before + after)) 90 100 "share of samples named from the right binary"
[ "$(counter "$TMP/e.prof" execs)" -ge 1 ] || fail "the exec was not counted"
exit 0
