# A Ctrl-C while the launched command is still held before its exec (the sampler is being set up)
# ends the recording cleanly: no "cannot start ...: Broken pipe", a complete profile, status 0, and
# the command never runs. The terminal's SIGINT goes to the whole process group, so it reaches the
# held child too. SCORCH_TEST_RELEASE_DELAY_MS holds the release so that the signal lands in that
# window on any machine.
. "$(dirname "$0")/lib.bash"

for sig in INT TERM; do
	rm -f "$TMP/ran" "$TMP/pgid"
	# setsid: a process group of its own, as a shell job has; the signal goes to the whole group.
	setsid bash -c 'echo $$ >"$1/pgid"; shift; exec "$@"' _ "$TMP" \
		env SCORCH_TEST_RELEASE_DELAY_MS=60000 "$SCORCH" record -F 99 -o "$TMP/$sig.prof" -- \
		sh -c ": >'$TMP/ran'; sleep 5" 2>"$TMP/err" &
	rec=$!
	BG_PIDS+=("$rec")
	for _ in $(seq 300); do grep -q "holding 'sh'" "$TMP/err" && break; sleep 0.1; done
	grep -q "holding 'sh'" "$TMP/err" || fail "the test hook did not hold the command: $(cat "$TMP/err")"
	kill -"$sig" -- "-$(cat "$TMP/pgid")"
	wait "$rec" || fail "SIG$sig before the exec: record exited with $?: $(cat "$TMP/err")"
	! grep -qi "broken pipe\|cannot start" "$TMP/err" || fail "SIG$sig before the exec: $(cat "$TMP/err")"
	[ ! -e "$TMP/ran" ] || fail "SIG$sig before the exec: the command ran anyway"
	"$SCORCH" report -i "$TMP/$sig.prof" >/dev/null || fail "SIG$sig before the exec: no complete profile"
	status=$(meta "$TMP/$sig.prof" exit_status)
	[[ $status == "killed by signal $(kill -l "$sig") "* ]] ||
		fail "SIG$sig before the exec: the command's status is '$status'"
	note "SIG$sig while held: $(grep -E 'stopping|killed' "$TMP/err" | tr '\n' ' ')"
done
exit 0
