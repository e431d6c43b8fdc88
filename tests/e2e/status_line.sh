# On a terminal, record shows a live status line (elapsed, samples, lost) and ends with a summary;
# with stderr not a terminal there is no status line at all.
. "$(dirname "$0")/lib.bash"

command -v tmux >/dev/null || fail "tmux is missing (scripts/install-deps.sh test installs it)"
sock="scorch-test-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; cleanup_pids; rm -rf "$TMP"' EXIT
tmux -L "$sock" new-session -d -x 100 -y 10 \
	"'$SCORCH' record -F 199 -d 3 -o '$TMP/s.prof' -- '$WL/demo' 5; sleep 30" || fail "cannot start tmux"
sleep 2
during=$(tmux -L "$sock" capture-pane -p)
grep -Eq 'scorch: [0-9.]+ s +[0-9]+ samples +[0-9]+ lost +recording \([0-9]+ s left\)' <<<"$during" ||
	fail "no status line while recording: $during"
for _ in $(seq 40); do
	after=$(tmux -L "$sock" capture-pane -p)
	grep -q "next: scorch report" <<<"$after" && break
	sleep 0.25
done
grep -q "recorded [0-9]* samples" <<<"$after" || fail "no summary at the end: $after"
grep -q "samples .* lost .*recording" <<<"$after" && fail "the status line was not erased: $after"

"$SCORCH" record -F 199 -d 1 -o "$TMP/n.prof" -- "$WL/demo" 2 2>"$TMP/err" || fail "record failed"
grep -q $'\r' "$TMP/err" && fail "a status line was written to a non-terminal"
exit 0
