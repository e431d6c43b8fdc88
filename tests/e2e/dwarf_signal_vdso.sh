# DWARF unwinding through a signal frame (a handler interrupting a function built without frame
# pointers) and through the vDSO (clock_gettime), which has no file.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/sig.c" <<'C'
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
volatile uint64_t sink;
__attribute__((noinline)) void handler_work(void) { uint64_t x = sink; for (int i = 0; i < 1000000; i++) x = x * 31 + i; sink = x; }
__attribute__((noinline)) void on_alarm(int sig) { (void)sig; handler_work(); sink++; }
__attribute__((noinline)) void victim(void) { uint64_t x = sink; for (int i = 0; i < 100000; i++) x = x * 17 + i; sink = x; }
__attribute__((noinline)) void spin_clock(void) { struct timespec ts; for (int i = 0; i < 20000; i++) clock_gettime(CLOCK_MONOTONIC, &ts); sink += (uint64_t)ts.tv_nsec; }
__attribute__((noinline)) void outer(void) { victim(); spin_clock(); sink++; }
int main(int argc, char **argv)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (time(NULL) < end)
		outer();
	return 0;
}
C
cc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -fno-inline -o "$TMP/sig" "$TMP/sig.c" ||
	fail "cannot build the workload"
pct() {
	awk -v sel="$2" -v re="$3" '{ n = $NF; if ($0 ~ sel) { t += n; if ($0 ~ re) m += n } } END { if (!t) print 0; else printf "%d\n", 100 * m / t }' "$1"
}
"$SCORCH" record -q -g dwarf -F 999 -o "$TMP/sig.prof" -- "$TMP/sig" 3 || fail "record failed"
folded "$TMP/sig.prof" >"$TMP/sig.folded"
main='^_start;__libc_start_main(_impl)?;([^;]+;)?main;'
h=$(pct "$TMP/sig.folded" 'handler_work' "${main}(outer;)?([^;]+;)*on_alarm;handler_work( |;)")
c=$(pct "$TMP/sig.folded" 'spin_clock' "${main}outer;spin_clock( |;)")
inv=$(awk '$0 ~ /spin_clock;/ { t += $NF } END { print t + 0 }' "$TMP/sig.folded")
# (Of the workload's samples: ld.so's start-up and the kernel's exec are no part of it.)
all=$(pct "$TMP/sig.folded" '(^|;)(outer|on_alarm|handler_work|spin_clock)(;| )' "$main")
note "the workload's stacks complete: $all%; signal handler stacks: $h%; clock_gettime stacks: $c%" \
	"($inv samples inside the vDSO call)"
between "$all" 95 100 "share of the workload's complete stacks"
between "$h" 95 100 "share of complete stacks through the signal frame"
between "$c" 95 100 "share of complete stacks through the vDSO"
[ "$inv" -ge 10 ] || fail "too few samples inside clock_gettime ($inv) to judge the vDSO"
exit 0
