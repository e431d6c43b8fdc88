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

# Past the thread limit new threads are merged into their process's tid 0: nothing is lost, and the
# table stops growing (the limit is lowered for the test; it is 65536).
SCORCH_TEST_MAX_THREADS=50 "$SCORCH" record -q -F 999 -o "$TMP/m.prof" -- "$WL/churn" 2 || fail "record failed"
threads=$("$SCORCH" info -i "$TMP/m.prof" | awk '$1 == "threads" { print $2 }')
merged=$(counter "$TMP/m.prof" threads_merged)
n=$(samples "$TMP/m.prof")
note "with a limit of 50 threads: $threads threads kept, $merged samples merged, $n samples in all"
[ "$threads" -le 51 ] || fail "the thread table grew past its limit: $threads"
[ "$merged" -gt 0 ] || fail "no sample was merged"
s=$(share "$TMP/m.prof" "short_life( |$)")
between "$s" 70 100 "share of samples in the short-lived threads, merged or not"
exit 0
