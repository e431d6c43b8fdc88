# Threads created and ended in a tight loop: the recorder keeps up, loses nothing silently, and the
# file is complete.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 999 -o "$TMP/c.prof" -- "$WL/churn" 3 || fail "record failed"
threads=$("$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "threads" { print $2 }')
lost=$(counter "$TMP/c.prof" lost)
n=$(samples "$TMP/c.prof")
note "samples $n, threads seen $threads, lost $lost"
[ "$threads" -ge 100 ] || fail "expected hundreds of short-lived threads, saw $threads"
# The threads' own work, not its share of all (thread creation and exit costs what the machine makes
# it cost): many samples, each with the thread's whole stack.
t=$(matching "$TMP/c.prof" "short_life( |$)")
[ "$t" -ge 300 ] || fail "only $t samples in the short-lived threads"
s=$(within "$TMP/c.prof" "short_life( |$)" "^(__clone3;)?start_thread;short_life( |$)")
between "$s" 95 100 "share of the short-lived threads' samples with their whole stack"
[ "$lost" = 0 ] || note "note: $lost samples lost (counted)"

# Past the thread limit new threads are merged into their process's tid 0: nothing is lost, and the
# table stops growing (the limit is lowered for the test; it is 65536).
SCORCH_TEST_MAX_THREADS=50 "$SCORCH" record -q -F 999 -o "$TMP/m.prof" -- "$WL/churn" 2 || fail "record failed"
threads=$("$SCORCH" info -i "$TMP/m.prof" | awk '$1 == "threads" { print $2 }')
merged=$(counter "$TMP/m.prof" threads_merged)
n=$(samples "$TMP/m.prof")
note "with a limit of 50 threads: $threads threads kept, $merged samples merged, $n samples in all"
[ "$threads" -le 51 ] || fail "the thread table grew past its limit: $threads"
[ "$merged" -gt 0 ] || fail "no sample was merged"
t=$(matching "$TMP/m.prof" "short_life( |$)")
[ "$t" -ge 200 ] || fail "only $t samples in the short-lived threads, merged or not"
s=$(within "$TMP/m.prof" "short_life( |$)" "^(__clone3;)?start_thread;short_life( |$)")
between "$s" 95 100 "share of the short-lived threads' samples with their whole stack, merged or not"
# Threads that end at once, unwound by DWARF: glibc's clone3 has no CFI around its system call, yet
# a sample in pthread_create's clone3 keeps its callers down to main, a sample in a thread being born
# is a root (the thread's first frame), and no unwind is blamed on libc.
cat >"$TMP/bare.c" <<'C'
#include <pthread.h>
#include <time.h>
static void *bare(void *a) { return a; }
int main(void) {
	time_t end = time(NULL) + 2;
	while (time(NULL) < end) { pthread_t t; if (pthread_create(&t, NULL, bare, NULL)) return 1; pthread_join(t, NULL); }
	return 0;
}
C
cc -O2 -pthread -o "$TMP/bare" "$TMP/bare.c" || fail "cannot build the workload"
"$SCORCH" record -q -g dwarf -F 999 -o "$TMP/bare.prof" -- "$TMP/bare" || fail "record -g dwarf failed"
folded "$TMP/bare.prof" >"$TMP/bare.folded"
in_clone=$(awk '/;main;.*__clone3;/ { t += $NF } END { print t + 0 }' "$TMP/bare.folded")
roots=$(counter "$TMP/bare.prof" user_stacks_root)
users=$(counter "$TMP/bare.prof" user_stacks)
blamed=$("$SCORCH" info -i "$TMP/bare.prof" | awk '$1 ~ /^unwind_failed:/ { print $1 "=" $NF }')
note "-g dwarf: $users user stacks, $roots reach a root, $in_clone from main into clone3"
[ -z "$blamed" ] || fail "-g dwarf: unwinds blamed on a module:" $blamed
[ "$in_clone" -ge 10 ] || fail "-g dwarf: only $in_clone samples in pthread_create's clone3 reach main"
between $((100 * roots / users)) 98 100 "-g dwarf: share of user stacks reaching a root"
exit 0
