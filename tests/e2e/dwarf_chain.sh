# DWARF unwinding of code built without frame pointers: a 5-deep chain in a thread started after
# attach, and a callback called by libc's qsort. Complete stacks in 95% of samples, the designed split.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/wl.c" <<'C'
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static volatile uint64_t sink;
static time_t end;
__attribute__((noinline)) void spin_a(void) { uint64_t x = sink; for (int i = 0; i < 20000; i++) x = x * 31 + i; sink = x; }
__attribute__((noinline)) void spin_b(void) { uint64_t x = sink; for (int i = 0; i < 20000; i++) x = x * 17 + i; sink = x; }
__attribute__((noinline)) void level5(int k) { if (k) spin_b(); else spin_a(); sink++; }
__attribute__((noinline)) void level4(int k) { level5(k); sink++; }
__attribute__((noinline)) void level3(int k) { level4(k); sink++; }
__attribute__((noinline)) void level2(int k) { level3(k); sink++; }
__attribute__((noinline)) void level1(int k) { level2(k); sink++; }
__attribute__((noinline)) void *worker(void *arg) { int n = 0; (void)arg; while (time(NULL) < end) level1(n++ % 4 == 3); return NULL; }
__attribute__((noinline)) int cmp_burn(const void *a, const void *b) {
	uint64_t x = sink; for (int i = 0; i < 200; i++) x = x * 13 + i; sink = x;
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}
__attribute__((noinline)) void sort_round(int *v, int n) { for (int i = 0; i < n; i++) v[i] = (i * 7919) % n; qsort(v, n, sizeof(*v), cmp_burn); }
int main(int argc, char **argv) {
	static int v[4096];
	pthread_t t;
	end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	if (pthread_create(&t, NULL, worker, NULL)) return 1;
	while (time(NULL) < end) sort_round(v, 4096);
	pthread_join(t, NULL);
	return 0;
}
C
cc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -fno-inline -pthread -o "$TMP/wl" "$TMP/wl.c" ||
	fail "cannot build the workload"
if objdump -d "$TMP/wl" | grep -A3 '<level3>:' | grep -q 'push *%rbp'; then
	fail "the workload has frame pointers: the test would prove nothing"
fi

# pct FOLDED SELECT MATCH: of the samples whose stack matches SELECT, the percentage that match MATCH.
pct() {
	awk -v sel="$2" -v re="$3" '{ n = $NF; if ($0 ~ sel) { t += n; if ($0 ~ re) m += n } } END { if (!t) print 0; else printf "%d\n", 100 * m / t }' "$1"
}
chain='level1;level2;level3;level4;level5;spin_[ab]'
thread_root="^[^;]+;([^;]+;)?worker;"
main_root='^_start;__libc_start_main(_impl)?;([^;]+;)?main;sort_round;'

for mode in dwarf auto; do
	p="$TMP/$mode.prof"
	"$SCORCH" record -q -g $mode -F 999 -o "$p" -- "$TMP/wl" 3 || fail "record -g $mode failed"
	folded "$p" >"$TMP/$mode.folded"
	n=$(samples "$p")
	[ "$n" -ge 80 ] || fail "$mode: only $n samples"
	full=$(pct "$TMP/$mode.folded" . "$thread_root$chain|$main_root")
	thr=$(pct "$TMP/$mode.folded" 'spin_[ab]' "$thread_root$chain( |;)")
	srt=$(pct "$TMP/$mode.folded" 'cmp_burn' "${main_root}[^;]*qsort[^;]*;.*cmp_burn( |;)")
	a=$(pct "$TMP/$mode.folded" "$chain( |;)" 'spin_a( |;)')
	roots=$(counter "$p" user_stacks_root)
	users=$(counter "$p" user_stacks)
	note "$mode: $n samples; complete stacks $full%; thread chain $thr%; qsort callback chain $srt%;" \
		"spin_a share $a% (designed 75%); root reached $roots/$users"
	between "$full" 95 100 "$mode: share of complete stacks"
	between "$thr" 95 100 "$mode: share of complete thread chains"
	between "$srt" 95 100 "$mode: share of complete qsort callback chains"
	between "$a" 68 82 "$mode: spin_a share"
	between $((100 * roots / users)) 95 100 "$mode: share of user stacks reaching a root"
	[ "$(meta "$p" call_graph)" = "$mode,16384" ] || fail "$mode: meta call_graph is '$(meta "$p" call_graph)'"
done

# A stack copy too small for the chain: the unwinds say so (unwind_truncated), and blame no module.
"$SCORCH" record -q -g dwarf,64 -F 499 -o "$TMP/small.prof" -- "$TMP/wl" 1 || fail "record -g dwarf,64 failed"
t=$(counter "$TMP/small.prof" unwind_truncated)
n=$(counter "$TMP/small.prof" user_stacks)
note "dwarf,64: $t of $n unwinds truncated"
between $((100 * t / n)) 90 100 "dwarf,64: share of truncated unwinds"
# A truncated copy is not blamed on a module (nor is ld.so's entry routine, which has no CFI).
blamed=$("$SCORCH" info -i "$TMP/small.prof" | awk '$1 ~ /^unwind_failed:/ { print $1 "=" $NF }')
[ -z "$blamed" ] || fail "dwarf,64: unwinds blamed on a module, not on the truncated copy:" $blamed

# fp on the same code: the walk fails, and the root counter says so.
"$SCORCH" record -q -g fp -F 499 -o "$TMP/fp.prof" -- "$TMP/wl" 1 || fail "record -g fp failed"
roots=$(counter "$TMP/fp.prof" user_stacks_root)
note "fp: root reached in $roots of $(counter "$TMP/fp.prof" user_stacks) user stacks"
[ "$roots" -lt $(($(counter "$TMP/fp.prof" user_stacks) / 2)) ] || fail "fp reached roots without frame pointers"
exit 0
