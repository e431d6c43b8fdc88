#!/bin/bash
# 'scorch symbolize': known answers for -e (PIE, non-PIE, stdin and arguments, --no-demangle), -p on
# a live process whose binary was deleted, and bad inputs (FIFO, directory, /dev/zero, truncated ELF,
# garbage DWARF, bad addresses) handled with a clear error or unnamed frames, never a crash or hang.
. "$(dirname "$0")/symlib.bash"
need gcc
need g++

src=$TESTS/fixtures/symfix.c
line() { grep -n "$1" "$src" | cut -d: -f1; }
L_SQUARE=$(line MARK_SQUARE) L_SUM=$(line MARK_SUM) L_WORK=$(line MARK_WORK) L_LEAF=$(line MARK_LEAF)

for v in pie nopie; do
	flags="-O2 -g"
	[ $v = nopie ] && flags="$flags -fno-pie -no-pie"
	gcc $flags -o "$TMP/$v" "$src" || fail "cannot build $v"
	read -r lo size < <(nm -S "$TMP/$v" | awk '$4 == "work" { print $1, $2 }')
	# Every address of work(), from stdin: some give the whole inline chain, innermost first.
	awk -v lo="$lo" -v size="$size" 'function hex(s, v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
		BEGIN { l = hex(lo); n = hex(size); for (a = l; a < l + n; a++) printf "%x\n", a }' >"$TMP/$v.addrs"
	timeout 20 "$SCORCH" symbolize -e "$TMP/$v" <"$TMP/$v.addrs" >"$TMP/$v.out" || fail "$v: symbolize failed"
	tr '\n' '|' <"$TMP/$v.out" | grep -q "square|$src:$L_SQUARE|sum_squares|$src:$L_SUM|work|$src:$L_WORK|" ||
		fail "$v: no square <- sum_squares <- work chain at lines $L_SQUARE, $L_SUM, $L_WORK"
	[ "$(grep -c '^work$' "$TMP/$v.out")" = "$(wc -l <"$TMP/$v.addrs")" ] || fail "$v: not every address ends in work"
	# Arguments, with -a.
	read -r leaf _ < <(nm -S "$TMP/$v" | awk '$4 == "leaf_function" { print $1, $2 }')
	out=$("$SCORCH" symbolize -a -e "$TMP/$v" "0x$leaf") || fail "$v: symbolize with arguments failed"
	[ "$(sed -n 1p <<<"$out")" = "$(printf '0x%016x' "0x$leaf")" ] || fail "$v: -a printed '$(sed -n 1p <<<"$out")'"
	[ "$(sed -n 2p <<<"$out")" = leaf_function ] || fail "$v: leaf_function not named: $out"
done

# C++: demangled by default, raw with --no-demangle.
g++ -O2 -g -o "$TMP/cxx" "$TESTS/fixtures/symfix.cc" || fail "cannot build the C++ fixture"
a=$(nm "$TMP/cxx" | awk '$3 == "_ZN3geo5totalERKSt6vectorINS_3VecIdEESaIS2_EE" { print $1 }')
"$SCORCH" symbolize -e "$TMP/cxx" "$a" | grep -qx 'geo::total(std::vector<geo::Vec<double>, std::allocator<geo::Vec<double> > > const&)' ||
	fail "C++ name not demangled"
"$SCORCH" symbolize --no-demangle -e "$TMP/cxx" "$a" | grep -qx '_ZN3geo5totalERKSt6vectorINS_3VecIdEESaIS2_EE' ||
	fail "--no-demangle did not keep the raw name"

# -p: runtime addresses of a live process, whose binary has been deleted (read through map_files).
cp "$TMP/pie" "$TMP/victim"
cat >"$TMP/sleeper.c" <<'C'
#include <unistd.h>
int work(int n);
int main(void) { sleep(30); return work(1); }
C
gcc -O2 -g -o "$TMP/victim" "$TMP/sleeper.c" -x c - <<<"$(sed 's/^int main/static int unused_main/' "$src")" ||
	fail "cannot build the victim"
