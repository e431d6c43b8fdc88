# -g fp: the caller of a leaf that never sets up a frame is repaired from the CFI (the frame-pointer
# walk alone skips it: main;run_round;spin_units, without dispatch).
. "$(dirname "$0")/lib.bash"

cat >"$TMP/leaf.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
volatile uint64_t sink;
__attribute__((noinline, optimize("omit-frame-pointer"))) void spin_units(void)
{
	uint64_t x = sink;
	for (int i = 0; i < 100000; i++)
		x = x * 31 + i;
	sink = x;
}
__attribute__((noinline)) void dispatch(void) { spin_units(); }
__attribute__((noinline)) void run_round(void) { dispatch(); }
int main(int argc, char **argv)
{
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	while (time(NULL) < end)
		run_round();
	return 0;
}
C
cc -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-inline -o "$TMP/leaf" "$TMP/leaf.c" ||
	fail "cannot build the workload"
objdump -d "$TMP/leaf" | grep -A2 '<spin_units>:' | grep -q 'push *%rbp' && fail "spin_units has a frame: the test would prove nothing"

"$SCORCH" record -q -g fp -F 499 -o "$TMP/fp.prof" -- "$TMP/leaf" 2 || fail "record -g fp failed"
n=$(matching "$TMP/fp.prof" "spin_units( |;|$)")
s=$(within "$TMP/fp.prof" "spin_units( |;|$)" "main;run_round;dispatch;spin_units( |;|$)")
skipped=$(within "$TMP/fp.prof" "spin_units( |;|$)" "main;run_round;spin_units( |;|$)")
note "fp: $n samples in spin_units, main;run_round;dispatch;spin_units in $s% of them, dispatch missing in $skipped%"
[ "$n" -ge 80 ] || fail "only $n samples in spin_units"
between "$s" 90 100 "share of spin_units's stacks repaired"
[ "$(meta "$TMP/fp.prof" call_graph)" = fp ] || fail "meta call_graph is not fp"
exit 0
