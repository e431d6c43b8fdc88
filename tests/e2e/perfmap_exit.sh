# A JIT that writes its perf map only at exit (as java -XX:+DumpPerfMapAtExit does): the recorder
# keeps the raw addresses of the unnamed JIT code and reads the map again when the target exits or
# the recording ends, so the names appear (also for locations already written to the file in an
# earlier chunk); a map written after the recording is read by report --resymbolize, if it belongs
# to the user running report or to root.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/atexit.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	/* mov ecx, 0x100000; l: dec ecx; jnz l; ret */
	static const unsigned char code[] = { 0xb9, 0x00, 0x00, 0x10, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xc3 };
	unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	time_t end = time(NULL) + atoi(argv[1]);
	char path[64];
	FILE *f;

	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, code, sizeof(code));
	while (time(NULL) < end)
		((void (*)(void))mem)();
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %zx JitAtExit::hot_loop\n", (unsigned long)mem, sizeof(code));
	fclose(f);
	if (argc > 2 && chown(path, 65534, 65534))
		return 1;
	return 0;
}
C
cc -O2 -o "$TMP/atexit" "$TMP/atexit.c" || fail "cannot build the workload"
maps=()
trap 'cleanup_pids; rm -f "${maps[@]}"; rm -rf "$TMP"' EXIT

# 1. Recorded until it exits: named from the map read at exit. 3 s: several chunks were written
# with the JIT code unnamed before the map existed.
"$SCORCH" record -q -F 499 -o "$TMP/exit.prof" -- "$TMP/atexit" 3 || fail "record failed"
pid=$("$SCORCH" info -i "$TMP/exit.prof" | awk '$1 == "targets" { print $2; exit }')
maps+=("/tmp/perf-$pid.map")
s=$(share "$TMP/exit.prof" 'JitAtExit::hot_loop')
note "map written at exit: JitAtExit::hot_loop in $s% of samples"
between "$s" 50 100 "share of JIT code named from a map written at exit"
late=$(counter "$TMP/exit.prof" jit_named_late)
[ "${late:-0}" -ge 1 ] || fail "jit_named_late is '${late:-}', expected >= 1"
"$SCORCH" report -i "$TMP/exit.prof" -n 3 --no-header | grep -q 'JitAtExit::hot_loop' ||
	fail "report does not name the JIT code"

# 2. The recording ends before the target writes its map: the JIT code stays unnamed, with its raw
# address, and report --resymbolize names it from the map written later.
"$TMP/atexit" 3 &
pid=$!
BG_PIDS+=("$pid")
maps+=("/tmp/perf-$pid.map")
"$SCORCH" record -q -F 499 -p "$pid" -d 1 -o "$TMP/early.prof" || fail "record -p failed"
wait "$pid" || fail "the workload failed"
[ -f "/tmp/perf-$pid.map" ] || fail "the workload wrote no perf map"
s=$(share "$TMP/early.prof" "\\[perf-$pid\\.map\\+0x[0-9a-f]+\\]")
note "map written after the recording: [perf-$pid.map+0x...] in $s% of samples"
between "$s" 50 100 "share of unnamed JIT code with its raw address"
s=$(share "$TMP/early.prof" 'JitAtExit')
[ "$s" = 0 ] || fail "named before the map existed ($s%)"
"$SCORCH" report -i "$TMP/early.prof" --resymbolize -n 3 --no-header >"$TMP/resym.txt" ||
	fail "report --resymbolize failed"
grep -q 'JitAtExit::hot_loop' "$TMP/resym.txt" || fail "--resymbolize did not read the perf map: $(cat "$TMP/resym.txt")"

# 3. A map that belongs to someone else than the user running report (or root) is not read.
chown 65534:65534 "/tmp/perf-$pid.map"
"$SCORCH" report -i "$TMP/early.prof" --resymbolize -n 3 --no-header >"$TMP/resym2.txt" 2>"$TMP/resym2.err" ||
	fail "report --resymbolize failed"
grep -q 'JitAtExit' "$TMP/resym2.txt" && fail "--resymbolize used a perf map owned by another user"
grep -q 'not owned by you or root' "$TMP/resym2.err" || fail "no warning for the foreign perf map: $(cat "$TMP/resym2.err")"

# 4. At exit too, the recorder trusts only a map of the target's user or root.
"$SCORCH" record -F 499 -o "$TMP/foreign.prof" -- "$TMP/atexit" 2 chown 2>"$TMP/foreign.err" || fail "record failed"
pid=$("$SCORCH" info -i "$TMP/foreign.prof" | awk '$1 == "targets" { print $2; exit }')
maps+=("/tmp/perf-$pid.map")
s=$(share "$TMP/foreign.prof" 'JitAtExit')
[ "$s" = 0 ] || fail "a perf map owned by another user was used at exit ($s%)"
grep -q "not owned by the process's user or root" "$TMP/foreign.err" || fail "no warning: $(cat "$TMP/foreign.err")"
exit 0
