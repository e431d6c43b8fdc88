# DWARF unwinding runs in the sandboxed child, in batches: the profile's counters show round trips to
# the child carrying many samples each, and the stacks are complete. With --no-sandbox the same
# unwinding runs in-process (no round trip) with the same result. A child that dies while unwinding
# (made to abort at its third batch, again after every restart) costs no sample: those keep their
# kernel and frame-pointer stacks (-g copy: the stack copy, with frame pointers where it fails), a counter says how many, and recording goes on.
# A file whose call frame information kills the child costs one restart, not one per batch: the child
# names the file it was reading, which is no longer unwound through. A child that keeps dying without
# naming one ends the DWARF unwinding after 5 batches.
. "$(dirname "$0")/lib.bash"

work="(compress|checksum|parse_json)( |$)"
chain="main;serve;handle_request;$work"
# complete PROFILE: the percentage of the demo's work samples with the whole chain.
complete() { within "$1" "$work" "$chain"; }

"$SCORCH" record -q -g dwarf -F 499 -o "$TMP/s.prof" -- "$WL/demo" 2 || fail "record failed"
batches=$(counter "$TMP/s.prof" unwind_sandbox_batches)
sent=$(counter "$TMP/s.prof" unwind_sandbox_samples)
retries=$(counter "$TMP/s.prof" unwind_sandbox_retries)
failures=$(counter "$TMP/s.prof" unwind_sandbox_failures)
n=$(samples "$TMP/s.prof")
ok=$(complete "$TMP/s.prof")
note "sandboxed: $n samples in $batches batches ($sent sent, $retries retried), $failures lost; complete chains $ok%"
[ "$batches" -ge 1 ] || fail "no unwinding batch went to the child"
# Every sample is sent once, but those without user registers (a thread caught after it left its mm,
# or inside execve).
first=$((sent - retries))
with_regs=$(($(counter "$TMP/s.prof" samples) - $(counter "$TMP/s.prof" user_regs_unreadable) -
	$(counter "$TMP/s.prof" samples_in_exec)))
[ "$first" -eq "$with_regs" ] || fail "the child unwound $first first tries for $with_regs samples with registers"
[ $((sent / batches)) -ge 4 ] || fail "only $((sent / batches)) samples per batch: not batched"
[ "$failures" -eq 0 ] || fail "$failures samples lost to the child"
between "$ok" 95 100 "share of complete chains (sandboxed)"

"$SCORCH" record -q -g dwarf --no-sandbox -F 499 -o "$TMP/n.prof" -- "$WL/demo" 2 || fail "record --no-sandbox failed"
batches=$(counter "$TMP/n.prof" unwind_sandbox_batches)
ok=$(complete "$TMP/n.prof")
note "in-process: $(samples "$TMP/n.prof") samples, $batches batches to a child; complete chains $ok%"
[ "$batches" -eq 0 ] || fail "--no-sandbox sent $batches batches to a child"
between "$ok" 95 100 "share of complete chains (--no-sandbox)"

SCORCH_TEST_SANDBOX_UNWIND_CRASH=3 "$SCORCH" record -g copy -F 499 -o "$TMP/c.prof" -- "$WL/demo" 2 \
	2>"$TMP/c.err" || fail "record failed when the child died: $(tail -3 "$TMP/c.err")"
failures=$(counter "$TMP/c.prof" unwind_sandbox_failures)
restarts=$(counter "$TMP/c.prof" symbolizer_restarts)
n=$(samples "$TMP/c.prof")
total=$(counter "$TMP/c.prof" samples)
ok=$(complete "$TMP/c.prof")
note "child dying at every 3rd batch: $failures of $n samples not unwound, $restarts restarts; complete chains $ok%"
[ "$failures" -ge 1 ] || fail "no sample counted as lost to the child"
[ "$restarts" -ge 1 ] || fail "the child was not restarted"
[ "$n" -eq "$total" ] && [ "$n" -ge 300 ] || fail "$n samples in the stacks, $total recorded"
grep -q 'could not be unwound' "$TMP/c.err" || fail "no warning about the samples that were not unwound"
# demo keeps its frame pointers: the samples the child did not unwind still have their chains.
between "$ok" 90 100 "share of complete chains (child dying)"

# A hostile file: the service aborts (as a libunwind crash would) when it hands over the bytes of a file
# that holds the marker; here a copy of demo with the marker after its ELF contents.
cp "$WL/demo" "$TMP/demo-hostile"
printf 'SCORCH-TEST-HOSTILE-CFI' >>"$TMP/demo-hostile"
SCORCH_TEST_UNWIND_CRASH_MARKER=SCORCH-TEST-HOSTILE-CFI "$SCORCH" record -g copy -F 499 -o "$TMP/h.prof" \
	-- "$TMP/demo-hostile" 3 2>"$TMP/h.err" || fail "record of the hostile file failed: $(tail -3 "$TMP/h.err")"
restarts=$(counter "$TMP/h.prof" symbolizer_restarts)
dropped=$(counter "$TMP/h.prof" unwind_files_dropped)
batches=$(counter "$TMP/h.prof" unwind_sandbox_batches)
failures=$(counter "$TMP/h.prof" unwind_sandbox_failures)
n=$(samples "$TMP/h.prof")
ok=$(complete "$TMP/h.prof")
note "hostile file: $restarts restarts, $dropped files dropped, $failures of $n samples not unwound," \
	"$batches batches; complete chains $ok%"
[ "$restarts" -eq 1 ] || fail "$restarts restarts for one hostile file (one per batch without the blame)"
[ "$dropped" -eq 1 ] || fail "unwind_files_dropped is $dropped, not 1"
[ "$batches" -ge 3 ] || fail "only $batches batches: the unwinding did not go on"
[ "$failures" -le 128 ] || fail "$failures samples lost: more than the one batch the child died on"
grep -q "died reading the call frame information of '.*demo-hostile'" "$TMP/h.err" ||
	fail "no warning naming the hostile file: $(cat "$TMP/h.err")"
between "$ok" 90 100 "share of complete chains (hostile file, frame-pointer fallback)"

# A child that dies at every first batch, naming no file: after 5 in a row the unwinding stops.
SCORCH_TEST_SANDBOX_UNWIND_CRASH=1 "$SCORCH" record -g copy -F 499 -o "$TMP/g.prof" -- "$WL/demo" 3 \
	2>"$TMP/g.err" || fail "record failed when the child always died: $(tail -3 "$TMP/g.err")"
restarts=$(counter "$TMP/g.prof" symbolizer_restarts)
failures=$(counter "$TMP/g.prof" unwind_sandbox_failures)
batches=$(counter "$TMP/g.prof" unwind_sandbox_batches)
n=$(samples "$TMP/g.prof")
ok=$(complete "$TMP/g.prof")
note "child always dying: $restarts restarts, $batches batches, $failures of $n samples not unwound; chains $ok%"
[ "$batches" -eq 5 ] && [ "$restarts" -eq 5 ] || fail "$batches batches and $restarts restarts, not 5 and 5"
# All samples were given to the child (or to nobody, once it was given up) but those without registers.
with_regs=$(($(counter "$TMP/g.prof" samples) - $(counter "$TMP/g.prof" user_regs_unreadable) -
	$(counter "$TMP/g.prof" samples_in_exec)))
[ "$failures" -eq "$with_regs" ] || fail "$failures of $with_regs samples with registers counted as not unwound"
grep -q 'DWARF unwinding stops here' "$TMP/g.err" || fail "no warning that the unwinding stopped"
between "$ok" 90 100 "share of complete chains (unwinding given up, frame pointers)"
exit 0
