# 'scorch report --resymbolize' parses the files it re-opens in the sandbox's child (src/sandbox/sandbox.h):
# - a stripped binary recorded without debuginfo is named from --debug-dir through the child (its
#   counters in -v), the same as with --no-sandbox;
# - when the file at the recorded path has been replaced by a hostile one with the same build id (a
#   C++ symbol whose demangling would expand to gigabytes, and SCORCH_TEST_SANDBOX_STALL, a test hook
#   standing in for a parser stuck on hostile bytes), the child times out (SCORCH_SANDBOX_TIMEOUT_MS),
#   the file is skipped with a warning, the report is still printed with exit status 0, quickly, and
#   the locations keep what they had.
. "$(dirname "$0")/lib.bash"

[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the test reads x86-64 symbol tables" >&2; exit 77; }

cat >"$TMP/app.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
volatile uint64_t sink;
#ifdef BOMB
void spin(void) __asm__(BOMB);
#endif
__attribute__((noinline)) void spin(void) {
	uint64_t s = sink;
	for (int i = 0; i < 100000; i++)
		s = s * 6364136223846793005ULL + i;
	sink = s;
}
int main(int argc, char **argv) {
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	while (time(NULL) < end) spin();
	return 0;
}
C
# Both builds carry the same build id: the hostile one claims to be the recorded file.
BID=5ca1ab1e0ddba11c0ffee0ddf00dcafebabe0042
digits=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ
BOMB=_Z1f1AIiiE
for ((i = 0; i < 26; i++)); do BOMB+="S_IS${digits:i:1}_S${digits:i:1}_E"; done
flags="-O1 -g -fno-omit-frame-pointer -Wl,--build-id=0x$BID"
cc $flags -o "$TMP/full" "$TMP/app.c" && cc $flags -DBOMB="\"$BOMB\"" -o "$TMP/bomb" "$TMP/app.c" ||
	fail "cannot build the programs"
[ "$(nm "$TMP/full" | awk '$3 == "spin" { print $1 }')" = "$(nm "$TMP/bomb" | awk -v n="$BOMB" '$3 == n { print $1 }')" ] ||
	fail "spin and the bomb are not at the same address"
mkdir -p "$TMP/dbg/.build-id/${BID:0:2}"
objcopy --only-keep-debug "$TMP/full" "$TMP/dbg/.build-id/${BID:0:2}/${BID:2}.debug" &&
	strip --strip-all -o "$TMP/app" "$TMP/full" || fail "cannot strip"

"$SCORCH" record -q -F 299 -o "$TMP/app.prof" -- "$TMP/app" 2 || fail "record failed"
"$SCORCH" report -i "$TMP/app.prof" -n 5 --no-header >"$TMP/plain.txt" || fail "report failed"
grep -Eq ' spin +app$' "$TMP/plain.txt" && fail "spin named without debuginfo: $(cat "$TMP/plain.txt")"

# Through the child, and in-process: the same names.
"$SCORCH" report -v -i "$TMP/app.prof" --resymbolize --debug-dir "$TMP/dbg" -n 5 --no-header >"$TMP/sandboxed.txt" 2>"$TMP/err" ||
	fail "report --resymbolize failed: $(cat "$TMP/err")"
grep -Eq ' spin +app$' "$TMP/sandboxed.txt" || fail "report --resymbolize did not name spin: $(cat "$TMP/sandboxed.txt")"
grep -Eq 'symbolizer sandbox: [1-9][0-9]* requests, 0 restarts' "$TMP/err" ||
	fail "the sandbox did not answer: $(grep -i sandbox "$TMP/err")"
note "resymbolized through the sandbox: $(grep -o 'symbolizer sandbox: .*' "$TMP/err")"
"$SCORCH" report -i "$TMP/app.prof" --resymbolize --no-sandbox --debug-dir "$TMP/dbg" -n 5 --no-header >"$TMP/in-process.txt" ||
	fail "report --resymbolize --no-sandbox failed"
cmp -s "$TMP/sandboxed.txt" "$TMP/in-process.txt" ||
	fail "--no-sandbox reports otherwise: $(diff "$TMP/sandboxed.txt" "$TMP/in-process.txt" | head -5)"

# The recorded path now holds the hostile build with the same build id.
cp "$TMP/bomb" "$TMP/app"
start=$(date +%s%N)
SCORCH_TEST_SANDBOX_STALL="$TMP/app" SCORCH_SANDBOX_TIMEOUT_MS=1000 timeout 10 "$SCORCH" report -i "$TMP/app.prof" --resymbolize -n 5 --no-header >"$TMP/hostile.txt" 2>"$TMP/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
note "report --resymbolize with the hostile file: exit $rc in $ms ms: $(tr '\n' ' ' <"$TMP/err")"
[ $rc = 124 ] && fail "report --resymbolize hung on the hostile file"
[ $rc = 0 ] || fail "report --resymbolize of the hostile file: exit $rc, expected 0"
grep -q "symbolizer child timed out on '$TMP/app'" "$TMP/err" || fail "no message that the child timed out"
grep -q "the symbolizer child failed on 1 file: its locations keep the names they had" "$TMP/err" ||
	fail "no warning that the file was skipped"
cmp -s "$TMP/plain.txt" "$TMP/hostile.txt" || fail "the locations changed: $(diff "$TMP/plain.txt" "$TMP/hostile.txt" | head -5)"
[ $ms -lt 6000 ] || fail "report --resymbolize took $ms ms with a 1000 ms timeout"
# The debug directory's copy is still preferred to the file at the path, and it is sound.
SCORCH_SANDBOX_TIMEOUT_MS=1000 "$SCORCH" report -i "$TMP/app.prof" --resymbolize --debug-dir "$TMP/dbg" -n 5 --no-header >"$TMP/again.txt" 2>"$TMP/err" ||
	fail "report --resymbolize --debug-dir failed: $(cat "$TMP/err")"
cmp -s "$TMP/sandboxed.txt" "$TMP/again.txt" || fail "the debug directory's names were not used: $(cat "$TMP/again.txt")"
exit 0
