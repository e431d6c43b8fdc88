# Samples lost to a full ring buffer are named at the end of record, with what to change: a tiny
# buffer (-m 64K holds three samples with their 16 KiB stack copies) at 999 Hz must lose some. -g dwarf:
# every sample carries its copy (-g auto sends ~300 bytes for a stack unwound in the kernel, and 64 KiB
# hold some 200 of those). -g dwarf never leaves a copy out; -g copy does, rather than lose the sample.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -F 999 -g dwarf -m 64K -o "$TMP/l.prof" -- "$WL/threads" 0.2 2 2>"$TMP/err" >/dev/null ||
	{ cat "$TMP/err" >&2; fail "record -m 64K failed"; }
cat "$TMP/err" >&2
lost=$(counter "$TMP/l.prof" lost)
n=$(counter "$TMP/l.prof" samples)
note "lost $lost, kept $n"
[ "$lost" -gt 0 ] || fail "nothing lost with a 64 KiB ring buffer at 999 Hz"
[ $((lost * 100)) -gt $((lost + n)) ] || fail "only $lost of $((lost + n)) samples lost with a 64 KiB ring buffer at 999 Hz"
grep -Eq "samples \([0-9.]+%\) were lost because the ring buffer \(64 KiB\) was full: record with a larger one, such as --buffer-size [0-9]+M" "$TMP/err" ||
	fail "no message naming --buffer-size"

[ "$(counter "$TMP/l.prof" stack_copies_shed)" -eq 0 ] || fail "-g dwarf left stack copies out"

# -g copy (and auto) sends a sample without its copy, rather than losing it, while the buffer is more
# than 3/4 full: with 64 KiB, three copies fill that, so some samples must go without.
"$SCORCH" record -F 999 -g copy -m 64K -o "$TMP/c.prof" -- "$WL/threads" 0.2 2 2>"$TMP/err" >/dev/null ||
	{ cat "$TMP/err" >&2; fail "record -g copy -m 64K failed"; }
cat "$TMP/err" >&2
shed=$(counter "$TMP/c.prof" stack_copies_shed)
note "-g copy: shed $shed, lost $(counter "$TMP/c.prof" lost), kept $(counter "$TMP/c.prof" samples)"
[ "$shed" -gt 0 ] || fail "-g copy left no stack copy out with a 64 KiB ring buffer at 999 Hz"
grep -Eq "[0-9]+ samples \([0-9.]+%\) went without their stack copy because the ring buffer \(64 KiB\) was more than 3/4 full \(stack_copies_shed\): they kept the frame-pointer walk; a larger --buffer-size keeps the copies" "$TMP/err" ||
	fail "no message naming the copies left out"

# What the ring buffer still holds when the recording ends is read; what the recorder cannot read in
# time is counted (lost_unread, in lost) and named, never dropped unsaid. The test hook keeps sampling
# 300 ms past the end and then reads nothing, as a recorder far behind would.
SCORCH_TEST_FINISH_UNREAD_MS=300 "$SCORCH" record -F 999 -d 0.5 -o "$TMP/u.prof" -- "$WL/demo" 3 2>"$TMP/err" >/dev/null ||
	{ cat "$TMP/err" >&2; fail "record with samples left unread failed"; }
unread=$(counter "$TMP/u.prof" lost_unread)
note "unread at the end: $unread, lost $(counter "$TMP/u.prof" lost)"
[ "$unread" -gt 0 ] || fail "300 ms of samples left in the ring buffer counted no lost_unread"
[ "$(counter "$TMP/u.prof" lost)" -ge "$unread" ] || fail "lost_unread is not in lost"
grep -Eq "^scorch: warning: $unread samples were still in the ring buffer when the recording ended" "$TMP/err" ||
	fail "no message naming the samples left unread"
# Without the hook nothing is left: the -g copy recording above read its ring buffer to the end.
[ "$(counter "$TMP/c.prof" lost_unread)" = 0 ] || fail "-g copy left samples unread at the end"

# A size is rounded up to a power of two.
"$SCORCH" record -v -F 99 -d 0.3 -m 100K -o "$TMP/r.prof" -- "$WL/demo" 1 2>"$TMP/err" >/dev/null || fail "record -m 100K failed"
grep -q "ring buffer 128 KiB" "$TMP/err" || fail "-m 100K did not give a 128 KiB ring buffer"
exit 0
