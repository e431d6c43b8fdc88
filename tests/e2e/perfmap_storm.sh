# A target cannot stall the (root) recorder with its perf map: a process that runs JIT code hot and
# writes a huge /tmp/perf-PID.map whose entries all miss that code. Every sample of the JIT code
# misses the map; the recorder must neither re-read the map from its sample callback (reads happen
# between ring-buffer reads, at most once a second counted from the end of the last read) nor parse a
# map over the 16 MiB cap (counted in perfmap_too_large). `record -d 2` and SIGINT end in bounded
# time. The bound is generous (a loaded 2-core CI): before the fix this ran until the target exited.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/storm.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	/* mov ecx, 0x10000; l: dec ecx; jnz l; ret */
	static const unsigned char code[] = { 0xb9, 0x00, 0x00, 0x01, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xc3 };
	unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long mib = atol(argv[1]), secs = atol(argv[2]);
	char path[64], tmp[80];
	unsigned long i;
	time_t end;
	FILE *f;

	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, code, sizeof(code));
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	/* Far below the JIT code: every line parses, none names it. */
	for (i = 0; ftell(f) < mib << 20; i++)
		fprintf(f, "%lx 10 Decoy::method_%lu\n", 0x10000 + i * 0x10, i);
	fclose(f);
	rename(tmp, path);
	puts("ready");
	fflush(stdout);
	for (end = time(NULL) + secs; time(NULL) < end;)
		((void (*)(void))mem)();
	unlink(path);
	return 0;
}
C
cc -O2 -o "$TMP/storm" "$TMP/storm.c" || fail "cannot build the workload"

# start_target MIB: a target with a perf map of MIB MiB, running for 60 s; sets PID.
start_target() {
	rm -f "$TMP/ready"
	"$TMP/storm" "$1" 60 >"$TMP/ready" &
	PID=$!
	BG_PIDS+=("$PID")
	for _ in $(seq 300); do
		[ -s "$TMP/ready" ] && return 0
		sleep 0.1
	done
	fail "the target did not write its perf map"
}

stop_target() {
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	rm -f "/tmp/perf-$PID.map"
}

ms() { date +%s%3N; }

# 1. A map over the cap (40 MiB; the old cap was 64 MiB): refused, counted, -d honoured.
start_target 40
t0=$(ms)
timeout 60 "$SCORCH" record -F 999 -p "$PID" -d 2 -o "$TMP/big.prof" 2>"$TMP/big.err"
rc=$?
t=$(($(ms) - t0))
stop_target
note "40 MiB map: record -d 2 took $t ms (exit $rc)"
[ "$rc" = 0 ] || fail "record -d 2 failed ($rc): $(cat "$TMP/big.err")"
[ "$t" -lt 15000 ] || fail "record -d 2 took $t ms with a 40 MiB perf map"
big=$(counter "$TMP/big.prof" perfmap_too_large)
note "perfmap_too_large: ${big:-none}"
[ "${big:-0}" -ge 1 ] || fail "perfmap_too_large is '${big:-}', expected >= 1"
grep -q "larger than 16 MiB" "$TMP/big.err" || fail "no warning for the perf map over the cap: $(cat "$TMP/big.err")"
[ "$(samples "$TMP/big.prof")" -gt 0 ] || fail "no samples recorded"
s=$(share "$TMP/big.prof" '\[perf-[0-9]+\.map\+0x[0-9a-f]+\]')
note "JIT code kept as [perf-PID.map+0x...] in $s% of samples"
between "$s" 30 100 "share of unnamed JIT code"

# 2. A map under the cap (12 MiB) that misses the code: read at most once a second, never from the
# sample callback; -d honoured, and SIGINT too.
start_target 12
t0=$(ms)
timeout 60 "$SCORCH" record -q -F 999 -p "$PID" -d 2 -o "$TMP/mid.prof" 2>"$TMP/mid.err"
rc=$?
t=$(($(ms) - t0))
note "12 MiB map: record -d 2 took $t ms (exit $rc)"
[ "$rc" = 0 ] || fail "record -d 2 failed ($rc): $(cat "$TMP/mid.err")"
[ "$t" -lt 15000 ] || fail "record -d 2 took $t ms with a 12 MiB perf map"
reads=$(counter "$TMP/mid.prof" perfmap_reads)
note "perfmap_reads: ${reads:-none}"
# At most one read a second over ~2 s, plus the last one at the end (generously bounded).
between "${reads:-0}" 1 8 "perfmap_reads"
[ "$(counter "$TMP/mid.prof" perfmap_too_large)" = 0 ] || fail "a 12 MiB map counted as too large"

"$SCORCH" record -q -F 999 -p "$PID" -o "$TMP/int.prof" 2>"$TMP/int.err" &
rec=$!
sleep 2
t0=$(ms)
kill -INT "$rec"
for _ in $(seq 150); do
	kill -0 "$rec" 2>/dev/null || break
	sleep 0.1
done
t=$(($(ms) - t0))
kill -0 "$rec" 2>/dev/null && { kill -9 "$rec"; stop_target; fail "record did not stop within 15 s of SIGINT"; }
wait "$rec"
rc=$?
stop_target
note "12 MiB map: record stopped $t ms after SIGINT (exit $rc)"
[ "$rc" = 0 ] || fail "record stopped by SIGINT failed ($rc): $(cat "$TMP/int.err")"
[ "$(samples "$TMP/int.prof")" -gt 0 ] || fail "no samples recorded before SIGINT"
exit 0
