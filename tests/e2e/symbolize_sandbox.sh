#!/bin/bash
# 'scorch symbolize' parses in the sandbox's child (src/sandbox/sandbox.h), with -e and with -p:
# - while it runs, a child of scorch exists with no capabilities, Seccomp 2 and (as root) a uid that
#   no account has (not nobody's 65534);
#   with --no-sandbox there is none;
# - a file the child hangs on (SCORCH_TEST_SANDBOX_STALL, a test hook standing in for a parser stuck
#   on hostile bytes) times the child out: the file's addresses print as ??, with a message and exit
#   status 1, within the timeout (SCORCH_SANDBOX_TIMEOUT_MS), while the other files of the process
#   are still named by a fresh child;
# - a C++ symbol whose demangling expands to gigabytes (13 s and 2.2 GB through __cxa_demangle) is
#   kept raw at once, in the child and in-process;
# - the answers are the same with and without --no-sandbox (libc with its debuginfo: thousands of
#   addresses), and a .gnu_debuglink file beside a named binary is found through the parent.
. "$(dirname "$0")/symlib.bash"
need gcc
[ "$(uname -m)" = x86_64 ] || skip "the test reads x86-64 symbol tables"

# child_of PID: the first child process of PID (waiting up to 3 s for it), or nothing.
child_of() {
	local i c
	for ((i = 0; i < 60; i++)); do
		c=$(ps -o pid= --ppid "$1" 2>/dev/null | head -1 | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.05
	done
}

# check_confined PID WHAT: the process's status says it is jailed.
check_confined() {
	local s
	s=$(cat "/proc/$1/status" 2>/dev/null) || fail "$2: the child $1 is gone"
	grep -Eq '^Seccomp:[[:space:]]+2$' <<<"$s" || fail "$2: the child is not under a seccomp filter: $(grep Seccomp <<<"$s")"
	grep -Eq '^NoNewPrivs:[[:space:]]+1$' <<<"$s" || fail "$2: the child may gain privileges"
	grep -Eq '^CapEff:[[:space:]]+0+$' <<<"$s" || fail "$2: the child has capabilities: $(grep CapEff <<<"$s")"
	if [ "$(id -u)" = 0 ]; then
		local uid
		uid=$(awk '$1 == "Uid:" { print $2 }' <<<"$s")
		grep -Eq "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid" <<<"$s" && [ "$uid" != 0 ] &&
			[ "$uid" != 65534 ] && [ -z "$(getent passwd "$uid")" ] ||
			fail "$2: the child does not run as a uid of its own: $(grep Uid <<<"$s")"
	fi
	note "$2: child $1 has $(grep -E '^(Uid|Seccomp|CapEff):' <<<"$s" | tr -s '\t ' ' ' | tr '\n' ' ')"
}

# A binary whose function b() is named by a 270-byte C++ symbol that demangles into 2.3 GB of
# nested template arguments (in-process, one level less took 6 s and 1.1 GB), and which prints the
# addresses of b and of libc's getpid, then sleeps.
digits=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ
BOMB=_Z1f1AIiiE
for ((i = 0; i < 26; i++)); do BOMB+="S_IS${digits:i:1}_S${digits:i:1}_E"; done
cat >"$TMP/bomb.c" <<C
#include <stdio.h>
#include <unistd.h>
void b(void) __asm__("$BOMB");
void b(void) {}
int main(int argc, char **argv) {
	printf("%p %p\n", (void *)b, (void *)getpid);
	fflush(stdout);
	b();
	if (argc > 1) sleep(60);
	return 0;
}
C
gcc -O0 -o "$TMP/bomb" "$TMP/bomb.c" || fail "cannot build the bomb"
baddr=0x$(nm "$TMP/bomb" | awk -v n="$BOMB" '$3 == n { print $1 }')
[ "$baddr" != 0x ] || fail "no bomb symbol in the binary"

# The demangling bomb: its name stays raw (the demangler stops at its output limit), fast, both ways.
for flag in "" --no-sandbox; do
	timeout 10 "$SCORCH" symbolize $flag -e "$TMP/bomb" "$baddr" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc = 124 ] && fail "symbolize $flag -e of the demangling bomb hung"
	[ $rc = 0 ] || fail "symbolize $flag -e of the demangling bomb: exit $rc: $(cat "$TMP/err")"
	[ "$(sed -n 1p "$TMP/out")" = "$BOMB" ] || fail "symbolize $flag -e: the bomb is '$(sed -n 1p "$TMP/out" | head -c 200)'"
