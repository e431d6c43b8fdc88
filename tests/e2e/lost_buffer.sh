# Samples lost to a full ring buffer are named at the end of record, with what to change: a tiny
# buffer (-m 64K holds three samples with their 16 KiB stack copies) at 999 Hz must lose some. -g dwarf:
# every sample carries its copy (-g auto sends ~300 bytes for a stack unwound in the kernel, and 64 KiB
# hold some 200 of those).
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

# A size is rounded up to a power of two.
"$SCORCH" record -v -F 99 -d 0.3 -m 100K -o "$TMP/r.prof" -- "$WL/demo" 1 2>"$TMP/err" >/dev/null || fail "record -m 100K failed"
grep -q "ring buffer 128 KiB" "$TMP/err" || fail "-m 100K did not give a 128 KiB ring buffer"
exit 0
