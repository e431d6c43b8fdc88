# DWARF unwinding runs in the sandboxed child, in batches: the profile's counters show round trips to
# the child carrying many samples each, and the stacks are complete. With --no-sandbox the same
# unwinding runs in-process (no round trip) with the same result. A child that dies while unwinding
# (made to abort at its third batch, again after every restart) costs no sample: those keep their
# kernel and frame-pointer stacks (-g auto), a counter says how many, and recording goes on.
. "$(dirname "$0")/lib.bash"

chain="main;serve;handle_request;(compress|checksum|parse_json)( |$)"

"$SCORCH" record -q -g dwarf -F 499 -o "$TMP/s.prof" -- "$WL/demo" 2 || fail "record failed"
batches=$(counter "$TMP/s.prof" unwind_sandbox_batches)
sent=$(counter "$TMP/s.prof" unwind_sandbox_samples)
retries=$(counter "$TMP/s.prof" unwind_sandbox_retries)
failures=$(counter "$TMP/s.prof" unwind_sandbox_failures)
n=$(samples "$TMP/s.prof")
ok=$(share "$TMP/s.prof" "$chain")
note "sandboxed: $n samples in $batches batches ($sent sent, $retries retried), $failures lost; complete chains $ok%"
[ "$batches" -ge 1 ] || fail "no unwinding batch went to the child"
[ $((sent - retries)) -eq "$n" ] || fail "the child unwound $((sent - retries)) first tries for $n samples"
[ $((sent / batches)) -ge 4 ] || fail "only $((sent / batches)) samples per batch: not batched"
[ "$failures" -eq 0 ] || fail "$failures samples lost to the child"
between "$ok" 95 100 "share of complete chains (sandboxed)"

"$SCORCH" record -q -g dwarf --no-sandbox -F 499 -o "$TMP/n.prof" -- "$WL/demo" 2 || fail "record --no-sandbox failed"
batches=$(counter "$TMP/n.prof" unwind_sandbox_batches)
ok=$(share "$TMP/n.prof" "$chain")
note "in-process: $(samples "$TMP/n.prof") samples, $batches batches to a child; complete chains $ok%"
[ "$batches" -eq 0 ] || fail "--no-sandbox sent $batches batches to a child"
between "$ok" 95 100 "share of complete chains (--no-sandbox)"

SCORCH_TEST_SANDBOX_UNWIND_CRASH=3 "$SCORCH" record -g auto -F 499 -o "$TMP/c.prof" -- "$WL/demo" 2 \
	2>"$TMP/c.err" || fail "record failed when the child died: $(tail -3 "$TMP/c.err")"
failures=$(counter "$TMP/c.prof" unwind_sandbox_failures)
restarts=$(counter "$TMP/c.prof" symbolizer_restarts)
n=$(samples "$TMP/c.prof")
total=$(counter "$TMP/c.prof" samples)
ok=$(share "$TMP/c.prof" "$chain")
note "child dying at every 3rd batch: $failures of $n samples not unwound, $restarts restarts; complete chains $ok%"
[ "$failures" -ge 1 ] || fail "no sample counted as lost to the child"
[ "$restarts" -ge 1 ] || fail "the child was not restarted"
[ "$n" -eq "$total" ] && [ "$n" -ge 300 ] || fail "$n samples in the stacks, $total recorded"
grep -q 'could not be unwound' "$TMP/c.err" || fail "no warning about the samples that were not unwound"
# demo keeps its frame pointers: the samples the child did not unwind still have their chains.
between "$ok" 90 100 "share of complete chains (child dying)"
exit 0
