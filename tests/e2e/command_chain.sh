# record -- CMD on the demo workload: the designed call chain and split come back.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 499 -o "$TMP/demo.prof" -- "$WL/demo" 3 || fail "record failed"
[ -z "$(ls "$TMP" | grep partial)" ] || fail "a partial file was left behind"
n=$(samples "$TMP/demo.prof")
note "samples: $n"
# 3 s of CPU at 499 Hz is ~1,500 samples: fewer on a loaded machine, never many more.
between "$n" 300 1700 "sample count at 499 Hz for 3 s"
work="(parse_json|compress|checksum)( |$)"
[ "$(matching "$TMP/demo.prof" "$work")" -ge 100 ] || fail "only $(matching "$TMP/demo.prof" "$work") samples in the work"
chain=$(within "$TMP/demo.prof" "$work" "^_start;__libc_start_main(_impl)?;([^;]+;)?main;serve;handle_request;(parse_json|compress|checksum)( |$)")
note "full chain from _start to main;serve;handle_request;X: $chain% of the work's samples"
between "$chain" 95 100 "share of the work's samples with the full chain"
# The split is the workload's design (50/30/20 of its work), whatever its start-up cost.
c=$(within "$TMP/demo.prof" "$work" ";compress ")
k=$(within "$TMP/demo.prof" "$work" ";checksum ")
j=$(within "$TMP/demo.prof" "$work" ";parse_json ")
note "split compress/checksum/parse_json: $c/$k/$j (designed 50/30/20)"
between "$c" 42 58 "compress share"
between "$k" 22 38 "checksum share"
between "$j" 12 28 "parse_json share"
[ "$(meta "$TMP/demo.prof" exit_status)" = "exited with status 0" ] || fail "exit status not recorded"
[ "$(meta "$TMP/demo.prof" call_graph)" = "auto,16384" ] || fail "call graph mode (the default, auto) not recorded"
"$SCORCH" report -i "$TMP/demo.prof" -n 5 >"$TMP/report" || fail "report failed"
grep -Eq '^ *[0-9.]+% +[0-9.]+% +[0-9]+ +[0-9]+ +compress +demo$' "$TMP/report" || fail "compress is not in the report: $(cat "$TMP/report")"
# 'total' of handle_request is all of the chain's samples.
"$SCORCH" report -i "$TMP/demo.prof" -n 0 -s total --no-header | awk '$5 == "handle_request" { if ($2+0 < 95) exit 1; found = 1 } END { exit !found }' ||
	fail "handle_request total share below 95%"
exit 0
