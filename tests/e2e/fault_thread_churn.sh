# Threads created and ended in a tight loop: the recorder keeps up, loses nothing silently, and the
# file is complete.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 999 -o "$TMP/c.prof" -- "$WL/churn" 3 || fail "record failed"
threads=$("$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "threads" { print $2 }')
lost=$(counter "$TMP/c.prof" lost)
n=$(samples "$TMP/c.prof")
note "samples $n, threads seen $threads, lost $lost"
[ "$threads" -ge 100 ] || fail "expected hundreds of short-lived threads, saw $threads"
s=$(share "$TMP/c.prof" "short_life( |$)")
between "$s" 70 100 "share of samples in the short-lived threads"
[ "$lost" = 0 ] || note "note: $lost samples lost (counted)"
exit 0
