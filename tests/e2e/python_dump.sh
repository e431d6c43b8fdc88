# Python frames (issue 17) in scorch dump -p PID: each thread's Python stack, read while the thread is
# stopped, in place of the evaluator's frames, with file and line: both threads of the split
# workload (tests/workloads/py_split.py) on Debian's python3.11 are in run_loop -> dispatch ->
# work_X, under <module> -> main in the main thread and Thread._bootstrap in the other.
# --no-python leaves them out.
. "$(dirname "$0")/lib.bash"

TESTS=${TESTS:-$(dirname "$0")/..}
W=$TESTS/workloads/py_split.py
[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing (make test installs python3.11)"

/usr/bin/python3.11 "$W" 8 &
pid=$!
BG_PIDS+=("$pid")
sleep 1.5
"$SCORCH" dump -p "$pid" >"$TMP/dump.txt" || fail "dump -p $pid failed"
"$SCORCH" dump -p "$pid" --no-python >"$TMP/nopy.txt" || fail "dump --no-python failed"
"$SCORCH" dump -p "$pid" --json >"$TMP/dump.json" || fail "dump --json failed"
kill "$pid"
sed 's/^/    /' "$TMP/dump.txt" | head -40 >&2
# Per thread, its Python frames (the lines with a .py file) from the leaf out.
awk '/^thread / { if (s != "") print s; s = "" } / at .*\.py:[0-9]+ / { sub(/^ *#[0-9]+ +/, ""); split($0, x, " at "); s = s (s == "" ? "" : ";") x[1] } END { if (s != "") print s }' "$TMP/dump.txt" >"$TMP/py.txt"
cat "$TMP/py.txt" | sed 's/^/    python: /' >&2
main=$(grep -cE '^work_[abc];dispatch;run_loop;main;<module>$' "$TMP/py.txt")
worker=$(grep -cE '^work_[abc];dispatch;run_loop;Thread\.run;Thread\._bootstrap_inner;Thread\._bootstrap$' "$TMP/py.txt")
[ "$main" = 1 ] || fail "the main thread's Python stack is not <module>;main;run_loop;dispatch;work_X"
[ "$worker" = 1 ] || fail "the worker's Python stack is not Thread._bootstrap...run_loop;dispatch;work_X"
# Lines inside the workload, and the file named.
grep -qE "work_[abc] at $W:(1[2-9]|2[0-9]|3[0-1]) " "$TMP/dump.txt" || fail "no work_X frame with its line"
grep -q "_PyEval_EvalFrameDefault" "$TMP/dump.txt" && fail "an evaluator frame was left in the dump"
grep -q ' at .*\.py:' "$TMP/nopy.txt" && fail "--no-python still shows Python frames"
grep -q '"work_[abc]"' "$TMP/dump.json" || grep -q 'work_[abc]' "$TMP/dump.json" || fail "no Python frame in the JSON dump"
exit 0
