# The false-alarm rate of scorch diff on real recordings: 8 recordings of the same workload
# (2 s at 499 Hz each, about 1,000 samples, like 10 s at 99 Hz) compared in all 28 pairs with
# --fail-on regression at the default alpha. At least 95% of the pairs (27 of 28) must raise no
# regression; the rate is printed. Then the 8 runs as 4 against 4 (Welch's test) must raise none.
# Pairs share recordings, so they are not independent: the test bounds the rate, it does not
# estimate it precisely.
. "$(dirname "$0")/lib.bash"

cc -O0 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-inline -fno-optimize-sibling-calls \
	-o "$TMP/split" "$(dirname "$0")/diff_workload.c" || fail "cannot build the workload"

runs=8
for i in $(seq $runs); do
	"$SCORCH" record -q -F 499 -o "$TMP/r$i.prof" -- "$TMP/split" 20 2 || fail "record $i failed"
done

pairs=0 alarms=0
for i in $(seq $runs); do
	for j in $(seq $((i + 1)) $runs); do
		pairs=$((pairs + 1))
		"$SCORCH" diff -q --fail-on regression "$TMP/r$i.prof" "$TMP/r$j.prof" >"$TMP/out"
		rc=$?
		case $rc in
		0) ;;
		3) alarms=$((alarms + 1)); note "false alarm: r$i against r$j:"; sed -n '6,9p' "$TMP/out" >&2 ;;
		*) fail "diff r$i r$j exited with $rc" ;;
		esac
	done
done
ok=$((pairs - alarms))
note "false alarms: $alarms of $pairs pairs; no regression in $((100 * ok / pairs))% of pairs (must be >= 95%)"
[ $((100 * ok)) -ge $((95 * pairs)) ] || fail "$alarms false alarms in $pairs pairs: more than 5%"

"$SCORCH" diff -q --fail-on change -b "$TMP/r1.prof" -b "$TMP/r2.prof" -b "$TMP/r3.prof" -b "$TMP/r4.prof" \
	-n "$TMP/r5.prof" -n "$TMP/r6.prof" -n "$TMP/r7.prof" -n "$TMP/r8.prof" >"$TMP/out"
rc=$?
[ $rc = 0 ] || { cat "$TMP/out" >&2; fail "4 runs against 4 of the same workload: exit $rc, not 0"; }
exit 0