done

# -e, a file the child hangs on: it times out on the first address; every address prints as ??, quickly.
start=$(date +%s%N)
SCORCH_TEST_SANDBOX_STALL="$TMP/bomb" SCORCH_SANDBOX_TIMEOUT_MS=500 timeout 10 "$SCORCH" symbolize -e "$TMP/bomb" "$baddr" "$baddr" 0x0 >"$TMP/out" 2>"$TMP/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
note "symbolize -e bomb: exit $rc in $ms ms: $(tr '\n' ' ' <"$TMP/err")"
[ $rc = 124 ] && fail "symbolize -e of the bomb hung"
[ $rc = 1 ] || fail "symbolize -e of the bomb: exit $rc, expected 1"
[ "$(cat "$TMP/out")" = "$(printf '??\n??:0\n??\n??:0\n??\n??:0')" ] || fail "symbolize -e of the bomb printed: $(head -c 300 "$TMP/out")"
grep -q "symbolizer child timed out on '$TMP/bomb'" "$TMP/err" || fail "no message that the child timed out"
grep -q "^scorch: error: the symbolizer child failed on 1 file" "$TMP/err" || fail "no error for the skipped file"
[ $ms -lt 5000 ] || fail "symbolize -e of the bomb took $ms ms with a 500 ms timeout"

# -e on stdin, one line at a time: the jailed child answers while scorch waits for more input.
gcc -O2 -g -o "$TMP/pie" "$TESTS/fixtures/symfix.c" || fail "cannot build the fixture"
work=0x$(nm "$TMP/pie" | awk '$3 == "work" { print $1 }')
for mode in sandboxed in-process; do
	flag=
	[ $mode = in-process ] && flag=--no-sandbox
	coproc SYM { exec "$SCORCH" symbolize $flag -e "$TMP/pie" 2>"$TMP/coproc.err"; }
	echo "$work" >&"${SYM[1]}"
	read -r -t 10 fn <&"${SYM[0]}" || fail "$mode: no answer from symbolize -e on stdin"
	[ "$fn" = work ] || fail "$mode: stdin answer '$fn', expected work"
	c=$(ps -o pid= --ppid "$SYM_PID" | head -1 | tr -d ' ')
	if [ $mode = sandboxed ]; then
		[ -n "$c" ] || fail "symbolize -e: no sandbox child while it runs"
		check_confined "$c" "symbolize -e"
	else
		[ -z "$c" ] || fail "symbolize --no-sandbox -e has a child ($c)"
	fi
	exec {SYM[1]}>&-
	wait "$SYM_PID" || fail "$mode: symbolize -e on stdin failed: $(cat "$TMP/coproc.err")"
done

# -p: a live process that maps the bomb. While scorch waits on the child, the child is the jailed
# one; after the timeout, the bomb's address is ?? and libc's getpid is still named (a new child).
"$TMP/bomb" sleep >"$TMP/addrs" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$TMP"' EXIT
for ((i = 0; i < 50; i++)); do [ -s "$TMP/addrs" ] && break; sleep 0.1; done
read -r pb pg <"$TMP/addrs" || fail "the bomb did not print its addresses"
SCORCH_TEST_SANDBOX_STALL="$TMP/bomb" SCORCH_SANDBOX_TIMEOUT_MS=3000 "$SCORCH" symbolize -p "$pid" "$pb" "$pg" \
	>"$TMP/out" 2>"$TMP/err" &
