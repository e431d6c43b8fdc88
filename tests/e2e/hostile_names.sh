# A target that names itself and its binary with terminal escapes, a BEL and a newline: dump, report
# and info print them as '?' (the newline in the path as /proc/PID/maps writes it, "\012", whether the
# path came from /proc or from a mapping event), never raw; every line of output stays one line.
. "$(dirname "$0")/lib.bash"
require_bpf

cat >"$TMP/evil.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
static volatile uint64_t sink;
__attribute__((noinline)) void burn(double secs)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			sink = sink * 31 + 7;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
}
int main(int argc, char **argv)
{
	prctl(PR_SET_NAME, "\x1b[31mred\x07\xc2\x9bz", 0, 0, 0);
	if (argc > 1) {
		burn(atof(argv[1]));
		return 0;
	}
	write(1, "ready\n", 6);
	for (;;)
		pause();
}
C
evil="$TMP/ev"$'\n'"il"$'\e'"[31m"
cc -O1 -g -fno-omit-frame-pointer -o "$evil" "$TMP/evil.c" || fail "cannot build the workload"

# clean FILE WHAT: valid UTF-8 with no control character but newline, no C1, no bidi control.
clean() {
	python3 - "$1" <<'PY' || fail "$2 printed bytes a terminal would act on"
import sys
text = open(sys.argv[1], 'rb').read().decode('utf-8')
bad = [c for c in text if (ord(c) < 0x20 and c != '\n') or 0x7f <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e]
sys.exit(1 if bad else 0)
PY
}

"$evil" >"$TMP/ready" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/ready" && break; sleep 0.1; done
"$SCORCH" dump -p "$pid" >"$TMP/dump" 2>"$TMP/dump.err" || { cat "$TMP/dump.err" >&2; fail "dump failed"; }
cat "$TMP/dump" >&2
clean "$TMP/dump" "dump"
grep -q "^thread $pid (?\[31mred??z) state " "$TMP/dump" || fail "the thread's comm is not shown as '?[31mred??z'"
grep -q ' \[ev\\012il?\[31m\]$' "$TMP/dump" || fail "the binary is not shown as 'ev\\012il?[31m'"
others=$(grep -Evc '^(thread |  #|$)' "$TMP/dump")
[ "$others" = 0 ] || fail "$others lines of the dump are neither a thread nor a frame: a name split a line"
kill -9 "$pid"

# Recorded: the short-lived target is gone before its maps can be read, so its path may come from
# the BPF mapping events; either way one file has one name.
"$SCORCH" record -q -F 499 -o "$TMP/evil.prof" -- "$evil" 0.5 || fail "record failed"
"$SCORCH" report -i "$TMP/evil.prof" --by module -n 0 >"$TMP/report" 2>&1 || fail "report failed"
cat "$TMP/report" >&2
clean "$TMP/report" "report"
grep -q ' ev\\012il?\[31m ' "$TMP/report" || fail "the module is not named 'ev\\012il?[31m'"
[ "$(grep -v '^#' "$TMP/report" | grep -c 'il?\[31m')" = 1 ] || fail "the binary has more than one name in the report"
"$SCORCH" report -i "$TMP/evil.prof" -n 0 >"$TMP/report" 2>&1 || fail "report failed"
grep -q ' burn  ' "$TMP/report" || fail "no burn row"
clean "$TMP/report" "report"
"$SCORCH" info -i "$TMP/evil.prof" >"$TMP/info" 2>&1 || fail "info failed"
clean "$TMP/info" "info"
"$SCORCH" folded --tid -i "$TMP/evil.prof" >"$TMP/folded" 2>&1 || fail "folded failed"
clean "$TMP/folded" "folded"
grep -q '^?\[31mred??z-' "$TMP/folded" || fail "folded --tid does not name the thread '?[31mred??z'"
note "dump, report, info and folded print the hostile names as '?'"
exit 0
