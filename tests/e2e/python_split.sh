# Python frames (issue 17): a workload with a designed 60/30/10 split of CPU time across three Python
# functions (tests/workloads/py_split.py: two threads, nested calls, hashlib under the third), recorded
# with Debian's python3.11 (its interpreter linked into the executable: required, make test installs
# it) and every pyenv build of 3.8-3.13 found (libpython3.X.so; each one absent is skipped by name).
# For each: the shares within 3 points, every sample in the workload's functions has its whole Python
# stack (from <module> in the main thread, from Thread._bootstrap in the other) with no evaluator
# frame left between Python frames, the lines are inside the functions, both threads are there, and
# native frames (libcrypto) are under work_c.
. "$(dirname "$0")/lib.bash"

TESTS=${TESTS:-$(dirname "$0")/..}
W=$TESTS/workloads/py_split.py
. "$(dirname "$0")/python.bash"

# line_of FUNC: the line of 'def FUNC' in the workload; the function's body is the lines after it.
line_of() { grep -n "^def $1(" "$W" | cut -d: -f1; }

for py in $PYTHONS; do
	ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	p=$TMP/split-$(python_tag "$py").prof
	"$SCORCH" record -q -F 499 -o "$p" -- "$py" "$W" 4 >/dev/null || fail "record of $py failed"
	folded "$p" >"$p.folded"
	total=$(awk '/;work_[abc](;|$)/ { t += $NF } END { print t + 0 }' "$p.folded")
	a=$(within "$p" ';work_[abc](;| )' ';work_a(;| )')
	b=$(within "$p" ';work_[abc](;| )' ';work_b(;| )')
	c=$(within "$p" ';work_[abc](;| )' ';work_c(;| )')
	note "$py ($ver): $total samples in work_[abc]: $a/$b/$c% (designed 60/30/10)"
	[ "$total" -ge 500 ] || fail "$py: only $total samples in the workload's functions"
	between "$a" 57 63 "$py: work_a's share"
	between "$b" 27 33 "$py: work_b's share"
	between "$c" 7 13 "$py: work_c's share"
	# Every sample in a work function has its whole Python stack, in order (--python-only: the
	# native frames between them, which 3.8-3.10 have, left out).
	"$SCORCH" folded --python-only -i "$p" >"$p.py" || fail "folded --python-only failed"
	ok='^(<module>;main|(Thread\.)?_bootstrap;(Thread\.)?_bootstrap_inner;(Thread\.)?run);run_loop;dispatch;work_[abc] '
	bad=$(awk -v ok="$ok" '/work_[abc] / && $0 !~ ok { t += $NF } END { print t + 0 }' "$p.py")
	awk -v ok="$ok" '/work_[abc] / && $0 !~ ok' "$p.py" | head -3 | cut -c1-400 | sed 's/^/    incomplete: /' >&2
	[ "$bad" -le $((total / 100)) ] || fail "$py: $bad of $total samples lack part of their Python stack"
	# The evaluator's frames were replaced by the Python frames they ran.
	ev=$(matching "$p" '(<module>|run_loop|dispatch);_PyEval_EvalFrameDefault;')
	[ "$ev" -le $((total / 100)) ] || fail "$py: $ev samples keep an evaluator frame between Python frames"
	# Both threads.
	main=$(awk '/^<module>;main;run_loop;dispatch;work_/ { t += $NF } END { print t + 0 }' "$p.py")
	worker=$(awk '/_bootstrap_inner;(Thread\.)?run;run_loop;dispatch;work_/ { t += $NF } END { print t + 0 }' "$p.py")
	[ "$main" -ge 50 ] && [ "$worker" -ge 50 ] || fail "$py: main thread $main, worker $worker samples"
	# C-extension frames under work_c, down to libcrypto.
	native=$(matching "$p" ';work_c;.*(SHA256|sha256|EVP_|libcrypto)')
	[ "$native" -ge 1 ] || fail "$py: no native frames under work_c"
	# Lines: each function's samples fall on the lines of its body, or on its def line (a frame entered
	# that has run no instruction yet, as CPython itself reports it).
	"$SCORCH" report -i "$p" --by line --python-only -n 0 >"$p.lines" 2>/dev/null || fail "report --by line failed"
	for f in work_a work_b work_c; do
		d=$(line_of "$f")
		awk -v f="$f" -v d="$d" -v w="$W" '$5 == f { split($6, x, ":"); if (x[1] != w || x[2] < d || x[2] > d + 4) { print "bad line: " $0; bad = 1 } ; n++ } END { exit bad || !n }' "$p.lines" >&2 ||
			fail "$py: $f's lines are not in its body (def at $d)"
	done
	# Frames not named: those of code freed before the recorder read it (a module's code while it is
	# imported, read back after the import; more of them when a loaded machine delays the recorder):
	# a few percent at most, and never in the work functions' stacks (checked above).
	failed=$(counter "$p" python_frames_failed)
	named=$(counter "$p" python_frames)
	note "$py: $named frames named, $failed not"
	[ "$failed" -le $((named / 20)) ] || fail "$py: $failed frames could not be named ($named were)"
done
exit 0
