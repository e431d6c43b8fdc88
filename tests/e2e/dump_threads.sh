# dump -p PID: the stack of every thread, a blocked one (read on a pipe, through a known call chain)
# and a busy one, named with file:line; the target is left running, not stopped.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/blocked.c" <<'C'
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
static int fds[2];
static volatile uint64_t sink;
__attribute__((noinline)) void wait_for_order(void) { char c; if (read(fds[0], &c, 1) == 1) sink++; }
__attribute__((noinline)) void take_orders(void) { wait_for_order(); sink++; }
__attribute__((noinline)) void *order_thread(void *a) { (void)a; take_orders(); return NULL; }
__attribute__((noinline)) void crunch_numbers(void) { for (;;) sink = sink * 31 + 7; }
__attribute__((noinline)) void *busy_thread(void *a) { (void)a; crunch_numbers(); return NULL; }
int main(void)
{
	pthread_t a, b;
	if (pipe(fds))
		return 1;
	pthread_create(&a, NULL, order_thread, NULL);
	pthread_create(&b, NULL, busy_thread, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
C
# -O2 without frame pointers: the chains come from the DWARF CFI.
cc -O2 -g -fomit-frame-pointer -pthread -o "$TMP/blocked" "$TMP/blocked.c" || fail "cannot build the workload"
"$TMP/blocked" >"$TMP/ready" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/ready" && break; sleep 0.1; done
"$SCORCH" dump -p "$pid" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "dump failed"; }
cat "$TMP/out" >&2
threads=$(grep -c '^thread ' "$TMP/out")
[ "$threads" -eq 3 ] || fail "expected 3 threads, got $threads"
# chain TID: the function names of one thread's stack, innermost first, on one line.
chain() {
	awk -v tid="$1" '/^thread / { on = ($2 == tid) } on && /^  #/ { printf "%s ", $2 }' "$TMP/out"
}
tids=$(awk '/^thread / { print $2 }' "$TMP/out")
blocked=$(for t in $tids; do chain "$t"; echo; done | grep -o 'read.* wait_for_order take_orders order_thread start_thread' || true)
[ -n "$blocked" ] || fail "the blocked chain read <- wait_for_order <- take_orders <- order_thread <- start_thread is missing"
busy=$(awk '/^thread / { t = $2 } /crunch_numbers/ { print t; exit }' "$TMP/out")
[ -n "$busy" ] || fail "the busy thread's crunch_numbers is missing"
chain "$busy" | grep -q '^crunch_numbers busy_thread start_thread' || fail "the busy chain is wrong: $(chain "$busy")"
grep -q 'wait_for_order at .*blocked.c:7' "$TMP/out" || fail "no file:line for wait_for_order"
# Still running, and not left stopped: no thread in state t (traced) or T (stopped).
sleep 0.2
kill -0 "$pid" || fail "the target died"
for t in /proc/"$pid"/task/*; do
	st=$(awk '{ print $3 }' "$t/stat")
	case "$st" in t | T) fail "thread $(basename "$t") is left in state $st" ;; esac
done
grep -q '^TracerPid:[[:space:]]*0$' "/proc/$pid/status" || fail "the target is still traced"
# The busy thread goes on burning CPU.
c0=$(awk '{ print $14 }' "/proc/$pid/stat"); sleep 0.5; c1=$(awk '{ print $14 }' "/proc/$pid/stat")
[ "$c1" -gt "$c0" ] || fail "the busy thread stopped running"

# --json: the same chains.
"$SCORCH" dump --json -p "$pid" >"$TMP/json" || fail "dump --json failed"
if command -v jq >/dev/null; then
	jq -e '.pid == '"$pid"' and (.threads | length == 3)' "$TMP/json" >/dev/null || fail "bad JSON shape"
	jq -r '.threads[] | [.frames[].function] | join(" ")' "$TMP/json" | grep -q 'wait_for_order take_orders order_thread' ||
		fail "JSON lacks the blocked chain"
	jq -e '[.threads[].frames[] | select(.function == "wait_for_order") | .line] | .[0] == 7' "$TMP/json" >/dev/null ||
		fail "JSON lacks wait_for_order's line"
fi
# A process that does not exist.
"$SCORCH" dump -p 2147483647 2>"$TMP/err" && fail "dump of no process succeeded"
grep -q "no process with pid 2147483647" "$TMP/err" || fail "unclear error for a missing process"
exit 0
