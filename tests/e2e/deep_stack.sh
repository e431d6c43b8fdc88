# A stack deeper than the default 16 KiB copy (40 frames of 1 KiB): record says at the end that the
# DWARF unwinds were cut and names the copy size that would have done (the deepest stack seen, also
# in info as stack_size_needed); recording again with that size cuts fewer of them.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -F 499 -g dwarf -o "$TMP/d.prof" -- "$WL/deep" 2 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "record failed"; }
cat "$TMP/err" >&2
size=$(sed -nE 's/.*stack copy ended.*record with -g dwarf,([0-9]+)$/\1/p' "$TMP/err")
[ -n "$size" ] || fail "no hint naming a stack size"
need=$(counter "$TMP/d.prof" stack_size_needed)
note "hint: -g dwarf,$size; stack_size_needed $need"
between "$need" 16385 65536 "stack_size_needed"
between "$size" "$need" 65536 "the size named"
cut1=$(counter "$TMP/d.prof" unwind_truncated)
all1=$(counter "$TMP/d.prof" user_stacks)

"$SCORCH" record -F 499 -g "dwarf,$size" -o "$TMP/d2.prof" -- "$WL/deep" 2 2>"$TMP/err2" || fail "record -g dwarf,$size failed"
cut2=$(counter "$TMP/d2.prof" unwind_truncated)
all2=$(counter "$TMP/d2.prof" user_stacks)
note "unwind_truncated: $cut1 of $all1 user stacks at 16384 bytes, $cut2 of $all2 at $size"
[ "$all1" -gt 0 ] && [ "$all2" -gt 0 ] || fail "no user stacks"
[ $((cut2 * all1)) -lt $((cut1 * all2)) ] || fail "the size named did not cut fewer stacks"
grep -q "stack copy ended" "$TMP/err2" && fail "the hint is given again with the size it named"
[ "$(share "$TMP/d2.prof" "main;descend;.*deep_leaf")" -ge 50 ] || fail "the deep stacks do not reach main"
exit 0
