# record -a: every process is sampled; report --by process breaks the samples down per process, and
# the --pid/--comm filters pick one process after the fact.
. "$(dirname "$0")/lib.bash"

# Two copies of the demo under their own names, so each is known by its comm.
cp "$WL/demo" "$TMP/wl_alpha"
cp "$WL/demo" "$TMP/wl_beta"
"$TMP/wl_alpha" 4 &
a=$!
"$TMP/wl_beta" 4 &
b=$!
BG_PIDS+=("$a" "$b")
sleep 0.3
"$SCORCH" record -q -a -d 2 -F 199 -o "$TMP/all.prof" || fail "record -a failed"
[ "$(meta "$TMP/all.prof" targets)" = "all processes" ] || fail "targets meta is not 'all processes'"

"$SCORCH" report -i "$TMP/all.prof" --by process -n 0 --no-header >"$TMP/rep" || fail "report --by process failed"
cat "$TMP/rep" >&2
# Each busy workload gets its share of the CPUs, whatever else runs (the machine may be loaded, so no
# absolute share is asserted): both have samples, and about as many as each other.
declare -A got
for w in "wl_alpha ($a)" "wl_beta ($b)"; do
	n=$(awk -v w="$w" 'index($0, w) { print $3 }' "$TMP/rep")
	[ -n "$n" ] || fail "no row '$w' in report --by process"
	note "$w: $n samples"
	[ "$n" -ge 20 ] || fail "only $n samples of $w"
	got[$w]=$n
done
ra=${got["wl_alpha ($a)"]}
rb=${got["wl_beta ($b)"]}
[ $((3 * ra)) -ge "$rb" ] && [ $((3 * rb)) -ge "$ra" ] || fail "unequal samples of two equal workloads: $ra and $rb"
# After the fact: --pid keeps one process, whose hotspots are the demo's.
"$SCORCH" report -i "$TMP/all.prof" --pid "$a" --by process --no-header >"$TMP/one" || fail "report --pid failed"
grep -q "wl_alpha ($a)" "$TMP/one" || fail "--pid $a lost its process"
grep -q "wl_beta" "$TMP/one" && fail "--pid $a kept another process"
s=$("$SCORCH" folded -i "$TMP/all.prof" --comm wl_beta | awk '{ t += $NF; if ($0 ~ /handle_request;compress/) m += $NF } END { printf "%d\n", t ? 100 * m / t : 0 }')
note "wl_beta compress: $s%"
between "$s" 30 70 "compress share of wl_beta (--comm)"
exit 0
