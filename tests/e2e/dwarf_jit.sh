# Code without CFI (generated at run time into anonymous memory, with a frame pointer): -g dwarf
# stops there and names the culprit (unwind_failed:[anon]); -g auto steps past it by its frame
# pointer and goes on by CFI through libc (no frame pointers) to _start; -g fp stops in libc. The
# unnamed JIT code keeps its raw address under the process's JIT mapping, as perf shows it:
# [perf-PID.map+0xADDR].
. "$(dirname "$0")/lib.bash"

cat >"$TMP/jit.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
static const unsigned char code[] = {
	0x55, 0x48, 0x89, 0xe5,       /* push rbp; mov rbp, rsp */
	0xb9, 0x00, 0x00, 0x10, 0x00, /* mov ecx, 0x100000 */
	0xff, 0xc9, 0x75, 0xfc,       /* loop: dec ecx; jnz loop */
	0x5d, 0xc3,                   /* pop rbp; ret */
};
__attribute__((noinline)) void jit_caller(void (*fn)(void)) { fn(); __asm__ volatile("" ::: "memory"); }
int main(int argc, char **argv)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);

	if (m == MAP_FAILED)
		return 1;
	memcpy(m, code, sizeof(code));
	while (time(NULL) < end)
		jit_caller((void (*)(void))m);
	return 0;
}
C
cc -O0 -g -fno-omit-frame-pointer -fno-inline -o "$TMP/jit" "$TMP/jit.c" || fail "cannot build the workload"

for mode in dwarf auto fp; do
	"$SCORCH" record -q -g $mode -F 499 -o "$TMP/$mode.prof" -- "$TMP/jit" 2 || fail "record -g $mode failed"
done
n=$(samples "$TMP/dwarf.prof")
f=$(counter "$TMP/dwarf.prof" 'unwind_failed:[anon]')
note "dwarf: unwind_failed:[anon] in ${f:-0} of $n samples"
between $((100 * ${f:-0} / n)) 90 100 "dwarf: share of samples failing in [anon]"

jit='\[perf-[0-9]+\.map\+0x[0-9a-f]+\]( |;)'
[ "$(matching "$TMP/auto.prof" "$jit")" -ge 200 ] || fail "auto: only $(matching "$TMP/auto.prof" "$jit") samples in the JIT code"
s=$(within "$TMP/auto.prof" "$jit" '^_start;__libc_start_main(_impl)?;([^;]+;)?main;jit_caller;\[perf-[0-9]+\.map\+0x[0-9a-f]+\]( |;)')
note "auto: _start...main;jit_caller;[perf-PID.map+0x...] in $s% of the JIT code's samples"
between "$s" 95 100 "auto: share of complete stacks through code without CFI"

s=$(within "$TMP/fp.prof" "$jit" 'main;jit_caller;\[perf-[0-9]+\.map\+0x[0-9a-f]+\]( |;)')
r=$(counter "$TMP/fp.prof" user_stacks_root)
note "fp: main;jit_caller;[perf-PID.map+0x...] in $s% of the JIT code's samples, $r reach _start"
between "$s" 95 100 "fp: share of the JIT code's stacks with main;jit_caller"
exit 0
