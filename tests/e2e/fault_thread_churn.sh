# Threads created and ended in a tight loop: the recorder keeps up, loses nothing silently, and the
# file is complete.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/churn.c" <<'C'
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static volatile uint64_t sink;
__attribute__((noinline)) static void *short_life(void *a) { uint64_t x = sink, i; (void)a; for (i = 0; i < 200000; i++) x = x * 7 + i; sink = x; return NULL; }
int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 3;
	struct timespec t0, t;
	long n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pthread_t th[4];
		int i;
		for (i = 0; i < 4; i++) pthread_create(&th[i], NULL, short_life, NULL);
		for (i = 0; i < 4; i++) pthread_join(th[i], NULL);
		n += 4;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return n > 0 ? 0 : 1;
}
C
cc -O0 -g -fno-omit-frame-pointer -pthread -o "$TMP/churn" "$TMP/churn.c" || fail "cannot build the workload"
"$SCORCH" record -q -F 999 -o "$TMP/c.prof" -- "$TMP/churn" 3 || fail "record failed"
threads=$("$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "threads" { print $2 }')
lost=$(counter "$TMP/c.prof" lost)
n=$(samples "$TMP/c.prof")
note "samples $n, threads seen $threads, lost $lost"
[ "$threads" -ge 100 ] || fail "expected hundreds of short-lived threads, saw $threads"
s=$(share "$TMP/c.prof" "short_life( |$)")
between "$s" 70 100 "share of samples in the short-lived threads"
[ "$lost" = 0 ] || note "note: $lost samples lost (counted)"
exit 0
