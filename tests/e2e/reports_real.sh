# A real recording of the demo workload through the report commands: callers/callees shares, the JSON
# report, the flame graph's frames and widths, and both exports agree with what the workload does
# (handle_request calls compress ~50%, checksum ~30%, parse_json ~20%).
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 499 -o "$TMP/demo.prof" -- "$WL/demo" 3 || fail "record of the demo failed"
n=$(samples "$TMP/demo.prof")
[ "$n" -gt 300 ] || fail "only $n samples"

# Callees of handle_request: the three stages with their shares of it.
"$SCORCH" report -i "$TMP/demo.prof" --no-header --callees handle_request >"$TMP/callees.txt" || fail "report --callees"
cat "$TMP/callees.txt" >&2
pct() { awk -v f="$1" '$3 == f { sub(/%/, "", $1); printf "%d\n", $1 }' "$TMP/callees.txt"; }
between "$(pct compress)" 40 60 "compress's share of handle_request"
between "$(pct checksum)" 22 38 "checksum's share of handle_request"
between "$(pct parse_json)" 12 28 "parse_json's share of handle_request"
"$SCORCH" report -i "$TMP/demo.prof" --no-header --callers compress | grep -Eq '^100\.00% +[0-9]+  handle_request ' ||
	fail "compress is called only by handle_request"

# The JSON report: valid JSON whose shares match the table's.
"$SCORCH" report -i "$TMP/demo.prof" --json -n 5 >"$TMP/r.json" || fail "report --json"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
	const c = r.rows.find(x => x.name === "compress");
	if (!c || c.self_percent < 35 || c.module !== "demo") { console.log(JSON.stringify(r.rows)); process.exit(1); }' \
	"$TMP/r.json" || fail "the JSON report lacks compress with its share"

# The flame graph: the chain is there, and compress is about half as wide as handle_request.
"$SCORCH" flamegraph -i "$TMP/demo.prof" -o "$TMP/demo.svg" || fail "flamegraph"
w() { grep -o "<g data-name=\"$1\"><title>[^<]*</title><rect [^>]*" "$TMP/demo.svg" | grep -o 'width="[0-9.]*"' | head -1 | tr -dc '0-9.'; }
for f in main serve handle_request compress checksum parse_json; do
	[ -n "$(w $f)" ] || fail "no frame '$f' in the flame graph"
done
ratio=$(echo "100 * $(w compress) / $(w handle_request)" | bc)
between "$ratio" 40 60 "compress's width as a share of handle_request's"

# The exports: pprof's gzip is valid and speedscope's JSON holds the stages.
"$SCORCH" export -f pprof -i "$TMP/demo.prof" -o "$TMP/demo.pb.gz" || fail "export pprof"
gzip -t "$TMP/demo.pb.gz" || fail "the pprof export is not gzip"
# pprof (built by the reports suite) takes the recorded executable as the main binary.
pprof=$(dirname "$SCORCH")/tools/pprof
if [ -x "$pprof" ]; then
	"$pprof" -top "$TMP/demo.pb.gz" 2>/dev/null | grep -q '^File: demo$' || fail "pprof's main binary is not demo"
fi
"$SCORCH" export -f speedscope -i "$TMP/demo.prof" -o "$TMP/demo.json" || fail "export speedscope"
grep -q '"name":"compress"' "$TMP/demo.json" || fail "speedscope export lacks compress"
note "$n samples; callees, JSON, flame graph and exports agree with the workload"
exit 0
