# record -p follows the child processes its targets fork after the attach (as perf -p does), and
# --no-inherit turns that off. The workload forks a worker per "request" that burns ~30 ms in
# worker_burn() and exits; the parent only waits. Before -p followed forks, no worker was sampled.
. "$(dirname "$0")/lib.bash"

"$WL/forker" 6 &
parent=$!
BG_PIDS+=("$parent")
sleep 0.3

"$SCORCH" record -q -F 499 -d 2 -p "$parent" -o "$TMP/f.prof" || fail "record -p failed"
"$SCORCH" folded --pid -i "$TMP/f.prof" >"$TMP/f.folded" || fail "scorch folded failed"
# Samples in worker_burn, in the parent and in other processes; unknown frames in the workers' stacks.
read -r in_parent in_children unknown < <(awk -v p="forker-$parent" '
	/;worker_burn( |;)/ { split($0, f, ";"); if (f[1] == p) a += $NF; else b += $NF; if ($0 ~ /\[unknown/) u += $NF }
	END { print a + 0, b + 0, u + 0 }' "$TMP/f.folded")
followed=$(counter "$TMP/f.prof" children_followed)
note "worker_burn samples: $in_children in children, $in_parent in the parent; $followed children followed; $unknown with unknown frames"
[ "$in_children" -ge 20 ] || fail "only $in_children samples of worker_burn in the forked children"
[ "$in_parent" -eq 0 ] || fail "$in_parent samples of worker_burn in the parent, which never runs it"
[ "$unknown" -eq 0 ] || fail "$unknown samples of the children with unknown frames"
[ "$followed" -ge 2 ] || fail "children_followed is $followed"
nproc=$(awk -F';' '/;worker_burn( |;)/ { print $1 }' "$TMP/f.folded" | sort -u | wc -l)
[ "$nproc" -ge 2 ] || fail "worker_burn in $nproc processes, expected several short-lived workers"

"$SCORCH" record -q -F 499 -d 1 --no-inherit -p "$parent" -o "$TMP/n.prof" || fail "record -p --no-inherit failed"
n=$("$SCORCH" folded -i "$TMP/n.prof" | awk '/;worker_burn( |;)/ { t += $NF } END { print t + 0 }')
note "with --no-inherit: $n samples of worker_burn"
[ "$n" -eq 0 ] || fail "$n samples of the children with --no-inherit"
[ "$(counter "$TMP/n.prof" children_followed)" = 0 ] || fail "children followed with --no-inherit"
exit 0
