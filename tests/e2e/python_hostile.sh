# Python frames (issue 17): a process that has the symbols of an interpreter (_PyRuntime, Py_Version,
# PyCode_Type) but garbage memory, rewritten all the time, made to lead the walk as far as it goes:
# pointers into itself (loops), its own pthread_self() (a "thread state" found), PyCode_Type's address
# (a "code object" whose strings and line table are read). Recording it neither crashes nor hangs, its
# native frames are kept, and the failures are counted: with 3.11's table layout, walks that fail or
# find no thread or frames that cannot be named; with a fake 3.13, the _Py_DebugOffsets refused.
. "$(dirname "$0")/lib.bash"

for v in 311 313; do
	p=$TMP/hostile-$v.prof
	timeout 60 "$SCORCH" record -q -F 999 -o "$p" -- "$WL/py_hostile" "$v" 3 >/dev/null ||
		fail "record of the hostile process ($v) failed"
	n=$(samples "$p")
	spin=$(matching "$p" ';main;scribble')
	walk=$(counter "$p" python_walk_failed)
	nothr=$(counter "$p" python_no_thread)
	bad=$(counter "$p" python_frames_failed)
	named=$(counter "$p" python_frames)
	probe=$(counter "$p" python_probe_failed)
	note "$v: $n samples, $spin in main;scribble; walk failed $walk, no thread $nothr, frames failed $bad, named $named, probe failed $probe"
	[ "$spin" -ge $((n / 2)) ] || fail "$v: native frames lost: $spin of $n samples in main;scribble"
	if [ "$v" = 311 ]; then
		[ $((walk + nothr + bad)) -gt 0 ] || fail "$v: the garbage was not counted"
		[ "$probe" = 0 ] || fail "$v: a layout from the table was refused"
	else
		[ "$probe" -ge 1 ] || fail "$v: garbage _Py_DebugOffsets were not refused"
	fi
	# Whatever was "named" from garbage is printable (the readers sanitise): the report works.
	"$SCORCH" report -i "$p" -n 0 >/dev/null || fail "$v: report of the hostile profile failed"
done
exit 0
