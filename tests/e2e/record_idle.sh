# record -a leaves the idle task out (shares are of the busy CPU time); with --idle its samples are
# kept as pid 0 ('swapper/N'), so shares are of all CPU time, as perf's are. Whether a CPU idles
# during the test depends on the machine: /proc/stat says how long they did, and only then are idle
# samples required.
. "$(dirname "$0")/lib.bash"

idle_jiffies() { awk '$1 == "cpu" { print $5; exit }' /proc/stat; }
idle_samples() { "$SCORCH" folded --pid -i "$1" | awk '$1 ~ /^[^;]*-0;/ { t += $NF } END { print t + 0 }'; }

"$SCORCH" record -q -a -d 1 -F 199 -o "$TMP/a.prof" || fail "record -a failed"
n=$(idle_samples "$TMP/a.prof")
[ "$n" -eq 0 ] || fail "$n samples of pid 0 without --idle"

i0=$(idle_jiffies)
"$SCORCH" record -q -a --idle -d 2 -F 199 -o "$TMP/i.prof" || fail "record -a --idle failed"
i1=$(idle_jiffies)
n=$(idle_samples "$TMP/i.prof")
total=$(samples "$TMP/i.prof")
note "--idle: $n of $total samples in pid 0; the CPUs idled $((i1 - i0)) jiffies meanwhile"
if [ $((i1 - i0)) -ge 50 ]; then
	[ "$n" -gt 0 ] || fail "no samples of the idle task with --idle while the CPUs idled"
	"$SCORCH" folded --pid -i "$TMP/i.prof" | grep -q '^swapper/[0-9]*-0;' || fail "the idle task is not named swapper"
else
	note "the CPUs were busy all along: no idle samples required"
fi
exit 0
