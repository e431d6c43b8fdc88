# A launched command is sampled from its exec on: the fork that runs before it (the recorder's own
# image, in execvp) is neither counted as the command nor unwound against the command's maps.
. "$(dirname "$0")/lib.bash"

# The fork spins 400 ms before its exec (a test hook), where ~400 samples would land without the rule.
for cg in fp dwarf; do
	SCORCH_TEST_LAUNCH_SPIN_MS=400 "$SCORCH" record -q -g $cg -F 999 -o "$TMP/$cg.prof" -- "$WL/demo" 1 ||
		fail "record -g $cg failed"
	n=$(samples "$TMP/$cg.prof")
	pre=$("$SCORCH" report -i "$TMP/$cg.prof" --comm scorch --by process -n 0 --no-header | awk '$3 ~ /^[0-9]+$/ { t += $3 } END { print t + 0 }')
	unknown=$(folded "$TMP/$cg.prof" | awk '/\[unknown/ { t += $NF } END { print t + 0 }')
	blamed=$("$SCORCH" info -i "$TMP/$cg.prof" | awk '$1 ~ /^unwind_failed:/ { print $1 "=" $NF }')
	note "-g $cg: $n samples, $pre from the fork before exec, $unknown with an unknown frame"
	[ "$n" -ge 100 ] || fail "-g $cg: only $n samples of a 1 s command"
	[ "$pre" = 0 ] || fail "-g $cg: $pre samples of the recorder's fork were counted as the command's"
	# (fp: a frame-pointer walk from the dynamic loader's start-up, which has no frame pointers, may
	# step to an unknown address in the command itself; dwarf does not.)
	[ $cg = fp ] || [ "$unknown" = 0 ] || fail "-g $cg: $unknown samples have an unknown frame"
	[ -z "$blamed" ] || fail "-g $cg: unwinds blamed on a module:" $blamed
	s=$(within "$TMP/$cg.prof" "(compress|checksum|parse_json)( |$)" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")
	between "$s" 95 100 "-g $cg: share of the demo's work with main;serve;handle_request"
done
exit 0