spid=$!
c=$(child_of $spid)
[ -n "$c" ] || fail "symbolize -p: no sandbox child while it runs"
check_confined "$c" "symbolize -p"
wait $spid
rc=$?
note "symbolize -p bomb: exit $rc: $(tr '\n' ' ' <"$TMP/out")"
[ $rc = 1 ] || fail "symbolize -p of the bomb: exit $rc, expected 1 ($(cat "$TMP/err"))"
[ "$(sed -n 1p "$TMP/out")" = '??' ] || fail "symbolize -p: the bomb's address was named: $(sed -n 1p "$TMP/out" | head -c 200)"
sed -n '3,$p' "$TMP/out" | grep -Eq '^(__)?getpid$' || fail "symbolize -p: getpid not named after the child was replaced: $(cat "$TMP/out")"
grep -q "symbolizer child timed out on '$TMP/bomb'" "$TMP/err" || fail "symbolize -p: no message that the child timed out"
# The same process, without the bomb's address: every answer, exit 0, the same in-process.
"$SCORCH" symbolize -p "$pid" "$pg" >"$TMP/p.sandboxed" || fail "symbolize -p failed"
"$SCORCH" symbolize --no-sandbox -p "$pid" "$pg" >"$TMP/p.in-process" || fail "symbolize --no-sandbox -p failed"
cmp -s "$TMP/p.sandboxed" "$TMP/p.in-process" || fail "symbolize -p differs with --no-sandbox"
grep -Eq '^(__)?getpid$' "$TMP/p.sandboxed" || fail "symbolize -p did not name getpid: $(cat "$TMP/p.sandboxed")"
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null

# The same answers with and without the sandbox: libc (its debuginfo found by build id through the
# parent) when libc6-dbg is installed, else the fixture.
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
BID=$(readelf -n "$LIBC" 2>/dev/null | awk '/Build ID/ { print $3 }')
if [ -n "$BID" ] && [ -f "/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug" ]; then
	target=$LIBC
else
	note "libc6-dbg is not installed: comparing on the fixture only"
	target=$TMP/pie
fi
random_text_addrs "$target" 3000 21 >"$TMP/many.addrs" || fail "no .text in $target"
"$SCORCH" symbolize -a -v -e "$target" <"$TMP/many.addrs" >"$TMP/many.sandboxed" 2>"$TMP/many.err" || fail "symbolize -e $target failed"
"$SCORCH" symbolize -a --no-sandbox -e "$target" <"$TMP/many.addrs" >"$TMP/many.in-process" || fail "symbolize --no-sandbox -e $target failed"
cmp -s "$TMP/many.sandboxed" "$TMP/many.in-process" || fail "symbolize -e $target differs with --no-sandbox"
[ "$(grep -c ':[1-9][0-9]*$' "$TMP/many.sandboxed")" -gt 1000 ] || fail "few file:line answers for $target"
grep -Eq 'symbolizer sandbox: [0-9]+ requests, 0 restarts, .* [0-9]{4,} addresses looked up' "$TMP/many.err" ||
	fail "the sandbox did not answer the lookups: $(grep sandbox "$TMP/many.err")"
note "$target: $(wc -l <"$TMP/many.sandboxed") identical lines; $(grep -o 'symbolizer sandbox: .*' "$TMP/many.err")"

# .gnu_debuglink: a stripped binary and its debug file beside it, named with a relative path too.
mkdir -p "$TMP/bin"
objcopy --only-keep-debug "$TMP/pie" "$TMP/bin/linked.debug" && strip --strip-all -R .note.gnu.build-id -o "$TMP/bin/linked" "$TMP/pie" &&
	objcopy --add-gnu-debuglink="$TMP/bin/linked.debug" "$TMP/bin/linked" || fail "cannot make the debuglink fixture"
for path in "$TMP/bin/linked" ../bin/linked; do
	out=$(cd "$TMP/bin" && mkdir -p ../cwd && cd ../cwd && "$SCORCH" symbolize -v -e "$path" "$work" 2>"$TMP/err") ||
		fail "symbolize -e $path failed: $(cat "$TMP/err")"
	tr '\n' '|' <<<"$out" | grep -q "^work|$TESTS/fixtures/symfix.c:[1-9]" ||
		fail "symbolize -e $path did not use the debuglink file: $out"
	grep -q '1 opens brokered, 0 refused' "$TMP/err" || fail "symbolize -e $path: $(grep sandbox "$TMP/err")"
done
exit 0
