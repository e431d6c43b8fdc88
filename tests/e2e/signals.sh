# SIGINT and SIGTERM finish the file; SIGKILL leaves a partial file that only --partial reads.
. "$(dirname "$0")/lib.bash"

"$WL/demo" 0 &
target=$!
BG_PIDS+=("$target")

for sig in INT TERM HUP; do
	"$SCORCH" record -q -F 199 -p "$target" -o "$TMP/$sig.prof" &
	rec=$!
	sleep 1.5
	kill -"$sig" "$rec"
	wait "$rec" || fail "recorder exited with $? on SIG$sig"
	[ -f "$TMP/$sig.prof" ] || fail "no profile after SIG$sig"
	n=$(samples "$TMP/$sig.prof")
	note "SIG$sig: $n samples"
	between "$n" 30 400 "samples after 1.5 s at 199 Hz (SIG$sig)"
	kill -0 "$target" || fail "the target died with the recorder"
done

"$SCORCH" record -q -F 199 -p "$target" -o "$TMP/killed.prof" &
rec=$!
sleep 2.5
kill -KILL "$rec"
wait "$rec" 2>/dev/null
[ ! -e "$TMP/killed.prof" ] || fail "a killed recording left a file under the final name"
partial=$(ls "$TMP"/killed.prof.partial-* 2>/dev/null | head -1)
[ -n "$partial" ] || fail "no partial file after SIGKILL"
if "$SCORCH" report -i "$partial" >/dev/null 2>"$TMP/err"; then fail "an unfinished file was read without --partial"; fi
grep -q "is incomplete" "$TMP/err" || fail "unexpected message: $(cat "$TMP/err")"
"$SCORCH" report --partial -i "$partial" >"$TMP/rep" 2>/dev/null || fail "--partial could not read the prefix"
n=$(awk '/^# samples:/ { gsub(",", "", $3); print $3 }' "$TMP/rep")
note "SIGKILL after 2.5 s: the prefix holds $n samples"
between "$n" 30 500 "samples in the partial prefix"
exit 0
