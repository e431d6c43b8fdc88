# A launched command's children are followed (unless --no-inherit); its exit status is kept.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 199 -o "$TMP/c.prof" -- sh -c "'$WL/demo' 1 & '$WL/demo' 1; wait; exit 3" ||
	fail "record failed"
pids=$("$SCORCH" folded -i "$TMP/c.prof" >/dev/null; "$SCORCH" info -i "$TMP/c.prof" | awk '$1 == "children_followed" { print $2 }')
note "children followed: $pids"
[ "$pids" -ge 2 ] || fail "expected at least 2 children followed"
# Two children of the demo at 199 Hz: ~120 samples of their work here, fewer on a loaded machine.
s=$(matching "$TMP/c.prof" "serve;handle_request")
note "samples of the children's work: $s"
[ "$s" -ge 40 ] || fail "only $s samples of the children's work"
[ "$(meta "$TMP/c.prof" exit_status)" = "exited with status 3" ] || fail "exit status: $(meta "$TMP/c.prof" exit_status)"

"$SCORCH" record -q -F 199 --no-inherit -o "$TMP/n.prof" -- sh -c "'$WL/demo' 1; true" || fail "record failed"
s=$(share "$TMP/n.prof" "serve")
note "with --no-inherit, share of the child's work: $s%"
between "$s" 0 0 "child samples with --no-inherit"
exit 0
