#!/bin/bash
# The sandboxed symbolizer under the limits a user or another process may impose (src/sandbox/sandbox.h):
# - lower inherited hard limits (ulimit -v, ulimit -t): the child keeps them and still names code, in
#   symbolize and in record (it used to fail to raise them, EPERM, and every frame went unnamed);
# - a child that cannot lock itself down (SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL, a test hook): symbolize
#   exits 1 saying why, record warns and counts symbolizer_start_failed (never silently unnamed);
# - the child's uid and gid are no account's (not nobody's 65534): a nobody process cannot kill it;
#   a SIGKILL from root is survived: the child is replaced, the address still named, the file not
#   skipped, and the kill counted;
# - ulimit -n: record raises its soft RLIMIT_NOFILE to the hard limit; with a hard limit too low
#   (ulimit -n a few above what record holds while it samples, record -a) it warns once and counts
#   fd_exhausted.
. "$(dirname "$0")/lib.bash"

addr=0x$(nm "$WL/demo" | awk '$3 == "parse_json" { print $1 }')
[ "$addr" != 0x ] || fail "no parse_json in $WL/demo"
addr=$(printf '0x%x' $((addr + 4)))
DEMO_FUNCS='parse_json|compress|checksum|handle_request|serve'

# child_of PID: the first child process of PID (waiting up to 3 s for it), or nothing.
child_of() {
	local i c
	for ((i = 0; i < 60; i++)); do
		c=$(ps -o pid= --ppid "$1" 2>/dev/null | head -1 | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.05
	done
}

# --- lower hard limits inherited ---------------------------------------------------------------------
for lim in "-v 8000000" "-t 1000"; do
	out=$(ulimit $lim && "$SCORCH" symbolize -e "$WL/demo" "$addr" 2>"$TMP/err")
	rc=$?
	[ $rc = 0 ] || fail "symbolize under ulimit $lim: exit $rc: $(cat "$TMP/err")"
	[ "$(sed -n 1p <<<"$out")" = parse_json ] || fail "symbolize under ulimit $lim printed '$out': $(cat "$TMP/err")"
done
(ulimit -v 8000000 && "$SCORCH" record -q -F 499 -o "$TMP/v.prof" -- "$WL/demo" 1) 2>"$TMP/err" ||
	fail "record under ulimit -v failed: $(cat "$TMP/err")"
named=$(matching "$TMP/v.prof" "($DEMO_FUNCS)")
unnamed=$(matching "$TMP/v.prof" '\[demo\+0x')
note "record under ulimit -v: $named samples in demo's functions, $unnamed with unnamed demo frames"
[ "$named" -gt 20 ] || fail "record under ulimit -v named $named samples in demo's functions"
[ "$unnamed" = 0 ] || fail "record under ulimit -v left $unnamed samples with unnamed demo frames"
[ "$(counter "$TMP/v.prof" symbolizer_restarts)" = 0 ] || fail "the child failed under ulimit -v"

# --- a child that cannot start -----------------------------------------------------------------------
SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL=1 "$SCORCH" symbolize -e "$WL/demo" "$addr" >"$TMP/out" 2>"$TMP/err"
rc=$?
note "symbolize, child cannot start: exit $rc: $(cat "$TMP/err")"
[ $rc = 1 ] || fail "symbolize with a child that cannot start: exit $rc, expected 1"
[ ! -s "$TMP/out" ] || fail "symbolize with a child that cannot start printed: $(cat "$TMP/out")"
grep -q '^scorch: error: cannot start the symbolizer sandbox: .*Operation not permitted' "$TMP/err" ||
	fail "symbolize: no clear message: $(cat "$TMP/err")"
SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL=1 "$SCORCH" record -F 99 -o "$TMP/n.prof" -- "$WL/demo" 0.3 2>"$TMP/err" ||
	fail "record with a child that cannot start failed: $(cat "$TMP/err")"
grep -q 'warning: cannot start the symbolizer sandbox: .*code will be unnamed' "$TMP/err" ||
	fail "record: no warning that the sandbox did not start: $(cat "$TMP/err")"
[ "$(counter "$TMP/n.prof" symbolizer_start_failed)" = 1 ] ||
	fail "record: symbolizer_start_failed is '$(counter "$TMP/n.prof" symbolizer_start_failed)'"
[ "$(counter "$TMP/n.prof" symbolizer_restarts)" = 0 ] || fail "record: a child that cannot start counted as restarts"

# --- the child's own ids; kills from outside ---------------------------------------------------------
coproc SYM { exec "$SCORCH" symbolize -e "$WL/demo" 2>"$TMP/coproc.err"; }
# bash unsets SYM when the coprocess ends: keep its pid and descriptors in variables of our own.
sym_pid=$SYM_PID sym_in=${SYM[1]} sym_out=${SYM[0]}
echo "$addr" >&"$sym_in"
read -r -t 10 fn <&"$sym_out" && read -r -t 10 _ <&"$sym_out" || fail "no answer from symbolize -e on stdin"
[ "$fn" = parse_json ] || fail "symbolize on stdin answered '$fn'"
c=$(child_of "$sym_pid")
[ -n "$c" ] || fail "no sandbox child"
uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$c/status")
gid=$(awk '$1 == "Gid:" { print $2 }' "/proc/$c/status")
note "the child runs as uid $uid, gid $gid"
[ "$uid" != 65534 ] && [ "$gid" != 65534 ] || fail "the child runs as nobody ($uid:$gid)"
[ -z "$(getent passwd "$uid")" ] || fail "uid $uid is an account's: $(getent passwd "$uid")"
[ -z "$(getent group "$gid")" ] || fail "gid $gid is a group's: $(getent group "$gid")"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups kill -9 "$c" 2>/dev/null &&
		fail "a nobody process could kill the child"
	kill -0 "$c" 2>/dev/null || fail "the child is gone after a nobody process tried to kill it"
fi
kill -9 "$c"
sleep 0.2
echo "$addr" >&"$sym_in" 2>/dev/null
read -r -t 10 fn <&"$sym_out" && read -r -t 10 _ <&"$sym_out" ||
	fail "no answer after the child was killed: $(cat "$TMP/coproc.err")"
[ "$fn" = parse_json ] || fail "after an outside kill, symbolize answered '$fn': $(cat "$TMP/coproc.err")"
c2=$(child_of "$sym_pid")
[ -n "$c2" ] && [ "$c2" != "$c" ] || fail "no new child after the kill"
exec {sym_in}>&-
wait "$sym_pid" || fail "symbolize failed after an outside kill: $(cat "$TMP/coproc.err")"
grep -q 'killed from outside' "$TMP/coproc.err" || fail "no message about the outside kill: $(cat "$TMP/coproc.err")"
! grep -q 'file skipped' "$TMP/coproc.err" || fail "the file was blamed for an outside kill: $(cat "$TMP/coproc.err")"

# --- descriptors ---------------------------------------------------------------------------------------
# A low soft limit under a high hard one: record raises it, nothing runs out.
hard=$(ulimit -H -n)
if [ "$hard" = unlimited ] || [ "$hard" -ge 4096 ]; then
	(ulimit -S -n 32 && "$SCORCH" record -q -a -d 1 -o "$TMP/s.prof") 2>"$TMP/err" || fail "record -a under ulimit -S -n 32 failed: $(cat "$TMP/err")"
	! grep -q 'out of file descriptors' "$TMP/err" || fail "record did not raise its soft RLIMIT_NOFILE: $(cat "$TMP/err")"
	[ "$(counter "$TMP/s.prof" fd_exhausted)" = 0 ] || fail "fd_exhausted is '$(counter "$TMP/s.prof" fd_exhausted)' with a raised limit"
else
	note "the hard RLIMIT_NOFILE is $hard: not checking the raise"
fi
# A hard limit too low: a warning, once, and the counter.
# Busy programs of our own, mapping many files between them, so that an idle machine has samples too.
busy=()
"$WL/demo" 5 >/dev/null & busy+=($!)
python3 -c '
for m in ("json", "zlib", "hashlib", "decimal", "sqlite3", "ssl"):
    try: __import__(m)
    except ImportError: pass
while True: pass' & busy+=($!)
perl -MPOSIX -MData::Dumper -e '1 while 1' & busy+=($!)
sleep 0.5
# The limit: the descriptors record must hold to sample at all (its BPF maps and programs, perf
# events, epoll, the sandbox's socket: more with each map; not the files it opens), the three
# standard ones, and a few more, so that it starts but soon runs out.
"$SCORCH" record -q -a -d 3 -o "$TMP/fds.prof" &
rec=$!
held=0
for ((i = 0; i < 20; i++)); do
	sleep 0.1
	n=$(ls -l /proc/$rec/fd 2>/dev/null | grep -c -- '-> \(anon_inode\|socket\|pipe\)')
	((n > held)) && held=$n
done
wait "$rec" || fail "record -a to count its descriptors failed"
lim=$((held + 3 + 4))
(ulimit -n "$lim" && "$SCORCH" record -a -d 2 -o "$TMP/h.prof") 2>"$TMP/err"
rc=$?
kill "${busy[@]}" 2>/dev/null
wait "${busy[@]}" 2>/dev/null
[ $rc = 0 ] || fail "record -a under ulimit -n $lim failed: $(cat "$TMP/err")"
n=$(grep -c 'out of file descriptors' "$TMP/err")
exhausted=$(counter "$TMP/h.prof" fd_exhausted)
note "record -a under ulimit -n $lim: fd_exhausted $exhausted, $n warning(s), files_unreadable $(counter "$TMP/h.prof" files_unreadable)"
[ "$n" = 1 ] || fail "record -a under ulimit -n $lim: $n warnings about descriptors: $(cat "$TMP/err")"
[ -n "$exhausted" ] && [ "$exhausted" -gt 0 ] || fail "record -a under ulimit -n $lim: fd_exhausted is '$exhausted'"
# Running out is not a file's fault: the child says so instead of dying (it used to, blaming the file).
[ "$(counter "$TMP/h.prof" symbolizer_restarts)" = 0 ] ||
	fail "record -a under ulimit -n $lim: $(counter "$TMP/h.prof" symbolizer_restarts) symbolizer restarts"
exit 0
