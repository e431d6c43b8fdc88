# DWARF unwinding of Debian's own binaries, built without frame pointers (xz with liblzma, python3):
# stacks reach __libc_start_main (so main) in 95% of samples. perf --call-graph dwarf records the same
# run side by side; both results are printed (perf's is not asserted: it is the reference).
. "$(dirname "$0")/lib.bash"

PY=/usr/bin/python3
[ -x /usr/bin/xz ] || fail "/usr/bin/xz is missing (package xz-utils)"
[ -x $PY ] || fail "$PY is missing"

# perf_share PERFDATA: "matching total" samples whose call chain reaches __libc_start_main.
perf_share() {
	perf script -i "$1" -F ip,sym 2>/dev/null | awk 'BEGIN { RS = "" } { t++; if ($0 ~ /__libc_start_main/) m++ } END { print m + 0, t + 0 }'
}

# run NAME PID: record PID for 2 s with scorch and perf at once, print both, check scorch.
run() {
	local name=$1 pid=$2 prof=$TMP/$1.prof pd=$TMP/$1.perf.data n s pshare pbytes=-
	"$SCORCH" record -q -g dwarf -F 499 -d 2 -p "$pid" -o "$prof" &
	local spid=$!
	if command -v perf >/dev/null; then
		perf record -q --call-graph dwarf -F 499 -p "$pid" -o "$pd" -- sleep 2 >/dev/null 2>&1 || rm -f "$pd"
	fi
	wait $spid || fail "$name: scorch record failed"
	n=$(samples "$prof")
	[ "$n" -ge 100 ] || fail "$name: only $n samples"
	s=$(share "$prof" "(^|;)__libc_start_main(_impl)?;")
	if [ -s "$pd" ]; then
		read -r pm pt < <(perf_share "$pd")
		[ "$pt" -gt 0 ] && pshare=$((100 * pm / pt)) || pshare=0
		pbytes=$(($(stat -c %s "$pd") / (pt > 0 ? pt : 1)))
		note "$name: perf --call-graph dwarf: $pshare% of $pt samples reach __libc_start_main, $pbytes bytes/sample"
	else
		note "$name: perf --call-graph dwarf: not available here"
	fi
	note "$name: scorch -g dwarf: $s% of $n samples reach __libc_start_main," \
		"$(($(stat -c %s "$prof") / n)) bytes/sample; failures: $(counter "$prof" unwind_truncated) truncated," \
		"$("$SCORCH" info -i "$prof" | awk '/^unwind_failed:/ { printf "%s=%s ", $1, $2 }')"
	between "$s" 95 100 "$name: share of stacks reaching __libc_start_main"
}

head -c 3M /dev/urandom | base64 >"$TMP/in.txt"
/usr/bin/xz -6 -T1 -c "$TMP/in.txt" >/dev/null &
xz_pid=$!
BG_PIDS+=("$xz_pid")
sleep 0.3
run xz "$xz_pid"
s=$(share "$TMP/xz.prof" "(^|;)lzma_code;")
between "$s" 80 100 "xz: share of samples in lzma_code (liblzma)"
kill "$xz_pid" 2>/dev/null

cat >"$TMP/busy.py" <<'PY'
import time
def inner():
    x = 0
    for i in range(10000):
        x += i
    return x
def outer():
    return inner()
end = time.time() + 4
while time.time() < end:
    outer()
PY
$PY "$TMP/busy.py" &
py_pid=$!
BG_PIDS+=("$py_pid")
sleep 0.3
run python3 "$py_pid"
# The interpreter loop's frames, or the Python frames that take their place (record names them): a
# Python frame follows Py_BytesMain only when the unwind reached the _PyEval_EvalFrameDefault frame it
# replaces (frames the unwind did not reach go at the root's end instead).
s=$(share "$TMP/python3.prof" "Py_BytesMain;.*(_PyEval_EvalFrameDefault|<module>)")
between "$s" 90 100 "python3: share of samples from Py_BytesMain into the interpreter loop"
exit 0
