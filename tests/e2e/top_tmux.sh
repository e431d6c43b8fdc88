# top on a terminal (tmux, 80x24): refreshes, the sort key toggles with 's', grouping with 'g', and
# 'q' quits, leaving the target running.
. "$(dirname "$0")/lib.bash"

command -v tmux >/dev/null || { echo "SKIP: tmux is not installed" >&2; exit 77; }
"$WL/demo" 0 &
pid=$!
BG_PIDS+=("$pid")
sock="$TMP/tmux.sock"
tm() { tmux -S "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup_pids; rm -rf "$TMP"' EXIT
tm new-session -d -x 80 -y 24 "TERM=xterm '$SCORCH' top -i 0.5 -p $pid; echo TOP-EXIT=\$?; sleep 30" ||
	fail "cannot start tmux"
# pane LABEL REGEX: wait up to 10 s for the screen to match.
pane() {
	local i
	for i in $(seq 100); do
		tm capture-pane -p >"$TMP/screen"
		grep -Eq "$2" "$TMP/screen" && return 0
		sleep 0.1
	done
	cat "$TMP/screen" >&2
	fail "$1"
}
pane "no table on the screen" 'sort self'
pane "the demo's hotspots are not shown" ' compress +demo'
awk 'length > 80 { bad = 1 } END { exit bad }' "$TMP/screen" || fail "a line is wider than 80 columns"
LC_ALL=C grep -q '[^ -~]' "$TMP/screen" && fail "non-ASCII on the screen"
n1=$(awk '/^scorch top:/ { print $3; exit }' "$TMP/screen")
sleep 1.2
tm capture-pane -p >"$TMP/screen2"
n2=$(awk '/^scorch top:/ { print $3; exit }' "$TMP/screen2")
note "samples in the window: $n1, then $n2"
cmp -s "$TMP/screen" "$TMP/screen2" && fail "the screen did not refresh"
tm send-keys s
pane "'s' did not switch the sort to total" 'sort total'
# Sorted by total, the first row is at 100%.
awk '/Self%/ { getline; exit !($2 == "100.00%") }' "$TMP/screen" || fail "first row by total is not at 100%"
tm send-keys g
pane "'g' did not switch the grouping to line" 'by line'
tm send-keys f
pane "'f' did not freeze" '\[frozen\]'
tm send-keys f q
pane "'q' did not quit" 'TOP-EXIT=0'
kill -0 "$pid" || fail "the target died"
exit 0
