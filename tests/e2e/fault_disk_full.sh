# The output disk fills up: a clear error, a non-zero exit, and no file left behind, neither the
# final name nor the temporary one.
. "$(dirname "$0")/lib.bash"

mkdir -p "$TMP/small"
if ! mount -t tmpfs -o size=64k tmpfs "$TMP/small" 2>"$TMP/mnt.err"; then
	[ -n "${CI:-}" ] && fail "cannot mount a small tmpfs: $(cat "$TMP/mnt.err")"
	echo "SKIP: *** cannot mount a small tmpfs here: $(cat "$TMP/mnt.err") ***" >&2
	exit 77
fi
trap 'cleanup_pids; umount "$TMP/small" 2>/dev/null; rm -rf "$TMP"' EXIT
# The disk fills up while the recording runs (after its first chunks were written). The workload
# starts thousands of threads, so each chunk adds new thread records and the file keeps growing.
"$SCORCH" record -F 999 -o "$TMP/small/x.prof" -- "$WL/churn" 5 2>"$TMP/err" &
rec=$!
sleep 1.5
ls "$TMP/small" | grep -q 'x.prof.partial-' || fail "the recording has not started writing"
dd if=/dev/zero of="$TMP/small/filler" bs=1k 2>/dev/null
if wait "$rec"; then
	fail "record succeeded on a full disk"
fi
grep -q "No space left on device" "$TMP/err" || fail "unexpected message: $(cat "$TMP/err")"
leftover=$(ls "$TMP/small" | grep -v '^filler$')
[ -z "$leftover" ] || fail "files left on the full disk: $leftover"
note "$(grep error "$TMP/err" | head -1)"
exit 0