read -r wlo _ < <(nm -S "$TMP/victim" | awk '$4 == "work" { print $1, $2 }')
"$TMP/victim" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 0.3
rm -f "$TMP/victim"
base=$(awk -v p="$TMP/victim (deleted)" '{ path = $6; for (i = 7; i <= NF; i++) path = path " " $i } path == p && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' "/proc/$pid/maps")
[ -n "$base" ] || fail "victim mapping not found in /proc/$pid/maps"
addr=$(printf '0x%x' $((0x$base + 0x$wlo)))
out=$("$SCORCH" symbolize -p "$pid" "$addr") || fail "symbolize -p failed"
[ "$(tail -2 <<<"$out" | head -1)" = work ] || fail "symbolize -p $addr: '$out'"
note "symbolize -p (deleted binary): $(tr '\n' ' ' <<<"$out")"
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null

# -p in the vDSO: named from scorch's own copy of the image.
sleep 30 &
spid=$!
read -r vlo vhi < <(awk '/\[vdso\]/ { split($1, r, "-"); print r[1], r[2] }' "/proc/$spid/maps")
if [ -n "${vlo:-}" ] && dd if="/proc/$spid/mem" of="$TMP/vdso.so" bs=4096 skip=$((0x$vlo / 4096)) \
	count=$(((0x$vhi - 0x$vlo) / 4096)) status=none 2>/dev/null; then
	off=$(nm -D "$TMP/vdso.so" | awk '$3 ~ /^(__vdso_)?clock_gettime(@.*)?$/ { print $1; exit }')
	out=$("$SCORCH" symbolize -p "$spid" "$(printf '0x%x' $((0x$vlo + 0x$off)))") || fail "symbolize -p in the vDSO failed"
	grep -q 'clock_gettime' <<<"$out" || fail "vDSO address not named: $out"
else
	note "cannot read the vDSO of pid $spid: the vDSO case is not tested"
fi
kill $spid 2>/dev/null; wait $spid 2>/dev/null

# Bad inputs: each a clear error or unnamed frames, quickly.
mkfifo "$TMP/fifo"
head -c 300 "$TMP/pie" >"$TMP/trunc"
head -c 65536 /dev/urandom >"$TMP/garbage.bin"
cp "$TMP/pie" "$TMP/garbled"
objcopy --update-section .debug_info="$TMP/garbage.bin" --update-section .debug_line="$TMP/garbage.bin" \
	--update-section .debug_abbrev="$TMP/garbage.bin" --update-section .debug_rnglists="$TMP/garbage.bin" \
	"$TMP/garbled" 2>/dev/null || fail "cannot garble"
expect_error() { # ARGS... : exit 1 with an error message, within 10 s
	local rc
	timeout 10 "$SCORCH" symbolize "$@" 0x1000 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "symbolize $*: exit $rc, expected 1 ($(cat "$TMP/err"))"
	grep -q '^scorch: error: ' "$TMP/err" || fail "symbolize $*: no error message"
	[ ! -s "$TMP/out" ] || fail "symbolize $*: wrote output"
}
expect_error -e "$TMP/fifo"
expect_error -e "$TMP"
expect_error -e /dev/zero
expect_error -e "$TMP/nonexistent"
expect_error -e "$TMP/garbage.bin"
# A truncated ELF is either rejected or gives '??' lines; garbage DWARF still gives symbol names.
timeout 10 "$SCORCH" symbolize -e "$TMP/trunc" 0x1000 >/dev/null 2>&1
[ $? -le 1 ] || fail "symbolize of a truncated ELF crashed"
out=$(timeout 10 "$SCORCH" symbolize -e "$TMP/garbled" <"$TMP/pie.addrs" 2>/dev/null) || fail "symbolize of garbage DWARF failed or hung"
grep -q '^work$' <<<"$out" || fail "garbage DWARF: symbol names lost"
printf '0x1000\nnot_hex\n0x2000\n' | "$SCORCH" symbolize -e "$TMP/pie" >"$TMP/out" 2>"$TMP/err" && fail "a bad address on stdin did not fail"
grep -q "not an address: 'not_hex'" "$TMP/err" || fail "no message for a bad address"
[ "$(wc -l <"$TMP/out")" = 4 ] || fail "the good addresses around a bad one were not printed"
exit 0
