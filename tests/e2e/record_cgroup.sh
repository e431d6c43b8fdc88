# record --cgroup: only the processes of a cgroup v2 (and of the cgroups below it) are sampled.
. "$(dirname "$0")/lib.bash"

root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$root" ] || { echo "SKIP: no cgroup v2 file system is mounted" >&2; exit 77; }
cg="$root/scorch-test-$$"
mkdir "$cg" 2>/dev/null || { echo "SKIP: *** cannot create a cgroup under $root (read-only cgroup file system?) ***" >&2; exit 77; }
mkdir "$cg/inner" || fail "cannot create cgroup $cg/inner"
cleanup_cg() {
	cleanup_pids
	sleep 0.2
	rmdir "$cg/inner" "$cg" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup_cg EXIT

cp "$WL/demo" "$TMP/wl_inside"
cp "$WL/demo" "$TMP/wl_outside"
# The inside one moves itself into the child cgroup before it execs: all of its life is inside.
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" 6' sh "$cg/inner" "$TMP/wl_inside" &
in=$!
"$TMP/wl_outside" 6 &
out=$!
BG_PIDS+=("$in" "$out")
sleep 0.3
grep -q "scorch-test-$$/inner" "/proc/$in/cgroup" || fail "the workload is not in the cgroup"
"$SCORCH" record -q --cgroup "$cg" -d 2 -F 199 -o "$TMP/cg.prof" || fail "record --cgroup failed"
"$SCORCH" report -i "$TMP/cg.prof" --by process -n 0 --no-header >"$TMP/rep" || fail "report failed"
cat "$TMP/rep" >&2
n=$(samples "$TMP/cg.prof")
[ "$n" -ge 20 ] || fail "only $n samples of the busy workload in the cgroup"
grep -q "wl_inside ($in)" "$TMP/rep" || fail "the workload inside the cgroup is missing"
grep -q "wl_outside" "$TMP/rep" && fail "a process outside the cgroup was sampled"
others=$(awk -v w="wl_inside ($in)" '!index($0, w) && $3 ~ /^[0-9]+$/ { t += $3 } END { print t + 0 }' "$TMP/rep")
[ "$others" -eq 0 ] || fail "$others samples of other processes"
case "$(meta "$TMP/cg.prof" targets)" in "cgroup $cg") ;; *) fail "targets meta does not name the cgroup" ;; esac

# A path relative to the cgroup v2 mount (which is /sys/fs/cgroup/unified where v1 and v2 are mounted
# side by side), given from a directory where it names nothing.
(cd "$TMP" && "$SCORCH" record -q --cgroup "scorch-test-$$/inner" -d 1 -F 199 -o "$TMP/rel.prof") ||
	fail "record --cgroup with a path relative to the cgroup v2 mount failed"
[ "$(meta "$TMP/rel.prof" targets)" = "cgroup $cg/inner" ] || fail "targets meta: $(meta "$TMP/rel.prof" targets)"
"$SCORCH" report -i "$TMP/rel.prof" --by process -n 0 --no-header | grep -q "wl_inside ($in)" ||
	fail "the workload is missing with the relative path"
exit 0
