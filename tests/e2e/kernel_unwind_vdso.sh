# -g auto (the default) unwinds through the vDSO in the BPF program too: the vDSO has no file, so its
# table comes from the sandbox's copy of the image, one table for all processes. A workload built
# without frame pointers that spends its time in clock_gettime has most of its samples in the vDSO:
# they are unwound in the kernel (before the vDSO had a table, every one of them fell back to the
# stack copy, counted in unwind_fallback_no_table), and every one of their stacks reaches main.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/clock.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
volatile uint64_t sink;
__attribute__((noinline)) void spin_clock(void)
{
	struct timespec ts;

	for (int i = 0; i < 20000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink += (uint64_t)ts.tv_nsec;
	}
}
int main(int argc, char **argv)
{
	struct timespec now;
	time_t end;

	clock_gettime(CLOCK_MONOTONIC, &now);
	end = now.tv_sec + (argc > 1 ? atoi(argv[1]) : 2);
	do {
		spin_clock();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end);
	return 0;
}
C
cc -O2 -fomit-frame-pointer -fno-optimize-sibling-calls -fno-inline -o "$TMP/clock" "$TMP/clock.c" ||
	fail "cannot build the workload"

# check NAME [RECORD OPTIONS]: record the workload and check its samples in the vDSO.
check() {
	local name=$1 prof="$TMP/$1.prof" v vw vf n k kr ks fb nt np tables
	shift
	"$SCORCH" record -q -F 499 "$@" -o "$prof" -- "$TMP/clock" 4 || fail "$name: record failed"
	[ "$(meta "$prof" call_graph)" = "auto,16384" ] || fail "$name: the default mode is not auto"

	# The samples whose leaf (kernel frames left out: a syscall or an interrupt in the vDSO) is in
	# the vDSO, and of those, the ones whose stack is whole: the workload's own modules from the root.
	"$SCORCH" folded -i "$prof" --by module --no-kernel >"$TMP/$name.modules" ||
		fail "scorch folded --by module failed"
	v=$(awk '/;\[vdso\] [0-9]+$/ { t += $NF } END { print t + 0 }' "$TMP/$name.modules")
	vw=$(awk '/^clock;.*;\[vdso\] [0-9]+$/ { t += $NF } END { print t + 0 }' "$TMP/$name.modules")
	# By function: the stacks from main (through spin_clock, or its own call) into libc's
	# clock_gettime and past it, into the vDSO's (__vdso_clock_gettime, its local code [vdso+0x...]).
	folded "$prof" >"$TMP/$name.folded"
	vf=$(awk -v re="${main}(spin_clock;)?[^;]*clock_gettime;.+ [0-9]+\$" '$0 ~ re { t += $NF } END { print t + 0 }' \
		"$TMP/$name.folded")

	n=$(counter "$prof" samples)
	k=$(counter "$prof" unwind_kernel)
	kr=$(counter "$prof" unwind_kernel_root)
	ks=$(counter "$prof" unwind_kernel_stacks) # what the recorder got of k: lost samples count in k only
	fb=$(counter "$prof" unwind_fallback)
	nt=$(counter "$prof" unwind_fallback_no_table)
	np=$(counter "$prof" unwind_fallback_no_tables)
	tables=$(counter "$prof" unwind_tables)
	note "$name: $n samples, $v in the vDSO ($vw of them whole by module, $vf from main by function);" \
		"$k unwound in the kernel ($kr to the root), $fb fell back ($nt outside any table, $np before" \
		"the tables); $tables tables"
	[ "$v" -ge 50 ] || fail "$name: only $v samples in the vDSO: the workload does not exercise it"
	[ "$(counter "$prof" unwind_tables_failed)" -eq 0 ] || fail "$name: a table could not be built"
	[ "$tables" -ge 3 ] || fail "$name: $tables tables loaded: the workload, libc and the vDSO at least"
	# Before the vDSO had a table, each of its samples taken once the process's tables were loaded
	# fell back here (the samples before that count in unwind_fallback_no_tables): now next to none.
	[ $((nt * 4)) -lt "$v" ] || fail "$name: $nt samples fell back outside any table, for $v in the vDSO"
	[ "$k" -ge $((v / 2)) ] || fail "$name: only $k samples unwound in the kernel, for $v in the vDSO"
	[ "$kr" -eq "$ks" ] || fail "$name: $((ks - kr)) of $ks stacks unwound in the kernel did not reach the root"
	[ "$vw" -eq "$v" ] || fail "$name: $((v - vw)) of $v samples in the vDSO do not start at the workload"
	[ "$vf" -ge "$v" ] || fail "$name: $vf samples in the vDSO reach main through clock_gettime, of $v"
}

main='^_start;__libc_start_main(_impl)?;([^;]+;)?main;'
# The table built in the sandbox's child, and in-process (from the unwinding service's copy).
check sandboxed
check in-process --no-sandbox
exit 0
