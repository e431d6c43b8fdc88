# -o - streams the profile through a pipe; the command's own output does not mix into it.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 199 -o - -- sh -c "echo noise; exec '$WL/demo' 1" 2>"$TMP/err" |
	"$SCORCH" report -i - -n 3 >"$TMP/rep" || fail "record | report failed"
grep -q noise "$TMP/err" || fail "the command's stdout did not go to stderr"
grep -q " compress " "$TMP/rep" || fail "report from the pipe lacks compress: $(cat "$TMP/rep")"
grep -q "profile:  <stdin>" "$TMP/rep" || fail "report header does not name stdin"
exit 0
