# DWARF unwinding through .debug_frame: code built without unwind tables (-fno-asynchronous-unwind-tables
# -fno-unwind-tables -g) has its call frame information only there, not in .eh_frame. Built by gcc
# (CIE version 1) and by clang (CIE version 4), complete stacks in 95% of samples; with .debug_frame
# removed, the same binary's stacks stop in it and the unwind failures name it (the control).
. "$(dirname "$0")/lib.bash"

cat >"$TMP/wl.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static volatile uint64_t sink;
__attribute__((noinline)) void spin_a(void) { uint64_t x = sink; for (int i = 0; i < 20000; i++) x = x * 31 + i; sink = x; }
__attribute__((noinline)) void spin_b(void) { uint64_t x = sink; for (int i = 0; i < 20000; i++) x = x * 17 + i; sink = x; }
__attribute__((noinline)) void level5(int k) { if (k) spin_b(); else spin_a(); sink++; }
__attribute__((noinline)) void level4(int k) { level5(k); sink++; }
__attribute__((noinline)) void level3(int k) { volatile char pad[200]; pad[0] = 1; level4(k + pad[0] - 1); sink++; }
__attribute__((noinline)) void level2(int k) { level3(k); sink++; }
__attribute__((noinline)) void level1(int k) { level2(k); sink++; }
int main(int argc, char **argv) {
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	int n = 0;
	while (time(NULL) < end) level1(n++ % 4 == 3);
	return 0;
}
C

# pct FOLDED SELECT MATCH: of the samples whose stack matches SELECT, the percentage that match MATCH.
pct() {
	awk -v sel="$2" -v re="$3" '{ n = $NF; if ($0 ~ sel) { t += n; if ($0 ~ re) m += n } } END { if (!t) print 0; else printf "%d\n", 100 * m / t }' "$1"
}
full='^_start;__libc_start_main(_impl)?;([^;]+;)?main;level1;level2;level3;level4;level5;spin_[ab]( |;)'

for compiler in cc clang; do
	if ! command -v $compiler >/dev/null; then
		fail "$compiler is missing (make test installs it)"
	fi
	wl=$TMP/wl-$compiler
	$compiler -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -fno-inline \
		-fno-asynchronous-unwind-tables -fno-unwind-tables -o "$wl" "$TMP/wl.c" ||
		fail "cannot build the workload with $compiler"
	# The test proves something only if level3's CFI is in .debug_frame and not in .eh_frame.
	lo=$(nm "$wl" | awk '$3 == "level3" { print $1 }')
	[ -n "$lo" ] || fail "$compiler: no symbol level3"
	readelf -S "$wl" | grep -q '\.debug_frame' || fail "$compiler: the workload has no .debug_frame"
	if readelf --debug-dump=frames "$wl" 2>/dev/null | grep -E "FDE .*pc=0*$lo\.\." | grep -q .; then
		:
	else
		fail "$compiler: .debug_frame has no FDE for level3 at $lo"
	fi
	if objdump -d "$wl" | grep -A3 '<level3>:' | grep -q 'push *%rbp'; then
		fail "$compiler: the workload has frame pointers: the test would prove nothing"
	fi
	if readelf --debug-dump=frames "$wl" 2>/dev/null |
		awk '/^Contents of the .eh_frame/ { e = 1 } /^Contents of the .debug_frame/ { e = 0 } e' |
		grep -qE "pc=0*$lo\.\."; then
		fail "$compiler: .eh_frame covers level3: the test would prove nothing"
	fi
	version=$(readelf --debug-dump=frames "$wl" 2>/dev/null |
		awk '/^Contents of the .debug_frame/ { d = 1 } d && /Version:/ { print $2; exit }')

	p=$TMP/$compiler.prof
	"$SCORCH" record -q -g dwarf -F 999 -o "$p" -- "$wl" 2 || fail "$compiler: record -g dwarf failed"
	folded "$p" >"$TMP/$compiler.folded"
	n=$(samples "$p")
	[ "$n" -ge 100 ] || fail "$compiler: only $n samples"
	got=$(pct "$TMP/$compiler.folded" 'spin_[ab]' "$full")
	a=$(pct "$TMP/$compiler.folded" 'spin_[ab]' 'spin_a( |;)')
	note "$compiler (.debug_frame CIE version $version): $n samples, complete stacks $got%, spin_a share $a% (designed 75%)"
	between "$got" 95 100 "$compiler: share of complete stacks through .debug_frame"
	between "$a" 68 82 "$compiler: spin_a share"

	# The control: without .debug_frame the unwind stops in the workload, and says so.
	objcopy --remove-section=.debug_frame "$wl" "$wl-nodf" || fail "objcopy failed"
	p=$TMP/$compiler-nodf.prof
	"$SCORCH" record -q -g dwarf -F 999 -o "$p" -- "$wl-nodf" 2 || fail "$compiler: record of the control failed"
	folded "$p" >"$TMP/$compiler-nodf.folded"
	# Too few samples in spin_[ab] (a loaded machine) would make the assertions below meaningless.
	nctl=$(awk '/spin_[ab]( |;)/ { t += $NF } END { print t + 0 }' "$TMP/$compiler-nodf.folded")
	[ "$nctl" -ge 20 ] || fail "$compiler: only $nctl samples in spin_a/spin_b without .debug_frame"
	ctl=$(pct "$TMP/$compiler-nodf.folded" 'spin_[ab]' "$full")
	failed=$("$SCORCH" info -i "$p" | awk -v k="unwind_failed:wl-$compiler-nodf" '$1 == k || $1 == k ":" { print $NF }')
	note "$compiler without .debug_frame: complete stacks $ctl%, unwind_failed:wl-$compiler-nodf ${failed:-0}"
	[ "$ctl" -lt 50 ] || fail "$compiler: stacks were complete without .debug_frame: the test proves nothing"
	[ "${failed:-0}" -gt 0 ] || fail "$compiler: the unwind failures without .debug_frame were not counted"
done
exit 0
