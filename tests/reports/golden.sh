#!/bin/bash
# Every output format of the report commands on the fixture profile (synth --fixture), compared with
# the files in tests/golden/. After an intended change: UPDATE_GOLDEN=1 tests/reports/golden.sh, then
# review the diff of tests/golden/ before committing it.
source "$(dirname "$0")/lib.bash"

P=$TMP/fixture.prof
# Each case: golden file name, then the scorch arguments (the profile comes on standard input, so the
# header names it "<stdin>").
cases=(
	"report.txt|report -n 0"
	"report-total.txt|report -s total -n 4 --percent-limit 1"
	"report-by-line.txt|report --by line -n 0 --no-header"
	"report-by-module.txt|report --by module -n 0 --no-header"
	"report-name-filters.txt|report -s name --pid 100 --no-inline --no-kernel -n 0"
	"report-focus-ignore.txt|report --focus ^run$ --ignore memcpy -n 0 --no-header"
	"report.json|report --json -n 0"
	"callers-callees.txt|report --callers memcpy --callees main"
	"callers.json|report --json --callers compute"
	"folded.txt|folded"
	"folded-annotate-tid.txt|folded --annotate --tid"
	"folded-pid-no-kernel-no-inline.txt|folded --pid --no-kernel --no-inline"
	"folded-by-line.txt|folded --by line --annotate"
	"flamegraph.svg|flamegraph -o - --title Fixture"
	"flamegraph-icicle-module.svg|flamegraph -o - --icicle --colors module --width 800 --min-width 0"
	"speedscope.json|export -f speedscope -o -"
)
bad=0
for c in "${cases[@]}"; do
	name=${c%%|*}
	args=${c#*|}
	# shellcheck disable=SC2086
	"$SCORCH" $args -i - <"$P" >"$TMP/$name" 2>"$TMP/$name.err" || { cat "$TMP/$name.err"; fail "scorch $args"; }
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$TMP/$name" "$GOLDEN/$name"
	elif ! cmp -s "$TMP/$name" "$GOLDEN/$name"; then
		echo "golden mismatch: scorch $args (tests/golden/$name):"
		diff -u "$GOLDEN/$name" "$TMP/$name" | head -20
		bad=1
	fi
done

# pprof: compare the uncompressed profile.proto (gzip's bytes may differ between zlib versions).
"$SCORCH" export -f pprof -i "$P" -o "$TMP/fixture.pb.gz" || fail "export pprof"
gzip -t "$TMP/fixture.pb.gz" || fail "the pprof export is not valid gzip"
gzip -dc "$TMP/fixture.pb.gz" >"$TMP/pprof.pb"
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
	cp "$TMP/pprof.pb" "$GOLDEN/pprof.pb"
elif ! cmp -s "$TMP/pprof.pb" "$GOLDEN/pprof.pb"; then
	echo "golden mismatch: pprof export (tests/golden/pprof.pb); as hex:"
	diff <(od -An -tx1 "$GOLDEN/pprof.pb") <(od -An -tx1 "$TMP/pprof.pb") | head -10
	bad=1
fi
[ $bad = 0 ] || fail "output differs from the golden files"
echo "all ${#cases[@]} + 1 formats match"
